"""NumPy's functions of values written with other funcgrad.numpy functions: differences,
the trapezoidal rule, polynomials, Vandermonde matrices and the choosers select and piecewise.
Built from slices, arithmetic, where and sums, they get every derivative and batching rule
of those, and compile wherever they do."""

from __future__ import annotations

import functools
import operator

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._creation import asarray, ones, zeros, zeros_like
from funcgrad.numpy._reductions import cumprod, sum as sum_
from funcgrad.numpy._shape import (broadcast_to, concatenate, expand_dims, flip, ravel,
                                   reshape)
from funcgrad.numpy._ufuncs import logical_not, logical_or, not_equal, subtract, where
from funcgrad.numpy._util import array_arg, dtype_of, normalize_axis, scalar_or_array


def _along(ndim, axis, index):
    """The index that takes ``index`` (a slice) along ``axis`` and everything elsewhere."""
    return tuple(index if i == axis else slice(None) for i in range(ndim))


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th difference ``a[i + 1] - a[i]`` along ``axis`` (like numpy.diff), after
    joining ``prepend`` and ``append`` (scalars are broadcast) to the ends. Booleans give
    ``a[i + 1] != a[i]``, as in NumPy.

    Example:
        >>> fnp.diff(np.array([1.0, 4.0, 9.0, 16.0]))
        array([3., 5., 7.])
        >>> fnp.diff(np.array([1.0, 4.0, 9.0, 16.0]), n=2, prepend=0.0)
        array([2., 2., 2.])
    """
    n = operator.index(n)
    if n < 0:
        raise FuncgradValueError(f"diff: the order n must be non-negative, got {n}")
    if n == 0:
        return a
    a = array_arg(a)
    if a.ndim == 0:
        raise ShapeError("diff needs an array of at least one axis")
    axis = normalize_axis(axis, a.ndim)
    parts = [a]
    for end, at in ((prepend, 0), (append, 1)):
        if end is not None:
            end = array_arg(end)
            if end.ndim == 0:
                end = broadcast_to(end, [1 if i == axis else d for i, d in enumerate(a.shape)])
            parts.insert(at * len(parts), end)
    a = concatenate(parts, axis) if len(parts) > 1 else a
    later, earlier = _along(a.ndim, axis, slice(1, None)), _along(a.ndim, axis, slice(None, -1))
    op = not_equal if a.dtype == np.bool_ else subtract
    for _ in range(n):
        a = op(a[later], a[earlier])
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """The differences of the flattened array, with ``to_begin`` and ``to_end`` (flattened)
    joined to the ends (like numpy.ediff1d). The result has ``ary``'s dtype.

    Example:
        >>> fnp.ediff1d(np.array([1.0, 2.0, 4.0]), to_end=[0.0], to_begin=-1.0)
        array([-1.,  1.,  2.,  0.])
    """
    a = ravel(array_arg(ary))
    if to_begin is None and to_end is None:
        return a[1:] - a[:-1]
    parts = [a[1:] - a[:-1]]
    for end, at, name in ((to_begin, 0, "to_begin"), (to_end, 1, "to_end")):
        if end is not None:
            end = array_arg(end)
            if not np.can_cast(end.dtype, a.dtype, casting="same_kind"):
                raise FuncgradTypeError(f"ediff1d: dtype of {name} ({end.dtype}) must be "
                                        f"compatible with the input's ({a.dtype})")
            parts.insert(at * len(parts), ravel(end))
    return concatenate([asarray(p, a.dtype) for p in parts], 0)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule (like numpy.trapezoid):
    at the points ``x`` (1-D, or of ``y``'s shape) or spaced ``dx`` apart. Differentiable in
    ``y``, ``x`` and ``dx``.

    Example:
        >>> fnp.trapezoid(np.array([1.0, 2.0, 3.0]), x=np.array([0.0, 1.0, 3.0]))
        np.float64(6.5)
        >>> fg.grad(lambda y: fnp.trapezoid(y, dx=0.5))(np.ones(3))
        array([0.25, 0.5 , 0.25])
    """
    y = array_arg(y)
    if y.ndim == 0:
        raise ShapeError("trapezoid needs an array of at least one axis")
    axis = normalize_axis(axis, y.ndim)
    if x is None:
        d = scalar_or_array(dx)
    else:
        x = array_arg(x)
        if x.ndim == 1:
            d = diff(x)
            d = reshape(d, [d.shape[0] if i == axis else 1 for i in range(y.ndim)])
        else:
            d = diff(x, axis=axis)
    later, earlier = _along(y.ndim, axis, slice(1, None)), _along(y.ndim, axis, slice(None, -1))
    return sum_(d * (y[later] + y[earlier]) / 2.0, axis)


