"""Sorting, searching and counting under NumPy's names.

One primitive sorts (``argsort``, funcgrad.ops.sorting); the rest is composed from it and the
existing primitives, so every rule (VJP, JVP, batching, Numba lowering) comes from theirs:
``sort`` is ``argsort`` then a gather, whose VJP scatters each cotangent back through the
permutation (a tied element gets the cotangent of the place it lands in, as in JAX).

Sorts are always stable: ``kind`` is accepted and ignored, so ``argsort`` orders ties as
``kind='stable'`` does (NumPy's default quicksort promises no order among ties). NaN sorts last.

Results whose size depends on values (``nonzero``, ``argwhere``, ``unique``, ``bincount``)
are NumPy's own on concrete arrays; inside a trace (jit, vmap, grad of traced indices) they
need a static ``size=`` and are padded with ``fill_value`` or truncated to it, as in JAX.
"""

from __future__ import annotations

import operator

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._util import array_arg, normalize_axis, unsupported
from funcgrad.ops import sorting

_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _along(a, axis):
    """``a`` as an array and ``axis`` normalized; axis=None flattens, as NumPy's sort does."""
    a = array_arg(a)
    if axis is None:
        return fnp.ravel(a), 0
    if a.ndim == 0:
        raise ShapeError("cannot sort a 0-d array along an axis (use axis=None)")
    return a, normalize_axis(axis, a.ndim)


def _check_kind(name, kind, order):
    unsupported(name, order=order)
    if kind not in _KINDS:
        raise FuncgradValueError(f"{name}: kind must be one of {_KINDS[1:]}, got {kind!r}")


def argsort(a, axis=-1, kind=None, order=None, *, stable=None, descending=False):
    """The indices that sort ``a`` along ``axis`` (like numpy.argsort; axis=None flattens).
    Always a stable sort (ties keep their order, ``stable`` is accepted); NaN last, or
    first with JAX's ``descending=True``. Integer result: zero gradient.

    Example:
        >>> fnp.argsort(np.array([3.0, 1.0, 2.0, 1.0]))
        array([1, 3, 2, 0])
        >>> fnp.argsort(np.array([3.0, 1.0, 2.0, 1.0]), descending=True)
        array([0, 2, 1, 3])
    """
    _check_kind("argsort", kind, order)
    a, axis = _along(a, axis)
    if not descending:
        return sorting.argsort(a, axis)
    # the ascending sort of the reversed array, read backwards: ties keep their order
    n = a.shape[axis]
    return fnp.flip(n - 1 - sorting.argsort(fnp.flip(a, axis), axis), axis)


def sort(a, axis=-1, kind=None, order=None, *, stable=None, descending=False):
    """``a`` sorted along ``axis`` (like numpy.sort; axis=None flattens; NaN last, or first
    with JAX's ``descending=True``). Each element's gradient is the cotangent of the place
    it is sorted to (ties included).

    Example:
        >>> fnp.sort(np.array([[3.0, 1.0], [2.0, 5.0]]), axis=0)
        array([[2., 1.],
               [3., 5.]])
        >>> fg.grad(lambda x: fnp.sort(x)[0] * 10 + fnp.sort(x)[2])(np.array([3.0, 1.0, 2.0]))
        array([ 1., 10.,  0.])
    """
    _check_kind("sort", kind, order)
    a, axis = _along(a, axis)
    return fnp.take_along_axis(a, argsort(a, axis, descending=descending), axis)


