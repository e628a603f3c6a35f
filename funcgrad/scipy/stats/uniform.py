"""The uniform distribution on [loc, loc + scale].

Example:
    >>> from funcgrad.scipy.stats import uniform
    >>> uniform.pdf(np.array([-1.0, 0.5, 2.0]))
    array([0., 1., 0.])
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
    """-log(scale) on [loc, loc + scale], else -inf.

    Example:
        >>> from funcgrad.scipy.stats import uniform
        >>> uniform.logpdf(np.array([0.5, 3.0]), loc=0.0, scale=2.0)
        array([-0.69314718,        -inf])
    """
    z, safe_scale, valid = _z(x, loc, scale)
    inside = fnp.logical_and(z >= 0, z <= 1)
    return _common.invalid_as_nan(valid, fnp.where(inside, -fnp.log(safe_scale), -np.inf),
                                  at=z)


def pdf(x, loc=0, scale=1):
    """1 / scale on [loc, loc + scale], else 0.

    Example:
        >>> from funcgrad.scipy.stats import uniform
        >>> uniform.pdf(np.array([1.0]), scale=4.0)
        array([0.25])
    """
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """(x - loc) / scale clipped to [0, 1].

    Example:
        >>> from funcgrad.scipy.stats import uniform
        >>> uniform.cdf(np.array([-1.0, 0.25, 3.0]))
        array([0.  , 0.25, 1.  ])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, _common.clip_into_support(z, 0.0, 1.0))


def logcdf(x, loc=0, scale=1):
    """log cdf.

    Example:
        >>> from funcgrad.scipy.stats import uniform
        >>> uniform.logcdf(np.array([0.5]))
        array([-0.69314718])
    """
    return _common.log_probability(cdf(x, loc, scale), sf(x, loc, scale))


def sf(x, loc=0, scale=1):
    """1 - cdf.

    Example:
        >>> from funcgrad.scipy.stats import uniform
        >>> uniform.sf(np.array([0.25]))
        array([0.75])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, _common.clip_into_support(1.0 - z, 0.0, 1.0))


def logsf(x, loc=0, scale=1):
    """log sf.

    Example:
        >>> from funcgrad.scipy.stats import uniform
        >>> uniform.logsf(np.array([0.5]))
        array([-0.69314718])
    """
    return _common.log_probability(sf(x, loc, scale), cdf(x, loc, scale))
