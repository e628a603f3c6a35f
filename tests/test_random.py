"""funcgrad.random: the cipher against its published test vectors, the same numbers eager,
compiled and batched, the distributions against scipy.stats with a fixed key (so the tests
are deterministic: moments, Kolmogorov-Smirnov, chi-square, exact quantiles), the gamma
family's gradients against E[dx/da] and the inverse CDF's derivative, JAX's conventions, and
independent keys from split and fold_in."""

import numpy as np
import pytest
from scipy import stats

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.ops.random import threefry2x32

R = fg.random
KEY = R.key(1234)


# Known-answer vectors of Threefry-2x32-20 from Random123 (kat_vectors).
@pytest.mark.parametrize("key, counter, expected", [
    ((0, 0), (0, 0), (0x6b200159, 0x99ba4efe)),
    ((0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff), (0x1cb996fc, 0xbb002be7)),
    ((0x13198a2e, 0x03707344), (0x243f6a88, 0x85a308d3), (0xc4923a9c, 0x483df7a0)),
])
def test_threefry_known_answers_eager_and_compiled(key, counter, expected):
    words = [np.array([w], np.uint32) for w in (*key, *counter)]
    assert [int(y[0]) for y in threefry2x32(*words)] == list(expected)
    compiled = fg.jit(lambda *w: threefry2x32(*w))(*words)
    assert [int(y[0]) for y in compiled] == list(expected)


def test_keys_are_uint32_pairs():
    assert R.key(0).dtype == np.uint32 and R.key(0).shape == (2,)
    np.testing.assert_array_equal(R.key(2 ** 32 + 5), [1, 5])
    np.testing.assert_array_equal(R.PRNGKey(7), R.key(7))
    np.testing.assert_array_equal(fg.jit(R.key)(7), R.key(7))
    assert R.split(KEY, 4).shape == (4, 2) and R.split(KEY, (2, 3)).shape == (2, 3, 2)


def test_bad_keys_and_seeds_are_named():
    with pytest.raises(fg.FuncgradTypeError, match="a key is a uint32 array of shape"):
        R.normal(np.zeros(2), (3,))
    with pytest.raises(fg.FuncgradTypeError, match="a key is a uint32 array of shape"):
        R.normal(R.split(KEY, 3), (3,))
    with pytest.raises(fg.FuncgradTypeError, match="a seed is an integer"):
        R.key(1.5)
    with pytest.raises(fg.FuncgradValueError, match="a seed is a 64-bit integer"):
        R.key(2 ** 64)  # would be key(0)
    np.testing.assert_array_equal(R.key(-1), [2 ** 32 - 1, 2 ** 32 - 1])
    with pytest.raises(fg.FuncgradTypeError, match="random floats are float32 or float64"):
        R.uniform(KEY, (2,), np.int32)
    with pytest.raises(fg.ShapeError, match="without replacement"):
        R.choice(KEY, 3, (4,), replace=False)
    with pytest.raises(fg.ShapeError, match=r"no negative dimensions, not \(2, -1\)"):
        R.normal(KEY, (2, -1))
    with pytest.raises(fg.ShapeError, match="no negative dimensions"):
        R.randint(KEY, -3, 0, 5)
    with pytest.raises(fg.FuncgradValueError, match="method is 'cholesky', 'eigh' or 'svd'"):
        R.multivariate_normal(KEY, np.zeros(2), np.eye(2), method="qr")


def test_shapes_and_probabilities_that_do_not_fit_are_refused():
    """Each was silently wrong: a float dimension truncated (2.5 -> 2), a string read digit
    by digit ("12" -> (1, 2)), p of the wrong length used as it was, and categorical's
    shape ignored when it disagreed with the logits' batch shape."""
    with pytest.raises(fg.FuncgradTypeError, match=r"integer dimensions, not \(2\.5,\)"):
        R.normal(KEY, (2.5,))
    with pytest.raises(fg.FuncgradTypeError, match="integer dimensions, not '12'"):
        R.uniform(KEY, "12")
    with pytest.raises(fg.ShapeError, match=r"p of shape \(4,\) .* 3 elements"):
        R.choice(KEY, 3, (2,), p=np.ones(4) / 4)
    with pytest.raises(fg.ShapeError, match=r"p of shape \(2,\) .* 3 elements"):
        R.choice(KEY, np.arange(3.0), (2,), replace=False, p=np.ones(2) / 2)
    with pytest.raises(fg.ShapeError, match=r"shape \(2,\) .* batch shape \(3,\)"):
        R.categorical(KEY, np.ones((3, 4)), shape=(2,))
    # shape broadcasts the logits' batch shape, as in JAX
    assert R.categorical(KEY, np.ones((1, 4)), shape=(3,)).shape == (3,)
    assert R.categorical(KEY, np.ones((3, 4)), shape=(5, 3)).shape == (5, 3)
    assert R.normal(KEY, np.int64(3)).shape == (3,)


