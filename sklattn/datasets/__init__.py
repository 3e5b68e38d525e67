"""Built-in data and the benchmark datasets (read from a local folder)."""

from .benchmark import BENCHMARKS, benchmark_split, load_benchmark
from .synthetic import make_lagged_series

__all__ = ["BENCHMARKS", "benchmark_split", "load_benchmark", "make_lagged_series"]
