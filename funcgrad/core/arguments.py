"""A call of a user's function, as transforms see it: static arguments kept aside, the
array leaves flattened, and the helpers that describe arguments in error messages."""

from __future__ import annotations

import inspect
import os
import weakref
from typing import Any

import numpy as np
import optree

from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, user_location
from funcgrad.tree import NAMESPACE, flatten, unflatten



class FunctionArgs:
    """``fun(*args, **kwargs)`` as transforms see it: static arguments kept aside, the rest
    flattened to leaves. ``flat_function()`` is ``fun`` as a function of those leaves."""

    def __init__(self, fun, args, kwargs, static_argnums=(), static_argnames=()):
        self.fun = fun
        static_argnames = frozenset((static_argnames,) if isinstance(static_argnames, str)
                                    else static_argnames)
        static_argnums, static_argnames = _static_by_signature(fun, args, kwargs, static_argnums,
                                                               static_argnames)
        self.static_argnums = normalize_argnums(static_argnums, len(args), fun, "static_argnums")
        self.static_argnames = static_argnames
        self.args, self.kwargs = args, kwargs
        dynamic_args = tuple(a for i, a in enumerate(args) if i not in self.static_argnums)
        dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        self.leaves, self.in_tree = flatten((dynamic_args, dynamic_kwargs))
        self.leaves = [native_byte_order(x) for x in self.leaves]
        self.out_tree: Any = None  # the output's PyTreeDef, once flat_function() has run
        self.dynamic_index: dict[int, int] = {}  # argument position -> among the dynamic ones

    def static_key(self):
        """The static arguments, as a hashable part of a cache key."""
        try:
            key = (tuple(self.args[i] for i in sorted(self.static_argnums)),
                   tuple(sorted((k, v) for k, v in self.kwargs.items()
                                if k in self.static_argnames)))
            hash(key)
        except TypeError:
            from funcgrad.core.tracing import Tracer
            if any(isinstance(x, Tracer) for x in flatten(key)[0]):
                # grad, vjp, jvp and vmap trace every array and number argument, also the
                # ones they do not differentiate or map, so such a number arrives traced
                raise FuncgradTypeError(
                    f"a static argument of {name_of(self.fun)} is a traced value: an enclosing "
                    "transform (grad, vmap, jvp...) traced it, as it traces every number it "
                    "is given. Close over it instead: grad(lambda x: f(x, 3)), not "
                    "grad(f)(x, 3)") from None
            raise FuncgradTypeError(
                f"static arguments of {name_of(self.fun)} must be hashable (they key the "
                "cache of traced programs)") from None
        return key

    def avals(self):
        from funcgrad.core.tracing import Tracer
        from funcgrad.core.types import aval_of
        out = []
        for i, leaf in enumerate(self.leaves):
            if isinstance(leaf, Tracer):
                out.append(leaf.aval)
                continue
            try:
                out.append(aval_of(leaf))
            except FuncgradTypeError as err:
                raise FuncgradTypeError(f"{self.describe_leaf(i)}: {err.reason}. funcgrad "
                                        "traces arrays and numbers; pass other values as static "
                                        "arguments (static_argnums)") from None
        return out

    def describe_leaf(self, index: int) -> str:
        """'argument 1 (x) of loss, at ['W']': where leaf ``index`` sits in the call."""
        dynamic = [i for i in range(len(self.args)) if i not in self.static_argnums]
        paths, _, _ = optree.tree_flatten_with_path(
            (tuple(self.args[i] for i in dynamic),  # type: ignore[arg-type]
             {k: v for k, v in self.kwargs.items() if k not in self.static_argnames}),
            namespace=NAMESPACE)
        path = paths[index]
        names = argument_names(self.fun)
        if path[0] == 0:
            pos = dynamic[path[1]]
            name = f" ({names[pos]})" if pos < len(names) else ""
            text, rest = f"argument {pos}{name}", path[2:]
        else:
            text, rest = f"keyword argument {path[1]}", path[2:]
        inner = "".join(f"[{p!r}]" for p in rest)
        return f"{text} of {name_of(self.fun)}" + (f", at {inner}" if inner else "")

    def flat_function(self):
        def flat(*leaves):
            dyn_args, dyn_kwargs = unflatten(self.in_tree, leaves)
            dyn = iter(dyn_args)
            args = [self.args[i] if i in self.static_argnums else next(dyn)
                    for i in range(len(self.args))]
            kwargs = {**dyn_kwargs, **{k: v for k, v in self.kwargs.items()
                                       if k in self.static_argnames}}
            out = call_checked(self.fun, args, kwargs)
            out_leaves, self.out_tree = flatten(out)
            check_outputs(out_leaves, self.fun)
            return out_leaves
        return flat


