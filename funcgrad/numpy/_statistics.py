"""Order statistics, NaN-ignoring reductions, weighted means, covariance and interpolation
under NumPy's names, all composed from existing primitives (their rules come with them).

Quantiles sort (funcgrad.numpy._sorting) and gather the two order statistics around each
quantile's position: the gradient goes to those two, split by the interpolation weights (as
in JAX). NaN-ignoring reductions replace NaN by the reduction's identity (NaN elements get a
zero gradient); nanmax/nanmin share the gradient among ties as max/min do.
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._reductions import argmax, argmin, cumprod, cumsum, max as max_, min as min_
from funcgrad.numpy._sorting import argsort, searchsorted
from funcgrad.numpy._util import array_arg, normalize_axes, normalize_axis, unsupported

# Hyndman and Fan's sample quantiles, as NumPy names them (its docs say which is which),
# then NumPy's older ones. The continuous methods interpolate at index
# n q + alpha + q (1 - alpha - beta) - 1 of the sorted values:
_PLOTTING_POSITIONS = {"interpolated_inverted_cdf": (0, 1), "hazen": (0.5, 0.5),
                       "weibull": (0, 0), "median_unbiased": (1 / 3.0, 1 / 3.0),
                       "normal_unbiased": (3 / 8.0, 3 / 8.0)}
_METHODS = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation",
            *_PLOTTING_POSITIONS, "linear", "lower", "higher", "nearest", "midpoint")


def _scalar(x):
    """A 0-d result as NumPy gives it: a NumPy scalar (``where`` returns a 0-d array)."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


# --- quantiles ------------------------------------------------------------------------------

def _reduced_last(a, axes):
    """``a`` with ``axes`` moved to the end and flattened into one: (kept..., n)."""
    kept = [i for i in range(a.ndim) if i not in axes]
    moved = fnp.transpose(a, kept + list(axes))
    n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    return fnp.reshape(moved, [a.shape[i] for i in kept] + [n])


def _check_q(q, scale, name, a):
    """``q`` as an array (floats; a Python number is float64, as NumPy computes with it)."""
    q = q if isinstance(q, Tracer) else np.asarray(q)
    if q.dtype.kind not in "biuf":
        raise FuncgradTypeError(f"{name}: q must be real numbers, got {q.dtype}")
    if not isinstance(q, Tracer) and q.size and not (np.all(q >= 0) and np.all(q <= scale)):
        raise FuncgradValueError(f"{name}: q must be in the range [0, {scale}], got {q}")
    return q if isinstance(q, Tracer) or q.dtype.kind == "f" else q.astype(np.float64)


def _lerp(below, above, gamma, weak_q=False):
    """NumPy's interpolation, exact at both ends: from ``above`` when nearer to it. After a
    Python number q, the weights are rounded to the values' float dtype as NumPy's are (it
    takes them as Python floats: 1 - gamma is rounded once, from float64)."""
    diff = above - below
    near, far = gamma, 1 - gamma
    if weak_q and diff.dtype.kind == "f":
        near, far = near.astype(diff.dtype), far.astype(diff.dtype)
    return fnp.where(gamma >= 0.5, above - diff * far, below + diff * near)


def _virtual_index(method, q, n):
    """Where in the sorted values ``method`` finds quantile ``q`` of ``n`` values: an index,
    fractional between two order statistics, written as NumPy writes it (the same rounding)."""
    if method in _PLOTTING_POSITIONS:
        alpha, beta = _PLOTTING_POSITIONS[method]
        return n * q + (alpha + q * (1 - alpha - beta)) - 1
    if method in ("inverted_cdf", "averaged_inverted_cdf"):
        return n * q - 1
    if method == "closest_observation":
        return n * q - 1 - 0.5
    return q * (n - 1)


