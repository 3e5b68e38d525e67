import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from sklattn.batching import WindowBatches


def test_batches_cover_every_window_once_in_order_or_shuffled():
    X = np.arange(50, dtype=np.float32).reshape(10, 5, 1)
    y = np.arange(10, dtype=np.float32)[:, None]
    ordered = list(WindowBatches(Dataset(X, y), batch_size=4))
    assert [len(b[0]) for b in ordered] == [4, 4, 2]
    np.testing.assert_array_equal(torch.cat([b[1] for b in ordered]).numpy(), y)
    torch.manual_seed(0)
    shuffled = list(WindowBatches(Dataset(X, y), batch_size=4, shuffle=True))
    seen = torch.cat([b[1] for b in shuffled]).numpy().ravel()
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    for Xb, yb in shuffled:  # X and y stay paired
        np.testing.assert_array_equal(Xb[:, 0, 0].numpy() / 5, yb[:, 0].numpy())


def test_batch_is_a_copy_of_a_read_only_view():
    base = np.arange(100, dtype=np.float32)
    X = np.lib.stride_tricks.sliding_window_view(base, 10)[:, :, None]
    (Xb, yb), *_ = WindowBatches(Dataset(X, None), batch_size=8)
    assert yb is None and Xb.shape == (8, 10, 1)
    Xb += 1  # writable, and writing does not reach the user's series
    assert base[0] == 0


def test_float64_windows_and_3d_targets_are_cast_and_flattened_per_batch():
    X = np.arange(60, dtype=np.float64).reshape(6, 5, 2)
    y = np.asfortranarray(np.arange(36, dtype=np.float64).reshape(6, 3, 2))
    (Xb, yb), (Xb2, yb2) = WindowBatches(Dataset(X, y), batch_size=4)
    assert Xb.dtype == yb.dtype == torch.float32
    assert Xb.shape == (4, 5, 2) and yb.shape == (4, 6) and yb2.shape == (2, 6)
    np.testing.assert_array_equal(yb.numpy(), y[:4].reshape(4, 6))  # C-order flattening
    np.testing.assert_array_equal(Xb2.numpy(), X[4:])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="pinned memory needs CUDA")
def test_pinned_batches():
    X = np.zeros((4, 3, 1), dtype=np.float32)
    (Xb, yb), = WindowBatches(Dataset(X, X[:, 0]), batch_size=4, pin_memory=True)
    assert Xb.is_pinned() and yb.is_pinned()


def test_batches_are_copied_once_and_never_wrap_the_callers_memory():
    from sklattn.batching import batch_tensor

    base = np.arange(40, dtype=np.float32).reshape(10, 4, 1)
    base.flags.writeable = False
    view = base[2:5]  # contiguous float32 already: copied, so torch may write
    tensor = batch_tensor(view)
    assert not np.shares_memory(tensor.numpy(), base) and tensor.numpy().flags.writeable
    fresh = np.arange(8, dtype=np.float32).reshape(2, 4, 1).copy()  # owned: used as it is
    assert np.shares_memory(batch_tensor(fresh).numpy(), fresh)