def _draws(key):
    """The generator's building blocks (every other distribution composes these): the
    compiled program stays small enough to compile in seconds."""
    ks = R.split(key, 8)
    return {
        "split": R.split(ks[0], 3), "fold_in": R.fold_in(ks[1], 5),
        "bits32": R.bits(ks[2], (4,)), "bits64": R.bits(ks[3], (4,), np.uint64),
        "uniform": R.uniform(ks[4], (5,), minval=-2.0, maxval=3.0),
        "uniform32": R.uniform(ks[4], (5,), np.float32),
        "normal": R.normal(ks[5], (2, 3)), "randint": R.randint(ks[6], (6,), -3, 9),
        "permutation": R.permutation(ks[7], 7),
    }


def test_the_same_key_gives_the_same_numbers_eager_and_compiled():
    eager = _draws(KEY)
    compiled = fg.jit(_draws)(KEY)
    assert eager.keys() == compiled.keys()
    for name in eager:
        e, c = np.asarray(eager[name]), np.asarray(compiled[name])
        assert e.dtype == c.dtype and e.shape == c.shape, name
        if e.dtype.kind in "uib" or name.startswith("uniform"):  # bits: bit for bit
            np.testing.assert_array_equal(c, e, err_msg=name)
        else:  # libm and NumPy's vectorised log/cos may differ in the last bit
            np.testing.assert_allclose(c, e, rtol=1e-13, atol=1e-14, err_msg=name)


def test_same_numbers_under_vmap():
    if not hasattr(fg, "vmap"):
        pytest.skip("funcgrad.vmap does not exist yet")
    keys = R.split(KEY, 3)

    def draw(k):
        return (R.uniform(k, (4,)), R.bits(k, (2,)), R.permutation(k, 5), R.normal(k, (2,)),
                R.fold_in(k, 3), R.split(k, 2), R.gamma(k, 2.0, (2,)))
    batched = fg.vmap(draw)(keys)
    looped = [draw(k) for k in keys]
    for i in range(7):
        np.testing.assert_allclose(batched[i], np.stack([x[i] for x in looped]), rtol=1e-13)
    np.testing.assert_array_equal(fg.jit(fg.vmap(draw))(keys)[0], batched[0])


def test_keys_have_no_gradient_and_numbers_flow_through_grad():
    def loss(w, k):
        return fnp.sum((w * R.normal(k, (3,))) ** 2)
    g = fg.grad(loss)(np.ones(3), KEY)
    np.testing.assert_allclose(g, 2 * R.normal(KEY, (3,)) ** 2)


# --- distributions: moments and Kolmogorov-Smirnov against scipy.stats ----------------------

N = 20000


