"""An experiment, not a feature: would choosing the least-squares start's ridge on the
hold-out (as ``RidgeCV`` does on its folds) beat the fixed relative ridge of 1e-3?

For each dataset and setting (the long-term benchmark's windows, hold-out and seed 0):
the linear baseline's least-squares start at each ridge of ``--ridges``, its loss on the
hold-out (from the hold-out's own normal equations: the squared error in data units, per
row and horizon step, as the start is scored) and its test MSE. Printed and appended to
``results/longterm-ridge-holdout.jsonl`` (docs/real_data.md, "The least-squares start of
linear maps")::

    export OMP_NUM_THREADS=1 SKLATTN_DATA_HOME=../shared/data
    python benchmarks/ridge_holdout.py ETTh1:M ETTh1:MS national_illness:MS

With ``--models``, each model of the long-term benchmark instead trains (its default
settings, ``--seeds`` seeds) with its start at each ridge: how the RNNs on top of the
fixed skip fare with it::

    python benchmarks/ridge_holdout.py national_illness:MS --ridges 1e-3 1e-2 0.1 1 \
        --models rnn-none rnn-additive --seeds 3
"""

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from skorch.utils import to_tensor

sys.path.insert(0, str(Path(__file__).parent))
import longterm  # noqa: E402

from sklattn import warmstart  # noqa: E402
from sklattn.batching import WindowBatches  # noqa: E402
from sklattn.nn.linear import LeastSquares  # noqa: E402

OUT = Path(__file__).parent / "results" / "longterm-ridge-holdout.jsonl"
RIDGES = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)


def normal_equations(net, dataset, n_inputs, horizon):
    """The :class:`LeastSquares` of ``dataset``'s rows, and the rows' weighted squared
    targets summed (the constant of their squared error)."""
    solver, squares = LeastSquares(n_inputs, horizon), 0.0
    with torch.no_grad():
        for Xi, yi in WindowBatches(dataset, batch_size=1024):
            rows = net.module_.least_squares_rows(to_tensor(Xi, net.device).float(),
                                                  to_tensor(yi, net.device).float())
            solver.update_weighted(rows)
            squares += float((rows[:, n_inputs + 1:].double() ** 2).sum())
    return solver, squares


@contextmanager
def recorded_start(store):
    """While in force, the start callback also leaves the training part's and the
    hold-out's normal equations (and the linear map) in ``store``."""
    original = warmstart.LeastSquaresStart.on_train_begin

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        original(self, net, X=X, y=y, **kwargs)
        linear = self.locate(net.module_)
        train, holdout = net.get_split_datasets(X, y)
        size = (linear.remainder.in_features, linear.horizon)
        store.update(linear=linear, train=normal_equations(net, train, *size)[0],
                     holdout=normal_equations(net, holdout, *size))

    warmstart.LeastSquaresStart.on_train_begin = on_train_begin
    try:
        yield
    finally:
        warmstart.LeastSquaresStart.on_train_begin = original


def holdout_loss(train, holdout, ridge):
    """Mean squared error (per row and step) of the ridge solution on the hold-out."""
    solver, squares = holdout
    weights, bias = train.solve(ridge)
    theta = torch.cat([weights.T, bias[None]]).double()  # (inputs + 1, horizon)
    sse = ((theta * (solver.gram @ theta)).sum() - 2 * (theta * solver.cross).sum()
           + squares)
    return float(sse) / solver.n_rows / theta.shape[1]


def fit_start(dataset, features, lookback, horizon, data_home=None, max_rows=None):
    """The linear baseline fitted under the table's protocol (``longterm.fit_model``) for
    its start only: one epoch at a negligible learning rate, no last-value candidate.
    Returns ``fit_model``'s dict and the store :func:`recorded_start` filled."""
    store = {}
    with recorded_start(store):
        fitted = longterm.fit_model(dataset, features, "linear", lookback, horizon, 1,
                                    data_home, max_rows=max_rows,
                                    params={"lr": 1e-12, "baseline": None})
    return fitted, store


