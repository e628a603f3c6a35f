"""JAX's ``jax.lax`` array operations, for code ported from JAX: each written with
funcgrad.numpy (so every transformation and ``jit`` apply) and re-exported by
``funcgrad.lax``. They are more permissive than XLA's: operands broadcast and promote as in
NumPy, where JAX's lax insists on equal shapes and dtypes.

Example:
    >>> from funcgrad import lax
    >>> lax.dynamic_slice(np.arange(6.0), (4,), (3,))   # the start is clamped, as in JAX
    array([3., 4., 5.])
"""

from __future__ import annotations

import builtins

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.core.errors import ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import aval_of
from funcgrad.numpy._indexing import getitem as _getitem
from funcgrad.numpy._util import array_arg, normalize_axis
from funcgrad.ops.elementwise import stop_gradient as _stop_gradient
from funcgrad.ops.linalg import dot_general as _dot_general
from funcgrad.scipy import special as _special

__all__ = ["stop_gradient", "add", "sub", "mul", "div", "neg", "max", "min", "abs", "sign",
           "exp", "log", "log1p", "expm1", "tanh", "logistic", "sin", "cos", "sqrt", "rsqrt",
           "square", "integer_pow", "pow", "erf", "erf_inv", "lgamma", "digamma", "clamp",
           "convert_element_type", "select_n", "dot", "dot_general", "reduce_sum",
           "reduce_max", "reduce_min", "reduce_prod", "cumsum", "cumprod", "full",
           "full_like", "iota", "broadcasted_iota", "reshape", "transpose", "broadcast",
           "broadcast_in_dim", "squeeze", "expand_dims", "rev", "concatenate", "pad",
           "slice", "slice_in_dim", "index_in_dim", "dynamic_slice", "dynamic_slice_in_dim",
           "dynamic_index_in_dim", "dynamic_update_slice", "dynamic_update_slice_in_dim",
           "dynamic_update_index_in_dim", "sort", "top_k"]


def _operand_aval(x):
    """The type of an operand, traced or not (for error messages)."""
    return x.aval if isinstance(x, Tracer) else aval_of(x)


def stop_gradient(x):
    """``x`` (a pytree) with a zero derivative: it is a constant to every transformation.

    Example:
        >>> from funcgrad import lax
        >>> float(fg.grad(lambda x: x * lax.stop_gradient(x))(3.0))
        3.0
    """
    return tree.map(_stop_gradient, x)


def add(x, y):
    """x + y.

    Example:
        >>> lax.add(np.array([1.0]), 2.0)
        array([3.])
    """
    return fnp.add(x, y)


def sub(x, y):
    """x - y.

    Example:
        >>> lax.sub(np.array([1.0]), 2.0)
        array([-1.])
    """
    return fnp.subtract(x, y)


def mul(x, y):
    """x * y.

    Example:
        >>> lax.mul(np.array([1.5]), 2.0)
        array([3.])
    """
    return fnp.multiply(x, y)


def div(x, y):
    """x / y, rounding toward zero for integers (as XLA's division, unlike ``//``).

    Example:
        >>> lax.div(np.array([-7, 7]), 2), lax.div(np.array([1.0]), 4.0)
        (array([-3,  3]), array([0.25]))
    """
    x, y = array_arg(x, "x"), array_arg(y, "y")
    if np.result_type(x.dtype, y.dtype).kind in "iu":
        quotient = fnp.floor_divide(fnp.abs(x), fnp.abs(y))
        return fnp.where((x < 0) != (y < 0), -quotient, quotient)
    return fnp.true_divide(x, y)


def neg(x):
    """-x.

    Example:
        >>> lax.neg(np.array([1.0]))
        array([-1.])
    """
    return fnp.negative(x)


def max(x, y):  # noqa: A001  (jax.lax.max)
    """The elementwise maximum.

    Example:
        >>> lax.max(np.array([1.0, 5.0]), 2.0)
        array([2., 5.])
    """
    return fnp.maximum(x, y)


def min(x, y):  # noqa: A001  (jax.lax.min)
    """The elementwise minimum.

    Example:
        >>> lax.min(np.array([1.0, 5.0]), 2.0)
        array([1., 2.])
    """
    return fnp.minimum(x, y)