@pytest.mark.parametrize("name, draw, dist", [
    ("uniform", lambda k: R.uniform(k, (N,), minval=-1.0, maxval=2.0), stats.uniform(-1, 3)),
    ("normal", lambda k: R.normal(k, (N,)), stats.norm()),
    ("normal32", lambda k: R.normal(k, (N,), np.float32), stats.norm()),
    ("truncated", lambda k: R.truncated_normal(k, -0.5, 1.5, (N,)), stats.truncnorm(-0.5, 1.5)),
    # far tails, where the CDF rounds to 0 or 1: sampled from log Phi
    ("truncated_5_6", lambda k: R.truncated_normal(k, 5.0, 6.0, (N,)), stats.truncnorm(5, 6)),
    ("truncated_-10_-9", lambda k: R.truncated_normal(k, -10.0, -9.0, (N,)),
     stats.truncnorm(-10, -9)),
    ("truncated_-40_-39", lambda k: R.truncated_normal(k, -40.0, -39.0, (N,)),
     stats.truncnorm(-40, -39)),
    ("truncated_3_inf", lambda k: R.truncated_normal(k, 3.0, np.inf, (N,)),
     stats.truncnorm(3, np.inf)),
    ("gumbel", lambda k: R.gumbel(k, (N,)), stats.gumbel_r()),
    ("exponential", lambda k: R.exponential(k, (N,)), stats.expon()),
    ("laplace", lambda k: R.laplace(k, (N,)), stats.laplace()),
    ("logistic", lambda k: R.logistic(k, (N,)), stats.logistic()),
    ("cauchy", lambda k: R.cauchy(k, (N,)), stats.cauchy()),
    ("t", lambda k: R.t(k, 3.0, (N,)), stats.t(3.0)),
    ("gamma_small", lambda k: R.gamma(k, 0.4, (N,)), stats.gamma(0.4)),
    ("gamma", lambda k: R.gamma(k, 2.5, (N,)), stats.gamma(2.5)),
    ("beta", lambda k: R.beta(k, 2.0, 5.0, (N,)), stats.beta(2.0, 5.0)),
])
def test_kolmogorov_smirnov(name, draw, dist):
    x = np.asarray(draw(KEY), np.float64)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-3, name
    if np.isfinite(dist.var()) and name != "t":
        assert abs(x.mean() - dist.mean()) < 5 * np.sqrt(dist.var() / N), name
        assert abs(x.var() / dist.var() - 1) < 0.06, name


def test_truncated_normal_quantiles_match_scipy():
    """The inverse CDF is exact (to rounding) out to far tails: each number is scipy's
    truncnorm quantile of its own uniform, eager and compiled."""
    from funcgrad.random import _open_unit
    u = np.asarray(_open_unit(KEY, (200,), np.float64))
    draw = fg.jit(lambda k, lo, hi: R.truncated_normal(k, lo, hi, (200,)))
    for lo, hi in [(5.0, 6.0), (-10.0, -9.0), (-40.0, -39.0), (-1.0, 30.0), (2.0, 2.001)]:
        expected = stats.truncnorm(lo, hi).ppf(u)
        np.testing.assert_allclose(R.truncated_normal(KEY, lo, hi, (200,)), expected,
                                   rtol=1e-11, err_msg=str((lo, hi)))
        np.testing.assert_allclose(draw(KEY, lo, hi), expected, rtol=1e-11)


def test_discrete_distributions_match_their_probabilities():
    def chi2_ok(counts, probs):
        return stats.chisquare(counts, probs * counts.sum()).pvalue > 1e-3
    r = np.asarray(R.randint(KEY, (N,), 2, 7))
    assert r.min() == 2 and r.max() == 6 and chi2_ok(np.bincount(r - 2), np.full(5, 0.2))
    p = np.array([0.1, 0.6, 0.3])
    c = np.asarray(R.categorical(KEY, np.log(p), shape=(N,)))
    assert chi2_ok(np.bincount(c, minlength=3), p)
    c = np.asarray(R.choice(KEY, 3, (N,), p=p))
    assert chi2_ok(np.bincount(c, minlength=3), p)
    x = np.asarray(R.poisson(KEY, 3.5, (N,)))
    top = 12
    counts = np.bincount(np.minimum(x, top), minlength=top + 1)
    probs = np.append(stats.poisson(3.5).pmf(np.arange(top)), stats.poisson(3.5).sf(top - 1))
    assert chi2_ok(counts, probs)
    b = np.asarray(R.bernoulli(KEY, 0.25, (N,)))
    assert abs(b.mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / N)


@pytest.mark.parametrize("lam", [0.3, 3.5, 9.5, 10.0, 40.0, 1000.0])
def test_poisson_goodness_of_fit(lam):
    """Chi-square against scipy.stats.poisson, on both sides of the switch from Knuth's
    method to PTRS at 10; bins with expected counts under 5 pooled into the tails."""
    dist = stats.poisson(lam)
    x = np.asarray(R.poisson(KEY, lam, (N,)))
    lo, hi = int(dist.ppf(5 / N)), int(dist.isf(5 / N))
    counts = np.bincount(np.clip(x, lo, hi) - lo, minlength=hi - lo + 1)
    probs = dist.pmf(np.arange(lo, hi + 1))
    probs[0], probs[-1] = dist.cdf(lo), dist.sf(hi - 1)
    assert stats.chisquare(counts, probs * N).pvalue > 1e-3, lam


