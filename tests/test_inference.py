"""The inference path of the neural estimators: batches, padding, threads, no copies."""

import numpy as np
import pytest
import torch

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
)
from sklattn.inference import MIN_INFERENCE_BLOCK

ESTIMATORS = [
    lambda: AttentionRNNRegressor(hidden_size=8, max_epochs=2, random_state=0),
    lambda: TransformerForecaster(tokens="timestep", d_model=8, n_layers=1, max_epochs=2,
                                  random_state=0),
    lambda: LinearForecaster(max_epochs=2, random_state=0),
]


def _spy_batches(model):
    """Record the number of windows and torch threads of each forward call at predict."""
    calls = []
    handle = model.net_.module_.register_forward_pre_hook(
        lambda module, args: calls.append((len(args[0]), torch.get_num_threads(),
                                           torch.is_inference_mode_enabled())))
    return calls, handle


@pytest.mark.parametrize("make", ESTIMATORS)
def test_predict_batches_by_predict_batch_size_and_pads_only_tiny_batches(make,
                                                                          lagged_windows):
    X, y = lagged_windows
    model = make().fit(X, y)
    threads = torch.get_num_threads()
    calls, handle = _spy_batches(model)
    model.set_params(predict_batch_size=50).predict(X)
    model.predict(X[:1])
    handle.remove()
    assert len(X) == 187
    assert [c[0] for c in calls] == [50, 50, 50, 37, MIN_INFERENCE_BLOCK]
    assert all(c[2] for c in calls)  # inference mode, no autograd graph
    assert [c[1] for c in calls] == [threads] * 4 + [1]  # a tiny request on one thread
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("tokens, lookback, expected", [
    ("variate", 12, 16384 // 3),  # 3 token rows per window
    ("timestep", 12, 16384 // 12),  # 12 token rows
    ("timestep", 200, 16384 // 200),  # 200 rows: 81 windows
    ("timestep", 4000, MIN_INFERENCE_BLOCK),  # 4000 rows: the floor of 8 windows
    ("patch", 12, 16384 // (3 * 2)),  # 3 features x 2 patches of 12 steps (stride 6)
    ("variate", 1000, 2**23 // (1000 * 3)),  # the input batch kept under 2**23 values
])
def test_auto_predict_batch_size_follows_the_work_per_window(tokens, lookback, expected):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, lookback, 3)).astype(np.float32)  # few: 4000 steps train slowly
    y = X[:, -2:, :].copy()
    model = TransformerForecaster(tokens=tokens, d_model=4, n_heads=1, n_layers=1, d_ff=8,
                                  max_epochs=1, random_state=0).fit(X, y)
    assert model.predict_batch_size == "auto"
    calls, handle = _spy_batches(model)
    n = expected + 5
    model.predict(np.broadcast_to(X[:1], (n,) + X.shape[1:]))  # a view: no copy
    handle.remove()
    assert [c[0] for c in calls] == [expected, MIN_INFERENCE_BLOCK]  # 5 windows, padded


@pytest.mark.parametrize("tokens, lookback, expected", [
    ("timestep", 96, 2048),  # the measured point: 2048 windows of 96 time-step tokens
    ("timestep", 336, 196608 // 336),
    ("patch", 96, 196608 // (3 * 12)),  # 3 features x 12 patches of 16 steps (stride 8)
    ("variate", 1000, 2**23 // (1000 * 3)),  # the input cap binds as on a CPU
])
def test_auto_predict_batch_size_is_larger_on_a_cuda_device(tokens, lookback, expected):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, lookback, 3)).astype(np.float32)
    model = TransformerForecaster(tokens=tokens, d_model=4, n_heads=1, n_layers=1, d_ff=8,
                                  max_epochs=1, random_state=0).fit(X, X[:, -2:, :].copy())
    on_cpu = model._predict_batch_size()
    model.net_.device = "cuda"  # only the size is asked for: nothing runs there
    assert model._predict_batch_size() == expected
    assert expected >= on_cpu


def _spy_attention_batches(model, X):
    calls, handle = _spy_batches(model)
    weights = model.attention_weights(X)
    handle.remove()
    return [c[0] for c in calls], weights


@pytest.mark.parametrize("tokens, lookback, n_heads, expected", [
    ("timestep", 300, 1, 2**24 // (4 * 300 * 300)),  # 46 windows of 300 x 300 weights
    ("timestep", 1200, 1, MIN_INFERENCE_BLOCK),  # 5.8 MB a window: the floor
    ("patch", 400, 8, 2**24 // (4 * 8 * 3 * 50 * 50)),  # 8 heads x 3 features x 50 patches
    ("variate", 12, 1, 16384 // 3),  # 3 x 3 weights: no bound below predict's batches
])
def test_auto_attention_batches_bound_the_weight_matrices(tokens, lookback, n_heads,
                                                          expected, assert_same_forecast):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, lookback, 3)).astype(np.float32)
    model = TransformerForecaster(tokens=tokens, d_model=8, n_heads=n_heads, n_layers=1,
                                  d_ff=8, max_epochs=1, random_state=0).fit(X, X[:, -2:, :].copy())
    n = expected + 5
    Xn = np.broadcast_to(X[:1], (n,) + X.shape[1:])
    sizes, weights = _spy_attention_batches(model, Xn)
    assert sizes == [expected, MIN_INFERENCE_BLOCK]  # 5 windows, padded
    calls, handle = _spy_batches(model)
    model.predict(Xn)  # predict keeps its own (larger or equal) batches
    handle.remove()
    assert model._auto_predict_batch_size() >= expected
    assert calls[0][0] == min(n, model._auto_predict_batch_size())
    # the same weights, whatever the batching
    one_batch, _ = _spy_attention_batches(model.set_params(predict_batch_size=n), Xn)
    assert one_batch == [n]
    assert_same_forecast(model.attention_weights(Xn), weights, model)


def test_an_int_predict_batch_size_also_sizes_attention_batches():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 200, 3)).astype(np.float32)
    model = TransformerForecaster(tokens="timestep", d_model=4, n_heads=1, n_layers=1, d_ff=8,
                                  max_epochs=1, predict_batch_size=300,
                                  random_state=0).fit(X, X[:, -2:, :].copy())
    sizes, _ = _spy_attention_batches(model, np.broadcast_to(X[:1], (305, 200, 3)))
    assert sizes == [300, MIN_INFERENCE_BLOCK]


def test_auto_predict_batch_size_is_1024_for_rnn_and_linear(lagged_windows):
    X, y = lagged_windows
    for model in (AttentionRNNRegressor(hidden_size=4, max_epochs=1, random_state=0,
                                        predict_batch_size="auto"),
                  LinearForecaster(max_epochs=1, random_state=0, predict_batch_size="auto")):
        model.fit(X, y)
        calls, handle = _spy_batches(model)
        model.predict(np.repeat(X[:1], 1030, axis=0))
        handle.remove()
        assert [c[0] for c in calls] == [1024, MIN_INFERENCE_BLOCK]


@pytest.mark.parametrize("make", ESTIMATORS)
def test_forecast_does_not_depend_on_batching(make, lagged_windows, assert_same_forecast):
    X, y = lagged_windows
    model = make().fit(X, y)
    # Two threads for large requests (test workers run with one), one for tiny ones.
    model.set_params(n_threads=2)
    full = model.set_params(predict_batch_size=1024).predict(X)
    assert full.dtype == X.dtype == np.float32 and full.shape == y.shape
    assert_same_forecast(model.set_params(predict_batch_size=20).predict(X), full, model)
    one_by_one = np.concatenate([model.predict(X[i:i + 1]) for i in range(0, len(X), 7)])
    assert_same_forecast(one_by_one, full[::7], model)


def test_float64_windows_forecast_as_their_float32_cast(lagged_windows):
    X, y = lagged_windows
    model = LinearForecaster(max_epochs=2, random_state=0).fit(X, y)
    X64 = np.asarray(X, dtype=np.float64)
    np.testing.assert_array_equal(model.predict(X64), model.predict(X))


@pytest.mark.parametrize("make", [
    *ESTIMATORS,
    lambda: TransformerForecaster(tokens="patch", d_model=8, n_layers=1, max_epochs=2,
                                  random_state=0),
    lambda: AttentionRNNRegressor(hidden_size=8, attention="additive", max_epochs=2,
                                  random_state=0),
    lambda: NaiveForecaster(),
])
def test_outputs_come_back_in_the_windows_dtype(make, lagged_windows):
    # float32 windows give float32 forecasts (no float64 copy of a float32 computation);
    # float64 windows give float64; integer windows are validated to float32.
    X, y = lagged_windows
    model = make().fit(X, y).calibrate(X[-60:], y[-60:])  # too few windows for a hold-out
    cases = [(X, np.float32), (np.asarray(X, dtype=np.float64), np.float64),
             (np.rint(np.asarray(X) * 100).astype(np.int64), np.float32)]
    for Xq, dtype in cases:
        assert model.predict(Xq).dtype == dtype
        lower, upper = model.predict_interval(Xq)
        assert lower.dtype == upper.dtype == dtype
        if hasattr(model, "attention_weights") and getattr(model, "attention", "") != "none":
            assert model.attention_weights(Xq).dtype == dtype
    forecast = model.predict(X)
    lower, upper = model.predict_interval(X)
    assert (lower <= forecast).all() and (forecast <= upper).all()  # after the cast too


def test_quantiles_come_back_in_the_windows_dtype(lagged_windows):
    X, y = lagged_windows
    model = LinearForecaster(quantiles=(0.1, 0.9), max_epochs=2, random_state=0).fit(X, y)
    assert model.predict_quantiles(X).dtype == np.float32
    assert model.predict_quantiles(np.asarray(X, dtype=np.float64)).dtype == np.float64


def test_run_in_batches_restores_the_module_mode_even_when_forward_fails():
    from sklattn.inference import run_in_batches

    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 2)).train()
    X = np.arange(5 * 3 * 2, dtype=np.float64).reshape(5, 3, 2)
    out = run_in_batches(module, X, lambda m, Xb: m(Xb), batch_size=2)
    assert out.dtype == np.float64 and out.shape == (5, 2) and module.training
    with torch.no_grad():
        expected = module(torch.from_numpy(X).float()).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6)

    def fail(m, Xb):
        assert not m.training  # eval mode inside
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_in_batches(module, X, fail, batch_size=2)
    assert module.training


