"""ForecastNet: skorch's net with in-step clipping and mixed precision."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, GradientNormClipping
from skorch.dataset import Dataset

from sklattn import AttentionRNNRegressor, LinearForecaster, TransformerForecaster, make_windows
from sklattn.batching import WindowBatches
from sklattn.datasets import make_lagged_series
from sklattn.net import ForecastNet, clip_grad_norm


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6, 2)).astype(np.float32)
    y = (X[:, -2:, :1] * 3).reshape(96, 2)
    return X, y


def _net(cls, **kwargs):
    torch.manual_seed(0)
    return cls(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2)),
               max_epochs=3, lr=0.1, batch_size=16, train_split=None, verbose=0,
               iterator_train=WindowBatches, iterator_valid=WindowBatches, **kwargs)


def test_in_step_clipping_matches_skorch_callback():
    X, y = _data()
    ours = _net(ForecastNet, max_grad_norm=0.05).fit(X, y)
    skorch_clipped = _net(NeuralNetRegressor,
                          callbacks=[GradientNormClipping(gradient_clip_value=0.05)]).fit(X, y)
    unclipped = _net(ForecastNet).fit(X, y)
    for a, b in zip(ours.module_.parameters(), skorch_clipped.module_.parameters()):
        np.testing.assert_allclose(a.detach(), b.detach(), rtol=1e-5, atol=1e-6)
    assert not all(torch.allclose(a, c) for a, c in zip(ours.module_.parameters(),
                                                         unclipped.module_.parameters()))


@pytest.mark.parametrize("max_norm", [0.5, 100.0, "at the norm", "just above"])
def test_clip_grad_norm_matches_torch(max_norm):
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(shape, generator=gen) for shape in [(3, 4), (4,), (2, 2, 2)]]
    total = float(torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads])))
    # at the boundary torch still scales (by max_norm / (norm + 1e-6) < 1); just above it
    # leaves the gradients as they are
    max_norm = {"at the norm": total, "just above": total + 2e-6}.get(max_norm, max_norm)
    ours, reference = [], []
    for grad in grads:
        for params in (ours, reference):
            params.append(torch.nn.Parameter(torch.zeros(grad.shape)))
            params[-1].grad = grad.clone()
    frozen = torch.nn.Parameter(torch.zeros(2))  # no gradient: skipped
    clip_grad_norm(ours + [frozen], max_norm)
    torch.nn.utils.clip_grad_norm_(reference, max_norm)
    for a, b in zip(ours, reference):
        torch.testing.assert_close(a.grad, b.grad)
    norm = torch.linalg.vector_norm(torch.cat([p.grad.reshape(-1) for p in ours]))
    if max_norm < 1:  # clipped to the bound
        torch.testing.assert_close(norm, torch.tensor(max_norm), rtol=1e-4, atol=0)
    elif max_norm > total + 1e-6:  # left as they were
        for p, grad in zip(ours, grads):
            torch.testing.assert_close(p.grad, grad, rtol=0, atol=0)


def test_clip_grad_norm_gives_nan_gradients_as_torch_does():
    ours = [torch.nn.Parameter(torch.zeros(3))]
    ours[0].grad = torch.tensor([1.0, float("nan"), 2.0])
    clip_grad_norm(ours, 1.0)
    assert torch.isnan(ours[0].grad).all()


def test_bfloat16_autocast_on_cpu_trains_and_predicts(lagged_windows):
    X, y = lagged_windows
    dtypes = []
    model = TransformerForecaster(d_model=8, n_layers=1, d_ff=16, max_epochs=2,
                                  precision="bfloat16", random_state=0)
    model.fit(X, y)
    handles = [m.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
               for m in model.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
    pred = model.predict(X)
    for h in handles:
        h.remove()
    assert torch.bfloat16 in dtypes  # the matmuls ran in bfloat16
    assert pred.dtype == X.dtype and np.isfinite(pred).all()  # the windows' dtype
    full = TransformerForecaster(d_model=8, n_layers=1, d_ff=16, max_epochs=2,
                                 random_state=0).fit(X, y).predict(X)
    # Same model and seed: bfloat16 (8 bits of mantissa) stays near the float32 result.
    assert np.abs(pred - full).mean() < 0.1 * np.abs(full).mean()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["float16", "bfloat16"])
def test_mixed_precision_on_gpu(lagged_windows, precision):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=3, device="cuda", precision=precision,
                             random_state=0).fit(X, y)
    assert (model.net_.grad_scaler_ is not None) == (precision == "float16")
    assert np.isfinite(model.predict(X)).all()
    reference = LinearForecaster(max_epochs=3, device="cuda", random_state=0).fit(X, y)
    assert abs(model.score(X, y) - reference.score(X, y)) < 0.1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_compile_on_gpu(lagged_windows):
    X, y = lagged_windows
    compiled = TransformerForecaster(max_epochs=2, device="cuda", compile=True,
                                     random_state=0).fit(X, y)
    assert isinstance(compiled.net_.forward_module(), torch._dynamo.eval_frame.OptimizedModule)
    assert not isinstance(compiled.net_.module_, torch._dynamo.eval_frame.OptimizedModule)
    # The compiled forward computes what the plain module computes with the same weights.
    fast = compiled.predict(X)
    compiled.net_.compile_module = False
    np.testing.assert_allclose(fast, compiled.predict(X), rtol=1e-4, atol=1e-4)
    # Training through it learns as well, though not bit for bit: compiled dropout draws
    # other masks than eager dropout (an H200 run differed by up to 0.05 after 2 epochs).
    plain = TransformerForecaster(max_epochs=2, device="cuda", random_state=0).fit(X, y)
    assert abs(compiled.score(X, y) - plain.score(X, y)) < 0.1


def test_optimizer_uses_foreach_unless_the_user_chose(lagged_windows):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=1, random_state=0).fit(X, y)
    assert model.net_.optimizer_.defaults["foreach"] is True
    model.set_params(optimizer_params={"foreach": False}).fit(X, y)
    assert model.net_.optimizer_.defaults["foreach"] is False


def test_divergence_stops_fit_naming_the_epoch(lagged_windows):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=5, lr=1e30, max_grad_norm=None, early_stopping=False,
                             optimizer="sgd", random_state=0)
    with pytest.raises(ValueError, match=r"diverged in epoch \d.*Lower the learning rate"):
        model.fit(X, y)


def test_a_non_finite_forecast_is_never_returned(lagged_windows):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=1, random_state=0).fit(X, y)
    with torch.no_grad():
        next(model.net_.module_.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="is NaN or infinite"):
        model.predict(X)


class _InterruptAt(Callback):
    """Raise KeyboardInterrupt (as Ctrl-C does) in the middle of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_interrupted_fit_keeps_the_best_weights_so_far():
    from sklattn import make_windows
    from sklattn.datasets import make_lagged_series

    series, _ = make_lagged_series(n_steps=1200, random_state=0)
    X, y = make_windows(series, lookback=12, horizon=2, targets="target")
    model = LinearForecaster(max_epochs=50, patience=50, callbacks=[_InterruptAt(6)],
                             random_state=0).fit(X, y)  # returns: the interrupt is caught
    history = model.net_.history
    assert len(history) == 6 and "valid_loss" not in history[-1]  # stopped mid-epoch 6
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    best = stopper.best_model_weights_
    assert stopper.best_epoch_ == int(np.argmin(history[:-1, "valid_loss"])) + 1
    for key, value in model.net_.module_.state_dict().items():
        torch.testing.assert_close(value, best[key])
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU refusal")
def test_compile_is_refused_on_cpu(lagged_windows):
    X, y = lagged_windows
    with pytest.raises(ValueError, match="compile=True is supported on CUDA only"):
        LinearForecaster(max_epochs=1, compile=True).fit(X, y)


