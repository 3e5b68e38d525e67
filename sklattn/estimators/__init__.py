"""scikit-learn estimators."""

from .rnn import AttentionRNNRegressor

__all__ = ["AttentionRNNRegressor"]
