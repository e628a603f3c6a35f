"""Shape manipulation under NumPy's names, built from reshape, transpose, broadcast_to, slice,
pad, concatenate and gather."""

from __future__ import annotations

import operator

import numpy as np

from funcgrad.core.errors import (FuncgradIndexError, FuncgradTypeError, FuncgradValueError,
                                  ShapeError)
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
    """The elements of ``a`` as a 1-D array (like numpy.ravel; ``order`` 'F' reads by
    columns, and 'A' and 'K', which follow memory layout, read in 'C' order: funcgrad's
    arrays have no layout).

    Example:
        >>> fnp.ravel(np.array([[1, 2], [3, 4]]), order="F")
        array([1, 3, 2, 4])
    """
    a = array_arg(a)
    return reshape(a, (a.size,), order="C" if order in ("A", "K") else order)


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


def _each(function, arrays):
    """NumPy's atleast_*d: one array for one argument, a tuple of them for several."""
    out = tuple(function(a) for a in arrays)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    """Each array with at least one dimension: a scalar becomes shape (1,) (like
    numpy.atleast_1d; several arguments give a tuple).

    Example:
        >>> fnp.atleast_1d(2.0)
        array([2.])
    """
    def one(a):
        a = array_arg(a)
        return a if a.ndim >= 1 else sh.reshape(a, (1,))
    return _each(one, arys)


def atleast_2d(*arys):
    """Each array with at least two dimensions, new axes in front (like numpy.atleast_2d).

    Example:
        >>> fnp.atleast_2d(np.array([1.0, 2.0])).shape
        (1, 2)
    """
    def one(a):
        a = array_arg(a)
        return a if a.ndim >= 2 else sh.reshape(a, (1,) * (2 - a.ndim) + tuple(a.shape))
    return _each(one, arys)


def atleast_3d(*arys):
    """Each array with at least three dimensions (like numpy.atleast_3d): a scalar becomes
    (1, 1, 1), shape (N,) becomes (1, N, 1) and (M, N) becomes (M, N, 1).

    Example:
        >>> fnp.atleast_3d(np.array([1.0, 2.0])).shape
        (1, 2, 1)
    """
    def one(a):
        a = array_arg(a)
        shape = {0: (1, 1, 1), 1: (1, *a.shape, 1), 2: (*a.shape, 1)}.get(a.ndim, a.shape)
        return sh.reshape(a, shape) if a.ndim < 3 else a
    return _each(one, arys)


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
    if not arrays:
        raise ShapeError("need at least one array to concatenate")
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def vstack(tup):
    """Stack arrays vertically (like numpy.vstack).

    Example:
        >>> fnp.vstack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
        array([[1., 2.],
               [3., 4.]])
    """
    return concatenate([atleast_2d(a) for a in tup], axis=0)


row_stack = vstack  # NumPy 2 deprecates this name of vstack (funcgrad does not warn)


