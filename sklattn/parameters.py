"""The parameters every neural estimator shares: what each means and what it accepts.

Each estimator lists them in its own ``__init__`` (scikit-learn reads parameters from
the signature); the description is written once here and put, with the estimator's own
defaults, into its docstring by :func:`document_shared_parameters`, and the accepted
values are checked once by the base's ``_parameter_constraints``.
"""

import inspect
import os
import textwrap
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import Callback

__all__ = ["OPTIMIZERS", "SHARED_CONSTRAINTS", "SHARED_PARAMETERS", "are_callbacks",
           "document_shared_parameters", "is_optimizer_class"]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def is_optimizer_class(value):
    return isinstance(value, type) and issubclass(value, torch.optim.Optimizer)


def are_callbacks(value):
    return value is None or (
        isinstance(value, (list, tuple))
        and all(isinstance(cb, Callback)
                or (isinstance(cb, tuple) and len(cb) == 2 and isinstance(cb[0], str)
                    and isinstance(cb[1], Callback))
                for cb in value)
    )


# What each shared parameter means; every estimator's docstring gets it, with its own
# default, through :func:`document_shared_parameters`.
SHARED_PARAMETERS = {
    "lookback": ("int or None", (
        "Only for fitting on 2D ``X`` of flattened multivariate windows: the steps per "
        "window, so that each row of ``lookback * n_features`` values is read as the "
        "C-order ravel of a (lookback, n_features) window. None: a 2D ``X`` in ``fit`` is "
        "univariate windows (n_windows, lookback). It does not cut windows "
        "(``make_windows`` does); after ``fit``, 2D ``X`` is always read with the fitted "
        "window shape.")),
    "normalization_affine": ("bool", "Learn a per-feature scale and shift after normalising "
                             "(RevIN's affine option)."),
    "max_epochs": ("int", "Upper bound on training epochs (early stopping may end sooner)."),
    "batch_size": ("int", "Windows per training batch."),
    "predict_batch_size": ('int or "auto"', (
        "Windows per batch in ``predict`` and ``attention_weights`` (no gradients are "
        "kept, so it can be larger than ``batch_size``; lower it to bound memory on a "
        'GPU). "auto" (the Transformer\'s default) sizes batches by the work of one '
        "window: as many windows as make 16384 token rows (tokens times the sequences "
        "they form; 196608 on a CUDA device), at most 2**23 input values and at least 8 "
        "windows per batch; for the "
        "other estimators it is 1024. On CPU the Transformer's attention ran slower in "
        "batches of 1024 windows of 96 steps than of 256, while variate tokens ran "
        "twice as fast in batches of 2340; on an H200, time-step and patch tokens ran "
        "1.7-1.9 times as fast in batches of 2048 windows of 96 steps as of 256. With "
        '"auto", the Transformer\'s ``attention_weights`` takes as many windows as keep '
        "the asked layer's weight matrices under 16 MB (at least 8, at most what ``predict`` "
        "takes): its explicit weights grow with the square of the tokens; at lookback 336 "
        "(time-step tokens) batches of 256 windows added 2.6 GB and took 1.3 times as long "
        "on a CPU.")),
    "lr": ("float", "Learning rate."),
    "optimizer": ('{"adam", "adamw", "sgd"} or torch.optim.Optimizer subclass', ""),
    "weight_decay": ("float", ""),
    "optimizer_params": ("dict or None", (
        'Further keyword arguments of the optimizer (``{"betas": (0.9, 0.99)}`` for Adam, '
        '``{"momentum": 0.9}`` for SGD); checked against its signature in ``fit``.')),
    "max_grad_norm": ("float or None", "Gradients are clipped to this norm each step; None "
                      "turns clipping off."),
    "quantiles": ("sequence of float or None", (
        "Quantile levels in (0, 1), increasing, to forecast besides the point forecast "
        "(e.g. ``(0.05, 0.95)``): training minimises the pinball loss of these levels and "
        "of the median, ``predict`` returns the median and ``predict_quantiles`` the "
        "levels. Each level is the module's median plus a learned offset per horizon "
        "step and target in the window's normalised units (so, under RevIN, proportional "
        "to the window's spread), ordered so that quantiles never cross. None: the point "
        "forecast minimises the squared error.")),
    "baseline": ('{"last"} or None', (
        '"last": early stopping scores the last-value (naive) forecast on the hold-out '
        "before the first epoch, as epoch 0, and a trained epoch must beat it to be kept; "
        "when none does, the fitted model is that forecast (``best_epoch_`` is 0). It "
        "needs a target among the input features (otherwise, or with None, early "
        "stopping keeps the best trained epoch).")),
    "shrink_to_epoch0": ("bool", (
        "When early stopping keeps a trained epoch and there is an epoch 0 (the "
        "last-value forecast of ``baseline``, or a least-squares start), keep only the "
        "fraction ``shrink_factor_`` of the trained forecast's departure from epoch 0's: "
        "the forecast becomes ``a + s (f - a)``, ``a`` epoch 0's and ``f`` the trained "
        "epoch's, with ``s`` in [0, 1] the factor that minimises the squared error on the "
        "early-stopping hold-out. It is written into the weights (the output layers "
        "and the last value's weight move, the encoder stays), so ``predict`` costs the "
        "same; it is kept only where it lowers the hold-out error. Off for quantile "
        "forecasts (``quantiles``) and without early stopping. See docs/real_data.md "
        "for what it did on the benchmark.")),
    "early_stopping": ("bool", (
        "Hold out the last ``validation_fraction`` of the windows (after a gap of "
        "``lookback + horizon - 1`` windows, so no validation step is seen in training), "
        "stop when the validation loss has not improved for ``patience`` epochs and keep "
        "the best epoch's weights. Skipped, with a warning, when the hold-out would have "
        "fewer than 50 windows (too noisy to stop on) or more than the training part.")),
    "validation_fraction": ("float in (0, 0.5]", ""),
    "patience": ("int", ""),
    "random_state": ("int, RandomState or None", (
        "Seeds weight initialisation, dropout and shuffling: same seed, bit-identical "
        "predictions on CPU, across fits, processes and GridSearchCV workers, given the "
        "same number of torch threads (``n_threads`` pins it). torch's global RNG is "
        "left as it was.")),
    "device": ('{"auto", "cpu", "cuda"}', '"auto" takes CUDA when available.'),
    "checkpoint_dir": ("str, path-like or None", (
        "Write a checkpoint (weights, optimizer state, history, early-stopping state, "
        "random state) into this folder after every epoch, and resume from it: a fit "
        "that finds a checkpoint of the same fit there (same hyperparameters and data "
        "shapes) continues from its last epoch, with the result of an uninterrupted fit "
        "(bit for bit on CPU with the same torch threads). "
        "A finished fit's checkpoint gives the finished model back; delete the folder "
        "to train from scratch. None: no checkpoints.")),
    "n_threads": ("int or None", (
        "torch threads for ``fit`` and ``predict`` (restored afterwards). None keeps "
        "torch's setting, which inside a joblib worker (``GridSearchCV(n_jobs=k)``) "
        "joblib has already limited to cores // k. Set it when several fits share "
        "the cores another way: more busy threads than free cores stall torch badly.")),
    "precision": ('{"float32", "bfloat16", "float16"}', (
        "Mixed precision: run the forward pass under ``torch.autocast`` in this dtype "
        "(weights, loss and optimizer stay float32; float16 also scales the loss "
        "against underflow). Meant for GPUs; bfloat16 also works on CPU.")),
    "compile": ("bool", "Compile the module with ``torch.compile`` (worth it on a GPU for "
                "long fits; the first epoch pays the compilation). CUDA only: on CPU, "
                "torch 2.13's compiled code crashed, so fit refuses it."),
    "verbose": ("int", "0 is silent; 1 prints skorch's epoch table."),
    "progress": ('{"auto"} or bool', (
        "Show a tqdm progress bar over the epochs of ``fit`` (with the last losses) and "
        "over the batches of ``predict`` and ``attention_weights`` calls of at least "
        "10 batches. \"auto\": on in interactive sessions (stderr is a terminal, or "
        "a Jupyter kernel), off in scripts, logs and CI.")),
    "callbacks": ("list of skorch callbacks or None",
                  "Added after sklattn's own (early stopping, checkpoint, progress bar). "
                  "Each sees every epoch, the one on which early stopping stops "
                  "included."),
}
_PLACEHOLDER = "    <shared parameters>\n"

