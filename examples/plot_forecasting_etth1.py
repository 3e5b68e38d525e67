"""
Forecasting a real series, from windows to plots
================================================

ETTh1 (electricity transformer, hourly, 7 variables): forecast the oil temperature
``OT`` for the next 24 hours from the last 96 hours of all seven variables, as a
scikit-learn user would, and compare with the two yardsticks every model must beat: the
last value repeated, and a linear model on the same windows. Then look at the forecast,
its intervals, and where the attention looked.

The data is read from a local folder (``SKLATTN_DATA_HOME``, nothing is downloaded);
the standard split is 12 months of training, 4 of validation, 4 of test.
"""

# %%
# Windows
# -------
# ``benchmark_split`` gives the standard train / validation / test rows; the series is
# z-scaled with the training rows' statistics. ``make_windows`` cuts strided windows of
# every feature (``X``: windows x 96 steps x 7 features) and the next 24 values of
# ``OT`` (``y``); ``y`` also tells the estimators which input feature ``OT`` is.
import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    forecast_frame,
    make_windows,
)
from sklattn.datasets import benchmark_split, load_benchmark
from sklattn.plotting import plot_attention, plot_forecast

LOOKBACK, HORIZON = 96, 24
series = load_benchmark("ETTh1")
train, valid, test = benchmark_split(series, LOOKBACK, name="ETTh1")
scaler = StandardScaler().fit(train)


def scaled(rows):
    return pd.DataFrame(scaler.transform(rows), columns=rows.columns, index=rows.index)


# Training and validation rows together: each estimator holds out the last windows
# itself (after a gap) for early stopping and for calibrating its intervals.
fit_rows = scaled(series.iloc[: len(train) + len(valid) - LOOKBACK])
X, y = make_windows(fit_rows, LOOKBACK, HORIZON, targets="OT")
X_test, y_test = make_windows(scaled(test), LOOKBACK, HORIZON, targets="OT")
print(f"fit windows {X.shape}, targets {y.shape}; test windows {X_test.shape}")

# %%
# Three estimators, one loop
# --------------------------
# Defaults throughout; ``max_epochs`` is kept small so that this page builds in a
# minute (the benchmark trains longer). The hold-out is the validation months.
holdout = dict(validation_fraction=(len(valid) - LOOKBACK - HORIZON + 1) / len(X))
models = {
    "last value": NaiveForecaster(**holdout),
    "linear": LinearForecaster(max_epochs=4, random_state=0, **holdout),
    "attention RNN": AttentionRNNRegressor(attention="additive", max_epochs=4,
                                           random_state=0, **holdout),
}
for name, model in models.items():
    model.fit(X, y)
    mse = np.mean((model.predict(X_test) - y_test) ** 2)
    print(f"{name:>14}: test MSE {mse:.4f}")

# %%
# A forecast and its 90% interval
# -------------------------------
# ``predict_interval`` is split conformal: each estimator calibrated it on its hold-out
# windows during ``fit``. The interval below is the attention RNN's, for one test
# window; the shaded band is 90% per horizon step.
rnn = models["attention RNN"]
ax = plot_forecast(rnn, X_test, y_test, window=500, coverage=0.9)

lower, upper = rnn.predict_interval(X_test, coverage=0.9)
inside = (y_test >= lower) & (y_test <= upper)
print(f"share of test values inside the 90% intervals: {inside.mean():.3f}")

# %%
# Where the attention looked
# --------------------------
# Each row is a test window; columns count hours before the forecast. Daily structure
# shows as weight 24 hours back.
ax = plot_attention(rnn, X_test[::10])

# %%
# The next 24 hours as a DataFrame
# --------------------------------
# ``forecast_frame`` takes a DataFrame indexed by time and returns the forecast on the
# future timestamps (the frequency is inferred from the index), here with the interval.
future = forecast_frame(rnn, scaled(test), coverage=0.9)
print(future.head())
