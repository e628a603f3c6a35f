"""Sorting, searching, counting, order statistics and NaN-ignoring reductions
(funcgrad.numpy._sorting, _statistics) against NumPy, finite differences and JAX's
conventions; traced (make_ir, uncompiled) for the many cases, jit for a representative few.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.testing import check_grads

SETTINGS = settings(max_examples=15, deadline=None)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # all-NaN slices, as NumPy


def traced(fn, *args):
    """``fn(*args)`` traced into a Program and evaluated (no compile): the traced path."""
    closed = fg.make_ir(fn)(*args)
    return fg.tree.unflatten(closed.out_tree, closed(*fg.tree.leaves(args)))


def same(actual, expected, exact_dtype=True):
    for a, e in zip(fg.tree.leaves(actual), fg.tree.leaves(expected)):
        a, e = np.asarray(a), np.asarray(e)
        assert a.shape == e.shape, (a.shape, e.shape)
        if exact_dtype:
            assert a.dtype == e.dtype, (a.dtype, e.dtype)
        np.testing.assert_allclose(a, e, rtol=1e-6 if e.dtype == np.float32 else 1e-12,
                                   atol=1e-12, equal_nan=True)


def arrays(dtype=np.float64, min_dims=1, max_dims=3, ties=False, nan=False):
    elements = (st.sampled_from([-1.0, 0.0, 2.0, 3.5]) if ties else
                st.floats(-10, 10, width=np.dtype(dtype).itemsize * 8))
    if nan:
        elements = st.one_of(elements, st.just(np.nan))
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=min_dims, max_dims=max_dims,
                                              max_side=4), elements=elements)


# --- sort, argsort, partition ---------------------------------------------------------------

@SETTINGS
@given(x=arrays(ties=True, nan=True), data=st.data())
def test_sort_and_argsort_match_numpy_stable(x, data):
    axis = data.draw(st.sampled_from([None, *range(-x.ndim, x.ndim)]))
    same(fnp.sort(x, axis=axis), np.sort(x, axis=axis))
    same(traced(lambda x: fnp.sort(x, axis=axis), x), np.sort(x, axis=axis))
    same(traced(lambda x: fnp.argsort(x, axis=axis), x),
         np.argsort(x, axis=axis, kind="stable"))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.float32])
def test_sort_dtypes(dtype):
    x = (np.arange(12) * 7 % 5).astype(dtype).reshape(3, 4)
    same(traced(lambda x: fnp.sort(x, axis=0), x), np.sort(x, axis=0))
    same(traced(fnp.argsort, x), np.argsort(x, kind="stable"))


def test_sort_and_argsort_compiled():
    x = np.array([[3.0, np.nan, 1.0, 1.0], [2.0, -np.inf, 2.0, 0.5], [1.0, 2.0, 3.0, 4.0]])
    same(fg.jit(lambda x: (fnp.sort(x, axis=0), fnp.argsort(x, axis=1)))(x),
         (np.sort(x, axis=0), np.argsort(x, axis=1, kind="stable")))


@SETTINGS
@given(x=st.one_of(hnp.arrays(np.float64, st.integers(0, 40), elements=st.sampled_from(
    [-np.inf, -1.0, -0.0, 0.0, 2.0, np.inf, np.nan])), hnp.arrays(np.int64, st.integers(0, 40),
    elements=st.integers(-3, 3)), hnp.arrays(np.bool_, st.integers(0, 40))),
    data=st.data())
def test_compiled_argsort_and_searchsorted_follow_numpy(x, data):
    """The generated code's own stable merge sort and bisection (Numba's np.argsort and
    np.searchsorted cannot be cached on disk): NumPy's order, NaN last, ties in place."""
    v = data.draw(hnp.arrays(x.dtype, 5, elements=hnp.from_dtype(x.dtype, allow_nan=True)))
    s = np.sort(x)
    got = fg.jit(lambda x, s, v: (fnp.argsort(x), fnp.searchsorted(s, v),
                                  fnp.searchsorted(s, v, side="right"),
                                  fnp.searchsorted(s, v[0])), compile="sync")(x, s, v)
    want = (np.argsort(x, kind="stable"), np.searchsorted(s, v),
            np.searchsorted(s, v, side="right"), np.searchsorted(s, v[0]))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_programs_that_sort_are_cached_on_disk():
    import warnings

    x = np.array([2.0, np.nan, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Numba warns when a function cannot be cached
        fg.jit(lambda x: (fnp.argsort(x), fnp.searchsorted(fnp.sort(x), x),
                          fg.random.permutation(fg.random.key(0), x)),
               compile="sync")(x)


def test_sort_gradient_ties_follow_the_stable_permutation():
    """Each element gets the cotangent of the place it lands in; equal elements land in
    their original order (JAX's convention)."""
    x = np.array([2.0, 1.0, 2.0, 0.0])
    weights = np.array([1.0, 10.0, 100.0, 1000.0])
    grad = fg.grad(lambda x: fnp.sum(fnp.sort(x) * weights))(x)
    np.testing.assert_array_equal(grad, [100.0, 10.0, 1000.0, 1.0])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), data=st.data())