def abs(x):  # noqa: A001  (jax.lax.abs)
    """|x|.

    Example:
        >>> lax.abs(np.array([-1.5]))
        array([1.5])
    """
    return fnp.abs(x)


def sign(x):
    """The sign of x (-1, 0 or 1).

    Example:
        >>> lax.sign(np.array([-2.0, 0.0]))
        array([-1.,  0.])
    """
    return fnp.sign(x)


def exp(x):
    """e^x.

    Example:
        >>> lax.exp(np.array([0.0]))
        array([1.])
    """
    return fnp.exp(x)


def log(x):
    """The natural logarithm.

    Example:
        >>> lax.log(np.array([1.0]))
        array([0.])
    """
    return fnp.log(x)


def log1p(x):
    """log(1 + x), accurate for small x.

    Example:
        >>> lax.log1p(np.array([0.0]))
        array([0.])
    """
    return fnp.log1p(x)


def expm1(x):
    """e^x - 1, accurate for small x.

    Example:
        >>> lax.expm1(np.array([0.0]))
        array([0.])
    """
    return fnp.expm1(x)


def tanh(x):
    """The hyperbolic tangent.

    Example:
        >>> lax.tanh(np.array([0.0]))
        array([0.])
    """
    return fnp.tanh(x)


def logistic(x):
    """1 / (1 + e^-x).

    Example:
        >>> lax.logistic(np.array([0.0]))
        array([0.5])
    """
    return _special.expit(x)


def sin(x):
    """The sine.

    Example:
        >>> lax.sin(np.array([0.0]))
        array([0.])
    """
    return fnp.sin(x)


def cos(x):
    """The cosine.

    Example:
        >>> lax.cos(np.array([0.0]))
        array([1.])
    """
    return fnp.cos(x)


def sqrt(x):
    """The square root.

    Example:
        >>> lax.sqrt(np.array([4.0]))
        array([2.])
    """
    return fnp.sqrt(x)


def rsqrt(x):
    """1 / sqrt(x).

    Example:
        >>> lax.rsqrt(np.array([4.0]))
        array([0.5])
    """
    return 1.0 / fnp.sqrt(x)


def square(x):
    """x * x.

    Example:
        >>> lax.square(np.array([3.0]))
        array([9.])
    """
    return fnp.square(x)


def integer_pow(x, y: int):
    """x ** y for a Python int y (exact repeated multiplication).

    Example:
        >>> lax.integer_pow(np.array([2.0]), 3)
        array([8.])
    """
    return fnp.power(x, int(y))


def pow(x, y):  # noqa: A001  (jax.lax.pow)
    """x ** y.

    Example:
        >>> lax.pow(np.array([4.0]), 0.5)
        array([2.])
    """
    return fnp.power(x, y)


def erf(x):
    """The error function.

    Example:
        >>> lax.erf(np.array([0.0]))
        array([0.])
    """
    return _special.erf(x)


def erf_inv(x):
    """The inverse error function.

    Example:
        >>> lax.erf_inv(np.array([0.0]))
        array([0.])
    """
    return _special.erfinv(x)


def lgamma(x):
    """log |Gamma(x)|.

    Example:
        >>> lax.lgamma(np.array([1.0]))
        array([0.])
    """
    return _special.gammaln(x)


def digamma(x):
    """The digamma function (the derivative of lgamma).

    Example:
        >>> lax.digamma(np.array([1.0]))
        array([-0.57721566])
    """
    return _special.digamma(x)


def clamp(min, x, max):  # noqa: A002  (jax.lax.clamp's argument order and names)
    """x limited to [min, max] (note the argument order, JAX's).

    Example:
        >>> lax.clamp(0.0, np.array([-1.0, 0.5, 2.0]), 1.0)
        array([0. , 0.5, 1. ])
    """
    return fnp.clip(x, min, max)


def convert_element_type(operand, new_dtype):
    """``operand`` converted to ``new_dtype``. Floats become integers as in XLA: truncated
    towards zero and saturated at the integer dtype's range, NaN giving 0 (NumPy's ``astype``
    leaves those undefined).

    Example:
        >>> lax.convert_element_type(np.array([1.7, -1.0, 300.0, np.nan]), np.uint8)
        array([  1,   0, 255,   0], dtype=uint8)
    """
    new_dtype = np.dtype(new_dtype)
    operand = array_arg(operand, "operand")
    if operand.dtype.kind == "f" and new_dtype.kind in "iu":
        return _saturating_astype(operand, new_dtype)
    return fnp.astype(operand, new_dtype)


