"""Mini-batches made by one index into the window array.

skorch's default ``DataLoader`` fetches windows one at a time and collates them; here a
batch is the rows of ``X`` at its indices, gathered by torch from a tensor that shares
the array's memory: one copy of exactly the windows in the batch, whatever strided view
``X`` is, cast to float32 there (so float64 windows are never cast whole).
"""

import warnings

import numpy as np
import torch

from .threads import torch_threads

__all__ = ["RowBatches", "WindowBatches", "batch_tensor"]


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
        X = RowBatches(self.dataset.X, self.pin_memory)
        y = None if self.dataset.y is None else RowBatches(self.dataset.y, self.pin_memory)
        n = len(self.dataset)
        order = torch.randperm(n).numpy() if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                idx = slice(start, start + self.batch_size)
            else:
                idx = np.sort(order[start:start + self.batch_size])
            Xb = X.take(idx)
            # targets (k, horizon, n_targets) -> (k, horizon * n_targets)
            yb = None if y is None else y.take(idx).reshape(len(Xb), -1)
            yield Xb, yb


class RowBatches:
    """Copies of rows of one array as writable float32 C-order tensors, one batch at a
    time, each copied once.

    The rows are gathered by torch (``index_select``) from a tensor that shares the
    array's memory. NumPy's fancy indexing keeps a strided source's layout (the windows
    of a DataFrame are feature-major), so its result had to be copied a second time into
    C order: 29 us against 22 us for 64 windows of 96 x 7 steps, 2.3 ms against 0.2-0.3
    ms for 1024. Arrays torch cannot share (negative strides, other dtypes) go through
    NumPy.

    Parameters
    ----------
    array : ndarray
        Rows along the first axis; never written to.
    pin_memory : bool, default=False
        Return batches in pinned memory.
    """

    def __init__(self, array, pin_memory=False):
        self.array = array
        self.pin_memory = pin_memory
        self.tensor = _shared_tensor(array)
        self._row_size = int(np.prod(np.shape(array)[1:]))

    def take(self, index):
        """The rows at ``index`` (a slice, or sorted integer positions)."""
        if self.tensor is None:
            return batch_tensor(self.array[index], self.pin_memory)
        n_rows = len(range(*index.indices(len(self.tensor)))) if isinstance(index, slice) \
            else len(index)
        # A small batch is gathered on one thread: waking sleeping threads (with
        # OMP_WAIT_POLICY=PASSIVE) cost more than the copy (64 windows of 96 x 7: 22 us
        # on one thread, 54 us on two).
        small = n_rows * self._row_size < _PARALLEL_GATHER_SIZE
        with torch_threads(1 if small else None):
            if isinstance(index, slice):  # a view of the caller's memory: always copied
                rows = self.tensor[index].to(
                    torch.float32, memory_format=torch.contiguous_format, copy=True)
            else:  # index_select already made a fresh tensor
                rows = self.tensor.index_select(0, torch.as_tensor(index, dtype=torch.long))
                rows = rows.to(torch.float32).contiguous()
        return rows.pin_memory() if self.pin_memory else rows

    def view(self, index):
        """The rows at slice ``index`` without a copy: a tensor that shares the array's
        memory, in its dtype (float32 or float64), for a reader that copies what it
        needs itself (the least-squares start). Never write to it. Where torch cannot
        share the array, a copy as :meth:`take` makes."""
        if self.tensor is None or self.pin_memory:
            return self.take(index)
        return self.tensor[index]


# Values per batch from which a gather uses all of torch's threads.
_PARALLEL_GATHER_SIZE = 2**18


def _shared_tensor(array):
    """A float tensor sharing ``array``'s memory, or None where torch cannot share it."""
    array = np.asarray(array)  # a plain view of a subclass such as WindowedArray
    if array.dtype not in (np.float32, np.float64) or any(s < 0 for s in array.strides):
        return None
    with warnings.catch_warnings():
        # torch warns (once per process) that a read-only array makes a tensor it must
        # not write to; this one is only read, by index_select and copies.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


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
