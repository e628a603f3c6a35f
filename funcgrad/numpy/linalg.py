"""funcgrad.numpy.linalg: numpy.linalg's functions, traceable and differentiable.

Every function works on the last two axes and broadcasts over the leading ones, as NumPy
does; integer and boolean inputs compute in float64. The decompositions (``solve``, ``lu``,
``cholesky``, ``eigh``, ``svd``, ``qr``) and ``det`` are primitives of
funcgrad.ops.decompositions; everything else is composed from them and elementwise
operations, and differentiates and compiles through them.

Derivatives where NumPy's function does not define one by itself follow JAX:

- ``cholesky``, ``eigh`` and ``eigvalsh`` read the symmetric part ``(a + a.T) / 2`` of their
  input (``symmetrize_input=True``, the default), so their gradients are symmetric. With
  ``symmetrize_input=False`` they read one triangle, as NumPy does (``UPLO``), and the
  gradient lands on that triangle alone. For symmetric inputs the values are NumPy's.
- eigenvectors and singular vectors are defined up to sign: gradients are those of the
  vectors LAPACK returns, meaningful for functions that do not depend on the signs (or, for a
  repeated value, on the basis chosen in its space); the coupling of two exactly equal values
  is taken as 0 (exact for such functions).
- ``svd(full_matrices=True)`` of a non-square matrix, and ``qr(mode="complete")`` of a tall
  one, have values but no derivative (FuncgradError when differentiated). ``qr`` of a wide
  matrix ``[a1 a2]`` differentiates as JAX's: ``q r1 = a1`` square, ``r2 = q^T a2``.
- ``det``'s gradient is the transposed adjugate ``adj(a).T``, finite and exact at singular
  matrices too (zero at rank n - 2 or less), and so is its Hessian; ``slogdet``'s
  ``logabsdet`` has gradient ``inv(a).T``, infinite there.
- norms are 0-safe: the gradient of the 2-norm (and of any p-norm, and the Frobenius norm)
  at the zero vector is 0, not NaN (JAX 0.10's is NaN).

Example:
    >>> import numpy as np, funcgrad as fg
    >>> import funcgrad.numpy as fnp
    >>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> fnp.linalg.solve(a, np.array([1.0, 2.0]))
    array([0.2, 0.6])
    >>> fg.grad(lambda a: fnp.linalg.slogdet(a).logabsdet)(a)  # inv(a).T
    array([[ 0.6, -0.2],
           [-0.2,  0.4]])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._linalg import cross3 as _cross3
from funcgrad.numpy._util import array_arg, normalize_axis
from funcgrad.ops import decompositions as dec

LinAlgError = np.linalg.LinAlgError

__all__ = ["solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals",
           "qr", "norm", "vector_norm", "matrix_norm", "pinv", "lstsq", "matrix_power",
           "multi_dot", "matrix_rank", "cond", "trace", "diagonal", "outer", "cross", "matmul",
           "tensordot", "vecdot", "matrix_transpose", "tensorsolve", "tensorinv",
           "SlogdetResult", "EighResult", "SVDResult", "QRResult", "LinAlgError"]


class SlogdetResult(NamedTuple):
    """What ``slogdet`` returns: ``sign * exp(logabsdet)`` is the determinant.

    Example:
        >>> fnp.linalg.slogdet(np.diag([-1.0, np.e])).logabsdet
        np.float64(1.0)
    """
    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """What ``eigh`` returns: eigenvalues ascending, eigenvectors as columns.

    Example:
        >>> fnp.linalg.eigh(np.diag([2.0, 1.0])).eigenvalues
        array([1., 2.])
    """
    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    """What ``svd`` returns: ``a = U @ (S[..., None] * Vh)``, S descending.

    Example:
        >>> fnp.linalg.svd(np.diag([1.0, 3.0])).S
        array([3., 1.])
    """
    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    """What ``qr`` returns: ``a = Q @ R``.

    Example:
        >>> fnp.linalg.qr(np.eye(2)).R.shape
        (2, 2)
    """
    Q: Any
    R: Any


# --- argument handling ------------------------------------------------------------------


def _float(x, name="a"):
    """x as an array of float32 or float64 (NumPy computes the others in float64)."""
    x = array_arg(x, name)
    return x if x.dtype.kind == "f" else fnp.astype(x, np.float64)


def _matrix(x, name="a", square=False):
    x = _float(x, name)
    if x.ndim < 2:
        raise ShapeError(f"{name} needs at least 2 axes (a matrix), not shape {tuple(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"{name} needs square matrices in its last two axes, not shape "
                         f"{tuple(x.shape)}")
    return x


def _common(a, b):
    dtype = np.result_type(a.dtype, b.dtype)
    return fnp.astype(a, dtype), fnp.astype(b, dtype)


def _batch_broadcast(a, b):
    """a (..., n, n) and b (..., n, k) with their batch axes broadcast together."""
    batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    return (fnp.broadcast_to(a, batch + tuple(a.shape[-2:])),
            fnp.broadcast_to(b, batch + tuple(b.shape[-2:])))


def _mT(x):
    return fnp.swapaxes(x, -1, -2)


def _eye_like(a):
    return fnp.broadcast_to(fnp.eye(a.shape[-1], dtype=a.dtype), tuple(a.shape))


def _largest(x, axis=-1, keepdims=False):
    """The maximum over ``axis``, 0 where that axis is empty (an empty matrix's largest
    singular value or column sum, as NumPy's norm and pinv take it)."""
    if x.shape[axis] == 0:
        return fnp.sum(x, axis=axis, keepdims=keepdims)
    return fnp.max(x, axis=axis, keepdims=keepdims)


def _symmetric(a, symmetrize_input, UPLO):
    """What a symmetric decomposition reads: a (its primitive symmetrizes) or the symmetric
    matrix made from one triangle, as NumPy reads it."""
    if symmetrize_input:
        return a
    if UPLO not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', not {UPLO!r}")
    part = fnp.tril(a) if UPLO == "L" else fnp.triu(a)
    strict = fnp.tril(a, -1) if UPLO == "L" else fnp.triu(a, 1)
    return part + _mT(strict)


# --- solving ----------------------------------------------------------------------------


def solve(a, b):
    """x with ``a @ x = b``, over the leading axes of both (NumPy 2: ``b`` is a vector only
    when it is 1-D; otherwise a stack of (n, k) matrices).

    Gradients: ``b̄ = solve(a.T, x̄)``, ``ā = -b̄ x^T``.

    Example:
        >>> a = np.array([[3.0, 1.0], [1.0, 2.0]])
        >>> fnp.linalg.solve(a, np.array([9.0, 8.0]))
        array([2., 3.])
        >>> fnp.linalg.solve(np.stack([a, 2 * a]), np.ones((2, 2, 1))).shape
        (2, 2, 1)
    """
    a, b = _common(_matrix(a, "a", square=True), _float(b, "b"))
    if b.ndim == 0:
        raise ShapeError("solve: b must be a vector or a stack of matrices, not a scalar")
    if b.ndim == 1:
        if b.shape[0] != a.shape[-1]:
            raise ShapeError(f"solve: b of shape {tuple(b.shape)} does not match a of shape "
                             f"{tuple(a.shape)}")
        a, column = _batch_broadcast(a, fnp.reshape(b, (b.shape[0], 1)))
        return dec.solve(a, column)[..., 0]
    if b.shape[-2] != a.shape[-1]:
        raise ShapeError(f"solve: b of shape {tuple(b.shape)} does not match a of shape "
                         f"{tuple(a.shape)} (b's second to last axis must be {a.shape[-1]})")
    return dec.solve(*_batch_broadcast(a, b))


def inv(a):
    """The inverse of each square matrix (``solve(a, I)``).

    Example:
        >>> fnp.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    a = _matrix(a, square=True)
    return dec.solve(a, _eye_like(a))


def _lu_parts(a):
    """The diagonal of U and the sign of the row permutation, from a's LU factorization."""
    lu, pivots = dec.lu(a)
    n = a.shape[-1]
    swaps = fnp.sum(pivots != fnp.arange(n, dtype=np.int32), axis=-1)
    parity = fnp.astype(1 - 2 * (swaps % 2), a.dtype)
    return fnp.diagonal(lu, axis1=-2, axis2=-1), parity


def det(a):
    """The determinant of each square matrix, from its LU factorization. Its gradient is the
    transposed adjugate ``adj(a).T`` (``det(a) * inv(a).T`` where a is invertible), computed
    from the SVD: finite and exact at singular matrices too (0 at rank n - 2 or less).

    Example:
        >>> fnp.linalg.det(np.array([[1.0, 2.0], [3.0, 4.0]]))
        np.float64(-2.0)
        >>> fg.grad(fnp.linalg.det)(np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular
        array([[ 4., -2.],
               [-2.,  1.]])
    """
    return dec.det(_matrix(a, square=True))


def slogdet(a):
    """(sign, log|det|) of each square matrix, without overflow: ``det = sign * exp(...)``;
    a singular matrix gives (0, -inf). The gradient of ``logabsdet`` is ``inv(a).T``.

    Example:
        >>> fnp.linalg.slogdet(np.array([[-2.0, 0.0], [0.0, 3.0]]))
        SlogdetResult(sign=np.float64(-1.0), logabsdet=np.float64(1.791759469228055))
    """
    a = _matrix(a, square=True)
    diagonal_, parity = _lu_parts(a)
    sign = parity * fnp.prod(fnp.sign(diagonal_), axis=-1)
    return SlogdetResult(sign, fnp.sum(fnp.log(fnp.abs(diagonal_)), axis=-1))


def cholesky(a, /, *, upper=False, symmetrize_input=True):
    """L (lower triangular) with ``a = L @ L.T``; with ``upper=True``, ``L.T``. Reads the
    symmetric part of ``a`` (see the module's docstring); a matrix that is not positive
    definite raises LinAlgError, as in NumPy, and one with a NaN or inf gives NaN.

    Example:
        >>> fnp.linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 0.],
               [1., 2.]])
    """
    a = _symmetric(_matrix(a, square=True), symmetrize_input, "L")
    L = dec.cholesky(a)
    return _mT(L) if upper else L


def eigh(a, UPLO="L", *, symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix.

    Example:
        >>> w, v = fnp.linalg.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        >>> w
        array([1., 3.])
        >>> np.allclose(np.abs(v), np.sqrt(0.5))
        True
    """
    a = _symmetric(_matrix(a, square=True), symmetrize_input, UPLO)
    return EighResult(*dec.eigh(a))


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    """The eigenvalues of each symmetric matrix, ascending. Their gradient,
    ``v diag(w̄) v^T``, is defined for repeated eigenvalues too.

    Example:
        >>> fnp.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        array([1., 3.])
    """
    return eigh(a, UPLO, symmetrize_input=symmetrize_input).eigenvalues


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """The singular value decomposition ``a = U @ (S[..., None] * Vh)``, S descending.
    ``hermitian`` is accepted and ignored (the general algorithm gives the same S).

    Example:
        >>> U, S, Vh = fnp.linalg.svd(np.array([[3.0, 0.0], [0.0, -2.0]]))
        >>> S
        array([3., 2.])
        >>> fnp.linalg.svd(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]), compute_uv=False)
        array([2., 1.])
    """
    a = _matrix(a)
    if not compute_uv:
        return dec.svd(a, full_matrices=False)[1]
    return SVDResult(*dec.svd(a, full_matrices=full_matrices))


def svdvals(x, /):
    """The singular values of each matrix, descending.

    Example:
        >>> fnp.linalg.svdvals(np.array([[0.0, 2.0], [1.0, 0.0]]))
        array([2., 1.])
    """
    return svd(x, compute_uv=False)


def qr(a, mode="reduced"):
    """The QR factorization ``a = Q @ R``. ``mode`` is "reduced", "complete" or "r" (R only);
    "raw" is not supported.

    Example:
        >>> Q, R = fnp.linalg.qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
        >>> np.allclose(Q @ R, [[3.0, 1.0], [4.0, 2.0]])
        True
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode {mode!r} is not supported (use 'reduced', 'complete' or "
                         "'r')")
    q, r = dec.qr(_matrix(a), full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


# --- norms ------------------------------------------------------------------------------


def _safe_root(total, p):
    """total ** (1 / p), with gradient 0 (not inf * 0) where total is 0."""
    zero = total == 0
    safe = fnp.where(zero, fnp.ones_like(total), total)
    root = fnp.sqrt(safe) if p == 2 else safe ** (1.0 / p)
    return _scalar(fnp.where(zero, fnp.zeros_like(total), root))


def _scalar(x):
    """A 0-d NumPy array as a NumPy scalar, as NumPy's reductions return."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def _vector_norm(x, ord, axis, keepdims):
    """The norm over ``axis`` (a tuple of axes, reduced together)."""
    if isinstance(ord, str):
        raise ValueError(f"norm: ord {ord!r} is a matrix norm; vectors take numbers")
    if ord is None or ord == 2:
        return _safe_root(fnp.sum(x * x, axis=axis, keepdims=keepdims), 2)
    if ord == np.inf:
        return fnp.max(fnp.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return fnp.min(fnp.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return fnp.astype(fnp.sum(x != 0, axis=axis, keepdims=keepdims), x.dtype)
    if ord == 1:
        return fnp.sum(fnp.abs(x), axis=axis, keepdims=keepdims)
    p = float(ord)
    if p < 0:  # no 0-safety: NumPy's value at 0 is 0 by way of inf
        return fnp.sum(fnp.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)
    return _safe_root(fnp.sum(fnp.abs(x) ** p, axis=axis, keepdims=keepdims), p)


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if row == col:
        raise ValueError("norm: the two axes of a matrix norm must differ")
    if ord in (None, "fro", "f"):
        out = _safe_root(fnp.sum(x * x, axis=axes), 2)
    elif ord in ("nuc", 2, -2):
        moved = fnp.moveaxis(x, (row, col), (-2, -1))
        s = svdvals(moved)
        out = fnp.sum(s, axis=-1) if ord == "nuc" else \
            (_largest(s) if ord == 2 else fnp.min(s, axis=-1))
    elif ord in (1, -1, np.inf, -np.inf):
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = fnp.sum(fnp.abs(x), axis=summed, keepdims=True)
        out = (_largest if ord > 0 else fnp.min)(sums, axis=over, keepdims=True)
        out = fnp.squeeze(out, axis=(row, col))
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    if keepdims:
        out = fnp.expand_dims(out, tuple(sorted((row, col))))
    return _scalar(out)


def norm(x, ord=None, axis=None, keepdims=False):
    """A vector or matrix norm, as numpy.linalg.norm: ``axis`` None with ``ord`` None is the
    2-norm of the flattened array; an int ``axis`` is a vector norm along it; a pair of axes
    (or a 2-D ``x``) a matrix norm ("fro", "nuc", 1, -1, 2, -2, inf, -inf). The gradient of
    the 2-norm and the Frobenius norm is 0 at 0.

    Example:
        >>> fnp.linalg.norm(np.array([3.0, 4.0]))
        np.float64(5.0)
        >>> fnp.linalg.norm(np.array([[1.0, -2.0], [3.0, 4.0]]), ord=1)
        np.float64(6.0)
        >>> fg.grad(fnp.linalg.norm)(np.zeros(2))
        array([0., 0.])
    """
    x = _float(x, "x")
    if axis is None:
        if ord is None:
            out = _vector_norm(fnp.ravel(x), None, 0, False)
            return fnp.reshape(out, (1,) * x.ndim) if keepdims else out
        axis = tuple(range(x.ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axis = tuple(normalize_axis(a, x.ndim) for a in axis)
    if len(axis) == 1:
        return _scalar(_vector_norm(x, ord, axis, keepdims))
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("norm: improper number of dimensions to norm (give axis=)")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The vector norm over ``axis`` (all axes when None, or a tuple of axes taken as one
    vector), as numpy.linalg.vector_norm.

    Example:
        >>> fnp.linalg.vector_norm(np.array([[3.0, 4.0], [0.0, 0.0]]), axis=1)
        array([5., 0.])
    """
    x = _float(x, "x")
    axes = tuple(range(x.ndim)) if axis is None else \
        tuple(normalize_axis(a, x.ndim) for a in np.atleast_1d(axis).tolist())
    return _scalar(_vector_norm(x, ord, axes, keepdims))


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """The matrix norm over the last two axes, as numpy.linalg.matrix_norm.

    Example:
        >>> fnp.linalg.matrix_norm(np.eye(3), ord="nuc")
        np.float64(3.0)
    """
    x = _matrix(x, "x")
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims)


