"""The NumPy names added for breadth (those jax.numpy has): floating-point and integer ufuncs,
reductions with where= and initial=, index tricks, cumulative forms, block assembly and
selections, vectorize and friends, sorting options, set operations, histograms, windows,
polynomials and dtype helpers. Values against NumPy (several shapes and dtypes, empty and
0-d arrays, negative axes), derivatives against finite differences, and one jit and one vmap
per group (each jitted function computes several names at once: compiles are slow)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.errors import (ConcretizationError, FuncgradIndexError,
                                  FuncgradTypeError, FuncgradValueError, InPlaceUpdateError,
                                  ShapeError)
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)) * 3


def _same(got, want):
    """Same values (NaN where NaN), dtype and shape, for arrays or tuples of them."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, equal_nan=True)


# --- elementwise ------------------------------------------------------------------------

SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 2.2250738585072014e-308,
                    1.0, -3.0, 0.1, 1 - 2.0 ** -53, 1.7976931348623157e308, -7.5, 2.5])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["frexp", "modf", "spacing", "isposinf", "isneginf", "i0"])
def test_unary_float_functions_match_numpy(name, dtype):
    with np.errstate(all="ignore"):
        x = SPECIAL.astype(dtype)
        if name == "i0":
            x = x[np.isfinite(x) & (np.abs(x) < 50)]
        for a in (x, x[:0], x[7:8].reshape(())):
            want = getattr(np, name)(a)
            if name == "i0":
                want = want.astype(dtype)  # as JAX: float32 stays float32 (NumPy's too)
                np.testing.assert_allclose(getattr(fnp, name)(a), want, rtol=1e-6)
            else:
                _same(getattr(fnp, name)(a), want)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_unary_functions_of_integers_match_numpy(dtype):
    x = np.array([0, 1, 2, 5]).astype(dtype)
    for name in ("frexp", "modf", "isposinf", "isneginf"):
        if dtype == np.uint8 or dtype == np.bool_:
            if name in ("frexp", "modf"):  # NumPy answers in float16, which funcgrad lacks
                with pytest.raises(FuncgradTypeError):
                    getattr(fnp, name)(x)
                continue
        _same(getattr(fnp, name)(x), getattr(np, name)(x))


def test_modf_of_a_python_int_gives_floats():
    # the integral part was the int itself: converting a Python number to float64 was skipped
    # because NumPy reads None (the number's missing dtype) as float64
    _same(fnp.modf(3), (np.float64(0.0), np.float64(3.0)))
    _same(fnp.modf(-2), (np.float64(-0.0), np.float64(-2.0)))


def test_fmax_and_fmin_ignore_nan():
    a = np.array([np.nan, 1.0, 2.5, np.nan, 4.0, -np.inf])
    b = np.array([127.0, np.nan, 2.5, np.nan, 3.0, np.nan])
    for fn, np_fn in ((fnp.fmax, np.fmax), (fnp.fmin, np.fmin)):
        _same(fn(a, b), np_fn(a, b))
        _same(fn(a, np.array([7, 1, 2, 3, 4, 5], np.int8)),
              np_fn(a, np.array([7, 1, 2, 3, 4, 5], np.int8)))
        _same(fn(a.astype(np.float32), 2.0), np_fn(a.astype(np.float32), 2.0))
        _same(fn(np.array([3, -1], np.int32), 0), np_fn(np.array([3, -1], np.int32), 0))
        _same(fg.jit(fn)(a, b), np_fn(a, b))
    # the gradient goes to the non-NaN argument, half to each at a tie (as maximum's)
    ga, gb = fg.grad(lambda a, b: fnp.sum(fnp.fmax(a, b)), argnums=(0, 1))(a[:5], b[:5])
    np.testing.assert_array_equal(ga, [0.0, 1.0, 0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [1.0, 0.0, 0.5, 1.0, 0.0])


@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float32),
                                    (np.int64, np.int64), (np.int32, np.int8),
                                    (np.uint8, np.uint8)])
def test_binary_functions_match_numpy(dtypes):
    a = (np.array([-7, 7, -7, 7, 0, 5, 9, -1]) * (dtypes[0] != np.uint8 or -1)
         ).astype(dtypes[0]) if dtypes[0] != np.uint8 else np.array([7, 7, 0, 5, 9, 1], np.uint8)
    b = np.resize(np.array([3, 3, -3, -3, 3, 2]), a.shape).astype(dtypes[1]) \
        if dtypes[1] != np.uint8 else np.array([3, 3, 3, 2, 2, 1], np.uint8)
    with np.errstate(all="ignore"):
        names = ["fmod", "divmod", "float_power"]
        names += ["gcd", "lcm"] if a.dtype.kind in "iu" else ["nextafter"]
        for name in names:
            _same(getattr(fnp, name)(a, b), getattr(np, name)(a, b))
            _same(getattr(fnp, name)(a[:0], b[:0]), getattr(np, name)(a[:0], b[:0]))
            _same(getattr(fnp, name)(a[0], b[0]), getattr(np, name)(a[0], b[0]))
        if a.dtype.kind == "f":
            _same(fnp.ldexp(a, np.array([2, -3, 0, 1, 1, 1, 1, 1])),
                  np.ldexp(a, np.array([2, -3, 0, 1, 1, 1, 1, 1])))
            _same(fnp.fmod(a, 0.0), np.fmod(a, 0.0))
            _same(fnp.ldexp(a, 3), np.ldexp(a, 3))


def test_elementwise_functions_under_jit_and_vmap():
    x = np.array([-7.5, 2.5, 1e-300, 3.0, np.inf])
    y = np.array([2.0, -3.0, 1.0, 0.5, 1.0])
    ints = np.array([-12, 18, 0, 7, -9])

    def f(x, y, ints):
        m, e = fnp.frexp(x)
        return (fnp.fmod(x, y), fnp.fmod(ints, 4), fnp.modf(x), m, e, fnp.ldexp(m, e),
                fnp.nextafter(x, y), fnp.spacing(x), fnp.gcd(ints, 6), fnp.lcm(ints, 4),
                fnp.divmod(ints, -5), fnp.float_power(y, 2), fnp.i0(y), fnp.isposinf(x))
    with np.errstate(all="ignore"):
        want = f(x, y, ints)
        jitted = fg.jit(f)(x, y, ints)
    for w, j in zip(want, jitted):
        _same(j, w) if not isinstance(w, tuple) else [_same(a, b) for a, b in zip(j, w)]
    np.testing.assert_array_equal(want[1], np.fmod(ints, 4))
    np.testing.assert_array_equal(want[4], np.frexp(x)[1])
    batched = fg.vmap(lambda x, y: fnp.fmod(x, y) + fnp.frexp(x)[0])(x[:4], y[:4])
    np.testing.assert_allclose(batched, np.fmod(x[:4], y[:4]) + np.frexp(x[:4])[0])


def test_elementwise_derivatives():
    x = np.array([-7.3, 2.6, 0.7, 3.1])
    y = np.array([2.1, -3.2, 1.3, 0.9])
    check_grads(lambda x, y: fnp.fmod(x, y), [x, y], modes=("rev", "fwd"))
    check_grads(lambda x: fnp.modf(x)[0], [x], modes=("rev", "fwd"))
    check_grads(lambda x: fnp.frexp(x)[0], [x], modes=("rev", "fwd"))
    check_grads(lambda x: fnp.ldexp(x, np.array([2, -1, 0, 3])), [x], order=2)
    check_grads(lambda x, y: fnp.float_power(fnp.abs(x), y), [x, y], modes=("rev", "fwd"))
    check_grads(fnp.i0, [x], order=2, modes=("rev", "fwd"))
    assert fg.grad(fnp.i0)(0.0) == 0.0  # i1(0)