def test_sort_gradients_against_finite_differences(shape, data):
    n = int(np.prod(shape))  # distinct values, well apart: sorting is smooth there
    x = np.array(data.draw(st.permutations(range(n))), np.float64).reshape(shape) * 0.7 - 1
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_grads(lambda x: fnp.sort(x, axis=axis) ** 2, (x,), order=2, modes=("fwd", "rev"))


def test_sort_vmap_and_methods():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    same(fg.vmap(fnp.sort)(x), np.sort(x))
    same(fg.vmap(fnp.argsort, in_axes=1)(x), np.argsort(x.T))
    same(traced(lambda x: (x.sort(axis=0), x.argsort(), x.sort()[0].searchsorted(2.0),
                           x.partition(1)[:, 1]), x),
         (np.sort(x, axis=0), np.argsort(x), np.searchsorted(np.sort(x)[0], 2.0),
          np.partition(x, 1)[:, 1]))
    same(traced(lambda x: np.sort(x), x), np.sort(x))  # NumPy's own, routed to funcgrad


def test_partition_puts_the_kth_element_in_place():
    x = np.array([[5.0, 1.0, 4.0, 2.0, 3.0], [0.0, -1.0, 7.0, 7.0, 2.0]])
    for kth in [0, 2, -1]:
        got = traced(lambda x, kth=kth: fnp.partition(x, kth, axis=1), x)
        np.testing.assert_array_equal(got[:, kth], np.partition(x, kth, axis=1)[:, kth])
        index = traced(lambda x, kth=kth: fnp.argpartition(x, kth, axis=1), x)
        np.testing.assert_array_equal(np.take_along_axis(x, index, 1)[:, kth], got[:, kth])
    with pytest.raises(FuncgradValueError, match="kth"):
        fnp.partition(x, 5)


def test_sort_bad_input():
    with pytest.raises(FuncgradValueError, match="kind"):
        fnp.sort(np.ones(3), kind="bubble")
    with pytest.raises(FuncgradTypeError, match="order"):
        fnp.argsort(np.ones(3), order="f")
    with pytest.raises(ShapeError, match="axis"):
        fnp.sort(np.ones((2, 2)), axis=2)


# --- quantiles ------------------------------------------------------------------------------

METHODS = ["linear", "lower", "higher", "nearest", "midpoint"]


@SETTINGS
@given(x=arrays(ties=True, max_dims=3), data=st.data())
def test_quantile_matches_numpy(x, data):
    axis = data.draw(st.sampled_from([None, 0, -1, tuple(range(x.ndim))[-2:]]))
    method = data.draw(st.sampled_from(METHODS))
    q = data.draw(st.sampled_from([0.0, 0.3, 0.5, 1.0, np.array([0.1, 0.5, 0.95])]))
    keepdims = data.draw(st.booleans())
    expected = np.quantile(x, q, axis=axis, method=method, keepdims=keepdims)
    same(fnp.quantile(x, q, axis=axis, method=method, keepdims=keepdims), expected)
    same(traced(lambda x: fnp.percentile(x, np.asarray(q) * 100, axis=axis, method=method,
                                         keepdims=keepdims), x),
         np.percentile(x, np.asarray(q) * 100, axis=axis, method=method, keepdims=keepdims))


