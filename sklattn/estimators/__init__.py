"""scikit-learn estimators."""

from .rnn import AttentionRNNRegressor
from .transformer import TransformerForecaster

__all__ = ["AttentionRNNRegressor", "TransformerForecaster"]
