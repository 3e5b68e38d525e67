"""Plots of attention weights. matplotlib is imported only when a plot is asked for."""

import numpy as np

__all__ = ["plot_attention"]


def plot_attention(weights, *, ax=None, max_windows=200, title=None):
    """Draw attention weights as a heatmap of windows by lookback steps.

    Parameters
    ----------
    weights : ndarray of shape (n_windows, n_queries, lookback) or (n_windows, lookback)
        As returned by an estimator's ``attention_weights``; queries are averaged.
    ax : matplotlib Axes, optional
        Drawn on a new figure when not given.
    max_windows : int, default=200
        Only the first ``max_windows`` windows are drawn.
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes
        The x axis is "steps before the forecast" (1 = the last input step), so a
        planted lag reads off directly.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plot_attention needs matplotlib: pip install 'sklattn[plot]'") \
            from error
    weights = np.asarray(weights, dtype=float)
    if weights.ndim == 3:
        weights = weights.mean(axis=1)
    if weights.ndim != 2:
        raise ValueError(
            f"weights must be (n_windows, n_queries, lookback) or (n_windows, lookback); "
            f"got shape {weights.shape}"
        )
    weights = weights[:max_windows]
    lookback = weights.shape[1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    image = ax.imshow(weights[:, ::-1], aspect="auto", interpolation="nearest", cmap="viridis",
                      extent=(0.5, lookback + 0.5, len(weights) - 0.5, -0.5))
    ax.figure.colorbar(image, ax=ax, label="attention weight")
    ax.set_xlabel("steps before the forecast")
    ax.set_ylabel("window")
    ax.set_title(title or "attention weights")
    return ax