def test_median_and_quantile_dtypes_and_nan():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 0.0]])
    same(fnp.median(x, axis=1), np.median(x, axis=1))
    same(fnp.median(x.astype(np.float32), axis=0), np.median(x.astype(np.float32), axis=0))
    same(fnp.median(np.arange(6)), np.median(np.arange(6)))
    same(fnp.quantile(np.arange(6), 0.3, method="lower"),
         np.quantile(np.arange(6), 0.3, method="lower"))
    same(fnp.nanmedian(x, axis=1), np.nanmedian(x, axis=1))
    same(fnp.nanquantile(x, [0.2, 0.7], axis=0), np.nanquantile(x, [0.2, 0.7], axis=0))
    same(fnp.nanpercentile(x, 40), np.nanpercentile(x, 40))
    same(fnp.nanmedian(np.full((2, 2), np.nan), axis=0), np.full(2, np.nan))
    x32 = x.astype(np.float32)  # a Python q keeps float32; a float64 array q does not
    for q in [0.3, np.array([0.3, 0.6]), [0.5]]:
        same(fnp.quantile(x32, q, axis=1), np.quantile(x32, q, axis=1))
        same(fnp.nanquantile(x32, q, axis=0), np.nanquantile(x32, q, axis=0))
        same(fnp.percentile(x32, 30, axis=0, method="midpoint"),
             np.percentile(x32, 30, axis=0, method="midpoint"))


def test_median_of_infinities_is_the_middle_element():
    """NumPy's (and JAX's) median averages the middle two: [-inf, 0, inf] has median 0 and
    [1, inf] has inf, where interpolating would make inf - inf = NaN."""
    x = np.array([[np.inf, -np.inf, 0.0], [1.0, np.inf, np.nan]])
    same(fnp.median(x, axis=1), np.array([0.0, np.nan]))
    same(traced(lambda x: fnp.nanmedian(x, axis=1), x), np.array([0.0, np.inf]))
    same(fnp.nanmedian(np.array([np.nan, -np.inf])), np.float64(-np.inf))
    np.testing.assert_allclose(fg.grad(fnp.median)(np.array([4.0, 1.0, 3.0])), [0, 0, 1])


def test_quantile_gradient_interpolates_between_order_statistics():
    """As in JAX: the two order statistics around the position share the cotangent."""
    x = np.array([4.0, 1.0, 3.0, 2.0])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.quantile(x, 0.5))(x), [0, 0, 0.5, 0.5])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.quantile(x, 0.4))(x), [0, 0, 0.2, 0.8])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.quantile(x, 0.4, method="higher"))(x),
                               [0, 0, 1, 0])
    np.testing.assert_allclose(fg.grad(fnp.nanmedian)(np.array([np.nan, 1.0, 3.0])),
                               [0, 0.5, 0.5])


@pytest.mark.parametrize("fn", [
    lambda x: fnp.median(x, axis=0),
    lambda x: fnp.quantile(x, np.array([0.2, 0.9]), axis=1, keepdims=True),
    lambda x: fnp.percentile(x, 35.0, method="midpoint"),
    lambda x: fnp.nanquantile(x, 0.3, axis=0),
])
def test_quantile_gradients_against_finite_differences(fn):
    x = np.array([[0.3, -1.2, 2.5, 0.9], [1.7, 0.1, -0.4, 3.3], [-2.2, 0.8, 1.1, 0.05]])
    check_grads(fn, (x,), order=2, modes=("fwd", "rev"))


def test_quantile_differentiable_in_q():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    check_grads(lambda q: fnp.quantile(x, q), (np.array([0.1, 0.6]),), modes=("fwd", "rev"))


def test_quantile_compiled_and_batched():
    x = np.array([[3.0, 1.0, 2.0, np.nan], [0.0, 5.0, -1.0, 4.0]])
    q = np.array([0.25, 0.5])
    same(fg.jit(lambda x: (fnp.quantile(x, q, axis=1), fnp.nanmedian(x, axis=1)))(x),
         (np.quantile(x, q, axis=1), np.nanmedian(x, axis=1)))
    same(fg.vmap(lambda row: fnp.nanquantile(row, q))(x), np.nanquantile(x, q, axis=1).T)


