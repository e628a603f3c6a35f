"""Array creation. Outside a trace these return fresh NumPy arrays. Inside one, constant
fills and index grids become equations (a broadcast scalar, an iota) rather than captured
arrays, so compiled code computes them in its loops instead of reading them from memory.

Memory-layout parameters (order, subok) are accepted where NumPy has them and ignored: they
never change a value."""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import check_dtype
from funcgrad.numpy._shape import _shape_tuple, stack
from funcgrad.numpy._util import array_arg, shape_of, tracing
from funcgrad.ops import shape as sh
from funcgrad.ops.elementwise import convert_element_type, where


def _dtype(dtype, default=np.float64):
    return check_dtype(default if dtype is None else dtype)


def asarray(a, dtype=None, order=None):
    """``a`` as an array of ``dtype`` (like numpy.asarray); traced values stay traced.

    Example:
        >>> fnp.asarray([1, 2], dtype=fnp.float32)
        array([1., 2.], dtype=float32)
    """
    if isinstance(a, Tracer):  # an array, even of a Python number: strong (NEP 50)
        return convert_element_type(a, a.dtype if dtype is None else check_dtype(dtype))
    if isinstance(a, (list, tuple)):
        a = array_arg(a)
        if isinstance(a, Tracer):
            return asarray(a, dtype)
    out = np.asarray(a, dtype=dtype)
    check_dtype(out.dtype)
    return out


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` converted to ``dtype`` (like numpy.astype, and ``x.astype(dtype)``).

    Example:
        >>> fnp.astype(np.array([1.7, -1.7]), fnp.int32)
        array([ 1, -1], dtype=int32)
    """
    return asarray(x, dtype)


def array(object, dtype=None, copy=True, ndmin=0):  # noqa: A002
    """A new array from ``object`` (like numpy.array). Nested lists may hold traced values.

    Example:
        >>> fnp.array([[1, 2], [3, 4]], dtype=fnp.float32)
        array([[1., 2.],
               [3., 4.]], dtype=float32)
        >>> fg.grad(lambda x: fnp.sum(fnp.array([x, 2.0 * x])))(1.0)
        np.float64(3.0)
    """
    if isinstance(object, (list, tuple)) and _holds_tracer(object):
        out = stack([array(x) for x in object]) if object else np.zeros(0)
    elif isinstance(object, Tracer):
        out = object
    else:
        out = np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)
        check_dtype(out.dtype)
        return out
    out = asarray(out, dtype)
    while out.ndim < ndmin:
        out = sh.reshape(out, (1,) + tuple(out.shape))
    return out


def _holds_tracer(xs):
    return any(_holds_tracer(x) if isinstance(x, (list, tuple)) else isinstance(x, Tracer)
               for x in xs)


def full(shape, fill_value, dtype=None, order="C"):
    """An array of ``shape`` filled with ``fill_value`` (like numpy.full).

    Example:
        >>> fnp.full((2,), 7.0)
        array([7., 7.])
    """
    shape = _shape_tuple(shape)
    if isinstance(fill_value, Tracer):
        value = fill_value if dtype is None else asarray(fill_value, dtype)
        return sh.broadcast_to(value, shape)
    dtype = check_dtype(np.asarray(fill_value).dtype if dtype is None else dtype)
    if not tracing():
        return np.full(shape, fill_value, dtype)
    return sh.broadcast_to(np.asarray(fill_value, dtype)[()], shape)


def zeros(shape, dtype=None, order="C"):
    """An array of zeros (like numpy.zeros; float64 by default).

    Example:
        >>> fnp.zeros((2, 3)).shape
        (2, 3)
    """
    return full(shape, 0, _dtype(dtype))


def ones(shape, dtype=None, order="C"):
    """An array of ones (like numpy.ones; float64 by default).

    Example:
        >>> fnp.ones((2, 2), dtype=fnp.int64)
        array([[1, 1],
               [1, 1]])
    """
    return full(shape, 1, _dtype(dtype))


def empty(shape, dtype=None, order="C"):
    """Like zeros: funcgrad never hands out uninitialised memory.

    Example:
        >>> fnp.empty((2,))
        array([0., 0.])
    """
    return zeros(shape, dtype)


def _like(a, dtype, shape):
    return (_shape_tuple(shape) if shape is not None else shape_of(a),
            _dtype(dtype, getattr(a, "dtype", None) or np.asarray(a).dtype))


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    """An array shaped like ``a`` filled with ``fill_value``.

    Example:
        >>> fnp.full_like(np.arange(3), 5)
        array([5, 5, 5])
    """
    shape, dtype = _like(a, dtype, shape)
    return full(shape, fill_value, dtype)


def zeros_like(a, dtype=None, order="K", subok=True, shape=None):
    """Zeros shaped like ``a``.

    Example:
        >>> fnp.zeros_like(np.array([[1, 2]]))
        array([[0, 0]])
    """
    return full_like(a, 0, dtype, shape=shape)


def ones_like(a, dtype=None, order="K", subok=True, shape=None):
    """Ones shaped like ``a``.

    Example:
        >>> fnp.ones_like(np.array([1.0, 2.0]))
        array([1., 1.])
    """
    return full_like(a, 1, dtype, shape=shape)


def empty_like(a, dtype=None, order="K", subok=True, shape=None):
    """An array shaped like ``a``; filled with zeros, since a pure function cannot leave
    memory uninitialised (numpy.empty_like's contents are arbitrary).

    Example:
        >>> fnp.empty_like(np.ones(2))
        array([0., 0.])
    """
    return zeros_like(a, dtype, shape=shape)


def _static(name, *values):
    for v in values:
        if isinstance(v, Tracer):
            raise FuncgradTypeError(f"{name} needs static (Python) bounds: the size of its result "
                                    "must be known while tracing")


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop) (like numpy.arange). Bounds must be static.

    Example:
        >>> fnp.arange(3)
        array([0, 1, 2])
    """
    _static("arange", start, stop, step)
    out = np.arange(start, stop, step, dtype=dtype) if step is not None else \
        np.arange(start, stop, dtype=dtype) if stop is not None else np.arange(start, dtype=dtype)
    check_dtype(out.dtype)
    return out


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from start to stop (like numpy.linspace; static bounds).

    Example:
        >>> fnp.linspace(0.0, 1.0, 5)
        array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    _static("linspace", start, stop, num)
    return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)


def eye(N, M=None, k=0, dtype=None, order="C"):
    """The identity matrix, or ones on the k-th diagonal (like numpy.eye).

    Example:
        >>> fnp.eye(2, 3, k=1)
        array([[0., 1., 0.],
               [0., 0., 1.]])
    """
    dtype = _dtype(dtype)
    M = N if M is None else M
    if not tracing():
        return np.eye(N, M, k, dtype)
    offsets = sh.iota(np.int64, (N, M), 1) - sh.iota(np.int64, (N, M), 0)
    return where(offsets == k, dtype.type(1), dtype.type(0))


def identity(n, dtype=None):
    """The n x n identity matrix (like numpy.identity).

    Example:
        >>> fnp.identity(2)
        array([[1., 0.],
               [0., 1.]])
    """
    return eye(n, dtype=dtype)