def dstack(tup):
    """Stack arrays along the third axis, after atleast_3d (like numpy.dstack).

    Example:
        >>> fnp.dstack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
        array([[[1., 3.],
                [2., 4.]]])
    """
    return concatenate([atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    """Stack 1-D arrays as the columns of a 2-D array; 2-D arrays join as they are (like
    numpy.column_stack).

    Example:
        >>> fnp.column_stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
        array([[1., 3.],
               [2., 4.]])
    """
    def column(a):
        a = array_arg(a)
        return sh.reshape(a, (a.size, 1)) if a.ndim < 2 else a
    return concatenate([column(a) for a in tup], axis=1)


def concat(arrays, /, *, axis=0):
    """The array API's name of concatenate (like numpy.concat).

    Example:
        >>> fnp.concat([np.zeros(1), np.ones(2)])
        array([0., 1., 1.])
    """
    return concatenate(arrays, axis=axis)


def split(ary, indices_or_sections, axis=0):
    """Split into sub-arrays along ``axis`` (like numpy.split): into equal sections, or at a
    list of indices (as Python slices take them: negative ones count from the end). The
    sections or indices must be concrete, since they decide the shapes of the results.

    Example:
        >>> fnp.split(np.arange(6.0), 3)
        [array([0., 1.]), array([2., 3.]), array([4., 5.])]
        >>> fnp.split(np.arange(5.0), [2, -1])
        [array([0., 1.]), array([2., 3.]), array([4.])]
    """
    a = array_arg(ary)
    _concrete("split", "indices_or_sections", indices_or_sections)
    if np.ndim(indices_or_sections) == 0:
        n = a.shape[normalize_axis(axis, a.ndim)]
        sections = _sections(indices_or_sections)
        if n % sections:
            raise ShapeError(f"array split does not result in an equal division: {n} into "
                             f"{sections}")
    return array_split(a, indices_or_sections, axis)


def array_split(ary, indices_or_sections, axis=0):
    """Split into sub-arrays along ``axis`` (like numpy.array_split): ``n`` sections may be
    unequal (the first ``len % n`` one longer), or split at a concrete list of indices.

    Example:
        >>> fnp.array_split(np.arange(5.0), 3)
        [array([0., 1.]), array([2., 3.]), array([4.])]
    """
    a = array_arg(ary)
    _concrete("array_split", "indices_or_sections", indices_or_sections)
    if a.ndim == 0:
        raise ShapeError("cannot split a zero-dimensional array")
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = _sections(indices_or_sections)
        each, extras = divmod(n, sections)
        bounds = np.cumsum([0] + [each + 1] * extras + [each] * (sections - extras)).tolist()
    else:
        try:
            bounds = [0] + [operator.index(i) for i in indices_or_sections] + [n]
        except TypeError:
            raise FuncgradTypeError(f"array_split: indices must be integers, got "
                                    f"{indices_or_sections!r}") from None
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        start, stop, _ = slice(lo, hi).indices(n)  # Python's meaning of negative bounds
        pieces.append(_take_range(a, axis, start, max(stop, start)))
    return pieces


def _sections(indices_or_sections) -> int:
    try:
        sections = int(indices_or_sections)
    except (TypeError, ValueError):
        raise FuncgradTypeError(f"split: {indices_or_sections!r} is neither a number of "
                                "sections nor a list of indices") from None
    if sections <= 0:
        raise ShapeError(f"split: the number of sections must be positive, got {sections}")
    return sections


def _concrete(name, argument, value):
    """Refuse a traced static argument, naming it: it decides the shape of the result."""
    from funcgrad.core.errors import ConcretizationError
    from funcgrad.core.tracing import Tracer
    values = value if isinstance(value, (list, tuple)) else [value]
    if any(isinstance(v, Tracer) for v in values):
        raise ConcretizationError(
            f"{name}: {argument} must be concrete (Python ints or a NumPy array), not a traced "
            "value, since the shape of the result depends on it")


def _split_along(name, ary, indices_or_sections, axis, min_ndim):
    a = array_arg(ary)
    if a.ndim < min_ndim:
        raise ShapeError(f"{name} only works on arrays of {min_ndim} or more dimensions, got "
                         f"{_describe(a)}")
    return split(a, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """Split along the columns: axis 1, or axis 0 of a 1-D array (like numpy.hsplit).

    Example:
        >>> fnp.hsplit(np.arange(4.0), 2)
        [array([0., 1.]), array([2., 3.])]
    """
    a = array_arg(ary)
    return _split_along("hsplit", a, indices_or_sections, 1 if a.ndim > 1 else 0, 1)


def vsplit(ary, indices_or_sections):
    """Split along the rows, axis 0, of an array of 2 or more axes (like numpy.vsplit).

    Example:
        >>> [p.shape for p in fnp.vsplit(np.zeros((4, 2)), [1])]
        [(1, 2), (3, 2)]
    """
    return _split_along("vsplit", ary, indices_or_sections, 0, 2)


def dsplit(ary, indices_or_sections):
    """Split along the depth, axis 2, of an array of 3 or more axes (like numpy.dsplit).

    Example:
        >>> [p.shape for p in fnp.dsplit(np.zeros((1, 2, 4)), 2)]
        [(1, 2, 2), (1, 2, 2)]
    """
    return _split_along("dsplit", ary, indices_or_sections, 2, 3)


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


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat each element (like numpy.repeat). ``total_repeat_length`` (JAX's) fixes the
    length of the result, so ``repeats`` may be traced: a shorter result is truncated, a
    longer one repeats the last element.

    Example:
        >>> fnp.repeat(np.array([1, 2]), 2)
        array([1, 1, 2, 2])
        >>> f = lambda r: fnp.repeat(np.array([1, 2]), r, total_repeat_length=4)
        >>> fg.jit(f)(np.array([1, 2]))
        array([1, 2, 2, 2])
    """
    a = array_arg(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    if total_repeat_length is not None:
        return _repeat_to_length(a, repeats, axis, total_repeat_length)
    if _traced_repeats(repeats):
        from funcgrad.core.errors import ConcretizationError
        raise ConcretizationError(
            "repeat: repeats is a traced value, so the length of the result is not known; "
            "pass total_repeat_length= (the result's length along the axis) or concrete repeats")
    n = a.shape[axis]
    counts = _repeat_counts(repeats, n)
    if counts.ndim == 0:
        r = max(int(counts), 0)  # NumPy lets an empty axis repeat -1 times
        shape = list(a.shape)
        expanded = sh.broadcast_to(sh.reshape(a, shape[:axis + 1] + [1] + shape[axis + 1:]),
                                   shape[:axis + 1] + [r] + shape[axis + 1:])
        return sh.reshape(expanded, shape[:axis] + [n * r] + shape[axis + 1:])
    return take(a, np.repeat(np.arange(n), counts.astype(np.int64)), axis=axis)


def _traced_repeats(repeats) -> bool:
    from funcgrad.core.tracing import Tracer
    values = repeats if isinstance(repeats, (list, tuple)) else [repeats]
    return any(isinstance(v, Tracer) for v in values)


def _repeat_counts(repeats, n):
    """Concrete ``repeats`` checked as NumPy does: integers, not negative, one or n of them."""
    counts = np.asarray(repeats)
    if counts.size and counts.dtype.kind not in "iu":
        raise FuncgradTypeError(f"repeats must be integers, got {repeats!r}")
    if n and np.any(counts < 0):
        raise ShapeError(f"repeats must not be negative, got {repeats!r}")
    if counts.ndim and counts.shape != (n,) and counts.shape != (1,):
        raise ShapeError(f"repeat: {counts.size} repeats for an axis of length {n}")
    return counts


def _repeat_to_length(a, repeats, axis, length):
    """JAX's repeat of a fixed length: output place j takes the element whose run of repeats
    covers it (the count of running totals <= j), the last element past the end."""
    _concrete("repeat", "total_repeat_length", length)
    length = operator.index(length)
    if length < 0:
        raise ShapeError(f"repeat: total_repeat_length must not be negative, got {length}")
    n = a.shape[axis]
    if _traced_repeats(repeats):
        from funcgrad.numpy._sorting import searchsorted
        from funcgrad.numpy._reductions import cumsum
        counts = array_arg(repeats)
        if counts.dtype.kind not in "iu":
            raise FuncgradTypeError(f"repeats must be integers, got {counts.dtype}")
        if counts.ndim > 1 or counts.ndim and counts.shape[0] not in (1, n):
            raise ShapeError(f"repeat: {counts.shape[0]} repeats for an axis of length {n}")
        ends = cumsum(sh.broadcast_to(counts, (n,)))
        index = searchsorted(ends, np.arange(length), side="right")
    else:
        counts = np.broadcast_to(_repeat_counts(repeats, n), (n,))
        index = np.searchsorted(np.cumsum(counts), np.arange(length), side="right")
    if n == 0:
        if length:
            raise ShapeError(f"repeat: total_repeat_length={length} for an empty axis")
        return take(a, np.zeros(0, np.int64), axis=axis)
    from funcgrad.numpy._ufuncs import minimum
    return take(a, minimum(index, n - 1), axis=axis)


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


# the keyword arguments each mode of pad takes, as NumPy's and JAX's modes do
_PAD_OPTIONS = {"constant": {"constant_values"}, "edge": set(), "wrap": set(), "empty": set(),
                "reflect": {"reflect_type"}, "symmetric": {"reflect_type"},
                "linear_ramp": {"end_values"}, "maximum": {"stat_length"},
                "minimum": {"stat_length"}, "mean": {"stat_length"}, "median": {"stat_length"}}


def pad(array, pad_width, mode="constant", constant_values=None, *, stat_length=None,
        end_values=None, reflect_type=None):
    """Pad an array (like numpy.pad), in each of NumPy's modes but a callable one: 'constant'
    (``constant_values``: a number, or numbers per side and axis as NumPy takes them),
    'edge', 'reflect' and 'symmetric' (``reflect_type`` 'even'), 'wrap', 'empty' (zeros, as
    JAX's), 'linear_ramp' (``end_values``: from these to the edge values), and 'maximum',
    'minimum', 'mean' and 'median' (of the ``stat_length`` values at each end; the whole
    axis by default). The padding's gradient flows to the values it was made from.

    Example:
        >>> fnp.pad(np.array([1.0, 2.0]), 1)
        array([0., 1., 2., 0.])
        >>> fnp.pad(np.array([1.0, 2.0, 6.0]), (2, 1), mode="linear_ramp", end_values=(5, 0))
        array([5., 3., 1., 2., 6., 0.])
        >>> fnp.pad(np.array([1.0, 2.0, 6.0]), 1, mode="mean", stat_length=2)
        array([1.5, 1. , 2. , 6. , 4. ])
    """
    a = array_arg(array)
    widths = _pad_widths(pad_width, a.ndim)
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ShapeError(f"pad widths must be non-negative, got {pad_width}")
    if not isinstance(mode, str) or mode not in _PAD_OPTIONS:
        raise FuncgradTypeError(f"pad mode {mode!r} is not supported: the modes are "
                                f"{', '.join(map(repr, _PAD_OPTIONS))}")
    given = {name for name, value in [("constant_values", constant_values),
                                      ("stat_length", stat_length), ("end_values", end_values),
                                      ("reflect_type", reflect_type)] if value is not None}
    if given - _PAD_OPTIONS[mode]:
        raise FuncgradValueError(f"pad mode {mode!r} takes no "
                                 f"{', '.join(sorted(given - _PAD_OPTIONS[mode]))}")
    if mode in ("constant", "empty"):
        return _pad_constant(a, widths, 0 if constant_values is None else constant_values)
    if reflect_type not in (None, "even"):
        raise FuncgradValueError(f"pad: reflect_type {reflect_type!r} is not supported (only "
                                 "'even')")
    for axis, (lo, hi) in enumerate(widths):
        if (lo or hi) and a.shape[axis] == 0:
            raise ShapeError(f"pad cannot extend the empty axis {axis} of {_describe(a)} in "
                             f"mode {mode!r}, only in mode 'constant'")
    from funcgrad.numpy import _pad  # (its statistics are funcgrad.numpy's functions)
    if mode == "linear_ramp":
        return _pad.pad_linear_ramp(a, widths, end_values)
    if mode in _pad.STATISTICS:
        return _pad.pad_by_statistic(a, widths, mode, stat_length)
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:  # where each padded element comes from, as NumPy's own pad says
            source = np.pad(np.arange(a.shape[axis]), (lo, hi), mode=mode)
            a = take(a, source, axis=axis)
    return a


def _pad_constant(a, widths, constant_values):
    """Padding by numbers: one, or (before, after) pairs per axis as NumPy reads them, the
    axes padded in order (a corner takes the value of the last axis through it, as NumPy's)."""
    if isinstance(constant_values, (int, float, np.number)):
        return sh.pad(a, [w[0] for w in widths], [w[1] for w in widths], [0] * a.ndim,
                      a.dtype.type(constant_values))
    from funcgrad.numpy._pad import as_pairs
    for axis, ((lo, hi), values) in enumerate(zip(widths, as_pairs(constant_values, a.ndim,
                                                                    "constant_values"))):
        for width, value, side in ((lo, values[0], 0), (hi, values[1], 1)):
            sides = [[0, 0] for _ in range(a.ndim)]
            sides[axis][side] = width
            a = sh.pad(a, [w[0] for w in sides], [w[1] for w in sides], [0] * a.ndim,
                       a.dtype.type(value))
    return a


def take(a, indices, axis=None, out=None, mode=None, *, fill_value=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (like numpy.take; axis=None
    flattens). ``mode`` says what indices out of range do: 'raise' (the default: concrete
    ones raise a FuncgradIndexError), 'clip' to the ends (negative ones to 0, as NumPy),
    'wrap' around, or JAX's 'fill': ``fill_value`` there (by default NaN for floats, the
    most negative integer, the largest unsigned one, True).

    Example:
        >>> fnp.take(np.array([10.0, 20.0, 30.0]), np.array([2, 0]))
        array([30., 10.])
        >>> fnp.take(np.array([10.0, 20.0, 30.0]), np.array([-1, 3]), mode="fill")
        array([30., nan])
    """
    unsupported("take", out=out)
    if mode not in (None, "raise", "clip", "wrap", "fill"):
        raise FuncgradValueError(f"take: mode must be 'raise', 'clip', 'wrap' or 'fill', got "
                                 f"{mode!r}")
    a = array_arg(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    valid = None
    if mode in ("clip", "wrap", "fill"):
        from funcgrad.numpy._ufuncs import clip, logical_and, where
        indices = array_arg(indices, "indices")
        if indices.dtype.kind not in "iu":
            raise FuncgradTypeError(f"take: indices must be integers, got {indices.dtype}")
        if n == 0 and mode != "fill":
            raise FuncgradIndexError(f"take: cannot do a non-empty take from an empty axis "
                                     f"with mode={mode!r}")
        if mode == "clip":
            indices = clip(indices, 0, n - 1)
        elif mode == "wrap":
            indices = indices % n
        else:
            valid = logical_and(indices >= -n, indices < n)
            indices = where(valid, where(indices < 0, indices + n, indices), 0)
            n = max(n, 1)  # an empty axis: every index is filled
            if a.shape[axis] == 0:
                a = pad(a, [(0, 1) if i == axis else (0, 0) for i in range(a.ndim)])
    indices = _index_array(indices, n)
    spec = [(0, 1, d) for d in a.shape]
    spec[axis] = 0
    out = gather(a, [indices], spec)
    if valid is None:
        return out
    from funcgrad.numpy._ufuncs import where
    if fill_value is None:
        kind = a.dtype.kind
        fill_value = np.nan if kind == "f" else True if kind == "b" else \
            np.iinfo(a.dtype).max if kind == "u" else np.iinfo(a.dtype).min
    valid = reshape(valid, (1,) * axis + tuple(valid.shape) + (1,) * (a.ndim - axis - 1))
    return where(valid, out, np.asarray(fill_value, a.dtype)[()])


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


# --- NumPy's element insertion and deletion, rotation, and the array API's names ----------

def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``, from the first axis towards
    the second (like numpy.rot90).

    Example:
        >>> fnp.rot90(np.array([[1, 2], [3, 4]]))
        array([[2, 4],
               [1, 3]])
    """
    m = array_arg(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ShapeError(f"rot90: axes must name two axes, got {axes}")
    if m.ndim < 2:
        raise ShapeError(f"rot90 needs an array of two or more axes, got {_describe(m)}")
    a0, a1 = normalize_axis(axes[0], m.ndim), normalize_axis(axes[1], m.ndim)
    if a0 == a1:
        raise ShapeError(f"rot90: the axes {axes} are the same axis")
    try:
        k = operator.index(k) % 4
    except TypeError:
        raise FuncgradTypeError(f"rot90: k must be an int, got {k!r}") from None
    if k == 0:
        return m
    if k == 2:
        return flip(m, (a0, a1))
    perm = list(range(m.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return sh.transpose(flip(m, a1), perm)
    return flip(sh.transpose(m, perm), a1)


def _positions(shape, edit):
    """Where each element of an edited array comes from: ``edit`` (numpy.insert or
    numpy.delete) applied to the flat positions of an array of ``shape``."""
    return edit(np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape))


def append(arr, values, axis=None):
    """``values`` appended to ``arr``: both flattened (axis=None), or joined along ``axis``
    (like numpy.append).

    Example:
        >>> fnp.append(np.array([1.0, 2.0]), [[3.0], [4.0]])
        array([1., 2., 3., 4.])
    """
    arr, values = array_arg(arr), array_arg(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


def insert(arr, obj, values, axis=None):
    """``values`` inserted before the indices ``obj`` along ``axis`` (flattened if None), like
    numpy.insert: ``obj`` an int, a slice or a list of ints, and concrete, since it decides
    the shape of the result; ``values`` may be traced and are cast to ``arr``'s dtype.

    Example:
        >>> fnp.insert(np.array([1.0, 2.0, 3.0]), 1, 9.0)
        array([1., 9., 2., 3.])
        >>> loss = lambda v: fnp.sum(fnp.insert(np.zeros(3), [0, 2], v) ** 2)
        >>> fg.grad(loss)(np.array([1.0, 2.0]))
        array([2., 4.])
    """
    from funcgrad.numpy._creation import asarray
    _concrete("insert", "obj", obj)
    arr, values = array_arg(arr), array_arg(values)
    n_arr = int(np.prod(arr.shape, dtype=np.int64))
    value_positions = np.arange(n_arr, n_arr + int(np.prod(values.shape, dtype=np.int64)),
                                dtype=np.int64).reshape(values.shape)
    try:  # NumPy's insert on positions says which element goes where, broadcasting included
        source = _positions(arr.shape,
                            lambda p: np.insert(p, obj, value_positions, axis))
    except (IndexError, ValueError, TypeError) as err:
        raise _numpy_error("insert", err) from None
    both = concatenate([ravel(arr), ravel(asarray(values, arr.dtype))], 0)
    return take(both, source)


def delete(arr, obj, axis=None):
    """``arr`` without the entries ``obj`` (an int, slice, list of ints or boolean mask) along
    ``axis`` (flattened if None), like numpy.delete. ``obj`` must be concrete.

    Example:
        >>> fnp.delete(np.array([[1, 2, 3], [4, 5, 6]]), [0, 2], axis=1)
        array([[2],
               [5]])
    """
    _concrete("delete", "obj", obj)
    arr = array_arg(arr)
    try:
        source = _positions(arr.shape, lambda p: np.delete(p, obj, axis))
    except (IndexError, ValueError, TypeError) as err:
        raise _numpy_error("delete", err) from None
    return take(ravel(arr), source)


def _numpy_error(name, err):
    from funcgrad.core.errors import FuncgradIndexError
    kind = FuncgradIndexError if isinstance(err, IndexError) else \
        ShapeError if isinstance(err, ValueError) else FuncgradTypeError
    return kind(f"{name}: {err}")


def permute_dims(a, /, axes):
    """The array API's name of transpose, with the permutation required (like
    numpy.permute_dims).

    Example:
        >>> fnp.permute_dims(np.zeros((2, 3, 4)), (2, 0, 1)).shape
        (4, 2, 3)
    """
    a = array_arg(a)
    axes = [normalize_axis(x, a.ndim) for x in axes]
    if sorted(axes) != list(range(a.ndim)):
        raise ShapeError(f"permute_dims: {tuple(axes)} is not a permutation of the axes of "
                         f"{_describe(a)}")
    return sh.transpose(a, axes)


def matrix_transpose(x, /):
    """Swap the last two axes: the transpose of each matrix of a stack (like
    numpy.matrix_transpose).

    Example:
        >>> fnp.matrix_transpose(np.zeros((5, 2, 3))).shape
        (5, 3, 2)
    """
    x = array_arg(x)
    if x.ndim < 2:
        raise ShapeError(f"matrix_transpose needs at least two axes, got {_describe(x)}")
    return swapaxes(x, -1, -2)


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple (like numpy.unstack; stack's inverse).

    Example:
        >>> fnp.unstack(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        (array([1., 3.]), array([2., 4.]))
    """
    x = array_arg(x)
    if x.ndim == 0:
        raise ShapeError("unstack needs an array of at least one axis")
    axis = normalize_axis(axis, x.ndim)
    rest = [d for i, d in enumerate(x.shape) if i != axis]
    return tuple(sh.reshape(_take_range(x, axis, i, i + 1), rest)
                 for i in range(x.shape[axis]))


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
