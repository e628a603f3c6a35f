"""funcgrad.nn at the edges of its inputs, as jax.nn (x64 on) behaves there: empty axes,
``where=`` masks, integer and boolean inputs. The expected values are closed forms or SciPy's;
the dtypes are the ones JAX gives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sc

import funcgrad as fg
import funcgrad.numpy as fnp

SOFTMAXES = ["softmax", "log_softmax"]


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_over_an_empty_axis_is_empty(name):
    """JAX's max starts at -inf, so an empty axis has one: the result is empty, not an error,
    eagerly, compiled, differentiated and batched."""
    f = getattr(fg.nn, name)
    for shape, axis in [((0,), -1), ((2, 0), -1), ((0, 3), 0), ((2, 0), (0, 1))]:
        x = np.zeros(shape, np.float32)
        out = f(x, axis=axis)
        assert out.shape == shape and out.dtype == np.float32
        assert fg.jit(lambda v, axis=axis: f(v, axis=axis))(x).shape == shape
        grad = fg.grad(lambda v, axis=axis: fnp.sum(f(v, axis=axis)))(x)
        assert grad.shape == shape and grad.dtype == np.float32
    batched = fg.vmap(lambda v: f(v, axis=-1))(np.zeros((3, 2, 0)))
    assert batched.shape == (3, 2, 0)


def test_softmax_where_masks_elements_out():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 1e4, -1.0]])
    mask = np.array([True, False, True])
    expected = np.where(mask, sc.softmax(np.where(mask, x, -np.inf), axis=-1), 0.0)
    np.testing.assert_allclose(fg.nn.softmax(x, where=mask), expected)
    log_expected = np.where(mask, sc.log_softmax(np.where(mask, x, -np.inf), axis=-1), -np.inf)
    np.testing.assert_allclose(fg.nn.log_softmax(x, where=mask), log_expected)
    # masked elements get no gradient; the kept ones that of the softmax of the kept ones
    weights = np.array([1.0, 5.0, -2.0])
    grad = fg.grad(lambda v: fnp.sum(fg.nn.log_softmax(v, where=mask)[0] * weights * mask))(x)
    p = sc.softmax(x[0, [0, 2]])
    kept = weights[[0, 2]] - p * weights[[0, 2]].sum()
    np.testing.assert_allclose(grad, [[kept[0], 0.0, kept[1]], [0.0, 0.0, 0.0]])
    compiled = fg.jit(lambda v, w: fg.nn.softmax(v, where=w))(x, mask)
    np.testing.assert_allclose(compiled, expected)


def test_standardize_where():
    x = np.array([[1.0, 2.0, 30.0], [4.0, 5.0, 6.0]])
    mask = np.array([True, False, True])
    kept = x[:, [0, 2]]
    mean = kept.mean(-1, keepdims=True)
    variance = (kept * kept).mean(-1, keepdims=True) - mean * mean
    np.testing.assert_allclose(fg.nn.standardize(x, where=mask),
                               (x - mean) / np.sqrt(variance + 1e-5))


def test_logmeanexp_of_an_empty_axis_is_nan():
    """The mean of nothing is 0 / 0 (JAX gives nan); it used to raise a math domain error."""
    assert np.isnan(fg.nn.logmeanexp(np.zeros(0)))
    out = fg.jit(lambda v: fg.nn.logmeanexp(v, axis=-1))(np.zeros((2, 0)))
    assert out.shape == (2,) and np.isnan(out).all()


# jax.nn's output dtypes for integer and boolean inputs (x64 on): narrow integers compute
# in float32, 64-bit ones in float64; elu and celu mix in a Python float: always float64
INTEGER_DTYPES = {
    "softmax": {"int8": "float32", "int32": "float32", "int64": "float64"},
    "log_softmax": {"int8": "float32", "int32": "float32", "int64": "float64"},
    "logsumexp": {"int8": "float32", "int32": "float32", "bool": "float32"},
    "softplus": {"int8": "float32", "int32": "float32", "int64": "float64"},
    "log_sigmoid": {"int8": "float32", "int32": "float32"},
    "mish": {"int8": "float32", "int32": "float32"},
    "tanh": {"int8": "float32", "int32": "float32", "bool": "float32"},
    "gelu": {"int8": "float32", "bool": "float32"},
    "soft_sign": {"int8": "float32", "int32": "float32"},
    "squareplus": {"int32": "float32", "bool": "float32"},
    "log1mexp": {"int8": "float32", "int32": "float32", "int64": "float64"},
    "standardize": {"int8": "float32", "bool": "float32"},
    "logmeanexp": {"int8": "float32", "int32": "float32"},
    "elu": {"int8": "float64", "int32": "float64", "bool": "float64"},
    "celu": {"int8": "float64", "int32": "float64"},
    "selu": {"int8": "float64", "bool": "float64"},
}


@pytest.mark.parametrize("name", sorted(INTEGER_DTYPES))
def test_integer_inputs_compute_in_jax_float_dtype(name):
    """int8 and bool inputs used to fail (NumPy computes them in float16, which funcgrad does
    not have); int32 ones computed in float64 where JAX gives float32."""
    f = getattr(fg.nn, name)
    for dtype, expected in INTEGER_DTYPES[name].items():
        x = np.array([1, 0, 1, 1], dtype=dtype)
        out = f(x)
        assert out.dtype == np.dtype(expected), (dtype, out.dtype)
        reference = f(x.astype(np.float64))
        np.testing.assert_allclose(out, reference, rtol=1e-6)


def test_logsumexp_where():
    """jax.nn.logsumexp's where=: left-out elements count as -inf (and get no gradient),
    even an inf or a huge one."""
    x = np.array([[1.0, np.inf, 3.0], [1e4, 5.0, 1e4]])
    mask = np.array([True, False, True])
    kept = x[:, [0, 2]]
    np.testing.assert_allclose(fg.nn.logsumexp(x, axis=-1, where=mask),
                               sc.logsumexp(kept, axis=-1))
    grad = fg.grad(lambda v: fnp.sum(fg.nn.logsumexp(v, axis=-1, where=mask)))(x)
    expected = np.zeros_like(x)
    expected[:, [0, 2]] = sc.softmax(kept, axis=-1)
    np.testing.assert_allclose(grad, expected)
    assert fg.nn.logsumexp(np.ones(2), where=np.zeros(2, bool)) == -np.inf


def test_logsumexp_weights_and_sign_as_jax_nn():
    """jax.nn.logsumexp's b= and return_sign= (funcgrad.scipy.special.logsumexp is the same
    function): values against SciPy, eagerly and compiled; gradients in a and b against
    finite differences, with a negative sum and with where=; a weight of 0 drops its term
    even where its a dominates (it used to push the others below underflow: -inf)."""
    from funcgrad.scipy import special
    from funcgrad.testing import check_grads
    assert special.logsumexp is fg.nn.logsumexp
    a = np.array([[0.0, 3.0, -2.0, 1.0], [1.0, 2.0, 700.0, 0.5]])
    b = np.array([[1.0, -0.5, 2.0, 0.0], [2.0, 1.0, 0.0, -3.0]])

    def both(a, b):
        return fg.nn.logsumexp(a, axis=1, b=b, return_sign=True, keepdims=True)
    for tier in (both, fg.jit(both, compile="sync")):
        for ours, reference in zip(tier(a, b), sc.logsumexp(a, axis=1, b=b, return_sign=True,
                                                            keepdims=True)):
            np.testing.assert_allclose(ours, reference, rtol=1e-14)
    with np.errstate(invalid="ignore"):
        assert np.isnan(fg.nn.logsumexp(a[0], b=-np.abs(b[0])))  # a negative sum, no sign
    assert fg.nn.logsumexp(np.array([1e3, 0.0]), b=np.array([0.0, 1.0])) == 0.0
    assert fg.nn.logsumexp(np.array([1.0, 2.0], np.float32), b=2.0).dtype == np.float32
    x = np.array([[0.3, -1.0, 0.5, 2.0], [1.0, 0.2, -0.7, 0.1]])
    w = np.array([[1.0, 0.4, -2.0, 0.7], [0.5, 2.0, 1.5, 0.0]])
    check_grads(lambda x, w: fg.nn.logsumexp(x, axis=1, b=w, return_sign=True)[0], [x, w],
                modes=("fwd", "rev"))
    mask = np.array([[True, False, True, True], [True, True, False, True]])
    check_grads(lambda x, w: fg.nn.logsumexp(x, axis=1, b=w * w + 0.1, where=mask), [x, w],
                modes=("fwd", "rev"))
    # a sum of exactly 0 has log -inf and slopes +-inf (as JAX's), not abs'(0) = 0's nan
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = fg.grad(lambda x: fg.nn.logsumexp(x, b=np.array([1.0, -1.0])))(np.zeros(2))
    np.testing.assert_array_equal(slope, [np.inf, -np.inf])
