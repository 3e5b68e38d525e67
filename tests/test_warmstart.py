"""The least-squares start of linear maps (sklattn/warmstart.py): the linear baseline's
map and the RNN's linear_skip start at the fit on the training windows, checked against
an independent NumPy solution."""

import numpy as np
import pandas as pd
import pytest

from sklattn import AttentionRNNRegressor, LinearForecaster, TransformerForecaster, make_windows

RIDGE, EPS = 1e-3, 1e-5


@pytest.fixture(scope="module")
def series():
    rng = np.random.default_rng(0)
    t = np.arange(800)
    return pd.DataFrame({"a": np.sin(2 * np.pi * t / 24) + 0.3 * rng.standard_normal(800),
                         "b": np.cumsum(rng.standard_normal(800)) * 0.1 + t / 400,
                         "x": rng.standard_normal(800)})


def reference_fit(X, y, targets, method):
    """Ridge least squares of each target's future on its own normalised window, in NumPy:
    returns ``forecast(X)`` for the targets (n, horizon, n_targets)."""
    rows, outs = [], []

    def normalise(x):
        scale = np.sqrt(x.var(axis=1) + EPS)
        loc = x.mean(axis=1) if method == "revin" else x[:, -1]
        return (x - loc[:, None]) / scale[:, None], loc, scale

    for t, f in enumerate(targets):
        z, loc, scale = normalise(X[:, :, f].astype(np.float64))
        rows.append(np.hstack([z, np.ones((len(z), 1))]) * scale[:, None])
        outs.append(y[:, :, t] - loc[:, None])  # = scale * (y - loc) / scale
    A, B = np.vstack(rows), np.vstack(outs)
    gram = A.T @ A
    solution = np.linalg.solve(gram + RIDGE * np.mean(np.diag(gram)) * np.eye(len(gram)),
                               A.T @ B)
    W, b = solution[:-1], solution[-1]

    def forecast(Xnew):
        out = []
        for f in targets:
            z, loc, scale = normalise(Xnew[:, :, f].astype(np.float64))
            out.append((z @ W + b) * scale[:, None] + loc[:, None])
        return np.stack(out, axis=-1)

    return forecast


def windows(series, targets):
    X, y = make_windows(series, lookback=24, horizon=4, targets=targets)
    y3 = np.asarray(y).reshape(len(y), 4, -1)
    positions = [list(series.columns).index(name) for name in np.atleast_1d(targets)]
    return X, y, y3, positions


@pytest.mark.parametrize("normalization", ["revin", "last"])
@pytest.mark.parametrize("decomposition", [True, False])
def test_linear_starts_at_the_least_squares_fit(series, normalization, decomposition):
    X, y, y3, positions = windows(series, ["a", "b"])
    model = LinearForecaster(decomposition=decomposition, normalization=normalization,
                             max_epochs=1, lr=1e-12, early_stopping=False, random_state=0)
    model.fit(X, y)
    expected = reference_fit(X, y3, positions, normalization)(X)
    np.testing.assert_allclose(model.predict(X).reshape(expected.shape), expected,
                               rtol=1e-4, atol=1e-4)
    assert dict(model.net_.callbacks_)["least_squares_start"].n_rows_ == 2 * len(X)


def test_quantile_median_starts_at_the_least_squares_fit(series):
    X, y, y3, positions = windows(series, "a")
    model = LinearForecaster(quantiles=[0.1, 0.9], max_epochs=1, lr=1e-12,
                             early_stopping=False, random_state=0).fit(X, y)
    expected = reference_fit(X, y3, positions, "revin")(X)
    np.testing.assert_allclose(model.predict(X).reshape(expected.shape), expected,
                               rtol=1e-4, atol=1e-4)


def test_the_fit_reads_only_training_windows_and_the_start_is_scored(series):
    X, y, y3, positions = windows(series, "a")
    # lr far too high: no trained epoch beats the start, which is kept
    model = LinearForecaster(max_epochs=3, patience=2, lr=0.5, random_state=0).fit(X, y)
    n_train, n_holdout = model._holdout_split().sizes(len(X))
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    assert dict(model.net_.callbacks_)["least_squares_start"].n_rows_ == n_train
    reference = reference_fit(X[:n_train], y3[:n_train], positions, "revin")
    holdout_mse = np.mean((reference(X[-n_holdout:]) - y3[-n_holdout:]) ** 2)
    assert stopper.start_score_ == pytest.approx(holdout_mse, rel=1e-4)
    assert stopper.start_score_ < stopper.baseline_score_
    assert all(row["valid_loss"] > stopper.start_score_ for row in model.net_.history)
    assert model.best_epoch_ == 0
    np.testing.assert_allclose(model.predict(X).reshape(len(X), 4, 1), reference(X),
                               rtol=1e-4, atol=1e-4)


