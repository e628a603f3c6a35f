"""funcgrad.tree beyond flatten and map: is_leaf, paths, reduce, all and transpose, with
JAX's jax.tree / jax.tree_util meanings."""

from __future__ import annotations

import dataclasses
import operator

import numpy as np
import pytest

import funcgrad as fg
from funcgrad import tree


def test_is_leaf_takes_nodes_whole_in_every_function():
    nested = {"a": [1.0, 2.0], "b": (3.0, [4.0])}
    lists = lambda node: isinstance(node, list)  # noqa: E731
    assert tree.leaves(nested, is_leaf=lists) == [[1.0, 2.0], 3.0, [4.0]]
    assert tree.structure(nested, is_leaf=lists).num_leaves == 3
    assert tree.map(len, nested, is_leaf=lambda n: isinstance(n, (list, tuple))) == \
        {"a": 2, "b": 2}
    assert tree.reduce(lambda count, leaf: count + 1, nested, 0, is_leaf=lists) == 3
    assert tree.all({"a": [1, 0]}, is_leaf=lists) is True  # the list [1, 0] is one true leaf
    assert tree.all({"a": [1, 0]}) is False
    # map with rest: the other trees need only match tree's leaves as subtrees
    assert tree.map(lambda x, y: (x, y), {"a": 1}, {"a": [2, 3]}) == {"a": (1, [2, 3])}


def test_reduce_with_and_without_an_initializer():
    params = {"w": np.ones((2, 3)), "b": np.ones(3)}
    assert tree.reduce(lambda total, leaf: total + leaf.size, params, 0) == 9
    assert tree.reduce(operator.add, [1, 2, 3]) == 6
    with pytest.raises(TypeError):
        tree.reduce(operator.add, [])  # as functools.reduce of nothing


def test_paths_name_dict_keys_indices_and_dataclass_fields():
    @dataclasses.dataclass
    class Layer:
        w: np.ndarray
        b: np.ndarray
        name: str = dataclasses.field(default="dense", metadata={"static": True})

    model = {"layers": [Layer(np.ones(2), np.zeros(1))], "scale": 1.0}
    pairs, treedef = tree.flatten_with_path(model)
    assert [path for path, _ in pairs] == [("layers", 0, "w"), ("layers", 0, "b"), ("scale",)]
    assert treedef == tree.structure(model)
    assert [tree.keystr(p) for p, _ in tree.leaves_with_path(model)] == \
        ["['layers'][0]['w']", "['layers'][0]['b']", "['scale']"]
    # weight decay on everything but biases: the usual use of map_with_path
    decayed = tree.map_with_path(lambda path, p: p if path[-1] == "b" else 0.5 * p, model)
    np.testing.assert_array_equal(decayed["layers"][0].w, [0.5, 0.5])
    np.testing.assert_array_equal(decayed["layers"][0].b, [0.0])
    assert decayed["layers"][0].name == "dense" and decayed["scale"] == 0.5


def test_transpose_turns_a_list_of_pairs_into_a_pair_of_lists():
    pairs = [(1, {"x": 2}), (3, {"x": 4}), (5, {"x": 6})]
    outer, inner = tree.structure([0, 0, 0]), tree.structure((0, {"x": 0}))
    assert tree.transpose(outer, inner, pairs) == ([1, 3, 5], {"x": [2, 4, 6]})
    assert tree.transpose(outer, None, pairs) == ([1, 3, 5], {"x": [2, 4, 6]})
    with pytest.raises(TypeError, match="structure mismatch"):
        tree.transpose(outer, tree.structure((0, 0, 0)), pairs)


def test_jax_tree_util_spellings_are_the_same_functions():
    assert tree.tree_reduce is tree.reduce and tree.tree_all is tree.all
    assert tree.tree_map_with_path is tree.map_with_path
    assert tree.tree_flatten_with_path is tree.flatten_with_path
    assert tree.tree_leaves_with_path is tree.leaves_with_path
    assert tree.tree_transpose is tree.transpose


