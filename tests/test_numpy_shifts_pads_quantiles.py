"""Bit shifts (left_shift, right_shift and their array-API names, ``<<`` and ``>>`` on traced
arrays), numpy.pad's statistic and ramp modes, and quantile's methods: values against NumPy
(eager, and compiled where the code differs), derivatives against finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.testing import check_grads

RNG = np.random.default_rng(3)
INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64]


def _raises(error, message):
    """``error`` saying ``message``, then naming the line in this file that called."""
    return pytest.raises(error, match=message + r".*\(in test_numpy_shifts_pads_quantiles.py:\d+")


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_array_equal(got, want)


# --- shifts ----------------------------------------------------------------------------------

def _shift_operands(dtype):
    """Every x of a few kinds (0, +-1, the extremes) against every count of a few kinds
    (negative, 0, in range, the width, past it): the counts NumPy and JAX define and C does
    not."""
    info = np.iinfo(dtype)
    width = info.bits
    x = np.array([0, 1, 5, info.max, info.min, info.max // 3, -1 if info.min else 200],
                 dtype)
    counts = [0, 1, width - 1, width, width + 1, 70] + ([-1, -width] if info.min else
                                                       [info.max])
    counts = np.array(counts, np.int64 if info.min else np.uint64).astype(dtype)
    return np.repeat(x, len(counts)), np.tile(counts, len(x))


def _shifts(x, y):
    return (fnp.left_shift(x, y), fnp.right_shift(x, y), x << y, x >> y, 3 << y, x >> 2,
            fnp.bitwise_left_shift(x, 1), fnp.bitwise_right_shift(x, 1))


def _numpy_shifts(x, y):
    return (np.left_shift(x, y), np.right_shift(x, y), x << y, x >> y, 3 << y, x >> 2,
            np.bitwise_left_shift(x, 1), np.bitwise_right_shift(x, 1))


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_shifts_match_numpy_for_every_integer_dtype(dtype):
    x, y = _shift_operands(dtype)
    for got, want in zip(_shifts(x, y), _numpy_shifts(x, y)):
        _same(got, want)


def test_compiled_shifts_match_numpy_for_every_integer_dtype():
    """One compile for all eight dtypes: Numba's << and >> are undefined past the width."""
    operands = [_shift_operands(d) for d in INTEGER_DTYPES]
    flat = [a for pair in operands for a in pair]
    compiled = fg.jit(lambda *a: [_shifts(a[i], a[i + 1]) for i in range(0, len(a), 2)],
                      compile="sync")
    for got, (x, y) in zip(compiled(*flat), operands):
        for g, want in zip(got, _numpy_shifts(x, y)):
            _same(g, want)


def test_shifts_promote_as_numpy_and_refuse_floats():
    x8, u8 = np.array([-3, 100], np.int8), np.array([1, 9], np.uint8)
    _same(fnp.left_shift(x8, u8), np.left_shift(x8, u8))  # int16, as NumPy
    _same(fnp.right_shift(np.array([True, False]), True),
          np.right_shift(np.array([True, False]), True))
    _same(fg.vmap(lambda v: v << np.int8(2))(x8), x8 << np.int8(2))
    assert fg.grad(lambda x: fnp.sum(x * fnp.left_shift(np.int64(1), 3)))(
        np.array([1.0, 2.0])).tolist() == [8.0, 8.0]
    with _raises(FuncgradTypeError, "left_shift is not defined for f64"):
        fnp.left_shift(np.array([1.0]), 2)
    with _raises(FuncgradTypeError, "right_shift is not defined"):
        fg.jit(lambda x: x >> np.uint64(1))(np.array([4], np.int64))


