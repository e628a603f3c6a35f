"""The right-skewed Gumbel distribution (of maxima): cdf exp(-exp(-z)), z = (x - loc) /
scale. Differentiable in x, loc and scale.

Example:
    >>> from funcgrad.scipy.stats import gumbel_r
    >>> gumbel_r.cdf(np.array([0.0]))
    array([0.36787944])
"""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]


def _z(x, loc, scale):
    x, loc, scale = _common.arrays(x, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    return z, safe_scale, scale > 0


def logpdf(x, loc=0, scale=1):
    """-z - exp(-z) - log(scale).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_r
        >>> gumbel_r.logpdf(np.array([0.0, 1000.0]))
        array([   -1., -1000.])
    """
    z, safe_scale, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, -z - fnp.exp(-z) - fnp.log(safe_scale))


def pdf(x, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_r
        >>> gumbel_r.pdf(np.array([0.0]))
        array([0.36787944])
    """
    return fnp.exp(logpdf(x, loc, scale))


def logcdf(x, loc=0, scale=1):
    """-exp(-z).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_r
        >>> gumbel_r.logcdf(np.array([-2.0, 50.0]))
        array([-7.38905610e+00, -1.92874985e-22])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, -fnp.exp(-z))


def cdf(x, loc=0, scale=1):
    """exp(-exp(-z)).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_r
        >>> gumbel_r.cdf(np.array([-10.0, 10.0]))
        array([0.       , 0.9999546])
    """
    return fnp.exp(logcdf(x, loc, scale))


def logsf(x, loc=0, scale=1):
    """log(1 - exp(-exp(-z))) = log1mexp(exp(-z)), and -z where exp(-z) underflows.

    Example:
        >>> from funcgrad.scipy.stats import gumbel_r
        >>> gumbel_r.logsf(np.array([0.0, 1000.0]))
        array([-4.58675145e-01, -1.00000000e+03])
    """
    z, _, valid = _z(x, loc, scale)
    far = z > 700.0   # exp(-z) is below 1e-304; log(1 - exp(-t)) = log t - t / 2 + ...
    t = fnp.exp(-fnp.where(far, 0.0, z))
    return _common.invalid_as_nan(valid, fnp.where(far, -z, nn.log1mexp(t)))


def sf(x, loc=0, scale=1):
    """1 - exp(-exp(-z)), as -expm1(-exp(-z)) (accurate in the upper tail).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_r
        >>> gumbel_r.sf(np.array([40.0]))
        array([4.24835426e-18])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, -fnp.expm1(-fnp.exp(-z)))


def ppf(p, loc=0, scale=1):
    """The quantile loc - scale log(-log(p)); nan outside [0, 1].

    Example:
        >>> from funcgrad.scipy.stats import gumbel_r
        >>> gumbel_r.ppf(np.array([0.0, np.exp(-1.0), 1.0]))
        array([-inf,   0.,  inf])
    """
    p, loc, scale = _common.arrays(p, loc, scale)
    valid = fnp.logical_and(scale > 0, fnp.logical_and(p >= 0, p <= 1))
    safe_p = fnp.where(valid, p, 0.5)
    return _common.invalid_as_nan(valid, loc - scale * fnp.log(-fnp.log(safe_p)))
