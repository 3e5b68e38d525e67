"""Quickstart: does attention find the lag a forecast needs?

Builds the built-in planted-lag series (the target copies a random driver feature
``lag`` steps back), fits the plain LSTM and each attention variant, and prints test MSE
and how often the largest attention weight falls within 2 steps of the planted lag.

Run: python examples/quickstart.py            (about a minute on 2 CPU cores)
"""

import time

import numpy as np

from sklattn import AttentionRNNRegressor, make_windows
from sklattn.datasets import make_lagged_series

LOOKBACK = 24


def main():
    series, lag = make_lagged_series(n_steps=3000, lag=12, random_state=0)
    X, y = make_windows(series, lookback=LOOKBACK, horizon=1, targets="target")
    n_train = int(0.8 * len(X))
    X_train, y_train = X[:n_train], y[:n_train]
    # skip LOOKBACK windows so no test step was inside a training window
    X_test, y_test = X[n_train + LOOKBACK:], y[n_train + LOOKBACK:]
    print(f"series {series.shape}, planted lag {lag}; "
          f"{len(X_train)} train / {len(X_test)} test windows of {LOOKBACK} steps\n")

    print(f"{'attention':<10} {'test MSE':>9} {'peak lag (median)':>18} "
          f"{'peak within 2 of lag':>21} {'epochs':>7} {'fit s':>6}")
    for attention in ["none", "dot", "general", "additive"]:
        model = AttentionRNNRegressor(cell="lstm", attention=attention, hidden_size=32,
                                      max_epochs=50, random_state=0)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        mse = np.mean((model.predict(X_test) - y_test) ** 2)
        if attention == "none":
            peak, hit = "-", "-"
        else:
            weights = model.attention_weights(X_test)[:, 0, :]  # (n, lookback)
            peak_lag = LOOKBACK - weights.argmax(axis=1)         # steps before the forecast
            peak = f"{np.median(peak_lag):.0f}"
            hit = f"{np.mean(np.abs(peak_lag - lag) <= 2):.0%}"
        print(f"{attention:<10} {mse:>9.4f} {peak:>18} {hit:>21} "
              f"{len(model.net_.history):>7} {seconds:>6.1f}")


if __name__ == "__main__":
    main()
