"""Built-in data."""

from .synthetic import make_lagged_series

__all__ = ["make_lagged_series"]
