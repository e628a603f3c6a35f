"""SciPy-named functions: funcgrad.scipy.special, .stats and .linalg."""

from funcgrad.scipy import linalg, special, stats  # noqa: F401

__all__ = ["linalg", "special", "stats"]
