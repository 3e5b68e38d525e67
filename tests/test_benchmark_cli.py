"""benchmarks/longterm.py end to end, on a tiny slice of ETTh1 (seconds)."""

import importlib.util
import json
import mmap
from pathlib import Path

import numpy as np
import pytest

from .conftest import DATA_HOME, needs_data

BENCHMARK_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_script(name="longterm"):
    """A fresh copy of ``benchmarks/NAME.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARK_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_data
def test_cli_runs_every_estimator_kind_and_reports(tmp_path, capsys):
    longterm = _load_script()
    out = tmp_path / "results.jsonl"
    models = ["naive", "linear", "rnn-additive", "rnn-recurrent", "patch", "variate",
              "timestep"]
    longterm.main(["--datasets", "ETTh1", "--features", "M", "MS", "--models", *models,
                   "--lookback", "24", "--horizons", "8", "--max-epochs", "1",
                   "--max-rows", "400", "--max-train-windows", "100",
                   "--data-home", str(DATA_HOME), "--out", str(out), "--random-state", "3"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 * len(models)
    assert all(r["random_state"] == 3 for r in rows)
    # a kept epoch 0 says which: the last value or the least-squares linear start
    assert all(r["epoch0"] in ("last value", "linear start")
               for r in rows if r.get("best_epoch") == 0)
    assert {(r["features"], r["model"]) for r in rows} == {
        (f, m) for f in ("M", "MS") for m in models}
    assert all(r["test_mse"] > 0 and r["n_test_windows"] > 0 for r in rows)
    assert all(r["train_subset"] for r in rows)
    progress = capsys.readouterr().err
    assert "[ETTh1 MS 8 patch] epoch 1" in progress
    table = longterm.report(longterm.load_results(out), longterm.load_published())
    assert "### ETTh1, features MS, lookback 24, horizon 8" in table
    assert "| rnn-recurrent |" in table and "trained on 100 windows only" in table
    assert all(r["n_train_windows"] == 100 for r in rows)
    assert all(r["early_stopping_holdout"] for r in rows if r["model"] != "naive")
    assert all(r["holdout_loss"] > 0 for r in rows if r["model"] != "naive")
    # epoch 0's candidates: the last value and (every model here fits one) the linear start
    for r in rows:
        if r["model"] != "naive":
            epoch0 = r["holdout_loss_epoch0"]
            assert set(epoch0) == {"last value", "linear start"}
            if r["best_epoch"] == 0:
                assert r["holdout_loss"] == min(epoch0.values())
                assert epoch0[r["epoch0"]] == r["holdout_loss"]  # the label names it
            else:
                assert r["holdout_loss"] < min(epoch0.values())
    # 90% conformal intervals of every model, calibrated on the hold-out
    for r in rows:
        for score in ("scaled", "absolute"):
            result = r[f"interval_{score}"]
            assert 0 < result["coverage"] <= 1 and result["width"] > 0
            assert len(result["step_coverage"]) == 8
            assert min(result["step_coverage"]) == round(result["min_step_coverage"], 4)
    # a row's own note (here: its fit time includes a pause) reaches the table
    noted = dict(rows[0], note="fit_seconds includes a pause")
    resumed = dict(rows[1], resumed_from_epoch=6, epoch_seconds=7365.7)
    assert ("resumed from a checkpoint after epoch 6; fit s is the last process's, every "
            "epoch's 7366 s") in longterm.report(
        {(resumed["dataset"], resumed["features"], resumed["horizon"], resumed["model"]):
         resumed}, longterm.load_published())
    assert "fit_seconds includes a pause" in longterm.report(
        {(noted["dataset"], noted["features"], noted["horizon"], noted["model"]): noted},
        longterm.load_published())
    intervals = longterm.interval_report(longterm.load_results(out))
    assert "### ETTh1, features MS, horizon 8: 90% intervals" in intervals
    assert "| naive |" in intervals and "| timestep |" in intervals


@needs_data
@pytest.mark.parametrize("model_name, best_epoch", [("linear", 1), ("rnn-none", 0)])
def test_a_row_records_the_holdout_loss_of_the_model_kept(model_name, best_epoch):
    # The criterion early stopping chose by, for a trained epoch and for epoch 0 (the
    # linear start): the fitted model's own loss on its hold-out windows.
    from sklattn.stopping import holdout_loss

    longterm = _load_script()
    fitted = longterm.fit_model("ETTh1", "M", model_name, 24, 8, 4, DATA_HOME,
                                max_train_windows=300, max_rows=800, random_state=3)
    model = fitted["model"]
    assert model.best_epoch_ == best_epoch
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    valid = model.net_.get_split_datasets(fitted["X_fit"], fitted["y_fit"])[1]
    assert longterm.kept_holdout_loss(model, stopper) == pytest.approx(
        holdout_loss(model.net_, valid), rel=1e-9)
    if best_epoch:  # not simply the lowest score seen: the one kept
        losses = list(model.net_.history[:, "valid_loss"])
        assert longterm.kept_holdout_loss(model, stopper) == losses[best_epoch - 1]


@needs_data
def test_a_checkpointed_run_continues_where_it_stopped(tmp_path, monkeypatch):
    # A run killed after its first epoch continues from its checkpoint and ends with the
    # row a run makes in one go.
    longterm = _load_script()
    common = ["--datasets", "ETTh1", "--features", "MS", "--models", "rnn-none",
              "--lookback", "24", "--horizons", "8", "--max-rows", "400",
              "--max-train-windows", "100", "--data-home", str(DATA_HOME),
              "--max-epochs", "3"]
    whole, parts = tmp_path / "whole.jsonl", tmp_path / "parts.jsonl"
    longterm.main([*common, "--out", str(whole)])

    class Killed(Exception):
        pass

    class KilledAfterOneEpoch(longterm.Progress):
        def on_epoch_end(self, net, **kwargs):  # after the epoch's checkpoint
            raise Killed

    checkpointed = [*common, "--out", str(parts), "--checkpoint-dir",
                    str(tmp_path / "checkpoints")]
    with monkeypatch.context() as patch:
        patch.setattr(longterm, "Progress", KilledAfterOneEpoch)
        with pytest.raises(Killed):
            longterm.main(checkpointed)
    assert not parts.exists()
    longterm.main(checkpointed)
    (expected,) = [json.loads(line) for line in whole.read_text().splitlines()]
    (resumed,) = [json.loads(line) for line in parts.read_text().splitlines()]
    assert resumed["resumed_from_epoch"] == 1 and resumed["epochs_run"] == 3
    assert resumed["epoch_seconds"] > 0
    assert resumed["test_mse"] == expected["test_mse"]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == [
        "ETTh1-MS-24-8-rnn-none-seed0-last100"]


@needs_data
def test_set_gives_non_default_hyperparameters_their_own_file(tmp_path):
    import pytest

    longterm = _load_script()
    out = tmp_path / "other.jsonl"
    common = ["--datasets", "ETTh1", "--features", "MS", "--models", "variate",
              "--lookback", "24", "--horizons", "8", "--max-epochs", "1", "--max-rows", "400",
              "--data-home", str(DATA_HOME)]
    longterm.main([*common, "--set", "attention_dropout=0.25", "d_model=8",
                   "--out", str(out)])
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["params"] == {"attention_dropout": 0.25, "d_model": 8}
    with pytest.raises(SystemExit):  # never into the defaults' table
        longterm.main([*common, "--set", "attention_dropout=0.25"])
    with pytest.raises(SystemExit):
        longterm.main([*common, "--set", "attention_dropout", "--out", str(out)])
    with pytest.raises(ValueError, match="attention_dropout"):  # checked by the estimator
        longterm.main([*common, "--set", "attention_dropout=2.0", "--out", str(out)])


def test_a_subset_holds_out_exactly_its_validation_windows():
    import math

    holdout_fraction = _load_script().holdout_fraction
    assert math.ceil(2000 / 5055 * 5055) == 2001  # what skipped early stopping at 720 steps
    for n_windows in range(4000, 6000, 7):
        for n_valid in (50, 1000, 2000):
            assert math.ceil(holdout_fraction(n_valid, n_windows, True) * n_windows) == n_valid
    assert holdout_fraction(2000, 5055, False) == 2000 / 5055


@needs_data
def test_holdout_has_its_minimum_when_the_validation_part_is_short(recwarn):
    # 250 rows: the validation part makes 43 windows of 24 + 8 steps, fewer than a
    # hold-out needs; the benchmark's hold-out reaches back for 50 and early stopping runs.
    longterm = _load_script()
    row = longterm.run("ETTh1", "MS", "linear", 24, 8, 2, DATA_HOME, max_rows=250)
    assert row["early_stopping_holdout"]
    assert row["n_train_windows"] == row["n_fit_windows"] - 50 - 24 - 8 + 1
    assert not [w for w in recwarn if "early stopping is skipped" in str(w.message)]


def test_published_figures_are_readable():
    published = _load_script().load_published()
    assert ("ETTh1", "M", 96) in published
    assert any(source.startswith("PatchTST/42") and mse == 0.375
               for source, mse, _ in published[("ETTh1", "M", 96)])


def _load_speed(tmp_path, monkeypatch):
    """benchmarks/speed.py, reading the benchmark data and writing under tmp_path."""
    speed = _load_script("speed")
    monkeypatch.setenv("SKLATTN_DATA_HOME", str(DATA_HOME))
    monkeypatch.setattr(speed, "RESULTS", tmp_path / "speed.jsonl")
    return speed


@needs_data
def test_speed_gpu_command_runs_on_the_cpu_and_reports(tmp_path, monkeypatch):
    # The GPU benchmark's code path, with device="cpu" (no compile: CUDA only).
    speed = _load_speed(tmp_path, monkeypatch)
    rows = speed.bench_gpu(["linear"], rounds=1, epochs=1, n_windows=200, device="cpu",
                           compile_names=[])
    (row,) = rows
    assert row["kind"] == "gpu-train" and row["gpu"] == "cpu" and row["n_windows"] == 200
    for key in ("sklattn_epoch_s", "plain_epoch_s", "bfloat16_epoch_s", "float16_epoch_s",
                "predict_all_ratio", "predict_one_ratio"):
        assert row[key] > 0
    assert "compiled_epoch_s" not in row
    saved = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert saved[0]["estimator"] == "linear" and "commit" in saved[0]
    assert saved[0]["predict_all_2048_windows_per_s"] > 0
    assert "### GPU: cpu" in speed.report() and "| linear |" in speed.report()


@needs_data
def test_speed_train_plain_loop_makes_the_same_least_squares_start(tmp_path, monkeypatch):
    # The plain loop's hand-made start gives the map sklattn's fit starts from (the
    # RNN's skip stays frozen at it), and freezes it as sklattn does.
    import copy

    import torch

    from sklattn import AttentionRNNRegressor
    from sklattn.neural import linear_skip_of

    speed = _load_speed(tmp_path, monkeypatch)
    X, y, _, _ = speed._etth1()
    X, y = X[:300], y[:300]
    est = AttentionRNNRegressor(max_epochs=1, early_stopping=False, hidden_size=8,
                                random_state=0).fit(X, y)
    fitted = linear_skip_of(est.net_.module_).remainder
    module = copy.deepcopy(est.net_.module_)
    with torch.no_grad():
        linear_skip_of(module).remainder.weight.zero_()
    speed._plain_least_squares_start(module, speed._Dataset(X, y.reshape(len(y), -1)),
                                     speed._least_squares_start_of(est), "cpu")
    plain = linear_skip_of(module).remainder
    np.testing.assert_allclose(plain.weight.detach(), fitted.weight.detach(), atol=1e-6)
    np.testing.assert_allclose(plain.bias.detach(), fitted.bias.detach(), atol=1e-6)
    assert not plain.weight.requires_grad


@needs_data
def test_speed_train_command_times_both_sides_with_the_start(tmp_path, monkeypatch):
    speed = _load_speed(tmp_path, monkeypatch)
    starts = []
    written_out = speed._plain_least_squares_start

    def recording(module, data, start, device):
        starts.append(start)
        return written_out(module, data, start, device)

    monkeypatch.setattr(speed, "_plain_least_squares_start", recording)
    speed.main(["train", "--estimators", "linear", "variate", "--rounds", "1",
                "--epochs", "1", "--n-windows", "200"])
    rows = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert [r["estimator"] for r in rows] == ["linear", "variate"]
    for row in rows:
        assert row["sklattn_s_per_epoch"] > 0 and row["plain_s_per_epoch"] > 0
        assert row["plain_start_s"] > 0
    # the plain loop started both from the least squares: the linear map itself (trained
    # on), the variate Transformer's skip (frozen)
    assert [start.freeze for start in starts] == [False, True]
    report = speed.report()
    assert "plain start s" in report and "| linear |" in report


@needs_data
def test_speed_predict_command_times_both_sides_and_counts_page_faults(tmp_path, monkeypatch):
    speed = _load_speed(tmp_path, monkeypatch)
    speed.main(["predict", "--estimators", "linear", "--rounds", "1"])
    rows = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["windows"], r["n_windows"]) for r in rows] == [
        ("predict", "all", 2785), ("predict", "one", 1)]
    for row in rows:
        assert row["sklattn_windows_per_s"] > 0 and row["plain_windows_per_s"] > 0
        assert row["sklattn_minor_faults"] >= 0 and row["plain_minor_faults"] >= 0
    # the faults counter counts: touching the pages of a fresh anonymous mapping adds to
    # it (a numpy array may reuse heap pages malloc already holds and fault nothing)
    before = speed._minor_faults()
    with mmap.mmap(-1, 2**24) as fresh:
        np.frombuffer(fresh, dtype=np.uint8)[::4096] = 1
    assert speed._minor_faults() > before
    report = speed.report()
    assert "### Predict" in report and "| linear | all (2785) |" in report


@needs_data
def test_speed_attention_command_compares_the_batches_and_reports(tmp_path, monkeypatch):
    speed = _load_speed(tmp_path, monkeypatch)
    speed.main(["attention", "--cases", "timestep-96", "--rounds", "1", "--n-windows", "40"])
    (row,) = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert row["kind"] == "attention" and row["estimator"] == "timestep-96"
    # 16 MB of one layer's 4 heads x 96 x 96 float32 weights per batch; predict's: the
    # windows that make 16384 token rows
    assert (row["auto_batch"], row["predict_batch"]) == (113, 16384 // 96)
    assert row["auto_s"] > 0 and row["predict_s"] > 0
    # float32 windows give float32 weights
    assert row["output_bytes"] == 40 * 96 * 96 * 4 and "commit" in row
    report = speed.report()
    assert "### attention_weights" in report and "| timestep-96 | 1 | 113 |" in report


@needs_data
def test_speed_validate_command_times_both_checks_and_reports(tmp_path, monkeypatch):
    speed = _load_speed(tmp_path, monkeypatch)
    speed.main(["validate", "--rounds", "1", "--n-steps", "2000"])
    rows = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert [r["estimator"] for r in rows] == ["etth1-test-96", "random-2000-512"]
    assert rows[0]["window_values"] == rows[0]["n_windows"] * 96 * 7
    assert all(r["sklattn_s"] > 0 and r["every_value_s"] > 0 and "commit" in r for r in rows)
    report = speed.report()
    assert "### Validating windows" in report and "| random-2000-512 | 1393 |" in report


@needs_data
def test_speed_dropout_command_times_both_rates_and_reports(tmp_path, monkeypatch):
    speed = _load_speed(tmp_path, monkeypatch)
    speed.main(["dropout", "--cases", "variate-96", "--rounds", "1", "--n-windows", "60"])
    (row,) = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert row["kind"] == "attention-dropout" and row["estimator"] == "variate-96"
    assert row["rate"] == 0.2 and row["with_epoch_s"] > 0 and row["without_epoch_s"] > 0
    assert "### Training with dropout" in speed.report() and "| variate-96 |" in speed.report()


def test_rows_run_on_a_gpu_say_so_in_the_tables():
    longterm = _load_script()
    row = {"dataset": "ETTh1", "features": "M", "model": "linear", "lookback": 336,
           "horizon": 96, "test_mse": 0.4, "test_mae": 0.4, "train_subset": False,
           "fit_seconds": 1.0, "meta": {"commit": "abc1234", "cuda": True}}
    table = longterm.report({("ETTh1", "M", 96, "linear"): row}, {})
    assert "| linear | 0.4000 |" in table and "| GPU |" in table
    cpu = {**row, "meta": {"commit": "abc1234", "cuda": False}}
    assert "GPU" not in longterm.report({("ETTh1", "M", 96, "linear"): cpu}, {})


def test_missing_lists_absent_and_subset_runs_largest_first():
    longterm = _load_script()
    row = {"train_subset": False}
    results = {(d, f, longterm.default_lookback_horizons(d)[1][0], "linear"): row
               for d in longterm.BENCHMARKS for f in ("M", "MS")}
    results[("ETTh1", "MS", 96, "linear")] = {"train_subset": True}
    del results[("weather", "M", 96, "linear")]
    lines = longterm.missing(results, models=["linear"])
    # each at the table's max_epochs (last: it wins over any the caller puts first)
    assert lines[:2] == [
        "--datasets weather --features M --models linear --horizons 96 --max-epochs 10",
        "--datasets ETTh1 --features MS --models linear --horizons 96 --max-epochs 10"]
    assert ("--datasets national_illness --features M --models linear --horizons 36 "
            "--max-epochs 50") in lines
    assert not any("horizons 24" in line for line in lines)  # ILI's first horizon is there
    assert len(lines) == 2 + 3 * 2 * len(longterm.BENCHMARKS)


def test_missing_lists_rows_made_before_their_models_defaults(monkeypatch):
    longterm = _load_script()
    monkeypatch.setitem(longterm.DEFAULTS_SINCE, "linear", "new0000")
    monkeypatch.setattr(longterm, "made_before",
                        lambda commit, since: (commit, since) == ("old0000", "new0000"))
    results = {(d, f, longterm.default_lookback_horizons(d)[1][0], "linear"):
               {"train_subset": False, "meta": {"commit": "new0000"}}
               for d in longterm.BENCHMARKS for f in ("M", "MS")}
    results[("ETTm1", "M", 96, "linear")]["meta"]["commit"] = "old0000"
    lines = longterm.missing(results, models=["linear"])
    assert lines[0] == ("--datasets ETTm1 --features M --models linear --horizons 96 "
                        "--max-epochs 10")
    assert len(lines) == 1 + 3 * 2 * len(longterm.BENCHMARKS)


def test_rows_that_kept_a_trained_epoch_before_shrinking_became_the_default_are_missing(
        monkeypatch):
    longterm = _load_script()
    monkeypatch.setitem(longterm.SHRINK_SINCE, "rnn-dot", "new0000")
    monkeypatch.setattr(longterm, "made_before",
                        lambda commit, since: (commit, since) == ("old0000", "new0000"))
    results = {(d, f, longterm.default_lookback_horizons(d)[1][0], "rnn-dot"):
               {"train_subset": False, "best_epoch": 0, "meta": {"commit": "old0000"}}
               for d in longterm.BENCHMARKS for f in ("M", "MS")}
    # epoch 0 kept: shrinking would not have changed it; a trained epoch kept: it would
    results[("ETTh2", "MS", 96, "rnn-dot")]["best_epoch"] = 4
    results[("ETTh1", "M", 96, "rnn-dot")].update(best_epoch=3, meta={"commit": "new0000"})
    lines = longterm.missing(results, models=["rnn-dot"])
    assert lines[0] == ("--datasets ETTh2 --features MS --models rnn-dot --horizons 96 "
                        "--max-epochs 10")
    assert len(lines) == 1 + 3 * 2 * len(longterm.BENCHMARKS)


def test_report_marks_rows_made_before_their_models_defaults(monkeypatch):
    longterm = _load_script()
    monkeypatch.setitem(longterm.SHRINK_SINCE, "patch", "new0000")
    monkeypatch.setattr(longterm, "made_before",
                        lambda commit, since: (commit, since) == ("old0000", "new0000"))
    row = {"dataset": "ETTh1", "features": "M", "horizon": 96, "lookback": 336,
           "test_mse": 0.4, "test_mae": 0.4, "train_subset": False, "fit_seconds": 1.0,
           "epochs_run": 6, "best_epoch": 1, "max_epochs": 10}
    results = {("ETTh1", "M", 96, model): dict(row, model=model, meta={"commit": commit})
               for model, commit in (("patch", "old0000"), ("variate", "old0000"))}
    lines = [line for line in longterm.report(results, published={}).splitlines()
             if line.startswith("| patch") or line.startswith("| variate")]
    assert "current defaults" in lines[0] and "current defaults" not in lines[1]


def test_bars_report_judges_each_setting_against_the_bars(monkeypatch):
    longterm = _load_script()
    monkeypatch.setitem(longterm.SHRINK_SINCE, "variate", "new0000")
    monkeypatch.setattr(longterm, "made_before",
                        lambda commit, since: (commit, since) == ("old0000", "new0000"))

    def row(dataset, model, mse, best_epoch=1, commit="new0000", features="M"):
        horizon = longterm.default_lookback_horizons(dataset)[1][0]
        return (dataset, features, horizon, model), {
            "dataset": dataset, "features": features, "horizon": horizon, "model": model,
            "lookback": 336, "test_mse": mse, "train_subset": False,
            "best_epoch": best_epoch, "random_state": 0, "meta": {"commit": commit}}

    mse = {"naive": 2.0, "linear": 1.0, "rnn-none": 1.05, "rnn-dot": 0.99,
           "rnn-general": 1.2, "rnn-additive": 1.0, "rnn-recurrent": 1.0, "patch": 0.98,
           "variate": 0.97}
    results = dict(row("ETTh1", m, v) for m, v in mse.items())
    # variate is best but predates its defaults; patch is PatchTST's 0.96 plus 2.1%
    results.update([row("ETTh1", "variate", 0.97, commit="old0000")])
    # exchange_rate: 5% above the last value is within its bar; the best attention model
    # kept epoch 0 (its linear start), which beats nothing
    results.update([row("exchange_rate", "naive", 1.0), row("exchange_rate", "linear", 1.05),
                    row("exchange_rate", "rnn-dot", 1.0499, best_epoch=0)])
    results.update([row("ETTh2", "naive", 1.0)])  # no linear baseline: no row
    published = {("ETTh1", "M", 96): [("PatchTST/64 (paper)", 0.96, 0.5),
                                      ("PatchTST/42 (paper)", 0.97, 0.5),
                                      ("DLinear (paper)", 0.90, 0.5)]}
    # the seed table's seeds: those every one of its models has
    seeds = {("ETTh1", "M", m): {0: mse[m], 1: mse[m]} for m in longterm.SEED_ROWS_SINCE}
    lines = longterm.bars_report(results, published, seeds).splitlines()
    assert len(lines) == 4
    assert all(len(line.split("|")) == len(lines[0].split("|")) for line in lines)
    assert lines[2] == ("| ETTh1 | M | 0.600 (rnn-general) yes | 1.200 (rnn-general) no | "
                        "0.9700 (variate) yes | 1.021 no | 0.9429 (rnn-dot; 2) yes | 1 |")
    assert lines[3] == ("| exchange_rate | M | 1.050 (linear) yes | 1.000 (linear) yes | "
                        "0.9999 (rnn-dot) epoch 0 |  |  | 0 |")
    assert longterm._verdict(1.00005) == "tie" and longterm._verdict(0.9998) == "yes"
    assert longterm._verdict(1.10, 1.10, strict=False) == "yes"
    assert longterm._verdict(1.10, 1.10) == "no"


def test_made_before_asks_git_about_ancestry():
    import subprocess

    import pytest

    known = subprocess.run(["git", "cat-file", "-e", "a47cca6^{commit}"], cwd=BENCHMARK_DIR,
                           capture_output=True).returncode == 0
    if not known:
        pytest.skip("this checkout's git history does not reach a47cca6 (a shallow clone)")
    made_before = _load_script().made_before
    assert made_before("a47cca6", "b99c13f")  # an older commit of this repository
    assert not made_before("b99c13f", "b99c13f") and not made_before("", "b99c13f")
    assert not made_before("b99c13f", "a47cca6")
    assert not made_before("0000000", "b99c13f")  # unknown to git


def test_a_commit_given_in_the_environment_wins_over_git(monkeypatch):
    # a copy of the tree on a device machine carries the git of an older commit
    longterm = _load_script()
    monkeypatch.setenv("SKLATTN_BENCHMARK_COMMIT", "abc1234")
    assert longterm._meta()["commit"] == "abc1234"
    monkeypatch.delenv("SKLATTN_BENCHMARK_COMMIT")
    assert longterm._meta()["commit"] not in ("", "abc1234")  # this checkout's git


@needs_data
def test_gated_context_experiment_runs_each_variant_and_restores_the_module(tmp_path,
                                                                           monkeypatch):
    from sklattn.nn.rnn import AttentionRNN

    script = _load_script("gated_context")
    monkeypatch.setenv("SKLATTN_DATA_HOME", str(DATA_HOME))
    original = AttentionRNN.__init__, AttentionRNN.forward
    out = tmp_path / "gated.jsonl"
    script.main(["--seeds", "1", "--max-epochs", "1", "--models", "rnn-dot", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["variant"], r["model"]) for r in rows] == [
        ("plain", "rnn-none"), ("current", "rnn-dot"), ("gated", "rnn-dot"),
        ("sum", "rnn-dot"), ("gated-zero", "rnn-dot")]
    assert all(len(r["test_mse"]) == 1 and r["test_mse"][0] > 0 for r in rows)
    assert (AttentionRNN.__init__, AttentionRNN.forward) == original
    # the patch is in force inside the block: the summed head has the plain RNN's size
    with script.head_variant("sum"):
        assert AttentionRNN(3, 4, attention="dot").head.in_features == 64
    assert AttentionRNN(3, 4, attention="dot").head.in_features == 128


def test_seed_report_compares_attention_with_the_plain_rnn_over_seeds(tmp_path, monkeypatch):
    longterm = _load_script()
    monkeypatch.setattr(longterm, "made_before", lambda commit, since: commit == "old0000")

    def row(model, seed, mse, dataset="ETTh1", **extra):
        return {"dataset": dataset, "features": "M", "model": model, "lookback": 336,
                "horizon": 96, "test_mse": mse, "train_subset": False, "random_state": seed,
                "meta": {"commit": "new0000"}, **extra}

    mse = {"linear": [1.0, 1.0, 1.0], "rnn-none": [1.0, 0.7, 1.0],
           "rnn-dot": [1.2, 1.2, 1.2], "rnn-general": [1.1, 1.1, 1.1],
           "rnn-additive": [1.0, 0.9, 0.9], "rnn-recurrent": [1.05, 1.05, 1.05]}
    table = {("ETTh1", "M", 96, m): row(m, 0, v[0]) for m, v in mse.items()}
    table[("ETTh2", "M", 96, "rnn-none")] = row("rnn-none", 0, 1.0, dataset="ETTh2")
    lines = [row(m, s, v[s]) for m, v in mse.items() for s in (1, 2)]
    # none of these may count: older code, another hyperparameter, a subset, another horizon
    lines += [row(m, 1, 5.0, meta={"commit": "old0000"}) for m in mse]
    lines += [row(m, 3, 5.0, params={"lr": 0.1}) for m in mse]
    lines += [row(m, 4, 5.0, train_subset=True) for m in mse]
    lines += [{**row(m, 5, 5.0), "horizon": 192} for m in mse]
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    seeds = longterm.load_seed_results(path, table=table)
    assert seeds[("ETTh1", "M", "rnn-additive")] == {0: 1.0, 1: 0.9, 2: 0.9}
    report = longterm.seed_report(seeds).splitlines()
    # additive is best on average; against the plain RNN it ties seed 0 (both 1.0), loses
    # seed 1 and wins seed 2; ETTh2 lacks models, so it has no row
    assert report[2:] == ["| ETTh1 | M | 3 (0-2) | 0.900 | 1.200 | 1.100 | 0.933 | 1.050 | "
                          "rnn-additive | 1.0370 | 1, 1, 1 | n/a |"]
    assert len(report[0].split("|")) == len(report[1].split("|")) == len(report[2].split("|"))
    # the hold-out column: the same two models by the loss early stopping chose by, over
    # the seeds whose rows recorded it (seed 0's table row did not)
    loss = {"rnn-none": [None, 0.5, 0.4], "rnn-additive": [None, 0.4, 0.5]}
    lines += [row(m, s, mse[m][s], holdout_loss=v[s]) for m, v in loss.items() for s in (1, 2)]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    holdout = longterm.load_seed_results(path, table=table, value="holdout_loss")
    assert holdout[("ETTh1", "M", "rnn-additive")] == {1: 0.4, 2: 0.5}
    assert "rnn-dot" not in {key[2] for key in holdout}
    report = longterm.seed_report(longterm.load_seed_results(path, table=table),
                                  holdout).splitlines()
    assert report[2].endswith("| 1.0000; 1, 0, 1 (2 seeds) |")
    # a later row without it replaces an earlier row's
    lines.append(row("rnn-none", 2, 0.7))
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    holdout = longterm.load_seed_results(path, table=table, value="holdout_loss")
    assert holdout[("ETTh1", "M", "rnn-none")] == {1: 0.5}
    assert longterm.seed_report(longterm.load_seed_results(path, table=table), holdout
                                ).splitlines()[2].endswith("| 0.8000; 1, 0, 0 (1 seeds) |")
    lacking = longterm.missing_seeds(seeds, n_seeds=4)
    assert lacking[0] == ("--datasets ETTh1 --features M --models linear rnn-none rnn-dot "
                          "rnn-general rnn-additive rnn-recurrent --max-epochs 10 "
                          "--random-state 3 --out benchmarks/results/longterm-seeds.jsonl")
    assert ("--datasets national_illness --features MS --models linear rnn-none rnn-dot "
            "rnn-general rnn-additive rnn-recurrent --max-epochs 50 --random-state 1 --out "
            "benchmarks/results/longterm-seeds.jsonl") in lacking
    assert len(lacking) == 2 * len(longterm.BENCHMARKS) * 3 - 2  # ETTh1 M has seeds 1, 2

    for name in ("report", "interval_report", "seed_report", "bars_report"):
        monkeypatch.setattr(longterm, name, lambda name=name, **_: f"({name})")
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("intro\n<!-- seeds:begin -->\nold\n<!-- seeds:end -->\nafter\n")
    longterm.write_report(results_md)
    text = results_md.read_text()
    assert "<!-- seeds:begin -->\n(seed_report)\n<!-- seeds:end -->\nafter" in text
    assert "(report)" in text and "(interval_report)" in text and "old" not in text
    assert "<!-- bars:begin -->\n(bars_report)\n<!-- bars:end -->" in text


@needs_data
def test_ridge_experiment_scores_the_start_on_the_holdout_as_its_predictions_do(tmp_path,
                                                                               monkeypatch):
    script = _load_script("ridge_holdout")
    from sklattn import warmstart

    monkeypatch.setenv("SKLATTN_DATA_HOME", str(DATA_HOME))
    original = warmstart.LeastSquaresStart.on_train_begin
    out = tmp_path / "ridge.jsonl"
    script.main(["ETTh1:M", "--lookback", "24", "--horizon", "8", "--max-rows", "400",
                 "--ridges", "1e-3", "10", "--out", str(out)])
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["ridges"] == [1e-3, 10] and len(row["test_mse"]) == 2
    assert row["holdout_choice"] == row["ridges"][int(np.argmin(row["holdout_loss"]))]
    assert warmstart.LeastSquaresStart.on_train_begin is original
    with script.start_ridge(0.5):
        assert warmstart.LeastSquaresStart(None).ridge == 0.5
    assert warmstart.LeastSquaresStart(None).ridge == 1e-3
    (trained,) = script.train_models("ETTh1", "MS", ["rnn-none"], [0.5], 1, DATA_HOME,
                                     max_rows=400, lookback=24, horizon=8, epochs=1)
    assert trained["ridge"] == 0.5 and len(trained["test_mse"]) == 1
    assert trained["mean"] == trained["test_mse"][0] > 0
    # the hold-out loss from the normal equations is the start's own squared error on the
    # hold-out windows (the last ones), ridge by ridge
    fitted, store = script.fit_start("ETTh1", "M", 24, 8, DATA_HOME, max_rows=400)
    model, X, y = fitted["model"], fitted["X_fit"], fitted["y_fit"]
    n_holdout = store["holdout"][0].n_rows // X.shape[2]  # a row per window and feature
    for ridge in (1e-3, 10.0):
        store["linear"].set_map(*store["train"].solve(ridge))
        direct = np.mean((model.predict(X[-n_holdout:]) - y[-n_holdout:]) ** 2)
        assert script.holdout_loss(store["train"], store["holdout"], ridge) == \
            pytest.approx(direct, rel=1e-4)


def test_rolling_calibration_uses_only_windows_whose_targets_have_passed():
    script = _load_script("rolling_calibration")

    class Recorder:  # calibrate / predict_interval as the estimators have them
        def __init__(self):
            self.calls = []

        def calibrate(self, X, y):
            self.calls.append(X[:, 0, 0].copy())

        def predict_interval(self, X, coverage, score):
            return X[:, :3, :1] - 1, X[:, :3, :1] + 1

    # window i's values are i (hold-out windows negative): which ones calibrated is visible
    horizon, every, n_cal = 3, 4, 5
    X_past = -np.arange(7, 0, -1.0)[:, None, None] * np.ones((1, 6, 1))
    X_test = np.arange(12.0)[:, None, None] * np.ones((1, 6, 1))
    y_past, y_test = X_past[:, :horizon], X_test[:, :horizon]
    model = Recorder()
    lower, upper = script.rolling_intervals(model, X_past, y_past, X_test, y_test, every,
                                            n_cal)
    assert lower.shape == upper.shape == y_test.shape
    assert [list(c) for c in model.calls] == [
        [-5, -4, -3, -2, -1],  # block 0-3: no test window has all its targets yet
        [-3, -2, -1, 0, 1],    # block 4-7: windows 0 and 1 (targets end before step 4's)
        [1, 2, 3, 4, 5]]       # block 8-11: windows up to 8 - horizon
    for start, calibrated in zip(range(0, 12, every), model.calls):
        test_windows = calibrated[calibrated >= 0]
        assert len(calibrated) == n_cal and np.all(test_windows <= start - horizon)


@needs_data
def test_rolling_calibration_runs_end_to_end(tmp_path, monkeypatch):
    script = _load_script("rolling_calibration")
    monkeypatch.setenv("SKLATTN_DATA_HOME", str(DATA_HOME))
    out = tmp_path / "rolling.jsonl"
    script.main(["--datasets", "ETTh1", "--features", "MS", "--models", "linear",
                 "--lookback", "24", "--horizon", "8", "--max-rows", "800",
                 "--max-epochs", "1", "--every", "40", "--out", str(out)])
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    for way in ("static", "rolling"):
        for score in ("scaled", "absolute"):
            result = row[f"{way}_{score}"]
            assert 0 < result["min_step_coverage"] <= result["coverage"] <= 1
            assert result["width"] > 0
    assert "| ETTh1 | MS | 8 | linear |" in script.report(out)
    monkeypatch.setattr(script, "OUT", out)
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("before\n<!-- rolling:begin -->\nold\n<!-- rolling:end -->\n")
    monkeypatch.setattr(script, "RESULTS_MD", results_md)
    script.main(["report"])
    text = results_md.read_text()
    assert "| ETTh1 | MS | 8 | linear |" in text and "old" not in text and "before" in text


@needs_data
def test_speed_train_in_several_processes_takes_the_median_ratio(tmp_path, monkeypatch):
    speed = _load_speed(tmp_path, monkeypatch)
    speed.main(["train", "--estimators", "linear", "--rounds", "1", "--epochs", "1",
                "--n-windows", "200", "--processes", "3"])
    (row,) = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert row["processes"] == 3 and len(row["process_ratios"]) == 3
    assert row["ratio"] == sorted(row["process_ratios"])[1]
    assert row["epoch_ratio"] == sorted(row["process_epoch_ratios"])[1]
    assert row["plain_start_s"] > 0 and "commit" in row
    low, high = min(row["process_ratios"]), max(row["process_ratios"])
    assert f"{row['ratio']:.3f} ({low:.3f}-{high:.3f}, 3 processes of 1 rounds)" in \
        speed.report()


def test_rows_of_several_processes_are_their_medians_with_every_ratio_kept():
    speed = _load_script("speed")
    runs = [[{"estimator": "patch", "windows": w, "ratio": r, "sklattn_windows_per_s": s}
             for w, r, s in zip(("all", "one"), ratios, speeds)]
            for ratios, speeds in [((0.9, 1.2), (10, 1)), ((1.1, 1.4), (30, 3)),
                                   ((1.0, 1.3), (20, 2))]]
    all_windows, one = speed._median_over_processes(runs, ("ratio", "sklattn_windows_per_s"))
    assert all_windows["windows"] == "all" and one["windows"] == "one"
    assert (all_windows["ratio"], one["ratio"]) == (1.0, 1.3)
    assert all_windows["process_ratios"] == [0.9, 1.1, 1.0] and one["processes"] == 3
    assert one["sklattn_windows_per_s"] == 2 and "process_epoch_ratios" not in one


@needs_data
def test_paired_holdout_experiment_compares_the_kept_epoch_with_its_start(tmp_path):
    script = _load_script("paired_holdout")
    out = tmp_path / "paired.jsonl"
    script.main(["ETTh1:M", "--seeds", "3", "--first-seed", "1", "--models", "rnn-additive",
                 "--data-home",
                 str(DATA_HOME), "--max-rows", "800", "--max-train-windows", "300",
                 "--max-epochs", "4", "--lookback", "24", "--horizon", "8",
                 "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["random_state"] for r in rows] == [1, 2, 3]
    trained = [r for r in rows if r["best_epoch"] > 0]
    assert trained  # on this slice seed 3 keeps a trained epoch (epoch 4)
    longterm = _load_script()
    r = trained[0]  # refit it: its window means are the hold-out losses early stopping
    # saw, the kept epoch's and the linear start's (a trained epoch replaced it: lower)
    fitted = longterm.fit_model("ETTh1", "M", "rnn-additive", 24, 8, 4, DATA_HOME,
                                max_train_windows=300, max_rows=800,
                                random_state=r["random_state"])
    stopper = dict(fitted["model"].net_.callbacks_)["early_stopping"]
    assert r["holdout_kept"] == pytest.approx(
        longterm.kept_holdout_loss(fitted["model"], stopper), rel=1e-6)
    assert r["holdout_start"] == pytest.approx(stopper.start_score_, rel=1e-6)
    assert r["holdout_gain"] < 0 and r["n_blocks"] >= 2
    assert r["test_gain"] == pytest.approx(r["test_kept"] / r["test_start"] - 1)


def test_paired_holdout_z_uses_whole_blocks_of_the_latest_values():
    block_z = _load_script("paired_holdout").block_z
    diff = np.array([100.0, 1.0, 3.0, 2.0, 4.0])  # the oldest value fills no block
    z, n_blocks = block_z(diff, 2)
    blocks = np.array([2.0, 3.0])
    assert n_blocks == 2
    assert z == pytest.approx(diff.mean() / (blocks.std(ddof=1) / np.sqrt(2)))


def test_shrunk_head_factor_is_the_clipped_least_squares_step():
    shrink_factor = _load_script("shrunk_head").shrink_factor
    anchor, trained = np.zeros((3, 2)), np.ones((3, 2))
    assert shrink_factor(anchor, trained, np.full((3, 2), 0.25)) == pytest.approx(0.25)
    assert shrink_factor(anchor, trained, np.full((3, 2), 2.0)) == 1.0  # clipped
    assert shrink_factor(anchor, trained, np.full((3, 2), -1.0)) == 0.0
    assert shrink_factor(anchor, anchor, trained) == 0.0  # no step: epoch 0


def test_shrunk_head_summary_counts_and_averages_each_setting():
    summarize = _load_script("shrunk_head").summarize
    row = {"dataset": "ETTh2", "features": "M", "horizon": 96, "test_linear_baseline": 2.0,
           "best_epoch_kept": 3}
    rows = [dict(row, model="rnn-dot", random_state=0, test_kept=2.0, test_shrunk=1.0,
                 alpha=0.5),
            dict(row, model="rnn-dot", random_state=1, test_kept=2.0, test_shrunk=4.0,
                 alpha=0.1, best_epoch_kept=0),
            dict(row, model="variate", random_state=0, test_kept=1.0, test_shrunk=1.0,
                 alpha=1.0),
            dict(row, dataset="ETTh1", model="linear", random_state=0, test_kept=2.0,
                 test_shrunk=2.0, alpha=0.0, best_epoch_kept=0)]
    lines = summarize(rows).splitlines()[2:]
    assert lines[0] == ('| ETTh1 "M" | 96 | linear | 1 (seeds 0-0) | 0 | 0 / 0 / 1 | 1.0000 | '
                        '1.0000 | 1.0000 | 0.00 |')
    # networks: kept 1, 1, 0.5, shrunk 0.5, 2, 0.5 and, where a trained epoch was kept,
    # 0.5, 1 (epoch 0 kept: as kept), 0.5 of the linear baseline
    third = 0.5 ** (1 / 3)
    assert lines[1] == ('| ETTh2 "M" | 96 | networks | 3 (seeds 0-1) | 2 | 1 / 1 / 1 | '
                        f"{third:.4f} | {third:.4f} | {0.25 ** (1 / 3):.4f} | 0.50 |")
    # another horizon is another line, and patch tokens are a group of their own
    lines = summarize(rows + [dict(rows[0], horizon=192), dict(rows[0], model="patch")])
    assert [line.split(" | ")[1:3] for line in lines.splitlines()[2:]] == [
        ["96", "linear"], ["96", "networks"], ["96", "patch"], ["192", "networks"]]


@needs_data
def test_shrunk_head_experiment_scores_epoch_0_the_kept_and_the_shrunk_forecast(tmp_path):
    script = _load_script("shrunk_head")
    out = tmp_path / "shrunk.jsonl"
    script.main(["ETTh1:M", "--seeds", "2", "--models", "rnn-additive", "variate",
                 "--data-home", str(DATA_HOME), "--max-rows", "800",
                 "--max-epochs", "3", "--lookback", "24", "--horizon", "8",
                 "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4
    for r in rows:
        assert 0.0 <= r["alpha"] <= 1.0
        # the hold-out losses are the ones early stopping recorded
        assert r["holdout_best_trained"] == pytest.approx(r["valid_loss_best_trained"],
                                                          rel=1e-5)
        # the least-squares factor can only lower the hold-out loss of both ends
        assert r["holdout_shrunk"] <= min(r["holdout_epoch0"],
                                          r["holdout_best_trained"]) * (1 + 1e-9)
        kept = r["test_epoch0"] if r["best_epoch_kept"] == 0 else r["test_best_trained"]
        assert r["test_kept"] == pytest.approx(kept, rel=1e-9)
        if r["best_epoch_kept"] > 0:
            assert r["best_trained_epoch"] == r["best_epoch_kept"]
    # on this slice: a blend (seed 1's RNN), and each end (epoch 0: seed 0's variate)
    assert any(0.0 < r["alpha"] < 1.0 for r in rows)
    assert {0.0, 1.0} <= {r["alpha"] for r in rows}


@needs_data
def test_shrinking_a_finished_checkpoint_gives_the_fresh_shrunk_fit(tmp_path):
    # A run checkpointed without shrinking, then shrunk from its checkpoint: the row of a
    # fresh fit with shrink_to_epoch0=True, and the checkpoint left as it was.
    import hashlib

    longterm, script = _load_script(), _load_script("shrink_checkpoint")
    common = ["--datasets", "ETTh1", "--features", "M", "--models", "timestep",
              "--lookback", "24", "--horizons", "8", "--max-rows", "800",
              "--max-epochs", "10", "--data-home", str(DATA_HOME)]
    table, fresh = tmp_path / "table.jsonl", tmp_path / "fresh.jsonl"
    longterm.main([*common, "--set", "shrink_to_epoch0=False", "--out", str(table),
                   "--checkpoint-dir", str(tmp_path / "checkpoints")])
    (made,) = (tmp_path / "checkpoints").iterdir()
    folder = made.rename(tmp_path / "checkpoints" / "ETTh1-M-24-8-timestep-seed0")
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    longterm.main([*common, "--set", "shrink_to_epoch0=True", "--out", str(fresh)])
    out = tmp_path / "shrunk.jsonl"
    script.main([str(folder), "--results", str(table), "--out", str(out), "--table",
                 "--max-rows", "800", "--data-home", str(DATA_HOME)])
    unshrunk, table_row = [json.loads(line) for line in table.read_text().splitlines()]
    (expected,) = [json.loads(line) for line in fresh.read_text().splitlines()]
    restored, shrunk = [json.loads(line) for line in out.read_text().splitlines()]
    assert unshrunk["best_epoch"] == 3 and 0.0 < expected["shrink_factor"] < 1.0
    assert restored["test_mse"] == unshrunk["test_mse"]
    assert restored["shrink_factor"] == 1.0
    assert restored["resumed_from_epoch"] == restored["epochs_run"] == unshrunk["epochs_run"]
    for key in ("test_mse", "test_mae", "shrink_factor", "best_epoch", "interval_scaled"):
        assert shrunk[key] == pytest.approx(expected[key], rel=1e-6), key
    assert shrunk["from_checkpoint"] == folder.name
    # --table: the shrunk row, as the defaults' row (shrinking is the default now)
    assert "params" not in table_row and "shrink_checkpoint.py" in table_row["note"]
    assert table_row["test_mse"] == shrunk["test_mse"]
    assert table_row["resumed_from_epoch"] == unshrunk["epochs_run"]
    assert shrunk["table_row"]["test_mse"] == unshrunk["test_mse"]
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir()} == files
    # a row whose params are not the defaults is not a table row
    with pytest.raises(ValueError, match="not the defaults"):
        script.table_row(dict(shrunk, params={"shrink_to_epoch0": False}))
    with pytest.raises(ValueError, match="not the defaults"):
        script.check_defaults("timestep", {"d_model": 8})
    # a checkpoint that is not the table row's model is refused
    damaged = dict(unshrunk, test_mse=unshrunk["test_mse"] * 1.01)
    table.write_text(json.dumps(damaged) + "\n")
    with pytest.raises(ValueError, match="not that row's model"):
        script.main([str(folder), "--results", str(table), "--out", str(out),
                     "--max-rows", "800", "--data-home", str(DATA_HOME)])


def test_shrink_checkpoint_reads_table_run_folder_names():
    script = _load_script("shrink_checkpoint")
    assert script.parse_run_name("weather-MS-336-720-timestep-seed0") == (
        "weather", "MS", 336, 720, "timestep", 0)
    assert script.parse_run_name("ETTh1-M-24-8-rnn-none-seed3") == (
        "ETTh1", "M", 24, 8, "rnn-none", 3)
    for name in ("ETTh1-MS-24-8-rnn-none-seed0-last100", "weather-M-336-96-patch-seed0-d=8",
                 "ETTh1-M-24-8-lstm-seed0"):
        with pytest.raises(ValueError):
            script.parse_run_name(name)
