"""scikit-learn's own estimator checks, for every attention option, token type and the scaler.

The estimators are built with tiny, fast hyperparameters (the checks fit dozens of
times), which are legitimate settings, not special cases. No check is skipped.

One check is expected to fail, for TransformerForecaster only:
check_methods_subset_invariance asks that predicting windows one batch at a time equals
predicting them all at once to atol=1e-7. The Transformer computes in float32, and its
matrix products round differently for different batch sizes: measured differences are
1.2e-7 to 8.9e-7 on predictions of size ~1, i.e. one to a few float32 ulps. The
recurrent model happens to stay within 1e-7. This is recorded as a strict xfail so that
it is noticed if it ever passes.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklattn import AttentionRNNRegressor, TransformerForecaster, WindowScaler

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
    WindowScaler(),
]


def expected_failed_checks(estimator):
    if isinstance(estimator, TransformerForecaster):
        return {"check_methods_subset_invariance":
                "float32 matmuls round differently per batch size (1-8 ulp)"}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks,
                         xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    check(estimator)