SKIPPED = {
    "rnn": lambda: AttentionRNNRegressor(hidden_size=8, segment_len=1),
    "patch": lambda: TransformerForecaster(d_model=8, n_layers=1, d_ff=16),
    "variate": lambda: TransformerForecaster(tokens="variate", d_model=8, n_layers=1, d_ff=16),
}


@pytest.mark.parametrize("name", SKIPPED)
def test_linear_skip_is_fitted_then_fixed_while_the_rest_trains(series, name):
    X, y, y3, positions = windows(series, ["a", "b"])
    model = SKIPPED[name]().set_params(max_epochs=3, lr=1e-2, early_stopping=False,
                                       random_state=0).fit(X, y)
    forecaster = model.net_.module_.forecaster
    assert forecaster.head.weight.abs().max() > 0  # the recurrent part trained
    # trainable again once fitted (a fitted net computes as a loaded one)
    assert forecaster.skip.remainder.weight.requires_grad
    # 3 epochs at lr=1e-2 left the skip at its fit: alone, it is the reference forecast
    forecaster.head.weight.data.zero_()
    forecaster.head.bias.data.zero_()
    expected = reference_fit(X, y3, positions, model.normalization_)(X)
    np.testing.assert_allclose(model.predict(X).reshape(expected.shape), expected,
                               rtol=1e-4, atol=1e-4)


def test_changing_the_holdout_targets_leaves_the_fit_alone(series):
    X, y, _, _ = windows(series, "a")
    model = AttentionRNNRegressor(hidden_size=4, segment_len=1, max_epochs=1, random_state=0)
    n_holdout = model.fit(X, y)._holdout_size(len(X))
    y_changed = np.array(y, copy=True)  # a plain array: the target's position is given
    y_changed[-n_holdout:] += 100.0
    other = AttentionRNNRegressor(hidden_size=4, segment_len=1, max_epochs=1,
                                  target_features=[0], random_state=0).fit(X, y_changed)
    np.testing.assert_array_equal(
        model.net_.module_.forecaster.skip.remainder.weight.detach().cpu().numpy(),
        other.net_.module_.forecaster.skip.remainder.weight.detach().cpu().numpy())


def test_without_a_target_among_the_inputs_the_maps_train_from_a_random_start(series):
    X, y, _, _ = windows(series, "a")
    for model in (LinearForecaster(target_features=[None], max_epochs=1, random_state=0),
                  TransformerForecaster(d_model=8, n_layers=1, target_features=[None],
                                        max_epochs=1, random_state=0),
                  AttentionRNNRegressor(hidden_size=4, target_features=[None], max_epochs=1,
                                        random_state=0)):
        model.fit(X, y)
        callbacks = dict(model.net_.callbacks_)
        assert "least_squares_start" not in callbacks
        assert callbacks["early_stopping"].start_score_ is None
    assert model.net_.module_.forecaster.skip.remainder.weight.requires_grad


def test_random_init_has_no_least_squares_start(series):
    X, y, _, _ = windows(series, "a")
    model = LinearForecaster(init="random", max_epochs=1, random_state=0).fit(X, y)
    callbacks = dict(model.net_.callbacks_)
    assert "least_squares_start" not in callbacks
    assert callbacks["early_stopping"].start_score_ is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fit_reads_the_callers_windows_in_place(series, dtype, monkeypatch):
    """On a CPU each batch of the start is a view of the windows' memory (no batch-sized
    copy of them before the rows), and the start is the same as from float32 copies."""
    from sklattn.nn.normalization import WindowNormalization

    X, y = make_windows(series, lookback=24, horizon=4, targets=["a", "b"], dtype=dtype)
    seen = []
    rows = WindowNormalization.least_squares_rows

    def spy(module, x, y_batch):
        seen.append(np.shares_memory(x.numpy(), X))
        return rows(module, x, y_batch)

    monkeypatch.setattr(WindowNormalization, "least_squares_rows", spy)
    model = LinearForecaster(max_epochs=1, random_state=0).fit(X, y)
    assert seen and all(seen)
    n_batches = len(seen)
    copied = LinearForecaster(max_epochs=1, target_features=[0, 1], random_state=0).fit(
        np.array(X, dtype=np.float32), np.array(y, dtype=np.float32))
    assert len(seen) == 2 * n_batches and not any(seen[n_batches:])  # X itself not read
    np.testing.assert_array_equal(model.net_.module_.forecaster.remainder.weight.detach(),
                                  copied.net_.module_.forecaster.remainder.weight.detach())
