"""JAX's windowed operations, for code ported from JAX: ``reduce_window`` (what max and
average pooling are built on) and the convolutions ``conv_general_dilated``, ``conv``,
``conv_with_general_padding`` and ``conv_transpose``, with JAX's dimension numbers,
padding, strides and dilations. Re-exported by ``funcgrad.lax``.

Both are composites of funcgrad.numpy, so every transformation and ``jit`` apply: the
windows of the (dilated, padded) operand are gathered into one array of patches (one
``take`` with indices computed in advance; its derivative is one scatter-add).
``reduce_window`` reduces each patch; a convolution multiplies the matrix of patches (one
row per output position, channels last) by the kernel's, one product per feature group.
Memory is the output's size times the window's, which suits the small kernels of pooling
and convnets.

Example:
    >>> from funcgrad import lax
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> lax.reduce_window(x, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.lax import _ops as lax_ops
from funcgrad.control import subprogram as _sub
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._util import array_arg
from funcgrad.ops import shape as _shape_ops
from funcgrad.ops.elementwise import stop_gradient as _stop_gradient
from funcgrad.tree import flatten as _flatten
from funcgrad.tree import unflatten as _unflatten

__all__ = ["reduce_window", "padtype_to_pads", "ConvDimensionNumbers",
           "conv_dimension_numbers", "conv_general_dilated", "conv",
           "conv_with_general_padding", "conv_transpose"]


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """The (low, high) padding of each axis that ``padding`` ('VALID', 'SAME' or
    'SAME_LOWER') means for an input of ``in_shape``: 'SAME' gives ceil(n / stride) outputs,
    the odd unit of padding after (before, for 'SAME_LOWER').

    Example:
        >>> lax.padtype_to_pads((5,), (3,), (2,), "SAME")
        [(1, 1)]
    """
    kind = padding.upper() if isinstance(padding, str) else None
    if kind not in ("VALID", "SAME", "SAME_LOWER"):
        raise FuncgradValueError(f"padding must be 'VALID', 'SAME', 'SAME_LOWER' or a sequence "
                                 f"of (low, high) pairs, got {padding!r}")
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    pads = []
    for n, k, s in zip(in_shape, window_shape, window_strides):
        size = builtins.max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((size // 2, size - size // 2) if kind == "SAME"
                    else (size - size // 2, size // 2))
    return pads


# ---------------------------------------------------------------------------------------
# Windows: one strided slice per window offset


def _ints(name, values, n, minimum):
    try:
        out = tuple(operator.index(v) for v in values)
    except TypeError:
        out = None
    if out is None or len(out) != n or any(v < minimum for v in out):
        raise ShapeError(f"{name} must hold {n} integers of at least {minimum}, got {values!r}")
    return out


def _pairs(name, padding, n):
    try:
        out = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
    except (TypeError, ValueError):
        out = None
    if out is None or len(out) != n:
        raise ShapeError(f"{name} must be 'VALID', 'SAME', 'SAME_LOWER' or {n} (low, high) "
                         f"pairs, got {padding!r}")
    return out


def _filled(like_shape, fill, dtype):
    return fnp.broadcast_to(fnp.asarray(fill, dtype), tuple(like_shape))


def _dilate(x, axis, factor, fill):
    """``factor - 1`` copies of ``fill`` between consecutive entries along ``axis``."""
    n = x.shape[axis]
    if factor == 1 or n <= 1:
        return x
    hole = _filled(x.shape, fill, x.dtype)
    spread = fnp.stack([x] + [hole] * (factor - 1), axis=axis + 1)
    shape = list(x.shape)
    shape[axis] = n * factor
    return _along(fnp.reshape(spread, tuple(shape)), axis, 0, (n - 1) * factor + 1)


def _along(x, axis, start, stop, step=1):
    index = [builtins.slice(None)] * x.ndim
    index[axis] = builtins.slice(start, stop, step)
    return x[tuple(index)]


def _pad(x, axis, lo, hi, fill):
    """Padded, then cropped where lo or hi is negative: a crop may eat into the padding on
    the other side, as XLA's does."""
    parts = []
    for width in (builtins.max(lo, 0), builtins.max(hi, 0)):
        shape = list(x.shape)
        shape[axis] = width
        parts.append(_filled(shape, fill, x.dtype) if width else None)
    pieces = [p for p in (parts[0], x, parts[1]) if p is not None]
    x = pieces[0] if len(pieces) == 1 else fnp.concatenate(pieces, axis=axis)
    if lo < 0 or hi < 0:
        x = _along(x, axis, builtins.max(-lo, 0), x.shape[axis] - builtins.max(-hi, 0))
    return x


