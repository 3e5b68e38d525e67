"""Checks of the windows and targets an estimator is given, before any tensor is made.

These functions know array shapes and scikit-learn's conventions; they know nothing of
torch or of any particular model.
"""

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import as_strided
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = ["check_window_targets", "check_windows", "flat_feature_names"]


def check_windows(X, *, estimator_name="estimator"):
    """Validate input windows and return them as a float array of rank 2 or 3.

    The array is ``X`` itself (a view, strides kept) when it already is a float32 or
    float64 NumPy array, so strided windows are never materialised here (estimators cast
    them to float32 one batch at a time); other dtypes are converted to float32.
    Whether a 2D array is univariate or flattened multivariate windows is the
    estimator's to decide (it knows ``lookback``).

    Returns
    -------
    X : ndarray of shape (n, lookback, n_features) or (n, n_columns), float32 or float64
    names : array of str or None
        Column names: a 2D DataFrame's columns, or a ``WindowedArray``'s feature names.
    """
    names = X.columns if isinstance(X, pd.DataFrame) else getattr(X, "feature_names", None)
    X = check_array(
        X,
        dtype=(np.float32, np.float64),
        allow_nd=True,
        ensure_min_samples=1,
        ensure_all_finite=False,  # below, once per value of the series the windows view
        input_name="X",
        estimator=estimator_name,
    )
    check_finite(X, input_name="X", estimator_name=estimator_name)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"X must be 2D (n_windows, lookback * n_features), flattened windows, or "
            f"univariate ones) or 3D (n_windows, lookback, n_features); got {X.ndim}D with "
            f"shape {X.shape}"
        )
    if 0 in X.shape[1:]:
        raise ValueError(f"X has an empty window axis: shape {X.shape}")
    if names is not None and X.ndim == 3 and len(names) != X.shape[2]:
        raise ValueError(
            f"X names {len(names)} features ({list(names)}) but has {X.shape[2]}")
    return X, names


def check_finite(array, *, input_name, estimator_name):
    """Raise scikit-learn's error if ``array`` holds NaN or infinity.

    Windows made by :func:`~sklattn.make_windows` are strided views of one series, each
    value appearing in up to ``lookback`` windows; checking them value by value reads the
    series that many times (1.9 million reads for the 2785 ETTh1 test windows of 96 x 7
    steps, against 20,000 values in the span of memory they view). When that span is
    finite, so is every value the array views, so only the span is checked. When it is
    not (a NaN may lie between or outside the windows), the array itself is checked, for
    the exact verdict and scikit-learn's message.
    """
    span = _viewed_span(np.asarray(array))
    if span is not None and np.isfinite(span).all():
        return
    assert_all_finite(array, input_name=input_name, estimator_name=estimator_name)


def _viewed_span(array):
    """A 1D read-only view of the memory from ``array``'s first to its last value, when
    that span is smaller than the array (overlapping windows), else None.

    Every value of the array is one of the span's only when all strides are non-negative
    multiples of the item size.
    """
    item = array.itemsize
    if array.size == 0 or array.dtype.kind != "f" or any(
            s < 0 or s % item for s in array.strides):
        return None
    n = sum((length - 1) * stride for length, stride in zip(array.shape, array.strides))
    n = n // item + 1
    if n >= array.size:
        return None
    return as_strided(array, shape=(n,), strides=(item,), writeable=False)


def flat_feature_names(names, lookback):
    """Names of the columns of flattened windows: ``"OT[t-3]"``, ..., ``"OT[t]"``.

    A window (lookback, n_features) flattened in C order puts step ``j`` (0 = oldest) of
    feature ``f`` in column ``j * n_features + f``; ``t`` is the window's last step.
    """
    return np.asarray([f"{name}[t-{lookback - 1 - step}]" if step < lookback - 1
                       else f"{name}[t]"
                       for step in range(lookback) for name in names], dtype=object)


def window_feature_names(estimator):
    """The per-step feature names a fitted window estimator read, or None without names.

    Windows that carried names (``make_windows`` on a DataFrame) keep them; flattened
    windows whose columns were named as :func:`flat_feature_names` names them
    (``"OT[t-3]"``, ..., ``"OT[t]"``) give them back from ``feature_names_in_``.
    """
    names = getattr(estimator, "_window_feature_names", None)
    if names is not None:
        return [str(name) for name in names]
    flat = getattr(estimator, "feature_names_in_", None)
    lookback, n_features = estimator.window_shape_
    if flat is None or len(flat) != lookback * n_features:
        return None
    last = [str(name) for name in flat[-n_features:]]
    if not all(name.endswith("[t]") for name in last):
        return None
    names = [name[:-len("[t]")] for name in last]
    if list(flat) != list(flat_feature_names(names, lookback)):
        return None
    return names