def _order_statistics(values, order, position, n, method, weak_q):
    """The value at (fractional) ``position`` of ``values`` sorted along the last axis by
    ``order``, by ``method``; ``n`` is the count of elements it may reach (below the NaN
    sorted last). Positions outside 0 .. n - 1 take the end values (clipped, as NumPy's).
    Only the order statistics used are gathered (and get a gradient). ``weak_q``: q was a
    Python number, whose result keeps the values' dtype (a float32 array's stays float32)."""
    last = fnp.maximum(n - 1, 0)

    def at(k):  # the k-th smallest, k broadcast against the quantiles' axes
        k = fnp.expand_dims(fnp.clip(k, 0, last).astype(np.int64), -1)
        return fnp.take_along_axis(values, fnp.take_along_axis(order, k, -1), -1)[..., 0]

    below = fnp.floor(position)
    gamma = position - below
    if method == "lower":
        return at(below)
    if method == "higher":
        return at(fnp.ceil(position))
    if method == "nearest":
        return at(fnp.round(position))  # NumPy's: half to even
    if method == "inverted_cdf":  # the first order statistic whose empirical CDF reaches q
        return at(fnp.where(gamma == 0, below, below + 1))
    if method == "closest_observation":  # the nearest one, at a tie the even one (1-based)
        return at(fnp.where((gamma == 0) & (below % 2 == 1), below, below + 1))
    if method == "median":  # NumPy's median: the mean of the middle two (or the middle one
        # twice), so an infinite one gives inf where interpolating gives inf - inf = NaN
        return 0.5 * at(below) + 0.5 * at(fnp.ceil(position))
    if method == "midpoint":
        gamma = fnp.where(gamma == 0, 0.0, 0.5).astype(gamma.dtype)
    elif method == "averaged_inverted_cdf":  # inverted_cdf, averaged where the CDF is flat
        gamma = fnp.where(gamma == 0, 0.5, 1.0).astype(gamma.dtype)
    return _lerp(at(below), at(below + 1), gamma, weak_q)


def _method(name, method, interpolation):
    """The interpolation method asked for (``interpolation`` is NumPy's older name)."""
    method = interpolation or method
    if method not in _METHODS:
        raise FuncgradValueError(f"{name}: method must be one of {_METHODS}, got {method!r}")
    return method


