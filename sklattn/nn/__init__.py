"""PyTorch modules: no scikit-learn, no skorch, no files."""

from .attention import AdditiveScore, DotScore, GeneralScore, attention_pool, make_score
from .linear import LeastSquares, WindowLinear
from .normalization import WindowNormalization
from .rnn import AttentionRNN
from .targets import TargetSelect
from .transformer import WindowTransformer

__all__ = ["AdditiveScore", "AttentionRNN", "DotScore", "GeneralScore", "LeastSquares",
           "TargetSelect", "WindowLinear", "WindowNormalization", "WindowTransformer",
           "attention_pool", "make_score"]
