"""More of JAX's ``jax.lax``, for code ported from JAX: elementwise aliases and
comparisons, bit operations, special functions, reductions and cumulative reductions,
shape utilities and ``associative_scan``. Each is written with funcgrad.numpy (so every
transformation and ``jit`` apply) and re-exported by ``funcgrad.lax``; like the rest of
funcgrad.lax they broadcast and promote as NumPy does, where JAX's lax insists on equal
shapes and dtypes.

Example:
    >>> from funcgrad import lax
    >>> lax.cummax(np.array([1.0, 3.0, 2.0, 5.0]))
    array([1., 3., 3., 5.])
"""

from __future__ import annotations

import builtins
import enum
import math
from collections.abc import Callable

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.control import subprogram as _sub
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.numpy._util import array_arg
from funcgrad.ops.elementwise import nextafter as _nextafter
from funcgrad.scipy import special as _special
from funcgrad.tree import flatten as _flatten
from funcgrad.tree import unflatten as _unflatten

__all__ = [
    # elementwise aliases
    "acos", "asin", "atan", "atan2", "acosh", "asinh", "atanh", "cosh", "sinh", "tan", "cbrt",
    "ceil", "floor", "round", "RoundingMethod", "rem", "reciprocal", "erfc", "exp2",
    "is_finite", "nextafter", "real", "imag", "conj",
    # comparisons and bits
    "eq", "ne", "lt", "le", "gt", "ge", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "shift_left", "shift_right_logical", "shift_right_arithmetic",
    "population_count", "clz",
    # special functions
    "polygamma", "zeta", "igamma", "igammac", "betainc", "bessel_i0e", "bessel_i1e",
    # reductions, cumulative reductions, sorting
    "argmax", "argmin", "reduce_and", "reduce_or", "reduce_xor", "cummax", "cummin",
    "cumlogsumexp", "sort_key_val", "associative_scan",
    # shapes and arrays
    "split", "stack", "unstack", "tile", "broadcast_to_rank", "collapse", "index_take",
    "batch_matmul", "reduce_precision", "empty", "dtype",
]


# ---------------------------------------------------------------------------------------
# Elementwise aliases


def acos(x):
    """The inverse cosine.

    Example:
        >>> lax.acos(np.array([1.0]))
        array([0.])
    """
    return fnp.arccos(x)


def asin(x):
    """The inverse sine.

    Example:
        >>> lax.asin(np.array([0.0]))
        array([0.])
    """
    return fnp.arcsin(x)


def atan(x):
    """The inverse tangent.

    Example:
        >>> lax.atan(np.array([0.0]))
        array([0.])
    """
    return fnp.arctan(x)


def atan2(x, y):
    """The angle of the point (y, x): ``arctan(x / y)`` in the right quadrant (JAX's
    argument names: ``x`` is the numerator).

    Example:
        >>> lax.atan2(np.array([1.0]), np.array([0.0]))
        array([1.57079633])
    """
    return fnp.arctan2(x, y)


def acosh(x):
    """The inverse hyperbolic cosine.

    Example:
        >>> lax.acosh(np.array([1.0]))
        array([0.])
    """
    return fnp.arccosh(x)


def asinh(x):
    """The inverse hyperbolic sine.

    Example:
        >>> lax.asinh(np.array([0.0]))
        array([0.])
    """
    return fnp.arcsinh(x)


def atanh(x):
    """The inverse hyperbolic tangent.

    Example:
        >>> lax.atanh(np.array([0.0]))
        array([0.])
    """
    return fnp.arctanh(x)


def cosh(x):
    """The hyperbolic cosine.

    Example:
        >>> lax.cosh(np.array([0.0]))
        array([1.])
    """
    return fnp.cosh(x)


def sinh(x):
    """The hyperbolic sine.

    Example:
        >>> lax.sinh(np.array([0.0]))
        array([0.])
    """
    return fnp.sinh(x)


def tan(x):
    """The tangent.

    Example:
        >>> lax.tan(np.array([0.0]))
        array([0.])
    """
    return fnp.tan(x)


def cbrt(x):
    """The real cube root.

    Example:
        >>> lax.cbrt(np.array([-8.0]))
        array([-2.])
    """
    return fnp.cbrt(x)


def ceil(x):
    """The smallest integer not below x (zero derivative).

    Example:
        >>> lax.ceil(np.array([1.2, -1.2]))
        array([ 2., -1.])
    """
    return fnp.ceil(x)


def floor(x):
    """The largest integer not above x (zero derivative).

    Example:
        >>> lax.floor(np.array([1.8, -1.2]))
        array([ 1., -2.])
    """
    return fnp.floor(x)


