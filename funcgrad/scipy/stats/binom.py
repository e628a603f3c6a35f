"""The binomial distribution: k successes in n trials of probability p (shifted by loc).

Differentiable in p (its cdf and sf too: they are incomplete beta functions of p).

Example:
    >>> from funcgrad.scipy.stats import binom
    >>> binom.pmf(np.array([0, 1, 2]), 2, 0.5)
    array([0.25, 0.5 , 0.25])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]


def logpmf(k, n, p, loc=0):
    """log C(n, k) + k log(p) + (n - k) log1p(-p) at integers 0 <= k <= n, else -inf; the
    binomial coefficient as -log(n + 1) - betaln(n - k + 1, k + 1), exact for large n.

    Example:
        >>> from funcgrad.scipy.stats import binom
        >>> binom.logpmf(np.array([3, 500, 11]), np.array([10, 1000, 10]), 0.5)
        array([-2.14398006, -3.67991899,        -inf])
    """
    k, n, p, loc = _common.arrays(k, n, p, loc)
    k = k - loc
    support = fnp.logical_and(fnp.logical_and(k >= 0, k <= n), _common.is_integer(k))
    valid = fnp.logical_and(fnp.logical_and(p >= 0, p <= 1),
                            fnp.logical_and(n >= 0, _common.is_integer(n)))
    safe_n = fnp.where(valid, n, 1.0)
    safe_k = fnp.where(support, k, 0.0)
    safe_p = fnp.where(valid, p, 0.5)
    log_choose = -fnp.log1p(safe_n) - special.betaln(safe_n - safe_k + 1, safe_k + 1)
    value = (log_choose + special.xlogy(safe_k, safe_p)
             + special.xlog1py(safe_n - safe_k, -safe_p))
    return _common.invalid_as_nan(valid, fnp.where(support, value, -np.inf), at=k)


def pmf(k, n, p, loc=0):
    """P(K = k) = exp(logpmf).

    Example:
        >>> from funcgrad.scipy.stats import binom
        >>> binom.pmf(np.array([3]), 3, 0.5)
        array([0.125])
    """
    return fnp.exp(logpmf(k, n, p, loc))


def _tail_arguments(k, n, p, loc):
    """floor(k - loc), the incomplete beta's shapes (n - k, k + 1) made safe outside
    0 <= k < n, and the validity of (n, p)."""
    k, n, p, loc = _common.arrays(k, n, p, loc)
    k = fnp.floor(k - loc)
    valid = fnp.logical_and(fnp.logical_and(p >= 0, p <= 1),
                            fnp.logical_and(n >= 0, _common.is_integer(n)))
    inside = fnp.logical_and(k >= 0, k < n)
    safe_k = fnp.where(inside, k, 0.0)
    safe_n = fnp.where(inside, n, 1.0)
    return k, n, fnp.clip(p, 0.0, 1.0), safe_n - safe_k, safe_k + 1, valid


def cdf(k, n, p, loc=0):
    """P(K <= k) = betainc(n - k, k + 1, 1 - p) for 0 <= k < n.

    Example:
        >>> from funcgrad.scipy.stats import binom
        >>> binom.cdf(np.array([-1, 0, 1, 2]), 2, 0.5)
        array([0.  , 0.25, 0.75, 1.  ])
    """
    k, n, p, a, b, valid = _tail_arguments(k, n, p, loc)
    value = fnp.where(k < 0, 0.0, fnp.where(k >= n, 1.0, special.betainc(a, b, 1.0 - p)))
    return _common.invalid_as_nan(valid, value, at=k)


def sf(k, n, p, loc=0):
    """P(K > k) = betainc(k + 1, n - k, p) for 0 <= k < n, accurate where it is tiny.

    Example:
        >>> from funcgrad.scipy.stats import binom
        >>> binom.sf(np.array([-1, 0, 1, 2]), 2, 0.5)
        array([1.  , 0.75, 0.25, 0.  ])
    """
    k, n, p, a, b, valid = _tail_arguments(k, n, p, loc)
    value = fnp.where(k < 0, 1.0, fnp.where(k >= n, 0.0, special.betainc(b, a, p)))
    return _common.invalid_as_nan(valid, value, at=k)


def logcdf(k, n, p, loc=0):
    """log P(K <= k).

    Example:
        >>> from funcgrad.scipy.stats import binom
        >>> binom.logcdf(np.array([0]), 1, 0.5)
        array([-0.69314718])
    """
    return _common.log_probability(cdf(k, n, p, loc), sf(k, n, p, loc))


def logsf(k, n, p, loc=0):
    """log P(K > k).

    Example:
        >>> from funcgrad.scipy.stats import binom
        >>> binom.logsf(np.array([0]), 1, 0.5)
        array([-0.69314718])
    """
    return _common.log_probability(sf(k, n, p, loc), cdf(k, n, p, loc))
