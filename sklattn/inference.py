"""Running a trained module over windows for inference: batched, in eval mode, without
gradients, the output allocated once.

On a GPU the batches' results stay on the device and are copied back a block at a time
(at most ``DEVICE_OUTPUT_BYTES`` held there): reading a result (``.cpu()``) waits for the
GPU, and doing it after every batch kept the CPU from gathering and queueing the next
batch while the GPU worked.
"""

from contextlib import nullcontext

import numpy as np
import torch

from .batching import RowBatches
from .devices import is_cuda
from .progress import batch_progress
from .threads import torch_threads

__all__ = ["DEVICE_OUTPUT_BYTES", "MIN_INFERENCE_BLOCK", "run_in_batches"]

# Windows every inference batch is padded up to (see run_in_batches).
MIN_INFERENCE_BLOCK = 8

# Results kept on a GPU before they are copied to the output in one read.
DEVICE_OUTPUT_BYTES = 256 * 2**20


def _defer_reads(device):
    """Whether results stay on ``device`` until a block of them is read back."""
    return is_cuda(device)


def run_in_batches(module, X, forward, *, batch_size, device="cpu", n_threads=None,
                   autocast=None, progress_label=None, dtype=np.float64):
    """Return ``forward(module, X_batch)`` over every window of ``X``, stacked.

    Batches of ``batch_size`` windows are cast to float32 one at a time, so float64 or
    strided windows are never copied whole; the output is allocated once, as ``dtype``.

    A batch of fewer than ``MIN_INFERENCE_BLOCK`` windows is padded with zero windows up
    to it, and a request that small runs on one thread on a CPU: float32 matrix products
    take other kernels (another summation order) for very few rows or threads splitting
    very little work, so without this a window's forecast would depend, in its last bits,
    on how many windows were predicted with it (measured: 1-2 units in the last place
    for 1-7 windows, none from 4 windows up). One thread also spares a tiny request the
    wake-up of sleeping threads.

    Parameters
    ----------
    module : torch.nn.Module
        Put in eval mode for the call, then back in its mode.
    X : ndarray of shape (n_windows, lookback, n_features)
    forward : callable
        ``forward(module, X_batch)`` returns a tensor whose first axis is the batch's.
    batch_size : int
        Windows per batch (at least ``MIN_INFERENCE_BLOCK``).
    device : str, default="cpu"
        Where the batches are sent.
    n_threads : int or None, default=None
        torch threads for the call (None: torch's setting).
    autocast : callable or None, default=None
        Returns the autocast context each batch runs in (mixed precision).
    progress_label : str or None, default=None
        Show a progress bar over the batches with this label.
    dtype : numpy float dtype, default=np.float64
        The output's dtype. The module computes in float32 (or lower), so float32 loses
        nothing and halves the output; float64 is for callers that promise it.

    Returns
    -------
    out : ndarray of shape (n_windows, ...), of ``dtype``
    """
    n = len(X)
    batch_size = max(batch_size, MIN_INFERENCE_BLOCK)
    small = n <= MIN_INFERENCE_BLOCK and str(device) == "cpu"
    output = _Output(n, defer=_defer_reads(device), dtype=dtype)
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode(), torch_threads(1 if small else n_threads):
            rows = RowBatches(X)
            starts = range(0, n, batch_size)
            if progress_label is not None:
                starts = batch_progress(starts, len(starts), progress_label)
            for start in starts:
                Xb = rows.take(slice(start, start + batch_size))
                k = len(Xb)
                if k < MIN_INFERENCE_BLOCK:
                    Xb = torch.cat([Xb, Xb.new_zeros((MIN_INFERENCE_BLOCK - k,) + Xb.shape[1:])])
                with (autocast or nullcontext)():
                    result = forward(module, Xb.to(device))[:k].float()
                output.add(result)
            return output.finish()
    finally:
        module.train(was_training)


class _Output:
    """The output array (of ``dtype``), filled batch by batch in order.

    With ``defer``, results are kept as device tensors and read back in one copy per
    ``DEVICE_OUTPUT_BYTES`` of them (and at the end) instead of one per batch.
    """

    def __init__(self, n, defer, dtype=np.float64):
        self.n, self.defer, self.dtype = n, defer, dtype
        self.array = None
        self.filled = 0  # rows written to the array
        self.pending, self.pending_bytes = [], 0

    def add(self, result):
        if self.array is None:
            self.array = np.empty((self.n,) + tuple(result.shape[1:]), dtype=self.dtype)
        if not self.defer:
            self._write(result)
            return
        self.pending.append(result)
        self.pending_bytes += result.numel() * result.element_size()
        if self.pending_bytes >= DEVICE_OUTPUT_BYTES:
            self._flush()

    def finish(self):
        self._flush()
        return self.array

    def _flush(self):
        if self.pending:
            block = self.pending[0] if len(self.pending) == 1 else torch.cat(self.pending)
            self.pending, self.pending_bytes = [], 0
            self._write(block)

    def _write(self, block):
        k = len(block)
        self.array[self.filled:self.filled + k] = block.cpu().numpy()
        self.filled += k