def _saturating_astype(x, int_dtype):
    """Float ``x`` as ``int_dtype``, NaN as 0 and beyond the range as its ends. Clipped
    first to the floats of x's dtype inside the range (int64's largest is not a float:
    clipped to it, a float would round up out of range), then set to the largest integer
    where x is above them."""
    info = np.iinfo(int_dtype)
    lo, hi = (np.asarray(bound, x.dtype) for bound in (info.min, info.max))
    if int(hi) > info.max:
        hi = np.nextafter(hi, x.dtype.type(0))
    inside = fnp.astype(fnp.where(fnp.isnan(x), x.dtype.type(0), fnp.clip(x, lo, hi)),
                        int_dtype)
    # (the largest as a 0-d array: as a literal, uint64's would not fit compiled code's int64s)
    return fnp.where(x > hi, np.asarray(info.max, int_dtype), inside)


def select_n(which, *cases):
    """``cases[which]`` elementwise: with a boolean ``which``, ``cases[1]`` where it is true.

    Example:
        >>> lax.select_n(np.array([0, 2, 1]), np.zeros(3), np.ones(3), np.full(3, 2.0))
        array([0., 2., 1.])
    """
    if not cases:
        raise ValueError("select_n needs at least one case")
    which = array_arg(which, "which")
    out = cases[0]
    for k, case in enumerate(cases[1:], start=1):
        out = fnp.where(which == k if which.dtype != np.bool_ else which, case, out)
    return out


def dot(lhs, rhs, precision=None, preferred_element_type=None):
    """The vector, matrix-vector or matrix product of arrays of at most two axes.

    Example:
        >>> lax.dot(np.eye(2), np.array([1.0, 2.0]))
        array([1., 2.])
    """
    lhs, rhs = _preferred(lhs, rhs, preferred_element_type)
    return fnp.dot(lhs, rhs)


def _preferred(lhs, rhs, dtype):
    """The operands in ``preferred_element_type``, the dtype JAX gives the product (int8
    operands accumulate in int32 when asked for it)."""
    if dtype is None:
        return lhs, rhs
    return fnp.astype(lhs, dtype), fnp.astype(rhs, dtype)


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """The general contraction: ``dimension_numbers = ((lhs_contract, rhs_contract),
    (lhs_batch, rhs_batch))``; the result's axes are the batch axes, then lhs's free axes,
    then rhs's.

    Example:
        >>> lax.dot_general(np.ones((2, 3)), np.ones((3, 4)), (((1,), (0,)), ((), ()))).shape
        (2, 4)
    """
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = _preferred(array_arg(lhs, "lhs"), array_arg(rhs, "rhs"), preferred_element_type)
    return _dot_general(lhs, rhs,
                        (tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))


def reduce_sum(operand, axes):
    """The sum over ``axes``.

    Example:
        >>> lax.reduce_sum(np.ones((2, 3)), (1,))
        array([3., 3.])
    """
    return fnp.sum(operand, axis=tuple(axes), dtype=_kept_dtype(operand))


def reduce_max(operand, axes):
    """The maximum over ``axes``.

    Example:
        >>> lax.reduce_max(np.array([[1.0, 5.0]]), (1,))
        array([5.])
    """
    return fnp.max(operand, axis=tuple(axes), **_identity(operand, axes, "max"))


def reduce_min(operand, axes):
    """The minimum over ``axes``.

    Example:
        >>> lax.reduce_min(np.array([[1.0, 5.0]]), (1,))
        array([1.])
    """
    return fnp.min(operand, axis=tuple(axes), **_identity(operand, axes, "min"))


def reduce_prod(operand, axes):
    """The product over ``axes``.

    Example:
        >>> lax.reduce_prod(np.array([[2.0, 5.0]]), (1,))
        array([10.])
    """
    return fnp.prod(operand, axis=tuple(axes), dtype=_kept_dtype(operand))


def _kept_dtype(operand):
    """The dtype of a sum or product: the operand's, as in JAX's lax, where NumPy's widen
    small integers (an int8 sum wraps around in int8). Booleans sum as NumPy's do."""
    dtype = fnp.asarray(operand).dtype
    return None if dtype == np.bool_ else dtype


