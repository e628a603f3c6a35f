"""Products and matrix helpers under NumPy's names. Every contraction is dot_general."""

from __future__ import annotations

import warnings

import numpy as np

from funcgrad.core.errors import ShapeError
from funcgrad.core.types import ShapedArray
from funcgrad.numpy._shape import moveaxis, pad, stack
from funcgrad.numpy._util import array_arg, normalize_axis, unsupported
from funcgrad.ops import shape as sh
from funcgrad.ops.elementwise import broadcast_shapes, multiply, where
from funcgrad.ops.indexing import gather
from funcgrad.ops.linalg import dot_general


def _aval(a):
    return ShapedArray(tuple(a.shape), a.dtype)


def matmul(a, b):
    """Matrix product with NumPy's rules for 1-D and batched operands (``a @ b``).

    Example:
        >>> fnp.matmul(np.eye(2), np.array([1.0, 2.0]))
        array([1., 2.])
    """
    a, b = array_arg(a), array_arg(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul: an operand is a scalar; use * to multiply by a scalar")
    k_a, k_b = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul: cannot multiply {_aval(a)} by {_aval(b)}: "
                         f"{k_a} columns against {k_b} rows")
    if b.ndim <= 2:  # (..., m, k) @ (k, n): one tensor contraction, no batching needed
        return dot_general(a, b, ((a.ndim - 1,), (0,)))
    if a.ndim == 1:
        out = dot_general(a, b, ((0,), (b.ndim - 2,)))  # (batch..., n)
        return out
    batch = broadcast_shapes(ShapedArray(tuple(a.shape[:-2]), a.dtype),
                             ShapedArray(tuple(b.shape[:-2]), b.dtype))
    a = sh.broadcast_to(a, batch + tuple(a.shape[-2:]))
    b = sh.broadcast_to(b, batch + tuple(b.shape[-2:]))
    nb = len(batch)
    return dot_general(a, b, ((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))


def dot(a, b):
    """Dot product with NumPy's rules: scalars multiply, 1-D is inner, N-D contracts a's last
    axis with b's second to last.

    Example:
        >>> fnp.dot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        np.float64(11.0)
        >>> fnp.dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
    """
    a, b = array_arg(a), array_arg(b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.shape[-1] != (b.shape[0] if b.ndim == 1 else b.shape[-2]):
        raise ShapeError(f"dot: shapes {_aval(a)} and {_aval(b)} are not aligned")
    return dot_general(a, b, ((a.ndim - 1,), (max(b.ndim - 2, 0),)))


def vdot(a, b):
    """Dot product of the flattened arrays.

    Example:
        >>> fnp.vdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2))
        np.float64(5.0)
    """
    a, b = array_arg(a), array_arg(b)
    return dot(sh.reshape(a, (a.size,)), sh.reshape(b, (b.size,)))


def inner(a, b):
    """Sum product over the last axes (like numpy.inner).

    Example:
        >>> fnp.inner(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
    """
    a, b = array_arg(a), array_arg(b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"inner: last axes of {_aval(a)} and {_aval(b)} differ")
    return dot_general(a, b, ((a.ndim - 1,), (b.ndim - 1,)))


def outer(a, b):
    """Outer product of the flattened arrays: ``result[i, j] = a[i] * b[j]``.

    Example:
        >>> fnp.outer(np.array([1.0, 2.0]), np.array([1.0, 10.0, 100.0]))
        array([[  1.,  10., 100.],
               [  2.,  20., 200.]])
    """
    a, b = array_arg(a), array_arg(b)
    return multiply(sh.reshape(a, (a.size, 1)), sh.reshape(b, (1, b.size)))


def tensordot(a, b, axes=2):
    """Sum products over the given axes (like numpy.tensordot).

    Example:
        >>> fnp.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
        (2, 4)
    """
    a, b = array_arg(a), array_arg(b)
    if isinstance(axes, (int, np.integer)):
        xa = tuple(range(a.ndim - int(axes), a.ndim))
        xb = tuple(range(int(axes)))
    else:
        xa, xb = (np.atleast_1d(axes[0]).tolist(), np.atleast_1d(axes[1]).tolist())
        xa = tuple(normalize_axis(i, a.ndim) for i in xa)
        xb = tuple(normalize_axis(i, b.ndim) for i in xb)
    if len(xa) != len(xb) or any(a.shape[i] != b.shape[j] for i, j in zip(xa, xb)):
        raise ShapeError(f"tensordot: cannot contract axes {xa} of {_aval(a)} with {xb} of "
                         f"{_aval(b)}")
    return dot_general(a, b, (xa, xb))


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal over ``axis1`` and ``axis2``, as a new last axis (like numpy.diagonal).

    Example:
        >>> fnp.diagonal(np.arange(9.0).reshape(3, 3), offset=1)
        array([1., 5.])
    """
    a = array_arg(a)
    i1, i2 = normalize_axis(axis1, a.ndim), normalize_axis(axis2, a.ndim)
    n1, n2 = a.shape[i1], a.shape[i2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    rows = np.arange(length) + max(-offset, 0)
    cols = np.arange(length) + max(offset, 0)
    perm = [i for i in range(a.ndim) if i not in (i1, i2)] + [i1, i2]
    moved = sh.transpose(a, perm)
    spec = [(0, 1, d) for d in moved.shape[:-2]] + [0, 1]
    return gather(moved, [rows, cols], spec)


def trace(a, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal (like numpy.trace).

    Example:
        >>> fnp.trace(np.array([[1.0, 2.0], [3.0, 4.0]]))
        np.float64(5.0)
    """
    from funcgrad.numpy._reductions import sum as sum_
    return sum_(diagonal(a, offset, axis1, axis2), axis=-1)


def _offsets(n, m):
    """column index - row index, for an n x m matrix."""
    return sh.iota(np.int64, (n, m), 1) - sh.iota(np.int64, (n, m), 0)


def diag(v, k=0):
    """Extract the k-th diagonal of a matrix, or build a matrix with ``v`` on it.

    Example:
        >>> fnp.diag(np.array([1.0, 2.0]))
        array([[1., 0.],
               [0., 2.]])
        >>> fnp.diag(np.array([[1.0, 2.0], [3.0, 4.0]]))
        array([1., 4.])
    """
    v = array_arg(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ShapeError("diag needs a 1-D or 2-D array")
    n = v.shape[0] + abs(k)
    padded = sh.pad(v, (0,), (abs(k),), (0,), v.dtype.type(0))
    along = sh.reshape(padded, (n, 1) if k >= 0 else (1, n))
    return where(_offsets(n, n) == k, along, v.dtype.type(0))


def diagflat(v, k=0):
    """A matrix with the flattened ``v`` on its k-th diagonal (like numpy.diagflat).

    Example:
        >>> fnp.diagflat(np.array([[1.0, 2.0]]), k=-1)
        array([[0., 0., 0.],
               [1., 0., 0.],
               [0., 2., 0.]])
    """
    v = array_arg(v)
    return diag(sh.reshape(v, (v.size,)), k)


def tril(m, k=0):
    """The lower triangle of the last two axes; zeros above the k-th diagonal.

    Example:
        >>> fnp.tril(np.ones((3, 3)))
        array([[1., 0., 0.],
               [1., 1., 0.],
               [1., 1., 1.]])
    """
    m = array_arg(m)
    return where(_offsets(*m.shape[-2:]) <= k, m, m.dtype.type(0))


def triu(m, k=0):
    """The upper triangle of the last two axes; zeros below the k-th diagonal.

    Example:
        >>> fnp.triu(np.ones((3, 3)), k=1)
        array([[0., 1., 1.],
               [0., 0., 1.],
               [0., 0., 0.]])
    """
    m = array_arg(m)
    return where(_offsets(*m.shape[-2:]) >= k, m, m.dtype.type(0))


def kron(a, b):
    """The Kronecker product: blocks ``a[i, j] * b`` (like numpy.kron; any ranks, the smaller
    one padded with leading axes of length 1).

    Example:
        >>> fnp.kron(np.eye(2), np.array([[1.0, 2.0]]))
        array([[1., 2., 0., 0.],
               [0., 0., 1., 2.]])
    """
    a, b = array_arg(a), array_arg(b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    nd = max(a.ndim, b.ndim)
    a_shape = (1,) * (nd - a.ndim) + tuple(a.shape)
    b_shape = (1,) * (nd - b.ndim) + tuple(b.shape)
    # a's axes interleaved with b's: (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...)
    spread_a = sh.reshape(a, [v for d in a_shape for v in (d, 1)])
    spread_b = sh.reshape(b, [v for d in b_shape for v in (1, d)])
    return sh.reshape(multiply(spread_a, spread_b), [p * q for p, q in zip(a_shape, b_shape)])


def vecdot(x1, x2, /, *, axis=-1):
    """The dot product of vectors along ``axis``, broadcast over the other axes (like
    numpy.vecdot; real arrays, so no conjugation).

    Example:
        >>> fnp.vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
    """
    x1, x2 = array_arg(x1), array_arg(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        raise ShapeError("vecdot: the operands must have at least one axis")
    x1 = sh.moveaxis(x1, normalize_axis(axis, x1.ndim), x1.ndim - 1)
    x2 = sh.moveaxis(x2, normalize_axis(axis, x2.ndim), x2.ndim - 1)
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"vecdot: vectors of lengths {x1.shape[-1]} and {x2.shape[-1]}")
    batch = broadcast_shapes(ShapedArray(tuple(x1.shape[:-1]), x1.dtype),
                             ShapedArray(tuple(x2.shape[:-1]), x2.dtype))
    x1 = sh.broadcast_to(x1, batch + tuple(x1.shape[-1:]))
    x2 = sh.broadcast_to(x2, batch + tuple(x2.shape[-1:]))
    nb = len(batch)
    return dot_general(x1, x2, ((nb,), (nb,)), (tuple(range(nb)), tuple(range(nb))))


def matvec(x1, x2, /):
    """Matrix times vector over the last axes, ``(..., m, n) (..., n) -> (..., m)``,
    broadcast over the rest (like numpy.matvec; real arrays, so no conjugation).

    Example:
        >>> fnp.matvec(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0]))
        array([-1., -1.])
    """
    x1, x2 = _at_least("matvec", x1, 2, "matrix"), _at_least("matvec", x2, 1, "vector")
    return matmul(x1, x2[..., None])[..., 0]


def vecmat(x1, x2, /):
    """Vector times matrix over the last axes, ``(..., n) (..., n, m) -> (..., m)``,
    broadcast over the rest (like numpy.vecmat; real arrays, so no conjugation).

    Example:
        >>> fnp.vecmat(np.array([1.0, -1.0]), np.array([[1.0, 2.0], [3.0, 4.0]]))
        array([-2., -2.])
    """
    x1, x2 = _at_least("vecmat", x1, 1, "vector"), _at_least("vecmat", x2, 2, "matrix")
    return matmul(x1[..., None, :], x2)[..., 0, :]


def _at_least(name, x, ndim, what):
    x = array_arg(x)
    if x.ndim < ndim:
        raise ShapeError(f"{name}: the {what} operand needs at least {ndim} "
                         f"ax{'es' if ndim > 1 else 'is'}, got shape {tuple(x.shape)}")
    return x


def einsum(subscripts, *operands, out=None, optimize=None, precision=None,
           preferred_element_type=None):
    """Einstein summation (like numpy.einsum), contracted pairwise with dot_general. Also
    NumPy's sublist form ``einsum(a, [0, 1], b, [1], [0])``: each operand followed by its
    axes' labels as ints (and ``...``), the output's labels last if given.
    ``preferred_element_type`` (JAX's) is the result's dtype, and the products and sums are
    taken in it when it is wider than the operands' (int8 operands summed in int32 do not
    wrap around). ``optimize`` and ``precision`` are accepted and ignored.

    Example:
        >>> fnp.einsum("ij,j->i", np.eye(2), np.array([1.0, 2.0]))
        array([1., 2.])
        >>> fnp.einsum(np.eye(2), [0, 1], np.array([1.0, 2.0]), [1], [0])
        array([1., 2.])
    """
    from funcgrad.numpy._einsum import einsum as impl
    unsupported("einsum", out=out)
    return impl(subscripts, *operands, preferred_element_type=preferred_element_type)


def einsum_path(subscripts, *operands, optimize="greedy"):
    """NumPy's contraction order for an einsum and its report, as numpy.einsum_path returns
    them (funcgrad's einsum contracts left to right whatever the path; only the operands'
    shapes are used, so traced ones are fine).

    Example:
        >>> fnp.einsum_path("ij,jk,kl->il", np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5)))[0]
        ['einsum_path', (1, 2), (0, 1)]
    """
    from funcgrad.numpy._einsum import einsum_path as impl
    return impl(subscripts, *operands, optimize=optimize)


def cross3(a, b):
    """The cross product of 3-vectors along the last axis, broadcasting the others."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 2- or 3-vectors along the given axes (like numpy.cross): a
    3-vector result along ``axisc``, or the scalar z-component for two 2-vectors (NumPy 2
    deprecates 2-vectors, and funcgrad warns the same way).

    Example:
        >>> fnp.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(array_arg(a, "a"), axisa, -1), moveaxis(array_arg(b, "b"), axisb, -1)
    sizes = (a.shape[-1], b.shape[-1])
    if not set(sizes) <= {2, 3}:
        raise ShapeError(f"cross: vectors must have 2 or 3 elements, not {sizes[0]} and "
                         f"{sizes[1]} (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    if 2 in sizes:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=2)
    if sizes == (2, 2):
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    if 2 in sizes:  # the missing z-component is zero
        a, b = (pad(v, [(0, 0)] * (v.ndim - 1) + [(0, 3 - v.shape[-1])]) for v in (a, b))
    return moveaxis(cross3(a, b), -1, axisc)
