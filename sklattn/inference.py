"""Running a trained module over windows for inference: batched, in eval mode, without
gradients, the output allocated once."""

from contextlib import nullcontext

import numpy as np
import torch

from .batching import RowBatches
from .progress import batch_progress
from .threads import torch_threads

__all__ = ["MIN_INFERENCE_BLOCK", "run_in_batches"]

# Windows every inference batch is padded up to (see run_in_batches).
MIN_INFERENCE_BLOCK = 8


def run_in_batches(module, X, forward, *, batch_size, device="cpu", n_threads=None,
                   autocast=None, progress_label=None):
    """Return ``forward(module, X_batch)`` over every window of ``X``, stacked.

    Batches of ``batch_size`` windows are cast to float32 one at a time, so float64 or
    strided windows are never copied whole; the output is allocated once, as float64.

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

    Returns
    -------
    out : ndarray of shape (n_windows, ...), float64
    """
    n = len(X)
    batch_size = max(batch_size, MIN_INFERENCE_BLOCK)
    small = n <= MIN_INFERENCE_BLOCK and str(device) == "cpu"
    out = None
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
                if out is None:
                    out = np.empty((n,) + tuple(result.shape[1:]), dtype=np.float64)
                out[start:start + k] = result.cpu().numpy()
    finally:
        module.train(was_training)
    return out
