"""The skorch net the neural estimators train: a ``NeuralNetRegressor`` with the training
step made cheap and mixed precision added.

What it changes in skorch's step, and why:

- Gradient clipping is done in the step (:func:`clip_grad_norm`) instead of skorch's
  ``GradientNormClipping`` callback, whose per-parameter norms cost about 7% of a small
  model's training step on a CPU.
- ``precision="bfloat16"``/``"float16"`` runs the forward pass and the loss under
  ``torch.autocast``; float16 also scales the loss (``torch.amp.GradScaler``) so small
  gradients do not underflow. Weights and optimizer state stay float32.
- A NaN or infinite training loss stops ``fit`` with a ``ValueError`` that names the
  epoch and suggests a lower learning rate, instead of training on.
- On CUDA the batch losses stay on the GPU until the end of each epoch's loop and are then
  read in one copy: reading a loss (``.item()``) waits for the GPU, and skorch reads each
  batch's loss for the history (and the divergence check read it between forward and
  backward), so the CPU could not queue the next kernels while the GPU worked. There a
  diverged step stops ``fit`` at the end of its epoch's loop.
- Batches that arrive in pinned memory are copied to the GPU with ``non_blocking=True``.
- A callback that stops training from ``on_epoch_end`` (skorch's ``EarlyStopping`` raises
  ``KeyboardInterrupt`` there) stops it after every callback has seen that epoch: skorch
  calls callbacks in order and the raise skipped the later ones, so the progress bar,
  ``PrintLog`` and the user's callbacks missed the epoch on which training stopped.
- ``compile_module=True`` runs training and prediction through ``torch.compile(module_)``
  while ``module_`` itself stays the plain module (so pickling, ``state_dict`` and
  attention hooks see the usual module); the compiled wrapper is rebuilt lazily and
  never pickled.
"""

import math
from contextlib import nullcontext

import torch
from skorch import NeuralNetRegressor
from skorch.dataset import get_len, unpack_data
from skorch.utils import TeeGenerator

from .devices import is_cuda

__all__ = ["ForecastNet", "clip_grad_norm"]

_AUTOCAST_DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


def clip_grad_norm(parameters, max_norm):
    """Scale the gradients of ``parameters`` so that their global 2-norm is at most
    ``max_norm``, as ``torch.nn.utils.clip_grad_norm_`` does (bit for bit).

    Parameters without a gradient are skipped. On a GPU, ``clip_grad_norm_(foreach=True)``,
    whose fused kernels launch far fewer kernels. On a CPU:

    - the gradients' norms in one op (``torch._foreach_norm``, which torch's own clipping
      uses; on a CPU it is each tensor's ``vector_norm``, as ``tests/test_net.py`` pins),
      without ``clip_grad_norm_``'s grouping of the tensors by device and dtype;
    - the norm is read (no wait on a CPU), and the scale is computed and the gradients
      multiplied only when the norm is not clearly below the bound (the scale is then
      computed as torch does, and applied when below 1 or NaN, which torch spreads to
      every gradient): most steps need no clipping, and the scalar ops and
      multiplications by 1 were the larger part of the cost.

    Measured inside training steps (ETTh1, batches of 64, one thread, interleaved): 69 us
    per step for the linear baseline's gradients before both changes, 41 us after; the
    plain RNN's 89 and 53 us, additive attention's 117 and 74 us.
    """
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return
    if params[0].grad.is_cuda:
        torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True)
        return
    grads = [p.grad for p in params]
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    if total.item() + 1e-6 < max_norm * (1 - 1e-5):
        return  # the scale is above 1 by far more than rounding: torch multiplies by 1
    coef = max_norm / (total + 1e-6)  # as torch computes it, near the bound too
    if not coef.item() >= 1.0:  # below 1, or NaN (which torch spreads to every gradient)
        for grad in grads:
            grad.mul_(coef)