def test_poisson_traced_rates_eager_jit_and_vmap_agree():
    """No bound on the counts is needed: the rate may be traced; a batch of keys and rates
    gives what each key gives alone; bad rates give -1."""
    lam = np.array([0.0, 0.7, 6.0, 10.0, 55.5, 2e4, -1.0, np.nan])
    keys = R.split(KEY, 3)
    eager = np.stack([R.poisson(k, lam) for k in keys])
    compiled = fg.jit(fg.vmap(R.poisson, in_axes=(0, None)))(keys, lam)
    np.testing.assert_array_equal(compiled, eager)
    np.testing.assert_array_equal(fg.vmap(R.poisson)(keys, np.stack([lam] * 3)), eager)
    np.testing.assert_array_equal(eager[:, -2:], -1)
    assert eager[:, 0].tolist() == [0, 0, 0]
    big = fg.jit(lambda k, rate: R.poisson(k, rate, (2000,), np.int32))(KEY, 300.0)
    assert big.dtype == np.int32
    np.testing.assert_array_equal(big, R.poisson(KEY, 300.0, (2000,)))


def test_permutations_are_uniform_and_choice_without_replacement_is_distinct():
    perms = [tuple(R.permutation(k, 3).tolist()) for k in R.split(KEY, 600)]
    counts = np.array([perms.count(p) for p in set(perms)])
    assert len(counts) == 6 and stats.chisquare(counts).pvalue > 1e-3
    x = np.arange(12.0).reshape(3, 4)
    each = R.permutation(KEY, x, axis=1, independent=True)
    np.testing.assert_array_equal(np.sort(each, axis=1), x)
    assert len({tuple(np.argsort(row)) for row in each}) > 1  # rows shuffled differently
    for k in R.split(KEY, 5):
        c = R.choice(k, np.arange(10.0), (6,), replace=False)
        assert len(set(c.tolist())) == 6


def test_jax_signatures_and_semantics():
    """The names and conventions JAX code relies on: key_data, randint's dtype and array
    bounds, categorical along another axis with a batch shape, permutation along an axis."""
    keys = R.split(KEY, 3)
    np.testing.assert_array_equal(R.key_data(keys), keys)
    np.testing.assert_array_equal(R.wrap_key_data(R.key_data(KEY)), KEY)
    with pytest.raises(fg.FuncgradTypeError, match="key_data takes keys"):
        R.key_data(np.zeros(2))
    r = fg.jit(lambda k, lo, hi: R.randint(k, (N,), lo, hi, np.int32))(KEY, -3, 4)
    assert r.dtype == np.int32 and set(r.tolist()) == set(range(-3, 4))
    bounded = R.randint(KEY, (2, N), np.array([[0], [10]]), np.array([[2], [13]]))
    assert set(bounded[0].tolist()) == {0, 1} and set(bounded[1].tolist()) == {10, 11, 12}
    p = np.array([0.5, 0.2, 0.3])
    c = np.asarray(R.categorical(KEY, np.log(p)[:, None] * np.ones((3, 2)), axis=0,
                                 shape=(N, 2)))
    assert c.shape == (N, 2)
    for column in c.T:
        assert stats.chisquare(np.bincount(column, minlength=3), p * N).pvalue > 1e-3
    x = np.arange(12).reshape(3, 4)
    shuffled = R.permutation(KEY, x, axis=1)
    np.testing.assert_array_equal(np.sort(shuffled, axis=1), x)
    assert len({tuple(row - row.min()) for row in shuffled}) == 1   # the same column order


def test_choice_without_replacement_follows_p():
    """Without replacement and with p, the first pick has probability p, the second
    p_j / (1 - p_first) (the Gumbel top-k trick, as sequential sampling)."""
    p = np.array([0.5, 0.3, 0.15, 0.05])
    picks = np.asarray(fg.vmap(lambda k: R.choice(k, 4, (2,), replace=False, p=p))(
        R.split(KEY, N)))
    assert np.all(picks[:, 0] != picks[:, 1])
    pairs = np.zeros((4, 4))
    np.add.at(pairs, (picks[:, 0], picks[:, 1]), 1)
    expected = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(expected, 0)
    keep = ~np.eye(4, dtype=bool)
    assert stats.chisquare(pairs[keep], expected[keep] * N).pvalue > 1e-3


