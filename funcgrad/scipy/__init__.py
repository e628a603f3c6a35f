"""SciPy-named functions (funcgrad.scipy.special, funcgrad.scipy.linalg)."""

from funcgrad.scipy import linalg, special  # noqa: F401

__all__ = ["linalg", "special"]
