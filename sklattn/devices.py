"""Naming devices: which kind of device a name is, and whether it is a CUDA GPU."""

from functools import lru_cache

import torch

__all__ = ["device_type", "is_cuda"]


@lru_cache(maxsize=64)
def device_type(device):
    """The kind of ``device`` ("cpu", "cuda", ...), from a name ("cuda:1") or a
    ``torch.device``.

    Works without CUDA: it only parses the name. Cached: the training step asks it for
    every batch, and parsing the name there cost more than the answer is worth.
    """
    return torch.device(device).type


def is_cuda(device):
    """Whether ``device`` ("cuda", "cuda:1", a ``torch.device``...) is a CUDA device.

    Works without CUDA: it only parses the name.
    """
    return device_type(device) == "cuda"
