"""An experiment, not a feature: does the attention RNN lose to the plain RNN on
national_illness because its head learns the context too fast?

Variants of how :class:`~sklattn.nn.rnn.AttentionRNN`'s head reads the context ``c``
beside the last state ``h_T`` (patched here, never in the package):

``current``  the package's ``[c; h_T]``
``gated``    ``[g c; h_T]``, a learned scalar ``g`` from 0, the context's head columns at
             PyTorch's random start: the model starts as the plain RNN
``sum``      ``h_T + c`` into a head of the plain RNN's size
``gated-zero``  ``g`` and the context's columns both at 0: neither ever gets a gradient,
             so this is the plain RNN with other random draws (a measure of seed noise)

Each variant and the plain RNN over seeds, test MSE means printed and appended to
``results/longterm-gated-context.jsonl`` (docs/known_gaps.md, "Attention against the
plain RNN")::

    export OMP_NUM_THREADS=1 SKLATTN_DATA_HOME=../shared/data
    python benchmarks/gated_context.py --features MS   # and --features M
"""

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import longterm  # noqa: E402

from sklattn.nn import rnn  # noqa: E402

OUT = Path(__file__).parent / "results" / "longterm-gated-context.jsonl"
VARIANTS = ("current", "gated", "sum", "gated-zero")


@contextmanager
def head_variant(variant):
    """Patch ``AttentionRNN`` (attention options only) for the duration of the block."""
    init, forward = rnn.AttentionRNN.__init__, rnn.AttentionRNN.forward

    def patched_init(self, n_features, n_outputs, **kwargs):
        init(self, n_features, n_outputs, **kwargs)
        if self.score is None:
            return
        hidden = self.head.in_features // 2
        if variant == "sum":
            self.head = nn.Linear(hidden, n_outputs)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        else:  # the gated ones; the head starts at zero (the linear skip)
            self.gate = nn.Parameter(torch.zeros(()))
            if variant == "gated":
                fresh = nn.Linear(2 * hidden, n_outputs)  # PyTorch's start for the columns
                with torch.no_grad():
                    self.head.weight[:, :hidden] = fresh.weight[:, :hidden]

    def patched_forward(self, x, return_attention=False):
        if self.score is None:
            return forward(self, x, return_attention)
        states = self.encode(x)
        last, past = states[:, -1], states[:, :-1]
        scores = self.score(past, last)
        if self.position_bias is not None:
            scores = scores + self.position_bias
        context, _ = rnn.attention_pool(scores, past)
        z = context + last if variant == "sum" else torch.cat([self.gate * context, last], -1)
        return self.head(self.dropout(z)) + (0.0 if self.skip is None else self.skip(x))

    if variant != "current":
        rnn.AttentionRNN.__init__, rnn.AttentionRNN.forward = patched_init, patched_forward
    try:
        yield
    finally:
        rnn.AttentionRNN.__init__, rnn.AttentionRNN.forward = init, forward


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="national_illness")
    parser.add_argument("--features", default="MS", choices=["M", "MS"])
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--lookback", type=int, default=104)
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=["rnn-additive", "rnn-dot", "rnn-general"])
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    data_home = os.environ.get("SKLATTN_DATA_HOME")
    runs = [("plain", "rnn-none")] + [(v, m) for v in VARIANTS for m in args.models]
    for variant, model in runs:
        with head_variant(variant if model != "rnn-none" else "current"):
            mse = [longterm.run(args.dataset, args.features, model, args.lookback, args.horizon,
                                args.max_epochs, data_home, random_state=seed)["test_mse"]
                   for seed in range(args.seeds)]
        row = {"dataset": args.dataset, "features": args.features, "horizon": args.horizon,
               "variant": variant, "model": model, "test_mse": mse,
               "mean": float(np.mean(mse)), "meta": longterm._meta()}
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{variant:10s} {model:13s} mean {row['mean']:.4f}  "
              + " ".join(f"{v:.4f}" for v in mse), flush=True)


if __name__ == "__main__":
    main()
