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
from typing import Any
from collections.abc import Callable

import optree


__all__ = ["flatten", "unflatten", "leaves", "structure", "map", "register",
           "register_dataclass", "PyTreeDef",
           # jax.tree_util's spellings of the same functions
           "tree_map", "tree_leaves", "tree_flatten", "tree_unflatten", "tree_structure",
           "register_pytree_node"]

NAMESPACE = "funcgrad"
PyTreeDef = optree.PyTreeSpec


def flatten(tree) -> tuple[list, PyTreeDef]:
    """The leaves of ``tree`` in a fixed order, and its structure.

    Example:
        >>> from funcgrad import tree
        >>> tree.flatten((1.0, [2.0, 3.0]))
        ([1.0, 2.0, 3.0], PyTreeSpec((*, [*, *])))
    """
    leaves, treedef = optree.tree_flatten(tree, namespace=NAMESPACE)
    new = {type(x) for x in leaves if _is_unregistered_dataclass(x)}
    if not new:
        return leaves, treedef
    for cls in new:  # dataclasses are nodes, registered when first met
        register_dataclass(cls)
    return flatten(tree)


def unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild a tree of the given structure from its leaves.

    Example:
        >>> from funcgrad import tree
        >>> leaves, treedef = tree.flatten((1.0, [2.0, 3.0]))
        >>> tree.unflatten(treedef, [4.0, 5.0, 6.0])
        (4.0, [5.0, 6.0])
    """
    return optree.tree_unflatten(treedef, leaves)


def leaves(tree) -> list:
    """The leaves of ``tree``.

    Example:
        >>> from funcgrad import tree
        >>> tree.leaves([1.0, (2.0, None), {"x": 3.0}])
        [1.0, 2.0, 3.0]
    """
    return flatten(tree)[0]


def structure(tree) -> PyTreeDef:
    """The structure of ``tree``, without its leaves.

    Example:
        >>> from funcgrad import tree
        >>> tree.structure({"w": 1.0, "b": (2.0, None)})
        PyTreeSpec({'b': (*, None), 'w': *})
    """
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

    Example:
        >>> from funcgrad import tree
        >>> class Pair:
        ...     def __init__(self, first, second):
        ...         self.first, self.second = first, second
        >>> _ = tree.register(Pair, lambda p: ((p.first, p.second), None),
        ...                   lambda aux, children: Pair(*children))
        >>> tree.map(lambda x: 2 * x, Pair(1.0, 3.0)).second
        6.0
    """
    optree.register_pytree_node(cls, flatten_fn, unflatten_fn, namespace=NAMESPACE)
    return cls


def register_dataclass(cls: type) -> type:
    """Make a dataclass a pytree node (done automatically when one is first flattened).

    Its children are its fields, except those declared
    ``dataclasses.field(metadata={"static": True})``: settings such as a name or an activation,
    kept in the structure (compared, hashed) rather than traced.

    Example:
        >>> import dataclasses
        >>> from funcgrad import tree
        >>> @tree.register_dataclass
        ... @dataclasses.dataclass
        ... class Layer:
        ...     w: np.ndarray
        ...     activation: str = dataclasses.field(default="tanh", metadata={"static": True})
        >>> tree.leaves(Layer(np.ones(2)))
        [array([1., 1.])]
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


# jax.tree_util's names, so that `from jax.tree_util import tree_map` ports by its import
tree_map, tree_leaves, tree_flatten, tree_unflatten, tree_structure = (
    map, leaves, flatten, unflatten, structure)
register_pytree_node = register
