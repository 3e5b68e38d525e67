"""Transformer forecasters whose tokens are time steps, patches or whole variates.

Attention is multi-head scaled dot-product self-attention with separate query, key and
value projections. The training/predict path calls
``torch.nn.functional.scaled_dot_product_attention`` (fused kernels, no weight matrix
kept); ``return_attention=True`` computes ``softmax(Q K^T / sqrt(d_head))`` explicitly.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .targets import TargetSelect, zero_layers

__all__ = ["MultiHeadSelfAttention", "TransformerEncoder", "WindowTransformer"]


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention over tokens of shape (batch, n_tokens, d_model)."""

    def __init__(self, d_model, n_heads, dropout=0.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.dropout = dropout
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, x):  # (B, N, D) -> (B, H, N, D/H)
        batch, n_tokens, d_model = x.shape
        return x.view(batch, n_tokens, self.n_heads, d_model // self.n_heads).transpose(1, 2)

    def forward(self, x, return_attention=False):
        """Return ``(output, weights)``; weights (B, H, N, N) only when asked, else None."""
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        weights = None
        if return_attention:
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            weights = torch.softmax(scores, dim=-1)
            mixed = F.dropout(weights, self.dropout, self.training) @ v
        else:
            mixed = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0)
        mixed = mixed.transpose(1, 2).reshape(x.shape)
        return self.out(mixed), weights


class EncoderLayer(nn.Module):
    """Pre-norm block: ``x + attn(norm(x))``, then ``x + ff(norm(x))``."""

    def __init__(self, d_model, n_heads, d_ff, dropout, attention_dropout=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attention = MultiHeadSelfAttention(d_model, n_heads, attention_dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout),
                                nn.Linear(d_ff, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, return_attention=False):
        mixed, weights = self.attention(self.norm1(x), return_attention)
        x = x + self.dropout(mixed)
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, weights


class TransformerEncoder(nn.Module):
    """A stack of encoder layers and a final norm; collects weights when asked."""

    def __init__(self, d_model, n_heads, n_layers, d_ff, dropout, attention_dropout=0.0):
        super().__init__()
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, n_heads, d_ff, dropout, attention_dropout)
            for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x, return_attention=False):
        """Return ``(encoded, weights)``. ``return_attention``: False (weights None), True
        (every layer's, stacked: (B, layers, H, N, N)) or a sequence of layer indices
        (those layers', in that order: (B, len, H, N, N)); only the named layers form
        their weights explicitly, the others take the fused kernel."""
        wanted = _layer_indices(return_attention, len(self.layers))
        found = {}
        for i, layer in enumerate(self.layers):
            x, weights = layer(x, i in wanted)
            if i in wanted:
                found[i] = weights
        if not wanted:
            return self.norm(x), None
        return self.norm(x), torch.stack([found[i] for i in wanted], dim=1)


def _layer_indices(return_attention, n_layers):
    """The layers whose weights ``return_attention`` asks for, as non-negative indices."""
    if return_attention is False or return_attention is None:
        return []
    if return_attention is True:
        return list(range(n_layers))
    indices = [int(i) for i in return_attention]
    if any(not -n_layers <= i < n_layers for i in indices):
        raise IndexError(f"layers {indices} are out of range for {n_layers} layers")
    return [i % n_layers for i in indices]


def n_patches(lookback, patch_len, stride):
    """Patches per channel: the window padded by ``stride`` steps, then unfolded."""
    return (lookback + stride - patch_len) // stride + 1


