"""The Poisson distribution with mean ``mu``, on the integers k >= loc.

Differentiable in mu (its cdf and sf too: they are gammaincc and gammainc in mu).

Example:
    >>> from funcgrad.scipy.stats import poisson
    >>> poisson.pmf(np.array([0, 1, 2]), 2.0)
    array([0.13533528, 0.27067057, 0.27067057])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]


def logpmf(k, mu, loc=0):
    """k log(mu) - mu - lgamma(k + 1) at integers k >= 0 (after subtracting loc), else -inf.

    Example:
        >>> from funcgrad.scipy.stats import poisson
        >>> poisson.logpmf(np.array([-1, 0, 3, 1.5]), 2.0)
        array([       -inf, -2.        , -1.71231793,        -inf])
    """
    k, mu, loc = _common.arrays(k, mu, loc)
    k = k - loc
    support = fnp.logical_and(k >= 0, _common.is_integer(k))
    safe_k = fnp.where(support, k, 0.0)
    safe_mu = fnp.where(mu >= 0, mu, 1.0)
    value = special.xlogy(safe_k, safe_mu) - safe_mu - special.gammaln(safe_k + 1)
    return _common.invalid_as_nan(mu >= 0, fnp.where(support, value, -np.inf), at=k)


def pmf(k, mu, loc=0):
    """P(K = k) = exp(logpmf).

    Example:
        >>> from funcgrad.scipy.stats import poisson
        >>> poisson.pmf(np.array([0]), 0.0)
        array([1.])
    """
    return fnp.exp(logpmf(k, mu, loc))


def _upper_index(k, mu, loc):
    k, mu, loc = _common.arrays(k, mu, loc)
    k = fnp.floor(k - loc)
    return k, fnp.where(k >= 0, k, 0.0) + 1.0, fnp.where(mu > 0, mu, 1.0), mu


def cdf(k, mu, loc=0):
    """P(K <= k) = gammaincc(floor(k) + 1, mu).

    Example:
        >>> from funcgrad.scipy.stats import poisson
        >>> poisson.cdf(np.array([-1.0, 0.0, 2.5]), 2.0)
        array([0.        , 0.13533528, 0.67667642])
    """
    k, a, safe_mu, mu = _upper_index(k, mu, loc)
    value = fnp.where(mu > 0, special.gammaincc(a, safe_mu), 1.0)
    return _common.invalid_as_nan(mu >= 0, fnp.where(k >= 0, value, 0.0), at=k)


def logcdf(k, mu, loc=0):
    """log P(K <= k).

    Example:
        >>> from funcgrad.scipy.stats import poisson
        >>> poisson.logcdf(np.array([0.0]), 2.0)
        array([-2.])
    """
    return _common.log_probability(cdf(k, mu, loc), sf(k, mu, loc))


def sf(k, mu, loc=0):
    """P(K > k) = gammainc(floor(k) + 1, mu), accurate where it is tiny.

    Example:
        >>> from funcgrad.scipy.stats import poisson
        >>> poisson.sf(np.array([-1.0, 0.0, 50.0]), 2.0)
        array([1.00000000e+00, 8.64664717e-01, 2.04322425e-52])
    """
    k, a, safe_mu, mu = _upper_index(k, mu, loc)
    value = fnp.where(mu > 0, special.gammainc(a, safe_mu), 0.0)
    return _common.invalid_as_nan(mu >= 0, fnp.where(k >= 0, value, 1.0), at=k)


def logsf(k, mu, loc=0):
    """log P(K > k).

    Example:
        >>> from funcgrad.scipy.stats import poisson
        >>> poisson.logsf(np.array([0.0]), 2.0)
        array([-0.14541346])
    """
    return _common.log_probability(sf(k, mu, loc), cdf(k, mu, loc))
