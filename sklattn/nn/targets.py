"""From one forecast per input feature to one forecast per target."""

import torch
from torch import nn

__all__ = ["TargetSelect", "zero_layers"]


def zero_layers(layers):
    """Zero the weight and bias of each linear layer in ``layers``."""
    for layer in layers:
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)


class TargetSelect(nn.Module):
    """Pick the targets' channels from per-feature forecasts; mix channels for the others.

    Channel-independent models (patch tokens, variate tokens, the linear baseline) forecast
    every input feature. A target that is an input takes its own channel's forecast; a
    target that is not an input gets a learned linear mix of all channels' forecasts.

    Parameters
    ----------
    n_features : int
    target_features : sequence of (int or None)
        Each target's position among the input features, or None.
    """

    def __init__(self, n_features, target_features):
        super().__init__()
        known = [t is not None for t in target_features]
        self.register_buffer("known", torch.tensor(known, dtype=torch.bool))
        self.register_buffer("index", torch.tensor([t if t is not None else 0
                                                    for t in target_features]))
        self.mix = None if all(known) else nn.Linear(n_features, len(target_features))

    def zero_output(self):
        """Zero the mix, so that a zero per-feature forecast gives zero for every target."""
        zero_layers(self.output_layers())

    def output_layers(self):
        """The mix (if any): the layer :meth:`zero_output` zeroes."""
        return [] if self.mix is None else [self.mix]

    def forward(self, per_feature):
        """(batch, horizon, n_features) -> (batch, horizon, n_targets)."""
        selected = per_feature[..., self.index]
        if self.mix is None:
            return selected
        return torch.where(self.known, selected, self.mix(per_feature))
