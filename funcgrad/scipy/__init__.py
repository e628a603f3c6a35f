"""SciPy-named functions (funcgrad.scipy.special)."""

from funcgrad.scipy import special  # noqa: F401

__all__ = ["special"]