class WindowTransformer(nn.Module):
    """Encode a window (batch, lookback, n_features) and forecast (batch, horizon, n_targets).

    Parameters
    ----------
    n_features, lookback, horizon : int
    target_features : sequence of (int or None)
        Each target's position among the input features (None: not an input, forecast
        from a learned mix of every channel). Features that are not targets are inputs
        only (exogenous).
    tokens : {"timestep", "patch", "variate"}
        "timestep": one token per step (all features projected to d_model), learned
        positions, flatten head. "patch" (PatchTST): each feature on its own, cut into
        patches of ``patch_len`` every ``stride`` steps, one shared encoder, a flatten
        head per channel. "variate" (iTransformer): each feature's whole window is one
        token, attention across features, a linear head per token.
    d_model, n_heads, n_layers, d_ff, dropout
    attention_dropout : float
        Dropout on the attention weights (``dropout`` acts on the residual branches and
        the head). Above 0 a CPU cannot use its fused attention kernel in training.
    patch_len, stride : int
        Patch tokens only.
    skip : nn.Module or None
        A module mapping the window to (batch, horizon * n_targets) whose output is added
        to the head's (a linear forecast, as TiDE's global residual or LSTNet's
        highway); the head then starts at zero, so the untrained model is that forecast.

    Notes
    -----
    Windows are expected normalised already: wrap the module in
    :class:`~sklattn.nn.normalization.WindowNormalization` (the estimators do).
    """

    def __init__(self, n_features, lookback, horizon, target_features, *, tokens="patch",
                 d_model=16, n_heads=4, n_layers=3, d_ff=128, dropout=0.1,
                 attention_dropout=0.0, patch_len=16, stride=8, skip=None):
        super().__init__()
        self.skip = skip
        self.tokens = tokens
        self.horizon = horizon
        self.encoder = TransformerEncoder(d_model, n_heads, n_layers, d_ff, dropout,
                                          attention_dropout)
        self.dropout = nn.Dropout(dropout)
        n_targets = len(target_features)
        if tokens == "timestep":
            self.embed = nn.Linear(n_features, d_model)
            self.position = nn.Parameter(0.02 * torch.randn(lookback, d_model))
            self.head = nn.Linear(lookback * d_model, horizon * n_targets)
        elif tokens == "patch":
            self.patch_len, self.stride = patch_len, stride
            count = n_patches(lookback, patch_len, stride)
            self.embed = nn.Linear(patch_len, d_model)
            self.position = nn.Parameter(0.02 * torch.randn(count, d_model))
            self.head = nn.Linear(count * d_model, horizon)
        elif tokens == "variate":
            self.embed = nn.Linear(lookback, d_model)
            self.head = nn.Linear(d_model, horizon)
        else:
            raise ValueError(f"unknown tokens {tokens!r}")
        self.select = None if tokens == "timestep" else TargetSelect(n_features, target_features)
        if skip is not None:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def _tokens(self, x):
        """(B, L, F) -> tokens (B', N, d_model)."""
        if self.tokens == "timestep":
            return self.embed(x) + self.position
        if self.tokens == "patch":
            series = x.transpose(1, 2)  # (B, F, L)
            series = F.pad(series, (0, self.stride), mode="replicate")
            patches = series.unfold(-1, self.patch_len, self.stride)  # (B, F, P, patch_len)
            batch, n_features, count, _ = patches.shape
            tokens = self.embed(patches) + self.position
            return tokens.reshape(batch * n_features, count, -1)
        return self.embed(x.transpose(1, 2))  # variate: (B, F, d_model)

    def _head(self, encoded, batch):
        """Encoded tokens -> forecast (B, horizon, n_targets) in normalised units."""
        if self.tokens == "timestep":
            out = self.head(self.dropout(encoded.flatten(1)))
            return out.view(batch, self.horizon, -1)
        if self.tokens == "patch":
            encoded = encoded.reshape(batch, -1, encoded.shape[1] * encoded.shape[2])
        out = self.head(self.dropout(encoded))  # (B, F, horizon)
        return self.select(out.transpose(1, 2))

    def zero_output(self):
        """Zero the head (and the skip's maps): the forecast is then 0 for every window."""
        zero_layers(self.output_layers())

    def output_layers(self):
        """The layers :meth:`zero_output` zeroes: the head, the target mix, the skip's."""
        layers = [self.head]
        if self.select is not None:
            layers += self.select.output_layers()
        return layers + ([] if self.skip is None else self.skip.output_layers())

    def forward(self, x, return_attention=False):
        batch = x.shape[0]
        encoded, weights = self.encoder(self._tokens(x), return_attention)
        out = self._head(encoded, batch).reshape(batch, -1)
        if self.skip is not None:
            out = out + self.skip(x)
        if return_attention:
            if self.tokens == "patch":  # (B*F, layers, H, P, P) -> (B, F, layers, H, P, P)
                weights = weights.reshape(batch, -1, *weights.shape[1:])
            return out, weights
        return out