def test_elementwise_errors():
    with pytest.raises(FuncgradTypeError, match="ldexp"):
        fnp.ldexp(np.ones(2), np.ones(2))  # float exponents, refused as NumPy does
    with pytest.raises(FuncgradTypeError, match="gcd"):
        fnp.gcd(np.ones(2), 2)
    with pytest.raises(FuncgradTypeError, match="takes 2 array arguments"):
        fnp.nextafter(np.ones(2))


# --- reductions with where= and initial= -----------------------------------------------

A = np.array([[1.0, 5.0, np.nan, -2.0], [3.0, 2.0, 4.0, 0.5], [0.0, -1.0, 7.0, 2.0]])
MASK = np.array([[True, False, True, True], [False, True, True, False],
                 [False, False, False, False]])


@pytest.mark.parametrize("name,options", [
    ("sum", {}), ("sum", {"initial": 2.5}), ("prod", {}), ("prod", {"initial": 2.0}),
    ("max", {"initial": -10.0}), ("min", {"initial": 10.0}), ("mean", {}), ("var", {}),
    ("std", {"ddof": 1}), ("all", {}), ("any", {}), ("nansum", {"initial": 1.0}),
    ("nanprod", {}), ("nanmax", {"initial": -3.0}), ("nanmin", {"initial": 3.0}),
    ("nanmean", {}), ("nanvar", {}), ("nanstd", {}),
])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_with_where_match_numpy(name, options, axis, keepdims):
    a = np.nan_to_num(A) if not name.startswith("nan") else A
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's warnings about empty slices
        for where in (MASK, MASK[0], True):
            want = getattr(np, name)(a, axis=axis, keepdims=keepdims, where=where, **options)
            got = getattr(fnp, name)(a, axis=axis, keepdims=keepdims, where=where, **options)
            _same(got, want)


@pytest.mark.parametrize("name,initial", [("sum", 3), ("prod", 2), ("max", 4), ("min", 2)])
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.float32])
def test_reductions_with_initial_match_numpy(name, initial, dtype):
    a = np.array([[1, 5, 3], [3, 2, 4]]).astype(dtype)
    for axis in (None, 0, 1):
        _same(getattr(fnp, name)(a, axis=axis, initial=initial),
              getattr(np, name)(a, axis=axis, initial=initial))
    empty = np.zeros((0, 3), dtype)  # an empty slice is the initial value
    for axis, keepdims in ((0, False), (0, True), (None, False)):
        _same(getattr(fnp, name)(empty, axis=axis, keepdims=keepdims, initial=initial),
              getattr(np, name)(empty, axis=axis, keepdims=keepdims, initial=initial))
    _same(fnp.sum(np.float32(2.0), initial=1), np.sum(np.float32(2.0), initial=1))


def test_masked_out_elements_get_no_gradient():
    a, mask = np.nan_to_num(A), MASK
    for f in (lambda x: fnp.sum(x, axis=1, where=mask),
              lambda x: fnp.prod(x, where=mask, initial=2.0),
              lambda x: fnp.max(x, axis=0, where=mask, initial=-10.0),
              lambda x: fnp.mean(x[:2], axis=1, where=mask[:2]),
              lambda x: fnp.var(x[:2], where=mask[:2]),
              lambda x: fnp.std(x[:2], axis=-1, where=mask[:2])):
        g = fg.grad(lambda x, f=f: fnp.sum(f(x)))(a)
        assert np.all(g[~mask] == 0)
        check_grads(f, [a], modes=("rev", "fwd"))
    g = fg.grad(lambda x: fnp.nansum(x, where=mask))(A)
    np.testing.assert_array_equal(g, np.where(mask & ~np.isnan(A), 1.0, 0.0))


def test_reductions_with_where_under_jit_and_vmap():
    a = np.nan_to_num(A)

    def f(a, m):
        return (fnp.sum(a, axis=0, where=m, initial=1.0), fnp.mean(a, axis=1, where=m),
                fnp.max(a, where=m, initial=-5.0), fnp.var(a, axis=1, where=m),
                fnp.any(a > 3, axis=0, where=m), fnp.nanmean(A, axis=1, where=m))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for got, want in zip(fg.jit(f)(a, MASK), f(a, MASK)):
            _same(got, want)
        batched = fg.vmap(lambda r, m: fnp.mean(r, where=m))(a, MASK)
        _same(batched, np.mean(a, axis=1, where=MASK))


def test_reduction_option_errors():
    with pytest.raises(FuncgradValueError, match="to use a where mask one has to specify "
                                                 "'initial'"):
        fnp.max(A, where=MASK)
    with pytest.raises(ShapeError, match=r"where= of shape \(3, 2\) does not broadcast"):
        fnp.sum(np.ones((2,)), where=np.ones((3, 2), bool))
    with pytest.raises(FuncgradTypeError, match="boolean mask"):
        fnp.sum(np.ones(2), where=np.array([1, 0]))
    with pytest.raises(FuncgradTypeError, match="initial= must be a concrete scalar"):
        fg.jit(lambda x, i: fnp.sum(x, initial=i))(np.ones(2), 1.0)
    with pytest.raises(FuncgradTypeError, match="initial= must be a concrete scalar"):
        fnp.prod(np.ones(2), initial=np.ones(2))
    with pytest.raises(ShapeError, match="zero-size array"):
        fnp.min(np.zeros((0, 2)), axis=0)


# --- index tricks ----------------------------------------------------------------------

def test_index_tricks_match_numpy():
    for args in ((3,), (2, 4, 1), (4, 2, -1, np.int32), (0,), (3, 0)):
        _same(fnp.tri(*args), np.tri(*args))
    for v, k in ((np.arange(4.0), 0), (np.arange(4.0).reshape(2, 2), -1), (np.ones(0), 2),
                 (np.float64(3.0), 1)):
        _same(fnp.diagflat(v, k), np.diagflat(v, k))
    _same(fnp.diag_indices(3, 3), np.diag_indices(3, 3))
    _same(fnp.diag_indices_from(np.ones((2, 2, 2))), np.diag_indices_from(np.ones((2, 2, 2))))
    for dims in ((2, 3), (3,), (), (2, 0)):
        _same(fnp.indices(dims), np.indices(dims))
        _same(fnp.indices(dims, sparse=True), np.indices(dims, sparse=True))
    _same(fnp.ix_([0, 2], np.array([True, False, True]), []),
          np.ix_([0, 2], np.array([True, False, True]), []))
    for i, shape in ((np.array([0, 5, 11, 3]), (3, 4)), (7, (2, 2, 2)), (np.arange(0), (2,))):
        _same(fnp.unravel_index(i, shape), np.unravel_index(i, shape))
    idx = (np.array([0, 1, 4, -1]), np.array([2, 5, 1, 1]))
    for mode in ("wrap", "clip", ("clip", "wrap")):
        for order in ("C", "F"):
            _same(fnp.ravel_multi_index(idx, (2, 3), mode, order),
                  np.ravel_multi_index(idx, (2, 3), mode, order))
    _same(fnp.ravel_multi_index(np.array([[0, 1], [2, 0]]), (2, 3)),
          np.ravel_multi_index(np.array([[0, 1], [2, 0]]), (2, 3)))


