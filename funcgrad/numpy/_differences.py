"""Finite differences of sampled data (numpy.gradient)."""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradValueError, ShapeError
from funcgrad.numpy._creation import asarray
from funcgrad.numpy._shape import concatenate, moveaxis
from funcgrad.numpy._util import array_arg, normalize_axes


def gradient(f, *varargs, axis=None, edge_order=1):
    """The gradient of sampled values ``f`` by second-order central differences inside and
    one-sided differences of order ``edge_order`` (1 or 2) at the ends (like numpy.gradient).
    Spacings in ``varargs``: none (1), one scalar for every axis, or one scalar or coordinate
    array per axis. Differentiable in ``f`` and in the spacings.

    Example:
        >>> fnp.gradient(np.array([1.0, 4.0, 9.0, 16.0]))
        array([3., 4., 6., 7.])
        >>> fnp.gradient(np.array([[1.0, 2.0], [4.0, 8.0]]))
        (array([[3., 6.],
               [3., 6.]]), array([[1., 1.],
               [4., 4.]]))
    """
    f = array_arg(f, "f")
    if f.dtype.kind != "f":
        f = asarray(f, np.float64)
    axes = normalize_axes(axis, f.ndim) if axis is not None else tuple(range(f.ndim))
    spacings = _spacings(varargs, len(axes))
    if edge_order not in (1, 2):
        raise FuncgradValueError(f"gradient: edge_order must be 1 or 2, not {edge_order!r}")
    out = tuple(_along(f, ax, h, edge_order) for ax, h in zip(axes, spacings))
    return out[0] if len(out) == 1 else out


def _spacings(varargs, n_axes):
    if not varargs:
        return [1.0] * n_axes
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return list(varargs) * n_axes
    if len(varargs) != n_axes:
        raise FuncgradValueError(f"gradient: {len(varargs)} spacings given for {n_axes} axes; "
                                 "give none, one scalar, or one per axis")
    return list(varargs)


def _along(f, ax, h, edge_order):
    g = moveaxis(f, ax, 0)
    n = g.shape[0]
    if n < edge_order + 1:
        raise ShapeError(f"gradient: axis {ax} has {n} samples; edge_order={edge_order} needs "
                         f"at least {edge_order + 1}")
    if np.ndim(h) == 0:
        d = _uniform(g, h, edge_order)
    else:
        h = array_arg(h, "spacing")
        if h.shape != (n,):
            raise ShapeError(f"gradient: coordinates of shape {tuple(h.shape)} for axis {ax} "
                             f"of length {n}")
        d = _coordinates(g, h, edge_order)
    return moveaxis(d, 0, ax)


def _uniform(g, h, edge_order):
    inner = (g[2:] - g[:-2]) / (2.0 * h)
    if edge_order == 1:
        first, last = (g[1:2] - g[:1]) / h, (g[-1:] - g[-2:-1]) / h
    else:
        first = (-3.0 * g[:1] + 4.0 * g[1:2] - g[2:3]) / (2.0 * h)
        last = (3.0 * g[-1:] - 4.0 * g[-2:-1] + g[-3:-2]) / (2.0 * h)
    return concatenate([first, inner, last])


def _coordinates(g, x, edge_order):
    dx = x[1:] - x[:-1]
    expand = (slice(None),) + (None,) * (g.ndim - 1)  # spacings broadcast over other axes
    d1, d2 = dx[:-1][expand], dx[1:][expand]
    inner = (-d2 / (d1 * (d1 + d2)) * g[:-2] + (d2 - d1) / (d1 * d2) * g[1:-1]
             + d1 / (d2 * (d1 + d2)) * g[2:])
    if edge_order == 1:
        first = (g[1:2] - g[:1]) / dx[:1][expand]
        last = (g[-1:] - g[-2:-1]) / dx[-1:][expand]
    else:
        a, b = dx[:1][expand], dx[1:2][expand]
        first = (-(2.0 * a + b) / (a * (a + b)) * g[:1] + (a + b) / (a * b) * g[1:2]
                 - a / (b * (a + b)) * g[2:3])
        a, b = dx[-2:-1][expand], dx[-1:][expand]
        last = (b / (a * (a + b)) * g[-3:-2] - (a + b) / (a * b) * g[-2:-1]
                + (2.0 * b + a) / (b * (a + b)) * g[-1:])
    return concatenate([first, inner, last])
