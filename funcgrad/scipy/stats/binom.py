"""The binomial distribution: k successes in n trials of probability p (shifted by loc).

Its cdf needs the incomplete beta function, which funcgrad does not have yet.

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

__all__ = ["logpmf", "pmf"]


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
    return _common.invalid_as_nan(valid, fnp.where(support, value, -np.inf))


def pmf(k, n, p, loc=0):
    """P(K = k) = exp(logpmf).

    Example:
        >>> from funcgrad.scipy.stats import binom
        >>> binom.pmf(np.array([3]), 3, 0.5)
        array([0.125])
    """
    return fnp.exp(logpmf(k, n, p, loc))
