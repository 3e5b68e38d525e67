"""An experiment, not a feature: is the epoch that early stopping keeps over the RNN's
least-squares start better on the hold-out by more than the hold-out's own noise?

Early stopping keeps a trained epoch whenever its hold-out loss is below epoch 0's (the
linear start, or the last value). The kept epoch's loss is the lowest of several noisy
scores, epoch 0's a single one, so small gains may be selection noise. For each fit of
the long-term benchmark's RNNs (its windows, hold-out and defaults; seeds ``0..N-1``)
that kept a trained epoch, this compares the kept model with its start window by window
on the hold-out: the start is the same module with its head zeroed (the head starts at
zero beside the fixed least-squares skip). The per-window loss differences are averaged
over non-overlapping blocks of ``horizon`` consecutive windows (neighbouring windows share
their targets) and ``z`` is their mean over its block standard error. The test MSE of
the kept model and of the start say which one the test months preferred. Printed and
appended to ``results/longterm-paired-holdout.jsonl`` (docs/known_gaps.md, "What the
hold-out saw")::

    export OMP_NUM_THREADS=1 SKLATTN_DATA_HOME=../shared/data
    python benchmarks/paired_holdout.py ETTh1:M ETTh2:MS --seeds 3
"""

import copy
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import experiments  # noqa: E402
import longterm  # noqa: E402

OUT = Path(__file__).parent / "results" / "longterm-paired-holdout.jsonl"
RNNS = ("rnn-none", "rnn-dot", "rnn-general", "rnn-additive", "rnn-recurrent")


def window_losses(net, module, dataset):
    """Each window's squared error (mean over its horizon steps and targets), in the
    units early stopping scores: their mean is the net's hold-out loss."""
    forecasts, targets = experiments.holdout_forecasts(net, module, dataset)
    return ((forecasts - targets) ** 2).mean(1)


def start_of(model):
    """A copy of a fitted RNN estimator set back to its start: every head zeroed, the
    fixed least-squares skip and the data statistics kept."""
    start = copy.deepcopy(model)
    for name, module in start.net_.module_.named_modules():
        if name.endswith("head"):
            torch.nn.init.zeros_(module.weight)
            torch.nn.init.zeros_(module.bias)
    return start


def block_z(diff, block):
    """Mean of ``diff`` over its standard error from non-overlapping blocks of ``block``
    consecutive values (the oldest values that do not fill a block left out), and the
    number of blocks."""
    n_blocks = len(diff) // block
    blocks = diff[len(diff) - n_blocks * block:].reshape(n_blocks, block).mean(1)
    return float(diff.mean() / (blocks.std(ddof=1) / np.sqrt(n_blocks))), n_blocks


def compare(dataset, features, model_name, seed, data_home, max_rows=None,
            max_train_windows=None, max_epochs=None, lookback=None, horizon=None):
    """One fit and its comparison (a row; only the fit's facts when it kept epoch 0)."""
    default_lookback, horizons = longterm.default_lookback_horizons(dataset)
    lookback, horizon = lookback or default_lookback, horizon or horizons[0]
    fitted = longterm.fit_model(dataset, features, model_name, lookback, horizon,
                                max_epochs or longterm.table_max_epochs(dataset), data_home,
                                max_train_windows, max_rows, random_state=seed)
    model = fitted["model"]
    row = {"dataset": dataset, "features": features, "model": model_name,
           "random_state": seed, "best_epoch": model.best_epoch_}
    if model.best_epoch_ == 0:
        return row
    net, start = model.net_, start_of(model)
    valid = net.get_split_datasets(fitted["X_fit"], fitted["y_fit"])[1]
    kept = window_losses(net, net.module_.eval(), valid)
    first = window_losses(net, start.net_.module_.eval(), valid)
    z, n_blocks = block_z(kept - first, horizon)

    def test_mse(estimator):
        forecast = estimator.predict(fitted["X_test"]).astype(np.float64)
        return float(np.mean((forecast - fitted["y_test"]) ** 2))

    row.update(holdout_kept=float(kept.mean()), holdout_start=float(first.mean()),
               holdout_gain=float(kept.mean() / first.mean() - 1), z=z, n_blocks=n_blocks,
               test_kept=test_mse(model), test_start=test_mse(start))
    row["test_gain"] = row["test_kept"] / row["test_start"] - 1
    return row


def main(argv=None):
    experiments.run_settings(argv, description=__doc__.splitlines()[0], compare=compare,
                             models=RNNS, seeds=3, out=OUT)


if __name__ == "__main__":
    main()
