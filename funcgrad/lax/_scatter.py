"""JAX's general ``lax.gather`` and ``lax.scatter``, ``scatter_add`` and ``scatter_mul``
with their ``GatherDimensionNumbers`` and ``ScatterDimensionNumbers``, for code ported from
JAX; re-exported by ``funcgrad.lax``. Written with funcgrad.numpy's indexing (one gather,
or one ``.at[]`` update, on index grids built here), so every transformation and ``jit``
apply.

Supported: every combination of offset/collapsed/start-index dimensions (gather) and
window/inserted/scatter-to-operand dimensions (scatter), index vectors along the last axis
of the indices (as ``jax.lax`` requires), and the modes ``'clip'``,
``'promise_in_bounds'`` (clipped too) and ``'fill'``/``'drop'`` (a gather of a slice out
of bounds gives ``fill_value``, a scatter of a window out of bounds is dropped); as in JAX,
a gather clips by default and a scatter drops. (JAX's default for gather is
'promise_in_bounds': it clips the values, and its gradient drops what an out-of-bounds
slice read; funcgrad's clips both. An index that breaks the promise is undefined in JAX.)
Not supported, with a clear error: the
operand batching dimensions (``operand_batching_dims``, ``start_indices_batching_dims``)
and the mode ``'one_hot'``. ``scatter_apply`` is not here. The gradient of ``scatter_min``
and ``scatter_max`` splits each element's cotangent equally among the values that reached
its result (the operand's element and the equal updates), as JAX's does.

Example:
    >>> from funcgrad import lax
    >>> dn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
    ...                                 start_index_map=(0,))
    >>> lax.gather(np.arange(12.0).reshape(4, 3), np.array([[2], [0]]), dn, (1, 3))
    array([[6., 7., 8.],
           [0., 1., 2.]])
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.control import subprogram as _sub
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.numpy import _indexing
from funcgrad.numpy._util import array_arg

__all__ = ["GatherDimensionNumbers", "ScatterDimensionNumbers", "GatherScatterMode", "gather",
           "scatter", "scatter_add", "scatter_mul", "scatter_min", "scatter_max"]


class GatherDimensionNumbers(NamedTuple):
    """How ``lax.gather`` reads: ``offset_dims`` (the output axes of each slice's kept
    axes), ``collapsed_slice_dims`` (operand axes of slice size 1 dropped from the output)
    and ``start_index_map`` (the operand axis each entry of an index vector starts).

    Example:
        >>> lax.GatherDimensionNumbers((1,), (0,), (0,)).start_index_map
        (0,)
    """

    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


class ScatterDimensionNumbers(NamedTuple):
    """How ``lax.scatter`` writes: ``update_window_dims`` (the axes of ``updates`` that are
    window axes), ``inserted_window_dims`` (operand axes the window has size 1 along, absent
    from ``updates``) and ``scatter_dims_to_operand_dims`` (the operand axis each entry of
    an index vector starts).

    Example:
        >>> lax.ScatterDimensionNumbers((1,), (0,), (0,)).inserted_window_dims
        (0,)
    """

    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


class GatherScatterMode:
    """JAX's names of the modes of ``gather`` and ``scatter``: ``CLIP``, ``FILL_OR_DROP``
    and ``PROMISE_IN_BOUNDS``; strings ('clip', 'fill', 'drop',
    'promise_in_bounds') work too.

    Example:
        >>> lax.GatherScatterMode.CLIP
        'clip'
    """

    CLIP = "clip"
    FILL_OR_DROP = "fill"
    PROMISE_IN_BOUNDS = "promise_in_bounds"


def _mode(mode, name, default) -> str:
    text = getattr(mode, "name", mode)
    text = default if text is None else str(text).lower()
    table = {"fill": "fill", "drop": "fill", "fill_or_drop": "fill",
             "clip": "clip", "promise_in_bounds": "clip"}
    if text not in table:
        raise FuncgradValueError(f"lax.{name}: mode {mode!r} is not supported: give 'clip', "
                                 f"'fill' (or 'drop') or 'promise_in_bounds'")
    return table[text]


def _axes(name, field, values, ndim):
    try:
        out = tuple(operator.index(v) for v in values)
    except TypeError:
        out = None
    if out is None or any(not 0 <= v < ndim for v in out) or len(set(out)) != len(out):
        raise ShapeError(f"lax.{name}: {field} {values!r} are not distinct axes of an array of "
                         f"{ndim} axes")
    return out


def _starts(name, operand_shape, indices, index_map, window, mode):
    """Each window's start along every operand axis (batch shape each), clamped so that the
    window fits, and where mode is 'fill' the batch mask of windows that fit unclamped."""
    if indices.ndim == 0 or indices.shape[-1] != len(index_map):
        raise ShapeError(f"lax.{name}: the indices' last axis must hold one index per entry of "
                         f"the index map {index_map}, got indices {_sub.leaf_aval(indices)}")
    if indices.dtype.kind not in "iu":
        raise FuncgradTypeError(f"lax.{name}'s indices must be integers, got "
                                f"{_sub.leaf_aval(indices)}")
    batch = tuple(indices.shape[:-1])
    starts, fits = [], None
    for axis, (n, size) in enumerate(zip(operand_shape, window)):
        if size > n:
            raise ShapeError(f"lax.{name}: a window of {size} does not fit axis {axis} of "
                             f"length {n}")
        if axis in index_map:
            s = fnp.astype(indices[..., index_map.index(axis)], np.int64)
            if mode == "fill":
                ok = (s >= 0) & (s <= n - size)
                fits = ok if fits is None else fits & ok
            starts.append(fnp.clip(s, 0, n - size))
        else:
            starts.append(fnp.zeros(batch, np.int64))
    return batch, starts, fits


def _grids(batch, starts, window):
    """Index arrays of shape batch + window, one per operand axis."""
    nb, nd = len(batch), len(window)
    out = []
    for axis, (s, size) in enumerate(zip(starts, window)):
        line = np.arange(size).reshape([size if a == axis else 1 for a in range(nd)])
        out.append(fnp.reshape(s, batch + (1,) * nd) + line.reshape((1,) * nb + line.shape))
    return tuple(out)


def _no_batching(name, dn, fields):
    if any(getattr(dn, f, ()) for f in fields):
        raise FuncgradValueError(f"lax.{name}: operand batching dimensions ({', '.join(fields)})"
                                 f" are not supported")


def _fill_value(dtype, fill_value):
    if fill_value is not None:
        return fill_value
    if dtype.kind == "f":
        return np.nan
    if dtype.kind == "b":
        return True
    info = np.iinfo(dtype)
    return info.min if dtype.kind == "i" else info.max


def gather(operand, start_indices, dimension_numbers, slice_sizes, *,
           unique_indices: bool = False, indices_are_sorted: bool = False, mode=None,
           fill_value=None):
    """Slices of ``operand`` of ``slice_sizes`` starting at the index vectors along the last
    axis of ``start_indices``, arranged as ``dimension_numbers`` say: JAX's ``lax.gather``.
    By default (mode 'clip', as in JAX) a slice's start is clamped so that it fits; with
    mode 'fill' a slice out of bounds reads ``fill_value`` (NaN for floats).

    Example:
        >>> dn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
        ...                                 start_index_map=(0, 1))
        >>> x = np.arange(12.0).reshape(3, 4)
        >>> lax.gather(x, np.array([[0, 1], [2, 2], [2, 3]]), dn, (1, 2), mode="fill")
        array([[ 1.,  2.],
               [10., 11.],
               [nan, nan]])
        >>> lax.gather(x, np.array([[2, 3]]), dn, (1, 2))  # clipped
        array([[10., 11.]])
    """
    dn = dimension_numbers
    _no_batching("gather", dn, ("operand_batching_dims", "start_indices_batching_dims"))
    operand = array_arg(operand, "operand")
    indices = array_arg(start_indices, "start_indices")
    mode = _mode(mode, "gather", "clip")
    nd = operand.ndim
    window = tuple(operator.index(s) for s in slice_sizes)
    if len(window) != nd:
        raise ShapeError(f"lax.gather: {len(window)} slice_sizes for an operand of {nd} axes")
    index_map = _axes("gather", "start_index_map", dn.start_index_map, nd)
    collapsed = _axes("gather", "collapsed_slice_dims", dn.collapsed_slice_dims, nd)
    if any(window[a] != 1 for a in collapsed):
        raise ShapeError(f"lax.gather: collapsed_slice_dims {collapsed} must have slice size 1, "
                         f"got slice_sizes {window}")
    batch, starts, fits = _starts("gather", operand.shape, indices, index_map, window, mode)
    rank = len(batch) + nd - len(collapsed)
    offset_dims = _axes("gather", "offset_dims", dn.offset_dims, rank)
    if len(offset_dims) != nd - len(collapsed):
        raise ShapeError(f"lax.gather: {len(offset_dims)} offset_dims for "
                         f"{nd - len(collapsed)} axes of each slice kept")
    out = _indexing.getitem(operand, _grids(batch, starts, window))  # batch + window
    nb = len(batch)
    if collapsed:
        out = fnp.squeeze(out, axis=tuple(nb + a for a in collapsed))
    # the slices' kept axes go to offset_dims (in order), the batch axes fill the rest
    order = sorted(offset_dims)
    rest = iter(range(nb))
    source = [nb + order.index(p) if p in offset_dims else next(rest) for p in range(rank)]
    out = fnp.transpose(out, tuple(source))
    if fits is not None:
        mask_shape = [batch[source[p]] if source[p] < nb else 1 for p in range(rank)]
        out = fnp.where(fnp.reshape(fits, tuple(mask_shape)), out,
                        fnp.asarray(_fill_value(np.dtype(out.dtype), fill_value), out.dtype))
    return out


def _scatter(name, how, operand, scatter_indices, updates, dimension_numbers, mode):
    dn = dimension_numbers
    _no_batching(name, dn, ("operand_batching_dims", "scatter_indices_batching_dims"))
    operand = array_arg(operand, "operand")
    indices = array_arg(scatter_indices, "scatter_indices")
    updates = array_arg(updates, "updates")
    mode = _mode(mode, name, "fill")
    nd = operand.ndim
    window_dims = _axes(name, "update_window_dims", dn.update_window_dims, updates.ndim)
    inserted = _axes(name, "inserted_window_dims", dn.inserted_window_dims, nd)
    index_map = _axes(name, "scatter_dims_to_operand_dims", dn.scatter_dims_to_operand_dims, nd)
    if len(window_dims) + len(inserted) != nd:
        raise ShapeError(f"lax.{name}: {len(window_dims)} update_window_dims and "
                         f"{len(inserted)} inserted_window_dims for an operand of {nd} axes")
    sizes = iter(updates.shape[d] for d in sorted(window_dims))
    window = tuple(1 if a in inserted else next(sizes) for a in range(nd))
    scatter_axes = [d for d in range(updates.ndim) if d not in window_dims]
    batch_shape = tuple(indices.shape[:-1]) if indices.ndim else ()
    if tuple(updates.shape[d] for d in scatter_axes) != batch_shape:
        raise ShapeError(f"lax.{name}: updates {_sub.leaf_aval(updates)} do not match "
                         f"indices {_sub.leaf_aval(indices)} (update_window_dims {window_dims})")
    batch, starts, fits = _starts(name, operand.shape, indices, index_map, window, mode)
    values = fnp.transpose(updates, (*scatter_axes, *sorted(window_dims)))
    values = fnp.reshape(values, batch + window)
    target = operand
    if fits is not None:  # windows out of bounds go to a scratch block past the end of axis 0
        target = fnp.concatenate([operand, fnp.zeros((window[0], *operand.shape[1:]),
                                                     operand.dtype)], axis=0)
        starts[0] = fnp.where(fits, starts[0], operand.shape[0])
    grids = _grids(batch, starts, window)
    values = fnp.astype(values, operand.dtype)
    out = _indexing.scatter(target, grids, values, how)  # (operand or indices may be traced)
    return out[:operand.shape[0]] if fits is not None else out


def scatter_add(operand, scatter_indices, updates, dimension_numbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode=None):
    """``operand`` with ``updates`` added into the windows at ``scatter_indices`` (repeated
    indices add up): JAX's ``lax.scatter_add``. By default a window out of bounds is
    dropped; with 'clip' its start is clamped.

    Example:
        >>> dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
        ...                                  scatter_dims_to_operand_dims=(0,))
        >>> lax.scatter_add(np.zeros(4), np.array([[1], [3], [1], [7]]),
        ...                 np.array([1.0, 2.0, 3.0, 4.0]), dn)
        array([0., 4., 0., 2.])
    """
    return _scatter("scatter_add", "add", operand, scatter_indices, updates,
                    dimension_numbers, mode)


def scatter_mul(operand, scatter_indices, updates, dimension_numbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode=None):
    """``operand`` with the windows at ``scatter_indices`` multiplied by ``updates``
    (repeated indices multiply): JAX's ``lax.scatter_mul``.

    Example:
        >>> dn = lax.ScatterDimensionNumbers((), (0,), (0,))
        >>> lax.scatter_mul(np.ones(3), np.array([[0], [0], [2]]), np.array([2.0, 3.0, 5.0]), dn)
        array([6., 1., 5.])
    """
    return _scatter("scatter_mul", "multiply", operand, scatter_indices, updates,
                    dimension_numbers, mode)


def scatter(operand, scatter_indices, updates, dimension_numbers, *,
            indices_are_sorted: bool = False, unique_indices: bool = False, mode=None):
    """``operand`` with the windows at ``scatter_indices`` replaced by ``updates``: JAX's
    ``lax.scatter`` (at repeated indices, one of the updates wins).

    Example:
        >>> dn = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
        ...                                  scatter_dims_to_operand_dims=(0,))
        >>> lax.scatter(np.zeros((3, 2)), np.array([[2]]), np.array([[1.0, 2.0]]), dn)
        array([[0., 0.],
               [0., 0.],
               [1., 2.]])
    """
    return _scatter("scatter", "set", operand, scatter_indices, updates, dimension_numbers,
                    mode)



def scatter_min(operand, scatter_indices, updates, dimension_numbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode=None):
    """``operand`` with each element of the windows at ``scatter_indices`` replaced by the
    smallest of it and the updates written there: JAX's ``lax.scatter_min``.

    Example:
        >>> dn = lax.ScatterDimensionNumbers((), (0,), (0,))
        >>> lax.scatter_min(np.ones(3), np.array([[0], [0], [2]]), np.array([2.0, -3.0, 0.5]),
        ...                 dn)
        array([-3. ,  1. ,  0.5])
    """
    return _scatter("scatter_min", "min", operand, scatter_indices, updates,
                    dimension_numbers, mode)


def scatter_max(operand, scatter_indices, updates, dimension_numbers, *,
                indices_are_sorted: bool = False, unique_indices: bool = False, mode=None):
    """``operand`` with each element of the windows at ``scatter_indices`` replaced by the
    largest of it and the updates written there: JAX's ``lax.scatter_max``.

    Example:
        >>> dn = lax.ScatterDimensionNumbers((), (0,), (0,))
        >>> lax.scatter_max(np.ones(3), np.array([[0], [0], [2]]), np.array([2.0, 3.0, 0.5]),
        ...                 dn)
        array([3., 1., 1.])
    """
    return _scatter("scatter_max", "max", operand, scatter_indices, updates,
                    dimension_numbers, mode)
