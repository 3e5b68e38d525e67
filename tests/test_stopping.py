"""Early stopping from the start: the untrained model is epoch 0 (sklattn/stopping.py),
and with anchor="last" that start is the last-value forecast."""

import numpy as np
import pandas as pd
import pytest

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    make_windows,
)

ESTIMATORS = {
    "linear": lambda: LinearForecaster(),
    "rnn": lambda: AttentionRNNRegressor(hidden_size=8, segment_len=1),
    "patch": lambda: TransformerForecaster(tokens="patch", d_model=8, n_layers=1, d_ff=16),
}


@pytest.fixture(scope="module")
def walk():
    """A random walk and a noise feature: nothing in the window predicts the next steps
    better than the last value."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"walk": np.cumsum(rng.standard_normal(700)),
                          "noise": rng.standard_normal(700)})
    return make_windows(frame, lookback=24, horizon=4, targets="walk")


@pytest.mark.parametrize("name", ESTIMATORS)
def test_untrained_anchored_model_is_the_naive_forecast(walk, name):
    X, y = walk
    model = ESTIMATORS[name]().set_params(max_epochs=1, early_stopping=False, lr=1e-12,
                                          random_state=0)
    forecast = model.fit(X, y).predict(X)
    np.testing.assert_allclose(forecast, NaiveForecaster().fit(X, y).predict(X), atol=1e-5)
    assert model.best_epoch_ == 1


@pytest.mark.parametrize("name", ESTIMATORS)
def test_start_is_scored_on_the_holdout_and_kept_when_no_epoch_beats_it(walk, name):
    X, y = walk
    # A learning rate far too high: every trained epoch is worse than the start.
    model = ESTIMATORS[name]().set_params(max_epochs=3, patience=2, lr=0.5, random_state=0)
    model.fit(X, y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    n_holdout = model._holdout_size(len(X))
    naive = NaiveForecaster().fit(X, y)
    naive_holdout_mse = np.mean((naive.predict(X[-n_holdout:]) - y[-n_holdout:]) ** 2)
    assert stopper.start_score_ == pytest.approx(naive_holdout_mse, rel=1e-4)
    assert all(row["valid_loss"] > stopper.start_score_ for row in model.net_.history)
    assert model.best_epoch_ == 0
    np.testing.assert_allclose(model.predict(X), naive.predict(X), atol=1e-5)


def test_a_trained_epoch_that_beats_the_start_is_kept():
    t = np.arange(600)
    frame = pd.DataFrame({"a": np.sin(2 * np.pi * t / 12)})
    X, y = make_windows(frame, lookback=24, horizon=6, targets="a")
    model = LinearForecaster(max_epochs=20, lr=1e-2, random_state=0).fit(X, y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    assert model.best_epoch_ >= 1
    best = model.net_.history[model.best_epoch_ - 1]["valid_loss"]
    assert best < 0.1 * stopper.start_score_


def test_without_anchor_the_start_is_random_not_naive(walk):
    X, y = walk
    model = LinearForecaster(anchor=None, max_epochs=1, early_stopping=False, lr=1e-12,
                             random_state=0).fit(X, y)
    naive = NaiveForecaster().fit(X, y).predict(X)
    assert np.abs(model.predict(X) - naive).max() > 0.1