def _patches(x, first_axis, window, strides, pads, base_dilation, window_dilation, fill,
             trailing=0):
    """The windows of ``x`` over its axes from ``first_axis`` on but the last ``trailing``
    (dilated by ``base_dilation`` and padded by ``pads``, both with ``fill``), gathered into
    one array: shape ``lead + (window size, *output sizes)`` without trailing axes, else
    ``lead + (output count, window size) + trailing axes``. It is a single gather from the
    flattened (padded) window axes, with indices computed here, whose derivative is one
    scatter-add: compiled, much cheaper than a slice per window element."""
    x = _padded(x, first_axis, pads, base_dilation, fill, trailing)
    stop = x.ndim - trailing
    spatial = tuple(x.shape[first_axis:stop])
    sizes = []
    for n, k, s, d in zip(spatial, window, strides, window_dilation):
        reach = (k - 1) * d + 1
        sizes.append((n - reach) // s + 1 if n >= reach else 0)
    flat = np.zeros((1,) * (2 * len(spatial)), np.int64)
    for axis, (k, s, d, step) in enumerate(zip(window, strides, window_dilation,
                                                _row_major_steps(spatial))):
        offsets = np.arange(k) * d * step
        positions = np.arange(sizes[axis]) * s * step
        flat = flat + offsets.reshape([-1 if a == axis else 1 for a in range(len(spatial))]
                                      + [1] * len(spatial)) \
            + positions.reshape([1] * len(spatial)
                                + [-1 if a == axis else 1 for a in range(len(spatial))])
    taps, count = math.prod(window), math.prod(sizes)
    lead, trail = tuple(x.shape[:first_axis]), tuple(x.shape[stop:])
    merged = fnp.reshape(x, (*lead, math.prod(spatial), *trail))
    index = flat.reshape(taps, count)
    if trailing:
        return fnp.take(merged, index.T, axis=first_axis), sizes
    out = fnp.take(merged, index, axis=first_axis)
    return fnp.reshape(out, (*lead, taps, *sizes))


def _row_major_steps(shape):
    steps, step = [], 1
    for n in reversed(shape):
        steps.append(step)
        step *= n
    return steps[::-1]


def _padded(x, first_axis, pads, base_dilation, fill, trailing=0):
    axes = range(first_axis, x.ndim - trailing)
    if isinstance(fill, Tracer) or np.ndim(fill) != 0:
        for axis, d, (lo, hi) in zip(axes, base_dilation, pads):
            x = _pad(_dilate(x, axis, d, fill), axis, lo, hi, fill)
        return x
    # one pad primitive (a view), then crops for negative padding
    before, after = (0,) * first_axis, (0,) * trailing
    x = _shape_ops.pad(x, before + tuple(builtins.max(lo, 0) for lo, _ in pads) + after,
                       before + tuple(builtins.max(hi, 0) for _, hi in pads) + after,
                       before + tuple(d - 1 for d in base_dilation) + after,
                       np.asarray(fill).astype(x.dtype).item())
    for axis, (lo, hi) in zip(axes, pads):
        if lo < 0 or hi < 0:
            x = _along(x, axis, builtins.max(-lo, 0), x.shape[axis] - builtins.max(-hi, 0))
    return x


# ---------------------------------------------------------------------------------------
# reduce_window


def _monoids():
    return {"add": (lax_ops.add, fnp.add, operator.add),
            "mul": (lax_ops.mul, fnp.multiply, operator.mul),
            "max": (lax_ops.max, fnp.maximum, builtins.max),
            "min": (lax_ops.min, fnp.minimum, builtins.min)}


def _identity(kind, dtype):
    if kind == "add":
        return 0
    if kind == "mul":
        return 1
    if dtype.kind == "f":
        return -np.inf if kind == "max" else np.inf
    if dtype.kind == "b":
        return kind == "min"
    info = np.iinfo(dtype)
    return info.min if kind == "max" else info.max


def _chosen(windows, kind):
    """Each window's largest (smallest) element, the first of them in row-major order, taken
    from ``windows`` (window size, outputs...): the gradient goes to that one element, as in
    JAX's max pooling. A window holding a NaN gives NaN."""
    best = _stop_gradient(fnp.max(windows, axis=0) if kind == "max" else
                          fnp.min(windows, axis=0))
    out = best  # (where no element equals it: a NaN)
    for k in range(windows.shape[0] - 1, -1, -1):
        out = fnp.where(windows[k] == best, windows[k], out)
    return out


def reduce_window(operand, init_value, computation: Callable, window_dimensions,
                  window_strides=None, padding="VALID", base_dilation=None,
                  window_dilation=None):
    """``computation`` folded over each window of ``operand``, starting from
    ``init_value``: JAX's ``lax.reduce_window``. Windows have ``window_dimensions`` (one size
    per axis) and move by ``window_strides``; ``padding`` is 'VALID', 'SAME', 'SAME_LOWER'
    or (low, high) pairs (negative ones crop); ``base_dilation`` spreads the operand out and
    ``window_dilation`` the window. Padding and the holes of base dilation contribute
    nothing.

    ``lax.add``, ``lax.max``, ``lax.min`` and ``lax.mul`` (or their ``fnp``/``operator``
    twins) are recognised, as JAX recognises its monoids, and computed as sums, maxima,
    minima or products of the window's elements: the gradient of a max (min) goes to the
    first largest (smallest) element of each window in row-major order, as JAX's does at
    ties; an ``init_value`` other than the identity is combined with each result once. Any
    other ``computation`` (on pytrees of operands and initial values alike) is folded over
    the window's elements of the operand in row-major order, starting from ``init_value``
    and skipping padding, as XLA does; it differentiates through (JAX's does not).

    Example:
        >>> x = np.array([1.0, 4.0, 2.0, 3.0, 5.0])
        >>> lax.reduce_window(x, -np.inf, lax.max, (2,), (1,), "VALID")
        array([4., 4., 3., 5.])
        >>> lax.reduce_window(x, 0.0, lax.add, (3,), (2,), "SAME")  # sum pooling
        array([5., 9., 8.])
    """
    if not callable(computation):
        raise FuncgradTypeError(f"reduce_window's computation must be callable, got "
                                f"{type(computation).__name__}")
    leaves, tree = _flatten(operand)
    init_leaves, init_tree = _flatten(init_value)
    if tree != init_tree or not leaves:
        raise FuncgradTypeError(f"reduce_window's operand and init_value must be arrays or "
                                f"pytrees of one structure, got {tree} and {init_tree}")
    leaves = [array_arg(x, "operand") for x in leaves]
    shape = tuple(leaves[0].shape)
    if any(tuple(x.shape) != shape for x in leaves):
        raise ShapeError("reduce_window's operands must have one shape, got "
                         + ", ".join(str(_sub.leaf_aval(x)) for x in leaves))
    n = len(shape)
    window = _ints("reduce_window's window_dimensions", window_dimensions, n, 1)
    strides = _ints("reduce_window's window_strides", window_strides or (1,) * n, n, 1)
    base = _ints("reduce_window's base_dilation", base_dilation or (1,) * n, n, 1)
    wdil = _ints("reduce_window's window_dilation", window_dilation or (1,) * n, n, 1)
    if isinstance(padding, str):
        pads = padtype_to_pads(shape, [(k - 1) * d + 1 for k, d in zip(window, wdil)],
                               strides, padding)
    else:
        pads = _pairs("reduce_window's padding", padding, n)
    for init in init_leaves:
        if _sub.leaf_aval(init, " (reduce_window's init_value)").shape != ():
            raise ShapeError(f"reduce_window's init_value must be scalars, got "
                             f"{_sub.leaf_aval(init)}")
    kind = None
    if len(leaves) == 1 and not isinstance(init_leaves[0], Tracer):
        kind = next((k for k, fns in _monoids().items() if any(computation is f for f in fns)),
                    None)
    if kind is not None:  # padded with the monoid's identity; init_value joins once
        dtype = np.dtype(leaves[0].dtype)
        identity = _identity(kind, dtype)
        windows = _patches(leaves[0], 0, window, strides, pads, base, wdil, identity)
        if kind == "add":
            out = fnp.sum(windows, axis=0)
        elif kind == "mul":
            out = fnp.prod(windows, axis=0)
        else:
            out = _chosen(windows, kind)
        init = init_leaves[0]
        if not np.all(np.asarray(init) == identity):
            out = computation(fnp.asarray(init, dtype), out)
        return _unflatten(tree, [out])
    # any other computation: folded over each window's elements of the operand, in order,
    # from init_value; padding and the holes of base dilation are skipped, as in XLA
    per_leaf = [_patches(x, 0, window, strides, pads, base, wdil, 0) for x in leaves]
    real = _patches(np.ones(shape, np.bool_), 0, window, strides, pads, base, wdil, False)
    acc = [_filled(per_leaf[0].shape[1:], init, x.dtype) for init, x in zip(init_leaves, leaves)]
    for k in range(per_leaf[0].shape[0]):
        if not real[k].any():
            continue
        folded = computation(_unflatten(tree, acc), _unflatten(tree, [s[k] for s in per_leaf]))
        out_leaves, out_tree = _flatten(folded)
        if out_tree != tree:
            raise FuncgradTypeError(f"reduce_window's computation must return the structure "
                                    f"of the operand, {tree}, but it returned {out_tree}")
        acc = [x if real[k].all() else fnp.where(real[k], x, a)
               for x, a in zip(out_leaves, acc)]
    return _unflatten(tree, acc)


# ---------------------------------------------------------------------------------------
# Convolutions


class ConvDimensionNumbers(NamedTuple):
    """Where the batch, feature and spatial axes of a convolution's input, kernel and
    output are: each spec lists an array's axis numbers in the order (batch or output
    feature, feature or input feature, spatial...). ``conv_dimension_numbers`` makes one
    from strings such as ``('NHWC', 'HWIO', 'NHWC')``.

    Example:
        >>> lax.ConvDimensionNumbers((0, 1, 2), (0, 1, 2), (0, 1, 2)).rhs_spec
        (0, 1, 2)
    """

    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def _permutations(specs):
    lhs_spec, rhs_spec, out_spec = specs
    pairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for i, (a, b) in enumerate(pairs):
        spec = specs[i]
        if not (spec.count(a) == spec.count(b) == 1) or len(spec) != len(set(spec)):
            raise FuncgradValueError(f"convolution dimension_numbers[{i}] must hold '{a}' and "
                                     f"'{b}' once each and no letter twice, got {spec!r}")
    if not (set(lhs_spec) - set("NC") == set(rhs_spec) - set("OI") == set(out_spec) - set("NC")):
        raise FuncgradValueError(f"convolution dimension_numbers must name the same spatial "
                                 f"axes in all three specs, got {specs!r}")

    def permutation(spec, pair):
        spatial = sorted((i for i, c in enumerate(spec) if c not in pair),
                         key=lambda i: rhs_spec.index(spec[i]))
        return (spec.index(pair[0]), spec.index(pair[1]), *spatial)
    return tuple(permutation(s, p) for s, p in zip(specs, pairs))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """``dimension_numbers`` (None, three strings such as ``('NCHW', 'OIHW', 'NCHW')``, or a
    ``ConvDimensionNumbers``) as a ``ConvDimensionNumbers`` of axis numbers: None means
    input (batch, feature, spatial...), kernel (out feature, in feature, spatial...), output
    like the input. Spatial axes are matched by letter, in the kernel's order.

    Example:
        >>> lax.conv_dimension_numbers((1, 5, 5, 3), (2, 2, 3, 8), ("NHWC", "HWIO", "NHWC"))
        ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    if len(lhs_shape) != len(rhs_shape):
        raise ShapeError(f"a convolution needs an input and a kernel of one number of axes, "
                         f"got shapes {tuple(lhs_shape)} and {tuple(rhs_shape)}")
    if dimension_numbers is None:
        iota = tuple(range(len(lhs_shape)))
        return ConvDimensionNumbers(iota, iota, iota)
    if not (isinstance(dimension_numbers, (tuple, list)) and len(dimension_numbers) == 3
            and all(isinstance(s, str) for s in dimension_numbers)):
        raise FuncgradTypeError(f"convolution dimension_numbers must be None, three strings or "
                                f"a ConvDimensionNumbers, got {dimension_numbers!r}")
    if any(len(s) != len(lhs_shape) for s in dimension_numbers):
        raise ShapeError(f"convolution dimension_numbers {tuple(dimension_numbers)} do not "
                         f"have one letter per axis of shapes {tuple(lhs_shape)} and "
                         f"{tuple(rhs_shape)}")
    return ConvDimensionNumbers(*_permutations(tuple(dimension_numbers)))


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None,
                         feature_group_count: int = 1, batch_group_count: int = 1,
                         precision=None, preferred_element_type=None):
    """The general convolution (a cross-correlation, as in every deep-learning library) of
    ``lhs`` (the input) with ``rhs`` (the kernel): JAX's ``lax.conv_general_dilated``, for
    any number of spatial axes. ``padding`` is 'VALID', 'SAME', 'SAME_LOWER' or (low, high)
    pairs; ``lhs_dilation`` spreads the input out (a transposed convolution),
    ``rhs_dilation`` the kernel (atrous convolution); ``dimension_numbers`` as in
    ``conv_dimension_numbers``; ``feature_group_count`` splits the features into groups
    (depthwise convolutions). ``batch_group_count`` must be 1; ``precision`` is ignored.

    Example:
        >>> x = np.arange(5.0).reshape(1, 1, 5)           # N C W
        >>> w = np.array([1.0, 0.0, -1.0]).reshape(1, 1, 3)   # O I W
        >>> lax.conv_general_dilated(x, w, (1,), "VALID")
        array([[[-2., -2., -2.]]])
        >>> x = np.ones((2, 6, 6, 3))                     # N H W C
        >>> w = np.ones((3, 3, 3, 8))                     # H W I O
        >>> lax.conv_general_dilated(x, w, (2, 2), "SAME",
        ...                          dimension_numbers=("NHWC", "HWIO", "NHWC")).shape
        (2, 3, 3, 8)
    """
    lhs, rhs = array_arg(lhs, "lhs"), array_arg(rhs, "rhs")
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    if lhs.ndim < 2:
        raise ShapeError(f"a convolution's input needs a batch and a feature axis, got "
                         f"{_sub.leaf_aval(lhs)}")
    nsp = lhs.ndim - 2
    strides = _ints("conv_general_dilated's window_strides", window_strides, nsp, 1)
    ldil = _ints("conv_general_dilated's lhs_dilation", lhs_dilation or (1,) * nsp, nsp, 1)
    rdil = _ints("conv_general_dilated's rhs_dilation", rhs_dilation or (1,) * nsp, nsp, 1)
    if batch_group_count != 1:
        raise FuncgradValueError("conv_general_dilated: batch_group_count other than 1 is not "
                                 "supported")
    # channels last: the input (N, spatial..., C), the kernel (spatial..., I, O)
    x = fnp.transpose(lhs, (dn.lhs_spec[0], *dn.lhs_spec[2:], dn.lhs_spec[1]))
    w = fnp.transpose(rhs, (*dn.rhs_spec[2:], dn.rhs_spec[1], dn.rhs_spec[0]))
    kernel = tuple(w.shape[:-2])
    if isinstance(padding, str):
        if any(d != 1 for d in ldil):
            raise FuncgradValueError("conv_general_dilated: string padding with lhs_dilation "
                                     "is not defined (as in JAX): give (low, high) pairs, or "
                                     "use lax.conv_transpose")
        pads = padtype_to_pads(x.shape[1:-1], [(k - 1) * d + 1 for k, d in zip(kernel, rdil)],
                               strides, padding)
    else:
        pads = _pairs("conv_general_dilated's padding", padding, nsp)
    groups = feature_group_count
    n, c = x.shape[0], x.shape[-1]
    i, o = w.shape[-2:]
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 \
            or c != i * groups or o % groups:
        raise ShapeError(f"conv_general_dilated: an input of {c} features and a kernel of "
                         f"{i} input and {o} output features do not make "
                         f"feature_group_count={groups!r} groups")
    # the patches (N, outputs, taps, C): one row of a matrix product per output position
    patches, out_sizes = _patches(x, 1, kernel, strides, pads, ldil, rdil, 0, trailing=1)
    rows, taps = n * math.prod(out_sizes), math.prod(kernel)
    if groups == 1:
        y = fnp.matmul(fnp.reshape(patches, (rows, taps * c)),
                       fnp.reshape(w, (taps * i, o)))
    else:  # one product per group: (groups, rows, O // groups) -> (rows, O)
        y = lax_ops.dot_general(fnp.reshape(patches, (rows, taps, groups, i)),
                                fnp.reshape(w, (taps, i, groups, o // groups)),
                                (((1, 3), (0, 1)), ((2,), (2,))))
        y = fnp.reshape(fnp.moveaxis(y, 0, 1), (rows, o))
    y = fnp.reshape(y, (n, *out_sizes, o))
    # the output's axis p is canonical axis (N, O, spatial...)[argsort(out_spec)[p]], which
    # is axis (0, last, 1, 2, ...)[that] of y
    where = [0, y.ndim - 1, *range(1, y.ndim - 1)]
    out = fnp.transpose(y, tuple(where[int(a)] for a in np.argsort(dn.out_spec)))
    return out if preferred_element_type is None else fnp.astype(out, preferred_element_type)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """``conv_general_dilated`` of an input (batch, feature, spatial...) and a kernel (out
    feature, in feature, spatial...), without dilation.

    Example:
        >>> lax.conv(np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3)), (1, 1), "SAME")[0, 0]
        array([[ 8., 12., 12.,  8.],
               [12., 18., 18., 12.],
               [12., 18., 18., 12.],
               [ 8., 12., 12.,  8.]])
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                              precision=None, preferred_element_type=None):
    """``conv_general_dilated`` with (batch, feature, spatial...) layouts and both
    dilations.

    Example:
        >>> x = np.arange(5.0).reshape(1, 1, 5)
        >>> lax.conv_with_general_padding(x, np.ones((1, 1, 2)), (1,), [(0, 0)], None, (2,))
        array([[[2., 4., 6.]]])
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                preferred_element_type=preferred_element_type)


def _transpose_padding(k, s, padding):
    """JAX's padding of the dilated input that undoes a forward convolution's shape."""
    if padding == "SAME":
        total = k + s - 2
        before = k - 1 if s > k - 1 else int(np.ceil(total / 2))
    elif padding == "VALID":
        total = k + s - 2 + builtins.max(k - s, 0)
        before = k - 1
    elif isinstance(padding, tuple):
        pads = tuple(k - p - 1 for p in padding)
        before, total = pads[0], sum(pads)
    else:
        raise FuncgradValueError(f"conv_transpose's padding must be 'SAME', 'VALID' or (low, "
                                 f"high) pairs, got {padding!r}")
    return before, total - before


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel: bool = False, precision=None, preferred_element_type=None,
                   use_consistent_padding: bool = False):
    """The transposed convolution (a 'deconvolution', upsampling by ``strides``), as JAX's
    ``lax.conv_transpose``: ``conv_general_dilated`` of the input dilated by ``strides``.
    Layouts default to ``('NHWC', 'HWIO', 'NHWC')`` (and their 1-D and 3-D kin);
    'SAME'/'VALID' padding give JAX's output sizes; ``transpose_kernel=True`` flips the
    kernel and swaps its feature axes (the exact transpose of ``conv_general_dilated``).

    Example:
        >>> x = np.ones((1, 3, 1))                        # N W C
        >>> lax.conv_transpose(x, np.ones((2, 1, 1)), (2,), "VALID")[0, :, 0]
        array([1., 1., 1., 1., 1., 1.])
    """
    lhs, rhs = array_arg(lhs, "lhs"), array_arg(rhs, "rhs")
    nd = lhs.ndim
    if rhs.ndim != nd or nd < 2:
        raise ShapeError(f"conv_transpose needs an input and a kernel of one number of axes "
                         f"(at least 2), got {_sub.leaf_aval(lhs)} and {_sub.leaf_aval(rhs)}")
    if dimension_numbers is None:
        defaults = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"),
                    4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}
        if nd not in defaults:
            raise ShapeError(f"conv_transpose has no default dimension_numbers for "
                             f"{nd} axes: give them")
        dimension_numbers = defaults[nd]
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    kernel = [rhs.shape[a] for a in dn.rhs_spec[2:]]
    nsp = nd - 2
    strides = _ints("conv_transpose's strides", strides, nsp, 1)
    rdil = _ints("conv_transpose's rhs_dilation", rhs_dilation or (1,) * nsp, nsp, 1)
    pads: object
    if use_consistent_padding or (isinstance(padding, str) and padding in ("SAME", "VALID")):
        each = [padding] * nsp if isinstance(padding, str) else [tuple(p) for p in padding]
        pads = [_transpose_padding((k - 1) * d + 1, s, p)
                for k, s, d, p in zip(kernel, strides, rdil, each)]
    else:
        pads = padding
    if transpose_kernel:
        rhs = fnp.flip(rhs, tuple(dn.rhs_spec[2:]))
        rhs = fnp.swapaxes(rhs, dn.rhs_spec[0], dn.rhs_spec[1])
    return conv_general_dilated(lhs, rhs, (1,) * nsp, pads, strides, rdil, dn,
                                preferred_element_type=preferred_element_type)