def lexsort(keys, axis=-1):
    """The indices that sort by several keys (like numpy.lexsort): by the last key, ties
    broken by the one before it, and so on. ``keys``: a sequence of arrays of one shape, or
    an array whose first axis runs over the keys. Integer result.

    Example:
        >>> fnp.lexsort((np.array([1, 0, 2, 0]), np.array([1, 1, 0, 1])))
        array([2, 1, 3, 0])
    """
    keys = [array_arg(k) for k in (keys if isinstance(keys, (list, tuple)) else
                                   [keys[i] for i in range(array_arg(keys).shape[0])])]
    if not keys:
        raise FuncgradTypeError("lexsort: need at least one key")
    if len({tuple(k.shape) for k in keys}) > 1:
        raise ShapeError(f"lexsort: all keys need to be the same shape, got "
                         f"{[tuple(k.shape) for k in keys]}")
    if keys[0].ndim == 0:
        raise ShapeError("lexsort: keys must be at least 1-D")
    axis = normalize_axis(axis, keys[0].ndim)
    order = sorting.argsort(keys[0], axis)
    for key in keys[1:]:  # a stable sort by each more important key keeps the earlier order
        order = fnp.take_along_axis(
            order, sorting.argsort(fnp.take_along_axis(key, order, axis), axis), axis)
    return order


def _check_kth(kth, n):
    for k in np.atleast_1d(np.asarray(kth)).ravel():
        k = operator.index(k)
        if not -n <= k < n:
            raise FuncgradValueError(f"kth(={k}) out of bounds ({n})")


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``a`` partitioned around its ``kth`` element (like numpy.partition): the element at
    ``kth`` is the one a sort puts there, smaller ones before it and larger ones after. Here
    the whole axis is sorted, which is one such partition (NumPy's order within the two
    parts is unspecified and may differ).

    Example:
        >>> fnp.partition(np.array([3.0, 4.0, 2.0, 1.0]), 2)
        array([1., 2., 3., 4.])
    """
    unsupported("partition", order=order)
    a, axis = _along(a, axis)
    _check_kth(kth, a.shape[axis])
    return sort(a, axis)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """The indices that partition ``a`` around ``kth`` (like numpy.argpartition): here, the
    stable sorting permutation (see ``partition``).

    Example:
        >>> fnp.argpartition(np.array([3.0, 4.0, 2.0, 1.0]), 1)
        array([3, 2, 0, 1])
    """
    unsupported("argpartition", order=order)
    a, axis = _along(a, axis)
    _check_kth(kth, a.shape[axis])
    return sorting.argsort(a, axis)


# --- searching ----------------------------------------------------------------------------

def _traced(*xs) -> bool:
    return any(isinstance(x, Tracer) for x in xs)


_SEARCH_METHODS = ("scan", "scan_unrolled", "sort", "compare_all")


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Where to insert ``v`` into the sorted 1-D ``a`` to keep it sorted (like
    numpy.searchsorted; NaN counts as largest). A binary search per value, compiled too:
    JAX's ``method`` is accepted (each gives the same result). Integer result: zero
    gradient.

    Example:
        >>> fnp.searchsorted(np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 2.5]))
        array([1, 3])
        >>> fnp.searchsorted(np.array([1.0, 2.0, 2.0, 3.0]), 2.0, side="right")
        np.int64(3)
    """
    if side not in ("left", "right"):
        raise FuncgradValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if method not in _SEARCH_METHODS:
        raise FuncgradValueError(f"searchsorted: method must be one of {_SEARCH_METHODS}, got "
                                 f"{method!r}")
    if not _traced(a, v, sorter):
        return np.searchsorted(array_arg(a), array_arg(v), side, array_arg(sorter)
                               if sorter is not None else None)
    a, v = array_arg(a, "a"), array_arg(v, "v")
    if a.ndim != 1:
        raise ShapeError(f"searchsorted: a must be 1-D, got shape {a.shape}")
    if sorter is not None:
        a = fnp.take(a, sorter)
    common = np.result_type(a.dtype, v.dtype)  # NumPy compares in the common type
    return sorting.searchsorted(a.astype(common), v.astype(common), side)