def test_map_with_is_leaf_inside_grad():
    """A loss that treats (w, b) pairs as leaves differentiates like any other."""
    params = {"l1": (np.array([1.0, 2.0]), 0.5), "l2": (np.array([3.0]), -1.0)}

    def loss(params):
        per_layer = tree.map(lambda pair: fg.numpy.sum(pair[0] * pair[1]), params,
                             is_leaf=lambda n: isinstance(n, tuple))
        return tree.reduce(operator.add, per_layer)

    g = fg.grad(loss)(params)
    np.testing.assert_allclose(g["l1"][0], [0.5, 0.5])
    np.testing.assert_allclose(g["l1"][1], 3.0)
    np.testing.assert_allclose(g["l2"][0], [-1.0])
    np.testing.assert_allclose(g["l2"][1], 3.0)


def test_jax_conventions_dict_keys_sorted_none_empty_namedtuples_in_field_order():
    import collections
    pair = collections.namedtuple("pair", "x y")
    assert tree.leaves({"b": 1, "a": 2, "c": {"z": 3, "y": 4}}) == [2, 1, 4, 3]
    assert tree.leaves([None, 1, (None,)]) == [1]
    assert tree.map(lambda x: 2 * x, {"a": None, "b": 1}) == {"a": None, "b": 2}
    assert tree.leaves(pair(y=1, x=2)) == [2, 1]
    assert tree.map(lambda x: x + 1, pair(1, 2)) == pair(2, 3)
    assert tree.map(lambda x: 0 if x is None else x, [None, 1],
                    is_leaf=lambda x: x is None) == [0, 1]


def test_trees_that_do_not_match_are_a_funcgrad_error_naming_the_line():
    with pytest.raises(fg.FuncgradValueError, match=r"tree.map: the trees' structures differ: "
                       r"list arity mismatch.*\(in test_tree.py:\d+\)"):
        tree.map(lambda x, y: x, [1, 2], [1, 2, 3])
    with pytest.raises(fg.FuncgradValueError, match="tree.map_with_path: .*key mismatch"):
        tree.map_with_path(lambda p, x, y: x, {"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match="invalid literal") as raised:   # fn's own error
        tree.map(lambda x: int("a"), [1])
    assert not isinstance(raised.value, fg.FuncgradError)


def test_register_pytree_node_class_static_and_partial_cross_jit_and_grad():
    @tree.register_pytree_node_class
    class Scaled:
        def __init__(self, x, factor):
            self.x, self.factor = x, factor

        def tree_flatten(self):
            return (self.x,), self.factor

        @classmethod
        def tree_unflatten(cls, factor, children):
            return cls(*children, factor)

    @tree.register_static
    class Config:
        pass
    config = Config()
    out = fg.jit(lambda s, c: Scaled(s.x * s.factor, s.factor))(Scaled(np.array(2.0), 3.0),
                                                               config)
    assert float(out.x) == 6.0 and out.factor == 3.0
    assert tree.leaves([1.0, config]) == [1.0] and tree.structure(config) == \
        tree.structure(config)
    scale = tree.Partial(lambda a, x, b: a * x + b, np.array(3.0), b=np.array(1.0))
    assert float(fg.jit(lambda f, x: f(x))(scale, np.array(2.0))) == 7.0
    grads = fg.grad(lambda f, x: f(x))(scale, 2.0)      # a Partial of the arguments' gradients
    assert isinstance(grads, tree.Partial)
    assert (float(grads.args[0]), float(grads.keywords["b"])) == (2.0, 1.0)


def test_all_leaves_treedef_children_and_broadcast_as_jax():
    assert tree.all_leaves([1.0, np.ones(2)]) and not tree.all_leaves([1.0, (2.0,)])
    assert not tree.all_leaves([None])
    assert tree.all_leaves([(1.0,)], is_leaf=lambda x: isinstance(x, tuple))
    assert tree.treedef_children(tree.structure((1.0, [2.0, 3.0]))) == [
        tree.structure(0.0), tree.structure([0.0, 0.0])]
    assert tree.broadcast([1.0, 2.0], [(0, 0), {"a": 0}]) == [(1.0, 1.0), {"a": 2.0}]
    assert tree.tree_broadcast({"w": 0.5}, {"w": (np.ones(1), None)}) == {"w": (0.5, None)}