def test_quantile_bad_input():
    with pytest.raises(FuncgradValueError, match=r"range \[0, 1\]"):
        fnp.quantile(np.ones(3), 1.5)
    with pytest.raises(FuncgradValueError, match=r"range \[0, 100\]"):
        fnp.percentile(np.ones(3), -1)
    with pytest.raises(FuncgradValueError, match="method"):
        fnp.quantile(np.ones(3), 0.5, method="cubic")
    with pytest.raises(ShapeError, match="empty"):
        fnp.median(np.ones((0, 2)), axis=0)


# --- NaN-ignoring reductions ----------------------------------------------------------------

NAN_REDUCTIONS = ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin"]


@pytest.mark.parametrize("name", NAN_REDUCTIONS)
@SETTINGS
@given(x=arrays(nan=True, max_dims=3), data=st.data())
def test_nan_reductions_match_numpy(name, x, data):
    axis = data.draw(st.sampled_from([None, 0, -1]))
    keepdims = data.draw(st.booleans())
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    same(getattr(fnp, name)(x, axis=axis, keepdims=keepdims), expected)
    same(traced(lambda x: getattr(fnp, name)(x, axis=axis, keepdims=keepdims), x), expected)


def test_nan_reductions_options_and_integers():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 5.0, 5.0]])
    same(fnp.nanvar(x, axis=1, ddof=1), np.nanvar(x, axis=1, ddof=1))
    same(fnp.nanstd(x.astype(np.float32), axis=0), np.nanstd(x.astype(np.float32), axis=0))
    ints = np.array([[3, 1], [2, 7]])
    for name in NAN_REDUCTIONS:
        same(getattr(fnp, name)(ints, axis=0), getattr(np, name)(ints, axis=0))
    y = np.array([[1.0, np.nan, 3.0], [np.nan, 4.0, 0.0]])
    same(fnp.nanargmax(y, axis=1), np.nanargmax(y, axis=1))
    same(fnp.nanargmin(y, axis=0), np.nanargmin(y, axis=0))
    with pytest.raises(FuncgradValueError, match="All-NaN"):
        fnp.nanargmax(x, axis=1)
    same(traced(lambda x: fnp.nanargmax(x, axis=1), x), np.array([2, -1, 1]))  # JAX's -1
    # on a constant inside a trace (the NaN check was made on a traced isnan)
    same(traced(lambda: fnp.nanargmin(y, axis=0)), np.nanargmin(y, axis=0))


def test_nan_variance_of_infinities_is_nan():
    """inf - inf, from centering an infinite element, is NaN, not a missing element."""
    x = np.array([[1.0, np.inf, np.nan], [np.inf, -np.inf, 0.0], [np.nan, -np.inf, 2.0]])
    for name in ["nanvar", "nanstd"]:
        same(getattr(fnp, name)(x, axis=1), getattr(np, name)(x, axis=1))
        reduce = getattr(fnp, name)
        same(traced(lambda x, f=reduce: f(x, axis=0), x), getattr(np, name)(x, axis=0))


def test_nan_reduction_gradients():
    x = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 5.0]])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.nansum(x) ** 2)(x),
                               [[32, 0, 32], [32, 32, 32]])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.nanmean(x, axis=1)))(x),
                               [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    # max's tie convention: ties share the cotangent equally
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.nanmax(x, axis=1)))(x),
                               [[0, 0, 1], [0, 0.5, 0.5]])
    finite = np.array([[1.0, 0.5, 3.0], [2.0, 5.5, 5.0]])
    for f in [fnp.nanmean, fnp.nanvar, fnp.nanstd, fnp.nanprod, fnp.nanmin]:
        check_grads(lambda x, f=f: f(x, axis=1), (finite,), order=2,
                    modes=("fwd", "rev"))


def test_nan_reductions_compiled():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 5.0, 5.0]])
    same(fg.jit(lambda x: (fnp.nanmean(x, axis=1), fnp.nanmax(x, axis=1),
                           fnp.nanstd(x, axis=1)))(x),
         (np.nanmean(x, axis=1), np.nanmax(x, axis=1), np.nanstd(x, axis=1)))


# --- average, cov, corrcoef -----------------------------------------------------------------

