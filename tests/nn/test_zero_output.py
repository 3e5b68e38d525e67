"""Every forecaster module can zero its output layer: it then forecasts 0 for any window
(inside WindowNormalization.to_last_value(): the last-value forecast)."""

import pytest
import torch

from sklattn.nn.linear import WindowLinear
from sklattn.nn.quantiles import QuantileOffsets
from sklattn.nn.rnn import AttentionRNN
from sklattn.nn.transformer import WindowTransformer

N_FEATURES, LOOKBACK, HORIZON = 3, 24, 4
TARGETS = [2, None]  # one target that is an input, one that is not

MODULES = {
    "linear": lambda: WindowLinear(N_FEATURES, LOOKBACK, HORIZON, TARGETS),
    "rnn": lambda: AttentionRNN(N_FEATURES, HORIZON * len(TARGETS)),
    "rnn-skip-segments": lambda: AttentionRNN(
        N_FEATURES, HORIZON * len(TARGETS), segment_len=4,
        skip=WindowLinear(N_FEATURES, LOOKBACK, HORIZON, TARGETS, decomposition=False)),
    "timestep": lambda: WindowTransformer(N_FEATURES, LOOKBACK, HORIZON, TARGETS,
                                          tokens="timestep"),
    "patch": lambda: WindowTransformer(N_FEATURES, LOOKBACK, HORIZON, TARGETS, tokens="patch",
                                       patch_len=8, stride=4),
    "variate": lambda: WindowTransformer(N_FEATURES, LOOKBACK, HORIZON, TARGETS,
                                         tokens="variate"),
    "patch-skip": lambda: WindowTransformer(
        N_FEATURES, LOOKBACK, HORIZON, TARGETS, tokens="patch", patch_len=8, stride=4,
        skip=WindowLinear(N_FEATURES, LOOKBACK, HORIZON, TARGETS, decomposition=False)),
}


@pytest.mark.parametrize("name", MODULES)
def test_zero_output_forecasts_zero_and_still_learns(name):
    torch.manual_seed(0)
    module = MODULES[name]()
    x = torch.randn(5, LOOKBACK, N_FEATURES)
    assert module(x).abs().max() > 0
    module.zero_output()
    torch.testing.assert_close(module(x), torch.zeros(5, HORIZON * len(TARGETS)))
    # gradients still reach the output layer, so training moves off the start
    module(x).sum().backward()
    assert any(p.grad is not None and p.grad.abs().max() > 0 for p in module.parameters())


def test_quantile_offsets_zero_the_median_only():
    torch.manual_seed(0)
    module = QuantileOffsets(MODULES["linear"](), HORIZON * len(TARGETS), [0.1, 0.5, 0.9])
    module.zero_output()
    out = module(torch.randn(2, LOOKBACK, N_FEATURES)).view(2, -1, 3)
    torch.testing.assert_close(out[..., 1], torch.zeros(2, HORIZON * len(TARGETS)))
    assert torch.all(out[..., 0] < 0) and torch.all(out[..., 2] > 0)
