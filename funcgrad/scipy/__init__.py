"""SciPy-named functions: funcgrad.scipy.special and funcgrad.scipy.stats."""

from funcgrad.scipy import special, stats

__all__ = ["special", "stats"]