def test_average_matches_numpy():
    x = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]])
    w = np.array([1.0, 2.0, 3.0])
    same(fnp.average(x), np.average(x))
    same(fnp.average(x, axis=1, weights=w, returned=True),
         np.average(x, axis=1, weights=w, returned=True))
    same(fnp.average(x, axis=0, weights=x ** 2, keepdims=True),
         np.average(x, axis=0, weights=x ** 2, keepdims=True))
    same(fnp.average(x, returned=True), np.average(x, returned=True))
    check_grads(lambda x, w: fnp.average(x, axis=1, weights=w), (x, w), order=2)
    with pytest.raises(ZeroDivisionError):
        fnp.average(x, axis=1, weights=np.zeros(3))
    with pytest.raises(ShapeError, match="weights"):
        fnp.average(x, axis=0, weights=w)


@pytest.mark.parametrize("options", [
    {}, {"rowvar": False}, {"bias": True}, {"ddof": 2},
    {"fweights": np.array([1, 2, 1, 3])}, {"aweights": np.array([0.5, 1.0, 2.0, 1.0])},
    {"fweights": np.array([1, 2, 1, 3]), "aweights": np.array([0.5, 1.0, 2.0, 1.0]),
     "ddof": 1},
])
def test_cov_and_corrcoef_match_numpy(options):
    x = np.array([[0.0, 1.0, 2.0, 5.0], [2.0, 1.0, 0.0, 1.5], [1.0, 3.0, 2.0, 7.0]])
    same(fnp.cov(x, **options), np.cov(x, **options))
    same(traced(lambda x: fnp.cov(x, **options), x), np.cov(x, **options))
    check_grads(lambda x: fnp.cov(x, **options), (x,), order=2)


def test_cov_corrcoef_shapes_and_gradients():
    x, y = np.array([1.0, 2.0, 4.0, 7.0]), np.array([2.0, 1.0, 5.0, 3.0])
    same(fnp.cov(x), np.cov(x))
    same(fnp.cov(x, y), np.cov(x, y))
    same(fnp.cov(x.astype(np.float32)), np.cov(x.astype(np.float32)))  # float64, as NumPy
    same(fnp.corrcoef(x, y), np.corrcoef(x, y))
    same(fnp.corrcoef(np.stack([x, y, x * y]), rowvar=True),
         np.corrcoef(np.stack([x, y, x * y])))
    check_grads(lambda x, y: fnp.corrcoef(x, y), (x, y), order=2, modes=("fwd", "rev"))
    with pytest.raises(ShapeError, match="more than 2"):
        fnp.cov(np.ones((2, 2, 2)))
    with pytest.raises(FuncgradValueError, match="negative"):
        fnp.cov(x, aweights=-np.ones(4))


# --- interp ---------------------------------------------------------------------------------

def test_interp_matches_numpy():
    xp, fp = np.array([0.0, 1.0, 3.0, 4.0]), np.array([1.0, 2.0, 0.0, 5.0])
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.5, 4.0, 5.0])
    same(fnp.interp(x, xp, fp), np.interp(x, xp, fp))
    same(fnp.interp(x, xp, fp, left=-9.0, right=9.0), np.interp(x, xp, fp, -9.0, 9.0))
    same(fnp.interp(x, xp, fp, period=3.0), np.interp(x, xp, fp, period=3.0))
    same(fnp.interp(x, xp[:1], fp[:1]), np.interp(x, xp[:1], fp[:1]))
    same(fnp.interp(2.5, xp, fp), np.interp(2.5, xp, fp))
    same(fg.jit(fnp.interp)(x, xp, fp), np.interp(x, xp, fp))
    with pytest.raises(ShapeError, match="same"):
        fnp.interp(x, xp, fp[:2])


def test_interp_gradients():
    xp, fp = np.array([0.0, 1.0, 3.0, 4.0]), np.array([1.0, 2.0, 0.0, 5.0])
    x = np.array([-1.0, 0.5, 2.0, 3.5, 5.0])  # away from the knots: smooth there
    check_grads(fnp.interp, (x, xp, fp), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.interp(x, xp, fp)))(x),
                               [0.0, 1.0, -1.0, 5.0, 0.0])


# --- searching and counting -----------------------------------------------------------------

