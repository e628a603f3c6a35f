"""compile/straight_line.py: branch-free helpers written into their callers' LLVM IR, typed
and lowered operation by operation as Numba would, and compiled by Numba when they branch."""

import inspect
import math

import numba
import numpy as np
import pytest
from numba import types

from funcgrad.compile import straight_line as sl
from funcgrad.compile import vector_math as vm


@sl.select
def _where(condition, if_true, if_false):
    return if_true if condition else if_false


@numba.extending.register_jitable
def _halves(x):
    return x * 0.5, x - x * 0.5


@sl.straight_line
def mixed(x, n):
    """Integer and float arithmetic, comparisons, a select, a tuple from a helper, math."""
    h, rest = _halves(float(x))
    k = (int(n) << 2) + 3
    y = _where((x > 1.0) | (x != x), h * k, rest - k // 2)
    return math.copysign(abs(y) ** 0.5, x) + min(n, 7)


@sl.straight_line
def numpy_scalars(x):
    """NumPy scalar types and constants, powers, math functions and a loop unrolled."""
    y = np.float32(x) * np.float32(2.0)
    z = x ** 2 + abs(x) ** 0.5 + math.floor(x) + np.int32(3)
    w = np.float64(y) + z
    for k in range(3):
        w = w * 0.5 + k
    return w


@sl.straight_line
def branching(x):
    if x > 0:  # a branch on a computed value: compiled by Numba instead
        return x * 2.0
    return -x


@numba.njit(error_model="numpy")
def _call_all(xs, n):
    out = np.empty((2, xs.shape[0]))
    for i in range(xs.shape[0]):
        out[0, i] = mixed(xs[i], n)
        out[1, i] = branching(xs[i])
    return out


@sl.straight_line
def calls_another_modules(x):
    """A registered function of another module is followed too (vector_math's exp)."""
    return vm.exp(x) * 2.0


@numba.njit(error_model="numpy")
def _numpy_scalars(xs):
    out = np.empty(xs.shape[0])
    for i in range(xs.shape[0]):
        out[i] = numpy_scalars(xs[i])
    return out


def test_results_are_those_of_the_python_functions():
    xs = np.array([-3.5, -1.0, -0.0, 0.0, 0.25, 1.0, 2.5, 1e300, np.inf, np.nan])
    for n in (0, 3, 9):
        got = _call_all(xs, n)
        want = np.array([[mixed(x, n) for x in xs], [branching(x) for x in xs]])
        np.testing.assert_array_equal(got, want)
    assert sl.traced(mixed, types.float64, types.int64)
    moderate = np.array([-3.5, -1.0, -0.0, 0.25, 2.5, 1e5])
    np.testing.assert_array_equal(_numpy_scalars(moderate),
                                  [numpy_scalars(x) for x in moderate])
    assert sl.traced(numpy_scalars, types.float64)
    assert sl.traced(calls_another_modules, types.float64)
    np.testing.assert_allclose(numba.njit(lambda x: calls_another_modules(x))(0.5),
                               2 * np.exp(0.5), rtol=1e-15)
    assert not sl.traced(branching, types.float64)


def test_float32_arguments_follow_numbas_promotions():
    xs = np.array([-2.0, 0.5, 3.0], dtype=np.float32)
    got = _call_all(xs, np.int32(2))
    want = [mixed(np.float64(x), 2) for x in xs]
    np.testing.assert_allclose(got[0], want, rtol=0, atol=0)


_PUBLIC = sorted(name for name, f in vars(vm).items()
                 if not name.startswith("_") and f in sl._REGISTERED)


def test_the_vector_functions_are_registered():
    assert {"exp", "expm1", "log", "log1p", "tanh", "logistic", "sin_small",
            "cos_small"} <= set(_PUBLIC)


@pytest.mark.parametrize("name", _PUBLIC)
@pytest.mark.parametrize("dtype", [types.float64, types.float32])
def test_every_vector_function_is_written_inline(name, dtype):
    """Not compiled by Numba and called: a call would stop the loop's vectorisation
    (tests/test_vector_math.py checks the packed instructions)."""
    function = getattr(vm, name)
    arity = len(inspect.signature(function).parameters)
    assert sl.traced(function, *[dtype] * arity)
