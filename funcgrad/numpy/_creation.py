"""Array creation. Outside a trace these return fresh NumPy arrays. Inside one, constant
fills and index grids become equations (a broadcast scalar, an iota) rather than captured
arrays, so compiled code computes them in its loops instead of reading them from memory.

Memory-layout parameters (order, subok) are accepted where NumPy has them and ignored: they
never change a value."""

from __future__ import annotations

import operator

import numpy as np

from funcgrad.core.errors import ConcretizationError, FuncgradTypeError, ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import check_dtype
from funcgrad.numpy._shape import _shape_tuple, stack
from funcgrad.numpy._util import array_arg, ndim_of, shape_of, tracing
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
    a = a if hasattr(a, "shape") else array_arg(a)  # a list has its array's shape
    return _shape_tuple(shape) if shape is not None else shape_of(a), _dtype(dtype, a.dtype)


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
    """``num`` evenly spaced values from start to stop (like numpy.linspace). ``num`` must be
    static; ``start`` and ``stop`` may be traced arrays, and the result is differentiable in
    them. Array bounds give one sequence per element, along a new axis ``axis``.

    Example:
        >>> fnp.linspace(0.0, 1.0, 5)
        array([0.  , 0.25, 0.5 , 0.75, 1.  ])
        >>> fg.grad(lambda b: fnp.sum(fnp.linspace(0.0, b, 5)))(2.0)
        np.float64(2.5)
    """
    _concrete_num("linspace", num)
    if not isinstance(start, Tracer) and not isinstance(stop, Tracer):
        return _by_numpy("linspace", np.linspace, start, stop, num, endpoint, retstep, dtype,
                         axis)
    num = operator.index(num)
    if num < 0:
        raise ShapeError(f"linspace: the number of samples must be non-negative, got {num}")
    from funcgrad.numpy._shape import concatenate, moveaxis, reshape
    from funcgrad.numpy._ufuncs import floor
    start, stop = _inexact(start), _inexact(stop)
    delta = stop - start
    dt = delta.dtype
    dtype = dt if dtype is None else check_dtype(dtype)
    div = num - 1 if endpoint else num
    step = delta / div if div > 0 else np.nan  # NumPy's step of 0 or 1 points: a float NaN
    grid = reshape(np.arange(num, dtype=dt), (-1,) + (1,) * delta.ndim)
    if div > 0:  # where any step underflows to 0, NumPy scales by delta after dividing
        from funcgrad.numpy._reductions import any as any_
        from funcgrad.numpy._ufuncs import where
        y = where(any_(step == 0), grid / div * delta, grid * step) + start
    else:
        y = grid * delta + start
    if endpoint and num > 1:  # the last value is stop exactly, as NumPy makes it
        y = concatenate([y[:-1], _row(stop, y)], 0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype.kind in "iu":
        y = floor(y)
    y = asarray(y, dtype)
    return (y, step) if retstep else y


def _row(value, like):
    """``value`` as one row of ``like``: the shape of ``like[:1]``, ``like``'s dtype."""
    return sh.broadcast_to(asarray(value, like.dtype), (1, *like.shape[1:]))


def _concrete_num(name, num, argument="num"):
    if isinstance(num, Tracer):
        raise ConcretizationError(f"{name}: {argument} must be a concrete int, not a traced "
                                  "value, since it decides the length of the result")


def _inexact(x):
    """``x`` as an array (a tracer stays one) of at least float precision, its shape
    broadcast later with the other bound's."""
    from funcgrad.numpy._util import scalar_or_array
    x = scalar_or_array(x)
    if type(x) in (float, int, bool):
        return x
    if x.dtype.kind not in "f":
        x = asarray(x, np.float64)
    return x


def _by_numpy(name, function, *args):
    """NumPy's ``function(*args)`` on concrete arguments: its errors become funcgrad's, and
    a result of a dtype funcgrad lacks is refused."""
    from funcgrad.numpy._shape import _numpy_error
    try:
        out = function(*args)
    except (ValueError, TypeError, IndexError) as err:
        raise _numpy_error(name, err) from None
    for value in out if isinstance(out, tuple) else (out,):
        check_dtype(np.asarray(value).dtype)
    return out


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)`` (like numpy.logspace); differentiable in
    ``start``, ``stop`` and ``base``, with a static ``num``.

    Example:
        >>> fnp.logspace(0.0, 2.0, 3)
        array([  1.,  10., 100.])
    """
    _concrete_num("logspace", num)
    if not any(isinstance(v, Tracer) for v in (start, stop, base)):
        return _by_numpy("logspace", np.logspace, start, stop, num, endpoint, base, dtype, axis)
    from funcgrad.numpy._shape import expand_dims
    from funcgrad.ops.elementwise import power
    if not isinstance(base, (float, int)) and ndim_of(base):
        # an array base joins the broadcast of the bounds: it may decide what axis means
        from funcgrad.numpy._shape import broadcast_arrays
        start, stop, base = broadcast_arrays(start, stop, base)
        base = expand_dims(base, axis)
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    out = power(base, y)
    return out if dtype is None else asarray(out, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values from start to stop evenly spaced on a log scale (like numpy.geomspace;
    both of one sign, neither zero). Differentiable in ``start`` and ``stop``, with a static
    ``num``; traced bounds are not checked for zero (they would give NaN).

    Example:
        >>> fnp.geomspace(1.0, 1000.0, 4)
        array([   1.,   10.,  100., 1000.])
    """
    _concrete_num("geomspace", num)
    if not isinstance(start, Tracer) and not isinstance(stop, Tracer):
        return _by_numpy("geomspace", np.geomspace, start, stop, num, endpoint, dtype, axis)
    from funcgrad.numpy._shape import concatenate, moveaxis
    from funcgrad.numpy._ufuncs import log10, sign
    start, stop = array(start), array(stop)  # strong arrays, as NumPy's asanyarray makes them
    dt = np.result_type(start.dtype, stop.dtype, float(num), np.zeros((), dtype))
    start, stop = asarray(start, dt), asarray(stop, dt)
    out_sign = sign(start)
    start, stop = start / out_sign, stop / out_sign
    result = logspace(log10(start), log10(stop), num=num, endpoint=endpoint, base=10.0,
                      dtype=dt)
    if num > 0:  # the ends are start and stop exactly, not 10 ** log10 of them
        if num > 1 and endpoint:
            result = concatenate([_row(start, result), result[1:-1], _row(stop, result)], 0)
        else:
            result = concatenate([_row(start, result), result[1:]], 0)
    result = result * out_sign
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return asarray(result, dt if dtype is None else dtype)


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


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal of an N x M matrix, zeros above (like numpy.tri).

    Example:
        >>> fnp.tri(2, 3, k=1)
        array([[1., 1., 0.],
               [1., 1., 1.]])
    """
    dtype = _dtype(dtype)
    M = N if M is None else M
    if not tracing():
        return np.tri(N, M, k, dtype)
    offsets = sh.iota(np.int64, (N, M), 1) - sh.iota(np.int64, (N, M), 0)
    return where(offsets <= k, dtype.type(1), dtype.type(0))


def identity(n, dtype=None):
    """The n x n identity matrix (like numpy.identity).

    Example:
        >>> fnp.identity(2)
        array([[1., 0.],
               [0., 1.]])
    """
    return eye(n, dtype=dtype)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from coordinate vectors (like numpy.meshgrid): with
    ``indexing='xy'`` (Cartesian) the first two axes of the result are swapped, with ``'ij'``
    (matrix) they are not; ``sparse`` leaves them unbroadcast. A tuple of arrays.

    Example:
        >>> X, Y = fnp.meshgrid(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0]))
        >>> X
        array([[1., 2., 3.],
               [1., 2., 3.]])
        >>> Y
        array([[10., 10., 10.],
               [20., 20., 20.]])
    """
    from funcgrad.numpy._shape import broadcast_arrays, reshape
    if indexing not in ("xy", "ij"):
        raise FuncgradTypeError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ones = (1,) * len(xi)
    out = [reshape(array_arg(x), ones[:i] + (-1,) + ones[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and len(xi) > 1:
        out[0] = reshape(out[0], (1, -1) + ones[2:])
        out[1] = reshape(out[1], (-1, 1) + ones[2:])
    return tuple(out if sparse or not out else broadcast_arrays(*out))


def _indices_of(name, triangle, n, k, m):
    _concrete_num(name, n, "n")
    if isinstance(k, Tracer) or isinstance(m, Tracer):
        raise ConcretizationError(f"{name}: k and m must be concrete ints, not traced values")
    return _by_numpy(name, triangle, n, k, m)


def tril_indices(n, k=0, m=None):
    """The row and column indices of the lower triangle (at and below the ``k``-th diagonal)
    of an n x m matrix (like numpy.tril_indices). Constant integer arrays: index with them.

    Example:
        >>> fnp.tril_indices(3)
        (array([0, 1, 1, 2, 2, 2]), array([0, 0, 1, 0, 1, 2]))
    """
    return _indices_of("tril_indices", np.tril_indices, n, k, m)


def triu_indices(n, k=0, m=None):
    """The row and column indices of the upper triangle (at and above the ``k``-th
    diagonal) of an n x m matrix (like numpy.triu_indices).

    Example:
        >>> fnp.triu_indices(3, k=1)
        (array([0, 0, 1]), array([1, 2, 2]))
    """
    return _indices_of("triu_indices", np.triu_indices, n, k, m)


def _from(name, triangle, arr, k):
    shape = shape_of(arr) if hasattr(arr, "shape") else np.shape(arr)
    if len(shape) != 2:
        raise ShapeError(f"{name}: the input array must be 2-d, got shape {shape}")
    return _indices_of(name, triangle, shape[0], k, shape[1])


def tril_indices_from(arr, k=0):
    """tril_indices for the shape of the 2-D ``arr`` (like numpy.tril_indices_from).

    Example:
        >>> x = np.arange(4.0).reshape(2, 2)
        >>> x[fnp.tril_indices_from(x)]
        array([0., 2., 3.])
    """
    return _from("tril_indices_from", np.tril_indices, arr, k)


def triu_indices_from(arr, k=0):
    """triu_indices for the shape of the 2-D ``arr`` (like numpy.triu_indices_from).

    Example:
        >>> fnp.triu_indices_from(np.zeros((2, 3)))
        (array([0, 0, 0, 1, 1]), array([0, 1, 2, 1, 2]))
    """
    return _from("triu_indices_from", np.triu_indices, arr, k)


def copy(a, order="K", subok=False):
    """A copy of ``a`` (like numpy.copy). A traced value is returned as it is: funcgrad's
    arrays are never written in place, so a copy could not be told apart.

    Example:
        >>> fnp.copy([1.0, 2.0])
        array([1., 2.])
    """
    if isinstance(a, Tracer):
        return a
    return array(a)


class _Concatenator:
    """NumPy's index tricks r_ and c_: ``r_[items]`` joins arrays, scalars and ranges (a slice
    ``start:stop:step`` is arange's, ``start:stop:nj`` linspace's with n points) along an
    axis; a first string item ``'axis,ndmin,trans1d'`` changes how. Items may be traced."""

    def __init__(self, axis, ndmin, trans1d, name):
        self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

    def __len__(self):
        return 0

    def __getitem__(self, key):
        from funcgrad.numpy._shape import concatenate
        key = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        arrays, kinds = [], []
        for k, item in enumerate(key):
            if isinstance(item, str):
                if k != 0:
                    raise FuncgradTypeError(f"{self.name}: a directive string must be the "
                                            "first item")
                axis, ndmin, trans1d = _directive(self.name, item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice):
                value = _range_of(self.name, item)
                if ndmin > 1:
                    value = _at_least(value, ndmin)
                    if trans1d != -1:
                        from funcgrad.numpy._shape import swapaxes
                        value = swapaxes(value, -1, trans1d)
                kinds.append(value.dtype)
            elif type(item) in (int, float, bool) or isinstance(item, np.generic):
                kinds.append(item)  # a scalar: weak in the result's dtype, as in NumPy
                value = item
            else:
                value = _lifted(array_arg(item), ndmin, trans1d)
                kinds.append(value.dtype)
            arrays.append(value)
        if not arrays:  # NumPy's r_[()] fails in concatenate too
            raise ShapeError(f"{self.name}: need at least one array to concatenate")
        dtype = np.result_type(*kinds)
        return concatenate([_at_least(asarray(a, dtype), ndmin) for a in arrays], axis)


def _directive(name, item, axis, ndmin, trans1d):
    """(axis, ndmin, trans1d) from r_'s string directive, such as '0,2' or '-1,2,0'."""
    if item in ("r", "c"):
        raise FuncgradTypeError(f"{name}: the directives 'r' and 'c' make NumPy matrices, "
                                "which funcgrad does not have")
    try:
        numbers = [int(x) for x in item.split(",")]
    except ValueError:
        raise FuncgradTypeError(f"{name}: unknown special directive {item!r}") from None
    if len(numbers) > 3:
        raise FuncgradTypeError(f"{name}: unknown special directive {item!r}")
    return tuple(numbers + [ndmin, trans1d][len(numbers) - 1:])


def _range_of(name, item):
    start = 0 if item.start is None else item.start
    step = 1 if item.step is None else item.step
    if any(isinstance(v, Tracer) for v in (start, item.stop, step)):
        raise ConcretizationError(f"{name}: the bounds of a slice must be concrete numbers")
    if isinstance(step, (complex, np.complexfloating)):
        return linspace(start, item.stop, num=int(abs(step)))
    return arange(start, item.stop, step)


def _at_least(a, ndmin):
    """``a`` with ``ndmin`` axes at least, new ones in front (numpy.array's ndmin)."""
    a = asarray(a)
    return a if a.ndim >= ndmin else sh.reshape(a, (1,) * (ndmin - a.ndim) + tuple(a.shape))


def _lifted(a, ndmin, trans1d):
    """An array item of r_/c_ with ndmin axes, its own axes placed where trans1d says."""
    ndim = a.ndim
    a = _at_least(a, ndmin)
    if trans1d != -1 and ndim < ndmin:
        added = ndmin - ndim
        first = trans1d + added + 1 if trans1d < 0 else trans1d
        axes = list(range(ndmin))
        from funcgrad.numpy._shape import transpose
        a = transpose(a, axes[:first] + axes[added:] + axes[first:added])
    return a


r_ = _Concatenator(0, 1, -1, "r_")
r_.__doc__ = """Join arrays, scalars and ranges along the first axis (like numpy.r_).

    Example:
        >>> fnp.r_[np.array([1.0, 2.0]), 0.0, 5:8]
        array([1., 2., 0., 5., 6., 7.])
    """
c_ = _Concatenator(-1, 2, 0, "c_")
c_.__doc__ = """Join arrays as columns: 1-D items become columns (like numpy.c_).

    Example:
        >>> fnp.c_[np.array([1.0, 2.0]), np.array([3.0, 4.0])]
        array([[1., 3.],
               [2., 4.]])
    """
