"""Shrink the model of a finished table run toward epoch 0 without training it again.

``shrink_to_epoch0`` changes nothing while a model trains: the epochs, and the epoch early
stopping keeps, are those of a fit without it; only at the end of training are the kept
epoch's output layers moved toward epoch 0's (:mod:`sklattn.stopping`). So a finished
checkpoint of a run made before the option existed (``longterm.py --checkpoint-dir``,
the slow time-step runs) holds all the training a shrunk fit needs. For each checkpoint
folder given, this script

1. builds the estimator as the table's run did (``longterm.fit_model``: same windows,
   hold-out and seed, so the same least-squares start and last-value candidates for
   epoch 0), checks that the checkpoint's fingerprint is that fit's but for
   ``shrink_to_epoch0``, and
2. "trains" it for no epochs: the checkpoint's kept model, history and early-stopping
   state are restored at the start of training (as for any resumed run) and early
   stopping's end of training runs as in a fresh fit (nothing is written back into the
   checkpoint),

once with ``shrink_to_epoch0=False`` (the restored model: its test MSE must be the table
row's, or the checkpoint is not that row's model) and once with ``True`` (the shrunk
model). Both rows go to ``results/longterm-shrink.jsonl`` with ``from_checkpoint`` (the
folder's name) and the table row's commit and test MSE. With ``--table``, where
``shrink_to_epoch0=True`` is the model's default, the shrunk row is also the table's new
row (``results/longterm.jsonl``): the model a fresh fit with the defaults makes (the
tests check this on a slice), noted as resumed from the checkpoint.

Usage:
    SKLATTN_DATA_HOME=../shared/data python benchmarks/shrink_checkpoint.py \
        /path/to/checkpoints/weather-MS-336-720-timestep-seed0 ...
"""

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

from sklattn.checkpoint import EpochCheckpoint, read_manifest
from sklattn.neural import NeuralForecasterBase

sys.path.insert(0, str(Path(__file__).parent))
import longterm  # noqa: E402

OUT = longterm.HERE / "results" / "longterm-shrink.jsonl"


def parse_run_name(name):
    """``(dataset, features, lookback, horizon, model, seed)`` of a ``longterm.py``
    checkpoint folder named ``DATASET-FEATURES-LOOKBACK-HORIZON-MODEL-seedN`` (runs on a
    subset of the windows or with ``--set`` are not table runs and are refused)."""
    parts = name.split("-")
    if len(parts) < 6 or not parts[-1].startswith("seed") or not parts[-1][4:].isdigit():
        raise ValueError(f"{name!r} is not the checkpoint folder of a table run")
    model = "-".join(parts[4:-1])
    dataset, features, lookback, horizon = parts[:4]
    if model not in longterm.MODELS:
        raise ValueError(f"{name!r}: unknown model {model!r}")
    return dataset, features, int(lookback), int(horizon), model, int(parts[-1][4:])


def _end_training_from(self, X3, y3, manifest):
    """In place of ``_resume``: no epochs, the checkpoint restored at the start of
    training, early stopping's end of training (and so the shrink) as in a fresh fit."""
    expected = self._checkpoint_fingerprint(len(y3))
    found = json.loads(json.dumps(manifest.get("fingerprint")))
    for fingerprint in (expected, found):
        fingerprint.get("params", {}).pop("shrink_to_epoch0", None)
    if found != expected:
        raise ValueError(f"{self.checkpoint_dir} is the checkpoint of another fit")
    if not manifest.get("finished"):
        raise ValueError(f"{self.checkpoint_dir} is not finished: train it first")
    self.net_.partial_fit(X3, y3, epochs=0)


@contextlib.contextmanager
def _no_epochs_and_checkpoints_kept():
    """While inside: a fit with a checkpoint runs no epochs (:func:`_end_training_from`)
    and writes nothing into it."""
    resume, write = NeuralForecasterBase._resume, EpochCheckpoint._write
    NeuralForecasterBase._resume = _end_training_from
    EpochCheckpoint._write = lambda self, net, finished: None
    try:
        yield
    finally:
        NeuralForecasterBase._resume, EpochCheckpoint._write = resume, write


