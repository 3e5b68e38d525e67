import pytest
import torch

from sklattn.devices import is_cuda


@pytest.mark.parametrize("device, expected", [
    ("cuda", True), ("cuda:1", True), (torch.device("cuda", 0), True),
    ("cpu", False), (torch.device("cpu"), False), ("meta", False),
])
def test_is_cuda_reads_the_device_type_without_needing_cuda(device, expected):
    assert is_cuda(device) is expected
