"""Convolutions and correlations: funcgrad.scipy.signal and funcgrad.numpy.convolve /
correlate against SciPy and NumPy in every mode and many shapes, their derivatives against
finite differences, compiled against eager, and vmap against a loop."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.scipy import signal
from funcgrad.testing import check_grads

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)
MODES = ["full", "valid", "same"]


def _pair(draw, ndim, dtype=np.float64):
    shapes = [tuple(draw(st.integers(1, 6)) for _ in range(ndim)) for _ in range(2)]
    if draw(st.booleans()):  # often one at least as large as the other everywhere
        shapes.sort(key=lambda s: s[0])
        shapes[1] = tuple(max(a, b) for a, b in zip(*shapes))
        if draw(st.booleans()):
            shapes.reverse()
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    if np.dtype(dtype).kind == "i":
        return tuple(rng.integers(-5, 6, s).astype(dtype) for s in shapes)
    return tuple(rng.normal(size=s).astype(dtype) for s in shapes)


def _valid_ok(a, b):
    return all(n >= k for n, k in zip(a.shape, b.shape)) or \
        all(n <= k for n, k in zip(a.shape, b.shape))


@SETTINGS
@given(data=st.data(), ndim=st.integers(1, 3), mode=st.sampled_from(MODES),
       name=st.sampled_from(["convolve", "correlate"]))
def test_nd_matches_scipy(data, ndim, mode, name):
    a, b = _pair(data.draw, ndim)
    if mode == "valid" and not _valid_ok(a, b):
        with pytest.raises(ShapeError, match="at least as large"):
            getattr(signal, name)(a, b, mode)
        return
    expected = getattr(scipy.signal, name)(a, b, mode, method="direct")
    np.testing.assert_allclose(getattr(signal, name)(a, b, mode), expected, atol=1e-12)


@SETTINGS
@given(data=st.data(), mode=st.sampled_from(MODES),
       name=st.sampled_from(["convolve2d", "correlate2d"]))
def test_2d_matches_scipy(data, mode, name):
    a, b = _pair(data.draw, 2)
    if mode == "valid" and not _valid_ok(a, b):
        with pytest.raises(ShapeError, match="at least as large"):
            getattr(signal, name)(a, b, mode)
        return
    expected = getattr(scipy.signal, name)(a, b, mode)
    np.testing.assert_allclose(getattr(signal, name)(a, b, mode), expected, atol=1e-12)


@SETTINGS
@given(data=st.data(), mode=st.sampled_from(MODES),
       name=st.sampled_from(["convolve", "correlate"]))
def test_numpy_1d_matches_numpy(data, mode, name):
    a, b = _pair(data.draw, 1)
    expected = getattr(np, name)(a, b, mode)
    np.testing.assert_allclose(getattr(fnp, name)(a, b, mode), expected, atol=1e-12)


def test_default_modes_differ_as_in_numpy_and_scipy():
    a, v = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.5])
    np.testing.assert_allclose(fnp.correlate(a, v), np.correlate(a, v))  # valid
    np.testing.assert_allclose(signal.correlate(a, v), scipy.signal.correlate(a, v))  # full
    np.testing.assert_allclose(fnp.convolve(a, v), np.convolve(a, v))  # full
    assert fnp.correlate(a, v).shape == (3,) and signal.correlate(a, v).shape == (5,)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32])
def test_dtypes_as_numpy(dtype):
    a, b = (np.array(v, dtype) for v in ([1, 2, 3, 4], [2, -1, 3]))
    for fn, ref in [(fnp.convolve, np.convolve), (signal.correlate, scipy.signal.correlate)]:
        out, expected = fn(a, b), ref(a, b)
        assert out.dtype == expected.dtype
        np.testing.assert_allclose(out, expected, rtol=1e-6)
    mixed = fnp.convolve(np.array([1, 2]), np.array([0.5, 1.0], np.float32))
    assert mixed.dtype == np.convolve(np.array([1, 2]), np.array([0.5, 1.0], np.float32)).dtype
    # a scalar is a sequence of one, as NumPy's ndmin=1
    np.testing.assert_allclose(fnp.convolve(2.0, np.array([1.0, 3.0])), [2.0, 6.0])
    assert signal.convolve(np.float64(2.0), np.float64(3.0)) == 6.0


@pytest.mark.parametrize("ndim", [1, 2])
def test_gradients_against_finite_differences(ndim):
    rng = np.random.default_rng(ndim)
    shapes = [((7,), (3,)), ((5, 4), (2, 3))][ndim - 1]
    a, b = (rng.normal(size=s) for s in shapes)
    for mode in MODES:
        for fn in (signal.convolve, signal.correlate):
            forward = lambda a, b, fn=fn, mode=mode: fn(a, b, mode)  # noqa: E731
            swapped = lambda a, b, fn=fn, mode=mode: fn(b, a, mode)  # noqa: E731  (larger kernel)
            check_grads(forward, (a, b), order=2, modes=("rev", "fwd"))
            check_grads(swapped, (a, b), order=1)
    check_grads(lambda a, b: fnp.correlate(a, b, "same"), (rng.normal(size=4),
                                                            rng.normal(size=6)), order=2)


def test_compiled_matches_eager_with_gradients_and_vmap():
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(9, 8)), rng.normal(size=(3, 3))

    def loss(image, kernel):
        return fnp.sum(fnp.tanh(signal.convolve2d(image, kernel, "same")) ** 2)

    np.testing.assert_allclose(fg.jit(loss)(image, kernel), loss(image, kernel), rtol=1e-12)
    grads = fg.grad(loss, argnums=(0, 1))
    for got, want in zip(fg.jit(grads)(image, kernel), grads(image, kernel)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    images = rng.normal(size=(4, 6, 5))
    batched = fg.jit(fg.vmap(lambda x: signal.correlate2d(x, kernel, "valid")))(images)
    np.testing.assert_allclose(batched, [scipy.signal.correlate2d(x, kernel, "valid")
                                         for x in images], atol=1e-12)
    kernels = rng.normal(size=(3, 2, 2))
    per_kernel = fg.vmap(lambda k: signal.convolve(images[0], k, "full"))(kernels)
    np.testing.assert_allclose(per_kernel, [scipy.signal.convolve(images[0], k) for k in kernels],
                               atol=1e-12)
    both = fg.jit(fg.vmap(lambda x, k: fnp.convolve(x, k, "same")))(images[:3, 0], kernels[:, 0])
    np.testing.assert_allclose(both, [np.convolve(x, k, "same")
                                      for x, k in zip(images[:3, 0], kernels[:, 0])], atol=1e-12)


def test_integer_convolution_compiles_exactly():
    a, b = np.arange(10, dtype=np.int64), np.array([3, -1, 2], np.int64)
    out = fg.jit(lambda a, b: fnp.convolve(a, b, "same"))(a, b)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, np.convolve(a, b, "same"))


def test_bad_input_is_refused_clearly():
    a = np.ones(3)
    with pytest.raises(FuncgradValueError, match="mode"):
        fnp.convolve(a, a, "middle")
    with pytest.raises(FuncgradValueError, match="method"):
        signal.convolve(a, a, method="winograd")
    with pytest.raises(FuncgradValueError, match="boundary='fill'"):
        signal.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="wrap")
    with pytest.raises(FuncgradValueError, match="fillvalue"):
        signal.correlate2d(np.ones((3, 3)), np.ones((2, 2)), fillvalue=1.0)
    with pytest.raises(ShapeError, match="2-D"):
        signal.convolve2d(a, a)
    with pytest.raises(ShapeError, match="1-D"):
        fnp.correlate(np.ones((2, 2)), a)
    with pytest.raises(ShapeError, match="same number of axes"):
        signal.correlate(np.ones((2, 2)), a)
    with pytest.raises(ShapeError, match="empty"):
        fnp.convolve(np.ones(0), a)
    with pytest.raises(FuncgradTypeError, match="str32 is not supported"):
        fnp.convolve(np.array(["a"]), np.array(["b"]))
    for scalar_first in (True, False):  # numpy.correlate: 'object of too small depth'
        args = (np.float64(2.0), a) if scalar_first else (a, np.float64(2.0))
        with pytest.raises(ShapeError, match="not a 0-d input"):
            fnp.correlate(*args)


def test_booleans_convolve_in_float32_as_jax():
    """NumPy's convolve of booleans is a logical or of ands; JAX's (and funcgrad's) sums
    them in float32, whether through numpy or scipy.signal's names."""
    a, b = np.array([True, False, True]), np.array([True, True])
    counts = np.convolve(a.astype(np.float32), b.astype(np.float32))  # [1, 1, 1, 1]
    for f in (fnp.convolve, lambda a, b: fnp.correlate(a, b, "full"), signal.convolve,
              signal.fftconvolve, fg.jit(fnp.convolve, compile="sync")):
        out = f(a, b)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, counts)
    np.testing.assert_array_equal(fnp.convolve(a, np.array([True, True, True]), "same"),
                                  [1.0, 2.0, 1.0])
    assert fnp.convolve(a, np.array([1, 2])).dtype == np.int64  # promoted as usual


