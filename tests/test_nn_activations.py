"""funcgrad.nn's activations, normalization and attention against NumPy formulas (JAX's
jax.nn semantics), derivatives against finite differences, compiled against uncompiled."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sc

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

X = np.array([-800.0, -30.0, -2.0, -1e-3, 0.0, 1e-3, 1.0, 5.9, 6.0, 7.0, 30.0, 800.0])
ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


REFERENCE = {
    "elu": _elu,
    "celu": lambda x: np.where(x > 0, x, 2.0 * np.expm1(np.minimum(x, 0) / 2.0)),
    "selu": lambda x: SCALE * _elu(x, ALPHA),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "soft_sign": lambda x: x / (np.abs(x) + 1),
    "mish": lambda x: x * np.tanh(np.logaddexp(0, x)),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "silu": lambda x: x * sc.expit(x),
    "identity": lambda x: x,
    "tanh": np.tanh,
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    # (x + sqrt(x^2 + 4)) / 2 by hypot, and for x < 0 as 2 / (sqrt(x^2 + 4) - x)
    "squareplus": lambda x: np.where(x >= 0, (x + np.hypot(x, 2.0)) / 2,
                                     2.0 / (np.hypot(x, 2.0) - x)),
}
CALLS = {"celu": lambda x: fg.nn.celu(x, alpha=2.0)}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_values(name):
    f = CALLS.get(name, getattr(fg.nn, name))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(f(X), REFERENCE[name](X), rtol=1e-14, atol=1e-300)
    assert f(X.astype(np.float32)).dtype == np.float32
    assert np.isfinite(fg.grad(lambda x: fnp.sum(f(x)))(X)).all()  # no overflow leaks in


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_gradients(name):
    smooth = np.array([-30.0, -2.0, -0.3, 0.4, 0.7, 5.5, 6.5, 30.0])  # away from the kinks
    check_grads(CALLS.get(name, getattr(fg.nn, name)), [smooth])


def test_gradients_at_the_kinks_follow_jax():
    at = np.array([0.0, 6.0, -1.0, 1.0])
    assert list(fg.grad(lambda x: fnp.sum(fg.nn.relu6(x)))(at)) == [0.0, 0.0, 0.0, 1.0]
    assert list(fg.grad(lambda x: fnp.sum(fg.nn.leaky_relu(x)))(at)) == [1.0, 1.0, 0.01, 1.0]
    assert list(fg.grad(lambda x: fnp.sum(fg.nn.elu(x)))(at[:1])) == [1.0]


def test_gradient_at_nan_follows_jax():
    """JAX's relu and relu6 have slope 1 only strictly inside their sloped piece, so a nan
    input gets gradient 0 (and hard_sigmoid, relu6(x + 3) / 6, with it), while its value
    stays nan; leaky_relu and hard_tanh take their x branch at nan, as JAX's where does."""
    at = np.array([np.nan, 0.0, 1.0])
    expected = {"relu": [0.0, 0.0, 1.0], "relu6": [0.0, 0.0, 1.0],
                "hard_sigmoid": [0.0, 1 / 6, 1 / 6], "leaky_relu": [0.01, 1.0, 1.0],
                "hard_tanh": [1.0, 1.0, 1.0]}
    names = sorted(expected)

    def grads(x):
        return [fg.grad(lambda x, n=n: fnp.sum(getattr(fg.nn, n)(x)))(x) for n in names]

    for tier in (grads, fg.jit(grads, compile="sync")):
        for name, got in zip(names, tier(at)):
            np.testing.assert_array_equal(got, expected[name], err_msg=name)
    values = fg.jit(lambda x: [fg.nn.relu(x), fg.nn.relu6(x)], compile="sync")(at)
    assert all(np.isnan(v[0]) and v[2] == 1.0 for v in values)
    # JAX's relu6 clips at the float 6.0, so integers come out as float64
    assert fg.nn.relu6(np.array([-1, 7], np.int32)).dtype == np.float64


