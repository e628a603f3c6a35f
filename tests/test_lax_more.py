"""funcgrad.lax's breadth beyond control flow (funcgrad/lax/_more.py): JAX's elementwise
aliases, bit operations, special functions, cumulative reductions, associative_scan and
shape utilities; values against NumPy, SciPy or closed forms (the expected values of the
bit operations and reduce_precision were checked against JAX 0.10.2), derivatives against
finite differences, one jit and one vmap check per group, and the errors of bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
U = np.array([0.2, 0.45, 0.7])  # inside (0, 1): every inverse function's domain


# ---------------------------------------------------------------------------------------
# Elementwise aliases


UNARY = {  # lax name: (reference, argument)
    "acos": (np.arccos, U), "asin": (np.arcsin, U), "atan": (np.arctan, U),
    "acosh": (np.arccosh, 1 + U), "asinh": (np.arcsinh, U), "atanh": (np.arctanh, U),
    "cosh": (np.cosh, U), "sinh": (np.sinh, U), "tan": (np.tan, U), "cbrt": (np.cbrt, U),
    "reciprocal": (np.reciprocal, 1 + U), "erfc": (sp.erfc, U), "exp2": (np.exp2, U),
    "bessel_i0e": (sp.i0e, U), "bessel_i1e": (sp.i1e, U), "real": (np.real, U),
    "conj": (np.conj, U),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_aliases_match_numpy_and_differentiate(name):
    reference, x = UNARY[name]
    np.testing.assert_allclose(getattr(lax, name)(x), reference(x), rtol=1e-13)
    check_grads(getattr(lax, name), [x], order=1)


def test_binary_and_special_functions():
    a, x = np.array([0.5, 1.5, 3.0]), np.array([0.3, 1.0, 2.5])
    np.testing.assert_allclose(lax.atan2(U, x), np.arctan2(U, x))
    np.testing.assert_allclose(lax.igamma(a, x), sp.gammainc(a, x), rtol=1e-12)
    np.testing.assert_allclose(lax.igammac(a, x), sp.gammaincc(a, x), rtol=1e-12)
    np.testing.assert_allclose(lax.betainc(a, x, U), sp.betainc(a, x, U), rtol=1e-12)
    np.testing.assert_allclose(lax.polygamma(np.array([0.0, 1.0, 2.0]), x),
                               sp.polygamma([0, 1, 2], x), rtol=1e-12)
    np.testing.assert_allclose(lax.zeta(1 + a + 1, x), sp.zeta(a + 2, x), rtol=1e-12)
    np.testing.assert_array_equal(lax.imag(x), np.zeros(3))
    check_grads(lax.atan2, [U, x], order=1)
    check_grads(lambda x: lax.igamma(2.0, x), [x], order=1)


def test_rounding():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, 1.2, -1.7])
    np.testing.assert_array_equal(lax.round(x), [1, 2, 3, -1, -3, 0, 1, -2])
    np.testing.assert_array_equal(lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN), np.rint(x))
    np.testing.assert_array_equal(lax.round(x, 1), np.rint(x))
    np.testing.assert_array_equal(lax.floor(x), np.floor(x))
    np.testing.assert_array_equal(lax.ceil(x), np.ceil(x))
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(lax.round(x)))(x), np.zeros(8))
    with pytest.raises(FuncgradValueError, match="rounding_method.*test_lax_more.py"):
        lax.round(x, "up")


def test_rem_is_c_fmod_exactly():
    x = np.array([-7.0, 7.0, -7.5, 7.5, -1e-20, -0.0, 5.0])
    y = np.array([2.0, -2.0, 2.0, 2.0, 1.0, 3.0, 5.0])
    got = lax.rem(x, y)
    np.testing.assert_array_equal(got, np.fmod(x, y))
    np.testing.assert_array_equal(np.signbit(got), np.signbit(np.fmod(x, y)))  # -0.0 kept
    np.testing.assert_array_equal(lax.rem(np.array([-7, 7, -6]), np.array([2, -2, 4])),
                                  np.fmod([-7, 7, -6], [2, -2, 4]))
    xs, ys = np.array([-7.3, 7.3, 2.9]), np.array([2.0, -2.0, 1.3])
    dx, dy = fg.grad(lambda a, b: fnp.sum(lax.rem(a, b)), argnums=(0, 1))(xs, ys)
    np.testing.assert_allclose(dx, np.ones(3))
    np.testing.assert_allclose(dy, -np.trunc(xs / ys))


def test_comparisons_and_finiteness():
    x, y = np.array([1.0, 2.0, np.nan, np.inf]), np.array([2.0, 2.0, 1.0, 1.0])
    for name, ref in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                      ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
        np.testing.assert_array_equal(getattr(lax, name)(x, y), ref(x, y))
    np.testing.assert_array_equal(lax.is_finite(x), np.isfinite(x))


def test_nextafter():
    x = np.array([1.0, 1.0, 0.0, -1.0])
    y = np.array([2.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(lax.nextafter(x, y), np.nextafter(x, y))
    x32 = x.astype(np.float32)
    got = fg.jit(lax.nextafter)(x32, y.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.nextafter(x32, y.astype(np.float32)))
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(lax.nextafter(x, 2.0)))(x),
                                  np.zeros(4))


def test_elementwise_group_under_jit_and_vmap():
    def many(x, y):
        return (lax.acos(x), lax.atanh(x), lax.tan(x), lax.cbrt(x), lax.round(x * 3),
                lax.rem(x * 7, y), lax.erfc(x), lax.exp2(x), lax.ge(x, y),
                lax.nextafter(x, y), lax.bessel_i1e(x), lax.igamma(y, x))
    y = np.array([0.5, 0.2, 1.0])
    eager = many(U, y)
    for got in (fg.jit(many)(U, y), fg.vmap(many)(U, y)):
        for a, b in zip(got, eager):
            np.testing.assert_allclose(a, b, rtol=1e-13)


# ---------------------------------------------------------------------------------------
# Bits: the expected values are JAX's


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint8, np.uint32, np.int64, np.uint64])
def test_shifts_and_bit_counts_match_jaxs_rules(dtype):
    bits = np.dtype(dtype).itemsize * 8
    info = np.iinfo(dtype)
    x = RNG.integers(info.min, info.max, 40, dtype=dtype, endpoint=True)
    x[:3] = [0, info.max, info.min]
    y = RNG.integers(-2, bits + 3, 40).astype(dtype)
    unsigned = np.dtype(f"u{np.dtype(dtype).itemsize}")
    u, s = x.astype(unsigned), x.astype(f"i{np.dtype(dtype).itemsize}")
    inside = (y >= 0) & (y < bits)  # (for unsigned y, "negative" ones are huge)
    k = np.where(inside, y, 0).astype(unsigned)
    want_left = np.where(inside, np.left_shift(u, k), 0).astype(dtype)
    want_logical = np.where(inside, np.right_shift(u, k), 0).astype(dtype)
    want_arith = np.right_shift(s, np.where(inside, y, bits - 1).astype(s.dtype)).astype(dtype)
    want_pop = np.array([bin(int(v)).count("1") for v in u], dtype)
    want_clz = np.array([bits - int(v).bit_length() for v in u], dtype)
    ops = fg.jit(lambda x, y: (lax.shift_left(x, y), lax.shift_right_logical(x, y),
                               lax.shift_right_arithmetic(x, y), lax.population_count(x),
                               lax.clz(x)))
    eager = (lax.shift_left(x, y), lax.shift_right_logical(x, y),
             lax.shift_right_arithmetic(x, y), lax.population_count(x), lax.clz(x))
    compiled = dtype in (np.int8, np.uint64)  # (a compile per dtype: two of them)
    for got in (eager, ops(x, y)) if compiled else (eager,):
        for a, b in zip(got, (want_left, want_logical, want_arith, want_pop, want_clz)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_bitwise_operations():
    x, y = np.array([12, -3], np.int16), np.array([10, 5], np.int16)
    np.testing.assert_array_equal(lax.bitwise_and(x, y), x & y)
    np.testing.assert_array_equal(lax.bitwise_or(x, y), x | y)
    np.testing.assert_array_equal(lax.bitwise_xor(x, y), x ^ y)
    np.testing.assert_array_equal(lax.bitwise_not(x), ~x)
    np.testing.assert_array_equal(fg.vmap(lax.population_count)(x), [2, 15])
    with pytest.raises(FuncgradTypeError, match="shift_left needs integer.*test_lax_more.py"):
        lax.shift_left(np.array([1.0]), 1)
    with pytest.raises(FuncgradTypeError, match="population_count needs integer"):
        lax.population_count(np.array([1.0]))


# ---------------------------------------------------------------------------------------
# Reductions and cumulative reductions


def test_argmax_argmin():
    x = np.array([[1.0, 5.0, 5.0, np.nan], [3.0, -1.0, -1.0, 0.0]])
    for name, ref in [("argmax", np.argmax), ("argmin", np.argmin)]:
        for axis in (0, 1, -1):
            got = getattr(lax, name)(x, axis, np.int32)
            assert got.dtype == np.int32
            np.testing.assert_array_equal(got, ref(x, axis=axis))
    np.testing.assert_array_equal(fg.vmap(lambda r: lax.argmax(r, 0, np.int64))(x[1:]), [0])
    with pytest.raises(FuncgradTypeError, match="index_dtype must be an integer"):
        lax.argmax(x, 0, np.float32)
    with pytest.raises(ShapeError, match="axis 2 is not an axis.*test_lax_more.py"):
        lax.argmin(x, 2, np.int32)


def test_reduce_and_or_xor():
    b = RNG.random((3, 5)) < 0.5
    i = RNG.integers(0, 256, (3, 5))
    np.testing.assert_array_equal(lax.reduce_and(b, (1,)), b.all(1))
    np.testing.assert_array_equal(lax.reduce_or(b, (0, 1)), b.any())
    np.testing.assert_array_equal(lax.reduce_xor(b, (1,)), b.sum(1) % 2 == 1)
    np.testing.assert_array_equal(lax.reduce_and(i, (1,)), np.bitwise_and.reduce(i, 1))
    np.testing.assert_array_equal(lax.reduce_or(i, (0,)), np.bitwise_or.reduce(i, 0))
    np.testing.assert_array_equal(fg.jit(lambda i: lax.reduce_xor(i, (0, 1)))(i),
                                  np.bitwise_xor.reduce(i.ravel()))
    with pytest.raises(FuncgradTypeError, match="reduce_or needs a boolean or integer"):
        lax.reduce_or(np.ones(2), (0,))


def _sequential(op, x, axis, reverse):
    x = np.moveaxis(x, axis, 0)
    order = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    out, acc = np.empty_like(x), None
    for k in order:
        acc = x[k] if acc is None else op(acc, x[k])
        out[k] = acc
    return np.moveaxis(out, 0, axis)


@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative_reductions(reverse):
    x = RNG.standard_normal((7, 4))
    for name, op in [("cummax", np.maximum), ("cummin", np.minimum),
                     ("cumlogsumexp", np.logaddexp)]:
        f = getattr(lax, name)
        for axis in (0, 1):
            np.testing.assert_allclose(f(x, axis=axis, reverse=reverse),
                                       _sequential(op, x, axis, reverse), rtol=1e-13)
        check_grads(lambda x, f=f: f(x, axis=1, reverse=reverse), [x], order=1)
    big = np.array([0.0, 1000.0, 1000.0])
    np.testing.assert_allclose(lax.cumlogsumexp(big), [0.0, 1000.0, 1000.0 + np.log(2.0)])


def test_cummax_gradient_at_ties_is_jaxs():
    """JAX's cummax is the associative scan of max, whose gradient splits ties in halves; the
    expected gradient is JAX 0.10.2's."""
    x = np.array([1.0, 1.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(lax.cummax(x)))(x),
                               [2.25, 1.25, 0.0, 0.5, 1.0])


