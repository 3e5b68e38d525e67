"""Mini-batches made by one index into the window array.

skorch's default ``DataLoader`` fetches windows one at a time and collates them; here a
batch is ``X[indices]``: one copy of exactly the windows in the batch, whatever strided
view ``X`` is.
"""

import numpy as np
import torch

__all__ = ["WindowBatches"]


class WindowBatches:
    """Iterate ``(X_batch, y_batch)`` tensors over a skorch ``Dataset``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds NumPy arrays ``X`` and ``y`` (``y`` may be None when predicting).
    batch_size : int
    shuffle : bool, default=False
        Draw a new permutation (from torch's global RNG) every epoch.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

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
            Xb = torch.from_numpy(np.array(X[idx], order="C"))
            yb = torch.from_numpy(np.array(y[idx], order="C")) if y is not None else None
            yield Xb, yb
