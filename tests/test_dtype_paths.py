"""Integer and dtype paths (issue 14 item 5): every dtype NumPy accepts is computed as NumPy
computes it, compiled and not, or refused with an error naming the real cause."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp

DTYPES = ["bool", "int8", "int32", "int64", "uint8", "uint32", "uint64", "float32", "float64"]
# values that wrap the same way in every integer dtype; 2**63 + 5 is negative as an int64
RAW = [0, 1, 3, 2**63 + 5, 7, 100]


def _array(dtype, shift):
    values = [(v + shift) % 2**64 for v in RAW]
    if np.dtype(dtype).kind == "f":
        return np.array([v % 1000 - 300.5 for v in values], dtype)
    return np.array(values, np.uint64).astype(dtype)


def _ops(a, b):
    return (a + b, a - b if a.dtype != np.bool_ else a ^ b, a * b, fnp.maximum(a, b),
            fnp.minimum(a, b), a < b, a == b, a >= b)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(left=st.sampled_from(DTYPES), right=st.sampled_from(DTYPES))
def test_compiled_arithmetic_matches_numpy(left, right):
    a, b = _array(left, 0), _array(right, 3)
    with np.errstate(all="ignore"):
        expected = _ops(a, b)
        compiled = fg.jit(_ops)(a, b)
    for got, want in zip(compiled, expected):
        assert got.dtype == want.dtype, (left, right, got.dtype, want.dtype)
        assert np.array_equal(got, want, equal_nan=True), (left, right, got, want)


def _sum_cases(x, m):
    return (fnp.sum(x), fnp.prod(x), fnp.nansum(x), fnp.count_nonzero(x), fnp.sum(m, ()),
            fnp.prod(m, ()))


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32"])
def test_sum_of_a_0d_array_widens_as_numpy_does(dtype):
    """With no axis to reduce (a 0-d array, axis=()), sum and prod still give NumPy's
    platform integer: np.sum(np.array(True)) is int64 1, not True."""
    x, m = np.array(1, dtype), np.ones((2, 2), dtype)
    want = (np.sum(x), np.prod(x), np.nansum(x), np.count_nonzero(x), np.sum(m, ()),
            np.prod(m, ()))
    for got in (_sum_cases(x, m), fg.make_ir(_sum_cases)(x, m)(x, m)):
        for g, w in zip(got, want):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_array_equal(g, w)


def _with_dtypes(x):
    return (fnp.sum(x, dtype=np.int8), fnp.prod(x, dtype=np.uint8), fnp.sum(x, 0, bool),
            fnp.cumsum(x, dtype=np.int8), fnp.cumprod(x, dtype=np.int32),
            fnp.mean(x, dtype=np.int8),
            fnp.nansum(x, dtype=np.int32), fnp.var(x.astype(float), dtype=np.float32),
            fnp.std(x.astype(float), dtype=np.float32))


def test_an_integer_dtype_argument_is_the_result_dtype():
    """sum(x, dtype=np.int8) is int8, wrapped as NumPy wraps it (it was int64, unwrapped);
    var/std(dtype=float32) of float64 data is float32 (it was float64)."""
    x = np.array([100, 100, 3], np.int8)
    want = (np.sum(x, dtype=np.int8), np.prod(x, dtype=np.uint8), np.sum(x, 0, bool),
            np.cumsum(x, dtype=np.int8), np.cumprod(x, dtype=np.int32),
            np.mean(x, dtype=np.int8),
            np.nansum(x, dtype=np.int32), np.var(x.astype(float), dtype=np.float32),
            np.std(x.astype(float), dtype=np.float32))  # (-53, 48, True, ..., -17, ...)
    with np.errstate(over="ignore"):
        for got in (_with_dtypes(x), fg.make_ir(_with_dtypes)(x)(x)):
            for g, w in zip(got, want):
                assert np.asarray(g).dtype == np.asarray(w).dtype, (g, w)
                np.testing.assert_allclose(g, w, rtol=1e-6)


def test_uint64_plus_int64_is_float64_as_in_numpy():
    a, b = np.array([2**63 + 5], np.uint64), np.array([-3], np.int64)
    for f in (fg.jit(lambda a, b: a + b), lambda a, b: fnp.add(a, b)):
        out = f(a, b)
        assert out.dtype == np.float64 and out[0] > 0 and np.array_equal(out, a + b)


@pytest.mark.parametrize("power", [lambda x: x ** -2, lambda x: fnp.power(x, -1),
                                   lambda x: x ** np.array([1, -1])])
def test_integer_to_negative_integer_power_raises_as_numpy_does(power):
    x = np.array([2, 3])
    with pytest.raises(ValueError):
        power(x)  # NumPy
    with pytest.raises(fg.FuncgradValueError, match="negative integer powers"):
        fg.jit(power)(x)
    with pytest.raises(fg.FuncgradValueError, match="negative integer powers"):
        fnp.power(x, -3)


def test_uint64_to_a_negative_int64_power_is_float64_as_in_numpy():
    """uint64 and int64 promote to float64, so a negative exponent is allowed (and was
    refused when the exponent was a constant)."""
    a, n = np.array([1, 2, 3], np.uint64), np.array([0, -3, 2])
    expected = np.power(a, n)  # [1, 0.125, 9]
    np.testing.assert_array_equal(fnp.power(a, n), expected)
    traced = fg.make_ir(lambda a: a ** n)(a)  # n a constant of the program
    np.testing.assert_array_equal(traced(a)[0], expected)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8])
def test_a_negative_integer_exponent_known_only_at_run_time_raises_as_numpy_does(dtype):
    x, ok, bad = np.array([2, 3], dtype), np.array([3, 2]), np.array([1, -1])
    loss = lambda w, x, n: fnp.sum(w * fnp.power(x, n.astype(dtype)))  # noqa: E731
    if dtype is not np.uint8:
        with pytest.raises(ValueError, match="negative integer powers"):
            np.power(x, bad.astype(dtype))
    for run in (fg.jit(fnp.power), fnp.power, fg.jit(lambda x, n: x ** n)):
        np.testing.assert_array_equal(run(x, ok.astype(dtype)), x ** ok.astype(dtype))
        if dtype is not np.uint8:
            with pytest.raises(ValueError, match="negative integer powers"):
                run(x, bad.astype(dtype))
    if dtype is not np.uint8:  # under grad too: the integer power is a constant factor
        for run in (fg.grad(loss), fg.jit(fg.grad(loss))):
            with pytest.raises(ValueError, match="negative integer powers"):
                run(np.ones(2), x, bad)
    np.testing.assert_array_equal(fg.jit(fnp.power)(np.array([2.0, 4.0]), np.array([-1, 2])),
                                  [0.5, 16.0])  # a float base takes negative powers


def test_big_endian_arrays_are_computed_in_native_byte_order():
    x = np.array([1.0, 2.0, 3.0], ">f8")
    assert np.array_equal(fg.jit(lambda x: x * 2.0)(x), x * 2.0)
    assert np.array_equal(fg.grad(lambda x: fnp.sum(x ** 2))(x), 2 * x)
    w = np.array([1.0, -1.0, 0.5], ">f8")  # a constant read from a closure
    assert np.allclose(fg.jit(lambda x: fnp.sum(w * x))(np.ones(3)), 0.5)
    assert np.allclose(fnp.sin(x), np.sin(x))


def test_dict_with_keys_of_mixed_types_works_under_jit():
    d = {1: np.ones(2), "a": np.full(2, 2.0)}
    assert np.array_equal(fg.jit(lambda d: d[1] + d["a"])(d), np.full(2, 3.0))
    g = fg.grad(lambda d: fnp.sum(d[1] * d["a"]))(d)
    assert np.array_equal(g["a"], np.ones(2))


def test_tracer_as_a_dict_key_says_why_and_what_to_do():
    with pytest.raises(fg.FuncgradTypeError, match="cannot be hashed.*dict key"):
        fg.jit(lambda x: {x: 1})(1.0)
    with pytest.raises(TypeError):  # still a TypeError, for code that catches that
        fg.grad(lambda x: len({x}) * x)(1.0)


def _with_python_numbers(a):
    if a.dtype.kind == "f":
        return a * 0.1 + 1.7, a / 3, a > 0.5
    return a + 1, a * 3, a % 3, a // 3, a > 3, fnp.maximum(a, 3)


@pytest.mark.parametrize("dtype", ["uint64", "uint8", "int8", "float32"])
def test_python_numbers_are_weak_in_compiled_code_as_in_numpy(dtype):
    """A Python number takes the array's dtype (NEP 50): uint64 arithmetic with an int stays
    exact, float32 with a float rounds in float32."""
    a = _array(dtype, 0)
    with np.errstate(all="ignore"):
        expected = _with_python_numbers(a)
        got = fg.jit(_with_python_numbers)(a)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and np.array_equal(g, e), (dtype, g, e)


@pytest.mark.parametrize("op", [lambda x: x + 300, lambda x: x * -1, lambda x: 256 - x,
                                lambda x: fnp.where(x > 1, x, 256)],
                         ids=["add", "mul", "rsub", "where"])
def test_a_python_int_out_of_bounds_for_the_arrays_dtype_raises_as_in_numpy(op):
    """NumPy raises for x + 300 with x uint8 (NEP 50); compiled code would wrap around."""
    x = np.array([1, 200], np.uint8)
    match = "Python integer -?[0-9]+ out of bounds for uint8"
    with pytest.raises(OverflowError, match=match):
        fg.jit(op)(x)
    with pytest.raises(OverflowError, match=match):
        fg.grad(lambda w: fnp.sum(w * op(x)))(np.ones(2))


def test_python_ints_that_fit_keep_the_arrays_dtype():
    x = np.array([1, 2], np.int8)
    out = fg.jit(lambda x: x * 100 - 127)(x)
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, x * 100 - 127)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8])
def test_the_smallest_integer_floor_divided_by_minus_one_wraps_as_in_numpy(dtype):
    smallest = np.iinfo(dtype).min
    a, b = np.array([smallest, 7, -7, 5], dtype), np.array([-1, -2, 2, 0], dtype)
    with np.errstate(all="ignore"):
        expected = a // b  # [smallest, -4, -4, 0]: Numba's // gave 0 for the first
    np.testing.assert_array_equal(fg.jit(lambda a, b: a // b)(a, b), expected)


@pytest.mark.parametrize("compare", [lambda x: x < 300, lambda x: x == -1, lambda x: x != -1,
                                     lambda x: 300 > x, lambda x: x >= -5, lambda x: x > 254],
                         ids=["lt", "eq", "ne", "gt-reflected", "ge", "in-range"])
def test_comparing_with_a_python_int_the_dtype_cannot_hold_is_exact_as_in_numpy(compare):
    x = np.array([0, 1, 200, 255], np.uint8)
    expected = compare(x)  # NumPy compares the values (NEP 50), no wrapping around
    np.testing.assert_array_equal(fg.jit(compare)(x), expected)
    np.testing.assert_array_equal(fg.vmap(compare)(x[None])[0], expected)


def test_dividing_or_and_ing_with_a_python_int_the_dtype_cannot_hold_works_as_in_numpy():
    """x / -2 and logical_and(x, 300) of a uint8 x do not compute in uint8: NumPy (and JAX)
    take them; tracing refused them, and compiled code would have made -2 the uint8 254."""
    x = np.array([0, 1, 200, 255], np.uint8)

    def f(x):
        return x / -2, -2 / x, fnp.logical_and(x, -2), fnp.logical_xor(300, x), x / 2 ** 40

    with np.errstate(all="ignore"):
        expected = f(x)
        got = fg.jit(f, compile="sync")(x)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)
    np.testing.assert_array_equal(expected[0], [-0.0, -0.5, -100.0, -127.5])
    np.testing.assert_array_equal(expected[2], [False, True, True, True])


def test_a_uint64_constant_above_int64s_range_compiles():
    """Compiled code reads integer constants from an int64 table: 2**64 - 1 did not fit it
    (an OverflowError while building the table); it goes in as its bits."""
    x = np.array([1, 2], np.uint64)
    out = fg.jit(lambda a: (fnp.where(a > 1, np.uint64(2**64 - 1), a), a + np.uint64(2**63 + 5)),
                 compile="sync")(x)
    np.testing.assert_array_equal(out[0], np.array([1, 2**64 - 1], np.uint64))
    np.testing.assert_array_equal(out[1], np.array([2**63 + 6, 2**63 + 7], np.uint64))
