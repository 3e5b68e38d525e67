"""Same random_state, same predictions, bit for bit, on CPU: across fits, processes and
GridSearchCV workers (with the same number of torch threads, which n_threads pins).
The promise is the CPU's, so the estimators are pinned to it (on a CUDA machine,
``device="auto"`` would train on the GPU, whose kernels make no such promise)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from sklattn import AttentionRNNRegressor, LinearForecaster, TransformerForecaster

ESTIMATORS = {
    "rnn": lambda: AttentionRNNRegressor(hidden_size=8, max_epochs=3, n_threads=1,
                                         random_state=7, device="cpu"),
    "patch": lambda: TransformerForecaster(d_model=8, n_layers=1, max_epochs=3, n_threads=1,
                                           random_state=7, device="cpu"),
    "linear": lambda: LinearForecaster(max_epochs=3, n_threads=1, random_state=7,
                                       device="cpu"),
}


def windows():
    """The conftest's lagged_windows, rebuilt here so a subprocess can make them too."""
    from sklattn import make_windows
    from sklattn.datasets import make_lagged_series

    series, _ = make_lagged_series(n_steps=200, random_state=0)
    return make_windows(series, lookback=12, horizon=2, targets="target")


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_same_seed_same_predictions_across_fits_and_processes(name, tmp_path):
    X, y = windows()
    first = ESTIMATORS[name]().fit(X, y).predict(X)
    np.testing.assert_array_equal(ESTIMATORS[name]().fit(X, y).predict(X), first)
    code = (f"import sys, numpy as np; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            "from test_determinism import ESTIMATORS, windows; X, y = windows(); "
            f"np.save('pred.npy', ESTIMATORS[{name!r}]().fit(X, y).predict(X))")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "pred.npy"), first)


def test_grid_search_in_two_workers_matches_one(lagged_windows):
    X, y = lagged_windows
    grid = {"lr": [1e-3, 1e-2]}
    scores = []
    for n_jobs in (1, 2):
        search = GridSearchCV(ESTIMATORS["linear"](), grid, cv=2, n_jobs=n_jobs).fit(X, y)
        scores.append(search.cv_results_["split0_test_score"])
        scores.append(search.cv_results_["split1_test_score"])
    np.testing.assert_array_equal(scores[:2], scores[2:])
