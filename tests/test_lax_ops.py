"""funcgrad.lax's array operations, JAX's conventions: dynamic slices clamp their starts,
``div`` rounds toward zero, ``top_k`` breaks ties by index, ``sort`` of several operands
permutes them by the first; values against NumPy, traced starts under jit, derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.core.errors import ShapeError
from funcgrad.testing import check_grads

X = np.arange(20.0).reshape(4, 5)


@pytest.mark.parametrize("start", [(0, 0), (1, 2), (3, 4), (-2, 1), (9, 9), (-9, -1)])
def test_dynamic_slice_clamps_its_starts_and_traces_them(start):
    sizes = (2, 3)
    # JAX's rule: a negative start counts from the end, then the block is clamped to fit
    clamped = [min(max(s + n * (s < 0), 0), n - k) for s, n, k in zip(start, X.shape, sizes)]
    want = X[clamped[0]:clamped[0] + 2, clamped[1]:clamped[1] + 3]
    np.testing.assert_array_equal(lax.dynamic_slice(X, start, sizes), want)
    jitted = fg.jit(lambda x, i, j: lax.dynamic_slice(x, (i, j), sizes))
    np.testing.assert_array_equal(jitted(X, np.int64(start[0]), np.int64(start[1])), want)


@pytest.mark.parametrize("start", [(0, 0), (2, 3), (-1, 7)])
def test_dynamic_update_slice_matches_numpy_and_differentiates(start):
    update = -np.ones((2, 2))
    clamped = [min(max(s + n * (s < 0), 0), n - 2) for s, n in zip(start, X.shape)]
    want = X.copy()
    want[clamped[0]:clamped[0] + 2, clamped[1]:clamped[1] + 2] = update
    np.testing.assert_array_equal(lax.dynamic_update_slice(X, update, start), want)
    np.testing.assert_array_equal(
        fg.jit(lambda x, u, i: lax.dynamic_update_slice(x, u, (i, start[1])))(
            X, update, np.int64(start[0])), want)
    check_grads(lambda x, u: lax.dynamic_update_slice(x, u, start), [X, update])


def test_in_dim_forms():
    np.testing.assert_array_equal(lax.dynamic_slice_in_dim(X, 1, 2, axis=1), X[:, 1:3])
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(X, 2, keepdims=False), X[2])
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(X, 2, axis=1), X[:, 2:3])
    row = lax.dynamic_update_index_in_dim(X, np.zeros(5), 1, 0)
    np.testing.assert_array_equal(row[1], np.zeros(5))
    np.testing.assert_array_equal(lax.slice_in_dim(X, 1, 4, 2, axis=1), X[:, 1:4:2])
    np.testing.assert_array_equal(lax.index_in_dim(X, -1, keepdims=False), X[-1])
    np.testing.assert_array_equal(lax.slice(X, (1, 0), (3, 5), (1, 2)), X[1:3, 0:5:2])


def test_shape_operations():
    v = np.array([1.0, 2.0])
    np.testing.assert_array_equal(lax.broadcast_in_dim(v, (2, 3), (0,)), np.repeat(v[:, None],
                                                                                   3, 1))
    assert lax.broadcast(v, (4, 3)).shape == (4, 3, 2)
    np.testing.assert_array_equal(lax.reshape(X, (5, 4), (1, 0)), X.T.reshape(5, 4))
    np.testing.assert_array_equal(lax.rev(X, (0, 1)), X[::-1, ::-1])
    np.testing.assert_array_equal(lax.pad(np.arange(5.0), -1.0, [(2, -1, 0)]),
                                  [-1, -1, 0, 1, 2, 3])
    np.testing.assert_array_equal(lax.broadcasted_iota(np.int32, (2, 3), 0),
                                  [[0, 0, 0], [1, 1, 1]])
    with pytest.raises(ShapeError, match="interior must be >= 0"):
        lax.pad(v, 0.0, [(0, 0, -1)])
    with pytest.raises(ShapeError, match="padded size at least 0"):
        lax.pad(v, 0.0, [(0, -3, 0)])
    with pytest.raises(ShapeError, match="1 broadcast_dimensions for an operand of 2"):
        lax.broadcast_in_dim(X, (4, 5), (0,))
    with pytest.raises(ShapeError, match="size 6 does not fit an axis of 5"):
        lax.dynamic_slice(X, (0, 0), (1, 6))


def test_arithmetic_follows_xla():
    np.testing.assert_array_equal(lax.div(np.array([-7, 7, -7]), np.array([2, -2, -2])),
                                  [-3, -3, 3])      # toward zero, not floor
    np.testing.assert_array_equal(lax.clamp(0.0, np.array([-1.0, 2.0]), 1.0), [0.0, 1.0])
    np.testing.assert_allclose(lax.rsqrt(np.array([4.0])), [0.5])
    np.testing.assert_array_equal(
        lax.select_n(np.array([2, 0, 1]), np.zeros(3), np.ones(3), np.full(3, 2.0)), [2, 0, 1])
    np.testing.assert_array_equal(lax.cumsum(np.array([1.0, 2.0, 3.0]), reverse=True),
                                  [6.0, 5.0, 3.0])
    g = fg.grad(lambda x: lax.reduce_sum(x * lax.stop_gradient(x), (0, 1)))(X)
    np.testing.assert_array_equal(g, X)


def test_dot_general_matches_einsum_and_differentiates():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 4, 5))
    out = lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,))))
    np.testing.assert_allclose(out, np.einsum("bij,bjk->bik", a, b))
    check_grads(lambda a, b: lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))), [a, b])


def test_sort_and_top_k_break_ties_as_jax():
    keys, values = np.array([2.0, 1.0, 2.0, 0.0]), np.array([10.0, 20.0, 30.0, 40.0])
    s_keys, s_values = lax.sort((keys, values))
    np.testing.assert_array_equal(s_keys, [0.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(s_values, [40.0, 20.0, 10.0, 30.0])  # stable
    top, index = lax.top_k(np.array([[1.0, 4.0, 2.0, 4.0]]), 3)
    np.testing.assert_array_equal(top, [[4.0, 4.0, 2.0]])
    np.testing.assert_array_equal(index, [[1, 3, 2]])
    g = fg.grad(lambda x: fnp.sum(lax.top_k(x, 2)[0] * np.array([1.0, 10.0])))(
        np.array([1.0, 4.0, 2.0, 4.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 10.0])


# --- found comparing with JAX (values hard-coded from jax 0.10, jax_enable_x64) ----------

def test_pad_interior_then_low_and_high_with_a_traced_value():
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(lax.pad(v, 0.0, [(1, -2, 2)]), [0, 1, 0, 0, 2, 0])
    np.testing.assert_array_equal(lax.pad(v, 0.0, [(-2, 0, 1)]), [2, 0, 3])
    # a crop may eat into the padding on the other side
    np.testing.assert_array_equal(lax.pad(np.array([5.0]), -1.0, [(1, -2, 0)]), np.zeros(0))
    np.testing.assert_array_equal(
        lax.pad(np.arange(4, dtype=np.int32).reshape(2, 2), 7, ((0, 0, 1), (1, 0, 1))),
        [[7, 0, 7, 1], [7, 7, 7, 7], [7, 2, 7, 3]])
    config = ((1, 2, 1), (-1, 1, 2))
    out = fg.jit(lambda x, p: lax.pad(x, p, config))(X[:3, :4], np.float64(0.5))
    np.testing.assert_array_equal(out[1], [.5, .5, 1, .5, .5, 2, .5, .5, 3, .5])
    assert out.shape == (8, 10) and np.all(out[0] == 0.5)
    # d/dp of sum(pad(x, p) ** 2) = 2 p times the number of padded places: 80 less the 9
    # elements of x left after the crop of column 0
    g = fg.grad(lambda x, p: fnp.sum(lax.pad(x, p, config) ** 2), argnums=1)(
        X[:3, :4], 0.5)
    assert g == 71.0
    check_grads(lambda x: lax.pad(x, 0.0, config), [X[:3, :4]])


def test_top_k_sorts_descending_for_every_dtype():
    top, index = lax.top_k(np.array([0, 5, 3], np.uint8), 2)      # not by -x, which wraps
    np.testing.assert_array_equal(top, [5, 3])
    assert index.dtype == np.int32
    np.testing.assert_array_equal(lax.top_k(np.array([-2**31, 5, 0], np.int32), 2)[0], [5, 0])
    top, index = lax.top_k(np.array([np.nan, 1.0, np.nan, 2.0]), 3)  # NaN is the largest
    np.testing.assert_array_equal(top, [np.nan, np.nan, 2.0])
    np.testing.assert_array_equal(index, [0, 2, 3])


def test_lax_reductions_keep_the_dtype_and_have_identities():
    x = np.full((2, 3), 100, np.int8)
    assert lax.reduce_sum(x, (1,)).dtype == np.int8
    np.testing.assert_array_equal(lax.reduce_sum(x, (1,)), [44, 44])       # wraps, as XLA's
    np.testing.assert_array_equal(lax.cumsum(x[0], 0, reverse=True), [44, -56, 100])
    np.testing.assert_array_equal(lax.reduce_prod(x, (0,)), [16, 16, 16])
    assert lax.cumprod(np.array([2, 3], np.uint8)).dtype == np.uint8
    np.testing.assert_array_equal(lax.reduce_max(np.zeros((0, 2)), (0,)), [-np.inf, -np.inf])
    np.testing.assert_array_equal(lax.reduce_min(np.zeros((0, 2), np.uint8), (0,)), [255, 255])
    np.testing.assert_array_equal(lax.reduce_max(np.zeros((3, 0), np.int32), (1,)),
                                  [-2**31] * 3)


def test_dot_general_preferred_element_type():
    a = np.full((2, 2), 100, np.int8)
    out = lax.dot_general(a, a, (((1,), (0,)), ((), ())), preferred_element_type=np.int32)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, np.full((2, 2), 20000))
    i = np.arange(4, dtype=np.int32).reshape(2, 2)
    assert lax.dot(i, i, preferred_element_type=np.float64).dtype == np.float64
    g = fg.grad(lambda x: fnp.sum(lax.dot(x, x, preferred_element_type=np.float64)))(
        np.ones((2, 2), np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.full((2, 2), 4.0))


def test_convert_element_type_saturates_floats_as_xla():
    x = np.array([np.inf, -np.inf, np.nan, 2.7, -2.7, 300.0, 1e30, 2.0**63])
    want = {np.int32: [2**31 - 1, -2**31, 0, 2, -2, 300, 2**31 - 1, 2**31 - 1],
            np.uint8: [255, 0, 0, 2, 0, 255, 255, 255],
            np.int64: [2**63 - 1, -2**63, 0, 2, -2, 300, 2**63 - 1, 2**63 - 1],
            np.uint64: [2**64 - 1, 0, 0, 2, 0, 300, 2**64 - 1, 2**63]}
    compiled = fg.jit(lambda a: [lax.convert_element_type(a, d) for d in want],
                      compile="sync")(x)  # (one compile: undefined in Numba unless saturated)
    for (dtype, expected), got_compiled in zip(want.items(), compiled):
        expected = np.array(expected, dtype)
        for got in (lax.convert_element_type(x, dtype), got_compiled,
                    lax.convert_element_type(x.astype(np.float32), dtype)):
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, expected)