@SETTINGS
@given(a=arrays(min_dims=1, max_dims=1, ties=True, nan=True),
       v=arrays(min_dims=0, max_dims=2, ties=True, nan=True),
       side=st.sampled_from(["left", "right"]))
def test_searchsorted_and_digitize_match_numpy(a, v, side):
    a = np.sort(a)
    same(traced(lambda a, v: fnp.searchsorted(a, v, side), a, v), np.searchsorted(a, v, side))
    bins = np.unique(a[~np.isnan(a)])
    for b in (bins, bins[::-1]):
        if b.size:
            same(traced(lambda v, b: fnp.digitize(v, b, side == "left"), v, b),
                 np.digitize(v, b, side == "left"))


def test_searchsorted_sorter_isin_count_nonzero():
    a = np.array([3.0, 1.0, 2.0])
    sorter = np.argsort(a)
    same(traced(lambda a, v: fnp.searchsorted(a, v, sorter=sorter), a, np.array([2.5, 0.0])),
         np.searchsorted(a, [2.5, 0.0], sorter=sorter))
    e, t = np.array([[1, 2], [3, 4]]), np.array([4, 2, 9])
    for invert in (False, True):
        same(traced(lambda e, t, invert=invert: fnp.isin(e, t, invert=invert), e, t),
             np.isin(e, t, invert=invert))
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    same(traced(lambda x: fnp.count_nonzero(x, axis=1, keepdims=True), x),
         np.count_nonzero(x, axis=1, keepdims=True))
    assert fnp.count_nonzero(x) == 3
    same(fg.jit(lambda a, v, x: (fnp.searchsorted(a, v, "right"), fnp.count_nonzero(x)))(
        np.sort(a), np.array([2.0, 5.0]), x), (np.array([2, 3]), np.int64(3)))
    with pytest.raises(FuncgradValueError, match="side"):
        fnp.searchsorted(a, 1.0, side="middle")


# --- sizes that depend on values: size= under a trace ----------------------------------------

def test_eager_is_numpy():
    x = np.array([[0.0, 2.0], [1.0, 0.0]])
    same(fnp.nonzero(x), np.nonzero(x))
    same(fnp.argwhere(x), np.argwhere(x))
    same(fnp.flatnonzero(x), np.flatnonzero(x))
    u = np.array([3.0, 1.0, np.nan, 3.0, np.nan])
    same(fnp.unique(u, True, True, True), np.unique(u, True, True, True))
    same(fnp.bincount(np.array([1, 1, 4]), minlength=7), np.bincount([1, 1, 4], minlength=7))


@pytest.mark.parametrize("size", [2, 5])
def test_nonzero_argwhere_with_size(size):
    x = np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 4.0]])
    expected = np.nonzero(x)

    def padded(index, fill):
        return np.concatenate([index, np.full(5, fill)])[:size]

    same(traced(lambda x: fnp.nonzero(x, size=size), x), [padded(i, 0) for i in expected])
    same(traced(lambda x: fnp.argwhere(x, size=size, fill_value=-1), x),
         np.stack([padded(i, -1) for i in expected], axis=-1))
    same(traced(lambda x: fnp.flatnonzero(x, size=size), x),
         padded(np.flatnonzero(x), 0))
    same(traced(lambda x: x.nonzero(size=size, fill_value=(7, 8)), x),
         [padded(expected[0], 7), padded(expected[1], 8)])