def _static_by_signature(fun, args, kwargs, static_argnums, static_argnames):
    """A parameter made static by name is static when passed by position too, and one made
    static by position when passed by keyword (or left at its default), as in JAX, which
    reads the signature so: otherwise the same call, spelled the other way, would trace a
    string or a config. Positions past the signature's parameters stay errors."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    not_passed = [i for i in nums if isinstance(i, int) and i >= len(args)]
    if not (static_argnames and args) and not not_passed:
        return nums, static_argnames  # (the signature is read only when it can matter)
    names = argument_names(fun)
    nums += tuple(i for i, name in enumerate(names[:len(args)]) if name in static_argnames)
    named = {i for i in not_passed if i < len(names)}
    return (tuple(i for i in nums if i not in named),
            static_argnames | {names[i] for i in named})


def static_spec(fun, static_argnums, static_argnames) -> tuple[tuple, tuple]:
    """jit's static_argnums and static_argnames as tuples, checked when jit is called: a
    name that is none of ``fun``'s parameters would be ignored, and its argument traced."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else static_argnums
    names = (static_argnames,) if isinstance(static_argnames, str) else static_argnames
    if not isinstance(nums, (tuple, list)) or \
            any(not isinstance(i, int) or isinstance(i, bool) for i in nums):
        raise FuncgradTypeError(f"static_argnums must be an int or a tuple of ints, got "
                                f"{static_argnums!r}")
    if not isinstance(names, (tuple, list)) or any(not isinstance(n, str) for n in names):
        raise FuncgradTypeError(f"static_argnames must be a name or a tuple of names, got "
                                f"{static_argnames!r}")
    try:
        params = inspect.signature(fun).parameters
    except (TypeError, ValueError):  # (a builtin or a ufunc: nothing to check against)
        return tuple(nums), tuple(names)
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = [n for n in names
                   if n not in params or params[n].kind is inspect.Parameter.POSITIONAL_ONLY]
        if unknown:
            raise FuncgradValueError(
                f"static_argnames {', '.join(map(repr, unknown))}: {name_of(fun)} has no "
                f"parameter of that name; its parameters are ({', '.join(params)})")
    return tuple(nums), tuple(names)


def native_byte_order(x):
    """``x``, in this machine's byte order: a big-endian array (read from a file written
    elsewhere) is converted, as NumPy computes with it, since compiled code cannot read it."""
    if type(x) is np.ndarray and not x.dtype.isnative:
        return x.astype(x.dtype.newbyteorder("="))
    return x


def check_outputs(out_leaves, fun):
    from funcgrad.core.tracing import Tracer
    for x in out_leaves:
        if not isinstance(x, (Tracer, np.ndarray, np.generic, float, int, bool)):
            raise FuncgradTypeError(f"{name_of(fun)} returned a {type(x).__name__}; a traced "
                                    "function may return arrays and numbers in pytrees only")


def normalize_argnums(argnums, nargs: int, fun, what: str = "argnums") -> tuple[int, ...]:
    if not isinstance(argnums, (int, tuple, list)):
        raise FuncgradTypeError(f"{what} must be an int or a tuple of ints, got {argnums!r}")
    items = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    out = []
    for i in items:
        if not isinstance(i, int) or isinstance(i, bool):
            raise FuncgradTypeError(f"{what} must be ints, got {i!r}")
        if not -nargs <= i < nargs:
            raise FuncgradTypeError(f"{what}={i} is out of range: {name_of(fun)} was called with "
                                    f"{nargs} positional argument{'s' * (nargs != 1)}")
        out.append(i % nargs)
    return tuple(out)


def name_of(fun) -> str:
    return getattr(fun, "__name__", None) or type(fun).__name__


