import numpy as np
import pytest
from skorch.dataset import Dataset

from sklattn import make_windows
from sklattn.split import TemporalValidationSplit


def test_validation_windows_are_the_last_ones_after_a_gap():
    series = np.arange(200.0)[:, None]
    lookback, horizon = 10, 5
    X, y = make_windows(series, lookback, horizon)
    split = TemporalValidationSplit(0.2, gap=lookback + horizon - 1)
    train, valid = split(Dataset(X, y.reshape(len(y), -1)))
    assert len(valid) == int(np.ceil(0.2 * len(X)))
    np.testing.assert_array_equal(valid.X, X[-len(valid):])
    # no step of a validation window (inputs or targets) appears in any training window
    last_train_step = train.y.max()
    first_valid_step = valid.X.min()
    assert last_train_step < first_valid_step
    assert first_valid_step - last_train_step == 1  # and the gap wastes nothing


def test_too_few_windows_to_split():
    split = TemporalValidationSplit(0.1, gap=20)
    assert split.sizes(25) is None
    assert split.sizes(1000) == (880, 100)
    with pytest.raises(ValueError, match="too few"):
        split(Dataset(np.zeros((25, 3, 1)), np.zeros((25, 1))))
