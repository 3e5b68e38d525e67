"""Speed and memory of every estimator beside a plain PyTorch loop over the same module.

Seven measurements, each printed as a table and appended to
``benchmarks/results/speed.jsonl`` (``report`` rewrites the section in RESULTS.md):

``train``
    Seconds per epoch of ``fit`` (default settings: clipping on, early stopping off so
    both sides see the same batches) beside a plain loop (``zero_grad``, forward, MSE,
    ``backward``, ``step``; no clipping) training a copy of the same module on the
    same shuffled batches, after the same least-squares start of the linear map where
    the estimator's fit makes one (made by hand: the module's rows into the same solver,
    with the fit's options, the map frozen where sklattn freezes it), so that the ratio
    is what the wrapper costs, not what the model computes. Both sides alternate, one fit
    each per round, either side first on alternate rounds; medians.
    Also each epoch alone (skorch's ``EpochTimer`` beside the plain loop's epochs) and
    the seconds ``fit`` spends once per fit (validation, net set-up, least-squares
    start), so that a fixed cost and a per-step cost can be told apart.
``predict``
    ``predict`` on every test window, and on one window, beside a plain
    ``torch.inference_mode`` loop calling the module on batches of 256 (one window: on
    that window alone). Alternating, medians.
``attention``
    The Transformer's ``attention_weights`` on ETTh1 test windows with
    ``predict_batch_size="auto"`` (batches sized by the weight matrices' bytes) beside the
    batches ``predict`` takes (what "auto" gave ``attention_weights`` before): seconds,
    alternating, medians; then peak resident memory added by one call of each, beyond
    its output.
``dropout``
    Training the Transformer with dropout on its attention weights (``attention_dropout``
    0.2: the default of patch and variate tokens, and the rate of every token type before
    it was its own parameter) beside without (the default of time-step tokens): median
    epoch seconds of alternating fits, and peak resident memory added by one fit of
    each. Above 0, torch's CPU attention cannot use its fused kernel.
``validate``
    Validation of windows (``check_windows``: the finiteness of the memory span they
    view, read once) beside scikit-learn's ``check_array(ensure_all_finite=True)`` on
    the same windows (every value of every window, what sklattn did before): the ETTh1
    test windows, and windows of a longer random series at lookback 512. Alternating,
    medians.
``memory``
    One fresh process per layout of the windows (C/Fortran order, float32/float64,
    DataFrame or array, all targets or some): peak resident memory added by a fit
    stopped after 20 batches and by ``predict`` (on a twentieth of the windows), beside
    the bytes of the series and of the materialised windows.

Data: ETTh1 (z-scaled on its training rows), lookback 96, horizon 96, all 7 targets
("M"), as in the long-term benchmark. Run with ``OMP_WAIT_POLICY=PASSIVE`` on a shared
machine:

    OMP_WAIT_POLICY=PASSIVE SKLATTN_DATA_HOME=../shared/data python benchmarks/speed.py train
    OMP_WAIT_POLICY=PASSIVE SKLATTN_DATA_HOME=../shared/data python benchmarks/speed.py predict
    OMP_WAIT_POLICY=PASSIVE SKLATTN_DATA_HOME=../shared/data python benchmarks/speed.py attention
    OMP_WAIT_POLICY=PASSIVE SKLATTN_DATA_HOME=../shared/data python benchmarks/speed.py dropout
    OMP_WAIT_POLICY=PASSIVE SKLATTN_DATA_HOME=../shared/data python benchmarks/speed.py validate
    OMP_WAIT_POLICY=PASSIVE python benchmarks/speed.py memory
    OMP_WAIT_POLICY=PASSIVE SKLATTN_DATA_HOME=../shared/data python benchmarks/speed.py search
    python benchmarks/speed.py report
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_array
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).parent))
import longterm  # noqa: E402  (the benchmark scripts' shared data and metadata)

from sklattn import AttentionRNNRegressor, LinearForecaster, TransformerForecaster, make_windows
from sklattn._validation import check_windows
from sklattn.batching import WindowBatches
from sklattn.devices import is_cuda
from sklattn.nn.linear import LeastSquares

try:
    import resource
except ImportError:  # Windows: no page-fault counts
    resource = None

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "speed.jsonl"

ESTIMATORS = {
    "linear": lambda: LinearForecaster(),
    "rnn-none": lambda: AttentionRNNRegressor(attention="none"),
    "rnn-additive": lambda: AttentionRNNRegressor(attention="additive"),
    "rnn-recurrent": lambda: AttentionRNNRegressor(attention="additive", context="recurrent"),
    "timestep": lambda: TransformerForecaster(tokens="timestep"),
    "patch": lambda: TransformerForecaster(tokens="patch"),
    "variate": lambda: TransformerForecaster(tokens="variate"),
}


def _meta():
    return {**longterm._meta(), "cpus": os.cpu_count(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}


def _etth1(lookback=96, horizon=96):
    data_home = os.environ.get("SKLATTN_DATA_HOME")
    X_fit, y_fit, X_test, y_test, _ = longterm.windows("ETTh1", "M", lookback, horizon, data_home)
    return X_fit, y_fit, X_test, y_test


class _Dataset:
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)


def _sync(device):
    if is_cuda(device):
        torch.cuda.synchronize()


def _least_squares_start_of(est):
    """The least-squares start ``est``'s fit made (its net's ``LeastSquaresStart``
    callback), or None where it made none."""
    return dict(est.net_.callbacks_).get("least_squares_start")


def _plain_least_squares_start(module, data, start, device):
    """The least-squares start of sklattn's fit, made by hand: ``start`` is the fit's
    ``LeastSquaresStart`` callback (or None: nothing to do), read for its options only.
    The module's weighted rows go batch by batch into the same solver (a torch-level
    part of the model, like the module), solved once; the map is then frozen where
    sklattn freezes it (the RNN's and Transformer's skip), so both sides train the same
    parameters."""
    if start is None or not bool(module.target_known.any()):
        return
    linear = start.locate(module)
    solver = LeastSquares(linear.remainder.in_features, linear.horizon)
    with torch.no_grad():
        for Xb, yb in WindowBatches(data, start.batch_size):
            solver.update_weighted(module.least_squares_rows(Xb.to(device).float(),
                                                             yb.to(device).float()))
    linear.set_map(*solver.solve(start.ridge))
    if start.freeze:
        for layer in linear.maps():
            layer.requires_grad_(False)


def _plain_train(module, X, y, *, epochs, batch_size, lr, seed, device="cpu", start=None):
    """The reference: a hand-written training loop over the same batches, after the same
    least-squares start as sklattn's fit (``start``, see
    :func:`_plain_least_squares_start`). Returns each epoch's seconds and the start's."""
    torch.manual_seed(seed)
    module.to(device)
    cuda = is_cuda(device)
    data = _Dataset(X, np.asarray(y).reshape(len(y), -1))
    begin = time.perf_counter()
    _plain_least_squares_start(module, data, start, device)
    start_seconds = time.perf_counter() - begin
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    loss_fn = torch.nn.MSELoss()
    module.train()
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for Xb, yb in WindowBatches(data, batch_size, shuffle=True, pin_memory=cuda):
            Xb, yb = Xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            optimizer.zero_grad()
            loss = loss_fn(module(Xb), yb)
            loss.backward()
            optimizer.step()
        _sync(device)
        seconds.append(time.perf_counter() - start)
    return seconds, start_seconds


def _minor_faults():
    """Minor page faults of this process so far (0 where ``resource`` is missing).

    A call that maps fresh memory pays one per 4 KiB page touched; in some processes
    freed memory goes back to the system between the batches of a predict call and every
    batch faults it in again (see the predict table's note in RESULTS.md).
    """
    if resource is None:  # Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _plain_predict(module, X, batch_size=256, device="cpu"):
    module.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            Xb = torch.from_numpy(np.ascontiguousarray(X[start:start + batch_size]))
            out.append(module(Xb.to(device)))
    return torch.cat(out).cpu().numpy()


def bench_train(names, rounds, epochs, n_windows):
    X, y, _, _ = _etth1()
    X, y = X[:n_windows], y[:n_windows]
    rows = []
    for name in names:
        est = ESTIMATORS[name]().set_params(max_epochs=epochs, early_stopping=False,
                                            random_state=0)
        est.fit(X, y)  # warm-up, and the module the plain loop copies
        template = copy.deepcopy(est.net_.module_)
        start_of = _least_squares_start_of(est)
        ours, plain, ours_epochs, plain_epochs, setup, plain_start = [], [], [], [], [], []
        for r in range(rounds):
            # Either side first on alternate rounds, so that neither always runs in the
            # state (caches, allocator, sleeping threads) the other leaves.
            for side in ("sklattn", "plain") if r % 2 == 0 else ("plain", "sklattn"):
                if side == "sklattn":
                    start = time.perf_counter()
                    est.fit(X, y)
                    fit_seconds = time.perf_counter() - start
                    ours.append(fit_seconds / epochs)
                    # skorch's EpochTimer: each epoch's steps, without what fit does once
                    # (validation, net set-up, the least-squares start)
                    epoch_seconds = est.net_.history[:, "dur"]
                    ours_epochs.extend(epoch_seconds)
                    setup.append(fit_seconds - sum(epoch_seconds))
                else:
                    module = copy.deepcopy(template)
                    start = time.perf_counter()
                    epoch_seconds, start_seconds = _plain_train(
                        module, X, y, epochs=epochs, batch_size=est.batch_size, lr=est.lr,
                        seed=r, start=start_of)
                    plain.append((time.perf_counter() - start) / epochs)
                    plain_epochs.extend(epoch_seconds)
                    plain_start.append(start_seconds)
        row = {"kind": "train", "estimator": name, "n_windows": len(X), "epochs": epochs,
               "rounds": rounds, "sklattn_s_per_epoch": float(np.median(ours)),
               "plain_s_per_epoch": float(np.median(plain)),
               "sklattn_epoch_s": float(np.median(ours_epochs)),
               "plain_epoch_s": float(np.median(plain_epochs)),
               "sklattn_setup_s": float(np.median(setup)),
               "plain_start_s": float(np.median(plain_start))}
        row["ratio"] = row["sklattn_s_per_epoch"] / row["plain_s_per_epoch"]
        row["epoch_ratio"] = row["sklattn_epoch_s"] / row["plain_epoch_s"]
        print(f"{name:14s} sklattn {row['sklattn_s_per_epoch']:.3f} s/epoch  plain "
              f"{row['plain_s_per_epoch']:.3f}  ratio {row['ratio']:.3f}  epoch alone "
              f"{row['epoch_ratio']:.3f}  set-up {row['sklattn_setup_s']:.3f} s (plain "
              f"loop's start {row['plain_start_s']:.3f} s)", flush=True)
        rows.append(row)
    return rows


_TRAIN_FIGURES = ("sklattn_s_per_epoch", "plain_s_per_epoch", "sklattn_epoch_s",
                  "plain_epoch_s", "sklattn_setup_s", "plain_start_s", "ratio", "epoch_ratio")
_PREDICT_FIGURES = ("sklattn_windows_per_s", "plain_windows_per_s", "sklattn_minor_faults",
                    "plain_minor_faults", "ratio")


def _in_fresh_process(argv):
    """Run this script with ``argv`` in a fresh Python process; return the JSON its last
    line of output holds."""
    argv = [str(arg) for arg in argv]
    out = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True,
                         env=os.environ)
    if out.returncode:
        print(out.stderr, file=sys.stderr)
        raise SystemExit(f"speed.py {' '.join(argv)} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_over_processes(runs, figures):
    """Rows made by the same command in several processes (``runs``: one list of rows per
    process, in the same order) as one list: each figure the median over the processes,
    every process's ratios kept (``process_ratios``, and ``process_epoch_ratios`` for
    training)."""
    rows = []
    for parts in zip(*runs):
        row = dict(parts[0], processes=len(parts))
        for key in ("ratio", "epoch_ratio"):
            if key in row:
                row[f"process_{key}s"] = [part[key] for part in parts]
        for key in figures:
            row[key] = float(np.median([part[key] for part in parts]))
        rows.append(row)
    return rows


def bench_in_processes(command, names, processes, *args):
    """``speed.py _one COMMAND NAME *ARGS`` (``bench_train`` or ``bench_predict`` for one
    estimator) in ``processes`` fresh processes per estimator; the rows are the medians
    over the processes (:func:`_median_over_processes`).

    On this shared machine a ratio moves by several percent from one process to the next
    (what each side finds in the allocator and caches), more than within one; each
    process's ratio is still measured within it, both sides interleaved.
    """
    figures = _TRAIN_FIGURES if command == "train" else _PREDICT_FIGURES
    rows = []
    for name in names:
        runs = [_in_fresh_process(["_one", command, name, *args]) for _ in range(processes)]
        for row in _median_over_processes(runs, figures):
            print(f"{name:14s} {row.get('windows', ''):4s} ratio {row['ratio']:.3f} "
                  f"(processes: {', '.join(f'{r:.3f}' for r in row['process_ratios'])})",
                  flush=True)
            rows.append(row)
    return rows


def bench_predict(names, rounds, epochs):
    X, y, X_test, _ = _etth1()
    rows = []
    for name in names:
        est = ESTIMATORS[name]().set_params(max_epochs=epochs, random_state=0)
        est.fit(X[:2000], y[:2000])
        module = est.net_.module_
        one = X_test[:1]
        timings = {"all": ([], []), "one": ([], [])}
        faults = {"all": ([], []), "one": ([], [])}
        for r in range(rounds):
            for key, Xq in (("all", X_test), ("one", one)):
                reps = 1 if key == "all" else 20
                # either side first on alternate rounds (as in ``bench_train``)
                for side in (0, 1) if r % 2 == 0 else (1, 0):
                    run = est.predict if side == 0 else partial(_plain_predict, module)
                    before = _minor_faults()
                    start = time.perf_counter()
                    for _ in range(reps):
                        run(Xq)
                    timings[key][side].append((time.perf_counter() - start) / reps)
                    faults[key][side].append((_minor_faults() - before) / reps)
        for key, (ours, plain) in timings.items():
            n = len(X_test) if key == "all" else 1
            row = {"kind": "predict", "estimator": name, "windows": key, "n_windows": n,
                   "rounds": rounds, "sklattn_windows_per_s": n / float(np.median(ours)),
                   "plain_windows_per_s": n / float(np.median(plain)),
                   "sklattn_minor_faults": float(np.median(faults[key][0])),
                   "plain_minor_faults": float(np.median(faults[key][1]))}
            row["ratio"] = float(np.median(ours) / np.median(plain))
            print(f"{name:14s} {key:4s} sklattn {row['sklattn_windows_per_s']:9.1f} win/s  "
                  f"plain {row['plain_windows_per_s']:9.1f}  time ratio {row['ratio']:.3f}  "
                  f"page faults {row['sklattn_minor_faults']:.0f} / "
                  f"{row['plain_minor_faults']:.0f}", flush=True)
            rows.append(row)
    return rows


def _attention_weights_in(est, X, predict_batch_size):
    return est.set_params(predict_batch_size=predict_batch_size).attention_weights(X)


ATTENTION_CASES = ["timestep-96", "timestep-336", "patch-96", "patch-336", "variate-336"]


def bench_attention(cases, rounds, n_windows):
    rows = []
    for case in cases:
        tokens, lookback = case.split("-")
        X, y, X_test, _ = _etth1(lookback=int(lookback))
        # The weights' values do not change the work: one short epoch is enough.
        est = TransformerForecaster(tokens=tokens, max_epochs=1, early_stopping=False,
                                    random_state=0).fit(X[:300], y[:300])
        X_query = np.ascontiguousarray(X_test[:n_windows])
        sizes = {"auto": est._attention_batch_size(), "predict": est._predict_batch_size()}
        seconds = {"auto": [], "predict": []}
        added = {}

        batch = {"auto": "auto", "predict": sizes["predict"]}
        run = partial(_attention_weights_in, est, X_query)
        run(batch["auto"])  # warm-up
        for r in range(rounds):
            for side in ("auto", "predict") if r % 2 == 0 else ("predict", "auto"):
                start = time.perf_counter()
                run(batch[side])
                seconds[side].append(time.perf_counter() - start)
        for side in seconds:
            with _PeakRSS() as peak:
                weights = run(batch[side])
            added[side] = peak.added - weights.nbytes
            output_bytes = weights.nbytes
            del weights
        est.set_params(predict_batch_size="auto")
        row = {"kind": "attention", "estimator": case, "n_windows": len(X_query),
               "rounds": rounds, "output_bytes": output_bytes,
               **{f"{side}_batch": sizes[side] for side in sizes},
               **{f"{side}_s": float(np.median(seconds[side])) for side in seconds},
               **{f"{side}_added_bytes": added[side] for side in added}}
        row["ratio"] = row["auto_s"] / row["predict_s"]
        mb = 2**20
        print(f"{case:13s} auto: {sizes['auto']:4d} windows {row['auto_s']:6.2f} s "
              f"+{added['auto'] / mb:6.0f} MB   predict's: {sizes['predict']:4d} windows "
              f"{row['predict_s']:6.2f} s +{added['predict'] / mb:6.0f} MB   time ratio "
              f"{row['ratio']:.3f}   (output {output_bytes / mb:.0f} MB)", flush=True)
        rows.append(row)
    return rows


def _dropout_estimator(tokens, attention_dropout):
    return TransformerForecaster(tokens=tokens, attention_dropout=attention_dropout,
                                 max_epochs=2, early_stopping=False, random_state=0)


def bench_dropout(cases, rounds, n_windows, rate=0.2):
    rows = []
    for case in cases:
        tokens, lookback = case.split("-")
        X, y, _, _ = _etth1(lookback=int(lookback))
        X, y = X[:n_windows], y[:n_windows]
        rates = {"without": 0.0, "with": rate}
        epochs = {side: [] for side in rates}
        added = {}

        for r in range(rounds):
            for side in ("without", "with") if r % 2 == 0 else ("with", "without"):
                est = _dropout_estimator(tokens, rates[side]).fit(X, y)
                epochs[side].extend(est.net_.history[:, "dur"])
        for side in rates:
            with _PeakRSS() as peak:
                _dropout_estimator(tokens, rates[side]).fit(X, y)
            added[side] = peak.added
        row = {"kind": "attention-dropout", "estimator": case, "n_windows": len(X),
               "rounds": rounds, "rate": rate,
               **{f"{side}_epoch_s": float(np.median(epochs[side])) for side in rates},
               **{f"{side}_added_bytes": added[side] for side in rates}}
        row["ratio"] = row["with_epoch_s"] / row["without_epoch_s"]
        mb = 2**20
        print(f"{case:13s} epoch without {row['without_epoch_s']:6.2f} s "
              f"+{added['without'] / mb:5.0f} MB   with {rate}: {row['with_epoch_s']:6.2f} s "
              f"+{added['with'] / mb:5.0f} MB   ratio {row['ratio']:.2f}", flush=True)
        rows.append(row)
    return rows


# -- memory --------------------------------------------------------------------------------

LAYOUTS = {
    # name: (DataFrame?, dtype, order, targets)
    "frame-f64-all": (True, np.float64, "F", None),
    "frame-f64-some": (True, np.float64, "F", [6]),
    "array-f32-C-all": (False, np.float32, "C", None),
    "array-f32-F-all": (False, np.float32, "F", None),
    "array-f64-C-all": (False, np.float64, "C", None),
    "array-f64-C-some": (False, np.float64, "C", [6]),
}


def _release_freed_memory():
    """Give freed heap memory back to the OS (glibc), so that RSS counts live memory only
    and the next peak is not hidden inside memory freed earlier."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakRSS:
    """Peak resident memory while the block runs, polled every millisecond."""

    def __enter__(self):
        _release_freed_memory()
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.added = self.peak - self.base


