"""sklattn: attention-based multivariate time-series forecasting as scikit-learn estimators."""

from ._dask import keep_windowed_arrays_in_dask
from .estimators import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
)
from .frames import attention_frame, forecast_frame
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
    "attention_frame",
    "forecast_frame",
    "load",
    "make_windows",
    "save",
]
__version__ = "0.1.0"

keep_windowed_arrays_in_dask()  # Dask would otherwise drop y's target positions
