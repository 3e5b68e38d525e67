"""No full copy of the windows or targets on the fit and predict paths.

tracemalloc sees NumPy's allocations (not torch's), which is where a whole-array copy
of windows or targets would be made (a cast, a reshape of a strided view, a fancy index).
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from skorch.callbacks import Callback

from sklattn import AttentionRNNRegressor, LinearForecaster, TransformerForecaster, make_windows
from sklattn._validation import check_window_targets, check_windows

# 30k steps: a float32 copy of the windows (44 MiB) is at least 1.6 times predict's bound.
N_STEPS, LOOKBACK, HORIZON = 30_000, 96, 24


class _StopAfter(Callback):
    """End fit after a few batches, as an interrupt does (skorch keeps the net)."""

    def on_batch_end(self, net, **kwargs):
        raise KeyboardInterrupt


def _series(dtype, order, frame):
    rng = np.random.default_rng(0)
    values = np.asarray(rng.standard_normal((N_STEPS, 4)).cumsum(axis=0), dtype=dtype,
                        order=order)
    return pd.DataFrame(values, columns=list("abcd")) if frame else values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_validation_returns_views_of_strided_windows(dtype):
    X, y = make_windows(_series(dtype, "F", frame=True), 8, 3, dtype=dtype)
    Xv, _ = check_windows(X)
    y3, shape = check_window_targets(y, len(X))
    assert np.shares_memory(Xv, X) and np.shares_memory(y3, y)
    assert Xv.dtype == y3.dtype == dtype and shape == (3, 4)


LAYOUTS = [(np.float64, "F", True, None), (np.float64, "C", False, [3]),
           (np.float32, "C", False, None), (np.float32, "F", False, [0, 3])]


@pytest.mark.parametrize("dtype, order, frame, targets", LAYOUTS)
@pytest.mark.parametrize("make", [
    lambda: LinearForecaster(max_epochs=1, callbacks=[_StopAfter()], random_state=0),
    lambda: AttentionRNNRegressor(hidden_size=8, max_epochs=1, callbacks=[_StopAfter()],
                                  random_state=0),
    lambda: TransformerForecaster(d_model=8, n_layers=1, d_ff=16, max_epochs=1,
                                  callbacks=[_StopAfter()], random_state=0),
])
def test_fit_and_predict_never_copy_the_windows(make, dtype, order, frame, targets):
    X, y = make_windows(_series(dtype, order, frame), LOOKBACK, HORIZON, targets=targets,
                        dtype=dtype)
    windows_bytes = len(X) * LOOKBACK * 4 * 4  # the windows, materialised in float32
    series_bytes = N_STEPS * 4 * 8
    # A warm-up fit and predict first: the first fit in a process imports parts of torch
    # lazily (torch._dynamo, sympy: ~65 MB of Python objects), which are not copies.
    X_small, y_small = make_windows(_series(dtype, order, frame)[:400], LOOKBACK, HORIZON,
                                    targets=targets, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few windows for early stopping: fine here
        make().fit(X_small, y_small).predict(X_small)
    model = make()
    tracemalloc.start()
    try:
        model.fit(X, y)
        _, fit_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        pred = model.set_params(predict_batch_size=512).predict(X)
        _, predict_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fit_peak < 3 * series_bytes < windows_bytes / 10
    # predict holds its output once, plus a batch or two.
    assert predict_peak - before < pred.nbytes + 4 * 512 * LOOKBACK * 4 * 8
