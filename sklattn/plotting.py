"""Plots of attention weights and forecasts. matplotlib is imported only when a plot is
asked for."""

import numpy as np

from ._validation import window_feature_names

__all__ = ["plot_attention", "plot_forecast"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'sklattn[plot]'") from error
    return plt


def _feature_labels(model):
    """Per-step feature names, or positions when the model was fitted without names."""
    return window_feature_names(model) or [str(i) for i in range(model.window_shape_[1])]


def _heatmap(ax, matrix, *, xlabel, ylabel, title, extent=None, colorbar_label):
    image = ax.imshow(matrix, aspect="auto", interpolation="nearest", cmap="viridis",
                      extent=extent)
    ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def _plot_window_weights(weights, ax, max_windows, title):
    """RNN weights (n_windows, lookback): windows by steps before the forecast."""
    weights = weights[:max_windows]
    lookback = weights.shape[1]
    return _heatmap(ax, weights[:, ::-1], xlabel="steps before the forecast",
                    ylabel="window", title=title or "attention weights",
                    extent=(0.5, lookback + 0.5, len(weights) - 0.5, -0.5),
                    colorbar_label="attention weight")


def plot_attention(model_or_weights, X=None, *, window=None, feature=0, ax=None,
                   max_windows=200, title=None):
    """Draw where a fitted estimator's attention looked, with axes named for its tokens.

    Parameters
    ----------
    model_or_weights : fitted estimator or ndarray
        An ``AttentionRNNRegressor`` or ``TransformerForecaster`` (then ``X`` is required
        and the weights are ``model.attention_weights(X)``), or an RNN's weights array of
        shape (n_windows, n_queries, lookback) or (n_windows, lookback).
    X : array-like of windows, optional
        The windows whose attention is drawn.
    window : int or None, default=None
        For token attention (Transformer): draw this window's weights; None averages
        over the windows.
    feature : int or str, default=0
        Patch tokens only: which feature's patch attention to draw (position or name).
    ax : matplotlib Axes, optional
        Drawn on a new figure when not given.
    max_windows : int, default=200
        RNN weights only: the first ``max_windows`` windows are drawn.
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes
        RNN: windows (y) by "steps before the forecast" (x; 1 = the last input step), so
        a planted lag reads off directly. Time-step tokens: query step by key step, both
        in steps before the forecast. Patch tokens: query patch by key patch of one
        feature, each labelled by the steps before the forecast at which it starts.
        Variate tokens: query feature by key feature, by name.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    if not hasattr(model_or_weights, "attention_weights"):
        weights = np.asarray(model_or_weights, dtype=float)
        if weights.ndim == 3:
            weights = weights.mean(axis=1)
        if weights.ndim != 2:
            raise ValueError(
                f"weights must be (n_windows, n_queries, lookback) or (n_windows, lookback); "
                f"got shape {weights.shape}")
        return _plot_window_weights(weights, ax, max_windows, title)
    model = model_or_weights
    if X is None:
        raise ValueError("plot_attention(model, X): X, the windows to draw, is required")
    weights = model.attention_weights(X)
    tokens = getattr(model, "tokens", None)
    if tokens is None:  # the RNN: (n_windows, 1, lookback)
        return _plot_window_weights(weights[:, 0, :], ax, max_windows, title)
    pick = (lambda w: w.mean(axis=0)) if window is None else (lambda w: w[window])
    which = "mean over windows" if window is None else f"window {window}"
    lookback = model.window_shape_[0]
    if tokens == "timestep":
        # (n, L, L); reversed so that both axes count steps before the forecast
        matrix = pick(weights)[::-1, ::-1]
        return _heatmap(ax, matrix, xlabel="key: steps before the forecast",
                        ylabel="query: steps before the forecast",
                        title=title or f"time-step attention ({which})",
                        extent=(0.5, lookback + 0.5, lookback + 0.5, 0.5),
                        colorbar_label="attention weight")
    names = _feature_labels(model)
    if tokens == "variate":
        matrix = pick(weights)  # (F, F)
        ax = _heatmap(ax, matrix, xlabel="key feature", ylabel="query feature",
                      title=title or f"variate attention ({which})",
                      colorbar_label="attention weight")
        ax.set_xticks(range(len(names)), names, rotation=90)
        ax.set_yticks(range(len(names)), names)
        return ax
    # patch tokens: (n, F, P, P)
    index = names.index(feature) if isinstance(feature, str) else int(feature)
    if not 0 <= index < len(names):
        raise ValueError(f"feature={feature!r} is not one of the {len(names)} features")
    matrix = pick(weights[:, index])
    starts = [lookback - k * model.stride_ for k in range(matrix.shape[0])]
    ax = _heatmap(ax, matrix, xlabel="key patch: starts this many steps before the forecast",
                  ylabel="query patch (start)",
                  title=title or f"patch attention of {names[index]!r} ({which})",
                  colorbar_label="attention weight")
    ax.set_xticks(range(len(starts)), starts, rotation=90)
    ax.set_yticks(range(len(starts)), starts)
    return ax


def plot_forecast(model, X, y=None, *, window=0, target=0, coverage=None, ax=None,
                  title=None):
    """Draw one window's forecast after its lookback, beside the actual values.

    Parameters
    ----------
    model : fitted sklattn estimator
    X : array-like of windows
    y : array-like, optional
        The actual targets, shaped like ``model.predict(X)``; drawn when given.
    window : int, default=0
        Which window.
    target : int, default=0
        Which target (position among the targets).
    coverage : float in (0, 1) or None, default=None
        Also shade the forecast interval of ``model.predict_interval`` at this coverage.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes
        x: steps relative to the forecast origin (0 = the window's last step; the
        lookback is drawn at -lookback+1..0 when the target is an input feature, the
        forecast at 1..horizon); y: the target's value.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    X_one = X[window:window + 1]
    forecast = np.asarray(model.predict(X_one), dtype=float).reshape(
        1, *(tuple(model.target_shape_) + (1, 1))[:2])[0]  # (horizon, n_targets)
    horizon, n_targets = forecast.shape
    if not 0 <= target < n_targets:
        raise ValueError(f"target={target} is out of range for {n_targets} target(s)")
    lookback, n_features = model.window_shape_
    position = model.target_features_[target]
    names = _feature_labels(model)
    label = names[position] if position is not None else f"target {target}"
    if position is not None:
        context = np.asarray(X_one, dtype=float).reshape(lookback, n_features)[:, position]
        ax.plot(np.arange(-lookback + 1, 1), context, color="0.4", label="lookback")
    steps = np.arange(1, horizon + 1)
    if y is not None:
        actual = np.asarray(y, dtype=float)[window].reshape(horizon, n_targets)[:, target]
        ax.plot(steps, actual, color="black", label="actual")
    ax.plot(steps, forecast[:, target], color="tab:blue", label="forecast")
    if coverage is not None:
        lower, upper = (np.asarray(bound, dtype=float).reshape(horizon, n_targets)[:, target]
                        for bound in model.predict_interval(X_one, coverage=coverage))
        ax.fill_between(steps, lower, upper, color="tab:blue", alpha=0.25,
                        label=f"{coverage:.0%} interval")
    ax.axvline(0.5, color="0.7", linestyle=":")
    ax.set_xlabel("steps after the window's last step")
    ax.set_ylabel(label)
    ax.set_title(title or f"forecast of {label}, window {window}")
    ax.legend()
    return ax
