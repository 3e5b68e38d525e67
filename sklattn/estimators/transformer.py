"""TransformerForecaster: multi-head self-attention over steps, patches or variates."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..devices import is_cuda
from ..inference import MIN_INFERENCE_BLOCK
from ..neural import NeuralForecasterBase, linear_skip_of
from ..nn.linear import WindowLinear
from ..nn.transformer import WindowTransformer, n_patches
from ..parameters import document_shared_parameters

__all__ = ["TransformerForecaster"]

_AUTO_BATCH_ROWS = 16384
# On a CUDA device: 2048 windows of 96 time-step tokens. On an H200 (lookback 96,
# benchmarks/RESULTS.md) batches of 2048 windows predicted 1.7x (time-step tokens) and
# 1.9x (patch tokens) the windows per second of 256-window batches: a GPU needs larger
# batches to be kept busy than a CPU, where 1024 windows ran slower than 256.
_AUTO_BATCH_ROWS_CUDA = 2048 * 96
_AUTO_BATCH_VALUES = 2**23
# attention_weights with predict_batch_size="auto": float32 weight matrices per batch (of
# the one layer asked for; until the fourteenth session the module formed every layer's,
# and the budget counted them all). Measured on ETTh1 (benchmarks/speed.py attention,
# 512 test windows, 2 CPU threads): against batches of 256 windows (what "auto" gave
# before), 16 MB batches took 0.58-0.76 of the time (time-step tokens at lookback 96 and
# 336, patch tokens at 336) and, at lookback 336, time-step tokens added 189 MB instead of
# 2.6 GB. (A one-off sweep of 4-128 MB, not kept as a benchmark, put 16 MB within
# 1.13x of the fastest size.)
_AUTO_ATTENTION_BYTES = 2**24


@document_shared_parameters
class TransformerForecaster(NeuralForecasterBase):
    """Forecast a multivariate series with a Transformer encoder.

    Multi-head scaled dot-product self-attention with separate query, key and value
    projections, pre-norm encoder layers, and a direct multi-step head. Same contract as
    :class:`~sklattn.AttentionRNNRegressor` (shapes, validation, early stopping, seeds,
    device, callbacks, pickling, grid search).

    Parameters
    ----------
    tokens : {"timestep", "patch", "variate"}, default="patch"
        "timestep": one token per time step (all features projected to ``d_model``),
        learned positions, a flatten head. "patch" (as PatchTST): every feature alone,
        cut into patches of ``patch_len`` every ``stride`` steps (the window is first
        padded by repeating its last value ``stride`` times), one encoder shared by all
        features, a flatten head. "variate" (as iTransformer): each feature's whole window
        is one token; attention runs across features; a linear head per token.
    d_model : int, default=16
    n_heads : int, default=4
        Must divide ``d_model``.
    n_layers : int, default=3
    d_ff : int, default=128
    dropout : float, default=0.2
        Dropout on the encoder's residual branches, its feed-forward layers and the head.
    attention_dropout : float or "auto", default="auto"
        Dropout on the attention weights. "auto": 0 for time-step tokens, ``dropout`` for
        patch and variate tokens. Above 0, training on a CPU cannot use torch's fused
        attention kernel and forms every weight matrix: at 0.2, time-step tokens on ETTh1
        at lookback 336 trained 4.7 times slower and a fit held 1.2 GB more, while patch
        tokens (42 per sequence) trained 1.27 times slower and variate tokens (one per
        feature) no slower; on the benchmark sets dropout on the weights of patch and
        variate tokens forecast about 1% better on average (docs/real_data.md).
    patch_len : int or "auto", default="auto"
        Patch tokens only; must not exceed the lookback. "auto": 16 (PatchTST's choice),
        or the whole window when it is shorter than 16 steps.
    stride : int or "auto", default="auto"
        Patch tokens only: steps between patch starts. "auto": half the patch length
        (at least 1), PatchTST's overlap.
    linear_skip : bool, default=True
        Add a linear forecast of each target from its own window (as
        :class:`~sklattn.LinearForecaster` without decomposition) to the head's output,
        as TiDE's global residual: when a target is an input feature the map is fitted
        by least squares on the training windows and kept fixed, the head starts at zero,
        and early stopping scores that start (the linear forecast alone) as epoch 0, so
        the encoder is kept only where it improves on the linear forecast on the
        hold-out. Without such a target the map trains with the rest. As in
        :class:`~sklattn.AttentionRNNRegressor`; ``linear_skip=False`` is the plain
        PatchTST / iTransformer. See docs/real_data.md.
    normalization : {"auto", "revin", "last"} or None, default="auto"
        "auto": "revin" when a target is an input feature, else None (see
        :class:`~sklattn.neural.NeuralForecasterBase`).
        Reversible instance normalisation by default: each window is standardised per
        feature by its own mean and std, and the forecast is mapped back with the target
        features' statistics (see :class:`~sklattn.neural.NeuralForecasterBase`).
        Learn a per-feature scale and shift after normalising.
    target_features : list of (int or None) or None, default=None
        Positions, on X's feature axis, of the features ``y`` holds (in ``y``'s order);
        the other features are inputs only (exogenous). By default read from ``y``
        (``make_windows(..., targets=...)``), else the features in order when ``y`` has
        one target per feature, else the targets are not inputs: channel-independent
        tokens then forecast them from a learned mix of every channel.
    <shared parameters>

    Attributes
    ----------
    net_, n_features_in_, feature_names_in_, window_shape_, target_shape_, n_outputs_
        As in :class:`~sklattn.AttentionRNNRegressor`.
    target_features_ : list of (int or None)
        The resolved ``target_features``.
    normalization_ : {"revin", "last"} or None
        The normalisation used ("auto" resolved).
    patch_len_, stride_ : int
        The patch length and stride used ("auto" resolved; set for every token type).
    attention_dropout_ : float
        The dropout rate on the attention weights ("auto" resolved).
    """

    _parameter_constraints = {
        **NeuralForecasterBase._parameter_constraints,
        "tokens": [StrOptions({"timestep", "patch", "variate"})],
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "d_ff": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "attention_dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "patch_len": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "stride": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "linear_skip": ["boolean"],
    }

    def __init__(self, tokens="patch", d_model=16, n_heads=4, n_layers=3, d_ff=128,
                 dropout=0.2, attention_dropout="auto", patch_len="auto", stride="auto",
                 linear_skip=True, *,
                 normalization="auto", normalization_affine=False, target_features=None,
                 lookback=None, max_epochs=30, batch_size=64, predict_batch_size="auto", lr=1e-3,
                 optimizer="adam", weight_decay=0.0, optimizer_params=None, max_grad_norm=1.0,
                 quantiles=None,
                 baseline="last", shrink_to_epoch0=True, early_stopping=True,
                 validation_fraction=0.1, patience=5,
                 random_state=None,
                 device="auto", checkpoint_dir=None, n_threads=None, precision="float32",
                 compile=False, verbose=0, progress="auto", callbacks=None):
        self.tokens = tokens
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.d_ff = d_ff
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.patch_len = patch_len
        self.stride = stride
        self.linear_skip = linear_skip
        self.normalization = normalization
        self.normalization_affine = normalization_affine
        self.target_features = target_features
        self.lookback = lookback
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.predict_batch_size = predict_batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.optimizer_params = optimizer_params
        self.max_grad_norm = max_grad_norm
        self.quantiles = quantiles
        self.baseline = baseline
        self.shrink_to_epoch0 = shrink_to_epoch0
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.checkpoint_dir = checkpoint_dir
        self.n_threads = n_threads
        self.precision = precision
        self.compile = compile
        self.verbose = verbose
        self.progress = progress
        self.callbacks = callbacks

    def _prepare_fit(self, lookback, n_features):
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        self.patch_len_ = min(16, lookback) if self.patch_len == "auto" else self.patch_len
        self.stride_ = max(1, self.patch_len_ // 2) if self.stride == "auto" else self.stride
        self.attention_dropout_ = self.attention_dropout
        if self.attention_dropout == "auto":
            self.attention_dropout_ = 0.0 if self.tokens == "timestep" else self.dropout
        if self.tokens == "patch" and self.patch_len_ > lookback:
            raise ValueError(
                f"patch_len={self.patch_len} is longer than the windows (lookback={lookback})")

    def _least_squares_start(self):
        return (linear_skip_of, True) if self.linear_skip else None

    def _build_module(self, n_features, n_outputs):
        lookback = self.window_shape_[0]
        horizon, _ = self._horizon_and_targets()
        skip = (WindowLinear(n_features, lookback, horizon, self.target_features_,
                             decomposition=False) if self.linear_skip else None)
        return WindowTransformer(
            n_features, lookback, horizon, self.target_features_, tokens=self.tokens,
            d_model=self.d_model, n_heads=self.n_heads, n_layers=self.n_layers,
            d_ff=self.d_ff, dropout=self.dropout, attention_dropout=self.attention_dropout_,
            patch_len=self.patch_len_, stride=self.stride_, skip=skip,
        )

    def _tokens_and_sequences(self):
        """Tokens per encoder sequence and sequences per window (patch tokens: one
        sequence per feature)."""
        lookback, n_features = self.window_shape_
        if self.tokens == "timestep":
            return lookback, 1
        if self.tokens == "variate":
            return n_features, 1
        return n_patches(lookback, self.patch_len_, self.stride_), n_features

    def _auto_predict_batch_size(self):
        # Rows the encoder runs per window: its tokens times the sequences they form
        # (patch tokens: one sequence per feature). Measured on ETTh1 (lookback 96 and
        # 336, 1500 windows, 2 CPU threads): for time-step and patch tokens (84-336 rows
        # per window) batches of 256 windows were as fast as any, 1024 windows took
        # 1.11-1.30 times as long; variate tokens (7 rows per window) took 0.50-0.69 of
        # the time in batches of thousands of windows. The rows are capped at 16384: at
        # 32768 (patch tokens at lookback 96: 390 windows of 84 rows) predict took 1.45-1.5
        # times as long as at 256 in three processes of five (memory-bound steps such as
        # GELU ran 4x slower; the other two ran at the speed of 256), and variate tokens
        # ran as fast in 2340 windows as in 4681.
        # Until the fourteenth session batches were never below 256 windows; the row cap
        # alone was faster wherever that floor bound (ETTh1 test windows, 2 CPU threads,
        # a one-off interleaved comparison against a plain loop at 256 windows): time-step
        # tokens at lookback 96 in 170 windows 0.77-0.93 of its time, at 256 1.005-1.009;
        # at lookback 336 in 48 windows 0.84, at 256 1.13; patch tokens at 96 in 212
        # windows 0.88, at 256 1.01; at 336 in 55 windows 0.86, at 256 1.02. That edge
        # is the allocator's, not the batch size's (fifteenth session, docs/speed.md):
        # where no batch page-faults, 195 patch windows took 1.03-1.05 of the plain loop
        # and 256 0.99-1.01, 512 0.96-0.99; where batches fault, larger ones lose more
        # (512: 1.13-1.38), so the cap stays.
        # The input batch is also kept under _AUTO_BATCH_VALUES (32 MB of float32), which
        # only binds for few tokens over long windows.
        lookback, n_features = self.window_shape_
        n_tokens, n_sequences = self._tokens_and_sequences()
        rows = n_tokens * n_sequences
        max_rows = _AUTO_BATCH_ROWS_CUDA if is_cuda(self.net_.device) else _AUTO_BATCH_ROWS
        return max(MIN_INFERENCE_BLOCK, min(max_rows // rows,
                                            _AUTO_BATCH_VALUES // (lookback * n_features)))

    def _attention_batch_size(self):
        """Windows per batch in ``attention_weights``: ``predict_batch_size``, or with
        "auto" as many as keep the asked layer's weight matrices under
        ``_AUTO_ATTENTION_BYTES`` (at least ``MIN_INFERENCE_BLOCK``, at most what
        ``predict`` takes)."""
        if self.predict_batch_size != "auto":
            return self.predict_batch_size
        n_tokens, n_sequences = self._tokens_and_sequences()
        window_bytes = 4 * self.n_heads * n_sequences * n_tokens**2  # one layer's
        return max(MIN_INFERENCE_BLOCK, min(self._auto_predict_batch_size(),
                                            _AUTO_ATTENTION_BYTES // window_bytes))

    def attention_weights(self, X, layer=-1, average_heads=True):
        """Self-attention weights of one encoder layer, computed explicitly.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback, n_features) or (n_windows, lookback)
        layer : int, default=-1
            Which encoder layer (negative counts from the last).
        average_heads : bool, default=True
            Average over heads; otherwise keep a heads axis.

        Returns
        -------
        weights : ndarray, of ``predict``'s dtype
            ``[..., i, j]`` is how much query token ``i`` attends to key token ``j``; each
            row (last axis) sums to 1. Shapes, with ``(H,)`` only when
            ``average_heads=False``:

            - "timestep": (n_windows, (H,) lookback, lookback), tokens are steps.
            - "patch": (n_windows, n_features, (H,) n_patches, n_patches): per feature,
              tokens are patches (patch ``k`` starts at step ``k * stride_``).
            - "variate": (n_windows, (H,) n_features, n_features), tokens are features.
        """
        if not -self.n_layers <= layer < self.n_layers:
            raise ValueError(f"layer={layer} is out of range for n_layers={self.n_layers}")

        def forward(module, Xb):
            # Only the asked layer forms its weights explicitly (the others run the fused
            # kernel): (..., 1, H, N, N) -> (..., H, N, N)
            weights = module(Xb, return_attention=(layer,))[1].select(-4, 0)
            return weights.mean(dim=-3) if average_heads else weights

        # in the windows' dtype (as predict), allocated once
        return self._attention_batches(X, forward, batch_size=self._attention_batch_size())