_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def argument_names(fun) -> list[str]:
    """The names of ``fun``'s positional parameters (read once per function: a jit with
    static arguments asks at every call, and inspect.signature takes 10-20 us)."""
    try:
        return _names[fun]
    except (KeyError, TypeError):  # (TypeError: not weakly referable, such as a builtin)
        pass
    try:
        names = [p.name for p in inspect.signature(fun).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    try:
        _names[fun] = names
    except TypeError:
        pass
    return names


def positional(fun, args: tuple, kwargs: dict, kind: str) -> tuple:
    """``fun(*args, **kwargs)``'s arguments as positional ones, defaults filled in, as JAX
    resolves them for a function with custom derivative rules (``kind``): its rules take
    one value per parameter, in order. A keyword-only parameter cannot be passed (a rule
    has no place for it); left out, ``fun`` uses its default."""
    if not kwargs and not getattr(fun, "__defaults__", None):
        return args  # (the common call: no signature to read)
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except TypeError as err:
        raise FuncgradTypeError(f"{name_of(fun)}: {err}") from None
    bound.apply_defaults()
    passed = sorted(k for k in bound.kwargs if k in kwargs)
    if passed:
        raise FuncgradTypeError(f"{kind} function {name_of(fun)}: keyword-only arguments "
                                f"{passed} are not supported; make them positional")
    return bound.args


def check_function(fun, transform: str):
    """``transform`` (grad, jvp...) was given something to call, or say so at once rather
    than when it is first called."""
    if not callable(fun):
        raise FuncgradTypeError(f"{transform} needs a function, got {type(fun).__name__} "
                                f"{fun!r:.60}")


def check_arity(fun, count: int, arguments: str, what: str) -> None:
    """``what`` ("fori_loop's body_fun") will be called with ``count`` positional
    ``arguments`` ("i, val"): say at once if ``fun`` cannot take them. Python's own
    TypeError comes from inside the trace, naming neither the function's role nor the
    user's line."""
    try:
        signature = inspect.signature(fun)
    except (TypeError, ValueError):  # a builtin without one: the call will say
        return
    try:
        signature.bind(*range(count))
    except TypeError:
        raise FuncgradTypeError(
            f"{what} is called with {count} argument{'s' * (count != 1)} ({arguments}), but "
            f"{describe_function(fun)} takes {signature}") from None


def describe_function(fun) -> str:
    """``name``, with where it is defined if it is Python code (a lambda has no other name).
    ('line 3 of model.py', not 'model.py:3': an error message's 'file:line' is the user's
    line it is about, see core/errors.py)."""
    code = getattr(inspect.unwrap(fun), "__code__", None) if callable(fun) else None
    if code is None:
        return name_of(fun)
    where = os.path.basename(code.co_filename)
    if user_location() == f"{where}:{code.co_firstlineno}":  # (a lambda on the line named)
        return name_of(fun)
    return f"{name_of(fun)} (line {code.co_firstlineno} of {where})"


def check_rules(fun, decorator: str, method: str, **rules) -> None:
    """``f.defvjp(fwd, bwd)`` and the like were given functions, or say so when they are set
    rather than when ``f`` is first differentiated."""
    for role, rule in rules.items():
        if not callable(rule):
            raise FuncgradTypeError(f"{method} of {decorator} function {name_of(fun)}: its "
                                    f"{role} must be a function, got {type(rule).__name__} "
                                    f"{rule!r:.60}")


def nondiff_argnums_of(fun, nums, decorator: str) -> tuple[int, ...]:
    """custom_vjp's and custom_jvp's ``nondiff_argnums``, sorted, or a clear error: a
    negative one would be taken for no argument (JAX's rules misread it too)."""
    items = (nums,) if isinstance(nums, int) else nums
    if not isinstance(items, (tuple, list)) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in items):
        raise FuncgradTypeError(f"{decorator} of {name_of(fun)}: nondiff_argnums must be "
                                f"non-negative ints (positions of arguments), got {nums!r}")
    return tuple(sorted(set(items)))


def check_nondiff_range(fun, nondiff_argnums, count: int, decorator: str) -> None:
    if nondiff_argnums and nondiff_argnums[-1] >= count:
        raise FuncgradTypeError(
            f"{decorator} function {name_of(fun)} has nondiff_argnums={nondiff_argnums}, but "
            f"was called with {count} positional argument{'s' * (count != 1)}")


def describe_value(value) -> str:
    """What a user's function returned, for an error saying it should have returned something
    else: 'a tuple of length 3', 'a single array (f64[2])' (a traced one is no 'Tracer' to
    the user), 'a str'."""
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    if hasattr(value, "aval") or isinstance(value, (np.ndarray, np.generic, float, int)):
        return f"a single array ({getattr(value, 'aval', '') or np.shape(value)})"
    return f"a {type(value).__name__}"


def call_checked(fun, args, kwargs):
    """``fun(*args, **kwargs)``, for a transformation tracing it: if ``fun`` does not take
    these arguments, an error that says so with the user's line, which Python's (raised
    inside the transformation's trace) does not give."""
    try:
        return fun(*args, **kwargs)
    except TypeError:
        located = call_error(fun, args, kwargs)
        if located is None:
            raise  # (from inside fun: Python's own error names its line)
        raise located from None


def call_error(fun, args, kwargs) -> FuncgradTypeError | None:
    """Calling ``fun`` raised a TypeError: the error to raise if that is because it does not
    take these arguments, None if it came from inside ``fun``. Asked only after the call
    failed, so a call that works pays nothing."""
    try:
        signature = inspect.signature(fun)
        signature.bind(*args, **kwargs)
        return None
    except ValueError:  # (no signature)
        return None
    except TypeError as err:
        keywords = f" and keyword arguments {sorted(kwargs)}" if kwargs else ""
        return FuncgradTypeError(
            f"{describe_function(fun)} was called with {len(args)} positional "
            f"argument{'s' * (len(args) != 1)}{keywords}, but it takes {signature}: {err}")
