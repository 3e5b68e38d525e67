"""NaiveForecaster: the last observed value (or season) repeated, the first yardstick."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from ..base import WindowForecasterBase

__all__ = ["NaiveForecaster"]


class NaiveForecaster(WindowForecasterBase):
    """Forecast each target by repeating its last observed value, or its last season.

    Learns nothing but the shapes; it is here so that a comparison with a real model is
    one line. Each target must be one of the input features (``make_windows(...,
    targets=...)`` says which; see ``target_features``).

    Parameters
    ----------
    season_length : int or None, default=None
        None: every horizon step is the window's last value of the target. An int ``m``:
        step ``h`` (1-based) repeats the value ``m - ((h - 1) mod m)`` steps before the
        end of the window (seasonal naive); must not exceed the lookback.
    target_features : list of int or None, default=None
        Positions of the targets among ``X``'s features; by default read from ``y`` or
        inferred (see :class:`~sklattn.base.WindowForecasterBase`).
    lookback : int or None, default=None
        Only for fitting on 2D ``X`` of flattened multivariate windows: the steps per
        window, so that each row of ``lookback * n_features`` values is read as the
        C-order ravel of a (lookback, n_features) window. None: a 2D ``X`` in ``fit`` is
        univariate windows (n_windows, lookback). It does not cut windows (``make_windows``
        does); after ``fit``, 2D ``X`` is always read with the fitted window shape.
    validation_fraction : float in (0, 0.5], default=0.1
        The last windows of ``fit`` (this share, after a gap of ``lookback + horizon - 1``
        windows, as the neural estimators' early-stopping hold-out) calibrate
        :meth:`predict_interval`. Too few windows (under 50): no calibration.

    Attributes
    ----------
    n_features_in_, feature_names_in_, window_shape_, target_shape_, n_outputs_,
    target_features_, calibration_residuals_, calibration_spread_, spread_offset_
        As in :class:`~sklattn.AttentionRNNRegressor`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklattn import NaiveForecaster, make_windows
    >>> X, y = make_windows(np.arange(12.0), lookback=4, horizon=2)
    >>> NaiveForecaster().fit(X, y).predict(X[:2])[..., 0]
    array([[3., 3.],
           [4., 4.]], dtype=float32)
    >>> NaiveForecaster(season_length=2).fit(X, y).predict(X[:1])[..., 0]
    array([[2., 3.]], dtype=float32)
    """

    _parameter_constraints = {
        **WindowForecasterBase._parameter_constraints,
        "season_length": [Interval(Integral, 1, None, closed="left"), None],
    }

    _targets_can_be_non_inputs = False

    def __init__(self, season_length=None, *, target_features=None, lookback=None,
                 validation_fraction=0.1):
        self.season_length = season_length
        self.target_features = target_features
        self.lookback = lookback
        self.validation_fraction = validation_fraction

    def _fit_windows(self, X3, y3):
        lookback = self.window_shape_[0]
        if self.season_length is not None and self.season_length > lookback:
            raise ValueError(
                f"season_length={self.season_length} is longer than the windows "
                f"(lookback={lookback}; 2D X with {lookback} feature(s) per row is read as "
                "univariate windows of that length)")
        if any(t is None for t in self.target_features_):
            raise ValueError(
                "NaiveForecaster repeats each target's last value, so every target must be an "
                f"input feature; target_features_={self.target_features_}. Window X and y "
                "from one series with make_windows(series, ..., targets=...), or pass "
                "target_features=[...]")
        self._calibrate_on_holdout(X3, y3)

    def _steps_back(self):
        """For each horizon step, how many steps before the window's end it repeats."""
        horizon, _ = self._horizon_and_targets()
        if self.season_length is None:
            return np.ones(horizon, dtype=np.intp)
        m = self.season_length
        return m - np.arange(horizon) % m

    def _predict_windows(self, X3):
        lookback = self.window_shape_[0]
        steps = lookback - self._steps_back()  # (horizon,) positions in the window
        forecast = X3[:, steps][:, :, self.target_features_]  # (n, horizon, n_targets)
        return forecast.reshape(len(X3), -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # it learns nothing
        return tags
