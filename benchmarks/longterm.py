"""Long-horizon benchmark: TransformerForecaster on the standard splits.

Protocol (as Informer / Autoformer / PatchTST): train / validation / test rows from
``sklattn.datasets.benchmark_split``; z-scaling fitted on the training rows only; all
variables in and out; every test window kept; MSE and MAE on the scaled test windows.
Early stopping uses the estimator's own temporal hold-out on the train + validation rows,
with ``validation_fraction`` set so that it holds out as many windows as the standard
validation part has.

Usage:
    SKLATTN_DATA_HOME=../shared/data python benchmarks/longterm.py \
        --dataset ETTh1 --tokens patch variate timestep --max-epochs 20

Prints a table and writes benchmarks/results/longterm-<dataset>-<horizon>-<tokens>.json.
"""

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from sklattn import TransformerForecaster, make_windows
from sklattn.datasets import benchmark_split, load_benchmark

# PatchTST's ETTh1 settings, except lr and batch (faster convergence on CPU).
TOKEN_PARAMS = {
    "patch": dict(d_model=16, n_heads=4, n_layers=3, d_ff=128, dropout=0.3, patch_len=16,
                  stride=8),
    "variate": dict(d_model=128, n_heads=8, n_layers=2, d_ff=128, dropout=0.1),
    # small: 336 tokens per window and a flatten head of 336 * d_model inputs
    "timestep": dict(d_model=16, n_heads=4, n_layers=2, d_ff=64, dropout=0.1),
}


def run(dataset, tokens, lookback, horizon, max_epochs, batch_size, lr, patience, data_home):
    series = load_benchmark(dataset, data_home=data_home)
    train, valid, test = benchmark_split(series, lookback, name=dataset)
    scaler = StandardScaler().fit(train)
    fit_rows = scaler.transform(series.iloc[: len(train) + len(valid) - lookback])
    test_rows = scaler.transform(test)
    X_fit, y_fit = make_windows(fit_rows, lookback, horizon)
    X_test, y_test = make_windows(test_rows, lookback, horizon)
    n_valid_windows = len(valid) - lookback - horizon + 1
    model = TransformerForecaster(
        tokens=tokens, **TOKEN_PARAMS[tokens], max_epochs=max_epochs, batch_size=batch_size,
        lr=lr, patience=patience, validation_fraction=n_valid_windows / len(X_fit),
        random_state=0, verbose=0)
    start = time.perf_counter()
    model.fit(X_fit, y_fit)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = model.predict(X_test)
    predict_seconds = time.perf_counter() - start
    history = model.net_.history
    best_epoch = int(np.argmin(history[:, "valid_loss"])) + 1
    return {
        "dataset": dataset, "tokens": tokens, "lookback": lookback, "horizon": horizon,
        "test_mse": float(np.mean((y_pred - y_test) ** 2)),
        "test_mae": float(np.mean(np.abs(y_pred - y_test))),
        "n_test_windows": len(X_test), "epochs_run": len(history), "best_epoch": best_epoch,
        "fit_seconds": round(fit_seconds, 1), "predict_seconds": round(predict_seconds, 1),
        "seconds_per_epoch": round(fit_seconds / len(history), 1),
        "params": {**TOKEN_PARAMS[tokens], "lr": lr, "batch_size": batch_size,
                   "max_epochs": max_epochs, "patience": patience},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ETTh1")
    parser.add_argument("--tokens", nargs="+", default=["patch", "variate", "timestep"])
    parser.add_argument("--lookback", type=int, default=336)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    rows = []
    print(f"{'tokens':<9} {'test MSE':>9} {'test MAE':>9} {'epochs':>7} {'best':>5} "
          f"{'fit s':>7} {'s/epoch':>8}", flush=True)
    for tokens in args.tokens:
        row = run(args.dataset, tokens, args.lookback, args.horizon, args.max_epochs,
                  args.batch_size, args.lr, args.patience, args.data_home)
        rows.append(row)
        print(f"{tokens:<9} {row['test_mse']:>9.4f} {row['test_mae']:>9.4f} "
              f"{row['epochs_run']:>7} {row['best_epoch']:>5} {row['fit_seconds']:>7.1f} "
              f"{row['seconds_per_epoch']:>8.1f}", flush=True)
    meta = {"date": date.today().isoformat(), "machine": platform.platform(),
            "cpus": torch.get_num_threads(), "torch": torch.__version__,
            "cuda": torch.cuda.is_available()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"longterm-{args.dataset}-{args.horizon}-{'-'.join(args.tokens)}.json"
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
