"""Reversible instance normalisation (RevIN, Kim et al., ICLR 2022)."""

import torch
from torch import nn

__all__ = ["RevIN"]


class RevIN(nn.Module):
    """Normalise each window by its own per-channel mean and std, and undo it on outputs.

    ``normalize(x)`` takes x of shape (batch, steps, channels) and remembers the
    statistics; ``denormalize(y, channels)`` maps outputs of shape
    (batch, steps, len(channels)) back to the scale of those input channels.

    Parameters
    ----------
    n_channels : int
    affine : bool, default=True
        Learn a per-channel scale and shift applied after normalising (and undone first).
    eps : float, default=1e-5
    """

    def __init__(self, n_channels, affine=True, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(n_channels))
            self.bias = nn.Parameter(torch.zeros(n_channels))

    def normalize(self, x):
        self.mean = x.mean(dim=1, keepdim=True).detach()
        self.std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + self.eps).detach()
        x = (x - self.mean) / self.std
        return x * self.weight + self.bias if self.affine else x

    def denormalize(self, y, channels=None):
        channels = slice(None) if channels is None else channels
        if self.affine:
            y = (y - self.bias[channels]) / (self.weight[channels] + self.eps**2)
        return y * self.std[..., channels] + self.mean[..., channels]
