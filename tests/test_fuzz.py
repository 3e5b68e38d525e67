"""Generated bad and odd inputs: each call works correctly or raises ValueError/TypeError
with a message, never another exception, a NaN forecast, or a change to the caller's arrays.

CI runs a small number of examples per test. The full run (12,000 examples in all):

    SKLATTN_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py --hypothesis-show-statistics

(six tests x 2000 examples; ``SKLATTN_FUZZ_EXAMPLES`` sets each test's count).
"""

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    WindowTimeSeriesSplit,
    load,
    make_windows,
    save,
)

EXAMPLES = int(os.environ.get("SKLATTN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))

ACCEPTED = (ValueError, TypeError)

# Values that break things: NaN, infinities, huge and tiny magnitudes.
ODD_FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                       st.sampled_from([0.0, 1e300, -1e300, 1e-300, 3e38, np.nan, np.inf]))
DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.complex128,
                          np.dtype("U3"), np.dtype("O"), np.float16, np.uint8])


def _array(draw, max_dims=4):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=9))
    dtype = draw(DTYPES)
    values = draw(hnp.arrays(np.float64, shape, elements=ODD_FLOATS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if np.dtype(dtype).kind in "US":
            return values.astype(str).astype(dtype)
        if np.dtype(dtype) == object:
            return values.astype(object)
        if np.dtype(dtype).kind in "iub":
            return np.nan_to_num(values, posinf=0, neginf=0).clip(-100, 100).astype(dtype)
        return values.astype(dtype)


@st.composite
def arrays(draw, max_dims=4):
    return _array(draw, max_dims)


def _check(call, *inputs):
    """Run ``call``; an accepted error must have a message; inputs must be unchanged."""
    before = [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in inputs]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call()
    except ACCEPTED as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        out = None
    for a, b in zip(inputs, before):
        if b is not None:
            assert _same(a, b), "the caller's array was modified"
    return out


def _same(a, b):
    """Bitwise equality (NaN included), element reprs for object arrays."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:
        return [repr(v) for v in a.ravel()] == [repr(v) for v in b.ravel()]
    return np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def _estimators(params):
    return [NaiveForecaster(), LinearForecaster(max_epochs=1, **params),
            AttentionRNNRegressor(hidden_size=4, max_epochs=1, **params),
            TransformerForecaster(d_model=4, n_heads=2, n_layers=1, d_ff=8, max_epochs=1,
                                  **params)]


@FUZZ
@given(series=arrays(max_dims=3), lookback=st.integers(-2, 12), horizon=st.integers(-2, 5),
       stride=st.integers(-1, 4))
def test_make_windows(series, lookback, horizon, stride):
    out = _check(lambda: make_windows(series, lookback, horizon, stride=stride), series)
    if out is not None:
        X, y = out
        assert len(X) == len(y) > 0 and np.isfinite(X).all() and np.isfinite(y).all()


@FUZZ
@given(X=arrays(), y=arrays(), which=st.integers(0, 3))
def test_fit_and_predict_on_odd_arrays(X, y, which):
    model = _estimators({"early_stopping": False, "random_state": 0})[which]
    fitted = _check(lambda: model.fit(X, y), X, y)
    if fitted is not None:
        pred = _check(lambda: fitted.predict(X), X)
        if pred is not None:
            assert np.isfinite(pred).all(), "a NaN forecast was returned"


@FUZZ
@given(n_windows=st.integers(1, 40), lookback=st.integers(1, 8), n_features=st.integers(1, 3),
       horizon=st.integers(1, 3), which=st.integers(0, 3), X_bad=arrays(),
       lr=st.sampled_from([1e-12, 1e-3, 10.0, 1e30]),
       batch_size=st.sampled_from([1, 2, 64, 10**6]))
def test_valid_fit_then_odd_predict_and_attention(n_windows, lookback, n_features, horizon,
                                                  which, X_bad, lr, batch_size):
    rng = np.random.default_rng(n_windows)
    X = rng.standard_normal((n_windows, lookback, n_features))
    y = rng.standard_normal((n_windows, horizon, n_features))
    params = {"early_stopping": False, "random_state": 0, "lr": lr, "batch_size": batch_size}
    model = _estimators(params)[which]
    fitted = _check(lambda: model.fit(X, y), X, y)
    if fitted is None:
        return
    for Xq in (X_bad, X[:1], X[:, :-1] if lookback > 1 else X_bad):
        pred = _check(lambda Xq=Xq: fitted.predict(Xq), Xq)
        if pred is not None:
            assert np.isfinite(pred).all() and pred.shape[1:] == y.shape[1:]
        if hasattr(fitted, "attention_weights"):
            weights = _check(lambda Xq=Xq: fitted.attention_weights(Xq), Xq)
            if weights is not None:
                assert np.isfinite(weights).all()


@FUZZ
@given(n_splits=st.integers(-1, 6), lookback=st.integers(-1, 10), horizon=st.integers(-1, 5),
       n=st.integers(0, 60), isolate=st.sampled_from(["targets", "windows", "x", None]))
def test_window_splitter(n_splits, lookback, horizon, n, isolate):
    X = np.zeros((n, 3, 1))

    def split():
        cv = WindowTimeSeriesSplit(n_splits=n_splits, lookback=lookback, horizon=horizon,
                                   isolate=isolate)
        return list(cv.split(X))

    folds = _check(split, X)
    for train, test in folds or []:
        assert len(train) and len(test) and train.max() < test.min()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved LinearForecaster's bytes, and its windows and forecast."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4, 2)), rng.standard_normal((30, 2))
    model = LinearForecaster(max_epochs=1, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("fuzz") / "m.sklattn"
    save(model, path)
    return path.read_bytes(), X, model.predict(X)


@FUZZ
@given(data=st.data())
def test_load_corrupt_files(saved, tmp_path_factory, data):
    saved_bytes, X, forecast = saved
    original = bytearray(saved_bytes)
    edit = data.draw(st.sampled_from(["flip", "cut", "insert", "random"]))
    if edit == "flip":
        i = data.draw(st.integers(0, len(original) - 1))
        original[i] ^= data.draw(st.integers(1, 255))
    elif edit == "cut":
        original = original[:data.draw(st.integers(0, len(original) - 1))]
    elif edit == "insert":
        i = data.draw(st.integers(0, len(original)))
        original[i:i] = data.draw(st.binary(min_size=1, max_size=20))
    else:
        original = bytearray(data.draw(st.binary(max_size=200)))
    path = tmp_path_factory.mktemp("corrupt") / "m.sklattn"
    path.write_bytes(bytes(original))
    model = _check(lambda: load(path))
    if model is not None:  # only an edit that changes nothing (JSON whitespace) may load
        np.testing.assert_array_equal(model.predict(X), forecast)


@FUZZ
@given(name=st.one_of(st.sampled_from(["ETTh1", "weather", "national_illness"]), st.text(),
                      st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
       content=st.binary(max_size=300), gz=st.booleans(), verify=st.booleans())
def test_load_benchmark_odd_names_and_corrupt_files(name, content, gz, verify,
                                                    tmp_path_factory):
    from sklattn.datasets import load_benchmark

    home = tmp_path_factory.mktemp("data")
    if isinstance(name, str) and name and "/" not in name and "\0" not in name:
        (home / f"{name}.csv{'.gz' if gz else ''}").write_bytes(content)
    try:
        series = _check(lambda: load_benchmark(name, data_home=home, verify=verify))
    except FileNotFoundError:
        return  # a name that is a benchmark, but whose file could not be written here
    assert series is None or np.isfinite(series.to_numpy()).all() or series.empty
