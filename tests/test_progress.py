"""The progress option: a tqdm bar over epochs in fit and over batches in long predicts."""

import sys

import numpy as np
import pytest

from sklattn import AttentionRNNRegressor, LinearForecaster, TransformerForecaster
from sklattn.progress import MIN_PREDICT_BATCHES, show_progress


@pytest.mark.parametrize("make", [
    lambda **kw: LinearForecaster(**kw),
    lambda **kw: AttentionRNNRegressor(hidden_size=4, **kw),
    lambda **kw: TransformerForecaster(d_model=8, n_layers=1, **kw),
])
def test_progress_bar_counts_epochs_and_shows_the_losses(make, lagged_windows, capsys):
    X, y = lagged_windows
    make(max_epochs=3, early_stopping=False, random_state=0, progress=True).fit(X, y)
    err = capsys.readouterr().err
    assert "3/3" in err and "epoch" in err and "train_loss=" in err


def test_long_predict_shows_a_batch_bar_short_ones_do_not(lagged_windows, capsys):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=1, early_stopping=False, random_state=0,
                             predict_batch_size=8, progress=True).fit(X, y)
    capsys.readouterr()
    model.predict(X[:8 * (MIN_PREDICT_BATCHES - 1)])
    assert capsys.readouterr().err == ""
    model.predict(X[:8 * MIN_PREDICT_BATCHES])
    err = capsys.readouterr().err  # the bar is cleared when done (leave=False)
    assert f"0/{MIN_PREDICT_BATCHES}" in err and "batch" in err


def test_auto_is_off_in_non_interactive_runs(lagged_windows, capsys, monkeypatch):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=2, early_stopping=False, random_state=0)
    assert model.progress == "auto"
    # plain arrays on both sides: no feature-name warning on stderr (with pytest's
    # warnings plugin off, warnings print there)
    model.fit(np.asarray(X), y).predict(np.repeat(np.asarray(X), 60, axis=0))
    assert capsys.readouterr().err == ""  # pytest's captured stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert show_progress("auto") and not show_progress(False) and show_progress(True)


def test_progress_is_validated(lagged_windows):
    X, y = lagged_windows
    with pytest.raises(ValueError, match="progress"):
        LinearForecaster(progress="yes").fit(X, y)