@pytest.mark.parametrize("shape,val,wrap", [((3, 3), 5.0, False), ((5, 3), [7.0, 8.0], False),
                                            ((5, 3), [7.0, 8.0], True), ((2, 4), 1, False),
                                            ((3, 3, 3), [1.0, 2.0], False), ((0, 0), 1.0, False)])
def test_fill_diagonal_matches_numpy(shape, val, wrap):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    want = a.copy()
    np.fill_diagonal(want, val, wrap)
    _same(fnp.fill_diagonal(a, val, wrap, inplace=False), want)


def test_index_tricks_under_transformations():
    a = np.arange(12.0).reshape(4, 3)

    def f(a, i, j, flat):
        return (fnp.tri(3, 2, dtype=np.int32), fnp.indices((2, 3)), fnp.diagflat(a[0]),
                fnp.fill_diagonal(a, a[1], inplace=False), a[fnp.ix_(i, j)],
                fnp.unravel_index(flat, (4, 3)), fnp.ravel_multi_index((i, j), (4, 3), "clip"))
    args = (a, np.array([0, 3]), np.array([2, 1]), np.array([-1, 5, 11, -12]))
    jitted = fg.jit(f)
    for got, w in zip(jitted(*args), f(*args)):
        _same(got, w)
    # traced flat indices out of range are clipped, as in JAX
    _same(jitted(*args[:3], np.array([12, -13, 4, 0]))[5],
          (np.array([3, 0, 1, 0]), np.array([2, 0, 1, 0])))
    np.testing.assert_array_equal(fg.vmap(lambda v: fnp.diagflat(v))(a[:2]),
                                  np.stack([np.diagflat(a[0]), np.diagflat(a[1])]))
    check_grads(lambda a, v: fnp.fill_diagonal(a, v, inplace=False) ** 2, [a, a[0, :2]],
                modes=("rev", "fwd"))


def test_index_trick_errors():
    with pytest.raises(InPlaceUpdateError, match="inplace=False"):
        fnp.fill_diagonal(np.ones((2, 2)), 0.0)
    with pytest.raises(ShapeError, match="at least 2-d"):
        fnp.fill_diagonal(np.ones(2), 0.0, inplace=False)
    with pytest.raises(ShapeError, match="equal length"):
        fnp.fill_diagonal(np.ones((2, 2, 3)), 0.0, inplace=False)
    with pytest.raises(ShapeError, match="equal length"):
        fnp.diag_indices_from(np.ones((2, 3)))
    with pytest.raises(FuncgradValueError, match="out of bounds"):
        fnp.unravel_index(np.array([6]), (2, 3))
    with pytest.raises(FuncgradValueError, match="invalid entry"):
        fnp.ravel_multi_index((np.array([2]), np.array([0])), (2, 3))
    with pytest.raises(ConcretizationError, match="mode='wrap' or 'clip'"):
        fg.jit(lambda i: fnp.ravel_multi_index((i, i), (2, 3)))(np.array([0]))
    with pytest.raises(FuncgradValueError, match="mode must be"):
        fnp.ravel_multi_index((np.array([0]), np.array([0])), (2, 3), mode="fill")
    with pytest.raises(ShapeError, match="2 index arrays for 3 dimensions"):
        fnp.ravel_multi_index((np.array([0]), np.array([0])), (2, 3, 4))
    with pytest.raises(ShapeError, match="1 dimensional"):
        fnp.ix_(np.ones((2, 2), int))
    with pytest.raises(FuncgradTypeError, match="integer or boolean"):
        fnp.ix_(np.ones(2))
    with pytest.raises(ConcretizationError, match="boolean"):
        fg.jit(lambda m: fnp.ix_(m))(np.array([True]))


# --- cumulative forms and ptp ----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int8])
def test_cumulative_functions_match_numpy(dtype):
    a = np.nan_to_num(A).astype(dtype) if dtype in (np.int64, np.int8) else A.astype(dtype)
    for axis in (None, 0, -1):
        _same(fnp.nancumsum(a, axis), np.nancumsum(a, axis))
        _same(fnp.nancumprod(a, axis), np.nancumprod(a, axis))
        _same(fnp.ptp(a, axis), np.ptp(a, axis))
        _same(fnp.ptp(a, axis, keepdims=True), np.ptp(a, axis, keepdims=True))
    for axis in (0, -1):
        for include_initial in (False, True):
            for name in ("cumulative_sum", "cumulative_prod"):
                _same(getattr(fnp, name)(a, axis=axis, include_initial=include_initial),
                      getattr(np, name)(a, axis=axis, include_initial=include_initial))
    _same(fnp.cumulative_sum(a[0], include_initial=True, dtype=np.float64),
          np.cumulative_sum(a[0], include_initial=True, dtype=np.float64))
    _same(fnp.cumulative_prod(a[0, :0], include_initial=True),
          np.cumulative_prod(a[0, :0], include_initial=True))
    _same(fnp.ptp(np.float64(3.0)), np.ptp(np.float64(3.0)))


def test_cumulative_functions_derivatives_and_errors():
    a = np.array([[1.5, np.nan, -2.0], [0.5, 3.0, np.nan]])

    def f(a):
        return (fnp.nancumsum(a, 1), fnp.nancumprod(a), fnp.ptp(fnp.nan_to_num(a), axis=0),
                fnp.cumulative_sum(fnp.nan_to_num(a), axis=1, include_initial=True),
                fnp.cumulative_prod(fnp.nan_to_num(a), axis=0))
    for got, want in zip(fg.jit(f)(a), f(a)):
        _same(got, want)
    _same(fg.vmap(lambda r: fnp.cumulative_sum(r, include_initial=True))(np.nan_to_num(a)),
          np.cumulative_sum(np.nan_to_num(a), axis=1, include_initial=True))
    g = fg.grad(lambda a: fnp.sum(fnp.nancumsum(a, 1)))(a)
    np.testing.assert_array_equal(g, [[3.0, 0.0, 1.0], [3.0, 2.0, 0.0]])
    check_grads(lambda a: fnp.nancumprod(a, 1), [np.array([[1.5, -2.0, 0.7], [0.5, 3.0, 1.1]])],
                modes=("rev", "fwd"))
    check_grads(lambda a: fnp.ptp(a, axis=1), [np.array([[1.0, 4.0, 2.0]])])
    with pytest.raises(ShapeError, match="axis= is required"):
        fnp.cumulative_sum(np.ones((2, 2)))
    with pytest.raises(ShapeError, match="at least 1-D"):
        fnp.cumulative_prod(np.float64(1.0))
    with pytest.raises(FuncgradTypeError, match="subtract booleans"):
        fnp.ptp(np.array([True, False]))


# --- block, selections, resizing, put_along_axis ----------------------------------------

