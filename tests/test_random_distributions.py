"""funcgrad.random's further distributions (JAX's names and parameterisations): each against
scipy.stats with a fixed key (Kolmogorov-Smirnov for continuous ones, chi-square for counts,
moments within bounds from the sample size), their shapes and dtypes, the same numbers
eager, compiled and batched over keys, reparameterised gradients against finite differences
at a fixed key, and the errors for bad parameters."""

import numpy as np
import pytest
from scipy import special, stats

import funcgrad as fg
import funcgrad.numpy as fnp

R = fg.random
KEY = R.key(2024)
N = 20000


def _double_sided_maxwell_cdf(loc, scale):
    def cdf(x):
        z = (np.asarray(x) - loc) / scale
        return 0.5 + 0.5 * np.sign(z) * stats.maxwell.cdf(np.abs(z))
    return cdf


@pytest.mark.parametrize("name, draw, cdf", [
    ("lognormal", lambda k: R.lognormal(k, 0.7, (N,)), stats.lognorm(0.7).cdf),
    ("lognormal32", lambda k: R.lognormal(k, 0.7, (N,), np.float32), stats.lognorm(0.7).cdf),
    ("rayleigh", lambda k: R.rayleigh(k, 2.0, (N,)), stats.rayleigh(scale=2.0).cdf),
    ("weibull_min", lambda k: R.weibull_min(k, 2.0, 1.5, (N,)),
     stats.weibull_min(1.5, scale=2.0).cdf),
    ("weibull_min32", lambda k: R.weibull_min(k, 2.0, 0.5, (N,), np.float32),
     stats.weibull_min(0.5, scale=2.0).cdf),
    ("pareto", lambda k: R.pareto(k, 3.0, (N,)), stats.pareto(3.0).cdf),
    ("chisquare", lambda k: R.chisquare(k, 3.0, (N,)), stats.chi2(3.0).cdf),
    ("chisquare_small", lambda k: R.chisquare(k, 0.5, (N,)), stats.chi2(0.5).cdf),
    ("f", lambda k: R.f(k, 5.0, 10.0, (N,)), stats.f(5.0, 10.0).cdf),
    ("triangular", lambda k: R.triangular(k, -1.0, 0.0, 4.0, (N,)),
     stats.triang(0.2, loc=-1.0, scale=5.0).cdf),
    ("triangular_at_left", lambda k: R.triangular(k, 0.0, 0.0, 1.0, (N,)),
     stats.triang(0.0).cdf),
    ("wald", lambda k: R.wald(k, 2.0, (N,)), stats.invgauss(2.0).cdf),
    ("wald_large_mean", lambda k: R.wald(k, 500.0, (N,)), stats.invgauss(500.0).cdf),
    ("maxwell", lambda k: R.maxwell(k, (N,)), stats.maxwell.cdf),
    ("double_sided_maxwell", lambda k: R.double_sided_maxwell(k, 1.0, 2.0, (N,)),
     _double_sided_maxwell_cdf(1.0, 2.0)),
    ("generalized_normal", lambda k: R.generalized_normal(k, 1.5, (N,)), stats.gennorm(1.5).cdf),
    ("generalized_normal_half", lambda k: R.generalized_normal(k, 0.5, (N,)),
     stats.gennorm(0.5).cdf),
    ("loggamma", lambda k: R.loggamma(k, 2.5, (N,)), stats.loggamma(2.5).cdf),
    ("loggamma_small", lambda k: R.loggamma(k, 0.05, (N,)), stats.loggamma(0.05).cdf),
    ("loggamma32", lambda k: R.loggamma(k, 0.3, (N,), np.float32), stats.loggamma(0.3).cdf),
])
def test_kolmogorov_smirnov(name, draw, cdf):
    x = np.asarray(draw(KEY), np.float64)
    assert np.all(np.isfinite(x)), name
    assert stats.kstest(x, cdf).pvalue > 1e-3, name


def _chi2_ok(x, dist, lo, hi):
    """Chi-square of counts against ``dist``'s probabilities on lo..hi, the tails pooled."""
    x = np.asarray(x).astype(np.int64)
    counts = np.bincount(np.clip(x, lo, hi) - lo, minlength=hi - lo + 1)
    probs = dist.pmf(np.arange(lo, hi + 1))
    probs[0], probs[-1] = dist.cdf(lo), dist.sf(hi - 1)
    return stats.chisquare(counts, probs * counts.sum()).pvalue > 1e-3


