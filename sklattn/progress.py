"""Progress bars (tqdm): one over the epochs of ``fit``, one over the batches of a long
``predict``."""

import sys

from skorch.callbacks import Callback

__all__ = ["EpochProgress", "batch_progress", "show_progress"]

# A predict call shows a bar only from this many batches on: shorter calls end before a
# bar would tell anything.
MIN_PREDICT_BATCHES = 10


def show_progress(progress):
    """Resolve the estimators' ``progress`` option: "auto" is on in interactive sessions
    (a terminal on stderr, or a Jupyter kernel) and off otherwise (logs, CI, pipes)."""
    if progress == "auto":
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty()) or "ipykernel" in sys.modules
    return bool(progress)


def _tqdm(**kwargs):
    from tqdm.auto import tqdm

    return tqdm(**kwargs)


class EpochProgress(Callback):
    """A tqdm bar over the epochs of a fit, with the last epoch's losses beside it.

    Parameters
    ----------
    description : str
        Shown before the bar (the estimator's name).
    """

    def __init__(self, description="fit"):
        self.description = description

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.bar_ = _tqdm(total=net.max_epochs, desc=self.description, unit="epoch",
                          leave=True, dynamic_ncols=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = {key: f"{row[key]:.4g}" for key in ("train_loss", "valid_loss")
                  if key in row}
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.bar_.close()

    def __getstate__(self):  # a bar holds a stream: never pickled
        state = dict(self.__dict__)
        state.pop("bar_", None)
        return state


def batch_progress(starts, n_batches, description):
    """Wrap an iterable of batch starts in a bar when ``n_batches`` is large enough."""
    if n_batches < MIN_PREDICT_BATCHES:
        return starts
    return _tqdm(iterable=starts, total=n_batches, desc=description, unit="batch",
                 leave=False, dynamic_ncols=True)
