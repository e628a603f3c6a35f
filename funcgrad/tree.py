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

import builtins
import dataclasses
import functools
from typing import Any
from collections.abc import Callable

import optree

from funcgrad.core.errors import FuncgradValueError as _FuncgradValueError

__all__ = ["flatten", "unflatten", "leaves", "structure", "map", "reduce", "all", "transpose",
           "flatten_with_path", "leaves_with_path", "map_with_path", "keystr", "register",
           "register_dataclass", "PyTreeDef", "broadcast", "Partial",
           # jax.tree_util's spellings of the same functions
           "tree_map", "tree_leaves", "tree_flatten", "tree_unflatten", "tree_structure",
           "tree_reduce", "tree_all", "tree_transpose", "tree_flatten_with_path",
           "tree_leaves_with_path", "tree_map_with_path", "register_pytree_node",
           "register_pytree_node_class", "register_static", "all_leaves", "treedef_children",
           "tree_broadcast"]

NAMESPACE = "funcgrad"
PyTreeDef = optree.PyTreeSpec


def flatten(tree, is_leaf: Callable | None = None) -> tuple[list, PyTreeDef]:
    """The leaves of ``tree`` in a fixed order, and its structure. ``is_leaf(node)``, if
    given, says which nodes to take whole, as leaves (here and in the functions below).

    Example:
        >>> from funcgrad import tree
        >>> tree.flatten((1.0, [2.0, 3.0]))
        ([1.0, 2.0, 3.0], PyTreeSpec((*, [*, *])))
        >>> tree.flatten((1.0, [2.0, 3.0]), is_leaf=lambda node: isinstance(node, list))
        ([1.0, [2.0, 3.0]], PyTreeSpec((*, *)))
    """
    leaves, treedef = optree.tree_flatten(tree, is_leaf, namespace=NAMESPACE)
    if not _register_new_dataclasses(leaves):
        return leaves, treedef
    return flatten(tree, is_leaf)


def _register_new_dataclasses(leaves) -> bool:
    """Register the classes of the dataclass instances among ``leaves`` not seen before
    (dataclasses are nodes, registered when first met); whether there were any."""
    new = {type(x) for x in leaves if _is_unregistered_dataclass(x)}
    for cls in new:
        register_dataclass(cls)
    return bool(new)


def unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild a tree of the given structure from its leaves.

    Example:
        >>> from funcgrad import tree
        >>> leaves, treedef = tree.flatten((1.0, [2.0, 3.0]))
        >>> tree.unflatten(treedef, [4.0, 5.0, 6.0])
        (4.0, [5.0, 6.0])
    """
    return optree.tree_unflatten(treedef, leaves)


def leaves(tree, is_leaf: Callable | None = None) -> list:
    """The leaves of ``tree``.

    Example:
        >>> from funcgrad import tree
        >>> tree.leaves([1.0, (2.0, None), {"x": 3.0}])
        [1.0, 2.0, 3.0]
    """
    return flatten(tree, is_leaf)[0]


def structure(tree, is_leaf: Callable | None = None) -> PyTreeDef:
    """The structure of ``tree``, without its leaves.

    Example:
        >>> from funcgrad import tree
        >>> tree.structure({"w": 1.0, "b": (2.0, None)})
        PyTreeSpec({'b': (*, None), 'w': *})
    """
    return flatten(tree, is_leaf)[1]


def map(fn: Callable, tree, *rest, is_leaf: Callable | None = None):  # noqa: A001  (jax.tree.map)
    """Apply ``fn`` to the leaves of ``tree`` (and the matching leaves of ``rest``, trees of
    the same structure, or with whole subtrees where ``tree`` has a leaf).

    Example:
        >>> from funcgrad import tree
        >>> tree.map(lambda p, g: p - 0.1 * g, {"w": 1.0}, {"w": 2.0})
        {'w': 0.8}
    """
    flatten(tree, is_leaf)  # registers any dataclasses first
    with _structures("map"):
        return optree.tree_map(fn, tree, *rest, is_leaf=is_leaf, namespace=NAMESPACE)


class _structures:
    """Re-raise optree's error about trees whose structures differ as a FuncgradValueError,
    which names the user's line (optree's ValueError names neither it nor the function).
    Only ValueErrors optree raises itself: an error of ``fn`` passes through unchanged."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is not None and issubclass(kind, ValueError) \
                and not isinstance(error, _FuncgradValueError) and _raised_by_optree(traceback):
            raise _FuncgradValueError(f"tree.{self.name}: the trees' structures differ: "
                                      f"{error}") from error
        return False


