import pytest
import torch

from sklattn.nn.linear import WindowLinear, moving_average


def test_moving_average_of_a_line_is_the_line_inside_and_flat_ends_replicate():
    x = torch.arange(20.0)[None, :, None]
    trend = moving_average(x, 5)
    assert trend.shape == x.shape
    torch.testing.assert_close(trend[0, 2:-2, 0], x[0, 2:-2, 0])
    assert trend[0, 0, 0] == pytest.approx((0 + 0 + 0 + 1 + 2) / 5)


@pytest.mark.parametrize("decomposition", [True, False])
@pytest.mark.parametrize("targets", [[1], [1, None]])
def test_shapes_and_channel_independence(decomposition, targets):
    torch.manual_seed(0)
    model = WindowLinear(3, 24, 4, targets, decomposition=decomposition, kernel_size=5)
    x = torch.randn(2, 24, 3)
    out = model(x)
    assert out.shape == (2, 4 * len(targets))
    other = x.clone()
    other[..., 0] += 1.0
    changed = (model(other) - out).reshape(2, 4, -1).abs().amax(dim=(0, 1))
    assert changed[0] == 0  # the target's own channel only
    if len(targets) == 2:
        assert changed[1] > 0  # a target that is not an input mixes every channel
