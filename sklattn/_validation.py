"""Checks of the windows and targets an estimator is given, before any tensor is made.

These functions know array shapes and scikit-learn's conventions; they know nothing of
torch or of any particular model.
"""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = ["check_windows", "check_window_targets"]


def check_windows(X, *, estimator_name="estimator"):
    """Validate input windows and return them as float32 (n, lookback, n_features).

    2D ``X`` of shape (n, lookback) is read as univariate windows. The returned array is
    ``X`` itself (a view) when it already is a float32 NumPy array; otherwise one copy.

    Returns
    -------
    X3 : ndarray of shape (n, lookback, n_features), float32
    names : array of str or None
        Column names: a 2D DataFrame's columns, or a ``WindowedArray``'s feature names.
    ndim : int
        The rank ``X`` came in with, 2 or 3.
    """
    names = X.columns if isinstance(X, pd.DataFrame) else getattr(X, "feature_names", None)
    X = check_array(
        X,
        dtype=np.float32,
        allow_nd=True,
        ensure_min_samples=1,
        ensure_all_finite=True,
        input_name="X",
        estimator=estimator_name,
    )
    if X.ndim == 2:
        # a 2D WindowedArray (reshaped windows) no longer names its columns
        return X[:, :, None], names if isinstance(names, pd.Index) else None, 2
    if X.ndim != 3:
        raise ValueError(
            f"X must be 2D (n_windows, lookback) or 3D (n_windows, lookback, n_features); "
            f"got {X.ndim}D with shape {X.shape}"
        )
    if X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"X has an empty window axis: shape {X.shape}")
    return X, names, 3


def check_window_targets(y, n_windows, *, estimator_name="estimator"):
    """Validate targets and return them flattened to float32 (n, horizon * n_targets).

    Accepts y of shape (n,), (n, horizon) or (n, horizon, n_targets).

    Returns
    -------
    y2 : ndarray of shape (n, horizon * n_targets), float32
    target_shape : tuple
        ``y.shape[1:]``, the shape of one window's target; ``predict`` returns
        ``(n,) + target_shape``.
    """
    if y is None:
        raise ValueError(f"{estimator_name} requires y to be passed, but the target y is None")
    y = check_array(
        y,
        dtype=np.float32,
        ensure_2d=False,
        allow_nd=True,
        ensure_min_samples=1,
        ensure_all_finite=True,
        input_name="y",
        estimator=estimator_name,
    )
    if y.ndim > 3:
        raise ValueError(
            f"y must be (n,), (n, horizon) or (n, horizon, n_targets); got shape {y.shape}"
        )
    if 0 in y.shape:
        raise ValueError(f"y has an empty axis: shape {y.shape}")
    check_consistent_length(np.empty((n_windows, 0)), y)
    return y.reshape(len(y), -1), y.shape[1:]
