"""The linear baseline on windows: DLinear / NLinear style (Zeng et al., 2023).

One linear map from the ``lookback`` past values of a feature to its ``horizon`` future
values, shared by every feature (channel independent). With ``decomposition`` the window
is split into a moving-average trend and the remainder, each with its own map (DLinear);
without it, one map (NLinear when the windows are normalised by their last value).
:class:`LeastSquares` solves that map in closed form, to start training from it.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .targets import TargetSelect, zero_layers

__all__ = ["LeastSquares", "WindowLinear", "moving_average"]


def moving_average(x, kernel_size):
    """Centred moving average over the steps of (batch, steps, features), ends replicated."""
    front, back = (kernel_size - 1) // 2, kernel_size // 2
    series = F.pad(x.transpose(1, 2), (front, back), mode="replicate")  # (B, F, L + k - 1)
    return F.avg_pool1d(series, kernel_size, stride=1).transpose(1, 2)  # (B, L, F)


class WindowLinear(nn.Module):
    """Channel-independent linear forecaster.

    Parameters
    ----------
    n_features, lookback, horizon : int
    target_features : sequence of (int or None)
        Each target's position among the input features, or None (then a learned mix of
        every feature's forecast).
    decomposition : bool
        Trend (moving average of ``kernel_size`` steps) and remainder get separate maps.
    kernel_size : int
    """

    def __init__(self, n_features, lookback, horizon, target_features, *, decomposition=True,
                 kernel_size=25):
        super().__init__()
        self.horizon = horizon
        self.kernel_size = kernel_size if decomposition else None
        self.remainder = nn.Linear(lookback, horizon)
        self.trend = nn.Linear(lookback, horizon) if decomposition else None
        self.select = TargetSelect(n_features, target_features)

    def zero_output(self):
        """Zero the maps: the forecast is then 0 for every window."""
        zero_layers(self.output_layers())

    def output_layers(self):
        """The layers :meth:`zero_output` zeroes: the maps and the target mix."""
        return self.maps() + self.select.output_layers()

    def maps(self):
        """The linear layers from the window to the forecast (the trend's, if any, too)."""
        return [layer for layer in (self.remainder, self.trend) if layer is not None]

    def set_map(self, weight, bias):
        """Make every feature's forecast ``weight @ window + bias``.

        ``weight`` (horizon, lookback), ``bias`` (horizon,). With decomposition both
        maps get ``weight`` (their sum then reads the whole window) and the remainder's
        bias carries ``bias``.
        """
        with torch.no_grad():
            for layer in self.maps():
                layer.weight.copy_(weight)
                layer.bias.zero_()
            self.remainder.bias.copy_(bias)

    def forward(self, x):
        """(batch, lookback, n_features) -> (batch, horizon * n_targets)."""
        if self.trend is None:
            out = self.remainder(x.transpose(1, 2))  # (B, F, horizon)
        else:
            trend = moving_average(x, self.kernel_size)
            out = (self.remainder((x - trend).transpose(1, 2))
                   + self.trend(trend.transpose(1, 2)))
        return self.select(out.transpose(1, 2)).reshape(len(x), -1)


class LeastSquares:
    """A map ``x -> W x + b`` from ``n_inputs`` values to ``n_outputs`` values, fitted by
    weighted least squares with a light ridge, from rows added batch by batch.

    Minimises ``sum_n w_n^2 ||W x_n + b - y_n||^2 + ridge * d * ||[W, b]||^2``, ``d`` the
    mean diagonal of the Gram matrix (so ``ridge`` is relative to the data's scale).
    Accumulates the normal equations in float64: memory is ``(n_inputs + 1)^2`` whatever
    the number of rows.
    """

    def __init__(self, n_inputs, n_outputs):
        self.gram = torch.zeros(n_inputs + 1, n_inputs + 1, dtype=torch.float64)
        self.cross = torch.zeros(n_inputs + 1, n_outputs, dtype=torch.float64)
        self.n_rows = 0

    def update(self, inputs, targets, weights):
        """Add rows: ``inputs`` (N, n_inputs), ``targets`` (N, n_outputs), ``weights`` (N,)."""
        w = weights.detach()[:, None]
        self.update_weighted(torch.cat([inputs.detach() * w, w, targets.detach() * w], dim=1))

    def update_weighted(self, rows):
        """Add rows already multiplied by their weights: ``rows`` is (N, n_inputs + 1 +
        n_outputs), row ``n`` being ``w_n [x_n, 1, y_n]``.

        Each batch's products are formed in the rows' precision, in one matrix product,
        and summed into the float64 totals.
        """
        n_inputs = len(self.gram)  # with the bias's column
        # (n_inputs + 1, n_inputs + 1 + n_outputs): the Gram matrix, then the cross products
        products = (rows[:, :n_inputs].T @ rows).to("cpu", torch.float64)
        self.gram += products[:, :n_inputs]
        self.cross += products[:, n_inputs:]
        self.n_rows += len(rows)

    def solve(self, ridge=1e-3):
        """Return ``(W, b)``: float32 tensors of shape (n_outputs, n_inputs) and (n_outputs,)."""
        if self.n_rows == 0:
            raise ValueError("no rows were added")
        size = len(self.gram)
        penalty = ridge * torch.diagonal(self.gram).mean().clamp_min(1e-12)
        solution = torch.linalg.solve(
            self.gram + penalty * torch.eye(size, dtype=torch.float64), self.cross)
        return solution[:-1].T.float().contiguous(), solution[-1].float()