def test_shape_functions_match_numpy():
    a = np.arange(6.0).reshape(2, 3)
    for blocks in ([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), 5.0]],
                   [np.arange(2), 3, np.arange(2.0)], [[[a]], [[a]]], 2.0, [[1, 2], [3, 4]]):
        _same(fnp.block(blocks), np.block(blocks))
    for c, axis in (([True, False, True], 1), ([False, True], None), ([1, 0], 0),
                    ([True, False, True, False], 1), ([], 0)):
        _same(fnp.compress(c, a, axis), np.compress(c, a, axis))
    _same(fnp.extract(a > 2, a), np.extract(a > 2, a))
    for idx, mode in ((np.array([0, 1, 1]), "raise"), (np.array([[2], [0]]), "wrap"),
                      (np.array([3, -1, 1]), "clip")):
        choices = [np.zeros(3), np.arange(3.0), 7]
        _same(fnp.choose(idx, choices, mode=mode), np.choose(idx, choices, mode=mode))
    for shape in ((4,), (3, 3), (0,), ()):
        _same(fnp.resize(a, shape), np.resize(a, shape))
    _same(fnp.resize(np.zeros(0), (2,)), np.zeros(2))  # NumPy's resize of nothing: zeros
    for trim in ("fb", "f", "b", "B"):
        x = np.array([0.0, 0.0, 1.0, 0.0, 2.0, 0.0])
        _same(fnp.trim_zeros(x, trim), np.trim_zeros(x, trim))
    for axis in (0, 1, -1, None):
        idx = np.array([[1], [0]]) if axis is not None else np.array([4, 0])
        want = a.copy()
        np.put_along_axis(want, idx, np.array([9.0]), axis)
        _same(fnp.put_along_axis(a, idx, np.array([9.0]), axis, inplace=False), want)
    _same(fnp.broadcast_shapes((2, 1), (3,), ()), np.broadcast_shapes((2, 1), (3,), ()))
    for b, equal_nan in ((a, False), (a[:1], False), (np.array([1.0, np.nan]), True)):
        _same(fnp.array_equal(a if b.size != 2 else b, b, equal_nan=equal_nan),
              np.array_equal(a if b.size != 2 else b, b, equal_nan=equal_nan))
        _same(fnp.array_equiv(a, b), np.array_equiv(a, b))


def test_shape_functions_under_transformations():
    a = np.arange(6.0).reshape(2, 3)

    def f(a, keep, idx):
        return (fnp.block([[a, a[:, :1]], [a[:1], a[:1, :1]]]),
                fnp.compress(keep, a, axis=1, size=3, fill_value=-1.0),
                fnp.extract(a > 2.5, a, size=4), fnp.choose(idx, [a[0], a[1]], mode="clip"),
                fnp.resize(a, (4, 2)), fnp.put_along_axis(a, idx[None, :2], 0.0, 1,
                                                          inplace=False),
                fnp.array_equal(a, a), fnp.array_equiv(a[0], a))
    keep, idx = np.array([True, False, True]), np.array([1, 0, 5])
    got = fg.jit(f)(a, keep, idx)
    _same(got[1], np.array([[0.0, 2.0, -1.0], [3.0, 5.0, -1.0]]))
    _same(got[2], np.array([3.0, 4.0, 5.0, 0.0]))
    for g, w in zip(got[:1] + got[3:], f(a, keep, idx)[:1] + f(a, keep, idx)[3:]):
        _same(g, w)
    _same(fg.vmap(lambda r: fnp.choose(np.array([1, 0, 1]), [r, -r]))(a),
          np.stack([np.choose([1, 0, 1], [r, -r]) for r in a]))
    check_grads(lambda a: fnp.block([[a, 2 * a], [a ** 2, a]]), [a], modes=("rev", "fwd"))
    check_grads(lambda a: fnp.compress(keep, a, axis=1, size=2) ** 2, [a])
    check_grads(lambda a, v: fnp.put_along_axis(a, np.array([[1], [2]]), v, 1, inplace=False)
                ** 2, [a, np.array([[1.5], [2.5]])], modes=("rev", "fwd"))
    g = fg.grad(lambda a: fnp.sum(fnp.choose(np.array([1, 0, 1]), [a[0], a[1]]) ** 2))(a)
    _same(g, np.array([[0.0, 2.0, 0.0], [6.0, 0.0, 10.0]]))


def test_shape_function_errors():
    with pytest.raises(FuncgradTypeError, match="is a tuple"):
        fnp.block(([1.0], [2.0]))
    with pytest.raises(ShapeError, match="depths are mismatched"):
        fnp.block([[1.0], 2.0])
    with pytest.raises(ShapeError, match="cannot be empty"):
        fnp.block([[]])
    with pytest.raises(FuncgradTypeError, match="static size="):
        fg.jit(lambda c: fnp.compress(c, np.arange(3.0)))(np.array([True, False, True]))
    with pytest.raises(ShapeError, match="condition of length 4"):
        fnp.compress([True, False, True, True], np.arange(3.0))
    with pytest.raises(ConcretizationError, match="mode='wrap' or 'clip'"):
        fg.jit(lambda i: fnp.choose(i, [1.0, 2.0]))(np.array([0, 1]))
    with pytest.raises(FuncgradValueError, match="invalid entry"):
        fnp.choose(np.array([2]), [1.0, 2.0])
    with pytest.raises(FuncgradValueError, match="non-negative"):
        fnp.resize(np.ones(2), (-1,))
    with pytest.raises(ConcretizationError, match="trim_zeros"):
        fg.jit(fnp.trim_zeros)(np.ones(2))
    with pytest.raises(FuncgradValueError, match="trim must be"):
        fnp.trim_zeros(np.ones(2), "x")
    with pytest.raises(InPlaceUpdateError, match="inplace=False"):
        fnp.put_along_axis(np.ones((2, 2)), np.zeros((2, 1), int), 0.0, 1)
    with pytest.raises(ShapeError, match="rank"):
        fnp.put_along_axis(np.ones((2, 2)), np.zeros(2, int), 0.0, 1, inplace=False)
    with pytest.raises(ShapeError, match="broadcast_shapes"):
        fnp.broadcast_shapes((2,), (3,))


# --- apply_along_axis, apply_over_axes, vectorize --------------------------------------

def test_functions_of_functions_match_numpy():
    a = RNG.standard_normal((2, 3, 4))
    for axis in (0, 1, -1):
        _same(fnp.apply_along_axis(lambda v: fnp.stack([v.sum(), v.max()]), axis, a),
              np.apply_along_axis(lambda v: np.stack([v.sum(), v.max()]), axis, a))
        _same(fnp.apply_along_axis(lambda v: v[0] * 2.0, axis, a),
              np.apply_along_axis(lambda v: v[0] * 2.0, axis, a))
    _same(fnp.apply_along_axis(lambda v, k: fnp.outer(v, v)[k], 1, a, 1),
          np.apply_along_axis(lambda v, k: np.outer(v, v)[k], 1, a, 1))
    for axes in (0, [0, 2], (1, -1)):
        _same(fnp.apply_over_axes(fnp.sum, a, axes), np.apply_over_axes(np.sum, a, axes))
        _same(fnp.apply_over_axes(lambda x, ax: fnp.mean(x, ax, keepdims=True), a, axes),
              np.apply_over_axes(lambda x, ax: np.mean(x, ax, keepdims=True), a, axes))
    _same(fnp.vectorize(lambda x, y: fnp.where(x > y, x, y * 2))(a, a[0, 0]),
          np.vectorize(lambda x, y: np.where(x > y, x, y * 2))(a, a[0, 0]))
    _same(fnp.vectorize(lambda x, n: x ** n, excluded={1})(a, 2), a ** 2)
    _same(fnp.vectorize(lambda x, n=1: x * n, excluded={"n"})(a[0], n=3), a[0] * 3)
    _same(fnp.vectorize(lambda x, y: x - y)(a[0], y=a[1]), a[0] - a[1])
    _same(fnp.vectorize(fnp.dot, signature="(n),(n)->()")(a, a[0, 0]),
          np.vectorize(np.dot, signature="(n),(n)->()")(a, a[0, 0]))
    _same(fnp.vectorize(lambda x: (fnp.sum(x), x * 2), signature="(n)->(),(n)")(a),
          np.vectorize(lambda x: (np.sum(x), x * 2), signature="(n)->(),(n)")(a))
    _same(fnp.vectorize(lambda x: x + 1.0)(np.float64(2.0)), np.float64(3.0))


