"""numpy.pad's modes that compute the padding from the values: a statistic of each end
('maximum', 'minimum', 'mean', 'median' of ``stat_length`` values there, by default the whole
axis) and 'linear_ramp' (from ``end_values`` to the edge). As NumPy does, the axes are padded
one after another, each padding the array the axes before it made, so a corner takes the
statistic of padding. Integer arrays get a statistic rounded half to even, a ramp rounded
down, as NumPy's. Everything is made of funcgrad.numpy's functions: their rules come along
(the padding's gradient flows to the values it was computed from)."""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.tracing import Tracer

STATISTICS = ("maximum", "minimum", "mean", "median")


def as_pairs(value, ndim, name, index=False):
    """``value`` (a number, a (before, after) pair, one pair per axis...) as a (before, after)
    pair for each of ``ndim`` axes, as NumPy reads it; None stays None. ``index``: counts,
    rounded to integers and never negative."""
    if value is None:
        return [(None, None)] * ndim
    if isinstance(value, Tracer) or any(isinstance(v, Tracer) for v in np.ravel(
            np.asarray(value, dtype=object))):
        raise FuncgradTypeError(f"pad: {name} must be numbers known when tracing, not traced "
                                f"values")
    x = np.asarray(value)
    if x.dtype.kind not in "biuf":
        raise FuncgradTypeError(f"pad: {name} must be numbers, got {value!r}")
    if index:
        x = np.round(x).astype(np.int64)
        if np.any(x < 0):
            raise FuncgradValueError(f"pad: {name} must not be negative, got {value!r}")
    try:
        return np.broadcast_to(x, (ndim, 2)).tolist()
    except ValueError:
        raise ShapeError(f"pad: {name} {value!r} does not fit an array of {ndim} axes") from None


def _part(a, axis, start, stop):
    return a[(slice(None),) * axis + (slice(start, stop),)]


def _with_ends(a, axis, before, after):
    """``a`` with ``before`` and ``after`` (None: nothing) put at either end of ``axis``."""
    return fnp.concatenate([p for p in (before, a, after) if p is not None], axis=axis)


def pad_by_statistic(a, widths, mode, stat_length):
    statistic = {"maximum": fnp.max, "minimum": fnp.min, "mean": fnp.mean,
                 "median": fnp.median}[mode]
    lengths = as_pairs(stat_length, a.ndim, "stat_length", index=True)
    for axis, ((lo, hi), (left, right)) in enumerate(zip(widths, lengths)):
        if not (lo or hi):
            continue
        n = a.shape[axis]
        left, right = (n if k is None else min(k, n) for k in (left, right))
        if left == 0 or right == 0:  # (NumPy's mean would pad with NaN; JAX refuses too)
            raise FuncgradValueError(f"pad: a stat_length of 0 leaves no values on axis {axis}"
                                     f" for mode {mode!r}")
        before = _statistic(statistic, _part(a, axis, 0, left), axis, a.dtype)
        after = before if left == right == n else \
            _statistic(statistic, _part(a, axis, n - right, n), axis, a.dtype)
        shape = list(a.shape)
        a = _with_ends(a, axis, *(fnp.broadcast_to(s, shape[:axis] + [w] + shape[axis + 1:])
                                  if w else None for s, w in ((before, lo), (after, hi))))
    return a


def _statistic(statistic, part, axis, dtype):
    value = statistic(part, axis=axis, keepdims=True)
    if dtype.kind in "iu":  # NumPy rounds a mean or median (half to even) into the integers
        value = fnp.round(value)
    return value.astype(dtype)


def pad_linear_ramp(a, widths, end_values):
    ends = as_pairs(0 if end_values is None else end_values, a.ndim, "end_values")
    for axis, ((lo, hi), (start, stop)) in enumerate(zip(widths, ends)):
        n = a.shape[axis]
        before = _ramp(start, _part(a, axis, 0, 1), lo, axis) if lo else None
        after = fnp.flip(_ramp(stop, _part(a, axis, n - 1, n), hi, axis), axis) if hi else None
        a = _with_ends(a, axis, before, after)
    return a


def _ramp(end, edge, width, axis):
    """NumPy's linspace(end, edge, width, endpoint=False) along ``axis``, in float64 as
    NumPy computes it for a scalar end value, then in the edge's dtype (rounded down)."""
    steps = np.arange(width, dtype=np.float64).reshape(
        [-1 if i == axis else 1 for i in range(edge.ndim)])
    ramp = steps * ((edge.astype(np.float64) - end) / width) + end
    if edge.dtype.kind in "iu":
        ramp = fnp.floor(ramp)
    return ramp.astype(edge.dtype)
