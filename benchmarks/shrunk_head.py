"""An experiment, not a feature: would shrinking the trained model toward epoch 0, by a
factor fitted on the hold-out, do better on the test months than keeping one or the other?

Early stopping keeps either epoch 0 (the least-squares linear start, or the last value)
or the trained epoch with the lowest hold-out loss: all or nothing. Where the trained
epochs' gains over the start were within the hold-out's noise they did not carry over
(docs/known_gaps.md, "What the hold-out saw"). The classical remedy for a selected model
that does not carry over is shrinkage: forecast ``a + alpha * (f - a)``, where ``a`` is
epoch 0's forecast, ``f`` the best trained epoch's (by hold-out loss, kept or not) and
``alpha`` in [0, 1] the least-squares factor on the hold-out (one number per fit). For
each fit of the long-term benchmark's protocol (its windows, hold-out and defaults) this
records the hold-out and test loss of epoch 0, of the model early stopping kept, and of
the shrunk forecast. Printed and appended to ``results/longterm-shrunk-head.jsonl``::

    export OMP_NUM_THREADS=1 SKLATTN_DATA_HOME=../shared/data
    python benchmarks/shrunk_head.py ETTh1:M ETTh2:MS --seeds 1
    python benchmarks/shrunk_head.py summary    # the table of docs/known_gaps.md
"""

import copy
import json
import sys
from pathlib import Path

import numpy as np
from skorch.callbacks import Callback

from sklattn.datasets import BENCHMARKS

sys.path.insert(0, str(Path(__file__).parent))
import experiments  # noqa: E402
import longterm  # noqa: E402

OUT = Path(__file__).parent / "results" / "longterm-shrunk-head.jsonl"
MODELS = ("linear", "rnn-none", "rnn-dot", "rnn-general", "rnn-additive", "rnn-recurrent",
          "variate")
# Patch tokens: by name only (a fit takes minutes to an hour on a CPU).
CHOICES = (*MODELS, "patch")


class Snapshots(Callback):
    """The module's weights before the first epoch (after the least-squares start) and
    after each epoch."""

    def on_train_begin(self, net, **kwargs):
        self.states_ = [copy.deepcopy(net.module_.state_dict())]

    def on_epoch_end(self, net, **kwargs):
        self.states_.append(copy.deepcopy(net.module_.state_dict()))


def shrink_factor(anchor, trained, target):
    """The least-squares ``alpha`` of ``target ~ anchor + alpha * (trained - anchor)``,
    clipped to [0, 1]."""
    step = trained - anchor
    denominator = float(np.sum(step * step))
    if denominator == 0.0:
        return 0.0
    return float(np.clip(np.sum((target - anchor) * step) / denominator, 0.0, 1.0))


def linear_test_mse(dataset, features, horizon):
    """The table's linear baseline (the last row of its run)."""
    mse = None
    with open(longterm.RESULTS) as f:
        for line in f:
            row = json.loads(line)
            if (row["dataset"], row["features"], row["horizon"], row["model"]) == (
                    dataset, features, horizon, "linear"):
                mse = row["test_mse"]
    return mse