def polyval(p, x):
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, by Horner's
    rule (like numpy.polyval). Differentiable in both.

    Example:
        >>> fnp.polyval(np.array([3.0, 0.0, 1.0]), np.array([1.0, 2.0]))
        array([ 4., 13.])
        >>> fg.grad(fnp.polyval, argnums=1)(np.array([3.0, 0.0, 1.0]), 2.0)
        np.float64(12.0)
    """
    p, x = array_arg(p), array_arg(x)
    if p.ndim == 0:
        raise FuncgradTypeError("polyval: the coefficients p must be a sequence")
    y = zeros_like(x)
    for i in range(p.shape[0]):
        y = y * x + p[i]
    return y


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D ``x``: columns ``x ** (N - 1), ..., x, 1`` (or the
    other way round if ``increasing``), like numpy.vander, by repeated multiplication
    (exact gradient at zero). Integers and floats are widened as NumPy does (to int64,
    float64).

    Example:
        >>> fnp.vander(np.array([1.0, 2.0, 3.0]), 3)
        array([[1., 1., 1.],
               [4., 2., 1.],
               [9., 3., 1.]])
    """
    x = array_arg(x)
    if x.ndim != 1:
        raise ShapeError(f"vander: x must be one-dimensional, got {x.ndim} axes")
    n = x.shape[0]
    N = n if N is None else operator.index(N)
    if N < 0:
        raise ShapeError(f"vander: N must not be negative, got {N}")
    dtype = np.promote_types(x.dtype, np.int64)
    x = asarray(x, dtype)
    if N == 0:
        return zeros((n, 0), dtype)
    v = ones((n, 1), dtype)
    if N > 1:  # x, x * x, x * x * x...: NumPy's own products, and no 0 ** 0 in the gradient
        powers = cumprod(broadcast_to(expand_dims(x, 1), (n, N - 1)), axis=1)
        v = concatenate([v, powers], 1)
    return v if increasing else flip(v, 1)


