"""The gamma distribution with shape ``a``, shifted by loc and scaled (rate 1 / scale).

Its cdf and sf are differentiable in x, loc, scale and (to first order) in ``a``: gammainc's
derivative in its shape is a series whose own derivatives are not implemented.

Example:
    >>> from funcgrad.scipy.stats import gamma
    >>> gamma.logpdf(np.array([0.5, 2.0]), 2.0)
    array([-1.19314718, -1.30685282])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def _valid(a, scale):
    return fnp.logical_and(a > 0, scale > 0)


def logpdf(x, a, loc=0, scale=1):
    """(a - 1) log z - z - lgamma(a) - log(scale) for z = (x - loc) / scale >= 0, else -inf.

    Example:
        >>> from funcgrad.scipy.stats import gamma
        >>> gamma.logpdf(np.array([-1.0, 0.0, 3.0]), 1.0, scale=2.0)
        array([       -inf, -0.69314718, -2.19314718])
    """
    x, a, loc, scale = _common.arrays(x, a, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    safe_a = _common.positive_or_one(a)
    value = (special.xlogy(safe_a - 1, fnp.where(z >= 0, z, 1.0)) - z - special.gammaln(safe_a)
             - fnp.log(safe_scale))
    return _common.invalid_as_nan(_valid(a, scale), fnp.where(z >= 0, value, -np.inf), at=z)


def pdf(x, a, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import gamma
        >>> gamma.pdf(np.array([1.0]), 1.0)
        array([0.36787944])
    """
    return fnp.exp(logpdf(x, a, loc, scale))


def _clipped(x, a, loc, scale):
    x, a, loc, scale = _common.arrays(x, a, loc, scale)
    z, _ = _common.standardize(x, loc, scale)
    return _common.clip_to_support(z, 0.0), a, _valid(a, scale)


def cdf(x, a, loc=0, scale=1):
    """P(X <= x) = gammainc(a, z).

    Example:
        >>> from funcgrad.scipy.stats import gamma
        >>> gamma.cdf(np.array([1.0, 10.0]), 2.0)
        array([0.26424112, 0.9995006 ])
    """
    z, a, valid = _clipped(x, a, loc, scale)
    return _common.invalid_as_nan(valid, special.gammainc(a, z))


def logcdf(x, a, loc=0, scale=1):
    """log P(X <= x).

    Example:
        >>> from funcgrad.scipy.stats import gamma
        >>> gamma.logcdf(np.array([1.0]), 2.0)
        array([-1.33089327])
    """
    return _common.log_probability(cdf(x, a, loc, scale), sf(x, a, loc, scale))


def sf(x, a, loc=0, scale=1):
    """P(X > x) = gammaincc(a, z), accurate where it is tiny.

    Example:
        >>> from funcgrad.scipy.stats import gamma
        >>> gamma.sf(np.array([100.0]), 2.0)
        array([3.75727674e-42])
    """
    z, a, valid = _clipped(x, a, loc, scale)
    return _common.invalid_as_nan(valid, special.gammaincc(a, z))


def logsf(x, a, loc=0, scale=1):
    """log P(X > x).

    Example:
        >>> from funcgrad.scipy.stats import gamma
        >>> gamma.logsf(np.array([100.0]), 2.0)
        array([-95.38487948])
    """
    return _common.log_probability(sf(x, a, loc, scale), cdf(x, a, loc, scale))