def test_functions_of_functions_under_transformations():
    a = RNG.standard_normal((3, 4))
    dot = fnp.vectorize(fnp.dot, signature="(n),(n)->()")

    def f(a):
        return (fnp.apply_along_axis(lambda v: v ** 2 / fnp.sum(v ** 2), 1, a),
                fnp.apply_over_axes(fnp.sum, a, [0]), dot(a, a[0]),
                fnp.vectorize(lambda x, y: fnp.maximum(x, y) ** 2)(a, a[:1]))
    for got, want in zip(fg.jit(f)(a), f(a)):
        _same(got, want)
    _same(fg.vmap(lambda r: dot(r[None], r))(a), np.sum(a * a, axis=1, keepdims=True))
    check_grads(lambda a: f(a), [a], modes=("rev", "fwd"))


def test_functions_of_functions_errors():
    with pytest.raises(FuncgradTypeError, match="integer or string"):
        fnp.vectorize(np.sin, excluded={1.5})
    with pytest.raises(FuncgradValueError, match="negative"):
        fnp.vectorize(np.sin, excluded={-1})
    with pytest.raises(FuncgradValueError, match="not a valid gufunc signature"):
        fnp.vectorize(fnp.dot, signature="(n)(n)->()")(np.ones(2), np.ones(2))
    with pytest.raises(ShapeError, match="inconsistent size for core dimension 'n'"):
        fnp.vectorize(fnp.dot, signature="(n),(n)->()")(np.ones(2), np.ones(3))
    with pytest.raises(ShapeError, match="does not have the core dimensions"):
        fnp.vectorize(fnp.sum, signature="(n)->(n)")(np.ones(2))
    with pytest.raises(ShapeError, match="2 outputs"):
        fnp.vectorize(fnp.sum, signature="(n)->(),()")(np.ones(2))
    with pytest.raises(ShapeError, match="loop dimensions"):
        fnp.vectorize(lambda x, y: x + y)(np.ones(2), np.ones(3))
    with pytest.raises(ShapeError, match="correct shape"):
        fnp.apply_over_axes(lambda x, ax: fnp.sum(x), np.ones((2, 2)), [0])


# --- sorting options, lexsort, take's modes, flatten's order ---------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
def test_descending_sorts_and_lexsort_match_numpy(dtype):
    x = np.array([[3.0, 1.0, np.nan, 1.0, 2.0], [0.0, 5.0, 5.0, -1.0, 0.0]])
    x = x.astype(dtype) if dtype == np.float64 else np.nan_to_num(x).astype(dtype)
    for axis in (0, -1, None):
        flat = x if axis is not None else x.ravel()
        ax = -1 if axis is None else axis
        # descending = the reverse of an ascending sort of the reversed array (stable)
        want = np.flip(flat.shape[ax] - 1 - np.argsort(np.flip(flat, ax), ax, kind="stable"),
                       ax)
        _same(fnp.argsort(x, axis, descending=True), want)
        _same(fnp.sort(x, axis, descending=True), np.flip(np.sort(x, axis), ax))
        _same(fnp.argsort(x, axis, stable=True), np.argsort(x, axis, kind="stable"))
    keys = (np.array([1, 0, 2, 0, 1]), x[1], np.array([1, 1, 0, 1, 1]))
    _same(fnp.lexsort(keys), np.lexsort(keys))
    _same(fnp.lexsort(np.stack([x[1], x[0]])), np.lexsort(np.stack([x[1], x[0]])))
    _same(fnp.lexsort(x, axis=0), np.lexsort(x, axis=0))


def test_take_modes_match_numpy_and_jax():
    a = np.arange(12.0).reshape(3, 4)
    idx = np.array([[5, -1], [-5, 2]])
    for mode in ("clip", "wrap"):
        for axis in (None, 0, 1, -1):
            _same(fnp.take(a, idx, axis, mode=mode), np.take(a, idx, axis, mode=mode))
    # 'fill' (JAX's): indices in [-n, n) as usual, the others fill_value
    _same(fnp.take(a, idx, 1, mode="fill"),
          np.where(((idx >= -4) & (idx < 4))[None], np.take(a, np.clip(idx, -4, 3), 1), np.nan))
    _same(fnp.take(np.arange(3), np.array([5, -4, 1]), mode="fill"),
          np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).min, 1]))
    _same(fnp.take(np.arange(3, dtype=np.uint8), np.array([3]), mode="fill", fill_value=7),
          np.array([7], np.uint8))
    _same(fnp.take(np.zeros((0,)), np.array([0, 1]), mode="fill", fill_value=2.0),
          np.array([2.0, 2.0]))

    def f(a, i):
        return (fnp.take(a, i, 1, mode="clip"), fnp.take(a, i, None, mode="wrap"),
                fnp.take(a, i, 0, mode="fill", fill_value=-1.0), a.flatten("F"),
                fnp.sort(a, 0, descending=True), fnp.argsort(a[0], descending=True),
                fnp.lexsort((a[0], a[1])))
    for got, want in zip(fg.jit(f)(a, idx), f(a, idx)):
        _same(got, want)
    _same(f(a, idx)[3], a.flatten("F"))
    _same(fg.vmap(lambda r: fnp.take(r, np.array([7, -1]), mode="wrap"))(a), a[:, [3, 3]])
    check_grads(lambda a: fnp.take(a, idx, 1, mode="fill", fill_value=0.0) ** 2, [a])
    check_grads(lambda a: fnp.sort(a, 1, descending=True) ** 2, [a + RNG.random(a.shape)])
    with pytest.raises(FuncgradValueError, match="mode must be"):
        fnp.take(a, idx, mode="drop")
    with pytest.raises(FuncgradTypeError, match="integers"):
        fnp.take(a, np.ones(2), mode="clip")
    with pytest.raises(FuncgradIndexError, match="out of bounds"):
        fnp.take(a, np.array([20]))
    with pytest.raises(FuncgradIndexError, match="empty axis"):
        fnp.take(np.zeros(0), np.array([0]), mode="wrap")
    with pytest.raises(ShapeError, match="same shape"):
        fnp.lexsort((np.ones(2), np.ones(3)))


# --- sets and unique_* -------------------------------------------------------------------

SET_CASES = [(np.array([3, 1, 2, 3, 7]), np.array([3, 2, 5, 5])),
             (np.array([[1.5, np.nan], [0.5, 1.5]]), np.array([np.nan, 0.5, 4.0])),
             (np.array([], dtype=np.int64), np.array([1, 2])), (np.array([4, 4]), np.array([4]))]


@pytest.mark.parametrize("a,b", SET_CASES)
def test_set_functions_match_numpy(a, b):
    for name in ("union1d", "intersect1d", "setdiff1d", "setxor1d"):
        _same(getattr(fnp, name)(a, b), getattr(np, name)(a, b))
    _same(fnp.intersect1d(a, b, return_indices=True), np.intersect1d(a, b, return_indices=True))
    _same(fnp.unique_values(a), np.unique(a))  # sorted, as JAX's (NumPy 2.3's need not be)
    for name in ("unique_counts", "unique_inverse", "unique_all"):
        got, want = getattr(fnp, name)(a), getattr(np, name)(a)
        _same(tuple(got) if isinstance(got, tuple) else got,
              tuple(want) if isinstance(want, tuple) else want)


