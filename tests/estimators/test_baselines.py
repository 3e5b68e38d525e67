import numpy as np
import pandas as pd
import pytest

from sklattn import LinearForecaster, NaiveForecaster, make_windows
from sklattn.datasets import make_lagged_series

TINY = dict(max_epochs=5, random_state=0)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    t = np.arange(400)
    return pd.DataFrame({"a": np.sin(2 * np.pi * t / 12) + 0.01 * rng.standard_normal(400),
                         "b": np.cumsum(rng.standard_normal(400)),
                         "c": rng.standard_normal(400)})


def test_naive_repeats_each_targets_last_value(frame):
    X, y = make_windows(frame, lookback=24, horizon=5, targets=["b", "a"])
    forecast = NaiveForecaster().fit(X, y).predict(X)
    assert forecast.shape == y.shape
    np.testing.assert_array_equal(forecast[:, :, 0], np.repeat(X[:, -1:, 1], 5, axis=1))
    np.testing.assert_array_equal(forecast[:, :, 1], np.repeat(X[:, -1:, 0], 5, axis=1))


def test_seasonal_naive_repeats_the_last_season(frame):
    X, y = make_windows(frame, lookback=24, horizon=30, targets="a")
    model = NaiveForecaster(season_length=12).fit(X, y)
    forecast = model.predict(X)[..., 0]
    np.testing.assert_array_equal(forecast[:, :12], X[:, -12:, 0])
    np.testing.assert_array_equal(forecast[:, 12:24], X[:, -12:, 0])
    seasonal_mse = np.mean((forecast - y[..., 0]) ** 2)
    plain_mse = np.mean((NaiveForecaster().fit(X, y).predict(X) - y) ** 2)
    assert seasonal_mse < 0.01 < plain_mse  # the season is all there is to "a"


def test_naive_needs_targets_among_the_inputs_and_a_season_within_the_window(frame):
    X, y = make_windows(frame, lookback=24, horizon=5, targets="a")
    with pytest.raises(ValueError, match="every target must be an input feature"):
        NaiveForecaster().fit(np.asarray(X), np.asarray(y)[..., [0, 0]])
    with pytest.raises(ValueError, match="season_length=30 is longer"):
        NaiveForecaster(season_length=30).fit(X, y)


@pytest.mark.parametrize("decomposition", [True, False])
@pytest.mark.parametrize("normalization", ["revin", "last", None])
def test_linear_learns_a_seasonal_series(frame, decomposition, normalization):
    X, y = make_windows(frame, lookback=24, horizon=6, targets="a")
    model = LinearForecaster(decomposition=decomposition, normalization=normalization,
                             **{**TINY, "max_epochs": 30, "lr": 1e-2})
    model.fit(X[:300], y[:300])
    mse = np.mean((model.predict(X[330:]) - y[330:]) ** 2)
    naive_mse = np.mean((NaiveForecaster().fit(X, y).predict(X[330:]) - y[330:]) ** 2)
    assert mse < 0.2 * naive_mse


def test_linear_forecasts_a_target_that_is_not_an_input(frame):
    X, y = make_windows(frame, lookback=24, horizon=3, targets="a")
    X_other = np.asarray(X)[:, :, 1:]  # "a" itself is no longer an input
    model = LinearForecaster(**TINY).fit(X_other, np.asarray(y))
    assert model.target_features_ == [None]
    assert model.predict(X_other[:4]).shape == (4, 3, 1)


def test_linear_kernel_is_capped_at_the_lookback():
    series, _ = make_lagged_series(200, random_state=0)
    X, y = make_windows(series, lookback=8, horizon=2, targets="target")
    model = LinearForecaster(kernel_size=25, **TINY).fit(X, y)
    assert model.net_.module_.forecaster.kernel_size == 8