def _identity(operand, axes, which: str) -> dict:
    """``initial=`` for reduce_max or reduce_min over an empty axis: the identity JAX's
    reduction gives (-inf for max of floats, the dtype's lowest integer...) where NumPy's
    has none and raises. Nothing for non-empty axes, whose result does not need it."""
    shape = fnp.shape(operand)
    if all(shape[a] for a in axes):
        return {}
    dtype = np.dtype(fnp.asarray(operand).dtype)
    bounds: tuple
    if dtype == np.bool_:
        bounds = (False, True)
    elif dtype.kind == "f":
        bounds = (-np.inf, np.inf)
    else:
        bounds = (np.iinfo(dtype).min, np.iinfo(dtype).max)
    return {"initial": bounds[0] if which == "max" else bounds[1]}


def cumsum(operand, axis: int = 0, reverse: bool = False):
    """Running sums along ``axis`` (from the end if ``reverse``).

    Example:
        >>> lax.cumsum(np.array([1.0, 2.0, 3.0]), reverse=True)
        array([6., 5., 3.])
    """
    if reverse:
        return fnp.flip(cumsum(fnp.flip(operand, axis), axis), axis)
    return fnp.cumsum(operand, axis=axis, dtype=_kept_dtype(operand))


def cumprod(operand, axis: int = 0, reverse: bool = False):
    """Running products along ``axis`` (from the end if ``reverse``).

    Example:
        >>> lax.cumprod(np.array([1.0, 2.0, 3.0]))
        array([1., 2., 6.])
    """
    if reverse:
        return fnp.flip(cumprod(fnp.flip(operand, axis), axis), axis)
    return fnp.cumprod(operand, axis=axis, dtype=_kept_dtype(operand))


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value``.

    Example:
        >>> lax.full((2,), 3.0)
        array([3., 3.])
    """
    return fnp.full(shape, fill_value, dtype=dtype)


def full_like(x, fill_value, dtype=None, shape=None):
    """An array like ``x`` filled with ``fill_value``.

    Example:
        >>> lax.full_like(np.zeros(2), 1.5)
        array([1.5, 1.5])
    """
    return fnp.full_like(x, fill_value, dtype=dtype, shape=shape)


def iota(dtype, size: int):
    """0, 1, ..., size - 1 in ``dtype``.

    Example:
        >>> lax.iota(np.int32, 3)
        array([0, 1, 2], dtype=int32)
    """
    return fnp.arange(size, dtype=dtype)


def broadcasted_iota(dtype, shape, dimension: int):
    """An array of ``shape`` whose values count along axis ``dimension``.

    Example:
        >>> lax.broadcasted_iota(np.int32, (2, 3), 1)
        array([[0, 1, 2],
               [0, 1, 2]], dtype=int32)
    """
    shape = tuple(shape)
    line = fnp.reshape(fnp.arange(shape[dimension], dtype=dtype),
                       tuple(n if i == dimension else 1 for i, n in enumerate(shape)))
    return fnp.broadcast_to(line, shape)


def reshape(operand, new_sizes, dimensions=None):
    """``operand`` reshaped (its axes first permuted by ``dimensions`` if given).

    Example:
        >>> lax.reshape(np.arange(6.0), (2, 3)).shape
        (2, 3)
    """
    if dimensions is not None:
        operand = fnp.transpose(operand, tuple(dimensions))
    return fnp.reshape(operand, tuple(new_sizes))


def transpose(operand, permutation):
    """``operand``'s axes permuted.

    Example:
        >>> lax.transpose(np.zeros((2, 3)), (1, 0)).shape
        (3, 2)
    """
    return fnp.transpose(operand, tuple(permutation))


def broadcast(operand, sizes):
    """``operand`` with new leading axes of ``sizes``.

    Example:
        >>> lax.broadcast(np.array([1.0, 2.0]), (3,)).shape
        (3, 2)
    """
    operand = array_arg(operand, "operand")
    return fnp.broadcast_to(operand, tuple(sizes) + tuple(operand.shape))


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    """``operand`` broadcast to ``shape``, its axis i becoming axis
    ``broadcast_dimensions[i]`` of the result.

    Example:
        >>> lax.broadcast_in_dim(np.array([1.0, 2.0]), (2, 3), (0,))
        array([[1., 1., 1.],
               [2., 2., 2.]])
    """
    operand = array_arg(operand, "operand")
    shape, dims = tuple(shape), tuple(broadcast_dimensions)
    if len(dims) != operand.ndim:
        raise ShapeError(f"broadcast_in_dim: {len(dims)} broadcast_dimensions for an operand "
                         f"of {operand.ndim} axes")
    kept = [1] * len(shape)
    for axis, dim in zip(range(operand.ndim), dims):
        kept[dim] = operand.shape[axis]
    return fnp.broadcast_to(fnp.reshape(operand, tuple(kept)), shape)


def squeeze(array, dimensions):
    """``array`` without the axes ``dimensions`` (each of length 1).

    Example:
        >>> lax.squeeze(np.zeros((1, 3)), (0,)).shape
        (3,)
    """
    return fnp.squeeze(array, axis=tuple(dimensions))


def expand_dims(array, dimensions):
    """``array`` with new axes of length 1 at ``dimensions``.

    Example:
        >>> lax.expand_dims(np.zeros(3), (0,)).shape
        (1, 3)
    """
    return fnp.expand_dims(array, tuple(dimensions))


def rev(operand, dimensions):
    """``operand`` reversed along ``dimensions``.

    Example:
        >>> lax.rev(np.array([1.0, 2.0, 3.0]), (0,))
        array([3., 2., 1.])
    """
    return fnp.flip(operand, tuple(dimensions))


def concatenate(operands, dimension: int):
    """The operands joined along axis ``dimension``.

    Example:
        >>> lax.concatenate([np.zeros(2), np.ones(1)], 0)
        array([0., 0., 1.])
    """
    return fnp.concatenate(list(operands), axis=dimension)


def pad(operand, padding_value, padding_config):
    """``operand`` padded with ``padding_value``: ``padding_config`` holds (low, high,
    interior) per axis: ``interior`` values between neighbours, then ``low`` before and
    ``high`` after (negative ones crop).

    Example:
        >>> lax.pad(np.array([1.0, 2.0]), 0.0, [(1, 2, 0)])
        array([0., 1., 2., 0., 0.])
    """
    operand = array_arg(operand, "operand")
    padding_config = [tuple(c) for c in padding_config]
    if len(padding_config) != operand.ndim:
        raise ShapeError(f"lax.pad needs one (low, high, interior) per axis of "
                         f"{_operand_aval(operand)}, got "
                         f"{len(padding_config)} (low, high, interior)")
    for axis, ((lo, hi, interior), n) in enumerate(zip(padding_config, operand.shape)):
        if interior < 0 or lo + hi + n + interior * builtins.max(n - 1, 0) < 0:
            raise ShapeError(f"lax.pad: (low, high, interior) = {(lo, hi, interior)} does not "
                             f"fit axis {axis} of {_operand_aval(operand)}: interior must be "
                             f">= 0 and the padded size at least 0")
    from funcgrad.lax._windows import _padded  # (which builds on this module)
    return _padded(operand, 0, [(lo, hi) for lo, hi, _ in padding_config],
                   [interior + 1 for _, _, interior in padding_config], padding_value)


def slice(operand, start_indices, limit_indices, strides=None):  # noqa: A001
    """``operand[start:limit:stride]`` on every axis, static bounds.

    Example:
        >>> lax.slice(np.arange(10.0), (2,), (8,), (3,))
        array([2., 5.])
    """
    operand = array_arg(operand, "operand")
    strides = strides or (1,) * len(start_indices)
    _check_slice(operand, start_indices, limit_indices, strides, "lax.slice")
    return operand[tuple(
        builtins.slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))]


def _check_slice(operand, starts, limits, strides, what):
    """Bounds within the operand, as JAX's lax requires: Python slicing would clip them."""
    if not len(starts) == len(limits) == len(strides) == operand.ndim:
        raise ShapeError(f"{what} needs one start and one limit per axis of "
                         f"{_operand_aval(operand)}, got "
                         f"starts {tuple(starts)} and limits {tuple(limits)}")
    for axis, (a, b, s, n) in enumerate(zip(starts, limits, strides, operand.shape)):
        if not 0 <= a <= b <= n or s < 1:
            raise ShapeError(f"{what}: start {a}, limit {b} and stride {s} do not fit axis "
                             f"{axis} of {_operand_aval(operand)}: they need "
                             f"0 <= start <= limit <= {n} and stride >= 1")