def test_sort_key_val():
    keys = np.array([[3.0, 1.0, np.nan, 1.0], [0.0, -2.0, 5.0, 4.0]])
    values = np.arange(8.0).reshape(2, 4)
    order = np.argsort(keys, axis=-1, stable=True)
    k, v = lax.sort_key_val(keys, values)
    np.testing.assert_array_equal(k, np.take_along_axis(keys, order, -1))
    np.testing.assert_array_equal(v, np.take_along_axis(values, order, -1))
    k0, v0 = lax.sort_key_val(keys, values, dimension=0)
    np.testing.assert_array_equal(v0, np.take_along_axis(values, np.argsort(keys, 0), 0))
    check_grads(lambda v: lax.sort_key_val(keys, v)[1], [values], order=1)
    with pytest.raises(ShapeError, match="keys and values of one shape"):
        lax.sort_key_val(keys, values[0])


# ---------------------------------------------------------------------------------------
# associative_scan


def _matmul2(a, b):  # products of stacks of 2 x 2 matrices: associative, not commutative
    return fnp.einsum("...ij,...jk->...ik", a, b)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 11])
def test_associative_scan_matches_a_sequential_scan(n):
    x = RNG.standard_normal((n, 3))
    for fn, op in [(fnp.add, np.add), (fnp.multiply, np.multiply), (fnp.maximum, np.maximum)]:
        for reverse in (False, True):
            np.testing.assert_allclose(lax.associative_scan(fn, x, reverse=reverse),
                                       _sequential(op, x, 0, reverse), rtol=1e-12)
    mats = RNG.standard_normal((n, 2, 2))
    want = _sequential(lambda a, b: a @ b, mats, 0, False)
    np.testing.assert_allclose(lax.associative_scan(_matmul2, mats), want, rtol=1e-12)
    # reverse: fn's first argument is the later element, as in JAX
    want_rev = _sequential(lambda a, b: a @ b, mats, 0, True)
    np.testing.assert_allclose(lax.associative_scan(_matmul2, mats, reverse=True), want_rev,
                               rtol=1e-12)


