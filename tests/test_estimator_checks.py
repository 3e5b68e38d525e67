"""scikit-learn's own estimator checks: every attention option, token type, and the scaler.

The estimators are built with tiny, fast hyperparameters (the checks fit dozens of
times), which are legitimate settings, not special cases. No check is skipped.

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

# The checks' tabular y is not on the scale of the last "step" of X, which the estimators
# rightly warn about (see docs/real_data.md); the warning is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*is not on the scale of the input features")

# Early stopping is off: the checks fit on 20-200 rows, too few for a useful hold-out.
TRAIN = dict(max_epochs=60, batch_size=32, lr=1e-2, early_stopping=False, random_state=0)
FAST = dict(hidden_size=8, **TRAIN)

ESTIMATORS = [
    *(AttentionRNNRegressor(attention=attention, **FAST)
      for attention in ("none", "dot", "general", "additive")),
    AttentionRNNRegressor(attention="additive", context="recurrent", **FAST),
    # patch_len=1 so that the checks' windows of 1-10 columns can be patched
    *(TransformerForecaster(tokens=tokens, d_model=8, n_heads=2, n_layers=1, d_ff=16,
                            patch_len=1, stride=1, **TRAIN)
      for tokens in ("timestep", "patch", "variate")),
    LinearForecaster(**TRAIN),
    LinearForecaster(decomposition=False, normalization="last", **TRAIN),
    NaiveForecaster(),
    NaiveForecaster(season_length=2),
    WindowScaler(),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