def digitize(x, bins, right=False):
    """The index of the bin each ``x`` falls in (like numpy.digitize): increasing or
    decreasing ``bins``; ``right`` says which edge a bin includes. Integer result.

    Example:
        >>> fnp.digitize(np.array([0.5, 1.0, 2.5]), np.array([1.0, 2.0, 3.0]))
        array([0, 1, 2])
    """
    if not _traced(x, bins):
        return np.digitize(array_arg(x), array_arg(bins), right)
    x, bins = array_arg(x, "x"), array_arg(bins, "bins")
    if bins.ndim != 1:
        raise ShapeError(f"digitize: bins must be 1-D, got shape {bins.shape}")
    side = "left" if right else "right"
    up = searchsorted(bins, x, side)
    down = bins.shape[0] - searchsorted(fnp.flip(bins), x, side)
    if not isinstance(bins, Tracer):
        steps = np.diff(bins)[~np.isnan(np.diff(bins))]  # NumPy's takes NaN as in order
        if not (np.all(steps >= 0) or np.all(steps <= 0)):
            raise FuncgradValueError("digitize: bins must be monotonically increasing or "
                                     "decreasing")
        return down if bins[-1] < bins[0] else up
    # NaN bins sort last: as NumPy's, increasing unless the last is below the first
    return fnp.where(bins[-1] < bins[0], down, up)


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Whether each element of ``element`` is in ``test_elements`` (like numpy.isin).
    Traced, it compares each with all of ``test_elements``. Boolean result.

    Example:
        >>> fnp.isin(np.array([1, 2, 3, 4]), np.array([2, 4]))
        array([False,  True, False,  True])
    """
    if not _traced(element, test_elements):
        return np.isin(array_arg(element), array_arg(test_elements), assume_unique, invert)
    element, tests = array_arg(element), fnp.ravel(array_arg(test_elements))
    found = fnp.any(fnp.expand_dims(element, -1) == tests, axis=-1)
    return ~found if invert else found


def count_nonzero(a, axis=None, *, keepdims=False):
    """How many elements of ``a`` are non-zero over ``axis`` (like numpy.count_nonzero).

    Example:
        >>> fnp.count_nonzero(np.array([[0.0, 1.0], [2.0, 3.0]]), axis=0)
        array([1, 2])
    """
    if not _traced(a):
        return np.count_nonzero(array_arg(a), axis=axis, keepdims=keepdims)
    return fnp.sum(array_arg(a) != 0, axis=axis, keepdims=keepdims)


# --- results whose size depends on values: a static size under a trace ----------------------

def _static_size(name, size, traced):
    if size is None:
        if traced:
            raise FuncgradTypeError(
                f"{name} of a traced array has a size that depends on its values; pass a "
                f"static size= (the result is then padded with fill_value or truncated)")
        return None
    size = operator.index(size)
    if size < 0:
        raise FuncgradValueError(f"{name}: size must be >= 0, got {size}")
    return size


def _compact(keep, values, size, fill):
    """The ``values`` where ``keep`` is true, in order, in an array of ``size`` (the rest
    ``fill``; those beyond ``size`` dropped): each kept one is scattered to its rank among
    the kept, the others to one spare slot past the end."""
    rank = fnp.cumsum(keep.astype(np.int64)) - 1
    target = fnp.where(keep & (rank < size), rank, size)
    start = fnp.broadcast_to(fnp.asarray(fill).astype(values.dtype),
                             (size + 1, *values.shape[1:]))
    return fnp.at(start)[target].set(values)[:size]


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements, one array per axis (like numpy.nonzero). With
    ``size=``, exactly ``size`` of them (padded with ``fill_value``, default 0, or
    truncated): required inside a trace, where the count is not known.

    Example:
        >>> fnp.nonzero(np.array([0.0, 3.0, 0.0, 4.0]))
        (array([1, 3]),)
        >>> fg.jit(lambda x: fnp.nonzero(x, size=3, fill_value=-1))(np.array([0.0, 3.0, 4.0]))
        (array([ 1,  2, -1]),)
    """
    size = _static_size("nonzero", size, _traced(a))
    a = array_arg(a)
    if size is None:
        return np.nonzero(a)
    if a.ndim == 0:
        raise ShapeError("nonzero of a 0-d array is not defined (NumPy refuses it too); "
                         "use atleast_1d first")
    fills = fill_value if isinstance(fill_value, tuple) else (fill_value or 0,) * a.ndim
    if a.size == 0:  # nothing is non-zero: all padding (and no strides to divide by)
        return tuple(fnp.full(size, fill, np.int64) for fill in fills)
    keep = fnp.ravel(a) != 0
    flat = _compact(keep, fnp.arange(keep.shape[0]), size, 0)
    valid = fnp.arange(size) < fnp.sum(keep)
    indices, stride = [], int(np.prod(a.shape))
    for n, fill in zip(a.shape, fills):
        stride //= n
        indices.append(fnp.where(valid, (flat // stride) % n, fill).astype(np.int64))
    return tuple(indices)


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements of ``ravel(a)`` (like numpy.flatnonzero); ``size=``
    as for ``nonzero``.

    Example:
        >>> fnp.flatnonzero(np.array([[0.0, 3.0], [4.0, 0.0]]))
        array([1, 2])
    """
    return nonzero(fnp.ravel(array_arg(a)), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements, one row each (like numpy.argwhere); ``size=`` as
    for ``nonzero``.

    Example:
        >>> fnp.argwhere(np.array([[0.0, 3.0], [4.0, 0.0]]))
        array([[0, 1],
               [1, 0]])
    """
    size = _static_size("argwhere", size, _traced(a))
    a = array_arg(a)
    if size is None:
        return np.argwhere(a)
    if a.ndim == 0:
        return fnp.zeros((size, 0), np.int64)
    return fnp.stack(nonzero(a, size=size, fill_value=fill_value), axis=-1)


def bincount(x, weights=None, minlength=0, *, size=None, length=None):
    """How many times each value 0, 1, ... occurs in the non-negative integers ``x`` (like
    numpy.bincount), or the sum of their ``weights`` (float64; differentiable in weights).
    Inside a trace of ``x``, the number of bins must be static: ``size=`` (or JAX's
    ``length=``); values outside ``[0, size)`` are then dropped.

    Example:
        >>> fnp.bincount(np.array([0, 1, 1, 3]))
        array([1, 2, 0, 1])
        >>> fg.grad(lambda w: fnp.bincount(np.array([0, 1, 1]), w)[1])(np.array([1.0, 2.0, 3.0]))
        array([0., 1., 1.])
    """
    size = _static_size("bincount", size if size is not None else length, _traced(x))
    x = array_arg(x, "x")
    if x.ndim != 1 or x.dtype.kind not in "iub":
        raise FuncgradTypeError(f"bincount: x must be a 1-D array of non-negative integers, "
                                f"got {x.dtype} of shape {x.shape}")
    if size is None:
        if not _traced(weights):
            return np.bincount(x, None if weights is None else array_arg(weights), minlength)
        if x.size and x.min() < 0:
            raise FuncgradValueError("bincount: x must be non-negative")
        size = max(int(x.max()) + 1 if x.size else 0, operator.index(minlength))
    counted = ((x >= 0) & (x < size))
    place = fnp.where(counted, x, 0)
    if weights is None:
        added = counted.astype(np.int64)
    else:
        weights = array_arg(weights, "weights")
        if weights.shape != x.shape:
            raise ShapeError(f"bincount: weights of shape {weights.shape} for x of shape "
                             f"{x.shape}")
        added = fnp.where(counted, weights.astype(np.float64), 0.0)
    return fnp.at(fnp.zeros(size, added.dtype))[place].add(added)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, size=None, fill_value=None, sorted=True):  # noqa: A002
    """The sorted unique elements of ``ar`` (like numpy.unique), and optionally the index of
    each one's first occurrence, the inverse (``unique[inverse]`` rebuilds ``ar``) and the
    counts. Inside a trace, ``size=`` is required: the result is padded with ``fill_value``
    (default: the smallest element, or slice with ``axis=``; the index with the smallest's,
    as JAX's; counts with 0) or truncated. The gradient of each unique value goes to its
    first occurrence.

    Example:
        >>> fnp.unique(np.array([3.0, 1.0, 3.0, 2.0]))
        array([1., 2., 3.])
        >>> fg.jit(lambda x: fnp.unique(x, size=4, fill_value=0.0))(np.array([3.0, 1.0, 3.0]))
        array([1., 3., 0., 0.])
    """
    size = _static_size("unique", size, _traced(ar))
    ar = array_arg(ar)
    options = (return_index, return_inverse, return_counts)
    if size is None:
        return np.unique(ar, *options, axis=axis, equal_nan=equal_nan)
    if axis is not None:
        return _unique_slices(ar, normalize_axis(axis, ar.ndim), options, size, fill_value)
    flat = fnp.ravel(ar)
    order = sorting.argsort(flat, 0)
    ordered = fnp.take(flat, order)
    differs = ordered[1:] != ordered[:-1]
    if equal_nan and ordered.dtype.kind == "f":
        differs = differs & ~(fnp.isnan(ordered[1:]) & fnp.isnan(ordered[:-1]))
    first = fnp.concatenate([np.ones(min(flat.shape[0], 1), bool), differs])
    fill = ordered[0] if fill_value is None and flat.shape[0] else \
        (0 if fill_value is None else fill_value)
    results = [_compact(first, ordered, size, fill),
               *_unique_extras(first, order, options, size)]
    if return_inverse:
        results[1 + return_index] = fnp.reshape(results[1 + return_index], ar.shape)
    return results[0] if len(results) == 1 else tuple(results)


def _unique_extras(first, order, options, size):
    """The index of each unique value's first occurrence (padded, as JAX's, with the first
    one's), the inverse (1-D) and the counts (padded with 0) that ``options`` ask for, from
    ``first`` (true where a new value starts in sorted order) and the sorting ``order``."""
    return_index, return_inverse, return_counts = options
    out = []
    if return_index:
        out.append(_compact(first, order, size, order[0] if order.shape[0] else 0))
    group = fnp.cumsum(first.astype(np.int64)) - 1
    if return_inverse:
        out.append(fnp.at(fnp.zeros(order.shape[0], np.int64))[order].set(group))
    if return_counts:
        in_range = group < size
        out.append(fnp.at(fnp.zeros(size + 1, np.int64))[fnp.where(in_range, group, size)]
                   .add(1)[:size])
    return out


def _unique_slices(ar, axis, options, size, fill_value):
    """unique(..., axis=, size=): the distinct slices along ``axis``, in lexicographic order
    of their elements (NaNs never equal, as NumPy's and JAX's), ``size`` of them."""
    slices = fnp.moveaxis(ar, axis, 0)
    n, rest = slices.shape[0], tuple(slices.shape[1:])
    rows = fnp.reshape(slices, (n, int(np.prod(rest))))
    columns = [rows[:, j] for j in reversed(range(rows.shape[1]))]
    order = lexsort(columns) if columns else fnp.arange(n)
    ordered = fnp.take(rows, order, axis=0)
    differs = fnp.any(ordered[1:] != ordered[:-1], axis=1)
    first = fnp.concatenate([np.ones(min(n, 1), bool), differs])
    fill = ordered[0] if fill_value is None and n else (0 if fill_value is None else fill_value)
    values = fnp.reshape(_compact(first, ordered, size, fill), (size, *rest))
    return (fnp.moveaxis(values, 0, axis), *_unique_extras(first, order, options, size)) \
        if any(options) else fnp.moveaxis(values, 0, axis)
