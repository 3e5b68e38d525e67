"""AttentionRNNRegressor: an RNN/LSTM/GRU that pools its past hidden states by attention."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..neural import NeuralForecasterBase, linear_skip_of
from ..nn.linear import WindowLinear
from ..nn.rnn import AttentionRNN
from ..parameters import document_shared_parameters

__all__ = ["AttentionRNNRegressor"]


@document_shared_parameters
class AttentionRNNRegressor(NeuralForecasterBase):
    """Forecast the next steps of a multivariate series with an attention RNN.

    The encoder reads each window of ``lookback`` steps. Its hidden states before the last
    one, ``v_1..v_{T-1}``, are scored against the last hidden state ``u = h_T``;
    ``p = softmax(score(v_i, u))`` and the context ``c = sum_i p_i v_i``. A linear head
    maps ``[c; h_T]`` to all ``horizon * n_targets`` forecasts at once. With
    ``position_bias`` (default) the scores get a learned bias per step.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}, default="lstm"
    hidden_size : int, default=16
    n_layers : int, default=1
    dropout : float, default=0.3
        Between recurrent layers and before the head. Small and dropped-out by default:
        on real series the recurrent part otherwise memorises the (heavily overlapping)
        training windows within an epoch (see docs/real_data.md).
    attention : {"dot", "general", "additive", "none"}, default="additive"
        Score of a past state ``v_i`` against the lookup ``u``: "dot" ``v_i·u``
        (Luong), "general" ``v_i·W u`` (Luong), "additive" ``q·tanh(W1 v_i + W2 u)``
        (Bahdanau). "none" is the plain RNN baseline: the head sees ``h_T`` only.
    context : {"output", "recurrent"}, default="output"
        "output" pools once, after the last step, as above. "recurrent" also computes,
        at every step ``t``, a context over the states before the current one
        (``h_1..h_{t-2}`` against ``h_{t-1}``) and concatenates it to ``x_t``; it runs
        a Python loop over the steps, so it is slower. The cell's weights on that context
        start at zero, so training starts from the "output" model. Ignored when
        attention="none".
    position_bias : bool, default=True
        Add a learned score per past step to the output pool's scores,
        ``score(v_i, u) + b_i``. Without it, a "dot" score compares contents only: a
        time-invariant RNN gives ``v_i`` no sense of its distance to ``u``, and on data
        where the forecast needs the step exactly k back, dot attention then peaks on the
        neighbours of ``u`` (see docs/attention_rnn.md for the measurement).
    segment_len : int or "auto", default="auto"
        Steps the RNN reads per recurrent step. With ``w > 1`` the window is cut into
        segments of ``w`` steps, each embedded by a linear layer and a ReLU, and the RNN
        and its attention run over the segments (SegRNN, Lin et al. 2023): 336 steps
        become 16 recurrent steps, which trains faster and, on real data, better (see
        docs/real_data.md). "auto" uses ``max(1, lookback // 16)``: single steps for
        windows shorter than 32, about 16 segments for longer ones. Attention weights
        are then per segment, shared among its steps.
    linear_skip : bool, default=True
        Add a linear forecast of each target from its own window (as
        :class:`~sklattn.LinearForecaster` without decomposition) to the head's output:
        LSTNet's autoregressive "highway". When a target is an input feature, the map
        is first fitted by least squares on the training windows and then kept fixed,
        the head starts at zero, and early stopping scores that start (the linear
        forecast alone) as epoch 0: the recurrent part learns what the linear forecast
        leaves over, and is kept only where that helps on the hold-out. Without such a
        target the map trains jointly with the rest. See docs/attention_rnn.md and
        docs/real_data.md for the measurements behind the default.
    normalization : {"auto", "revin", "last"} or None, default="auto"
        "auto": "last" when a target is an input feature, else None (see
        :class:`~sklattn.neural.NeuralForecasterBase`).
        Each input window is normalised per feature and the forecast of each target
        mapped back. "last" is the choice here because it keeps the differences between
        features: with "revin" each feature loses its level relative to the others, and
        an RNN that must read one feature to forecast another (the planted-lag data)
        cannot.
    target_features : list of (int or None) or None, default=None
        Positions of the targets among ``X``'s features; by default read from ``y``
        (``make_windows(..., targets=...)``) or inferred (see
        :class:`~sklattn.base.WindowForecasterBase`).
    <shared parameters>

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The trained net; ``net_.history`` holds the losses per epoch.
    n_features_in_ : int
        Columns of the flattened windows, ``lookback * n_features``: what a 2D client
        (MAPIE, stacking, permutation importance) must pass per row.
    feature_names_in_ : ndarray of str
        Names of those columns, ``"OT[t-3]"`` ... ``"OT[t]"`` (step-major, C order), when
        ``X`` came from ``make_windows`` of a DataFrame, or a 2D DataFrame's columns.
    window_shape_ : tuple
        ``(lookback, n_features)`` of the windows the module reads.
    target_shape_ : tuple
        Shape of one window's ``y`` in fit; ``predict`` returns ``(n,) + target_shape_``.
    n_outputs_ : int
        ``horizon * n_targets``.
    target_features_ : list of (int or None)
        Each target's position among the input features (None: not an input).
    segment_len_ : int
        Steps per recurrent step (``segment_len`` with "auto" resolved).

    Examples
    --------
    >>> from sklattn import AttentionRNNRegressor, make_windows
    >>> from sklattn.datasets import make_lagged_series
    >>> series, lag = make_lagged_series(n_steps=300, random_state=0)
    >>> X, y = make_windows(series, lookback=24, horizon=1, targets="target")
    >>> model = AttentionRNNRegressor(hidden_size=8, max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict(X).shape == y.shape
    True
    >>> model.attention_weights(X).shape
    (276, 1, 24)
    """

    _auto_normalization = "last"

    _parameter_constraints = {
        **NeuralForecasterBase._parameter_constraints,
        "cell": [StrOptions({"lstm", "gru", "rnn"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "attention": [StrOptions({"dot", "general", "additive", "none"})],
        "context": [StrOptions({"output", "recurrent"})],
        "position_bias": ["boolean"],
        "segment_len": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "linear_skip": ["boolean"],
    }

    def __init__(self, cell="lstm", hidden_size=16, n_layers=1, dropout=0.3,
                 attention="additive", context="output", position_bias=True, segment_len="auto",
                 linear_skip=True, *,
                 normalization="auto", normalization_affine=False, target_features=None,
                 lookback=None, max_epochs=50, batch_size=64, predict_batch_size=1024, lr=3e-3,
                 optimizer="adam", weight_decay=0.0, optimizer_params=None, max_grad_norm=1.0,
                 quantiles=None,
                 baseline="last", shrink_to_epoch0=True, early_stopping=True,
                 validation_fraction=0.1, patience=8,
                 random_state=None,
                 device="auto", checkpoint_dir=None, n_threads=None, precision="float32",
                 compile=False, verbose=0, progress="auto", callbacks=None):
        self.cell = cell
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.attention = attention
        self.context = context
        self.position_bias = position_bias
        self.segment_len = segment_len
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
        if self.segment_len == "auto":
            self.segment_len_ = max(1, lookback // 16)
        elif self.segment_len > lookback:
            raise ValueError(
                f"segment_len={self.segment_len} is longer than the windows "
                f"(lookback={lookback}); use segment_len <= lookback or 'auto'"
            )
        else:
            self.segment_len_ = self.segment_len
        n_steps = -(-lookback // self.segment_len_)
        if self.attention != "none" and n_steps < 2:
            raise ValueError(
                f"attention={self.attention!r} pools the hidden states before the last one, "
                f"so windows need at least 2 recurrent steps; got lookback={lookback} with "
                f"segment_len={self.segment_len_} (2D X with {lookback} feature(s) per row "
                f"is read as univariate windows of that length)"
            )

    def _least_squares_start(self):
        return (linear_skip_of, True) if self.linear_skip else None

    def _build_module(self, n_features, n_outputs):
        lookback = self.window_shape_[0]
        horizon, _ = self._horizon_and_targets()
        skip = (WindowLinear(n_features, lookback, horizon, self.target_features_,
                             decomposition=False) if self.linear_skip else None)
        return AttentionRNN(
            n_features, n_outputs, cell=self.cell, hidden_size=self.hidden_size,
            num_layers=self.n_layers, dropout=self.dropout, attention=self.attention,
            context=self.context,
            position_bias_steps=-(-lookback // self.segment_len_) if self.position_bias else None,
            skip=skip, segment_len=self.segment_len_,
        )

    def attention_weights(self, X):
        """Where each window's forecast looked.

        Parameters
        ----------
        X : array-like of shape (n_windows, lookback, n_features) or (n_windows, lookback)

        Returns
        -------
        weights : ndarray of shape (n_windows, 1, lookback), of ``predict``'s dtype
            ``weights[i, 0, j]`` is the weight of window ``i``'s hidden state at step ``j``
            (0 = oldest) in the context the head sees. Each row sums to 1; the last step
            is the lookup vector and always has weight 0. The middle axis is the query
            (one: the last hidden state).

        Raises
        ------
        ValueError
            With ``attention="none"``, which has no attention.
        """
        if self.attention == "none":
            raise ValueError(
                "attention='none' is the plain RNN baseline and has no attention weights; "
                "fit with attention='dot', 'general' or 'additive'"
            )
        weights = self._attention_batches(
            X, lambda module, Xb: module(Xb, return_attention=True)[1])
        return weights[:, None, :]  # a view: the output is allocated once
