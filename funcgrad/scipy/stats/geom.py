"""The geometric distribution: the number of trials up to the first success, each of
probability p (k = 1, 2, ...; shifted by loc). Differentiable in p.

Example:
    >>> from funcgrad.scipy.stats import geom
    >>> geom.pmf(np.array([1, 2, 3]), 0.5)
    array([0.5  , 0.25 , 0.125])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]


def _valid(p):
    return fnp.logical_and(p > 0, p <= 1)


def logpmf(k, p, loc=0):
    """(k - 1) log(1 - p) + log(p) at integers k >= 1, else -inf; nan unless 0 < p <= 1.

    Example:
        >>> from funcgrad.scipy.stats import geom
        >>> geom.logpmf(np.array([0, 1, 10]), 0.2)
        array([       -inf, -1.60943791, -3.61772987])
    """
    k, p, loc = _common.arrays(k, p, loc)
    k = k - loc
    support = fnp.logical_and(k >= 1, _common.is_integer(k))
    valid = _valid(p)
    safe_p = fnp.where(valid, p, 0.5)
    safe_k = fnp.where(support, k, 1.0)
    value = special.xlog1py(safe_k - 1, -safe_p) + fnp.log(safe_p)
    return _common.invalid_as_nan(valid, fnp.where(support, value, -np.inf), at=k)


def pmf(k, p, loc=0):
    """P(K = k) = exp(logpmf).

    Example:
        >>> from funcgrad.scipy.stats import geom
        >>> geom.pmf(np.array([0, 1]), 1.0)
        array([0., 1.])
    """
    return fnp.exp(logpmf(k, p, loc))


def _log_tail(k, p, loc):
    """floor(k - loc), log P(K > k) = floor(k) log(1 - p) for k >= 1 (0 below), validity."""
    k, p, loc = _common.arrays(k, p, loc)
    k = fnp.floor(k - loc)
    valid = _valid(p)
    safe_p = fnp.where(valid, p, 0.5)
    log_sf = fnp.where(k >= 1, special.xlog1py(fnp.maximum(k, 1.0), -safe_p), 0.0)
    return k, log_sf, valid


def logsf(k, p, loc=0):
    """log P(K > k) = floor(k) log(1 - p).

    Example:
        >>> from funcgrad.scipy.stats import geom
        >>> geom.logsf(np.array([0, 3]), 0.5)
        array([ 0.        , -2.07944154])
    """
    k, log_sf, valid = _log_tail(k, p, loc)
    return _common.invalid_as_nan(valid, log_sf, at=k)


def sf(k, p, loc=0):
    """P(K > k) = (1 - p)^floor(k).

    Example:
        >>> from funcgrad.scipy.stats import geom
        >>> geom.sf(np.array([0, 3]), 0.5)
        array([1.   , 0.125])
    """
    return fnp.exp(logsf(k, p, loc))


def logcdf(k, p, loc=0):
    """log P(K <= k) = log(1 - (1 - p)^floor(k)), accurate where it is near 0.

    Example:
        >>> from funcgrad.scipy.stats import geom
        >>> geom.logcdf(np.array([0, 1]), 0.5)
        array([       -inf, -0.69314718])
    """
    k, log_sf, valid = _log_tail(k, p, loc)
    inside = k >= 1
    value = fnp.where(inside, nn.log1mexp(fnp.where(inside, -log_sf, 1.0)), -np.inf)
    return _common.invalid_as_nan(valid, value, at=k)


def cdf(k, p, loc=0):
    """P(K <= k) = 1 - (1 - p)^floor(k), as -expm1 of its logarithm.

    Example:
        >>> from funcgrad.scipy.stats import geom
        >>> geom.cdf(np.array([0, 1, 2]), 0.5)
        array([0.  , 0.5 , 0.75])
    """
    k, log_sf, valid = _log_tail(k, p, loc)
    return _common.invalid_as_nan(valid, 0.0 - fnp.expm1(log_sf), at=k)
