import subprocess
import sys

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from sklattn.batching import RowBatches, WindowBatches


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_row_batches_gather_like_numpy_into_fresh_float32_c_tensors(dtype, order):
    from sklattn.batching import RowBatches

    series = np.asarray(np.arange(60 * 3).reshape(60, 3), dtype=dtype, order=order)
    # Windows of the series as make_windows lays them out: a read-only strided view.
    X = np.lib.stride_tricks.sliding_window_view(series, 5, axis=0).transpose(0, 2, 1)
    rows = RowBatches(X)
    for index in (slice(3, 11), np.array([0, 4, 5, 40, 55])):
        batch = rows.take(index)
        assert batch.dtype == torch.float32 and batch.is_contiguous()
        np.testing.assert_array_equal(batch.numpy(), X[index].astype(np.float32))
        batch += 1  # a copy: the series is untouched
    np.testing.assert_array_equal(series, np.arange(60 * 3).reshape(60, 3))


def test_row_batches_copy_a_contiguous_float32_slice_and_read_negative_strides():
    from sklattn.batching import RowBatches

    X = np.arange(40, dtype=np.float32).reshape(10, 4, 1)
    batch = RowBatches(X).take(slice(2, 5))  # already float32 C order: still copied
    assert not np.shares_memory(batch.numpy(), X)
    reversed_ = X[::-1]  # torch cannot share negative strides: NumPy gathers them
    np.testing.assert_array_equal(RowBatches(reversed_).take(np.array([1, 3])).numpy(),
                                  reversed_[[1, 3]])


def test_read_only_windows_raise_no_torch_warning():
    # torch warns once per process, so a fresh process: the first read-only array it
    # shares is the one RowBatches wraps.
    # Warnings become errors only around the call: what importing other packages may
    # warn (skorch imports torch_geometric where it is installed) is not this test's.
    code = ("import warnings, numpy as np; from sklattn.batching import RowBatches; "
            "X = np.zeros((6, 3)); X.flags.writeable = False; "
            "warnings.simplefilter('error'); RowBatches(X).take(slice(0, 2))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_view_reads_the_rows_where_they_lie(dtype):
    base = np.asfortranarray(np.arange(120, dtype=dtype).reshape(40, 3))
    X = np.lib.stride_tricks.sliding_window_view(base, 6, axis=0).transpose(0, 2, 1)
    rows = RowBatches(X)
    view = rows.view(slice(4, 12))
    assert view.dtype == torch.from_numpy(base).dtype and view.shape == (8, 6, 3)
    assert np.shares_memory(view.numpy(), base)  # no copy
    np.testing.assert_array_equal(view.numpy(), X[4:12])
    np.testing.assert_array_equal(rows.take(slice(4, 12)).numpy(), X[4:12].astype(np.float32))


def test_a_view_of_rows_torch_cannot_share_is_a_copy():
    X = np.arange(24, dtype=np.float32).reshape(6, 4, 1)[::-1]  # negative strides
    view = RowBatches(X).view(slice(0, 3))
    assert not np.shares_memory(view.numpy(), X)
    np.testing.assert_array_equal(view.numpy(), X[:3])