class _StopAfter(Callback):
    """End fit (as an interrupt does) after ``n`` batches."""

    def __init__(self, n):
        self.n = n

    def on_batch_end(self, net, **kwargs):
        self.n -= 1
        if self.n <= 0:
            raise KeyboardInterrupt


def memory_one(layout, n_steps, lookback, horizon, estimator):
    """In this process: fit and predict on one layout; return the peaks."""
    import pandas as pd

    from sklattn import make_windows

    frame, dtype, order, targets = LAYOUTS[layout]

    def windows(n):
        rng = np.random.default_rng(0)
        values = np.asarray(rng.standard_normal((n, 7)).cumsum(axis=0), dtype=dtype,
                            order=order)
        series = pd.DataFrame(values, columns=[f"x{i}" for i in range(7)]) if frame else values
        return values, make_windows(series, lookback, horizon, targets=targets, dtype=dtype)

    def estimator_():
        return ESTIMATORS[estimator]().set_params(max_epochs=1, callbacks=[_StopAfter(20)],
                                                  random_state=0)

    # Warm-up on a short series: torch's one-time allocations (thread pools, kernels)
    # are not the windows' cost.
    _, (X_small, y_small) = windows(20 * (lookback + horizon))
    estimator_().fit(X_small, y_small).predict(X_small)
    values, (X, y) = windows(n_steps)
    est = estimator_()
    series_bytes = values.nbytes
    with _PeakRSS() as fit_peak:
        est.fit(X, y)
    X_pred = X[: len(X) // 20]
    with _PeakRSS() as predict_peak:
        pred = est.predict(X_pred)
    out_bytes = pred.nbytes  # in the windows' dtype
    del pred
    return {"kind": "memory", "layout": layout, "estimator": estimator, "n_steps": n_steps,
            "lookback": lookback, "horizon": horizon, "series_bytes": series_bytes,
            "windows_bytes": X.size * X.itemsize + y.size * y.itemsize,
            "fit_added_bytes": fit_peak.added, "predict_windows": len(X_pred),
            "predict_output_bytes": out_bytes, "predict_added_bytes": predict_peak.added}


def bench_memory(layouts, n_steps, lookback, horizon, estimator):
    rows = []
    for layout in layouts:
        row = _in_fresh_process(["_memory_one", layout, n_steps, lookback, horizon, estimator])
        mb = 2**20
        print(f"{layout:18s} series {row['series_bytes'] / mb:7.1f} MB  windows "
              f"{row['windows_bytes'] / mb:9.1f} MB  fit +{row['fit_added_bytes'] / mb:7.1f} MB"
              f"  predict +{row['predict_added_bytes'] / mb:7.1f} MB (output "
              f"{row['predict_output_bytes'] / mb:.1f} MB)", flush=True)
        rows.append(row)
    return rows


def bench_validate(rounds, n_steps):
    """Seconds to validate windows: ``check_windows`` beside checking every value."""
    _, _, X_test, _ = _etth1()
    series = np.random.default_rng(0).standard_normal((n_steps, 7)).astype(np.float32)
    X_long, _ = make_windows(series, lookback=512, horizon=96)
    cases = {"etth1-test-96": X_test, f"random-{n_steps}-512": X_long}
    sides = {"sklattn": check_windows,
             "every_value": lambda X: check_array(X, dtype=(np.float32, np.float64),
                                                  allow_nd=True, ensure_all_finite=True)}
    rows = []
    for case, X in cases.items():
        seconds = {side: [] for side in sides}
        for r in range(rounds):
            for side in sides if r % 2 == 0 else reversed(list(sides)):
                start = time.perf_counter()
                sides[side](X)
                seconds[side].append(time.perf_counter() - start)
        row = {"kind": "validate", "estimator": case, "n_windows": len(X),
               "window_values": int(np.prod(np.shape(X))), "rounds": rounds,
               **{f"{side}_s": float(np.median(v)) for side, v in seconds.items()}}
        row["ratio"] = row["sklattn_s"] / row["every_value_s"]
        print(f"{case:20s} check_windows {1000 * row['sklattn_s']:8.3f} ms   every value "
              f"{1000 * row['every_value_s']:8.3f} ms   ratio {row['ratio']:.4f}", flush=True)
        rows.append(row)
    return rows


def bench_search(n_jobs_list, rounds, n_windows):
    """``GridSearchCV`` over 4 candidates x 2 folds, timed at each ``n_jobs``, alternating."""
    from sklearn.model_selection import GridSearchCV

    from sklattn import WindowTimeSeriesSplit

    X, y, _, _ = _etth1()
    X, y = X[:n_windows], y[:n_windows]
    search = GridSearchCV(
        LinearForecaster(max_epochs=3, early_stopping=False, random_state=0),
        {"lr": [1e-3, 3e-3], "decomposition": [True, False]},
        cv=WindowTimeSeriesSplit(n_splits=2, lookback=96, horizon=96))
    times = {n: [] for n in n_jobs_list}
    for _ in range(rounds):
        for n_jobs in n_jobs_list:
            start = time.perf_counter()
            search.set_params(n_jobs=n_jobs).fit(X, y)
            times[n_jobs].append(time.perf_counter() - start)
    rows = []
    for n_jobs, ts in times.items():
        row = {"kind": "search", "n_jobs": n_jobs, "rounds": rounds, "n_windows": len(X),
               "seconds": float(np.median(ts)),
               "ratio_to_n_jobs_1": float(np.median(ts) / np.median(times[n_jobs_list[0]]))}
        print(f"GridSearchCV n_jobs={n_jobs}: {row['seconds']:.2f} s "
              f"(x{row['ratio_to_n_jobs_1']:.2f} of n_jobs={n_jobs_list[0]})", flush=True)
        rows.append(row)
    return rows


# -- GPU -----------------------------------------------------------------------------------

def bench_gpu(names, rounds, epochs, n_windows, device, compile_names):
    """Training and predict on a GPU: float32 beside a plain loop on the same device,
    then bfloat16 and float16 autocast and ``compile=True`` beside float32."""
    X, y, X_test, _ = _etth1()
    X, y = X[:n_windows], y[:n_windows]
    gpu = torch.cuda.get_device_name() if is_cuda(device) else "cpu"
    rows = []
    for name in names:
        est = ESTIMATORS[name]().set_params(max_epochs=epochs, early_stopping=False,
                                            random_state=0, device=device)
        est.fit(X, y)  # warm-up (CUDA context, kernels), and the module the plain loop copies
        template = copy.deepcopy(est.net_.module_).cpu()
        start_of = _least_squares_start_of(est)
        ours, plain, fits = [], [], []
        for r in range(rounds):
            for side in ("sklattn", "plain") if r % 2 == 0 else ("plain", "sklattn"):
                if side == "sklattn":
                    start = time.perf_counter()
                    est.fit(X, y)
                    _sync(device)
                    fits.append((time.perf_counter() - start) / epochs)
                    ours.extend(est.net_.history[:, "dur"])
                else:
                    plain.extend(_plain_train(copy.deepcopy(template), X, y, epochs=epochs,
                                              batch_size=est.batch_size, lr=est.lr, seed=r,
                                              device=device, start=start_of)[0])
        row = {"kind": "gpu-train", "estimator": name, "gpu": gpu, "n_windows": len(X),
               "epochs": epochs, "rounds": rounds, "batch_size": est.batch_size,
               "sklattn_epoch_s": float(np.median(ours)),
               "plain_epoch_s": float(np.median(plain)),
               "sklattn_fit_s_per_epoch": float(np.median(fits))}
        row["ratio"] = row["sklattn_epoch_s"] / row["plain_epoch_s"]
        for precision in ("bfloat16", "float16"):
            mixed = clone(est).set_params(precision=precision)
            mixed.fit(X, y)  # one fit: its epochs' median (the figure is a ratio of ~1.1-1.4)
            row[f"{precision}_epoch_s"] = float(np.median(mixed.net_.history[:, "dur"]))
        if name in compile_names:
            # one epoch more: the first pays the compilation
            compiled = clone(est).set_params(compile=True, max_epochs=epochs + 1)
            try:
                compiled.fit(X, y)
            except Exception as error:  # noqa: BLE001  (a compiler failure is a result)
                row["compile_error"] = f"{type(error).__name__}: {error}"[:300]
            else:
                durations = list(compiled.net_.history[:, "dur"])
                row["compiled_first_epoch_s"] = float(durations[0])
                row["compiled_epoch_s"] = float(np.median(durations[1:]))
        # predict: every test window, and one window, beside the plain loop (batches of 256)
        module = est.net_.module_
        timings = {"all": ([], []), "one": ([], [])}
        for r in range(rounds + 2):
            for key, Xq in (("all", X_test), ("one", X_test[:1])):
                reps = 1 if key == "all" else 20
                for side in (0, 1) if r % 2 == 0 else (1, 0):
                    run = (est.predict if side == 0
                           else partial(_plain_predict, module, device=device))
                    start = time.perf_counter()
                    for _ in range(reps):
                        run(Xq)
                    timings[key][side].append((time.perf_counter() - start) / reps)
        for key, (ours_p, plain_p) in timings.items():
            n = len(X_test) if key == "all" else 1
            row[f"predict_{key}_ratio"] = float(np.median(ours_p) / np.median(plain_p))
            row[f"predict_{key}_windows_per_s"] = n / float(np.median(ours_p))
        # every test window in batches of 2048 (is "auto" too small on a GPU?)
        default_batch = est.predict_batch_size
        est.set_params(predict_batch_size=2048)  # read by predict only: no refit
        seconds = []
        for _ in range(rounds + 2):
            start = time.perf_counter()
            est.predict(X_test)
            seconds.append(time.perf_counter() - start)
        est.set_params(predict_batch_size=default_batch)
        row["predict_all_2048_windows_per_s"] = len(X_test) / float(np.median(seconds))
        print(f"{name:14s} epoch {row['sklattn_epoch_s']:.3f} s, plain "
              f"{row['plain_epoch_s']:.3f} (x{row['ratio']:.3f}); bf16 "
              f"{row['bfloat16_epoch_s']:.3f}, fp16 {row['float16_epoch_s']:.3f}"
              + (f", compiled {row['compiled_epoch_s']:.3f} (first "
                 f"{row['compiled_first_epoch_s']:.1f})" if "compiled_epoch_s" in row else "")
              + f"; predict all x{row['predict_all_ratio']:.3f}, one "
              f"x{row['predict_one_ratio']:.3f}; win/s {row['predict_all_windows_per_s']:,.0f}"
              f" (2048 per batch: {row['predict_all_2048_windows_per_s']:,.0f})", flush=True)
        rows.append(row)
        _save([row])  # one at a time: a run cut short keeps what it measured
    return rows


def _latest(kind):
    """The latest row of each configuration of one kind."""
    if not RESULTS.exists():
        return []
    rows = {}
    for line in RESULTS.read_text().splitlines():
        row = json.loads(line)
        if row["kind"] == kind:
            key = tuple(row.get(k) for k in ("estimator", "windows", "layout", "n_jobs"))
            rows[key] = row
    return list(rows.values())


def _process_range(row, key):
    """" (low-high, N processes of R rounds)" for a row made in several processes,
    else ""."""
    if key not in row:
        return ""
    return (f" ({min(row[key]):.3f}-{max(row[key]):.3f}, {len(row[key])} processes of "
            f"{row['rounds']} rounds)")


def report():
    mb = 2**20
    lines = []
    train = _latest("train")
    if train:
        m = train[0]
        lines += [f"### Training: s/epoch beside a plain loop ({m['date']}, commit "
                  f"{m['commit']}, {m['cpus']} CPUs, {m['torch_threads']} torch threads, "
                  f"OMP_WAIT_POLICY={m['omp_wait_policy'] or 'unset'})", "",
                  f"ETTh1 M, lookback 96, horizon 96, {m['n_windows']} windows, "
                  f"{m['epochs']} epochs per fit, median of "
                  + (f"{m['rounds']} alternating rounds."
                     if len({r['rounds'] for r in train}) == 1 else
                     "alternating rounds (as many as each row says)."),
                  "Whole fit: `fit`'s time divided by the epochs. One epoch: the median "
                  "epoch (skorch's `EpochTimer`) beside the plain loop's median epoch. "
                  "Set-up: what `fit` does once (validation, net set-up, least-squares "
                  "start), seconds per fit. Plain start: the same least-squares start "
                  "written out in the plain loop, seconds per fit (counted in its whole "
                  "fit; rows without it are from before the plain loop made it). "
                  "Where a ratio is followed by a range, the row is the median of that many "
                  "fresh processes, each with its own alternating rounds, and the range is "
                  "theirs.",
                  "", "| estimator | sklattn s/epoch | plain loop s/epoch | ratio | "
                  "one epoch: sklattn / plain | ratio | set-up s | plain start s | commit |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['estimator']} | {r['sklattn_s_per_epoch']:.3f} | "
                  f"{r['plain_s_per_epoch']:.3f} | {r['ratio']:.3f}"
                  f"{_process_range(r, 'process_ratios')} | "
                  + (f"{r['sklattn_epoch_s']:.3f} / {r['plain_epoch_s']:.3f} | "
                     f"{r['epoch_ratio']:.3f}{_process_range(r, 'process_epoch_ratios')} | "
                     f"{r['sklattn_setup_s']:.3f} | "
                     if "epoch_ratio" in r else "| | | ")
                  + (f"{r['plain_start_s']:.3f} | " if "plain_start_s" in r else " | ")
                  + f"{r['commit']} |" for r in train]
        lines.append("")
    predict = _latest("predict")
    if predict:
        m = predict[0]
        lines += [f"### Predict: windows/s beside a plain inference loop ({m['date']}, commit "
                  f"{m['commit']}, {m['torch_threads']} torch threads)", "",
                  "ETTh1 test windows (lookback 96, horizon 96); the plain loop runs the "
                  "same module under `torch.inference_mode` in batches of 256. Ratio: "
                  "sklattn's time / the plain loop's. Page faults: the median minor page "
                  "faults of one call, sklattn / plain loop (where recorded). Where a ratio "
                  "is followed by a range, the row is the median of that many fresh "
                  "processes, and the range is theirs.", "",
                  "| estimator | windows | sklattn win/s | plain win/s | time ratio | "
                  "page faults | commit |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['estimator']} | {r['windows']} ({r['n_windows']}) | "
                  f"{r['sklattn_windows_per_s']:.0f} | {r['plain_windows_per_s']:.0f} | "
                  f"{r['ratio']:.3f}{_process_range(r, 'process_ratios')} | "
                  + (f"{r['sklattn_minor_faults']:.0f} / {r['plain_minor_faults']:.0f}"
                     if "plain_minor_faults" in r else "")
                  + f" | {r['commit']} |" for r in predict]
        lines.append("")
    attention = _latest("attention")
    if attention:
        m = attention[0]
        lines += [f"### attention_weights: batches by the weights' bytes ({m['date']}, commit "
                  f"{m['commit']}, {m['torch_threads']} torch threads)", "",
                  f"`TransformerForecaster` defaults, ETTh1 M, horizon 96, {m['n_windows']} "
                  "test windows; `predict_batch_size=\"auto\"` (the weight matrices of "
                  "the asked layer kept under 16 MB per batch) beside the batches `predict` "
                  "takes (what \"auto\" gave `attention_weights` before). Seconds: median of "
                  f"{m['rounds']} alternating rounds. Memory: peak resident memory added "
                  "by one call beyond its output (in the windows' dtype, float32 here).", "",
                  "| tokens-lookback | output MB | auto: windows | s | added MB | "
                  "predict's: windows | s | added MB | time ratio | commit |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['estimator']} | {r['output_bytes'] / mb:.0f} | {r['auto_batch']} | "
                  f"{r['auto_s']:.3f} | {r['auto_added_bytes'] / mb:.0f} | "
                  f"{r['predict_batch']} | {r['predict_s']:.3f} | "
                  f"{r['predict_added_bytes'] / mb:.0f} | {r['ratio']:.3f} | {r['commit']} |"
                  for r in attention]
        lines.append("")
    validate = _latest("validate")
    if validate:
        m = validate[0]
        lines += [f"### Validating windows ({m['date']}, commit {m['commit']})", "",
                  "`check_windows` (the finiteness of the memory span the windows view, read "
                  "once) beside `check_array(ensure_all_finite=True)`, which reads every value "
                  f"of every window. Milliseconds, median of {m['rounds']} alternating rounds.",
                  "", "| windows | n | values in the windows | check_windows ms | every value "
                  "ms | ratio | commit |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['estimator']} | {r['n_windows']} | {r['window_values']} | "
                  f"{1000 * r['sklattn_s']:.3f} | {1000 * r['every_value_s']:.3f} | "
                  f"{r['ratio']:.4f} | {r['commit']} |" for r in validate]
        lines.append("")
    dropout = _latest("attention-dropout")
    if dropout:
        m = dropout[0]
        lines += [f"### Training with dropout on the attention weights ({m['date']}, commit "
                  f"{m['commit']}, {m['torch_threads']} torch threads)", "",
                  f"`TransformerForecaster` defaults, ETTh1 M, horizon 96, {m['n_windows']} "
                  f"training windows, 2 epochs per fit; `attention_dropout={m['rate']}` (the "
                  "default of patch and variate tokens; before it was its own parameter, the "
                  "rate of every token type) beside 0 (the default of time-step tokens). "
                  f"Epoch: median over {m['rounds']} alternating rounds. "
                  "Memory: peak resident memory added by one fit.", "",
                  "| tokens-lookback | epoch s, 0 | added MB | epoch s, with | added MB | "
                  "epoch ratio | commit |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['estimator']} | {r['without_epoch_s']:.2f} | "
                  f"{r['without_added_bytes'] / mb:.0f} | {r['with_epoch_s']:.2f} | "
                  f"{r['with_added_bytes'] / mb:.0f} | {r['ratio']:.2f} | {r['commit']} |"
                  for r in dropout]
        lines.append("")
    memory = _latest("memory")
    if memory:
        m = memory[0]
        lines += [f"### Memory: peak resident memory added by fit and predict ({m['date']}, "
                  f"commit {m['commit']})", "",
                  f"A {m['n_steps']:,}-step x 7 series, lookback {m['lookback']}, horizon "
                  f"{m['horizon']}, `{m['estimator']}`, after a warm-up fit and predict on a "
                  "short series; fit stopped after 20 batches; "
                  "predict on a twentieth of the windows. One fresh process per layout.", "",
                  "| layout | series MB | windows materialised MB | fit added MB | "
                  "fit / series | predict added MB | predict output MB |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['layout']} | {r['series_bytes'] / mb:.0f} | "
                  f"{r['windows_bytes'] / mb:,.0f} | {r['fit_added_bytes'] / mb:.0f} | "
                  f"{r['fit_added_bytes'] / r['series_bytes']:.2f} | "
                  f"{r['predict_added_bytes'] / mb:.0f} | "
                  f"{r['predict_output_bytes'] / mb:.0f} |" for r in memory]
        lines.append("")
    gpu = _latest("gpu-train")
    if gpu:
        m = gpu[0]
        lines += [f"### GPU: {m['gpu']} ({m['date']}, commit {m['commit']}, torch "
                  f"{m['torch']})", "",
                  f"ETTh1 M, lookback 96, horizon 96, {m['n_windows']} windows, batch size "
                  f"of each estimator's default, median epoch of {m['rounds']} alternating "
                  "rounds beside a plain loop on the same GPU (pinned batches, "
                  "non-blocking copies, float32). Mixed precision and compiled: sklattn's "
                  "median epoch with `precision` or `compile=True` (epochs after the first, "
                  "which pays the compilation: its seconds in brackets). Predict: time "
                  "ratio to the plain loop on every test window and on one.", "",
                  "| estimator | float32 s/epoch | plain loop | ratio | bfloat16 | float16 "
                  "| compiled (first) | predict all | predict one | win/s (all) "
                  "| win/s, 2048 per batch |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['estimator']} | {r['sklattn_epoch_s']:.3f} | "
                  f"{r['plain_epoch_s']:.3f} | {r['ratio']:.3f} | "
                  f"{r['bfloat16_epoch_s']:.3f} | {r['float16_epoch_s']:.3f} | "
                  + (f"{r['compiled_epoch_s']:.3f} ({r['compiled_first_epoch_s']:.1f}) | "
                     if "compiled_epoch_s" in r
                     else "failed | " if "compile_error" in r else " | ")
                  + f"{r['predict_all_ratio']:.3f} | {r['predict_one_ratio']:.3f} | "
                  f"{r['predict_all_windows_per_s']:,.0f} | "
                  + (f"{r['predict_all_2048_windows_per_s']:,.0f} |"
                     if "predict_all_2048_windows_per_s" in r else " |") for r in gpu]
        lines.append("")
    search = _latest("search")
    if search:
        m = search[0]
        lines += [f"### GridSearchCV on 2 cores ({m['date']}, commit {m['commit']})", "",
                  f"LinearForecaster, 4 candidates x 2 folds, {m['n_windows']} windows, "
                  f"median of {m['rounds']} alternating rounds.", "",
                  "| n_jobs | seconds | / n_jobs=1 |", "|---|---|---|"]
        lines += [f"| {r['n_jobs']} | {r['seconds']:.2f} | {r['ratio_to_n_jobs_1']:.2f} |"
                  for r in search]
        lines.append("")
    return "\n".join(lines)


def write_report(results_md=HERE / "RESULTS.md"):
    start, end = "<!-- speed:begin -->", "<!-- speed:end -->"
    text = results_md.read_text()
    if start not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    results_md.write_text(f"{head}{start}\n{report()}\n{end}{tail}")
    print(f"wrote {results_md}")


def _save(rows):
    RESULTS.parent.mkdir(exist_ok=True)
    meta = _meta()
    with RESULTS.open("a") as f:
        for row in rows:
            f.write(json.dumps({**row, **meta}) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("--estimators", nargs="+", default=list(ESTIMATORS))
    train.add_argument("--rounds", type=int, default=5)
    train.add_argument("--epochs", type=int, default=2)
    train.add_argument("--n-windows", type=int, default=4000)
    one = sub.add_parser("_one")  # one estimator's train or predict rows, as JSON
    one.add_argument("what", choices=["train", "predict"])
    one.add_argument("estimator")
    one.add_argument("args", nargs="+", type=int)
    predict = sub.add_parser("predict")
    predict.add_argument("--estimators", nargs="+", default=list(ESTIMATORS))
    predict.add_argument("--rounds", type=int, default=7)
    predict.add_argument("--epochs", type=int, default=1)
    for parser_ in (train, predict):
        parser_.add_argument("--processes", type=int, default=1,
                             help="time each estimator in this many fresh processes and "
                                  "take the medians (each process's ratios kept)")
    attention = sub.add_parser("attention")
    attention.add_argument("--cases", nargs="+", default=ATTENTION_CASES,
                           help="TOKENS-LOOKBACK")
    attention.add_argument("--rounds", type=int, default=5)
    attention.add_argument("--n-windows", type=int, default=512)
    dropout = sub.add_parser("dropout")
    dropout.add_argument("--cases", nargs="+", default=ATTENTION_CASES[:4],
                         help="TOKENS-LOOKBACK")
    dropout.add_argument("--rounds", type=int, default=3)
    dropout.add_argument("--n-windows", type=int, default=640)
    memory = sub.add_parser("memory")
    memory.add_argument("--layouts", nargs="+", default=list(LAYOUTS))
    memory.add_argument("--n-steps", type=int, default=1_000_000)
    memory.add_argument("--lookback", type=int, default=512)
    memory.add_argument("--horizon", type=int, default=96)
    memory.add_argument("--estimator", default="linear", choices=list(ESTIMATORS))
    one = sub.add_parser("_memory_one")
    one.add_argument("layout")
    one.add_argument("n_steps", type=int)
    one.add_argument("lookback", type=int)
    one.add_argument("horizon", type=int)
    one.add_argument("estimator")
    gpu = sub.add_parser("gpu")
    gpu.add_argument("--estimators", nargs="+", default=list(ESTIMATORS))
    gpu.add_argument("--rounds", type=int, default=3)
    gpu.add_argument("--epochs", type=int, default=2)
    gpu.add_argument("--n-windows", type=int, default=4000)
    gpu.add_argument("--device", default="cuda")
    gpu.add_argument("--compile", nargs="*", default=["linear", "patch"],
                     help="estimators also timed with compile=True (CUDA only)")
    search = sub.add_parser("search")
    search.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    search.add_argument("--rounds", type=int, default=3)
    search.add_argument("--n-windows", type=int, default=3000)
    validate = sub.add_parser("validate")
    validate.add_argument("--rounds", type=int, default=11)
    validate.add_argument("--n-steps", type=int, default=200_000)
    sub.add_parser("report")
    args = parser.parse_args(argv)
    if args.command == "train" and args.processes > 1:
        _save(bench_in_processes("train", args.estimators, args.processes, args.rounds,
                                 args.epochs, args.n_windows))
    elif args.command == "train":
        _save(bench_train(args.estimators, args.rounds, args.epochs, args.n_windows))
    elif args.command == "predict" and args.processes > 1:
        _save(bench_in_processes("predict", args.estimators, args.processes, args.rounds,
                                 args.epochs))
    elif args.command == "predict":
        _save(bench_predict(args.estimators, args.rounds, args.epochs))
    elif args.command == "_one":
        bench = bench_train if args.what == "train" else bench_predict
        print(json.dumps(bench([args.estimator], *args.args)))
    elif args.command == "attention":
        _save(bench_attention(args.cases, args.rounds, args.n_windows))
    elif args.command == "dropout":
        _save(bench_dropout(args.cases, args.rounds, args.n_windows))
    elif args.command == "memory":
        _save(bench_memory(args.layouts, args.n_steps, args.lookback, args.horizon,
                           args.estimator))
    elif args.command == "gpu":
        bench_gpu(args.estimators, args.rounds, args.epochs, args.n_windows, args.device,
                  args.compile)
    elif args.command == "validate":
        _save(bench_validate(args.rounds, args.n_steps))
    elif args.command == "search":
        _save(bench_search(args.n_jobs, args.rounds, args.n_windows))
    elif args.command == "_memory_one":
        print(json.dumps(memory_one(args.layout, args.n_steps, args.lookback, args.horizon,
                                    args.estimator)))
    elif args.command == "report":
        write_report()


if __name__ == "__main__":
    main()