def test_associative_scan_pytrees_axis_grad_jit_vmap():
    def affine(a, b):  # x -> b(a(x)) for affine maps x -> m x + c, as a dict pytree
        return {"m": a["m"] * b["m"], "c": a["c"] * b["m"] + b["c"]}

    m, c = RNG.standard_normal((3, 6)), RNG.standard_normal((3, 6))
    got = lax.associative_scan(affine, {"m": m, "c": c}, axis=1)
    state, want = np.zeros(3), []
    for k in range(6):
        state = m[:, k] * state + c[:, k]
        want.append(state)
    np.testing.assert_allclose(got["c"], np.stack(want, 1), rtol=1e-12)
    np.testing.assert_allclose(got["m"], np.cumprod(m, 1), rtol=1e-12)

    def loss(m, c):
        return fnp.sum(lax.associative_scan(affine, {"m": m, "c": c}, axis=1)["c"] ** 2)
    check_grads(loss, [m, c], order=1)
    np.testing.assert_allclose(fg.jit(loss)(m, c), loss(m, c), rtol=1e-13)
    per_row = fg.vmap(lambda m, c: lax.associative_scan(affine, {"m": m, "c": c})["c"])(m, c)
    np.testing.assert_allclose(per_row, got["c"], rtol=1e-12)


def test_associative_scan_errors():
    with pytest.raises(FuncgradTypeError, match="fn must be callable"):
        lax.associative_scan(None, np.ones(3))
    with pytest.raises(ShapeError, match="one length along axis 0.*test_lax_more.py"):
        lax.associative_scan(lambda a, b: (a[0] + b[0], a[1] + b[1]), (np.ones(3), np.ones(4)))
    with pytest.raises(FuncgradTypeError, match="must return the structure of elems"):
        lax.associative_scan(lambda a, b: (a, b), np.ones(3))
    with pytest.raises(ShapeError, match="an axis to scan along"):
        lax.associative_scan(fnp.add, np.float64(1.0))


# ---------------------------------------------------------------------------------------
# Shapes and arrays


def test_shape_utilities():
    x = np.arange(24.0).reshape(2, 3, 4)
    parts = lax.split(x, (1, 3), axis=2)
    np.testing.assert_array_equal(parts[0], x[:, :, :1])
    np.testing.assert_array_equal(parts[1], x[:, :, 1:])
    np.testing.assert_array_equal(lax.stack([x, x], axis=1), np.stack([x, x], 1))
    rows = lax.unstack(x, axis=1)
    assert len(rows) == 3 and all(np.array_equal(r, x[:, i]) for i, r in enumerate(rows))
    np.testing.assert_array_equal(lax.tile(x, (1, 2, 1)), np.tile(x, (1, 2, 1)))
    assert lax.broadcast_to_rank(x, 5).shape == (1, 1, 2, 3, 4)
    assert lax.broadcast_to_rank(x, 3).shape == (2, 3, 4)
    assert lax.collapse(x, 0, 2).shape == (6, 4)
    assert lax.collapse(x, -2).shape == (2, 12)
    i, k = np.array([1, 0, -1]), np.array([3, 5, 0])
    np.testing.assert_array_equal(lax.index_take(x, (i, k), (0, 2)),
                                  np.moveaxis(x, (0, 2), (0, 1))[i % 2, k % 4])
    a, b = RNG.standard_normal((5, 2, 3)), RNG.standard_normal((5, 3, 4))
    np.testing.assert_allclose(lax.batch_matmul(a, b), a @ b)
    assert lax.empty((2, 3), np.float32).shape == (2, 3)
    assert lax.empty((2,), np.int32).dtype == np.int32
    assert lax.dtype(1) == np.int64 and lax.dtype(True) == np.bool_ and lax.dtype(float) == \
        np.float64
    assert lax.dtype(np.float32) == np.float32 and lax.dtype("int8") == np.int8


