"""The chi-squared distribution with ``df`` degrees of freedom: gamma(df / 2, scale=2).

Example:
    >>> from funcgrad.scipy.stats import chi2
    >>> chi2.cdf(np.array([3.84145882]), 1.0)
    array([0.95])
"""

from __future__ import annotations

from funcgrad.scipy.stats import gamma as _gamma
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, df, loc=0, scale=1):
    """log density of gamma(df / 2) at x / 2, less log 2.

    Example:
        >>> from funcgrad.scipy.stats import chi2
        >>> chi2.logpdf(np.array([1.0, 4.0]), 3.0)
        array([-1.41893853, -2.22579135])
    """
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    return _gamma.logpdf(x, df / 2, loc, 2 * scale)


def pdf(x, df, loc=0, scale=1):
    """The density.

    Example:
        >>> from funcgrad.scipy.stats import chi2
        >>> chi2.pdf(np.array([2.0]), 2.0)
        array([0.18393972])
    """
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    return _gamma.pdf(x, df / 2, loc, 2 * scale)


def cdf(x, df, loc=0, scale=1):
    """P(X <= x) = gammainc(df / 2, x / 2).

    Example:
        >>> from funcgrad.scipy.stats import chi2
        >>> chi2.cdf(np.array([2.0]), 2.0)
        array([0.63212056])
    """
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    return _gamma.cdf(x, df / 2, loc, 2 * scale)


def logcdf(x, df, loc=0, scale=1):
    """log P(X <= x).

    Example:
        >>> from funcgrad.scipy.stats import chi2
        >>> chi2.logcdf(np.array([2.0]), 2.0)
        array([-0.45867515])
    """
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    return _gamma.logcdf(x, df / 2, loc, 2 * scale)


def sf(x, df, loc=0, scale=1):
    """P(X > x) = gammaincc(df / 2, x / 2).

    Example:
        >>> from funcgrad.scipy.stats import chi2
        >>> chi2.sf(np.array([2.0]), 2.0)
        array([0.36787944])
    """
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    return _gamma.sf(x, df / 2, loc, 2 * scale)


def logsf(x, df, loc=0, scale=1):
    """log P(X > x).

    Example:
        >>> from funcgrad.scipy.stats import chi2
        >>> chi2.logsf(np.array([2.0]), 2.0)
        array([-1.])
    """
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    return _gamma.logsf(x, df / 2, loc, 2 * scale)
