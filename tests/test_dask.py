"""GridSearchCV on a Dask cluster (loopback LocalCluster) through joblib's Dask backend."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from sklattn import LinearForecaster, WindowTimeSeriesSplit

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.cluster


def test_grid_search_runs_on_the_cluster_workers_and_matches_a_local_search(
        lagged_windows):
    from distributed import Client, LocalCluster, get_task_stream
    from joblib import parallel_backend

    X, y = lagged_windows
    search = GridSearchCV(
        LinearForecaster(max_epochs=2, early_stopping=False, random_state=0, n_threads=1),
        {"lr": [1e-3, 1e-2], "decomposition": [True, False]},
        cv=WindowTimeSeriesSplit(n_splits=2, lookback=12, horizon=2))
    local = GridSearchCV(**search.get_params(deep=False)).fit(X, y)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with get_task_stream(client) as tasks, parallel_backend("dask"):
            search.fit(X, y)
        workers = {task["worker"] for task in tasks.data}
    assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    # the same seeds and one torch thread per fit: the same scores as a local search
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=1e-6)
    assert search.best_params_ == local.best_params_


def test_windowed_arrays_cross_dask_serialisation_whole():
    # Dask imported after sklattn: this process (the cluster test above also relies on
    # it). Dask imported first: a fresh process.
    import subprocess
    import sys

    from distributed.protocol import deserialize, serialize

    from sklattn import make_windows

    _, y = make_windows(np.arange(40.0).reshape(20, 2), 4, 2, targets=[1])
    back = deserialize(*serialize(y))
    assert type(back) is type(y) and list(back.target_features) == [1]
    np.testing.assert_array_equal(back, y)
    code = "; ".join([
        "import distributed", "import sklattn", "import numpy as np",
        "from distributed.protocol import serialize, deserialize",
        "X, y = sklattn.make_windows(np.arange(40.0).reshape(20, 2), 4, 2, targets=[1])",
        "z = deserialize(*serialize(y))",
        "assert type(z).__name__ == 'WindowedArray', type(z)",
        "assert list(z.target_features) == [1], z.target_features",
    ])
    subprocess.run([sys.executable, "-c", code], check=True)
