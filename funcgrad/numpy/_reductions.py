"""Reductions and cumulative functions under NumPy's names."""

from __future__ import annotations

import builtins
import textwrap

import numpy as np

from funcgrad.core.errors import ShapeError
from funcgrad.numpy._util import array_arg, normalize_axes, normalize_axis, unsupported
from funcgrad.ops import reductions as red
from funcgrad.ops.shape import reshape


def _keepdims(result, shape, axes):
    return reshape(result, [1 if i in axes else d for i, d in enumerate(shape)])


def _in(result, dtype):
    """``result`` in the ``dtype=`` asked for: an integer sum widens to int64 as it goes, and
    wrapping at the end gives the same numbers as wrapping at each step."""
    return result if dtype is None or result.dtype == dtype else result.astype(dtype)


def _reduce(name, reduce, a, axis, dtype, keepdims, empty_ok=True, widen=None):
    """``widen``: the result's dtype for ``a``'s, where it differs (a sum of int8 is int64)."""
    a = array_arg(a)
    if dtype is not None:
        a = a.astype(dtype)
    axes = normalize_axes(axis, a.ndim)
    if not empty_ok and builtins.any(a.shape[i] == 0 for i in axes):
        raise ShapeError(f"zero-size array to reduction operation {name} which has no identity")
    result = reduce(a, axes) if axes else a  # no axis (a 0-d a, axis=()): a, widened
    if not axes and widen is not None and widen(a.dtype) != a.dtype:
        result = a.astype(widen(a.dtype))
    return _in(_keepdims(result, a.shape, axes) if keepdims else result, dtype)


# NumPy's signatures, positional order included (np.max has no dtype; np.sum has)

def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Sum of elements over ``axis`` (like numpy.sum).

    Example:
        >>> fnp.sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
        array([4., 6.])
    """
    unsupported("sum", out=out, initial=initial, where=where)
    return _reduce("sum", red.reduce_sum, a, axis, dtype, keepdims, widen=red.sum_dtype)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product of elements over ``axis`` (like numpy.prod); exact gradient at zeros.

    Example:
        >>> fnp.prod(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        array([ 2., 12.])
        >>> fg.grad(fnp.prod)(np.array([2.0, 0.0, 3.0]))
        array([0., 6., 0.])
    """
    unsupported("prod", out=out, initial=initial, where=where)
    return _reduce("prod", red.reduce_prod, a, axis, dtype, keepdims, widen=red.sum_dtype)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Maximum over ``axis`` (like numpy.max). Ties share the gradient equally.

    Example:
        >>> fnp.max(np.array([[1.0, 5.0], [4.0, 2.0]]), axis=0)
        array([4., 5.])
        >>> fg.grad(fnp.max)(np.array([1.0, 3.0, 3.0]))
        array([0. , 0.5, 0.5])
    """
    unsupported("max", out=out, initial=initial, where=where)
    return _reduce("max", red.reduce_max, a, axis, None, keepdims, empty_ok=False)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Minimum over ``axis`` (like numpy.min). Ties share the gradient equally.

    Example:
        >>> fnp.min(np.array([[1.0, 5.0], [4.0, 2.0]]), axis=1)
        array([1., 2.])
    """
    unsupported("min", out=out, initial=initial, where=where)
    return _reduce("min", red.reduce_min, a, axis, None, keepdims, empty_ok=False)
amax, amin = max, min


def _as_bool(a):
    from funcgrad.numpy._ufuncs import not_equal
    return a if a.dtype == np.bool_ else not_equal(a, 0)


def _truth_reduction(name, prim, what, example):
    def reduction(a, axis=None, out=None, keepdims=False, *, where=None):
        unsupported(name, out=out, where=where)
        a = _as_bool(array_arg(a))
        axes = normalize_axes(axis, a.ndim)
        result = prim.bind(a, axes=axes) if axes else a
        return _keepdims(result, a.shape, axes) if keepdims else result
    reduction.__name__ = reduction.__qualname__ = name
    reduction.__doc__ = (f"Whether {what} elements are true (non-zero) over ``axis`` (like "
                         f"numpy.{name}).\n\nExample:\n" + textwrap.indent(example, "    "))
    return reduction


all = _truth_reduction(  # noqa: A001
    "all", red.reduce_and_p, "all",
    ">>> fnp.all(np.array([[True, False], [True, True]]), axis=1)\narray([False,  True])")
any = _truth_reduction(  # noqa: A001
    "any", red.reduce_or_p, "any", ">>> fnp.any(np.array([0.0, 0.0, 2.0]))\nnp.True_")


