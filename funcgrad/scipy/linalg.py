"""scipy.linalg's factorizations and solves, traceable and differentiable.

They share funcgrad.numpy.linalg's primitives (funcgrad.ops.decompositions) and its
conventions (see its docstring): ``cholesky`` and ``cho_factor`` read the symmetric part of
their input, so their gradients are symmetric. Leading axes are batch axes; a 1-D ``b`` is a
vector, anything else a stack of (n, k) matrices. ``overwrite_*`` and ``check_finite`` are
accepted and ignored (arrays are never modified, and nothing is checked for NaN).

Example:
    >>> import numpy as np
    >>> from funcgrad.scipy.linalg import cho_factor, cho_solve
    >>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> cho_solve(cho_factor(a), np.array([2.0, 1.0]))
    array([0.5, 0. ])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.numpy import linalg as _la
from funcgrad.numpy._util import array_arg
from funcgrad.ops import decompositions as dec

__all__ = ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "lu_factor", "lu_solve",
           "expm", "block_diag"]


def _rhs(a, b, name):
    """a and b in a common float dtype, broadcast to (..., n, n) and (..., n, k), and a
    function putting the solution back in b's shape."""
    a = _la._matrix(a, "a", square=True)
    b = _la._float(b, "b")
    a, b = _la._common(a, b)
    n = a.shape[-1]
    vector = b.ndim == 1
    if b.ndim == 0 or b.shape[-1 if vector else -2] != n:
        raise ShapeError(f"{name}: b of shape {tuple(b.shape)} does not match a of shape "
                         f"{tuple(a.shape)}")
    a, b = _la._batch_broadcast(a, fnp.reshape(b, (n, 1)) if vector else b)
    return a, b, (lambda x: x[..., 0]) if vector else (lambda x: x)


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a symmetric positive definite matrix: upper triangular U with
    ``a = U.T @ U`` by default, lower L with ``a = L @ L.T`` if ``lower``.

    Example:
        >>> from funcgrad.scipy.linalg import cholesky
        >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 1.],
               [0., 2.]])
    """
    return _la.cholesky(a, upper=not lower)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower) for cho_solve: c is ``cholesky(a, lower)``. (SciPy leaves arbitrary values
    in c's other triangle; funcgrad leaves zeros.)

    Example:
        >>> from funcgrad.scipy.linalg import cho_factor
        >>> cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]), lower=True)
        (array([[2., 0.],
               [1., 2.]]), True)
    """
    return cholesky(a, lower=lower), bool(lower)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with ``a @ x = b``, given ``(c, lower) = cho_factor(a)``. Reads only c's triangle.

    Example:
        >>> from funcgrad.scipy.linalg import cho_factor, cho_solve
        >>> cho_solve(cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]])), np.array([6.0, 7.0]))
        array([1., 1.])
    """
    c, lower = c_and_lower
    c, b, shape_back = _rhs(c, b, "cho_solve")
    if lower:  # L L^T x = b
        y = dec.triangular_solve(c, b, lower=True)
        x = dec.triangular_solve(c, y, lower=True, transpose_a=True)
    else:      # U^T U x = b
        y = dec.triangular_solve(c, b, lower=False, transpose_a=True)
        x = dec.triangular_solve(c, y, lower=False)
    return shape_back(x)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """x with ``a @ x = b`` (``trans`` 0 or "N"), ``a.T @ x = b`` (1, "T", 2 or "C"), reading
    only a's lower or upper triangle (its diagonal taken as ones if ``unit_diagonal``).

    Example:
        >>> from funcgrad.scipy.linalg import solve_triangular
        >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]),
        ...                  lower=True)
        array([1., 2.])
    """
    transposed = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}.get(trans)
    if transposed is None:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', not "
                         f"{trans!r}")
    a, b, shape_back = _rhs(a, b, "solve_triangular")
    return shape_back(dec.triangular_solve(a, b, lower=lower, transpose_a=transposed,
                                           unit_diagonal=unit_diagonal))


def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv): the LU factorization with partial pivoting, as LAPACK's getrf. lu holds U
    on and above the diagonal and L (unit diagonal) below; row i was swapped with piv[i].

    Example:
        >>> from funcgrad.scipy.linalg import lu_factor
        >>> lu, piv = lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> lu, piv
        (array([[3.        , 4.        ],
               [0.33333333, 0.66666667]]), array([1, 1], dtype=int32))
    """
    return tuple(dec.lu(_la._matrix(a, "a", square=True)))


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x with ``a @ x = b`` (``trans`` 0), or ``a.T @ x = b`` (1 or 2), given
    ``(lu, piv) = lu_factor(a)``.

    Example:
        >>> from funcgrad.scipy.linalg import lu_factor, lu_solve
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> lu_solve(lu_factor(a), np.array([5.0, 11.0]))
        array([1., 2.])
    """
    lu, piv = lu_and_piv
    if trans not in (0, 1, 2, "N", "T", "C"):
        raise ValueError(f"lu_solve: trans must be 0, 1 or 2, not {trans!r}")
    lu, b, shape_back = _rhs(lu, b, "lu_solve")
    piv = array_arg(piv, "piv")
    n = lu.shape[-1]
    perm = dec.pivots_to_permutation(fnp.broadcast_to(piv, tuple(lu.shape[:-2]) + (n,)))
    # P with (P @ a)[i] = a[perm[i]]: P a = L U
    P = fnp.astype(perm[..., :, None] == fnp.arange(n, dtype=np.int32), lu.dtype)
    if trans in (0, "N"):  # L U x = P b
        y = dec.triangular_solve(lu, fnp.matmul(P, b), lower=True, unit_diagonal=True)
        return shape_back(dec.triangular_solve(lu, y, lower=False))
    # a^T = U^T L^T P: U^T L^T (P x) = b
    z = dec.triangular_solve(lu, b, lower=False, transpose_a=True)
    w = dec.triangular_solve(lu, z, lower=True, transpose_a=True, unit_diagonal=True)
    return shape_back(fnp.matmul(fnp.swapaxes(P, -1, -2), w))


# --- expm: scaling and squaring with the degree 13 Pade approximant (Higham 2005) --------

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152  # the largest 1-norm for which Pade 13 is accurate to eps
_MAX_SQUARINGS = 40           # traced matrices: enough for 1-norms up to 5e12


def expm(A):
    """The matrix exponential of each square matrix, by scaling and squaring with the degree
    13 Padé approximant (Higham 2005), written in funcgrad's operations: its gradient is the
    exact derivative of the approximation. Concrete inputs square as many times as their norm
    needs; traced ones square up to 40 times, each step kept or skipped by ``where``.

    Example:
        >>> from funcgrad.scipy.linalg import expm
        >>> expm(np.array([[0.0, 1.0], [0.0, 0.0]]))
        array([[1., 1.],
               [0., 1.]])
    """
    A = _la._matrix(A, "A", square=True)
    norm1 = fnp.max(fnp.sum(fnp.abs(A), axis=-2), axis=-1)  # the 1-norm of each matrix
    safe = fnp.where(norm1 > 0, norm1, fnp.ones_like(norm1))
    squarings = fnp.maximum(0.0, fnp.ceil(fnp.log2(safe / _THETA13)))
    scaled = A * fnp.exp2(-squarings)[..., None, None]
    R = _pade13(scaled)
    if isinstance(squarings, Tracer):
        for k in range(_MAX_SQUARINGS):
            R = fnp.where((squarings > k)[..., None, None], fnp.matmul(R, R), R)
        return R
    counts = np.asarray(squarings)
    for k in range(int(counts.max(initial=0))):
        R = fnp.where((counts > k)[..., None, None], fnp.matmul(R, R), R) \
            if counts.ndim else fnp.matmul(R, R)
    return R


def _pade13(A):
    b = _PADE13
    eye = _la._eye_like(A)
    A2 = fnp.matmul(A, A)
    A4 = fnp.matmul(A2, A2)
    A6 = fnp.matmul(A4, A2)
    U = fnp.matmul(A, fnp.matmul(A6, b[13] * A6 + b[11] * A4 + b[9] * A2)
                   + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = (fnp.matmul(A6, b[12] * A6 + b[10] * A4 + b[8] * A2)
         + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye)
    return dec.solve(V - U, V + U)


def block_diag(*arrs):
    """The block diagonal matrix of the arrays (0-d and 1-d ones are rows), zeros elsewhere.

    Example:
        >>> from funcgrad.scipy.linalg import block_diag
        >>> block_diag(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]))
        array([[1., 2., 0.],
               [0., 0., 3.],
               [0., 0., 4.]])
    """
    if not arrs:
        return np.empty((1, 0))
    blocks = [fnp.atleast_2d(array_arg(a)) for a in arrs]
    if any(b.ndim > 2 for b in blocks):
        raise ShapeError("block_diag: arguments must have at most 2 axes")
    dtype = np.result_type(*[b.dtype for b in blocks])
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        right = width - left - b.shape[1]
        rows.append(fnp.pad(fnp.astype(b, dtype), ((0, 0), (left, right))))
        left += b.shape[1]
    return fnp.concatenate(rows, axis=0)