def test_a_nonfinite_value_stays_where_numpy_puts_it_eagerly_and_compiled():
    # eagerly, x was padded with zeros and the kernel's nan times those zeros made every
    # output nan (NumPy's convolve and the compiled loop add only products inside x)
    x = np.array([0.5, np.nan, 2.0, 3.0, 1.0, -1.0, np.inf, 4.0] + [1.0] * 60)
    k = np.array([1.0, 2.0])
    for a, b in ((x, k), (k, x)):
        want = np.convolve(a, b)
        assert np.isfinite(want).sum() > 60
        for f in (fnp.convolve, fg.jit(fnp.convolve, compile="sync")):
            np.testing.assert_allclose(f(a, b), want, rtol=1e-12)
    same = lambda a, b: signal.convolve(a, b, "same")  # noqa: E731
    for f in (same, fg.jit(same, compile="sync")):
        np.testing.assert_array_equal(f(k, x[:6]), [np.nan, 7.0])


# --- fftconvolve -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes, axes", [
    (((7,), (3,)), None), (((3, 5), (2, 3)), None), (((3, 5), (3, 2)), 1),
    (((3, 5), (1, 2)), [-1]), (((4, 3), (2, 3)), 0), (((2, 5, 4), (2, 2, 3)), (1, 2)),
    (((2, 3), (4, 5)), None)])  # the kernel larger: 'valid' and 'same' as SciPy's