def test_shape_utilities_differentiate_and_compile():
    x = RNG.standard_normal((2, 3, 4))
    b = RNG.standard_normal((2, 4, 2))

    def f(x, b):
        top, rest = lax.split(x, (1, 2), axis=1)
        y = lax.batch_matmul(lax.tile(top, (1, 2, 1)) + rest, b)
        y = lax.collapse(lax.stack(lax.unstack(y, axis=0), axis=1), 0, 2)
        return lax.index_take(y, (np.array([0, 3]),), (0,)) + lax.broadcast_to_rank(b[0, 0], 2)
    check_grads(f, [x, b], order=1)
    np.testing.assert_allclose(fg.jit(f)(x, b), f(x, b), rtol=1e-13)
    np.testing.assert_allclose(fg.vmap(f, in_axes=(0, None))(np.stack([x, x]), b)[1], f(x, b))


def test_shape_utility_errors():
    x = np.ones((2, 3))
    with pytest.raises(ShapeError, match="do not add up to the length 3.*test_lax_more.py"):
        lax.split(x, (1, 1), axis=1)
    with pytest.raises(ShapeError, match="one non-negative rep per axis"):
        lax.tile(x, (2,))
    with pytest.raises(ShapeError, match="more than 1 axes"):
        lax.broadcast_to_rank(x, 1)
    with pytest.raises(ShapeError, match="no axes 2:1"):
        lax.collapse(x, 2, 1)
    with pytest.raises(ShapeError, match="one index array per axis"):
        lax.index_take(x, (np.array([0]),), (0, 1))
    with pytest.raises(ShapeError, match="batch_matmul needs two arrays of one number"):
        lax.batch_matmul(np.ones((2, 2, 2)), np.ones((2, 2)))
    with pytest.raises(FuncgradValueError, match="None has no dtype"):
        lax.dtype(None)


# ---------------------------------------------------------------------------------------
# reduce_precision: expected values from JAX 0.10.2 (XLA's CPU backend)


def test_reduce_precision_emulates_narrow_floats():
    x = np.array([1e-5, 6e-8, 65519.0, 65520.0, 1e6, 1 / 3, -2.5, 0.5 + 2.0 ** -11,
                  0.5 + 3 * 2.0 ** -12, np.inf, np.nan, -0.0, 6.103515625e-05 * (1 - 1e-9)])
    half = np.array([0.0, 0.0, 65504.0, np.inf, np.inf, 0.333251953125, -2.5, 0.50048828125,
                     0.5009765625, np.inf, np.nan, -0.0, 6.103515625e-05])
    np.testing.assert_array_equal(lax.reduce_precision(x, 5, 10), half)
    normal = np.abs(x) >= 2.0 ** -14  # float16 itself keeps the denormals XLA flushes
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(lax.reduce_precision(x, 5, 10)[normal],
                                      x[normal].astype(np.float16).astype(np.float64))
    r = RNG.standard_normal(2000) * 10.0 ** RNG.integers(-8, 8, 2000)
    np.testing.assert_array_equal(lax.reduce_precision(r, 8, 23),
                                  r.astype(np.float32).astype(np.float64))
    r32 = r.astype(np.float32)
    got = fg.jit(lambda r: lax.reduce_precision(r, 5, 10))(r32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, lax.reduce_precision(r32, 5, 10))
    # the tangent is rounded alike, as JAX's
    _, t = fg.jvp(lambda x: lax.reduce_precision(x, 5, 10), (1.0,), (1.0 + 2.0 ** -13,))
    assert t == 1.0
    assert fg.grad(lambda x: lax.reduce_precision(x, 8, 7))(3.0) == 1.0
    np.testing.assert_array_equal(fg.vmap(lambda r: lax.reduce_precision(r, 8, 7))(r[:9]),
                                  lax.reduce_precision(r[:9], 8, 7))
    with pytest.raises(FuncgradValueError, match="mantissa_bits must be a non-negative int"):
        lax.reduce_precision(x, 5, -1)
    with pytest.raises(FuncgradTypeError, match="needs a float operand"):
        lax.reduce_precision(np.array([1]), 5, 10)


# ---------------------------------------------------------------------------------------
# reduce_window and convolutions (funcgrad/lax/_windows.py); compared with direct loops