def slice_in_dim(operand, start_index, limit_index, stride: int = 1, axis: int = 0):
    """``operand[start:limit:stride]`` along ``axis``, static bounds.

    Example:
        >>> lax.slice_in_dim(np.arange(6.0).reshape(2, 3), 1, 3, axis=1)
        array([[1., 2.],
               [4., 5.]])
    """
    operand = array_arg(operand, "operand")
    axis = normalize_axis(axis, operand.ndim)
    n = operand.shape[axis]
    # None and negative bounds count as in JAX's slice_in_dim (from the end of the axis)
    start_index = 0 if start_index is None else start_index + n * (start_index < 0)
    limit_index = n if limit_index is None else limit_index + n * (limit_index < 0)
    starts, limits = [0] * operand.ndim, list(operand.shape)
    strides = [1] * operand.ndim
    starts[axis], limits[axis], strides[axis] = start_index, limit_index, stride
    return slice(operand, starts, limits, strides)


def index_in_dim(operand, index: int, axis: int = 0, keepdims: bool = True):
    """Element ``index`` along ``axis`` (a static index), keeping that axis if ``keepdims``.

    Example:
        >>> lax.index_in_dim(np.arange(6.0).reshape(2, 3), 1, axis=1)
        array([[1.],
               [4.]])
    """
    out = slice_in_dim(operand, index, index + 1 if index != -1 else None, axis=axis)
    return out if keepdims else fnp.squeeze(out, axis=axis)


