"""sklattn.save / sklattn.load: one safetensors file, no pickle."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import sklattn
from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    load,
    persistence,
    save,
)

ESTIMATORS = {
    "rnn": lambda: AttentionRNNRegressor(hidden_size=8, max_epochs=2, random_state=0),
    "rnn-recurrent": lambda: AttentionRNNRegressor(hidden_size=8, context="recurrent",
                                                   normalization_affine=True, max_epochs=2,
                                                   random_state=0),
    "patch": lambda: TransformerForecaster(d_model=8, n_layers=1, max_epochs=2,
                                           random_state=0),
    "variate": lambda: TransformerForecaster(tokens="variate", d_model=8, n_layers=1,
                                             max_epochs=2, random_state=0),
    "linear": lambda: LinearForecaster(max_epochs=2, random_state=0),
    "naive": lambda: NaiveForecaster(season_length=3),
}


@pytest.fixture
def fitted(lagged_windows):
    X, y = lagged_windows
    return LinearForecaster(max_epochs=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_round_trip_forecasts_bitwise_and_keeps_everything(name, lagged_windows, tmp_path):
    X, y = lagged_windows
    model = ESTIMATORS[name]().fit(X, y)
    path = tmp_path / "model.sklattn"
    save(model, path)
    loaded = load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    for attr in ("window_shape_", "target_shape_", "n_outputs_", "target_features_",
                 "n_features_in_"):
        assert getattr(loaded, attr) == getattr(model, attr)
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    if hasattr(model, "net_"):
        assert loaded.net_.history[:, "train_loss"] == model.net_.history[:, "train_loss"]
        if name != "linear":
            np.testing.assert_array_equal(loaded.attention_weights(X),
                                          model.attention_weights(X))
        # The loaded estimator trains on, like the saved one would.
        loaded.set_params(max_epochs=1).fit(X, y)
    assert os.listdir(tmp_path) == ["model.sklattn"]  # no temporary file left behind


def test_a_file_saved_here_loads_in_another_process(fitted, lagged_windows, tmp_path):
    X, _ = lagged_windows
    save(fitted, tmp_path / "m.sklattn")
    np.save(tmp_path / "X.npy", np.asarray(X))
    code = ("import numpy as np, sklattn; m = sklattn.load('m.sklattn'); "
            "np.save('pred.npy', m.predict(np.load('X.npy')))")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "pred.npy"), fitted.predict(X))


def test_file_is_stamped_with_versions(fitted, tmp_path):
    from safetensors import safe_open

    save(fitted, tmp_path / "m.sklattn")
    with safe_open(tmp_path / "m.sklattn", "pt") as f:
        meta = f.metadata()
    assert meta["sklattn_version"] == sklattn.__version__
    assert meta["torch_version"] == torch.__version__
    assert meta["sklearn_version"]
    assert meta["estimator"] == "LinearForecaster"
    assert meta["format_version"] == str(persistence.FORMAT_VERSION)


def test_truncated_file_is_refused(fitted, tmp_path):
    path = tmp_path / "m.sklattn"
    save(fitted, path)
    data = path.read_bytes()
    for cut in (0, 5, 100, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="not a readable sklattn file"):
            load(path)


def test_tampered_weights_or_metadata_are_refused(fitted, tmp_path):
    path = tmp_path / "m.sklattn"
    save(fitted, path)
    data = bytearray(path.read_bytes())
    flipped = bytearray(data)
    flipped[-3] ^= 0xFF  # a byte of the last tensor
    path.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="integrity"):
        load(path)
    edited = bytes(data).replace(b'"max_epochs\\": 2', b'"max_epochs\\": 9')
    assert edited != bytes(data)
    path.write_bytes(edited)
    with pytest.raises(ValueError, match="integrity"):
        load(path)


def test_foreign_files_are_refused(fitted, tmp_path):
    path = tmp_path / "foreign"
    path.write_bytes(pickle.dumps(fitted))
    with pytest.raises(ValueError, match="not a readable sklattn file"):
        load(path)
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, path, metadata={"format": "pt"})
    with pytest.raises(ValueError, match="not an sklattn estimator file"):
        load(path)


def test_newer_format_is_refused_with_advice(fitted, tmp_path, monkeypatch):
    current = persistence.FORMAT_VERSION
    monkeypatch.setattr(persistence, "FORMAT_VERSION", current + 1)
    save(fitted, tmp_path / "m.sklattn")
    monkeypatch.setattr(persistence, "FORMAT_VERSION", current)
    with pytest.raises(ValueError, match=f"format version {current + 1}.*upgrade sklattn"):
        load(tmp_path / "m.sklattn")


def test_older_format_whose_forecasts_differ_is_refused_with_advice(fitted, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(persistence, "FORMAT_VERSION", 2)
    save(fitted, tmp_path / "m.sklattn")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="format version 2.*refit the model"):
        load(tmp_path / "m.sklattn")


# Before format 6 there was no shrink_to_epoch0 (nor shrink_factor_).
_BEFORE_6 = {"shrink_to_epoch0": False}


@pytest.mark.parametrize("version, name, added, known", [
    (3, "patch", {"linear_skip": False, "attention_dropout": 0.2, **_BEFORE_6}, {}),
    (3, "linear", {"init": "random", **_BEFORE_6}, {}),
    # before format 5 the attention weights took the `dropout` rate
    (4, "patch", {"attention_dropout": 0.3, **_BEFORE_6}, {"dropout": 0.3}),
    (5, "rnn", _BEFORE_6, {}),
    (5, "linear", _BEFORE_6, {"max_epochs": 1, "early_stopping": False}),
])
def test_older_files_load_with_the_parameters_their_models_had(version, name, added, known,
                                                               lagged_windows, tmp_path,
                                                               monkeypatch):
    X, y = lagged_windows
    model = ESTIMATORS[name]().set_params(**added, **known).fit(X, y)
    hyperparameters = persistence._hyperparameters

    fitted_attributes = persistence._fitted_attributes

    def as_older_format(estimator):  # what sklattn wrote before these parameters existed
        params, not_saved = hyperparameters(estimator)
        return {k: v for k, v in params.items() if k not in added}, not_saved

    def older_attributes(estimator):  # nor their resolved values
        json_attributes, tensors = fitted_attributes(estimator)
        missing = {k + "_" for k in added} | {"shrink_factor_"}
        return {k: v for k, v in json_attributes.items() if k not in missing}, tensors

    monkeypatch.setattr(persistence, "FORMAT_VERSION", version)
    monkeypatch.setattr(persistence, "_hyperparameters", as_older_format)
    monkeypatch.setattr(persistence, "_fitted_attributes", older_attributes)
    save(model, tmp_path / "m.sklattn")
    monkeypatch.undo()
    loaded = load(tmp_path / "m.sklattn")
    assert loaded.get_params() == model.get_params()
    if name == "patch":
        assert loaded.attention_dropout_ == model.attention_dropout_
    assert loaded.shrink_factor_ == model.shrink_factor_ == float(model.best_epoch_ > 0)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_last_value_flag_saved_as_a_bool_loads_as_its_weight(lagged_windows):
    # before format 6 the last value's weight was a bool buffer
    X, y = lagged_windows
    model = ESTIMATORS["rnn"]().set_params(max_epochs=1, early_stopping=False).fit(X, y)
    naive = NaiveForecaster().fit(X, y).predict(X)
    for flag, expected in [(False, model.predict(X)), (True, naive)]:
        state = model.net_.module_.state_dict()
        if flag:
            model.net_.module_.forecaster.zero_output()
            state = model.net_.module_.state_dict()
        state["last_value"] = torch.tensor(flag)
        model._restore_net(state)
        assert model.net_.module_.last_value.dtype == torch.float32
        np.testing.assert_allclose(model.predict(X), expected, atol=1e-5)


def test_failed_save_leaves_no_file(fitted, tmp_path, monkeypatch):
    path = tmp_path / "m.sklattn"

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(persistence.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        save(fitted, path)
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    save(fitted, path)  # an earlier file is replaced whole or not at all
    before = path.read_bytes()
    monkeypatch.setattr(persistence.os, "replace", fail)
    with pytest.raises(OSError):
        save(fitted.set_params(lr=0.5), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.sklattn"]


def test_what_cannot_be_saved(lagged_windows, tmp_path):
    X, y = lagged_windows
    with pytest.raises(NotFittedError):
        save(LinearForecaster(), tmp_path / "m")
    with pytest.raises(TypeError, match="sklattn estimators"):
        save(object(), tmp_path / "m")
    model = LinearForecaster(max_epochs=1, optimizer=torch.optim.RMSprop).fit(X, y)
    with pytest.raises(TypeError, match="optimizer"):
        save(model, tmp_path / "m")
    from skorch.callbacks import PrintLog

    model = LinearForecaster(max_epochs=1, callbacks=[PrintLog()]).fit(X, y)
    save(model, tmp_path / "m")
    from safetensors import safe_open

    with safe_open(tmp_path / "m", "pt") as f:
        assert json.loads(f.metadata()["not_saved"]) == ["callbacks"]
    assert load(tmp_path / "m").callbacks is None


def test_pickle_still_round_trips(fitted, lagged_windows):
    X, _ = lagged_windows
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X),
                                  fitted.predict(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_saved_on_gpu_loads_on_cpu(lagged_windows, tmp_path):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=2, device="cuda", random_state=0).fit(X, y)
    save(model, tmp_path / "m")
    code = "import sklattn; m = sklattn.load('m'); print(m.net_.device, m.device)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                         capture_output=True, text=True,
                         env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert out.stdout.strip() == "cpu cpu"
