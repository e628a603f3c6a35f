"""x.at[i].min/.max and lax.scatter_min/scatter_max: values, JAX's gradient at ties (split
equally among the operand's element and the updates equal to the result), batching, jit.
The expected numbers were computed with JAX 0.10 (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax

X = np.array([1.0, 5.0, 3.0, 2.0])
IDX = np.array([0, 0, 2, 2, 3])
V = np.array([4.0, 4.0, 3.0, 1.0, 2.0])  # ties: two updates at 0, x and an update at 2 and 3


def at_max(x, v):
    return fnp.at(x)[IDX].max(v)  # (x.at on traced values)


def at_min(x, v):
    return fnp.at(x)[IDX].min(v)


JAX_MAX = ([4, 5, 3, 2], np.diag([0, 1, .5, .5]),
           [[.5, .5, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, .5, 0, 0], [0, 0, 0, 0, .5]],
           [5, 1, 11, 21.5])
JAX_MIN = ([1, 5, 1, 2], np.diag([1, 1, 0, .5]),
           [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, .5]],
           [0, 1, 30, 21.5])


def _all(f, x, v):
    jx, jv = fg.jacrev(f, argnums=(0, 1))(x, v)
    _, tangent = fg.jvp(f, (x, v), (fnp.arange(4.0), fnp.arange(5.0) * 10))
    return f(x, v), jx, jv, tangent


@pytest.mark.parametrize("f, expected", [(at_max, JAX_MAX), (at_min, JAX_MIN)])
def test_values_and_derivatives_at_ties_match_jax(f, expected):
    for got in (_all(f, X, V), fg.jit(lambda x, v: _all(f, x, v), compile="sync")(X, V)):
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=0, atol=1e-15)


def test_gradient_without_ties_matches_finite_differences():
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    idx = np.array([2, 0, 2, 1, 0])
    fg.testing.check_grads(lambda x, v: fnp.sum(fnp.sin(fnp.at(x)[idx].max(v))), (x, v), order=1)
    fg.testing.check_grads(lambda x, v: fnp.sum(fnp.sin(fnp.at(x)[idx].min(v))), (x, v), order=1)


def test_batching_matches_a_loop_and_integers_work():
    xs, vs = np.stack([X, -X]), np.stack([V, V[::-1]])
    for f in (at_max, at_min):
        batched = fg.jit(fg.vmap(f), compile="sync")(xs, vs)
        np.testing.assert_array_equal(batched, [f(x, v) for x, v in zip(xs, vs)])
        grads = fg.vmap(fg.grad(lambda x, v: fnp.sum(f(x, v) ** 2), argnums=1))(xs, vs)
        assert grads.shape == vs.shape
    ints = fnp.at(np.zeros(3, np.int64))[np.array([0, 0])].max(np.array([2, 3]))
    np.testing.assert_array_equal(ints, [3, 0, 0])  # as JAX's


DN = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                 scatter_dims_to_operand_dims=(0,))


def test_lax_scatter_min_max_and_their_modes():
    np.testing.assert_array_equal(lax.scatter_max(X, IDX[:, None], V, DN), JAX_MAX[0])
    np.testing.assert_array_equal(lax.scatter_min(X, IDX[:, None], V, DN), JAX_MIN[0])
    oob = np.array([[0], [9]]), np.zeros(2)
    np.testing.assert_array_equal(lax.scatter_min(X, *oob, DN), [0, 5, 3, 2])  # dropped
    np.testing.assert_array_equal(lax.scatter_min(X, *oob, DN, mode="clip"), [0, 5, 3, 0])
    rows = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                       scatter_dims_to_operand_dims=(0,))
    x, u = np.arange(6.0).reshape(3, 2), np.array([[9.0, -1.0], [0.5, 7.0]])
    f = fg.jit(lambda x, u: lax.scatter_max(x, np.array([[1], [1]]), u, rows), compile="sync")
    np.testing.assert_array_equal(f(x, u), [[0, 1], [9, 7], [4, 5]])
    gx, gu = fg.grad(lambda x, u: fnp.sum(f(x, u) * np.arange(6.0).reshape(3, 2)),
                     argnums=(0, 1))(x, u)
    np.testing.assert_array_equal(gx, [[0, 1], [0, 0], [4, 5]])
    np.testing.assert_array_equal(gu, [[2, 0], [0, 3]])
