"""What the long-term experiments share (``paired_holdout.py``, ``shrunk_head.py``): a
module's forecasts of the hold-out windows, and the command line (for each
``DATASET:FEATURES`` setting, seed and model, one call of the experiment's ``compare``,
its row appended to a JSON-lines file and printed)."""

import argparse
import json

import longterm
import torch

__all__ = ["holdout_forecasts", "run_settings"]


def holdout_forecasts(net, module, dataset):
    """Forecasts and targets of the hold-out windows, float64 arrays of shape
    (n_windows, horizon * n_targets), in the units early stopping scores (``module`` is
    put in eval mode)."""
    forecasts, targets = [], []
    module.eval()
    with torch.inference_mode():
        for Xb, yb in net.get_iterator(dataset, training=False):
            forecasts.append(module(Xb.to(torch.float32)).reshape(len(yb), -1).double())
            targets.append(yb.reshape(len(yb), -1).double())
    return torch.cat(forecasts).cpu().numpy(), torch.cat(targets).cpu().numpy()


def run_settings(argv, *, description, compare, models, choices=None, seeds=1, out):
    """Parse ``argv`` and run ``compare(dataset, features, model, seed, data_home,
    **options)`` for every setting, seed and model asked for; ``options`` are the tiny-
    slice options of the end-to-end tests (``max_rows``, ``max_train_windows``,
    ``max_epochs``, ``lookback``, ``horizon``; None unless given)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("settings", nargs="+", help="DATASET:FEATURES, e.g. ETTh1:M")
    parser.add_argument("--models", nargs="+", default=list(models),
                        choices=choices or models)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--data-home", default=None)
    for option in ("--max-rows", "--max-train-windows", "--max-epochs", "--lookback",
                   "--horizon"):
        parser.add_argument(option, type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(out))
    args = parser.parse_args(argv)
    options = {name: getattr(args, name) for name in (
        "max_rows", "max_train_windows", "max_epochs", "lookback", "horizon")}
    meta = longterm._meta()
    for setting in args.settings:
        dataset, features = setting.split(":")
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for model_name in args.models:
                row = compare(dataset, features, model_name, seed, args.data_home, **options)
                row["meta"] = meta
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(json.dumps({k: v for k, v in row.items() if k != "meta"}), flush=True)
