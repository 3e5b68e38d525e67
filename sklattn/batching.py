"""Mini-batches made by one index into the window array.

skorch's default ``DataLoader`` fetches windows one at a time and collates them; here a
batch is ``X[indices]``: one copy of exactly the windows in the batch, whatever strided
view ``X`` is, cast to float32 there (so float64 windows are never cast whole).
"""

import numpy as np
import torch

__all__ = ["WindowBatches", "batch_tensor"]


class WindowBatches:
    """Iterate ``(X_batch, y_batch)`` tensors over a skorch ``Dataset``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds NumPy arrays ``X`` and ``y`` (``y`` may be None when predicting).
    batch_size : int
    shuffle : bool, default=False
        Draw a new permutation (from torch's global RNG) every epoch.
    pin_memory : bool, default=False
        Put each batch in pinned (page-locked) memory, so that its copy to a GPU can
        overlap with computation.
    """

    def __init__(self, dataset, batch_size, shuffle=False, pin_memory=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pin_memory = pin_memory

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n = len(self.dataset)
        order = torch.randperm(n).numpy() if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                idx = slice(start, start + self.batch_size)
            else:
                idx = np.sort(order[start:start + self.batch_size])
            Xb = batch_tensor(X[idx], self.pin_memory)
            yb = None
            if y is not None:  # targets (k, horizon, n_targets) -> (k, horizon * n_targets)
                yb = batch_tensor(y[idx], self.pin_memory).reshape(len(Xb), -1)
            yield Xb, yb


def batch_tensor(rows, pin_memory=False):
    """A writable float32 C-order tensor of one batch of rows, copied at most once.

    A strided or float64 slice is copied by the cast; a fancy-indexed one is already a
    fresh array; a slice that is already contiguous float32 (of a read-only view, say)
    is copied so that torch never wraps memory it must not write.
    """
    array = np.ascontiguousarray(rows, dtype=np.float32)
    if np.shares_memory(array, rows) and not (rows.flags.owndata and rows.flags.writeable):
        array = array.copy()  # no cast happened and the memory is the caller's
    tensor = torch.from_numpy(array)
    return tensor.pin_memory() if pin_memory else tensor
