"""The linear baseline on windows: DLinear / NLinear style (Zeng et al., 2023).

One linear map from the ``lookback`` past values of a feature to its ``horizon`` future
values, shared by every feature (channel independent). With ``decomposition`` the window
is split into a moving-average trend and the remainder, each with its own map (DLinear);
without it, one map (NLinear when the windows are normalised by their last value).
"""

import torch.nn.functional as F
from torch import nn

from .targets import TargetSelect

__all__ = ["WindowLinear", "moving_average"]


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
        for layer in (self.remainder, self.trend):
            if layer is not None:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
        self.select.zero_output()

    def forward(self, x):
        """(batch, lookback, n_features) -> (batch, horizon * n_targets)."""
        if self.trend is None:
            out = self.remainder(x.transpose(1, 2))  # (B, F, horizon)
        else:
            trend = moving_average(x, self.kernel_size)
            out = (self.remainder((x - trend).transpose(1, 2))
                   + self.trend(trend.transpose(1, 2)))
        return self.select(out.transpose(1, 2)).reshape(len(x), -1)
