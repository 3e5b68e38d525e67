"""A recurrent encoder whose past hidden states are pooled by attention.

The lookup vector ``u`` is the last (current) hidden state and the values are the hidden
states before it; the lookup is left out of its own pool because, with dot scores, a
state scored against itself tends to win and the weights would then say nothing about
where the forecast looked.
"""

import torch
from torch import nn

from .attention import attention_pool, make_score
from .targets import zero_layers

__all__ = ["AttentionRNN"]

_RNNS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
_CELLS = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}


class AttentionRNN(nn.Module):
    """RNN/LSTM/GRU encoder, attention pool and a direct multi-step head.

    Parameters
    ----------
    n_features : int
        Features per input step.
    n_outputs : int
        Values the head emits per window (``horizon * n_targets``).
    cell : {"lstm", "gru", "rnn"}
    hidden_size : int
    num_layers : int
    dropout : float
        Dropout between recurrent layers and before the head.
    attention : {"dot", "general", "additive", "none"}
        How past hidden states are scored against the lookup; "none" is the plain RNN
        whose head sees only the last hidden state.
    context : {"output", "recurrent"}
        "output": the head sees ``[c; h_T]``, ``c`` pooled over ``h_1..h_{T-1}`` with
        lookup ``h_T``. "recurrent": besides that, every step ``t`` gets a context over
        the states before the current one, ``h_1..h_{t-2}`` with lookup ``h_{t-1}``,
        concatenated to its input ``x_t`` (zero while there are none). The first
        layer's input weights of that context start at zero, so the encoder starts as the
        "output" one and learns how much of the context to use.
    position_bias_steps : int or None
        When given (the number of recurrent steps: T, or the number of segments), the
        output pool adds a learned bias per past
        step to the scores: ``score(v_i, u) + b_i`` (location plus content attention).
        Windows must then have exactly T steps.
    skip : nn.Module or None
        A module mapping the window to (batch, n_outputs) whose output is added to the
        head's (LSTNet's autoregressive "highway"): the RNN then models what a linear
        forecast of the window leaves over.
    segment_len : int
        Steps per recurrent step. With 1 the RNN reads each time step. With ``w > 1``
        (SegRNN) the window is cut into segments of ``w`` consecutive steps (the oldest
        one padded by repeating the first step when ``w`` does not divide T), each segment's
        ``w * n_features`` values are embedded by a linear layer and a ReLU, and the RNN
        and its attention run over the segments: a long window becomes a short sequence.

    Notes
    -----
    ``forward(x)`` returns only the forecast, shape (batch, n_outputs).
    ``forward(x, return_attention=True)`` also returns the output attention weights,
    shape (batch, T), where step ``T`` (the lookup) always has weight 0; with segments,
    each step carries its segment's weight shared among the segment's steps, and the
    last segment (the lookup) has weight 0.
    """

    def __init__(self, n_features, n_outputs, *, cell="lstm", hidden_size=64, num_layers=1,
                 dropout=0.0, attention="additive", context="output", position_bias_steps=None,
                 skip=None, segment_len=1):
        super().__init__()
        self.skip = skip
        self.segment_len = segment_len
        self.cell = cell
        self.attention = attention
        self.context = context
        self.num_layers = num_layers
        uses_attention = attention != "none"
        self.embed = None
        if segment_len > 1:
            self.embed = nn.Sequential(nn.Linear(segment_len * n_features, hidden_size),
                                       nn.ReLU())
            n_features = hidden_size
        if context == "recurrent" and uses_attention:
            sizes = [n_features + hidden_size] + [hidden_size] * (num_layers - 1)
            self.cells = nn.ModuleList(_CELLS[cell](size, hidden_size) for size in sizes)
            self.step_score = make_score(attention, hidden_size)
            self.layer_dropout = nn.Dropout(dropout)
            # The context's input weights start at zero: the encoder starts as the plain
            # (output-context) RNN and the per-step context grows only as training finds
            # it useful. From a random start it added noise to every step; on
            # national_illness "MS" (10 seeds) the random start scored 1.061 of the
            # linear baseline on average, the zero start 1.000, and elsewhere the two
            # differ by less than the seeds do (docs/real_data.md).
            nn.init.zeros_(self.cells[0].weight_ih[:, n_features:])
        else:
            self.rnn = _RNNS[cell](n_features, hidden_size, num_layers=num_layers,
                                   batch_first=True,
                                   dropout=dropout if num_layers > 1 else 0.0)
        self.score = make_score(attention, hidden_size) if uses_attention else None
        self.position_bias = None
        if uses_attention and position_bias_steps:
            # One learned score per past step, added to the content score: lets a score
            # that only compares contents (dot) also prefer a step by its distance.
            self.position_bias = nn.Parameter(torch.zeros(position_bias_steps - 1))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if uses_attention else 1), n_outputs)
        if skip is not None:
            # Start as the linear forecast alone; the recurrent part learns what it leaves.
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def zero_output(self):
        """Zero the head (and the skip's maps): the forecast is then 0 for every window."""
        zero_layers(self.output_layers())

    def output_layers(self):
        """The layers :meth:`zero_output` zeroes: the head and the skip's."""
        return [self.head] + ([] if self.skip is None else self.skip.output_layers())

    def segment(self, x):
        """The RNN's input sequence: ``x`` itself, or its embedded segments.

        (batch, T, F) -> (batch, S, hidden) with ``S = ceil(T / segment_len)``.
        """
        if self.embed is None:
            return x
        batch, steps, n_features = x.shape
        pad = -steps % self.segment_len
        if pad:
            x = torch.cat([x[:, :1].expand(batch, pad, n_features), x], dim=1)
        segments = x.reshape(batch, -1, self.segment_len * n_features)  # (batch, S, w*F)
        return self.embed(segments)

    def step_weights(self, weights, steps):
        """Spread per-segment weights (batch, S) over the window's steps (batch, T).

        Each step gets its segment's weight divided by the segment's number of real
        (unpadded) steps, so rows still sum to 1.
        """
        if self.embed is None:
            return weights
        pad = -steps % self.segment_len
        per_step = weights.repeat_interleave(self.segment_len, dim=1)[:, pad:]
        counts = torch.full((weights.shape[1],), float(self.segment_len),
                            device=weights.device)
        counts[0] -= pad
        return per_step / counts.repeat_interleave(self.segment_len)[pad:]

    def encode(self, x):
        """Hidden states of the top layer, shape (batch, S, hidden)."""
        x = self.segment(x)
        if hasattr(self, "rnn"):
            return self.rnn(x)[0]
        return self._encode_recurrent(x)

    def _encode_recurrent(self, x):
        batch, steps, _ = x.shape
        hidden_size = self.head.in_features // 2
        state = [self._zero_state(x, batch, hidden_size) for _ in self.cells]
        history = []
        for t in range(steps):
            if t >= 2:  # pool h_0..h_{t-2} against the current state h_{t-1}
                past = torch.stack(history[:-1], dim=1)
                context, _ = attention_pool(self.step_score(past, history[-1]), past)
            else:
                context = x.new_zeros(batch, hidden_size)
            layer_input = torch.cat([x[:, t], context], dim=-1)
            for i, cell in enumerate(self.cells):
                state[i] = cell(layer_input, state[i])
                h = state[i][0] if self.cell == "lstm" else state[i]
                layer_input = self.layer_dropout(h) if i < len(self.cells) - 1 else h
            history.append(layer_input)
        return torch.stack(history, dim=1)

    def _zero_state(self, x, batch, hidden_size):
        h = x.new_zeros(batch, hidden_size)
        return (h, h.clone()) if self.cell == "lstm" else h

    def forward(self, x, return_attention=False):
        states = self.encode(x)
        last = states[:, -1]
        skip = 0.0 if self.skip is None else self.skip(x)
        if self.score is None:
            if return_attention:
                raise ValueError("attention='none' has no attention weights")
            return self.head(self.dropout(last)) + skip
        past = states[:, :-1]
        scores = self.score(past, last)
        if self.position_bias is not None:
            scores = scores + self.position_bias
        context, weights = attention_pool(scores, past)
        out = self.head(self.dropout(torch.cat([context, last], dim=-1))) + skip
        if return_attention:
            weights = torch.cat([weights, weights.new_zeros(weights.shape[0], 1)], dim=1)
            return out, self.step_weights(weights, x.shape[1])
        return out
