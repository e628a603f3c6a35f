"""Pytrees: nested tuples, lists, dicts, namedtuples, dataclasses and None, on optree.

optree (the C++ pytree library PyTorch uses) flattens a small tree in well under a
microsecond; flattening sits on the hot path of every compiled call. funcgrad registers its
nodes in its own optree namespace, so it never changes how other libraries flatten.

Example:
    >>> from funcgrad import tree
    >>> tree.leaves({"w": 1.0, "b": (2.0, None)})
    [2.0, 1.0]
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable

import numpy as np
import optree

from funcgrad.core.errors import FuncgradTypeError

NAMESPACE = "funcgrad"
PyTreeDef = optree.PyTreeSpec


def flatten(tree) -> tuple[list, PyTreeDef]:
    """The leaves of ``tree`` in a fixed order, and its structure."""
    leaves, treedef = optree.tree_flatten(tree, namespace=NAMESPACE)
    new = {type(x) for x in leaves if _is_unregistered_dataclass(x)}
    if not new:
        return leaves, treedef
    for cls in new:  # dataclasses are nodes, registered when first met
        register_dataclass(cls)
    return flatten(tree)


def unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild a tree of the given structure from its leaves."""
    return optree.tree_unflatten(treedef, leaves)


def leaves(tree) -> list:
    """The leaves of ``tree``."""
    return flatten(tree)[0]


def structure(tree) -> PyTreeDef:
    """The structure of ``tree``, without its leaves."""
    return flatten(tree)[1]


def map(fn: Callable, tree, *rest):  # noqa: A001  (funcgrad.tree.map mirrors jax.tree.map)
    """Apply ``fn`` to the leaves of ``tree`` (and the matching leaves of ``rest``).

    Example:
        >>> from funcgrad import tree
        >>> tree.map(lambda p, g: p - 0.1 * g, {"w": 1.0}, {"w": 2.0})
        {'w': 0.8}
    """
    flatten(tree)  # registers any dataclasses first
    return optree.tree_map(fn, tree, *rest, namespace=NAMESPACE)


def register(cls: type, flatten_fn: Callable, unflatten_fn: Callable) -> type:
    """Make instances of ``cls`` pytree nodes.

    ``flatten_fn(obj) -> (children, aux)``; ``unflatten_fn(aux, children) -> obj``.
    """
    optree.register_pytree_node(cls, flatten_fn, unflatten_fn, namespace=NAMESPACE)
    return cls


def register_dataclass(cls: type) -> type:
    """Make a dataclass a pytree node (done automatically when one is first flattened).

    Its children are its fields, except those declared
    ``dataclasses.field(metadata={"static": True})``: settings such as a name or an activation,
    kept in the structure (compared, hashed) rather than traced.
    """
    fields = [f for f in dataclasses.fields(cls) if f.init]
    data = [f.name for f in fields if not f.metadata.get("static", False)]
    static = [f.name for f in fields if f.metadata.get("static", False)]
    _registered_dataclasses.add(cls)
    return register(
        cls, lambda obj: ([getattr(obj, n) for n in data], tuple(getattr(obj, n) for n in static)),
        lambda aux, children: cls(**dict(zip(data, children)), **dict(zip(static, aux))))


_registered_dataclasses: set[type] = set()


def _is_unregistered_dataclass(x) -> bool:
    cls = type(x)
    return (cls not in _registered_dataclasses and dataclasses.is_dataclass(cls)
            and not isinstance(x, type))


# ---------------------------------------------------------------------------------------
# A call's arguments, split into static values and a flat list of array leaves.


class FunctionArgs:
    """``fun(*args, **kwargs)`` as transforms see it: static arguments kept aside, the rest
    flattened to leaves. ``flat_function()`` is ``fun`` as a function of those leaves."""

    def __init__(self, fun, args, kwargs, static_argnums=(), static_argnames=()):
        self.fun = fun
        self.static_argnums = normalize_argnums(static_argnums, len(args), fun, "static_argnums")
        self.static_argnames = frozenset((static_argnames,) if isinstance(static_argnames, str)
                                         else static_argnames)
        self.args, self.kwargs = args, kwargs
        dynamic_args = tuple(a for i, a in enumerate(args) if i not in self.static_argnums)
        dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        self.leaves, self.in_tree = flatten((dynamic_args, dynamic_kwargs))
        self.out_tree: PyTreeDef | None = None

    def static_key(self):
        """The static arguments, as a hashable part of a cache key."""
        try:
            key = (tuple(self.args[i] for i in sorted(self.static_argnums)),
                   tuple(sorted((k, v) for k, v in self.kwargs.items()
                                if k in self.static_argnames)))
            hash(key)
        except TypeError:
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
            (tuple(self.args[i] for i in dynamic),
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
            out = self.fun(*args, **kwargs)
            out_leaves, self.out_tree = flatten(out)
            check_outputs(out_leaves, self.fun)
            return out_leaves
        return flat


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


def argument_names(fun) -> list[str]:
    try:
        return [p.name for p in inspect.signature(fun).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []
