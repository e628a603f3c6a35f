"""funcgrad.scipy.stats against scipy.stats: values (tails included, loc and scale
broadcast), derivatives in every continuous argument against finite differences, and
compiled against uncompiled."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as ss

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import stats
from funcgrad.core.errors import ShapeError
from funcgrad.testing import check_grads

X = np.array([-40.0, -3.0, -0.5, 0.0, 0.25, 1.0, 2.5, 40.0])
POSITIVE = np.array([1e-8, 0.1, 0.5, 1.0, 2.5, 10.0, 80.0])
UNIT = np.array([0.0, 1e-6, 0.1, 0.5, 0.9, 1.0])
LOC = np.array([[0.0], [0.5]])    # broadcasts against the points
SCALE = np.array([[1.0], [2.0]])

# name, points, shape parameters, functions (logpdf/logpmf first)
CONTINUOUS = [
    ("norm", X, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("t", X, (np.array([[0.5], [3.0]]),), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("gamma", POSITIVE, (np.array([[0.5], [3.0]]),),
     ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("chi2", POSITIVE, (np.array([[1.0], [5.0]]),),
     ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("beta", UNIT, (np.array([[0.5], [2.0]]), np.array([[3.0], [0.7]])),
     ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("expon", X, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("laplace", X, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("logistic", X, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("cauchy", X * 1e6, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("uniform", X / 40, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("pareto", POSITIVE + 0.5, (np.array([[0.5], [3.0]]),),
     ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("gumbel_r", X, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("gumbel_l", X, (), ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
    ("truncnorm", X, (np.array([[-1.0], [0.5]]), np.array([[2.0], [np.inf]])),
     ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]),
]


def assert_close(ours, reference, rtol=1e-12, atol=1e-300):
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    np.testing.assert_allclose(ours, reference, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, points, shapes, functions", CONTINUOUS,
                         ids=[c[0] for c in CONTINUOUS])
def test_continuous_match_scipy(name, points, shapes, functions):
    ours, theirs = getattr(stats, name), getattr(ss, name)
    points = np.append(points, np.nan)  # nan, not the value outside the support
    with np.errstate(all="ignore"):
        for f in functions:
            assert_close(getattr(ours, f)(points, *shapes, LOC, SCALE),
                         getattr(theirs, f)(points, *shapes, LOC, SCALE), rtol=1e-11)
            assert_close(getattr(ours, f)(points, *shapes),
                         getattr(theirs, f)(points, *shapes), rtol=1e-11)
            # an invalid scale gives nan, as in SciPy
            assert np.isnan(getattr(ours, f)(points, *shapes, 0.0, -1.0)).all()


def test_heavy_tailed_densities_far_out():
    # log1p(z^2) overflowed past |z| = 1e154, giving -inf where the log density is finite
    x = np.array([1e155, -1e300])
    with np.errstate(over="raise", invalid="raise"):
        assert_close(stats.cauchy.logpdf(x), ss.cauchy.logpdf(x))
        # far out, the t(3) log density falls as -4 log|x|
        assert_close(stats.t.logpdf(x, 3.0),
                     ss.t.logpdf(1e10, 3.0) - 4.0 * (np.log(np.abs(x)) - np.log(1e10)))
        assert fg.grad(stats.cauchy.logpdf)(1e200) == pytest.approx(-2e-200)


def test_norm_quantiles_and_far_tails():
    q = np.array([1e-300, 1e-10, 0.3, 0.5, 0.975])
    assert_close(stats.norm.ppf(q, 1.0, 2.0), ss.norm.ppf(q, 1.0, 2.0), 1e-14)
    assert_close(stats.norm.isf(q, 1.0, 2.0), ss.norm.isf(q, 1.0, 2.0), 1e-14)
    assert stats.norm.logcdf(-1e3) == pytest.approx(ss.norm.logcdf(-1e3), rel=1e-14)


DISCRETE = [
    ("poisson", np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 30.0, 200.0]), (np.array([[0.5], [20.0]]),),
     ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]),
    ("bernoulli", np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), (np.array([[0.0], [0.3], [1.0]]),),
     ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]),
    ("binom", np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 7.0, 500.0]),
     (np.array([[7.0], [1000.0]]), np.array([[0.3], [0.999]])),
     ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]),
    ("geom", np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 40.0, 1000.0]),
     (np.array([[1e-3], [0.3], [1.0]]),), ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"]),
    ("nbinom", np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 40.0, 3000.0]),
     (np.array([[0.5], [4.0], [300.0]]), np.array([[0.05], [0.5], [1.0]])), ["logpmf", "pmf"]),
    ("betabinom", np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 7.0, 500.0]),
     (np.array([[7.0], [1000.0]]), np.array([[0.3], [20.0]]), np.array([[2.0], [0.7]])),
     ["logpmf", "pmf"]),
]


@pytest.mark.parametrize("name, k, shapes, functions", DISCRETE, ids=[d[0] for d in DISCRETE])
def test_discrete_match_scipy(name, k, shapes, functions):
    ours, theirs = getattr(stats, name), getattr(ss, name)
    k = np.append(k, np.nan)  # nan, not the value outside the support
    with np.errstate(all="ignore"):
        for f in functions:
            for loc in (0, 1):
                assert_close(getattr(ours, f)(k, *shapes, loc),
                             _reference(theirs, f, k, *shapes, loc), 1e-11)


def _reference(distribution, f, *args):
    """SciPy's value; for a log of a cdf or sf near 1, log1p of the other one, which SciPy
    does not use (its log(1 - 1e-9) loses digits, funcgrad's does not)."""
    if f not in ("logcdf", "logsf"):
        return getattr(distribution, f)(*args)
    p = getattr(distribution, f[3:])(*args)
    complement = getattr(distribution, "sf" if f == "logcdf" else "cdf")(*args)
    return np.where(p > 0.5, np.log1p(-complement), np.log(p))


def test_dirichlet_matches_scipy():
    alpha = np.array([0.5, 2.0, 3.5])
    x = np.array([[0.2, 0.7, 1e-9], [0.3, 0.1, 0.5], [0.5, 0.2, 0.5 - 1e-9]])  # 3 points
    assert_close(stats.dirichlet.logpdf(x, alpha), ss.dirichlet.logpdf(x, alpha), 1e-13)
    assert_close(stats.dirichlet.pdf(x[:, 0], alpha), ss.dirichlet.pdf(x[:, 0], alpha), 1e-13)
    assert_close(stats.dirichlet.logpdf(x[:2], alpha), ss.dirichlet.logpdf(x[:2], alpha), 1e-13)
    assert stats.dirichlet.logpdf(np.array([0.5, 0.6, -0.1]), alpha) == -np.inf
    with pytest.raises(fg.ShapeError, match="3 \\(or 2\\) entries"):
        stats.dirichlet.logpdf(np.ones(5) / 5, alpha)


def test_multivariate_normal_matches_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + 0.5 * np.eye(4)
    mean = rng.normal(size=4)
    x = rng.normal(size=(3, 4))
    assert_close(stats.multivariate_normal.logpdf(x, mean, cov),
                 ss.multivariate_normal.logpdf(x, mean, cov), 1e-12)
    assert_close(stats.multivariate_normal.pdf(x[0], mean, cov),
                 ss.multivariate_normal.pdf(x[0], mean, cov), 1e-12)
    covs = np.stack([cov, 2 * cov])  # a stack of covariances: the column-wise Cholesky
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x[:, None], mean, covs),
                               [[ss.multivariate_normal.logpdf(p, mean, c) for c in covs]
                                for p in x], rtol=1e-12)
    with pytest.raises(fg.ShapeError, match="4x4 matrix"):
        stats.multivariate_normal.logpdf(x, mean, cov[:3, :3])