@pytest.mark.parametrize("block_batches, reads_expected", [
    (0, [50, 50, 50, 37]), (3, [150, 37]), (100, [187])])
def test_deferred_reads_give_the_same_output_as_reading_every_batch(
        block_batches, reads_expected, lagged_windows, monkeypatch):
    # The GPU path (results kept on the device, read back a block at a time), forced on
    # the CPU: every block size gives the per-batch path's output, padding included.
    import sklattn.inference as inference

    X, y = lagged_windows
    model = AttentionRNNRegressor(hidden_size=8, max_epochs=2, random_state=0).fit(X, y)
    model.set_params(predict_batch_size=50)
    expected = model.predict(X)
    one = model.predict(X[:3])
    reads = []

    class Spy(inference._Output):
        def _write(self, block):
            reads.append(len(block))
            super()._write(block)

    monkeypatch.setattr(inference, "_defer_reads", lambda device: True)
    monkeypatch.setattr(inference, "_Output", Spy)
    batch_bytes = 50 * expected[0].size * 4  # float32 results of 50 windows
    monkeypatch.setattr(inference, "DEVICE_OUTPUT_BYTES", max(block_batches * batch_bytes, 1))
    np.testing.assert_array_equal(model.predict(X), expected)
    np.testing.assert_array_equal(model.predict(X[:3]), one)
    assert reads == reads_expected + [3]  # 187 windows in batches of 50, then 3
