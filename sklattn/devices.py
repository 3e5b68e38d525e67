"""Naming devices: which of them is a CUDA GPU."""

import torch

__all__ = ["is_cuda"]


def is_cuda(device):
    """Whether ``device`` ("cuda", "cuda:1", a ``torch.device``...) is a CUDA device.

    Works without CUDA: it only parses the name.
    """
    return torch.device(device).type == "cuda"