class RoundingMethod(enum.IntEnum):
    """How ``lax.round`` breaks ties: away from zero (JAX's default) or to the even
    neighbour (NumPy's ``round``).

    Example:
        >>> lax.round(np.array([2.5]), lax.RoundingMethod.TO_NEAREST_EVEN)
        array([2.])
    """

    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):  # noqa: A001  (jax.lax.round)
    """x rounded to the nearest integer, ties away from zero by default (JAX's
    ``lax.round``; NumPy's ``round`` is ``RoundingMethod.TO_NEAREST_EVEN``). Zero
    derivative.

    Example:
        >>> lax.round(np.array([0.5, 1.5, -2.5]))
        array([ 1.,  2., -3.])
        >>> lax.round(np.array([0.5, 1.5, -2.5]), lax.RoundingMethod.TO_NEAREST_EVEN)
        array([ 0.,  2., -2.])
    """
    try:
        method = RoundingMethod(rounding_method)
    except ValueError:
        raise FuncgradValueError(f"lax.round's rounding_method must be a lax.RoundingMethod "
                                 f"(0: AWAY_FROM_ZERO, 1: TO_NEAREST_EVEN), got "
                                 f"{rounding_method!r}") from None
    x = array_arg(x, "x")
    if x.dtype.kind != "f":
        return x  # integers are already round
    if method == RoundingMethod.TO_NEAREST_EVEN:
        return fnp.rint(x)
    whole = fnp.trunc(x)  # x - trunc(x) is exact, so 0.49999999999999994 rounds to 0
    return fnp.where(fnp.abs(x - whole) >= 0.5, whole + fnp.sign(x), whole)


def rem(x, y):
    """The remainder of x / y with the sign of x (C's ``fmod``, JAX's ``lax.rem``; NumPy's
    ``%`` takes the sign of y). Exact for floats; d/dx = 1, d/dy = -trunc(x / y).

    Example:
        >>> lax.rem(np.array([-7.0, 7.0]), np.array([2.0, -2.0]))
        array([-1.,  1.])
        >>> lax.rem(np.array([-7, 7]), 2)
        array([-1,  1])
    """
    x, y = array_arg(x, "x"), array_arg(y, "y")
    magnitude = fnp.remainder(fnp.abs(x), fnp.abs(y))  # exact: both operands non-negative
    if np.result_type(x.dtype, y.dtype).kind == "f":
        return fnp.copysign(magnitude, x)
    return fnp.where(x < 0, -magnitude, magnitude)


def reciprocal(x):
    """1 / x.

    Example:
        >>> lax.reciprocal(np.array([4.0]))
        array([0.25])
    """
    return fnp.reciprocal(x)


def erfc(x):
    """The complementary error function, 1 - erf(x), accurate for large x.

    Example:
        >>> lax.erfc(np.array([0.0]))
        array([1.])
    """
    return _special.erfc(x)


def exp2(x):
    """2 ** x.

    Example:
        >>> lax.exp2(np.array([3.0]))
        array([8.])
    """
    return fnp.exp2(x)


def is_finite(x):
    """True where x is neither infinite nor NaN.

    Example:
        >>> lax.is_finite(np.array([1.0, np.inf, np.nan]))
        array([ True, False, False])
    """
    return fnp.isfinite(x)


def nextafter(x1, x2):
    """The next representable float after ``x1`` in the direction of ``x2`` (zero
    derivative).

    Example:
        >>> float(lax.nextafter(np.float32(1.0), np.float32(2.0)) - 1.0)
        1.1920928955078125e-07
    """
    return _nextafter(x1, x2)


def real(x):
    """The real part (funcgrad's arrays are real: x itself).

    Example:
        >>> lax.real(np.array([1.5]))
        array([1.5])
    """
    return fnp.real(x)


def imag(x):
    """The imaginary part (funcgrad's arrays are real: zeros).

    Example:
        >>> lax.imag(np.array([1.5]))
        array([0.])
    """
    return fnp.imag(x)


def conj(x):
    """The complex conjugate (funcgrad's arrays are real: x itself).

    Example:
        >>> lax.conj(np.array([1.5]))
        array([1.5])
    """
    return fnp.conj(x)


# ---------------------------------------------------------------------------------------
# Comparisons and bits


def eq(x, y):
    """x == y, elementwise.

    Example:
        >>> lax.eq(np.array([1.0, 2.0]), 2.0)
        array([False,  True])
    """
    return fnp.equal(x, y)


def ne(x, y):
    """x != y, elementwise.

    Example:
        >>> lax.ne(np.array([1.0, 2.0]), 2.0)
        array([ True, False])
    """
    return fnp.not_equal(x, y)


def lt(x, y):
    """x < y, elementwise.

    Example:
        >>> lax.lt(np.array([1.0, 2.0]), 2.0)
        array([ True, False])
    """
    return fnp.less(x, y)


def le(x, y):
    """x <= y, elementwise.

    Example:
        >>> lax.le(np.array([1.0, 3.0]), 2.0)
        array([ True, False])
    """
    return fnp.less_equal(x, y)


