"""Early stopping with the last-value forecast as epoch 0 (sklattn/stopping.py,
baseline="last")."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import sklattn
from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    make_windows,
)

# Random starts: a least-squares start is a second epoch 0 candidate (test_warmstart.py).
ESTIMATORS = {
    "linear": lambda: LinearForecaster(init="random"),
    "rnn": lambda: AttentionRNNRegressor(hidden_size=8, segment_len=1, linear_skip=False),
    "patch": lambda: TransformerForecaster(tokens="patch", d_model=8, n_layers=1, d_ff=16,
                                           linear_skip=False),
    "variate": lambda: TransformerForecaster(tokens="variate", d_model=8, n_layers=1, d_ff=16,
                                             linear_skip=False),
}


@pytest.fixture(scope="module")
def walk():
    """A random walk and a noise feature: nothing in the window predicts the next steps
    better than the last value."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"walk": np.cumsum(rng.standard_normal(700)),
                          "noise": rng.standard_normal(700)})
    return make_windows(frame, lookback=24, horizon=4, targets="walk")


@pytest.mark.parametrize("name", [*ESTIMATORS, "linear-lstsq", "rnn-skip"])
def test_module_to_last_value_is_the_naive_forecast(walk, name):
    X, y = walk
    defaults = {"linear-lstsq": lambda: LinearForecaster(),
                "rnn-skip": lambda: AttentionRNNRegressor(hidden_size=8, segment_len=1)}
    model = {**ESTIMATORS, **defaults}[name]().set_params(max_epochs=1, early_stopping=False,
                                                          random_state=0)
    model.fit(X, y)
    naive = NaiveForecaster().fit(X, y).predict(X)
    assert np.abs(model.predict(X) - naive).max() > 1e-3  # trained: not the last value
    model.net_.module_.to_last_value()
    np.testing.assert_allclose(model.predict(X), naive, atol=1e-5)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_baseline_is_scored_on_the_holdout_and_kept_when_no_epoch_beats_it(walk, name,
                                                                          tmp_path):
    X, y = walk
    # A learning rate far too high: every trained epoch is worse than the last value. (At
    # lr=0.5 the clipped RNN stayed within 3% of it, and one seed on the CPU, seed 0 on an
    # H200, beat it by chance; at 5.0 every estimator's epochs scored 1.4x-300,000x its MSE.)
    model = ESTIMATORS[name]().set_params(max_epochs=3, patience=2, lr=5.0, random_state=0)
    model.fit(X, y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    n_holdout = model._holdout_size(len(X))
    naive = NaiveForecaster().fit(X, y)
    naive_holdout_mse = np.mean((naive.predict(X[-n_holdout:]) - y[-n_holdout:]) ** 2)
    assert stopper.baseline_score_ == pytest.approx(naive_holdout_mse, rel=1e-4)
    assert all(row["valid_loss"] > stopper.baseline_score_ for row in model.net_.history)
    assert model.best_epoch_ == 0
    np.testing.assert_allclose(model.predict(X), naive.predict(X), atol=1e-5)
    # the kept baseline survives pickling and saving, and the interval calibration uses it
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    sklattn.save(model, tmp_path / "model.sklattn")
    np.testing.assert_array_equal(sklattn.load(tmp_path / "model.sklattn").predict(X),
                                  model.predict(X))
    lower, upper = model.predict_interval(X[-5:])
    assert np.all(lower <= naive.predict(X[-5:])) and np.all(naive.predict(X[-5:]) <= upper)
    if hasattr(model, "attention_weights"):  # weights the forecast does not use: said so
        with pytest.warns(UserWarning, match="best_epoch_=0"):
            model.attention_weights(X[:3])


def test_attention_weights_of_a_trained_epoch_come_without_a_warning():
    t = np.arange(600)
    frame = pd.DataFrame({"a": np.sin(2 * np.pi * t / 12), "b": np.cos(2 * np.pi * t / 12)})
    X, y = make_windows(frame, lookback=24, horizon=2, targets="a")
    model = AttentionRNNRegressor(hidden_size=8, segment_len=1, linear_skip=False,
                                  max_epochs=5, lr=1e-2, random_state=0).fit(X, y)
    assert model.best_epoch_ >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.attention_weights(X[:3]).shape == (3, 1, 24)


def test_training_starts_from_the_modules_own_start_not_the_baseline(walk):
    X, y = walk
    model = LinearForecaster(init="random", max_epochs=1, patience=1, lr=1e-12, random_state=0)
    model.fit(X, y)
    plain = LinearForecaster(init="random", max_epochs=1, early_stopping=False, lr=1e-12,
                             random_state=0)
    plain.fit(X, y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    # with no learning at all, the epoch is the random start: worse than the last value
    assert model.net_.history[-1]["valid_loss"] > stopper.baseline_score_
    assert model.best_epoch_ == 0
    assert np.abs(plain.predict(X) - model.predict(X)).max() > 1e-3


def test_a_trained_epoch_that_beats_the_baseline_is_kept():
    t = np.arange(600)
    frame = pd.DataFrame({"a": np.sin(2 * np.pi * t / 12)})
    X, y = make_windows(frame, lookback=24, horizon=6, targets="a")
    model = LinearForecaster(init="random", max_epochs=20, lr=1e-2, random_state=0).fit(X, y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    assert model.best_epoch_ >= 1
    best = model.net_.history[model.best_epoch_ - 1]["valid_loss"]
    assert best < 0.1 * stopper.baseline_score_


@pytest.mark.parametrize("params", [{"baseline": None}, {"target_features": [None]}])
def test_without_a_baseline_or_a_target_among_the_inputs_there_is_none(walk, params):
    X, y = walk
    model = LinearForecaster(init="random", max_epochs=2, lr=0.5, random_state=0, **params)
    model.fit(X, y)
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    assert stopper.baseline_score_ is None
    assert model.best_epoch_ >= 1