def _clamped_starts(operand, start_indices, slice_sizes):
    """JAX's rule: each start, possibly traced, counts from the end if negative and is then
    clamped so that the slice fits."""
    if len(start_indices) != operand.ndim or len(slice_sizes) != operand.ndim:
        raise ShapeError(f"dynamic slice of an array of {operand.ndim} axes needs one start "
                         f"and one size per axis, got {len(start_indices)} and "
                         f"{len(slice_sizes)}")
    for n, size in zip(operand.shape, slice_sizes):
        if not 0 <= size <= n:
            raise ShapeError(f"dynamic slice: size {size} does not fit an axis of {n}")
    return [fnp.clip(_from_end(fnp.astype(start, np.int64), n), 0, n - size)
            for start, n, size in zip(start_indices, operand.shape, slice_sizes)]


def _from_end(start, n: int):
    """A negative start counts from the end of its axis of ``n``, as JAX's does (once:
    what is still negative is then clamped)."""
    return fnp.where(start < 0, start + n, start)


def _index_grids(starts, sizes):
    """Broadcastable index arrays selecting the block at ``starts`` of ``sizes``."""
    ndim = len(sizes)
    return tuple(fnp.reshape(start + fnp.arange(size),
                             tuple(size if i == axis else 1 for i in range(ndim)))
                 for axis, (start, size) in enumerate(zip(starts, sizes)))


def dynamic_slice(operand, start_indices, slice_sizes):
    """The block of ``slice_sizes`` at ``start_indices``, which may be traced; each start is
    clamped so that the block fits (JAX's rule), and the sizes are static.

    Example:
        >>> lax.dynamic_slice(np.arange(6.0), (4,), (3,))
        array([3., 4., 5.])
    """
    operand = array_arg(operand, "operand")
    sizes = tuple(int(s) for s in slice_sizes)
    starts = _clamped_starts(operand, start_indices, sizes)
    # (funcgrad's indexing: the operand may be a NumPy array and the starts traced)
    return _getitem(operand, _index_grids(starts, sizes))


def dynamic_slice_in_dim(operand, start_index, slice_size: int, axis: int = 0):
    """``dynamic_slice`` along one axis.

    Example:
        >>> lax.dynamic_slice_in_dim(np.arange(6.0), 1, 2)
        array([1., 2.])
    """
    operand = array_arg(operand, "operand")
    axis = axis % operand.ndim
    starts = [start_index if i == axis else 0 for i in range(operand.ndim)]
    sizes = [slice_size if i == axis else n for i, n in enumerate(operand.shape)]
    return dynamic_slice(operand, starts, sizes)


