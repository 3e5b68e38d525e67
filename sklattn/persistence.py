"""Save a fitted estimator to one file and load it back, without pickle.

The file is a `safetensors <https://huggingface.co/docs/safetensors>`_ file: the module's
weights and buffers as tensors, and in its header's metadata, as JSON, the estimator's
class, its hyperparameters, its fitted attributes, its training history and the sklattn,
torch and scikit-learn versions that wrote it. Loading parses JSON and tensors only: no
code from the file runs, and only sklattn's own estimator classes can be named.
"""

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch

__all__ = ["load", "save"]

FORMAT = "sklattn.estimator"
FORMAT_VERSION = 6  # 2: large numeric fitted attributes are tensors named "fitted:<name>"
# 3: "last" normalisation scaled by the window's spread (and the last-value baseline's
# flag in the state): weights saved before that forecast differently.
# 4: TransformerForecaster(linear_skip) and LinearForecaster(init) added.
# 5: TransformerForecaster(attention_dropout) added.
# 6: shrink_to_epoch0 (and shrink_factor_) added; the last value's weight a float.
OLDEST_FORMAT_VERSION = 3
# Parameters added in a format version, with the values that describe the models of files
# written before it (their modules have no skip; their linear maps started at random;
# their attention weights took the `dropout` rate), as values or functions of the saved
# parameters.
_ADDED_PARAMETERS = {
    4: {"TransformerForecaster": {"linear_skip": False}, "LinearForecaster": {"init": "random"}},
    5: {"TransformerForecaster": {"attention_dropout": lambda params: params["dropout"]}},
    6: {name: {"shrink_to_epoch0": False}
        for name in ("AttentionRNNRegressor", "TransformerForecaster", "LinearForecaster")},
}
# Fitted attributes added in a format version, as functions of the loaded parameters and
# fitted attributes.
_ADDED_ATTRIBUTES = {
    5: {"TransformerForecaster": {
        "attention_dropout_": lambda params, fitted: params["dropout"]}},
    6: {name: {"shrink_factor_": lambda params, fitted: float(fitted["best_epoch_"] > 0)}
        for name in ("AttentionRNNRegressor", "TransformerForecaster", "LinearForecaster")},
}

# Numeric fitted arrays larger than this (e.g. the calibration residuals of
# predict_interval) are stored as tensors, not as JSON text.
_ARRAY_AS_TENSOR = 64
_FITTED_PREFIX = "fitted:"


def _estimator_classes():
    from . import estimators

    return {name: getattr(estimators, name) for name in estimators.__all__}


# -- JSON for hyperparameters and fitted attributes ------------------------------------------

def _to_json(value, where):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _to_json(v, where) for k, v in value.items()}}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.ndarray) and value.dtype == object and all(
            isinstance(v, str) for v in value.ravel()):
        return {"__ndarray__": value.tolist(), "dtype": "object"}
    raise TypeError(f"{where} = {value!r} cannot be saved (only numbers, strings, None, "
                    "lists, tuples, str-keyed dicts and numeric or string arrays can)")


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if set(value) == {"__dict__"}:
            return {k: _from_json(v) for k, v in value["__dict__"].items()}
        if set(value) == {"__ndarray__", "dtype"}:
            dtype = object if value["dtype"] == "object" else np.dtype(value["dtype"])
            if dtype is not object and dtype.kind not in "biuf":
                raise ValueError(f"unsupported array dtype {value['dtype']!r}")
            return np.asarray(value["__ndarray__"], dtype=dtype)
        raise ValueError(f"unknown JSON object with keys {sorted(value)}")
    return value


# Hyperparameters that hold Python objects: not saved; loaded as their default, listed in
# the file as "not_saved".
_OBJECT_PARAMS = ("callbacks",)


def _hyperparameters(estimator):
    params, not_saved = {}, []
    for name, value in estimator.get_params(deep=False).items():
        if name in _OBJECT_PARAMS and value is not None:
            not_saved.append(name)
            continue
        if name == "optimizer" and not isinstance(value, str):
            raise TypeError(
                f"optimizer={value!r} is a class; only the named optimizers "
                "('adam', 'adamw', 'sgd') can be saved without pickle")
        if name == "random_state" and not (value is None or isinstance(value, int)):
            not_saved.append(name)  # a RandomState object: its state is not restored
            continue
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        params[name] = _to_json(value, f"parameter {name}")
    return params, not_saved


def _is_tensor_attribute(value):
    return (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
            and value.size > _ARRAY_AS_TENSOR)


def _fitted_attributes(estimator):
    """``(json_attributes, tensor_attributes)`` of the fitted attributes."""
    fitted = {name: value for name, value in vars(estimator).items()
              if (name.endswith("_") and not name.startswith("__") and name != "net_")
              or name == "_window_feature_names"}
    tensors = {f"{_FITTED_PREFIX}{name}": torch.from_numpy(np.ascontiguousarray(value))
               for name, value in fitted.items() if _is_tensor_attribute(value)}
    plain = {name: _to_json(value, f"fitted attribute {name}")
             for name, value in fitted.items() if not _is_tensor_attribute(value)}
    return plain, tensors


# -- save / load ------------------------------------------------------------------------------

def _digest(metadata, tensors):
    """SHA-256 over the metadata and every tensor's name, dtype, shape and bytes.

    An integrity check (a truncated, corrupted or edited file fails it), not a signature:
    whoever edits a file on purpose can recompute it.
    """
    sha = hashlib.sha256()
    for key in sorted(metadata):
        if key != "sha256":
            sha.update(f"{key}={metadata[key]}\n".encode())
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        sha.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}\n".encode())
        sha.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()


