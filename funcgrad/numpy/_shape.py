"""Shape manipulation under NumPy's names, built from reshape, transpose, broadcast_to, slice,
pad, concatenate and gather."""

from __future__ import annotations

import operator

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.numpy._util import (array_arg, normalize_axes, normalize_axis, shape_of,
                                  unsupported)
from funcgrad.ops import shape as sh
from funcgrad.ops.indexing import gather


def _shape_tuple(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise FuncgradTypeError(f"a shape must be a tuple of ints, got {shape!r}") from None


def reshape(a, newshape=None, order="C", *, shape=None):
    """Give ``a`` a new shape with the same elements (like numpy.reshape; one -1 allowed).

    Example:
        >>> fnp.reshape(np.arange(6.0), (2, -1)).shape
        (2, 3)
    """
    a = array_arg(a)
    target = list(_shape_tuple(newshape if shape is None else shape))
    if target.count(-1) > 1:
        raise ShapeError(f"cannot reshape {_describe(a)} into {tuple(target)}: only one -1")
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        if known == 0 or a.size % known:
            raise ShapeError(f"cannot reshape {_describe(a)} into shape {tuple(target)}")
        target[target.index(-1)] = a.size // known
    if order == "F":
        return transpose(sh.reshape(transpose(a), target[::-1]))
    if order != "C":
        raise FuncgradTypeError(f"reshape order={order!r} is not supported (use 'C' or 'F')")
    return sh.reshape(a, target)

def _describe(a):
    from funcgrad.core.types import ShapedArray
    return str(ShapedArray(tuple(a.shape), a.dtype))


def ravel(a, order="C"):
    """The elements of ``a`` as a 1-D array (like numpy.ravel).

    Example:
        >>> fnp.ravel(np.array([[1, 2], [3, 4]]))
        array([1, 2, 3, 4])
    """
    a = array_arg(a)
    return reshape(a, (a.size,), order=order)


def transpose(a, axes=None):
    """Permute the axes (reverse them by default), like numpy.transpose.

    Example:
        >>> fnp.transpose(np.array([[1, 2, 3]]))
        array([[1],
               [2],
               [3]])
        >>> fnp.transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape
        (3, 2, 4)
    """
    a = array_arg(a)
    if axes is None:
        return sh.transpose(a, tuple(range(a.ndim))[::-1])
    axes = [normalize_axis(x, a.ndim) for x in axes]
    return sh.transpose(a, axes)


def swapaxes(a, axis1, axis2):
    """Exchange two axes (like numpy.swapaxes).

    Example:
        >>> fnp.swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
        (4, 3, 2)
    """
    a = array_arg(a)
    perm = list(range(a.ndim))
    i, j = normalize_axis(axis1, a.ndim), normalize_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return sh.transpose(a, perm)


def moveaxis(a, source, destination):
    """Move axes to new positions, keeping the order of the others (like numpy.moveaxis).

    Example:
        >>> fnp.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    a = array_arg(a)
    src = [normalize_axis(s, a.ndim) for s in np.atleast_1d(source)]
    dst = [normalize_axis(d, a.ndim) for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ShapeError("moveaxis: source and destination must have the same number of axes")
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return sh.transpose(a, order)


def expand_dims(a, axis):
    """Insert axes of length 1 at ``axis`` (an int or a tuple), like numpy.expand_dims.

    Example:
        >>> fnp.expand_dims(np.array([1.0, 2.0]), 0).shape
        (1, 2)
    """
    a = array_arg(a)
    axes = normalize_axes(axis if isinstance(axis, (tuple, list)) else (axis,),
                          a.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1))
    shape, it = [], iter(a.shape)
    for i in range(a.ndim + len(axes)):
        shape.append(1 if i in axes else next(it))
    return sh.reshape(a, shape)


def squeeze(a, axis=None):
    """Remove axes of length 1 (like numpy.squeeze).

    Example:
        >>> fnp.squeeze(np.zeros((1, 3, 1))).shape
        (3,)
    """
    a = array_arg(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = normalize_axes(axis, a.ndim)
        for i in axes:
            if a.shape[i] != 1:
                raise ShapeError(f"cannot squeeze axis {i} of {_describe(a)}: its length is not 1")
    return sh.reshape(a, [d for i, d in enumerate(a.shape) if i not in axes])


def broadcast_to(array, shape):
    """``array`` broadcast to ``shape`` (like numpy.broadcast_to).

    Example:
        >>> fnp.broadcast_to(np.array([1.0, 2.0]), (2, 2))
        array([[1., 2.],
               [1., 2.]])
    """
    return sh.broadcast_to(array_arg(array), _shape_tuple(shape))


def broadcast_arrays(*args):
    """The arguments broadcast against each other (like numpy.broadcast_arrays).

    Example:
        >>> a, b = fnp.broadcast_arrays(np.array([1.0, 2.0]), np.array([[0.0], [10.0]]))
        >>> a.shape, b.shape
        ((2, 2), (2, 2))
    """
    from funcgrad.core.types import ShapedArray
    from funcgrad.ops.elementwise import broadcast_shapes
    args = [array_arg(a) for a in args]
    shape = broadcast_shapes(*(ShapedArray(tuple(a.shape), a.dtype) for a in args))
    return [sh.broadcast_to(a, shape) for a in args]


def atleast_1d(a):
    """``a`` with at least one dimension: a scalar becomes shape (1,) (like numpy.atleast_1d).

    Example:
        >>> fnp.atleast_1d(2.0)
        array([2.])
    """
    a = array_arg(a)
    return a if a.ndim >= 1 else sh.reshape(a, (1,))


def atleast_2d(a):
    """``a`` with at least two dimensions, new axes in front (like numpy.atleast_2d).

    Example:
        >>> fnp.atleast_2d(np.array([1.0, 2.0])).shape
        (1, 2)
    """
    a = array_arg(a)
    return a if a.ndim >= 2 else sh.reshape(a, (1,) * (2 - a.ndim) + tuple(a.shape))


def concatenate(arrays, axis=0):
    """Join arrays along an existing axis (like numpy.concatenate; axis=None flattens).

    Example:
        >>> fnp.concatenate([np.zeros(2), np.ones(1)])
        array([0., 0., 1.])
    """
    arrays = [array_arg(a) for a in arrays]
    if not arrays:
        raise ShapeError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    for a in arrays:
        if a.ndim == 0:
            raise ShapeError("zero-dimensional arrays cannot be concatenated")
    return sh.concatenate(arrays, normalize_axis(axis, arrays[0].ndim))


def stack(arrays, axis=0):
    """Join arrays of one shape along a new axis (like numpy.stack).

    Example:
        >>> fnp.stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])], axis=1)
        array([[1., 3.],
               [2., 4.]])
    """
    arrays = [array_arg(a) for a in arrays]
    if not arrays:
        raise ShapeError("need at least one array to stack")
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) > 1:
        raise ShapeError(f"all input arrays must have the same shape to stack, got "
                         f"{', '.join(_describe(a) for a in arrays)}")
    axis = normalize_axis(axis, arrays[0].ndim + 1)
    return sh.concatenate([expand_dims(a, axis) for a in arrays], axis)


def hstack(tup):
    """Stack arrays horizontally (like numpy.hstack).

    Example:
        >>> fnp.hstack([np.array([1.0, 2.0]), np.array([3.0])])
        array([1., 2., 3.])
    """
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def vstack(tup):
    """Stack arrays vertically (like numpy.vstack).

    Example:
        >>> fnp.vstack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
        array([[1., 2.],
               [3., 4.]])
    """
    return concatenate([atleast_2d(a) for a in tup], axis=0)


def split(ary, indices_or_sections, axis=0):
    """Split into sub-arrays along ``axis`` (like numpy.split).

    Example:
        >>> fnp.split(np.arange(6.0), 3)
        [array([0., 1.]), array([2., 3.]), array([4., 5.])]
    """
    a = array_arg(ary)
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ShapeError(f"array split does not result in an equal division: {n} into "
                             f"{sections}")
        bounds = list(range(0, n + 1, n // sections)) if n else [0] * (sections + 1)
    else:
        bounds = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        pieces.append(_take_range(a, axis, lo, max(hi, lo)))
    return pieces


def _take_range(a, axis, lo, hi):
    start = [0] * a.ndim
    start[axis] = lo if hi > lo else 0
    size = list(a.shape)
    size[axis] = hi - lo
    return sh.slice_array(a, start, [1] * a.ndim, size)


def tile(A, reps):
    """Repeat the whole of ``A`` ``reps`` times along each axis (like numpy.tile).

    Example:
        >>> fnp.tile(np.array([1, 2]), 2)
        array([1, 2, 1, 2])
    """
    a = array_arg(A)
    reps = _shape_tuple(reps)
    ndim = max(a.ndim, len(reps))
    shape = (1,) * (ndim - a.ndim) + tuple(a.shape)
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = [v for r, d in zip(reps, shape) for v in (1, d)]
    target = [v for r, d in zip(reps, shape) for v in (r, d)]
    expanded = sh.broadcast_to(sh.reshape(a, interleaved), target)
    return sh.reshape(expanded, [r * d for r, d in zip(reps, shape)])


def repeat(a, repeats, axis=None):
    """Repeat each element (like numpy.repeat).

    Example:
        >>> fnp.repeat(np.array([1, 2]), 2)
        array([1, 1, 2, 2])
    """
    a = array_arg(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    counts = np.asarray(repeats)
    if counts.size and counts.dtype.kind not in "iu":
        raise FuncgradTypeError(f"repeats must be integers, got {repeats!r}")
    if n and np.any(counts < 0):
        raise ShapeError(f"repeats must not be negative, got {repeats!r}")
    if counts.ndim == 0:
        r = max(int(counts), 0)  # NumPy lets an empty axis repeat -1 times
        shape = list(a.shape)
        expanded = sh.broadcast_to(sh.reshape(a, shape[:axis + 1] + [1] + shape[axis + 1:]),
                                   shape[:axis + 1] + [r] + shape[axis + 1:])
        return sh.reshape(expanded, shape[:axis] + [n * r] + shape[axis + 1:])
    if counts.shape != (n,) and counts.shape != (1,):
        raise ShapeError(f"repeat: {counts.size} repeats for an axis of length {n}")
    return take(a, np.repeat(np.arange(n), counts.astype(np.int64)), axis=axis)


def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (all axes by default), like numpy.flip.

    Example:
        >>> fnp.flip(np.array([[1, 2], [3, 4]]))
        array([[4, 3],
               [2, 1]])
    """
    m = array_arg(m)
    return sh.flip(m, normalize_axes(axis, m.ndim))