def _windows_reference(x, init, op, window, strides, pads, base, wdil):
    """reduce_window by its definition: each window's elements of x (not its padding, nor
    the holes of base dilation: NaN marks them) folded by op, in order, from init."""
    shape = [(n - 1) * b + 1 for n, b in zip(x.shape, base)]
    spread = np.full(shape, np.nan)
    spread[tuple(slice(None, None, b) for b in base)] = x
    for axis, (lo, hi) in enumerate(pads):
        spread = np.moveaxis(spread, axis, 0)
        spread = spread[max(-lo, 0):len(spread) - max(-hi, 0)]
        spread = np.concatenate([np.full((max(lo, 0),) + spread.shape[1:], np.nan), spread,
                                 np.full((max(hi, 0),) + spread.shape[1:], np.nan)])
        spread = np.moveaxis(spread, 0, axis)
    reach = [(k - 1) * d + 1 for k, d in zip(window, wdil)]
    sizes = [max((n - r) // s + 1, 0) for n, r, s in zip(spread.shape, reach, strides)]
    out = np.empty(sizes)
    for i in np.ndindex(*sizes):
        acc = init
        for k in np.ndindex(*window):
            value = spread[tuple(a * s + b * d for a, s, b, d in zip(i, strides, k, wdil))]
            acc = acc if np.isnan(value) else op(acc, value)
        out[i] = acc
    return out


@pytest.mark.parametrize("kind", ["add", "max", "min", "mul", "other"])
def test_reduce_window_matches_its_definition(kind):
    ops = {"add": (lax.add, np.add, 0.0), "max": (lax.max, np.maximum, -np.inf),
           "min": (lax.min, np.minimum, np.inf), "mul": (lax.mul, np.multiply, 1.0),
           "other": (lambda a, b: a + 2.0 * b, lambda a, b: a + 2.0 * b, 0.5)}
    fn, ref, init = ops[kind]
    x = RNG.integers(-2, 3, (5, 4)).astype(float)
    cases = [((2, 2), (1, 1), "VALID", None, None), ((3, 2), (2, 1), "SAME", None, None),
             ((2, 3), (1, 2), [(1, 0), (-1, 2)], (2, 1), (1, 2)),
             ((3, 1), (2, 1), "SAME_LOWER", None, (2, 1))]
    for window, strides, padding, base, wdil in cases:
        got = lax.reduce_window(x, init, fn, window, strides, padding, base, wdil)
        if isinstance(padding, str):
            reach = [(k - 1) * d + 1 for k, d in zip(window, wdil or (1, 1))]
            pads = lax.padtype_to_pads(x.shape, reach, strides, padding)
        else:
            pads = padding
        want = _windows_reference(x, init, ref, window, strides, pads, base or (1, 1),
                                  wdil or (1, 1))
        np.testing.assert_allclose(got, want, err_msg=str((window, strides, padding)))
    if kind != "max":  # (max's gradient at ties: the next test)
        check_grads(lambda x: lax.reduce_window(x, init, fn, (2, 2), (1, 2), "SAME"),
                    [RNG.standard_normal((5, 4))], order=1)
    if kind != "other":  # an init other than the identity takes part once
        np.testing.assert_allclose(lax.reduce_window(x, 0.5, fn, (2, 2), (2, 2), "SAME"),
                                   _windows_reference(x, 0.5, ref, (2, 2), (2, 2),
                                                      [(0, 1), (0, 0)], (1, 1), (1, 1)))


def test_max_pooling_gradient_goes_to_the_first_maximum():
    """As JAX's (select_and_scatter_add): each window's cotangent goes to its first largest
    element in row-major order; the expected gradients are JAX 0.10.2's."""
    x = np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0], [3.0, 1.0, 3.0]])
    def pool(x):
        return fnp.sum(lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), "VALID"))

    def low(x):
        return fnp.sum(lax.reduce_window(x, np.inf, lax.min, (2, 2), (1, 1), "VALID"))
    np.testing.assert_array_equal(fg.grad(pool)(x), [[0, 2, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(fg.grad(low)(-x), [[0, 2, 0], [1, 0, 0], [0, 0, 1]])


def test_reduce_window_on_pytrees_with_a_general_computation():
    def argmax_pair(a, b):  # (value, index) of the larger value: a variadic reduction
        take_b = b[0] > a[0]
        return fnp.where(take_b, b[0], a[0]), fnp.where(take_b, b[1], a[1])
    x = np.array([1.0, 4.0, 2.0, 5.0, 3.0])
    values, where = lax.reduce_window((x, np.arange(5.0)), (-np.inf, -1.0), argmax_pair, (3,),
                                      (1,), "VALID")
    np.testing.assert_array_equal(values, [4.0, 5.0, 5.0])
    np.testing.assert_array_equal(where, [1.0, 3.0, 3.0])


def _conv_reference(x, w, strides, pads, ldil, rdil, groups):
    """N C (spatial) x O I (spatial) by definition: dilate the input with zeros, pad (crop),
    then sum input * kernel over each window, per group of features."""
    spatial = x.ndim - 2
    shape = [(n - 1) * d + 1 for n, d in zip(x.shape[2:], ldil)]
    xp = np.zeros(x.shape[:2] + tuple(shape))
    xp[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in ldil)] = x
    for axis, (lo, hi) in enumerate(pads, start=2):
        xp = np.moveaxis(xp, axis, 0)
        xp = xp[max(-lo, 0):len(xp) - max(-hi, 0)]
        widths = [(max(lo, 0), max(hi, 0))] + [(0, 0)] * (xp.ndim - 1)
        xp = np.moveaxis(np.pad(xp, widths), 0, axis)
    kernel = w.shape[2:]
    sizes = [(n - (k - 1) * d - 1) // s + 1 for n, k, d, s in
             zip(xp.shape[2:], kernel, rdil, strides)]
    o, i = w.shape[:2]
    out = np.zeros((x.shape[0], o) + tuple(sizes))
    for oc in range(o):
        g = oc // (o // groups)
        for pos in np.ndindex(*sizes):
            for k in np.ndindex(*kernel):
                at = tuple(p * s + kk * d for p, s, kk, d in zip(pos, strides, k, rdil))
                patch = xp[(slice(None), slice(g * i, (g + 1) * i)) + at]  # (N, I)
                out[(slice(None), oc) + pos] += patch @ w[(oc, slice(None)) + k]
    assert spatial == len(sizes)
    return out


@pytest.mark.parametrize("layout", [None, ("NCHW", "OIHW", "NCHW"), ("NHWC", "HWIO", "NHWC")])
def test_conv_general_dilated_matches_its_definition(layout):
    x = RNG.standard_normal((2, 4, 6, 5))   # N C H W
    w = RNG.standard_normal((6, 2, 3, 2))   # O I H W, two groups of two input features
    to_x = (0, 2, 3, 1) if layout and layout[0] == "NHWC" else (0, 1, 2, 3)
    to_w = (2, 3, 1, 0) if layout and layout[1] == "HWIO" else (0, 1, 2, 3)
    for strides, padding, ldil, rdil in [((1, 1), "VALID", None, None),
                                        ((2, 1), "SAME", None, (2, 1)),
                                        ((1, 2), [(1, 2), (-1, 1)], (2, 1), (1, 2))]:
        got = lax.conv_general_dilated(np.transpose(x, to_x), np.transpose(w, to_w), strides,
                                       padding, ldil, rdil, layout, feature_group_count=2)
        if isinstance(padding, str):
            reach = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], rdil or (1, 1))]
            padding = lax.padtype_to_pads(x.shape[2:], reach, strides, padding)
        want = _conv_reference(x, w, strides, padding, ldil or (1, 1), rdil or (1, 1), 2)
        np.testing.assert_allclose(got, np.transpose(want, to_x), rtol=1e-12, atol=1e-12)


