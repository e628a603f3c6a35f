"""The multivariate normal distribution N(mean, cov), for points along the last axis of x.

The covariance is factored by funcgrad.numpy.linalg.cholesky and the points whitened by
funcgrad.scipy.linalg.solve_triangular (LAPACK when compiled). A stack of covariances
(shape (..., d, d)) is factored by a Cholesky decomposition written with funcgrad's array
operations, one column at a time, whose traced size grows with d squared.

Example:
    >>> from funcgrad.scipy.stats import multivariate_normal
    >>> multivariate_normal.logpdf(np.array([0.0, 0.0]), np.zeros(2), np.eye(2))
    np.float64(-1.8378770664093453)
"""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad.numpy import linalg
from funcgrad.scipy import linalg as scipy_linalg
from funcgrad.core import errors
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "entropy"]


def _cholesky_columns(cov, d):
    """The columns of the lower Cholesky factor L of ``cov`` (cov = L L^T)."""
    columns = []
    rows = fnp.arange(d)
    for j in range(d):
        v = cov[..., :, j]
        if columns:
            previous = fnp.stack(columns, axis=-1)                 # (..., d, j)
            v = v - fnp.sum(previous * previous[..., j:j + 1, :], axis=-1)
        pivot = fnp.sqrt(v[..., j:j + 1])
        columns.append(fnp.where(rows > j, v / pivot, fnp.where(rows == j, pivot, 0.0)))
    return columns


def _forward_substitution(columns, r, d):
    """y with L y = r, from L's columns."""
    ys = []
    for i in range(d):
        value = r[..., i]
        for k in range(i):
            value = value - columns[k][..., i] * ys[k]
        ys.append(value / columns[i][..., i])
    return fnp.stack(ys, axis=-1)


def _defaults(x, mean, cov):
    """SciPy's defaults: mean 0 and cov 1 (the identity), a scalar cov a multiple of it."""
    dtype = _common.arrays(x)[0].dtype  # x alone: the defaults do not widen a float32 x
    d = fnp.shape(x)[-1] if fnp.ndim(x) else 1
    mean = fnp.zeros(d, dtype) if mean is None else mean
    if cov is None or fnp.ndim(cov) == 0:
        cov = (1.0 if cov is None else cov) * fnp.eye(d, dtype=dtype)
    return x, mean, cov, d


def logpdf(x, mean=None, cov=1, allow_singular=False):
    """-(x - mean)^T cov^-1 (x - mean) / 2 - log det(cov) / 2 - d log(2 pi) / 2.

    With ``allow_singular=True`` a singular (positive semi-definite, 2-D) ``cov`` is allowed,
    as in SciPy: the inverse and determinant become the pseudo-inverse and pseudo-determinant
    over the eigenvalues above SciPy's cutoff, and points off the distribution's support get
    -inf.

    Example:
        >>> from funcgrad.scipy.stats import multivariate_normal
        >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
        >>> multivariate_normal.logpdf(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2), cov)
        array([-2.40339925, -2.68911353])
    """
    x, mean, cov, d = _defaults(x, mean, cov)
    x, mean, cov = _common.arrays(x, mean, cov, elementwise=False)
    if fnp.ndim(cov) < 2 or fnp.shape(cov)[-2:] != (d, d):
        raise errors.ShapeError(f"multivariate_normal's cov must be a {d}x{d} matrix for points of "
                         f"dimension {d}, got shape {fnp.shape(cov)}")
    if allow_singular:
        return _logpdf_singular(x, mean, cov, d)
    if fnp.ndim(cov) == 2:
        factor = linalg.cholesky(cov)
        residual = x - mean
        batch = fnp.shape(residual)[:-1]
        y = scipy_linalg.solve_triangular(factor, fnp.reshape(residual, (-1, d)).T, lower=True)
        squared = fnp.reshape(fnp.sum(y * y, axis=0), batch)
        log_diag = fnp.sum(fnp.log(fnp.diagonal(factor)))
    else:
        columns = _cholesky_columns(cov, d)
        y = _forward_substitution(columns, x - mean, d)
        squared = fnp.sum(y * y, axis=-1)
        log_diag = sum(fnp.log(columns[j][..., j]) for j in range(d))
    return -0.5 * squared - log_diag - 0.5 * d * _common.LOG_2PI


def _logpdf_singular(x, mean, cov, d):
    if fnp.ndim(cov) != 2:
        raise errors.ShapeError("multivariate_normal with allow_singular=True takes one "
                                f"covariance matrix, not a stack of shape {fnp.shape(cov)}")
    w, v = linalg.eigh(cov)
    kept = w > _SINGULAR_CUTOFF * fnp.max(fnp.abs(w))
    safe_w = fnp.where(kept, w, 1.0)
    z = fnp.matmul(x - mean, v)                             # coordinates in the eigenbasis
    squared = fnp.sum(fnp.where(kept, z * z / safe_w, 0.0), axis=-1)
    off_support = fnp.any(fnp.where(kept, False, fnp.abs(z) > _SUPPORT_TOLERANCE), axis=-1)
    rank = fnp.sum(kept)
    log_pdet = fnp.sum(fnp.where(kept, fnp.log(safe_w), 0.0))
    value = -0.5 * (squared + log_pdet + rank * _common.LOG_2PI)
    return fnp.where(off_support, -fnp.inf, value)


# SciPy's cutoff for eigenvalues taken as zero (relative to the largest), and its tolerance
# for a point lying in the support of a degenerate distribution
_SINGULAR_CUTOFF = 1e6 * 2.220446049250313e-16
_SUPPORT_TOLERANCE = 1e-5


def pdf(x, mean=None, cov=1, allow_singular=False):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import multivariate_normal
        >>> multivariate_normal.pdf(np.array([0.0]), np.array([0.0]), np.array([[1.0]]))
        np.float64(0.3989422804014327)
    """
    return fnp.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean=None, cov=1):
    """The differential entropy (d (1 + log 2 pi) + log det cov) / 2, in nats.

    Example:
        >>> from funcgrad.scipy.stats import multivariate_normal
        >>> multivariate_normal.entropy(np.zeros(2), np.eye(2))
        np.float64(2.8378770664093453)
    """
    if mean is None and fnp.ndim(cov) == 0:
        mean = fnp.zeros(1)
    d = fnp.shape(mean)[-1] if fnp.ndim(mean) else 1
    _, mean, cov, d = _defaults(fnp.zeros(d), mean, cov)
    return 0.5 * (d * (1.0 + _common.LOG_2PI) + linalg.slogdet(cov)[1])
