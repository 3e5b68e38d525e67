"""The contract every sklattn forecaster shares: windows in, forecasts shaped like y out.

:class:`WindowForecasterBase` validates windows and targets, learns which input features
the targets are, and reshapes forecasts; it knows nothing of torch. Subclasses implement
``_fit_windows`` and ``_predict_windows``.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from ._validation import (
    check_target_units,
    check_window_targets,
    check_windows,
    resolve_target_features,
)

__all__ = ["WindowForecasterBase"]


class WindowForecasterBase(RegressorMixin, BaseEstimator):
    """Shared behaviour of sklattn's forecasters. Not used directly.

    ``fit(X, y)`` validates the windows and targets, sets the fitted attributes below and
    calls ``_fit_windows(X3, y2)`` with float32 windows (n, lookback, n_features) and
    targets flattened to (n, horizon * n_targets). ``predict`` calls
    ``_predict_windows(X3)`` and returns the shape ``y`` had in fit.

    Shared parameter
    ----------------
    target_features : list of (int or None) or None
        Each target's position on ``X``'s feature axis (None: not an input). Default:
        what ``y`` carries from ``make_windows(..., targets=...)``; else, when ``y`` has
        one target per input feature, the features in order; else no target is an input.

    Fitted attributes
    -----------------
    n_features_in_, feature_names_in_, window_shape_ : as documented on each estimator
    target_shape_ : tuple
        Shape of one window's ``y`` in fit.
    n_outputs_ : int
        ``horizon * n_targets``.
    target_features_ : list of (int or None)
        The resolved target positions.
    """

    _parameter_constraints = {"target_features": [list, tuple, None]}

    # Whether the estimator can forecast a target that is not an input feature.
    _targets_can_be_non_inputs = True

    # -- what a subclass provides ------------------------------------------------------

    def _fit_windows(self, X3, y2):
        raise NotImplementedError

    def _predict_windows(self, X3):
        raise NotImplementedError

    # -- validation ----------------------------------------------------------------------

    def _validate_X(self, X, *, reset):
        name = type(self).__name__
        if not reset:
            check_is_fitted(self)
        X3, names, ndim = check_windows(X, estimator_name=name)
        if names is not None and ndim == 3 and len(names) != X3.shape[2]:
            raise ValueError(
                f"X names {len(names)} features ({list(names)}) but has {X3.shape[2]}")
        # sklearn's own name checks, fed the column names whatever X's rank.
        header = None if names is None else pd.DataFrame(columns=names)
        _check_feature_names(self, header, reset=reset)
        n_columns = X3.shape[1] if ndim == 2 else X3.shape[2]
        if reset:
            self.n_features_in_ = n_columns
            self.window_shape_ = X3.shape[1:]
            return X3
        lookback, n_features = self.window_shape_
        if X3.shape[2] != n_features:
            raise ValueError(
                f"X has {X3.shape[2]} features, but {name} is expecting {n_features} "
                "features as input."
            )
        if X3.shape[1] != lookback:
            if ndim == 2 and n_features == 1:
                raise ValueError(
                    f"X has {X3.shape[1]} features, but {name} is expecting "
                    f"{lookback} features as input."
                )
            raise ValueError(
                f"X has windows of lookback={X3.shape[1]} steps, but {name} was fitted "
                f"on lookback={lookback}."
            )
        return X3

    def _validate_targets(self, X, X3, y):
        """Check y against the windows; set the target attributes; return y flattened."""
        carried = getattr(y, "target_features", None)
        y_names = getattr(y, "feature_names", None)
        y2, self.target_shape_ = check_window_targets(
            y, len(X3), estimator_name=type(self).__name__)
        self.n_outputs_ = y2.shape[1]
        _, n_targets = self._horizon_and_targets()
        positions = resolve_target_features(
            self.target_features, carried, self.window_shape_[1], n_targets,
            x_names=getattr(X, "feature_names", None), y_names=y_names)
        if self.target_features is None:  # an explicit choice is the user's to make
            horizon, _ = self._horizon_and_targets()
            checked, mismatched = check_target_units(
                X3, y2.reshape(len(y2), horizon, n_targets), positions, y_names=y_names)
            if mismatched:
                action = ("so those targets are treated as not inputs (forecast in "
                          "standardised units of y)" if self._targets_can_be_non_inputs
                          else "so its forecasts, which repeat X's values, will be off")
                warnings.warn(
                    f"{type(self).__name__}: y is not on the scale of the input features it "
                    f"forecasts ({'; '.join(mismatched)}), {action}. Was X rescaled (e.g. "
                    "by WindowScaler in a Pipeline) but not y? Scale y the same way, drop the "
                    "scaler (windows are normalised anyway), or pass target_features=[...].",
                    UserWarning, stacklevel=3)
                if self._targets_can_be_non_inputs:
                    positions = checked
        self.target_features_ = positions
        return y2

    def _horizon_and_targets(self):
        """``(horizon, n_targets)`` of the fitted y: (n,) is one step of one target."""
        shape = tuple(self.target_shape_) + (1, 1)
        return shape[0], shape[1]

    # -- public API ----------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the forecaster on windows.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback, n_features) or (n_windows, lookback)
            Input windows (2D is read as univariate windows).
        y : array-like of shape (n_windows,), (n_windows, horizon) or
            (n_windows, horizon, n_targets)
            What follows each window. ``y`` from ``make_windows`` also tells the
            estimator which input features the targets are.

        Returns
        -------
        self
        """
        X3 = self._validate_X(X, reset=True)
        y2 = self._validate_targets(X, X3, y)
        self._fit_windows(X3, y2)
        return self

    def predict(self, X):
        """Forecast for each window.

        Returns
        -------
        y_pred : ndarray of shape (n_windows,) + the shape of one window's ``y`` in fit
        """
        X3 = self._validate_X(X, reset=False)
        y2 = np.asarray(self._predict_windows(X3), dtype=np.float64)
        return y2.reshape((len(X3),) + tuple(self.target_shape_))

    def score(self, X, y, sample_weight=None):
        """R² of the forecast, averaged uniformly over every (horizon step, target)."""
        y_pred = self.predict(X)
        y_pred = y_pred.reshape(len(y_pred), -1)
        y_true = np.asarray(y, dtype=np.float64).reshape(len(y_pred), -1)
        return r2_score(y_true, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        tags.target_tags.required = True
        return tags
