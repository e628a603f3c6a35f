"""Summaries of samples under scipy.stats's names: sem, rankdata and mode (as
jax.scipy.stats has them; nan_policy "propagate", and "omit" for sem)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradValueError
from funcgrad.numpy._util import array_arg, inexact_arg

__all__ = ["sem", "rankdata", "mode", "ModeResult"]


def _policy(nan_policy, allowed, name):
    if nan_policy not in allowed:
        raise FuncgradValueError(f"{name}'s nan_policy is one of {', '.join(allowed)}, not "
                                 f"{nan_policy!r}" + (" (as in JAX: 'omit' is not implemented)"
                                                      if nan_policy == "omit" else ""))


def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """The standard error of the mean: std(a, ddof) / sqrt(n) along ``axis`` (all of ``a``
    for None). nan_policy "omit" leaves nans out of both; "propagate" gives nan.
    Differentiable in ``a``.

    Example:
        >>> from funcgrad.scipy.stats import sem
        >>> float(sem(np.array([1.0, 2.0, 4.0, 7.0])))
        1.3228756555322954
    """
    _policy(nan_policy, ("propagate", "omit"), "sem")
    a = inexact_arg(a)
    if axis is None:
        result = sem(fnp.ravel(a), 0, ddof, nan_policy)
        return fnp.reshape(result, (1,) * a.ndim) if keepdims else result
    if nan_policy == "omit":
        n = fnp.sum(fnp.logical_not(fnp.isnan(a)), axis=axis, keepdims=keepdims)
        std = fnp.nanstd(a, axis=axis, ddof=ddof, keepdims=keepdims)
    else:
        n = a.shape[axis]
        std = fnp.std(a, axis=axis, ddof=ddof, keepdims=keepdims)
    # a Python number for a static count, so that it does not widen a float32 std
    return std / (fnp.sqrt(fnp.astype(n, std.dtype)) if not isinstance(n, int) else math.sqrt(n))


def _runs(s, same):
    """For values sorted along the last axis: each element's run (of equal values) count
    and the exclusive end of its run (1-based rank of the run's last element). The runs are
    counted by a scatter-add over run ids, so this traces, batches and compiles."""
    n = s.shape[-1]
    rows = int(np.prod(s.shape[:-1], dtype=np.int64))
    starts = fnp.concatenate([fnp.ones((*s.shape[:-1], 1), np.int64),
                              fnp.astype(fnp.logical_not(same(s[..., 1:], s[..., :-1])),
                                         np.int64)], axis=-1)
    run = fnp.cumsum(starts, axis=-1) - 1
    flat = fnp.ravel(run + fnp.reshape(fnp.arange(rows) * n, (*s.shape[:-1], 1)))
    counts = fnp.reshape(fnp.at(fnp.zeros(rows * n, np.int64))[flat].add(1), s.shape)
    count = fnp.take_along_axis(counts, run, axis=-1)
    end = fnp.take_along_axis(fnp.cumsum(counts, axis=-1), run, axis=-1)
    return run, count, end


def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
    """Ranks 1..n of the values along ``axis`` (all of ``a``, flattened, for None), ties
    by ``method``: "average", "min", "max", "dense" (consecutive ranks of distinct values)
    or "ordinal" (by position). As floats (JAX's convention; scipy gives ints except for
    "average"); a slice with a nan ranks as all nan. Not differentiable (ranks are
    piecewise constant: their gradient is zero).

    Example:
        >>> from funcgrad.scipy.stats import rankdata
        >>> rankdata(np.array([3.0, 1.0, 1.0, 2.0]))
        array([4. , 1.5, 1.5, 3. ])
        >>> rankdata(np.array([3.0, 1.0, 1.0, 2.0]), method="dense")
        array([3., 1., 1., 2.])
    """
    methods = ("average", "min", "max", "dense", "ordinal")
    if method not in methods:
        raise FuncgradValueError(f"rankdata's method is one of {', '.join(methods)}, not "
                                 f"{method!r}")
    _policy(nan_policy, ("propagate",), "rankdata")
    a = array_arg(a)
    if axis is None:
        a, axis = fnp.ravel(a), -1
    moved = fnp.moveaxis(a, axis, -1)
    if moved.shape[-1] == 0:
        return fnp.astype(a, np.float64)
    order = fnp.argsort(moved, axis=-1, stable=True)
    inverse = fnp.argsort(order, axis=-1, stable=True)
    s = fnp.take_along_axis(moved, order, axis=-1)
    run, count, end = _runs(s, lambda x, y: x == y)
    by_method = {"ordinal": lambda: inverse + 1, "dense": lambda: run + 1,
                 "max": lambda: end, "min": lambda: end - count + 1,
                 "average": lambda: end - 0.5 * (count - 1)}
    ranks = by_method[method]()
    if method != "ordinal":
        ranks = fnp.take_along_axis(ranks, inverse, axis=-1)
    ranks = fnp.astype(ranks, np.float64)
    if moved.dtype.kind in "fc":
        ranks = fnp.where(fnp.any(fnp.isnan(moved), axis=-1, keepdims=True), np.nan, ranks)
    return fnp.moveaxis(ranks, -1, axis)


class ModeResult(NamedTuple):
    """mode's result: the most frequent value and how often it occurs.

    Example:
        >>> from funcgrad.scipy.stats import mode
        >>> result = mode(np.array([2.0, 1.0, 2.0]))
        >>> float(result.mode), int(result.count)
        (2.0, 2)
    """
    mode: Any
    count: Any  # type: ignore[assignment]  # (scipy's field name shadows tuple.count)


def mode(a, axis=0, nan_policy="propagate", keepdims=False):
    """The most frequent value along ``axis`` (all of ``a`` for None), the smallest of
    equally frequent ones, and its count (int64). nan counts as a value (as SciPy's
    "propagate": it is the mode when it is the most frequent). An empty axis has mode nan
    and count 0.0 (float64, as JAX's and SciPy's). Not differentiable.

    Example:
        >>> from funcgrad.scipy.stats import mode
        >>> mode(np.array([[1, 2], [1, 3], [2, 3]]))
        ModeResult(mode=array([1, 3]), count=array([2, 2]))
    """
    _policy(nan_policy, ("propagate",), "mode")
    a = array_arg(a)
    if axis is None:
        result = mode(fnp.ravel(a), 0, nan_policy)
        if keepdims:  # every axis kept, of length 1 (as SciPy)
            return ModeResult(*(fnp.reshape(r, (1,) * a.ndim) for r in result))
        return result
    moved = fnp.moveaxis(a, axis, -1)
    if moved.shape[-1] == 0:  # no values: mode nan, count 0, both float64 (JAX's and SciPy's)
        shape = moved.shape[:-1] + ((1,) if keepdims else ())
        empty = ModeResult(fnp.full(shape, np.nan), fnp.zeros(shape))
        return ModeResult(*(fnp.moveaxis(r, -1, axis) for r in empty)) if keepdims else empty
    s = fnp.sort(moved, axis=-1)
    if s.dtype.kind in "fc":
        def same(x, y):
            return fnp.logical_or(x == y, fnp.logical_and(fnp.isnan(x), fnp.isnan(y)))
    else:
        def same(x, y):
            return x == y
    _, count, _ = _runs(s, same)
    first = fnp.argmax(count, axis=-1, keepdims=True)
    value = fnp.take_along_axis(s, first, axis=-1)
    most = fnp.take_along_axis(count, first, axis=-1)
    if keepdims:
        return ModeResult(fnp.moveaxis(value, -1, axis), fnp.moveaxis(most, -1, axis))
    return ModeResult(value[..., 0], most[..., 0])