@pytest.mark.parametrize("size", [2, 6])
def test_unique_with_size(size):
    u = np.array([3.0, 1.0, np.nan, 3.0, 2.0, np.nan, 1.0])
    values, index, inverse, counts = np.unique(u, True, True, True)
    got = traced(lambda u: fnp.unique(u, True, True, True, size=size), u)
    fill = np.full(size, values[0])
    same(got[0], np.concatenate([values, fill])[:size])
    # JAX pads the index with the first unique value's (jnp.unique(..., size=6) gives 1)
    same(got[1], np.concatenate([index, np.full(size, index[0])])[:size])
    same(got[2], inverse)
    same(got[3], np.concatenate([counts, np.zeros(size, np.int64)])[:size])
    # the gradient of a unique value goes to its first occurrence
    grad = fg.grad(lambda u: fnp.sum(fnp.unique(u, size=3) * np.array([1.0, 10.0, 100.0])))(
        np.array([2.0, 1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(grad, [10.0, 1.0, 0.0, 100.0])


def _unique_slices(x):
    return (fnp.unique(x, True, True, True, axis=0, size=5),
            fnp.unique(x, axis=0, size=2),
            fnp.unique(x, axis=1, size=3, fill_value=-1.0, return_inverse=True),
            fnp.unique(fnp.reshape(x, (2, 2, 2)), axis=-1, size=2))


def test_unique_of_slices_with_size_is_numpys_padded_as_jax():
    """JAX's unique(axis=, size=): NumPy's rows in order, padded with the smallest (or
    fill_value), the index with the smallest's, counts with 0; truncated to size."""
    x = np.array([[3.0, 1.0], [1.0, 2.0], [3.0, 1.0], [1.0, 0.0]])
    values, index, inverse, counts = np.unique(x, True, True, True, axis=0)
    columns, column_inverse = np.unique(x, axis=1, return_inverse=True)
    want = ((np.concatenate([values, values[:1], values[:1]]), np.append(index, [3, 3]),
             inverse, np.append(counts, [0, 0])),
            values[:2], (np.concatenate([columns, np.full((4, 1), -1.0)], axis=1),
                         column_inverse),
            np.unique(x.reshape(2, 2, 2), axis=-1))
    for way in (lambda f, x: f(x), traced, lambda f, x: fg.jit(f, compile="sync")(x)):
        same(way(_unique_slices, x), want)
    same(fg.vmap(lambda x: fnp.unique(x, axis=0, size=3))(np.stack([x, x[::-1]])),
         np.stack([values, values]))
    # each distinct row's gradient goes to its first occurrence
    grad = fg.grad(lambda x: fnp.sum(fnp.unique(x, axis=0, size=3) * np.array([[1.0], [10.0],
                                                                           [100.0]])))(x)
    np.testing.assert_array_equal(grad, [[100.0, 100.0], [10.0, 10.0], [0.0, 0.0], [1.0, 1.0]])


def test_bincount_with_size_and_weights():
    x, w = np.array([0, 1, 1, 3, 7]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    same(traced(lambda x: fnp.bincount(x, size=5), x), np.array([1, 2, 0, 1, 0]))
    same(traced(lambda x, w: fnp.bincount(x, w, length=9), x, w), np.bincount(x, w, 9))
    same(traced(lambda w: fnp.bincount(x, w, minlength=10), w), np.bincount(x, w, 10))
    check_grads(lambda w: fnp.bincount(x, w) ** 2, (w,), order=2, modes=("fwd", "rev"))
    same(fg.vmap(lambda x: fnp.bincount(x, size=4))(np.array([[0, 1, 1], [3, 3, 2]])),
         np.array([[1, 2, 0, 0], [0, 0, 1, 2]]))


def test_size_dependent_results_compiled():
    x = np.array([0.0, 3.0, 0.0, 4.0, 3.0])
    out = fg.jit(lambda x: (fnp.nonzero(x, size=3, fill_value=-1),
                            fnp.unique(x, size=4, fill_value=-1.0, return_counts=True),
                            fnp.bincount(x.astype(np.int64), size=5)))(x)
    same(out, ((np.array([1, 3, 4]),), (np.array([0.0, 3.0, 4.0, -1.0]),
                                         np.array([2, 2, 1, 0])), np.array([2, 0, 0, 2, 1])))


@pytest.mark.parametrize("fn", [fnp.unique, fnp.nonzero, fnp.argwhere, fnp.flatnonzero,
                                lambda x: fnp.bincount(x.astype(np.int64))])
def test_traced_without_size_says_to_pass_size(fn):
    with pytest.raises(FuncgradTypeError, match="size="):
        fg.make_ir(fn)(np.array([1.0, 0.0, 2.0]))


def test_bad_sizes_and_inputs():
    with pytest.raises(FuncgradValueError, match="size"):
        fnp.nonzero(np.ones(3), size=-1)
    with pytest.raises(FuncgradTypeError, match="bincount"):
        fnp.bincount(np.ones(3))
    with pytest.raises(ShapeError, match="0-d"):
        fnp.nonzero(np.float64(1.0), size=1)


def test_eager_full_reductions_are_numpy_scalars_as_in_numpy():
    x = np.array([1.0, np.nan, 3.0, 2.0])
    for name in ["median", "nanmedian", "nanmax", "nanmin", "nanargmax", "nanvar", "nanmean",
                 "nansum"]:
        got, expected = getattr(fnp, name)(x), getattr(np, name)(x)
        assert type(got) is type(expected), name
        same(got, expected)
    assert type(fnp.quantile(x, 0.5)) is np.float64
    assert type(fnp.interp(0.5, [0.0, 1.0], [0.0, 2.0])) is np.float64


def test_vmap_of_searching_and_sized_results():
    x = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 0.0, 5.0, 5.0]])
    values, counts = fg.vmap(lambda r: fnp.unique(r, size=3, return_counts=True))(x)
    same(values, np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 0.0]]))
    same(counts, np.array([[1, 1, 2], [2, 2, 0]]))
    same(fg.vmap(lambda r: fnp.nonzero(r, size=3))(x), (np.array([[0, 1, 2], [2, 3, 0]]),))
    ordered = np.sort(x, axis=1)
    same(fg.vmap(fnp.searchsorted)(ordered, np.array([2.0, 5.0])),
         np.array([np.searchsorted(ordered[0], 2.0), np.searchsorted(ordered[1], 5.0)]))
    xp = np.array([0.0, 1.0, 2.0, 3.0])
    same(fg.vmap(lambda fp: fnp.interp(np.array([0.5, 2.5]), xp, fp))(x),
         np.stack([np.interp([0.5, 2.5], xp, fp) for fp in x]))
    same(fg.vmap(fnp.corrcoef)(np.stack([x, x[::-1]])),
         np.stack([np.corrcoef(x), np.corrcoef(x[::-1])]))


