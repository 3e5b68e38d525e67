"""Forecasts and attention weights as pandas DataFrames on a series' own timestamps.

The estimators work on windows; these functions take a DataFrame indexed by time, cut
the windows the fitted estimator expects, and put the answers back on the time axis:
:func:`forecast_frame` the next ``horizon`` steps, :func:`attention_frame` where each
window's attention looked, in long (tidy) form.
"""

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.utils.validation import check_is_fitted

from ._validation import window_feature_names
from .windows import WindowedArray

__all__ = ["attention_frame", "forecast_frame"]


def _check_frame(frame, estimator, min_rows):
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise TypeError(
            "frame must be indexed by time (a DatetimeIndex); got "
            f"{type(frame.index).__name__}. Set it with frame.set_index(timestamps).")
    check_is_fitted(estimator)
    lookback, n_features = estimator.window_shape_
    names = window_feature_names(estimator)
    if names is not None:
        missing = [name for name in names if name not in frame.columns]
        if missing:
            raise ValueError(f"frame lacks the columns {missing} that "
                             f"{type(estimator).__name__} was fitted on")
        values = frame[names]
    else:
        if frame.shape[1] != n_features:
            raise ValueError(
                f"{type(estimator).__name__} was fitted on {n_features} unnamed features; "
                f"frame has {frame.shape[1]} columns")
        values = frame
    if len(frame) < min_rows:
        raise ValueError(f"frame has {len(frame)} rows; windows need at least {min_rows} "
                         f"(lookback={lookback})")
    values = values.to_numpy(dtype=np.float64)  # a copy: the caller's frame is not touched
    return values, names


def _windows(values, names, lookback):
    """Every window of ``lookback`` rows, oldest first: (n, lookback, n_features)."""
    windows = sliding_window_view(values, lookback, axis=0).transpose(0, 2, 1)
    return WindowedArray(windows, feature_names=names)


def _frequency(index):
    freq = index.freq or (pd.infer_freq(index) if len(index) >= 3 else None)
    if freq is None:
        raise ValueError(
            "cannot infer the frequency of frame's index (irregular or too few timestamps),"
            " so the future timestamps are unknown; give the index one, e.g. "
            "frame.asfreq('h') (missing steps become NaN and must be filled)")
    return pd.tseries.frequencies.to_offset(freq)


def forecast_frame(estimator, frame, *, coverage=None):
    """Forecast the ``horizon`` steps after the end of ``frame``, indexed by their times.

    Parameters
    ----------
    estimator : fitted sklattn estimator
        Fitted on windows of a DataFrame's columns (``make_windows(frame, ...)``), on
        flattened windows whose columns are named ``"OT[t-3]"``, ..., ``"OT[t]"`` (columns
        are then picked by those names), or on unnamed windows with as many features as
        ``frame`` has columns (read by position).
    frame : DataFrame with a DatetimeIndex
        The series up to now; its last ``lookback`` rows are the window forecast from.
        Columns are picked by the fitted names; others are ignored.
    coverage : float in (0, 1) or None, default=None
        Also return the bounds of :meth:`predict_interval` at this coverage, as columns
        ``"<target>_lower"`` and ``"<target>_upper"``.

    Returns
    -------
    forecast : DataFrame of shape (horizon, n_targets) (or 3 columns per target)
        Indexed by the next ``horizon`` timestamps (the index's frequency, set or
        inferred); one column per target, named as in ``y`` of fit (``target_names_``).

    Raises
    ------
    TypeError
        ``frame`` is not a DataFrame with a DatetimeIndex.
    ValueError
        Columns are missing, there are fewer rows than the lookback, the last window has
        NaN, or the index has no frequency that can be inferred.
    """
    lookback = estimator.window_shape_[0] if hasattr(estimator, "window_shape_") else 1
    values, names = _check_frame(frame, estimator, lookback)
    offset = _frequency(frame.index)
    X = _windows(values[-lookback:], names, lookback)  # one window
    horizon = (tuple(estimator.target_shape_) + (1,))[0]
    forecast = np.asarray(estimator.predict(X)).reshape(horizon, -1)
    targets = [str(name) for name in getattr(estimator, "target_names_", [])]
    if len(targets) != forecast.shape[1]:
        targets = [f"target_{i}" for i in range(forecast.shape[1])]
    index = pd.date_range(frame.index[-1] + offset, periods=horizon, freq=offset,
                          name=frame.index.name)
    columns = {name: forecast[:, i] for i, name in enumerate(targets)}
    if coverage is not None:
        lower, upper = (np.asarray(b).reshape(horizon, -1)
                        for b in estimator.predict_interval(X, coverage=coverage))
        columns = {}
        for i, name in enumerate(targets):
            columns.update({name: forecast[:, i], f"{name}_lower": lower[:, i],
                            f"{name}_upper": upper[:, i]})
    return pd.DataFrame(columns, index=index)


