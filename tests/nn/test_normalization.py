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
                                  affine=affine)
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


def test_last_value_method_divides_by_each_windows_own_spread():
    seen = []

    class Spy(nn.Module):
        def forward(self, z):
            seen.append(z)
            return z[:, -1, :1]

    wrapper = WindowNormalization(Spy(), 2, 1, [0], method="last")
    x = torch.randn(3, 10, 2)
    wrapper(x)
    wrapper(x * 5.0 + 3.0)  # a window's own level and spread do not reach the module
    spiky = x.clone()
    spiky[0, 4, 1] = -9999.0  # a sentinel in one window leaves the others as they were
    wrapper(spiky)
    torch.testing.assert_close(seen[0], seen[1], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(seen[0][1:], seen[2][1:])
    assert seen[2][0].abs().max() < 10  # and bounds the one it is in
    expected = (x - x[:, -1:]) / x.std(dim=1, unbiased=False, keepdim=True)
    torch.testing.assert_close(seen[0], expected, atol=1e-4, rtol=1e-4)


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


class Zero(nn.Module):
    """Forecasts 0 for every output (what a zeroed output layer emits)."""

    def __init__(self, n_outputs):
        super().__init__()
        self.n_outputs = n_outputs
        self.zeroed = False

    def zero_output(self):
        self.zeroed = True

    def forward(self, z, return_attention=False):
        out = z.new_zeros(len(z), self.n_outputs)
        return (out, torch.ones(len(z), 1)) if return_attention else out


@pytest.mark.parametrize("method", ["revin", "last", None])
@pytest.mark.parametrize("affine", [False, True])
def test_to_last_value_forecasts_the_last_value(method, affine):
    torch.manual_seed(0)
    # targets: feature 2, feature 0, and one that is not an input (training mean 7, std 3)
    wrapper = WindowNormalization(Zero(4 * 3), 3, 4, [2, 0, None], method=method,
                                  affine=affine, target_loc=[0.0, 0.0, 7.0],
                                  target_scale=[1.0, 1.0, 3.0])
    if affine:
        with torch.no_grad():
            wrapper.weight.uniform_(0.5, 2.0)
            wrapper.bias.uniform_(-1, 1)
    x = torch.randn(5, 20, 3) * 10 + 5
    before = wrapper(x).view(5, 4, 3)
    wrapper.to_last_value()
    assert wrapper.forecaster.zeroed and "last_value" in wrapper.state_dict()
    out = wrapper(x).view(5, 4, 3)
    torch.testing.assert_close(out[..., :2], x[:, -1:, [2, 0]].expand(5, 4, 2),
                               atol=1e-4, rtol=1e-5)
    # not an input: no last value; a zero output is the training mean, as before
    torch.testing.assert_close(out[..., 2], torch.full((5, 4), 7.0))
    torch.testing.assert_close(before[..., 2], out[..., 2])
    # the flag is state: a fresh wrapper that loads it forecasts the same
    fresh = WindowNormalization(Zero(4 * 3), 3, 4, [2, 0, None], method=method,
                                affine=affine, target_loc=[0.0, 0.0, 7.0],
                                target_scale=[1.0, 1.0, 3.0])
    fresh.load_state_dict(wrapper.state_dict())
    torch.testing.assert_close(fresh(x), wrapper(x))


def test_last_value_adds_to_every_quantile_level():
    from sklattn.nn.quantiles import QuantileOffsets

    levels = [0.1, 0.5, 0.9]
    wrapper = WindowNormalization(QuantileOffsets(Zero(4), 4, levels), 2, 2, [1, 0],
                                  method="revin")
    wrapper.to_last_value()
    x = torch.randn(3, 16, 2) * 4 + 10
    out = wrapper(x).view(3, 2, 2, 3)  # (B, H, T, L)
    torch.testing.assert_close(out[..., 1], x[:, -1:, [1, 0]].expand(3, 2, 2),
                               atol=1e-4, rtol=1e-5)
    assert torch.all(out[..., 0] < out[..., 1]) and torch.all(out[..., 1] < out[..., 2])


@pytest.mark.parametrize("method", ["revin", "last", None])
def test_least_squares_rows_give_the_data_unit_loss_of_a_linear_forecaster(method):
    """For a channel-independent linear map, the weighted squared error of the rows is the
    squared error of the wrapped module's forecast in data units, target by target."""
    from sklattn.nn.linear import WindowLinear

    gen = torch.Generator().manual_seed(0)
    targets = [2, None, 0]  # the middle target is not an input: no rows
    linear = WindowLinear(3, 10, 4, targets, decomposition=False)
    W, b = torch.randn(4, 10, generator=gen) * 0.1, torch.randn(4, generator=gen)
    linear.set_map(W, b)
    module = WindowNormalization(linear, 3, 4, targets, method=method)
    x = torch.randn(6, 10, 3, generator=gen) * 3 + 5
    y = torch.randn(6, 4 * 3, generator=gen) + 5
    rows = module.least_squares_rows(x, y)
    assert rows.shape == (6 * 2, 10 + 1 + 4)
    inputs, weights, rows_y = rows[:, :10], rows[:, 10], rows[:, 11:]
    rows_loss = ((inputs @ W.T + weights[:, None] * b - rows_y) ** 2).sum()  # weighted rows
    error = (module(x) - y).reshape(6, 4, 3)[..., [0, 2]]
    torch.testing.assert_close(rows_loss, (error ** 2).sum(), rtol=1e-4, atol=1e-4)


def _gathered_rows(module, x, y):
    """The rows as the known targets' windows gathered whole and then centred (how they
    were made before they were copied into their buffer feature by feature)."""
    batch, lookback = x.shape[:2]
    features = module.target_index[module.target_known]
    xk = x.float().transpose(1, 2)[:, features].transpose(1, 2)  # (B, L, K)
    loc, scale = module._stats(xk)
    y = y.float().reshape(batch, module.horizon, -1).transpose(1, 2)[:, module.target_known]
    rows = torch.empty(batch, len(features), lookback + 1 + module.horizon)
    if loc is None:
        rows[..., :lookback] = xk.transpose(1, 2)
        rows[..., lookback] = 1.0
        rows[..., lookback + 1:] = y
    else:
        torch.sub(xk, loc, out=rows[..., :lookback].transpose(1, 2))
        rows[..., lookback] = scale[:, 0]
        torch.sub(y, loc.transpose(1, 2), out=rows[..., lookback + 1:])
    return rows.reshape(batch * len(features), -1)


@pytest.mark.parametrize("method", ["revin", "last", None])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_least_squares_rows_read_strided_windows_without_writing_them(method, dtype):
    """Rows from a strided view of a series (either float dtype) are bit for bit those of
    gathering the windows first, and the view is left as it was; statistics come in chunks
    (300 windows: three chunks), each window's own."""
    from sklattn.nn.linear import WindowLinear

    targets = [2, None, 0]
    module = WindowNormalization(WindowLinear(3, 10, 4, targets, decomposition=False), 3, 4,
                                 targets, method=method)
    gen = torch.Generator().manual_seed(0)
    series = (torch.randn(3, 320, generator=gen, dtype=dtype).cumsum(1) + 5).T  # F order
    x = series.unfold(0, 10, 1)[:300].transpose(1, 2)  # (300, 10, 3), a view
    y = torch.randn(300, 4 * 3, generator=gen, dtype=dtype)
    before = x.clone()
    rows = module.least_squares_rows(x, y)
    assert rows.dtype == torch.float32 and torch.equal(x, before)
    assert torch.equal(rows, _gathered_rows(module, x, y))
    assert torch.equal(module.least_squares_rows(x.float().contiguous(), y.float()), rows)
