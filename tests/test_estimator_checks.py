"""scikit-learn's own estimator checks on estimators as a user constructs them.

Every attention option, context and token type, default-constructed (only the option
itself set), plus the non-default baselines and the scaler. No check is skipped or
xfailed.

With their defaults the neural estimators train up to 50 epochs on each of the checks'
fits (early stopping needs more windows than the checks have): 360 CPU-seconds for the
whole module on a 2-core machine (2026-11-28), seven tenths of them for the variants.

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

# One default-constructed estimator of each class, then each option that changes the
# torch module (attention, context, tokens) or the forecast's arithmetic. The options go
# through the same scikit-learn- and skorch-facing code as their class's default (the
# base's), so .ci/run's second pass, on the oldest scikit-learn allowed, checks only the
# defaults ("variants" marker); the first pass, on the newest, checks them all.
DEFAULTS = [
    AttentionRNNRegressor(),
    TransformerForecaster(),
    LinearForecaster(),
    NaiveForecaster(),
    WindowScaler(),
]
VARIANTS = [
    *(AttentionRNNRegressor(attention=attention) for attention in ("none", "dot", "general")),
    AttentionRNNRegressor(context="recurrent"),
    *(TransformerForecaster(tokens=tokens) for tokens in ("timestep", "variate")),
    LinearForecaster(decomposition=False, normalization="last"),
    NaiveForecaster(season_length=2),
]


@parametrize_with_checks(DEFAULTS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.variants
@parametrize_with_checks(VARIANTS)
def test_sklearn_compatible_variants(estimator, check):
    check(estimator)