def test_numpy_functions_on_tracers_route_here():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 0.0]])
    same(traced(lambda x: (np.median(x, axis=1), np.nanmean(x, axis=0),
                           np.quantile(x, 0.25, axis=1), np.argsort(x)), x),
         (np.median(x, axis=1), np.nanmean(x, axis=0), np.quantile(x, 0.25, axis=1),
          np.argsort(x, kind="stable")))


def test_digitize_refuses_unordered_bins():
    with pytest.raises(FuncgradValueError, match="monotonically"):
        fg.make_ir(lambda x: fnp.digitize(x, np.array([1.0, 3.0, 2.0])))(np.ones(2))


def test_sized_results_of_empty_and_0d_inputs():
    # nonzero of an empty array divided by its zero stride; unique's inverse of a 0-d array
    # is 0-d, as NumPy 2's and JAX's
    for f in (traced, lambda fn, *a: fg.jit(fn, compile="sync")(*a)):
        same(f(lambda x: fnp.nonzero(x, size=2, fill_value=-1), np.zeros((0, 3))),
             (np.full(2, -1), np.full(2, -1)))
        same(f(lambda x: fnp.argwhere(x, size=0), np.zeros((2, 0))), np.zeros((0, 2), np.int64))
        same(f(lambda x: fnp.unique(x, return_inverse=True, size=1), np.array(2.0)),
             np.unique(np.array(2.0), return_inverse=True))


def test_digitize_with_nan_bins_and_searchsorted_methods_as_numpy_and_jax():
    # bins ending in NaN are increasing to NumPy; traced bins were taken as decreasing and
    # concrete ones refused as unordered
    x, bins = np.array([0.5, 5.0, np.nan, -1.0]), np.array([0.0, 1.0, np.nan])
    for right in (False, True):
        want = np.digitize(x, bins, right)
        same(traced(lambda x, b: fnp.digitize(x, b, right), x, bins), want)
        same(traced(lambda x: fnp.digitize(x, bins, right), x), want)
    a, v = np.array([1.0, 2.0, 2.0, np.nan]), np.array([2.0, np.nan, 0.0])
    for method in ("scan", "scan_unrolled", "sort", "compare_all"):
        same(traced(lambda a, v: fnp.searchsorted(a, v, "right", method=method), a, v),
             np.searchsorted(a, v, "right"))
    with pytest.raises(FuncgradValueError, match="method must be one of"):
        fnp.searchsorted(a, v, method="bisect")
