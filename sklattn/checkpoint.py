"""Resumable training: a checkpoint after every epoch, and a fit that picks it up.

After each epoch, and once more when training finishes (the final model, early
stopping's best weights back in), :class:`EpochCheckpoint` writes into its directory
the module's weights and buffers and torch's RNG state (safetensors), the optimizer's
state (``torch.save``, read back with ``weights_only=True``: no pickle runs), and the
history and early-stopping state (JSON). Files carry their epoch in their names and the
JSON manifest that names them is replaced (atomically) last, so a process killed at any
moment leaves a complete checkpoint: this epoch's or the previous one's.

:func:`restore` puts all of it back into an initialised net, so training continues with
the same weights, optimizer moments, early-stopping counters and random stream as if it
had never stopped.
"""

import io
import json
import os
from pathlib import Path

import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = ["EpochCheckpoint", "read_manifest", "restore"]

MANIFEST = "checkpoint.json"


def _atomic_write(path, data):
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _early_stopping(net):
    return next((cb for _, cb in net.callbacks_ if isinstance(cb, EarlyStopping)), None)


def _stopped(net):
    """Whether early stopping has used up its patience (it stops training)."""
    stopper = _early_stopping(net)
    return stopper is not None and stopper.misses_ >= stopper.patience


def read_manifest(dirname):
    """The manifest of the checkpoint in ``dirname``, or None when there is none."""
    path = Path(dirname) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable checkpoint manifest ({exc})") from None


class EpochCheckpoint(Callback):
    """Write a resumable checkpoint into ``dirname`` at the end of every epoch.

    Parameters
    ----------
    dirname : str or path-like
        Created if missing.
    fingerprint : dict
        What the fit is (hyperparameters, window and target shapes, number of windows);
        stored in the manifest so that a different fit refuses to resume from it.
    """

    def __init__(self, dirname, fingerprint):
        self.dirname = dirname
        self.fingerprint = fingerprint

    def on_train_begin(self, net, **kwargs):
        # Runs after early stopping's on_train_begin (which resets its counters), so what
        # a resumed fit restores stays.
        if read_manifest(self.dirname) is not None:
            restore(net, self.dirname)

    def on_epoch_end(self, net, **kwargs):
        # On the epoch where early stopping stops, the finished checkpoint follows in
        # on_train_end; an unfinished one with the stopper's patience used up would
        # resume into a fit that never stops.
        if not _stopped(net):
            self._write(net, finished=False)

    def on_train_end(self, net, **kwargs):
        # After early stopping put its best weights back: the finished model. (An
        # interrupted fit is not finished: its last epoch's checkpoint stays.)
        if _stopped(net) or len(net.history) >= net.max_epochs:
            self._write(net, finished=True)

    def _write(self, net, finished):
        from safetensors.torch import save as safetensors_bytes

        directory = Path(self.dirname)
        directory.mkdir(parents=True, exist_ok=True)
        tag = f"{len(net.history)}{'-final' if finished else ''}"
        files = {"state": f"state-{tag}.safetensors", "optimizer": f"optimizer-{tag}.pt"}
        state = {f"module.{k}": v.detach().cpu().contiguous()
                 for k, v in net.module_.state_dict().items()}
        state["rng.torch"] = torch.get_rng_state()
        _atomic_write(directory / files["state"], safetensors_bytes(state))
        buffer = io.BytesIO()
        torch.save(net.optimizer_.state_dict(), buffer)
        _atomic_write(directory / files["optimizer"], buffer.getvalue())
        stopper = _early_stopping(net)
        stopping = None
        if stopper is not None:
            stopping = {"misses_": stopper.misses_,
                        "dynamic_threshold_": float(stopper.dynamic_threshold_),
                        "best_epoch_": int(stopper.best_epoch_),
                        "shrink_factor_": getattr(stopper, "shrink_factor_", None)}
            if stopper.best_model_weights_ is not None:
                files["best"] = f"best-{tag}.safetensors"
                best = {k: v.detach().cpu().contiguous()
                        for k, v in stopper.best_model_weights_.items()}
                _atomic_write(directory / files["best"], safetensors_bytes(best))
        manifest = {"epochs_done": len(net.history), "finished": finished, "files": files,
                    "fingerprint": self.fingerprint, "history": net.history.to_list(),
                    "early_stopping": stopping}
        # The manifest names this epoch's files: until it is replaced, the previous
        # epoch's manifest and files are the checkpoint, complete.
        _atomic_write(directory / MANIFEST, json.dumps(manifest, default=float).encode())
        for old in directory.glob("*-*.*"):
            if old.name not in files.values() and old.suffix in (".safetensors", ".pt"):
                old.unlink()


def restore(net, dirname):
    """Load the checkpoint in ``dirname`` into the initialised ``net``."""
    from safetensors.torch import load_file

    directory = Path(dirname)
    manifest = read_manifest(directory)
    files = manifest.get("files", {})
    try:
        state = load_file(directory / files["state"])
        module_state = {k[len("module."):]: v for k, v in state.items()
                        if k.startswith("module.")}
        net.module_.load_state_dict(module_state)
        torch.set_rng_state(state["rng.torch"])
        optimizer_state = torch.load(directory / files["optimizer"], weights_only=True)
        net.optimizer_.load_state_dict(optimizer_state)
    except Exception as exc:  # a damaged checkpoint, whatever the library raised
        raise ValueError(f"the checkpoint in {directory} cannot be loaded ({exc}); "
                         "delete it to train from scratch") from None
    net.history.clear()
    net.history.extend(manifest["history"])
    stopper = _early_stopping(net)
    stopping = manifest.get("early_stopping")
    if stopper is not None and stopping is not None:
        stopper.misses_ = stopping["misses_"]
        stopper.dynamic_threshold_ = stopping["dynamic_threshold_"]
        stopper.best_epoch_ = stopping["best_epoch_"]
        stopper.shrink_factor_ = stopping.get("shrink_factor_")
        best = files.get("best")
        stopper.best_model_weights_ = None if best is None else load_file(directory / best)
