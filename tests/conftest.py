import os
from pathlib import Path

import numpy as np
import pytest
import torch

# Lets scikit-learn's check_array_api_input run (with NumPy inputs) instead of skipping.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# Under pytest-xdist (pyproject's "-n auto": one worker process per core), one torch
# thread per worker: more busy threads than cores stall OpenMP badly.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)



def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core this process may run on, at most 4 (each worker
    holds its own torch, about half a GB)."""
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return max(1, min(4, cores))


def pytest_collection_modifyitems(items):
    """The long tests (real-data and planted-lag training, the Dask cluster) first, in
    their order, then the rest in theirs: pytest-xdist's workers then take the short tests
    last and finish together, instead of one worker ending on a minute-long fit alone."""
    is_long = [bool(item.get_closest_marker("quality") or item.get_closest_marker("cluster"))
               for item in items]
    items[:] = ([item for item, long in zip(items, is_long) if long]
                + [item for item, long in zip(items, is_long) if not long])


# The benchmark files: ../shared/data beside the checkout (CI's clone has them too).
DATA_HOME = Path(os.environ.get("SKLATTN_DATA_HOME",
                                Path(__file__).resolve().parents[2] / "shared" / "data"))
needs_data = pytest.mark.skipif(not (DATA_HOME / "ETTh1.csv.gz").is_file(),
                                reason=f"benchmark data not found in {DATA_HOME}")


@pytest.fixture
def lagged_windows():
    """Small planted-lag windows (200 steps, lookback 12, horizon 2, target "target")."""
    from sklattn import make_windows
    from sklattn.datasets import make_lagged_series

    series, _ = make_lagged_series(n_steps=200, random_state=0)
    return make_windows(series, lookback=12, horizon=2, targets="target")


def _assert_same_forecast(actual, expected, model):
    """Bit for bit on CPU (what sklattn promises); within float32 rounding on CUDA, whose
    libraries choose kernels by batch size (an H200 moved forecasts by up to 5e-7 when
    only the batching changed)."""
    if str(model.net_.device).startswith("cuda"):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(actual, expected)


@pytest.fixture
def assert_same_forecast():
    """``assert_same_forecast(actual, expected, model)``: see ``_assert_same_forecast``."""
    return _assert_same_forecast