def _quantile(name, a, q, axis, method, keepdims, ignore_nan, weak_q=True):
    a = array_arg(a)
    if a.dtype.kind == "b":
        a = a.astype(np.float64)
    axes = normalize_axes(axis, a.ndim)
    flat = _reduced_last(a, axes)
    if flat.shape[-1] == 0:
        raise ShapeError(f"{name} of an empty axis")
    order = argsort(flat, axis=-1)
    kept = flat.shape[:-1]
    q_axes = (slice(None),) * q.ndim + (None,) * len(kept)
    if ignore_nan and a.dtype.kind == "f":
        n = fnp.sum(~fnp.isnan(flat), axis=-1).astype(q.dtype)
    else:
        n = flat.shape[-1]
    position = fnp.broadcast_to(_virtual_index(method, q[q_axes] if q.ndim else q, n),
                                (*q.shape, *kept))
    with_q_axes = (1,) * q.ndim + flat.shape  # the quantiles' axes first
    result = _order_statistics(fnp.reshape(flat, with_q_axes), fnp.reshape(order, with_q_axes),
                               position, n, method, weak_q)
    if a.dtype.kind == "f":  # a NaN in a slice (an all-NaN slice, ignoring them) gives NaN
        nan_slice = (n == 0) if ignore_nan else fnp.any(fnp.isnan(flat), axis=-1)
        result = fnp.where(nan_slice, np.nan, result)
    if keepdims:
        shape = [1 if i in axes else d for i, d in enumerate(a.shape)]
        result = fnp.reshape(result, (*q.shape, *shape))
    return _scalar(result)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """The ``q``-th quantiles of ``a`` over ``axis`` (like numpy.quantile; axis=None:
    all axes). ``q`` may be an array (its axes come first in the result) and traced.
    Every method of NumPy's: 'linear' (the default), 'lower', 'higher', 'nearest',
    'midpoint', and Hyndman and Fan's 'inverted_cdf', 'averaged_inverted_cdf',
    'closest_observation', 'interpolated_inverted_cdf', 'hazen', 'weibull',
    'median_unbiased' and 'normal_unbiased'. A NaN in a slice gives NaN. The gradient goes to
    the order statistics used, by their interpolation weights.

    Example:
        >>> fnp.quantile(np.array([1.0, 2.0, 4.0, 8.0]), np.array([0.25, 0.5]))
        array([1.75, 3.  ])
        >>> fg.grad(lambda x: fnp.quantile(x, 0.25))(np.array([1.0, 2.0, 4.0, 8.0]))
        array([0.25, 0.75, 0.  , 0.  ])
    """
    unsupported("quantile", out=out, weights=weights)
    weak, q = type(q) in (int, float), _check_q(q, 1, "quantile", a)
    method = _method("quantile", method, interpolation)
    return _quantile("quantile", a, q, axis, method, keepdims, False, weak)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """The ``q``-th percentiles of ``a`` (like numpy.percentile): ``quantile(a, q / 100)``.

    Example:
        >>> fnp.percentile(np.array([[1.0, 3.0], [2.0, 6.0]]), 50, axis=1)
        array([2., 4.])
    """
    unsupported("percentile", out=out, weights=weights)
    weak, q = type(q) in (int, float), fnp.true_divide(_check_q(q, 100, "percentile", a), 100)
    method = _method("percentile", method, interpolation)
    return _quantile("percentile", a, q, axis, method, keepdims, False, weak)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median of ``a`` over ``axis`` (like numpy.median): with an even count, the mean
    of the two middle elements, which share the gradient.

    Example:
        >>> fnp.median(np.array([4.0, 1.0, 3.0, 2.0]))
        np.float64(2.5)
    """
    unsupported("median", out=out)
    return _quantile("median", a, _check_q(0.5, 1, "median", a), axis, "median", keepdims,
                     False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    """``quantile`` ignoring NaN (like numpy.nanquantile): NaN for an all-NaN slice.

    Example:
        >>> fnp.nanquantile(np.array([1.0, np.nan, 3.0]), 0.5)
        np.float64(2.0)
    """
    unsupported("nanquantile", out=out, weights=weights)
    weak, q = type(q) in (int, float), _check_q(q, 1, "nanquantile", a)
    method = _method("nanquantile", method, interpolation)
    return _quantile("nanquantile", a, q, axis, method, keepdims, True, weak)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    """``percentile`` ignoring NaN (like numpy.nanpercentile).

    Example:
        >>> fnp.nanpercentile(np.array([1.0, np.nan, 3.0, 5.0]), 100)
        np.float64(5.0)
    """
    unsupported("nanpercentile", out=out, weights=weights)
    weak, q = type(q) in (int, float), fnp.true_divide(_check_q(q, 100, "nanpercentile", a), 100)
    method = _method("nanpercentile", method, interpolation)
    return _quantile("nanpercentile", a, q, axis, method, keepdims, True, weak)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``median`` ignoring NaN (like numpy.nanmedian).

    Example:
        >>> fnp.nanmedian(np.array([[1.0, np.nan], [2.0, 4.0]]), axis=1)
        array([1., 3.])
    """
    unsupported("nanmedian", out=out)
    return _quantile("nanmedian", a, _check_q(0.5, 1, "nanmedian", a), axis, "median",
                     keepdims, True)


# --- NaN-ignoring reductions ----------------------------------------------------------------

def _without_nan(a, identity):
    a = array_arg(a)
    return fnp.where(fnp.isnan(a), identity, a) if a.dtype.kind == "f" else a


