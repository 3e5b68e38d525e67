"""Window normalisation: standardise each input window, forecast, undo it on the forecast.

Real series move their level between training and test. Normalising every window by its
own statistics (RevIN, Kim et al. 2022) or by its last value (NLinear, Zeng et al. 2023)
lets a model trained on one level forecast at another; the forecast of each target is
mapped back with the statistics of the same feature in the input window.
``to_last_value()`` turns the wrapper into the last-value (naive) forecast, the baseline
that early stopping compares trained epochs against.
"""

import torch
from torch import nn

__all__ = ["WindowNormalization"]

# Windows per chunk of the least-squares rows' statistics (see ``_chunked_stats``).
_STATS_CHUNK = 128


class WindowNormalization(nn.Module):
    """Wrap a forecaster so that it sees normalised windows and forecasts in data units.

    Parameters
    ----------
    forecaster : nn.Module
        ``forecaster(x)`` maps windows (batch, lookback, n_features) to forecasts
        (batch, horizon * n_targets), horizon-major, or, for a quantile forecaster,
        (batch, horizon * n_targets * n_levels), levels fastest; with ``return_attention=True`` it
        returns ``(forecast, weights)``.
    n_features, horizon : int
    target_features : sequence of (int or None)
        For each target, its position among the input features, or None when the target
        is not an input.
    method : {"revin", "last", None}
        "revin": subtract each feature's mean over the window and divide by its std.
        "last": subtract each feature's last value in the window (NLinear) and divide by
        its std over the window, as RevIN does. None: leave the inputs as they are.
    affine : bool
        After normalising, apply a learned per-feature scale and shift (RevIN's affine
        option); undone on the targets' forecasts.
    target_loc, target_scale : sequence of float or None
        For targets that are not inputs: the forecaster emits them in standardised units
        and they are mapped back as ``out * scale + loc`` (the training mean and std of
        the target). Defaults: 0 and 1.
    eps : float
    """

    def __init__(self, forecaster, n_features, horizon, target_features, *, method="revin",
                 affine=False, target_loc=None, target_scale=None, eps=1e-5):
        super().__init__()
        if method not in ("revin", "last", None):
            raise ValueError(f"unknown normalisation method {method!r}")
        self.forecaster = forecaster
        self.horizon = horizon
        self.method = method
        # The weight of each known target's last value in its forecast: 1 after
        # to_last_value() (the forecaster's output is zero: the last-value forecast),
        # between 0 and 1 after shrink_toward() such a start, else 0. A buffer, so a saved
        # or pickled model keeps it (files before it held a bool: loaded as 0 or 1).
        self.register_buffer("last_value", torch.tensor(0.0))
        self.eps = eps
        n_targets = len(target_features)
        known = [t is not None for t in target_features]
        self.register_buffer("target_known", torch.tensor(known, dtype=torch.bool))
        self.register_buffer("target_index",
                             torch.tensor([t if t is not None else 0 for t in target_features],
                                          dtype=torch.long))
        loc = torch.zeros(n_targets) if target_loc is None else torch.as_tensor(target_loc)
        scale = torch.ones(n_targets) if target_scale is None else torch.as_tensor(target_scale)
        self.register_buffer("target_loc", loc.float().reshape(1, 1, n_targets))
        self.register_buffer("target_scale", scale.float().reshape(1, 1, n_targets))
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(n_features))
            self.bias = nn.Parameter(torch.zeros(n_features))

    def to_last_value(self):
        """Become the last-value forecast: zero the forecaster's output layer
        (``forecaster.zero_output()``) and add each target's last value to it. Targets
        that are not inputs are then forecast by their ``target_loc``; a quantile
        forecaster keeps its offsets around the last value."""
        self.forecaster.zero_output()
        self.last_value.fill_(1.0)

    def shrink_toward(self, start, factor):
        """Keep ``factor`` of the output layers' change since ``start``, in place.

        Each parameter of the forecaster's ``output_layers()`` (its head, linear skip,
        target mix) becomes ``start + factor * (now - start)``, and so does the last
        value's weight; every other weight (the encoder) stays as it is now. Where the
        forecast is linear in those parameters and they are the only ones that moved
        or matter at ``start`` (its head zero, or its linear maps fixed since), the
        forecast becomes exactly ``a + factor * (f - a)``, ``a`` the start's forecast and
        ``f`` the current one; with a target mix that moved together with the maps below
        it (a target that is not an input), only approximately.

        Parameters
        ----------
        start : dict
            A ``state_dict()`` of this module: the weights to shrink toward.
        factor : float
            1 leaves the module as it is; 0 sets the output layers to ``start``'s.
        """
        layers = {id(layer) for layer in self.forecaster.output_layers()}
        names = ["last_value"] + [
            f"{prefix}.{name}" for prefix, module in self.named_modules()
            if id(module) in layers for name, _ in module.named_parameters(recurse=False)]
        state = self.state_dict()
        with torch.no_grad():
            for name in names:
                begin = start[name].to(state[name])
                state[name].copy_(begin + factor * (state[name] - begin))

    def _stats(self, x):
        """Per-window, per-feature ``(loc, scale)``, each (batch, 1, n_features)."""
        if self.method is None:
            return None, None
        # Both methods divide by the window's own spread: a fixed per-feature scale
        # (the training std) let outliers elsewhere in the series set it (weather's
        # -9999 sentinels made its CO2 std 24x the test part's, and the RNN learned
        # the spikes).
        with torch.no_grad():  # constants of each window: no gradient flows through them
            mean = x.mean(dim=1, keepdim=True)
            # Two passes rather than x.var: torch's single-pass var took 3-10x as long on
            # a CPU (6.4 ms against 2.2 ms for 1024 windows of 96 x 7).
            # (squared in place: one batch-sized temporary instead of two)
            var = (x - mean).square_().mean(dim=1, keepdim=True)
            scale = torch.sqrt(var + self.eps)
            loc = mean if self.method == "revin" else x[:, -1:, :]
        return loc, scale

    def normalize(self, x):
        """Return ``(z, stats)``: the normalised windows and what undoes them."""
        loc, scale = self._stats(x)
        z = x
        if loc is not None:
            z = z - loc
        if scale is not None:
            z = z / scale
        if self.affine:
            z = z * self.weight + self.bias
        return z, (loc, scale)

    def least_squares_rows(self, x, y):
        """What a channel-independent linear map of a target's own normalised window must
        fit, as weighted least-squares rows, for each target that is an input.

        The forecast ``m`` of a target at input position ``f`` is mapped back as
        ``m * scale_f + loc_f``, so its squared error in data units is
        ``scale_f^2 * (m - (y - loc_f) / scale_f)^2``: a row of weight ``scale_f``, whose
        weighted window ``scale_f * z`` and future are simply ``x - loc_f`` and
        ``y - loc_f`` (nothing to divide). Valid while the affine parameters are at their
        start (identity).

        Parameters
        ----------
        x : tensor of shape (batch, lookback, n_features)
            float32 or float64, any strides (a view of the caller's windows is read,
            never written).
        y : tensor of shape (batch, horizon * n_targets), horizon-major

        Returns
        -------
        rows : tensor of shape (batch * n_known, lookback + 1 + horizon)
            Row ``n`` is ``w_n [z_n, 1, t_n]``: the normalised window ``z_n``, the bias's
            input, the normalised future ``t_n``, times the row's weight ``w_n``; for
            :meth:`~sklattn.nn.linear.LeastSquares.update_weighted`.
        """
        batch, lookback = x.shape[0], x.shape[1]
        features = self.target_index[self.target_known].tolist()
        # One float32 buffer that the solver reads in one matrix product, filled in place:
        # each known target's window is copied (and cast) straight from ``x`` into it,
        # feature-major, so ``x`` may be a strided view of the caller's windows in either
        # float dtype, and no other batch-sized copy of the windows is made.
        rows = torch.empty(batch, len(features), lookback + 1 + self.horizon,
                           dtype=torch.float32, device=x.device)  # (B, K, L+1+H)
        windows = rows[..., :lookback]  # (B, K, L)
        for k, feature in enumerate(features):
            windows[:, k].copy_(x[:, :, feature])
        y = y.to(torch.float32).reshape(batch, self.horizon, -1)
        y = y.transpose(1, 2)[:, self.target_known]  # (B, K, H)
        if self.method is None:
            rows[..., lookback] = 1.0
            rows[..., lookback + 1:] = y
        else:
            loc, scale = self._chunked_stats(windows.transpose(1, 2))  # each (B, 1, K)
            windows.sub_(loc.transpose(1, 2))  # scale * z
            rows[..., lookback] = scale[:, 0]
            torch.sub(y, loc.transpose(1, 2), out=rows[..., lookback + 1:])
        return rows.reshape(batch * len(features), -1)

    def _chunked_stats(self, x, chunk=_STATS_CHUNK):
        """:meth:`_stats` of (batch, steps, features) windows, ``chunk`` windows at a time:
        each window's statistics are its own, and the deviations it squares are then a
        chunk's size, not the batch's. Returned as new tensors (never views of ``x``)."""
        parts = [self._stats(x[start:start + chunk]) for start in range(0, len(x), chunk)]
        return (torch.cat([loc for loc, _ in parts]), torch.cat([scale for _, scale in parts]))

    def denormalize(self, out, stats):
        """Map a normalised forecast (batch, steps, n_targets) back to data units."""
        loc, scale = stats
        known, index = self.target_known, self.target_index
        if self.affine:
            restored = (out - self.bias[index]) / (self.weight[index] + self.eps**2)
            out = torch.where(known, restored, out)
        out_scale = self.target_scale.expand(out.shape[0], 1, -1)
        out_loc = self.target_loc.expand(out.shape[0], 1, -1)
        if self.method is None:
            # inputs left as they are: the known targets are forecast in data units
            out_scale = torch.where(known, torch.ones_like(out_scale), out_scale)
            out_loc = torch.where(known, torch.zeros_like(out_loc), out_loc)
        else:
            out_scale = torch.where(known, scale[..., index], out_scale)
            out_loc = torch.where(known, loc[..., index], out_loc)
        return out * out_scale + out_loc

    def forward(self, x, return_attention=False):
        batch = x.shape[0]
        z, stats = self.normalize(x)
        if return_attention:
            out, weights = self.forecaster(z, return_attention=return_attention)
        else:
            out, weights = self.forecaster(z), None
        n_targets = len(self.target_known)
        # A quantile forecaster emits n_levels values per output (levels fastest): each
        # level is mapped back like a point forecast.
        out = out.view(batch, self.horizon, n_targets, -1)  # (B, H, T, L)
        if self.last_value:
            last = z[:, -1, self.target_index]  # (B, T): each target's normalised last value
            last = torch.where(self.target_known, last, torch.zeros_like(last))
            out = out + self.last_value * last[:, None, :, None]
        n_levels = out.shape[-1]
        out = out.transpose(2, 3).reshape(batch, self.horizon * n_levels, n_targets)
        out = self.denormalize(out, stats)  # (B, H * L, T)
        out = out.view(batch, self.horizon, n_levels, n_targets).transpose(2, 3)
        out = out.reshape(batch, -1)  # (B, H * T * L)
        return (out, weights) if return_attention else out
