"""scikit-learn's own estimator checks, for every attention option and the scaler.

No check is skipped or expected to fail. The estimators are built with tiny, fast
hyperparameters (the checks fit dozens of times), which are legitimate settings, not
special cases.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklattn import AttentionRNNRegressor, WindowScaler

# Early stopping is off: the checks fit on 20-200 rows, too few for a useful hold-out.
FAST = dict(hidden_size=8, max_epochs=60, batch_size=32, lr=1e-2, early_stopping=False,
            random_state=0)

ESTIMATORS = [
    *(AttentionRNNRegressor(attention=attention, **FAST)
      for attention in ("none", "dot", "general", "additive")),
    AttentionRNNRegressor(attention="additive", context="recurrent", **FAST),
    WindowScaler(),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