def fliplr(m):
    """``m`` with the order of its columns (axis 1) reversed (like numpy.fliplr).

    Example:
        >>> fnp.fliplr(np.array([[1.0, 2.0]]))
        array([[2., 1.]])
    """
    return flip(m, 1)


def flipud(m):
    """``m`` with the order of its rows (axis 0) reversed (like numpy.flipud).

    Example:
        >>> fnp.flipud(np.array([1.0, 2.0]))
        array([2., 1.])
    """
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Shift elements along ``axis`` with wrap-around (like numpy.roll).

    Example:
        >>> fnp.roll(np.array([1, 2, 3, 4]), 1)
        array([4, 1, 2, 3])
    """
    a = array_arg(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    axes = np.atleast_1d(axis)
    shifts = np.broadcast_to(np.atleast_1d(shift), axes.shape)
    for ax, s in zip(axes, shifts):
        ax = normalize_axis(int(ax), a.ndim)
        n = a.shape[ax]
        s = int(s) % n if n else 0
        if s:
            a = sh.concatenate([_take_range(a, ax, n - s, n), _take_range(a, ax, 0, n - s)], ax)
    return a


def _pad_widths(pad_width, ndim):
    try:  # int, (before, after), ((before, after),) or one pair per axis, as in NumPy
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad_width {pad_width!r} does not fit an array of {ndim} axes") from None
    return [(int(lo), int(hi)) for lo, hi in widths]


def pad(array, pad_width, mode="constant", constant_values=0):
    """Pad an array (like numpy.pad): modes constant, edge, reflect, symmetric and wrap.

    Example:
        >>> fnp.pad(np.array([1.0, 2.0]), 1)
        array([0., 1., 2., 0.])
    """
    a = array_arg(array)
    widths = _pad_widths(pad_width, a.ndim)
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ShapeError(f"pad widths must be non-negative, got {pad_width}")
    if mode == "constant":
        if np.ndim(constant_values) != 0 or \
                not isinstance(constant_values, (int, float, np.number)):
            raise FuncgradTypeError("pad supports a single constant number as constant_values")
        return sh.pad(a, [w[0] for w in widths], [w[1] for w in widths], [0] * a.ndim,
                      a.dtype.type(constant_values))
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise FuncgradTypeError(f"pad mode {mode!r} is not supported")
    for axis, (lo, hi) in enumerate(widths):
        if (lo or hi) and a.shape[axis] == 0:
            raise ShapeError(f"pad cannot extend the empty axis {axis} of {_describe(a)} in "
                             f"mode {mode!r}, only in mode 'constant'")
        if lo or hi:  # where each padded element comes from, as NumPy's own pad says
            source = np.pad(np.arange(a.shape[axis]), (lo, hi), mode=mode)
            a = take(a, source, axis=axis)
    return a


def take(a, indices, axis=None, out=None, mode=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (like numpy.take; axis=None flattens).
    Out-of-range indices raise an IndexError (a FuncgradIndexError).

    Example:
        >>> fnp.take(np.array([10.0, 20.0, 30.0]), np.array([2, 0]))
        array([30., 10.])
    """
    unsupported("take", out=out)
    if mode not in (None, "raise"):
        raise FuncgradTypeError("take supports mode='raise' only")
    a = array_arg(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    indices = _index_array(indices, a.shape[axis])
    spec = [(0, 1, d) for d in a.shape]
    spec[axis] = 0
    return gather(a, [indices], spec)


def _index_array(indices, n):
    from funcgrad.numpy._indexing import index_operand
    return index_operand(indices, n, dtype_error=FuncgradTypeError)


def take_along_axis(arr, indices, axis):
    """Pick values along ``axis`` with an index array of ``arr``'s rank (like
    numpy.take_along_axis).

    Example:
        >>> x = np.array([[10.0, 30.0], [40.0, 20.0]])
        >>> fnp.take_along_axis(x, fnp.argmax(x, axis=1)[:, None], axis=1)
        array([[30.],
               [40.]])
    """
    a = array_arg(arr)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    indices = _index_array(indices, a.shape[axis])
    if indices.ndim != a.ndim:
        raise ShapeError(f"take_along_axis: indices of rank {indices.ndim} for an array of rank "
                         f"{a.ndim}")
    grids = []
    for i, d in enumerate(a.shape):
        if i == axis:
            grids.append(indices)
        else:
            grids.append(np.arange(d).reshape([-1 if j == i else 1 for j in range(a.ndim)]))
    return gather(a, grids, list(range(a.ndim)))


def shape(a):
    """The shape of ``a``.

    Example:
        >>> fnp.shape(np.zeros((2, 3)))
        (2, 3)
    """
    return shape_of(a) if hasattr(a, "shape") else np.shape(a)


def ndim(a):
    """The number of axes of ``a``.

    Example:
        >>> fnp.ndim(np.zeros((2, 3)))
        2
    """
    return len(shape(a))


def size(a, axis=None):
    """The number of elements of ``a`` (along ``axis``, if given).

    Example:
        >>> fnp.size(np.zeros((2, 3)))
        6
    """
    s = shape(a)
    return int(np.prod(s, dtype=np.int64)) if axis is None else s[axis]


def rollaxis(a, axis, start=0):
    """Roll ``axis`` backwards until it lies before position ``start`` (like numpy.rollaxis;
    ``moveaxis`` says the same thing more plainly).

    Example:
        >>> fnp.rollaxis(np.zeros((2, 3, 4)), 2).shape
        (4, 2, 3)
    """
    a = array_arg(a)
    axis = normalize_axis(axis, a.ndim)
    if not -a.ndim <= start <= a.ndim:
        raise ShapeError(f"rollaxis: start {start} is out of range for {a.ndim} dimensions")
    start = start + a.ndim if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(a.ndim) if i != axis]
    order.insert(start, axis)
    return sh.transpose(a, order)