# The values each shared parameter accepts (scikit-learn's parameter validation).
SHARED_CONSTRAINTS = {
    "normalization": [StrOptions({"auto", "revin", "last"}), None],
    "normalization_affine": ["boolean"],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "predict_batch_size": [Interval(Integral, 1, None, closed="left"),
                           StrOptions({"auto"})],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), callable],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "optimizer_params": [dict, None],
    "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "quantiles": [list, tuple, None],
    "baseline": [StrOptions({"last"}), None],
    "shrink_to_epoch0": ["boolean"],
    "early_stopping": ["boolean"],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "device": [StrOptions({"auto", "cpu", "cuda"})],
    "checkpoint_dir": [str, os.PathLike, None],
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    "precision": [StrOptions({"float32", "bfloat16", "float16"})],
    "compile": ["boolean"],
    "verbose": ["verbose"],
    "progress": [StrOptions({"auto"}), "boolean"],
    "callbacks": [list, tuple, None],
}


def document_shared_parameters(cls):
    """Class decorator: put the shared parameters, with ``cls``'s defaults, in its docstring.

    The docstring marks the place with a line ``<shared parameters>``.
    """
    if cls.__doc__ is None or _PLACEHOLDER not in cls.__doc__:
        raise ValueError(f"{cls.__name__}'s docstring has no {_PLACEHOLDER.strip()!r} line")
    defaults = inspect.signature(cls.__init__).parameters
    lines = []
    for name, (kind, text) in SHARED_PARAMETERS.items():
        lines.append(f"    {name} : {kind}, default={defaults[name].default!r}")
        lines.extend(f"        {line}" for line in textwrap.wrap(text, 84))
    cls.__doc__ = cls.__doc__.replace(_PLACEHOLDER, "\n".join(lines) + "\n")
    return cls
