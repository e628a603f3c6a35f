"""Caches of traced programs, keyed by the signature of a call's inputs.

A function traced once for inputs of given pytree structure, shapes and dtypes gives the same
Program for all inputs of that signature, unless it reads other arrays: those it reads from
globals or closures become constants of the Program. So each cached entry also remembers
which objects the function's own globals and closure cells held when it was traced; if one of
them has been rebound since, the entry is stale and the function is traced again. (Arrays
mutated in place, or globals read by functions it calls, are not seen: pass data as
arguments.)
"""

from __future__ import annotations

import weakref

import numpy as np

from funcgrad.core.tracing import Tracer

_MISSING = object()


def leaf_signature(x):
    """What a leaf contributes to a cache key: its type, shape and dtype (not its values)."""
    t = type(x)
    if t is np.ndarray:
        return (x.shape, x.dtype)
    if t is float or t is int or t is bool:
        return t
    if t is Tracer:
        return x.ir_var.aval
    if isinstance(x, np.generic):
        return ((), x.dtype)
    return None  # not an array: the caller reports it


def snapshot(fun) -> tuple:
    """The objects ``fun``'s closure cells and referenced globals hold now."""
    code = getattr(fun, "__code__", None)
    if code is None:
        return ()
    cells = tuple(_cell(c) for c in fun.__closure__ or ())
    g = fun.__globals__
    return cells + tuple(g.get(name, _MISSING) for name in code.co_names)


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # not yet assigned
        return _MISSING


def unchanged(fun, saved: tuple) -> bool:
    now = snapshot(fun)
    return len(now) == len(saved) and all(a is b for a, b in zip(now, saved))


class TraceCache:
    """Entries per function (held weakly) and per key."""

    def __init__(self):
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, fun, key):
        try:
            entry, saved = self._entries[fun][key]
        except (KeyError, TypeError):  # TypeError: fun cannot be weakly referenced
            return None
        return entry if unchanged(fun, saved) else None

    def put(self, fun, key, entry):
        try:
            per_fun = self._entries.setdefault(fun, {})
        except TypeError:
            return
        per_fun[key] = (entry, snapshot(fun))

    def clear(self):
        self._entries.clear()