def test_dirichlet_and_multivariate_normal_moments():
    alpha = np.array([1.0, 2.0, 5.0])
    x = np.asarray(R.dirichlet(KEY, alpha, (N,)))
    np.testing.assert_allclose(x.sum(-1), 1.0)
    np.testing.assert_allclose(x.mean(0), alpha / alpha.sum(), atol=0.01)
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    mean = np.array([1.0, -1.0, 0.0])
    y = np.asarray(R.multivariate_normal(KEY, mean, cov, (N,)))
    np.testing.assert_allclose(y.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(y.T), cov, atol=0.06)


def test_beta_and_dirichlet_with_tiny_parameters_are_not_nan():
    # both gamma numbers underflow to 0 for small shapes: x / (x + y) gave nan
    x = np.asarray(R.beta(KEY, 1e-3, 1e-3, (N,)))
    assert np.all((x >= 0) & (x <= 1))
    assert abs(x.mean() - 0.5) < 0.03 and np.mean(x > 0.5) == pytest.approx(0.5, abs=0.03)
    y = np.asarray(R.dirichlet(KEY, np.full(3, 1e-3), (N,)))
    np.testing.assert_allclose(y.sum(-1), 1.0)
    np.testing.assert_allclose(y.mean(0), 1 / 3, atol=0.03)
    assert R.beta(KEY, 2.0, 3.0, (2,), np.float32).dtype == np.float32


def _within_monte_carlo_error(per_sample, expected, name):
    per_sample = np.asarray(per_sample)
    error = per_sample.std() / np.sqrt(per_sample.size)
    assert abs(per_sample.mean() - expected) < 4 * error, (name, per_sample.mean(), error)


@pytest.mark.parametrize("a", [0.1, 1.0, 5.0, 50.0])
def test_gamma_gradient_is_unbiased(a):
    """E[dx/da] = d E[x]/da = 1 for x ~ gamma(a), to within four standard errors (the old
    transform gradient was 1.023 at a = 1, about 20 standard errors off)."""
    per_sample = fg.vmap(fg.grad(lambda a, k: R.gamma(k, a)), in_axes=(None, 0))(
        a, R.split(KEY, 50000))
    _within_monte_carlo_error(per_sample, 1.0, a)
    grad_of_mean = fg.grad(lambda a: fnp.mean(R.gamma(KEY, a, (50000,))))(a)
    assert abs(grad_of_mean - 1.0) < 0.03 * max(1.0, 1 / np.sqrt(a)), a


@pytest.mark.parametrize("a", [0.1, 1.0, 5.0, 50.0])
def test_gamma_gradient_is_the_inverse_cdf_derivative(a):
    """Per sample, dx/da is the derivative of the inverse CDF at the sample's own quantile
    (central differences of scipy's gammaincinv), eager and compiled."""
    from scipy import special
    grad_one = fg.grad(lambda a, k: R.gamma(k, a))
    keys = R.split(KEY, 6)
    x = np.array([R.gamma(k, a) for k in keys])
    q = special.gammainc(a, x)
    keep = (q > 1e-4) & (q < 1 - 1e-6)   # where the differences are accurate
    h = 1e-5 * a
    expected = (special.gammaincinv(a + h, q) - special.gammaincinv(a - h, q)) / (2 * h)
    eager = np.array([grad_one(a, k) for k in keys])
    np.testing.assert_allclose(eager[keep], expected[keep], rtol=1e-7)
    compiled = fg.jit(fg.vmap(grad_one, in_axes=(None, 0)))(a, keys)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)


def test_beta_and_dirichlet_gradients_are_unbiased():
    """d/da E[Beta(a, b)] = b / (a + b)^2 and d/dalpha_0 E[Dirichlet(alpha)_0] =
    (sum alpha - alpha_0) / (sum alpha)^2, pathwise through the gamma numbers."""
    keys = R.split(KEY, 40000)
    a, b = 0.7, 2.0
    per_sample = fg.vmap(fg.grad(lambda a, k: R.beta(k, a, b)), in_axes=(None, 0))(a, keys)
    _within_monte_carlo_error(per_sample, b / (a + b) ** 2, "beta")
    alpha = np.array([0.5, 1.5, 3.0])
    per_sample = fg.vmap(fg.grad(lambda al, k: R.dirichlet(k, al)[0]), in_axes=(None, 0))(
        alpha, keys)
    total = alpha.sum()
    expected = np.append((total - alpha[0]) / total ** 2, -alpha[0] / total ** 2 * np.ones(2))
    for i in range(3):
        _within_monte_carlo_error(per_sample[:, i], expected[i], ("dirichlet", i))