def test_fftconvolve_matches_scipy_along_its_axes(mode, shapes, axes):
    rng = np.random.default_rng(len(shapes[0]))
    a, b = (rng.normal(size=s) for s in shapes)
    want = scipy.signal.fftconvolve(a, b, mode, axes)
    np.testing.assert_allclose(signal.fftconvolve(a, b, mode, axes), want, atol=1e-12)


def test_fftconvolve_is_float_differentiable_compiled_and_batched():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 6)), rng.normal(size=(3, 2))
    ints = signal.fftconvolve(np.array([1, 2, 3]), np.array([1, -1]))
    assert ints.dtype == np.float64  # as SciPy's (and JAX's) FFT
    np.testing.assert_array_equal(ints, [1.0, 1.0, 1.0, -3.0])
    f = lambda a, b: signal.fftconvolve(a, b, "same", axes=1)  # noqa: E731
    check_grads(f, (a, b), order=1, modes=("rev", "fwd"))
    np.testing.assert_allclose(fg.jit(f, compile="sync")(a, b),
                               scipy.signal.fftconvolve(a, b, "same", axes=1), atol=1e-12)
    np.testing.assert_allclose(fg.vmap(f, (0, None))(np.stack([a, 2 * a]), b),
                               [f(a, b), 2 * f(a, b)], atol=1e-12)
    assert signal.fftconvolve(np.float64(2.0), np.float64(3.0)) == 6.0


def test_fftconvolve_refuses_what_scipy_refuses():
    with pytest.raises(ShapeError, match="axis 0 is not convolved.*3 and 2"):
        signal.fftconvolve(np.ones((3, 4)), np.ones((2, 2)), axes=1)
    with pytest.raises(FuncgradValueError, match="axes, when given, cannot be empty"):
        signal.fftconvolve(np.ones((3, 4)), np.ones((3, 2)), axes=[])
    with pytest.raises(ShapeError, match="same number of axes"):
        signal.fftconvolve(np.ones((3, 4)), np.ones(2))
    with pytest.raises(ShapeError, match="at least as large"):
        signal.fftconvolve(np.ones((3, 4)), np.ones((4, 3)), "valid")
    with pytest.raises(FuncgradValueError, match="mode"):
        signal.fftconvolve(np.ones(3), np.ones(2), "middle")
