"""Cut a multivariate series into (input window, forecast target) pairs.

The windows are strided *views* of one float array: no window is copied until a batch
of them is indexed for training, so a long series costs its own size in memory, not
``lookback`` times that.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["WindowedArray", "make_windows"]


class WindowedArray(np.ndarray):
    """A NumPy array of windows that remembers the series' column names.

    ``make_windows`` returns its ``X`` as this type so that an estimator fitted on windows
    of a DataFrame can set ``feature_names_in_``. It behaves as a plain ``ndarray``;
    slicing along the first axis keeps ``feature_names``.

    Attributes
    ----------
    feature_names : ndarray of str or None
        The names of the last axis, or None when the series had no column names.
    """

    def __new__(cls, array, feature_names=None):
        obj = np.asarray(array).view(cls)
        obj.feature_names = feature_names
        return obj

    def __array_finalize__(self, obj):
        self.feature_names = getattr(obj, "feature_names", None)

    def __reduce__(self):
        # Pickle as a plain array plus the names (ndarray's own reduce drops attributes).
        return (WindowedArray, (np.asarray(self), self.feature_names))


def _as_float_series(series, dtype):
    """Return ``(values, column_names)`` of a 2D numeric series, or raise."""
    names = None
    if isinstance(series, pd.Series):
        series = series.to_frame()
    if isinstance(series, pd.DataFrame):
        non_numeric = [c for c in series.columns if not pd.api.types.is_numeric_dtype(series[c])
                       or pd.api.types.is_bool_dtype(series[c])]
        if non_numeric:
            raise TypeError(
                f"series has non-numeric columns {non_numeric}; drop or encode them "
                "(e.g. the date column) before windowing"
            )
        names = np.asarray([str(c) for c in series.columns], dtype=object)
        values = series.to_numpy()
    else:
        values = np.asarray(series)
        if values.dtype == object or not (np.issubdtype(values.dtype, np.number)):
            raise TypeError(f"series must hold numbers; got dtype {values.dtype}")
        if np.iscomplexobj(values):
            raise TypeError("series must hold real numbers; got complex values")
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(
            f"series must be 1D (n_steps,) or 2D (n_steps, n_features); got shape {values.shape}"
        )
    values = np.asarray(values, dtype=dtype)
    if not np.isfinite(values).all():
        bad = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(
            f"series contains NaN or inf (first at step {bad[0]}, column {bad[1]}); "
            "fill or drop missing values before windowing"
        )
    return values, names


def _check_positive_int(value, name, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def _target_indices(targets, names, n_features):
    if targets is None:
        return np.arange(n_features)
    if isinstance(targets, (str, Integral)) and not isinstance(targets, bool):
        targets = [targets]
    indices = []
    for target in targets:
        if isinstance(target, str):
            if names is None or target not in list(names):
                raise ValueError(
                    f"target {target!r} is not a column name; names are "
                    f"{None if names is None else list(names)}"
                )
            indices.append(list(names).index(target))
        elif isinstance(target, Integral) and not isinstance(target, bool):
            if not -n_features <= target < n_features:
                raise ValueError(
                    f"target index {target} is out of range for {n_features} features"
                )
            indices.append(int(target) % n_features)
        else:
            raise TypeError(f"targets must be column indices or names; got {target!r}")
    if not indices:
        raise ValueError("targets must name at least one column")
    if len(set(indices)) != len(indices):
        raise ValueError(f"targets repeat a column: {targets!r}")
    return np.asarray(indices)


def make_windows(series, lookback, horizon, *, targets=None, stride=1, dtype=np.float32):
    """Cut a series into input windows and the steps that follow each of them.

    Window ``i`` starts at step ``i * stride``; its input is the ``lookback`` steps from
    there and its target the ``horizon`` steps right after.

    Parameters
    ----------
    series : array-like or DataFrame of shape (n_steps, n_features) or (n_steps,)
        The multivariate series, oldest step first. Only numeric, finite values.
    lookback : int
        Steps in each input window.
    horizon : int
        Steps to forecast after each window.
    targets : int, str or sequence of them, default=None
        Columns to forecast, by position or (for a DataFrame) by name. All columns by
        default. Columns not named here are still in ``X`` as inputs.
    stride : int, default=1
        Steps between the starts of consecutive windows.
    dtype : numpy dtype, default=np.float32
        Dtype of the windows. The series is cast once; float32 is what the estimators
        train in, so they use these windows without another copy.

    Returns
    -------
    X : WindowedArray of shape (n_windows, lookback, n_features)
        Input windows: a read-only strided view of the (cast) series that carries the
        DataFrame's column names, if any, as ``X.feature_names``.
    y : ndarray of shape (n_windows, horizon, n_targets)
        What follows each window, also a read-only strided view (of the series, or of
        a copy of its target columns when ``targets`` is given).

    Raises
    ------
    TypeError
        Non-numeric data or arguments of the wrong type.
    ValueError
        NaN/inf in the series, a series shorter than ``lookback + horizon``, or
        arguments out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from sklattn import make_windows
    >>> X, y = make_windows(np.arange(20.0).reshape(10, 2), lookback=4, horizon=2)
    >>> X.shape, y.shape
    ((5, 4, 2), (5, 2, 2))
    """
    lookback = _check_positive_int(lookback, "lookback")
    horizon = _check_positive_int(horizon, "horizon")
    stride = _check_positive_int(stride, "stride")
    values, names = _as_float_series(series, dtype)
    n_steps, n_features = values.shape
    if n_steps < lookback + horizon:
        raise ValueError(
            f"series has {n_steps} steps, too few for one window of lookback={lookback} "
            f"plus horizon={horizon} (needs at least {lookback + horizon})"
        )
    target_idx = _target_indices(targets, names, n_features)
    # (n_windows, n_features, window) -> (n_windows, window, n_features), still a view.
    spans = sliding_window_view(values, lookback + horizon, axis=0)[::stride]
    spans = spans.transpose(0, 2, 1)
    X = WindowedArray(spans[:, :lookback, :], feature_names=names)
    # Targets come from a copy of just their columns, so y is a view as well.
    target_values = values if targets is None else np.ascontiguousarray(values[:, target_idx])
    target_spans = sliding_window_view(target_values[lookback:], horizon, axis=0)[::stride]
    y = target_spans.transpose(0, 2, 1)[: len(X)]
    return X, y
