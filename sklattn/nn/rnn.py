"""A recurrent encoder whose past hidden states are pooled by attention.

The lookup vector ``u`` is the last (current) hidden state and the values are the hidden
states before it; the lookup is left out of its own pool because, with dot scores, a
state scored against itself tends to win and the weights would then say nothing about
where the forecast looked.
"""

import torch
from torch import nn

from .attention import attention_pool, make_score

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
        concatenated to its input ``x_t`` (zero while there are none).
    position_bias_steps : int or None
        When given (the window length T), the output pool adds a learned bias per past
        step to the scores: ``score(v_i, u) + b_i`` (location plus content attention).
        Windows must then have exactly T steps.
    skip : nn.Module or None
        A module mapping the window to (batch, n_outputs) whose output is added to the
        head's (LSTNet's autoregressive "highway"): the RNN then models what a linear
        forecast of the window leaves over.

    Notes
    -----
    ``forward(x)`` returns only the forecast, shape (batch, n_outputs).
    ``forward(x, return_attention=True)`` also returns the output attention weights,
    shape (batch, T), where step ``T`` (the lookup) always has weight 0.
    """

    def __init__(self, n_features, n_outputs, *, cell="lstm", hidden_size=64, num_layers=1,
                 dropout=0.0, attention="additive", context="output", position_bias_steps=None,
                 skip=None):
        super().__init__()
        self.skip = skip
        self.cell = cell
        self.attention = attention
        self.context = context
        self.num_layers = num_layers
        uses_attention = attention != "none"
        if context == "recurrent" and uses_attention:
            sizes = [n_features + hidden_size] + [hidden_size] * (num_layers - 1)
            self.cells = nn.ModuleList(_CELLS[cell](size, hidden_size) for size in sizes)
            self.step_score = make_score(attention, hidden_size)
            self.layer_dropout = nn.Dropout(dropout)
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

    def encode(self, x):
        """Hidden states of the top layer, shape (batch, T, hidden)."""
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
            return out, torch.cat([weights, weights.new_zeros(weights.shape[0], 1)], dim=1)
        return out
