"""Intervals recalibrated as the test months arrive: does the advice of docs/intervals.md
("recalibrate on recent windows") bring coverage back where the test period differs from
the hold-out?

For each dataset, setting and model: the model fitted as in the long-term table
(``longterm.fit_model``: default hyperparameters, seed 0, the standard validation part as
its hold-out), then its 90% intervals on the test windows two ways:

``static``   calibrated once, by ``fit``, on the hold-out (the table's intervals)
``rolling``  the test windows walked in blocks of ``--every`` windows (default: a week of
             steps); before each block, ``calibrate`` on the latest windows whose targets
             had all been observed at the block's first forecast origin (the hold-out's,
             then the test windows already past), as many as the hold-out holds

Coverage (share of test targets inside), lowest coverage over the horizon steps and mean
width, for both scores; printed and appended to ``results/rolling-calibration.jsonl``::

    export OMP_NUM_THREADS=1 SKLATTN_DATA_HOME=../shared/data
    python benchmarks/rolling_calibration.py --datasets ETTh1 ETTh2 ETTm1 \\
        --features M MS --models naive linear rnn-additive variate
    python benchmarks/rolling_calibration.py report      # its table in RESULTS.md
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import longterm  # noqa: E402

OUT = Path(__file__).parent / "results" / "rolling-calibration.jsonl"
RESULTS_MD = Path(__file__).parent / "RESULTS.md"
STEPS_PER_WEEK = {"ETTh1": 168, "ETTh2": 168, "ETTm1": 672, "ETTm2": 672, "weather": 1008,
                  "exchange_rate": 5, "national_illness": 1}


def rolling_intervals(model, X_past, y_past, X_test, y_test, every, n_calibration,
                      coverage=longterm.INTERVAL_COVERAGE, score="scaled"):
    """Bounds on ``X_test`` recalibrated before each block of ``every`` windows.

    ``X_past`` / ``y_past``: the windows before the test windows whose targets are known
    (the hold-out's); a test window joins them once its last target step has passed the
    block's first forecast origin (``horizon`` windows later). Returns lower and upper
    bounds shaped like ``y_test``. Leaves the model calibrated on the last block's windows.
    """
    horizon = y_test.shape[1]
    lower, upper = np.empty(y_test.shape), np.empty(y_test.shape)
    for start in range(0, len(X_test), every):
        known = max(0, start - horizon + 1)  # test windows whose targets have all passed
        past = slice(len(X_past) - max(0, n_calibration - known), None)
        recent = slice(max(0, known - n_calibration), known)
        model.calibrate(np.concatenate([X_past[past], X_test[recent]]),
                        np.concatenate([y_past[past], y_test[recent]]))
        block = slice(start, start + every)
        lower[block], upper[block] = model.predict_interval(X_test[block], coverage=coverage,
                                                            score=score)
    return lower, upper


def evaluate(dataset, features, model_name, every=None, data_home=None, max_rows=None,
             lookback=None, horizon=None, max_epochs=None):
    default_lookback, horizons = longterm.default_lookback_horizons(dataset)
    lookback, horizon = lookback or default_lookback, horizon or horizons[0]
    every = every or STEPS_PER_WEEK[dataset]
    fitted = longterm.fit_model(dataset, features, model_name, lookback, horizon,
                                max_epochs or longterm.table_max_epochs(dataset), data_home,
                                max_rows=max_rows)
    model, X_test, y_test = fitted["model"], fitted["X_test"], fitted["y_test"]
    n_valid = fitted["n_valid"]
    X_past, y_past = fitted["X_fit"][-n_valid:], fitted["y_fit"][-n_valid:]
    row = {"dataset": dataset, "features": features, "model": model_name,
           "lookback": lookback, "horizon": horizon, "every": every,
           "n_calibration_windows": n_valid, "n_test_windows": len(X_test)}
    # fit's calibration (the table's intervals), before any other replaces it
    static = longterm.intervals(model, X_test, y_test)
    for score in longterm.INTERVAL_SCORES:
        row[f"static_{score}"] = static[f"interval_{score}"]
    for score in longterm.INTERVAL_SCORES:
        bounds = rolling_intervals(model, X_past, y_past, X_test, y_test, every, n_valid,
                                   score=score)
        row[f"rolling_{score}"] = longterm.interval_summary(*bounds, y_test)
    row["meta"] = longterm._meta()
    return row


def report(path=None):
    """Markdown table of the latest row of each dataset, setting, horizon and model."""
    path, latest = OUT if path is None else path, {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            latest[(row["dataset"], row["features"], row["horizon"], row["model"])] = row
    lines = ["| dataset | features | horizon | model | static coverage | lowest step | width | "
             "rolling coverage | lowest step | width | absolute score: static | rolling | "
             "commit |", "|---" * 13 + "|"]
    for (dataset, features, horizon, model), r in sorted(latest.items()):
        s, w = r["static_scaled"], r["rolling_scaled"]
        lines.append(
            f"| {dataset} | {features} | {horizon} | {model} | {s['coverage']:.3f} | "
            f"{s['min_step_coverage']:.3f} | {s['width']:.3f} | {w['coverage']:.3f} | "
            f"{w['min_step_coverage']:.3f} | {w['width']:.3f} | "
            f"{r['static_absolute']['coverage']:.3f} | {r['rolling_absolute']['coverage']:.3f}"
            f" | {r['meta']['commit']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["ETTh1", "ETTh2", "ETTm1"])
    parser.add_argument("--features", nargs="+", default=["M", "MS"])
    parser.add_argument("--models", nargs="+", default=["naive", "linear", "rnn-additive",
                                                         "variate"])
    parser.add_argument("--every", type=int, help="windows per block (default: a week)")
    parser.add_argument("--lookback", type=int)
    parser.add_argument("--horizon", type=int)
    parser.add_argument("--max-epochs", type=int)
    parser.add_argument("--max-rows", type=int, help="a slice of the series (tests)")
    parser.add_argument("--out", default=str(OUT))
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        RESULTS_MD.write_text(longterm._replace_section(RESULTS_MD.read_text(), "rolling",
                                                        report()))
        print(f"wrote {RESULTS_MD}")
        return
    args = parser.parse_args(argv)
    for dataset in args.datasets:
        for features in args.features:
            for model in args.models:
                row = evaluate(dataset, features, model, args.every,
                               os.environ.get("SKLATTN_DATA_HOME"), args.max_rows,
                               args.lookback, args.horizon, args.max_epochs)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
                s, r = row["static_scaled"], row["rolling_scaled"]
                print(f"{dataset} {features} {model:12s} static {s['coverage']:.3f} "
                      f"(lowest {s['min_step_coverage']:.3f}, width {s['width']:.3f})  "
                      f"rolling {r['coverage']:.3f} (lowest {r['min_step_coverage']:.3f}, "
                      f"width {r['width']:.3f})", flush=True)


if __name__ == "__main__":
    main()
