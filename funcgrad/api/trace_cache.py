"""Caches of traced programs, keyed by the signature of a call's inputs.

A function traced once for inputs of given pytree structure, shapes and dtypes gives the same
Program for all inputs of that signature, unless it reads other arrays: those it reads from
globals or closures (or attributes of the object of a bound method) become constants of the
Program, and the Python numbers it reads there become literals. So each cached entry also
keeps a Guard of what the function read from outside when it was traced (see Guard); if any
of it has been rebound since, the entry is stale and the function is traced again.
(Arrays mutated in place, state more than one attribute or item deep, or globals read by
functions it calls, are not seen: pass such data as arguments.)

The lookup sits on the path of every ``grad(f)(x)`` call, so it is kept to a few dict
lookups and one C-level comparison of tuples.
"""

from __future__ import annotations

import dis
import operator
import weakref
from functools import partial
from itertools import repeat
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType

import numpy as np

from funcgrad.core.errors import is_internal
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
    """What ``fun`` reads from outside, to tell when a trace of it is stale: the objects its
    closure cells and the globals it loads refer to (by identity), the object a bound method
    is bound to, and one level inside those that are mutable containers of state (the items
    of dicts and lists, the attributes of instances of the user's classes):
    ``self.W = W2``, ``config["lr"] = 0.1`` or ``model.W = W2`` make the entry stale. Deeper
    changes (``self.layer.W = W2``) and arrays mutated in place are not seen: pass such data
    as arguments.

    What the function itself changes while it runs (a call counter, a log it appends to) is
    its own bookkeeping, not an input: ``settle`` (called after tracing) stops watching it,
    so that tracing one signature does not make the entries of the others stale.

    Callable objects (a class with ``__call__``) are watched like a bound method's object,
    and ``functools.partial`` like the function it wraps.

    It holds a bound method's object weakly, and never ``fun`` (the cache holds functions
    weakly)."""

    __slots__ = ("names", "watch", "saved", "owner", "bound", "inner", "quick")

    def __init__(self, fun):
        obj, function = _resolve(fun)
        self.bound = obj is not None  # then position 0 is that object
        self.owner = None
        if self.bound and obj is not fun:  # a method's object: check it is still the same
            try:
                self.owner = weakref.ref(obj)
            except TypeError:  # objects without __weakref__ are held strongly
                self.owner = _Strong(obj)
        code = getattr(function, "__code__", None)
        self.names = global_names(code) if code is not None else ()
        outer = self._outer(fun)
        self.watch = tuple(range(1 if self.bound else 0, len(outer)))
        self.saved = tuple(outer[i] for i in self.watch)
        # (position, keys, values) one level inside the containers among them
        self.inner = tuple((i, *_items(v)) for i, v in enumerate(outer) if _holds_state(v))
        self.quick = None

    def settle(self, fun) -> Guard:
        """Stop watching what changed since the guard was made (while ``fun`` was traced)."""
        outer = self._outer(fun)
        self.watch = tuple(i for i, v in zip(self.watch, self.saved) if outer[i] is v)
        self.saved = tuple(outer[i] for i in self.watch)
        watched = set(self.watch) | ({0} if self.bound else set())
        inner = []
        for i, keys, values in self.inner:
            if i not in watched:
                continue
            now = _read(outer[i], keys, len(values))
            if now is None:  # a list that changed length while traced: a log
                continue
            kept = [(k, v) for k, v, w in zip(keys or range(len(values)), values, now)
                    if v is w]
            if keys is None and len(kept) != len(values):
                continue  # a list whose items the function replaces: its own bookkeeping
            inner.append((i, None if keys is None else tuple(k for k, _ in kept),
                          tuple(v for _, v in kept)))
        self.inner = tuple(inner)
        self.quick = self._quick_checks(fun)
        return self

    def _quick_checks(self, fun):
        """For a plain function reading no containers: (where, key, object) triples checked
        directly, a few times faster than the general path (jit's dispatch has 3 us)."""
        if type(fun) is not FunctionType or self.inner or self.owner is not None:
            return None
        closure = fun.__closure__ or ()
        places = [(cell, None) for cell in closure] + [(fun.__globals__, n) for n in self.names]
        return tuple((*places[i], value) for i, value in zip(self.watch, self.saved))

    def _outer(self, fun) -> tuple:
        if type(fun) is FunctionType:  # the common case, on every call's path: quickly
            closure = fun.__closure__
            cells = tuple(map(_cell, closure)) if closure else ()
            return cells + tuple(map(fun.__globals__.get, self.names, repeat(_EMPTY)))
        bound_args = ()  # a partial's arguments are read like closure variables
        while isinstance(fun, partial):
            bound_args += fun.args + tuple(fun.keywords.values())
            fun = fun.func
        obj, fun = _resolve(fun)
        bound = ((obj,) if obj is not None else ()) + bound_args
        if fun is None:
            return bound
        cells = tuple(map(_cell, fun.__closure__)) if fun.__closure__ else ()
        return bound + cells + tuple(map(fun.__globals__.get, self.names, repeat(_EMPTY)))

    def holds(self, fun) -> bool:
        """Whether everything read is still the very object it was (identity, not ==)."""
        if self.quick is not None:
            for where, key, value in self.quick:
                now = _cell(where) if key is None else where.get(key, _EMPTY)
                if now is not value:
                    return False
            return True
        outer = self._outer(fun)
        if self.owner is not None and self.owner() is not outer[0]:
            return False
        if not all(map(operator.is_, map(outer.__getitem__, self.watch), self.saved)):
            return False
        for i, keys, values in self.inner:
            now = _read(outer[i], keys, len(values))
            if now is None or not all(map(operator.is_, now, values)):
                return False
        return True


