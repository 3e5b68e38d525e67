"""The contract every sklattn forecaster shares: windows in, forecasts shaped like y out.

:class:`WindowForecasterBase` validates windows and targets, learns which input features
the targets are, and reshapes forecasts; it knows nothing of torch. Subclasses implement
``_fit_windows`` and ``_predict_windows``. Forecast intervals (``calibrate``,
``predict_interval``) come from :class:`~sklattn.intervals.ConformalIntervalsMixin`.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import (
    check_target_units,
    check_window_targets,
    check_windows,
    flat_feature_names,
    resolve_target_features,
)
from .intervals import ConformalIntervalsMixin
from .split import TemporalValidationSplit

__all__ = ["WindowForecasterBase"]

class WindowForecasterBase(ConformalIntervalsMixin, RegressorMixin, BaseEstimator):
    """Shared behaviour of sklattn's forecasters. Not used directly.

    ``fit(X, y)`` validates the windows and targets, sets the fitted attributes below and
    calls ``_fit_windows(X3, y3)`` with windows (n, lookback, n_features) and targets
    (n, horizon, n_targets), both float32 or float64 and possibly strided views of the
    caller's arrays (never copied whole: cast them a batch at a time, never write to
    them). ``predict`` calls ``_predict_windows(X3)``, which returns
    (n, horizon * n_targets), and returns the shape ``y`` had in fit.

    Shared parameters
    -----------------
    lookback : int or None
        How to read 2D ``X`` in ``fit``: rows of ``lookback * n_features`` flattened
        window values; None reads a 2D ``X`` as univariate windows.
    target_features : list of (int or None) or None
        Each target's position on ``X``'s feature axis (None: not an input). Default:
        what ``y`` carries from ``make_windows(..., targets=...)``; else, when ``y`` has
        one target per input feature, the features in order; else no target is an input.

    Fitted attributes
    -----------------
    n_features_in_ : int
        ``lookback * n_features``, the columns of the flattened windows.
    feature_names_in_ : ndarray of str
        Names of the flattened columns (``"OT[t-3]"``), when known.
    window_shape_ : tuple
        ``(lookback, n_features)``.
    target_shape_ : tuple
        Shape of one window's ``y`` in fit.
    n_outputs_ : int
        ``horizon * n_targets``.
    target_features_ : list of (int or None)
        The resolved target positions.
    target_names_ : ndarray of str
        The targets' names: from ``y`` (``make_windows(..., targets=...)``), else the
        input features' names at ``target_features_``, else ``"target_0"``, ...
    calibration_residuals_ : ndarray of shape (n_calibration, horizon, n_targets), float32
        Absolute forecast errors on the calibration windows (see :meth:`predict_interval`);
        absent until the estimator is calibrated.
    calibration_spread_ : ndarray of shape (n_calibration, n_targets), float32
        Each calibration window's spread of each target (the scaled score's divisor).
    spread_offset_ : ndarray of shape (n_targets,)
        What the scaled score adds to each window's spread (a tenth of the calibration
        windows' median spread).
    """

    _parameter_constraints = {
        "target_features": [list, tuple, None],
        "lookback": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 0.5, closed="right")],
    }

    # Whether the estimator can forecast a target that is not an input feature.
    _targets_can_be_non_inputs = True

    # -- what a subclass provides ------------------------------------------------------

    def _fit_windows(self, X3, y3):
        raise NotImplementedError

    def _predict_windows(self, X3):
        raise NotImplementedError

    # -- validation ----------------------------------------------------------------------

    def _validate_X(self, X, *, reset):
        """Validate windows; return them as float (n, lookback, n_features), uncopied.

        3D ``X`` is windows. 2D ``X`` is flattened windows, each row the C-order ravel of
        one (lookback, n_features) window: in ``fit`` ``lookback`` comes from the
        parameter (None: the row is one univariate window), after ``fit`` from the
        fitted window shape. ``n_features_in_`` and ``feature_names_in_`` describe the
        flattened view, so a 2D client of scikit-learn can build valid rows from them.
        """
        name = type(self).__name__
        if not reset:
            check_is_fitted(self)
        Xv, names = check_windows(X, estimator_name=name)
        if reset:
            self._window_feature_names = None
        if Xv.ndim == 3:
            X3 = Xv
            if reset and self.lookback is not None and X3.shape[1] != self.lookback:
                raise ValueError(
                    f"X has windows of {X3.shape[1]} steps but lookback={self.lookback}; "
                    "the lookback parameter only says how to read 2D (flattened) X")
            if not reset:
                self._check_window_shape(X3)
                fitted = getattr(self, "_window_feature_names", None)
                if (names is not None and fitted is not None and len(names) == len(fitted)
                        and all(str(a) == str(b) for a, b in zip(names, fitted))):
                    # The per-step names are the fitted ones and the window shape was just
                    # checked: what validate_data would check on the flattened names
                    # (lookback * n_features of them, about 1.5 ms for ETTh1's windows).
                    return X3
            column_names = None if names is None else flat_feature_names(names, X3.shape[1])
            if reset:
                self._window_feature_names = (None if names is None
                                              else np.asarray(names, dtype=object))
        else:
            if reset:
                lookback = Xv.shape[1] if self.lookback is None else self.lookback
                if Xv.shape[1] % lookback:
                    raise ValueError(
                        f"2D X has {Xv.shape[1]} columns, not a multiple of "
                        f"lookback={lookback}: each row must be one flattened window of "
                        "lookback * n_features values")
                n_features = Xv.shape[1] // lookback
            else:
                lookback, n_features = self.window_shape_
            if isinstance(names, pd.Index):
                column_names = names
            elif names is not None and len(names) == 1 and n_features == 1:
                column_names = flat_feature_names(names, Xv.shape[1])  # univariate form
            else:
                column_names = None
            X3 = Xv
            if Xv.shape[1] == lookback * n_features:
                X3 = Xv.reshape(len(Xv), lookback, n_features)  # a view of C-order rows
        # scikit-learn's own checks of n_features_in_ / feature_names_in_, on the flat view.
        n_columns = X3.shape[1] * X3.shape[2] if X3.ndim == 3 else Xv.shape[1]
        header = np.empty((0, n_columns))
        if column_names is not None:
            header = pd.DataFrame(header, columns=column_names)
        validate_data(self, header, reset=reset, skip_check_array=True)
        if reset:
            self.window_shape_ = X3.shape[1:]
        return X3

    def _check_window_shape(self, X3):
        lookback, n_features = self.window_shape_
        name = type(self).__name__
        if X3.shape[2] != n_features:
            raise ValueError(
                f"X has {X3.shape[2]} features per step, but {name} is expecting "
                f"{n_features} features per step as input.")
        if X3.shape[1] != lookback:
            raise ValueError(
                f"X has windows of lookback={X3.shape[1]} steps, but {name} was fitted "
                f"on lookback={lookback}.")

    def _validate_targets(self, X, X3, y):
        """Check y against the windows; set the target attributes; return y as
        (n, horizon, n_targets)."""
        carried = getattr(y, "target_features", None)
        y_names = getattr(y, "feature_names", None)
        y3, self.target_shape_ = check_window_targets(
            y, len(X3), estimator_name=type(self).__name__)
        self.n_outputs_ = y3.shape[1] * y3.shape[2]
        _, n_targets = self._horizon_and_targets()
        positions = resolve_target_features(
            self.target_features, carried, self.window_shape_[1], n_targets,
            x_names=getattr(X, "feature_names", None), y_names=y_names)
        if self.target_features is None:  # an explicit choice is the user's to make
            checked, mismatched = check_target_units(X3, y3, positions, y_names=y_names)
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
        self.target_names_ = self._target_names(positions, y_names)
        return y3

    def _target_names(self, positions, y_names):
        if y_names is not None and len(y_names) == len(positions):
            return np.asarray([str(name) for name in y_names], dtype=object)
        x_names = self._window_feature_names
        return np.asarray([str(x_names[t]) if t is not None and x_names is not None
                           else f"target_{i}" for i, t in enumerate(positions)], dtype=object)

    def _check_targets_like_fit(self, X3, y):
        y3, shape = check_window_targets(y, len(X3), estimator_name=type(self).__name__)
        if tuple(shape) != tuple(self.target_shape_):
            raise ValueError(
                f"y has windows of shape {tuple(shape)}, but {type(self).__name__} was "
                f"fitted on targets of shape {tuple(self.target_shape_)}")
        return y3

    def _holdout_split(self):
        """The hold-out: the last ``validation_fraction`` of the windows, after a gap of
        ``lookback + horizon - 1`` windows (no step shared with a training window)."""
        horizon, _ = self._horizon_and_targets()
        return TemporalValidationSplit(self.validation_fraction,
                                       self.window_shape_[0] + horizon - 1)

    def _holdout_size(self, n_windows):
        """Windows at the end held out from training (after the leakage gap), or None."""
        sizes = self._holdout_split().sizes(n_windows)
        return None if sizes is None else sizes[1]

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
        y3 = self._validate_targets(X, X3, y)
        self._forget_calibration()  # a refit's calibration is its own
        self._fit_windows(X3, y3)
        return self

    def predict(self, X):
        """Forecast for each window.

        Returns
        -------
        y_pred : ndarray of shape (n_windows,) + the shape of one window's ``y`` in fit
            The windows' dtype after validation: float32 for float32 (and integer)
            windows, float64 for float64 windows, as scikit-learn's linear models keep
            float32. The networks compute in float32, so a float64 copy of their
            forecast would add memory and time but no precision.
        """
        X3 = self._validate_X(X, reset=False)
        y2 = np.asarray(self._predict_windows(X3))
        return y2.reshape((len(X3),) + tuple(self.target_shape_))  # a view: one output

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
