"""Scaling of windowed arrays, for use as the first step of a Pipeline."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

__all__ = ["WindowScaler"]


class WindowScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise each feature of windowed ``X`` with statistics over all windows.

    3D ``X`` (n_windows, lookback, n_features): every feature gets its mean and standard
    deviation over all windows and steps (overlapping windows count a step once per window
    it is in). 2D ``X`` (n_windows, lookback) is one univariate feature. A constant
    feature is only centred.

    Parameters
    ----------
    with_mean : bool, default=True
    with_std : bool, default=True

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    scale_ : ndarray of shape (n_features,)
    n_features_in_ : int
        Columns of 2D ``X`` or the last axis of 3D ``X``.
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        """Compute per-feature mean and scale over all windows."""
        X, _ = self._check(X, reset=True)
        flat = X.reshape(-1, X.shape[-1])
        self.mean_ = flat.mean(axis=0) if self.with_mean else np.zeros(flat.shape[1])
        scale = flat.std(axis=0) if self.with_std else np.ones(flat.shape[1])
        self.scale_ = np.where(scale > np.finfo(scale.dtype).eps, scale, 1.0)
        return self

    def transform(self, X):
        """Scale ``X``; returns a new array of the same shape."""
        check_is_fitted(self)
        X3, shape = self._check(X, reset=False)
        return ((X3 - self.mean_) / self.scale_).astype(X3.dtype, copy=False).reshape(shape)

    def inverse_transform(self, X):
        """Undo :meth:`transform`."""
        check_is_fitted(self)
        X3, shape = self._check(X, reset=False)
        return (X3 * self.scale_ + self.mean_).astype(X3.dtype, copy=False).reshape(shape)

    def _check(self, X, *, reset):
        """``(X as 3D windows, X's own shape)``; 2D X becomes (n, lookback, 1)."""
        columns = X.columns if hasattr(X, "columns") else None
        X = check_array(X, allow_nd=True, dtype=[np.float64, np.float32], input_name="X",
                        estimator=self)
        if X.ndim not in (2, 3):
            raise ValueError(f"X must be 2D or 3D windows; got shape {X.shape}")
        n_columns = X.shape[1] if X.ndim == 2 else X.shape[2]
        # scikit-learn's checks of n_features_in_ and feature names, on the feature axis
        header = pd.DataFrame(columns=columns) if columns is not None else np.empty(
            (0, n_columns))
        validate_data(self, header, reset=reset, skip_check_array=True)
        return (X[:, :, None] if X.ndim == 2 else X), X.shape