def _raised_by_optree(traceback) -> bool:
    """Whether the innermost frame of ``traceback`` is no Python code (optree's C++ raised)
    or optree's own."""
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return "optree" in traceback.tb_frame.f_code.co_filename \
        or traceback.tb_frame.f_code.co_filename == __file__


_MISSING = object()


def reduce(fn: Callable, tree, initializer=_MISSING, is_leaf: Callable | None = None):
    """``fn`` folded over the leaves of ``tree``, from ``initializer`` if given (as
    ``functools.reduce``).

    Example:
        >>> from funcgrad import tree
        >>> tree.reduce(lambda total, leaf: total + leaf.size, {"w": np.ones((2, 3))}, 0)
        6
    """
    leaves_ = leaves(tree, is_leaf)
    if initializer is _MISSING:
        return functools.reduce(fn, leaves_)
    return functools.reduce(fn, leaves_, initializer)


def all(tree, is_leaf: Callable | None = None) -> bool:  # noqa: A001  (jax.tree.all)
    """Whether every leaf of ``tree`` is true (``bool(leaf)``).

    Example:
        >>> from funcgrad import tree
        >>> tree.all({"a": True, "b": (1, 2)})
        True
    """
    return builtins.all(leaves(tree, is_leaf))


def transpose(outer: PyTreeDef, inner: PyTreeDef, tree):
    """A tree of structure ``outer`` of trees of structure ``inner``, turned into a tree of
    structure ``inner`` of trees of structure ``outer`` (``inner`` may be None: found from
    the first of the inner trees).

    Example:
        >>> from funcgrad import tree
        >>> pairs = [(1, "a"), (2, "b")]
        >>> tree.transpose(tree.structure([0, 0]), tree.structure((0, 0)), pairs)
        ([1, 2], ['a', 'b'])
    """
    with _structures("transpose"):
        if inner is None:
            inner = structure(outer.flatten_up_to(tree)[0])
        return optree.tree_transpose(outer, inner, tree)


def flatten_with_path(tree, is_leaf: Callable | None = None) -> tuple[list, PyTreeDef]:
    """``([(path, leaf), ...], structure)``: each leaf with its path, the tuple of keys that
    leads to it (dict keys, sequence indices, dataclass field names; JAX's paths hold key
    objects instead, such as ``DictKey('w')``: ``keystr`` prints both alike).

    Example:
        >>> from funcgrad import tree
        >>> tree.flatten_with_path({"w": [1.0, 2.0]})[0]
        [(('w', 0), 1.0), (('w', 1), 2.0)]
    """
    flatten(tree, is_leaf)  # registers any dataclasses first
    paths, leaves_, treedef = optree.tree_flatten_with_path(tree, is_leaf, namespace=NAMESPACE)
    return list(zip(paths, leaves_)), treedef


def leaves_with_path(tree, is_leaf: Callable | None = None) -> list:
    """``[(path, leaf), ...]``, as ``flatten_with_path``.

    Example:
        >>> from funcgrad import tree
        >>> tree.leaves_with_path((1.0, {"b": 2.0}))
        [((0,), 1.0), ((1, 'b'), 2.0)]
    """
    return flatten_with_path(tree, is_leaf)[0]


def map_with_path(fn: Callable, tree, *rest, is_leaf: Callable | None = None):
    """Apply ``fn(path, leaf, *other_leaves)`` to the leaves of ``tree``, as ``map`` with the
    path of each leaf (see ``flatten_with_path``) as the first argument.

    Example:
        >>> from funcgrad import tree
        >>> params = {"w": 1.0, "b": 1.0}
        >>> tree.map_with_path(lambda path, p: 0.0 if path[-1] == "b" else p, params)
        {'w': 1.0, 'b': 0.0}
    """
    flatten(tree, is_leaf)  # registers any dataclasses first
    with _structures("map_with_path"):
        return optree.tree_map_with_path(fn, tree, *rest, is_leaf=is_leaf, namespace=NAMESPACE)


def keystr(path: tuple) -> str:
    """A path printed as the indexing that reaches its leaf, as JAX's ``keystr``.

    Example:
        >>> from funcgrad import tree
        >>> tree.keystr(("layers", 0, "w"))
        "['layers'][0]['w']"
    """
    return "".join(f"[{getattr(key, 'key', getattr(key, 'idx', key))!r}]" for key in path)


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
    return register(  # (the field names are the children's keys in paths)
        cls, lambda obj: ([getattr(obj, n) for n in data], tuple(getattr(obj, n) for n in static),
                          data),
        lambda aux, children: cls(**dict(zip(data, children)), **dict(zip(static, aux))))