def test_a_model_blown_up_in_its_last_step_returns_no_nan(lagged_windows):
    X, y = lagged_windows
    # One step at an absurd rate: the loss was finite, the weights after it are ~1e30
    # (finite in float32), and any forecast or attention from them overflows. (Without
    # the linear skip, whose zero-started head would leave the encoder's gradients 0.)
    model = TransformerForecaster(d_model=4, n_heads=2, n_layers=1, d_ff=8, max_epochs=1,
                                  linear_skip=False,
                                  batch_size=10**6, lr=1e30, early_stopping=False,
                                  random_state=0).fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.predict(X)
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.attention_weights(X)


def test_infinite_weights_after_the_last_step_stop_fit(lagged_windows):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=1, batch_size=10**6, optimizer="sgd", lr=1e38,
                             max_grad_norm=None, early_stopping=False, random_state=0)
    with pytest.raises(ValueError, match="weights are NaN or infinite after epoch 1"):
        model.fit(X, np.asarray(y) * 1e3)


class _Modes(Callback):
    """Record (training?, every submodule's mode) after each step."""

    def initialize(self):
        self.seen = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        modes = {m.training for m in net.module_.modules()}
        self.seen.append((training, modes))


def test_steps_run_in_the_mode_of_their_phase_every_epoch():
    # ForecastNet only switches modes when they change: train steps must still see every
    # submodule training, validation steps every submodule evaluating, epoch after epoch
    # and after a predict in between.
    X, y = _data()
    modes = _Modes()
    net = ForecastNet(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(12, 2)),
        max_epochs=2, lr=0.1, batch_size=16, verbose=0, callbacks=[modes],
        train_split=lambda data, _=None: (Dataset(X[:64], y[:64]), Dataset(X[64:], y[64:])),
        iterator_train=WindowBatches, iterator_valid=WindowBatches)
    net.fit(X, y)
    net.predict(X)
    net.partial_fit(X, y)
    assert {training for training, _ in modes.seen} == {True, False}
    assert all(submodules == {training} for training, submodules in modes.seen)


