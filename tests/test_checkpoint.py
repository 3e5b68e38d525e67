"""checkpoint_dir: a fit killed mid-way resumes where it stopped, with the same result."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklattn import AttentionRNNRegressor, LinearForecaster
from sklattn.checkpoint import read_manifest

ESTIMATORS = {
    # Dropout (the RNN's default 0.3) draws from the random stream the checkpoint restores.
    "rnn": "AttentionRNNRegressor(hidden_size=8, max_epochs=8, patience=3, n_threads=1, "
           "random_state=3)",
    "linear": "LinearForecaster(max_epochs=8, n_threads=1, random_state=3)",
    # Early stopping stops it at epoch 8 of 20.
    "rnn-stopped": "AttentionRNNRegressor(hidden_size=8, lr=0.1, max_epochs=20, patience=2, "
                   "n_threads=1, random_state=3)",
    # Shrunk at the end toward epoch 0 (the last value), which the resumed fit recomputes.
    "linear-shrunk": "LinearForecaster(init='random', shrink_to_epoch0=True, max_epochs=8, "
                     "n_threads=1, random_state=3)",
}


def windows():
    from sklattn import make_windows
    from sklattn.datasets import make_lagged_series

    series, _ = make_lagged_series(n_steps=900, random_state=0)
    return make_windows(series, lookback=12, horizon=2, targets="target")


def _make(name, **params):
    # on the CPU, whose resumed fits sklattn promises bit for bit (GPU kernels may not be)
    return eval(ESTIMATORS[name], {"AttentionRNNRegressor": AttentionRNNRegressor,
                                   "LinearForecaster": LinearForecaster}).set_params(
        **{"device": "cpu", **params})


_KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from skorch.callbacks import Callback
from test_checkpoint import _make, windows

class KillAfter(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == {epoch}:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, as a crash or an OOM kill

X, y = windows()
_make({name!r}, checkpoint_dir="ckpt", callbacks=[KillAfter()]).fit(X, y)
"""


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_killed_fit_resumes_to_the_uninterrupted_result(name, tmp_path):
    X, y = windows()
    script = _KILLED_RUN.format(tests=str(Path(__file__).parent), epoch=3, name=name)
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path)
    assert run.returncode == -9  # it was killed
    resumed = _make(name, checkpoint_dir=str(tmp_path / "ckpt")).fit(X, y)
    history = resumed.net_.history
    assert history[:, "epoch"] == list(range(1, len(history) + 1))
    assert len(history) > 3  # three epochs from the checkpoint, the rest trained here
    uninterrupted = _make(name).fit(X, y)
    assert len(uninterrupted.net_.history) == len(history)
    np.testing.assert_array_equal(resumed.predict(X), uninterrupted.predict(X))
    assert resumed.shrink_factor_ == uninterrupted.shrink_factor_
    if "shrunk" in name:
        assert 0 < resumed.shrink_factor_ < 1


def test_fit_killed_on_the_epoch_early_stopping_stops_resumes_and_stops_there(tmp_path):
    # The kill comes after the checkpoint's on_epoch_end of the stopping epoch: that epoch's
    # checkpoint, with early stopping's patience used up, must not be the one resumed (it
    # would train on to max_epochs).
    X, y = windows()
    uninterrupted = _make("rnn-stopped").fit(X, y)
    stop = len(uninterrupted.net_.history)
    assert stop < uninterrupted.max_epochs
    script = _KILLED_RUN.format(tests=str(Path(__file__).parent), epoch=stop,
                                name="rnn-stopped")
    assert subprocess.run([sys.executable, "-c", script], cwd=tmp_path).returncode == -9
    resumed = _make("rnn-stopped", checkpoint_dir=str(tmp_path / "ckpt")).fit(X, y)
    assert len(resumed.net_.history) == stop
    np.testing.assert_array_equal(resumed.predict(X), uninterrupted.predict(X))
    manifest = read_manifest(tmp_path / "ckpt")
    assert manifest["finished"] and manifest["epochs_done"] == stop


def test_finished_checkpoint_gives_the_model_back_and_others_are_refused(tmp_path):
    X, y = windows()
    first = _make("linear", checkpoint_dir=tmp_path, max_epochs=3).fit(X, y)
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # one complete set, no leftovers
        "best-3-final.safetensors", "checkpoint.json", "optimizer-3-final.pt",
        "state-3-final.safetensors"]
    again = _make("linear", checkpoint_dir=tmp_path, max_epochs=3).fit(X, y)
    assert len(again.net_.history) == 3
    np.testing.assert_array_equal(again.predict(X), first.predict(X))
    with pytest.raises(ValueError, match="different fit"):
        _make("linear", checkpoint_dir=tmp_path, lr=0.1).fit(X, y)
    next(tmp_path.glob("optimizer-*.pt")).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot be loaded"):
        _make("linear", checkpoint_dir=tmp_path, max_epochs=5).fit(X, y)
