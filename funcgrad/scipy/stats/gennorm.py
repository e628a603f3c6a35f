"""The generalized normal distribution: density beta exp(-|x|^beta) / (2 Gamma(1/beta))
(beta = 2: normal with variance 1/2, beta = 1: Laplace). Differentiable in x and beta.

Example:
    >>> from funcgrad.scipy.stats import gennorm
    >>> gennorm.pdf(np.array([0.0]), 1.0)
    array([0.5])
"""

from __future__ import annotations

import math

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf"]

_LOG_2 = math.log(2.0)


def logpdf(x, beta):
    """log(beta) - log 2 - lgamma(1/beta) - |x|^beta; nan for beta <= 0.

    Example:
        >>> from funcgrad.scipy.stats import gennorm
        >>> gennorm.logpdf(np.array([0.0, 3.0]), 2.0)
        array([-0.57236494, -9.57236494])
    """
    x, beta = _common.arrays(x, beta)
    valid = beta > 0
    safe = fnp.where(valid, beta, 1.0)
    value = fnp.log(safe) - _LOG_2 - special.gammaln(1 / safe) - fnp.abs(x) ** safe
    return _common.invalid_as_nan(valid, value, at=x)


def pdf(x, beta):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import gennorm
        >>> gennorm.pdf(np.array([1.0]), 1.0)
        array([0.18393972])
    """
    return fnp.exp(logpdf(x, beta))


def cdf(x, beta):
    """1/2 + sign(x) gammainc(1/beta, |x|^beta) / 2 (the lower tail as gammaincc, which
    keeps its digits there).

    Example:
        >>> from funcgrad.scipy.stats import gennorm
        >>> gennorm.cdf(np.array([-30.0, 0.0, 1.0]), 1.0)
        array([4.67881148e-14, 5.00000000e-01, 8.16060279e-01])
    """
    x, beta = _common.arrays(x, beta)
    valid = beta > 0
    safe = fnp.where(valid, beta, 1.0)
    # at 0, 1/2 + x pdf(0): the slope there is the density (|x|^beta's is 0, or 0 times
    # gammaincc's infinite one for beta > 1), and the slope in beta is 0; at +-inf, 0 or 1
    # and flat (the formula's slopes there are nan)
    centre, infinite = x == 0, fnp.isinf(x)
    t = fnp.abs(fnp.where(centre | infinite, 1.0, x)) ** safe
    upper = 0.5 * special.gammaincc(1 / safe, t)
    upper = fnp.where(infinite, 0.0, upper)
    density = fnp.exp(fnp.log(safe) - _LOG_2 - special.gammaln(1 / safe))
    at_centre = fnp.where(centre, x, 0.0)  # (x * density would be inf * 0 at inf)
    value = fnp.where(centre, 0.5 + at_centre * density, fnp.where(x < 0, upper, 1.0 - upper))
    return _common.invalid_as_nan(valid, value, at=x)
