"""NumPy's functions of functions: apply_along_axis, apply_over_axes and vectorize, built on
funcgrad's vmap as JAX builds them. The function given must be traceable (written with
funcgrad.numpy); what they return is then traceable, differentiable and compilable too.
"""

from __future__ import annotations

import functools
import re

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.numpy._util import array_arg, normalize_axis


def _vmap(f, times):
    from funcgrad.api.batching import vmap
    for _ in range(times):
        f = vmap(f)
    return f


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d(slice, *args, **kwargs)`` on each 1-D slice of ``arr`` along ``axis``
    (like numpy.apply_along_axis), by vmap over the other axes: the axes of func1d's result
    take ``axis``'s place.

    Example:
        >>> fnp.apply_along_axis(lambda v: v[0] + v[-1], 1, np.arange(6.0).reshape(2, 3))
        array([2., 8.])
    """
    arr = array_arg(arr)
    axis = normalize_axis(axis, arr.ndim)
    out = _vmap(lambda v: fnp.asarray(func1d(v, *args, **kwargs)), arr.ndim - 1)(
        fnp.moveaxis(arr, axis, -1))
    kept = list(range(arr.ndim - 1))
    return fnp.transpose(out, kept[:axis] + list(range(arr.ndim - 1, out.ndim)) + kept[axis:])


def apply_over_axes(func, a, axes):
    """``func(a, axis)`` for each axis in ``axes`` in turn, each result keeping ``a``'s rank
    (like numpy.apply_over_axes): a result with one axis fewer gets it back as length 1.

    Example:
        >>> fnp.apply_over_axes(fnp.sum, np.arange(6.0).reshape(2, 3), [0, 1])
        array([[15.]])
    """
    a = array_arg(a)
    for axis in np.atleast_1d(np.asarray(axes)).tolist():
        axis = normalize_axis(axis, a.ndim)
        result = array_arg(func(a, axis))
        if result.ndim == a.ndim - 1:
            result = fnp.expand_dims(result, axis)
        elif result.ndim != a.ndim:
            raise ShapeError("apply_over_axes: function is not returning an array of the "
                             "correct shape")
        a = result
    return a


_DIMENSIONS = r"\((?:\w+(?:,\s*\w+)*)?\)"
_SIGNATURE = re.compile(rf"^\s*{_DIMENSIONS}(?:\s*,\s*{_DIMENSIONS})*\s*->\s*"
                        rf"{_DIMENSIONS}(?:\s*,\s*{_DIMENSIONS})*\s*$")


def _parse_signature(signature):
    """The core dimensions of each input and output of a gufunc signature '(n),(n)->()'."""
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        raise FuncgradValueError(f"vectorize: not a valid gufunc signature: {signature!r}")
    return [[tuple(re.findall(r"\w+", arg)) for arg in re.findall(r"\([^)]*\)", side)]
            for side in signature.split("->")]


def _core_sizes(shapes, cores, sizes, what):
    """Check the core dimensions of ``shapes`` against ``cores``, recording their sizes."""
    for shape, core in zip(shapes, cores):
        if len(shape) < len(core) or (what == "output" and len(shape) != len(core)):
            raise ShapeError(f"vectorize: {what} of shape {shape} does not have the core "
                             f"dimensions {core}")
        for name, n in zip(core, shape[len(shape) - len(core):]):
            if sizes.setdefault(name, n) != n:
                raise ShapeError(f"vectorize: inconsistent size for core dimension {name!r}: "
                                 f"{n} vs {sizes[name]}")


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
    """``pyfunc``, of scalars (or of arrays with the core dimensions of a gufunc
    ``signature`` such as ``'(n),(n)->()'``), made a function of arrays that broadcasts
    over the other (loop) dimensions: JAX's numpy.vectorize, built on vmap, so the result
    is traceable, differentiable and compilable where ``pyfunc`` is. ``excluded``:
    positions or keyword names of arguments passed through unchanged.

    Example:
        >>> f = fnp.vectorize(lambda x, y: fnp.where(x > y, x, y * 2))
        >>> f(np.array([1.0, 5.0]), 3.0)
        array([6., 5.])
        >>> dot = fnp.vectorize(fnp.dot, signature="(n),(n)->()")
        >>> dot(np.ones((2, 3)), np.arange(3.0))
        array([3., 3.])
    """
    if any(not isinstance(e, (str, int)) for e in excluded):
        raise FuncgradTypeError(f"vectorize can only exclude integer or string arguments, "
                                f"got excluded={excluded!r}")
    if any(isinstance(e, int) and e < 0 for e in excluded):
        raise FuncgradValueError(f"vectorize: excluded={excluded!r} contains negative numbers")
    cores = _parse_signature(signature) if signature is not None else None

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        static = {i: a for i, a in enumerate(args) if i in excluded or a is None}
        static_kwargs = {k: v for k, v in kwargs.items() if k in excluded}
        names = [k for k in kwargs if k not in excluded]
        if cores is not None and names:
            raise FuncgradTypeError(f"vectorize with a signature: pass {names[0]!r} "
                                    "positionally, or name it in excluded")
        values = [array_arg(a) for i, a in enumerate(args) if i not in static] + \
            [array_arg(kwargs[k]) for k in names]
        in_cores = cores[0] if cores is not None else [()] * len(values)
        if len(in_cores) != len(values):
            raise FuncgradTypeError(f"vectorize: the signature {signature!r} has "
                                    f"{len(in_cores)} inputs, got {len(values)} arguments")
        sizes = {}
        _core_sizes([tuple(v.shape) for v in values], in_cores, sizes, "input")
        loops = [tuple(v.shape)[:v.ndim - len(c)] for v, c in zip(values, in_cores)]
        try:
            loop = np.broadcast_shapes(*loops)
        except ValueError:
            raise ShapeError(f"vectorize: cannot broadcast the loop dimensions {loops}") from None
        values = [fnp.broadcast_to(v, loop + tuple(v.shape)[len(s):])
                  for v, s in zip(values, loops)]
        n_positional = len(values) - len(names)

        def call(*flat):
            it = iter(flat[:n_positional])
            full = [static[i] if i in static else next(it) for i in range(len(args))]
            out = pyfunc(*full, **static_kwargs, **dict(zip(names, flat[n_positional:])))
            if cores is not None:
                outs = out if isinstance(out, tuple) else (out,)
                if len(outs) != len(cores[1]) or (len(cores[1]) > 1
                                                  and not isinstance(out, tuple)):
                    raise ShapeError(f"vectorize: the signature {signature!r} has "
                                     f"{len(cores[1])} outputs, the function returned "
                                     f"{len(outs)}")
                _core_sizes([np.shape(o) for o in outs], cores[1], dict(sizes), "output")
            return out
        return _vmap(call, len(loop))(*values)
    return wrapped