class ForecastNet(NeuralNetRegressor):
    """``NeuralNetRegressor`` with in-step clipping, mixed precision and async copies.

    Parameters
    ----------
    *args, **kwargs
        As :class:`skorch.NeuralNetRegressor`.
    max_grad_norm : float or None, default=None
        Clip the gradients' global 2-norm to this value each step.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Autocast dtype of the forward pass and loss.
    compile_module : bool, default=False
        Train and predict through ``torch.compile(module_)``.
    """

    def __init__(self, *args, max_grad_norm=None, precision="float32", compile_module=False,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.max_grad_norm = max_grad_norm
        self.precision = precision
        self.compile_module = compile_module

    def forward_module(self):
        """The module to call: ``module_``, or its compiled wrapper."""
        if not self.compile_module:
            return self.module_
        compiled = self.__dict__.get("_compiled")
        if compiled is None or compiled._orig_mod is not self.module_:
            compiled = self.__dict__["_compiled"] = torch.compile(self.module_)
        return compiled

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_compiled", None)
        state.pop("_parameters_of", None)
        return state

    def initialize(self):
        super().initialize()
        use_scaler = self.precision == "float16" and is_cuda(self.device)
        self.grad_scaler_ = torch.amp.GradScaler("cuda") if use_scaler else None
        return self

    def notify(self, method_name, **cb_kwargs):
        """skorch's ``notify``; a stop raised in ``on_epoch_end`` waits for the rest.

        Every callback sees the epoch on which training stops; the first
        ``KeyboardInterrupt`` is raised again once all of them have run.
        """
        if method_name != "on_epoch_end":
            return super().notify(method_name, **cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)
        stop = None
        for _, callback in self.callbacks_:
            try:
                getattr(callback, method_name)(self, **cb_kwargs)
            except KeyboardInterrupt as exc:
                stop = stop or exc
        if stop is not None:
            raise stop
        return None

    def _autocast(self):
        """The context the forward pass runs in: ``torch.autocast`` for mixed precision,
        none in float32 (rather than a disabled autocast entered every step)."""
        dtype = _AUTOCAST_DTYPES[self.precision]
        if dtype is None:
            return nullcontext()
        device_type = "cuda" if is_cuda(self.device) else "cpu"
        return torch.autocast(device_type, dtype=dtype)

    def _clipped_parameters(self):
        """``module_``'s parameters as a list, made once per module: walking the module
        tree for them each step cost 0.2-1.3% of a small RNN's CPU step (ETTh1, batches
        of 64, one thread, interleaved per step)."""
        cached = self.__dict__.get("_parameters_of")
        if cached is None or cached[0] is not self.module_:
            cached = self.__dict__["_parameters_of"] = (self.module_,
                                                        list(self.module_.parameters()))
        return cached[1]

    def _to_device(self, tensor):
        if isinstance(tensor, torch.Tensor):
            return tensor.to(self.device, non_blocking=tensor.is_pinned())
        return tensor

    def _set_training(self, training=True):
        # skorch calls this before every step, and ``module.train()`` walks every
        # submodule each time (about 1% of a small model's step on a CPU): only switch
        # when the mode changes. Anything that changes a mode goes through
        # ``train()``/``eval()`` of the top module (skorch's own switches do).
        modules = [getattr(self, name + "_") for name in self._modules + self._criteria]
        if all(not isinstance(module, torch.nn.Module) or module.training is training
               for module in modules):
            return
        super()._set_training(training)

    def infer(self, x, **fit_params):
        with self._autocast():
            return self.forward_module()(self._to_device(x), **fit_params).float()

    def _defer_loss_reads(self):
        """Read batch losses at the end of an epoch's loop instead of after each step."""
        return is_cuda(self.device)

    def _check_loss(self, value):
        if not math.isfinite(value):
            raise ValueError(
                f"training diverged in epoch {len(self.history)}: the loss is "
                f"{value}. Lower the learning rate (lr={self.lr}), keep gradient "
                "clipping on (max_grad_norm), or check the data's scale.")

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None or not self._defer_loss_reads():
            return super().run_single_epoch(iterator, training, prefix, step_fn,
                                            **fit_params)
        # skorch's loop, with each loss kept as a tensor until the loop ends
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.history.record_batch(prefix + "_batch_size", get_len(
                batch[0] if isinstance(batch, (tuple, list)) else batch))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        values = torch.stack(losses).float().tolist() if losses else []
        for record, value in zip(self.history[-1]["batches"][-len(values):], values):
            record[prefix + "_loss"] = value
            if training:
                self._check_loss(value)
        self.history.record(prefix + "_batch_count", len(values))

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, self._to_device(y_true))

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        # .item() (which skorch calls for the history anyway) rather than a tensor
        # isfinite: one op less per step. Deferred on CUDA (run_single_epoch).
        if not self._defer_loss_reads():
            self._check_loss(loss.item())
        if self.grad_scaler_ is not None:
            self.grad_scaler_.scale(loss).backward()
            self.grad_scaler_.unscale_(self.optimizer_)
        else:
            loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm(self._clipped_parameters(), self.max_grad_norm)
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        if self.grad_scaler_ is None:
            return super().train_step(batch, **fit_params)
        # With a scaler the optimizer must be stepped through it (it skips steps whose
        # gradients overflowed), so no closure.
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.notify("on_grad_computed",
                    named_parameters=TeeGenerator(self.get_all_learnable_params()),
                    batch=batch, training=True)
        self.grad_scaler_.step(self.optimizer_)
        self.grad_scaler_.update()
        return step