@pytest.mark.parametrize("n, p", [(10.0, 0.3), (7.9, 0.9), (30.0, 0.33), (31.0, 0.33),
                                  (200.0, 0.4), (1000.0, 0.97), (5000.0, 0.5)])
def test_binomial_goodness_of_fit(n, p):
    """Both methods (inversion while n min(p, 1-p) <= 10, BTRS above; 30 and 31 trials at
    p = 0.33 are either side), p above 1/2 by symmetry, a fractional n floored."""
    dist = stats.binom(int(n), p)
    x = np.asarray(R.binomial(KEY, n, p, (N,)))
    assert x.dtype == np.float64 and np.all(x == np.floor(x)) and x.min() >= 0
    lo, hi = int(dist.ppf(5 / N)), int(dist.isf(5 / N))
    assert _chi2_ok(x, dist, lo, hi), (n, p)
    assert abs(x.mean() - dist.mean()) < 5 * dist.std() / np.sqrt(N)


def test_geometric_rademacher_and_multinomial_match_their_probabilities():
    x = np.asarray(R.geometric(KEY, 0.3, (N,)))
    assert x.dtype == np.int64 and x.min() == 1
    assert _chi2_ok(x, stats.geom(0.3), 1, 15)
    assert np.all(np.asarray(R.geometric(KEY, 1.0, (10,))) == 1)
    assert R.geometric(KEY, 0.5, (3,), np.int32).dtype == np.int32
    r = np.asarray(R.rademacher(KEY, (N,)))
    assert r.dtype == np.int64 and set(r.tolist()) == {-1, 1}
    assert abs(r.mean()) < 5 / np.sqrt(N)
    assert R.rademacher(KEY, (2,), np.float32).dtype == np.float32
    p = np.array([0.1, 0.0, 0.6, 0.3])
    c = np.asarray(R.multinomial(KEY, 12.0, p, shape=(N, 4)))
    assert c.shape == (N, 4) and c.dtype == np.float64
    np.testing.assert_array_equal(c.sum(-1), 12.0)
    assert np.all(c[:, 1] == 0)
    for i in (0, 2, 3):
        assert _chi2_ok(c[:, i], stats.binom(12, p[i]), 0, 12), i
    cov = np.cov(c.T)   # multinomial covariance: -n p_i p_j
    assert abs(cov[0, 2] + 12 * 0.1 * 0.6) < 0.05
    # a batch of trial counts and probabilities, p's shape by default
    c = R.multinomial(KEY, np.array([3.0, 50.0]), np.array([[0.5, 0.5], [0.2, 0.8]]))
    assert c.shape == (2, 2)
    np.testing.assert_array_equal(np.asarray(c).sum(-1), [3.0, 50.0])


def test_binomial_edge_parameters():
    """p 0 or 1, n 0, n inf; traced bad parameters give nan (concrete ones raise)."""
    x = R.binomial(KEY, np.array([0.0, 5.0, 5.0, np.inf, 1e6]),
                   np.array([0.5, 0.0, 1.0, 0.5, 1e-7]))
    np.testing.assert_array_equal(np.asarray(x)[:4], [0.0, 0.0, 5.0, np.inf])
    assert 0 <= x[4] <= 10
    traced = fg.vmap(lambda n, p: R.binomial(KEY, n, p))(np.array([-1.0, 4.0, 4.0]),
                                                          np.array([0.5, 1.5, np.nan]))
    assert np.all(np.isnan(traced))
    x = np.asarray(R.binomial(KEY, 1e9, 0.3, (200,)))   # BTRS: no loop over the trials
    assert abs(x.mean() / 3e8 - 1) < 1e-3


