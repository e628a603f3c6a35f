"""The negative binomial distribution: k failures before the n-th success, each trial of
probability p (shifted by loc); n need not be an integer. Differentiable in n and p.

Example:
    >>> from funcgrad.scipy.stats import nbinom
    >>> nbinom.pmf(np.array([0, 1, 2]), 2, 0.5)
    array([0.25  , 0.25  , 0.1875])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpmf", "pmf"]


def logpmf(k, n, p, loc=0):
    """log C(k + n - 1, k) + n log(p) + k log(1 - p) at integers k >= 0, else -inf; the
    coefficient as -log(n + k) - betaln(n, k + 1) (exact for large k and n). nan unless
    n > 0 and 0 < p <= 1, as scipy.stats.nbinom.

    Example:
        >>> from funcgrad.scipy.stats import nbinom
        >>> nbinom.logpmf(np.array([-1, 3, 1000]), 2.5, 0.1)
        array([         -inf,   -4.19117265, -101.03815459])
    """
    k, n, p, loc = _common.arrays(k, n, p, loc)
    k = k - loc
    support = fnp.logical_and(k >= 0, _common.is_integer(k))
    valid = fnp.logical_and(n > 0, fnp.logical_and(p > 0, p <= 1))
    safe_n = fnp.where(valid, n, 1.0)
    safe_p = fnp.where(valid, p, 0.5)
    safe_k = fnp.where(support, k, 0.0)
    log_choose = fnp.where(safe_k == 0, 0.0,   # exactly: betaln(n, 1) = -log(n) rounds
                           -fnp.log(safe_n + safe_k) - special.betaln(safe_n, safe_k + 1))
    value = log_choose + safe_n * fnp.log(safe_p) + special.xlog1py(safe_k, -safe_p)
    return _common.invalid_as_nan(valid, fnp.where(support, value, -np.inf), at=k)


def pmf(k, n, p, loc=0):
    """P(K = k) = exp(logpmf).

    Example:
        >>> from funcgrad.scipy.stats import nbinom
        >>> nbinom.pmf(np.array([0, 1]), 2, 1.0)
        array([1., 0.])
    """
    return fnp.exp(logpmf(k, n, p, loc))
