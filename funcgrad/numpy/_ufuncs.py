"""Elementwise functions: the primitives of funcgrad/ops/elementwise.py under NumPy's names,
plus the few that NumPy defines by composition (square, clip, round...)."""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradTypeError
from funcgrad.numpy._util import dtype_of, scalar_or_array, unsupported
from funcgrad.ops import elementwise as ew
from funcgrad.ops.elementwise import (  # noqa: F401  (re-exported under NumPy's names)
    absolute, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, bitwise_and,
    bitwise_or, bitwise_xor, cbrt, ceil, cos, cosh, equal, exp, exp2, expm1, floor,
    floor_divide, greater, greater_equal, hypot, invert, isfinite, isinf, isnan, less,
    less_equal, log, log1p, log2, log10, logaddexp, logical_and, logical_not, logical_or,
    logical_xor, maximum, minimum, mod, multiply, negative, not_equal, power, rint, sign, sin,
    sinh, sqrt, subtract, tan, tanh, true_divide)

abs = absolute  # noqa: A001
divide = true_divide
remainder = mod
fmax, fmin = maximum, minimum


def positive(x):
    """``+x``."""
    return x


def square(x):
    """``x * x``, elementwise (like numpy.square).

    Example:
        >>> fnp.square(np.array([3.0, -2.0]))
        array([9., 4.])
    """
    x = scalar_or_array(x)
    if dtype_of(x) == np.bool_:  # NumPy squares booleans in int8
        x = ew.convert_element_type(x, np.int8)
    return ew.integer_pow(x, 2)


def reciprocal(x):
    """``1 / x``, elementwise (like numpy.reciprocal; integers truncate, as in NumPy)."""
    x = scalar_or_array(x)
    dtype = dtype_of(x)
    if dtype.kind in "biu":  # 1 // x: zero unless |x| is 1 (booleans in int8, as NumPy does)
        dtype = np.dtype(np.int8) if dtype == np.bool_ else dtype
        x = ew.convert_element_type(x, dtype)
        return ew.where(absolute(x) == 1, x, dtype.type(0))
    return ew.integer_pow(x, -1)


def round(a, decimals: int = 0):  # noqa: A001
    """Round half to even, to ``decimals`` places (like numpy.round). Zero gradient.

    Example:
        >>> fnp.round(np.array([2.5, 3.5, 1.2345]))
        array([2., 4., 1.])
        >>> fnp.round(np.array([1.2345]), 2)
        array([1.23])
    """
    a = scalar_or_array(a)
    dtype = dtype_of(a)
    if dtype.kind in "iu" and decimals >= 0:  # already round (booleans go to float, as NumPy)
        return a
    if decimals == 0:
        return rint(a)
    if decimals > 0:
        scale = 10.0 ** decimals
        return rint(a * scale) / scale
    scale = 10.0 ** -decimals  # divide, as NumPy does: 25 * 0.1 is a hair above 2.5
    rounded = rint(a / scale) * scale
    return ew.convert_element_type(rounded, dtype) if dtype.kind in "iu" else rounded


around = round


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):  # noqa: A002
    """Limit values to [a_min, a_max] (like numpy.clip). Either bound may be None.

    clip is maximum(a, min) then minimum(..., max), as in JAX: the gradient goes to ``a``
    strictly between the bounds, to the bound where ``a`` is clipped, and half to each where
    ``a`` equals a bound (maximum's and minimum's rule at ties).

    Example:
        >>> fnp.clip(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
        array([0. , 0.5, 1. ])
    """
    unsupported("clip", out=out)
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    a = scalar_or_array(a)
    if lo is not None:
        a = maximum(a, lo)
    if hi is not None:
        a = minimum(a, hi)
    return a


def where(condition, x=None, y=None):
    """Choose ``x`` where ``condition`` holds, else ``y``, elementwise (like numpy.where).

    This is how a traced function makes a value-dependent choice without Python's ``if``.

    Example:
        >>> fnp.where(np.array([True, False]), 1.0, -1.0)
        array([ 1., -1.])
    """
    if x is None or y is None:
        if x is None and y is None:
            from funcgrad.numpy._indexing import nonzero
            return nonzero(condition)
        raise FuncgradTypeError("where needs both x and y, or neither")
    condition = scalar_or_array(condition)
    if getattr(condition, "dtype", None) != np.bool_:
        condition = not_equal(condition, 0)
    return ew.where(condition, scalar_or_array(x), scalar_or_array(y))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (like numpy.isclose)."""
    a, b = scalar_or_array(a), scalar_or_array(b)
    close = less_equal(absolute(a - b), atol + rtol * absolute(b))
    close = logical_or(close, equal(a, b))  # infinities of the same sign
    if equal_nan:
        close = logical_or(close, logical_and(isnan(a), isnan(b)))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether all elements are close (like numpy.allclose)."""
    from funcgrad.numpy._reductions import all as all_
    return all_(isclose(a, b, rtol, atol, equal_nan))
