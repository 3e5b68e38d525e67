"""The bar the issue sets, in small: on real data every estimator with its default
normalisation beats the last value, and without normalisation the RNN does not.

ETTh1, target OT from all 7 variables, lookback 96, horizon 24, standard split, z-scaled
on the training rows; every training window, but only 3 epochs, so the module runs in
about a minute. The full-size comparison is benchmarks/longterm.py.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    make_windows,
)
from sklattn.datasets import benchmark_split, load_benchmark

from .conftest import DATA_HOME, needs_data

LOOKBACK, HORIZON = 96, 24


# Model quality, not scikit-learn's API: .ci/run skips these on the oldest scikit-learn.
pytestmark = pytest.mark.quality


@pytest.fixture(scope="module")
def etth1():
    series = load_benchmark("ETTh1", data_home=DATA_HOME)
    train, _, test = benchmark_split(series, LOOKBACK, name="ETTh1")
    scaler = StandardScaler().fit(train)
    frame = lambda rows: pd.DataFrame(scaler.transform(rows), columns=series.columns)  # noqa: E731
    X, y = make_windows(frame(train), LOOKBACK, HORIZON, targets="OT")
    X_test, y_test = make_windows(frame(test), LOOKBACK, HORIZON, targets="OT")
    naive = np.mean((NaiveForecaster().fit(X, y).predict(X_test) - y_test) ** 2)
    return X, y, X_test, y_test, naive


def _mse(model, etth1):
    X, y, X_test, y_test, _ = etth1
    model.fit(X, y)
    assert model.target_features_ == [6]  # OT, read from y without being told
    return float(np.mean((model.predict(X_test) - y_test) ** 2))


FAST = dict(max_epochs=3, random_state=0)


@needs_data
@pytest.mark.parametrize("model", [
    LinearForecaster(**FAST),
    AttentionRNNRegressor(hidden_size=32, **FAST),
    AttentionRNNRegressor(hidden_size=32, attention="none", **FAST),
    TransformerForecaster(tokens="patch", **FAST),
    TransformerForecaster(tokens="variate", **FAST),
], ids=["linear", "rnn-additive", "rnn-none", "patch", "variate"])
def test_defaults_beat_the_last_value_on_etth1(etth1, model):
    assert _mse(model, etth1) < etth1[4]


@needs_data
def test_without_normalisation_the_rnn_loses_to_the_last_value(etth1):
    # The failure the normalisation fixes: the level moves between training and test.
    model = AttentionRNNRegressor(hidden_size=32, normalization=None, linear_skip=False,
                                  **FAST)
    assert _mse(model, etth1) > etth1[4]
