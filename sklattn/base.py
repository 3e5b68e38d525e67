"""The one estimator base: parameters -> skorch net, fit / predict / score / attention.

Every sklattn estimator subclasses :class:`WindowRegressorBase` and adds only its own
hyperparameters (as explicit ``__init__`` arguments) and the torch module it builds.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names, check_is_fitted
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping

from ._validation import check_window_targets, check_windows
from .batching import WindowBatches
from .split import TemporalValidationSplit

__all__ = ["WindowRegressorBase"]

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def _is_optimizer_class(value):
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


def _are_callbacks(value):
    return value is None or (
        isinstance(value, (list, tuple))
        and all(isinstance(cb, Callback)
                or (isinstance(cb, tuple) and len(cb) == 2 and isinstance(cb[0], str)
                    and isinstance(cb[1], Callback))
                for cb in value)
    )


class WindowRegressorBase(RegressorMixin, BaseEstimator):
    """Shared behaviour of sklattn's forecasters. Not used directly.

    Subclasses implement ``_build_module(n_features, n_outputs)``, may implement
    ``_prepare_fit(lookback, n_features)``, and list the shared parameters below in
    their own ``__init__``.

    Shared parameters
    -----------------
    max_epochs : int
        Upper bound on training epochs (early stopping may end sooner).
    batch_size : int
    lr : float
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"} or a torch.optim.Optimizer subclass
    weight_decay : float
    max_grad_norm : float or None
        Gradients are clipped to this norm each step; None turns clipping off.
    early_stopping : bool
        Hold out the last ``validation_fraction`` of the windows (after a gap of
        ``lookback + horizon - 1`` windows, so no validation step is seen in training),
        stop when the validation loss has not improved for ``patience`` epochs and keep
        the best epoch's weights. Skipped when there are too few windows to split.
    validation_fraction : float in (0, 0.5]
    patience : int
    random_state : int, RandomState or None
        Seeds weight initialisation, dropout and shuffling: same seed, same predictions
        (on CPU). torch's global RNG is left as it was.
    device : {"auto", "cpu", "cuda"}
        "auto" takes CUDA when available.
    verbose : int
        0 is silent; 1 prints skorch's epoch table.
    callbacks : list of skorch callbacks or None
        Added to the net's callbacks (after early stopping and clipping).
    """

    _parameter_constraints = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), callable],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 0.5, closed="right")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
    }

    # -- what a subclass provides ------------------------------------------------------

    def _build_module(self, n_features, n_outputs):
        raise NotImplementedError

    def _prepare_fit(self, lookback, n_features):
        """Raise ValueError when the module cannot take these windows and y; set any
        fitted attributes of the subclass's own (called in fit, after validation)."""

    # -- validation ----------------------------------------------------------------------

    def _check_extra_params(self):
        if not isinstance(self.optimizer, str) and not _is_optimizer_class(self.optimizer):
            raise TypeError(
                f"optimizer must be one of {sorted(_OPTIMIZERS)} or a torch.optim.Optimizer "
                f"subclass; got {self.optimizer!r}"
            )
        if not _are_callbacks(self.callbacks):
            raise TypeError(
                "callbacks must be a list of skorch callbacks (or (name, callback) pairs); "
                f"got {self.callbacks!r}"
            )
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' was asked for, but torch sees no CUDA device")

    def _validate_X(self, X, *, reset):
        name = type(self).__name__
        if not reset:
            check_is_fitted(self)
        X3, names, ndim = check_windows(X, estimator_name=name)
        # sklearn's own name checks, fed the column names whatever X's rank.
        header = None if names is None else pd.DataFrame(columns=names)
        _check_feature_names(self, header, reset=reset)
        n_columns = X3.shape[1] if ndim == 2 else X3.shape[2]
        if reset:
            self.n_features_in_ = n_columns
            self.window_shape_ = X3.shape[1:]
            return X3
        lookback, n_features = self.window_shape_
        if X3.shape[2] != n_features:
            raise ValueError(
                f"X has {X3.shape[2]} features, but {name} is expecting {n_features} "
                "features as input."
            )
        if X3.shape[1] != lookback:
            if ndim == 2 and n_features == 1:
                raise ValueError(
                    f"X has {X3.shape[1]} features, but {name} is expecting "
                    f"{lookback} features as input."
                )
            raise ValueError(
                f"X has windows of lookback={X3.shape[1]} steps, but {name} was fitted "
                f"on lookback={lookback}."
            )
        return X3

    # -- the skorch net ------------------------------------------------------------------

    def _resolve_device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def _horizon_and_targets(self):
        """``(horizon, n_targets)`` of the fitted y: (n,) is one step of one target."""
        shape = tuple(self.target_shape_) + (1, 1)
        return shape[0], shape[1]

    def _validation_split(self, n_windows):
        if not self.early_stopping:
            return None
        lookback = self.window_shape_[0]
        horizon, _ = self._horizon_and_targets()
        split = TemporalValidationSplit(self.validation_fraction, lookback + horizon - 1)
        return split if split.sizes(n_windows) is not None else None

    def _build_net(self, n_windows):
        module = self._build_module(self.window_shape_[1], self.n_outputs_)
        split = self._validation_split(n_windows)
        callbacks = []
        if split is not None:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.patience, load_best=True)))
        if self.max_grad_norm is not None:
            callbacks.append(("gradient_clipping",
                              GradientNormClipping(gradient_clip_value=self.max_grad_norm)))
        callbacks.extend(self.callbacks or [])
        optimizer = (_OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str)
                     else self.optimizer)
        return NeuralNetRegressor(
            module,
            criterion=torch.nn.MSELoss,
            optimizer=optimizer,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=split,
            iterator_train=WindowBatches,
            iterator_train__shuffle=True,
            iterator_valid=WindowBatches,
            callbacks=callbacks,
            device=self._resolve_device(),
            verbose=self.verbose,
        )

    def _seed(self):
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # -- public API ----------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the forecaster on windows.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback, n_features) or (n_windows, lookback)
            Input windows (2D is read as univariate windows).
        y : array-like of shape (n_windows,), (n_windows, horizon) or
            (n_windows, horizon, n_targets)
            What follows each window.

        Returns
        -------
        self
        """
        self._check_extra_params()
        X3 = self._validate_X(X, reset=True)
        y2, self.target_shape_ = check_window_targets(
            y, len(X3), estimator_name=type(self).__name__)
        self.n_outputs_ = y2.shape[1]
        self._prepare_fit(*self.window_shape_)
        seed = self._seed()
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.net_ = self._build_net(len(X3))
            self.net_.fit(X3, y2)
        return self

    def predict(self, X):
        """Forecast for each window.

        Returns
        -------
        y_pred : ndarray of shape (n_windows,) + the shape of one window's ``y`` in fit
        """
        X3 = self._validate_X(X, reset=False)
        y2 = self._run_module(X3, lambda module, Xb: module(Xb)).astype(np.float64)
        return y2.reshape((len(X3),) + tuple(self.target_shape_))

    def score(self, X, y, sample_weight=None):
        """R² of the forecast, averaged uniformly over every (horizon step, target)."""
        y_pred = self.predict(X)
        y_pred = y_pred.reshape(len(y_pred), -1)
        y_true = np.asarray(y, dtype=np.float64).reshape(len(y_pred), -1)
        return r2_score(y_true, y_pred, sample_weight=sample_weight)

    def _attention_batches(self, X, forward):
        """Validate X, then :meth:`_run_module` ``forward(module, X_batch)`` over it."""
        return self._run_module(self._validate_X(X, reset=False), forward)

    def _run_module(self, X3, forward):
        """Run ``forward(module, X_batch)`` over windows in eval mode; stack the results.

        Every batch is padded with zero windows to ``batch_size``: float32 matrix
        products round differently for different batch shapes, so without this a
        window's forecast would depend (in the last bits) on how many windows were
        predicted with it. With it, predicting a subset gives bitwise the same values.
        """
        module = self.net_.module_
        was_training = module.training
        module.eval()
        outputs = []
        try:
            with torch.no_grad():
                for Xb, _ in WindowBatches(_Windows(X3), self.batch_size):
                    n = len(Xb)
                    if n < self.batch_size:
                        Xb = torch.cat([Xb, Xb.new_zeros((self.batch_size - n,) + Xb.shape[1:])])
                    outputs.append(forward(module, Xb.to(self.net_.device))[:n].cpu())
        finally:
            module.train(was_training)
        return torch.cat(outputs).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        tags.target_tags.required = True
        return tags


class _Windows:
    """The ``X``/``y`` pair WindowBatches reads, for predicting."""

    def __init__(self, X):
        self.X, self.y = X, None

    def __len__(self):
        return len(self.X)