def gt(x, y):
    """x > y, elementwise.

    Example:
        >>> lax.gt(np.array([1.0, 3.0]), 2.0)
        array([False,  True])
    """
    return fnp.greater(x, y)


def ge(x, y):
    """x >= y, elementwise.

    Example:
        >>> lax.ge(np.array([1.0, 2.0]), 2.0)
        array([False,  True])
    """
    return fnp.greater_equal(x, y)


def bitwise_and(x, y):
    """x & y, elementwise (integers or booleans).

    Example:
        >>> lax.bitwise_and(np.array([12]), 10)
        array([8])
    """
    return fnp.bitwise_and(x, y)


def bitwise_or(x, y):
    """x | y, elementwise (integers or booleans).

    Example:
        >>> lax.bitwise_or(np.array([12]), 10)
        array([14])
    """
    return fnp.bitwise_or(x, y)


def bitwise_xor(x, y):
    """x ^ y, elementwise (integers or booleans).

    Example:
        >>> lax.bitwise_xor(np.array([12]), 10)
        array([6])
    """
    return fnp.bitwise_xor(x, y)


def bitwise_not(x):
    """~x: every bit flipped (for booleans, logical not).

    Example:
        >>> lax.bitwise_not(np.array([0, 5], np.int8)), lax.bitwise_not(np.array([True]))
        (array([-1, -6], dtype=int8), array([False]))
    """
    return fnp.invert(x)


_SIGNED = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _integers(name, *args):
    """The operands as arrays, their common integer dtype (NumPy's promotion) and its width
    in bits; a FuncgradTypeError for anything else."""
    arrays = [array_arg(a, f"{name}'s operand") for a in args]
    dtype = np.dtype(fnp.result_type(*args))
    if dtype.kind not in "iu" or any(a.dtype.kind not in "iu" for a in arrays):
        raise FuncgradTypeError(f"lax.{name} needs integer operands, got "
                                f"{', '.join(str(_sub.leaf_aval(a)) for a in arrays)}")
    return arrays, dtype, dtype.itemsize * 8


def shift_left(x, y):
    """x << y, wrapping around in x's width; shifts of the width or more (or negative) give
    0, as in JAX.

    Example:
        >>> lax.shift_left(np.array([1, 3], np.int32), np.array([4, 33], np.int32))
        array([16,  0], dtype=int32)
    """
    (x, y), dtype, _ = _integers("shift_left", x, y)
    return fnp.left_shift(fnp.astype(x, dtype), fnp.astype(y, dtype))


def shift_right_logical(x, y):
    """x >> y filling with zeros (x's bits read as unsigned); shifts of the width or more
    give 0.

    Example:
        >>> lax.shift_right_logical(np.array([-16], np.int32), np.int32(2))
        array([1073741820], dtype=int32)
    """
    return _shift_right("shift_right_logical", _UNSIGNED, x, y)


def shift_right_arithmetic(x, y):
    """x >> y filling with the sign bit (x's bits read as signed, also for unsigned x, as in
    JAX); shifts of the width or more give 0 or -1.

    Example:
        >>> lax.shift_right_arithmetic(np.array([-16, 16], np.int32), np.int32(2))
        array([-4,  4], dtype=int32)
    """
    return _shift_right("shift_right_arithmetic", _SIGNED, x, y)


def _shift_right(name, kinds, x, y):
    """NumPy's right_shift (arithmetic on signed integers, logical on unsigned ones) of x's
    bits read as the integer of ``kinds`` of their width, by a count read the same way: one
    that is negative as a signed integer, or huge as an unsigned one, shifts every bit out
    either way, as in XLA."""
    (x, y), dtype, _ = _integers(name, x, y)
    bits_as = kinds[dtype.itemsize]

    def read(v):
        return fnp.astype(fnp.astype(v, dtype), bits_as)
    return fnp.astype(fnp.right_shift(read(x), read(y)), dtype)


def _bits_of(name, x):
    """x's bits read as unsigned, and the powers of two 1, 2, 4, ... of its width."""
    (x,), dtype, bits = _integers(name, x)
    unsigned = _UNSIGNED[dtype.itemsize]
    powers = np.left_shift(np.ones(bits, unsigned), np.arange(bits, dtype=unsigned))
    return fnp.expand_dims(fnp.astype(x, unsigned), -1), powers, dtype, bits


def population_count(x):
    """The number of bits set in each integer, in x's dtype.

    Example:
        >>> lax.population_count(np.array([7, -1], np.int32))
        array([ 3, 32], dtype=int32)
    """
    u, powers, dtype, _ = _bits_of("population_count", x)
    ones = fnp.bitwise_and(fnp.floor_divide(u, powers), np.asarray(1, powers.dtype))
    return fnp.astype(fnp.sum(ones, axis=-1), dtype)