GRADIENTS = [
    (lambda x, m, s: stats.norm.logpdf(x, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda x, m, s: stats.norm.logcdf(x, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda x, m, s: stats.norm.sf(x, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda q, m, s: stats.norm.ppf(q, m, s), [np.array([0.01, 0.5, 0.9]), 0.3, 1.7]),
    (lambda x, df, s: stats.t.logpdf(x, df, 0.5, s), [X[1:-1], 2.5, 1.3]),
    (lambda x, a, s: stats.gamma.logpdf(x, a, 0.0, s), [POSITIVE[1:], 2.5, 1.3]),
    (lambda x, s: stats.gamma.cdf(x, 2.5, 0.0, s), [POSITIVE[1:], 1.3]),
    (lambda x, s: stats.chi2.logsf(x, 3.0, 0.0, s), [POSITIVE[1:-1], 1.3]),
    (lambda x, a, b: stats.beta.logpdf(x, a, b), [UNIT[2:-1], 0.7, 2.5]),
    (lambda x, m, s: stats.t.cdf(x, 2.5, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda x, m, s: stats.t.logsf(x, 2.5, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda x: stats.beta.sf(x, 0.7, 2.5), [UNIT[2:-1]]),
    (lambda p: stats.binom.cdf(np.array([0.0, 3.0]), 7.0, p), [np.array([0.2, 0.9])]),
    (lambda x, s: stats.expon.logcdf(x, 0.0, s), [POSITIVE[1:], 1.3]),
    (lambda x, m, s: stats.laplace.logpdf(x, m, s), [X[1:-1] + 0.1, 0.3, 1.7]),
    (lambda x, m, s: stats.laplace.logcdf(x, m, s), [X[1:-1] + 0.1, 0.3, 1.7]),
    (lambda x, m, s: stats.logistic.logpdf(x, m, s), [X, 0.3, 1.7]),
    (lambda x, m, s: stats.cauchy.logcdf(x, m, s), [X, 0.3, 1.7]),
    (lambda x, m, s: stats.uniform.logpdf(x, m, s), [np.array([0.5, 1.0]), 0.3, 1.7]),
    (lambda x, m, s: stats.uniform.cdf(x, m, s), [np.array([0.5, 1.0]), 0.3, 1.7]),
    (lambda mu: stats.poisson.logpmf(np.array([0.0, 3.0]), mu), [np.array([0.5, 20.0])]),
    (lambda mu: stats.poisson.cdf(np.array([0.0, 3.0]), mu), [np.array([0.5, 20.0])]),
    (lambda p: stats.bernoulli.logpmf(np.array([0.0, 1.0]), p), [np.array([0.2, 0.9])]),
    (lambda p: stats.binom.logpmf(np.array([0.0, 3.0]), 7.0, p), [np.array([0.2, 0.9])]),
    (lambda a: stats.dirichlet.logpdf(np.array([[0.2, 0.7], [0.3, 0.1], [0.5, 0.2]]), a),
     [np.array([0.5, 2.0, 3.5])]),
    (lambda x, m, c: stats.multivariate_normal.logpdf(x, m, c),
     [np.array([[0.3, -1.0], [2.0, 0.5]]), np.array([0.1, 0.2]),
      np.array([[2.0, 0.3], [0.3, 1.0]])]),
    (lambda x, c: stats.multivariate_normal.logpdf(x, np.zeros(2), c),
     [np.array([0.3, -1.0]), np.array([[[2.0, 0.3], [0.3, 1.0]], [[1.0, -0.2], [-0.2, 3.0]]])]),
    (lambda x: stats.multivariate_normal.logpdf(x, np.zeros(3), np.eye(3) * 2),
     [np.array([[[0.3, -1.0, 0.5]]])]),
    (lambda x, b, s: stats.pareto.logpdf(x, b, 0.2, s), [POSITIVE[3:] + 1, 2.5, 0.9]),
    (lambda x, b, s: stats.pareto.logcdf(x, b, 0.2, s), [POSITIVE[3:] + 1, 2.5, 0.9]),
    (lambda q, b, m, s: stats.pareto.ppf(q, b, m, s), [np.array([0.01, 0.5, 0.9]), 2.5, 0.2,
                                                       0.9]),
    (lambda x, m, s: stats.gumbel_r.logpdf(x, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda x, m, s: stats.gumbel_r.logsf(x, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda x, m, s: stats.gumbel_l.logcdf(x, m, s), [X[1:-1], 0.3, 1.7]),
    (lambda q, m, s: stats.gumbel_l.ppf(q, m, s), [np.array([0.01, 0.5, 0.9]), 0.3, 1.7]),
    (lambda x, a, b, m, s: stats.truncnorm.logpdf(x, a, b, m, s),
     [np.array([-0.5, 0.25, 1.0]), -1.5, 2.0, 0.1, 1.3]),
    (lambda x, a, b: stats.truncnorm.logcdf(x, a, b), [np.array([-0.5, 0.25, 1.0]), -1.5, 2.0]),
    (lambda x, a, b: stats.truncnorm.logsf(x, a, b), [np.array([5.2, 5.5, 5.9]), 5.0, 6.0]),
    (lambda x, k: stats.vonmises.logpdf(x, k), [X[1:-1], 2.5]),
    (lambda x, beta: stats.gennorm.logpdf(x, beta), [X[1:-1] + 0.1, 1.5]),
    (lambda x, beta: stats.gennorm.cdf(x, beta), [np.array([-2.0, -0.3, 0.4, 1.5]), 1.5]),
    (lambda p: stats.geom.logpmf(np.array([1.0, 4.0]), p), [np.array([0.2, 0.9])]),
    (lambda p: stats.geom.logcdf(np.array([1.0, 4.0]), p), [np.array([0.2, 0.9])]),
    (lambda n, p: stats.nbinom.logpmf(np.array([0.0, 4.0]), n, p), [np.array([0.5, 3.5]),
                                                                  np.array([0.2, 0.9])]),
    (lambda a, b: stats.betabinom.logpmf(np.array([0.0, 4.0]), 9.0, a, b),
     [np.array([0.5, 3.5]), np.array([2.0, 0.9])]),
    (lambda x: stats.sem(x), [np.array([[0.3, -1.0], [2.0, 0.5], [1.0, 1.5]])]),
]


@pytest.mark.parametrize("case", range(len(GRADIENTS)))
def test_gradients_match_finite_differences(case):
    f, args = GRADIENTS[case]
    check_grads(f, args)


@pytest.mark.parametrize("name,x,shapes,which", [
    ("beta", [0.05, 0.3, 0.7, 0.99], (2.0, 3.5), 0), ("beta", [0.05, 0.3, 0.7, 0.99],
                                                      (0.4, 7.0), 1),
    ("t", [-30.0, -1.0, 0.5, 4.0], (4.0,), 0), ("t", [-2.0, 0.0, 60.0], (0.7,), 0)])
def test_beta_family_cdf_and_sf_differentiate_in_the_shapes(name, x, shapes, which):
    x = np.array(x)
    for method in ("cdf", "sf", "logcdf", "logsf"):
        ours = getattr(getattr(stats, name), method)
        theirs = getattr(getattr(ss, name), method)

        def at(s, fn, shapes=shapes):
            return fn(x, *shapes[:which], s, *shapes[which + 1:])
        s0 = shapes[which]
        h = 1e-5 * s0
        numeric = (at(s0 + h, theirs) - at(s0 - h, theirs)) / (2 * h)
        analytic = fg.jacrev(lambda s, ours=ours: at(s, ours))(s0)
        np.testing.assert_allclose(analytic, numeric, rtol=2e-5, atol=1e-9, err_msg=method)


def _log_likelihood(x, m, s, p):
    return (fnp.sum(stats.norm.logpdf(x, m, s)) + fnp.sum(stats.t.logpdf(x, 3.0, m, s))
            + fnp.sum(stats.gamma.logpdf(fnp.abs(x), 2.0, 0.0, s))
            + fnp.sum(stats.norm.logcdf(x, m, s))
            + fnp.sum(stats.poisson.logpmf(fnp.floor(fnp.abs(x)), s))
            + fnp.sum(stats.binom.logpmf(fnp.floor(fnp.abs(x)), 40.0, p)))


def _tails(x, m, s):
    return [stats.cauchy.logsf(x, m, s), stats.laplace.logcdf(x, m, s),
            stats.logistic.logpdf(x, m, s), stats.chi2.sf(fnp.abs(x), 3.0, 0.0, s),
            stats.expon.logcdf(x, m, s), stats.beta.logpdf(x, 2.0, 3.0, m, s)]


def test_compiled_matches_uncompiled():
    x = np.linspace(-4.0, 4.0, 9)
    with np.errstate(all="ignore"):  # the branches where() drops divide by zero
        for ours, expected in zip(fg.jit(_tails)(x, 0.3, 1.7), _tails(x, 0.3, 1.7)):
            assert_close(ours, expected)
        args = (x, 0.3, 1.7, 0.4)
        value_and_grads = fg.value_and_grad(_log_likelihood, argnums=(1, 2, 3))
        value, grads = fg.jit(value_and_grads)(*args)
        expected_value, expected_grads = value_and_grads(*args)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(grads, expected_grads, rtol=1e-10)


# ---------------------------------------------------------------------------------------
# multivariate_normal: SciPy's defaults, singular covariances, entropy


def test_multivariate_normal_defaults_and_entropy_match_scipy():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 3))
    cov, mean, x = a @ a.T + np.eye(3), rng.standard_normal(3), rng.standard_normal((4, 3))
    mvn = stats.multivariate_normal
    np.testing.assert_allclose(mvn.logpdf(x), ss.multivariate_normal.logpdf(x, np.zeros(3)))
    np.testing.assert_allclose(mvn.logpdf(x, cov=2.0),
                               ss.multivariate_normal.logpdf(x, np.zeros(3), 2.0))
    np.testing.assert_allclose(mvn.entropy(mean, cov),
                               ss.multivariate_normal.entropy(mean, cov))
    np.testing.assert_allclose(mvn.entropy(), ss.multivariate_normal.entropy())
    # d entropy / d cov = inv(cov) / 2
    np.testing.assert_allclose(fg.grad(lambda c: mvn.entropy(mean, c))(cov),
                               0.5 * np.linalg.inv(cov), atol=1e-12)


def test_multivariate_normal_allow_singular_matches_scipy():
    rng = np.random.default_rng(6)
    cov = np.zeros((4, 4))
    cov[:2, :2] = [[1.0, 0.3], [0.3, 2.0]]
    mean = np.r_[rng.standard_normal(2), 0.0, 0.0]
    inside, outside = np.r_[rng.standard_normal(2), 0.0, 0.0], np.r_[0.1, 0.2, 0.0, 1.0]
    mvn, ref = stats.multivariate_normal, ss.multivariate_normal
    for x in (inside, outside):
        np.testing.assert_allclose(mvn.logpdf(x, mean, cov, allow_singular=True),
                                   ref.logpdf(x, mean, cov, allow_singular=True))
        np.testing.assert_allclose(mvn.pdf(x, mean, cov, allow_singular=True),
                                   ref.pdf(x, mean, cov, allow_singular=True))

    def along_support(v):  # vary only the directions the distribution covers
        return mvn.logpdf(fnp.concatenate([v, fnp.zeros(2)]), mean, cov, allow_singular=True)
    check_grads(along_support, [inside[:2]])
    with pytest.raises(ShapeError, match="not a stack"):
        mvn.logpdf(inside, mean, np.stack([cov, cov]), allow_singular=True)


@pytest.mark.parametrize("name,shape", [("gamma", 1.5), ("gamma", 0.3), ("chi2", 2.5),
                                        ("chi2", 9.0)])
def test_gamma_family_cdf_and_sf_differentiate_in_the_shape(name, shape):
    x = np.array([0.2, 1.0, 3.0, 7.5])
    h = 1e-6 * shape
    for method in ("cdf", "sf"):
        ours = getattr(getattr(stats, name), method)
        theirs = getattr(getattr(ss, name), method)
        numeric = (theirs(x, shape + h) - theirs(x, shape - h)) / (2 * h)
        np.testing.assert_allclose(fg.jacrev(lambda s, ours=ours: ours(x, s))(shape), numeric,
                                   rtol=1e-5, atol=1e-9)
    # the far upper tail, relative to its own size (logsf's slope)
    far = np.array([40.0, 150.0])
    theirs = getattr(ss, name).sf
    slope = (np.log(theirs(far, shape + h)) - np.log(theirs(far, shape - h))) / (2 * h)
    logsf = getattr(stats, name).logsf
    np.testing.assert_allclose(fg.jacrev(lambda s: logsf(far, s))(shape), slope, rtol=1e-5)


def test_t_cdf_and_sf_differentiate_at_the_centre():
    """At x = loc the cdf's incomplete beta function has an infinite slope in z^2, whose own
    slope is 0: the gradient used to be nan there. It is the density."""
    for method, sign in (("cdf", 1.0), ("sf", -1.0)):
        fn = getattr(stats.t, method)
        for x in (0.0, 1e-9, -3e-9):
            np.testing.assert_allclose(fg.grad(lambda x, fn=fn: fn(x, 3.0))(x),
                                       sign * ss.t.pdf(x, 3.0), rtol=1e-12)
        assert fg.grad(lambda df, fn=fn: fn(0.0, df))(3.0) == 0.0
        np.testing.assert_allclose(fg.grad(lambda loc, fn=fn: fn(1.0, 2.5, loc, 2.0))(1.0),
                                   -sign * ss.t.pdf(1.0, 2.5, 1.0, 2.0), rtol=1e-12)
    assert fg.grad(fg.grad(lambda x: stats.t.cdf(x, 3.0)))(0.0) == 0.0  # pdf'(0)


def test_log_probabilities_outside_the_support_have_gradient_zero():
    """log cdf below the support (log sf above it) is -inf, as SciPy's, and flat: its
    gradient is 0 (JAX's), not log's 0 / 0 = nan, which would poison a whole gradient.
    A nan point stays nan."""
    cases = [(lambda x: stats.expon.logcdf(x, 1.0, 2.0), 0.3),
             (lambda x: stats.gamma.logcdf(x, 2.0), -0.5),
             (lambda x: stats.uniform.logsf(x, 0.0, 1.0), 2.0),
             (lambda x: stats.uniform.logcdf(x, 0.0, 1.0), -1.0)]
    with np.errstate(all="ignore"):  # (the branch not taken may divide by 0)
        for f, x in cases:
            assert f(x) == -np.inf
            assert fg.grad(f)(x) == 0.0
        assert np.isnan(stats.expon.logcdf(np.nan, 1.0, 2.0))
        inside = lambda x: stats.expon.logcdf(x, 1.0, 2.0)  # noqa: E731
        np.testing.assert_allclose(fg.grad(inside)(3.0),
                                   0.5 * np.exp(-1.0) / (1 - np.exp(-1.0)), rtol=1e-13)


def _edge_slopes(x):
    """d/dx of cdf, sf and logsf at the support's edges, in the order of EDGE_SLOPES."""
    fns = [lambda x: stats.expon.cdf(x, 1.0, 2.0), lambda x: stats.expon.sf(x, 1.0, 2.0),
           lambda x: stats.expon.logsf(x, 1.0, 2.0), lambda x: stats.uniform.cdf(x, 1.0, 2.0),
           lambda x: stats.uniform.sf(x, 1.0, 2.0), lambda x: stats.pareto.cdf(x, 2.0),
           stats.laplace.cdf, stats.laplace.sf, lambda x: stats.gamma.cdf(x, 1.0),
           lambda x: stats.beta.cdf(x, 1.0, 1.0)]
    return [fg.grad(f)(x[i]) for i, f in enumerate(fns)]


# the point (an edge of the support) and the slope there: the density from inside, as JAX's
# expon, uniform and pareto (clip would give half of it); laplace's cdf is smooth at its
# centre; gamma's and beta's cdf are flat at their edges, as JAX's (the slope from outside)
EDGE_SLOPES = [(1.0, 0.5), (1.0, -0.5), (1.0, -0.5), (1.0, 0.5), (1.0, -0.5), (1.0, 2.0),
               (0.0, 0.5), (0.0, -0.5), (0.0, 0.0), (1.0, 0.0)]


def test_slopes_at_the_edges_of_the_support_follow_jax():
    x = np.array([point for point, _ in EDGE_SLOPES])
    expected = [slope for _, slope in EDGE_SLOPES]
    with np.errstate(all="ignore"):
        for tier in (_edge_slopes, fg.jit(_edge_slopes, compile="sync")):
            np.testing.assert_allclose(tier(x), expected, rtol=1e-15)
    np.testing.assert_allclose(fg.grad(stats.uniform.cdf)(0.0), 1.0)  # the lower edge too


# ---------------------------------------------------------------------------------------
# the distributions without loc and scale, quantiles, far tails, and sem, rankdata, mode


def test_vonmises_gennorm_and_quantiles_match_scipy():
    x = np.append(X, [np.nan, 1e3])
    with np.errstate(all="ignore"):
        for kappa in (0.0, 0.5, 3.0, 800.0, -1.0):
            for f in ("logpdf", "pdf"):
                assert_close(getattr(stats.vonmises, f)(x, kappa),
                             getattr(ss.vonmises, f)(x, kappa), rtol=1e-12)
        for beta in (0.5, 1.0, 2.0, 8.0, 0.0):
            for f in ("logpdf", "pdf", "cdf"):
                assert_close(getattr(stats.gennorm, f)(x, beta),
                             getattr(ss.gennorm, f)(x, beta), rtol=1e-12)
        q = np.array([-0.1, 0.0, 1e-10, 0.3, 0.5, 0.999, 1.0, 1.1, np.nan])
        for name, shapes in (("pareto", (2.0, 1.0, 3.0)), ("gumbel_r", (1.0, 2.0)),
                             ("gumbel_l", (1.0, 2.0)), ("pareto", (2.0, 0.0, -1.0))):
            assert_close(getattr(stats, name).ppf(q, *shapes), getattr(ss, name).ppf(q, *shapes),
                         rtol=1e-13)
        # invalid parameters: nan, as SciPy (the bounds of truncnorm in the wrong order)
        for ours, theirs, args in ((stats.truncnorm.logpdf, ss.truncnorm.logpdf, (1.0, -1.0)),
                                   (stats.nbinom.logpmf, ss.nbinom.logpmf, (0.0, 0.5)),
                                   (stats.geom.pmf, ss.geom.pmf, (0.0,)),
                                   (stats.betabinom.pmf, ss.betabinom.pmf, (2.5, 1.0, 1.0))):
            assert_close(ours(np.array([0.0, 1.0]), *args), theirs(np.array([0.0, 1.0]), *args))


def test_far_tails_keep_their_digits():
    """Where SciPy's formulas round to 0 or overflow to -inf, the logarithms here still
    have the value: Gumbel tails (log sf ~ -z), the log cdf of Pareto near 1 and 1e100, a
    normal truncated to [30, 31] or [-40, -39] (its mass is e^-450)."""
    z = np.array([750.0, 1e4, 1e100])
    np.testing.assert_allclose(stats.gumbel_r.logsf(z), -z, rtol=1e-15)
    np.testing.assert_allclose(stats.gumbel_l.logcdf(-z), -z, rtol=1e-15)
    assert stats.pareto.logcdf(1e100, 2.0) == pytest.approx(-1e-200, rel=1e-14)
    assert stats.pareto.cdf(1 + 1e-12, 2.0) == pytest.approx(2e-12, rel=1e-3)
    import mpmath
    for lo, hi, x in ((30.0, 31.0, 30.5), (-40.0, -39.0, -39.7), (5.0, np.inf, 7.0)):
        if lo > 0:   # mirrored into the lower tail, where mpmath's ncdf keeps the digits
            lo, hi, x = -hi, -lo, -x
            mass = mpmath.ncdf(hi) - mpmath.ncdf(lo)
            below = (mpmath.ncdf(hi) - mpmath.ncdf(x)) / mass
            lo, hi, x = -hi, -lo, -x
        else:
            mass = mpmath.ncdf(hi) - mpmath.ncdf(lo)
            below = (mpmath.ncdf(x) - mpmath.ncdf(lo)) / mass
        density = mpmath.npdf(x) / mass
        assert stats.truncnorm.logpdf(x, lo, hi) == pytest.approx(float(mpmath.log(density)),
                                                                  rel=1e-12)
        assert stats.truncnorm.logcdf(x, lo, hi) == pytest.approx(float(mpmath.log(below)),
                                                                  rel=1e-10)
        assert stats.truncnorm.logsf(x, lo, hi) == pytest.approx(
            float(mpmath.log(1 - below)), rel=1e-10)


def test_sem_rankdata_and_mode_match_scipy():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 4, (5, 7)).astype(float)
    a[1, 2] = np.nan
    b = rng.integers(0, 4, (5, 7))
    for axis in (None, 0, 1):
        for method in ("average", "min", "max", "dense", "ordinal"):
            for data in (a, b):
                assert_close(stats.rankdata(data, method, axis=axis),
                             ss.rankdata(data, method, axis=axis).astype(float))
        for keepdims in (False, True):
            for data in (a, b):
                ours, theirs = stats.mode(data, axis, keepdims=keepdims), ss.mode(
                    data, axis, keepdims=keepdims)
                assert_close(ours.mode, theirs.mode)
                np.testing.assert_array_equal(ours.count, theirs.count)
        for policy in ("propagate", "omit"):
            assert_close(stats.sem(a, axis, nan_policy=policy),
                         ss.sem(a, axis, nan_policy=policy), rtol=1e-14)
        assert_close(stats.sem(a, axis, ddof=0, keepdims=True),
                     ss.sem(a, axis, ddof=0, keepdims=True), rtol=1e-14)
    # nan is a value to mode (the mode when the most frequent); a slice with nan ranks nan
    assert np.isnan(stats.mode(np.array([1.0, 2.0, 2.0, np.nan, np.nan, np.nan])).mode)
    assert stats.mode(np.array([1.0, 1.0, 1.0, np.nan])).count == 3
    with pytest.raises(fg.FuncgradValueError, match="rankdata's method is one of"):
        stats.rankdata(a, "first")
    with pytest.raises(fg.FuncgradValueError, match="'omit' is not implemented"):
        stats.mode(a, nan_policy="omit")
    with pytest.raises(fg.FuncgradValueError, match="sem's nan_policy"):
        stats.sem(a, nan_policy="raise")


def _slopes_in_x_and_shape(x, shape):
    cdfs = [stats.t.cdf, stats.t.logsf, stats.gennorm.cdf]
    return [fg.vmap(fg.grad(f, argnums=(0, 1)), in_axes=(0, None))(x, shape) for f in cdfs]


def test_slopes_at_infinity_and_at_gennorms_centre():
    """t's cdf and gennorm's are flat at +-inf (their formulas gave nan slopes there, in x and
    in the shape), and gennorm's cdf has the density as slope at 0 (|x|^beta's slope made it
    0), in both tiers."""
    x = np.array([-np.inf, 0.0, np.inf])
    for shape in (0.7, 3.5):
        for tier in (_slopes_in_x_and_shape, fg.jit(_slopes_in_x_and_shape, compile="sync")):
            (t_x, t_df), (lsf_x, lsf_df), (g_x, g_beta) = tier(x, shape)
            for got in (t_x, t_df, lsf_x, lsf_df, g_x, g_beta):
                assert got[0] == 0.0 and got[2] == 0.0
            np.testing.assert_allclose(t_x[1], ss.t.pdf(0.0, shape), rtol=1e-13)
            np.testing.assert_allclose(g_x[1], ss.gennorm.pdf(0.0, shape), rtol=1e-13)
            assert g_beta[1] == 0.0   # cdf(0) is 1/2 for every beta


def test_mode_of_an_empty_axis_is_nan_with_count_zero():
    """As SciPy's and JAX's (it raised): mode nan and count 0.0, float64 both, whatever the
    input's dtype; eagerly and compiled, with keepdims and axis=None."""
    for shape, axis in [((0,), 0), ((2, 0), 1), ((0, 3), 0), ((2, 0, 3), -2), ((0, 3), None)]:
        for keepdims in (False, True):
            ours = stats.mode(np.zeros(shape, np.int32), axis, keepdims=keepdims)
            with warnings.catch_warnings():  # SciPy's SmallSampleWarning
                warnings.simplefilter("ignore")
                theirs = ss.mode(np.zeros(shape), axis, keepdims=keepdims)
            for got, expected in zip(ours, theirs):
                assert got.dtype == np.float64 and np.shape(got) == np.shape(expected)
                np.testing.assert_array_equal(got, expected)
    compiled = fg.jit(lambda x: stats.mode(x, axis=1), compile="sync")(np.zeros((2, 0)))
    assert np.isnan(compiled.mode).all() and (compiled.count == 0).all()


def _new_distributions(x, p):
    z = fnp.abs(x) + 1.5
    k = fnp.floor(fnp.abs(x))
    return [stats.pareto.logpdf(z, p + 1.0), stats.gumbel_r.logsf(x, 0.3, p),
            stats.gumbel_l.cdf(x, 0.3, p), stats.truncnorm.logcdf(x, -1.0, p + 2.0),
            stats.vonmises.logpdf(x, p), stats.gennorm.cdf(x, p + 1.0),
            stats.geom.logpmf(k + 1, p / 2), stats.nbinom.logpmf(k, p + 1.0, 0.3),
            stats.betabinom.logpmf(k, 9.0, p, 2.0), stats.sem(x),
            stats.rankdata(x), stats.mode(k).mode]


def test_new_distributions_compiled_and_batched():
    x = np.linspace(-4.0, 4.0, 9)
    expected = _new_distributions(x, 0.7)
    with np.errstate(all="ignore"):
        compiled = fg.jit(_new_distributions)(x, 0.7)
    for ours, reference in zip(compiled, expected):
        assert_close(ours, reference, rtol=1e-11)
    batched = fg.vmap(_new_distributions, in_axes=(0, None))(np.stack([x, x[::-1]]), 0.7)
    for ours, reference in zip(batched, expected):
        assert_close(ours[0], reference, rtol=1e-12)
