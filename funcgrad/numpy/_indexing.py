"""NumPy indexing on traced arrays: ``x[index]`` and ``x.at[index].set/add/multiply(v)``.

Basic indices (ints, slices, None, ...) become a static ``slice`` and a ``reshape``: views,
which fuse into compiled loops. Integer arrays (constant or traced) and traced integers become
a ``gather`` (and ``.at`` updates a ``scatter``), placed as NumPy places advanced indices.
A constant boolean mask is turned into integer indices while tracing; a traced one is an
error, since the result's shape would depend on values.
"""

from __future__ import annotations

import operator

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, at_user_line
from funcgrad.core.tracing import Tracer
from funcgrad.ops import shape as sh
from funcgrad.ops.elementwise import convert_element_type
from funcgrad.ops.indexing import gather, scatter as scatter_op


def _is_array_index(i) -> bool:
    return isinstance(i, (Tracer, np.ndarray))


def _entries(ndim: int, index) -> list:
    """One entry per axis of the result's source (ellipsis expanded, trailing axes filled in),
    with None kept for new axes and boolean masks turned into integer arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    entries = []
    for i in index:
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, (bool, np.bool_)):
            raise IndexError(at_user_line("a boolean scalar index is not supported"))
        if isinstance(i, Tracer) and i.dtype == np.bool_:
            raise IndexError(at_user_line(
                "indexing with a traced boolean mask gives a result whose shape depends on "
                "values, which funcgrad cannot trace; use fnp.where(mask, x, 0) instead"))
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            entries.extend(np.nonzero(i))  # a k-d mask indexes k axes
        else:
            entries.append(i)
    if sum(e is Ellipsis for e in entries) > 1:
        raise IndexError(at_user_line("an index can only have a single ellipsis ('...')"))
    consumed = sum(e is not None and e is not Ellipsis for e in entries)
    if consumed > ndim:
        raise IndexError(at_user_line(f"too many indices ({consumed}) for an array with "
                                      f"{ndim} axes"))
    fill = [slice(None)] * (ndim - consumed)
    # identity tests throughout: `in` and .index() would compare index arrays with ==
    if any(e is Ellipsis for e in entries):
        k = next(j for j, e in enumerate(entries) if e is Ellipsis)
        return entries[:k] + fill + entries[k + 1:]
    return entries + fill


def _static_int(i, n) -> int:
    k = operator.index(i)
    if not -n <= k < n:
        raise IndexError(at_user_line(f"index {k} is out of bounds for an axis of size {n}"))
    return k % n


def _index_operand(i, n):
    if isinstance(i, Tracer):
        if i.dtype.kind not in "iu":
            raise IndexError(at_user_line(f"arrays used as indices must be integers, got {i.aval}"))
        return i
    if i.dtype.kind not in "iu":
        raise IndexError(at_user_line(f"arrays used as indices must be integers, got dtype "
                                      f"{i.dtype}"))
    if i.size and (i.max() >= n or i.min() < -n):
        bad = i.max() if i.max() >= n else i.min()
        raise IndexError(at_user_line(f"index {bad} is out of bounds for an axis of size {n}"))
    return i


def _spec(shape, entries, ints_as_arrays):
    """The gather/scatter spec and index operands for entries that consume one axis each."""
    spec, operands = [], []
    for e, n in zip(entries, shape):
        if isinstance(e, slice):
            start, stop, step = e.indices(n)
            size = len(range(start, stop, step))
            spec.append((start if size else 0, step, size))
        elif _is_array_index(e):
            spec.append(len(operands))
            operands.append(_index_operand(e, n))
        elif ints_as_arrays:  # as a 0-d index array, it selects the same elements NumPy does
            spec.append(len(operands))
            operands.append(np.asarray(_static_int(e, n)))
        else:
            spec.append((_static_int(e, n), 1, 1))
    return spec, operands


def getitem(x, index):
    """``x[index]`` for a traced ``x``."""
    entries = _entries(x.ndim, index)
    if any(e is None for e in entries):  # insert the new axes first: then every entry consumes one axis
        it = iter(x.shape)
        x = sh.reshape(x, [1 if e is None else next(it) for e in entries])
        entries = [slice(None) if e is None else e for e in entries]
    advanced = any(_is_array_index(e) for e in entries)
    spec, operands = _spec(x.shape, entries, ints_as_arrays=advanced)
    if advanced:
        return gather(x, operands, spec)
    if not spec:
        return x
    out = sh.slice_array(x, *zip(*spec))
    return sh.reshape(out, [s[2] for s, e in zip(spec, entries) if isinstance(e, slice)])


def scatter(x, index, values, mode):
    """``x.at[index].set(values)`` (mode 'set', 'add' or 'multiply') for a traced ``x``."""
    from funcgrad.numpy._util import scalar_or_array
    entries = _entries(x.ndim, index)
    if any(e is None for e in entries):
        raise IndexError(at_user_line("None (newaxis) is not allowed in an .at[] index"))
    spec, operands = _spec(x.shape, entries, ints_as_arrays=True)
    values = scalar_or_array(values)
    if getattr(values, "dtype", x.dtype) != x.dtype:
        values = convert_element_type(values, x.dtype)
    return scatter_op(x, operands, values, spec, mode)


def nonzero(a):
    """Indices of the non-zero elements. Its shape depends on values, so not when traced."""
    if isinstance(a, Tracer):
        raise FuncgradTypeError(at_user_line(
            "nonzero (and one-argument where) gives a result whose shape depends on values, "
            "which funcgrad cannot trace"))
    return np.nonzero(a)
