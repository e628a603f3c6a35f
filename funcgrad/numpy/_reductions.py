"""Reductions and cumulative functions under NumPy's names. ``where=`` and ``initial=`` are
composites (left-out elements become the identity through where), so every rule comes along."""

from __future__ import annotations

import builtins
import textwrap

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.tracing import Tracer
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


def _mask(name, where, shape):
    """``where=`` as a boolean mask of ``shape``: it broadcasts to the array's shape (not the
    other way round), as in NumPy."""
    where = array_arg(where, "where")
    if where.dtype != np.bool_:
        raise FuncgradTypeError(f"{name}: where= must be a boolean mask, got {where.dtype}")
    try:
        fits = np.broadcast_shapes(tuple(where.shape), tuple(shape)) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{name}: where= of shape {tuple(where.shape)} does not broadcast "
                         f"to the array's shape {tuple(shape)}")
    from funcgrad.numpy._shape import broadcast_to
    return broadcast_to(where, shape)


def _masked(name, a, where, fill):
    """``a`` with the elements ``where`` leaves out replaced by ``fill`` (the reduction's
    identity): a composite, so those elements get a zero gradient."""
    if where is None:
        return a
    from funcgrad.numpy._ufuncs import where as select
    return select(_mask(name, where, a.shape), a, np.asarray(fill, a.dtype)[()])


def _with_initial(name, result, initial, combine):
    """``combine(result, initial)``: ``initial`` takes part in every reduced slice."""
    if initial is None:
        return result
    if isinstance(initial, Tracer) or np.ndim(initial) != 0:
        raise FuncgradTypeError(f"{name}: initial= must be a concrete scalar (a Python or "
                                f"NumPy number), got {initial!r:.60}")
    return combine(result, np.asarray(initial, result.dtype)[()])


# NumPy's signatures, positional order included (np.max has no dtype; np.sum has)

def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Sum of elements over ``axis`` (like numpy.sum).

    Example:
        >>> fnp.sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
        array([4., 6.])
    """
    unsupported("sum", out=out)
    a = array_arg(a)
    a = _masked("sum", a if dtype is None else a.astype(dtype), where, 0)
    result = _reduce("sum", red.reduce_sum, a, axis, dtype, keepdims, widen=red.sum_dtype)
    return _with_initial("sum", result, initial, lambda r, i: r + i)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product of elements over ``axis`` (like numpy.prod); exact gradient at zeros.

    Example:
        >>> fnp.prod(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        array([ 2., 12.])
        >>> fg.grad(fnp.prod)(np.array([2.0, 0.0, 3.0]))
        array([0., 6., 0.])
    """
    unsupported("prod", out=out)
    a = array_arg(a)
    a = _masked("prod", a if dtype is None else a.astype(dtype), where, 1)
    result = _reduce("prod", red.reduce_prod, a, axis, dtype, keepdims, widen=red.sum_dtype)
    return _with_initial("prod", result, initial, lambda r, i: r * i)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Maximum over ``axis`` (like numpy.max). Ties share the gradient equally.

    Example:
        >>> fnp.max(np.array([[1.0, 5.0], [4.0, 2.0]]), axis=0)
        array([4., 5.])
        >>> fg.grad(fnp.max)(np.array([1.0, 3.0, 3.0]))
        array([0. , 0.5, 0.5])
    """
    return _extremum("max", red.reduce_max, "maximum", a, axis, out, keepdims, initial,
                     where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Minimum over ``axis`` (like numpy.min). Ties share the gradient equally.

    Example:
        >>> fnp.min(np.array([[1.0, 5.0], [4.0, 2.0]]), axis=1)
        array([1., 2.])
    """
    return _extremum("min", red.reduce_min, "minimum", a, axis, out, keepdims, initial,
                     where)
amax, amin = max, min


def _extremum(name, reduce, combine, a, axis, out, keepdims, initial, where):
    """max or min: with ``where=``, the left-out elements become ``initial`` (NumPy and JAX
    require it, since max has no identity); an empty slice is ``initial`` too."""
    unsupported(name, out=out)
    if where is not None and initial is None:
        raise FuncgradValueError(f"reduction operation {name} does not have an identity, so "
                                 "to use a where mask one has to specify 'initial'")
    a = array_arg(a)
    axes = normalize_axes(axis, a.ndim)
    if initial is not None and builtins.any(a.shape[i] == 0 for i in axes):
        from funcgrad.numpy._creation import full
        shape = [1 if i in axes else d for i, d in enumerate(a.shape) if keepdims or i not in axes]
        return full(shape, _with_initial(name, np.zeros((), a.dtype), initial, lambda r, i: i))
    a = _masked(name, a, where, initial)
    from funcgrad.numpy import _ufuncs
    return _with_initial(name, _reduce(name, reduce, a, axis, None, keepdims, empty_ok=False),
                         initial, getattr(_ufuncs, combine))


