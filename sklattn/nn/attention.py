"""Attention over a sequence of value vectors, from one lookup vector.

``p = softmax(score(v_i, u))`` and ``c = sum_i p_i v_i``: each score module maps values
``v`` of shape (batch, steps, hidden) and a lookup ``u`` of shape (batch, hidden) to
scores of shape (batch, steps); :func:`attention_pool` turns scores into weights and the
context vector.
"""

import torch
from torch import nn

__all__ = ["AdditiveScore", "DotScore", "GeneralScore", "attention_pool", "make_score"]


class DotScore(nn.Module):
    """Luong's dot score, ``v_i · u``. No parameters."""

    def forward(self, values, lookup):
        return torch.einsum("bth,bh->bt", values, lookup)


class GeneralScore(nn.Module):
    """Luong's general score, ``v_i · W u``."""

    def __init__(self, hidden_size):
        super().__init__()
        self.W = nn.Linear(hidden_size, hidden_size, bias=False)

    def forward(self, values, lookup):
        return torch.einsum("bth,bh->bt", values, self.W(lookup))


class AdditiveScore(nn.Module):
    """Bahdanau's additive score, ``q · tanh(W1 v_i + W2 u)``."""

    def __init__(self, hidden_size, attention_size=None):
        super().__init__()
        attention_size = attention_size or hidden_size
        self.W1 = nn.Linear(hidden_size, attention_size, bias=False)
        self.W2 = nn.Linear(hidden_size, attention_size)
        self.q = nn.Linear(attention_size, 1, bias=False)

    def forward(self, values, lookup):
        return self.q(torch.tanh(self.W1(values) + self.W2(lookup)[:, None, :])).squeeze(-1)


_SCORES = {"dot": DotScore, "general": GeneralScore, "additive": AdditiveScore}


def make_score(name, hidden_size):
    """Return the score module called ``name`` ("dot", "general" or "additive")."""
    if name not in _SCORES:
        raise ValueError(f"unknown attention score {name!r}; expected one of {sorted(_SCORES)}")
    return DotScore() if name == "dot" else _SCORES[name](hidden_size)


def attention_pool(scores, values):
    """Weights ``p = softmax(scores)`` and context ``c = sum_i p_i v_i``.

    Parameters
    ----------
    scores : Tensor of shape (batch, steps)
    values : Tensor of shape (batch, steps, hidden)

    Returns
    -------
    context : Tensor of shape (batch, hidden)
    weights : Tensor of shape (batch, steps)
    """
    weights = torch.softmax(scores, dim=-1)
    context = torch.einsum("bt,bth->bh", weights, values)
    return context, weights
