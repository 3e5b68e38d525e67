"""Start a linear map at its least-squares fit on the training windows, before epoch 1.

A linear map of each target's own normalised window (the linear baseline, the RNN's
``linear_skip``) has a closed-form optimum on the training windows. Adam reaches it
slowly: early stopping ended the linear baseline's fits before it got there, and in the
RNN the recurrent part had already overfitted (best epoch 1-2) while its skip was still
far from it. Solving it first gives both the optimum from the start (measured in
docs/real_data.md).
"""

import torch
from skorch.callbacks import Callback
from skorch.utils import to_tensor

from .batching import RowBatches
from .nn.linear import LeastSquares

__all__ = ["LeastSquaresStart"]


class LeastSquaresStart(Callback):
    """Set a :class:`~sklattn.nn.linear.WindowLinear`'s map to the least-squares fit
    on the training part of the split, before the first epoch.

    Only the targets that are input features give rows; without any the callback does
    nothing. Rows are gathered one batch at a time (the normal equations are
    ``(lookback + 1)^2``), never from the hold-out. On a CPU each batch of windows is
    read where it lies (a view of the windows' memory, not a copy), and
    :meth:`~sklattn.nn.normalization.WindowNormalization.least_squares_rows` copies the
    known targets' values straight into its rows.

    Parameters
    ----------
    locate : callable
        ``locate(module)`` returns the ``WindowLinear`` inside the net's module (a
        module-level function, so the net pickles).
    freeze : bool, default=False
        After the fit, stop training the map (``requires_grad=False`` until training
        ends, then back, so a fitted net computes as a loaded one does): the rest of the
        module learns what the linear forecast leaves over.
    ridge : float, default=1e-3
        Relative ridge penalty (see :class:`~sklattn.nn.linear.LeastSquares`).
    batch_size : int, default=1024
        Windows per pass (the fit reads each training window once).

    Attributes
    ----------
    n_rows_ : int
        Rows (training windows times known targets) the fit used; 0 when none.
    """

    def __init__(self, locate, freeze=False, ridge=1e-3, batch_size=1024):
        self.locate = locate
        self.freeze = freeze
        self.ridge = ridge
        self.batch_size = batch_size

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.n_rows_ = 0
        module = net.module_
        linear = self.locate(module)
        if X is None or not bool(module.target_known.any()):
            return
        train, _ = net.get_split_datasets(X, y)
        lookback = linear.remainder.in_features
        solver = LeastSquares(lookback, linear.horizon)
        windows, targets = RowBatches(train.X), RowBatches(train.y)
        with torch.no_grad():
            for start in range(0, len(train), self.batch_size):
                index = slice(start, start + self.batch_size)
                Xi = windows.view(index)  # (B, lookback, n_features), the caller's memory
                yi = targets.take(index).reshape(len(Xi), -1)  # (B, horizon * n_targets)
                solver.update_weighted(module.least_squares_rows(
                    to_tensor(Xi, net.device), to_tensor(yi, net.device)))
        linear.set_map(*solver.solve(self.ridge))
        self.n_rows_ = solver.n_rows
        self._set_trainable(net, not self.freeze)

    def on_train_end(self, net, **kwargs):
        self._set_trainable(net, True)

    def _set_trainable(self, net, trainable):
        for layer in self.locate(net.module_).maps():
            layer.requires_grad_(trainable)