def attention_frame(estimator, frame, *, last=None, **kwargs):
    """Where each window of ``frame`` looked, one row per weight (long form).

    Parameters
    ----------
    estimator : fitted AttentionRNNRegressor or TransformerForecaster
    frame : DataFrame with a DatetimeIndex
        Every window of ``lookback`` consecutive rows is explained (its forecast would
        start after its last row).
    last : int or None, default=None
        Only the last ``last`` windows.
    **kwargs
        Passed to ``estimator.attention_weights`` (the Transformer's ``layer``); heads
        are averaged.

    Returns
    -------
    weights : DataFrame
        Columns ``window_end`` (the time of the window's last step, the forecast
        origin) and ``weight``, and, by the estimator's tokens:

        - RNN: ``lag`` (steps before the window's end: 0 is its last step, as in the
          ``"OT[t-3]"`` column names) and ``time`` of the attended step.
        - time-step tokens: ``query_lag``, ``lag`` and ``time`` (of the key step).
        - patch tokens: ``feature``, ``query_patch``, ``patch`` (key patch number),
          its ``first_lag`` and ``last_lag``, and the times ``start`` and ``end`` of its
          steps (padding past the window's end counts as its last step).
        - variate tokens: ``query_feature`` and ``feature``.

        For each window (and query), the weights sum to 1.
    """
    if not hasattr(estimator, "attention_weights"):
        raise TypeError(f"{type(estimator).__name__} has no attention weights")
    lookback = estimator.window_shape_[0] if hasattr(estimator, "window_shape_") else 1
    values, names = _check_frame(frame, estimator, lookback)
    if last is not None:
        if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1:
            raise ValueError(f"last must be a positive int or None; got {last!r}")
        values = values[-(last + lookback - 1):]
    times = frame.index[len(frame) - len(values):]
    X = _windows(values, names, lookback)
    n = len(X)
    ends = times[lookback - 1:]  # (n,)
    starts = np.arange(n)  # position in `times` of each window's first step
    weights = np.asarray(estimator.attention_weights(X, **kwargs))
    tokens = getattr(estimator, "tokens", None)
    feature_names = names or [str(i) for i in range(estimator.window_shape_[1])]
    lags = np.arange(lookback - 1, -1, -1)  # lag of each step of the window

    if tokens is None or tokens == "timestep":
        if tokens is None:  # the RNN: (n, 1, lookback)
            grid = np.meshgrid(np.arange(n), [0], np.arange(lookback), indexing="ij")
        else:  # (n, lookback, lookback)
            grid = np.meshgrid(np.arange(n), np.arange(lookback), np.arange(lookback),
                               indexing="ij")
        window, query, key = (g.ravel() for g in grid)
        table = {"window_end": ends[window]}
        if tokens == "timestep":
            table["query_lag"] = lags[query]
        table.update(lag=lags[key], time=times[starts[window] + key])
    elif tokens == "variate":  # (n, F, F)
        n_features = weights.shape[-1]
        window, query, key = (g.ravel() for g in np.meshgrid(
            np.arange(n), np.arange(n_features), np.arange(n_features), indexing="ij"))
        table = {"window_end": ends[window],
                 "query_feature": np.asarray(feature_names, dtype=object)[query],
                 "feature": np.asarray(feature_names, dtype=object)[key]}
    else:  # patch: (n, F, P, P)
        _, n_features, n_patches, _ = weights.shape
        window, feature, query, key = (g.ravel() for g in np.meshgrid(
            np.arange(n), np.arange(n_features), np.arange(n_patches),
            np.arange(n_patches), indexing="ij"))
        first = np.minimum(key * estimator.stride_, lookback - 1)
        last_step = np.minimum(first + estimator.patch_len_ - 1, lookback - 1)
        table = {"window_end": ends[window],
                 "feature": np.asarray(feature_names, dtype=object)[feature],
                 "query_patch": query, "patch": key,
                 "first_lag": lookback - 1 - first, "last_lag": lookback - 1 - last_step,
                 "start": times[starts[window] + first],
                 "end": times[starts[window] + last_step]}
    table["weight"] = weights.ravel()
    return pd.DataFrame(table)
