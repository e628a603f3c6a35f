"""funcgrad.nn for training: dropout, the losses against their textbook formulas (and stable
where those overflow), and the initializers' variances."""

import numpy as np
import pytest
from scipy import special, stats

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

KEY = fg.random.key(3)


def test_dropout_keeps_the_expectation_and_compiles_the_same():
    x = np.ones(20000)
    y = fg.nn.dropout(KEY, 0.25, x)
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(fg.jit(fg.nn.dropout, static_argnums=1)(KEY, 0.25, x), y)
    np.testing.assert_array_equal(fg.nn.dropout(KEY, 0.0, x), x)
    g = fg.grad(lambda x: fnp.sum(fg.nn.dropout(KEY, 0.5, x)))(np.ones(6))
    np.testing.assert_array_equal(g, fg.nn.dropout(KEY, 0.5, np.ones(6)))
    with pytest.raises(ValueError, match="dropout rate"):
        fg.nn.dropout(KEY, 1.0, x)


def test_softmax_cross_entropy_integer_and_one_hot():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    expected = -np.log(special.softmax(logits, -1)[np.arange(5), labels])
    np.testing.assert_allclose(fg.nn.softmax_cross_entropy(logits, labels), expected)
    np.testing.assert_allclose(fg.nn.softmax_cross_entropy(logits, np.eye(4)[labels]), expected)
    big = np.array([[1e4, 0.0], [0.0, 1e4]])
    np.testing.assert_allclose(fg.nn.softmax_cross_entropy(big, np.array([0, 0])), [0, 1e4])
    check_grads(lambda z: fnp.sum(fg.nn.softmax_cross_entropy(z, labels)), (logits,))
    # a masked class (logit -inf) with label 0 adds 0 to the loss and its gradient, not nan
    masked = np.array([[0.0, -np.inf, np.log(3.0)]])
    soft = np.array([[0.5, 0.0, 0.5]])
    expected = -0.5 * (np.log(0.25) + np.log(0.75))
    np.testing.assert_allclose(fg.nn.softmax_cross_entropy(masked, soft), [expected])
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fg.nn.softmax_cross_entropy(z, soft)))(
        masked), [[0.25 - 0.5, 0.0, 0.75 - 0.5]])
    with pytest.raises(fg.ShapeError, match="integer labels of shape"):
        fg.nn.softmax_cross_entropy(logits, labels[:3])


def test_sigmoid_binary_cross_entropy_huber_mse():
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    y = np.array([0.0, 1.0, 0.3, 1.0])
    p = special.expit(x)
    np.testing.assert_allclose(fg.nn.sigmoid_binary_cross_entropy(x, y),
                               -(y * np.log(p) + (1 - y) * np.log(1 - p)))
    np.testing.assert_allclose(fg.nn.sigmoid_binary_cross_entropy(np.array([1e4, -1e4]),
                                                                  np.array([0.0, 1.0])), [1e4, 1e4])
    err = np.array([-3.0, -0.4, 0.2, 1.5])
    np.testing.assert_allclose(fg.nn.huber(err, np.zeros(4), delta=1.0),
                               np.where(np.abs(err) <= 1, 0.5 * err ** 2, np.abs(err) - 0.5))
    assert fg.nn.mse(err, np.zeros(4)) == pytest.approx(np.mean(err ** 2))
    check_grads(lambda z: fnp.sum(fg.nn.sigmoid_binary_cross_entropy(z, y)), (x,))
    check_grads(lambda z: fnp.sum(fg.nn.huber(z, np.zeros(4))), (err,), order=1)


@pytest.mark.parametrize("name, variance", [
    ("glorot_uniform", 2 / (300 + 200)), ("glorot_normal", 2 / (300 + 200)),
    ("he_normal", 2 / 300), ("he_uniform", 2 / 300), ("lecun_normal", 1 / 300),
    ("lecun_uniform", 1 / 300)])
def test_initializer_variances(name, variance):
    w = getattr(fg.nn.initializers, name)()(KEY, (300, 200))
    assert w.shape == (300, 200) and w.dtype == np.float64
    assert abs(w.var() / variance - 1) < 0.05
    if name.endswith("normal"):  # truncated at two standard deviations
        assert np.abs(w).max() <= 2 * np.sqrt(variance) / 0.87962566103423978 + 1e-12


def test_orthogonal_zeros_ones():
    q = fg.nn.initializers.orthogonal(2.0)(KEY, (3, 5))
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-12)
    assert fg.nn.initializers.zeros(KEY, (2, 3)).sum() == 0
    assert fg.nn.initializers.ones(KEY, (2,), np.float32).dtype == np.float32


