"""Split-conformal scores: the quantile rule and the window spreads (numpy only)."""

import numpy as np
import pytest

from sklattn.conformal import conformal_quantile, window_spread

# -- the quantile rule -----------------------------------------------------------------------

def test_conformal_quantile_is_the_ceil_n_plus_1_coverage_order_statistic():
    scores = np.random.default_rng(0).permutation(np.arange(1.0, 20.0))  # 1..19
    assert conformal_quantile(scores, 0.9) == 18.0  # ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(scores, 0.5) == 10.0
    per_column = conformal_quantile(np.stack([scores, 10 * scores], axis=1), 0.9)
    np.testing.assert_array_equal(per_column, [18.0, 180.0])


def test_conformal_quantile_refuses_too_few_windows_and_bad_coverage():
    with pytest.raises(ValueError, match="at least 9 calibration windows; there are 8"):
        conformal_quantile(np.ones(8), 0.9)
    conformal_quantile(np.ones(9), 0.9)
    for coverage in (0, 1, 1.5, -0.1, True, "0.9"):
        with pytest.raises(ValueError, match="coverage must be a float in"):
            conformal_quantile(np.ones(50), coverage)


def test_window_spread_is_each_targets_std_over_the_window_and_1_for_non_inputs():
    X = np.random.default_rng(0).normal(size=(30, 8, 3))
    spread = window_spread(X, [2, None, 0], chunk=7)
    np.testing.assert_allclose(spread[:, 0], X[:, :, 2].std(axis=1))
    np.testing.assert_allclose(spread[:, 2], X[:, :, 0].std(axis=1))
    np.testing.assert_array_equal(spread[:, 1], 1.0)
