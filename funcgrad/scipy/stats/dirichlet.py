"""The Dirichlet distribution on the probability simplex, with concentrations ``alpha``.

As in SciPy, the K coordinates of ``x`` run along its first axis (the last of them may be
left out: it is 1 minus the others' sum); points off the simplex have log density -inf.

Example:
    >>> from funcgrad.scipy.stats import dirichlet
    >>> dirichlet.pdf(np.array([0.2, 0.3, 0.5]), np.array([1.0, 1.0, 1.0]))
    np.float64(2.0)
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core import errors
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf"]


def logpdf(x, alpha):
    """sum_i (alpha_i - 1) log x_i - sum_i lgamma(alpha_i) + lgamma(sum_i alpha_i).

    Example:
        >>> from funcgrad.scipy.stats import dirichlet
        >>> x = np.array([[0.2, 0.5], [0.8, 0.5]])  # two points, one per column
        >>> dirichlet.logpdf(x, np.array([2.0, 3.0]))
        array([0.42918163, 0.40546511])
    """
    x, alpha = _common.arrays(x, alpha, elementwise=False)
    if fnp.ndim(alpha) != 1:
        raise errors.ShapeError(f"dirichlet's alpha must be a vector, got shape {fnp.shape(alpha)}")
    k = fnp.shape(alpha)[0]
    if fnp.shape(x)[:1] == (k - 1,):
        x = fnp.concatenate([x, 1.0 - fnp.sum(x, axis=0, keepdims=True)], axis=0)
    if fnp.shape(x)[:1] != (k,):
        raise errors.ShapeError(f"dirichlet's x must have {k} (or {k - 1}) entries along its first "
                         f"axis, one per entry of alpha; got shape {fnp.shape(x)}")
    a = fnp.reshape(alpha, (k,) + (1,) * (fnp.ndim(x) - 1))
    on_simplex = fnp.logical_and(fnp.all(x >= 0, axis=0),
                                 fnp.abs(fnp.sum(x, axis=0) - 1.0) < 1e-10)
    safe_x = fnp.where(on_simplex, x, 1.0 / k)
    log_norm = fnp.sum(special.gammaln(alpha)) - special.gammaln(fnp.sum(alpha))
    value = fnp.sum(special.xlogy(a - 1.0, safe_x), axis=0) - log_norm
    return _common.invalid_as_nan(fnp.all(alpha > 0), fnp.where(on_simplex, value, -np.inf))


def pdf(x, alpha):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import dirichlet
        >>> dirichlet.pdf(np.array([0.5, 0.5]), np.array([2.0, 2.0]))
        np.float64(1.5)
    """
    return fnp.exp(logpdf(x, alpha))
