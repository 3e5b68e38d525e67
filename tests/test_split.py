import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_validate
from skorch.dataset import Dataset

from sklattn import NaiveForecaster, WindowTimeSeriesSplit, make_windows
from sklattn.split import TemporalValidationSplit


def test_validation_windows_are_the_last_ones_after_a_gap():
    series = np.arange(600.0)[:, None]
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
    assert split.sizes(25) is None and split.sizes(400) is None  # 40-window hold-out
    assert split.sizes(1000) == (880, 100)
    with pytest.raises(ValueError, match="too few"):
        split(Dataset(np.zeros((25, 3, 1)), np.zeros((25, 1))))


@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("isolate", ["targets", "windows"])
@pytest.mark.parametrize("lookback, horizon", [(10, 1), (10, 5), (3, 12)])
def test_window_folds_keep_test_targets_out_of_training(lookback, horizon, stride, isolate):
    # Window values are their step numbers, so overlaps can be read off the arrays.
    X, y = make_windows(np.arange(300.0), lookback, horizon, stride=stride)
    cv = WindowTimeSeriesSplit(4, lookback=lookback, horizon=horizon, stride=stride,
                               isolate=isolate)
    folds = list(cv.split(X, y))
    assert len(folds) == cv.get_n_splits() == 4
    for train, test in folds:
        assert train.max() < test.min()
        train_steps = set(np.concatenate([X[train].ravel(), y[train].ravel()]))
        test_steps = set(y[test].ravel()) if isolate == "targets" else set(
            np.concatenate([X[test].ravel(), y[test].ravel()]))
        assert not train_steps & test_steps
        # and the gap is no wider than it needs to be
        window_after = np.concatenate([X[train[-1] + 1], y[train[-1] + 1]])
        assert set(window_after.ravel()) & test_steps


def test_window_folds_check_their_arguments():
    X, _ = make_windows(np.arange(100.0), 10, 2)
    with pytest.raises(ValueError, match="lookback=8"):
        list(WindowTimeSeriesSplit(lookback=8, horizon=2).split(X))
    with pytest.raises(ValueError, match="horizon must be an int"):
        list(WindowTimeSeriesSplit(lookback=10, horizon=0).split(X))
    with pytest.raises(ValueError, match="isolate"):
        list(WindowTimeSeriesSplit(lookback=10, horizon=2, isolate="x").split(X))


def test_window_folds_drive_grid_search_and_cross_validate():
    X, y = make_windows(np.sin(np.arange(400.0) * 2 * np.pi / 10), lookback=12, horizon=3)
    cv = WindowTimeSeriesSplit(3, lookback=12, horizon=3)
    result = cross_validate(NaiveForecaster(), X, y, cv=cv)
    assert len(result["test_score"]) == 3
    search = GridSearchCV(NaiveForecaster(), {"season_length": [None, 10]}, cv=cv).fit(X, y)
    assert search.best_params_ == {"season_length": 10}  # the period of the sine
