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
    """A NumPy array of windows (or of their targets) that remembers what its columns are.

    ``make_windows`` returns both ``X`` and ``y`` as this type. ``X.feature_names`` lets an
    estimator set ``feature_names_in_``; ``y.target_features`` tells it which input
    features the targets are, so that it can normalise each window and undo that on the
    forecast without being told. It behaves as a plain ``ndarray``.

    Indexing follows the last (feature) axis: ``X[:, :, [2, 0]]`` names its columns in
    that order, ``y[..., 0]`` keeps the first target's name and position. Where an index
    mixes the feature axis with others so that the columns can no longer be named, the
    names and positions are dropped (set to None) rather than left wrong. Windows joined
    along the first axis (``np.concatenate``, ``np.vstack``) keep the names and positions
    they share, e.g. a validation period and the latest windows to ``calibrate`` on.

    Attributes
    ----------
    feature_names : ndarray of str or None
        The names of the last axis, or None when unknown.
    target_features : ndarray of int or None
        For targets (``y``): the position of each target column among the input
        features of the matching ``X``; None when unknown (and always for ``X``).
    """

    def __new__(cls, array, feature_names=None, target_features=None):
        obj = np.asarray(array).view(cls)
        obj.feature_names = None if feature_names is None else np.asarray(feature_names,
                                                                           dtype=object)
        obj.target_features = (None if target_features is None
                               else np.asarray(target_features, dtype=np.intp))
        for attr in ("feature_names", "target_features"):
            value = getattr(obj, attr)
            if value is not None and (value.ndim != 1 or not obj._labels(len(value))):
                raise ValueError(
                    f"{attr} has {value.size} entries but the array's feature (last) axis "
                    f"has {obj.shape[-1] if obj.ndim else 0}; give one per feature")
        return obj

    def __array_finalize__(self, obj):
        for attr in ("feature_names", "target_features"):
            value = getattr(obj, attr, None)
            setattr(self, attr, value if value is None or self._labels(len(value)) else None)

    def _labels(self, n_names):
        """Whether ``n_names`` names can label this array's columns.

        The last axis holds the features, except for 2D windows of one feature
        (n_windows, steps), the univariate form, which carry a single name.
        """
        return self.ndim >= 1 and (self.shape[-1] == n_names
                                   or (self.ndim == 2 and n_names == 1))

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if not isinstance(out, WindowedArray) or (
                self.feature_names is None and self.target_features is None):
            return out
        univariate = self.ndim == 2 and self.shape[-1] != 1 and len(
            self.feature_names if self.feature_names is not None else self.target_features) == 1
        if univariate:
            columns = np.zeros(1, dtype=np.intp) if out.ndim == 2 else None
        else:
            columns = self._columns_after(key, out)
        for attr in ("feature_names", "target_features"):
            value = getattr(self, attr)
            value = None if value is None or columns is None else value[columns]
            setattr(out, attr, value if value is None or out._labels(len(value)) else None)
        return out

    def _columns_after(self, key, out):
        """Which of this array's columns ``out`` (= ``self[key]``) holds, in order.

        Returns an int array, or None when they cannot be told apart from the other axes.
        """
        if self.ndim < 2:
            return None
        parts = key if isinstance(key, tuple) else (key,)
        if parts and parts[-1] is Ellipsis:
            parts = parts[:-1]  # X[idx, ...] indexes the leading axes only
        if len(parts) < self.ndim and not any(k is Ellipsis or k is None for k in parts):
            # Only leading axes are indexed: every column is still there, in order.
            return np.arange(self.shape[-1])
        # Apply the same index to an array that holds each element's column position.
        positions = np.broadcast_to(np.arange(self.shape[-1]), self.shape)[key]
        if positions.ndim == 0:
            return None
        if out.ndim < self.ndim and positions.size and np.all(positions == positions.flat[0]):
            # The feature axis was taken by one integer (y[..., 0]): one column left.
            return np.asarray([positions.flat[0]])
        rows = positions.reshape(-1, positions.shape[-1])
        if len(rows) and not np.all(rows == rows[0]):
            return None
        return rows[0] if len(rows) else None

    def __array_function__(self, func, types, args, kwargs):
        out = super().__array_function__(func, types, args, kwargs)
        if func is np.concatenate:
            return self._concatenated(out, *args, **kwargs)
        return out

    @staticmethod
    def _concatenated(result, arrays, axis=0, **kwargs):
        """Windows joined along the windows (first) axis keep the names and positions
        they all share (e.g. a validation period and recent windows for ``calibrate``);
        any other join, or of arrays that name their columns differently, is plain."""
        arrays = list(arrays)
        if (kwargs.get("out") is not None or not isinstance(result, np.ndarray)
                or result.ndim < 2 or axis is None or axis % result.ndim != 0
                or not all(isinstance(a, WindowedArray) for a in arrays)):
            return result
        first = arrays[0]
        for attr in ("feature_names", "target_features"):
            labels = getattr(first, attr)
            if not all(_same_labels(getattr(a, attr), labels) for a in arrays[1:]):
                return result
        return WindowedArray(result, first.feature_names, first.target_features)

    def __reduce__(self):
        # Pickle as a plain array plus the names (ndarray's own reduce drops attributes).
        return (WindowedArray, (np.asarray(self), self.feature_names, self.target_features))


def _same_labels(a, b):
    """Whether two ``feature_names`` (or ``target_features``) say the same: both None, or
    equal arrays."""
    return a is b is None or (a is not None and b is not None and np.array_equal(a, b))


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
    y : WindowedArray of shape (n_windows, horizon, n_targets)
        What follows each window, also a read-only strided view (of the series, or of
        a copy of its target columns when ``targets`` is given). ``y.target_features``
        holds each target's position among ``X``'s features and ``y.feature_names`` the
        targets' names, so the estimators know which inputs they forecast.

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
    y = WindowedArray(target_spans.transpose(0, 2, 1)[: len(X)],
                      feature_names=None if names is None else names[target_idx],
                      target_features=target_idx)
    return X, y