def test_second_derivatives_of_gamma_numbers_raise():
    with pytest.raises(fg.FuncgradError, match="random_gamma_grad"):
        fg.grad(fg.grad(lambda a: R.gamma(KEY, a)))(2.0)


def test_split_and_fold_in_give_independent_streams():
    k1, k2 = R.split(KEY)
    a, b = R.normal(k1, (N,)), R.normal(k2, (N,))
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(N)
    c, d = R.normal(R.fold_in(KEY, 0), (N,)), R.normal(R.fold_in(KEY, 1), (N,))
    assert abs(np.corrcoef(c, d)[0, 1]) < 4 / np.sqrt(N)
    # neighbouring seeds and the parent key's own numbers are unrelated to its children's
    e, f = R.normal(R.key(0), (N,)), R.normal(R.key(1), (N,))
    assert abs(np.corrcoef(e, f)[0, 1]) < 4 / np.sqrt(N)
    assert abs(np.corrcoef(R.normal(KEY, (N,)), a)[0, 1]) < 4 / np.sqrt(N)
    keys = np.asarray(R.split(KEY, 1000))
    assert len({tuple(k) for k in keys}) == 1000


def test_numpy_global_generator_freezes_into_a_trace():
    """What docs/randomness.md warns about: np.random called while tracing is a constant."""
    f = fg.jit(lambda x: x + np.random.normal())
    with pytest.warns(RuntimeWarning, match="drew random numbers"):
        first = f(0.0)
    assert first == f(0.0)
    g = fg.jit(lambda x, k: x + R.normal(k))
    assert g(0.0, R.key(0)) != g(0.0, R.key(1))


# --- JAX's edges: parameters and shapes, dtypes, the arguments JAX code passes ------------

@pytest.mark.parametrize("draw", [
    lambda shape: R.bernoulli(KEY, np.full(3, 0.5), shape),
    lambda shape: R.uniform(KEY, shape, minval=np.zeros(3)),
    lambda shape: R.randint(KEY, shape, np.zeros(3), 5),
    lambda shape: R.lognormal(KEY, np.ones(3), shape),
    lambda shape: R.truncated_normal(KEY, np.full(3, -1.0), 1.0, shape),
    lambda shape: R.pareto(KEY, np.full(3, 2.0), shape),
    lambda shape: R.geometric(KEY, np.full(3, 0.5), shape),
    lambda shape: R.multivariate_normal(KEY, np.zeros((3, 2)), np.eye(2), shape),
])
def test_a_shape_the_parameters_do_not_broadcast_to_is_refused(draw):
    # shape () drew one number and broadcast it: three equal "independent" draws
    assert draw((2, 3)).shape[:2] == (2, 3)
    with pytest.raises(fg.ShapeError, match=r"must broadcast to the shape argument \(\)"):
        draw(())


def test_integer_dtypes_default_when_none_and_bits_of_every_width():
    for x in (R.randint(KEY, (4,), 0, 5, None), R.rademacher(KEY, (4,), None),
              R.poisson(KEY, 3.0, (4,), None), R.geometric(KEY, 0.5, (4,), None)):
        assert x.dtype == np.int64
    words = R.bits(KEY, (64,), None)
    assert words.dtype == np.uint32
    for dtype, top in ((np.uint8, 24), (np.uint16, 16)):
        assert R.bits(KEY, (64,), dtype).dtype == dtype
        np.testing.assert_array_equal(R.bits(KEY, (64,), dtype), words >> top)
    with pytest.raises(fg.FuncgradTypeError, match="makes integers"):
        R.randint(KEY, (2,), 0, 5, np.float32)
    with pytest.raises(fg.FuncgradTypeError, match="float32 or float64, not int32"):
        R.t(KEY, 3.0, (2,), np.int32)