@pytest.mark.parametrize("a,b", SET_CASES[:1] + SET_CASES[2:])
def test_set_functions_traced_with_a_static_size(a, b):
    def f(a, b):
        return (fnp.union1d(a, b, size=8), fnp.intersect1d(a, b, size=8),
                fnp.setdiff1d(a, b, size=8), fnp.setxor1d(a, b, size=8, fill_value=-1),
                fnp.intersect1d(a, b, return_indices=True, size=8),
                tuple(fnp.unique_all(a, size=8)))
    got = fg.jit(f)(a, b)

    def padded(values, fill):
        return np.concatenate([values, np.full(8 - len(values), fill, values.dtype)])
    for g, name in zip(got, ("union1d", "intersect1d", "setdiff1d")):
        want = getattr(np, name)(a, b)
        fill = 0 if name == "setdiff1d" or not want.size else want[0]
        _same(g, padded(want, fill))
    _same(got[3], padded(np.setxor1d(a, b), -1))
    n = len(np.intersect1d(a, b))
    for g, w in zip(got[4][1:], np.intersect1d(a, b, return_indices=True)[1:]):
        _same(g[:n], w)
    values, indices, inverse, counts = np.unique_all(a)
    _same(got[5][2], inverse)
    _same(got[5][3][:len(counts)], counts)
    _same(fg.vmap(lambda r: fnp.union1d(r, b, size=6))(np.stack([a[:1], a[:1]]))[0],
          padded(np.union1d(a[:1], b), np.union1d(a[:1], b)[0])[:6]) if a.size else None


def test_set_function_errors():
    with pytest.raises(FuncgradTypeError, match="static size="):
        fg.jit(lambda a: fnp.intersect1d(a, a))(np.ones(2))
    with pytest.raises(FuncgradTypeError, match="static size="):
        fg.jit(lambda a: fnp.unique_counts(a))(np.ones(2))
    with pytest.raises(FuncgradValueError, match="size must be >= 0"):
        fnp.union1d(np.ones(2), np.ones(2), size=-1)


# --- histograms and windows ------------------------------------------------------------

@pytest.mark.parametrize("options", [{}, {"bins": 3}, {"bins": 4, "range": (0.0, 2.0)},
                                     {"bins": np.array([0.0, 0.5, 2.0, 3.0])},
                                     {"bins": 5, "density": True},
                                     {"bins": 3, "weights": "w", "density": True},
                                     {"bins": 3, "weights": "w"}, {"bins": "auto"}])
@pytest.mark.parametrize("data", [np.array([0.5, 1.0, 1.5, 3.0, -1.0, 2.0]),
                                  np.array([1, 1, 1]), np.array([[2.5, 0.0], [1.0, 3.0]]),
                                  np.array([], dtype=np.float64)])