def check_window_targets(y, n_windows, *, estimator_name="estimator"):
    """Validate targets and return them as (n, horizon, n_targets), without copying.

    Accepts y of shape (n,), (n, horizon) or (n, horizon, n_targets). Like
    :func:`check_windows`, float32 and float64 arrays are returned as views; other dtypes
    are converted to float32.

    Returns
    -------
    y3 : ndarray of shape (n, horizon, n_targets), float32 or float64
    target_shape : tuple
        ``y.shape[1:]``, the shape of one window's target; ``predict`` returns
        ``(n,) + target_shape``.
    """
    if y is None:
        raise ValueError(f"{estimator_name} requires y to be passed, but the target y is None")
    y = check_array(
        y,
        dtype=(np.float32, np.float64),
        ensure_2d=False,
        allow_nd=True,
        ensure_min_samples=1,
        ensure_all_finite=False,  # below, once per value of the series the windows view
        input_name="y",
        estimator=estimator_name,
    )
    check_finite(y, input_name="y", estimator_name=estimator_name)
    if y.ndim > 3:
        raise ValueError(
            f"y must be (n,), (n, horizon) or (n, horizon, n_targets); got shape {y.shape}"
        )
    if 0 in y.shape:
        raise ValueError(f"y has an empty axis: shape {y.shape}")
    check_consistent_length(np.empty((n_windows, 0)), y)
    y3 = y.reshape(y.shape + (1,) * (3 - y.ndim))  # adds axes: always a view
    return y3, y.shape[1:]


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def resolve_target_features(requested, carried, n_features, n_targets, *, x_names=None,
                            y_names=None):
    """Each target's position among the input features, or None where it is not one.

    In order of precedence: the estimator's ``target_features`` parameter; the positions
    ``y`` carries (``make_windows(..., targets=...)`` sets them); when ``y`` has as many
    targets per step as ``X`` has features, the features themselves in order (what
    ``make_windows(series)`` forecasts); otherwise no target is an input.

    Parameters
    ----------
    requested : sequence of (int or None) or None
        The ``target_features`` parameter.
    carried : array of int or None
        ``y.target_features``.
    n_features, n_targets : int
    x_names, y_names : array of str or None
        Column names of ``X`` and ``y``, used to check carried positions.

    Returns
    -------
    list of (int or None), one per target
    """
    if requested is not None:
        positions = list(requested)
        if len(positions) != n_targets:
            raise ValueError(
                f"target_features has {len(positions)} entries but y has {n_targets} "
                "target(s) per step; give one position (or None) per target")
        for p in positions:
            if p is not None and not _is_int(p):
                raise TypeError(
                    f"target_features entries must be ints (positions on X's feature axis) "
                    f"or None (not an input); got {p!r}")
        ints = [int(p) for p in positions if p is not None]
        if any(not 0 <= p < n_features for p in ints) or len(set(ints)) != len(ints):
            raise ValueError(
                f"target_features={positions} must be distinct positions in [0, {n_features}) "
                "or None")
        return [None if p is None else int(p) for p in positions]
    if carried is not None:
        carried = [int(p) for p in np.asarray(carried).ravel()]
        if len(carried) != n_targets:
            raise ValueError(
                f"y carries the positions of {len(carried)} target(s) (y.target_features, "
                f"from make_windows) but has {n_targets} target(s) per step; pass "
                "target_features=[...] or a plain array")
        if any(not 0 <= p < n_features for p in carried):
            raise ValueError(
                f"y.target_features={carried} are not positions among X's {n_features} "
                "features; were X's columns sliced after make_windows?")
        if x_names is not None and y_names is not None and len(y_names) == n_targets:
            expected = [str(x_names[p]) for p in carried]
            if expected != [str(n) for n in y_names]:
                raise ValueError(
                    f"y's targets {list(y_names)} are not X's features at positions "
                    f"{carried} ({expected}); window X and y from the same series")
        return carried
    if n_targets == n_features:
        return list(range(n_features))
    return [None] * n_targets


def check_target_units(X3, y3, positions, *, y_names=None):
    """Drop target positions whose values are not on the scale of their input feature.

    A target and its input feature are one quantity, so over all windows the target's
    first forecast step and the feature's last observed value (one step apart) have
    nearly the same mean and spread. When their spreads differ more than tenfold, or their
    means by more than the larger spread (``X`` rescaled, by a ``WindowScaler`` in a
    ``Pipeline`` say, but ``y`` not), anchoring the forecast on the feature's level would be
    silently wrong; such a target is treated as not an input.

    Parameters
    ----------
    X3 : ndarray (n, lookback, n_features)
    y3 : ndarray (n, horizon, n_targets)
    positions : list of (int or None)

    Returns
    -------
    positions : list of (int or None)
        With the mismatched entries set to None.
    mismatched : list of str
        One description per dropped target (empty when none was dropped).
    """
    checked, mismatched = list(positions), []
    for t, position in enumerate(positions):
        if position is None:
            continue
        x = np.asarray(X3[:, -1, position], dtype=np.float64)
        y = np.asarray(y3[:, 0, t], dtype=np.float64)
        spread = max(x.std(), y.std())
        scale_ok = spread == 0 or (min(x.std(), y.std()) * 10 >= spread)
        level_ok = abs(x.mean() - y.mean()) <= spread + 1e-12 * (1 + abs(x.mean()))
        if not (scale_ok and level_ok):
            name = f"{y_names[t]!r}" if y_names is not None else f"{t}"
            mismatched.append(
                f"target {name} (mean {y.mean():.4g}, std {y.std():.4g}) vs input feature "
                f"{position} (mean {x.mean():.4g}, std {x.std():.4g})")
            checked[t] = None
    return checked, mismatched
