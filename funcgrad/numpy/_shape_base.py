"""NumPy's block assembly, choosers and selections, resizing and put_along_axis, composed
from concatenate, gathers and scatters (every rule comes with those).

Selections whose size depends on values (``compress``, ``extract`` by a traced condition)
take JAX's static ``size=`` and ``fill_value=``; ``trim_zeros`` has no such form and, as in
JAX, needs concrete values.
"""

from __future__ import annotations

import operator

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import (ConcretizationError, FuncgradTypeError, FuncgradValueError,
                                  InPlaceUpdateError, ShapeError)
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._shape import _shape_tuple
from funcgrad.numpy._util import array_arg, normalize_axis


def broadcast_shapes(*shapes):
    """The shape that arrays of ``shapes`` broadcast to (like numpy.broadcast_shapes).

    Example:
        >>> fnp.broadcast_shapes((2, 1), (3,), ())
        (2, 3)
    """
    try:
        return np.broadcast_shapes(*(_shape_tuple(s) for s in shapes))
    except ValueError as err:
        raise ShapeError(f"broadcast_shapes: {err}") from None


def block(arrays):
    """An array assembled from nested lists of blocks (like numpy.block): the innermost
    lists are joined along the last axis, the next ones along the one before, and so on.

    Example:
        >>> fnp.block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), 5.0]])
        array([[1., 0., 0.],
               [0., 1., 0.],
               [1., 1., 5.]])
    """
    depth, leaves = _block_depth(arrays, ())
    leaves = [array_arg(x) for x in leaves]
    ndim = max([depth] + [x.ndim for x in leaves])

    def assemble(x, level):
        if level == depth:
            x = array_arg(x)
            return fnp.reshape(x, (1,) * (ndim - x.ndim) + tuple(x.shape))
        return fnp.concatenate([assemble(e, level + 1) for e in x], axis=level - depth)
    return assemble(arrays, 0)


def _block_depth(x, where):
    """The nesting depth of block's lists (all leaves must be at the same depth) and the
    leaves."""
    if isinstance(x, tuple):
        raise FuncgradTypeError(f"block: arrays{''.join(f'[{i}]' for i in where)} is a tuple; "
                                "only lists can be used to arrange blocks")
    if not isinstance(x, list):
        return 0, [x]
    if not x:
        raise ShapeError(f"block: list at arrays{''.join(f'[{i}]' for i in where)} cannot be "
                         "empty")
    depths, leaves = set(), []
    for i, e in enumerate(x):
        d, found = _block_depth(e, where + (i,))
        depths.add(d)
        leaves += found
    if len(depths) > 1:
        raise ShapeError("block: list depths are mismatched; all blocks must be nested to the "
                         "same depth")
    return depths.pop() + 1, leaves


def _mode(name, mode):
    if mode not in ("raise", "wrap", "clip"):
        raise FuncgradValueError(f"{name}: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")


def _indices_in(name, i, n, mode):
    """Integer indices into an axis of length ``n`` as ``mode`` treats those out of range:
    'raise' checks concrete ones (traced ones cannot be checked: JAX refuses them too)."""
    if i.dtype.kind not in "iub":
        raise FuncgradTypeError(f"{name}: indices must be integers, got {i.dtype}")
    if mode == "wrap":
        return i % n
    if mode == "clip":
        return fnp.clip(i, 0, n - 1)
    if isinstance(i, Tracer):
        raise ConcretizationError(f"{name} with mode='raise' needs concrete indices, which it "
                                  "checks; use mode='wrap' or 'clip' inside a trace")
    if i.size and (i.min() < 0 or i.max() >= n):
        raise FuncgradValueError(f"{name}: invalid entry in choice array (indices must be in "
                                 f"[0, {n}))")
    return i