def dynamic_index_in_dim(operand, index, axis: int = 0, keepdims: bool = True):
    """Element ``index`` (possibly traced) along ``axis``, keeping the axis if ``keepdims``.

    Example:
        >>> lax.dynamic_index_in_dim(np.arange(6.0).reshape(3, 2), 2, keepdims=False)
        array([4., 5.])
    """
    out = dynamic_slice_in_dim(operand, index, 1, axis)
    return out if keepdims else fnp.squeeze(out, axis=axis)


def dynamic_update_slice(operand, update, start_indices):
    """``operand`` with the block at ``start_indices`` (possibly traced, clamped so that it
    fits) replaced by ``update``.

    Example:
        >>> lax.dynamic_update_slice(np.zeros(5), np.ones(2), (4,))
        array([0., 0., 0., 1., 1.])
    """
    operand, update = array_arg(operand, "operand"), array_arg(update, "update")
    if update.ndim != operand.ndim:
        raise ShapeError(f"dynamic_update_slice: an update of {update.ndim} axes for an "
                         f"operand of {operand.ndim}")
    starts = _clamped_starts(operand, start_indices, tuple(update.shape))
    return fnp.at(operand)[_index_grids(starts, tuple(update.shape))].set(update)


def dynamic_update_slice_in_dim(operand, update, start_index, axis: int):
    """``dynamic_update_slice`` along one axis.

    Example:
        >>> lax.dynamic_update_slice_in_dim(np.zeros(4), np.ones(2), 1, 0)
        array([0., 1., 1., 0.])
    """
    operand = array_arg(operand, "operand")
    axis = axis % operand.ndim
    return dynamic_update_slice(operand, update,
                                [start_index if i == axis else 0 for i in range(operand.ndim)])


def dynamic_update_index_in_dim(operand, update, index, axis: int):
    """``operand`` with element ``index`` along ``axis`` replaced by ``update`` (which may
    lack that axis).

    Example:
        >>> lax.dynamic_update_index_in_dim(np.zeros((3, 2)), np.ones(2), 1, 0)
        array([[0., 0.],
               [1., 1.],
               [0., 0.]])
    """
    operand, update = array_arg(operand, "operand"), array_arg(update, "update")
    if update.ndim == operand.ndim - 1:
        update = fnp.expand_dims(update, axis)
    return dynamic_update_slice_in_dim(operand, update, index, axis)


def sort(operand, dimension: int = -1, is_stable: bool = True, num_keys: int = 1):
    """``operand`` sorted along ``dimension``; a tuple of operands is sorted by the first
    (``num_keys`` 1), the others permuted alike, as in JAX.

    Example:
        >>> lax.sort((np.array([3.0, 1.0, 2.0]), np.array([30.0, 10.0, 20.0])))
        (array([1., 2., 3.]), array([10., 20., 30.]))
    """
    if not isinstance(operand, (tuple, list)):
        return fnp.sort(operand, axis=dimension)
    if num_keys != 1:
        raise NotImplementedError("lax.sort: only num_keys=1 is supported")
    order = fnp.argsort(operand[0], axis=dimension)
    return tuple(fnp.take_along_axis(x, order, axis=dimension) for x in operand)


def top_k(operand, k: int):
    """The ``k`` largest values along the last axis, in descending order, and their int32
    indices (ties: the lower index first; NaN counts as the largest, as in JAX).

    Example:
        >>> lax.top_k(np.array([1.0, 4.0, 2.0, 4.0]), 2)
        (array([4., 4.]), array([1, 3], dtype=int32))
    """
    operand = array_arg(operand, "operand")
    if not 0 <= k <= (operand.shape[-1] if operand.ndim else 0):
        raise ShapeError(f"top_k needs 0 <= k <= the size of the last axis, got k={k} for "
                         f"{_operand_aval(operand)}")
    # a descending sort, not an ascending one of -operand: negating wraps unsigned and the
    # lowest signed integers around, and keeps NaN last where JAX's counts it the largest
    order = fnp.argsort(operand, axis=-1, descending=True, stable=True)[..., :k]
    return fnp.take_along_axis(operand, order, axis=-1), fnp.astype(order, np.int32)