def test_orthogonal_takes_a_traced_key_and_is_haar():
    """Under jit and vmap (funcgrad's QR traces) the same matrices as eager; the first column
    of a Haar-random 3x3 orthogonal matrix is uniform on the sphere, so its first entry is
    uniform on [-1, 1] (without R's sign correction it would not be)."""
    init = fg.nn.initializers.orthogonal()
    keys = fg.random.split(KEY, 3000)
    batched = fg.jit(fg.vmap(lambda k: init(k, (3, 3))))(keys)
    for i in (0, 7):
        np.testing.assert_allclose(batched[i], init(keys[i], (3, 3)), atol=1e-12)
    np.testing.assert_allclose(np.einsum("bji,bjk->bik", batched, batched),
                               np.broadcast_to(np.eye(3), (3000, 3, 3)), atol=1e-12)
    assert stats.kstest(batched[:, 0, 0], stats.uniform(-1, 2).cdf).pvalue > 1e-3
    wide = fg.jit(lambda k: init(k, (2, 3, 4)))(KEY)
    np.testing.assert_allclose(wide, init(KEY, (2, 3, 4)), atol=1e-12)


def test_jax_initializer_names():
    init = fg.nn.initializers
    assert init.xavier_normal is init.glorot_normal and init.kaiming_uniform is init.he_uniform
    w = np.asarray(init.truncated_normal(0.5)(KEY, (20000,)))
    assert np.abs(w).max() < 1.0   # two standard deviations of the untruncated normal
    assert abs(w.std() / (0.5 * 0.87962566103423978) - 1) < 0.03
    np.testing.assert_allclose(fg.jit(lambda k: init.truncated_normal(0.5)(k, (4,)))(KEY),
                               init.truncated_normal(0.5)(KEY, (4,)), rtol=1e-12)


def test_fans_with_batch_and_several_axes_as_jax():
    """batch_axis leaves stacked weights out of the fans, in_axis and out_axis may be
    sequences, and mode may be "fan_geo_avg", as jax.nn.initializers; the samples' variance
    is the closed form scale / fan, and uniform ones are JAX's numbers (its random bits and
    its fans: the expected values are jax 0.10's)."""
    init = fg.nn.initializers
    w = init.he_normal(batch_axis=0)(KEY, (30, 300, 200))
    assert abs(w.var() / (2 / 300) - 1) < 0.03   # without batch_axis: 2 / (300 * 30)
    w = init.variance_scaling(3.0, "fan_geo_avg", "normal", in_axis=(0, 1), out_axis=3,
                              batch_axis=2)(KEY, (20, 10, 8, 100))
    assert abs(w.var() / (3.0 / np.sqrt(200 * 100)) - 1) < 0.03
    key = fg.random.key(0)
    np.testing.assert_allclose(init.glorot_uniform(batch_axis=0)(key, (2, 3, 4))[0, 0],
                               [-0.15098808993295423, -0.5253187410461037,
                                0.8616079231189994, 0.13794818313741336], rtol=1e-14)
    geo = init.variance_scaling(1.0, "fan_geo_avg", "uniform", in_axis=(0, 1), out_axis=3,
                                batch_axis=(2,))(key, (2, 3, 4, 5))
    np.testing.assert_allclose(geo[0, 0, 0], [-0.12069697889467566, -0.419929711205524,
                                              0.6887528238707911, 0.11027312787444746,
                                              0.047700539606798716], rtol=1e-14)
    assert init.lecun_normal(dtype=np.float32)(KEY, (3, 2)).dtype == np.float32
    assert init.he_uniform(in_axis=0, out_axis=0)(KEY, (4,)).shape == (4,)


def test_fan_errors_name_the_shape_and_the_line():
    init = fg.nn.initializers
    with pytest.raises(fg.ShapeError, match=r"two axes or more .* shape \(4,\)") as info:
        init.he_uniform()(KEY, (4,))   # JAX's error too: its default in_axis is -2
    assert "test_nn_training.py" in str(info.value)
    with pytest.raises(fg.ShapeError, match=r"batch_axis 5 is out of range .* \(4, 3\)"):
        init.glorot_normal(batch_axis=5)(KEY, (4, 3))
    with pytest.raises(fg.FuncgradTypeError, match="'fan_geo_avg'"):
        init.variance_scaling(1.0, "fan_sum", "normal")
