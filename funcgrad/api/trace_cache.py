"""Caches of traced programs, keyed by the signature of a call's inputs.

A function traced once for inputs of given pytree structure, shapes and dtypes gives the same
Program for all inputs of that signature, unless it reads other arrays: those it reads from
globals or closures (or attributes of the object of a bound method) become constants of the
Program, and the Python numbers it reads there become literals. So each cached entry also
keeps a Guard of what the function read from outside when it was traced (see Guard); if any
of it has been rebound since, the entry is stale and the function is traced again.
(Arrays mutated in place, and state reached other than by names and attribute chains in the
code of the function and of the user's functions it calls, are not seen: pass such data as
arguments.)

The lookup sits on the path of every ``grad(f)(x)`` call, so it is kept to a few dict
lookups and one C-level comparison of tuples.
"""

from __future__ import annotations

import dis
import sys
import operator
import weakref
from collections.abc import Callable
from functools import partial
from itertools import repeat
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType

import numpy as np

from funcgrad.core.axis_names import bound_axes
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
    ``self.W = W2``, ``config["lr"] = 0.1`` or ``model.W = W2`` make the entry stale; and
    (``deep``) its default arguments, the chains of attributes its code reads from the user's
    modules and objects (``cfg.scale``, ``self.layer.W``), and a Guard of each function of
    the user's it loads by a global name, and those they load (at most 32). Arrays mutated in
    place are not seen: pass such data as arguments.

    What the function itself changes while it runs (a call counter, a log it appends to) is
    its own bookkeeping, not an input: ``settle`` (called after tracing) stops watching it,
    so that tracing one signature does not make the entries of the others stale.

    Callable objects (a class with ``__call__``) are watched like a bound method's object,
    and ``functools.partial`` like the function it wraps.

    It holds a bound method's object weakly, and never ``fun`` (the cache holds functions
    weakly)."""

    __slots__ = ("names", "watch", "saved", "owner", "bound", "inner", "quick", "wrote", "deep",
                 "defaults")

    def __init__(self, fun, helpers: bool = True):
        obj, function = _resolve(fun)
        self.bound = obj is not None  # then position 0 is that object
        self.owner: Callable[[], object] | None = None
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
        self.inner: tuple = tuple((i, *_items(v)) for i, v in enumerate(outer)
                                  if _holds_state(v))
        self.deep = _deep_reads(fun, function, code, obj, helpers)
        self.defaults: tuple | None = (function.__defaults__, function.__kwdefaults__) \
            if type(function) is FunctionType else None
        self.quick = None
        self.wrote = False  # whether fun changed state it reads while traced (see settle)

    def settle(self, fun) -> Guard:
        """Stop watching what changed since the guard was made (while ``fun`` was traced), and
        note in ``wrote`` that it changed something: a function with side effects."""
        outer = self._outer(fun)
        kept = tuple(i for i, v in zip(self.watch, self.saved) if outer[i] is v)
        self.wrote = len(kept) != len(self.watch)
        self.watch = kept
        self.saved = tuple(outer[i] for i in self.watch)
        watched = set(self.watch) | ({0} if self.bound else set())
        inner: list = []
        for i, keys, values in self.inner:
            if i not in watched:
                continue
            now = _read(outer[i], keys, len(values))
            if now is None:  # a list that changed length while traced: a log
                self.wrote = True
                continue
            same = [(k, v) for k, v, w in zip(keys or range(len(values)), values, now)
                    if v is w]
            self.wrote |= len(same) != len(values)
            if keys is None and len(same) != len(values):
                continue  # a list whose items the function replaces: its own bookkeeping
            inner.append((i, None if keys is None else tuple(k for k, _ in same),
                          tuple(v for _, v in same)))
        self.inner = tuple(inner)
        deep = []
        for read, saved in self.deep:
            now = read(fun)
            if now is not saved:  # changed while traced: its own bookkeeping
                self.wrote = self.wrote or not isinstance(saved, Guard)
                continue
            if read(fun) is not now:  # a property computing a new object on each read
                continue
            deep.append((read, saved))
        self.deep = tuple(deep)
        if self.defaults is not None and not self._same_defaults(fun):
            self.wrote, self.defaults = True, self._defaults_of(fun)
        for _, helper in self.deep:
            if isinstance(helper, Guard):
                self.wrote |= helper.wrote
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
            if self.defaults is not None and not self._same_defaults(fun):
                return False
            return not self.deep or self._deep_holds(fun)
        outer = self._outer(fun)
        if self.owner is not None and self.owner() is not outer[0]:
            return False
        if not all(map(operator.is_, map(outer.__getitem__, self.watch), self.saved)):
            return False
        for i, keys, values in self.inner:
            now = _read(outer[i], keys, len(values))
            if now is None or not all(map(operator.is_, now, values)):
                return False
        if self.defaults is not None and not self._same_defaults(fun):
            return False
        return not self.deep or self._deep_holds(fun)

    def _same_defaults(self, fun) -> bool:
        """Whether ``fun``'s default arguments are the very tuples they were. Those that
        were None cannot matter: every call traced then gave all the parameters they would
        fill, and the same calls still do, whatever defaults are set since."""
        f = fun if type(fun) is FunctionType else _resolve(fun)[1]
        assert self.defaults is not None
        positional, keywords = self.defaults
        return (positional is None or f.__defaults__ is positional) and \
            (keywords is None or f.__kwdefaults__ is keywords)

    @staticmethod
    def _defaults_of(fun):
        f = fun if type(fun) is FunctionType else _resolve(fun)[1]
        return (f.__defaults__, f.__kwdefaults__)

    def _deep_holds(self, fun) -> bool:
        for read, saved in self.deep:
            if read(fun) is not saved:
                return False
        return True


def _deep_reads(fun, function, code, obj, helpers) -> tuple:
    """(read, saved) pairs for state a function reads beyond its own globals and closure:
    chains of attributes (``cfg.scale`` of a module, ``self.layer.W``)
    and, as a Guard of each, the functions of the user's it calls by a global name (their
    globals and defaults). ``read(fun)`` gives the current object; a Guard reads as itself
    while it holds."""
    if code is None or type(function) is not FunctionType:
        return ()
    reads = []
    for root, attrs in _attribute_chains(code, function, obj):
        attrs = _watched_attributes(fun, root, attrs)
        if attrs:
            read = _chain_reader(root, attrs)
            reads.append((read, read(fun)))
    for helper in _all_helpers(function) if helpers else ():
        guard = Guard(helper, helpers=False).settle(helper)  # (this guard has them all)
        reads.append((_guard_reader(helper, guard), guard))
    return tuple(reads)


def _chain_reader(root, attrs):
    kind, where = root

    def read(fun):
        if kind == "global":
            value = where[0].get(where[1], _EMPTY)
        elif kind == "cell":
            value = _cell(where)
        else:
            value = _resolve(fun)[0]
        for a in attrs:
            value = getattr(value, a, _EMPTY)
        return value
    return read


def _watched_attributes(fun, root, attrs) -> tuple:
    """The part of a chain of attributes worth watching: while each object read from is a
    user's module or an instance of a user's class (a NumPy array's ``.T`` is new each time;
    a library's attributes are not the user's state)."""
    value = _chain_reader(root, ())(fun)
    for n, a in enumerate(attrs):
        if not _has_user_attributes(value):
            return attrs[:n]
        value = getattr(value, a, _EMPTY)
    return attrs


def _guard_reader(helper, guard):
    return lambda fun: guard if guard.holds(helper) else None


_MAX_HELPERS = 32


def _all_helpers(function) -> list:
    """The user's functions ``function`` calls by global name, and those they call, ...: at
    most _MAX_HELPERS of them, each once (a call graph's shared parts are not repeated)."""
    seen, queue, out = {function}, [function], []  # type: ignore[var-annotated]
    for f in queue:
        for helper in _helpers(f):
            if helper not in seen and len(out) < _MAX_HELPERS:
                seen.add(helper)
                out.append(helper)
                queue.append(helper)
    return out


def _helpers(function) -> list:
    """The user's functions ``function`` loads by global name (it probably calls them)."""
    out = []
    for name in global_names(function.__code__):
        value = function.__globals__.get(name)
        if type(value) is FunctionType and value is not function and _is_users(value):
            out.append(value)
    return out


def _attribute_chains(code, function, obj) -> list:
    """((kind, where), attrs) for each chain of attribute loads in ``code`` that starts at a
    global, a closure variable, or ``self`` of a bound method: ``cfg.scale``, ``self.a.W``.
    A chain's last attribute, when it is a method being called, is left out."""
    free = dict(zip(code.co_freevars, function.__closure__ or ()))
    self_name = code.co_varnames[0] if obj is not None and code.co_argcount else None
    chains: dict = {}  # keyed by (kind, name, attrs): the roots are not hashable
    current: tuple | None = None
    for ins in dis.get_instructions(code):
        op = ins.opname
        if op == "LOAD_ATTR" and current is not None:
            current[1].append(ins.argval)
            continue
        if current is not None and current[1]:
            chains[(current[0][0], current[2], tuple(current[1]))] = (current[0], tuple(current[1]))
        current = None
        if op in ("LOAD_GLOBAL", "LOAD_NAME"):
            current = (("global", (function.__globals__, ins.argval)), [], ins.argval)
        elif op == "LOAD_DEREF" and ins.argval in free:
            current = (("cell", free[ins.argval]), [], ins.argval)
        elif op == "LOAD_FAST" and ins.argval == self_name:
            current = (("self", None), [], ins.argval)
    if current is not None and current[1]:
        chains[(current[0][0], current[2], tuple(current[1]))] = (current[0], tuple(current[1]))
    return list(chains.values())


def _has_user_attributes(value) -> bool:
    """Whether attributes read from ``value`` are state worth watching: the user's modules and
    the instances of the user's classes (not NumPy's arrays, whose ``.T`` is new each time)."""
    if isinstance(value, ModuleType):
        return _is_users(value)
    if isinstance(value, type):  # a class of the user's holding settings as attributes
        return _is_users(sys.modules.get(value.__module__))
    return _holds_state(value) and type(value) not in (dict, list)


def _is_users(thing) -> bool:
    """Whether a function or module is the user's code, not a library's or funcgrad's."""
    filename = getattr(getattr(thing, "__code__", None), "co_filename", None) \
        or getattr(thing, "__file__", None)
    if not filename or is_internal(filename):
        return False
    return not filename.startswith(_LIBRARY_PREFIXES)


def _library_prefixes() -> tuple:
    import sysconfig
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return tuple(sorted(p for p in paths if p))


_LIBRARY_PREFIXES = _library_prefixes()


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
    call = getattr(type(fun), "__call__", None)  # noqa: B004  (the method itself, to read)
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

    def put(self, fun, key, entry, guard: Guard | None = None) -> Guard:
        """Store ``entry``; ``guard`` is the Guard made before tracing (see Guard.settle).
        Returns the settled guard."""
        owner, key = _owner_key(fun, key)
        guard = (guard or Guard(fun)).settle(fun)
        try:
            per_fun = self._entries.setdefault(owner, {})
        except TypeError:
            return guard
        per_fun[key] = (entry, guard)
        return guard

    def replace(self, fun, key, entry):
        """Store ``entry`` in place of the entry at ``key``, keeping its guard."""
        owner, key = _owner_key(fun, key)
        try:
            per_fun = self._entries[owner]
        except (KeyError, TypeError):
            return
        if key in per_fun:
            per_fun[key] = (entry, per_fun[key][1])

    def clear(self):
        self._entries.clear()


def random_state():
    """The state of the random number generators a function may draw from without saying
    so (NumPy's global one and Python's), to tell whether tracing drew from them."""
    import random
    state = np.random.get_state(legacy=False)
    return (state["state"]["key"].tobytes(), state["state"]["pos"], random.getstate())


def program_structure(program) -> list:
    """What a program computes, but for the values of its constants: its inputs' avals, and
    each equation's primitive, parameters and operands (by position; literals by value).
    Two traces of a function with the same structure differ only in constants, which the
    same adjoint takes as inputs."""
    from funcgrad.core.ir import Literal
    index = {id(v): i for i, v in enumerate(program.inputs)}

    def operand(a):
        if isinstance(a, Literal):
            return (a.aval, type(a.value), a.value)
        return index[id(a)]

    out = [len(program.constvars), [v.aval for v in program.inputs]]
    for eqn in program.equations:
        out.append((eqn.primitive, [operand(a) for a in eqn.inputs], eqn.params))
        for v in eqn.outputs:
            index[id(v)] = len(index)
    out.append([operand(v) for v in program.outvars])
    return out


def same_structure(program, structure) -> bool:
    try:
        return program_structure(program) == structure
    except (ValueError, TypeError):  # a parameter holding an array: compare no further
        return False


def same_values(a: list, b: list) -> bool:
    """Whether two traces' constants are the same objects or hold the same values."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is y:
            continue
        if not (type(x) is type(y) and np.shape(x) == np.shape(y)
                and getattr(x, "dtype", None) == getattr(y, "dtype", None)
                and np.array_equal(x, y)):
            return False
    return True


def _owner_key(fun, key):
    axes = bound_axes()
    if axes:  # traced inside vmaps naming their axes: the collectives read those sizes
        key = (key, axes)
    if type(fun) is MethodType:
        return fun.__func__, (key, id(fun.__self__))
    return fun, key


def call_signature(args, kwargs):
    """(leaves, key) of a call whose arguments nest only tuples, lists, dicts and None, in the
    order optree flattens them; None for anything else (namedtuples, dataclasses, custom
    nodes: callers then use funcgrad.tree). About three times faster than optree for the small
    trees of a training step's arguments, and it builds the cache key in the same pass."""
    if not kwargs:  # only Python numbers (scalar code): their types are the whole key
        types = tuple(map(type, args))
        if _NUMBERS.issuperset(types):
            return args, (len(args), *types)
    leaves, key = [], [len(args)]
    for x in args:  # (the common leaves inline: a call per argument is a tenth of the time)
        t = type(x)
        if t is np.ndarray:
            leaves.append(x)
            key.append((x.shape, x.dtype))
        elif t is float or t is int or t is bool:
            leaves.append(x)
            key.append(t)
        elif not _walk(x, leaves, key):
            return None
    if kwargs and not _walk(kwargs, leaves, key):
        return None
    return leaves, tuple(key)


_NUMBERS = frozenset((float, int, bool))


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
            if type(e) is np.ndarray:  # (inline: the common case, a call saved per leaf)
                leaves.append(e)
                key.append((e.shape, e.dtype))
            elif not _walk(e, leaves, key):
                return False
    elif t is dict:
        try:
            names = sorted(x)
        except TypeError:  # keys of mixed types: optree orders them its own way
            return False
        key.append(tuple(names))
        for k in names:
            e = x[k]
            if type(e) is np.ndarray:
                leaves.append(e)
                key.append((e.shape, e.dtype))
            elif not _walk(e, leaves, key):
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
    # by its code (or its class's), not __module__, which functools.wraps copies from the
    # wrapped function
    code = getattr(fun, "__code__", None) or getattr(type(fun).__call__, "__code__", None)
    return code is not None and is_internal(code.co_filename)


class GuardChain:
    """Guards of a function and of every function it wraps (``__wrapped__``, as functools
    sets it): ``jit(grad(loss))`` must see ``loss``'s globals rebound, not only grad's."""

    __slots__ = ("links", "holds")

    def __init__(self, fun):
        links = []
        while fun is not None:
            if not _is_funcgrads(fun):  # our own wrappers read nothing the user can rebind
                links.append((fun, Guard(fun)))
            fun = getattr(fun, "__wrapped__", None)
        self.links = tuple(links)
        self.holds = self._holds

    def settle(self) -> GuardChain:
        for fun, guard in self.links:
            guard.settle(fun)
        self.holds = _quick_chain_check(self.links) or self._holds
        return self

    def _holds(self) -> bool:
        """Whether every guard holds (``holds``: this, or the same checks as one function)."""
        for fun, guard in self.links:
            if not guard.holds(fun):
                return False
        return True


def _quick_chain_check(links):
    """For guards of plain functions reading no containers or attribute chains (Guard.quick
    and no Guard.deep): their checks as one generated function of identity comparisons,
    a few times faster than walking the guards (it runs on every call of a jitted
    function). None for other guards."""
    namespace: dict = {}
    tests = quick_chain_tests(links, namespace)
    if tests is None:
        return None
    body = " and ".join(tests) or "True"
    exec("def holds():\n    try:\n        return " + body + "\n"  # noqa: S102
         "    except (ValueError, KeyError):\n        return False\n", namespace)
    return namespace["holds"]


def quick_chain_tests(links, namespace: dict, prefix: str = "") -> list[str] | None:
    """The checks of ``_quick_chain_check`` as Python expressions (identity comparisons),
    with the objects they name added to ``namespace`` (names starting with ``prefix``), for
    code generated elsewhere to inline (jit's fast path); None if the guards are not all
    quick. Reading an emptied closure cell raises ValueError, a deleted global KeyError:
    the caller catches them (they mean the guard does not hold)."""
    tests = []
    for n, (fun, guard) in enumerate(links):
        if guard.quick is None or guard.deep or type(fun) is not FunctionType:
            return None
        namespace[f"{prefix}f{n}"] = fun
        for m, (where, key, value) in enumerate(guard.quick):
            if value is _EMPTY:
                return None
            name = f"{prefix}v{n}_{m}"
            namespace[name] = value
            if key is None:  # a closure cell
                namespace[f"{prefix}c{n}_{m}"] = where
                tests.append(f"{prefix}c{n}_{m}.cell_contents is {name}")
            else:
                namespace[f"{prefix}g{n}_{m}"] = where
                namespace[f"{prefix}k{n}_{m}"] = key
                tests.append(f"{prefix}g{n}_{m}[{prefix}k{n}_{m}] is {name}")
        for k, (attribute, value) in enumerate(zip(("__defaults__", "__kwdefaults__"),
                                                   guard.defaults or ())):
            if value is not None:  # (None: see Guard._same_defaults)
                namespace[f"{prefix}d{n}_{k}"] = value
                tests.append(f"{prefix}f{n}.{attribute} is {prefix}d{n}_{k}")
    return tests
