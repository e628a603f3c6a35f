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
           "expm", "block_diag", "solve", "inv", "det", "eigh", "eigvalsh", "svd", "svdvals", "qr",
           "lu", "norm", "pinv", "lstsq", "toeplitz", "circulant", "hankel", "solve_sylvester",
           "solve_banded"]


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
    An (m, n) matrix has min(m, n) row swaps (lu_solve needs a square one).

    Example:
        >>> from funcgrad.scipy.linalg import lu_factor
        >>> lu, piv = lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> lu, piv
        (array([[3.        , 4.        ],
               [0.33333333, 0.66666667]]), array([1, 1], dtype=int32))
    """
    return tuple(dec.lu(_la._matrix(a, "a")))


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
    norm1 = _la._largest(fnp.sum(fnp.abs(A), axis=-2))  # the 1-norm of each matrix
    # a NaN or inf norm squares no times: the Pade approximant of such a matrix is NaN already
    # (its solve's), and the number of squarings must stay an integer
    safe = fnp.where((norm1 > 0) & fnp.isfinite(norm1), norm1, fnp.ones_like(norm1))
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


# --- scipy.linalg's names for what funcgrad.numpy.linalg computes ------------------------


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a="gen", transposed=False):
    """x with ``a @ x = b`` (``a.T @ x = b`` if ``transposed``). ``assume_a="pos"`` solves by
    a Cholesky factorization (of a's symmetric part); "gen", "sym" and the rest by LU.

    Example:
        >>> from funcgrad.scipy.linalg import solve
        >>> solve(np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([9.0, 8.0]))
        array([2., 3.])
    """
    a = _la._matrix(a, "a", square=True)
    if transposed:
        a = fnp.swapaxes(a, -1, -2)
    if assume_a in ("pos", "positive definite"):
        return cho_solve(cho_factor(a, lower=lower), b)
    a, b, shape_back = _rhs(a, b, "solve")
    return shape_back(dec.solve(a, b))


def inv(a, overwrite_a=False, check_finite=True):
    """The inverse of each square matrix (funcgrad.numpy.linalg.inv).

    Example:
        >>> from funcgrad.scipy.linalg import inv
        >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    return _la.inv(a)


def det(a, overwrite_a=False, check_finite=True):
    """The determinant of each square matrix (funcgrad.numpy.linalg.det).

    Example:
        >>> from funcgrad.scipy.linalg import det
        >>> det(np.array([[1.0, 2.0], [3.0, 4.0]]))
        np.float64(-2.0)
    """
    return _la.det(a)


def eigh(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         check_finite=True, **options):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix; with ``b`` (symmetric
    positive definite), of the generalized problem ``a v = w b v``, reduced to a standard one
    by b's Cholesky factor L: the eigenvectors of ``L^-1 a L^-T``, mapped back by ``L^-T``
    (so that ``v.T @ b @ v = I``, as LAPACK's). Subset options are not supported.

    Example:
        >>> from funcgrad.scipy.linalg import eigh
        >>> eigh(np.array([[2.0, 0.0], [0.0, 1.0]]), eigvals_only=True)
        array([1., 2.])
    """
    if options:
        raise NotImplementedError(f"eigh: options {sorted(options)} are not supported")
    uplo = "L" if lower else "U"
    if b is None:
        w, v = _la.eigh(a, UPLO=uplo)
    else:
        factor = _la.cholesky(b)
        left = solve_triangular(factor, a, lower=True)                       # L^-1 a
        c = fnp.swapaxes(solve_triangular(factor, fnp.swapaxes(left, -1, -2), lower=True),
                         -1, -2)                                              # L^-1 a L^-T
        w, u = _la.eigh(c, UPLO=uplo)
        v = solve_triangular(factor, u, lower=True, trans=1)                 # L^-T u
    return w if eigvals_only else (w, v)


def eigvalsh(a, b=None, lower=True, overwrite_a=False, overwrite_b=False, check_finite=True):
    """The eigenvalues of a symmetric matrix, ascending (generalized with ``b``, as eigh).

    Example:
        >>> from funcgrad.scipy.linalg import eigvalsh
        >>> eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        array([1., 3.])
    """
    return eigh(a, b, lower=lower, eigvals_only=True)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """(U, s, Vh) with ``a = U @ diag(s) @ Vh``, or s alone (funcgrad.numpy.linalg.svd).

    Example:
        >>> from funcgrad.scipy.linalg import svd
        >>> svd(np.array([[3.0, 0.0], [0.0, -2.0]]), compute_uv=False)
        array([3., 2.])
    """
    out = _la.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def svdvals(a, overwrite_a=False, check_finite=True):
    """The singular values of each matrix, descending.

    Example:
        >>> from funcgrad.scipy.linalg import svdvals
        >>> svdvals(np.array([[0.0, 2.0], [1.0, 0.0]]))
        array([2., 1.])
    """
    return _la.svdvals(a)


_QR_MODES = {"full": "complete", "economic": "reduced", "r": "r"}


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """(Q, R) with ``a = Q @ R``: Q square for ``mode="full"``, (m, k) for "economic";
    ``mode="r"`` returns the 1-tuple ``(R,)``, as SciPy does. With ``pivoting``, (Q, R, P)
    (``(R, P)`` for "r"): ``a[..., P] = Q @ R``, P the int32 column order of LAPACK's geqp3,
    which makes |R|'s diagonal non-increasing. P has no derivative; Q and R differentiate
    as the QR of ``a[..., P]`` with P held fixed, as JAX's.

    Example:
        >>> from funcgrad.scipy.linalg import qr
        >>> q, r = qr(np.array([[3.0], [4.0]]), mode="economic")
        >>> q, r
        (array([[-0.6],
               [-0.8]]), array([[-5.]]))
        >>> qr(np.array([[1.0, 0.0], [0.0, 2.0]]), mode="r", pivoting=True)[1]
        array([1, 0], dtype=int32)
    """
    if mode not in _QR_MODES:
        raise ValueError(f"qr: mode must be one of {sorted(_QR_MODES)}, not {mode!r}")
    a = _la._matrix(a, "a")
    perm = None
    if pivoting:
        perm = dec.qr_pivots(a)
        a = fnp.take_along_axis(a, perm[..., None, :], axis=-1)
    if mode == "r":  # SciPy's R is (m, n), as in mode "full": the reduced one's rows, then
        # zeros (so it compiles and differentiates as the reduced one does)
        r = _la.qr(a, mode="r")
        out = (fnp.pad(r, [(0, 0)] * (r.ndim - 2) + [(0, a.shape[-2] - r.shape[-2]), (0, 0)]),)
    else:
        out = tuple(_la.qr(a, mode=_QR_MODES[mode]))
    return out if perm is None else out + (perm,)


def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """The LU factorization with partial pivoting of an (m, n) matrix: (P, L, U) with
    ``a = P @ L @ U``, P (m, m), L (m, k) unit lower triangular and U (k, n) upper
    triangular, k = min(m, n); ``(P @ L, U)`` if ``permute_l``; with ``p_indices``, row
    indices p instead of P, such that ``a = L[p] @ U``. Leading axes are a batch.

    Example:
        >>> from funcgrad.scipy.linalg import lu
        >>> p, l, u = lu(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> p @ l @ u
        array([[1., 2.],
               [3., 4.]])
        >>> [x.shape for x in lu(np.ones((4, 2)))]
        [(4, 4), (4, 2), (2, 2)]
    """
    a = _la._matrix(a, "a")
    packed, piv = dec.lu(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    lower = fnp.tril(packed[..., :, :k], -1) + fnp.eye(m, k, dtype=a.dtype)
    upper = fnp.triu(packed[..., :k, :])
    perm = dec.pivots_to_permutation(piv, size=m)          # a[perm] = L @ U
    if p_indices:
        return _inverse_permutation(perm), lower, upper
    P = fnp.astype(fnp.arange(m, dtype=np.int32)[:, None] == perm[..., None, :], a.dtype)
    return (fnp.matmul(P, lower), upper) if permute_l else (P, lower, upper)


def _inverse_permutation(perm):
    """p with p[perm] = arange: int32, as SciPy's p_indices."""
    return fnp.astype(fnp.argsort(perm, axis=-1), np.int32)


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """Vector and matrix norms (funcgrad.numpy.linalg.norm).

    Example:
        >>> from funcgrad.scipy.linalg import norm
        >>> norm(np.array([3.0, 4.0]))
        np.float64(5.0)
    """
    return _la.norm(a, ord=ord, axis=axis, keepdims=keepdims)


def pinv(a, atol=None, rtol=None, return_rank=False, check_finite=True):
    """The Moore-Penrose pseudo-inverse (funcgrad.numpy.linalg.pinv; ``atol`` unsupported).

    Example:
        >>> from funcgrad.scipy.linalg import pinv
        >>> pinv(np.array([[2.0, 0.0], [0.0, 0.0]]))
        array([[0.5, 0. ],
               [0. , 0. ]])
    """
    if atol is not None or return_rank:
        raise NotImplementedError("pinv: atol and return_rank are not supported; use rtol")
    return _la.pinv(a) if rtol is None else _la.pinv(a, rtol=rtol)


def lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True,
          lapack_driver=None):
    """(x, residues, rank, s): the least-squares solution of ``a @ x = b`` and what
    funcgrad.numpy.linalg.lstsq reports with it.

    Example:
        >>> from funcgrad.scipy.linalg import lstsq
        >>> lstsq(np.array([[1.0], [1.0]]), np.array([1.0, 3.0]))[0]
        array([2.])
    """
    return tuple(_la.lstsq(a, b, rcond=cond))


def _from_diagonals(values, index):
    """The matrices ``values[..., index]`` for a static integer matrix of positions (the
    leading axes of ``values`` are a batch)."""
    return fnp.take(values, np.asarray(index), axis=-1)


def _vectors(c, r):
    """``c`` and ``r`` as batches of vectors (a number is a vector of one), their leading
    axes broadcast against each other: as JAX's (and SciPy 1.17's toeplitz) batch them."""
    c, r = fnp.atleast_1d(c), fnp.atleast_1d(r)
    batch = np.broadcast_shapes(tuple(c.shape[:-1]), tuple(r.shape[:-1]))
    return (fnp.broadcast_to(c, (*batch, c.shape[-1])),
            fnp.broadcast_to(r, (*batch, r.shape[-1])))


def toeplitz(c, r=None):
    """The Toeplitz matrix with first column ``c`` and first row ``r`` (``r[0]`` is
    ignored; ``r`` defaults to ``c``). Leading axes of ``c`` and ``r`` are a batch, as in
    JAX and SciPy 1.17 (older SciPy ravelled them).

    Example:
        >>> from funcgrad.scipy.linalg import toeplitz
        >>> toeplitz(np.array([1.0, 2.0, 3.0]), np.array([1.0, 4.0]))
        array([[1., 4.],
               [2., 1.],
               [3., 2.]])
    """
    c = array_arg(c, "c")
    c, r = _vectors(c, c if r is None else array_arg(r, "r"))
    m, n = c.shape[-1], r.shape[-1]
    values = fnp.concatenate([fnp.flip(r[..., 1:], axis=-1), c], axis=-1)  # r[n-1]..r[1], c
    i, j = np.indices((m, n))
    return _from_diagonals(values, (n - 1) + i - j)


def circulant(c):
    """The circulant matrix whose first column is ``c``: ``C[i, j] = c[(i - j) % n]``.
    Leading axes of ``c`` are a batch, as in JAX and SciPy 1.17.

    Example:
        >>> from funcgrad.scipy.linalg import circulant
        >>> circulant(np.array([1.0, 2.0, 3.0]))
        array([[1., 3., 2.],
               [2., 1., 3.],
               [3., 2., 1.]])
    """
    c = fnp.atleast_1d(array_arg(c, "c"))
    i, j = np.indices((c.shape[-1],) * 2)
    return _from_diagonals(c, (i - j) % c.shape[-1])


def hankel(c, r=None):
    """The Hankel matrix with first column ``c`` and last row ``r`` (``r[0]`` is ignored;
    ``r`` defaults to zeros): ``H[i, j] = c[i + j]``, continued by ``r``. Leading axes of
    ``c`` and ``r`` are a batch, as in JAX (SciPy before 1.19 ravels them, with a warning).

    Example:
        >>> from funcgrad.scipy.linalg import hankel
        >>> hankel(np.array([1.0, 2.0, 3.0]))
        array([[1., 2., 3.],
               [2., 3., 0.],
               [3., 0., 0.]])
    """
    c = array_arg(c, "c")
    c, r = _vectors(c, fnp.zeros_like(c) if r is None else array_arg(r, "r"))
    values = fnp.concatenate([c, r[..., 1:]], axis=-1)
    i, j = np.indices((c.shape[-1], r.shape[-1]))
    return _from_diagonals(values, i + j)


def solve_sylvester(a, b, q):
    """X with ``a @ X + X @ b = q``, by solving the equivalent linear system of size
    ``n m`` (Kronecker form): exact and differentiable, at O((n m)^3) cost, so meant for
    small matrices (SciPy's Bartels-Stewart needs a Schur form funcgrad lacks).

    Example:
        >>> from funcgrad.scipy.linalg import solve_sylvester
        >>> solve_sylvester(np.eye(2), np.eye(2), np.array([[2.0, 4.0], [6.0, 8.0]]))
        array([[1., 2.],
               [3., 4.]])
    """
    a = _la._matrix(a, "a", square=True)
    b = _la._matrix(b, "b", square=True)
    q = array_arg(q, "q")
    n, m = a.shape[-1], b.shape[-1]
    if tuple(q.shape) != (n, m):
        raise ShapeError(f"solve_sylvester: q must have shape ({n}, {m}) for a of shape "
                         f"{tuple(a.shape)} and b of shape {tuple(b.shape)}, not {q.shape}")
    # row-major vec: vec(a X) = (a kron I_m) vec(X), vec(X b) = (I_n kron b.T) vec(X)
    eye_n, eye_m = np.eye(n), np.eye(m)
    system = (fnp.reshape(a[:, None, :, None] * eye_m[None, :, None, :], (n * m, n * m))
              + fnp.reshape(eye_n[:, None, :, None] * fnp.transpose(b)[None, :, None, :],
                            (n * m, n * m)))
    return fnp.reshape(dec.solve(system, fnp.reshape(q, (n * m, 1))), (n, m))


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """x with ``a @ x = b`` for a banded ``a`` given in LAPACK's band storage
    (``ab[u + i - j, j] = a[i, j]``), solved densely: differentiable in ``ab`` and ``b``.

    Example:
        >>> from funcgrad.scipy.linalg import solve_banded
        >>> ab = np.array([[0.0, 1.0, 1.0], [2.0, 2.0, 2.0], [1.0, 1.0, 0.0]])
        >>> solve_banded((1, 1), ab, np.array([3.0, 4.0, 3.0]))
        array([1., 1., 1.])
    """
    lower, upper = (int(k) for k in l_and_u)
    ab = array_arg(ab, "ab")
    if ab.ndim != 2 or ab.shape[0] != lower + upper + 1:
        raise ShapeError(f"solve_banded: ab must have l + u + 1 = {lower + upper + 1} rows "
                         f"for (l, u) = {(lower, upper)}, not shape {tuple(ab.shape)}")
    n = ab.shape[1]
    i, j = np.indices((n, n))
    band = (i - j <= lower) & (j - i <= upper)
    flat = np.where(band, (upper + i - j) * n + j, 0)
    a = fnp.where(band, fnp.take(fnp.ravel(ab), flat), 0.0)
    return solve(a, b)
