"""The exponential distribution on [loc, inf) with mean loc + scale.

Example:
    >>> from funcgrad.scipy.stats import expon
    >>> expon.cdf(np.array([-1.0, 1.0]))
    array([0.        , 0.63212056])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def _z(x, loc, scale):
    x, loc, scale = _common.arrays(x, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    return z, safe_scale, scale > 0


def logpdf(x, loc=0, scale=1):
    """-z - log(scale) for z = (x - loc) / scale >= 0, else -inf.

    Example:
        >>> from funcgrad.scipy.stats import expon
        >>> expon.logpdf(np.array([-1.0, 2.0]), scale=2.0)
        array([       -inf, -1.69314718])
    """
    z, safe_scale, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, fnp.where(z >= 0, -z - fnp.log(safe_scale), -np.inf),
                                  at=z)


def pdf(x, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import expon
        >>> expon.pdf(np.array([0.0, 1.0]))
        array([1.        , 0.36787944])
    """
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """1 - exp(-z), computed as -expm1(-z) (accurate for small z), 0 below loc.

    Example:
        >>> from funcgrad.scipy.stats import expon
        >>> expon.cdf(np.array([1e-20, 1.0]))
        array([1.00000000e-20, 6.32120559e-01])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, -fnp.expm1(-_common.clip_into_support(z, 0.0)))


def logcdf(x, loc=0, scale=1):
    """log(1 - exp(-z)).

    Example:
        >>> from funcgrad.scipy.stats import expon
        >>> expon.logcdf(np.array([1.0]))
        array([-0.45867515])
    """
    return _common.log_probability(cdf(x, loc, scale), sf(x, loc, scale))


def sf(x, loc=0, scale=1):
    """exp(-z), 1 below loc.

    Example:
        >>> from funcgrad.scipy.stats import expon
        >>> expon.sf(np.array([-1.0, 1.0]))
        array([1.        , 0.36787944])
    """
    return fnp.exp(logsf(x, loc, scale))


def logsf(x, loc=0, scale=1):
    """-z, 0 below loc.

    Example:
        >>> from funcgrad.scipy.stats import expon
        >>> expon.logsf(np.array([3.0]), scale=2.0)
        array([-1.5])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, -_common.clip_into_support(z, 0.0))
