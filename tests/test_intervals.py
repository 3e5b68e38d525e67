"""Forecast intervals of every estimator: predict_interval and calibrate
(sklattn.intervals)."""

import numpy as np
import pytest
from skorch.callbacks import Callback

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    make_windows,
)

ESTIMATORS = {
    "naive": lambda: NaiveForecaster(),
    "linear": lambda: LinearForecaster(max_epochs=2, random_state=0),
    "rnn": lambda: AttentionRNNRegressor(hidden_size=8, max_epochs=2, random_state=0),
    "patch": lambda: TransformerForecaster(d_model=8, n_layers=1, max_epochs=2,
                                           random_state=0),
}


@pytest.fixture(scope="module")
def long_windows():
    """1000 windows of a planted-lag series (lookback 12, horizon 3, target "target")."""
    from sklattn.datasets import make_lagged_series

    series, _ = make_lagged_series(n_steps=1014, random_state=0)
    return make_windows(series, lookback=12, horizon=3, targets="target")


# -- the promise ----------------------------------------------------------------------------

def test_conformal_intervals_cover_exchangeable_windows_as_promised():
    # White noise: the naive forecast's errors on later windows are exchangeable with
    # the calibration windows' errors, so coverage is 0.9 up to sampling noise.
    rng = np.random.default_rng(1)
    X, y = make_windows(rng.normal(size=20_000), lookback=4, horizon=2)
    model = NaiveForecaster(validation_fraction=0.25).fit(X[:10_000], y[:10_000])
    assert len(model.calibration_residuals_) == 2500
    for score in ("absolute", "scaled"):
        lower, upper = model.predict_interval(X[10_000:], coverage=0.9, score=score)
        inside = (y[10_000:] >= lower) & (y[10_000:] <= upper)
        assert 0.88 <= inside.mean() <= 0.92
        assert (inside.mean(axis=0) >= 0.87).all()  # per horizon step


# -- every estimator ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("score", ["scaled", "absolute"])
def test_intervals_are_shaped_like_predict_and_contain_it(name, score, long_windows):
    X, y = long_windows
    model = ESTIMATORS[name]().fit(X[:900], y[:900])
    forecast = model.predict(X[900:])
    lower, upper = model.predict_interval(X[900:], coverage=0.8, score=score)
    assert lower.shape == upper.shape == forecast.shape == y[900:].shape
    assert (lower <= forecast).all() and (forecast <= upper).all()
    assert (upper > lower).any()
    wider_lower, wider_upper = model.predict_interval(X[900:], coverage=0.95, score=score)
    assert (wider_lower <= lower).all() and (wider_upper >= upper).all()


class _RecordTrainingWindows(Callback):
    def __init__(self):
        self.seen = set()

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.seen.update(int(i) for i in batch[0][:, 0, -1])


@pytest.mark.parametrize("name", ["linear", "rnn", "naive"])
def test_calibration_uses_the_holdout_after_the_gap_never_training_windows(name,
                                                                            long_windows):
    X, y = long_windows
    ids = np.zeros((len(X), X.shape[1], 1))
    ids[:, 0, 0] = np.arange(len(X))  # an extra input feature that names each window
    X_ids = np.concatenate([X, ids], axis=2)
    model = ESTIMATORS[name]()
    recorder = _RecordTrainingWindows()
    if name != "naive":
        model.set_params(callbacks=[recorder])
    model.fit(X_ids, y)
    n_cal = len(model.calibration_residuals_)
    assert n_cal == 100  # validation_fraction=0.1 of 1000 windows
    expected = np.abs(y[-n_cal:] - model.predict(X_ids[-n_cal:])).astype(np.float32)
    # (calibration forecasts in smaller batches than predict: equal up to rounding)
    np.testing.assert_allclose(model.calibration_residuals_, expected, rtol=1e-5,
                               atol=1e-6)
    if name != "naive":
        lookback, horizon = 12, 3
        # The last training window ends (inputs and targets) before the first
        # calibration window starts.
        assert recorder.seen
        assert max(recorder.seen) + lookback + horizon - 1 < len(X) - n_cal


def test_uncalibrated_estimator_says_how_to_calibrate(long_windows):
    X, y = long_windows
    model = LinearForecaster(max_epochs=1, early_stopping=False, random_state=0)
    model.fit(X[:800], y[:800])
    assert not hasattr(model, "calibration_residuals_")
    with pytest.raises(ValueError, match=r"not calibrated.*calibrate\(X_cal, y_cal\)"):
        model.predict_interval(X[900:])
    model.calibrate(X[800:900], y[800:900])
    assert model.calibration_residuals_.shape == (100, 3, 1)
    lower, upper = model.predict_interval(X[900:])
    assert lower.shape == y[900:].shape
    with pytest.raises(ValueError, match="fitted on targets of shape"):
        model.calibrate(X[800:900], np.asarray(y[800:900])[:, :2])
    with pytest.raises(ValueError, match="score must be one of"):
        model.predict_interval(X[900:], score="relative")
    with pytest.raises(ValueError, match="needs at least 999 calibration windows"):
        model.predict_interval(X[900:], coverage=0.999)


def test_a_refit_without_holdout_drops_the_old_calibration(long_windows):
    X, y = long_windows
    model = NaiveForecaster().fit(X, y)
    assert hasattr(model, "calibration_residuals_")
    model.fit(X[:100], y[:100])  # 10 hold-out windows: too few
    assert not hasattr(model, "calibration_residuals_")


def test_predict_interval_leaves_the_input_untouched(long_windows):
    X, y = long_windows
    model = NaiveForecaster().fit(np.asarray(X), y)
    X_test = np.array(X[900:])
    X_test.flags.writeable = False  # any write would raise
    before = X_test.copy()
    model.predict_interval(X_test)
    np.testing.assert_array_equal(X_test, before)
