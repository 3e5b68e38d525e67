"""Behaviour every sklattn estimator shares, exercised through AttentionRNNRegressor."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_validate
from skorch.callbacks import Callback

from sklattn import AttentionRNNRegressor, make_windows
from sklattn.datasets import make_lagged_series

TINY = dict(hidden_size=8, max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def windows():
    series, _ = make_lagged_series(400, lag=3, random_state=0)
    X, y = make_windows(series, lookback=8, horizon=4, targets=["target", "driver"])
    return X, y


@pytest.mark.parametrize(
    "y_slice, expected",
    [
        (lambda y: y, (4, 2)),               # (n, horizon, n_targets)
        (lambda y: y[:, :, 0], (4,)),        # (n, horizon)
        (lambda y: y[:, 0, 0], ()),          # (n,): one step
        (lambda y: y[:, :1, :], (1, 2)),     # one step, two targets
    ],
)
def test_predict_returns_the_shape_of_the_fitted_y(windows, y_slice, expected):
    X, y = windows
    model = AttentionRNNRegressor(**TINY).fit(X[:300], y_slice(y[:300]))
    assert model.predict(X[300:]).shape == (len(X) - 300, *expected)
    assert model.n_outputs_ == int(np.prod(expected))
    assert model.window_shape_ == (8, 4) and model.n_features_in_ == 8 * 4


def test_2d_windows_are_univariate(windows):
    X, y = windows
    X2 = np.asarray(X[:, :, 0])
    model = AttentionRNNRegressor(**TINY).fit(X2, y[:, 0, 0])
    assert model.window_shape_ == (8, 1) and model.n_features_in_ == 8
    # a 3D (n, lookback, 1) array is the same windows
    np.testing.assert_allclose(model.predict(X2[:5]), model.predict(X2[:5, :, None]))


def test_same_seed_same_predictions_and_global_rng_untouched(windows):
    import torch

    X, y = windows
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = AttentionRNNRegressor(**TINY).fit(X, y).predict(X)
    after = torch.rand(1)
    b = AttentionRNNRegressor(**TINY).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert before == after
    c = AttentionRNNRegressor(**{**TINY, "random_state": 1}).fit(X, y).predict(X)
    assert not np.allclose(a, c)


def test_pickle_round_trip_and_clone(windows):
    X, y = windows
    model = AttentionRNNRegressor(**TINY).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(model.predict(X), restored.predict(X))
    np.testing.assert_array_equal(model.attention_weights(X), restored.attention_weights(X))
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "net_")


def test_feature_names_from_windows_of_a_dataframe(windows):
    X, y = windows
    model = AttentionRNNRegressor(**TINY).fit(X, y)
    names = ["target", "driver", "distractor_1", "distractor_2"]
    # the flattened view: step-major, the window's last step is t
    assert list(model.feature_names_in_[:4]) == [f"{n}[t-7]" for n in names]
    assert list(model.feature_names_in_[-4:]) == [f"{n}[t]" for n in names]
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        model.predict(np.asarray(X))
    df = pd.DataFrame(np.ones((10, 3)), columns=["a", "b", "c"])
    renamed, _ = make_windows(df.rename(columns={"c": "z"}), lookback=3, horizon=1)
    named, ny = make_windows(df, lookback=3, horizon=1)
    fitted = AttentionRNNRegressor(**TINY).fit(named, ny)
    with pytest.raises(ValueError, match="feature names should match"):
        fitted.predict(renamed)


def test_early_stopping_uses_the_last_windows_and_keeps_the_best(windows):
    X, y = windows
    model = AttentionRNNRegressor(**{**TINY, "max_epochs": 40, "patience": 2,
                                     "validation_fraction": 0.2}).fit(X, y)
    history = model.net_.history
    assert "valid_loss" in history[0]
    n_valid = int(np.ceil(0.2 * len(X)))
    n_train = len(X) - n_valid - (8 + 4 - 1)
    assert history[-1, "batches", -1, "valid_batch_size"] <= n_valid
    assert sum(history[0, "batches", :, "train_batch_size"]) == n_train
    assert sum(history[0, "batches", :, "valid_batch_size"]) == n_valid
    # the restored weights are those of the best validation epoch
    best = min(history[:, "valid_loss"])
    X_valid, y_valid = X[-n_valid:], y[-n_valid:].reshape(n_valid, -1)
    valid_mse = np.mean((model.predict(X_valid).reshape(n_valid, -1) - y_valid) ** 2)
    assert valid_mse == pytest.approx(best, rel=1e-4)


def test_too_few_windows_train_without_a_split():
    X = np.random.default_rng(0).standard_normal((6, 5, 2))
    with pytest.warns(UserWarning, match="early stopping is skipped .* 6 windows are too few"):
        model = AttentionRNNRegressor(**TINY).fit(X, X[:, -1, :1])
    assert "valid_loss" not in model.net_.history[-1]
    assert len(model.net_.history) == TINY["max_epochs"]


def test_extra_callbacks_run(windows):
    X, y = windows

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    model = AttentionRNNRegressor(**TINY, callbacks=[("count", CountEpochs())]).fit(X, y)
    assert dict(model.net_.callbacks_)["count"].epochs == len(model.net_.history)


def test_score_is_r2_averaged_over_every_output(windows):
    from sklearn.metrics import r2_score

    X, y = windows
    model = AttentionRNNRegressor(**TINY).fit(X, y)
    pred = model.predict(X).reshape(len(X), -1)
    y64 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)  # score works in float64
    assert model.score(X, y) == pytest.approx(r2_score(y64, pred.astype(np.float64)))


def test_grid_search_tunes_plain_names_with_a_gapped_time_series_split(windows):
    X, y = windows
    search = GridSearchCV(
        AttentionRNNRegressor(max_epochs=2, batch_size=64, random_state=0),
        {"attention": ["none", "additive"], "hidden_size": [4, 8]},
        cv=TimeSeriesSplit(n_splits=2, gap=8 + 4 - 1),
        n_jobs=2,
    ).fit(X, y)
    assert set(search.best_params_) == {"attention", "hidden_size"}
    assert search.best_estimator_.predict(X).shape == y.shape
    scores = cross_validate(AttentionRNNRegressor(**TINY), X, y, cv=TimeSeriesSplit(3))
    assert np.all(np.isfinite(scores["test_score"]))


def test_input_is_not_mutated(windows):
    X, y = windows
    X64 = np.array(X, dtype=np.float64)
    y64 = np.array(y, dtype=np.float64)
    X_before, y_before = X64.copy(), y64.copy()
    AttentionRNNRegressor(**TINY).fit(X64, y64).predict(X64)
    np.testing.assert_array_equal(X64, X_before)
    np.testing.assert_array_equal(y64, y_before)


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (np.ones((10, 5, 2, 1)), np.ones(10), ValueError, "2D .* or 3D"),
        (np.ones(10), np.ones(10), ValueError, "2D array"),
        (np.ones((10, 5, 2)), np.ones((9, 1)), ValueError, "inconsistent numbers"),
        (np.ones((10, 5, 2)), np.ones((10, 1, 1, 1)), ValueError, "horizon, n_targets"),
        (np.full((10, 5, 2), np.nan), np.ones(10), ValueError, "NaN"),
        (np.ones((10, 5, 2)), np.full(10, np.inf), ValueError, "infinity"),
        (np.full((10, 5, 2), "a", dtype=object), np.ones(10), ValueError, "convert"),
        (np.ones((10, 5, 2)) + 1j, np.ones(10), ValueError, "omplex"),
        (np.ones((10, 1, 2)), np.ones(10), ValueError, "at least 2 recurrent steps"),
        (np.ones((10, 5, 2)), None, ValueError, "requires y"),
    ],
)
def test_bad_data_raises_before_any_tensor(X, y, error, match):
    with pytest.raises(error, match=match):
        AttentionRNNRegressor(**TINY).fit(X, y)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"hidden_size": 0}, ValueError, "hidden_size"),
        ({"hidden_size": 2.5}, TypeError, "hidden_size"),
        ({"attention": "cosine"}, ValueError, "attention"),
        ({"cell": "transformer"}, ValueError, "cell"),
        ({"context": "both"}, ValueError, "context"),
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"lr": 0}, ValueError, "lr"),
        ({"optimizer": "adagrad"}, ValueError, "optimizer"),
        ({"optimizer": int}, TypeError, "optimizer"),
        ({"validation_fraction": 0.9}, ValueError, "validation_fraction"),
        ({"device": "tpu"}, ValueError, "device"),
        ({"callbacks": ["not a callback"]}, TypeError, "callbacks"),
        ({"callbacks": [("name", "not a callback")]}, TypeError, "callbacks"),
    ],
)
def test_bad_params_raise_at_fit(params, error, match):
    X = np.ones((20, 5, 2))
    with pytest.raises(error, match=match):
        AttentionRNNRegressor(**{**TINY, **params}).fit(X, np.ones(20))


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_predict_rejects_windows_of_another_shape(windows):
    X, y = windows
    model = AttentionRNNRegressor(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="expecting 4 features"):
        model.predict(np.ones((3, 8, 5)))
    with pytest.raises(ValueError, match="lookback=9 steps.*lookback=8"):
        model.predict(np.ones((3, 9, 4)))


def test_unfitted_estimator_says_so():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AttentionRNNRegressor().predict(np.ones((2, 3, 1)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from([(0, 4, 2), (6, 0, 2), (6, 4, 0), (6,), (6, 4, 2, 2)]),
    bad_value=st.sampled_from([None, np.nan, np.inf, -np.inf]),
    position=st.integers(0, 1000),
)
def test_any_malformed_or_non_finite_windows_raise_value_error(shape, bad_value, position):
    X = np.ones(shape)
    if bad_value is not None and X.size:
        X.flat[position % X.size] = bad_value
    n = shape[0]
    with pytest.raises(ValueError) as info:
        AttentionRNNRegressor(**TINY).fit(X, np.ones(max(n, 1))[:n] if n else np.ones(0))
    message = str(info.value)
    assert any(word in message for word in
               ("NaN", "infinity", "2D", "3D", "sample", "empty", "feature", "dimension")), message


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 8),
    y_shape=st.sampled_from([(), (3,), (3, 2), (2, 2, 2)]),
    y_n_offset=st.integers(-1, 1).filter(lambda k: k != 0),
)
def test_any_target_of_the_wrong_length_or_rank_raises(n, y_shape, y_n_offset):
    X = np.ones((n, 4, 2))
    y = np.ones((n + y_n_offset, *y_shape))
    with pytest.raises(ValueError, match="inconsistent|horizon, n_targets"):
        AttentionRNNRegressor(**TINY).fit(X, y)


def test_a_window_gets_the_same_forecast_alone_or_in_any_batch(windows, assert_same_forecast):
    X, y = windows
    model = AttentionRNNRegressor(**TINY).fit(X, y)
    together = model.predict(X[:70])
    one_by_one = np.concatenate([model.predict(X[i:i + 1]) for i in range(70)])
    assert_same_forecast(together, one_by_one, model)


def test_targets_on_another_scale_than_their_inputs_are_not_anchored_on_them(windows):
    from sklearn.pipeline import make_pipeline

    from sklattn import WindowScaler

    X, y = windows
    raw_y = np.asarray(y) * 100.0 + 1000.0
    raw_X = np.asarray(X) * 100.0 + 1000.0
    raw_y_windows = y.__class__(raw_y, y.feature_names, y.target_features)
    pipe = make_pipeline(WindowScaler(), AttentionRNNRegressor(**TINY))
    with pytest.warns(UserWarning, match="not on the scale of the input features"):
        pipe.fit(raw_X, raw_y_windows)
    assert pipe[-1].target_features_ == [None, None]
    same_units = AttentionRNNRegressor(**TINY).fit(X, y)
    assert same_units.target_features_ == [0, 1]
    explicit = AttentionRNNRegressor(**TINY, target_features=[0, 1], early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe = make_pipeline(WindowScaler(), explicit).fit(raw_X, raw_y_windows)
    assert pipe[-1].target_features_ == [0, 1]  # told explicitly: trusted
