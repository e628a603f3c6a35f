"""The Pareto distribution: density b / z^(b + 1) on z = (x - loc) / scale >= 1.
Differentiable in x, b, loc and scale.

Example:
    >>> from funcgrad.scipy.stats import pareto
    >>> pareto.cdf(np.array([0.5, 1.0, 2.0]), 2.0)
    array([0.  , 0.  , 0.75])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]


def _log_z(x, b, loc, scale):
    """log z where z >= 1 (0 below), whether z >= 1, b made safe, the log scale, validity."""
    x, b, loc, scale = _common.arrays(x, b, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    valid = fnp.logical_and(b > 0, scale > 0)
    inside = z >= 1
    log_z = fnp.log(fnp.where(inside, z, 1.0))
    return log_z, inside, fnp.where(valid, b, 1.0), fnp.log(safe_scale), valid, z


def logpdf(x, b, loc=0, scale=1):
    """log(b) - (b + 1) log(z) - log(scale) for z >= 1, else -inf.

    Example:
        >>> from funcgrad.scipy.stats import pareto
        >>> pareto.logpdf(np.array([0.5, 1.0, 3.0]), 2.0)
        array([       -inf,  0.69314718, -2.60268969])
    """
    log_z, inside, b, log_scale, valid, z = _log_z(x, b, loc, scale)
    value = fnp.log(b) - (b + 1) * log_z - log_scale
    return _common.invalid_as_nan(valid, fnp.where(inside, value, -np.inf), at=z)


def pdf(x, b, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import pareto
        >>> pareto.pdf(np.array([1.0, 2.0]), 3.0)
        array([3.    , 0.1875])
    """
    return fnp.exp(logpdf(x, b, loc, scale))


def logsf(x, b, loc=0, scale=1):
    """log P(X > x) = -b log(z) (0 below the support).

    Example:
        >>> from funcgrad.scipy.stats import pareto
        >>> pareto.logsf(np.array([0.0, 1e100]), 2.0)
        array([   0.       , -460.5170186])
    """
    log_z, _, b, _, valid, z = _log_z(x, b, loc, scale)
    return _common.invalid_as_nan(valid, 0.0 - b * log_z, at=z)


def sf(x, b, loc=0, scale=1):
    """P(X > x) = z^-b.

    Example:
        >>> from funcgrad.scipy.stats import pareto
        >>> pareto.sf(np.array([2.0]), 2.0)
        array([0.25])
    """
    return fnp.exp(logsf(x, b, loc, scale))


def cdf(x, b, loc=0, scale=1):
    """P(X <= x) = 1 - z^-b, as -expm1(-b log z) (accurate just above 1).

    Example:
        >>> from funcgrad.scipy.stats import pareto
        >>> pareto.cdf(np.array([1.0 + 1e-12]), 2.0)
        array([2.0001778e-12])
    """
    log_z, _, b, _, valid, z = _log_z(x, b, loc, scale)
    return _common.invalid_as_nan(valid, -fnp.expm1(-b * log_z), at=z)


def logcdf(x, b, loc=0, scale=1):
    """log(1 - z^-b) = log1mexp(b log z): accurate at both ends; -inf at and below 1.

    Example:
        >>> from funcgrad.scipy.stats import pareto
        >>> pareto.logcdf(np.array([1.0, 1e100]), 2.0)
        array([    -inf, -1.e-200])
    """
    log_z, _, b, _, valid, z = _log_z(x, b, loc, scale)
    above = log_z > 0
    value = fnp.where(above, nn.log1mexp(b * fnp.where(above, log_z, 1.0)), -np.inf)
    return _common.invalid_as_nan(valid, value, at=z)


def ppf(q, b, loc=0, scale=1):
    """The quantile loc + scale (1 - q)^(-1/b); nan outside [0, 1].

    Example:
        >>> from funcgrad.scipy.stats import pareto
        >>> pareto.ppf(np.array([0.0, 0.75, 1.0]), 2.0)
        array([ 1.,  2., inf])
    """
    q, b, loc, scale = _common.arrays(q, b, loc, scale)
    valid = fnp.logical_and(fnp.logical_and(b > 0, scale > 0),
                            fnp.logical_and(q >= 0, q <= 1))
    safe_q = fnp.where(valid, q, 0.5)
    safe_b = fnp.where(valid, b, 1.0)
    value = loc + scale * fnp.exp(-fnp.log1p(-safe_q) / safe_b)
    return _common.invalid_as_nan(valid, value)