def _items(container) -> tuple:
    """(keys, values) one level inside: keys None for a list (its items by position)."""
    if type(container) is list:
        return None, tuple(container)
    d = container if type(container) is dict else getattr(container, "__dict__", {})
    return tuple(d), tuple(d.values())


def _read(container, keys, n):
    """The values at ``keys`` now (_EMPTY for a missing key); a list's items, or None if it
    no longer has ``n``."""
    if keys is None:
        return tuple(container) if type(container) is list and len(container) == n else None
    d = container if type(container) is dict else getattr(container, "__dict__", {})
    return tuple(map(d.get, keys, repeat(_EMPTY)))


class _Strong:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __call__(self):
        return self.obj


def _resolve(fun):
    """(the object whose state ``fun`` reads as self, or None; the Python function that runs,
    or None if it is not one)."""
    if type(fun) is MethodType:
        return fun.__self__, fun.__func__
    if isinstance(fun, partial):
        return _resolve(fun.func)
    if hasattr(fun, "__code__"):
        return None, fun
    call = getattr(type(fun), "__call__", None)
    if isinstance(call, FunctionType) and _holds_state(fun):
        return fun, call
    return None, None


_NOT_STATE = (ModuleType, type, FunctionType, BuiltinFunctionType, MethodType)


def _holds_state(value) -> bool:
    """Whether ``value`` is a mutable container whose contents a function might read."""
    if type(value) in (dict, list):
        return True
    return (hasattr(value, "__dict__") and not isinstance(value, _NOT_STATE)
            and not type(value).__module__.startswith("funcgrad"))




def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # not yet assigned
        return _EMPTY


class TraceCache:
    """Entries per function (held weakly) and per key, each with its Guard. A bound method
    is cached under its function, per object: ``grad(model.loss)`` made anew each step (a
    new method object each time) still finds its entry."""

    def __init__(self):
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, fun, key):
        owner, key = _owner_key(fun, key)
        try:
            entry, guard = self._entries[owner][key]
        except (KeyError, TypeError):  # TypeError: fun cannot be weakly referenced
            return None
        return entry if guard.holds(fun) else None

    def put(self, fun, key, entry, guard: Guard | None = None):
        """Store ``entry``; ``guard`` is the Guard made before tracing (see Guard.settle)."""
        owner, key = _owner_key(fun, key)
        try:
            per_fun = self._entries.setdefault(owner, {})
        except TypeError:
            return
        per_fun[key] = (entry, (guard or Guard(fun)).settle(fun))

    def clear(self):
        self._entries.clear()


def _owner_key(fun, key):
    if type(fun) is MethodType:
        return fun.__func__, (key, id(fun.__self__))
    return fun, key


def call_signature(args, kwargs):
    """(leaves, key) of a call whose arguments nest only tuples, lists, dicts and None, in the
    order optree flattens them; None for anything else (namedtuples, dataclasses, custom
    nodes: callers then use funcgrad.tree). About three times faster than optree for the small
    trees of a training step's arguments, and it builds the cache key in the same pass."""
    leaves, key = [], [len(args)]
    for x in args:
        if not _walk(x, leaves, key):
            return None
    if kwargs and not _walk(kwargs, leaves, key):
        return None
    return leaves, tuple(key)


def _walk(x, leaves, key) -> bool:
    t = type(x)
    if t is np.ndarray:
        leaves.append(x)
        key.append((x.shape, x.dtype))
    elif t is float or t is int or t is bool:
        leaves.append(x)
        key.append(t)
    elif t is tuple or t is list:
        key.append((t, len(x)))
        for e in x:
            if not _walk(e, leaves, key):
                return False
    elif t is dict:
        try:
            names = sorted(x)
        except TypeError:  # keys of mixed types: optree orders them its own way
            return False
        key.append(tuple(names))
        for k in names:
            if not _walk(x[k], leaves, key):
                return False
    elif x is None:
        key.append(None)
    else:
        signature = leaf_signature(x)
        if signature is None:
            return False
        leaves.append(x)
        key.append(signature)
    return True


def _is_funcgrads(fun) -> bool:
    # by its code, not __module__, which functools.wraps copies from the wrapped function
    code = getattr(fun, "__code__", None)
    return code is not None and is_internal(code.co_filename)


class GuardChain:
    """Guards of a function and of every function it wraps (``__wrapped__``, as functools
    sets it): ``jit(grad(loss))`` must see ``loss``'s globals rebound, not only grad's."""

    __slots__ = ("links",)

    def __init__(self, fun):
        links = []
        while fun is not None:
            if not _is_funcgrads(fun):  # our own wrappers read nothing the user can rebind
                links.append((fun, Guard(fun)))
            fun = getattr(fun, "__wrapped__", None)
        self.links = tuple(links)

    def settle(self) -> GuardChain:
        for fun, guard in self.links:
            guard.settle(fun)
        return self

    def holds(self) -> bool:
        for fun, guard in self.links:
            if not guard.holds(fun):
                return False
        return True