def _as_bool(a):
    from funcgrad.numpy._ufuncs import not_equal
    return a if a.dtype == np.bool_ else not_equal(a, 0)


def _truth_reduction(name, prim, what, example):
    def reduction(a, axis=None, out=None, keepdims=False, *, where=None):
        unsupported(name, out=out)
        a = _masked(name, _as_bool(array_arg(a)), where, name == "all")
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
    unsupported("mean", out=out)
    a = array_arg(a)
    if dtype is not None:
        a = a.astype(dtype)
    elif a.dtype.kind in "biu":  # NumPy sums integers in float64: an int64 sum wraps around
        a = a.astype(np.float64)
    axes = normalize_axes(axis, a.ndim)
    from funcgrad.numpy._ufuncs import true_divide
    return _in(true_divide(sum(a, axis=axes, dtype=dtype, keepdims=keepdims, where=where),
                           _counted(a, axes, keepdims, where)), dtype)


def _counted(a, axes, keepdims, where):
    """How many elements each reduced slice has: with where=, how many it keeps."""
    if where is None:
        return _count(a.shape, axes)
    return sum(_mask("mean", where, a.shape), axis=axes, keepdims=keepdims)


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
    unsupported("var", out=out, mean=mean)
    ddof = ddof if correction is None else correction
    a = array_arg(a)
    if dtype is not None:  # computed in it, as NumPy's (float64 data, float32 variance)
        a = a.astype(dtype)
    axes = normalize_axes(axis, a.ndim)
    centered = a - _mean(a, axis=axes, keepdims=True, where=where)
    from funcgrad.numpy._ufuncs import maximum, true_divide
    # NumPy divides by no fewer than 0 elements: ddof >= n gives inf or NaN, not a negative
    # (a Python int count stays one: weak, it keeps a float32 variance float32)
    dof = _counted(a, axes, keepdims, where) - ddof
    dof = builtins.max(dof, 0) if isinstance(dof, int) else maximum(dof, 0)
    return true_divide(sum(centered * centered, axis=axes, keepdims=keepdims, where=where),
                       dof)


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


def _cumulative_with_initial(name, fn, identity):
    def cumulative(x, /, *, axis=None, dtype=None, include_initial=False):
        x = array_arg(x)
        if x.ndim == 0:
            raise ShapeError(f"{name}: x must be at least 1-D, got a 0-d array")
        if axis is None:
            if x.ndim > 1:
                raise ShapeError(f"{name}: axis= is required for an array of more than one "
                                 f"axis (got {x.ndim})")
            axis = 0
        axis = normalize_axis(axis, x.ndim)
        out = fn(x, axis=axis, dtype=dtype)
        if not include_initial:
            return out
        from funcgrad.numpy._creation import full
        from funcgrad.numpy._shape import concatenate
        first = full([1 if i == axis else d for i, d in enumerate(out.shape)], identity,
                     out.dtype)
        return concatenate([first, out], axis)
    cumulative.__name__ = cumulative.__qualname__ = name
    return cumulative


cumulative_sum = _cumulative_with_initial("cumulative_sum", cumsum, 0)
cumulative_prod = _cumulative_with_initial("cumulative_prod", cumprod, 1)
cumulative_sum.__doc__ = """The array API's cumsum (like numpy.cumulative_sum): ``axis`` may be
    left out only for 1-D ``x``; ``include_initial`` puts a 0 before each running sum.

    Example:
        >>> fnp.cumulative_sum(np.array([1.0, 2.0, 3.0]), include_initial=True)
        array([0., 1., 3., 6.])
    """
cumulative_prod.__doc__ = """The array API's cumprod (like numpy.cumulative_prod): ``axis`` may
    be left out only for 1-D ``x``; ``include_initial`` puts a 1 before each running product.

    Example:
        >>> fnp.cumulative_prod(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        array([[ 1.,  2.],
               [ 3., 12.]])
    """
