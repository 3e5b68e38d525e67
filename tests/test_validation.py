"""Checks of windows and targets (sklattn/_validation.py)."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import sklattn._validation as validation
from sklattn import make_windows
from sklattn._validation import check_window_targets, check_windows


def _windows_of(series, lookback):
    """Strided windows (n, lookback, n_features) viewing ``series``, as make_windows's."""
    return sliding_window_view(series, (lookback, series.shape[1]))[:, 0]


@pytest.fixture
def spy_full_check(monkeypatch):
    """Record the calls of the value-by-value check of the windows themselves."""
    calls = []
    original = validation.assert_all_finite

    def spy(array, **kwargs):
        calls.append(array.shape)
        return original(array, **kwargs)

    monkeypatch.setattr(validation, "assert_all_finite", spy)
    return calls


def test_finite_windows_are_checked_through_their_series(spy_full_check):
    series = np.random.default_rng(0).standard_normal((300, 3)).astype(np.float32)
    X, y = make_windows(series, lookback=24, horizon=4)
    check_windows(X)
    check_window_targets(y, len(X))
    assert spy_full_check == []  # the series, not its windows value by value


def test_a_nan_outside_the_windows_is_not_an_error(spy_full_check):
    series = np.random.default_rng(0).standard_normal((300, 3))
    series[-1, 0] = np.nan
    X = _windows_of(series, 24)[:-5]  # the last windows, which hold the NaN, left out
    checked, _ = check_windows(X)
    assert np.shares_memory(checked, X)
    assert spy_full_check == []  # the NaN lies beyond the memory the windows span
    # Feature-major memory (a DataFrame's block): the NaN, last of feature 0, lies
    # between the windows' values of features 0 and 1: the windows are then read.
    X = _windows_of(np.asfortranarray(series), 24)[:-5]
    check_windows(X)
    assert spy_full_check == [X.shape]


@pytest.mark.parametrize("bad, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_a_nan_or_inf_inside_the_windows_still_raises(bad, message):
    series = np.random.default_rng(0).standard_normal((300, 3))
    series[150, 2] = bad
    with pytest.raises(ValueError, match=message):
        check_windows(_windows_of(series, 24))
    with pytest.raises(ValueError, match=message):
        check_window_targets(_windows_of(series, 4), 297)


def test_an_array_that_is_its_whole_span_is_checked_once_directly(spy_full_check):
    # no overlapping windows (a C-contiguous array): the span would be the array itself,
    # so it is checked once, by scikit-learn, not twice
    X = np.zeros((4, 8, 4), dtype=np.float32)
    check_windows(X)
    assert spy_full_check == [X.shape]