def _not_nan_count(a, axis, keepdims, where=None):
    return fnp.sum(~fnp.isnan(a), axis=axis, keepdims=keepdims, where=where) \
        if a.dtype.kind == "f" else \
        fnp.sum(fnp.ones_like(a, dtype=np.int64), axis=axis, keepdims=keepdims, where=where)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Sum over ``axis`` treating NaN as zero (like numpy.nansum).

    Example:
        >>> fnp.nansum(np.array([1.0, np.nan, 3.0]))
        np.float64(4.0)
    """
    unsupported("nansum", out=out)
    return fnp.sum(_without_nan(a, 0), axis=axis, dtype=dtype, keepdims=keepdims,
                   initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product over ``axis`` treating NaN as one (like numpy.nanprod).

    Example:
        >>> fnp.nanprod(np.array([2.0, np.nan, 3.0]))
        np.float64(6.0)
    """
    unsupported("nanprod", out=out)
    return fnp.prod(_without_nan(a, 1), axis=axis, dtype=dtype, keepdims=keepdims,
                    initial=initial, where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Mean over ``axis`` of the elements that are not NaN (like numpy.nanmean; NaN for an
    all-NaN slice).

    Example:
        >>> fnp.nanmean(np.array([1.0, np.nan, 3.0]))
        np.float64(2.0)
    """
    unsupported("nanmean", out=out)
    a = array_arg(a)
    if dtype is not None:
        a = a.astype(dtype)
    if a.dtype.kind != "f":
        return fnp.mean(a, axis=axis, keepdims=keepdims, where=where)
    with np.errstate(invalid="ignore", divide="ignore"):
        return fnp.true_divide(nansum(a, axis=axis, keepdims=keepdims, where=where),
                               _not_nan_count(a, axis, keepdims, where).astype(a.dtype))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           mean=None, correction=None):
    """Variance over ``axis`` of the elements that are not NaN, dividing by ``n - ddof``
    (like numpy.nanvar; NaN where ``n - ddof <= 0``).

    Example:
        >>> fnp.nanvar(np.array([1.0, np.nan, 3.0]))
        np.float64(1.0)
    """
    unsupported("nanvar", out=out, mean=mean)
    ddof = ddof if correction is None else correction
    a = array_arg(a)
    if dtype is not None:
        a = a.astype(dtype)
    if a.dtype.kind != "f":
        return fnp.var(a, axis=axis, ddof=ddof, keepdims=keepdims, where=where)
    # the missing elements are a's NaN: a NaN that centering makes (inf - inf) stays
    centered = fnp.where(fnp.isnan(a), 0, a - nanmean(a, axis=axis, keepdims=True,
                                                       where=where))
    dof = _not_nan_count(a, axis, keepdims, where) - ddof
    squares = fnp.sum(centered * centered, axis=axis, keepdims=keepdims, where=where)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _scalar(fnp.where(dof > 0, squares / fnp.maximum(dof, 1).astype(squares.dtype),
                                 np.nan))


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           mean=None, correction=None):
    """Standard deviation over ``axis`` ignoring NaN (like numpy.nanstd).

    Example:
        >>> fnp.nanstd(np.array([1.0, np.nan, 3.0]))
        np.float64(1.0)
    """
    return fnp.sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                           correction=correction))


def _nan_cumulative(name, cumulative, identity):
    def nan_cumulative(a, axis=None, dtype=None, out=None):
        unsupported(name, out=out)
        return cumulative(_without_nan(a, identity), axis=axis, dtype=dtype)
    nan_cumulative.__name__ = nan_cumulative.__qualname__ = name
    return nan_cumulative


nancumsum = _nan_cumulative("nancumsum", cumsum, 0)
nancumsum.__doc__ = """Cumulative sum along ``axis`` treating NaN as zero (like
    numpy.nancumsum; axis=None flattens). NaN elements get a zero gradient.

    Example:
        >>> fnp.nancumsum(np.array([1.0, np.nan, 3.0]))
        array([1., 1., 4.])
    """
nancumprod = _nan_cumulative("nancumprod", cumprod, 1)
nancumprod.__doc__ = """Cumulative product along ``axis`` treating NaN as one (like
    numpy.nancumprod; axis=None flattens).

    Example:
        >>> fnp.nancumprod(np.array([2.0, np.nan, 3.0]))
        array([2., 2., 6.])
    """


def ptp(a, axis=None, out=None, keepdims=False):
    """The range ``max - min`` over ``axis`` (like numpy.ptp, "peak to peak"). The gradient
    goes to the maximum and the minimum (shared among ties).

    Example:
        >>> fnp.ptp(np.array([[1.0, 5.0], [4.0, 2.0]]), axis=1)
        array([4., 2.])
    """
    unsupported("ptp", out=out)
    a = array_arg(a)
    if a.dtype == np.bool_:
        raise FuncgradTypeError("ptp of booleans: max - min would subtract booleans, which "
                                "NumPy refuses")
    return max_(a, axis=axis, keepdims=keepdims) - min_(a, axis=axis, keepdims=keepdims)


def _nan_chooser(name, reduce, worst):
    def chooser(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        unsupported(name, out=out)
        a = array_arg(a)
        options = dict(axis=axis, keepdims=keepdims, initial=initial, where=where)
        if a.dtype.kind != "f":
            return reduce(a, **options)
        nan = fnp.isnan(a)
        best = reduce(fnp.where(nan, worst, a), **options)
        if initial is not None:  # a slice with nothing but NaN is initial (NumPy's too)
            return best
        return _scalar(fnp.where(fnp.all(nan, axis=axis, keepdims=keepdims), np.nan, best))
    chooser.__name__ = chooser.__qualname__ = name
    return chooser


nanmax = _nan_chooser("nanmax", max_, -np.inf)
nanmax.__doc__ = """Maximum over ``axis`` ignoring NaN (like numpy.nanmax; NaN for an all-NaN
    slice). Ties share the gradient equally, as in ``max``.

    Example:
        >>> fnp.nanmax(np.array([1.0, np.nan, 3.0]))
        np.float64(3.0)
    """
nanmin = _nan_chooser("nanmin", min_, np.inf)
nanmin.__doc__ = """Minimum over ``axis`` ignoring NaN (like numpy.nanmin; NaN for an all-NaN
    slice). Ties share the gradient equally, as in ``min``.

    Example:
        >>> fnp.nanmin(np.array([[1.0, np.nan], [np.nan, 2.0]]), axis=1)
        array([1., 2.])
    """


def _nan_arg(name, arg, worst):
    def arg_chooser(a, axis=None, out=None, *, keepdims=False):
        unsupported(name, out=out)
        a = array_arg(a)
        if a.dtype.kind != "f":
            return arg(a, axis=axis, keepdims=keepdims)
        # checked with NumPy: inside a trace, fnp.isnan of a constant is traced
        if not isinstance(a, Tracer) and np.any(np.all(np.isnan(a), axis=axis)):
            raise FuncgradValueError(f"{name}: All-NaN slice encountered")
        nan = fnp.isnan(a)
        index = arg(fnp.where(nan, worst, a), axis=axis, keepdims=keepdims)
        # traced, an all-NaN slice cannot raise: its index is -1 (as in JAX)
        return _scalar(fnp.where(fnp.all(nan, axis=axis, keepdims=keepdims), -1, index))
    arg_chooser.__name__ = arg_chooser.__qualname__ = name
    return arg_chooser


nanargmax = _nan_arg("nanargmax", argmax, -np.inf)
nanargmax.__doc__ = """Index of the maximum along ``axis`` ignoring NaN (like
    numpy.nanargmax; an all-NaN slice raises on concrete arrays and gives -1 when traced).

    Example:
        >>> fnp.nanargmax(np.array([1.0, np.nan, 3.0]))
        np.int64(2)
    """
nanargmin = _nan_arg("nanargmin", argmin, np.inf)
nanargmin.__doc__ = """Index of the minimum along ``axis`` ignoring NaN (like
    numpy.nanargmin; an all-NaN slice raises on concrete arrays and gives -1 when traced).

    Example:
        >>> fnp.nanargmin(np.array([np.nan, 2.0, 1.0]))
        np.int64(2)
    """


# --- weighted means and covariance ---------------------------------------------------------

def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """The weighted mean over ``axis`` (like numpy.average): ``weights`` the shape of ``a``,
    or 1-D along a single ``axis``. ``returned=True`` also gives the sum of the weights.

    Example:
        >>> fnp.average(np.array([1.0, 2.0, 4.0]), weights=np.array([1.0, 1.0, 2.0]))
        np.float64(2.75)
        >>> fnp.average(np.array([[1.0, 3.0]]), axis=1, returned=True)
        (array([2.]), array([2.]))
    """
    a = array_arg(a, "a")
    if weights is None:
        avg = fnp.mean(a, axis=axis, keepdims=keepdims)
        count = a.size // max(int(np.prod(fnp.shape(avg), dtype=np.int64)), 1) if a.size \
            else 0
        total = fnp.broadcast_to(fnp.asarray(count).astype(avg.dtype), fnp.shape(avg))
    else:
        w = array_arg(weights, "weights")
        if w.shape != a.shape:
            if axis is None or isinstance(axis, (tuple, list)):
                raise FuncgradTypeError("average: axis must be a single int when the shapes "
                                        "of a and weights differ")
            k = normalize_axis(axis, a.ndim)
            if w.ndim != 1 or w.shape[0] != a.shape[k]:
                raise ShapeError(f"average: weights of shape {w.shape} do not match a of "
                                 f"shape {a.shape} along axis {k}")
            w = fnp.reshape(w, [-1 if i == k else 1 for i in range(a.ndim)])
        # computed in NumPy's dtype: float64 for integers (their products and sums would
        # wrap around in int64)
        dtype = np.result_type(a.dtype, w.dtype, *([np.float64] if a.dtype.kind in "biu" else []))
        a, w = a.astype(dtype), w.astype(dtype)
        total = fnp.sum(fnp.broadcast_to(w, a.shape) if w.shape != a.shape else w,
                        axis=axis, keepdims=keepdims)
        if not isinstance(total, Tracer) and np.any(np.asarray(total) == 0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = fnp.sum(a * w, axis=axis, keepdims=keepdims) / total
        total = fnp.broadcast_to(total.astype(avg.dtype), fnp.shape(avg))
    if not returned:
        return avg
    return avg, (total[()] if not isinstance(total, Tracer) else total)  # 0-d: a scalar


def _observation_weights(fweights, aweights, n):
    w = None
    for name, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        given = array_arg(given, name).astype(np.float64)
        if given.ndim != 1 or given.shape[0] != n:
            raise ShapeError(f"cov: {name} must be 1-D with one weight per observation ({n}),"
                             f" got shape {given.shape}")
        if not isinstance(given, Tracer):
            if np.any(given < 0):
                raise FuncgradValueError(f"cov: {name} cannot be negative")
            if name == "fweights" and not np.all(given == np.around(given)):
                raise FuncgradTypeError("cov: fweights must be integer")
        w = given if w is None else w * given
    return w


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """The covariance matrix of the variables in ``m`` (and ``y``) (like numpy.cov): rows are
    variables unless ``rowvar=False``; divides by ``n - 1`` (``n`` if bias, ``n - ddof`` if
    given), with frequency and analytic weights as NumPy does.

    Example:
        >>> fnp.cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        array([[ 1., -1.],
               [-1.,  1.]])
    """
    m = array_arg(m, "m")
    if m.ndim > 2:
        raise ShapeError(f"cov: m has more than 2 dimensions ({m.shape})")
    dtype = np.dtype(dtype) if dtype is not None else \
        np.result_type(m.dtype, *([] if y is None else [array_arg(y).dtype]), np.float64)
    x = fnp.atleast_2d(m.astype(dtype))
    if not rowvar and m.ndim != 1:
        x = x.T
    if y is not None:
        y = array_arg(y, "y")
        if y.ndim > 2:
            raise ShapeError(f"cov: y has more than 2 dimensions ({y.shape})")
        y = fnp.atleast_2d(y.astype(dtype))
        if not rowvar and y.shape[0] != 1:
            y = y.T
        x = fnp.concatenate([x, y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = _observation_weights(fweights, aweights, x.shape[1])
    if w is None:
        avg, fact = fnp.mean(x, axis=1), x.shape[1] - ddof
    else:
        avg, w_sum = average(x, axis=1, weights=w, returned=True)
        w_sum = w_sum[0]
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            a = array_arg(aweights).astype(np.float64)
            fact = w_sum - ddof * fnp.sum(w * a) / w_sum
    fact = fnp.maximum(fact, 0.0)
    centered = x - avg[:, None]
    weighted = centered if w is None else centered * w
    with np.errstate(divide="ignore", invalid="ignore"):
        c = fnp.matmul(centered, weighted.T) * fnp.asarray(fnp.true_divide(1, fact), dtype)
    return fnp.squeeze(c)


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """Pearson correlation coefficients (like numpy.corrcoef): ``cov`` scaled by the
    standard deviations, clipped to [-1, 1].

    Example:
        >>> fnp.corrcoef(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0]))
        array([[1.        , 0.99339927],
               [0.99339927, 1.        ]])
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    stddev = fnp.sqrt(fnp.diagonal(c))
    c = c / stddev[:, None] / stddev[None, :]
    return fnp.clip(c, -1, 1)