def test_histogram_matches_numpy(options, data):
    options = dict(options)
    if options.get("weights") == "w":
        options["weights"] = np.arange(data.size, dtype=np.float64).reshape(data.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's density of an empty histogram
        _same(fnp.histogram(data, **options), np.histogram(data, **options))
        options.pop("density", None)
        _same(fnp.histogram_bin_edges(data, **options), np.histogram_bin_edges(data, **options))


def test_histogram_and_windows_under_transformations():
    x = np.array([0.5, 1.0, 1.5, 3.0, -1.0, 2.0])
    w = np.linspace(0.5, 1.0, 6)

    def f(x, w, beta):
        return (fnp.histogram(x, bins=4), fnp.histogram(x, bins=3, weights=w, density=True),
                fnp.histogram(x, bins=np.array([0.0, 1.0, 2.5]), range=(0.0, 1.0)),
                fnp.kaiser(6, beta), fnp.hanning(5))
    for got, want in zip(fg.jit(f)(x, w, 4.0), f(x, w, 4.0)):
        _same(got, want)
    _same(f(x, w, 4.0)[3], np.kaiser(6, 4.0))
    _same(fg.vmap(lambda w: fnp.histogram(x, bins=3, weights=w)[0])(np.stack([w, 2 * w])),
          np.stack([np.histogram(x, 3, weights=w)[0], np.histogram(x, 3, weights=2 * w)[0]]))
    check_grads(lambda w: fnp.histogram(x, bins=3, weights=w, density=True)[0], [w],
                modes=("rev", "fwd"))
    check_grads(lambda b: fnp.kaiser(7, b), [3.0], modes=("rev", "fwd"))
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        for m in (0, 1, 6):
            _same(getattr(fnp, name)(m), getattr(np, name)(m))
    for m in (0, 1, 5):
        _same(fnp.kaiser(m, 2.0), np.kaiser(m, 2.0))
        np.testing.assert_allclose(fg.jit(lambda b, m=m: fnp.kaiser(m, b))(2.0),
                                   np.kaiser(m, 2.0), rtol=1e-14)


def test_histogram_and_window_errors():
    with pytest.raises(ConcretizationError, match="bins='auto'"):
        fg.jit(lambda x: fnp.histogram(x, bins="auto"))(np.ones(3))
    with pytest.raises(FuncgradValueError, match="increase monotonically"):
        fnp.histogram(np.ones(3), bins=np.array([1.0, 0.0]))
    with pytest.raises(FuncgradValueError, match="positive integer"):
        fnp.histogram(np.ones(3), bins=0)
    with pytest.raises(FuncgradValueError, match="max must be larger"):
        fnp.histogram(np.ones(3), range=(2.0, 1.0))
    with pytest.raises(FuncgradValueError, match="not finite"):
        fnp.histogram(np.array([1.0, np.inf]))
    with pytest.raises(ShapeError, match="weights"):
        fnp.histogram(np.ones(3), weights=np.ones(2))
    with pytest.raises(ConcretizationError, match="concrete int"):
        fg.jit(lambda m: fnp.hamming(m))(3)


_XY = (np.array([0.1, 0.5, 0.9, 1.0, 0.5, -3.0]), np.array([1.0, 2.0, 3.0, 3.0, 5.0, 2.0]))


@pytest.mark.parametrize("options", [
    {}, {"bins": 3}, {"bins": [2, 4]}, {"bins": np.array([0.0, 0.5, 1.0, 2.0])},
    {"bins": [np.array([-1.0, 0.5, 1.0]), 3]}, {"bins": 3, "range": [(0.0, 1.0), None]},
    {"bins": (2, 3), "weights": np.arange(6.0), "density": True}, {"bins": 2, "density": True}])
def test_histogram2d_and_histogramdd_match_numpy(options):
    x, y = _XY
    ways = [lambda x, y: fnp.histogram2d(x, y, **options)]
    if not isinstance(options.get("bins"), np.ndarray):  # one array of edges: 2d only
        ways.append(lambda x, y: fnp.histogramdd(fnp.stack([x, y], axis=1), **options))
    for f in ways:
        want = np.histogram2d(x, y, **options)
        got = f(x, y)
        got = (got[0], *got[1]) if len(got) == 2 else got
        if "weights" not in options and not options.get("density"):
            assert np.asarray(got[0]).dtype == np.int64  # JAX's integer counts
            got = (np.asarray(got[0]).astype(np.float64), *got[1:])
        _same(tuple(got), tuple(want))


def test_histogramdd_of_points_in_three_dimensions_and_transformations():
    rng = np.random.default_rng(0)
    sample, w = rng.normal(size=(20, 3)), rng.uniform(size=20)
    want, want_edges = np.histogramdd(sample, bins=(2, 3, 4), weights=w, density=True)
    got, edges = fnp.histogramdd(sample, bins=(2, 3, 4), weights=w, density=True)
    _same(got, want)
    _same(tuple(edges), tuple(want_edges))
    _same(fnp.histogramdd(list(sample.T), bins=2, weights=w)[0],
          np.histogramdd(list(sample.T), bins=2, weights=w)[0])
    _same(fnp.histogramdd(sample[:, 0], bins=3, weights=w)[0],
          np.histogramdd(sample[:, 0], bins=3, weights=w)[0])

    def f(sample, w):  # traced edges from the data's range, and traced weights
        return fnp.histogramdd(sample, bins=(2, 3, 4), weights=w, density=True)[0]
    _same(fg.jit(f, compile="sync")(sample, w), want)
    _same(fg.vmap(lambda w: f(sample, w))(np.stack([w, 2 * w])), np.stack([want, want]))
    check_grads(lambda w: fnp.histogram2d(sample[:, 0], sample[:, 1], 2, weights=w,
                                          density=True)[0], [w], modes=("rev", "fwd"))


def test_histogram2d_and_histogramdd_errors():
    with pytest.raises(ShapeError, match="3 bins for a sample of 2 dimensions"):
        fnp.histogramdd(np.ones((4, 2)), bins=[2, 2, 2])
    with pytest.raises(ShapeError, match="1 range for a sample of 2 dimensions"):
        fnp.histogram2d(np.ones(3), np.ones(3), range=[(0.0, 1.0)])
    with pytest.raises(ShapeError, match="different lengths"):
        fnp.histogram2d(np.ones(3), np.ones(4))
    with pytest.raises(ShapeError, match="2 weights for 3 values"):
        fnp.histogram2d(np.ones(3), np.ones(3), weights=np.ones(2))
    with pytest.raises(ShapeError, match="sample must be an"):
        fnp.histogramdd(np.ones((2, 2, 2)))


# --- polynomials -----------------------------------------------------------------------

def test_polynomials_match_numpy():
    p, q = np.array([1.0, -3.0, 2.0, 0.5]), np.array([2.0, 1.0])
    _same(fnp.poly(np.array([1.0, 2.0, -1.5])), np.poly(np.array([1.0, 2.0, -1.5])))
    _same(fnp.poly(np.array([1, 2])), np.poly(np.array([1, 2])))
    _same(fnp.poly(np.array([[2.0, 0.0], [0.0, 3.0]])), np.poly(np.array([[2.0, 0.0],
                                                                          [0.0, 3.0]])))
    _same(fnp.poly(np.zeros(0)), np.poly(np.zeros(0)))
    for a, b in ((p, q), (q, p), (p, np.array([2.0])), (np.array([1, 2]), np.array([3]))):
        _same(fnp.polyadd(a, b), np.polyadd(a, b))
        _same(fnp.polysub(a, b), np.polysub(a, b))
        _same(fnp.polymul(a, b), np.polymul(a, b))
    for m in (0, 1, 2, 5):
        _same(fnp.polyder(p, m), np.polyder(p, m))
        _same(fnp.polyint(p, m), np.polyint(p, m))
    _same(fnp.polyder(np.array([3, 2, 1]), 1), np.polyder(np.array([3, 2, 1]), 1))
    _same(fnp.polyint(p, 2, [1.0, 2.0]), np.polyint(p, 2, [1.0, 2.0]))
    _same(fnp.polyint(p, 2, 3.0), np.polyint(p, 2, 3.0))
    for u, v in ((p, q), (q, p), (p, np.array([2.0]))):
        quotient, remainder = fnp.polydiv(u, v)
        want_q, want_r = np.polydiv(u, v)
        _same(quotient, want_q)
        _same(remainder[len(remainder) - len(want_r):], want_r)  # NumPy trims leading zeros
        _same(fnp.polydiv(u, v, trim_leading_zeros=True), np.polydiv(u, v))
    _same(fnp.polymul(np.array([0.0, 1.0]), np.array([1.0]), trim_leading_zeros=True),
          np.array([1.0]))
    x = np.linspace(-1.0, 2.0, 9)
    y = np.stack([x ** 3 - x + 0.1 * np.sin(7 * x), np.cos(x)], axis=1)
    for deg in (0, 1, 3):
        np.testing.assert_allclose(fnp.polyfit(x, y[:, 0], deg), np.polyfit(x, y[:, 0], deg),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fnp.polyfit(x, y, deg, w=x * x + 1),
                                   np.polyfit(x, y, deg, w=x * x + 1), rtol=1e-10, atol=1e-12)
    got, want = fnp.polyfit(x, y[:, 0], 2, full=True), np.polyfit(x, y[:, 0], 2, full=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10)
    _same(fnp.roots(np.array([1.0, -3.0, 2.0])), np.roots(np.array([1.0, -3.0, 2.0])))
    _same(fnp.roots(np.array([0.0, 2.0, -4.0])), np.roots(np.array([0.0, 2.0, -4.0])))


def test_polynomials_under_transformations():
    p, q, r = np.array([1.0, -3.0, 2.0, 0.5]), np.array([2.0, 1.0]), np.array([0.5, -1.0, 2.0])
    x = np.linspace(-1.0, 2.0, 9)

    def f(p, q, r, y):
        return (fnp.poly(r), fnp.polyadd(p, q), fnp.polysub(q, p), fnp.polymul(p, q),
                fnp.polyder(p, 2), fnp.polyint(p, 1, 2.0), fnp.polydiv(p, q),
                fnp.polyfit(x, y, 2))
    y = x ** 2 - 0.3 * x
    for got, want in zip(fg.jit(f)(p, q, r, y), f(p, q, r, y)):
        if isinstance(want, tuple):
            [_same(g, w) for g, w in zip(got, want)]
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    _same(fg.vmap(fnp.poly)(np.stack([r, 2 * r])), np.stack([np.poly(r), np.poly(2 * r)]))
    check_grads(lambda p, q, r: (fnp.poly(r), fnp.polymul(p, q), fnp.polydiv(p, q),
                                 fnp.polyint(fnp.polyder(p), 1)), [p, q, r],
                modes=("rev", "fwd"))
    check_grads(lambda y, w: fnp.polyfit(x, y, 2, w=w), [y, x * x + 1.0])


def test_polynomial_errors():
    with pytest.raises(FuncgradTypeError, match="complex roots"):
        fnp.roots(np.array([1.0, 0.0, 1.0]))
    with pytest.raises(ConcretizationError, match="roots"):
        fg.jit(fnp.roots)(np.array([1.0, -1.0]))
    with pytest.raises(ConcretizationError, match="complex"):
        fg.jit(fnp.poly)(np.eye(2))
    with pytest.raises(ConcretizationError, match="trim_leading_zeros"):
        fg.jit(lambda p: fnp.polymul(p, p, trim_leading_zeros=True))(np.ones(2))
    with pytest.raises(FuncgradTypeError, match="cov="):
        fnp.polyfit(np.arange(3.0), np.arange(3.0), 1, cov=True)
    with pytest.raises(FuncgradValueError, match="deg >= 0"):
        fnp.polyfit(np.arange(3.0), np.arange(3.0), -1)
    with pytest.raises(ShapeError, match="expected y of shape"):
        fnp.polyfit(np.arange(3.0), np.arange(4.0), 1)
    with pytest.raises(ShapeError, match="1-D"):
        fnp.polyder(np.ones((2, 2)))
    with pytest.raises(FuncgradValueError, match="k must have 2 constants"):
        fnp.polyint(np.ones(2), 2, [1.0, 2.0, 3.0])
    with pytest.raises(FuncgradValueError, match="positive"):
        fnp.polyder(np.ones(2), -1)


# --- dtype helpers and NumPy's other names of the scalar types -------------------------

def test_dtype_helpers_and_aliases():
    assert fnp.isscalar(1.5) and fnp.isscalar(np.float32(1)) and fnp.isscalar(np.array(2.0))
    assert not fnp.isscalar([1.0]) and not fnp.isscalar(np.ones(1))
    assert fg.jit(lambda x: fnp.ones(1) * fnp.isscalar(x))(np.float64(2.0)) == 1.0
    assert fnp.issubdtype(fnp.float32, fnp.floating) and not fnp.issubdtype(np.int8,
                                                                            fnp.inexact)
    assert fnp.issubdtype(fnp.uint, fnp.unsignedinteger) and fnp.issubdtype(fnp.int_,
                                                                            fnp.signedinteger)
    assert fnp.issubdtype(fnp.bool, fnp.generic) and fnp.issubdtype(fnp.double, fnp.number)
    assert fnp.issubdtype(np.int16, fnp.integer)
    assert fnp.promote_types(fnp.int8, fnp.uint8) == np.promote_types(np.int8, np.uint8)
    assert fnp.promote_types("float32", fnp.single) == np.float32
    assert fnp.can_cast(fnp.int32, fnp.float64) and not fnp.can_cast(np.ones(2), fnp.int64)
    assert fnp.can_cast(np.float64, np.float32, "same_kind")
    assert fg.jit(lambda x: x * fnp.can_cast(x, fnp.float64))(np.float32(2.0)) == 2.0
    assert fnp.double == np.float64 and fnp.single == np.float32 and fnp.int_ == np.int64
    assert fnp.uint == np.uint64 and fnp.bool == np.bool_
    _same(fnp.bool(np.array([0.0, 2.0])), np.array([False, True]))
    _same(fg.jit(lambda x: fnp.double(x) + fnp.single(x))(np.ones(2, np.float32)),
          np.full(2, 2.0))


@pytest.mark.parametrize("a,b", [(np.array([np.nan, np.nan, 1.0]), np.array([2.0])),
                                 (np.array([1.0]), np.array([np.nan, 2.0, np.nan])),
                                 (np.array([np.nan, 3.0]), np.array([np.nan, np.nan])),
                                 SET_CASES[1]])
def test_traced_setxor1d_keeps_numpys_nans(a, b):
    # NumPy's keeps one nan from each array that has any (no nan equals another); traced,
    # a nan in both arrays was dropped as "in both" and one in one array as "in neither"
    want = np.setxor1d(a, b)
    got = fg.jit(lambda a, b: fnp.setxor1d(a, b, size=len(want) + 1, fill_value=-1.0))(a, b)
    _same(got, np.append(want, -1.0))


def test_traced_intersect1d_with_an_empty_array():
    a, b = np.array([1.0, 2.0]), np.zeros(0)
    got = fg.jit(lambda a, b: fnp.intersect1d(a, b, return_indices=True, size=2,
                                              fill_value=0.0))(a, b)
    _same(got, (np.zeros(2), np.zeros(2, np.int64), np.zeros(2, np.int64)))


def test_polyint_constants_may_be_traced():
    # a list holding a tracer went through np.ndim, which asked the tracer for its value
    p = np.array([1.0, 2.0])
    for k in ([1.0, 2.0], (1.0, 2.0), 1.0):
        def f(c, k=k):
            ks = type(k)(c if i == 0 else v for i, v in enumerate(k)) if np.ndim(k) else c
            return fnp.polyint(p, 2, ks)
        _same(f(1.0), np.polyint(p, 2, k))
        _same(fg.jit(f)(1.0), np.polyint(p, 2, k))
        # the first constant is the first integration's: it ends up times x
        np.testing.assert_allclose(fg.grad(lambda c: f(c)[-2])(1.0), 1.0)


def test_histogram_bins_and_range_errors_say_what_was_wrong():
    x = np.array([1.0, 2.0])
    with pytest.raises(FuncgradTypeError, match="bins must be an integer, a string or an "
                                                "array of edges, got 2.5") as err:
        fnp.histogram(x, 2.5)
    assert "test_numpy_breadth.py" in str(err.value)  # the user's line, not a bare TypeError
    with pytest.raises(FuncgradValueError, match=r"supplied range of \[0.0, inf\]"):
        fnp.histogram(x, 2, range=(0.0, np.inf))
    with pytest.raises(FuncgradValueError, match=r"autodetected range of \[1.0, inf\]"):
        fnp.histogram(np.array([1.0, np.inf]), 2)


def test_float_representation_functions_compiled_match_numpy_to_the_bit():
    """Compiled against NumPy at signed zeros, infinities, NaN, subnormals and the extremes,
    in float64 and float32 (one compile), the sign of a zero included (assert_allclose
    does not see it): compiled spacing(-0.0) was -5e-324, NumPy's is +5e-324."""
    def special(dtype):
        info = np.finfo(dtype)
        return np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.smallest_subnormal,
                         -info.smallest_subnormal, info.tiny, -info.max, 1.0, -2.5, 3.0, 0.5],
                        dtype)

    def f(x, y, i):
        unary = [g(x) for g in (fnp.spacing, fnp.signbit, fnp.sign)] + [*fnp.frexp(x),
                                                                          *fnp.modf(x)]
        return unary + [g(x, y) for g in (fnp.nextafter, fnp.copysign, fnp.fmod,
                                          fnp.remainder, fnp.floor_divide)] + [fnp.ldexp(x, i)]

    def reference(x, y, i):
        unary = [g(x) for g in (np.spacing, np.signbit, np.sign)] + [*np.frexp(x), *np.modf(x)]
        return unary + [g(x, y) for g in (np.nextafter, np.copysign, np.fmod, np.remainder,
                                          np.floor_divide)] + [np.ldexp(x, i)]

    args = []
    for dtype in (np.float64, np.float32):
        x, y = (v.ravel() for v in np.meshgrid(special(dtype), special(dtype)))
        args += [x, y, (np.arange(x.size) % 7 - 3).astype(np.int32)]
    with np.errstate(all="ignore"):
        got = fg.jit(lambda *a: f(*a[:3]) + f(*a[3:]), compile="sync")(*args)
        want = reference(*args[:3]) + reference(*args[3:])
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, (k, g.dtype, w.dtype)
        np.testing.assert_array_equal(g, w, err_msg=str(k))
        if w.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(g)[~np.isnan(w)],
                                          np.signbit(w)[~np.isnan(w)], err_msg=str(k))


def test_exp2_and_log2_of_both_float_dtypes_in_one_compiled_program():
    # Numba's np.exp2, np.log2 (and np.spacing) declared their LLVM intrinsic for the first
    # dtype met: float32 and float64 ones in one program failed to compile
    x64 = np.array([0.0, -0.0, 3.0, 0.5, -1.0, 1e-300, 5e-324, 1100.0, -1100.0, np.inf, np.nan])
    x32 = x64.astype(np.float32)

    def f(x64, x32):
        return [g(x) for g in (fnp.exp2, fnp.log2, fnp.spacing) for x in (x64, x32)]
    with np.errstate(all="ignore"):
        got = fg.jit(f, compile="sync")(x64, x32)
        want = [g(x) for g in (np.exp2, np.log2, np.spacing) for x in (x64, x32)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=2e-7 if w.dtype == np.float32 else 1e-15)
    np.testing.assert_array_equal(got[0][[0, 2, 3, 7]], [1.0, 8.0, np.sqrt(2.0), np.inf])
    np.testing.assert_array_equal(got[2][[2, 3, 6]], [np.log2(3.0), -1.0, -1074.0])
