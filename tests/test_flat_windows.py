"""2D clients of scikit-learn: windows flattened to rows, and names that follow the data."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    WindowedArray,
    make_windows,
)
from sklattn.datasets import make_lagged_series

FAST = dict(max_epochs=2, batch_size=32, random_state=0)
ESTIMATORS = [
    NaiveForecaster(),
    LinearForecaster(**FAST),
    AttentionRNNRegressor(hidden_size=8, **FAST),
    TransformerForecaster(tokens="patch", patch_len=4, d_model=8, n_heads=2, n_layers=1,
                          d_ff=16, **FAST),
    TransformerForecaster(tokens="variate", d_model=8, n_heads=2, n_layers=1, d_ff=16, **FAST),
]
IDS = ["naive", "linear", "rnn", "patch", "variate"]


@pytest.fixture(scope="module")
def windows():
    series, _ = make_lagged_series(300, lag=3, random_state=0)
    return make_windows(series, lookback=8, horizon=2, targets="target")


def flat(X):
    return np.asarray(X).reshape(len(X), -1)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_flattened_rows_predict_as_windows(estimator, windows):
    X, y = windows
    model = estimator.fit(X, y)
    lookback, n_features = X.shape[1:]
    assert model.n_features_in_ == lookback * n_features
    np.testing.assert_allclose(model.predict(flat(X)), model.predict(np.asarray(X)),
                               rtol=1e-6, atol=1e-6)
    # what a 2D client such as MAPIE builds from n_features_in_
    assert model.predict(np.zeros((1, model.n_features_in_))).shape == (1, 2, 1)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_fit_on_flattened_rows_with_lookback_matches_fit_on_windows(estimator, windows):
    X, y = windows
    on_windows = estimator.fit(X, y).predict(np.asarray(X))
    # plain rows carry no target position: say it (y from make_windows told it above)
    flat_model = clone(estimator).set_params(lookback=X.shape[1], target_features=[0])
    flat_model.fit(flat(X), np.asarray(y))
    assert flat_model.window_shape_ == X.shape[1:]
    np.testing.assert_allclose(flat_model.predict(flat(X)), on_windows, rtol=1e-5, atol=1e-5)


def test_2d_without_lookback_is_univariate_windows(windows):
    X, y = windows
    model = NaiveForecaster().fit(flat(X)[:, -8:], np.asarray(y)[:, :, 0])
    assert model.window_shape_ == (8, 1) and model.n_features_in_ == 8


def test_flat_names_and_dataframe_rows(windows):
    X, y = windows
    model = NaiveForecaster().fit(X, y)
    names = list(model.feature_names_in_)
    assert names[:2] == ["target[t-7]", "driver[t-7]"] and names[-1].endswith("[t]")
    rows = pd.DataFrame(flat(X), columns=names)
    np.testing.assert_array_equal(model.predict(rows), model.predict(X))
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(rows[names[::-1]])


def test_bad_flattened_shapes_are_refused(windows):
    X, y = windows
    with pytest.raises(ValueError, match="not a multiple of lookback=3"):
        NaiveForecaster(lookback=3).fit(flat(X), np.asarray(y))
    with pytest.raises(ValueError, match="lookback=5"):
        NaiveForecaster(lookback=5).fit(X, y)
    model = NaiveForecaster().fit(X, y)
    with pytest.raises(ValueError, match=f"expecting {model.n_features_in_} features"):
        model.predict(flat(X)[:, 1:])


def test_reordered_or_sliced_columns_are_refused_at_predict(windows):
    X, y = windows
    model = LinearForecaster(**FAST).fit(X, y)
    order = [0, 2, 3, 1]
    assert list(X[:, :, order].feature_names) == [X.feature_names[i] for i in order]
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(X[:, :, order])
    with pytest.raises(ValueError, match="3 features per step"):
        model.predict(X[:, :, :3])


def test_names_must_match_the_feature_axis():
    with pytest.raises(ValueError, match="feature_names has 3 entries .* has 2"):
        WindowedArray(np.ones((4, 5, 2)), feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="target_features has 1 entries"):
        WindowedArray(np.ones((4, 5, 2)), target_features=[0])
