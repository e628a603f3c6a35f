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

from funcgrad.core.errors import FuncgradIndexError
from funcgrad.core.tracing import Tracer
from funcgrad.ops import shape as sh
from funcgrad.ops.elementwise import convert_element_type
from funcgrad.ops.indexing import gather, gathered_shape, scatter as scatter_op


def _is_array_index(i) -> bool:
    return isinstance(i, (Tracer, np.ndarray))


def _entries(ndim: int, index) -> tuple[list, bool]:
    """One entry per axis of the result's source (ellipsis expanded, trailing axes filled in),
    with None kept for new axes and boolean masks turned into integer arrays; and whether
    NumPy puts the axes of the index arrays first (see _advanced_apart)."""
    if not isinstance(index, tuple):
        index = (index,)
    entries: list = []
    for i in index:
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, (bool, np.bool_)):
            raise FuncgradIndexError("a boolean scalar index is not supported")
        if isinstance(i, Tracer) and i.dtype == np.bool_:
            raise FuncgradIndexError(
                "indexing with a traced boolean mask gives a result whose shape depends on "
                "values, which funcgrad cannot trace; use fnp.where(mask, x, 0) instead")
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            entries.extend(np.nonzero(i))  # a k-d mask indexes k axes
        else:
            entries.append(i)
    if sum(e is Ellipsis for e in entries) > 1:
        raise FuncgradIndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(e is not None and e is not Ellipsis for e in entries)
    if consumed > ndim:
        raise FuncgradIndexError(f"too many indices ({consumed}) for an array with {ndim} axes")
    fill = [slice(None)] * (ndim - consumed)
    apart = _advanced_apart(entries)
    for k, e in enumerate(entries):
        if e is Ellipsis:
            return entries[:k] + fill + entries[k + 1:], apart
    return entries + fill, apart


def _advanced_apart(entries) -> bool:
    """Whether the advanced indices (index arrays, and ints among them) are not side by side
    in the index as written. NumPy then puts their axes first; a '...' between them separates
    them even where it stands for no axes, which the expanded entries no longer show."""
    if not any(_is_array_index(e) for e in entries):
        return False
    at = [k for k, e in enumerate(entries)
          if _is_array_index(e) or isinstance(e, (int, np.integer))]
    return at != list(range(at[0], at[-1] + 1))


def _index_axes_first(shape, spec):
    """The permutation that moves a gather's index axes to the front, if they are not there."""
    advanced = [k for k, s in enumerate(spec) if isinstance(s, int)]
    first = advanced[0]
    if first == 0 or advanced != list(range(first, advanced[-1] + 1)):
        return None  # already first: at the start, or apart (gather puts them first itself)
    n_index = len(shape) - sum(1 for s in spec if not isinstance(s, int))
    return [*range(first, first + n_index), *range(first), *range(first + n_index, len(shape))]


def _holds_none(entries) -> bool:
    # by identity: `None in entries` would compare index arrays elementwise with None
    return any(e is None for e in entries)


def _static_int(i, n) -> int:
    try:
        k = operator.index(i)
    except TypeError:  # NumPy's IndexError (x[1.0]), and an error that names the user's line
        raise FuncgradIndexError("only integers, slices (`:`), ellipsis (`...`), None and "
                                 f"integer or boolean arrays are valid indices, not {i!r}"
                                 ) from None
    if not -n <= k < n:
        raise FuncgradIndexError(f"index {k} is out of bounds for an axis of size {n}")
    return k % n


def index_operand(i, n, dtype_error=FuncgradIndexError):
    """An integer index array (or traced int) for an axis of length ``n``; constant ones are
    checked against the axis now (traced ones when the program runs)."""
    if not isinstance(i, Tracer):
        i = np.asarray(i)
    if i.dtype.kind not in "iu":
        raise dtype_error(f"arrays used as indices must be integers, got "
                          f"{i.aval if isinstance(i, Tracer) else 'dtype ' + str(i.dtype)}")
    if not isinstance(i, Tracer) and i.size and (i.max() >= n or i.min() < -n):
        bad = i.max() if i.max() >= n else i.min()
        raise FuncgradIndexError(f"index {bad} is out of bounds for an axis of size {n}")
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
            operands.append(index_operand(e, n))
        elif ints_as_arrays:  # as a 0-d index array, it selects the same elements NumPy does
            spec.append(len(operands))
            operands.append(np.asarray(_static_int(e, n)))
        else:
            spec.append((_static_int(e, n), 1, 1))
    return spec, operands


def getitem(x, index):
    """``x[index]`` for a traced ``x``."""
    entries, apart = _entries(x.ndim, index)
    if _holds_none(entries):  # insert the new axes first: then every entry consumes one axis
        it = iter(x.shape)
        x = sh.reshape(x, [1 if e is None else next(it) for e in entries])
        entries = [slice(None) if e is None else e for e in entries]
    advanced = any(_is_array_index(e) for e in entries)
    spec, operands = _spec(x.shape, entries, ints_as_arrays=advanced)
    if advanced:
        out = gather(x, operands, spec)
        perm = _index_axes_first(out.shape, spec) if apart else None
        return out if perm is None else sh.transpose(out, perm)
    if not spec:
        return x
    out = sh.slice_array(x, *zip(*spec))
    return sh.reshape(out, [s[2] for s, e in zip(spec, entries) if isinstance(e, slice)])


def scatter(x, index, values, mode):
    """``x.at[index].set(values)`` (mode 'set', 'add', 'multiply', 'min' or 'max') for a
    traced ``x``."""
    from funcgrad.numpy._util import scalar_or_array
    entries, apart = _entries(x.ndim, index)
    if _holds_none(entries):
        raise FuncgradIndexError("None (newaxis) is not allowed in an .at[] index")
    spec, operands = _spec(x.shape, entries, ints_as_arrays=True)
    values = scalar_or_array(values)
    if getattr(values, "dtype", x.dtype) != x.dtype:
        values = convert_element_type(values, x.dtype)
    if apart:  # values come in NumPy's order of the selected axes: put them in gather's
        selected = gathered_shape(x.shape, [i.shape for i in operands], spec)
        perm = _index_axes_first(selected, spec)
        if perm is not None:
            values = sh.transpose(sh.broadcast_to(values, [selected[p] for p in perm]),
                                  np.argsort(perm))
    return scatter_op(x, operands, values, spec, mode)


def at(x):
    """``at(x)[index].set(v)`` (also ``.add``, ``.multiply``, ``.get``): the functional update
    that traced arrays spell ``x.at[index]``, for plain arrays too. Returns a new array.

    Example:
        >>> fnp.at(np.zeros(3))[1].set(5.0)
        array([0., 5., 0.])
    """
    from funcgrad.numpy._tracer_methods import _IndexUpdateHelper
    from funcgrad.numpy._util import array_arg
    return _IndexUpdateHelper(array_arg(x))


# nonzero lives with the other functions whose result size depends on values (size=)
from funcgrad.numpy._sorting import nonzero  # noqa: E402,F401