def scan(dataset, features, ridges=RIDGES, data_home=None, max_rows=None, lookback=None,
         horizon=None):
    default_lookback, horizons = longterm.default_lookback_horizons(dataset)
    lookback, horizon = lookback or default_lookback, horizon or horizons[0]
    fitted, store = fit_start(dataset, features, lookback, horizon, data_home, max_rows)
    model, X_test, y_test = fitted["model"], fitted["X_test"], fitted["y_test"]
    holdout, test = {}, {}
    for ridge in ridges:
        holdout[ridge] = holdout_loss(store["train"], store["holdout"], ridge)
        store["linear"].set_map(*store["train"].solve(ridge))
        y_pred = model.predict(X_test).astype(np.float64)
        test[ridge] = float(np.mean((y_pred - y_test) ** 2))
    chosen = min(ridges, key=holdout.get)
    return {"dataset": dataset, "features": features, "lookback": lookback,
            "horizon": horizon, "ridges": list(ridges),
            "holdout_loss": [holdout[r] for r in ridges],
            "test_mse": [test[r] for r in ridges], "holdout_choice": chosen,
            "meta": longterm._meta()}


@contextmanager
def start_ridge(ridge):
    """While in force, a least-squares start not given a ridge uses ``ridge`` (the
    estimators give none)."""
    original = warmstart.LeastSquaresStart.__init__
    start = ridge

    def __init__(self, locate, freeze=False, ridge=start, batch_size=1024):
        original(self, locate, freeze=freeze, ridge=ridge, batch_size=batch_size)

    warmstart.LeastSquaresStart.__init__ = __init__
    try:
        yield
    finally:
        warmstart.LeastSquaresStart.__init__ = original


def train_models(dataset, features, models, ridges, seeds, data_home=None, max_rows=None,
                 lookback=None, horizon=None, epochs=None):
    """Rows of test MSE over ``seeds`` for each model trained with each start ridge
    (``epochs``: by default the table's ``max_epochs``)."""
    default_lookback, horizons = longterm.default_lookback_horizons(dataset)
    lookback, horizon = lookback or default_lookback, horizon or horizons[0]
    epochs = epochs or longterm.table_max_epochs(dataset)
    for ridge in ridges:
        for model in models:
            with start_ridge(ridge):
                mse = [longterm.run(dataset, features, model, lookback, horizon, epochs,
                                    data_home, max_rows=max_rows, random_state=seed)[
                                        "test_mse"] for seed in range(seeds)]
            yield {"dataset": dataset, "features": features, "lookback": lookback,
                   "horizon": horizon, "model": model, "ridge": ridge, "test_mse": mse,
                   "mean": float(np.mean(mse)), "meta": longterm._meta()}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="dataset:features, e.g. ETTh1:MS")
    parser.add_argument("--ridges", nargs="+", type=float, default=list(RIDGES))
    parser.add_argument("--lookback", type=int)
    parser.add_argument("--horizon", type=int)
    parser.add_argument("--max-rows", type=int, help="a slice of the series (tests)")
    parser.add_argument("--models", nargs="+", choices=list(longterm.MODELS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    for run in args.runs:
        dataset, features = run.split(":")
        if args.models:
            for row in train_models(dataset, features, args.models, args.ridges, args.seeds,
                                    os.environ.get("SKLATTN_DATA_HOME"), args.max_rows,
                                    args.lookback, args.horizon):
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{dataset} {features} ridge {row['ridge']:g} {row['model']:13s} mean "
                      f"{row['mean']:.4f}  " + " ".join(f"{v:.4f}" for v in row["test_mse"]),
                      flush=True)
            continue
        row = scan(dataset, features, args.ridges, os.environ.get("SKLATTN_DATA_HOME"),
                   args.max_rows, args.lookback, args.horizon)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{dataset} {features} hold-out picks {row['holdout_choice']:g}: "
              + "  ".join(f"{r:g}: {h:.5g} / {t:.5g}" for r, h, t in
                          zip(row["ridges"], row["holdout_loss"], row["test_mse"])),
              flush=True)


if __name__ == "__main__":
    main()