def clz(x):
    """The number of leading zero bits of each integer, in x's dtype.

    Example:
        >>> lax.clz(np.array([1, 0, -1], np.int32))
        array([31, 32,  0], dtype=int32)
    """
    u, powers, dtype, bits = _bits_of("clz", x)
    length = fnp.sum(fnp.astype(u >= powers, np.int32), axis=-1)  # the bit length
    return fnp.astype(bits - length, dtype)


# ---------------------------------------------------------------------------------------
# Special functions


def polygamma(m, x):
    """The m-th derivative of the digamma function.

    Example:
        >>> lax.polygamma(1.0, np.array([1.0]))  # pi ** 2 / 6
        array([1.64493407])
    """
    return _special.polygamma(m, x)


def zeta(x, q):
    """The Hurwitz zeta function, sum over n >= 0 of (n + q) ** -x.

    Example:
        >>> lax.zeta(np.array([2.0]), 1.0)  # pi ** 2 / 6
        array([1.64493407])
    """
    return _special.zeta(x, q)


def igamma(a, x):
    """The regularized lower incomplete gamma function P(a, x) (scipy's ``gammainc``).

    Example:
        >>> lax.igamma(1.0, np.array([1.0]))  # 1 - exp(-1)
        array([0.63212056])
    """
    return _special.gammainc(a, x)


def igammac(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x).

    Example:
        >>> lax.igammac(1.0, np.array([1.0]))  # exp(-1)
        array([0.36787944])
    """
    return _special.gammaincc(a, x)


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b).

    Example:
        >>> lax.betainc(1.0, 1.0, np.array([0.25]))
        array([0.25])
    """
    return _special.betainc(a, b, x)


def bessel_i0e(x):
    """The exponentially scaled modified Bessel function of order 0, exp(-|x|) I0(x).

    Example:
        >>> lax.bessel_i0e(np.array([0.0]))
        array([1.])
    """
    return _special.i0e(x)


def bessel_i1e(x):
    """The exponentially scaled modified Bessel function of order 1, exp(-|x|) I1(x).

    Example:
        >>> lax.bessel_i1e(np.array([0.0]))
        array([0.])
    """
    return _special.i1e(x)


# ---------------------------------------------------------------------------------------
# Reductions, cumulative reductions, sorting


def _axis(name, axis, ndim) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -ndim <= axis < builtins.max(ndim, 1):
        raise ShapeError(f"lax.{name}: axis {axis!r} is not an axis of an array of {ndim} "
                         f"axes")
    return int(axis) % builtins.max(ndim, 1)


def argmax(operand, axis: int, index_dtype):
    """The index of the largest element along ``axis`` (the first, at ties; a NaN counts as
    the largest), in ``index_dtype``.

    Example:
        >>> lax.argmax(np.array([[1.0, 5.0, 5.0]]), 1, np.int32)
        array([1], dtype=int32)
    """
    operand = array_arg(operand, "operand")
    axis = _axis("argmax", axis, operand.ndim)
    return fnp.astype(fnp.argmax(operand, axis=axis), _index_dtype("argmax", index_dtype))


def argmin(operand, axis: int, index_dtype):
    """The index of the smallest element along ``axis`` (the first, at ties; a NaN counts as
    the smallest), in ``index_dtype``.

    Example:
        >>> lax.argmin(np.array([[3.0, 1.0, 1.0]]), 1, np.int32)
        array([1], dtype=int32)
    """
    operand = array_arg(operand, "operand")
    axis = _axis("argmin", axis, operand.ndim)
    return fnp.astype(fnp.argmin(operand, axis=axis), _index_dtype("argmin", index_dtype))


