"""Caches of traced programs, keyed by the signature of a call's inputs.

A function traced once for inputs of given pytree structure, shapes and dtypes gives the same
Program for all inputs of that signature, unless it reads other arrays: those it reads from
globals or closures become constants of the Program. So each cached entry also keeps a Guard:
which objects the function's closure cells and the globals it reads held when it was traced;
if one of them has been rebound since, the entry is stale and the function is traced again.
(Arrays mutated in place, or globals read by functions it calls, are not seen: pass data as
arguments.)

The lookup sits on the path of every ``grad(f)(x)`` call, so it is kept to a few dict
lookups and one C-level comparison of tuples.
"""

from __future__ import annotations

import dis
import operator
import weakref
from itertools import repeat

import numpy as np

from funcgrad.core.tracing import Tracer


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


_global_names: dict = {}  # code object -> the global names it (and its nested code) reads


def global_names(code) -> tuple[str, ...]:
    """The names ``code`` loads as globals (not attribute names, which co_names also holds)."""
    names = _global_names.get(code)
    if names is None:
        found = {ins.argval for ins in dis.get_instructions(code)
                 if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
        for const in code.co_consts:  # comprehensions and lambdas defined inside
            if hasattr(const, "co_code"):
                found.update(global_names(const))
        names = _global_names[code] = tuple(sorted(found))
    return names


_EMPTY = object()


class Guard:
    """What ``fun`` reads from its closure and globals, to tell when a trace of it is stale.
    (It does not hold ``fun``: the cache holds functions weakly.)"""

    __slots__ = ("names", "saved")

    def __init__(self, fun):
        code = getattr(fun, "__code__", None)
        self.names = global_names(code) if code is not None else ()
        self.saved = self._now(fun)

    def _now(self, fun) -> tuple:
        if not hasattr(fun, "__code__"):
            return ()
        cells = tuple(map(_cell, fun.__closure__)) if fun.__closure__ else ()
        return cells + tuple(map(fun.__globals__.get, self.names, repeat(_EMPTY)))

    def holds(self, fun) -> bool:
        """Whether every name still refers to the very object it did (identity, not ==)."""
        return all(map(operator.is_, self._now(fun), self.saved))


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # not yet assigned
        return _EMPTY


class TraceCache:
    """Entries per function (held weakly) and per key, each with its Guard."""

    def __init__(self):
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, fun, key):
        try:
            entry, guard = self._entries[fun][key]
        except (KeyError, TypeError):  # TypeError: fun cannot be weakly referenced
            return None
        return entry if guard.holds(fun) else None

    def put(self, fun, key, entry):
        try:
            per_fun = self._entries.setdefault(fun, {})
        except TypeError:
            return
        per_fun[key] = (entry, Guard(fun))

    def clear(self):
        self._entries.clear()