def test_orthogonal_is_haar_and_semi_orthogonal():
    q = np.asarray(R.orthogonal(KEY, 3, (N // 4,)))
    assert q.shape == (N // 4, 3, 3)
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(3), q.shape),
                               atol=1e-12)
    # Haar on O(3): one entry is uniform on [-1, 1], the determinant +-1 equally often
    assert stats.kstest(q[:, 0, 0], stats.uniform(-1, 2).cdf).pvalue > 1e-3
    det = np.linalg.det(q)
    assert abs(np.mean(det > 0) - 0.5) < 5 * 0.5 / np.sqrt(det.size)
    wide = np.asarray(R.orthogonal(KEY, 2, (5,), np.float32, m=4))
    assert wide.shape == (5, 2, 4) and wide.dtype == np.float32
    np.testing.assert_allclose(wide @ np.swapaxes(wide, -1, -2), np.broadcast_to(np.eye(2),
                               (5, 2, 2)), atol=1e-5)
    tall = np.asarray(R.orthogonal(KEY, 4, m=2))
    np.testing.assert_allclose(tall.T @ tall, np.eye(2), atol=1e-12)


def test_ball_is_uniform():
    x = np.asarray(R.ball(KEY, 3, shape=(N,)))
    assert x.shape == (N, 3)
    r = np.linalg.norm(x, axis=-1)
    assert r.max() <= 1 and stats.kstest(r ** 3, stats.uniform.cdf).pvalue > 1e-3
    # the direction is uniform on the sphere: each coordinate of x / r is uniform on [-1, 1]
    assert stats.kstest(x[:, 0] / r, stats.uniform(-1, 2).cdf).pvalue > 1e-3
    y = np.asarray(R.ball(KEY, 2, 1.0, (N,), np.float32))   # the l1 ball: the volume
    assert y.dtype == np.float32                              # within radius t grows as t^2
    t = np.abs(y).sum(-1).astype(np.float64)
    assert t.max() <= 1 and stats.kstest(t ** 2, stats.uniform.cdf).pvalue > 1e-3


def test_shapes_dtypes_and_broadcasting():
    """shape=None takes the parameters' broadcast shape; a given shape broadcasts them;
    float32 and float64 throughout; each element its own number."""
    scale = np.array([1.0, 2.0, 3.0])
    for draw in (lambda s, d: R.lognormal(KEY, scale, s, d),
                 lambda s, d: R.rayleigh(KEY, scale, s, d),
                 lambda s, d: R.pareto(KEY, scale, s, d),
                 lambda s, d: R.chisquare(KEY, scale, s, d),
                 lambda s, d: R.f(KEY, scale, 4.0, s, d),
                 lambda s, d: R.wald(KEY, scale, s, d),
                 lambda s, d: R.loggamma(KEY, scale, s, d),
                 lambda s, d: R.binomial(KEY, 10.0 * scale, 0.5, s, d),
                 lambda s, d: R.triangular(KEY, 0.0, 0.5 * scale, scale, s, d)):
        for dtype in (np.float32, np.float64):
            assert draw(None, dtype).shape == (3,) and draw(None, dtype).dtype == dtype
            x = np.asarray(draw((4, 3), dtype))
            assert x.shape == (4, 3) and x.dtype == dtype
            assert len(set(x[:, 0].tolist())) > 1   # the rows differ
    assert R.geometric(KEY, np.array([0.1, 0.5]), (5, 2)).shape == (5, 2)
    # weibull_min: shape broadcast with the parameters (JAX's convention)
    assert R.weibull_min(KEY, scale, 2.0).shape == (3,)
    assert R.weibull_min(KEY, scale, 2.0, (4, 1)).shape == (4, 3)
    # double_sided_maxwell: shape, then the parameters' shape
    assert R.double_sided_maxwell(KEY, np.zeros(3), 1.0, (5,)).shape == (5, 3)
    assert R.double_sided_maxwell(KEY, 0.0, 1.0, (5,), np.float32).dtype == np.float32
    assert R.lognormal(KEY).shape == () and R.maxwell(KEY).shape == ()
    assert R.generalized_normal(KEY, 2.0, (2, 3), np.float32).dtype == np.float32
    assert R.multinomial(KEY, 5.0, np.ones(3) / 3, dtype=np.float32).dtype == np.float32
    k = R.key(9)
    np.testing.assert_array_equal(R.clone(k), k)
    np.testing.assert_array_equal(R.uniform(R.clone(k), (3,)), R.uniform(k, (3,)))


P3 = np.array([0.2, 0.3, 0.5])


def _compiled_draws(key):
    """The new primitive (binomial's loops) and the transforms with branches or integer
    results, compiled as one program (compiles take seconds: the rest are the same kinds
    of operations as these, and vmap traces them all)."""
    return [R.binomial(key, np.array([3.0, 30.0, 3000.0]), 0.4), R.geometric(key, 0.3, (3,)),
            R.triangular(key, 0.0, 1.0, 3.0, (3,)), R.wald(key, 2.0, (3,))]


def _draws(key):
    return [*_compiled_draws(key), R.lognormal(key, 0.5, (3,)), R.rayleigh(key, 2.0, (3,)),
            R.weibull_min(key, 2.0, 1.5, (3,)), R.pareto(key, 3.0, (3,)),
            R.rademacher(key, (3,)), R.maxwell(key, (3,)),
            R.double_sided_maxwell(key, 1.0, 2.0, (3,)), R.multinomial(key, 10.0, P3),
            R.loggamma(key, 0.5, (3,))]


def _gamma_draws(key):
    return [R.chisquare(key, 3.0, (3,)), R.f(key, 3.0, 4.0, (3,)),
            R.generalized_normal(key, 1.5, (3,)), R.ball(key, 3, 2, (2,)), R.orthogonal(key, 3)]


def _same(a, b, name):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, name
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=name)


def test_same_numbers_per_key_eager_compiled_and_batched():
    """A key gives the same numbers every time, compiled (binomial's loops in Numba too) and
    under vmap over keys; different keys give different numbers."""
    eager = _draws(KEY)
    for i, (again, other) in enumerate(zip(_draws(KEY), _draws(R.key(1)))):
        _same(again, eager[i], i)
        if i != 8:  # three signs from two keys may agree
            assert np.any(np.asarray(other) != np.asarray(eager[i])), i
    for i, c in enumerate(fg.jit(_compiled_draws)(KEY)):
        _same(c, eager[i], i)
    keys = R.split(KEY, 3)
    for draws in (_draws, _gamma_draws):
        batched = fg.vmap(draws)(keys)
        for i, b in enumerate(batched):
            _same(b, np.stack([np.asarray(draws(k)[i]) for k in keys]), (draws.__name__, i))


def _central_difference(f, x, h=1e-6):
    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)


