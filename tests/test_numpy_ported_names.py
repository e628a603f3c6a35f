"""Names that real NumPy, autograd and JAX code reaches for beyond the ufuncs: numpy.gradient,
numpy.cross (every axis form), rollaxis, the complex helpers on real arrays, and scalar types
called on traced values (``jnp.float32(x)``). Each against NumPy, with derivatives checked
against finite differences."""

from __future__ import annotations

import warnings

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradError, ShapeError
from funcgrad.testing import check_grads

SETTINGS = settings(max_examples=25, deadline=None)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


@SETTINGS
@given(shape=st.lists(st.integers(3, 5), min_size=1, max_size=3),
       edge_order=st.sampled_from([1, 2]),
       spacing=st.sampled_from(["none", "scalar", "coordinates"]), seed=st.integers(0, 99))
def test_gradient_matches_numpy(shape, edge_order, spacing, seed):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(shape)
    args = {"none": (), "scalar": (0.3,),
            "coordinates": tuple(np.cumsum(rng.random(n) + 0.1) for n in shape)}[spacing]
    want = _as_tuple(np.gradient(f, *args, edge_order=edge_order))
    got = _as_tuple(fnp.gradient(f, *args, edge_order=edge_order))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_gradient_axis_ints_and_its_derivatives():
    rng = np.random.default_rng(1)
    f, x = rng.standard_normal((5, 4)), np.cumsum(rng.random(5) + 0.2)
    np.testing.assert_allclose(fnp.gradient(f, x, axis=0, edge_order=2),
                               np.gradient(f, x, axis=0, edge_order=2))
    np.testing.assert_array_equal(fnp.gradient(np.array([1, 4, 9, 16])),
                                  np.gradient(np.array([1, 4, 9, 16])))
    check_grads(lambda f, x: fnp.gradient(f, x, axis=0, edge_order=2), [f, x], order=2,
                modes=("rev", "fwd"))
    check_grads(lambda f: fnp.sum(fnp.stack(fnp.gradient(f, 0.5)) ** 2), [f])


def test_gradient_errors_say_what_is_wrong():
    with pytest.raises(ShapeError, match="needs at least 3"):
        fnp.gradient(np.ones(2), edge_order=2)
    with pytest.raises(FuncgradError, match="2 spacings given for 1 axes"):
        fnp.gradient(np.ones(4), 1.0, 2.0)
    with pytest.raises(FuncgradError, match="edge_order must be 1 or 2"):
        fnp.gradient(np.ones(4), edge_order=3)
    with pytest.raises(ShapeError, match="coordinates of shape"):
        fnp.gradient(np.ones(4), np.arange(3.0))


@pytest.mark.parametrize("sizes", [(3, 3), (2, 3), (3, 2), (2, 2)])
@pytest.mark.parametrize("axes", [{}, {"axisa": 0, "axisb": 0, "axisc": 0}, {"axis": 0},
                                  {"axisa": 0, "axisc": 1}])
def test_cross_matches_numpy(sizes, axes):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, sizes[0])), rng.standard_normal((4, sizes[1]))
    if axes.get("axisa") == 0 or "axis" in axes:
        a = a.T
    if axes.get("axisb") == 0 or "axis" in axes:
        b = b.T
    with warnings.catch_warnings(record=True) as numpy_warned:
        warnings.simplefilter("always")
        try:
            want = np.cross(a, b, **axes)
        except ValueError:
            with pytest.raises(FuncgradError):
                fnp.cross(a, b, **axes)
            return
    with warnings.catch_warnings(record=True) as funcgrad_warned:
        warnings.simplefilter("always")
        got = fnp.cross(a, b, **axes)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert [w.category for w in funcgrad_warned] == [w.category for w in numpy_warned]


def test_cross_derivatives_and_errors():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    check_grads(fnp.cross, [a, b], order=2, modes=("rev", "fwd"))
    np.testing.assert_allclose(fg.jit(fnp.cross)(a, b), np.cross(a, b))
    np.testing.assert_allclose(fg.vmap(fnp.cross)(a, b), np.cross(a, b))
    with pytest.raises(ShapeError, match="2 or 3 elements, not 4 and 3"):
        fnp.cross(np.ones(4), np.ones(3))


@pytest.mark.parametrize("axis,start", [(0, 0), (2, 0), (2, 1), (0, 3), (1, 3), (-1, -2)])
def test_rollaxis_matches_numpy(axis, start):
    a = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(fnp.rollaxis(a, axis, start), np.rollaxis(a, axis, start))


def test_rollaxis_rejects_a_start_out_of_range():
    with pytest.raises(ShapeError, match="start 5 is out of range"):
        fnp.rollaxis(np.ones((2, 3)), 0, 5)


@pytest.mark.parametrize("name", ["real", "imag", "conj", "conjugate", "angle",
                                  "real_if_close"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.bool_])
def test_complex_helpers_on_real_arrays_match_numpy(name, dtype):
    x = np.array([2.0, -3.0, 0.0, -0.0, np.inf, -np.inf, np.nan]).astype(dtype) \
        if dtype in (np.float64, np.float32) else np.array([2, -3, 0, 1]).astype(dtype)
    want, got = getattr(np, name)(x), getattr(fnp, name)(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    traced = fg.jit(getattr(fnp, name))(x)
    np.testing.assert_array_equal(traced, want)


def test_complex_helpers_differentiate_as_real_functions():
    x = np.array([1.5, -2.0])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.real(x) * fnp.conj(x)))(x), 2 * x)
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fnp.imag(x) + fnp.angle(x)))(x),
                                  np.zeros(2))
    assert not fnp.iscomplexobj(x) and fnp.isrealobj(x) and fnp.iscomplexobj(np.ones(1, complex))


def test_scalar_types_convert_traced_values_like_jax():
    x = np.array([1.7, -2.2])
    assert fg.jit(lambda x: fnp.int64(x) * 2)(x).tolist() == [2, -4]
    g = fg.grad(lambda x: fnp.sum(fnp.float32(x) ** 2))(np.ones(2, np.float32))
    assert g.dtype == np.float32 and g.tolist() == [2.0, 2.0]
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.float64(x) * x))(x), 2 * x)


def test_scalar_types_still_behave_as_numpys():
    assert fnp.int64(2.7) == 2 and type(fnp.int64(2.7)) is np.int64
    assert type(fnp.float32(1.5)) is np.float32 and fnp.float64() == 0.0
    assert fnp.float32 == np.float32 and fnp.float32 == np.dtype(np.float32)
    assert hash(fnp.float32) == hash(np.float32) and fnp.float32 != np.float64
    assert isinstance(np.float64(1.0), fnp.float64) and not isinstance(1.0, fnp.float32)
    assert np.zeros(2, dtype=fnp.int8).dtype == np.int8
    assert fnp.zeros(2, fnp.float32).dtype == np.float32
    assert np.issubdtype(fnp.float32, np.floating) and np.dtype(fnp.uint16) == np.uint16
    assert fg.jit(lambda x: x.astype(fnp.int32))(np.array([1.5])).dtype == np.int32
    assert repr(fnp.float32) == "<class 'numpy.float32'>"
