"""Sorting and searching primitives: ``argsort``, the stable sorting permutation along an
axis, and ``searchsorted``, binary search in a sorted 1-D array.

Everything else that sorts is built on it: ``sort`` is ``argsort`` followed by a gather
(``take_along_axis``), so its VJP is the gather's, a scatter-add through the permutation: each
element, tied or not, gets the cotangent of the position it lands in (JAX's convention for a
stable sort). The permutation itself is an integer result: zero derivative.

NaN sorts last, as in NumPy; ties keep their order (a stable sort: NumPy's ``kind='stable'``).
``searchsorted`` places values in that order too (NaN after every number); its result is
an integer: zero derivative.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.types import ShapedArray, int64
from funcgrad.rules import batch_rules, zero_derivative
from funcgrad.rules.lowering import Standalone, lowerings


def _argsort_rule(x, *, axis):
    if not 0 <= axis < x.ndim:
        raise ShapeError(f"argsort: axis {axis} is out of range for {x}")
    return ShapedArray(x.shape, int64)


def _argsort_impl(x, *, axis):
    return np.argsort(x, axis=axis, kind="stable").astype(int64)


def _lower_argsort(ctx, eqn):
    """A stable argsort slice by slice, NaN last, as NumPy's (compile/sorting_routines.py:
    Numba's np.argsort cannot be cached on disk)."""
    (x,), (out,), axis = eqn.inputs, eqn.outputs, eqn.params["axis"]
    shape = x.aval.shape
    xs = ctx.array(x)
    name = ctx.new_array(out.aval, "order")
    with ctx.loops(shape[:axis] + shape[axis + 1:]) as index:
        at = ", ".join(index[:axis] + [":"] + index[axis:])
        ctx.emit(f"{name}[{at}] = fgm.argsort_stable({xs}[{at}])")
    ctx.define(out, name)


def _argsort_batch(args, dims, *, axis):
    """The batch axis first, the sorted axis one further on."""
    return [argsort_p.bind(to_front(args[0], dims[0]), axis=axis + 1)], [0]


argsort_p = Primitive("argsort", impl=_argsort_impl, shape_rule=_argsort_rule, allocates=True)
zero_derivative(argsort_p)
batch_rules[argsort_p] = _argsort_batch
lowerings[argsort_p] = Standalone(_lower_argsort)


def argsort(x, axis):
    """The indices that sort ``x`` stably along ``axis`` (NaN last)."""
    return argsort_p.bind(x, axis=int(axis))




# --- searchsorted ------------------------------------------------------------------------------

def _searchsorted_rule(a, v, *, side):
    if a.ndim != 1:
        raise ShapeError(f"searchsorted: the sorted array must be 1-D, got {a}")
    if a.dtype != v.dtype:
        raise FuncgradTypeError(f"searchsorted: {a} and {v} must have one dtype")
    return ShapedArray(v.shape, int64)


def _searchsorted_impl(a, v, *, side):
    return np.asarray(np.searchsorted(a, v, side)).astype(int64)


def _lower_searchsorted(ctx, eqn):
    """A bisection per value (NaN last, as NumPy's; compile/sorting_routines.py: Numba's
    np.searchsorted cannot be cached on disk): the values may be a strided view, and each
    search is O(log n)."""
    (a, v), (out,), side = eqn.inputs, eqn.outputs, eqn.params["side"]
    sorted_, values = ctx.array(a), ctx.array(v)
    right = side == "right"
    if not out.aval.shape:
        ctx.define(out, f"fgm.searchsorted({sorted_}, {values}, {right})")
        return
    name = ctx.new_array(out.aval, "place")
    with ctx.loops(out.aval.shape) as index:
        at = ", ".join(index)
        ctx.emit(f"{name}[{at}] = fgm.searchsorted({sorted_}, {values}[{at}], {right})")
    ctx.define(out, name)


def _count_before(a, v, side):
    """searchsorted for sorted rows ``a`` (..., n) and values ``v`` (...) broadcasting with
    them: how many of each row go before the value, NaN counting as largest."""
    v = reshape(v, (*v.shape, 1))
    if side == "left":  # a < v, or v is NaN and a is not
        before = lt_p.bind(a, v)
        if a.dtype.kind == "f":
            before = logical_or_p.bind(before, logical_and_p.bind(
                isnan_p.bind(v), logical_not_p.bind(isnan_p.bind(a))))
    else:  # a <= v, or v is NaN
        before = le_p.bind(a, v)
        if a.dtype.kind == "f":
            before = logical_or_p.bind(before, isnan_p.bind(v))
    return reduce_sum(before, (before.ndim - 1,))


def _searchsorted_batch(args, dims, *, side):
    """Values batched: searched as they are. Sorted arrays batched: one row per example,
    each value counts the elements of its own row before it (O(n) per value)."""
    (a, v), (da, dv) = args, dims
    if da is None:
        return [searchsorted_p.bind(a, v, side=side)], [dv]
    size = batch_size(args, dims)
    v = with_batch_axis(v, dv, size)
    a = to_front(a, da)
    a = reshape(a, (size, *(1,) * (v.ndim - 1), a.shape[-1]))
    return [_count_before(a, v, side)], [0]


searchsorted_p = Primitive("searchsorted", impl=_searchsorted_impl,
                           shape_rule=_searchsorted_rule, allocates=True)
zero_derivative(searchsorted_p)
batch_rules[searchsorted_p] = _searchsorted_batch
lowerings[searchsorted_p] = Standalone(_lower_searchsorted)


def searchsorted(a, v, side):
    """Where ``v`` goes in the sorted 1-D ``a`` (side 'left' or 'right'), as int64."""
    return searchsorted_p.bind(a, v, side=side)


from funcgrad.ops.elementwise import (isnan_p, le_p, logical_and_p,  # noqa: E402
                                      logical_not_p, logical_or_p, lt_p)
from funcgrad.ops.reductions import reduce_sum  # noqa: E402
from funcgrad.ops.shape import batch_size, reshape, to_front, with_batch_axis  # noqa: E402
