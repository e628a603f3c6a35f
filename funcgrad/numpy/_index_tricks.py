"""NumPy's index tricks: grids of indices, flat and multi-dimensional indices, diagonals.

Shapes are static, so the index grids are constants (an iota inside a trace). Converting
between flat and multi-dimensional indices is integer arithmetic, traced like any other:
concrete indices out of range raise, as in NumPy; traced ones cannot be checked while
tracing and are clipped (JAX's ``unravel_index``) or handled as ``mode=`` says.
"""

from __future__ import annotations

import operator

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import (ConcretizationError, FuncgradTypeError, FuncgradValueError,
                                  InPlaceUpdateError, ShapeError)
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._shape import _shape_tuple
from funcgrad.numpy._util import array_arg, shape_of, tracing
from funcgrad.ops import shape as sh


def indices(dimensions, dtype=None, sparse=False):
    """The index grid of an array of shape ``dimensions`` (like numpy.indices): ``out[i]``
    holds each element's index along axis ``i``. ``sparse`` gives one broadcastable array
    per axis instead.

    Example:
        >>> fnp.indices((2, 3))[1]
        array([[0, 1, 2],
               [0, 1, 2]])
    """
    shape = _shape_tuple(dimensions)
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    if not tracing() or 0 in shape or not shape:
        return np.indices(shape, dtype, sparse)
    grids = [sh.iota(dtype, [d if j == i else 1 for j, d in enumerate(shape)] if sparse
                     else shape, i) for i in range(len(shape))]
    return tuple(grids) if sparse else fnp.stack(grids)


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """``function`` called on the index grid of ``shape``, one array of coordinates per axis
    in ``dtype`` (like numpy.fromfunction): ``function(*indices(shape, dtype), **kwargs)``.

    Example:
        >>> fnp.fromfunction(lambda i, j: i + 10 * j, (2, 3))
        array([[ 0., 10., 20.],
               [ 1., 11., 21.]])
    """
    if not callable(function):
        raise FuncgradTypeError(f"fromfunction: the first argument must be a function, got "
                                f"{type(function).__name__}")
    return function(*indices(shape, dtype), **kwargs)


def ix_(*args):
    """Open meshes from 1-D sequences (like numpy.ix_): ``a[ix_(rows, cols)]`` picks the
    cross product of ``rows`` and ``cols``. Boolean sequences become their indices (they
    must be concrete); arrays may be traced.

    Example:
        >>> fnp.ix_(np.array([0, 2]), np.array([1, 2]))[0].shape
        (2, 1)
        >>> np.arange(9.0).reshape(3, 3)[fnp.ix_([0, 2], [1, 2])]
        array([[1., 2.],
               [7., 8.]])
    """
    out = []
    for k, a in enumerate(args):
        a = array_arg(a)
        if a.ndim != 1:
            raise ShapeError(f"ix_: cross index must be 1 dimensional, got {a.ndim} axes")
        if a.dtype == np.bool_:
            if isinstance(a, Tracer):
                raise ConcretizationError("ix_: a traced boolean sequence has a number of "
                                          "indices that depends on its values")
            a = np.nonzero(a)[0]
        elif a.dtype.kind not in "iu" and a.shape[0]:
            raise FuncgradTypeError(f"ix_: cross index must be integer or boolean, got "
                                    f"{a.dtype}")
        elif a.dtype.kind not in "iu":
            a = fnp.asarray(a, np.int64)  # an empty list: NumPy's empty integer index
        out.append(fnp.reshape(a, (1,) * k + (-1,) + (1,) * (len(args) - k - 1)))
    return tuple(out)


def _dims(name, dims):
    shape = _shape_tuple(dims)
    if any(d < 0 for d in shape):
        raise FuncgradValueError(f"{name}: dimensions must be non-negative, got {shape}")
    return shape


