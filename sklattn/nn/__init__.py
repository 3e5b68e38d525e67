"""PyTorch modules: no scikit-learn, no skorch, no files."""

from .attention import AdditiveScore, DotScore, GeneralScore, attention_pool, make_score
from .rnn import AttentionRNN

__all__ = ["AdditiveScore", "AttentionRNN", "DotScore", "GeneralScore", "attention_pool",
           "make_score"]
