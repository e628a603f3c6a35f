"""The Laplace (double exponential) distribution, density exp(-|x - loc| / scale) / (2 scale).

Example:
    >>> from funcgrad.scipy.stats import laplace
    >>> laplace.cdf(np.array([-1.0, 0.0, 1.0]))
    array([0.18393972, 0.5       , 0.81606028])
"""

from __future__ import annotations

import math

import funcgrad.numpy as fnp
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]

_LOG2 = math.log(2.0)


def _z(x, loc, scale):
    x, loc, scale = _common.arrays(x, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    return z, safe_scale, scale > 0


def logpdf(x, loc=0, scale=1):
    """-|z| - log(2 scale).

    Example:
        >>> from funcgrad.scipy.stats import laplace
        >>> laplace.logpdf(np.array([0.0, 2.0]), scale=2.0)
        array([-1.38629436, -2.38629436])
    """
    z, safe_scale, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, -fnp.abs(z) - fnp.log(safe_scale) - _LOG2)


def pdf(x, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import laplace
        >>> laplace.pdf(np.array([0.0]))
        array([0.5])
    """
    return fnp.exp(logpdf(x, loc, scale))


def _log_lower_tail(z):
    """log P(Z <= z) for the standard Laplace: z - log 2 below 0, log1p(-exp(-z) / 2) above.
    The upper branch sees z clipped at 0, not |z|, whose derivative at 0 is 0: the cdf is
    smooth there, with slope the density 1/2 (as JAX's)."""
    above = _common.clip_into_support(z, 0.0)
    return fnp.where(z < 0, z - _LOG2, fnp.log1p(-0.5 * fnp.exp(-above)))


def logcdf(x, loc=0, scale=1):
    """log P(X <= x), accurate in both tails.

    Example:
        >>> from funcgrad.scipy.stats import laplace
        >>> laplace.logcdf(np.array([-100.0, 1.0]))
        array([-100.69314718,   -0.20326705])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, _log_lower_tail(z))


def cdf(x, loc=0, scale=1):
    """P(X <= x).

    Example:
        >>> from funcgrad.scipy.stats import laplace
        >>> laplace.cdf(np.array([1.0]), loc=1.0)
        array([0.5])
    """
    return fnp.exp(logcdf(x, loc, scale))


def logsf(x, loc=0, scale=1):
    """log P(X > x) = logcdf(-x) by symmetry.

    Example:
        >>> from funcgrad.scipy.stats import laplace
        >>> laplace.logsf(np.array([100.0]))
        array([-100.69314718])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, _log_lower_tail(-z))


def sf(x, loc=0, scale=1):
    """P(X > x).

    Example:
        >>> from funcgrad.scipy.stats import laplace
        >>> laplace.sf(np.array([1.0]))
        array([0.18393972])
    """
    return fnp.exp(logsf(x, loc, scale))
