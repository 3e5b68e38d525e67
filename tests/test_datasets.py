import numpy as np
import pytest

from sklattn.datasets import make_lagged_series


def test_target_is_the_driver_lagged_plus_season_and_noise():
    series, lag = make_lagged_series(500, lag=7, period=24, noise=0.0, random_state=0)
    assert lag == 7 and list(series.columns[:2]) == ["target", "driver"]
    t = np.arange(500)
    residual = series["target"].to_numpy()[lag:] - 0.5 * np.sin(2 * np.pi * t[lag:] / 24)
    np.testing.assert_allclose(residual, series["driver"].to_numpy()[:-lag], atol=1e-12)


def test_target_cannot_be_predicted_without_the_lagged_driver():
    series, lag = make_lagged_series(5000, lag=5, random_state=1)
    target = series["target"].to_numpy()
    driver = series["driver"].to_numpy()
    corr = [abs(np.corrcoef(target[k:], driver[:-k])[0, 1]) for k in range(1, 12)]
    assert np.argmax(corr) + 1 == lag and corr[lag - 1] > 0.8
    assert max(c for k, c in enumerate(corr, 1) if k != lag) < 0.1


def test_reproducible_and_validated():
    a, _ = make_lagged_series(100, random_state=3)
    b, _ = make_lagged_series(100, random_state=3)
    assert a.equals(b) and a.shape == (100, 4)
    with pytest.raises(ValueError, match="lag"):
        make_lagged_series(100, lag=0)
    with pytest.raises(ValueError, match="exceed"):
        make_lagged_series(10, lag=12)
    with pytest.raises(TypeError, match="n_steps"):
        make_lagged_series(10.5)
