"""What the distributions share: argument conversion, standardizing by loc and scale, and
SciPy's nan for invalid parameters."""

from __future__ import annotations

import math

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.types import promote_types
from funcgrad.numpy._util import aval_of_arg, broadcast_shape, inexact_dtype, scalar_or_array

LOG_2PI = math.log(2 * math.pi)
LOG_PI = math.log(math.pi)


def arrays(*xs, elementwise=True):
    """The arguments in one floating dtype, as JAX's promote_args_inexact: their dtypes
    promoted (Python numbers are weak: a float32 x with loc=0.0 stays float32), integers and
    booleans made floating (``inexact_dtype``: int32 gives float32, int64 float64), and
    Python numbers converted to it too, as JAX's weak scalars take the arrays' dtype. Unless
    ``elementwise`` is False, shapes that do not broadcast are a ShapeError naming the
    caller's line, as a funcgrad.numpy function's (NumPy's operators would raise a bare
    ValueError on concrete arrays)."""
    xs = [scalar_or_array(x) for x in xs]
    if elementwise:
        broadcast_shape(*xs)
    avals = [aval_of_arg(x) for x in xs]
    # JAX's lattice puts every float above every integer (int64 with float32 is float32,
    # where NumPy says float64), so integers and booleans count only when no float is there
    floats = [a for a in avals if a.dtype.kind == "f"]
    dtype = inexact_dtype(promote_types(*(floats or avals))[0])
    return [dtype.type(x) if type(x) in (float, int, bool) else
            x if x.dtype == dtype else x.astype(dtype) for x in xs]


def standardize(x, loc, scale):
    """(x - loc) / scale, with scale replaced by 1 where it is invalid (<= 0), so that the
    invalid branch never produces an inf or nan that would reach a gradient."""
    safe_scale = fnp.where(scale > 0, scale, 1.0)
    return (x - loc) / safe_scale, safe_scale


def invalid_as_nan(valid, value, at=None):
    """``value`` where the parameters are valid, else nan (SciPy's answer); nan also where
    the point ``at`` is nan, which fails every test of the support and would otherwise get
    the value outside it (-inf, 0 or 1)."""
    if at is not None:
        valid = fnp.logical_and(valid, fnp.logical_not(fnp.isnan(at)))
    return fnp.where(valid, value, np.nan)


def clip_to_support(z, low, high=np.inf):
    """z clipped to [low, high], with derivative 0 at the edges themselves (the derivative
    from outside the support, as log_probability's and JAX's gamma and beta cdf): clip's
    would be half the density there, and an infinite density (gamma's for a < 1) times the
    zero cotangent of a branch where() drops would be nan."""
    return fnp.where(z <= low, low, fnp.where(z >= high, high, z))


def clip_into_support(z, low, high=np.inf):
    """z clipped to [low, high], with the derivative 1 at the edges themselves (the
    derivative from inside the support, as JAX's expon, uniform and pareto, whose formula
    covers the closed support): clip's would be 1/2 there, half the density. nan stays nan
    (it fails both tests)."""
    return fnp.where(z < low, low, fnp.where(z > high, high, z))


def positive_or_one(x):
    """x where x > 0, else 1: for logs in a branch that where() drops."""
    return fnp.where(x > 0, x, 1.0)


def log1p_square(u):
    """log(1 + u^2) without overflowing u^2 (|u| > 1e154): as 2 log|u| + log1p(1 / u^2) for
    |u| > 1. Each branch sees a safe value."""
    big = fnp.abs(u) > 1
    large, small = fnp.where(big, u, 1.0), fnp.where(big, 0.0, u)
    inverse = 1 / large
    return fnp.where(big, 2 * fnp.log(fnp.abs(large)) + fnp.log1p(inverse * inverse),
                     fnp.log1p(small * small))


def is_integer(k):
    return k == fnp.floor(k)


def log_probability(p, complement):
    """log(p), as log1p(-complement) where p > 1/2: there 1 - p is known more accurately than
    p itself (log(cdf) would round to 0 in the upper tail). Where p is 0 (outside the
    support) it is -inf with gradient 0, as JAX's, not log's 0 / 0: p is flat there (at
    the support's edge the derivative from outside). Each branch sees a safe value."""
    near_one, zero = p > 0.5, p == 0
    return fnp.where(near_one, fnp.log1p(-fnp.where(near_one, complement, 0.0)),
                     fnp.where(zero, -np.inf, fnp.log(fnp.where(near_one | zero, 1.0, p))))