def test_sparse_activations_and_squareplus_follow_jax():
    """sparse_plus's derivative is sparse_sigmoid (0 and 1 at the kinks -1 and 1, where the
    pieces meet smoothly); sparse_sigmoid's derivative at its kinks is 1/4, as JAX's clip
    gives; squareplus has no cancellation for x << 0 nor overflow for huge |x|, and its
    derivatives in x and b."""
    at = np.array([-1.0, 1.0, -3.0, 0.0, 3.0])
    plus = fg.grad(lambda x: fnp.sum(fg.nn.sparse_plus(x)))(at)
    np.testing.assert_array_equal(plus, fg.nn.sparse_sigmoid(at))
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fg.nn.sparse_sigmoid(x)))(at),
                                  [0.25, 0.25, 0.0, 0.5, 0.0])
    check_grads(fg.nn.sparse_plus, [np.array([-0.999, -0.5, 0.2, 0.999])], modes=("fwd", "rev"))
    x = np.array([-1e200, -1e10, -1.0, 0.0, 2.0, 1e200])
    expected = [1e-200, 1e-10, (math.sqrt(5) - 1) / 2, 1.0, 1 + math.sqrt(2), 1e200]
    np.testing.assert_allclose(fg.nn.squareplus(x), expected, rtol=1e-15)
    np.testing.assert_allclose(fg.nn.squareplus(x, 0.0), np.maximum(x, 0), rtol=1e-15)
    assert fg.nn.squareplus(x[1:-1].astype(np.float32), 1.0).dtype == np.float32
    check_grads(fg.nn.squareplus, [np.array([-30.0, -0.5, 0.0, 0.7, 5.0]), 2.5],
                modes=("fwd", "rev"))
    for value in (0.0, 1.0, 2.0):   # the derivative in b: 1 / (4 sqrt(x^2 + b))
        db = fg.grad(fg.nn.squareplus, argnums=1)(-3.0, value)
        assert db == pytest.approx(1 / (4 * math.sqrt(9 + value)), rel=1e-14)


def test_log1mexp_is_accurate_at_both_ends():
    """log(1 - exp(-x)) against mpmath from x = 1e-300 to 1e3; -inf at 0 and nan below;
    the derivative 1 / expm1(x), inf at 0 and 0 far out (no nan from the branch not taken)."""
    import mpmath
    x = np.concatenate([np.geomspace(1e-300, 1e3, 60), [math.log(2.0)]])
    expected = [float(mpmath.log(-mpmath.expm1(-mpmath.mpf(v)))) for v in x]
    np.testing.assert_allclose(fg.nn.log1mexp(x), expected, rtol=2e-15, atol=1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = fg.nn.log1mexp(np.array([0.0, -1.0, np.inf, np.nan]))
    assert edge[0] == -np.inf and np.isnan(edge[1]) and edge[2] == 0 and np.isnan(edge[3])
    slope = fg.grad(lambda x: fnp.sum(fg.nn.log1mexp(x)))
    inner = np.array([1e-8, 0.3, math.log(2.0), 0.9, 5.0, 40.0])
    np.testing.assert_allclose(slope(inner), 1 / np.expm1(inner), rtol=1e-14)
    with np.errstate(divide="ignore", invalid="ignore"):
        ends = slope(np.array([0.0, 800.0]))
    assert ends[0] == np.inf and ends[1] == 0.0
    check_grads(fg.nn.log1mexp, [np.array([0.05, 0.5, 2.0, 10.0])], modes=("fwd", "rev"))
    assert fg.nn.log1mexp(np.array([1.0], np.float32)).dtype == np.float32


def test_nan_stays_nan():
    # as np.maximum and JAX's relu: a nan is not turned into 0 (nor 6)
    fs = (fg.nn.relu, fg.nn.relu6, fg.nn.hard_sigmoid, fg.nn.hard_silu, fg.nn.sparse_plus,
          fg.nn.sparse_sigmoid, fg.nn.squareplus)
    x = np.array([np.nan, 1.0])
    for out in [f(x) for f in fs] + list(fg.jit(lambda x: [f(x) for f in fs])(x)):
        assert np.isnan(out[0]) and np.isfinite(out[1])
    np.testing.assert_array_equal(fg.nn.relu(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])


def test_gelu_exact_form():
    np.testing.assert_allclose(fg.nn.gelu(X, approximate=False),
                               X * sc.ndtr(X), rtol=1e-12, atol=1e-300)
    check_grads(lambda x: fg.nn.gelu(x, approximate=False), [X[1:-1]])


def test_glu():
    x = np.arange(12.0).reshape(3, 4) / 4 - 1
    np.testing.assert_allclose(fg.nn.glu(x), x[:, :2] * sc.expit(x[:, 2:]), rtol=1e-15)
    np.testing.assert_allclose(fg.nn.glu(x.T, axis=0), x.T[:2] * sc.expit(x.T[2:]),
                               rtol=1e-15)
    check_grads(fg.nn.glu, [x])
    with pytest.raises(fg.ShapeError, match="length is 3, which is odd"):
        fg.nn.glu(x, axis=0)


def test_standardize():
    x = np.random.default_rng(0).normal(size=(3, 4))
    for axis in (-1, 0, (0, 1)):
        mean = x.mean(axis=axis, keepdims=True)
        expected = (x - mean) / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)
        np.testing.assert_allclose(fg.nn.standardize(x, axis=axis), expected, rtol=1e-12)
    np.testing.assert_allclose(fg.nn.standardize(x, mean=1.0, variance=4.0, epsilon=0.0),
                               (x - 1) / 2, rtol=1e-15)
    check_grads(lambda x: fg.nn.standardize(x, axis=0), [x])


