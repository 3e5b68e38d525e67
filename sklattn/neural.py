"""The base of the neural forecasters: parameters -> skorch net, training, inference.

Every neural sklattn estimator subclasses :class:`NeuralForecasterBase` and adds only its
own hyperparameters (as explicit ``__init__`` arguments) and the torch module it builds;
window normalisation, early stopping, clipping, seeding and batching live here, once.
"""

import inspect
import json
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .base import WindowForecasterBase
from .batching import WindowBatches
from .checkpoint import EpochCheckpoint, read_manifest, restore
from .devices import is_cuda
from .inference import run_in_batches
from .net import ForecastNet
from .nn.normalization import WindowNormalization
from .nn.quantiles import PinballLoss, QuantileOffsets
from .parameters import OPTIMIZERS, SHARED_CONSTRAINTS, are_callbacks, is_optimizer_class
from .progress import EpochProgress, show_progress
from .split import MIN_VALIDATION_WINDOWS
from .stopping import EarlyStoppingWithBaseline, last_value_forecast
from .threads import torch_threads
from .warmstart import LeastSquaresStart

__all__ = ["NeuralForecasterBase", "linear_skip_of", "point_forecaster"]


def point_forecaster(module):
    """The estimator's own module inside a fitted net's module: below the normalisation
    and, with ``quantiles``, below the quantile offsets."""
    forecaster = module.forecaster
    return forecaster.forecaster if isinstance(forecaster, QuantileOffsets) else forecaster


def linear_skip_of(module):
    """The linear skip (``linear_skip=True``) of a fitted net's module."""
    return point_forecaster(module).skip


