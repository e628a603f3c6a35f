"""The beta distribution on [loc, loc + scale] with shapes ``a`` and ``b``.

Its cdf needs the incomplete beta function, which funcgrad does not have yet.

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

__all__ = ["logpdf", "pdf"]


def logpdf(x, a, b, loc=0.0, scale=1.0):
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
    return _common.invalid_as_nan(valid, fnp.where(inside, value, -np.inf))


def pdf(x, a, b, loc=0.0, scale=1.0):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import beta
        >>> beta.pdf(np.array([0.5]), 0.5, 0.5)
        array([0.63661977])
    """
    return fnp.exp(logpdf(x, a, b, loc, scale))
