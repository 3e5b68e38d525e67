"""
Transformer tokens: steps, patches, variates
============================================

``TransformerForecaster`` attends with separate queries, keys and values over one of
three kinds of token: every time step, patches of each feature (PatchTST, channel
independent), or whole features (iTransformer). On the planted-lag series the variate
tokens let the target's token look at the driver's.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklattn import TransformerForecaster, make_windows
from sklattn.datasets import make_lagged_series
from sklattn.plotting import plot_attention

series, lag = make_lagged_series(n_steps=1200, lag=12, random_state=0)
X, y = make_windows(series, lookback=32, horizon=1, targets="target")
X_train, y_train, X_test, y_test = X[:900], y[:900], X[932:], y[932:]

# %%
# One model per token type, small enough to train in seconds.
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, tokens in zip(axes, ["timestep", "patch", "variate"]):
    model = TransformerForecaster(tokens=tokens, d_model=16, n_heads=4, n_layers=1,
                                  d_ff=32, dropout=0.1, max_epochs=12, random_state=0)
    model.fit(X_train, y_train)
    mse = np.mean((model.predict(X_test) - y_test) ** 2)
    print(f"{tokens:>9} tokens: test MSE {mse:.3f}")
    plot_attention(model, X_test, ax=ax, title=f"{tokens} tokens (MSE {mse:.2f})")
fig.tight_layout()