def test_randint_clips_its_bounds_to_the_dtype_as_jax_does():
    # 300 as uint8 wrapped to 44; 2**40 as int32 to garbage
    for dtype, lo, hi, clipped in ((np.uint8, 0, 300, (0, 256)), (np.int8, -300, 0, (-128, 0)),
                                   (np.int32, 0, 2 ** 40, (0, 2 ** 31))):
        x = R.randint(KEY, (2000,), lo, hi, dtype)
        np.testing.assert_array_equal(x, R.randint(KEY, (2000,), *clipped, dtype))
    assert int(R.randint(KEY, (2000,), 0, 300, np.uint8).max()) == 255
    np.testing.assert_array_equal(R.randint(KEY, (3,), 5, 2), [5, 5, 5])   # minval >= maxval


def test_categorical_without_replacement_follows_the_sequential_probabilities():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    n = 40000
    # n batch rows, two draws each without replacement (the leading axis of shape)
    draws = R.categorical(KEY, np.log(np.broadcast_to(p, (n, 4))), shape=(2, n), replace=False)
    first, second = draws
    assert np.all(first != second)
    # P(second = j) = sum over i != j of p_i p_j / (1 - p_i)
    p_second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j)
                         for j in range(4)])
    for picks, expected in ((first, p), (second, p_second)):
        freq = np.bincount(picks, minlength=4) / n
        np.testing.assert_allclose(freq, expected, atol=0.012)   # 5 standard deviations
    # along axis 0, all three categories of each of 5 columns: a permutation each
    cols = R.categorical(KEY, np.zeros((3, 5)), axis=0, shape=(3, 5), replace=False)
    np.testing.assert_array_equal(np.sort(cols, axis=0), np.broadcast_to(np.arange(3)[:, None],
                                                                         (3, 5)))
    compiled = fg.jit(lambda k: R.categorical(k, np.zeros((3, 5)), axis=0, shape=(3, 5),
                                              replace=False), compile="sync")
    np.testing.assert_array_equal(compiled(KEY), cols)
    with pytest.raises(fg.ShapeError, match="cannot draw 5 of 4 categories"):
        R.categorical(KEY, np.zeros(4), shape=(5,), replace=False)


@pytest.mark.parametrize("method", ["cholesky", "eigh", "svd"])
def test_multivariate_normal_batches_covariances_for_every_method(method):
    covs = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, -0.8], [-0.8, 1.0]]])
    mean = np.array([1.0, -1.0])
    x = R.multivariate_normal(KEY, mean, covs, (40000, 2), method=method)
    assert x.shape == (40000, 2, 2)
    for b in range(2):
        np.testing.assert_allclose(np.cov(x[:, b].T), covs[b], atol=0.06)   # > 4 sd
        np.testing.assert_allclose(x[:, b].mean(0), mean, atol=0.04)
    assert R.multivariate_normal(KEY, mean, covs, method=method).shape == (2, 2)
    with pytest.raises(fg.ShapeError, match=r"must broadcast to the shape argument \(3,\)"):
        R.multivariate_normal(KEY, mean, covs, (3,), method=method)


def test_eigh_and_svd_draw_from_a_singular_covariance():
    x = R.multivariate_normal(KEY, np.zeros(2), np.ones((2, 2)), (100,), method="eigh")
    np.testing.assert_allclose(x[:, 0], x[:, 1], atol=1e-12)     # all mass on x0 = x1
    assert abs(np.var(x[:, 0]) - 1) < 0.35


def test_jax_keyword_arguments_are_accepted_and_misspelt_ones_refused():
    np.testing.assert_array_equal(R.key(3, impl="threefry2x32"), R.key(3))
    np.testing.assert_array_equal(R.bernoulli(KEY, 0.5, (8,), mode="high"),
                                  R.bernoulli(KEY, 0.5, (8,)))
    np.testing.assert_array_equal(R.gumbel(KEY, (8,), mode="low"), R.gumbel(KEY, (8,)))
    np.testing.assert_array_equal(R.choice(KEY, 5, (3,), mode="high"), R.choice(KEY, 5, (3,)))
    with pytest.raises(fg.FuncgradTypeError, match="Threefry-2x32 keys, not 'rbg'"):
        R.key(0, impl="rbg")
    with pytest.raises(fg.FuncgradValueError, match="mode is 'low' or 'high', not 'mid'"):
        R.categorical(KEY, np.zeros(3), mode="mid")
    with pytest.raises(fg.FuncgradTypeError, match="not a 0-d float64 array"):
        R.permutation(KEY, np.array(3.0))
