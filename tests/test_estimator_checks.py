"""scikit-learn's own estimator checks on estimators as a user constructs them.

Every attention option, context and token type, default-constructed (only the option
itself set), plus the non-default baselines and the scaler. No check is skipped or
xfailed.

With their defaults the neural estimators train up to 50 epochs on each of the checks'
~60 fits; the whole sweep takes about half an hour on 2 CPU cores. The default run keeps
one default-constructed estimator per class plus the same options with small, fast
settings; ``pytest -m slow tests/test_estimator_checks.py`` runs every option with its
defaults (see the README).

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

DEFAULTS = [
    AttentionRNNRegressor(),
    TransformerForecaster(),
    LinearForecaster(),
    LinearForecaster(decomposition=False, normalization="last"),
    NaiveForecaster(),
    NaiveForecaster(season_length=2),
    WindowScaler(),
]
DEFAULT_OPTIONS = [
    *(AttentionRNNRegressor(attention=attention) for attention in ("none", "dot", "general")),
    AttentionRNNRegressor(context="recurrent"),
    *(TransformerForecaster(tokens=tokens) for tokens in ("timestep", "variate")),
]
# The same options with small settings: fast enough for every run.
SMALL = dict(hidden_size=8, max_epochs=60, batch_size=32, lr=1e-2, random_state=0)
SMALL_OPTIONS = [
    *(AttentionRNNRegressor(attention=attention, **SMALL)
      for attention in ("none", "dot", "general")),
    AttentionRNNRegressor(context="recurrent", **SMALL),
    *(TransformerForecaster(tokens=tokens, d_model=8, n_heads=2, n_layers=1, d_ff=16,
                            max_epochs=60, batch_size=32, lr=1e-2, random_state=0)
      for tokens in ("timestep", "variate")),
]


@parametrize_with_checks([*DEFAULTS, *SMALL_OPTIONS])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(DEFAULT_OPTIONS)
def test_sklearn_compatible_every_default_option(estimator, check):
    check(estimator)