def _count(shape, axes) -> int:
    return int(np.prod([shape[i] for i in axes], dtype=np.int64))


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over ``axis`` (like numpy.mean).

    Example:
        >>> fnp.mean(np.array([1.0, 2.0, 6.0]))
        np.float64(3.0)
    """
    unsupported("mean", out=out, where=where)
    a = array_arg(a)
    if dtype is not None:
        a = a.astype(dtype)
    elif a.dtype.kind in "biu":  # NumPy sums integers in float64: an int64 sum wraps around
        a = a.astype(np.float64)
    axes = normalize_axes(axis, a.ndim)
    from funcgrad.numpy._ufuncs import true_divide
    return _in(true_divide(sum(a, axis=axes, dtype=dtype, keepdims=keepdims),
                           _count(a.shape, axes)), dtype)


_mean = mean  # var's parameter ``mean`` (NumPy's name) hides the function


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
    """Variance over ``axis``, dividing by ``n - ddof`` (like numpy.var; ``correction`` is
    NumPy 2's other name for ddof).

    Example:
        >>> fnp.var(np.array([1.0, 2.0, 3.0, 4.0]))
        np.float64(1.25)
        >>> fnp.var(np.array([1.0, 2.0, 3.0, 4.0]), ddof=1)
        np.float64(1.6666666666666667)
    """
    unsupported("var", out=out, where=where, mean=mean)
    ddof = ddof if correction is None else correction
    a = array_arg(a)
    if dtype is not None:  # computed in it, as NumPy's (float64 data, float32 variance)
        a = a.astype(dtype)
    axes = normalize_axes(axis, a.ndim)
    centered = a - _mean(a, axis=axes, keepdims=True)
    from funcgrad.numpy._ufuncs import true_divide
    return true_divide(sum(centered * centered, axis=axes, keepdims=keepdims),
                       _count(a.shape, axes) - ddof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        mean=None, correction=None):
    """Standard deviation over ``axis`` (like numpy.std).

    Example:
        >>> fnp.std(np.array([1.0, 2.0, 3.0, 4.0]))
        np.float64(1.118033988749895)
    """
    from funcgrad.numpy._ufuncs import sqrt
    return sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                    correction=correction))


def _arg_reduction(name, prim, example):
    def arg_reduction(a, axis=None, out=None, *, keepdims=False):
        unsupported(name, out=out)
        a = array_arg(a)
        if axis is None:
            result = prim.bind(reshape(a, (a.size,)), axis=0)
            return reshape(result, (1,) * a.ndim) if keepdims else result
        axis = normalize_axis(axis, a.ndim)
        result = prim.bind(a, axis=axis)
        return _keepdims(result, a.shape, (axis,)) if keepdims else result
    arg_reduction.__name__ = arg_reduction.__qualname__ = name
    arg_reduction.__doc__ = (f"Index of the {name[3:]}imum along ``axis`` (like numpy.{name}); "
                             "the first one on ties. Integer result: zero gradient.\n\n"
                             "Example:\n" + textwrap.indent(example, "    "))
    return arg_reduction


argmax = _arg_reduction("argmax", red.argmax_p,
                        ">>> fnp.argmax(np.array([1.0, 3.0, 3.0, 2.0]))\nnp.int64(1)")
argmin = _arg_reduction("argmin", red.argmin_p,
                        ">>> fnp.argmin(np.array([[3.0, 1.0], [0.0, 2.0]]), axis=1)\n"
                        "array([1, 0])")


def _cumulative(name, fn):
    def cumulative(a, axis=None, dtype=None, out=None):
        unsupported(name, out=out)
        a = array_arg(a)
        if dtype is not None:
            a = a.astype(dtype)
        if axis is None:
            a, axis = reshape(a, (a.size,)), 0
        return _in(fn(a, normalize_axis(axis, a.ndim)), dtype)
    cumulative.__name__ = cumulative.__qualname__ = name
    return cumulative


cumsum = _cumulative("cumsum", red.cumsum)
cumprod = _cumulative("cumprod", red.cumprod)
cumsum.__doc__ = """Cumulative sum along ``axis`` (like numpy.cumsum; axis=None flattens).

    Example:
        >>> fnp.cumsum(np.array([1.0, 2.0, 3.0]))
        array([1., 3., 6.])
    """
cumprod.__doc__ = """Cumulative product along ``axis`` (like numpy.cumprod); exact gradient at
    zeros.

    Example:
        >>> fnp.cumprod(np.array([1.0, 2.0, 3.0, 4.0]))
        array([ 1.,  2.,  6., 24.])
    """
