import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklattn import AttentionRNNRegressor, WindowScaler, make_windows


def test_per_feature_statistics_and_inverse():
    rng = np.random.default_rng(0)
    series = rng.standard_normal((300, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
    X, _ = make_windows(series, lookback=12, horizon=1, dtype=np.float64)
    scaler = WindowScaler().fit(X)
    Xt = scaler.transform(X)
    assert Xt.shape == X.shape
    np.testing.assert_allclose(Xt.reshape(-1, 3).mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(Xt.reshape(-1, 3).std(0), 1, atol=1e-10)
    np.testing.assert_allclose(scaler.inverse_transform(Xt), X)
    X_before = X.copy()
    scaler.transform(X)
    np.testing.assert_array_equal(X, X_before)


def test_2d_windows_are_one_feature_and_keep_their_shape():
    X = np.arange(40.0).reshape(8, 5)
    scaler = WindowScaler().fit(X)
    assert scaler.mean_.shape == (1,) and scaler.transform(X).shape == (8, 5)
    np.testing.assert_allclose(scaler.mean_, [X.mean()])


def test_wrong_feature_count_is_rejected():
    scaler = WindowScaler().fit(np.ones((4, 3, 2)))
    with pytest.raises(ValueError, match="expecting 2 features"):
        scaler.transform(np.ones((4, 3, 5)))


def test_in_a_pipeline_in_front_of_the_forecaster():
    rng = np.random.default_rng(0)
    series = np.cumsum(rng.standard_normal((400, 2)), axis=0) * 50 + 1000
    X, y = make_windows(series, lookback=10, horizon=1, targets=[0])
    pipe = make_pipeline(WindowScaler(),
                         AttentionRNNRegressor(hidden_size=8, max_epochs=3, random_state=0))
    pipe.fit(X[:300], y[:300])
    assert pipe.predict(X[300:]).shape == y[300:].shape
    scaler = pipe[0]
    assert scaler.mean_.shape == (2,) and np.all(scaler.scale_ > 1)
