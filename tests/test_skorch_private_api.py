"""Pins for the private parts of skorch that sklattn uses, where skorch offers no public
way to do the same.

- ``NeuralNet._set_training(training)``: ``ForecastNet`` skips it when the mode would
  not change, and calls it otherwise.
- ``NeuralNet._zero_grad_optimizer()``: the float16 step (with a gradient scaler) zeroes
  the gradients as skorch's own ``train_step`` does.
- ``NeuralNet._modules`` / ``_criteria``: the names of the modules and criteria whose mode
  ``_set_training`` switches.
- ``NeuralNet.run_single_epoch``'s loop (public, but ``ForecastNet``'s CUDA path
  re-implements it): the history keys it records per batch and per epoch.
- ``NeuralNet.notify`` (public, but ``ForecastNet`` re-implements it for ``on_epoch_end``
  to hold a stop until every callback has run): the net's own hook first, then each of
  ``callbacks_`` in order; and skorch's ``EarlyStopping`` stops training by raising
  ``KeyboardInterrupt`` from ``on_epoch_end``.
- ``EarlyStopping._calc_new_threshold(score)`` and its fitted attributes
  ``dynamic_threshold_``, ``best_model_weights_``, ``best_epoch_``: epoch 0 candidates
  (``sklattn.stopping``) and checkpoints (``sklattn.checkpoint``) set them.

If a skorch release moves or changes them, these tests fail first, naming the part. CI
runs them on the oldest skorch ``pyproject.toml`` allows and the newest.
"""

import inspect

import numpy as np
import pytest
import skorch
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import get_len, unpack_data
from skorch.utils import TeeGenerator, to_tensor

from sklattn import LinearForecaster


def _net(**kwargs):
    return NeuralNetRegressor(torch.nn.Linear(3, 1), max_epochs=2, batch_size=4,
                              train_split=None, **kwargs)


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3)).astype(np.float32)
    return X, X[:, :1].copy()


def test_supported_version():
    major, minor = (int(p) for p in skorch.__version__.split(".")[:2])
    assert (major, minor) >= (1, 2)


def test_the_net_helpers_exist_with_the_signatures_used():
    assert list(inspect.signature(skorch.NeuralNet._set_training).parameters) == [
        "self", "training"]
    assert "self" in inspect.signature(skorch.NeuralNet._zero_grad_optimizer).parameters
    assert list(inspect.signature(skorch.NeuralNet.run_single_epoch).parameters) == [
        "self", "iterator", "training", "prefix", "step_fn", "fit_params"]
    net = _net().initialize()
    assert net._modules == ["module"] and net._criteria == ["criterion"]
    net._set_training(False)
    assert not net.module_.training and not net.criterion_.training
    net._set_training(True)
    assert net.module_.training


def test_zero_grad_optimizer_clears_the_gradients():
    net = _net().initialize()
    for p in net.module_.parameters():
        p.grad = torch.ones_like(p)
    net._zero_grad_optimizer()
    assert all(p.grad is None or not p.grad.any() for p in net.module_.parameters())


def test_run_single_epoch_records_the_batch_keys_forecastnet_records():
    X, y = _data()
    net = _net().fit(X, y)
    assert net.history[-1, "train_batch_count"] == 3
    assert net.history[-1, "batches", :, "train_batch_size"] == [4, 4, 2]
    assert all(np.isfinite(net.history[-1, "batches", :, "train_loss"]))


def test_the_data_helpers_exist():
    X, y = _data()
    Xi, yi = unpack_data((X, y))
    assert Xi is X and yi is y and get_len(X) == 10
    assert isinstance(to_tensor(X, "cpu"), torch.Tensor)
    assert len(list(TeeGenerator(iter([1, 2])))) == 2


def test_early_stopping_attributes_used_by_epoch_0_and_checkpoints():
    assert list(inspect.signature(EarlyStopping._calc_new_threshold).parameters) == [
        "self", "score"]
    assert "load_best" in inspect.signature(EarlyStopping).parameters
    stopper = EarlyStopping(patience=2, threshold=0.1, load_best=True)
    assert np.isclose(stopper._calc_new_threshold(2.0), 1.8)  # "rel": score * (1 - 0.1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((800, 12, 1)).cumsum(axis=1).astype(np.float32)
    model = LinearForecaster(max_epochs=3, random_state=0).fit(X[:, :-2], X[:, -2:, 0])
    fitted = next(cb for _, cb in model.net_.callbacks_ if isinstance(cb, EarlyStopping))
    assert np.isfinite(fitted.dynamic_threshold_)
    assert isinstance(fitted.best_epoch_, int)
    assert isinstance(fitted.best_model_weights_, dict)


def test_notify_runs_the_net_then_its_callbacks_and_early_stopping_raises_to_stop():
    calls = []

    class Record(Callback):
        def __init__(self, name):
            self.name = name

        def on_epoch_end(self, net, **kwargs):
            calls.append(self.name)

    net = _net().initialize()
    net.callbacks_ = [("a", Record("a")), ("b", Record("b"))]
    net.on_epoch_end = lambda net_, **kwargs: calls.append("net")
    net.notify("on_epoch_end")
    assert calls == ["net", "a", "b"]

    stopper = EarlyStopping(monitor="valid_loss", patience=1).initialize()
    stopper.on_train_begin(net)
    net.history.clear()
    for epoch, loss in enumerate([1.0, 2.0], start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        if epoch == 1:
            stopper.on_epoch_end(net)
    with pytest.raises(KeyboardInterrupt):
        stopper.on_epoch_end(net)