class NeuralForecasterBase(WindowForecasterBase):
    """Shared behaviour of sklattn's neural forecasters. Not used directly.

    Subclasses implement ``_build_module(n_features, n_outputs)`` (a torch module mapping
    normalised windows to normalised forecasts), may implement
    ``_prepare_fit(lookback, n_features)``, and list the shared parameters below in
    their own ``__init__``.

    Shared parameters
    -----------------
    normalization : {"auto", "revin", "last"} or None
        How each input window is normalised before the module sees it, and undone on the
        forecast of each target (see :class:`~sklattn.nn.normalization.WindowNormalization`).
        "auto" (the default) is the estimator's own choice (``_auto_normalization``:
        "revin" or "last") when at least one target is an input feature, and None when
        none is: a window's statistics can then not be undone on any forecast, and
        normalising would only hide the inputs' level from the model.
        "revin": per window and feature, subtract the mean and divide by the std.
        "last": subtract each feature's last value (NLinear) and divide by its std over
        the window. None: no normalisation.
        A target that is not an input feature has no window statistics: it is forecast
        in units standardised by its training mean and std, whatever this option.
    target_features : list of (int or None) or None
        See :class:`~sklattn.base.WindowForecasterBase`.
    lookback, normalization_affine, max_epochs, batch_size, predict_batch_size, lr,
    optimizer, weight_decay, optimizer_params, max_grad_norm, quantiles, baseline,
    early_stopping, validation_fraction, patience, random_state, device, checkpoint_dir,
    n_threads, precision, compile, verbose, progress, callbacks
        Described once in ``sklattn.parameters`` and written, with each estimator's
        defaults, into its docstring by
        :func:`~sklattn.parameters.document_shared_parameters`.

    Fitted attributes
    -----------------
    normalization_ : {"revin", "last"} or None
        The normalisation used ("auto" resolved).
    best_epoch_ : int
        The epoch whose weights the model holds: the best on the hold-out with early
        stopping, else the last; 0 means no trained epoch beat epoch 0 on the hold-out:
        the last-value forecast (output layer zeroed), or, where a linear map starts at
        its least-squares fit (the linear baseline, the RNN's ``linear_skip``), that
        start, whichever scored lower.
    shrink_factor_ : float
        The fraction of the kept trained epoch's departure from epoch 0 that the model
        keeps: below 1 only with ``shrink_to_epoch0``; 0.0 when epoch 0 was kept
        (``best_epoch_`` 0), 1.0 when a trained epoch is kept whole.
    net_ : skorch.NeuralNetRegressor
        The trained net. ``net_.module_`` is the
        :class:`~sklattn.nn.normalization.WindowNormalization` wrapper and
        ``net_.module_.forecaster`` the estimator's own module.
    """

    _parameter_constraints = {**WindowForecasterBase._parameter_constraints,
                              **SHARED_CONSTRAINTS}

    # What normalization="auto" means when a target is an input feature.
    _auto_normalization = "revin"

    # -- what a subclass provides ------------------------------------------------------

    def _build_module(self, n_features, n_outputs):
        raise NotImplementedError

    def _prepare_fit(self, lookback, n_features):
        """Raise ValueError when the module cannot take these windows and y; set any
        fitted attributes of the subclass's own (called in fit, after validation)."""

    def _least_squares_start(self):
        """``(locate, freeze)`` when a linear map in the module starts at its
        least-squares fit (:class:`~sklattn.warmstart.LeastSquaresStart`), else None."""
        return None

    # -- validation ----------------------------------------------------------------------

    def _check_extra_params(self):
        if not isinstance(self.optimizer, str) and not is_optimizer_class(self.optimizer):
            raise TypeError(
                f"optimizer must be one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer "
                f"subclass; got {self.optimizer!r}"
            )
        optimizer = self._optimizer_class()
        accepted = set(inspect.signature(optimizer).parameters) - {"params", "lr",
                                                                   "weight_decay"}
        unknown = sorted(set(self.optimizer_params or {}) - accepted)
        if unknown:
            raise ValueError(
                f"optimizer_params {unknown} are not options of {optimizer.__name__} "
                f"(lr and weight_decay are parameters of their own); it takes "
                f"{sorted(accepted)}")
        if self.quantiles is not None:
            levels = list(self.quantiles)
            if (not levels or not all(isinstance(q, (float, int, np.floating))
                                      and not isinstance(q, bool) and 0 < q < 1
                                      for q in levels)
                    or any(b <= a for a, b in zip(levels, levels[1:]))):
                raise ValueError(
                    "quantiles must be a non-empty, increasing sequence of levels in "
                    f"(0, 1), e.g. (0.05, 0.95); got {self.quantiles!r}")
        if not are_callbacks(self.callbacks):
            raise TypeError(
                "callbacks must be a list of skorch callbacks (or (name, callback) pairs); "
                f"got {self.callbacks!r}"
            )
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' was asked for, but torch sees no CUDA device")
        if self.compile and self._resolve_device() != "cuda":
            # torch 2.13's CPU (inductor) code for these modules crashed the process
            # (segmentation fault in the first training step) on our CPU machine.
            raise ValueError(
                "compile=True is supported on CUDA only: torch.compile's CPU backend "
                "crashed on sklattn's modules (torch 2.13); use compile=False on CPU")

    # -- the skorch net ------------------------------------------------------------------

    def _optimizer_class(self):
        return OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str) else self.optimizer

    def _optimizer_options(self):
        """``optimizer_params``, with ``foreach=True`` where the optimizer takes it and the
        user did not choose: one multi-tensor update instead of a Python loop over the
        parameters, which torch only picks by itself on CUDA (on CPU it made Adam's step
        1.2x-1.8x faster for the default RNN and Transformer)."""
        options = dict(self.optimizer_params or {})
        if "foreach" in inspect.signature(self._optimizer_class()).parameters:
            options.setdefault("foreach", True)
        return options

    def _resolve_device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def _validation_split(self, n_windows):
        if not self.early_stopping:
            return None
        split = self._holdout_split()
        if split.sizes(n_windows) is None:
            warnings.warn(
                f"{type(self).__name__}: early stopping is skipped and the net trains for "
                f"max_epochs={self.max_epochs}: {n_windows} windows are too few for a "
                f"hold-out of validation_fraction={self.validation_fraction} (at least "
                f"{MIN_VALIDATION_WINDOWS} windows, after a gap of {split.gap}, and no more "
                "than the training windows). Give more windows, raise validation_fraction, "
                "or pass early_stopping=False to silence this.", UserWarning, stacklevel=4)
            return None
        return split

    def _target_stats(self, y3):
        """Training mean and std of each target that is not an input (others: 0 and 1).

        Computed a chunk of windows at a time, so strided ``y`` is never copied whole.
        """
        _, n_targets = self._horizon_and_targets()
        unknown = [i for i, t in enumerate(self.target_features_) if t is None]
        loc, scale = np.zeros(n_targets), np.ones(n_targets)
        if unknown:
            chunks = [slice(start, start + _STATS_CHUNK)
                      for start in range(0, len(y3), _STATS_CHUNK)]
            count = y3.shape[0] * y3.shape[1]
            total = sum(y3[chunk][..., unknown].sum(axis=(0, 1), dtype=np.float64)
                        for chunk in chunks)
            mean = total / count
            squares = sum(((y3[chunk][..., unknown] - mean) ** 2).sum(axis=(0, 1))
                          for chunk in chunks)
            std = np.sqrt(squares / count)
            loc[unknown] = mean
            scale[unknown] = np.where(std > 0, std, 1.0)
        return loc, scale

    def _resolve_normalization(self):
        if self.normalization != "auto":
            return self.normalization
        if any(t is not None for t in self.target_features_):
            return self._auto_normalization
        return None

    def _a_target_is_an_input(self):
        return any(t is not None for t in self.target_features_)

    def _has_baseline(self):
        """Whether early stopping starts from the last-value forecast (it needs a target
        among the inputs)."""
        return self.baseline is not None and self._a_target_is_an_input()

    def _levels(self):
        """The quantile levels the module emits (``quantiles`` and the median), or None."""
        if self.quantiles is None:
            return None
        return sorted({float(q) for q in self.quantiles} | {0.5})

    def _full_module(self, **normalization):
        """The subclass's module, its quantile offsets (if any), inside the normalisation."""
        horizon, _ = self._horizon_and_targets()
        module = self._build_module(self.window_shape_[1], self.n_outputs_)
        if self.quantiles is not None:
            module = QuantileOffsets(module, self.n_outputs_, self._levels())
        return WindowNormalization(
            module, self.window_shape_[1], horizon, self.target_features_,
            method=self.normalization_, affine=self.normalization_affine, **normalization)

    def _wrap_module(self, X3, y3):
        loc, scale = self._target_stats(y3)
        self.normalization_ = self._resolve_normalization()
        return self._full_module(target_loc=loc, target_scale=scale)

    def _build_net(self, X3, y3):
        module = self._wrap_module(X3, y3)
        split = self._validation_split(len(y3))
        callbacks = []
        # Only targets that are inputs give least-squares rows.
        warm = self._least_squares_start() if self._a_target_is_an_input() else None
        if warm is not None:
            # Before early stopping, which scores the fitted start as an epoch 0 candidate.
            locate, freeze = warm
            callbacks.append(("least_squares_start", LeastSquaresStart(locate, freeze=freeze)))
        if split is not None:
            callbacks.append(("early_stopping", EarlyStoppingWithBaseline(
                monitor="valid_loss", patience=self.patience, load_best=True,
                baseline=last_value_forecast if self._has_baseline() else None,
                score_start=warm is not None,
                shrink=self.shrink_to_epoch0 and self.quantiles is None)))
        if self.checkpoint_dir is not None:
            # After early stopping: it restores early stopping's state after that resets
            # it, and saves the final model after the best weights are back.
            callbacks.append(("checkpoint", EpochCheckpoint(
                self.checkpoint_dir, self._checkpoint_fingerprint(len(y3)))))
        if show_progress(self.progress):
            callbacks.append(("progress", EpochProgress(type(self).__name__)))
        callbacks.extend(self.callbacks or [])
        return self._make_net(module, split, callbacks)

    def _checkpoint_fingerprint(self, n_windows):
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k not in ("max_epochs", "checkpoint_dir", "callbacks", "verbose", "progress",
                               "n_threads", "predict_batch_size")}
        return json.loads(json.dumps(
            {"estimator": type(self).__name__, "params": params,
             "window_shape": list(self.window_shape_), "target_shape": list(self.target_shape_),
             "n_windows": n_windows}, default=repr))

    def _make_net(self, module, split, callbacks):
        device = self._resolve_device()
        criterion = ({"criterion": torch.nn.MSELoss} if self.quantiles is None
                     else {"criterion": PinballLoss, "criterion__levels": self._levels(),
                           # The offsets are one number per output and level, from a
                           # guess; at the network's rate they had barely left it when
                           # early stopping ended training (ETTh1 "MS", 5%-95% band
                           # held 98.9% -> 97.8% of test values for the RNN and
                           # 86.3% -> 87.3% for the linear model with this factor).
                           "optimizer__param_groups": [
                               ("forecaster.raw_*", {"lr": _QUANTILE_LR_FACTOR * self.lr,
                                                     "weight_decay": 0.0})]})
        return ForecastNet(
            module,
            max_grad_norm=self.max_grad_norm,
            precision=self.precision,
            compile_module=self.compile,
            **criterion,
            optimizer=self._optimizer_class(),
            optimizer__weight_decay=self.weight_decay,
            **{f"optimizer__{key}": value for key, value in self._optimizer_options().items()},
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=split,
            iterator_train=WindowBatches,
            iterator_train__shuffle=True,
            iterator_train__pin_memory=is_cuda(device),
            iterator_valid=WindowBatches,
            iterator_valid__pin_memory=is_cuda(device),
            callbacks=callbacks,
            device=device,
            verbose=self.verbose,
        )

    def _restore_net(self, state_dict):
        """Rebuild ``net_`` from the fitted attributes and a module ``state_dict``
        (:func:`sklattn.persistence.load`); the data statistics are buffers in it."""
        module = self._full_module()
        module.load_state_dict(state_dict)
        self.net_ = self._make_net(module, None, list(self.callbacks or []))
        self.net_.initialize()
        return self

    def _seed(self):
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # -- fit / predict -------------------------------------------------------------------

    def _fit_windows(self, X3, y3):
        self._check_extra_params()
        self._prepare_fit(*self.window_shape_)
        seed = self._seed()
        with torch.random.fork_rng(devices=[]), torch_threads(self.n_threads):
            if seed is not None:
                torch.manual_seed(seed)
            self.net_ = self._build_net(X3, y3)
            manifest = (None if self.checkpoint_dir is None
                        else read_manifest(self.checkpoint_dir))
            if manifest is None:
                self.net_.fit(X3, y3)
            else:
                self._resume(X3, y3, manifest)
        if not all(torch.isfinite(p).all() for p in self.net_.module_.parameters()):
            # The last step can overflow the weights after a finite loss.
            raise ValueError(
                f"training diverged: the weights are NaN or infinite after epoch "
                f"{len(self.net_.history)}. Lower the learning rate (lr={self.lr}) or keep "
                "gradient clipping on (max_grad_norm).")
        stopper = dict(self.net_.callbacks_).get("early_stopping")
        self.best_epoch_ = (int(stopper.best_epoch_) if stopper is not None
                            else len(self.net_.history))
        shrunk = None if stopper is None else getattr(stopper, "shrink_factor_", None)
        self.shrink_factor_ = (0.0 if self.best_epoch_ == 0
                               else 1.0 if shrunk is None else float(shrunk))
        if self.early_stopping:  # the early-stopping hold-out: never trained on
            self._calibrate_on_holdout(X3, y3)

    def _resume(self, X3, y3, manifest):
        """Continue the fit whose checkpoint ``manifest`` describes."""
        if manifest.get("fingerprint") != self._checkpoint_fingerprint(len(y3)):
            raise ValueError(
                f"checkpoint_dir={str(self.checkpoint_dir)!r} holds the checkpoint of a "
                "different fit (other hyperparameters or data shapes); delete it or "
                "choose another folder")
        remaining = self.max_epochs - manifest["epochs_done"]
        if manifest.get("finished") or remaining <= 0:
            # Nothing left to train: the finished model, as the checkpoint holds it.
            self.net_.initialize()
            restore(self.net_, self.checkpoint_dir)
            return
        self.net_.partial_fit(X3, y3, epochs=remaining)

    def _predict_windows(self, X3):
        forecast = self._forecast_levels(X3)
        if self.quantiles is not None:  # (n, n_outputs * n_levels): the median
            forecast = forecast.reshape(len(X3), self.n_outputs_, -1)[
                ..., self._levels().index(0.5)]
        return forecast

    def predict_quantiles(self, X):
        """Forecast the quantile levels of ``quantiles`` for each window.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback, n_features) or 2D flattened windows

        Returns
        -------
        y_quantiles : ndarray of shape ``predict(X).shape + (len(quantiles),)``
            ``y_quantiles[..., k]`` is the forecast of level ``quantiles[k]``; increasing
            along the last axis (quantiles never cross). Of ``predict``'s dtype.

        Raises
        ------
        ValueError
            The estimator was fitted with ``quantiles=None``.
        """
        check_is_fitted(self)
        if self.quantiles is None:
            raise ValueError(
                f"{type(self).__name__} was fitted with quantiles=None; fit with "
                "quantiles=(0.05, 0.95) (for example) to forecast quantiles")
        X3 = self._validate_X(X, reset=False)
        levels = self._levels()
        forecast = self._forecast_levels(X3).reshape(len(X3), self.n_outputs_, len(levels))
        keep = [levels.index(float(q)) for q in self.quantiles]
        # Ordered by construction; sorting only matters if a learned affine scale
        # (normalization_affine=True) turned negative and reversed the levels.
        out = np.sort(forecast[..., keep], axis=-1)
        return out.reshape((len(X3),) + tuple(self.target_shape_) + (len(keep),))

    def _forecast_levels(self, X3):
        """The module's output for each window: (n, n_outputs [* n_levels])."""
        forward = self.net_.forward_module()
        forecast = self._run_module(X3, lambda module, Xb: forward(Xb))
        bad = ~np.isfinite(forecast).all(axis=1)
        if bad.any():
            raise ValueError(
                f"the forecast of {int(bad.sum())} of {len(bad)} windows (first: window "
                f"{int(np.argmax(bad))}) is NaN or infinite: the windows' values overflow "
                "the model in float32, or its weights are not finite")
        return forecast

    def _attention_batches(self, X, forward, batch_size=None):
        """Validate X, then :meth:`_run_module` ``forward(module, X_batch)`` over it."""
        X3 = self._validate_X(X, reset=False)
        if getattr(self, "best_epoch_", None) == 0:
            warnings.warn(
                f"{type(self).__name__}: no trained epoch beat epoch 0 on the early-stopping "
                "hold-out (best_epoch_=0): the model is the last-value forecast or its "
                "least-squares linear start, and its forecast does not depend on these "
                "attention weights", UserWarning, stacklevel=3)
        weights = self._run_module(X3, forward, batch_size)
        if not np.isfinite(weights).all():
            raise ValueError("attention weights are NaN or infinite: the windows' values "
                             "overflow the model in float32, or its weights are not finite")
        return weights

    def _predict_batch_size(self):
        if self.predict_batch_size == "auto":
            return self._auto_predict_batch_size()
        return self.predict_batch_size

    def _auto_predict_batch_size(self):
        """``predict_batch_size="auto"``: windows per inference batch (overridden where
        the work per window varies)."""
        return 1024

    def _run_module(self, X3, forward, batch_size=None):
        """Run ``forward(module, X_batch)`` over windows in eval mode, ``batch_size`` windows
        at a time (None: ``predict_batch_size``); stack the results, in the windows' dtype
        (float32 or float64; :func:`~sklattn.inference.run_in_batches`)."""
        return run_in_batches(
            self.net_.module_, X3, forward, batch_size=batch_size or self._predict_batch_size(),
            device=self.net_.device, n_threads=self.n_threads, autocast=self.net_._autocast,
            progress_label=type(self).__name__ if show_progress(self.progress) else None,
            dtype=X3.dtype)


_QUANTILE_LR_FACTOR = 10
_STATS_CHUNK = 4096
