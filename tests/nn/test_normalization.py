import pytest
import torch
from torch import nn

from sklattn.nn.normalization import WindowNormalization


class LastSteps(nn.Module):
    """Forecast = the window's last `horizon` steps of the chosen channels (normalised)."""

    def __init__(self, horizon, channels):
        super().__init__()
        self.horizon, self.channels = horizon, channels

    def forward(self, z, return_attention=False):
        out = z[:, -self.horizon:, self.channels].reshape(len(z), -1)
        return (out, torch.ones(len(z), 1)) if return_attention else out


@pytest.mark.parametrize("method", ["revin", "last", None])
@pytest.mark.parametrize("affine", [False, True])
def test_normalising_then_denormalising_the_targets_is_exact(method, affine):
    torch.manual_seed(0)
    wrapper = WindowNormalization(LastSteps(3, [2, 0]), 3, 3, [2, 0], method=method,
                                  affine=affine, input_scale=[2.0, 3.0, 0.5])
    if affine:
        with torch.no_grad():
            wrapper.weight.uniform_(0.5, 2.0)
            wrapper.bias.uniform_(-1, 1)
    x = torch.randn(4, 20, 3) * 10 + 5
    expected = x[:, -3:, [2, 0]].reshape(4, -1)
    torch.testing.assert_close(wrapper(x), expected, atol=1e-4, rtol=1e-5)
    out, weights = wrapper(x, return_attention=True)
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-5)
    assert weights.shape == (4, 1)


@pytest.mark.parametrize("method", ["revin", "last"])
def test_the_forecaster_sees_windows_without_their_level(method):
    seen = []

    class Spy(nn.Module):
        def forward(self, z):
            seen.append(z)
            return z[:, -1, :1]

    wrapper = WindowNormalization(Spy(), 2, 1, [0], method=method)
    x = torch.randn(3, 10, 2)
    wrapper(x)
    wrapper(x + 100.0)
    torch.testing.assert_close(seen[0], seen[1], atol=1e-4, rtol=1e-4)
    if method == "revin":
        torch.testing.assert_close(seen[0].mean(1), torch.zeros(3, 2), atol=1e-5, rtol=0)
    else:
        assert torch.all(seen[0][:, -1] == 0)


def test_last_value_keeps_the_relative_scale_of_the_features():
    seen = []

    class Spy(nn.Module):
        def forward(self, z):
            seen.append(z)
            return z[:, -1, :1]

    wrapper = WindowNormalization(Spy(), 2, 1, [0], method="last", input_scale=[2.0, 4.0])
    x = torch.randn(3, 10, 2)
    x[..., 1] = 2 * x[..., 0]  # feature 1 is feature 0 twice over, and so is its scale
    wrapper(x)
    torch.testing.assert_close(seen[0][..., 0], seen[0][..., 1])


def test_a_target_that_is_not_an_input_uses_its_training_stats():
    class Constant(nn.Module):
        def forward(self, z):
            return torch.ones(len(z), 2)  # horizon 1, targets (input 0, not an input)

    wrapper = WindowNormalization(Constant(), 2, 1, [0, None], method="revin",
                                  target_loc=[0.0, 10.0], target_scale=[1.0, 3.0])
    x = torch.randn(5, 8, 2)
    out = wrapper(x)
    mean, std = x[..., 0].mean(1), x[..., 0].std(1, unbiased=False)
    torch.testing.assert_close(out[:, 0], mean + std, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out[:, 1], torch.full((5,), 13.0))


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown normalisation"):
        WindowNormalization(nn.Identity(), 1, 1, [0], method="minmax")
