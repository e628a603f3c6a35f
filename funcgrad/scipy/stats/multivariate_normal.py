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

__all__ = ["logpdf", "pdf"]


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


def logpdf(x, mean, cov):
    """-(x - mean)^T cov^-1 (x - mean) / 2 - log det(cov) / 2 - d log(2 pi) / 2.

    Example:
        >>> from funcgrad.scipy.stats import multivariate_normal
        >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
        >>> multivariate_normal.logpdf(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2), cov)
        array([-2.40339925, -2.68911353])
    """
    x, mean, cov = _common.arrays(x, mean, cov)
    d = fnp.shape(x)[-1] if fnp.ndim(x) else 1
    if fnp.ndim(cov) < 2 or fnp.shape(cov)[-2:] != (d, d):
        raise errors.ShapeError(f"multivariate_normal's cov must be a {d}x{d} matrix for points of "
                         f"dimension {d}, got shape {fnp.shape(cov)}")
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


def pdf(x, mean, cov):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import multivariate_normal
        >>> multivariate_normal.pdf(np.array([0.0]), np.array([0.0]), np.array([[1.0]]))
        np.float64(0.3989422804014327)
    """
    return fnp.exp(logpdf(x, mean, cov))