@pytest.mark.parametrize("name, f, x", [
    ("lognormal", lambda s: R.lognormal(KEY, s, (4,)), 0.7),
    ("rayleigh", lambda s: R.rayleigh(KEY, s, (4,)), 2.0),
    ("weibull_min scale", lambda s: R.weibull_min(KEY, s, 1.5, (4,)), 2.0),
    ("weibull_min concentration", lambda c: R.weibull_min(KEY, 2.0, c, (4,)), 1.5),
    ("pareto", lambda b: R.pareto(KEY, b, (4,)), 3.0),
    ("triangular left", lambda a: R.triangular(KEY, a, 1.0, 3.0, (4,)), 0.0),
    ("triangular mode", lambda m: R.triangular(KEY, 0.0, m, 3.0, (4,)), 1.0),
    ("triangular right", lambda b: R.triangular(KEY, 0.0, 1.0, b, (4,)), 3.0),
    ("wald", lambda m: R.wald(KEY, m, (4,)), 2.0),
    ("double_sided_maxwell loc", lambda m: R.double_sided_maxwell(KEY, m, 2.0, (4,)), 1.0),
    ("double_sided_maxwell scale", lambda s: R.double_sided_maxwell(KEY, 1.0, s, (4,)), 2.0),
])
def test_reparameterised_gradients_match_finite_differences(name, f, x):
    """Inverse-CDF and transformed samples are smooth in their parameters at a fixed key:
    reverse and forward mode against central differences."""
    expected = _central_difference(f, x)
    np.testing.assert_allclose(fg.jacrev(f)(x), expected, rtol=1e-7, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(fg.jacfwd(f)(x), expected, rtol=1e-7, atol=1e-9, err_msg=name)


def test_gamma_family_gradients_hold_the_quantile():
    """loggamma, chisquare and generalized_normal differentiate their gamma numbers at fixed
    quantile, as gamma does: d log x / da is the derivative of log gammaincinv(a, q) at the
    number's own q, and d E[chi2(df)] / d df = 1."""
    a = 0.5
    lx = np.asarray(R.loggamma(KEY, a, (6,)))
    q = special.gammainc(a, np.exp(lx))
    h = 1e-5
    expected = (np.log(special.gammaincinv(a + h, q)) - np.log(special.gammaincinv(a - h, q))) \
        / (2 * h)
    np.testing.assert_allclose(fg.jacrev(lambda a: R.loggamma(KEY, a, (6,)))(a), expected,
                               rtol=1e-6)
    keys = R.split(KEY, 20000)
    per_sample = np.asarray(fg.vmap(fg.grad(lambda df, k: R.chisquare(k, df)),
                                    in_axes=(None, 0))(3.0, keys))
    assert abs(per_sample.mean() - 1.0) < 4 * per_sample.std() / np.sqrt(per_sample.size)
    # E|x|^p = 1/p for generalized_normal(p): d/dp of E[|x|^p] at fixed p-power is -1/p^2
    g = fg.grad(lambda p: fnp.mean(fnp.abs(R.generalized_normal(KEY, p, (40000,)))))(1.5)
    # E|x| = Gamma(2/p) / Gamma(1/p)
    def mean_abs(p):
        return special.gamma(2 / p) / special.gamma(1 / p)
    assert abs(g - _central_difference(mean_abs, 1.5, 1e-5)) < 0.02


def test_bad_parameters_are_named():
    cases = [
        (lambda: R.rayleigh(KEY, -1.0), "rayleigh's scale must be positive"),
        (lambda: R.lognormal(KEY, -0.5), "lognormal's sigma must be >= 0"),
        (lambda: R.weibull_min(KEY, 1.0, np.array([1.0, 0.0])), "concentration must be"),
        (lambda: R.pareto(KEY, 0.0), "pareto's b must be positive"),
        (lambda: R.chisquare(KEY, -2.0), "chisquare's df must be positive"),
        (lambda: R.f(KEY, 1.0, np.nan), "f's dfden must be positive"),
        (lambda: R.geometric(KEY, 0.0), r"geometric's p must be in \(0, 1\]"),
        (lambda: R.triangular(KEY, 0.0, 2.0, 1.0), "left <= mode <= right"),
        (lambda: R.wald(KEY, -1.0), "wald's mean must be positive"),
        (lambda: R.double_sided_maxwell(KEY, 0.0, -1.0), "scale must be positive"),
        (lambda: R.generalized_normal(KEY, 0.0), "p must be positive"),
        (lambda: R.loggamma(KEY, -1.0), "loggamma's a must be positive"),
        (lambda: R.binomial(KEY, -3.0, 0.5), "binomial's n must be >= 0"),
        (lambda: R.binomial(KEY, 3.0, 1.5), r"binomial's p must be in \[0, 1\]"),
        (lambda: R.multinomial(KEY, 3.0, np.array([0.5, -0.5])), "p must be >= 0"),
    ]
    for call, message in cases:
        with pytest.raises(fg.FuncgradValueError, match=message):
            call()
    with pytest.raises(fg.ShapeError, match="ends with the 3 outcomes"):
        R.multinomial(KEY, 3.0, P3, shape=(4,))
    with pytest.raises(fg.FuncgradTypeError, match="orthogonal's n is a non-negative int"):
        R.orthogonal(KEY, 2.5)
    with pytest.raises(fg.FuncgradTypeError, match="ball's dimension d"):
        R.ball(KEY, -1)
    with pytest.raises(fg.FuncgradTypeError, match="geometric makes integers"):
        R.geometric(KEY, 0.5, (2,), np.float64)
    with pytest.raises(fg.FuncgradTypeError, match="random floats are float32 or float64"):
        R.binomial(KEY, 3.0, 0.5, dtype=np.int32)
    for draw in (lambda k: R.rayleigh(k, 1.0), lambda k: R.binomial(k, 3.0, 0.5),
                 R.clone, lambda k: R.orthogonal(k, 2)):
        with pytest.raises(fg.FuncgradTypeError, match="a key is a uint32 array of shape"):
            draw(np.zeros(2))