def save(estimator, path):
    """Write a fitted sklattn estimator to ``path`` (one safetensors file).

    Writing is atomic: the file appears complete or not at all (a temporary file in the
    same folder is renamed onto ``path``).

    Parameters
    ----------
    estimator : fitted sklattn estimator
    path : str or path-like

    Raises
    ------
    TypeError
        Not an sklattn estimator, or a hyperparameter that cannot be written without
        pickle (a custom optimizer class).
    sklearn.exceptions.NotFittedError
        The estimator is not fitted.

    Notes
    -----
    ``callbacks`` (and a ``random_state`` given as a ``RandomState``) are not saved; the
    loaded estimator has them at their default (None), and the file lists them under
    ``"not_saved"``. Weights are saved from wherever they are (CPU or GPU) as CPU tensors.
    """
    from safetensors.torch import save as safetensors_bytes
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    name = type(estimator).__name__
    if _estimator_classes().get(name) is not type(estimator):
        raise TypeError(f"save writes sklattn estimators; got {name}")
    check_is_fitted(estimator)
    params, not_saved = _hyperparameters(estimator)
    net = getattr(estimator, "net_", None)
    tensors = {}
    history = None
    if net is not None:
        tensors = {key: value.detach().cpu().contiguous()
                   for key, value in net.module_.state_dict().items()}
        history = json.dumps(net.history.to_list(), default=float)
    fitted, fitted_tensors = _fitted_attributes(estimator)
    tensors.update(fitted_tensors)
    metadata = {
        "format": FORMAT, "format_version": str(FORMAT_VERSION), "estimator": name,
        "params": json.dumps(params), "fitted": json.dumps(fitted),
        "not_saved": json.dumps(not_saved), "history": history or "null",
        "sklattn_version": __version__, "torch_version": torch.__version__,
        "sklearn_version": sklearn.__version__,
    }
    metadata["sha256"] = _digest(metadata, tensors)
    data = safetensors_bytes(tensors, metadata=metadata)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    """Load an estimator written by :func:`save`.

    Returns
    -------
    estimator
        Fitted, on CPU unless its ``device`` is "cuda" (or "auto" with CUDA available).
        A file saved with ``device="cuda"`` loads with ``device="cpu"`` (and a warning)
        where torch sees no CUDA device.

    Raises
    ------
    ValueError
        The file is missing pieces, truncated, tampered with, not an sklattn file, or
        written by a newer, incompatible version of the format.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as safetensors_load

    path = Path(path)
    data = path.read_bytes()
    try:
        tensors = safetensors_load(data)
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_len]).get("__metadata__") or {}
    except (SafetensorError, ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise ValueError(f"{path} is not a readable sklattn file ({exc})") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not an sklattn estimator file (format "
                         f"{metadata.get('format')!r})")
    if metadata.get("sha256") != _digest(metadata, tensors):
        raise ValueError(f"{path} fails its integrity check (sha256): the file was "
                         "corrupted or edited after it was written")
    try:
        version = int(metadata["format_version"])
    except (KeyError, ValueError):
        raise ValueError(f"{path} has no valid format_version") from None
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in format version {version} by sklattn "
            f"{metadata.get('sklattn_version')}; this sklattn reads up to version "
            f"{FORMAT_VERSION}: upgrade sklattn to load it")
    if version < OLDEST_FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in format version {version} by sklattn "
            f"{metadata.get('sklattn_version')}, whose models turn the same weights into "
            "different forecasts (before the window-scaled \"last\" normalisation); this "
            "sklattn reads versions "
            f"{OLDEST_FORMAT_VERSION}-{FORMAT_VERSION}: refit the model and save it again")
    cls = _estimator_classes().get(metadata.get("estimator"))
    if cls is None:
        raise ValueError(f"{path} names an unknown estimator {metadata.get('estimator')!r}")
    try:
        params = {k: _from_json(v) for k, v in json.loads(metadata["params"]).items()}
        for added_in, by_estimator in _ADDED_PARAMETERS.items():
            if version < added_in:
                for name, value in by_estimator.get(metadata["estimator"], {}).items():
                    if name not in params:
                        params[name] = value(params) if callable(value) else value
        fitted = {k: _from_json(v) for k, v in json.loads(metadata["fitted"]).items()}
        history = json.loads(metadata.get("history", "null"))
        if params.get("device") == "cuda" and not torch.cuda.is_available():
            warnings.warn(f"{path} was saved with device='cuda'; torch sees no CUDA "
                          "device here, so it is loaded with device='cpu'", UserWarning,
                          stacklevel=2)
            params["device"] = "cpu"
        estimator = cls(**params)
        estimator._validate_params()
        for added_in, by_estimator in _ADDED_ATTRIBUTES.items():
            if version < added_in:
                for name, value in by_estimator.get(metadata["estimator"], {}).items():
                    fitted.setdefault(name, value(params, fitted))
        for name, value in fitted.items():
            setattr(estimator, name, value)
        for key in [k for k in tensors if k.startswith(_FITTED_PREFIX)]:
            setattr(estimator, key[len(_FITTED_PREFIX):], tensors.pop(key).numpy())
        if tensors or hasattr(estimator, "_restore_net"):
            estimator._restore_net(tensors)
            if history:
                estimator.net_.history.clear()
                estimator.net_.history.extend(history)
    except (KeyError, TypeError, ValueError, RuntimeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} holds an inconsistent sklattn estimator: {exc}") from None
    return estimator