def test_lax_shifts_are_numpys_on_reinterpreted_bits():
    """lax's logical and arithmetic shifts are right_shift of the bits read as unsigned or
    signed (the shared primitive); JAX's values, by hand."""
    x = np.array([-16, 16, -1], np.int8)
    _same(lax.shift_right_logical(x, np.int8(2)), np.array([60, 4, 63], np.int8))
    _same(lax.shift_right_arithmetic(x.view(np.uint8), np.uint8(2)),
          np.array([252, 4, 255], np.uint8))
    _same(lax.shift_left(x, np.array([1, 8, -1], np.int8)), np.array([-32, 0, 0], np.int8))


# --- quantile methods ------------------------------------------------------------------------

METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
           "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
           "normal_unbiased", "lower", "higher", "nearest", "midpoint"]
QS = np.array([0.0, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.6, 0.75, 0.9, 0.99, 1.0])


def _samples(n, dtype):
    """Rows of n values: one of ties and exact quantile positions, two random, one with NaN
    in every other place (NaN for quantile, ignored by nanquantile)."""
    a = RNG.standard_normal((4, n)).astype(dtype)
    a[0] = np.arange(n) // 2
    a[3, ::2] = np.nan
    return a


@pytest.mark.parametrize("method", METHODS)
def test_quantile_methods_match_numpy(method):
    for n in (1, 2, 3, 4, 5, 8):
        for dtype in (np.float64, np.float32):
            a = _samples(n, dtype)
            for q in (QS, QS.astype(dtype), 0.3, 1, 0.0):  # arrays, and weak Python numbers
                for ours, numpys in ((fnp.quantile, np.quantile),
                                     (fnp.nanquantile, np.nanquantile)):
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
                        want = numpys(a, q, axis=1, method=method)
                    _same_or_nan(ours(a, q, axis=1, method=method), want)
            _same_or_nan(fnp.percentile(a[:3], 30, axis=-1, method=method, keepdims=True),
                         np.percentile(a[:3], 30, axis=-1, method=method, keepdims=True))
    ints = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]])
    _same_or_nan(fnp.quantile(ints, QS, axis=1, method=method),
                 np.quantile(ints, QS, axis=1, method=method))


