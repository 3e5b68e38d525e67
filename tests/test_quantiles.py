"""The quantiles option: pinball-loss training, predict_quantiles, never-crossing levels."""

import numpy as np
import pytest

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    load,
    make_windows,
    save,
)

ESTIMATORS = {
    "linear": lambda **kw: LinearForecaster(max_epochs=2, random_state=0, **kw),
    "rnn": lambda **kw: AttentionRNNRegressor(hidden_size=8, max_epochs=2, random_state=0,
                                              **kw),
    "rnn-recurrent": lambda **kw: AttentionRNNRegressor(
        hidden_size=8, context="recurrent", normalization_affine=True, max_epochs=2,
        random_state=0, **kw),
    "variate": lambda **kw: TransformerForecaster(tokens="variate", d_model=8, n_layers=1,
                                                  max_epochs=2, random_state=0, **kw),
}
# lagged_windows has too few windows for a hold-out: train without early stopping.
NO_HOLDOUT = {"early_stopping": False}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_quantiles_are_shaped_like_predict_and_never_cross(name, lagged_windows):
    X, y = lagged_windows
    model = ESTIMATORS[name](quantiles=[0.1, 0.5, 0.9], **NO_HOLDOUT).fit(X, y)
    quantiles = model.predict_quantiles(X)
    forecast = model.predict(X)
    assert quantiles.shape == forecast.shape + (3,)
    assert (np.diff(quantiles, axis=-1) > 0).all()
    np.testing.assert_array_equal(quantiles[..., 1], forecast)  # predict is the median
    if name != "linear":
        assert model.attention_weights(X).shape[0] == len(X)


def test_only_the_asked_levels_come_back_and_the_median_is_predict(lagged_windows):
    X, y = lagged_windows
    model = ESTIMATORS["linear"](quantiles=(0.05, 0.95), **NO_HOLDOUT).fit(X, y)
    quantiles = model.predict_quantiles(X)
    assert quantiles.shape == y.shape + (2,)
    forecast = model.predict(X)
    assert (quantiles[..., 0] < forecast).all() and (forecast < quantiles[..., 1]).all()


def test_pinball_training_learns_the_levels():
    # Noisy seasonal series: the 10% and 90% levels of the linear model's forecasts
    # should leave about 10% of later values below and above.
    rng = np.random.default_rng(0)
    t = np.arange(4000)
    series = np.sin(2 * np.pi * t / 24) + rng.normal(scale=0.3, size=len(t))
    X, y = make_windows(series, lookback=48, horizon=4)
    model = LinearForecaster(quantiles=(0.1, 0.9), max_epochs=8, random_state=0)
    model.fit(X[:3000], y[:3000])
    quantiles = model.predict_quantiles(X[3000:])
    below = (y[3000:] < quantiles[..., 0]).mean()
    above = (y[3000:] > quantiles[..., 1]).mean()
    assert 0.05 < below < 0.15 and 0.05 < above < 0.15


@pytest.mark.parametrize("quantiles", [[], [0.9, 0.1], [0.1, 0.1], [0.0, 0.5], [1.0],
                                       [True], ["0.1"]])
def test_bad_quantiles_are_refused_before_training(quantiles, lagged_windows):
    X, y = lagged_windows
    with pytest.raises(ValueError, match="increasing sequence of levels in"):
        LinearForecaster(quantiles=quantiles).fit(X, y)


def test_predict_quantiles_needs_the_option(lagged_windows):
    X, y = lagged_windows
    model = ESTIMATORS["linear"](**NO_HOLDOUT).fit(X, y)
    with pytest.raises(ValueError, match="fitted with quantiles=None"):
        model.predict_quantiles(X)
    assert not hasattr(NaiveForecaster(), "predict_quantiles")


def test_quantiles_and_calibration_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(0)
    X, y = make_windows(rng.normal(size=(900, 2)).cumsum(axis=0), lookback=10, horizon=2,
                        targets=[1])
    model = ESTIMATORS["rnn"](quantiles=(0.1, 0.9)).fit(X, y)
    assert len(model.calibration_residuals_) == 89
    save(model, tmp_path / "m.sklattn")
    loaded = load(tmp_path / "m.sklattn")
    np.testing.assert_array_equal(loaded.predict_quantiles(X), model.predict_quantiles(X))
    for got, want in zip(loaded.predict_interval(X), model.predict_interval(X)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(loaded.calibration_residuals_, model.calibration_residuals_)