def test_logmeanexp():
    x = np.array([[0.0, 1e4, -3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(fg.nn.logmeanexp(x, axis=1),
                               sc.logsumexp(x, axis=1) - np.log(3), rtol=1e-15)
    assert fg.nn.logmeanexp(x) == pytest.approx(sc.logsumexp(x) - np.log(6), rel=1e-15)
    where = np.array([[True, False, True], [True, True, False]])
    expected = [sc.logsumexp(x[i][where[i]]) - np.log(2) for i in range(2)]
    np.testing.assert_allclose(fg.nn.logmeanexp(x, axis=1, where=where), expected, rtol=1e-15)
    assert fg.nn.logmeanexp(x, axis=0, keepdims=True).shape == (1, 3)
    check_grads(lambda x: fg.nn.logmeanexp(x, axis=0), [x / 1e3])


def _attention_reference(q, k, v, bias=None, mask=None, scale=None, is_causal=False):
    """Per-head softmax(q k^T * scale + bias) v with a loop, for (B, T, N, H) arrays."""
    n, kv = q.shape[2], k.shape[2]
    k, v = np.repeat(k, n // kv, axis=2), np.repeat(v, n // kv, axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    out = np.zeros(q.shape)
    for b in range(q.shape[0]):
        for h in range(n):
            logits = q[b, :, h] @ k[b, :, h].T * scale
            if bias is not None:
                logits = logits + bias[b, h]
            allowed = np.ones(logits.shape, bool) if mask is None else mask[b, h].copy()
            if is_causal:
                allowed &= np.tril(np.ones(logits.shape, bool))
            logits = np.where(allowed, logits, -np.inf)
            out[b, :, h] = sc.softmax(logits, axis=-1) @ v[b, :, h]
    return out


@pytest.mark.parametrize("options", ["plain", "mask", "bias_scale", "causal", "grouped"])
def test_dot_product_attention(options):
    rng = np.random.default_rng(1)
    kv_heads = 2 if options == "grouped" else 4
    q = rng.normal(size=(2, 5, 4, 3))
    k, v = rng.normal(size=(2, 7, kv_heads, 3)), rng.normal(size=(2, 7, kv_heads, 3))
    kwargs = {"plain": {}, "grouped": {}, "causal": {"is_causal": True},
              "mask": {"mask": rng.uniform(size=(2, 4, 5, 7)) > 0.3},
              "bias_scale": {"bias": rng.normal(size=(2, 4, 5, 7)), "scale": 0.3}}[options]
    expected = _attention_reference(q, k, v, **kwargs)
    np.testing.assert_allclose(fg.nn.dot_product_attention(q, k, v, **kwargs), expected,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fg.nn.dot_product_attention(q[0], k[0], v[0], **{
        key: (value[0] if isinstance(value, np.ndarray) else value)
        for key, value in kwargs.items()}), expected[0], rtol=1e-12, atol=1e-15)
    check_grads(lambda q, k, v: fg.nn.dot_product_attention(q, k, v, **kwargs), [q, k, v])


def test_dot_product_attention_shape_errors():
    q = np.ones((2, 5, 3, 4))
    with pytest.raises(fg.ShapeError, match="3 query heads cannot share 2"):
        fg.nn.dot_product_attention(q, np.ones((2, 5, 2, 4)), np.ones((2, 5, 2, 4)))
    with pytest.raises(fg.ShapeError, match="rank 3 or 4"):
        fg.nn.dot_product_attention(q[0, 0], q[0, 0], q[0, 0])


def _all_of_them(x, q):
    total = 0.0
    for name in sorted(REFERENCE):
        total = total + fnp.sum(getattr(fg.nn, name)(x))
    return (total + fnp.sum(fg.nn.gelu(x, approximate=False)) + fnp.sum(fg.nn.standardize(q))
            + fnp.sum(fg.nn.glu(q)) + fg.nn.logmeanexp(x))


def test_compiled_matches_uncompiled():
    x, q = X[1:-1], np.random.default_rng(2).normal(size=(3, 4))
    value_and_grad = fg.value_and_grad(_all_of_them, argnums=(0, 1))
    value, grads = fg.jit(value_and_grad)(x, q)
    expected_value, expected_grads = value_and_grad(x, q)
    assert value == pytest.approx(expected_value, rel=1e-12)
    for ours, expected in zip(grads, expected_grads):
        np.testing.assert_allclose(ours, expected, rtol=1e-11, atol=1e-14)


def test_dot_product_attention_compiled():
    # (compiling batched contractions is slow at NUMBA_OPT=0: one small program, values only)
    rng = np.random.default_rng(3)
    q, k, v = (rng.normal(size=(3, 2, 2)) for _ in range(3))
    mask = np.array([[True, False, True]] * 3)

    def attend(q, k, v):
        return fg.nn.dot_product_attention(q, k, v, mask=mask, is_causal=True)

    np.testing.assert_allclose(fg.jit(attend)(q, k, v), attend(q, k, v), rtol=1e-13)