def _index_dtype(name, index_dtype):
    try:
        dtype = np.dtype(index_dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "iu":
        raise FuncgradTypeError(f"lax.{name}'s index_dtype must be an integer dtype, got "
                                f"{index_dtype!r}")
    return dtype


def _bool_or_int(name, operand):
    operand = array_arg(operand, "operand")
    if operand.dtype.kind not in "biu":
        raise FuncgradTypeError(f"lax.{name} needs a boolean or integer operand, got "
                                f"{_sub.leaf_aval(operand)}")
    return operand


def reduce_and(operand, axes):
    """Logical (for booleans) or bitwise (for integers) AND over ``axes``.

    Example:
        >>> lax.reduce_and(np.array([[True, False], [True, True]]), (1,))
        array([False,  True])
    """
    operand = _bool_or_int("reduce_and", operand)
    if operand.dtype.kind == "b":
        return fnp.all(operand, axis=tuple(axes))
    return _fold_axes(fnp.bitwise_and, operand, axes, -1)


def reduce_or(operand, axes):
    """Logical (for booleans) or bitwise (for integers) OR over ``axes``.

    Example:
        >>> lax.reduce_or(np.array([[True, False], [False, False]]), (1,))
        array([ True, False])
    """
    operand = _bool_or_int("reduce_or", operand)
    if operand.dtype.kind == "b":
        return fnp.any(operand, axis=tuple(axes))
    return _fold_axes(fnp.bitwise_or, operand, axes, 0)


def reduce_xor(operand, axes):
    """Logical (for booleans: an odd number of True) or bitwise XOR over ``axes``.

    Example:
        >>> lax.reduce_xor(np.array([[True, True], [True, False]]), (1,))
        array([False,  True])
        >>> lax.reduce_xor(np.array([[1, 2, 4]]), (1,))
        array([7])
    """
    operand = _bool_or_int("reduce_xor", operand)
    if operand.dtype.kind == "b":
        return fnp.sum(fnp.astype(operand, np.int64), axis=tuple(axes)) % 2 == 1
    return _fold_axes(fnp.bitwise_xor, operand, axes, 0)


def _fold_axes(op, operand, axes, identity):
    """``op`` folded over each of ``axes`` by halving, log2(n) elementwise steps of slices
    (an odd one out is set aside and folded in at the end): no copies of the operand."""
    for axis in sorted({_axis("reduce", a, operand.ndim) for a in axes}, reverse=True):
        rest = None
        while operand.shape[axis] > 1:
            n = operand.shape[axis]
            if n % 2:
                last = _take(operand, axis, n - 1, n)
                rest = last if rest is None else op(rest, last)
            operand = op(_take(operand, axis, 0, n // 2), _take(operand, axis, n // 2, n - n % 2))
        if operand.shape[axis] == 0:
            operand = fnp.full(operand.shape[:axis] + (1,) + operand.shape[axis + 1:],
                               identity, operand.dtype)
        operand = fnp.squeeze(operand if rest is None else op(operand, rest), axis=axis)
    return operand


def _take(x, axis, start, stop, step=1):
    index = [builtins.slice(None)] * x.ndim
    index[axis] = builtins.slice(start, stop, step)
    return x[tuple(index)]


def cummax(operand, axis: int = 0, reverse: bool = False):
    """Running maxima along ``axis`` (from the end if ``reverse``). It is JAX's
    ``associative_scan`` of ``max``, so its gradient splits ties as JAX's does.

    Example:
        >>> lax.cummax(np.array([1.0, 3.0, 2.0]), reverse=True)
        array([3., 3., 2.])
    """
    return _cumulative("cummax", fnp.maximum, operand, axis, reverse)


def cummin(operand, axis: int = 0, reverse: bool = False):
    """Running minima along ``axis`` (from the end if ``reverse``).

    Example:
        >>> lax.cummin(np.array([3.0, 1.0, 2.0]))
        array([3., 1., 1.])
    """
    return _cumulative("cummin", fnp.minimum, operand, axis, reverse)


def cumlogsumexp(operand, axis: int = 0, reverse: bool = False):
    """Running ``log(sum(exp(x)))`` along ``axis`` (from the end if ``reverse``), without
    overflow.

    Example:
        >>> lax.cumlogsumexp(np.array([0.0, 0.0, 1000.0])) - np.array([0.0, np.log(2), 1000.0])
        array([0., 0., 0.])
    """
    return _cumulative("cumlogsumexp", fnp.logaddexp, operand, axis, reverse)


def _cumulative(name, op, operand, axis, reverse):
    operand = array_arg(operand, "operand")
    if operand.ndim == 0:
        raise ShapeError(f"lax.{name} needs an array with at least one axis, got a scalar")
    return associative_scan(op, operand, reverse=reverse,
                            axis=_axis(name, axis, operand.ndim))


def sort_key_val(keys, values, dimension: int = -1, is_stable: bool = True):
    """``keys`` sorted along ``dimension``, and ``values`` permuted alike (a stable sort; NaNs
    last).

    Example:
        >>> lax.sort_key_val(np.array([3.0, 1.0, 2.0]), np.array([30, 10, 20]))
        (array([1., 2., 3.]), array([10, 20, 30]))
    """
    keys, values = array_arg(keys, "keys"), array_arg(values, "values")
    if keys.shape != values.shape:
        raise ShapeError(f"lax.sort_key_val needs keys and values of one shape, got "
                         f"{_sub.leaf_aval(keys)} and {_sub.leaf_aval(values)}")
    dimension = _axis("sort_key_val", dimension, keys.ndim)
    order = fnp.argsort(keys, axis=dimension, stable=True)
    return (fnp.take_along_axis(keys, order, axis=dimension),
            fnp.take_along_axis(values, order, axis=dimension))


def associative_scan(fn: Callable, elems, reverse: bool = False, axis: int = 0):
    """All prefix combinations ``fn(...fn(fn(x0, x1), x2)..., xi)`` along ``axis`` of
    ``elems`` (a pytree of arrays of one length there), for an associative ``fn`` that
    combines two pytrees like ``elems`` elementwise: JAX's parallel-prefix algorithm, log2(n)
    rounds of slicing, ``fn`` and interleaving, so it is differentiable, batches and
    compiles like any funcgrad.numpy code. ``fn`` need not be commutative; with
    ``reverse=True`` the scan runs from the end (``fn``'s first argument is then the later
    element, as in JAX).

    Example:
        >>> lax.associative_scan(fnp.add, np.array([1.0, 2.0, 3.0, 4.0]))
        array([ 1.,  3.,  6., 10.])
        >>> affine = lambda a, b: (a[0] * b[0], a[1] * b[0] + b[1])  # x -> b(a(x))
        >>> lax.associative_scan(affine, (np.array([2.0, 3.0]), np.array([1.0, 1.0])))[1]
        array([1., 4.])
    """
    if not callable(fn):
        raise FuncgradTypeError(f"lax.associative_scan's fn must be callable, got "
                                f"{type(fn).__name__}")
    leaves, tree = _flatten(elems)
    if not leaves:
        raise FuncgradValueError("lax.associative_scan needs at least one array in elems")
    leaves = [array_arg(x, "elems") for x in leaves]
    ndim = leaves[0].ndim
    if ndim == 0 or any(x.ndim == 0 for x in leaves):
        raise ShapeError("lax.associative_scan's elems must have an axis to scan along, got "
                         + ", ".join(str(_sub.leaf_aval(x)) for x in leaves))
    axis = _axis("associative_scan", axis, ndim)
    lengths = {x.shape[axis] if x.ndim > axis else None for x in leaves}
    if len(lengths) != 1 or None in lengths:
        raise ShapeError("lax.associative_scan's elems must all have one length along axis "
                         f"{axis}, got " + ", ".join(str(_sub.leaf_aval(x)) for x in leaves))
    if reverse:
        leaves = [fnp.flip(x, axis) for x in leaves]

    def combine(a, b):
        out = fn(_unflatten(tree, a), _unflatten(tree, b))
        out_leaves, out_tree = _flatten(out)
        if out_tree != tree:
            raise FuncgradTypeError(f"lax.associative_scan's fn must return the structure of "
                                    f"elems, {tree}, but it returned {out_tree}")
        return [array_arg(x, "fn's output") for x in out_leaves]

    def scan(elems):  # JAX's algorithm, step for step (so ties differentiate alike)
        n = elems[0].shape[axis]
        if n < 2:
            return elems
        reduced = combine([_take(e, axis, 0, n - 1, 2) for e in elems],
                          [_take(e, axis, 1, None, 2) for e in elems])
        odd = scan(reduced)
        if n % 2 == 0:
            even = combine([_take(e, axis, 0, e.shape[axis] - 1) for e in odd],
                           [_take(e, axis, 2, None, 2) for e in elems])
        else:
            even = combine(odd, [_take(e, axis, 2, None, 2) for e in elems])
        even = [fnp.concatenate([_take(e, axis, 0, 1), r], axis=axis)
                for e, r in zip(elems, even)]
        return [_interleave(a, b, axis) for a, b in zip(even, odd)]

    out = scan(leaves)
    if reverse:
        out = [fnp.flip(x, axis) for x in out]
    return _unflatten(tree, out)


def _interleave(a, b, axis):
    """a[0], b[0], a[1], b[1], ... along ``axis``, where a has as many entries as b or one
    more."""
    extra = a.shape[axis] - b.shape[axis]
    body = _take(a, axis, 0, b.shape[axis]) if extra else a
    pairs = fnp.stack([body, b], axis=axis + 1)
    shape = list(b.shape)
    shape[axis] *= 2
    out = fnp.reshape(pairs, tuple(shape))
    return fnp.concatenate([out, _take(a, axis, a.shape[axis] - 1, None)], axis=axis) \
        if extra else out


# ---------------------------------------------------------------------------------------
# Shapes and arrays


def split(operand, sizes, axis: int = 0):
    """``operand`` cut along ``axis`` into consecutive pieces of ``sizes`` (which must add up
    to the axis's length), as a list.

    Example:
        >>> lax.split(np.arange(5.0), (2, 3))
        [array([0., 1.]), array([2., 3., 4.])]
    """
    operand = array_arg(operand, "operand")
    axis = _axis("split", axis, operand.ndim)
    sizes = [int(s) for s in sizes]
    if any(s < 0 for s in sizes) or sum(sizes) != operand.shape[axis]:
        raise ShapeError(f"lax.split: sizes {tuple(sizes)} do not add up to the length "
                         f"{operand.shape[axis]} of axis {axis} of {_sub.leaf_aval(operand)}")
    starts = np.cumsum([0, *sizes])
    return [_take(operand, axis, int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]


def stack(operands, axis: int = 0):
    """The operands (of one shape) joined along a new axis.

    Example:
        >>> lax.stack([np.array([1, 2]), np.array([3, 4])], axis=1)
        array([[1, 3],
               [2, 4]])
    """
    return fnp.stack(list(operands), axis=axis)


def unstack(x, axis: int = 0):
    """``x``'s slices along ``axis``, as a tuple.

    Example:
        >>> lax.unstack(np.array([[1, 2], [3, 4]]))
        (array([1, 2]), array([3, 4]))
    """
    x = array_arg(x, "x")
    axis = _axis("unstack", axis, x.ndim)
    return tuple(fnp.squeeze(_take(x, axis, i, i + 1), axis=axis) for i in range(x.shape[axis]))


def tile(operand, reps):
    """``operand`` repeated ``reps[i]`` times along each axis i (one rep per axis).

    Example:
        >>> lax.tile(np.array([[1, 2]]), (2, 2))
        array([[1, 2, 1, 2],
               [1, 2, 1, 2]])
    """
    operand = array_arg(operand, "operand")
    reps = tuple(int(r) for r in reps)
    if len(reps) != operand.ndim or any(r < 0 for r in reps):
        raise ShapeError(f"lax.tile needs one non-negative rep per axis of "
                         f"{_sub.leaf_aval(operand)}, got {reps}")
    return fnp.tile(operand, reps)


def broadcast_to_rank(x, rank: int):
    """``x`` with leading axes of length 1 added to give it ``rank`` axes.

    Example:
        >>> lax.broadcast_to_rank(np.ones(3), 3).shape
        (1, 1, 3)
    """
    x = array_arg(x, "x")
    if rank < x.ndim:
        raise ShapeError(f"lax.broadcast_to_rank: {_sub.leaf_aval(x)} has more than {rank} "
                         f"axes")
    return fnp.reshape(x, (1,) * (rank - x.ndim) + tuple(x.shape))


def collapse(operand, start_dimension: int, stop_dimension: int | None = None):
    """``operand`` with its axes ``start_dimension`` to ``stop_dimension`` (exclusive; the end
    if None) merged into one.

    Example:
        >>> lax.collapse(np.zeros((2, 3, 4)), 1).shape
        (2, 12)
    """
    operand = array_arg(operand, "operand")
    lo, hi, _ = builtins.slice(start_dimension, stop_dimension).indices(operand.ndim)
    if hi < lo:
        raise ShapeError(f"lax.collapse: no axes {start_dimension}:{stop_dimension} in "
                         f"{_sub.leaf_aval(operand)}")
    shape = tuple(operand.shape)
    return fnp.reshape(operand, shape[:lo] + (math.prod(shape[lo:hi]),) + shape[hi:])


def index_take(src, idxs, axes):
    """``src`` indexed along ``axes`` by the index arrays ``idxs`` (one per axis, of one
    shape; negative and too large indices wrap around), the indexed axes replaced by a
    leading one: JAX's ``index_take``.

    Example:
        >>> x = np.arange(24.0).reshape(2, 3, 4)
        >>> lax.index_take(x, (np.array([0, 1]), np.array([3, -1])), (0, 2))
        array([[ 3.,  7., 11.],
               [15., 19., 23.]])
    """
    src = array_arg(src, "src")
    axes = tuple(_axis("index_take", a, src.ndim) for a in axes)
    idxs = [array_arg(i, "idxs") for i in idxs]
    if len(idxs) != len(axes) or len(set(axes)) != len(axes):
        raise ShapeError(f"lax.index_take needs one index array per axis (distinct axes), got "
                         f"{len(idxs)} for axes {axes}")
    if any(i.dtype.kind not in "iu" for i in idxs):
        raise FuncgradTypeError("lax.index_take's idxs must be integer arrays")
    moved = fnp.moveaxis(src, axes, tuple(range(len(axes))))
    return moved[tuple(i % src.shape[a] for i, a in zip(idxs, axes))]


def batch_matmul(lhs, rhs, precision=None):
    """Matrix products of stacks of matrices of one number of axes (at least 2), the leading
    axes batch axes.

    Example:
        >>> lax.batch_matmul(np.ones((5, 2, 3)), np.ones((5, 3, 4))).shape
        (5, 2, 4)
    """
    lhs, rhs = array_arg(lhs, "lhs"), array_arg(rhs, "rhs")
    if builtins.min(lhs.ndim, rhs.ndim) < 2 or lhs.ndim != rhs.ndim:
        raise ShapeError(f"lax.batch_matmul needs two arrays of one number of axes, at least "
                         f"2, got {_sub.leaf_aval(lhs)} and {_sub.leaf_aval(rhs)}")
    from funcgrad.lax._ops import dot_general
    batch = tuple(range(lhs.ndim - 2))
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (rhs.ndim - 2,)), (batch, batch)))


def reduce_precision(operand, exponent_bits: int, mantissa_bits: int):
    """``operand`` rounded to the nearest float of ``exponent_bits`` and ``mantissa_bits``
    (ties to even), then held in its own dtype, as XLA's CPU backend does: too large
    values become infinite and values below the smallest normal number become zero
    (denormals flush). (5, 10) emulates float16, (8, 7) bfloat16, (8, 23) float32. Its
    derivative rounds the tangent alike, as JAX's.

    Example:
        >>> lax.reduce_precision(np.array([1 / 3, 70000.0]), 5, 10)
        array([0.33325195,        inf])
    """
    for name, value in (("exponent_bits", exponent_bits), ("mantissa_bits", mantissa_bits)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or value < (1 if name == "exponent_bits" else 0):
            raise FuncgradValueError(f"lax.reduce_precision's {name} must be a "
                                     f"{'positive' if name == 'exponent_bits' else 'non-negative'}"
                                     f" int, got {value!r}")
    operand = array_arg(operand, "operand")
    if operand.dtype.kind != "f":
        raise FuncgradTypeError(f"lax.reduce_precision needs a float operand, got "
                                f"{_sub.leaf_aval(operand)}")
    return _reduce_precision(int(exponent_bits), int(mantissa_bits), operand)


def _round_to_precision(exponent_bits, mantissa_bits, x):
    info = np.finfo(x.dtype)
    if mantissa_bits >= info.nmant and exponent_bits >= info.nexp:
        return x
    mantissa_bits = builtins.min(mantissa_bits, info.nmant)
    emax = builtins.min(2 ** (exponent_bits - 1) - 1, info.maxexp - 1)
    emin = builtins.max(1 - emax, info.minexp)
    size = fnp.abs(x)
    finite = fnp.isfinite(x) & (size > 0)
    safe = fnp.where(finite, size, 1.0)
    # the exponent of each value: floor(log2) corrected where log2 rounded across an integer
    e = fnp.floor(fnp.log2(safe))
    e = fnp.where(fnp.exp2(e) > safe, e - 1, e)
    e = fnp.where(fnp.exp2(e + 1) <= safe, e + 1, e)
    # rounding at each value's own exponent (scaling by a power of two is exact); those
    # below the smallest normal number flush to zero unless they round up to it
    ulp = fnp.exp2(fnp.clip(e, emin - 1, emax) - mantissa_bits)
    rounded = fnp.rint(safe / ulp) * ulp
    largest = (2.0 - 2.0 ** -mantissa_bits) * 2.0 ** emax
    rounded = fnp.where(rounded > largest, np.inf, rounded)
    rounded = fnp.where(rounded < 2.0 ** emin, 0.0, rounded)
    return fnp.where(finite, fnp.copysign(fnp.astype(rounded, x.dtype), x), x)


def _make_reduce_precision():
    from funcgrad.control.custom_jvp import custom_jvp

    def rounded_values(exponent_bits, mantissa_bits, x):
        return _round_to_precision(exponent_bits, mantissa_bits, x)

    rounded = custom_jvp(rounded_values, nondiff_argnums=(0, 1))

    def rule(exponent_bits, mantissa_bits, primals, tangents):
        (x,), (t,) = primals, tangents
        return (rounded(exponent_bits, mantissa_bits, x),
                rounded(exponent_bits, mantissa_bits, t))

    rounded.defjvp(rule)
    return rounded


_reduce_precision = _make_reduce_precision()


def empty(shape, dtype, *, out_sharding=None):
    """An array of ``shape`` and ``dtype`` whose values do not matter (funcgrad's are zeros).

    Example:
        >>> lax.empty((2,), np.float32).shape
        (2,)
    """
    return fnp.zeros(tuple(shape), dtype)


def dtype(x):
    """The dtype of ``x``: an array's own, a Python scalar's or type's default (float64,
    int64, bool), or the dtype a name or NumPy type denotes.

    Example:
        >>> lax.dtype(1.0), lax.dtype(np.ones(2, np.float32)), lax.dtype("int32")
        (dtype('float64'), dtype('float32'), dtype('int32'))
    """
    if x is None:
        raise FuncgradValueError("lax.dtype: None has no dtype")
    if isinstance(x, type) and x in (bool, int, float):
        return np.dtype(x)
    if type(x) in (bool, int, float):
        return np.dtype(type(x))
    found = getattr(x, "dtype", None)
    if isinstance(found, np.dtype):
        return found
    try:
        out = np.dtype(x) if isinstance(x, (str, np.dtype, type)) else np.result_type(x)
    except TypeError:
        raise FuncgradTypeError(f"lax.dtype: cannot tell the dtype of {x!r:.60}") from None
    if out.kind not in "biuf":
        raise FuncgradTypeError(f"lax.dtype: {out} is not a dtype funcgrad arrays have")
    return out
