"""ravel_pytree: one vector for a pytree of arrays, and back, under every transform."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.flatten_util import ravel_pytree
from funcgrad.testing import check_grads

PARAMS = {"w": np.arange(6.0).reshape(2, 3), "b": np.array([0.5, -1.0]),
          "layers": [np.array(2.0), (np.ones((1, 2)), None)]}


def test_ravel_then_unravel_gives_back_the_tree():
    flat, unravel = ravel_pytree(PARAMS)
    leaves = fg.tree.leaves(PARAMS)
    assert flat.shape == (sum(x.size for x in leaves),)
    np.testing.assert_array_equal(flat, np.concatenate([np.ravel(x) for x in leaves]))
    back = unravel(flat)
    assert fg.tree.structure(back) == fg.tree.structure(PARAMS)
    for a, b in zip(fg.tree.leaves(back), leaves):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_mixed_dtypes_promote_and_come_back_in_their_own():
    flat, unravel = ravel_pytree((np.array([1, 2], np.int32), np.array([0.5], np.float32)))
    assert flat.dtype == np.result_type(np.int32, np.float32) == np.float64
    a, b = unravel(flat)
    assert a.dtype == np.int32 and b.dtype == np.float32 and a.tolist() == [1, 2]


def test_unravel_differentiates_and_compiles():
    flat, unravel = ravel_pytree(PARAMS)

    def loss(v):
        p = unravel(v)
        return fnp.sum(fnp.tanh(p["w"]) ** 2) + fnp.sum(p["b"] * p["layers"][0])

    check_grads(loss, [flat], order=2, modes=("rev", "fwd"))
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(flat), fg.grad(loss)(flat))
    batch = np.stack([flat, 2 * flat])
    np.testing.assert_allclose(fg.vmap(loss)(batch), [loss(flat), loss(2 * flat)])


def test_ravel_traces_inside_a_transform():
    def f(w, b):
        flat, _ = ravel_pytree((w, b))
        return fnp.sum(flat ** 2)
    g = fg.grad(f, argnums=(0, 1))(np.ones(2), np.array(3.0))
    np.testing.assert_allclose(g[0], [2.0, 2.0])
    np.testing.assert_allclose(g[1], 6.0)


def test_empty_tree_and_wrong_length_vector():
    flat, unravel = ravel_pytree({})
    assert flat.shape == (0,) and unravel(flat) == {}
    _, unravel = ravel_pytree(PARAMS)
    with pytest.raises(fg.ShapeError, match=r"expected a vector of 11 elements, got shape "
                       r"\(3,\) \(in test_flatten_util.py:\d+\)"):
        unravel(np.zeros(3))


def test_integer_leaves_round_trip_and_get_no_gradient():
    flat, unravel = ravel_pytree({"i": np.arange(2, dtype=np.int32), "x": np.ones(2)})
    np.testing.assert_array_equal(flat, [0.0, 1.0, 1.0, 1.0])
    assert unravel(flat)["i"].dtype == np.int32
    g = fg.grad(lambda v: fnp.sum(unravel(v)["x"] ** 2) + fnp.sum(unravel(v)["i"]))(flat)
    np.testing.assert_array_equal(g, [0.0, 0.0, 2.0, 2.0])
    np.testing.assert_array_equal(fg.vmap(lambda v: unravel(v)["x"])(np.arange(8.0).reshape(2, 4)),
                                  [[2.0, 3.0], [6.0, 7.0]])
