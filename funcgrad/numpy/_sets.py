"""Set operations on 1-D arrays and the array API's unique_* functions.

On concrete arrays they are NumPy's own. Inside a trace the size of a result depends on
values, so, as in JAX, a static ``size=`` is required: the result is padded with
``fill_value`` (by default its smallest element; 0 for setdiff1d, as in JAX) or truncated.
Traced, each is one sort of all the elements and a mask of those that belong, compacted
(funcgrad.numpy._sorting._compact); NaN never equals NaN in intersect1d, setdiff1d and
setxor1d, as NumPy's isin has it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._sorting import _compact, _static_size, _traced, unique
from funcgrad.numpy._util import array_arg
from funcgrad.ops import sorting


def _first_of_runs(ordered):
    """Where each run of equal values of the sorted 1-D ``ordered`` starts (NaNs are one)."""
    differs = ordered[1:] != ordered[:-1]
    if ordered.dtype.kind == "f":
        differs = differs & ~(fnp.isnan(ordered[1:]) & fnp.isnan(ordered[:-1]))
    return fnp.concatenate([np.ones(min(ordered.shape[0], 1), bool), differs])


def _sorted_kept(keep, ordered, size, fill_value):
    """The ``ordered`` values where ``keep`` holds, as ``size`` of them; the padding is
    ``fill_value``, or the smallest kept value if it is None."""
    out = _compact(keep, ordered, size, 0 if fill_value is None else fill_value)
    if fill_value is None and size:
        out = fnp.where(fnp.arange(size) < fnp.sum(keep), out, out[0])
    return out


def _sorted_flat(*arrays):
    flat = fnp.concatenate([fnp.ravel(array_arg(a)) for a in arrays])
    order = sorting.argsort(flat, 0)
    return fnp.take(flat, order), order


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """The sorted unique values in either array (like numpy.union1d); ``size=`` inside a
    trace.

    Example:
        >>> fnp.union1d(np.array([3, 1, 3]), np.array([2, 1]))
        array([1, 2, 3])
    """
    size = _static_size("union1d", size, _traced(ar1, ar2))
    if size is None:
        return np.union1d(array_arg(ar1), array_arg(ar2))
    return unique(fnp.concatenate([fnp.ravel(array_arg(ar1)), fnp.ravel(array_arg(ar2))]),
                  size=size, fill_value=fill_value)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):
    """The sorted unique values in both arrays (like numpy.intersect1d), and with
    ``return_indices`` the index of each one's first occurrence in each (flattened) array;
    ``size=`` inside a trace (indices padded with 0).

    Example:
        >>> fnp.intersect1d(np.array([3, 1, 2, 3]), np.array([3, 2, 5]))
        array([2, 3])
    """
    size = _static_size("intersect1d", size, _traced(ar1, ar2))
    if size is None:
        return np.intersect1d(array_arg(ar1), array_arg(ar2), assume_unique, return_indices)
    ordered, order = _sorted_flat(ar1)
    b, b_order = _sorted_flat(ar2)
    keep = _first_of_runs(ordered) & fnp.isin(ordered, b)
    values = _sorted_kept(keep, ordered, size, fill_value)
    if not return_indices:
        return values
    valid = fnp.arange(size) < fnp.sum(keep)
    if not b.shape[0]:  # nothing in common: all padding
        return values, fnp.zeros(size, np.int64), fnp.zeros(size, np.int64)
    in_b = fnp.take(b_order, fnp.clip(fnp.searchsorted(b, values), 0, b.shape[0] - 1))
    return values, _compact(keep, order, size, 0), fnp.where(valid, in_b, 0)


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted unique values of ``ar1`` not in ``ar2`` (like numpy.setdiff1d); ``size=``
    inside a trace (padding 0 by default, as in JAX).

    Example:
        >>> fnp.setdiff1d(np.array([3, 1, 2, 3]), np.array([3, 5]))
        array([1, 2])
    """
    size = _static_size("setdiff1d", size, _traced(ar1, ar2))
    if size is None:
        return np.setdiff1d(array_arg(ar1), array_arg(ar2), assume_unique)
    ordered, _ = _sorted_flat(ar1)
    keep = _first_of_runs(ordered) & ~fnp.isin(ordered, ar2)
    return _sorted_kept(keep, ordered, size, 0 if fill_value is None else fill_value)


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted unique values in exactly one of the arrays (like numpy.setxor1d);
    ``size=`` inside a trace.

    Example:
        >>> fnp.setxor1d(np.array([3, 1, 3]), np.array([1, 2]))
        array([2, 3])
    """
    size = _static_size("setxor1d", size, _traced(ar1, ar2))
    if size is None:
        return np.setxor1d(array_arg(ar1), array_arg(ar2), assume_unique)
    ordered, _ = _sorted_flat(ar1, ar2)
    keep = _first_of_runs(ordered) & (fnp.isin(ordered, ar1) != fnp.isin(ordered, ar2))
    if ordered.dtype.kind == "f":  # NumPy's keeps one nan of each array that has any
        nans = fnp.isnan(ordered)  # (they sort last, and no nan equals another)
        has = [fnp.any(fnp.isnan(fnp.ravel(array_arg(a)))) for a in (ar1, ar2)]
        rank = fnp.arange(ordered.shape[0]) - (ordered.shape[0] - fnp.sum(nans))
        keep = fnp.where(nans, rank < has[0].astype(np.int64) + has[1], keep)
    return _sorted_kept(keep, ordered, size, fill_value)


class UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


def _unique_all(x, size, fill_value):
    values, indices, inverse, counts = unique(x, True, True, True, size=size,
                                              fill_value=fill_value)
    if isinstance(x, (Tracer, np.ndarray)) and not isinstance(inverse, Tracer):
        inverse = np.reshape(inverse, np.shape(x))
    return values, indices, inverse, counts


def unique_values(x, /, *, size=None, fill_value=None):
    """The sorted unique elements of ``x`` (the array API's, like numpy.unique_values);
    ``size=`` inside a trace, as for ``unique``.

    Example:
        >>> fnp.unique_values(np.array([3.0, 1.0, 3.0]))
        array([1., 3.])
    """
    return unique(array_arg(x), size=size, fill_value=fill_value)


def unique_counts(x, /, *, size=None, fill_value=None):
    """The sorted unique elements of ``x`` and how often each occurs, as
    ``(values, counts)`` (like numpy.unique_counts); ``size=`` inside a trace.

    Example:
        >>> fnp.unique_counts(np.array([3, 1, 3]))
        UniqueCountsResult(values=array([1, 3]), counts=array([1, 2]))
    """
    values, _, _, counts = _unique_all(array_arg(x), size, fill_value)
    return UniqueCountsResult(values, counts)


def unique_inverse(x, /, *, size=None, fill_value=None):
    """The sorted unique elements of ``x`` and, for each element of ``x``, the index of its
    value among them, shaped like ``x`` (like numpy.unique_inverse); ``size=`` inside a
    trace.

    Example:
        >>> fnp.unique_inverse(np.array([3, 1, 3]))
        UniqueInverseResult(values=array([1, 3]), inverse_indices=array([1, 0, 1]))
    """
    values, _, inverse, _ = _unique_all(array_arg(x), size, fill_value)
    return UniqueInverseResult(values, inverse)


def unique_all(x, /, *, size=None, fill_value=None):
    """``(values, indices, inverse_indices, counts)`` of ``x`` (like numpy.unique_all):
    the sorted unique elements, the index of each one's first occurrence in the flattened
    ``x``, the inverse shaped like ``x``, and the counts; ``size=`` inside a trace.

    Example:
        >>> fnp.unique_all(np.array([3, 1, 3])).counts
        array([1, 2])
    """
    return UniqueAllResult(*_unique_all(array_arg(x), size, fill_value))
