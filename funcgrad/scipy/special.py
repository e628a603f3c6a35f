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
    """log(sum(exp(a))) over ``axis``, stable for large inputs (funcgrad.nn.logsumexp).

    Example:
        >>> from funcgrad.scipy.special import logsumexp
        >>> logsumexp(np.array([[0.0, 0.0], [1e4, 1e4]]), axis=1)
        array([6.93147181e-01, 1.00006931e+04])
    """
    return _logsumexp(a, axis=axis, keepdims=keepdims)


def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x)).

    Example:
        >>> from funcgrad.scipy.special import expit
        >>> expit(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
    """
    return logistic(scalar_or_array(x))


def logit(p):
    """log(p / (1 - p)), the inverse of expit.

    Example:
        >>> from funcgrad.scipy.special import logit
        >>> logit(np.array([0.5, 0.75]))
        array([0.        , 1.09861229])
    """
    p = scalar_or_array(p)
    return fnp.log(p) - fnp.log1p(-p)


def xlogy(x, y):
    """x * log(y), defined as 0 where x == 0 (also when y == 0).

    Example:
        >>> from funcgrad.scipy.special import xlogy
        >>> xlogy(np.array([0.0, 2.0]), np.array([0.0, np.e]))
        array([0., 2.])
    """
    x, y = scalar_or_array(x), scalar_or_array(y)
    safe_y = fnp.where(x == 0, 1, y)
    return fnp.where(x == 0, 0, x * fnp.log(safe_y))


def erf(x):
    """The error function 2/sqrt(pi) * integral of exp(-t^2) from 0 to x.

    Example:
        >>> from funcgrad.scipy.special import erf
        >>> erf(np.array([0.0, 1.0]))
        array([0.        , 0.84270079])
    """
    return _erf(scalar_or_array(x))
