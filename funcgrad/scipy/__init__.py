"""SciPy-named functions: funcgrad.scipy.special, .stats, .linalg and .signal."""

from funcgrad.scipy import linalg, special, stats  # noqa: F401
from funcgrad.scipy import signal  # noqa: F401

__all__ = ["linalg", "special", "stats", "signal"]
