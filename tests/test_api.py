"""One API across estimators: the same option has the same name and the same docs."""

import re

import numpy as np
import pytest

from sklattn import (
    AttentionRNNRegressor,
    LinearForecaster,
    NaiveForecaster,
    TransformerForecaster,
)
from sklattn.parameters import SHARED_PARAMETERS

NEURAL = [AttentionRNNRegressor, TransformerForecaster, LinearForecaster]


@pytest.mark.parametrize("cls", [*NEURAL, NaiveForecaster])
def test_every_parameter_is_documented(cls):
    documented = set(re.findall(r"^    (\w+) :", cls.__doc__, flags=re.MULTILINE))
    missing = set(cls().get_params()) - documented
    assert not missing, f"{cls.__name__} does not document {sorted(missing)}"


@pytest.mark.parametrize("cls", NEURAL)
def test_shared_parameters_have_one_name_everywhere(cls):
    assert set(SHARED_PARAMETERS) <= set(cls().get_params())
    assert {"normalization", "target_features"} <= set(cls().get_params())


def test_layers_are_spelled_n_layers():
    assert "n_layers" in AttentionRNNRegressor().get_params()
    assert "n_layers" in TransformerForecaster().get_params()
    assert "num_layers" not in AttentionRNNRegressor().get_params()


@pytest.fixture(scope="module")
def windows():
    X = np.random.default_rng(0).standard_normal((80, 6, 2)).astype(np.float32)
    return X, X[:, -1, :1]


@pytest.mark.parametrize("optimizer, params, key, expected", [
    ("adam", {"betas": (0.8, 0.95)}, "betas", (0.8, 0.95)),
    ("sgd", {"momentum": 0.9}, "momentum", 0.9),
])
def test_optimizer_params_reach_the_optimizer(windows, optimizer, params, key, expected):
    X, y = windows
    model = LinearForecaster(optimizer=optimizer, optimizer_params=params, max_epochs=1,
                             early_stopping=False).fit(X, y)
    assert model.net_.optimizer_.param_groups[0][key] == expected


def test_unknown_optimizer_params_are_refused_before_training(windows):
    X, y = windows
    with pytest.raises(ValueError, match=r"\['momentum'\] are not options of Adam"):
        LinearForecaster(optimizer_params={"momentum": 0.9}).fit(X, y)
