"""Forecast intervals of a fitted forecaster: calibration and ``predict_interval``.

:class:`ConformalIntervalsMixin` stores the forecast errors of calibration windows (the
hold-out ``fit`` keeps back, or windows given to ``calibrate``) and turns them into
split-conformal bounds with the scores of :mod:`sklattn.conformal`. It uses what
:class:`~sklattn.base.WindowForecasterBase` provides: ``_validate_X``,
``_predict_windows``, ``_check_targets_like_fit``, ``_holdout_size``,
``_horizon_and_targets`` and the fitted ``target_features_`` and ``target_shape_``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .conformal import (
    MAX_CALIBRATION_WINDOWS,
    SCORES,
    SPREAD_OFFSET,
    conformal_quantile,
    window_spread,
)

__all__ = ["ConformalIntervalsMixin"]

# Calibration forecasts this many windows at a time: its working memory stays a small part
# of fit's (at 1024 windows of 512 x 7 steps, one inference batch took ~140 MB).
_CALIBRATION_CHUNK = 128
_CALIBRATION_ATTRIBUTES = ("calibration_residuals_", "calibration_spread_", "spread_offset_")


class ConformalIntervalsMixin:
    """Split-conformal intervals for a window forecaster (see the module docstring).

    Fitted attributes, set once the estimator is calibrated: ``calibration_residuals_``,
    ``calibration_spread_`` and ``spread_offset_`` (described on
    :class:`~sklattn.base.WindowForecasterBase`).
    """

    # -- calibration ---------------------------------------------------------------------

    def _forget_calibration(self):
        """Drop a previous fit's calibration."""
        for name in _CALIBRATION_ATTRIBUTES:
            self.__dict__.pop(name, None)

    def _calibrate_windows(self, X3, y3):
        """Store the forecast errors and spreads of calibration windows (never ones the
        model was trained on).

        At most ``MAX_CALIBRATION_WINDOWS`` windows, evenly spaced (a strided view, so
        nothing is copied whole); errors are computed a chunk of windows at a time.
        """
        horizon, n_targets = self._horizon_and_targets()
        step = -(-len(X3) // MAX_CALIBRATION_WINDOWS)
        X3, y3 = X3[::step], y3[::step]
        residuals = np.empty((len(X3), horizon, n_targets), dtype=np.float32)
        for start in range(0, len(X3), _CALIBRATION_CHUNK):
            chunk = slice(start, start + _CALIBRATION_CHUNK)
            forecast = np.asarray(self._predict_windows(X3[chunk]))
            forecast = forecast.reshape(-1, horizon, n_targets)
            np.abs(y3[chunk] - forecast, out=forecast)
            residuals[chunk] = forecast
        spread = window_spread(X3, self.target_features_)
        self.spread_offset_ = SPREAD_OFFSET * np.median(spread, axis=0)
        self.spread_offset_[self.spread_offset_ <= 0] = 1.0
        self.calibration_residuals_ = residuals
        self.calibration_spread_ = spread.astype(np.float32)

    def _calibrate_on_holdout(self, X3, y3):
        """Calibrate on the windows ``fit`` holds out at the end, when there are enough."""
        n_holdout = self._holdout_size(len(X3))
        if n_holdout is not None:
            self._calibrate_windows(X3[-n_holdout:], y3[-n_holdout:])

    # -- public API ----------------------------------------------------------------------

    def calibrate(self, X, y):
        """Calibrate :meth:`predict_interval` on windows the model was not trained on.

        ``fit`` already calibrates on its hold-out windows (the last
        ``validation_fraction`` of the windows, after a gap of ``lookback + horizon - 1``
        windows, so that none of their steps was seen in training) when there are enough
        of them. Call this to calibrate on other windows instead, e.g. a validation period
        that follows the training data. The previous calibration is replaced.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback, n_features) or 2D flattened windows
        y : array-like shaped like the ``y`` of ``fit``
            What follows each window. None of these windows should have been trained on:
            the intervals would then be too narrow.

        Returns
        -------
        self
        """
        X3 = self._validate_X(X, reset=False)
        self._calibrate_windows(X3, self._check_targets_like_fit(X3, y))
        return self

    def predict_interval(self, X, coverage=0.9, score="scaled"):
        """Split-conformal forecast intervals, per horizon step and target.

        For each horizon step and target, the forecast errors on the calibration windows
        (see :meth:`calibrate`) give a width that at least ``coverage`` of them stay
        within; each new forecast is widened by it on both sides. Over windows that
        behave like the calibration windows, the interval holds the true value with
        probability at least ``coverage``; the promise weakens when the series changes
        between the calibration windows and the new ones (see the docs, "Forecast
        intervals").

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback, n_features) or 2D flattened windows
        coverage : float in (0, 1), default=0.9
            The share of true values the intervals should hold.
        score : {"scaled", "absolute"}, default="scaled"
            "scaled": errors are divided by each window's spread of the target (the std
            of its values in the window) plus a tenth of the calibration windows' median
            spread, and the width is multiplied by it: volatile windows get wider
            intervals. "absolute": the width is the same for every window. "scaled" is
            the default because it held its coverage on the benchmark test periods,
            whose volatility differs from the calibration period's, where "absolute"
            over- or under-covered (see the docs, "Forecast intervals").

        Returns
        -------
        lower, upper : ndarray, each shaped like ``predict(X)`` and of its dtype
            ``lower <= predict(X) <= upper``.

        Raises
        ------
        ValueError
            The estimator has no calibration (``fit`` had too few windows for a hold-out,
            or ``early_stopping=False``: call :meth:`calibrate`), or too few calibration
            windows for ``coverage``.
        """
        check_is_fitted(self)
        if score not in SCORES:
            raise ValueError(f"score must be one of {list(SCORES)}; got {score!r}")
        if not hasattr(self, "calibration_residuals_"):
            raise ValueError(
                f"{type(self).__name__} is not calibrated: fit found no hold-out windows "
                "to calibrate on (too few windows, or early_stopping=False). Call "
                "calibrate(X_cal, y_cal) with windows that were not trained on.")
        residuals = self.calibration_residuals_.astype(np.float64)
        X3 = self._validate_X(X, reset=False)
        forecast = np.asarray(self._predict_windows(X3))
        dtype = forecast.dtype  # predict's: the bounds come back in it
        forecast = forecast.astype(np.float64).reshape((len(X3),) + tuple(self.target_shape_))
        if score == "absolute":
            width = conformal_quantile(residuals, coverage)[None]  # (1, horizon, n_targets)
        else:
            spread = self.calibration_spread_ + self.spread_offset_
            quantile = conformal_quantile(residuals / spread[:, None, :], coverage)
            new_spread = window_spread(X3, self.target_features_) + self.spread_offset_
            width = quantile[None] * new_spread[:, None, :]  # (n, horizon, n_targets)
        width = width.reshape((len(width),) + tuple(self.target_shape_))
        return (forecast - width).astype(dtype), (forecast + width).astype(dtype)
