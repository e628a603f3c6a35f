"""The normal distribution N(loc, scale^2).

Example:
    >>> from funcgrad.scipy.stats import norm
    >>> norm.cdf(np.array([-1.0, 0.0, 1.0]))
    array([0.15865525, 0.5       , 0.84134475])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def logpdf(x, loc=0, scale=1):
    """log density -(x - loc)^2 / (2 scale^2) - log(scale) - log(2 pi) / 2.

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.logpdf(np.array([0.0, 3.0]), loc=1.0, scale=2.0)
        array([-1.73708571, -2.11208571])
    """
    x, loc, scale = _common.arrays(x, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    value = -0.5 * z * z - fnp.log(safe_scale) - 0.5 * _common.LOG_2PI
    return _common.invalid_as_nan(scale > 0, value)


def pdf(x, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.pdf(np.array([0.0]))
        array([0.39894228])
    """
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """P(X <= x), accurate far into the lower tail.

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.cdf(np.array([-30.0, 2.0]))
        array([4.90671393e-198, 9.77249868e-001])
    """
    x, loc, scale = _common.arrays(x, loc, scale)
    z, _ = _common.standardize(x, loc, scale)
    return _common.invalid_as_nan(scale > 0, special.ndtr(z))


def logcdf(x, loc=0, scale=1):
    """log P(X <= x), finite far into the lower tail.

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.logcdf(np.array([-100.0, 0.0]))
        array([-5.00552421e+03, -6.93147181e-01])
    """
    x, loc, scale = _common.arrays(x, loc, scale)
    z, _ = _common.standardize(x, loc, scale)
    return _common.invalid_as_nan(scale > 0, special.log_ndtr(z))


def sf(x, loc=0, scale=1):
    """P(X > x) = cdf(-x), accurate in the upper tail.

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.sf(np.array([30.0]))
        array([4.90671393e-198])
    """
    x, loc, scale = _common.arrays(x, loc, scale)
    z, _ = _common.standardize(x, loc, scale)
    return _common.invalid_as_nan(scale > 0, special.ndtr(-z))


def logsf(x, loc=0, scale=1):
    """log P(X > x).

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.logsf(np.array([100.0]))
        array([-5005.52420869])
    """
    x, loc, scale = _common.arrays(x, loc, scale)
    z, _ = _common.standardize(x, loc, scale)
    return _common.invalid_as_nan(scale > 0, special.log_ndtr(-z))


def ppf(q, loc=0, scale=1):
    """The quantile function, inverse of cdf.

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.ppf(np.array([0.5, 0.975]), loc=1.0)
        array([1.        , 2.95996398])
    """
    q, loc, scale = _common.arrays(q, loc, scale)
    return _as_default_float(_common.invalid_as_nan(scale > 0, loc + scale * special.ndtri(q)))


def isf(q, loc=0, scale=1):
    """The inverse of sf: ppf(1 - q), accurate for tiny q.

    Example:
        >>> from funcgrad.scipy.stats import norm
        >>> norm.isf(np.array([1e-300]))
        array([37.0470963])
    """
    q, loc, scale = _common.arrays(q, loc, scale)
    return _as_default_float(_common.invalid_as_nan(scale > 0, loc - scale * special.ndtri(q)))


def _as_default_float(value):
    """float64: JAX's norm.ppf and norm.isf return the default float dtype whatever their
    input's (jnp.asarray(..., float)), unlike its other functions."""
    return fnp.astype(value, np.float64)
