"""Histograms and window functions under NumPy's names.

A histogram places each value by a binary search among the bin edges (searchsorted, as
NumPy's own bins are decided by comparing with the edges) and adds its weight there with a
scatter-add: the counts are differentiable in the weights, and with a number of bins the
edges are traced functions of the data's range. String bin rules ('auto', 'fd', ...) need
concrete data, as in JAX.

Windows have a static length; they are NumPy's constants, but for ``kaiser``, whose shape
parameter may be traced.
"""

from __future__ import annotations

import operator

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import (ConcretizationError, FuncgradTypeError, FuncgradValueError,
                                  ShapeError)
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._util import array_arg


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002
    """The edges of ``histogram``'s bins (like numpy.histogram_bin_edges): ``bins`` equal
    bins over ``range`` (by default the data's minimum to maximum), or the given edges.

    Example:
        >>> fnp.histogram_bin_edges(np.array([0.0, 1.0, 4.0]), bins=4)
        array([0., 1., 2., 3., 4.])
    """
    a = array_arg(a)
    if isinstance(bins, str):
        if isinstance(a, Tracer) or isinstance(weights, Tracer):
            raise ConcretizationError(f"histogram: bins={bins!r} decides the number of bins "
                                      "from the data's values; pass a number of bins")
        return np.histogram_bin_edges(a, bins, range, weights)
    if np.ndim(bins) == 1 or isinstance(bins, Tracer):
        edges = array_arg(bins, "bins")
        if edges.ndim != 1 or edges.shape[0] < 2:
            raise ShapeError("histogram: bins must be an integer or a 1-D array of at least "
                             "two edges")
        if not isinstance(edges, Tracer) and np.any(np.diff(edges) < 0):
            raise FuncgradValueError("histogram: bins must increase monotonically")
        return edges
    try:
        n = operator.index(bins)
    except TypeError:
        raise FuncgradTypeError(f"histogram: bins must be an integer, a string or an array of "
                                f"edges, got {bins!r}") from None
    if n < 1:
        raise FuncgradValueError(f"histogram: bins must be a positive integer, got {n}")
    what = "autodetected" if range is None else "supplied"
    if range is None:
        if a.size == 0:
            lo, hi = 0.0, 1.0
        else:
            lo, hi = fnp.min(a), fnp.max(a)
    else:
        lo, hi = range
        if not isinstance(lo, Tracer) and not isinstance(hi, Tracer) and lo > hi:
            raise FuncgradValueError("histogram: max must be larger than min in range "
                                     "parameter")
    dtype = np.result_type(a.dtype, np.float64) if a.dtype.kind != "f" else a.dtype
    lo, hi = fnp.asarray(lo, dtype), fnp.asarray(hi, dtype)
    same = lo == hi  # NumPy widens an empty range by 0.5 each side
    lo, hi = fnp.where(same, lo - 0.5, lo), fnp.where(same, hi + 0.5, hi)
    if not isinstance(lo, Tracer) and not np.all(np.isfinite([lo, hi])):
        raise FuncgradValueError(f"histogram: {what} range of [{lo}, {hi}] is not finite")
    return fnp.linspace(lo, hi, n + 1)


def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """The histogram of the flattened ``a``: ``(counts, edges)`` (like numpy.histogram).
    Bins include their left edge, the last one its right edge too; values outside are not
    counted. ``weights`` make the counts sums of weights (differentiable in them);
    ``density`` divides by the total and the bin widths.

    Example:
        >>> fnp.histogram(np.array([0.5, 1.0, 1.5, 3.0]), bins=3, range=(0.0, 3.0))
        (array([1, 2, 1]), array([0., 1., 2., 3.]))
    """
    a = fnp.ravel(array_arg(a))
    edges = histogram_bin_edges(a, bins, range, weights)
    n = edges.shape[0] - 1
    inside = (a >= edges[0]) & (a <= edges[-1])
    at = fnp.searchsorted(edges, a, side="right") - 1
    at = fnp.where(a == edges[-1], n - 1, at)  # the last bin is closed on the right
    at = fnp.where(inside, at, n)  # one spare bin for what falls outside, dropped below
    if weights is None:
        added = fnp.ones_like(a, dtype=np.int64)
    else:
        added = array_arg(weights, "weights")
        if added.shape != tuple(a.shape) and fnp.ravel(added).shape != tuple(a.shape):
            raise ShapeError("histogram: weights should have the same shape as a")
        added = fnp.ravel(added)
    counts = fnp.at(fnp.zeros(n + 1, added.dtype))[at].add(added)[:n]
    if density:
        widths = edges[1:] - edges[:-1]
        counts = counts / widths / fnp.sum(counts)
    return counts, edges


def _window(name, function):
    def window(M):
        if isinstance(M, Tracer):
            raise ConcretizationError(f"{name}: M must be a concrete int, the window's length")
        return function(operator.index(M))
    window.__name__ = window.__qualname__ = name
    window.__doc__ = (f"The {name.capitalize()} window of ``M`` points (like numpy.{name}), "
                      "float64.\n\n    Example:\n        >>> fnp." + name + "(4)\n        "
                      + repr(function(4)) + "\n    ")
    return window


bartlett = _window("bartlett", np.bartlett)
blackman = _window("blackman", np.blackman)
hamming = _window("hamming", np.hamming)
hanning = _window("hanning", np.hanning)


def kaiser(M, beta):
    """The Kaiser window of ``M`` points with shape parameter ``beta`` (like numpy.kaiser),
    ``i0(beta * sqrt(1 - (2 n / (M - 1) - 1) ** 2)) / i0(beta)``; differentiable in beta.

    Example:
        >>> fnp.kaiser(4, 5.0)
        array([0.03671089, 0.7753221 , 0.7753221 , 0.03671089])
    """
    if isinstance(M, Tracer):
        raise ConcretizationError("kaiser: M must be a concrete int, the window's length")
    M = operator.index(M)
    if not isinstance(beta, Tracer):
        return np.kaiser(M, beta)
    if M <= 1:
        return fnp.ones(max(M, 0)) * (beta * 0.0 + 1.0)
    alpha = (M - 1) / 2.0
    ratio = (np.arange(M) - alpha) / alpha
    beta = fnp.asarray(beta, np.float64)
    return fnp.i0(beta * np.sqrt(np.clip(1.0 - ratio * ratio, 0.0, None))) / fnp.i0(beta)
