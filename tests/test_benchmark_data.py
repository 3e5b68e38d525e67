"""The benchmark loader, on the real files in ../shared/data (the CI clone has them too)."""

import gzip

import numpy as np
import pytest

from sklattn.datasets import BENCHMARKS, benchmark_split, load_benchmark

from .conftest import DATA_HOME, needs_data


@needs_data
@pytest.mark.parametrize("name, shape", [("ETTh1", (17420, 7)), ("exchange_rate", (7588, 8)),
                                         ("national_illness", (966, 7))])
def test_load_reads_the_published_file(name, shape):
    series = load_benchmark(name, data_home=DATA_HOME)
    assert series.shape == shape and series.columns[-1] == "OT"
    assert series.index.is_monotonic_increasing and np.isfinite(series.to_numpy()).all()


@needs_data
def test_etth_split_follows_the_standard_borders():
    series = load_benchmark("ETTh1", data_home=DATA_HOME)
    train, valid, test = benchmark_split(series, 336, name="ETTh1")
    assert len(train) == 8640
    assert valid.index[336] == series.index[8640] and len(valid) == 2880 + 336
    assert test.index[336] == series.index[11520] and test.index[-1] == series.index[14399]


def test_other_datasets_split_70_10_20():
    rows = np.arange(1000)[:, None]
    train, valid, test = benchmark_split(rows, 96, name="weather")
    assert len(train) == 700 and valid[96, 0] == 700 and test[96, 0] == 800
    assert test[-1, 0] == 999


def test_a_changed_file_is_refused(tmp_path):
    with gzip.open(tmp_path / "ETTh1.csv.gz", "wt") as f:
        f.write("date,OT\n2016-07-01 00:00:00,1.0\n")
    with pytest.raises(ValueError, match="sha256"):
        load_benchmark("ETTh1", data_home=tmp_path)
    assert load_benchmark("ETTh1", data_home=tmp_path, verify=False).shape == (1, 1)


def test_missing_folder_name_or_file_is_explained(tmp_path, monkeypatch):
    monkeypatch.delenv("SKLATTN_DATA_HOME", raising=False)
    with pytest.raises(ValueError, match="SKLATTN_DATA_HOME"):
        load_benchmark("ETTh1")
    with pytest.raises(ValueError, match="unknown benchmark"):
        load_benchmark("electricity", data_home=tmp_path)
    with pytest.raises(FileNotFoundError, match="ETTm2"):
        load_benchmark("ETTm2", data_home=tmp_path)
    assert "electricity" not in BENCHMARKS