def compare(dataset, features, model_name, seed, data_home, **fit_options):
    lookback, horizons = longterm.default_lookback_horizons(dataset)
    lookback = fit_options.pop("lookback", None) or lookback
    horizon = fit_options.pop("horizon", None) or horizons[0]
    max_epochs = fit_options.pop("max_epochs", None) or longterm.table_max_epochs(dataset)
    snapshots = Snapshots()
    # The kept epoch as plain early stopping keeps it (shrinking is what this measures).
    params = {"shrink_to_epoch0": False} if "shrink_to_epoch0" in longterm.MODELS[
        model_name]().get_params() else {}
    fitted = longterm.fit_model(dataset, features, model_name, lookback, horizon, max_epochs,
                                data_home, random_state=seed, extra_callbacks=[snapshots],
                                params=params, **fit_options)
    model = fitted["model"]
    net, module = model.net_, model.net_.module_
    stopper = dict(net.callbacks_)["early_stopping"]
    kept_state = copy.deepcopy(module.state_dict())
    valid = net.get_split_datasets(fitted["X_fit"], fitted["y_fit"])[1]

    def test_forecast(state):
        module.load_state_dict(state)
        return model.predict(fitted["X_test"]).astype(np.float64)

    def test_mse(forecast):
        return float(np.mean((forecast - fitted["y_test"]) ** 2))

    # Epoch 0: the candidate early stopping preferred (the start, or the last value).
    candidates = {"linear start": snapshots.states_[0]}
    if stopper.baseline_score_ is not None:
        module.load_state_dict(snapshots.states_[0])
        module.to_last_value()
        candidates["last value"] = copy.deepcopy(module.state_dict())
    scores = longterm.epoch0_losses(stopper)
    anchor_name = min(scores, key=scores.get)
    anchor_state = candidates[anchor_name]
    module.load_state_dict(anchor_state)
    anchor_h, target_h = experiments.holdout_forecasts(net, module, valid)
    trained = []
    for epoch, state in enumerate(snapshots.states_[1:], start=1):
        module.load_state_dict(state)
        forecast_h, _ = experiments.holdout_forecasts(net, module, valid)
        trained.append((float(np.mean((forecast_h - target_h) ** 2)), epoch, forecast_h))
    loss_b, best, best_h = min(trained, key=lambda t: t[0])
    alpha = shrink_factor(anchor_h, best_h, target_h)
    shrunk_h = anchor_h + alpha * (best_h - anchor_h)

    anchor_t = test_forecast(anchor_state)
    best_t = test_forecast(snapshots.states_[best])
    kept_t = test_forecast(kept_state)
    linear = linear_test_mse(dataset, features, horizon)
    row = {"dataset": dataset, "features": features, "model": model_name, "horizon": horizon,
           "random_state": seed, "epoch0": anchor_name, "best_epoch_kept": model.best_epoch_,
           "best_trained_epoch": best, "epochs_run": len(snapshots.states_) - 1,
           "alpha": alpha,
           "holdout_epoch0": float(np.mean((anchor_h - target_h) ** 2)),
           "holdout_best_trained": loss_b,
           "valid_loss_best_trained": float(net.history[best - 1, "valid_loss"]),
           "holdout_shrunk": float(np.mean((shrunk_h - target_h) ** 2)),
           "test_epoch0": test_mse(anchor_t), "test_best_trained": test_mse(best_t),
           "test_kept": test_mse(kept_t),
           "test_shrunk": test_mse(anchor_t + alpha * (best_t - anchor_t)),
           "test_linear_baseline": linear}
    module.load_state_dict(kept_state)
    return row


def shrunk_where_kept(row):
    """The test MSE of shrinking only a kept trained epoch (epoch 0 stays where the
    hold-out kept it)."""
    return row["test_kept"] if row["best_epoch_kept"] == 0 else row["test_shrunk"]


def summarize(rows):
    """A markdown table, one line per setting, horizon and model group (the networks:
    the RNNs and variate tokens; patch tokens and the linear baseline apart): fits, and
    how many kept a trained epoch; how many the shrunk forecast made better / worse /
    left as kept on the test months (relative change beyond 1e-4); the geometric means
    of the test MSE over the table's linear baseline as kept, shrunk always, and shrunk
    only where a trained epoch was kept; the median ``alpha``."""
    groups = {}
    for r in rows:
        group = r["model"] if r["model"] in ("linear", "patch") else "networks"
        groups.setdefault((r["dataset"], r["features"], r["horizon"], group), []).append(r)
    lines = ["| setting | horizon | models | fits | trained epoch kept | shrunk: better / "
             "worse / same | kept / linear | shrunk / linear | shrunk where trained kept / "
             "linear | median alpha |", "|---|---|---|---|---|---|---|---|---|---|"]
    groups_order = ("networks", "patch", "linear")
    order = lambda key: (list(BENCHMARKS).index(key[0]), key[1], key[2],  # noqa: E731
                         groups_order.index(key[3]))
    geometric = lambda ratios: np.exp(np.log(ratios).mean())  # noqa: E731
    for (dataset, features, horizon, group), rs in sorted(groups.items(),
                                                          key=lambda g: order(g[0])):
        linear = np.array([r["test_linear_baseline"] for r in rs])
        kept = np.array([r["test_kept"] for r in rs]) / linear
        shrunk = np.array([r["test_shrunk"] for r in rs]) / linear
        where_kept = np.array([shrunk_where_kept(r) for r in rs]) / linear
        change = shrunk / kept - 1
        counts = (int((change < -1e-4).sum()), int((change > 1e-4).sum()),
                  int((abs(change) <= 1e-4).sum()))
        seeds = sorted({r["random_state"] for r in rs})
        lines.append(
            f"| {dataset} \"{features}\" | {horizon} | {group} | {len(rs)} (seeds "
            f"{seeds[0]}-{seeds[-1]}) | {sum(r['best_epoch_kept'] > 0 for r in rs)} | "
            f"{' / '.join(map(str, counts))} | {geometric(kept):.4f} | "
            f"{geometric(shrunk):.4f} | {geometric(where_kept):.4f} | "
            f"{np.median([r['alpha'] for r in rs]):.2f} |")
    return "\n".join(lines)


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["summary"]:
        with open(argv[1] if len(argv) > 1 else OUT) as f:
            print(summarize([json.loads(line) for line in f]))
        return
    experiments.run_settings(argv, description=__doc__.splitlines()[0], compare=compare,
                             models=MODELS, choices=CHOICES, seeds=1, out=OUT)


if __name__ == "__main__":
    main()
