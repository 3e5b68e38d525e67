"""sklattn: attention-based multivariate time-series forecasting as scikit-learn estimators."""

from .estimators import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
)
from .persistence import load, save
from .preprocessing import WindowScaler
from .split import WindowTimeSeriesSplit
from .windows import WindowedArray, make_windows

__all__ = [
    "AttentionRNNRegressor",
    "LinearForecaster",
    "NaiveForecaster",
    "TransformerForecaster",
    "WindowScaler",
    "WindowTimeSeriesSplit",
    "WindowedArray",
    "load",
    "make_windows",
    "save",
]
__version__ = "0.1.0"
