"""
Where an attention RNN looks
============================

The built-in planted-lag series has a target that copies a random driver 12 steps back
(plus noise). An LSTM with additive (Bahdanau) attention pools its past hidden states
``v_i`` with the last one, ``u``, as the lookup vector: ``p = softmax(score(v_i, u))``,
``c = sum_i p_i v_i``. The weights ``p`` say which steps the forecast used; here they
should peak 12-13 steps before the forecast.
"""

# %%
# Data: windows of 24 steps, one step ahead, target "target".
import numpy as np

from sklattn import AttentionRNNRegressor, NaiveForecaster, make_windows
from sklattn.datasets import make_lagged_series
from sklattn.plotting import plot_attention

series, lag = make_lagged_series(n_steps=2000, lag=12, random_state=0)
X, y = make_windows(series, lookback=24, horizon=1, targets="target")
X_train, y_train, X_test, y_test = X[:1500], y[:1500], X[1524:], y[1524:]

# %%
# Fit the attention RNN and the last-value baseline; compare test MSE.
model = AttentionRNNRegressor(attention="additive", hidden_size=32, max_epochs=30,
                              random_state=0).fit(X_train, y_train)
naive = NaiveForecaster().fit(X_train, y_train)
for name, estimator in [("additive attention", model), ("last value", naive)]:
    mse = np.mean((estimator.predict(X_test) - y_test) ** 2)
    print(f"{name:>20}: test MSE {mse:.3f}")

# %%
# The weights: one row per test window, columns are steps before the forecast.
weights = model.attention_weights(X_test)  # (n_windows, 1, lookback), rows sum to 1
peak = 24 - np.argmax(weights[:, 0, :], axis=1)
print("median peak, in steps before the forecast:", int(np.median(peak)), "(lag", lag, ")")
ax = plot_attention(model, X_test[:150])
