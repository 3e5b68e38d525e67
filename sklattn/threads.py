"""How many threads torch computes with, set for the duration of one call."""

from contextlib import contextmanager

import torch

__all__ = ["torch_threads"]


@contextmanager
def torch_threads(n_threads):
    """Run the block with ``n_threads`` torch intra-op threads, then restore the setting.

    ``None`` leaves torch's setting alone. The setting is process-wide: two Python
    threads using torch at once see each other's choice (results do not change, only
    speed).
    """
    if n_threads is None or n_threads == torch.get_num_threads():
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
