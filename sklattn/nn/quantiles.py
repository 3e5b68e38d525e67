"""Quantile forecasts: ordered offsets around a point forecaster, and the pinball loss."""

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["PinballLoss", "QuantileOffsets"]


def _inverse_softplus(x):
    return x + torch.log(-torch.expm1(-x))


class QuantileOffsets(nn.Module):
    """Turn a point forecaster into a forecaster of ordered quantiles.

    The wrapped forecaster's output is the median (level 0.5); every other level adds a
    learned offset per output (horizon step and target): above the median the offsets are
    cumulative sums of softplus terms, below it their negatives, so the quantiles are in
    increasing order by construction and never cross. The offsets live in the normalised
    units the forecaster works in: under RevIN-style window normalisation they are
    multiplied by each window's own spread when mapped back, so volatile windows get wider
    quantiles.

    Parameters
    ----------
    forecaster : nn.Module
        Maps (batch, lookback, n_features) to (batch, n_outputs); with
        ``return_attention=True`` it returns ``(forecast, weights)``.
    n_outputs : int
    levels : sequence of float
        Increasing quantile levels in (0, 1); must include 0.5.

    ``forward`` returns (batch, n_outputs * n_levels): for each output, its levels in
    increasing order (levels vary fastest).
    """

    def __init__(self, forecaster, n_outputs, levels):
        super().__init__()
        levels = [float(q) for q in levels]
        if 0.5 not in levels or levels != sorted(set(levels)):
            raise ValueError(f"levels must be increasing and include 0.5; got {levels}")
        self.forecaster = forecaster
        self.n_levels = len(levels)
        self.median_index = levels.index(0.5)
        normal = torch.distributions.Normal(0.0, 1.0)
        z = normal.icdf(torch.tensor(levels))
        gaps = torch.diff(z) * 0.5  # a start near a normal of std 0.5, in normalised units
        up = gaps[self.median_index:]
        down = gaps[:self.median_index].flip(0)  # nearest the median first
        self.raw_up = nn.Parameter(_inverse_softplus(up).repeat(n_outputs, 1))
        self.raw_down = nn.Parameter(_inverse_softplus(down).repeat(n_outputs, 1))

    def zero_output(self):
        """Zero the wrapped forecaster's median (the offsets stay)."""
        self.forecaster.zero_output()

    def forward(self, x, return_attention=False):
        if return_attention:
            median, weights = self.forecaster(x, return_attention=return_attention)
        else:
            median, weights = self.forecaster(x), None
        above = torch.cumsum(F.softplus(self.raw_up), dim=-1)  # (n_outputs, n_up)
        below = -torch.cumsum(F.softplus(self.raw_down), dim=-1).flip(-1)  # (n_outputs, n_down)
        offsets = torch.cat([below, above.new_zeros(len(above), 1), above], dim=-1)
        out = median.unsqueeze(-1) + offsets  # (B, n_outputs, n_levels)
        out = out.reshape(len(x), -1)
        return (out, weights) if return_attention else out


class PinballLoss(nn.Module):
    """Mean pinball (quantile) loss over every output and level.

    ``forward(y_pred, y_true)``: ``y_pred`` (batch, n_outputs * n_levels), levels fastest;
    ``y_true`` (batch, n_outputs).
    """

    def __init__(self, levels):
        super().__init__()
        self.register_buffer("levels", torch.tensor([float(q) for q in levels]))

    def forward(self, y_pred, y_true):
        quantiles = y_pred.view(len(y_pred), -1, len(self.levels))
        diff = y_true.view(len(y_true), -1, 1) - quantiles
        return torch.maximum(self.levels * diff, (self.levels - 1) * diff).mean()