_registered_dataclasses: set[type] = set()


def _is_unregistered_dataclass(x) -> bool:
    cls = type(x)
    return (cls not in _registered_dataclasses and dataclasses.is_dataclass(cls)
            and not isinstance(x, type))


def register_pytree_node_class(cls: type) -> type:
    """Make ``cls`` a pytree node by its own ``tree_flatten()`` method, giving ``(children,
    aux)``, and ``tree_unflatten(aux, children)`` classmethod (JAX's decorator).

    Example:
        >>> from funcgrad import tree
        >>> @tree.register_pytree_node_class
        ... class Scaled:
        ...     def __init__(self, x, factor):
        ...         self.x, self.factor = x, factor
        ...     def tree_flatten(self):
        ...         return (self.x,), self.factor
        ...     @classmethod
        ...     def tree_unflatten(cls, factor, children):
        ...         return cls(*children, factor)
        >>> tree.map(lambda x: x + 1, Scaled(1.0, "f")).x
        2.0
    """
    return register(cls, lambda obj: obj.tree_flatten(),
                    cls.tree_unflatten)  # type: ignore[attr-defined]  # (the protocol)


def register_static(cls: type) -> type:
    """Make instances of ``cls`` nodes without children: kept whole in the structure (so
    compared and hashed), never traced (JAX's ``register_static``).

    Example:
        >>> from funcgrad import tree
        >>> @tree.register_static
        ... class Config:
        ...     pass
        >>> tree.leaves([1.0, Config()])
        [1.0]
    """
    return register(cls, lambda obj: ((), obj), lambda obj, children: obj)


def all_leaves(iterable, is_leaf: Callable | None = None) -> bool:
    """Whether every element of ``iterable`` is a leaf (None is not: it is an empty node).

    Example:
        >>> from funcgrad import tree
        >>> tree.all_leaves([1.0, np.ones(2)]), tree.all_leaves([1.0, (2.0,)])
        (True, False)
    """
    items = list(iterable)
    found = leaves(items, is_leaf)
    return len(found) == len(items) and builtins.all(a is b for a, b in zip(found, items))


def treedef_children(treedef: PyTreeDef) -> list:
    """The structures of the children of ``treedef``'s root.

    Example:
        >>> from funcgrad import tree
        >>> tree.treedef_children(tree.structure((1.0, [2.0, 3.0])))
        [PyTreeSpec(*), PyTreeSpec([*, *])]
    """
    return treedef.children()


def broadcast(prefix_tree, full_tree, is_leaf: Callable | None = None):
    """``prefix_tree``, a prefix of ``full_tree``'s structure, with each of its leaves
    repeated over the subtree of ``full_tree`` below it (``jax.tree.broadcast``).

    Example:
        >>> from funcgrad import tree
        >>> tree.broadcast([1.0, 2.0], [(0, 0), {"a": 0}])
        [(1.0, 1.0), {'a': 2.0}]
    """
    return map(lambda leaf, subtree: map(lambda _: leaf, subtree, is_leaf=is_leaf),
               prefix_tree, full_tree, is_leaf=is_leaf)


class Partial(functools.partial):
    """``functools.partial`` as a pytree, its arguments the leaves and its function in the
    structure: a function with array arguments bound that can cross ``jit`` (JAX's
    ``jax.tree_util.Partial``).

    Example:
        >>> import funcgrad as fg
        >>> from funcgrad import tree
        >>> scale = tree.Partial(lambda a, x: a * x, np.array(3.0))
        >>> float(fg.jit(lambda f, x: f(x))(scale, np.array(2.0)))
        6.0
    """


register(Partial, lambda p: ((p.args, p.keywords), p.func),
         lambda func, children: Partial(func, *children[0], **children[1]))


# jax.tree_util's names, so that `from jax.tree_util import tree_map` ports by its import
tree_map, tree_leaves, tree_flatten, tree_unflatten, tree_structure = (
    map, leaves, flatten, unflatten, structure)
tree_reduce, tree_all, tree_transpose = reduce, all, transpose
tree_flatten_with_path, tree_leaves_with_path, tree_map_with_path = (
    flatten_with_path, leaves_with_path, map_with_path)
register_pytree_node = register
tree_broadcast = broadcast