def unravel_index(indices, shape):
    """The multi-dimensional index of each flat index into an array of ``shape`` (like
    numpy.unravel_index), one integer array per axis. Negative indices count from the end,
    as in JAX. Concrete indices out of range raise; traced ones are clipped (as in JAX).

    Example:
        >>> fnp.unravel_index(np.array([1, 5]), (2, 3))
        (array([0, 1]), array([1, 2]))
    """
    shape = _dims("unravel_index", shape)
    i = array_arg(indices, "indices")
    if i.dtype.kind not in "iu":
        raise FuncgradTypeError(f"unravel_index: indices must be integers, got {i.dtype}")
    size = int(np.prod(shape, dtype=np.int64))
    if not isinstance(i, Tracer) and i.size and (i.min() < -size or i.max() >= size):
        bad = i.min() if i.min() < -size else i.max()
        raise FuncgradValueError(f"unravel_index: index {bad} is out of bounds for an array "
                                 f"of size {size}")
    i = fnp.asarray(i, np.int64)
    i = fnp.clip(fnp.where(i < 0, i + size, i), 0, max(size - 1, 0))
    out = []
    for d in shape[::-1]:
        out.append(i % d if d else i)
        i = i // d if d else i
    return tuple(out[::-1])


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """The flat index of each multi-dimensional index into an array of shape ``dims`` (like
    numpy.ravel_multi_index). ``mode`` (one, or one per axis): 'raise' (concrete indices
    only: traced ones cannot be checked, as in JAX), 'wrap' or 'clip'.

    Example:
        >>> fnp.ravel_multi_index((np.array([0, 1]), np.array([2, 1])), (2, 3))
        array([2, 4])
        >>> fnp.ravel_multi_index((np.array([3]), np.array([-1])), (2, 3), mode="clip")
        array([3])
    """
    shape = _dims("ravel_multi_index", dims)
    if order not in ("C", "F"):
        raise FuncgradValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}")
    multi_index = list(multi_index) if not isinstance(multi_index, (np.ndarray, Tracer)) \
        else [multi_index[k] for k in range(multi_index.shape[0])]
    if len(multi_index) != len(shape):
        raise ShapeError(f"ravel_multi_index: {len(multi_index)} index arrays for "
                         f"{len(shape)} dimensions")
    modes = (mode,) * len(shape) if isinstance(mode, str) else tuple(mode)
    if len(modes) != len(shape) or any(m not in ("raise", "wrap", "clip") for m in modes):
        raise FuncgradValueError(f"ravel_multi_index: mode must be 'raise', 'wrap' or 'clip' "
                                 f"(one, or one per dimension), got {mode!r}")
    strides = np.cumprod((1,) + shape[:0:-1])[::-1] if order == "C" \
        else np.cumprod((1,) + shape[:-1])
    flat = None
    for i, d, m, stride in zip(multi_index, shape, modes, strides):
        i = array_arg(i, "multi_index")
        if i.dtype.kind not in "iu":
            raise FuncgradTypeError(f"ravel_multi_index: indices must be integers, got "
                                    f"{i.dtype}")
        if m == "raise":
            if isinstance(i, Tracer):
                raise ConcretizationError("ravel_multi_index with mode='raise' needs concrete "
                                          "indices, which it checks; use mode='wrap' or "
                                          "'clip' inside a trace")
            if i.size and (i.min() < 0 or i.max() >= d):
                raise FuncgradValueError("ravel_multi_index: invalid entry in coordinates "
                                         f"array ({i.min() if i.min() < 0 else i.max()} for "
                                         f"a dimension of {d})")
        i = fnp.asarray(i, np.int64)
        i = i % d if m == "wrap" else fnp.clip(i, 0, d - 1) if m == "clip" else i
        flat = i * int(stride) if flat is None else flat + i * int(stride)
    return flat


def diag_indices(n, ndim=2):
    """The indices of the main diagonal of an n x n x ... array of ``ndim`` axes (like
    numpy.diag_indices): ``ndim`` copies of ``arange(n)``.

    Example:
        >>> fnp.diag_indices(3)
        (array([0, 1, 2]), array([0, 1, 2]))
    """
    if isinstance(n, Tracer) or isinstance(ndim, Tracer):
        raise ConcretizationError("diag_indices: n and ndim must be concrete ints")
    return np.diag_indices(operator.index(n), operator.index(ndim))


def diag_indices_from(arr):
    """diag_indices for ``arr``, whose axes (two at least) must all have the same length
    (like numpy.diag_indices_from).

    Example:
        >>> x = np.arange(4.0).reshape(2, 2)
        >>> x[fnp.diag_indices_from(x)]
        array([0., 3.])
    """
    shape = shape_of(arr) if hasattr(arr, "shape") else np.shape(arr)
    if len(shape) < 2:
        raise ShapeError("diag_indices_from: input array must be at least 2-d")
    if len(set(shape)) != 1:
        raise ShapeError(f"diag_indices_from: all dimensions of input must be of equal "
                         f"length, got shape {shape}")
    return np.diag_indices(shape[0], len(shape))


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """``a`` with its main diagonal set to ``val`` (repeated as needed), as a new array:
    JAX's form of numpy.fill_diagonal, called with ``inplace=False`` (NumPy's writes into
    ``a`` and returns None, which funcgrad's arrays cannot do). ``wrap``: for a tall matrix,
    start the diagonal again below the square part, as NumPy does. Differentiable in ``a``
    and ``val``.

    Example:
        >>> fnp.fill_diagonal(np.zeros((2, 3)), 5.0, inplace=False)
        array([[5., 0., 0.],
               [0., 5., 0.]])
    """
    if inplace:
        raise InPlaceUpdateError("fill_diagonal: funcgrad's arrays are never written in "
                                 "place; pass inplace=False and use the array it returns")
    a = array_arg(a)
    if a.ndim < 2:
        raise ShapeError("fill_diagonal: array must be at least 2-d")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise ShapeError(f"fill_diagonal: all dimensions of input must be of equal length, "
                         f"got shape {tuple(a.shape)}")
    if a.ndim == 2:
        step, end = a.shape[1] + 1, a.size if wrap else min(a.size, a.shape[1] * a.shape[1])
    else:
        step, end = 1 + int(np.sum(np.cumprod(a.shape[:-1]))), a.size
    where = np.arange(0, end, step)
    val = fnp.ravel(fnp.asarray(array_arg(val, "val"), a.dtype))
    if val.shape[0] == 0 or where.size == 0:
        return a
    values = fnp.tile(val, -(-where.size // val.shape[0]))[:where.size]  # val repeats
    return fnp.reshape(fnp.at(fnp.ravel(a))[where].set(values), a.shape)
