"""Early stopping with a baseline as epoch 0: the last-value forecast.

On a series where nothing the network learns carries over to the hold-out (exchange rates are
the textbook case: close to a random walk), every trained epoch scores worse there than
the last value; plain early stopping would still keep the least bad trained epoch.
Scoring the baseline first lets the hold-out decide between "trained" and "the last
value". A module whose start was fitted before training (the least-squares start of a
linear map) is scored as a candidate for epoch 0 too.

With ``shrink``, a kept trained epoch is then moved back toward epoch 0: the small gains
a trained epoch shows on the hold-out often do not carry over, and keeping only a
fraction of its change, the fraction that fits the hold-out best, did better on the
benchmark's test months than keeping all of it (docs/real_data.md).
"""

from copy import deepcopy

import torch
from skorch.callbacks import EarlyStopping
from skorch.utils import to_tensor

__all__ = ["EarlyStoppingWithBaseline", "holdout_loss", "last_value_forecast",
           "shrink_factor", "squared_error"]


def last_value_forecast(module):
    """Turn ``module`` (a :class:`~sklattn.nn.normalization.WindowNormalization`) into the
    last-value forecast, in place."""
    module.to_last_value()


def _validation_steps(net, dataset):
    """Yield skorch's ``validation_step`` of each batch of ``dataset`` (in the hold-out's
    order) with the batch's targets, on the net's device."""
    with torch.inference_mode():
        for batch in net.get_iterator(dataset, training=False):
            yield net.validation_step(batch), to_tensor(batch[1], net.device)


def holdout_loss(net, dataset):
    """The net's loss on ``dataset`` as skorch records ``valid_loss``: the mean of the
    batch losses weighted by batch size."""
    total, count = 0.0, 0
    for step, target in _validation_steps(net, dataset):
        total += step["loss"].item() * len(target)
        count += len(target)
    return total / count


def shrink_factor(net, dataset, start):
    """The fraction of its change since ``start`` that the module should keep, and the
    module's own squared error on ``dataset``.

    With ``a`` the forecasts of ``start`` (a ``state_dict``) on ``dataset``, ``f`` the
    module's own and ``y`` the targets, the squared error of ``a + s (f - a)`` is least
    at ``s = <f - a, y - a> / <f - a, f - a>``, clipped to [0, 1]. Each batch is forecast
    with both weight sets in turn (sums in float64; no forecasts are kept); the module is
    left with its own weights.

    Returns
    -------
    factor : float
    own_error : float
        The sum of squared errors of ``f``.
    """
    own = deepcopy(net.module_.state_dict())
    along = length = own_error = 0.0
    with torch.no_grad():
        for batch in net.get_iterator(dataset, training=False):
            net.module_.load_state_dict(start)
            a = net.validation_step(batch)["y_pred"].double()
            net.module_.load_state_dict(own)
            f = net.validation_step(batch)["y_pred"].double()
            y = to_tensor(batch[1], net.device).double()
            change = f - a
            along += float((change * (y - a)).sum())
            length += float(change.square().sum())
            own_error += float((f - y).square().sum())
    factor = 1.0 if length == 0.0 else min(max(along / length, 0.0), 1.0)
    return factor, own_error


def squared_error(net, dataset):
    """The sum of squared errors of the module's forecasts on ``dataset`` (float64)."""
    return sum(float((step["y_pred"].double() - target.double()).square().sum())
               for step, target in _validation_steps(net, dataset))


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

    With ``shrink``, when training ends on a kept trained epoch, its output layers are
    moved back toward epoch 0's by the factor that fits the hold-out best
    (:func:`shrink_factor`,
    :meth:`~sklattn.nn.normalization.WindowNormalization.shrink_toward`); the shrunk
    weights are kept only when their hold-out squared error is lower than the trained
    epoch's (so a blend that the weights cannot express exactly is scored, not assumed).

    Parameters
    ----------
    *args, **kwargs
        As :class:`~skorch.callbacks.EarlyStopping` (``load_best=True`` to restore).
    baseline : callable or None, default=None
        Sets a module's weights to the baseline in place (a module-level function, so the
        net pickles); None: no baseline.
    score_start : bool, default=False
        Also score the module as it is before the first epoch.
    shrink : bool, default=False
        Shrink a kept trained epoch toward epoch 0 (needs ``load_best``, a baseline or
        ``score_start``, a module with ``shrink_toward`` and a squared-error loss).

    Attributes
    ----------
    baseline_score_ : float or None
        The baseline's hold-out loss (None without a baseline or a hold-out).
    start_score_ : float or None
        The start's hold-out loss (None without ``score_start`` or a hold-out).
    best_epoch_ : int
        As skorch's; 0 when epoch 0 (the baseline or the start) is still the best.
    shrink_factor_ : float or None
        The fraction of the kept trained epoch's change since epoch 0 that the module
        kept (1.0: not shrunk); None when nothing was shrunk because there was no
        trained epoch to shrink or no epoch 0 (or ``shrink`` is off).
    """

    def __init__(self, *args, baseline=None, score_start=False, shrink=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.baseline = baseline
        self.score_start = score_start
        self.shrink = shrink

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.baseline_score_ = self.start_score_ = self.shrink_factor_ = None
        self.epoch0_weights_ = None
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
        if self.shrink:
            self.epoch0_weights_ = weights

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        start, self.epoch0_weights_ = self.epoch0_weights_, None  # not kept in the net
        if start is None or not self.load_best or self.best_epoch_ == 0:
            return
        _, valid = net.get_split_datasets(X, y)
        factor, trained_error = shrink_factor(net, valid, start)
        self.shrink_factor_ = 1.0
        if factor == 1.0:
            return
        trained = deepcopy(net.module_.state_dict())
        net.module_.shrink_toward(start, factor)
        if squared_error(net, valid) < trained_error:
            self.shrink_factor_ = factor
        else:
            net.module_.load_state_dict(trained)
