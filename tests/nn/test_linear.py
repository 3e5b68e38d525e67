import pytest
import torch

from sklattn.nn.linear import LeastSquares, WindowLinear, moving_average


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


def test_least_squares_recovers_a_linear_map_and_weights_rows():
    gen = torch.Generator().manual_seed(0)
    W, b = torch.randn(3, 5, generator=gen), torch.randn(3, generator=gen)
    x = torch.randn(200, 5, generator=gen)
    solver = LeastSquares(5, 3)
    for rows in (slice(0, 120), slice(120, 200)):  # batch by batch
        solver.update(x[rows], x[rows] @ W.T + b, torch.ones(len(x[rows])))
    weight, bias = solver.solve(ridge=0.0)
    torch.testing.assert_close(weight, W, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(bias, b, atol=1e-4, rtol=1e-4)
    # a row with weight 0 does not count, however wrong its target
    solver.update(x[:1], torch.full((1, 3), 1e6), torch.zeros(1))
    torch.testing.assert_close(solver.solve(ridge=0.0)[0], W, atol=1e-4, rtol=1e-4)
    # the ridge shrinks the map
    assert solver.solve(ridge=1.0)[0].norm() < weight.norm()
    with pytest.raises(ValueError, match="no rows"):
        LeastSquares(5, 3).solve()


def test_least_squares_accumulates_the_weighted_normal_equations():
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(50, 4, generator=gen), torch.randn(50, 2, generator=gen)
    w = torch.rand(50, generator=gen) + 0.5
    rows = torch.cat([x, torch.ones(50, 1)], dim=1).double() * w[:, None].double()
    plain, weighted = LeastSquares(4, 2), LeastSquares(4, 2)
    plain.update(x, y, w)
    weighted.update_weighted(torch.cat([x, torch.ones(50, 1), y], dim=1) * w[:, None])
    for solver in (plain, weighted):
        torch.testing.assert_close(solver.gram, rows.T @ rows, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(solver.cross, rows.T @ (y.double() * w[:, None].double()),
                                   rtol=1e-5, atol=1e-5)
        assert solver.n_rows == 50


@pytest.mark.parametrize("decomposition", [True, False])
def test_set_map_makes_every_feature_forecast_the_map_of_its_window(decomposition):
    module = WindowLinear(2, 8, 3, [0, 1], decomposition=decomposition, kernel_size=3)
    gen = torch.Generator().manual_seed(1)
    W, b = torch.randn(3, 8, generator=gen), torch.randn(3, generator=gen)
    module.set_map(W, b)
    x = torch.randn(4, 8, 2, generator=gen)
    expected = (torch.einsum("hl,blf->bhf", W, x) + b[:, None]).reshape(4, -1)
    torch.testing.assert_close(module(x), expected, atol=1e-5, rtol=1e-5)
    assert len(module.maps()) == (2 if decomposition else 1)
