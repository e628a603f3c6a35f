"""Argument handling shared by the funcgrad.numpy functions."""

from __future__ import annotations

import operator

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.core.tracing import Tracer, current_trace
from funcgrad.core.types import aval_of, check_dtype


def array_arg(x, name: str = "argument"):
    """A tracer as it is; anything else as a NumPy array (lists, tuples, scalars)."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, np.ndarray):
        check_dtype(x.dtype, f" ({name})")
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, Tracer) for e in _flat(x)):
        from funcgrad.numpy._creation import array
        return array(x)
    try:
        out = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise FuncgradTypeError(f"{name} is not an array: {err}") from None
    if out.dtype.kind in "OUSVMm":  # objects, strings, bytes, records, dates
        raise FuncgradTypeError(f"{type(x).__name__} value {x!r:.60} ({name}) is not an array")
    check_dtype(out.dtype, f" ({name})")
    return out


def inexact_dtype(dtype) -> np.dtype:
    """The floating dtype in which a function of real numbers (funcgrad.nn's activations,
    scipy.stats's distributions) computes an integer or boolean input: JAX's choice, float64
    for 64-bit integers and float32 for narrower ones and booleans (NumPy's float16 for
    int8 is not a funcgrad dtype)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype
    return np.dtype(np.float64 if dtype.itemsize == 8 else np.float32)


def inexact_arg(x, name: str = "argument"):
    """``x`` as an array (or tracer) of floating dtype, converted by ``inexact_dtype``."""
    x = array_arg(x, name)
    dtype = inexact_dtype(x.dtype)
    return x if x.dtype == dtype else x.astype(dtype)


def aval_of_arg(x):
    """The abstract value (shape, dtype, weakness) of a tracer, array or Python number."""
    return x.aval if isinstance(x, Tracer) else aval_of(x)


def broadcast_shape(*xs) -> tuple[int, ...]:
    """The shape the arguments broadcast to, or the ShapeError a funcgrad.numpy function
    gives (naming both shapes and the caller's line): for composites whose arithmetic on
    concrete NumPy arrays would otherwise raise NumPy's bare ValueError."""
    from funcgrad.ops.elementwise import broadcast_shapes
    return broadcast_shapes(*(aval_of_arg(x) for x in xs))


def _flat(xs):
    for x in xs:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def scalar_or_array(x):
    """Python scalars stay weak (NEP 50); everything else becomes an array or stays a tracer."""
    return x if type(x) in (float, int, bool) or isinstance(x, (Tracer, np.generic)) \
        else array_arg(x)


def dtype_of(x) -> np.dtype:
    """The dtype of an array or tracer; for a Python scalar, the one NumPy gives it alone."""
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.asarray(x).dtype


def shape_of(x) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else ()


def ndim_of(x) -> int:
    return len(shape_of(x))


def normalize_axis(axis, ndim: int) -> int:
    try:
        axis = operator.index(axis)
    except TypeError:
        raise FuncgradTypeError(f"axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise ShapeError(f"axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """axis=None means all axes; an int or a tuple of ints, negative ones counted from the end."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ShapeError(f"repeated axis in {axis}")
        return tuple(sorted(axes))
    return (normalize_axis(axis, ndim),)


def tracing() -> bool:
    return current_trace() is not None


def unsupported(name: str, **options):
    """Refuse NumPy keyword arguments funcgrad does not implement, instead of ignoring them."""
    for key, value in options.items():
        if value is not None and value is not np._NoValue:
            raise FuncgradTypeError(f"funcgrad.numpy.{name} does not support {key}=")
