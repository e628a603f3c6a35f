"""Issue 12's elementwise names against NumPy (values and dtypes, eager and compiled),
their derivatives against finite differences, and the array API's aliases."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError
from funcgrad.testing import check_grads

SPECIAL = np.array([-np.inf, -2.5, -1.0, -0.5, -0.0, 0.0, 0.25, 1.0, 3.5, np.inf, np.nan])
INTS = np.array([-3, -1, 0, 2, 7])


def _same(got, expected):
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6 if np.asarray(expected).dtype ==
                               np.float32 else 1e-14, atol=0)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))  # -0.0 too


UNARY = ["fabs", "trunc", "signbit", "sinc", "nan_to_num", "deg2rad", "rad2deg", "radians",
         "degrees"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("x", [SPECIAL, SPECIAL.astype(np.float32), INTS, INTS > 0, 1.5, 3],
                         ids=["f64", "f32", "int", "bool", "float", "int_scalar"])
def test_unary_matches_numpy(name, x):
    try:
        with np.errstate(all="ignore"):
            expected = getattr(np, name)(x)
    except TypeError:
        return
    if np.asarray(expected).dtype == np.float16:  # funcgrad has no float16: refused
        with pytest.raises(FuncgradTypeError):
            getattr(fnp, name)(x)
        return
    with np.errstate(all="ignore"):  # sinc(inf) is NaN in both, with NumPy's warning
        _same(getattr(fnp, name)(x), expected)


BINARY = ["logaddexp2", "copysign", "heaviside"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_binary_matches_numpy_with_broadcasting(name, dtype):
    x = SPECIAL.astype(dtype) if dtype != np.int64 else INTS
    y = np.array([[-1.0], [0.0], [-0.0], [0.5]]).astype(dtype)
    with np.errstate(all="ignore"):
        expected = getattr(np, name)(x, y)
        _same(getattr(fnp, name)(x, y), expected)
        _same(fg.jit(getattr(fnp, name))(x, y), expected)
        _same(getattr(fnp, name)(x, 2.0), getattr(np, name)(x, 2.0))  # NEP 50


@pytest.mark.parametrize("name", UNARY)
def test_unary_compiled_matches_numpy(name):
    x = SPECIAL.astype(np.float32)
    with np.errstate(all="ignore"):
        _same(fg.jit(getattr(fnp, name))(x), getattr(np, name)(x))


def test_nan_to_num_options():
    x = np.array([np.nan, np.inf, -np.inf, 2.0], np.float32)
    for kwargs in [{}, {"nan": -1.0, "posinf": 5.0, "neginf": -7.0}, {"posinf": 1e300}]:
        with np.errstate(over="ignore"):
            _same(fnp.nan_to_num(x, **kwargs), np.nan_to_num(x, **kwargs))
            compiled = fg.jit(lambda x, kw=kwargs: fnp.nan_to_num(x, **kw))
            _same(compiled(x), np.nan_to_num(x, **kwargs))
    g = fg.grad(lambda x: fnp.sum(fnp.nan_to_num(x * 2.0)))(np.array([np.inf, 1.0, np.nan]))
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0])


def test_sinc_derivatives_at_and_near_zero():
    d1, d2 = fg.grad(fnp.sinc), fg.grad(fg.grad(fnp.sinc))
    assert d1(0.0) == 0.0
    np.testing.assert_allclose(d2(0.0), -np.pi ** 2 / 3, rtol=1e-14)
    for x in [1e-9, 1e-3, 0.03, 0.0318, 0.0319, 0.2, 1.0, -2.7]:  # both sides of the switch
        y = np.pi * x
        exact = (np.cos(y) * y - np.sin(y)) / (y * y) * np.pi if abs(x) > 0.01 else \
            -np.pi * y / 3 + np.pi * y ** 3 / 30
        np.testing.assert_allclose(d1(x), exact, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(fnp.sinc(np.linspace(-0.05, 0.05, 101)),
                               np.sinc(np.linspace(-0.05, 0.05, 101)), rtol=2e-16, atol=0)
    check_grads(fnp.sinc, (np.array([-1.3, -0.02, 0.0, 0.01, 0.5, 2.2]),), order=3)


def test_derivatives_against_finite_differences():
    x, y = np.array([-1.5, -0.6, 0.7, 2.0]), np.array([0.4, -1.1, 2.5, -0.3])
    check_grads(fnp.logaddexp2, (x, y), order=2)
    check_grads(fnp.copysign, (x, y), order=2)
    check_grads(fnp.fabs, (x,), order=2)
    check_grads(lambda x: fnp.deg2rad(x) + fnp.rad2deg(x), (x,), order=2)
    check_grads(lambda h: fnp.heaviside(np.array([-1.0, 0.0, 0.0, 3.0]), h), (y,), order=2)
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fnp.copysign(x, -1.0)))(
        np.array([0.0, 2.0, -2.0])), [0.0, -1.0, 1.0])  # |x|'s convention at 0


def test_array_api_aliases():
    for alias, name in [("acos", "arccos"), ("asin", "arcsin"), ("atan", "arctan"),
                        ("atan2", "arctan2"), ("pow", "power"), ("acosh", "arccosh"),
                        ("asinh", "arcsinh"), ("atanh", "arctanh"),
                        ("bitwise_invert", "invert"), ("bitwise_not", "invert"),
                        ("radians", "deg2rad"), ("degrees", "rad2deg")]:
        assert getattr(fnp, alias) is getattr(fnp, name)
    np.testing.assert_allclose(fnp.pow(np.array([2.0, 3.0]), 2.0), [4.0, 9.0])


def test_numpys_own_functions_on_traced_values_use_these():
    """np.deg2rad(x), np.sinc(x), np.convolve(x, w) inside a traced function record the
    funcgrad.numpy functions (NumPy's __array_ufunc__ / __array_function__ protocols)."""
    x, w = np.array([0.0, 0.5, 2.0]), np.array([1.0, -1.0])

    def f(x):
        smoothed = np.convolve(np.deg2rad(x), w, "same")
        return np.sum(smoothed * np.sinc(x)) + np.sum(np.copysign(x, -1.0))

    np.testing.assert_allclose(fg.jit(f)(x), f(x), rtol=1e-14)
    check_grads(f, (x,), order=1)
