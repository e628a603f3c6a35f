"""The beta-binomial distribution: binomial counts of n trials whose probability is
Beta(a, b) (shifted by loc). Differentiable in a and b.

Example:
    >>> from funcgrad.scipy.stats import betabinom
    >>> betabinom.pmf(np.array([0, 1, 2]), 2, 1.0, 1.0)    # a = b = 1: uniform
    array([0.33333333, 0.33333333, 0.33333333])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpmf", "pmf"]


def logpmf(k, n, a, b, loc=0):
    """log C(n, k) + betaln(k + a, n - k + b) - betaln(a, b) at integers 0 <= k <= n, else
    -inf; nan unless n >= 0 is an integer and a, b > 0, as scipy.stats.betabinom.

    Example:
        >>> from funcgrad.scipy.stats import betabinom
        >>> betabinom.logpmf(np.array([3, 11]), 10, 2.0, 5.0)
        array([-1.80280931,        -inf])
    """
    k, n, a, b, loc = _common.arrays(k, n, a, b, loc)
    k = k - loc
    support = fnp.logical_and(fnp.logical_and(k >= 0, k <= n), _common.is_integer(k))
    valid = fnp.logical_and(fnp.logical_and(n >= 0, _common.is_integer(n)),
                            fnp.logical_and(a > 0, b > 0))
    safe_n = fnp.where(valid, n, 1.0)
    safe_a, safe_b = fnp.where(valid, a, 1.0), fnp.where(valid, b, 1.0)
    safe_k = fnp.where(support, k, 0.0)
    log_choose = -fnp.log1p(safe_n) - special.betaln(safe_n - safe_k + 1, safe_k + 1)
    value = (log_choose + special.betaln(safe_k + safe_a, safe_n - safe_k + safe_b)
             - special.betaln(safe_a, safe_b))
    return _common.invalid_as_nan(valid, fnp.where(support, value, -np.inf), at=k)


def pmf(k, n, a, b, loc=0):
    """P(K = k) = exp(logpmf).

    Example:
        >>> from funcgrad.scipy.stats import betabinom
        >>> betabinom.pmf(np.array([1]), 1, 2.0, 2.0)
        array([0.5])
    """
    return fnp.exp(logpmf(k, n, a, b, loc))
