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

import builtins
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
    at = fnp.where(inside, _bin_of(a, edges, n), n)  # a spare bin for what falls outside
    counts = _add_up(at, weights, a.shape[0], n, "histogram")[:n]
    if density:
        widths = edges[1:] - edges[:-1]
        counts = counts / widths / fnp.sum(counts)
    return counts, edges


def histogramdd(sample, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """The D-dimensional histogram of ``sample``, N points as an (N, D) array or a sequence
    of D arrays: ``(counts, [edges per dimension])`` (like numpy.histogramdd). ``bins``: an
    int, or one int or array of edges per dimension; ``range``: one (min, max) or None per
    dimension. Counts are integers without ``weights``, as JAX's (NumPy's are floats).

    Example:
        >>> counts, edges = fnp.histogramdd(np.array([[0.0, 1.0], [1.0, 1.0]]), bins=2)
        >>> counts
        array([[0, 1],
               [0, 1]])
    """
    columns = _columns(sample)
    d = len(columns)
    bins = _per_dimension("bins", bins, d)
    ranges = _per_dimension("range", range, d, pairs=True)
    edges = [histogram_bin_edges(c, b, r) for c, b, r in zip(columns, bins, ranges)]
    sizes = tuple(e.shape[0] - 1 for e in edges)
    place, inside = 0, True
    for c, e, n in zip(columns, edges, sizes):  # the bin's flat index, row-major
        place = place * n + _bin_of(c, e, n)
        inside = inside & (c >= e[0]) & (c <= e[-1])
    total = int(np.prod(sizes))
    n_points = columns[0].shape[0] if d else 0
    counts = _add_up(fnp.where(inside, place, total), weights, n_points, total, "histogramdd")
    counts = fnp.reshape(counts[:total], sizes)
    if density:
        volume = 1.0
        for k, e in enumerate(edges):  # the bins' volumes: their widths' outer product
            shape = [1] * d
            shape[k] = sizes[k]
            volume = volume * fnp.reshape(e[1:] - e[:-1], shape)
        counts = counts / volume / fnp.sum(counts)
    return counts, edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """The 2-D histogram of the points ``(x[i], y[i])``: ``(counts, xedges, yedges)`` (like
    numpy.histogram2d); ``bins``: an int, a pair of ints or of edge arrays, or one array of
    edges for both. Integer counts without ``weights``, as JAX's.

    Example:
        >>> fnp.histogram2d(np.array([0.0, 1.0]), np.array([0.0, 1.0]), bins=2)[0]
        array([[1, 0],
               [0, 1]])
    """
    if hasattr(bins, "__len__") and len(bins) not in (1, 2):
        bins = [bins, bins]  # one array of edges for both axes (as NumPy decides it)
    counts, (xedges, yedges) = histogramdd([x, y], bins, range, density, weights)
    return counts, xedges, yedges


def _columns(sample):
    """The D coordinates of the N points, as NumPy reads ``sample``: an (N, D) array, else
    a sequence of D arrays of N values (a 1-D array: N points of one dimension)."""
    if isinstance(sample, (list, tuple)):
        columns = [fnp.ravel(array_arg(c, "sample")) for c in sample]
        if len({c.shape for c in columns}) > 1:
            raise ShapeError(f"histogramdd: the sample's {len(columns)} coordinate arrays "
                             f"have different lengths {[c.shape[0] for c in columns]}")
        return columns
    sample = array_arg(sample, "sample")
    if sample.ndim == 1:
        return [sample]
    if sample.ndim != 2:
        raise ShapeError(f"histogramdd: sample must be an (N, D) array or a sequence of D "
                         f"arrays, got shape {tuple(sample.shape)}")
    return [sample[:, k] for k in builtins.range(sample.shape[1])]


def _per_dimension(name, value, d, pairs=False):
    """``value`` for each of the d dimensions: one for all (an int of bins; no range), or a
    sequence of d."""
    if value is None or not pairs and not hasattr(value, "__len__"):
        return [value] * d
    if len(value) != d:
        raise ShapeError(f"histogramdd: {len(value)} {name} for a sample of {d} dimensions "
                         f"(give one per dimension)")
    return list(value)


def _bin_of(values, edges, n):
    """Each value's bin among ``edges``: left edges included, the last bin's right one too."""
    at = fnp.searchsorted(edges, values, side="right") - 1
    return fnp.where(values == edges[-1], n - 1, at)


def _add_up(place, weights, n_points, n_bins, name):
    """The count (or sum of ``weights``) of the points in each of ``n_bins`` bins, and in a
    spare one past them for the points outside (``place == n_bins``)."""
    if weights is None:
        added = fnp.ones(n_points, dtype=np.int64)
    else:
        added = fnp.ravel(array_arg(weights, "weights"))
        if added.shape != (n_points,):
            raise ShapeError(f"{name}: {added.shape[0]} weights for {n_points} values")
    return fnp.at(fnp.zeros(n_bins + 1, added.dtype))[place].add(added)


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