def shrink_rows(folder, data_home=None, results=longterm.RESULTS, max_rows=None):
    """The restored and the shrunk rows of the checkpoint in ``folder``, beside the row of
    ``results`` (the table) they come from; ``max_rows``: a tiny slice (tests only)."""
    folder = Path(folder).resolve()
    dataset, features, lookback, horizon, model, seed = parse_run_name(folder.name)
    table_row = longterm.load_results(results).get((dataset, features, horizon, model))
    if table_row is None:
        raise ValueError(f"{folder.name}: {results} has no row of this run")
    rows = []
    with tempfile.TemporaryDirectory() as links, _no_epochs_and_checkpoints_kept():
        for shrink in (False, True):
            # fit_model looks for the run's folder by its name, which --set extends
            name = folder.name + f"-shrink_to_epoch0={shrink}"
            (Path(links) / name).symlink_to(folder, target_is_directory=True)
            row = longterm.run(dataset, features, model, lookback, horizon,
                               longterm.table_max_epochs(dataset), data_home,
                               max_rows=max_rows, random_state=seed,
                               params={"shrink_to_epoch0": shrink}, checkpoint_dir=links)
            row["from_checkpoint"] = folder.name
            row["table_row"] = {"commit": table_row.get("meta", {}).get("commit"),
                                "test_mse": table_row["test_mse"],
                                "best_epoch": table_row.get("best_epoch")}
            if not shrink and abs(row["test_mse"] - table_row["test_mse"]) > (
                    1e-6 * table_row["test_mse"]):
                raise ValueError(
                    f"{folder.name}: the restored model's test MSE {row['test_mse']} is "
                    f"not the table row's {table_row['test_mse']}: not that row's model")
            rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--results", default=str(longterm.RESULTS),
                        help="the table's rows (default: results/longterm.jsonl)")
    parser.add_argument("--table", action="store_true",
                        help="also append the shrunk row to the table's rows (--results), "
                             "where shrinking is the model's default")
    parser.add_argument("--max-rows", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    meta = longterm._meta()
    for folder in args.folders:
        if read_manifest(folder) is None:
            raise SystemExit(f"{folder}: no checkpoint")
        if args.table:  # before the fits, not after
            check_defaults(parse_run_name(Path(folder).resolve().name)[4],
                           {"shrink_to_epoch0": True})
        rows = shrink_rows(folder, args.data_home, args.results, args.max_rows)
        for row in rows:
            row["meta"] = meta
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps({k: row.get(k) for k in (
                "from_checkpoint", "params", "test_mse", "best_epoch", "shrink_factor",
                "fit_seconds", "table_row")}), flush=True)
        if args.table:
            with open(args.results, "a") as f:
                f.write(json.dumps(table_row(rows[1])) + "\n")


def check_defaults(model_name, params):
    """Raise ``ValueError`` unless ``params`` are the defaults of ``model_name``'s
    estimator (a table row runs only defaults)."""
    defaults = longterm.MODELS[model_name]().get_params()
    if any(defaults.get(name) != value for name, value in params.items()):
        raise ValueError(f"{params} are not the defaults of {model_name}: not a table row")


def table_row(shrunk):
    """The table's row of the ``shrunk`` row: without ``params``, which must be the
    model's defaults, and saying where it comes from."""
    check_defaults(shrunk["model"], shrunk["params"])
    row = {k: v for k, v in shrunk.items() if k not in ("params", "table_row")}
    row["note"] = (f"shrunk from the finished checkpoint of the run at "
                   f"{shrunk['table_row']['commit']} (shrink_checkpoint.py)")
    return row


if __name__ == "__main__":
    sys.exit(main())