def test_losses_read_at_the_end_of_the_epoch_match_the_per_step_reads(lagged_windows,
                                                                      monkeypatch):
    # The CUDA path (losses kept on the device until the loop ends), run on the CPU.
    X, y = lagged_windows
    make = lambda: TransformerForecaster(d_model=8, n_layers=1, d_ff=16, max_epochs=3,  # noqa: E731
                                         validation_fraction=0.3, n_threads=1,
                                         random_state=0)
    per_step = make().fit(X, y)
    monkeypatch.setattr(ForecastNet, "_defer_loss_reads", lambda self: True)
    deferred = make().fit(X, y)
    for key in ("train_loss", "valid_loss", "train_batch_count", "valid_batch_count"):
        assert deferred.net_.history[:, key] == per_step.net_.history[:, key]
    for key in ("train_loss", "train_batch_size", "valid_loss", "valid_batch_size"):
        assert (deferred.net_.history[:, "batches", :, key]
                == per_step.net_.history[:, "batches", :, key])
    np.testing.assert_array_equal(deferred.predict(X), per_step.predict(X))


def test_divergence_is_caught_when_losses_are_read_at_the_end_of_the_epoch(lagged_windows,
                                                                           monkeypatch):
    X, y = lagged_windows
    monkeypatch.setattr(ForecastNet, "_defer_loss_reads", lambda self: True)
    model = LinearForecaster(max_epochs=5, lr=1e30, max_grad_norm=None, early_stopping=False,
                             optimizer="sgd", random_state=0)
    with pytest.raises(ValueError, match=r"diverged in epoch \d.*Lower the learning rate"):
        model.fit(X, y)


def test_foreach_norm_is_each_tensors_vector_norm():
    """clip_grad_norm relies on torch's private ``_foreach_norm`` giving, on a CPU, each
    tensor's ``vector_norm`` bit for bit (so clipping equals ``clip_grad_norm_``)."""
    gen = torch.Generator().manual_seed(0)
    tensors = [torch.randn(shape, generator=gen) * 10 ** k
               for k, shape in enumerate([(96, 96), (96,), (7, 3, 5), (1,)])]
    for norm, tensor in zip(torch._foreach_norm(tensors), tensors):
        assert torch.equal(norm, torch.linalg.vector_norm(tensor))


class _EpochRecorder(Callback):
    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_.append(net.history[-1, "epoch"])


@pytest.mark.parametrize("make", [
    lambda **kw: LinearForecaster(**kw),
    lambda **kw: AttentionRNNRegressor(hidden_size=4, lr=0.05, **kw),
])
def test_every_callback_sees_the_epoch_on_which_early_stopping_stops(make, capsys):
    # skorch's EarlyStopping raises KeyboardInterrupt in on_epoch_end; the callbacks after
    # it (the user's, the progress bar, PrintLog) used to miss that epoch.
    series, _ = make_lagged_series(n_steps=900, random_state=0)
    X, y = make_windows(series, lookback=12, horizon=2, targets="target")
    recorder = _EpochRecorder()
    model = make(max_epochs=40, patience=1, random_state=0, callbacks=[recorder],
                 progress=True, verbose=1).fit(X, y)
    epochs = model.net_.history[:, "epoch"]
    assert len(epochs) < 40  # early stopping stopped it
    assert recorder.epochs_ == epochs
    captured = capsys.readouterr()
    assert f"{len(epochs)}/40" in captured.err  # the bar counted every epoch
    printed = [line.split()[0] for line in captured.out.splitlines()
               if line.split() and line.split()[0].isdigit()]  # PrintLog's rows
    assert printed == [str(epoch) for epoch in epochs]
