"""QuantileOffsets never lets quantiles cross; PinballLoss is the pinball loss."""

import pytest
import torch
from torch import nn

from sklattn.nn.normalization import WindowNormalization
from sklattn.nn.quantiles import PinballLoss, QuantileOffsets


class _Point(nn.Module):
    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.linear = nn.Linear(n_features, n_outputs)

    def forward(self, x, return_attention=False):
        out = self.linear(x[:, -1])
        return (out, torch.ones(len(x), x.shape[1])) if return_attention else out


def test_quantiles_are_increasing_whatever_the_weights():
    torch.manual_seed(0)
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    module = QuantileOffsets(_Point(3, 4), 4, levels)
    with torch.no_grad():  # far from the initial guess, some offsets large, some tiny
        module.raw_up.normal_(0, 5)
        module.raw_down.normal_(0, 5)
    out = module(torch.randn(50, 6, 3)).view(50, 4, len(levels))
    assert (out.diff(dim=-1) > 0).all()
    median = module.forecaster(torch.zeros(1, 6, 3))
    assert torch.equal(module(torch.zeros(1, 6, 3)).view(1, 4, 5)[..., 2], median)


def test_window_normalization_maps_every_level_back_in_order():
    torch.manual_seed(0)
    levels = [0.1, 0.5, 0.9]
    horizon, n_targets = 2, 2
    inner = QuantileOffsets(_Point(3, horizon * n_targets), horizon * n_targets, levels)
    module = WindowNormalization(inner, 3, horizon, [2, 0], method="revin")
    x = torch.randn(8, 5, 3) * 10 + 100
    out = module(x).view(8, horizon, n_targets, 3)
    assert (out.diff(dim=-1) > 0).all()
    # the median level equals the point forecaster under the same normalisation
    point = WindowNormalization(inner.forecaster, 3, horizon, [2, 0], method="revin")
    torch.testing.assert_close(out[..., 1], point(x).view(8, horizon, n_targets))
    _, weights = module(x, return_attention=True)
    assert weights.shape == (8, 5)


def test_pinball_loss_matches_its_definition():
    levels = [0.1, 0.5, 0.9]
    y = torch.tensor([[1.0, 2.0]])
    q = torch.tensor([[0.0, 1.0, 3.0, 2.0, 2.0, 2.0]])  # output 0: 0, 1, 3; output 1: 2s
    expected = (0.1 * 1 + 0 + 0.1 * 2) / 6  # y - q = 1, 0, -2 for output 0; 0 for output 1
    torch.testing.assert_close(PinballLoss(levels)(q, y), torch.tensor(expected))


def test_levels_must_be_increasing_and_include_the_median():
    for levels in ([0.1, 0.9], [0.5, 0.1], [0.1, 0.5, 0.5]):
        with pytest.raises(ValueError, match="increasing and include 0.5"):
            QuantileOffsets(_Point(1, 1), 1, levels)
    QuantileOffsets(_Point(1, 1), 1, [0.5])(torch.zeros(2, 3, 1))