def test_conv_1d_and_conv_transpose():
    x = RNG.standard_normal((2, 3, 7))      # N C W
    w = RNG.standard_normal((4, 3, 3))      # O I W
    want = np.stack([[sum(np.correlate(x[b, c], w[o, c], "valid") for c in range(3))
                      for o in range(4)] for b in range(2)])
    np.testing.assert_allclose(lax.conv(x, w, (1,), "VALID"), want, rtol=1e-12)
    np.testing.assert_allclose(lax.conv_with_general_padding(x, w, (1,), [(0, 0)], None, None),
                               want, rtol=1e-12)
    # conv_transpose with transpose_kernel is the adjoint of the forward convolution
    xs = RNG.standard_normal((2, 8, 3))     # N W C
    k = RNG.standard_normal((3, 3, 5))      # W I O of the forward convolution

    def forward(v):
        return lax.conv_general_dilated(v, k, (2,), "SAME",
                                        dimension_numbers=("NWC", "WIO", "NWC"))
    y = RNG.standard_normal(forward(xs).shape)
    back = lax.conv_transpose(y, k, (2,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"),
                              transpose_kernel=True)
    assert back.shape == xs.shape
    np.testing.assert_allclose(np.sum(forward(xs) * y), np.sum(xs * back), rtol=1e-12)
    np.testing.assert_allclose(back, fg.vjp(forward, xs)[1](y)[0], rtol=1e-12)
    assert lax.conv_transpose(np.ones((1, 3, 1)), np.ones((2, 1, 1)), (2,), "VALID").shape == \
        (1, 6, 1)


def test_a_small_convnet_differentiates_compiles_and_batches():
    x = RNG.standard_normal((2, 5, 5, 2))
    w = RNG.standard_normal((3, 3, 2, 3))

    def net(x, w):
        y = lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
        y = lax.reduce_window(y, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        y = lax.reduce_window(y, 0.0, lax.add, (1, 2, 2, 1), (1, 1, 1, 1), "SAME") / 4
        return fnp.sum(fnp.tanh(y) ** 2)
    check_grads(net, [x, w], order=1)
    grads = fg.jit(fg.grad(net, argnums=(0, 1)))(x, w)
    for a, b in zip(grads, fg.grad(net, argnums=(0, 1))(x, w)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    per_image = fg.vmap(lambda im: net(im[None], w))(x)
    np.testing.assert_allclose(per_image.sum(), net(x, w), rtol=1e-12)


def test_window_and_convolution_errors():
    x = np.ones((4, 4))
    with pytest.raises(ShapeError, match="window_dimensions must hold 2 integers.*test_lax_more"):
        lax.reduce_window(x, 0.0, lax.add, (2,), (1, 1))
    with pytest.raises(FuncgradValueError, match="padding must be 'VALID', 'SAME'"):
        lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), "FULL")
    with pytest.raises(ShapeError, match="padding must be .* 2 \\(low, high\\) pairs"):
        lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), [(1, 1)])
    with pytest.raises(FuncgradTypeError, match="computation must be callable"):
        lax.reduce_window(x, 0.0, "add", (2, 2))
    with pytest.raises(FuncgradTypeError, match="one structure"):
        lax.reduce_window((x, x), 0.0, lax.add, (2, 2))
    with pytest.raises(ShapeError, match="do not make feature_group_count=1 groups"):
        lax.conv(np.ones((1, 3, 5, 5)), np.ones((2, 2, 2, 2)), (1, 1), "VALID")
    with pytest.raises(FuncgradValueError, match="'N' and 'C' once each"):
        lax.conv_general_dilated(np.ones((1, 3, 5)), np.ones((2, 3, 2)), (1,), "VALID",
                                 dimension_numbers=("NNW", "OIW", "NCW"))
    with pytest.raises(FuncgradValueError, match="string padding with lhs_dilation"):
        lax.conv_general_dilated(np.ones((1, 3, 5)), np.ones((2, 3, 2)), (1,), "SAME", (2,))
    with pytest.raises(FuncgradValueError, match="batch_group_count"):
        lax.conv_general_dilated(np.ones((2, 3, 5)), np.ones((2, 3, 2)), (1,), "SAME",
                                 batch_group_count=2)


# ---------------------------------------------------------------------------------------
# custom_root and custom_linear_solve (funcgrad/lax/_implicit.py)


def _newton(f, x):  # iterations that are never differentiated
    return lax.while_loop(lambda x: fnp.abs(f(x)) > 1e-13, lambda x: x - f(x) / fg.grad(f)(x),
                          x)


def _sqrt_of(a):
    return lax.custom_root(lambda x: x * x - a, 1.0, _newton, lambda g, y: y / g(1.0))


def test_custom_root_differentiates_newtons_root_implicitly():
    a = np.array([0.3, 2.0, 9.0])
    for ai in a:
        np.testing.assert_allclose(_sqrt_of(ai), np.sqrt(ai), rtol=1e-14)
        np.testing.assert_allclose(fg.grad(_sqrt_of)(ai), 1 / (2 * np.sqrt(ai)), rtol=1e-12)
        np.testing.assert_allclose(fg.jvp(_sqrt_of, (ai,), (1.0,))[1], 1 / (2 * np.sqrt(ai)),
                                   rtol=1e-12)
        np.testing.assert_allclose(fg.grad(fg.grad(_sqrt_of))(ai), -0.25 * ai ** -1.5,
                                   rtol=1e-10)
    np.testing.assert_allclose(fg.jit(fg.grad(_sqrt_of))(2.0), 1 / (2 * np.sqrt(2.0)))
    np.testing.assert_allclose(fg.vmap(fg.grad(_sqrt_of))(a), 1 / (2 * np.sqrt(a)), rtol=1e-12)


