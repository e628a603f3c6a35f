"""The beta distribution on [loc, loc + scale] with shapes ``a`` and ``b``.

Its cdf and sf are differentiable in x, loc, scale and, to first order, in a and b.

Example:
    >>> from funcgrad.scipy.stats import beta
    >>> beta.pdf(np.array([0.25, 0.5]), 2.0, 2.0)
    array([1.125, 1.5  ])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, a, b, loc=0, scale=1):
    """(a - 1) log z + (b - 1) log(1 - z) - betaln(a, b) - log(scale) on 0 <= z <= 1, else
    -inf, for z = (x - loc) / scale.

    Example:
        >>> from funcgrad.scipy.stats import beta
        >>> beta.logpdf(np.array([-0.5, 0.0, 0.5]), 1.0, 3.0)
        array([       -inf,  1.09861229, -0.28768207])
    """
    x, a, b, loc, scale = _common.arrays(x, a, b, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    inside = fnp.logical_and(z >= 0, z <= 1)
    safe_z = fnp.where(inside, z, 0.5)
    safe_a, safe_b = _common.positive_or_one(a), _common.positive_or_one(b)
    value = (special.xlogy(safe_a - 1, safe_z) + special.xlog1py(safe_b - 1, -safe_z)
             - special.betaln(safe_a, safe_b) - fnp.log(safe_scale))
    valid = fnp.logical_and(fnp.logical_and(a > 0, b > 0), scale > 0)
    return _common.invalid_as_nan(valid, fnp.where(inside, value, -np.inf), at=z)


def pdf(x, a, b, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import beta
        >>> beta.pdf(np.array([0.5]), 0.5, 0.5)
        array([0.63661977])
    """
    return fnp.exp(logpdf(x, a, b, loc, scale))


def _clipped(x, a, b, loc, scale):
    x, a, b, loc, scale = _common.arrays(x, a, b, loc, scale)
    z, _ = _common.standardize(x, loc, scale)
    valid = fnp.logical_and(fnp.logical_and(a > 0, b > 0), scale > 0)
    return (_common.clip_to_support(z, 0.0, 1.0), _common.positive_or_one(a),
            _common.positive_or_one(b), valid)


def cdf(x, a, b, loc=0, scale=1):
    """P(X <= x) = betainc(a, b, z).

    Example:
        >>> from funcgrad.scipy.stats import beta
        >>> beta.cdf(np.array([-1.0, 0.4, 2.0]), 2.0, 3.0)
        array([0.    , 0.5248, 1.    ])
    """
    z, a, b, valid = _clipped(x, a, b, loc, scale)
    return _common.invalid_as_nan(valid, special.betainc(a, b, z))


def sf(x, a, b, loc=0, scale=1):
    """P(X > x) = betainc(b, a, 1 - z), accurate where it is tiny.

    Example:
        >>> from funcgrad.scipy.stats import beta
        >>> beta.sf(np.array([0.4]), 2.0, 3.0)
        array([0.4752])
    """
    z, a, b, valid = _clipped(x, a, b, loc, scale)
    return _common.invalid_as_nan(valid, special.betainc(b, a, 1.0 - z))


def logcdf(x, a, b, loc=0, scale=1):
    """log P(X <= x).

    Example:
        >>> from funcgrad.scipy.stats import beta
        >>> beta.logcdf(np.array([0.5]), 2.0, 2.0)
        array([-0.69314718])
    """
    return _common.log_probability(cdf(x, a, b, loc, scale), sf(x, a, b, loc, scale))


def logsf(x, a, b, loc=0, scale=1):
    """log P(X > x).

    Example:
        >>> from funcgrad.scipy.stats import beta
        >>> beta.logsf(np.array([0.5]), 2.0, 2.0)
        array([-0.69314718])
    """
    return _common.log_probability(sf(x, a, b, loc, scale), cdf(x, a, b, loc, scale))
