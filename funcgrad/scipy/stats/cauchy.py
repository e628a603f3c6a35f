"""The Cauchy distribution: density 1 / (pi scale (1 + z^2)), z = (x - loc) / scale.

Example:
    >>> from funcgrad.scipy.stats import cauchy
    >>> cauchy.cdf(np.array([-1.0, 0.0, 1.0]))
    array([0.25, 0.5 , 0.75])
"""

from __future__ import annotations

import math

import funcgrad.numpy as fnp
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def _z(x, loc, scale):
    x, loc, scale = _common.arrays(x, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    return z, safe_scale, scale > 0


def logpdf(x, loc=0, scale=1):
    """-log(pi) - log(scale) - log1p(z^2).

    Example:
        >>> from funcgrad.scipy.stats import cauchy
        >>> cauchy.logpdf(np.array([0.0, 1.0]))
        array([-1.14472989, -1.83787707])
    """
    z, safe_scale, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, -_common.LOG_PI - fnp.log(safe_scale)
                                  - _common.log1p_square(z))


def pdf(x, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import cauchy
        >>> cauchy.pdf(np.array([0.0]))
        array([0.31830989])
    """
    return fnp.exp(logpdf(x, loc, scale))


def _lower_tail(z):
    """P(Z <= z) = 1/2 + arctan(z) / pi; below 0 as arctan(-1/z) / pi, accurate far out."""
    safe = fnp.where(z < 0, z, -1.0)
    return fnp.where(z < 0, fnp.arctan(-1.0 / safe) / math.pi, 0.5 + fnp.arctan(z) / math.pi)


def cdf(x, loc=0, scale=1):
    """P(X <= x), accurate in the lower tail.

    Example:
        >>> from funcgrad.scipy.stats import cauchy
        >>> cauchy.cdf(np.array([-1e20]))
        array([3.18309886e-21])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, _lower_tail(z))


def logcdf(x, loc=0, scale=1):
    """log P(X <= x).

    Example:
        >>> from funcgrad.scipy.stats import cauchy
        >>> cauchy.logcdf(np.array([0.0]))
        array([-0.69314718])
    """
    return _common.log_probability(cdf(x, loc, scale), sf(x, loc, scale))


def sf(x, loc=0, scale=1):
    """P(X > x) = cdf(-x), accurate in the upper tail.

    Example:
        >>> from funcgrad.scipy.stats import cauchy
        >>> cauchy.sf(np.array([1.0]))
        array([0.25])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, _lower_tail(-z))


def logsf(x, loc=0, scale=1):
    """log P(X > x).

    Example:
        >>> from funcgrad.scipy.stats import cauchy
        >>> cauchy.logsf(np.array([0.0]))
        array([-0.69314718])
    """
    return _common.log_probability(sf(x, loc, scale), cdf(x, loc, scale))
