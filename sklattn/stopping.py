"""Early stopping that counts the untrained model as a candidate (epoch 0).

A forecaster anchored on the last value (``anchor="last"``) starts as the naive forecast.
On a series where nothing the network learns carries over to the hold-out (exchange
rates are the textbook case: close to a random walk), every trained epoch scores worse
there than the start did; plain early stopping would still keep the least bad trained
epoch. Scoring the start first lets the hold-out decide between "trained" and "not
trained at all".
"""

from copy import deepcopy

import torch
from skorch.callbacks import EarlyStopping

__all__ = ["EarlyStoppingFromStart", "holdout_loss"]


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


class EarlyStoppingFromStart(EarlyStopping):
    """skorch's :class:`~skorch.callbacks.EarlyStopping`, with the start as epoch 0.

    Before the first epoch the starting model is scored on the hold-out and its weights
    are kept as the best so far: a trained epoch replaces them only when it beats that
    score (by skorch's relative ``threshold``). When none does, training stops after
    ``patience`` epochs and the starting weights are restored.

    Attributes
    ----------
    start_score_ : float or None
        The starting model's hold-out loss (None without a hold-out).
    best_epoch_ : int
        As skorch's; 0 when the start is still the best.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.start_score_ = None
        if X is None:
            return
        _, valid = net.get_split_datasets(X, y)
        if valid is None:
            return
        self.start_score_ = holdout_loss(net, valid)
        self.dynamic_threshold_ = self._calc_new_threshold(self.start_score_)
        if self.load_best:
            self.best_model_weights_ = deepcopy(net.module_.state_dict())