def choose(a, choices, out=None, mode="raise"):
    """Elementwise, ``choices[a[i]][i]`` (like numpy.choose): ``a`` and the choices
    broadcast together. ``mode`` handles indices out of range: 'raise' (concrete ``a``
    only), 'wrap' or 'clip'. Differentiable in the choices.

    Example:
        >>> fnp.choose(np.array([0, 1, 1]), [np.zeros(3), np.arange(3.0)])
        array([0., 1., 2.])
    """
    from funcgrad.numpy._util import unsupported
    unsupported("choose", out=out)
    _mode("choose", mode)
    a = array_arg(a, "a")
    choices = [array_arg(c, "choices") for c in (
        [choices[k] for k in range(choices.shape[0])] if isinstance(choices, (Tracer, np.ndarray))
        else choices)]
    if not choices:
        raise ShapeError("choose: choices must not be empty")
    a = _indices_in("choose", a, len(choices), mode)
    dtype = np.result_type(*(c.dtype for c in choices))
    a, *choices = fnp.broadcast_arrays(a, *(fnp.asarray(c, dtype) for c in choices))
    return fnp.take_along_axis(fnp.stack(choices), fnp.expand_dims(a, 0), 0)[0]


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of ``a`` along ``axis`` (axis=None: of the flattened ``a``) where the 1-D
    boolean ``condition`` holds (like numpy.compress; a shorter condition counts as false
    beyond its end). A traced condition needs JAX's static ``size=``: the result then has
    ``size`` slices, padded with ``fill_value`` or truncated. Differentiable in ``a``.

    Example:
        >>> fnp.compress(np.array([True, False, True]), np.arange(6.0).reshape(3, 2), axis=0)
        array([[0., 1.],
               [4., 5.]])
        >>> fg.jit(lambda c: fnp.compress(c, np.arange(3.0), size=3, fill_value=-1.0))(
        ...     np.array([False, True, True]))
        array([ 1.,  2., -1.])
    """
    from funcgrad.numpy._util import unsupported
    unsupported("compress", out=out)
    condition, a = array_arg(condition, "condition"), array_arg(a)
    if condition.ndim != 1:
        raise ShapeError(f"compress: condition must be a 1-D array, got {condition.ndim} axes")
    if axis is None:
        a, axis = fnp.ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    if condition.shape[0] > n:
        if isinstance(condition, Tracer) or np.any(condition[n:]):
            raise ShapeError(f"compress: condition of length {condition.shape[0]} for an axis "
                             f"of length {n}")
        condition = condition[:n]
    keep = condition if condition.dtype == np.bool_ else condition != 0
    if size is None:
        if isinstance(keep, Tracer):
            raise FuncgradTypeError("compress by a traced condition has a size that depends on "
                                    "its values; pass a static size= (the result is then "
                                    "padded with fill_value or truncated)")
        return fnp.take(a, np.nonzero(keep)[0], axis)
    size = operator.index(size)
    (where,) = fnp.nonzero(keep, size=size, fill_value=0)
    valid = fnp.arange(size) < fnp.sum(keep)
    valid = fnp.reshape(valid, [size if i == axis else 1 for i in range(a.ndim)])
    return fnp.where(valid, fnp.take(a, where, axis), fnp.asarray(fill_value, a.dtype))


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of the flattened ``arr`` where the flattened ``condition`` is non-zero
    (like numpy.extract); ``size=`` and ``fill_value=`` as for ``compress``.

    Example:
        >>> x = np.arange(6.0)
        >>> fnp.extract(x % 2 == 0, x)
        array([0., 2., 4.])
    """
    return compress(fnp.ravel(array_arg(condition, "condition")) != 0, fnp.ravel(arr),
                    size=size, fill_value=fill_value)


def resize(a, new_shape):
    """An array of ``new_shape`` filled with the elements of ``a``, repeated as needed (like
    numpy.resize; zeros if ``a`` is empty).

    Example:
        >>> fnp.resize(np.array([1.0, 2.0, 3.0]), (2, 2))
        array([[1., 2.],
               [3., 1.]])
    """
    a = array_arg(a)
    shape = _shape_tuple(new_shape)
    if any(d < 0 for d in shape):
        raise FuncgradValueError(f"resize: all elements of new_shape must be non-negative, "
                                 f"got {shape}")
    n = int(np.prod(shape, dtype=np.int64))
    if a.size == 0 or n == 0:
        return fnp.zeros(shape, a.dtype)
    flat = fnp.ravel(a)
    return fnp.reshape(fnp.tile(flat, -(-n // a.size))[:n], shape)


def trim_zeros(filt, trim="fb", axis=None):
    """``filt`` without its leading ('f') and/or trailing ('b') zeros (like
    numpy.trim_zeros; with ``axis``, the zero slices along those axes). The result's size
    depends on the values, so they must be concrete: as in JAX, not inside jit, vmap or
    grad.

    Example:
        >>> fnp.trim_zeros(np.array([0.0, 1.0, 0.0, 2.0, 0.0]), "f")
        array([1., 0., 2., 0.])
    """
    if isinstance(filt, Tracer):
        raise ConcretizationError("trim_zeros: the size of the result depends on the values, "
                                  "which are not known while tracing")
    if not isinstance(trim, str) or set(trim.lower()) - set("fb"):
        raise FuncgradValueError(f"trim_zeros: trim must be a string of 'f' and 'b', got "
                                 f"{trim!r}")
    filt = array_arg(filt)
    try:
        return np.trim_zeros(filt, trim, axis)
    except (ValueError, TypeError) as err:
        raise ShapeError(f"trim_zeros: {err}") from None


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """``arr`` with ``values`` put at ``indices`` along ``axis`` (the places
    ``take_along_axis`` reads), as a new array: JAX's form of numpy.put_along_axis, called
    with ``inplace=False``. Differentiable in ``arr`` and ``values``.

    Example:
        >>> x = np.array([[10.0, 30.0], [40.0, 20.0]])
        >>> fnp.put_along_axis(x, np.array([[1], [0]]), 0.0, axis=1, inplace=False)
        array([[10.,  0.],
               [ 0., 20.]])
    """
    if inplace:
        raise InPlaceUpdateError("put_along_axis: funcgrad's arrays are never written in "
                                 "place; pass inplace=False and use the array it returns")
    if mode not in (None, "raise"):
        raise FuncgradValueError(f"put_along_axis supports mode=None only, got {mode!r}")
    a = array_arg(arr)
    if axis is None:
        a_flat = fnp.ravel(a)
        return fnp.reshape(put_along_axis(a_flat, fnp.ravel(array_arg(indices)), values, 0,
                                          inplace=False), a.shape)
    axis = normalize_axis(axis, a.ndim)
    indices = array_arg(indices, "indices")
    if indices.ndim != a.ndim:
        raise ShapeError(f"put_along_axis: indices of rank {indices.ndim} for an array of rank "
                         f"{a.ndim}")
    grids = tuple(indices if i == axis else
                  np.arange(d).reshape([-1 if j == i else 1 for j in range(a.ndim)])
                  for i, d in enumerate(a.shape))
    return fnp.at(a)[grids].set(values)
