"""A built-in series whose target depends on another feature at a known lag."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["make_lagged_series"]


def make_lagged_series(n_steps=2000, *, lag=12, period=24, n_distractors=2, noise=0.1,
                       random_state=None):
    """Make a multivariate series whose target copies a random driver ``lag`` steps back.

    ``target[t] = driver[t - lag] + 0.5 * sin(2 pi t / period) + noise * e[t]`` where the
    driver is white noise, so the target cannot be forecast from its own past or from the
    season alone: a model must read the driver exactly ``lag`` steps before the step it
    forecasts. The distractors are AR(1) noise that the target does not depend on.

    Parameters
    ----------
    n_steps : int, default=2000
    lag : int, default=12
        The planted lag, >= 1.
    period : int, default=24
        Period of the seasonal term.
    n_distractors : int, default=2
    noise : float, default=0.1
        Standard deviation of the target's noise.
    random_state : int, RandomState or None

    Returns
    -------
    series : DataFrame of shape (n_steps, 2 + n_distractors)
        Columns "target", "driver", "distractor_1", ...
    lag : int
        The planted lag: forecasting ``target[t]`` needs ``driver[t - lag]``.
    """
    for name, value, low in (("n_steps", n_steps, 1), ("lag", lag, 1), ("period", period, 1),
                             ("n_distractors", n_distractors, 0)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an int; got {value!r}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}; got {value}")
    if n_steps <= lag:
        raise ValueError(f"n_steps={n_steps} must exceed lag={lag}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0; got {noise}")
    rng = check_random_state(random_state)
    t = np.arange(n_steps)
    driver = rng.standard_normal(n_steps + lag)
    target = driver[:n_steps] + 0.5 * np.sin(2 * np.pi * t / period)
    target += noise * rng.standard_normal(n_steps)
    columns = {"target": target, "driver": driver[lag:]}
    for k in range(n_distractors):
        e = rng.standard_normal(n_steps)
        ar = np.empty(n_steps)
        ar[0] = e[0]
        for i in range(1, n_steps):
            ar[i] = 0.8 * ar[i - 1] + 0.6 * e[i]
        columns[f"distractor_{k + 1}"] = ar
    return pd.DataFrame(columns), int(lag)
