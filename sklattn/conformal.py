"""Split-conformal forecast intervals: scores on held-out windows, bounds on new ones.

Split conformal prediction (Vovk et al. 2005; Lei et al. 2018) turns any point forecaster
into intervals: compute a conformity score on windows the model was not trained on (the
calibration windows), take the ``ceil((n + 1) * coverage)``-th smallest of the ``n``
scores, and widen every new forecast by it. Here this is done separately for each horizon
step and target, because errors grow with the step.

Two scores:

- ``"absolute"``: ``|y - y_hat|``; every window gets the same width (per step and target).
- ``"scaled"``: ``|y - y_hat| / (s + o)``, where ``s`` is the spread (standard
  deviation) of the target's own values in the input window and ``o`` a tenth of the
  calibration windows' median spread; the width is the quantile times each window's
  ``s + o``, so calm windows get narrower intervals and volatile ones wider intervals. A
  target that is not an input feature has no spread in the window and uses ``s = 1``.

Only numpy here; the estimators call these functions through
:class:`sklattn.intervals.ConformalIntervalsMixin`.
"""

import math

import numpy as np

__all__ = ["MAX_CALIBRATION_WINDOWS", "SCORES", "conformal_quantile", "window_spread"]

SCORES = ("absolute", "scaled")

# Calibration keeps at most this many windows, evenly spaced over the hold-out: windows
# one step apart overlap almost entirely, so more add little, and the stored errors
# (windows x horizon x targets) would otherwise grow with the series.
MAX_CALIBRATION_WINDOWS = 5000

# The scaled score divides by a window's spread plus this share of the calibration
# windows' median spread: a window whose target barely moves still gets an interval, and
# the width follows a change of volatility part of the way rather than all of it. Pure
# scaling (0) under-covered when the test period was much calmer than the calibration
# period (ETTm1 "MS", RNN: 0.862 for 90% intervals; 0.875 with 0.1); chosen on ETTh1,
# ETTh2 and ETTm1 "MS" (docs/intervals.md).
SPREAD_OFFSET = 0.1


def window_spread(X3, target_features, *, chunk=256):
    """Each window's spread of each target: the std of its values over the lookback.

    Parameters
    ----------
    X3 : ndarray of shape (n_windows, lookback, n_features)
    target_features : sequence of (int or None)
        Each target's input feature; None gives a spread of 1.

    Returns
    -------
    spread : ndarray of shape (n_windows, n_targets), float64

    Reads ``chunk`` windows of one feature at a time: strided windows are never copied
    whole.
    """
    n = len(X3)
    spread = np.ones((n, len(target_features)))
    for i, feature in enumerate(target_features):
        if feature is None:
            continue
        for start in range(0, n, chunk):
            block = X3[start:start + chunk, :, feature]  # (chunk, lookback), a view
            spread[start:start + chunk, i] = block.std(axis=1, dtype=np.float64)
    return spread


def conformal_quantile(scores, coverage):
    """The split-conformal quantile of ``scores`` along axis 0.

    Parameters
    ----------
    scores : ndarray of shape (n_windows, ...)
        Conformity scores of the calibration windows.
    coverage : float in (0, 1)

    Returns
    -------
    ndarray of shape ``scores.shape[1:]``
        The ``ceil((n + 1) * coverage)``-th smallest score: with exchangeable windows, a
        new score falls at or below it with probability at least ``coverage``.

    Raises
    ------
    ValueError
        ``coverage`` is not in (0, 1), or there are too few windows for it: the
        guarantee needs ``n >= coverage / (1 - coverage)`` (9 windows for 0.9).
    """
    if isinstance(coverage, bool) or not isinstance(coverage, (int, float, np.floating)) \
            or not 0 < coverage < 1:
        raise ValueError(f"coverage must be a float in (0, 1); got {coverage!r}")
    n = len(scores)
    rank = math.ceil((n + 1) * coverage - 1e-9)  # 1-based; the tolerance absorbs rounding
    if rank > n:
        needed = math.ceil(coverage / (1 - coverage) - 1e-9)
        raise ValueError(
            f"coverage={coverage} needs at least {needed} calibration windows; there are "
            f"{n}. Calibrate on more windows or ask for a lower coverage.")
    return np.partition(scores, rank - 1, axis=0)[rank - 1]
