"""Pins for the private scikit-learn helpers sklattn uses because no public API exists.

- ``sklearn.base._fit_context``: validates parameters once per ``fit`` (what every
  scikit-learn estimator does; ``BaseEstimator._validate_params`` is private too).
- ``sklearn.utils._param_validation.Interval`` / ``StrOptions``: the constraint objects
  of ``_parameter_constraints``.

If a scikit-learn release moves or changes them, these tests fail first, naming the
helper. CI runs them on the oldest scikit-learn ``pyproject.toml`` allows and the newest.
"""

from numbers import Integral

import numpy as np
import pytest
import sklearn
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from sklattn import AttentionRNNRegressor, NaiveForecaster


def test_the_helpers_exist_with_the_signatures_used():
    assert callable(_fit_context(prefer_skip_nested_validation=True))
    assert Interval(Integral, 1, None, closed="left").is_satisfied_by(3)
    assert not Interval(Integral, 1, None, closed="left").is_satisfied_by(0)
    assert StrOptions({"auto"}).is_satisfied_by("auto")


def test_fit_context_validates_parameters_with_a_value_error():
    assert issubclass(InvalidParameterError, ValueError)
    X = np.zeros((60, 4, 1))
    with pytest.raises(ValueError, match="season_length"):
        NaiveForecaster(season_length=0).fit(X, X[:, -1, 0])
    with pytest.raises(ValueError, match="segment_len"):
        AttentionRNNRegressor(segment_len="short").fit(X, X[:, -1, 0])


def test_supported_version():
    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    assert (major, minor) >= (1, 6)
