import numpy as np
import pytest
import torch

from sklattn import AttentionRNNRegressor, make_windows
from sklattn.datasets import make_lagged_series

LOOKBACK = 24


@pytest.fixture(scope="module")
def planted():
    series, lag = make_lagged_series(3000, lag=12, random_state=0)
    X, y = make_windows(series, lookback=LOOKBACK, horizon=1, targets="target")
    n_train = int(0.8 * len(X))
    test = slice(n_train + LOOKBACK, None)  # no test step inside a training window
    return X[:n_train], y[:n_train], X[test], y[test], lag


def _fit(planted, **params):
    X_train, y_train, X_test, y_test, _ = planted
    model = AttentionRNNRegressor(hidden_size=32, max_epochs=50, random_state=0, **params)
    model.fit(X_train, y_train)
    return model, float(np.mean((model.predict(X_test) - y_test) ** 2))


@pytest.fixture(scope="module")
def baseline_mse(planted):
    return _fit(planted, attention="none")[1]


@pytest.mark.quality
@pytest.mark.parametrize("attention", ["dot", "general", "additive"])
def test_attention_beats_the_plain_lstm_and_finds_the_planted_lag(planted, baseline_mse,
                                                                  attention):
    model, mse = _fit(planted, attention=attention)
    assert mse < baseline_mse
    weights = model.attention_weights(planted[2])[:, 0, :]
    peak_lag = LOOKBACK - weights.argmax(axis=1)  # steps before the forecast step
    assert np.mean(np.abs(peak_lag - planted[4]) <= 2) >= 0.9


def test_attention_weights_axes_and_rows(planted):
    X_train, y_train, X_test, _, _ = planted
    model = AttentionRNNRegressor(hidden_size=8, max_epochs=2, random_state=0)
    model.fit(X_train[:300], y_train[:300])
    model.net_.module_.train()
    weights = model.attention_weights(X_test[:50])
    assert weights.shape == (50, 1, LOOKBACK)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert np.all(weights >= 0) and np.all(weights[..., -1] == 0)
    assert model.net_.module_.training  # asking for weights leaves the module as it was


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_recurrent_context_trains_with_every_cell(planted, cell):
    X_train, y_train, X_test, y_test, _ = planted
    model = AttentionRNNRegressor(cell=cell, context="recurrent", attention="general",
                                  n_layers=2, dropout=0.1, hidden_size=8, max_epochs=3,
                                  random_state=0)
    model.fit(X_train[:400], y_train[:400])
    first, last = model.net_.history[0, "train_loss"], model.net_.history[-1, "train_loss"]
    assert last < first
    assert model.attention_weights(X_test[:10]).shape == (10, 1, LOOKBACK)


def test_no_attention_weights_without_attention(planted):
    model = AttentionRNNRegressor(attention="none", hidden_size=4, max_epochs=1)
    model.fit(planted[0][:100], planted[1][:100])
    with pytest.raises(ValueError, match="attention='none'.*no attention weights"):
        model.attention_weights(planted[2][:5])


def test_position_bias_can_be_switched_off(planted):
    model = AttentionRNNRegressor(attention="dot", position_bias=False, hidden_size=4,
                                  max_epochs=1).fit(planted[0][:100], planted[1][:100])
    assert model.net_.module_.forecaster.position_bias is None
    assert model.attention_weights(planted[2][:5]).shape == (5, 1, LOOKBACK)


def test_linear_skip_starts_the_model_at_the_linear_forecast(planted):
    X_train, y_train, _, _, _ = planted
    model = AttentionRNNRegressor(hidden_size=4, max_epochs=1, random_state=0)
    model.fit(X_train[:200], y_train[:200])
    module = model.net_.module_.forecaster
    assert module.skip is not None
    plain = AttentionRNNRegressor(hidden_size=4, max_epochs=1, linear_skip=False,
                                  random_state=0).fit(X_train[:200], y_train[:200])
    assert plain.net_.module_.forecaster.skip is None
    from sklattn.nn.rnn import AttentionRNN

    fresh = AttentionRNN(4, 3, hidden_size=4, skip=torch.nn.Linear(1, 3))
    assert torch.all(fresh.head.weight == 0) and torch.all(fresh.head.bias == 0)
