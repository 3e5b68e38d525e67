"""Early stopping with a baseline as epoch 0: the last-value forecast.

On a series where nothing the network learns carries over to the hold-out (exchange rates are
the textbook case: close to a random walk), every trained epoch scores worse there than
the last value; plain early stopping would still keep the least bad trained epoch.
Scoring the baseline first lets the hold-out decide between "trained" and "the last
value". A module whose start was fitted before training (the least-squares start of a
linear map) is scored as a candidate for epoch 0 too.
"""

from copy import deepcopy

import torch
from skorch.callbacks import EarlyStopping

__all__ = ["EarlyStoppingWithBaseline", "holdout_loss", "last_value_forecast"]


def last_value_forecast(module):
    """Turn ``module`` (a :class:`~sklattn.nn.normalization.WindowNormalization`) into the
    last-value forecast, in place."""
    module.to_last_value()


def holdout_loss(net, dataset):
    """The net's loss on ``dataset`` as skorch records ``valid_loss``: the mean of the
    batch losses weighted by batch size."""
    total, count = 0.0, 0
    with torch.inference_mode():
        for batch in net.get_iterator(dataset, training=False):
            size = len(batch[0])
            total += net.validation_step(batch)["loss"].item() * size
            count += size
    return total / count


class EarlyStoppingWithBaseline(EarlyStopping):
    """skorch's :class:`~skorch.callbacks.EarlyStopping`, with epoch 0 candidates.

    Before the first epoch, ``baseline(module)`` turns a copy of the module's weights into
    the baseline (the module itself is left as it was, to train from its own start); the
    baseline is scored on the hold-out and kept as the best so far. With ``score_start``
    the module's start is scored too (when it was fitted before training, as by
    :class:`~sklattn.warmstart.LeastSquaresStart`), and the lower of the two is epoch 0.
    A trained epoch replaces epoch 0 only when it beats its score (by skorch's relative
    ``threshold``); when none does, training stops after ``patience`` epochs and epoch
    0's weights are restored.

    Parameters
    ----------
    *args, **kwargs
        As :class:`~skorch.callbacks.EarlyStopping` (``load_best=True`` to restore).
    baseline : callable or None, default=None
        Sets a module's weights to the baseline in place (a module-level function, so the
        net pickles); None: no baseline.
    score_start : bool, default=False
        Also score the module as it is before the first epoch.

    Attributes
    ----------
    baseline_score_ : float or None
        The baseline's hold-out loss (None without a baseline or a hold-out).
    start_score_ : float or None
        The start's hold-out loss (None without ``score_start`` or a hold-out).
    best_epoch_ : int
        As skorch's; 0 when epoch 0 (the baseline or the start) is still the best.
    """

    def __init__(self, *args, baseline=None, score_start=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.baseline = baseline
        self.score_start = score_start

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.baseline_score_ = self.start_score_ = None
        if (self.baseline is None and not self.score_start) or X is None:
            return
        _, valid = net.get_split_datasets(X, y)
        if valid is None:
            return
        start = deepcopy(net.module_.state_dict())
        candidates = []
        if self.score_start:
            self.start_score_ = holdout_loss(net, valid)
            candidates.append((self.start_score_, start))
        if self.baseline is not None:
            self.baseline(net.module_)
            self.baseline_score_ = holdout_loss(net, valid)
            candidates.append((self.baseline_score_, deepcopy(net.module_.state_dict())))
            net.module_.load_state_dict(start)  # in place: the optimizer keeps its tensors
        score, weights = min(candidates, key=lambda candidate: candidate[0])
        self.dynamic_threshold_ = self._calc_new_threshold(score)
        if self.load_best:
            self.best_model_weights_ = weights