# --- interpolation --------------------------------------------------------------------------

def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (``xp``, ``fp``) at ``x`` (like
    numpy.interp; ``xp`` increasing, or any order with ``period``). Outside ``xp``:
    ``left``/``right`` (default the end values). Differentiable in ``x``, ``xp`` and ``fp``;
    at a knot, the slope of the segment to its right (as in JAX). Computes in float64, as
    NumPy does.

    Example:
        >>> fnp.interp(np.array([0.5, 1.5, 3.0]), np.array([0.0, 1.0, 2.0]),
        ...            np.array([0.0, 10.0, 0.0]))
        array([5., 5., 0.])
        >>> fg.grad(lambda x: fnp.interp(x, np.array([0.0, 1.0]), np.array([0.0, 3.0])))(0.5)
        np.float64(3.0)
    """
    x, xp, fp = (array_arg(v, name).astype(np.float64)
                 for v, name in ((x, "x"), (xp, "xp"), (fp, "fp")))
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape != fp.shape or xp.shape[0] == 0:
        raise ShapeError(f"interp: xp and fp must be 1-D of the same non-zero length, got "
                         f"shapes {xp.shape} and {fp.shape}")
    if period is not None:
        if not isinstance(period, Tracer) and period == 0:
            raise FuncgradValueError("interp: period must be a non-zero value")
        period = fnp.abs(period)
        left = right = None
        x, xp = x % period, xp % period
        order = fnp.argsort(xp)
        xp, fp = fnp.take(xp, order), fnp.take(fp, order)
        xp = fnp.concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = fnp.concatenate([fp[-1:], fp, fp[:1]])
    if xp.shape[0] == 1:
        f = fnp.broadcast_to(fp[0], x.shape)
    else:
        i = fnp.clip(searchsorted(xp, x, side="right"), 1, xp.shape[0] - 1)
        x0, x1, f0, f1 = (fnp.take(v, k) for v, k in ((xp, i - 1), (xp, i), (fp, i - 1),
                                                       (fp, i)))
        dx = x1 - x0
        flat = dx == 0
        f = fnp.where(flat, f1, f0 + (x - x0) / fnp.where(flat, 1.0, dx) * (f1 - f0))
    f = fnp.where(x < xp[0], fp[0] if left is None else left, f)
    return _scalar(fnp.where(x > xp[-1], fp[-1] if right is None else right, f)
                   .astype(np.float64))

