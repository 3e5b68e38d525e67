import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sklattn import TransformerForecaster, make_windows
from sklattn.datasets import make_lagged_series

TINY = dict(d_model=8, n_heads=2, n_layers=1, d_ff=16, patch_len=8, stride=4, max_epochs=2,
            random_state=0)


@pytest.fixture(scope="module")
def windows():
    series, _ = make_lagged_series(600, lag=5, random_state=0)
    return make_windows(series, lookback=32, horizon=6)  # y (n, 6, 4): all features


@pytest.mark.parametrize("tokens", ["timestep", "patch", "variate"])
def test_each_token_type_trains_and_predicts_through_the_base(windows, tokens):
    X, y = windows
    model = TransformerForecaster(tokens=tokens, **{**TINY, "max_epochs": 4})
    model.fit(X[:400], y[:400])
    assert model.predict(X[450:]).shape == y[450:].shape
    losses = model.net_.history[:, "train_loss"]
    assert losses[-1] < losses[0]
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X[:5]), model.predict(X[:5]))


@pytest.mark.parametrize(
    "tokens, shape, heads_shape",
    [
        ("timestep", (5, 32, 32), (5, 2, 32, 32)),
        ("patch", (5, 4, 8, 8), (5, 4, 2, 8, 8)),   # 4 features, (32 + 4 - 8) // 4 + 1 patches
        ("variate", (5, 4, 4), (5, 2, 4, 4)),
    ],
)
def test_attention_weights_axes(windows, tokens, shape, heads_shape):
    X, y = windows
    model = TransformerForecaster(tokens=tokens, **{**TINY, "n_layers": 2}).fit(X[:200],
                                                                               y[:200])
    weights = model.attention_weights(X[:5])
    assert weights.shape == shape
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    per_head = model.attention_weights(X[:5], layer=0, average_heads=False)
    assert per_head.shape == heads_shape
    np.testing.assert_allclose(per_head.mean(axis=-3),
                               model.attention_weights(X[:5], layer=0), rtol=1e-5)
    with pytest.raises(ValueError, match="layer=2 is out of range"):
        model.attention_weights(X[:5], layer=2)


def test_exogenous_features_are_inputs_only(windows):
    X, y = windows
    model = TransformerForecaster(tokens="patch", target_features=[0], **TINY)
    model.fit(X[:300], np.asarray(y)[:300, :, :1])
    assert model.predict(X[300:310]).shape == (10, 6, 1)
    assert model.target_features_ == [0]


@pytest.mark.parametrize("tokens", ["timestep", "patch", "variate"])
def test_targets_are_read_from_make_windows(tokens):
    series, _ = make_lagged_series(400, lag=5, random_state=0)
    X, y = make_windows(series, lookback=32, horizon=6, targets=["target"])
    model = TransformerForecaster(tokens=tokens, **TINY).fit(X, y)
    assert model.target_features_ == [list(series.columns).index("target")]


@pytest.mark.parametrize("tokens", ["timestep", "patch", "variate"])
def test_plain_targets_that_are_not_inputs_keep_working(windows, tokens):
    X, y = windows
    y_other = np.asarray(y)[:300, :, :2] * 3.0 + 10.0  # 2 targets, 4 features: not inputs
    model = TransformerForecaster(tokens=tokens, **TINY).fit(np.asarray(X[:300]), y_other)
    assert model.target_features_ == [None, None]
    assert model.predict(np.asarray(X[:5])).shape == (5, 6, 2)


def test_same_seed_same_predictions(windows):
    X, y = windows
    a = TransformerForecaster(**TINY).fit(X[:200], y[:200]).predict(X[:20])
    b = TransformerForecaster(**TINY).fit(X[:200], y[:200]).predict(X[:20])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params, y_slice, match",
    [
        ({"patch_len": 40}, slice(None), "patch_len=40 is longer"),
        ({"d_model": 10, "n_heads": 4}, slice(None), "divisible"),
        ({"target_features": [0, 9]}, slice(0, 2), r"distinct positions in \[0, 4\)"),
        ({"target_features": [0]}, slice(0, 2), "has 1 entries but y has 2"),
        ({"tokens": "words"}, slice(None), "tokens"),
        ({"attention_dropout": 1.0}, slice(None), "attention_dropout"),
    ],
)
def test_bad_arguments_raise_clear_errors_at_fit(windows, params, y_slice, match):
    X, y = windows
    with pytest.raises(ValueError, match=match):
        TransformerForecaster(**{**TINY, **params}).fit(X[:50], y[:50, :, y_slice])


def test_grid_search_over_token_types(windows):
    X, y = windows
    search = GridSearchCV(TransformerForecaster(**TINY), {"tokens": ["patch", "variate"]},
                          cv=TimeSeriesSplit(2, gap=32 + 6 - 1)).fit(X[:300], y[:300])
    assert search.best_params_["tokens"] in {"patch", "variate"}


@pytest.mark.parametrize("tokens", ["timestep", "patch", "variate"])
def test_forecasts_do_not_depend_on_the_batch(windows, tokens, assert_same_forecast):
    X, y = windows
    model = TransformerForecaster(tokens=tokens, **TINY).fit(X[:200], y[:200])
    together = model.predict(X[:40])
    one_by_one = np.concatenate([model.predict(X[i:i + 1]) for i in range(40)])
    assert_same_forecast(together, one_by_one, model)


def test_attention_dropout_reaches_every_layer(windows):
    X, y = windows
    model = TransformerForecaster(**{**TINY, "dropout": 0.3, "attention_dropout": 0.1})
    layers = model.fit(X[:60], y[:60]).net_.module_.forecaster.encoder.layers
    assert [layer.attention.dropout for layer in layers] == [0.1] * len(layers)


@pytest.mark.parametrize("tokens, expected", [("timestep", 0.0), ("patch", 0.3),
                                              ("variate", 0.3)])
def test_auto_attention_dropout_is_zero_only_for_time_step_tokens(windows, tokens, expected):
    X, y = windows
    model = TransformerForecaster(**{**TINY, "tokens": tokens, "dropout": 0.3}).fit(X[:60], y[:60])
    assert model.attention_dropout == "auto" and model.attention_dropout_ == expected
    layers = model.net_.module_.forecaster.encoder.layers
    assert [layer.attention.dropout for layer in layers] == [expected] * len(layers)