def _same_or_nan(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_array_equal(got, want)  # NaN in the same places, the rest exactly


@pytest.mark.parametrize("method", ["interpolated_inverted_cdf", "hazen", "weibull",
                                    "median_unbiased", "normal_unbiased",
                                    "averaged_inverted_cdf"])
def test_quantile_method_gradients_match_finite_differences(method):
    x = RNG.permutation(10)[:7] + RNG.uniform(0.1, 0.2, 7)  # distinct: no ties to split
    q = np.array([0.05, 0.3, 0.5, 0.97])
    check_grads(lambda x: fnp.quantile(x, q, method=method), [x])
    check_grads(lambda x: fnp.nanpercentile(x, 40.0, method=method), [x])


def test_discrete_quantile_methods_give_the_whole_gradient_to_one_value():
    x = np.array([4.0, 1.0, 3.0, 2.0])
    for method, q, picked in (("inverted_cdf", 0.25, 1), ("closest_observation", 0.5, 3)):
        g = fg.grad(lambda x, q=q, m=method: fnp.quantile(x, q, method=m))(x)
        assert g.tolist() == [float(i == picked) for i in range(4)], method
        assert np.quantile(x, q, method=method) == x[picked]


def test_compiled_quantile_methods_match_numpy():
    a = _samples(6, np.float64)
    continuous = ["hazen", "weibull", "median_unbiased", "averaged_inverted_cdf",
                  "inverted_cdf", "closest_observation"]
    f = fg.jit(lambda a, q: [fnp.nanquantile(a, q, axis=1, method=m) for m in continuous],
               compile="sync")
    for got, m in zip(f(a, QS), continuous):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _same_or_nan(got, np.nanquantile(a, QS, axis=1, method=m))


def test_unknown_quantile_method_is_refused():
    with _raises(FuncgradValueError, "method must be one of .*'hazen'.* got 'h'"):
        fnp.quantile(np.ones(3), 0.5, method="h")


# --- pad's statistic and ramp modes ----------------------------------------------------------

PAD_CASES = [  # (mode, keyword arguments): every form NumPy reads each option in
    ("maximum", {}), ("minimum", {"stat_length": 2}), ("mean", {"stat_length": (1, 3)}),
    ("median", {"stat_length": ((2, 1), (3, 2))}), ("mean", {}), ("median", {}),
    ("linear_ramp", {}), ("linear_ramp", {"end_values": 4}),
    ("linear_ramp", {"end_values": ((1.5, -2), (0, 7))}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int8])
@pytest.mark.parametrize("mode,options", PAD_CASES)
def test_pad_modes_match_numpy(mode, options, dtype):
    a = (RNG.standard_normal((3, 4)) * 20).astype(dtype)
    for widths in (((1, 2), (3, 0)), 2, ((0, 0), (1, 1))):
        want = np.pad(a, widths, mode=mode, **options)
        got = fnp.pad(a, widths, mode=mode, **options)
        assert got.dtype == want.dtype and got.shape == want.shape
        # exact but for a ramp's last bit (NumPy's linspace multiplies in another order when
        # any step is 0): within an eps of the largest value (a ramp through 0 has values
        # far smaller than its rounding; relative to each, this flaked)
        scale = np.finfo(dtype).eps * np.abs(want).max() if want.dtype.kind == "f" else 0
        np.testing.assert_allclose(got, want, rtol=0, atol=scale)
    # integers: a mean of 2.5 rounds to 2 (half to even) and a ramp 7, 4.5 to 7, 4
    v = np.array([2, 3, 1, 4, 6, 9], dtype)
    option = {"end_values": (7, -3)} if mode == "linear_ramp" else {"stat_length": (2, 4)}
    _same(fnp.pad(v, (2, 3), mode=mode, **option), np.pad(v, (2, 3), mode=mode, **option))


@pytest.mark.parametrize("mode,options", PAD_CASES)
def test_pad_mode_gradients_match_finite_differences(mode, options):
    x = RNG.permutation(12).reshape(3, 4) + RNG.uniform(0.1, 0.2, (3, 4))  # no ties
    check_grads(lambda x: fnp.pad(x, ((1, 2), (2, 1)), mode=mode, **options), [x])


def test_compiled_pad_modes_match_numpy():
    a = RNG.standard_normal((3, 4))
    f = fg.jit(lambda a: [fnp.pad(a, ((1, 2), (2, 1)), mode=m, **o) for m, o in PAD_CASES],
               compile="sync")
    for got, (m, o) in zip(f(a), PAD_CASES):
        np.testing.assert_allclose(got, np.pad(a, ((1, 2), (2, 1)), mode=m, **o), rtol=1e-14)
    batched = fg.vmap(lambda r: fnp.pad(r, 2, mode="median", stat_length=3))(a)
    np.testing.assert_array_equal(batched, np.pad(a, ((0, 0), (2, 2)), "median", stat_length=3))


def test_pad_constant_values_per_side_and_axis_match_numpy():
    a = RNG.standard_normal((2, 3))
    for values in (((1, 2), (3, 4)), (5, 6), [[7]], -1):
        np.testing.assert_array_equal(fnp.pad(a, ((1, 2), (2, 1)), constant_values=values),
                                      np.pad(a, ((1, 2), (2, 1)), constant_values=values))
    # the values' gradient is zero, the array's passes through
    g = fg.grad(lambda x: fnp.sum(fnp.pad(x, 1, constant_values=(2, 3)) ** 2))(a)
    np.testing.assert_allclose(g, 2 * a)


def test_pad_option_errors_name_the_problem():
    """Each says what was wrong, at the user's line."""
    x = np.arange(4.0)
    with _raises(FuncgradValueError, "mode 'edge' takes no stat_length"):
        fnp.pad(x, 1, mode="edge", stat_length=2)
    with _raises(FuncgradValueError, "stat_length of 0 leaves no values on axis 0"):
        fnp.pad(x, 1, mode="maximum", stat_length=0)
    with _raises(FuncgradValueError, "stat_length must not be negative"):
        fnp.pad(x, 1, mode="mean", stat_length=-1)
    with _raises(FuncgradTypeError, "end_values must be numbers known when tracing"):
        fg.jit(lambda x, e: fnp.pad(x, 1, mode="linear_ramp", end_values=e))(x, 1.0)
    with _raises(FuncgradTypeError, "pad mode 'ramp' is not supported"):
        fnp.pad(x, 1, mode="ramp")
    with _raises(ShapeError, "constant_values .* does not fit an array of 1 axes"):
        fnp.pad(x, 1, constant_values=np.ones(3))
    with _raises(FuncgradValueError, "reflect_type 'odd' is not supported"):
        fnp.pad(x, 1, mode="reflect", reflect_type="odd")


# --- more of NumPy 2's names -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", INTEGER_DTYPES + [np.bool_])
def test_bitwise_count_matches_numpy(dtype):
    x = RNG.integers(0, 256, 40).astype(np.uint8).view(np.int8).astype(dtype) \
        if dtype != np.bool_ else RNG.integers(0, 2, 40).astype(bool)
    if dtype != np.bool_:
        info = np.iinfo(dtype)
        x[:3] = [info.min, info.max, info.max // 3]  # abs(min) is min: its one bit
    _same(fnp.bitwise_count(x), np.bitwise_count(x))


def test_compiled_bitwise_count_and_errors():
    xs = [np.array([-128, -1, 0, 127], np.int8),
          np.array([2 ** 64 - 1, 2 ** 63, 12345678901234567], np.uint64)]
    for got, x in zip(fg.jit(lambda a, b: (fnp.bitwise_count(a), fnp.bitwise_count(b)),
                             compile="sync")(*xs), xs):
        _same(got, np.bitwise_count(x))
    with _raises(FuncgradTypeError, "bitwise_count needs integers or booleans, got float64"):
        fnp.bitwise_count(np.array([1.0]))


def test_matvec_and_vecmat_match_numpy_and_differentiate():
    a, v, u = RNG.standard_normal((2, 3, 4)), RNG.standard_normal(4), RNG.standard_normal(3)
    np.testing.assert_allclose(fnp.matvec(a, v), np.matvec(a, v), rtol=1e-13)
    np.testing.assert_allclose(fnp.vecmat(u, a), np.vecmat(u, a), rtol=1e-13)
    np.testing.assert_allclose(fnp.matvec(a[0], RNG.standard_normal((5, 4))).shape, (5, 3))
    check_grads(fnp.matvec, [a, v])
    check_grads(fnp.vecmat, [u, a])
    with _raises(ShapeError, "matvec: the matrix operand needs at least 2 axes, got shape"):
        fnp.matvec(v, v)


def test_fromfunction_grids_and_real_tests():
    _same(fnp.fromfunction(lambda i, j: i * 3 + j, (2, 3), dtype=int),
          np.fromfunction(lambda i, j: i * 3 + j, (2, 3), dtype=int))
    traced = fg.jit(lambda s: fnp.fromfunction(lambda i, j: s * i - j, (3, 2)))(2.0)
    np.testing.assert_array_equal(traced, np.fromfunction(lambda i, j: 2.0 * i - j, (3, 2)))
    np.testing.assert_array_equal(fnp.mgrid[0:2, 0:1:3j], np.mgrid[0:2, 0:1:3j])
    assert fnp.s_[1:3, ::2] == np.s_[1:3, ::2] and fnp.index_exp[2] == (2,)
    r = np.array([1.0, 2.0])
    _same(fnp.iscomplex(r), np.iscomplex(r))
    _same(fnp.isreal(r), np.isreal(r))
    assert fg.jit(lambda x: fnp.isreal(x).all())(r)
