"""The temporal validation split used for early stopping."""

import math

from skorch.dataset import Dataset

__all__ = ["TemporalValidationSplit"]


class TemporalValidationSplit:
    """Hold out the LAST windows for validation, after a gap, never a shuffled fold.

    With windows taken one step apart, window ``i`` covers steps
    ``i .. i + lookback + horizon - 1``; leaving ``gap = lookback + horizon - 1`` windows
    out between the training and validation windows means no step of a validation
    window, inputs or targets, is seen in training.

    Parameters
    ----------
    validation_fraction : float
        Share of the windows held out for validation.
    gap : int
        Windows dropped between the training and the validation windows.

    Notes
    -----
    Called by skorch as ``split(dataset, y)``; returns ``(train, valid)`` skorch
    Datasets whose arrays are slices (views) of the original ones.
    """

    def __init__(self, validation_fraction, gap):
        self.validation_fraction = validation_fraction
        self.gap = gap

    def sizes(self, n_windows):
        """``(n_train, n_valid)``, or None when ``n_windows`` is too few to split."""
        n_valid = math.ceil(self.validation_fraction * n_windows)
        n_train = n_windows - n_valid - self.gap
        if n_valid < 1 or n_train < n_valid:
            return None
        return n_train, n_valid

    def __call__(self, dataset, y=None, **fit_params):
        sizes = self.sizes(len(dataset))
        if sizes is None:
            raise ValueError(
                f"{len(dataset)} windows are too few for a validation split of "
                f"{self.validation_fraction} with a gap of {self.gap} windows"
            )
        n_train, n_valid = sizes
        X, y = dataset.X, dataset.y
        train = Dataset(X[:n_train], y[:n_train])
        valid = Dataset(X[-n_valid:], y[-n_valid:])
        return train, valid