def select(condlist, choicelist, default=0):
    """Elementwise, the choice of the first condition that holds, else ``default`` (like
    numpy.select). Conditions must be boolean; they may be traced.

    Example:
        >>> x = np.arange(6.0)
        >>> fnp.select([x < 2, x > 3], [x, x ** 2], default=-1.0)
        array([ 0.,  1., -1., -1., 16., 25.])
    """
    if len(condlist) != len(choicelist):
        raise ShapeError("select: list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ShapeError("select with an empty condition list is not possible")
    conditions = [scalar_or_array(c) for c in condlist]
    for i, c in enumerate(conditions):
        if dtype_of(c) != np.bool_:
            raise FuncgradTypeError(f"select: invalid entry {i} in condlist: it should be "
                                    f"boolean, not {dtype_of(c)}")
    choices = [scalar_or_array(c) for c in [*choicelist, default]]
    dtype = np.result_type(*map(_dtype_or_weak_scalar, choices))  # all at once, as NumPy
    result = asarray(choices[-1], dtype)
    for condition, choice in zip(conditions[::-1], choices[-2::-1]):
        result = where(condition, asarray(choice, dtype), result)
    return result


def _dtype_or_weak_scalar(x):
    """What np.result_type needs to promote ``x`` as NEP 50 does: Python numbers (and traced
    ones) stay weak."""
    if type(x) in (int, float):
        return x
    if isinstance(x, Tracer) and x.aval.weak_type:
        return x.dtype.type(0).item()
    return dtype_of(x)


def piecewise(x, condlist, funclist, *args, **kw):
    """``funclist[i](x)`` (or the value ``funclist[i]``) where ``condlist[i]`` holds, the
    last matching condition winning; one function more than conditions covers everywhere
    else; 0 where nothing applies. Like numpy.piecewise, with one difference that makes it
    traceable: every function is applied to all of ``x`` and the results chosen with where,
    so a function must not fail where its condition does not hold (and, as with any where,
    a NaN or infinite derivative there would spoil the gradient: keep each function finite
    on all of ``x``). The result has ``x``'s dtype.

    Example:
        >>> x = np.array([-2.0, -1.0, 1.0, 2.0])
        >>> fnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])
        array([2., 1., 1., 4.])
        >>> fnp.piecewise(x, [x < 0], [0.0, lambda v: 3 * v])
        array([0., 0., 3., 6.])
    """
    x = array_arg(x)
    conditions = [broadcast_to(c, x.shape) for c in _conditions(condlist, x.ndim)]
    n, n_functions = len(conditions), len(funclist)
    if n == n_functions - 1:  # the last function applies where no condition holds
        conditions.append(logical_not(functools.reduce(logical_or, conditions)) if conditions
                          else broadcast_to(np.True_, x.shape))
    elif n != n_functions:
        raise ShapeError(f"piecewise: with {n} condition(s), either {n} or {n + 1} functions "
                         "are expected")
    y = zeros_like(x)
    for condition, function in zip(conditions, funclist):
        value = function(x, *args, **kw) if callable(function) else function
        y = where(condition, asarray(scalar_or_array(value), x.dtype), y)
    return y


def _conditions(condlist, x_ndim):
    """piecewise's conditions as a list of boolean arrays. As NumPy does, a lone condition
    (a scalar, or an array whose first item is not itself an array or list while x is not a
    scalar) counts as a list of one."""
    if isinstance(condlist, (Tracer, np.ndarray)):
        items = [condlist] if condlist.ndim <= 1 and (condlist.ndim == 0 or x_ndim != 0) \
            else [condlist[i] for i in range(condlist.shape[0])]
    elif np.isscalar(condlist):
        items = [condlist]
    else:
        first = condlist[0] if len(condlist) else None
        one = not isinstance(first, (list, np.ndarray, Tracer)) and x_ndim != 0
        items = [condlist] if one else list(condlist)
    out = []
    for c in items:
        c = array_arg(c) if isinstance(c, (list, tuple)) else scalar_or_array(c)
        out.append(c if dtype_of(c) == np.bool_ else not_equal(c, 0))
    return out


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """``p`` with its jumps of more than ``discont`` (by default ``period / 2``) along
    ``axis`` taken off by multiples of ``period`` (like numpy.unwrap): phase angles made
    continuous. Differentiable in ``p`` (the corrections are piecewise constant).

    Example:
        >>> fnp.unwrap(np.array([0.0, 3.0, -3.0, -0.5]))
        array([0.        , 3.        , 3.28318531, 5.78318531])
    """
    p = array_arg(p)
    if p.dtype.kind != "f":
        p = asarray(p, np.float64)
    axis = normalize_axis(axis, p.ndim)
    from funcgrad.numpy._reductions import cumsum
    from funcgrad.numpy._ufuncs import absolute, logical_and, mod
    dd = diff(p, axis=axis)
    discont = period / 2 if discont is None else discont
    high = period / 2
    ddmod = mod(dd + high, period) - high
    # a jump of exactly half a period goes the way the data went (NumPy's rule)
    ddmod = where(logical_and(ddmod == -high, dd > 0), high, ddmod)
    correction = where(absolute(dd) < discont, 0.0, ddmod - dd)
    first = p[_along(p.ndim, axis, slice(0, 1))]
    rest = p[_along(p.ndim, axis, slice(1, None))] + cumsum(correction, axis)
    return concatenate([first, asarray(rest, p.dtype)], axis)