def test_custom_root_of_a_vector_system_with_aux():
    m, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, 1.0])

    def solve(f, x):  # Newton's method, and its number of steps as aux
        step = lambda i, x: x - fnp.linalg.solve(fg.jacfwd(f)(x), f(x))  # noqa: E731
        return lax.fori_loop(0, 40, step, x), fnp.asarray(40)

    def root_and_steps(m, b):
        return lax.custom_root(lambda x: m @ x - b + 0.1 * x ** 3, fnp.zeros(2), solve,
                               lambda g, y: fnp.linalg.solve(fg.jacfwd(g)(y), y),
                               has_aux=True)
    x, steps = root_and_steps(m, b)
    assert int(steps) == 40
    np.testing.assert_allclose(m @ x - b + 0.1 * x ** 3, 0.0, atol=1e-14)
    check_grads(lambda m, b: root_and_steps(m, b)[0], [m, b], order=1, modes=("fwd", "rev"))


def test_custom_linear_solve_gradient_matches_linalg_solves():
    a = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal(3)

    def via_custom(a, b):
        x = lax.custom_linear_solve(lambda x: a @ x, b, lambda mv, r: fnp.linalg.solve(a, r),
                                    lambda vm, r: fnp.linalg.solve(a.T, r))
        return fnp.sum(x ** 2)

    def direct(a, b):
        return fnp.sum(fnp.linalg.solve(a, b) ** 2)
    np.testing.assert_allclose(via_custom(a, b), direct(a, b))
    for got, want in zip(fg.grad(via_custom, (0, 1))(a, b), fg.grad(direct, (0, 1))(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    t = RNG.standard_normal((3, 3))
    np.testing.assert_allclose(fg.jvp(lambda a: via_custom(a, b), (a,), (t,))[1],
                               fg.jvp(lambda a: direct(a, b), (a,), (t,))[1], rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.grad(via_custom))(a, b), fg.grad(direct)(a, b),
                               rtol=1e-12)
    np.testing.assert_allclose(fg.vmap(fg.grad(via_custom, 1), (None, 0))(a, np.stack([b, -b])),
                               fg.vmap(fg.grad(direct, 1), (None, 0))(a, np.stack([b, -b])),
                               rtol=1e-12)


def _conjugate_gradient(matvec, b):  # in a while_loop: its iterations are not differentiated
    def body(state):
        x, r, p, k = state
        ap = matvec(p)
        alpha = fnp.dot(r, r) / fnp.dot(p, ap)
        x, r_new = x + alpha * p, r - alpha * ap
        return x, r_new, r_new + fnp.dot(r_new, r_new) / fnp.dot(r, r) * p, k + 1
    x, *_ = lax.while_loop(lambda s: (fnp.linalg.norm(s[1]) > 1e-13) & (s[3] < 50), body,
                           (fnp.zeros_like(b), b, b, 0))
    return x


def test_custom_linear_solve_with_conjugate_gradients_and_pytrees():
    q = RNG.standard_normal((4, 4))
    spd = q @ q.T + 4 * np.eye(4)
    b = RNG.standard_normal(4)

    def loss(spd, b):
        x = lax.custom_linear_solve(lambda x: spd @ x, b, _conjugate_gradient, symmetric=True)
        return fnp.sum(fnp.sin(x))
    check_grads(loss, [spd, b], order=1)
    # a pytree right-hand side, and has_aux
    d = np.array([2.0, 4.0])

    def solve_pair(mv, rhs):
        return {"u": rhs["u"] / d, "v": rhs["v"] / 3.0}, "done"
    x, aux = lax.custom_linear_solve(lambda x: {"u": d * x["u"], "v": 3.0 * x["v"]},
                                     {"u": np.array([2.0, 2.0]), "v": np.float64(6.0)},
                                     solve_pair, symmetric=True, has_aux=True)
    np.testing.assert_allclose(x["u"], [1.0, 0.5])
    assert float(x["v"]) == 2.0 and aux == "done"


def test_custom_linear_solve_uses_transpose_solve_in_reverse_mode():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])

    def grad_with(transpose_solve):
        return fg.grad(lambda b: fnp.sum(lax.custom_linear_solve(
            lambda x: a @ x, b, lambda mv, r: fnp.linalg.solve(a, r), transpose_solve)))(
            np.array([1.0, 1.0]))
    # vecmat is x -> a.T x: a solve built from it gives the true gradient
    np.testing.assert_allclose(
        grad_with(lambda vecmat, r: fnp.linalg.solve(fg.jacfwd(vecmat)(r), r)),
        np.linalg.solve(a.T, np.ones(2)))
    # and it is transpose_solve that reverse mode calls (a wrong one shows)
    np.testing.assert_allclose(grad_with(lambda vecmat, r: 2.0 * fnp.linalg.solve(a.T, r)),
                               2.0 * np.linalg.solve(a.T, np.ones(2)))


def test_implicit_differentiation_errors():
    with pytest.raises(FuncgradTypeError, match="custom_root's solve must be callable"):
        lax.custom_root(lambda x: x, 1.0, None, lambda g, y: y)
    with pytest.raises(FuncgradTypeError, match="custom_root's f must return f64.*test_lax_more"):
        fg.grad(lambda a: lax.custom_root(lambda x: fnp.stack([x, a]), 1.0, _newton,
                                          lambda g, y: y))(1.0)
    with pytest.raises(FuncgradTypeError, match="matvec must return"):
        fg.grad(lambda b: fnp.sum(lax.custom_linear_solve(lambda x: x[:1], b,
                                                          lambda mv, r: r)))(np.ones(2))
    with pytest.raises(FuncgradTypeError, match="a pair \\(solution, aux\\)"):
        lax.custom_linear_solve(lambda x: x, np.ones(2), lambda mv, r: r, has_aux=True)


