import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklattn import WindowedArray, make_windows


def test_shapes_and_values_follow_the_series():
    series = np.arange(40.0).reshape(20, 2)
    X, y = make_windows(series, lookback=4, horizon=3, stride=2)
    assert X.shape == (7, 4, 2) and y.shape == (7, 3, 2)
    np.testing.assert_array_equal(X[1], series[2:6])
    np.testing.assert_array_equal(y[1], series[6:9])
    np.testing.assert_array_equal(X[-1], series[12:16])


def test_windows_are_views_not_copies():
    series = np.random.default_rng(0).standard_normal((1000, 3)).astype(np.float32)
    X, y = make_windows(series, lookback=96, horizon=24)
    assert np.shares_memory(X, series) and np.shares_memory(y, series)
    assert not X.flags.writeable  # a view of the user's data must not be written through


def test_targets_by_index_and_name_keep_inputs():
    df = pd.DataFrame(np.arange(60.0).reshape(20, 3), columns=["a", "b", "c"])
    X, y = make_windows(df, lookback=5, horizon=2, targets=["c", "a"])
    assert X.shape == (14, 5, 3) and y.shape == (14, 2, 2)
    np.testing.assert_array_equal(y[0, :, 0], df["c"].to_numpy()[5:7])
    np.testing.assert_array_equal(y[0, :, 1], df["a"].to_numpy()[5:7])
    X2, y2 = make_windows(df, lookback=5, horizon=2, targets=[2, 0])
    np.testing.assert_array_equal(y, y2)
    assert list(X.feature_names) == ["a", "b", "c"]


def test_feature_names_survive_slicing_and_pickle():
    import pickle

    df = pd.DataFrame(np.ones((30, 2)), columns=["x", "y"])
    X, _ = make_windows(df, lookback=4, horizon=1)
    assert isinstance(X[:5], WindowedArray) and list(X[:5].feature_names) == ["x", "y"]
    restored = pickle.loads(pickle.dumps(X[:5]))
    assert list(restored.feature_names) == ["x", "y"]
    np.testing.assert_array_equal(restored, X[:5])


def test_input_is_not_mutated_and_dtype_is_float32_by_default():
    df = pd.DataFrame({"a": np.arange(10), "b": np.arange(10) * 2.0})
    before = df.copy()
    X, y = make_windows(df, lookback=3, horizon=1)
    pd.testing.assert_frame_equal(df, before)
    assert X.dtype == np.float32 and y.dtype == np.float32
    X64, _ = make_windows(df, lookback=3, horizon=1, dtype=np.float64)
    assert X64.dtype == np.float64


def test_univariate_series():
    X, y = make_windows(np.arange(10.0), lookback=3, horizon=2)
    assert X.shape == (6, 3, 1) and y.shape == (6, 2, 1)


@pytest.mark.parametrize(
    "series, kwargs, error, match",
    [
        (np.ones((5, 2)), dict(lookback=4, horizon=2), ValueError, "too few"),
        (np.array([[1.0, np.nan]] * 10), dict(lookback=2, horizon=1), ValueError, "NaN"),
        (np.array([[1.0, np.inf]] * 10), dict(lookback=2, horizon=1), ValueError, "inf"),
        (np.array([["a", "b"]] * 10), dict(lookback=2, horizon=1), TypeError, "numbers"),
        (pd.DataFrame({"d": ["x"] * 10, "v": 1.0}), dict(lookback=2, horizon=1), TypeError,
         "non-numeric"),
        (np.ones((10, 2, 2)), dict(lookback=2, horizon=1), ValueError, "2D"),
        (np.ones((10, 2)), dict(lookback=0, horizon=1), ValueError, "lookback"),
        (np.ones((10, 2)), dict(lookback=2.5, horizon=1), TypeError, "lookback"),
        (np.ones((10, 2)), dict(lookback=2, horizon=0), ValueError, "horizon"),
        (np.ones((10, 2)), dict(lookback=2, horizon=1, stride=0), ValueError, "stride"),
        (np.ones((10, 2)), dict(lookback=2, horizon=1, targets=[5]), ValueError, "range"),
        (np.ones((10, 2)), dict(lookback=2, horizon=1, targets=["z"]), ValueError, "name"),
        (np.ones((10, 2)), dict(lookback=2, horizon=1, targets=[0, 0]), ValueError, "repeat"),
        (np.ones((10, 2)), dict(lookback=2, horizon=1, targets=[]), ValueError, "at least"),
        (np.ones((10, 2)), dict(lookback=2, horizon=1, targets=[1.5]), TypeError, "targets"),
    ],
)
def test_bad_input_raises_a_clear_error(series, kwargs, error, match):
    with pytest.raises(error, match=match):
        make_windows(series, **kwargs)


@settings(max_examples=60, deadline=None)
@given(
    n_steps=st.integers(1, 60),
    n_features=st.integers(1, 4),
    lookback=st.integers(1, 20),
    horizon=st.integers(1, 10),
    stride=st.integers(1, 5),
)
def test_window_count_and_content_for_any_sizes(n_steps, n_features, lookback, horizon, stride):
    series = np.arange(n_steps * n_features, dtype=np.float64).reshape(n_steps, n_features)
    if n_steps < lookback + horizon:
        with pytest.raises(ValueError, match="too few"):
            make_windows(series, lookback, horizon, stride=stride)
        return
    X, y = make_windows(series, lookback, horizon, stride=stride, dtype=np.float64)
    n_windows = (n_steps - lookback - horizon) // stride + 1
    assert X.shape == (n_windows, lookback, n_features)
    assert y.shape == (n_windows, horizon, n_features)
    last = (n_windows - 1) * stride
    np.testing.assert_array_equal(X[-1], series[last:last + lookback])
    np.testing.assert_array_equal(y[-1], series[last + lookback:last + lookback + horizon])


