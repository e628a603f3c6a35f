"""The Bernoulli distribution: P(K = 1) = p, P(K = 0) = 1 - p (shifted by loc).

Example:
    >>> from funcgrad.scipy.stats import bernoulli
    >>> bernoulli.pmf(np.array([0, 1, 2]), 0.3)
    array([0.7, 0.3, 0. ])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]


def _valid(p):
    return fnp.logical_and(p >= 0, p <= 1)


def logpmf(k, p, loc=0):
    """log(p) at k = 1, log1p(-p) at k = 0, -inf elsewhere.

    Example:
        >>> from funcgrad.scipy.stats import bernoulli
        >>> bernoulli.logpmf(np.array([0, 1, 3]), 0.25)
        array([-0.28768207, -1.38629436,        -inf])
    """
    k, p, loc = _common.arrays(k, p, loc)
    k = k - loc
    support = fnp.logical_or(k == 0, k == 1)
    safe_k = fnp.where(support, k, 0.0)
    safe_p = fnp.where(_valid(p), p, 0.5)
    value = special.xlogy(safe_k, safe_p) + special.xlog1py(1.0 - safe_k, -safe_p)
    return _common.invalid_as_nan(_valid(p), fnp.where(support, value, -np.inf), at=k)


def pmf(k, p, loc=0):
    """P(K = k) = exp(logpmf).

    Example:
        >>> from funcgrad.scipy.stats import bernoulli
        >>> bernoulli.pmf(np.array([1]), 1.0)
        array([1.])
    """
    return fnp.exp(logpmf(k, p, loc))


def cdf(k, p, loc=0):
    """0 below 0, 1 - p on [0, 1), 1 from 1.

    Example:
        >>> from funcgrad.scipy.stats import bernoulli
        >>> bernoulli.cdf(np.array([-1.0, 0.5, 1.0]), 0.25)
        array([0.  , 0.75, 1.  ])
    """
    k, p, loc = _common.arrays(k, p, loc)
    k = k - loc
    value = fnp.where(k < 0, 0.0, fnp.where(k < 1, 1.0 - p, 1.0))
    return _common.invalid_as_nan(_valid(p), value, at=k)


def logcdf(k, p, loc=0):
    """log P(K <= k).

    Example:
        >>> from funcgrad.scipy.stats import bernoulli
        >>> bernoulli.logcdf(np.array([0.0]), 0.5)
        array([-0.69314718])
    """
    return _common.log_probability(cdf(k, p, loc), sf(k, p, loc))


def sf(k, p, loc=0):
    """P(K > k): 1 below 0, p on [0, 1), 0 from 1.

    Example:
        >>> from funcgrad.scipy.stats import bernoulli
        >>> bernoulli.sf(np.array([-1.0, 0.0, 1.0]), 0.25)
        array([1.  , 0.25, 0.  ])
    """
    k, p, loc = _common.arrays(k, p, loc)
    k = k - loc
    value = fnp.where(k < 0, 1.0, fnp.where(k < 1, p, 0.0))
    return _common.invalid_as_nan(_valid(p), value, at=k)


def logsf(k, p, loc=0):
    """log P(K > k).

    Example:
        >>> from funcgrad.scipy.stats import bernoulli
        >>> bernoulli.logsf(np.array([0.0]), 0.5)
        array([-0.69314718])
    """
    return _common.log_probability(sf(k, p, loc), cdf(k, p, loc))