# ---------------------------------------------------------------------------------------
# gather and scatter with JAX's dimension numbers (funcgrad/lax/_scatter.py); the modes'
# conventions (gather clips by default, scatter drops) are JAX 0.10.2's


def test_gather_rows_and_patches():
    x = RNG.standard_normal((5, 4))
    rows = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
                                      start_index_map=(0,))
    idx = np.array([[3], [0], [-2], [7]])
    np.testing.assert_array_equal(lax.gather(x, idx, rows, (1, 4)), x[np.clip(idx[:, 0], 0, 4)])
    filled = lax.gather(x, idx, rows, (1, 4), mode="fill", fill_value=-1.0)
    np.testing.assert_array_equal(filled, np.where((idx >= 0) & (idx < 5), x[np.clip(
        idx[:, 0], 0, 4)], -1.0))
    assert np.isnan(lax.gather(x, idx, rows, (1, 4), mode=lax.GatherScatterMode.FILL_OR_DROP)
                    [3]).all()
    # 2 x 3 patches at (row, col) starts, the patch axes first in the output
    patches = lax.GatherDimensionNumbers(offset_dims=(0, 1), collapsed_slice_dims=(),
                                         start_index_map=(0, 1))
    starts = np.array([[0, 0], [3, 1], [1, 2]])
    got = lax.gather(x, starts, patches, (2, 2))
    assert got.shape == (2, 2, 3)
    for k, (r, c) in enumerate(starts):
        np.testing.assert_array_equal(got[:, :, k], x[r:r + 2, c:c + 2])
    check_grads(lambda x: lax.gather(x, starts, patches, (2, 2)), [x], order=1)
    np.testing.assert_array_equal(fg.jit(lambda x, i: lax.gather(x, i, rows, (1, 4)))(x, idx),
                                  lax.gather(x, idx, rows, (1, 4)))
    per_row = fg.vmap(lambda i: lax.gather(x, i, rows, (1, 4)))(idx[:, None, :])
    np.testing.assert_array_equal(per_row[:, 0], lax.gather(x, idx, rows, (1, 4)))


def test_scatter_add_mul_and_set():
    x = RNG.standard_normal((5, 3))
    dn = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=(0,))
    idx = np.array([[1], [4], [1], [9], [-1]])
    updates = RNG.standard_normal((5, 3))
    inside = (idx[:, 0] >= 0) & (idx[:, 0] < 5)
    want = x.copy()
    np.add.at(want, idx[inside, 0], updates[inside])  # out of bounds: dropped
    np.testing.assert_allclose(lax.scatter_add(x, idx, updates, dn), want)
    want_clip = x.copy()
    np.add.at(want_clip, np.clip(idx[:, 0], 0, 4), updates)
    np.testing.assert_allclose(lax.scatter_add(x, idx, updates, dn, mode="clip"), want_clip)
    want_mul = x.copy()
    np.multiply.at(want_mul, idx[inside, 0], updates[inside])
    np.testing.assert_allclose(lax.scatter_mul(x, idx, updates, dn), want_mul)
    once = np.array([[3], [0]])
    want_set = x.copy()
    want_set[[3, 0]] = updates[:2]
    np.testing.assert_array_equal(lax.scatter(x, once, updates[:2], dn), want_set)
    # one element per index vector: all three operand axes inserted
    point = lax.ScatterDimensionNumbers((), (0, 1), (1, 0))
    np.testing.assert_allclose(lax.scatter_add(np.zeros((2, 3)), np.array([[2, 1], [2, 1]]),
                                               np.array([1.0, 2.0]), point),
                               [[0, 0, 0], [0, 0, 3.0]])
    check_grads(lambda x, u: lax.scatter_add(x, idx, u, dn), [x, updates], order=1)
    np.testing.assert_allclose(fg.jit(lambda x, u, i: lax.scatter_add(x, i, u, dn))(
        x, updates, idx), want)


def test_gather_and_scatter_errors():
    x = np.ones((4, 3))
    rows = lax.GatherDimensionNumbers((1,), (0,), (0,))
    with pytest.raises(FuncgradValueError, match="batching dimensions.*test_lax_more"):
        lax.gather(x, np.array([[0]]), lax.GatherDimensionNumbers((1,), (0,), (0,), (1,), (0,)),
                   (1, 3))
    with pytest.raises(FuncgradValueError, match="mode 'one_hot' is not supported"):
        lax.gather(x, np.array([[0]]), rows, (1, 3), mode="one_hot")
    with pytest.raises(ShapeError, match="one index per entry of the index map"):
        lax.gather(x, np.array([[0, 1]]), rows, (1, 3))
    with pytest.raises(ShapeError, match="collapsed_slice_dims \\(0,\\) must have slice size 1"):
        lax.gather(x, np.array([[0]]), rows, (2, 3))
    with pytest.raises(FuncgradTypeError, match="indices must be integers"):
        lax.gather(x, np.array([[0.0]]), rows, (1, 3))
    dn = lax.ScatterDimensionNumbers((1,), (0,), (0,))
    with pytest.raises(ShapeError, match="do not match indices"):
        lax.scatter_add(x, np.array([[0], [1]]), np.ones((3, 3)), dn)


def test_dynamic_slice_of_a_constant_with_a_traced_start():
    """A NumPy operand with traced starts (jit over the start only) indexes with funcgrad's
    gather, not NumPy's (which cannot read a traced index)."""
    got = fg.jit(lambda i: lax.dynamic_slice(np.arange(6.0), (i,), (2,)))(np.int64(4))
    np.testing.assert_array_equal(got, [4.0, 5.0])