def test_y_carries_the_positions_and_names_of_its_targets():
    df = pd.DataFrame(np.arange(40.0).reshape(10, 4), columns=["a", "b", "c", "d"])
    X, y = make_windows(df, lookback=3, horizon=2, targets=["d", "b"])
    assert list(y.target_features) == [3, 1] and list(y.feature_names) == ["d", "b"]
    np.testing.assert_array_equal(y[:, 0, 0], X[:, -1, 3] + 4)  # d, one step on
    _, y_all = make_windows(df, lookback=3, horizon=2)
    assert list(y_all.target_features) == [0, 1, 2, 3]
    _, y_plain = make_windows(np.ones((10, 2)), lookback=3, horizon=2, targets=1)
    assert list(y_plain.target_features) == [1] and y_plain.feature_names is None


@pytest.mark.parametrize(
    "index, names, positions",
    [
        ((slice(None), slice(None), [1, 0]), ["b", "d"], [1, 3]),   # reordered
        ((Ellipsis, 0), ["d"], [3]),                                # one target, 2D y
        ((slice(None), slice(None), slice(None, None, -1)), ["b", "d"], [1, 3]),
        (slice(2, 5), ["d", "b"], [3, 1]),                          # windows only
        ([0, 2], ["d", "b"], [3, 1]),
        ((slice(None), 0), ["d", "b"], [3, 1]),                     # first step only
    ],
)
def test_names_and_positions_follow_indexing_of_the_feature_axis(index, names, positions):
    df = pd.DataFrame(np.arange(40.0).reshape(10, 4), columns=["a", "b", "c", "d"])
    _, y = make_windows(df, lookback=3, horizon=2, targets=["d", "b"])
    part = y[index]
    assert list(part.feature_names) == names and list(part.target_features) == positions


def test_names_are_dropped_where_they_cannot_be_followed():
    df = pd.DataFrame(np.arange(40.0).reshape(10, 4), columns=["a", "b", "c", "d"])
    X, _ = make_windows(df, lookback=3, horizon=2)
    mixed = X[np.arange(3)[:, None], 0, np.array([[0, 1], [1, 0], [2, 3]])]
    assert mixed.feature_names is None
    assert X[0, 0, 1].ndim == 0


def test_windowed_targets_pickle_with_their_positions():
    import pickle

    _, y = make_windows(np.ones((10, 3)), lookback=3, horizon=2, targets=[2])
    restored = pickle.loads(pickle.dumps(y))
    assert list(restored.target_features) == [2]


def test_sklearn_style_row_indexing_keeps_the_names():
    df = pd.DataFrame(np.arange(40.0).reshape(10, 4), columns=["a", "b", "c", "d"])
    _, y = make_windows(df, lookback=3, horizon=2, targets=["d", "b"])
    rows = y[np.array([0, 2]), ...]
    assert list(rows.feature_names) == ["d", "b"] and list(rows.target_features) == [3, 1]


def test_windows_joined_along_the_windows_axis_keep_their_shared_names():
    df = pd.DataFrame(np.arange(60.0).reshape(20, 3), columns=["a", "b", "c"])
    X, y = make_windows(df, lookback=5, horizon=2, targets=["c", "a"])
    joined_X = np.concatenate([X[:3], X[8:10]])
    joined_y = np.concatenate((y[:3], y[8:10]), 0)
    np.testing.assert_array_equal(joined_X, np.asarray(X)[[0, 1, 2, 8, 9]])
    assert list(joined_X.feature_names) == ["a", "b", "c"] and joined_X.target_features is None
    assert list(joined_y.feature_names) == ["c", "a"] and list(joined_y.target_features) == [2, 0]
    assert list(np.vstack([X[:1], X[2:3]]).feature_names) == ["a", "b", "c"]
    # names that differ, a plain array among them, or another axis: a plain result
    reordered = X[:2][:, :, [1, 0, 2]]
    assert type(np.concatenate([X[:2], reordered])) is np.ndarray
    assert type(np.concatenate([X[:2], np.asarray(X[2:4])])) is np.ndarray
    assert type(np.concatenate([X, X], axis=2)) is np.ndarray
    assert type(np.concatenate([X, X], axis=None)) is np.ndarray
    out = np.empty((4, 5, 3))
    assert np.concatenate([X[:2], X[2:4]], out=out) is out


def test_recalibrating_on_joined_windows_warns_of_nothing():
    import warnings

    from sklattn import LinearForecaster

    df = pd.DataFrame(np.random.default_rng(0).standard_normal((400, 3)), columns=list("abc"))
    X, y = make_windows(df, lookback=12, horizon=3, targets="c")
    model = LinearForecaster(max_epochs=1, early_stopping=False, random_state=0)
    model.fit(X[:200], y[:200])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        model.calibrate(np.concatenate([X[220:260], X[300:340]]),
                        np.concatenate([y[220:260], y[300:340]]))
    assert len(model.calibration_residuals_) == 80
