"""scikit-learn estimators."""

from .linear import LinearForecaster
from .naive import NaiveForecaster
from .rnn import AttentionRNNRegressor
from .transformer import TransformerForecaster

__all__ = ["AttentionRNNRegressor", "LinearForecaster", "NaiveForecaster",
           "TransformerForecaster"]
