"""Special functions under scipy.special's names, composed from funcgrad primitives.

Example:
    >>> import numpy as np
    >>> from funcgrad.scipy.special import expit
    >>> expit(np.array([0.0]))
    array([0.5])
"""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad.nn import logsumexp as _logsumexp
from funcgrad.numpy._util import scalar_or_array
from funcgrad.ops.elementwise import erf as _erf
from funcgrad.ops.elementwise import logistic

__all__ = ["logsumexp", "expit", "logit", "xlogy", "erf"]


def logsumexp(a, axis=None, keepdims=False):
    """log(sum(exp(a))) over ``axis``, stable for large inputs (funcgrad.nn.logsumexp)."""
    return _logsumexp(a, axis=axis, keepdims=keepdims)


def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    return logistic(scalar_or_array(x))


def logit(p):
    """log(p / (1 - p)), the inverse of expit."""
    p = scalar_or_array(p)
    return fnp.log(p) - fnp.log1p(-p)


def xlogy(x, y):
    """x * log(y), defined as 0 where x == 0 (also when y == 0)."""
    x, y = scalar_or_array(x), scalar_or_array(y)
    safe_y = fnp.where(x == 0, 1, y)
    return fnp.where(x == 0, 0, x * fnp.log(safe_y))


def erf(x):
    """The error function 2/sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    return _erf(scalar_or_array(x))