# --- from the SVD: pinv, lstsq, matrix_rank, cond ------------------------------------------


def _cutoff_inverse(s, rcond):
    """1 / s where s > rcond * max(s), else 0."""
    cutoff = fnp.asarray(rcond, dtype=s.dtype)[..., None] * _largest(s, keepdims=True)
    large = s > cutoff
    return fnp.where(large, 1.0 / fnp.where(large, s, fnp.ones_like(s)), fnp.zeros_like(s))


def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """The Moore-Penrose pseudo-inverse, from the SVD: singular values at most ``rcond``
    times the largest count as zero (NumPy's defaults for ``rcond`` and ``rtol``).

    Example:
        >>> fnp.linalg.pinv(np.array([[1.0, 0.0], [0.0, 0.0]]))
        array([[1., 0.],
               [0., 0.]])
    """
    a = _matrix(a)
    if rcond is None:
        rcond = 1e-15 if rtol is np._NoValue else (
            max(a.shape[-2:]) * np.finfo(a.dtype).eps if rtol is None else rtol)
    u, s, vt = dec.svd(a, full_matrices=False)
    return fnp.matmul(_mT(vt) * _cutoff_inverse(s, rcond)[..., None, :], _mT(u))


def lstsq(a, b, rcond=None):
    """The least-squares solution of ``a @ x = b``: (x, residuals, rank, s) as
    numpy.linalg.lstsq. residuals are the squared residual norms when a has more rows than
    columns; NumPy returns an empty array instead when a is rank deficient, which funcgrad
    does only outside a trace (the rank is not known while tracing).

    Example:
        >>> a = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
        >>> x, res, rank, s = fnp.linalg.lstsq(a, np.array([1.0, 2.0, 2.0]))
        >>> x, rank
        (array([1.16666667, 0.5       ]), np.int64(2))
    """
    a, b = _common(_matrix(a), _float(b, "b"))
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ShapeError(f"lstsq: a must be (m, n) and b (m,) or (m, k), not {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    m, n = a.shape
    if rcond is None:
        rcond = np.finfo(a.dtype).eps * max(m, n)
    u, s, vt = dec.svd(a, full_matrices=False)
    inverse = _cutoff_inverse(s, rcond)
    ub = fnp.matmul(_mT(u), b)
    x = fnp.matmul(_mT(vt), (inverse[:, None] if b.ndim == 2 else inverse) * ub)
    rank = fnp.sum(inverse != 0)
    if m > n:
        diff = b - fnp.matmul(a, x)
        residuals = fnp.sum(diff * diff, axis=0)
        residuals = fnp.reshape(residuals, (1,)) if b.ndim == 1 else residuals
        if not isinstance(rank, Tracer) and int(rank) < n:
            residuals = np.empty((0,), a.dtype)
    else:
        residuals = np.empty((0,), a.dtype)
    return x, residuals, rank, s


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """The number of singular values above ``tol`` (default: ``S.max() * max(m, n) * eps``).

    Example:
        >>> fnp.linalg.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]]))
        np.int64(1)
    """
    A = _float(A, "A")
    if A.ndim < 2:
        return fnp.astype(fnp.any(A != 0), np.int64)
    s = svdvals(A)
    if tol is None:
        if rtol is None:
            rtol = max(A.shape[-2:]) * np.finfo(A.dtype).eps
        tol = _largest(s, keepdims=True) * fnp.asarray(rtol, dtype=s.dtype)[..., None]
    else:
        tol = fnp.asarray(tol, dtype=s.dtype)[..., None]
    return fnp.sum(s > tol, axis=-1)


def cond(x, p=None):
    """The condition number of each matrix in the norm ``p`` (None: the 2-norm, from the
    singular values).

    Example:
        >>> fnp.linalg.cond(np.array([[2.0, 0.0], [0.0, 0.5]]))
        np.float64(4.0)
    """
    x = _matrix(x, "x")
    if x.size == 0:  # as NumPy's (and JAX's, a ValueError)
        raise LinAlgError("cond is not defined on empty arrays")
    if p is None or p in (2, -2):
        s = svdvals(x)
        ratio = s[..., 0] / s[..., -1]
        return 1.0 / ratio if p == -2 else ratio
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


# --- products and structure -------------------------------------------------------------


def matrix_power(a, n):
    """``a`` multiplied by itself ``n`` times (an int; negative powers invert first), by
    repeated squaring.

    Example:
        >>> fnp.linalg.matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)
        array([[1., 3.],
               [0., 1.]])
    """
    a = array_arg(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"matrix_power needs square matrices, not shape {tuple(a.shape)}")
    if not isinstance(n, (int, np.integer)):
        raise FuncgradTypeError(f"matrix_power: the exponent must be an int, not {n!r}")
    if n == 0:
        return fnp.broadcast_to(fnp.eye(a.shape[-1], dtype=a.dtype), tuple(a.shape))
    if n < 0:
        a, n = inv(a), -n
    result, square = None, a
    while n:
        if n & 1:
            result = square if result is None else fnp.matmul(result, square)
        n >>= 1
        if n:
            square = fnp.matmul(square, square)
    return result


def multi_dot(arrays, *, out=None):
    """The product of a sequence of matrices (the first may be 1-D, a row; the last 1-D, a
    column), in the cheapest order of multiplication, as numpy.linalg.multi_dot.

    Example:
        >>> fnp.linalg.multi_dot([np.ones(2), np.eye(2), np.array([[1.0], [2.0]])])
        array([3.])
    """
    if out is not None:
        raise FuncgradTypeError("multi_dot: out= is not supported (arrays are immutable)")
    arrays = [array_arg(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("multi_dot needs at least two arrays")
    first_1d, last_1d = arrays[0].ndim == 1, arrays[-1].ndim == 1
    if first_1d:
        arrays[0] = fnp.reshape(arrays[0], (1, -1))
    if last_1d:
        arrays[-1] = fnp.reshape(arrays[-1], (-1, 1))
    if any(x.ndim != 2 for x in arrays):
        raise ShapeError("multi_dot: the arrays must be 2-D (the first and last may be 1-D)")
    out = _chain(arrays, _chain_order([x.shape[0] for x in arrays] + [arrays[-1].shape[1]]),
                 0, len(arrays) - 1)
    if first_1d:
        out = out[0]
    if last_1d:
        out = out[..., 0]
    return out


def _chain_order(dims):
    """split[i][j]: where the cheapest product of arrays i..j splits (dynamic programming)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return fnp.matmul(_chain(arrays, split, i, k), _chain(arrays, split, k + 1, j))


def trace(x, /, *, offset=0, dtype=None):
    """The sum of each matrix's diagonal (the last two axes), as numpy.linalg.trace.

    Example:
        >>> fnp.linalg.trace(np.arange(8.0).reshape(2, 2, 2))
        array([ 3., 11.])
    """
    out = fnp.trace(array_arg(x), offset, axis1=-2, axis2=-1)
    return out if dtype is None else fnp.astype(out, dtype)


def diagonal(x, /, *, offset=0):
    """The diagonal of each matrix (the last two axes), as numpy.linalg.diagonal.

    Example:
        >>> fnp.linalg.diagonal(np.arange(4.0).reshape(2, 2))
        array([0., 3.])
    """
    return fnp.diagonal(array_arg(x), offset, axis1=-2, axis2=-1)


def outer(x1, x2, /):
    """The outer product of two vectors (1-D only, as numpy.linalg.outer).

    Example:
        >>> fnp.linalg.outer(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        array([[3., 4.],
               [6., 8.]])
    """
    x1, x2 = array_arg(x1, "x1"), array_arg(x2, "x2")
    if x1.ndim != 1 or x2.ndim != 1:
        raise ShapeError(f"outer needs two vectors, not shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}")
    return fnp.outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-vectors along ``axis``, broadcasting the others.

    Example:
        >>> fnp.linalg.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        array([0., 0., 1.])
    """
    x1, x2 = array_arg(x1, "x1"), array_arg(x2, "x2")
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ShapeError("cross: both vectors must have 3 elements along axis "
                         f"{axis}, not shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    return fnp.moveaxis(_cross3(fnp.moveaxis(x1, axis, -1), fnp.moveaxis(x2, axis, -1)), -1, axis)


def matmul(x1, x2, /):
    """The matrix product (funcgrad.numpy.matmul).

    Example:
        >>> fnp.linalg.matmul(np.eye(2), np.array([1.0, 2.0]))
        array([1., 2.])
    """
    return fnp.matmul(x1, x2)


def tensordot(x1, x2, /, *, axes=2):
    """Sum of products over ``axes`` (funcgrad.numpy.tensordot).

    Example:
        >>> fnp.linalg.tensordot(np.ones((2, 3)), np.ones(3), axes=1)
        array([3., 3.])
    """
    return fnp.tensordot(x1, x2, axes)


def vecdot(x1, x2, /, *, axis=-1):
    """The dot product of vectors along ``axis``, broadcasting the others.

    Example:
        >>> fnp.linalg.vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
    """
    return fnp.sum(array_arg(x1, "x1") * array_arg(x2, "x2"), axis=axis)


def matrix_transpose(x, /):
    """Each matrix transposed (the last two axes swapped).

    Example:
        >>> fnp.linalg.matrix_transpose(np.arange(6.0).reshape(2, 3)).shape
        (3, 2)
    """
    return _mT(array_arg(x, "x"))


def tensorsolve(a, b, axes=None):
    """x with ``tensordot(a, x, x.ndim) = b``, as numpy.linalg.tensorsolve.

    Example:
        >>> a = np.eye(6).reshape(6, 2, 3)
        >>> fnp.linalg.tensorsolve(a, np.arange(6.0)).shape
        (2, 3)
    """
    a, b = _float(a), _float(b, "b")
    if axes is not None:
        rest = [k for k in range(a.ndim) if k not in [normalize_axis(k, a.ndim) for k in axes]]
        a = fnp.transpose(a, rest + [normalize_axis(k, a.ndim) for k in axes])
    x_shape = tuple(a.shape[b.ndim:])
    size = int(np.prod(x_shape, dtype=np.int64))
    if int(np.prod(a.shape[:b.ndim], dtype=np.int64)) != size:
        raise ShapeError(f"tensorsolve: a of shape {tuple(a.shape)} is not 'square' for b of "
                         f"shape {tuple(b.shape)}")
    return fnp.reshape(solve(fnp.reshape(a, (size, size)), fnp.ravel(b)), x_shape)


def tensorinv(a, ind=2):
    """The inverse of ``a`` for tensordot over ``ind`` axes, as numpy.linalg.tensorinv.

    Example:
        >>> fnp.linalg.tensorinv(np.eye(4).reshape(4, 2, 2), ind=1).shape
        (2, 2, 4)
    """
    a = _float(a)
    if ind <= 0:
        raise ValueError("tensorinv: ind must be a positive integer")
    size = int(np.prod(a.shape[:ind], dtype=np.int64))
    if int(np.prod(a.shape[ind:], dtype=np.int64)) != size:
        raise ShapeError(f"tensorinv: a of shape {tuple(a.shape)} is not 'square' for ind={ind}")
    return fnp.reshape(inv(fnp.reshape(a, (size, size))), tuple(a.shape[ind:] + a.shape[:ind]))
