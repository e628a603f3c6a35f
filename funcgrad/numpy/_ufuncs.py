"""Elementwise functions under NumPy's names.

Most are one primitive of funcgrad/ops/elementwise.py each, made a function with NumPy's
signature (``exp(x, /)``, ``add(x1, x2, /)``) by ``_ufunc`` from one row of the table below:
what it computes, its derivative (the primitive's VJP rule) and an example, whose output is
written as NumPy 2 prints it (tests/test_docstring_examples.py runs every one). The rest
NumPy defines by composition (square, clip, round...) and are written out after the table."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np

from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import aval_of
from funcgrad.numpy._util import array_arg, dtype_of, scalar_or_array, unsupported
from funcgrad.ops import elementwise as ew
from funcgrad.ops.elementwise import power  # noqa: F401  (re-exported: a function already)

_POSITIONAL = inspect.Parameter.POSITIONAL_ONLY


def _ufunc(primitive, summary: str, derivative: str, example: str, output: str, *,
           name: str | None = None, like: str | None = None):
    """The function ``name(x, /)`` or ``name(x1, x2, /)`` that applies ``primitive``,
    documented from one row of the table: ``summary`` of what it computes, ``derivative``,
    and ``example`` arguments with the ``output`` they give. ``name`` is the NumPy ufunc's
    unless given; ``like`` names the NumPy function it behaves like (``name`` by default)."""
    ufunc, bind = primitive.impl, primitive.bind
    name = name or ufunc.__name__

    def function(*args, **kwargs):
        # keyword arguments (out=, where=, dtype=...) go on to the primitive, whose shape rule
        # refuses them, as it does a wrong number of arguments, naming funcgrad.numpy.<name>
        return bind(*args, **kwargs)

    names = ["x"] if ufunc.nin == 1 else [f"x{i + 1}" for i in range(ufunc.nin)]
    signature = inspect.Signature([inspect.Parameter(n, _POSITIONAL) for n in names])
    function.__signature__ = signature  # type: ignore[attr-defined]
    function.__name__ = function.__qualname__ = name
    function.__module__ = "funcgrad.numpy"
    what = f"{summary}, elementwise (like numpy.{like or name}: broadcasting, NEP 50 promotion)."
    function.__doc__ = "\n\n".join([
        _fill(what), _fill(derivative),
        f"Example:\n    >>> fnp.{name}({example})\n    " + output.replace("\n", "\n    ")])
    return function


def _fill(text: str) -> str:
    """``text`` wrapped to 88 columns, "NEP 50" kept on one line."""
    return textwrap.fill(text.replace("NEP 50", "NEP\N{NO-BREAK SPACE}50"), 88
                         ).replace("\N{NO-BREAK SPACE}", " ")


_BOOLEAN = "Zero gradient: the result is boolean."
_INTEGER = "Zero gradient: the result is an integer (bitwise)."
_STEPS = "Zero gradient: the result is piecewise constant."
_COMPARES = "np.array([1, 2, 3]), 2"
_TRUTHS = "np.array([True, True, False]), np.array([True, False, False])"

# --- the table: function = _ufunc(primitive, what it computes, its derivative, example
# arguments, and what the example prints) ------------------------------------------------
negative = _ufunc(ew.neg_p, "``-x``", "Derivative: -1.",
                  "np.array([1.0, -2.0])", "array([-1.,  2.])")
absolute = _ufunc(ew.abs_p, "The absolute value ``|x|``",
                  "Derivative: sign(x), so 0 at x = 0 (JAX's is 1; see docs/sharp-bits.md).",
                  "np.array([-1.5, 0.0, 2.0])", "array([1.5, 0. , 2. ])")
sign = _ufunc(ew.sign_p, "The sign of x: -1, 0 or 1 (NaN for NaN)", _STEPS,
              "np.array([-2.0, 0.0, 3.0])", "array([-1.,  0.,  1.])")
exp = _ufunc(ew.exp_p, "``e ** x``", "Derivative: exp(x).",
             "np.array([0.0, 1.0])", "array([1.        , 2.71828183])")
exp2 = _ufunc(ew.exp2_p, "``2 ** x``", "Derivative: exp2(x) * log(2).",
              "np.array([0.0, 3.0])", "array([1., 8.])")
expm1 = _ufunc(ew.expm1_p, "``exp(x) - 1``, accurate for small x", "Derivative: exp(x).",
               "np.array([0.0, 1e-10])", "array([0.e+00, 1.e-10])")
log = _ufunc(ew.log_p, "The natural logarithm of x", "Derivative: 1 / x.",
             "np.array([1.0, np.e])", "array([0., 1.])")
log1p = _ufunc(ew.log1p_p, "``log(1 + x)``, accurate for small x", "Derivative: 1 / (1 + x).",
               "np.array([0.0, 1e-10])", "array([0.e+00, 1.e-10])")
log2 = _ufunc(ew.log2_p, "The base-2 logarithm of x", "Derivative: 1 / (x * log(2)).",
              "np.array([1.0, 8.0])", "array([0., 3.])")
log10 = _ufunc(ew.log10_p, "The base-10 logarithm of x", "Derivative: 1 / (x * log(10)).",
               "np.array([1.0, 1000.0])", "array([0., 3.])")
sqrt = _ufunc(ew.sqrt_p, "The non-negative square root of x",
              "Derivative: 1 / (2 * sqrt(x)), inf at x = 0.",
              "np.array([4.0, 9.0])", "array([2., 3.])")
cbrt = _ufunc(ew.cbrt_p, "The cube root of x",
              "Derivative: 1 / (3 * cbrt(x) ** 2), inf at x = 0.",
              "np.array([-8.0, 27.0])", "array([-2.,  3.])")
sin = _ufunc(ew.sin_p, "The sine of x (in radians)", "Derivative: cos(x).",
             "np.array([0.0, np.pi / 2])", "array([0., 1.])")
cos = _ufunc(ew.cos_p, "The cosine of x (in radians)", "Derivative: -sin(x).",
             "np.array([0.0, np.pi])", "array([ 1., -1.])")
tan = _ufunc(ew.tan_p, "The tangent of x (in radians)", "Derivative: 1 + tan(x) ** 2.",
             "np.array([0.0, np.pi / 4])", "array([0., 1.])")
arcsin = _ufunc(ew.arcsin_p, "The inverse sine of x, in [-pi/2, pi/2]",
                "Derivative: 1 / sqrt(1 - x ** 2).",
                "np.array([0.0, 1.0])", "array([0.        , 1.57079633])")
arccos = _ufunc(ew.arccos_p, "The inverse cosine of x, in [0, pi]",
                "Derivative: -1 / sqrt(1 - x ** 2).",
                "np.array([1.0, 0.0])", "array([0.        , 1.57079633])")
arctan = _ufunc(ew.arctan_p, "The inverse tangent of x, in (-pi/2, pi/2)",
                "Derivative: 1 / (1 + x ** 2).",
                "np.array([0.0, 1.0])", "array([0.        , 0.78539816])")
sinh = _ufunc(ew.sinh_p, "The hyperbolic sine of x", "Derivative: cosh(x).",
              "np.array([0.0, 1.0])", "array([0.        , 1.17520119])")
cosh = _ufunc(ew.cosh_p, "The hyperbolic cosine of x", "Derivative: sinh(x).",
              "np.array([0.0, 1.0])", "array([1.        , 1.54308063])")
tanh = _ufunc(ew.tanh_p, "The hyperbolic tangent of x", "Derivative: 1 - tanh(x) ** 2.",
              "np.array([0.0, 1.0])", "array([0.        , 0.76159416])")
arcsinh = _ufunc(ew.arcsinh_p, "The inverse hyperbolic sine of x",
                 "Derivative: 1 / sqrt(x ** 2 + 1).",
                 "np.array([0.0, 1.0])", "array([0.        , 0.88137359])")
arccosh = _ufunc(ew.arccosh_p, "The inverse hyperbolic cosine of x (x >= 1)",
                 "Derivative: 1 / sqrt(x ** 2 - 1).",
                 "np.array([1.0, 2.0])", "array([0.       , 1.3169579])")
arctanh = _ufunc(ew.arctanh_p, "The inverse hyperbolic tangent of x (|x| < 1)",
                 "Derivative: 1 / (1 - x ** 2).",
                 "np.array([0.0, 0.5])", "array([0.        , 0.54930614])")
floor = _ufunc(ew.floor_p, "The largest integer <= x", _STEPS,
               "np.array([-1.5, 1.5])", "array([-2.,  1.])")
ceil = _ufunc(ew.ceil_p, "The smallest integer >= x", _STEPS,
              "np.array([-1.5, 1.5])", "array([-1.,  2.])")
rint = _ufunc(ew.rint_p, "x rounded to the nearest integer, halves to even", _STEPS,
              "np.array([0.5, 1.5, 2.5])", "array([0., 2., 2.])")
isfinite = _ufunc(ew.isfinite_p, "Whether x is finite (neither infinite nor NaN)", _BOOLEAN,
                  "np.array([1.0, np.inf, np.nan])", "array([ True, False, False])")
isnan = _ufunc(ew.isnan_p, "Whether x is NaN", _BOOLEAN,
               "np.array([1.0, np.inf, np.nan])", "array([False, False,  True])")
isinf = _ufunc(ew.isinf_p, "Whether x is infinite (of either sign)", _BOOLEAN,
               "np.array([1.0, -np.inf, np.nan])", "array([False,  True, False])")
logical_not = _ufunc(ew.logical_not_p, "NOT x, x taken as true where non-zero", _BOOLEAN,
                     "np.array([0.0, 2.0])", "array([ True, False])")
invert = _ufunc(ew.invert_p, "Bitwise NOT ``~x`` of integers (logical NOT of booleans)",
                _INTEGER, "np.array([0, 5])", "array([-1, -6])")
add = _ufunc(ew.add_p, "``x1 + x2``", "Derivative: 1 for each argument.",
             "np.array([1.0, 2.0], np.float32), 0.5", "array([1.5, 2.5], dtype=float32)")
subtract = _ufunc(ew.sub_p, "``x1 - x2``", "Derivatives: 1 for x1, -1 for x2.",
                  "np.array([5.0, 7.0]), 1", "array([4., 6.])")
multiply = _ufunc(ew.mul_p, "``x1 * x2``", "Derivatives: x2 for x1, x1 for x2.",
                  "np.array([1.0, 2.0]), 3", "array([3., 6.])")
divide = _ufunc(ew.div_p, "``x1 / x2``, true division (integers give floats)",
                "Derivatives: 1 / x2 for x1, -x1 / x2 ** 2 for x2.",
                "np.array([1, 2]), 4", "array([0.25, 0.5 ])")
floor_divide = _ufunc(ew.floor_divide_p, "``x1 // x2``, rounded towards minus infinity",
                      _STEPS, "np.array([7, -7]), 2", "array([ 3, -4])")
remainder = _ufunc(ew.mod_p, "``x1 % x2``, with the sign of x2 (as Python's ``%``)",
                   "Derivatives: 1 for x1, -floor(x1 / x2) for x2.",
                   "np.array([7, -7]), 3", "array([1, 2])")
maximum = _ufunc(ew.max_p, "The larger of x1 and x2 (NaN if either is NaN)",
                 "The gradient goes to the larger argument; at ties each gets half (as in "
                 "JAX).", "np.array([1.0, 5.0, np.nan]), 3.0", "array([ 3.,  5., nan])")
minimum = _ufunc(ew.min_p, "The smaller of x1 and x2 (NaN if either is NaN)",
                 "The gradient goes to the smaller argument; at ties each gets half (as in "
                 "JAX).", "np.array([1.0, 5.0, np.nan]), 3.0", "array([ 1.,  3., nan])")
arctan2 = _ufunc(ew.arctan2_p, "``arctan(x1 / x2)`` in the quadrant of the point (x2, x1), in "
                 "[-pi, pi]",
                 "Derivatives: x2 / (x1 ** 2 + x2 ** 2) for x1, -x1 / (x1 ** 2 + x2 ** 2) for "
                 "x2.", "np.array([1.0, -1.0]), np.array([-1.0, -1.0])",
                 "array([ 2.35619449, -2.35619449])")
hypot = _ufunc(ew.hypot_p, "``sqrt(x1 ** 2 + x2 ** 2)``, without overflow",
               "Derivatives: x1 / hypot(x1, x2) for x1, x2 / hypot(x1, x2) for x2; both 0 at "
               "(0, 0), as the 2-norm's gradient at 0.",
               "np.array([3.0, 5.0]), np.array([4.0, 12.0])", "array([ 5., 13.])")
logaddexp = _ufunc(ew.logaddexp_p, "``log(exp(x1) + exp(x2))``, without overflow",
                   "Derivatives: exp(x1 - logaddexp(x1, x2)) for x1, and likewise for x2 (a "
                   "softmax of the two).", "np.array([0.0, 1000.0]), np.array([0.0, 1000.0])",
                   "array([6.93147181e-01, 1.00069315e+03])")
equal = _ufunc(ew.eq_p, "``x1 == x2``", _BOOLEAN, _COMPARES, "array([False,  True, False])")
not_equal = _ufunc(ew.ne_p, "``x1 != x2``", _BOOLEAN, _COMPARES, "array([ True, False,  True])")
less = _ufunc(ew.lt_p, "``x1 < x2``", _BOOLEAN, _COMPARES, "array([ True, False, False])")
less_equal = _ufunc(ew.le_p, "``x1 <= x2``", _BOOLEAN, _COMPARES,
                    "array([ True,  True, False])")
greater = _ufunc(ew.gt_p, "``x1 > x2``", _BOOLEAN, _COMPARES, "array([False, False,  True])")
greater_equal = _ufunc(ew.ge_p, "``x1 >= x2``", _BOOLEAN, _COMPARES,
                       "array([False,  True,  True])")
logical_and = _ufunc(ew.logical_and_p, "x1 AND x2, each taken as true where non-zero",
                     _BOOLEAN, _TRUTHS, "array([ True, False, False])")
logical_or = _ufunc(ew.logical_or_p, "x1 OR x2, each taken as true where non-zero",
                    _BOOLEAN, _TRUTHS, "array([ True,  True, False])")
logical_xor = _ufunc(ew.logical_xor_p, "x1 XOR x2, each taken as true where non-zero",
                     _BOOLEAN, _TRUTHS, "array([False,  True, False])")
bitwise_and = _ufunc(ew.bitwise_and_p, "``x1 & x2``, bitwise on integers and booleans",
                     _INTEGER, "np.array([12, 10]), 6", "array([4, 2])")
bitwise_or = _ufunc(ew.bitwise_or_p, "``x1 | x2``, bitwise on integers and booleans",
                    _INTEGER, "np.array([12, 10]), 6", "array([14, 14])")
bitwise_xor = _ufunc(ew.bitwise_xor_p, "``x1 ^ x2``, bitwise on integers and booleans",
                     _INTEGER, "np.array([12, 10]), 6", "array([10, 12])")
fabs = _ufunc(ew.fabs_p, "The absolute value ``|x|`` as a float (integers give floats)",
              "Derivative: sign(x), so 0 at x = 0 (as absolute's).",
              "np.array([-1.5, 2.0])", "array([1.5, 2. ])")
trunc = _ufunc(ew.trunc_p, "x rounded towards zero (integers stay integers, as in NumPy 2)",
               _STEPS, "np.array([-1.7, 1.7])", "array([-1.,  1.])")
signbit = _ufunc(ew.signbit_p, "Whether x's sign bit is set (True for -0.0 and negatives)",
                 _BOOLEAN, "np.array([-0.0, 0.0, -2.0])", "array([ True, False,  True])")
logaddexp2 = _ufunc(ew.logaddexp2_p, "``log2(2 ** x1 + 2 ** x2)``, without overflow",
                    "Derivatives: 2 ** (x1 - logaddexp2(x1, x2)) for x1, and likewise for x2.",
                    "np.array([1.0, 10.0]), np.array([1.0, 0.0])",
                    "array([ 2.        , 10.00140819])")
copysign = _ufunc(ew.copysign_p, "``|x1|`` with the sign (bit) of x2", "Derivatives: sign(x1) "
                  "times x2's sign for x1 (0 at x1 = 0, as for absolute); 0 for x2.",
                  "np.array([1.0, -2.0]), -1.0", "array([-1., -2.])")
heaviside = _ufunc(ew.heaviside_p, "The step function: 0 where x1 < 0, x2 where x1 == 0, 1 where "
                   "x1 > 0 (NaN where x1 is NaN)", "Derivatives: 0 for x1 (piecewise constant); "
                   "1 for x2 where x1 == 0, else 0.", "np.array([-1.0, 0.0, 2.0]), 0.5",
                   "array([0. , 0.5, 1. ])")

# NumPy's other names for the same functions
ldexp = _ufunc(ew.ldexp_p, "``x1 * 2 ** x2`` for integer x2, exactly (no overflow on the way)",
               "Derivative: 2 ** x2 for x1; x2 is an integer.",
               "np.array([0.75, 1.0]), np.array([2, -3])", "array([3.   , 0.125])")
nextafter = _ufunc(ew.nextafter_p, "The next float after x1 towards x2", _STEPS,
                   "np.float32(1.0), np.float32(2.0)", "np.float32(1.0000001)")
spacing = _ufunc(ew.spacing_p, "The distance from x to the next float away from zero", _STEPS,
                 "np.array([1.0, 1e10])", "array([2.22044605e-16, 1.90734863e-06])")
gcd = _ufunc(ew.gcd_p, "The greatest common divisor of |x1| and |x2| (integers)", _INTEGER,
             "np.array([12, -20, 0]), 8", "array([4, 4, 8])")
lcm = _ufunc(ew.lcm_p, "The least common multiple of |x1| and |x2| (integers)", _INTEGER,
             "np.array([12, -20, 0]), 8", "array([24, 40,  0])")
left_shift = _ufunc(ew.left_shift_p, "``x1 << x2``: the bits of integer x1 shifted up by x2, "
                    "wrapping around in the result's width (a count < 0 or >= the width "
                    "gives 0)", _INTEGER, "np.array([1, 3, 64], np.uint8), 2",
                    "array([ 4, 12,  0], dtype=uint8)")
right_shift = _ufunc(ew.right_shift_p, "``x1 >> x2``: integer x1 shifted down by x2 bits, "
                     "filling with its sign (x1 // 2 ** x2; a count < 0 or >= the width gives "
                     "0, or -1 for a negative x1)", _INTEGER,
                     "np.array([-16, 16], np.int8), 2", "array([-4,  4], dtype=int8)")

abs = absolute  # noqa: A001
true_divide = divide
mod = remainder
# the array API's names (NumPy 2 has them too)
acos, asin, atan, atan2, pow = arccos, arcsin, arctan, arctan2, power  # noqa: A001
acosh, asinh, atanh = arccosh, arcsinh, arctanh
bitwise_invert = bitwise_not = invert
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def positive(x):
    """``+x``: ``x`` itself (like numpy.positive). Derivative: 1.

    Example:
        >>> fnp.positive(np.array([-1.0, 2.0]))
        array([-1.,  2.])
    """
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
    """``1 / x``, elementwise (like numpy.reciprocal; integers truncate, as in NumPy).

    Derivative: -1 / x ** 2 (zero for integers).

    Example:
        >>> fnp.reciprocal(np.array([2.0, 4.0]))
        array([0.5 , 0.25])
    """
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
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (like numpy.isclose). Boolean result:
    zero gradient.

    Example:
        >>> fnp.isclose(np.array([1.0, 1.1]), 1.0)
        array([ True, False])
    """
    a, b = scalar_or_array(a), scalar_or_array(b)
    close = less_equal(absolute(a - b), atol + rtol * absolute(b))
    close = logical_or(close, equal(a, b))  # infinities of the same sign
    if equal_nan:
        close = logical_or(close, logical_and(isnan(a), isnan(b)))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether all elements are close (like numpy.allclose): ``all(isclose(a, b))``.

    Example:
        >>> fnp.allclose(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
        np.True_
    """
    from funcgrad.numpy._reductions import all as all_
    return all_(isclose(a, b, rtol, atol, equal_nan))


def sinc(x):
    """The normalized sinc function ``sin(pi x) / (pi x)``, 1 at x = 0 (like numpy.sinc).

    Its derivatives are right at and near 0 (d/dx sinc(0) = 0, d2/dx2 = -pi ** 2 / 3): where
    ``|pi x| < 0.1`` it is computed from its Taylor series (to the x ** 8 term, exact to
    rounding there), so neither the value nor any derivative divides 0 by 0.

    Example:
        >>> fnp.sinc(np.array([0.0, 0.5, 1.0]))
        array([1.00000000e+00, 6.36619772e-01, 3.89817183e-17])
        >>> float(fg.grad(fnp.sinc)(0.0))
        0.0
    """
    y = scalar_or_array(x) * np.pi  # integers and booleans become float64, as in NumPy
    small = absolute(y) < 0.1
    safe = ew.where(small, 1.0, y)  # keeps sin(y) / y away from 0 / 0, and its derivative
    y2 = y * y
    series = 1.0 + y2 * (-1 / 6 + y2 * (1 / 120 + y2 * (-1 / 5040 + y2 * (1 / 362880))))
    return ew.where(small, series, sin(safe) / safe)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (like
    numpy.nan_to_num); by default 0 and the largest and smallest finite values of x's dtype.
    Integers and booleans are returned as they are. ``copy`` is accepted and ignored: arrays
    are never modified.

    Derivative: 1 where x is finite, 0 where it was replaced.

    Example:
        >>> fnp.nan_to_num(np.array([np.nan, np.inf, 1.0]), posinf=9.0)
        array([0., 9., 1.])
    """
    x = scalar_or_array(x)
    dtype = dtype_of(x)
    if dtype.kind != "f":
        return x
    big = np.finfo(dtype).max
    value = {"nan": nan, "posinf": big if posinf is None else posinf,
             "neginf": -big if neginf is None else neginf}
    with np.errstate(over="ignore"):  # a replacement too large for float32 is inf, as in NumPy
        nan, posinf, neginf = (dtype.type(value[k]) for k in ("nan", "posinf", "neginf"))
    x = ew.where(isnan(x), nan, x)
    x = ew.where(equal(x, np.inf), posinf, x)
    return ew.where(equal(x, -np.inf), neginf, x)


def _scaled(x, ufunc, factor: float):
    """x times ``factor`` in the float dtype NumPy's ``ufunc`` gives x (integers: float64)."""
    x = scalar_or_array(x)
    aval = x.aval if isinstance(x, Tracer) else aval_of(x)
    x = ew.convert_element_type(x, ew._ufunc_dtype(ufunc, [aval]))
    return x * factor


def deg2rad(x):
    """Degrees to radians, ``x * pi / 180`` (like numpy.deg2rad). Derivative: pi / 180.

    Example:
        >>> fnp.deg2rad(np.array([180.0, 90.0]))
        array([3.14159265, 1.57079633])
    """
    return _scaled(x, np.deg2rad, np.pi / 180)


def rad2deg(x):
    """Radians to degrees, ``x * 180 / pi`` (like numpy.rad2deg). Derivative: 180 / pi.

    Example:
        >>> fnp.rad2deg(np.array([np.pi, 1.0]))
        array([180.        ,  57.29577951])
    """
    return _scaled(x, np.rad2deg, 180 / np.pi)


radians, degrees = deg2rad, rad2deg


def _float_of(x, ufunc=np.sqrt):
    """``x`` in the float dtype NumPy's ``ufunc`` computes it in (integers: float64)."""
    x = scalar_or_array(x)
    aval = x.aval if isinstance(x, Tracer) else aval_of(x)
    return ew.convert_element_type(x, ew._ufunc_dtype(ufunc, [aval]), aval.weak_type)


def fmax(x1, x2, /):
    """The larger of x1 and x2, elementwise, ignoring a NaN: NaN only where both are NaN
    (like numpy.fmax and JAX's). The gradient goes to the larger argument, at ties half to
    each (as for maximum), and to the other argument where one is NaN.

    Example:
        >>> fnp.fmax(np.array([1.0, 5.0, np.nan]), 3.0)
        array([3., 5., 3.])
    """
    return _nan_ignoring(maximum, x1, x2)


def fmin(x1, x2, /):
    """The smaller of x1 and x2, elementwise, ignoring a NaN: NaN only where both are NaN
    (like numpy.fmin and JAX's). The gradient goes to the smaller argument, at ties half to
    each (as for minimum), and to the other argument where one is NaN.

    Example:
        >>> fnp.fmin(np.array([1.0, 5.0, np.nan]), 3.0)
        array([1., 3., 3.])
    """
    return _nan_ignoring(minimum, x1, x2)


def _nan_ignoring(pick, x1, x2):
    """``pick(x1, x2)`` (maximum or minimum, which propagate NaN), but where one operand is
    NaN the other one."""
    x1, x2 = scalar_or_array(x1), scalar_or_array(x2)
    picked = pick(x1, x2)
    if dtype_of(picked).kind != "f":  # integers and booleans have no NaN
        return picked
    return ew.where(isnan(x1), x2, ew.where(isnan(x2), x1, picked))


def fmod(x1, x2, /):
    """The remainder of ``x1 / x2`` truncated towards zero, with the sign of x1 (like
    numpy.fmod, C's fmod; ``remainder`` has the sign of x2). Integer x2 = 0 gives 0, as
    NumPy does.

    Derivatives: 1 for x1, -trunc(x1 / x2) for x2.

    Example:
        >>> fnp.fmod(np.array([-7.0, 7.0]), 3.0)
        array([-1.,  1.])
        >>> fnp.fmod(np.array([-7, 7]), -3)
        array([-1,  1])
    """
    x1, x2 = scalar_or_array(x1), scalar_or_array(x2)
    avals = [x.aval if isinstance(x, Tracer) else aval_of(x) for x in (x1, x2)]
    if ew._ufunc_dtype(np.fmod, avals).kind == "f":
        return ew.fmod(x1, x2)
    # integers: from remainder (sign of x2), exactly; Numba's integer fmod is unreliable
    r = remainder(x1, x2)
    return ew.where(logical_and(not_equal(r, 0), not_equal(less(r, 0), less(x1, 0))),
                    subtract(r, x2), r)


def divmod(x1, x2, /):  # noqa: A001
    """``(floor_divide(x1, x2), remainder(x1, x2))`` (like numpy.divmod, Python's divmod).

    Example:
        >>> fnp.divmod(np.array([7.0, -7.0]), 2.0)
        (array([ 3., -4.]), array([1., 1.]))
    """
    return floor_divide(x1, x2), remainder(x1, x2)


def modf(x, /):
    """The fractional and integral parts of x, both with x's sign (like numpy.modf;
    integers give floats). Derivatives: 1 for the fractional part, 0 for the integral.

    Example:
        >>> fnp.modf(np.array([2.5, -1.25, np.inf]))
        (array([ 0.5 , -0.25,  0.  ]), array([ 2., -1., inf]))
    """
    x = _float_of(x)
    finite = ew.where(isinf(x), 0.0, x)  # inf's fraction is 0 (not inf - inf)
    # copysign: -2.0 - -2.0 is +0.0, and NumPy's fractional part is -0.0
    return copysign(finite - trunc(finite), x), trunc(x)


def frexp(x, /):
    """Mantissa and exponent: ``x = m * 2 ** e`` with ``0.5 <= |m| < 1`` (like numpy.frexp;
    m = x and e = 0 for 0, inf and NaN). ``e`` is int32. Derivative of m: 2 ** -e.

    Example:
        >>> fnp.frexp(np.array([8.0, -0.75, 0.0]))
        (array([ 0.5 , -0.75,  0.  ]), array([4, 0, 0], dtype=int32))
    """
    x = _float_of(x)
    regular = logical_and(isfinite(x), not_equal(x, 0))
    safe = ew.where(regular, x, 1.0)
    e = ew.convert_element_type(floor(log2(absolute(safe))), np.int32) + 1
    m = ldexp(safe, -e)
    for too_far, scale, step in ((absolute(m) >= 1, 0.5, 1), (absolute(m) < 0.5, 2.0, -1)):
        m, e = ew.where(too_far, m * scale, m), ew.where(too_far, e + step, e)  # log2 rounds
    return ew.where(regular, m, x), ew.where(regular, e, np.int32(0))


def float_power(x1, x2, /):
    """``x1 ** x2`` computed in float64 at least (like numpy.float_power): integers and
    float32 are promoted, so negative powers of integers work.

    Example:
        >>> fnp.float_power(np.array([2, 4]), -1)
        array([0.5 , 0.25])
    """
    x1, x2 = scalar_or_array(x1), scalar_or_array(x2)
    return power(ew.convert_element_type(x1, np.float64),
                 x2 if type(x2) in (int, float) else ew.convert_element_type(x2, np.float64))


def isposinf(x, /):
    """Whether x is +inf, elementwise (like numpy.isposinf). Boolean result.

    Example:
        >>> fnp.isposinf(np.array([np.inf, -np.inf, 1.0]))
        array([ True, False, False])
    """
    return equal(scalar_or_array(x), np.inf)


def isneginf(x, /):
    """Whether x is -inf, elementwise (like numpy.isneginf). Boolean result.

    Example:
        >>> fnp.isneginf(np.array([np.inf, -np.inf, 1.0]))
        array([False,  True, False])
    """
    return equal(scalar_or_array(x), -np.inf)


def i0(x):
    """The modified Bessel function of the first kind, order 0 (like numpy.i0), as
    ``i0e(|x|) * exp(|x|)``; floats keep their dtype (as in JAX), integers give float64.
    Derivative: i1(x).

    Example:
        >>> fnp.i0(np.array([0.0, 1.0]))
        array([1.        , 1.26606588])
    """
    from funcgrad.ops.special import i0e_p
    a = absolute(_float_of(x, np.exp))
    return i0e_p.bind(a) * exp(a)


def array_equal(a1, a2, equal_nan=False):
    """Whether ``a1`` and ``a2`` have the same shape and elements (like numpy.array_equal;
    NaN equals NaN if ``equal_nan``). A boolean; traced when the arrays are.

    Example:
        >>> fnp.array_equal(np.array([1.0, np.nan]), np.array([1.0, np.nan]), equal_nan=True)
        np.True_
    """
    from funcgrad.numpy._reductions import all as all_
    from funcgrad.numpy._util import array_arg, shape_of
    a1, a2 = array_arg(a1), array_arg(a2)
    if shape_of(a1) != shape_of(a2):
        return np.False_
    same = equal(a1, a2)
    if equal_nan and np.result_type(a1.dtype, a2.dtype).kind == "f":
        same = logical_or(same, logical_and(isnan(a1), isnan(a2)))
    return all_(same)


def array_equiv(a1, a2):
    """Whether ``a1`` and ``a2`` broadcast together and are equal (like numpy.array_equiv).

    Example:
        >>> fnp.array_equiv(np.array([1.0, 2.0]), np.array([[1.0, 2.0], [1.0, 2.0]]))
        np.True_
    """
    from funcgrad.numpy._reductions import all as all_
    from funcgrad.numpy._util import array_arg, shape_of
    a1, a2 = array_arg(a1), array_arg(a2)
    try:
        np.broadcast_shapes(shape_of(a1), shape_of(a2))
    except ValueError:
        return np.False_
    return all_(equal(a1, a2))


def bitwise_count(x, /):
    """The number of 1 bits in each integer's absolute value, as uint8 (like
    numpy.bitwise_count). Zero gradient: the result is an integer.

    Example:
        >>> fnp.bitwise_count(np.array([0, 7, -8, 255]))
        array([0, 3, 1, 8], dtype=uint8)
    """
    x = array_arg(x, "x")
    dtype = x.dtype
    if dtype.kind == "b":
        return ew.convert_element_type(x, np.dtype(np.uint8))
    if dtype.kind not in "iu":
        raise FuncgradTypeError(f"bitwise_count needs integers or booleans, got {dtype}")
    unsigned = np.dtype(f"u{dtype.itemsize}")
    v = ew.convert_element_type(ew.abs_p.bind(x) if dtype.kind == "i" else x, unsigned)
    # the bits summed in pairs, then fours, then bytes; a multiply adds up the bytes
    # (abs of the most negative integer is itself: read as unsigned, its one bit)
    ones, width = (~np.zeros((), unsigned)), dtype.itemsize * 8

    def mask(pattern):
        return unsigned.type(ones // 255 * pattern)
    v = v - (right_shift(v, 1) & mask(0x55))
    v = (v & mask(0x33)) + (right_shift(v, 2) & mask(0x33))
    v = (v + right_shift(v, 4)) & mask(0x0F)
    return ew.convert_element_type(right_shift(v * mask(0x01), width - 8), np.dtype(np.uint8))
