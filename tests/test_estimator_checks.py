"""scikit-learn's own estimator checks on estimators as a user constructs them.

Every attention option, context and token type, default-constructed (only the option
itself set), plus the non-default baselines and the scaler. No check is skipped or
xfailed.

With their defaults the neural estimators train up to 50 epochs on each of the checks'
fits (early stopping needs more windows than the checks have): about 6 minutes for the
whole module on 2 CPU cores (2026-11-25).

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
    *(AttentionRNNRegressor(attention=attention)
      for attention in ("none", "dot", "general", "additive")),
    AttentionRNNRegressor(context="recurrent"),
    *(TransformerForecaster(tokens=tokens) for tokens in ("timestep", "patch", "variate")),
    LinearForecaster(),
    LinearForecaster(decomposition=False, normalization="last"),
    NaiveForecaster(),
    NaiveForecaster(season_length=2),
    WindowScaler(),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
