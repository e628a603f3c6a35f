"""The normal distribution truncated to [a, b] (standardized bounds, as scipy.stats: the
support is [loc + a scale, loc + b scale]). Its normalizing mass is computed in logarithms
(log_ndtr, mirrored into the lower tail), so bounds far out (a = 30) keep their digits.
Differentiable in x, a, b, loc and scale.

Example:
    >>> from funcgrad.scipy.stats import truncnorm
    >>> truncnorm.cdf(np.array([0.0, 0.5, 1.0]), 0.0, 1.0)
    array([0.        , 0.56090643, 1.        ])
"""

from __future__ import annotations

import math

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _log_mass(lo, hi):
    """log(Phi(hi) - Phi(lo)) for lo < hi: in the lower tail as log Phi(hi) +
    log1mexp(log Phi(hi) - log Phi(lo)), an interval above 0 mirrored there, and one
    around 0 as log1p(-Phi(lo) - Phi(-hi)). Each branch sees safe values."""
    mirrored = lo > 0
    left, right = fnp.where(mirrored, -hi, lo), fnp.where(mirrored, -lo, hi)
    tail = right <= 0
    t_left, t_right = fnp.where(tail, left, -1.0), fnp.where(tail, right, 0.0)
    log_right, log_left = special.log_ndtr(t_right), special.log_ndtr(t_left)
    gap = log_right - log_left
    in_tail = log_right + nn.log1mexp(fnp.where(gap > 0, gap, 1.0))
    in_tail = fnp.where(gap > 0, in_tail, -np.inf)
    c_left, c_right = fnp.where(tail, -1.0, left), fnp.where(tail, 1.0, right)
    central = fnp.log1p(-special.ndtr(c_left) - special.ndtr(-c_right))
    return fnp.where(tail, in_tail, central)


def _parts(x, a, b, loc, scale):
    x, a, b, loc, scale = _common.arrays(x, a, b, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    valid = fnp.logical_and(a < b, scale > 0)
    safe_a, safe_b = fnp.where(valid, a, 0.0), fnp.where(valid, b, 1.0)
    return z, safe_a, safe_b, safe_scale, valid


def logpdf(x, a, b, loc=0, scale=1):
    """-z^2/2 - log sqrt(2 pi) - log(Phi(b) - Phi(a)) - log(scale) for a <= z <= b, else
    -inf; nan unless a < b and scale > 0.

    Example:
        >>> from funcgrad.scipy.stats import truncnorm
        >>> truncnorm.logpdf(np.array([-1.0, 30.5]), 30.0, 31.0)
        array([        -inf, -11.72269458])
    """
    z, a, b, safe_scale, valid = _parts(x, a, b, loc, scale)
    inside = fnp.logical_and(z >= a, z <= b)
    safe_z = fnp.where(inside, z, a)
    value = -0.5 * safe_z * safe_z - _HALF_LOG_2PI - _log_mass(a, b) - fnp.log(safe_scale)
    return _common.invalid_as_nan(valid, fnp.where(inside, value, -np.inf), at=z)


def pdf(x, a, b, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import truncnorm
        >>> truncnorm.pdf(np.array([0.5]), 0.0, 1.0)
        array([1.0314069])
    """
    return fnp.exp(logpdf(x, a, b, loc, scale))


def _log_tails(x, a, b, loc, scale):
    """(log cdf, log sf) inside (a, b): each as a ratio of log masses where it is below
    1/2, and as log1mexp of the other where above (the ratio would round a value near 0 to
    0: log cdf = -1e-86 in the upper tail); the inside mask and validity."""
    z, a, b, _, valid = _parts(x, a, b, loc, scale)
    inside = fnp.logical_and(z > a, z < b)
    safe_z = fnp.where(inside, z, 0.5 * (a + fnp.where(b < np.inf, b, a + 2.0)))
    total = _log_mass(a, b)
    log_cdf = _log_mass(a, safe_z) - total
    log_sf = _log_mass(safe_z, b) - total
    half = -math.log(2.0)
    upper = log_cdf > half
    from_sf = nn.log1mexp(-fnp.where(upper, fnp.minimum(log_sf, half), half))
    from_cdf = nn.log1mexp(-fnp.where(upper, half, fnp.minimum(log_cdf, half)))
    return (fnp.where(upper, from_sf, log_cdf), fnp.where(upper, log_sf, from_cdf), z, z <= a,
            inside, valid)


def logcdf(x, a, b, loc=0, scale=1):
    """log((Phi(z) - Phi(a)) / (Phi(b) - Phi(a))), in logarithms throughout.

    Example:
        >>> from funcgrad.scipy.stats import truncnorm
        >>> truncnorm.logcdf(np.array([-1.0, 30.5, 40.0]), 30.0, 31.0)
        array([           -inf, -2.65541834e-07,  0.00000000e+00])
    """
    log_cdf, _, z, below, inside, valid = _log_tails(x, a, b, loc, scale)
    # (nested so that no where() joins two Python constants, which would be float64)
    value = fnp.where(below, -np.inf, fnp.where(inside, log_cdf, 0.0))
    return _common.invalid_as_nan(valid, value, at=z)


def logsf(x, a, b, loc=0, scale=1):
    """log((Phi(b) - Phi(z)) / (Phi(b) - Phi(a))).

    Example:
        >>> from funcgrad.scipy.stats import truncnorm
        >>> truncnorm.logsf(np.array([-1.0, 30.5, 40.0]), 30.0, 31.0)
        array([  0.        , -15.14149357,         -inf])
    """
    _, log_sf, z, below, inside, valid = _log_tails(x, a, b, loc, scale)
    value = fnp.where(below, 0.0, fnp.where(inside, log_sf, -np.inf))
    return _common.invalid_as_nan(valid, value, at=z)


def cdf(x, a, b, loc=0, scale=1):
    """exp(logcdf).

    Example:
        >>> from funcgrad.scipy.stats import truncnorm
        >>> truncnorm.cdf(np.array([1.0]), -1.0, 1.0)
        array([1.])
    """
    return fnp.exp(logcdf(x, a, b, loc, scale))


def sf(x, a, b, loc=0, scale=1):
    """exp(logsf).

    Example:
        >>> from funcgrad.scipy.stats import truncnorm
        >>> truncnorm.sf(np.array([0.0]), -1.0, 1.0)
        array([0.5])
    """
    return fnp.exp(logsf(x, a, b, loc, scale))
