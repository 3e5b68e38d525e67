"""The standard long-horizon benchmark datasets, read from a local folder.

Nothing is downloaded: point ``data_home`` (or the ``SKLATTN_DATA_HOME`` environment
variable) at a folder holding the published CSVs as ``NAME.csv.gz`` (or ``NAME.csv``).
Each file is checked against the sha256 of its published bytes before it is read.
"""

import hashlib
import os
from pathlib import Path

import pandas as pd

__all__ = ["BENCHMARKS", "benchmark_split", "load_benchmark"]

# sha256 of the gzip files (gzip -9 -n of the published CSV) and of the plain CSVs.
_SHA256 = {
    "ETTh1": ("3c56c865b8f6fc9b760a07f055ff8a993d3cf2a747235dc382b98821ed35f029",
              "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"),
    "ETTh2": ("a549927e8cd45bd1c20a8ec51529cd037bf6da38fe37c2ba3dc0e9c8446d6cb5",
              "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b"),
    "ETTm1": ("ca45123028f1acad120b5f971ca64594746aa9b881d56cdff589ee9aa6cdbd8f",
              "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e"),
    "ETTm2": ("40da2dc79c8f7140eab4f3456debdf85fe8baca5d626280f1ba50181be8ae4ed",
              "db973ca252c6410a30d0469b13d696cf919648d0f3fd588c60f03fdbdbadd1fd"),
    "weather": ("a08c6d04be34805e0167e75461d7cc6a565f81ca3296f43cc154ce9cbcf9027c",
                "34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63"),
    "exchange_rate": ("a62d2ee3092d4b0eb2547092a7d066f32a35ab7a3ee26b14f90c2dc430d1a802",
                      "48b4d9d3d508f5104162e85b9a6042e3557fde11aa9f2944eba8c0d0efc89842"),
    "national_illness": ("ac2d0de409e9647131ecfe72dc55543efb637619aaf280db0e195d26cfb6bd88",
                         "93601f64d2566dc796ca4305adad8b8560c2db1a1ff04543c3bd813a7263570a"),
}
BENCHMARKS = tuple(_SHA256)


def _data_home(data_home):
    home = data_home if data_home is not None else os.environ.get("SKLATTN_DATA_HOME")
    if home is None:
        raise ValueError(
            "no data folder given: pass data_home=... or set SKLATTN_DATA_HOME to the folder "
            "holding NAME.csv.gz files (nothing is downloaded)")
    return Path(home)


def load_benchmark(name, *, data_home=None, verify=True):
    """Read one benchmark series.

    Parameters
    ----------
    name : str
        One of :data:`BENCHMARKS` ("ETTh1", "ETTh2", "ETTm1", "ETTm2", "weather",
        "exchange_rate", "national_illness").
    data_home : str or Path, optional
        Folder with ``NAME.csv.gz`` or ``NAME.csv``; defaults to ``$SKLATTN_DATA_HOME``.
    verify : bool, default=True
        Check the file's sha256 against the published bytes.

    Returns
    -------
    series : DataFrame of shape (n_steps, n_features)
        Indexed by the ``date`` column; every other column, as published (target ``OT``
        last), as float64.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {list(BENCHMARKS)}; got {name!r}")
    if name not in _SHA256:
        raise ValueError(f"unknown benchmark {name!r}; expected one of {list(BENCHMARKS)}")
    home = _data_home(data_home)
    candidates = [home / f"{name}.csv.gz", home / f"{name}.csv"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"{name}: neither {candidates[0]} nor {candidates[1]} exists")
    if verify:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        expected = _SHA256[name][0 if path.suffix == ".gz" else 1]
        if digest != expected:
            raise ValueError(f"{path} has sha256 {digest}, not the published {expected}")
    try:
        series = pd.read_csv(path, parse_dates=["date"]).set_index("date")
        return series.astype("float64")
    except (OSError, EOFError, UnicodeDecodeError, ValueError, KeyError,
            pd.errors.ParserError) as exc:  # only reachable with verify=False
        raise ValueError(f"{path} is not a readable {name} series ({type(exc).__name__}: "
                         f"{exc}); restore the published file") from None


def benchmark_split(series, lookback, *, name):
    """Train / validation / test rows of the standard long-horizon protocol.

    ETT hourly: 12 / 4 / 4 months (8640 / 2880 / 2880 rows); ETT 15-minute: four times
    that; other datasets: 70% / 10% / 20%. As in Informer, Autoformer and PatchTST, the
    validation and test parts start ``lookback`` rows before their first forecast step,
    so their first window's target is their first own row, and every window is kept.

    Parameters
    ----------
    series : DataFrame or ndarray of shape (n_steps, n_features)
    lookback : int
    name : str
        The benchmark's name, which picks the borders.

    Returns
    -------
    train, valid, test : slices of ``series`` (same type)
    """
    n = len(series)
    if name.startswith("ETTh"):
        n_train, n_valid, n_test = 12 * 30 * 24, 4 * 30 * 24, 4 * 30 * 24
    elif name.startswith("ETTm"):
        n_train, n_valid, n_test = 12 * 30 * 24 * 4, 4 * 30 * 24 * 4, 4 * 30 * 24 * 4
    else:
        n_train, n_test = int(n * 0.7), int(n * 0.2)
        n_valid = n - n_train - n_test
    end_valid = n_train + n_valid
    if n_train - lookback < 0 or end_valid + n_test > n:
        raise ValueError(f"{n} rows are too few for {name}'s split with lookback={lookback}")
    rows = getattr(series, "iloc", series)
    return (rows[:n_train], rows[n_train - lookback:end_valid],
            rows[end_valid - lookback:end_valid + n_test])
