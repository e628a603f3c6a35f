"""funcgrad.scipy.special against SciPy: values, derivatives against finite differences, and
compiled code (whose routines are funcgrad's own, compile/scalar_math.py) against SciPy over
each function's whole domain, large and small arguments included.

Accuracy reached by the compiled routines, as relative error against SciPy (with an absolute
floor only where a function crosses zero):
    digamma 1e-13 (abs 1e-15 near its root 1.4616), polygamma, zeta 1e-13,
    erfinv, ndtri 2e-15, log_ndtr 1e-13, i0e, i1e 5e-15, betaln 1e-13 (SciPy's own error is
    larger for very unequal arguments: there the reference values are mpmath's),
    gammainc, gammaincc 1e-13 for a and x from 1e-3 to 1e10 down to values of 1e-100 (below,
    both lose ~1e-13 more to the rounding of an exponent of some hundreds).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sc

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import special as S
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
WIDE = np.concatenate([-np.logspace(-10, 3, 120), np.logspace(-300, 300, 160),
                       RNG.uniform(-20, 20, 120), [0.0, -0.0, np.inf, -np.inf, np.nan, -3.0]])
PROBABILITIES = np.concatenate([np.logspace(-320, -1, 120), 1 - np.logspace(-16, -1, 40),
                                RNG.uniform(0, 1, 120), [0, 1, 0.5, 0.5 + 1e-12, 0.25, 0.75,
                                                         -1, 2, np.nan]])
ERF_VALUES = np.concatenate([np.logspace(-300, 0, 100), -np.logspace(-300, 0, 60),
                             1 - np.logspace(-16, -1, 40), RNG.uniform(-1, 1, 100), [1.5]])


def _compiled(name, *args):
    """scipy.special.<name> as fg.jit compiles it (with compile/scalar_math.py's routines)."""
    return fg.jit(getattr(S, name))(*args)


def assert_matches(ours, reference, rtol, atol=0.0):
    """Equal within tolerance, with nan, inf and their signs in the same places."""
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    finite = np.isfinite(reference)
    np.testing.assert_array_equal(ours[~finite & ~np.isnan(reference)],
                                  reference[~finite & ~np.isnan(reference)])
    np.testing.assert_allclose(ours[finite], reference[finite], rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, points, rtol, atol", [
    ("digamma", WIDE, 1e-13, 1e-15),
    ("i0e", WIDE, 5e-15, 0.0),
    ("i1e", WIDE, 5e-15, 0.0),
    ("log_ndtr", WIDE, 1e-13, 0.0),
    ("ndtri", PROBABILITIES, 2e-15, 0.0),
    ("erfinv", ERF_VALUES, 2e-15, 0.0),
])
def test_compiled_unary_routines_match_scipy(name, points, rtol, atol):
    with np.errstate(all="ignore"):
        assert_matches(_compiled(name, points), getattr(sc, name)(points),
                       rtol, atol)


def _grid(first, second):
    a, b = np.meshgrid(first, second)
    return a.ravel(), b.ravel()


def test_compiled_zeta_and_polygamma_match_scipy():
    s, q = _grid([1.0, 1.5, 2, 3, 5, 10, 30, 0.5],
                 np.concatenate([np.logspace(-5, 8, 30), [-0.5, -2.5, -3.0, 0.0]]))
    assert_matches(_compiled("zeta", s, q), sc.zeta(s, q), 1e-13)
    n, x = _grid([0, 1, 2, 3, 5, 10], np.concatenate([np.logspace(-5, 6, 30), [-0.5, -2.5]]))
    assert_matches(_compiled("polygamma", n, x), sc.polygamma(n, x), 1e-13)


def test_compiled_betaln_matches_scipy_and_mpmath():
    a, b = _grid(np.concatenate([np.logspace(-5, 8, 25), [-0.5, -2.5, -7.3]]),
                 np.logspace(-5, 12, 25))
    with np.errstate(all="ignore"):
        assert_matches(_compiled("betaln", a, b), sc.betaln(a, b), 1e-8)
    # where SciPy itself loses digits (mpmath with 40 digits: log(beta(a, b)))
    for a, b, reference in [(681292.0690579594, 0.1778279410038923, -0.7402521157835447633),
                            (1e10, 1e10, -13862943621.44631952982),
                            (0.5, 1e12, -13.24314561503944902)]:
        assert _compiled("betaln", a, b) == pytest.approx(reference, rel=1e-13)
    # an infinite argument, and Gamma's poles, where the three lgammas gave inf - inf = nan
    a = np.array([2.0, 0.5, 0.0, -2.5, -2.0, -2.0, -1.0, 0.0, -2.0, 1.0])
    b = np.array([np.inf, np.inf, 2.0, np.inf, 1.0, 2.0, 1.0, 0.0, -1.0, -1.0])
    with np.errstate(all="ignore"):
        assert_matches(_compiled("betaln", a, b), sc.betaln(a, b), 1e-15)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_compiled_incomplete_gamma_matches_scipy(name):
    x = np.concatenate([np.logspace(-5, 3, 30), [0.0, np.inf]])
    for shapes, rtol in [(np.concatenate([np.logspace(-3, 2, 20), [0.0]]), 1e-11),
                         (np.array([1e3, 1e4]), 1e-9)]:
        a, xs = _grid(shapes, x)
        ours, reference = _compiled(name, a, xs), getattr(sc, name)(a, xs)
        tiny = np.abs(reference) < 1e-290  # SciPy and funcgrad underflow at slightly apart x
        assert_matches(ours[~tiny], reference[~tiny], rtol)
    assert np.isnan(_compiled("gammainc", np.array([-1.0, 1.0]), np.array([1.0, -1.0]))).all()


def test_compiled_incomplete_gamma_for_large_shapes():
    """Log-spaced a and x from 1e-3 to 1e10, x = a and x within a few sqrt(a) of a, where
    the series and the continued fraction took ~sqrt(a) steps and a log x - x - lgamma(a)
    cancelled (P(1e8, 1e8) was off by 2.5e-8, P(1e10, x) by a factor 9): against SciPy
    down to 1e-100 (below, both lose ~D eps to the rounding of the exponent D ~ 100s)."""
    grid = np.logspace(-3, 10, 27)
    a, x = _grid(grid, grid)
    a = np.concatenate([a] + [grid] * 4)
    x = np.concatenate([x] + [grid + k * np.sqrt(grid) for k in (-3.0, -0.5, 0.5, 3.0)])
    a, x = a[x > 0], x[x > 0]
    for name in ("gammainc", "gammaincc"):
        ours, reference = _compiled(name, a, x), getattr(sc, name)(a, x)
        shown = reference > 1e-100
        np.testing.assert_allclose(ours[shown], reference[shown], rtol=1e-13)
        assert (ours[~shown] < 1e-99).all()
    # five sds below a = 1e10 SciPy's own series stops early (2.8e-8): mpmath's value
    a, x = np.array([1e10, 1e8]), np.array([1e10 - 5e5, 1e8 - 5e4])
    np.testing.assert_allclose(_compiled("gammainc", a, x),
                               [2.8653265451088904e-07, 2.854642139958626e-07], rtol=1e-13)



def test_compiled_bessel_and_digamma_at_the_largest_floats():
    # i0e, i1e(1.8e308) were 0 (2 pi x overflowed), i0 nan; digamma of float32 -3.4e38 was
    # 90.9 (math.floor's int64 overflowed), not nan: every float that large is a pole
    big = np.array([np.finfo(np.float64).max, -np.finfo(np.float64).max, 1e300])
    f32 = np.array([-np.finfo(np.float32).max, -1e30, 2.5], np.float32)
    got = fg.jit(lambda x, y: (S.i0e(x), S.i1e(x), S.i0(x), S.digamma(y)), compile="sync")(big, f32)
    for ours, reference in zip(got, (sc.i0e(big), sc.i1e(big), sc.i0(big))):
        assert_matches(ours, reference, 1e-15)
    assert_matches(got[3], sc.digamma(f32.astype(np.float64)).astype(np.float32), 1e-6)
    assert np.isnan(got[3][:2]).all()

def _temme_coefficients(terms, powers):
    """TEMME[k][n] of compile/scalar_math.py, exactly: eta^n's coefficient in Temme's c_k
    (DLMF 8.12.8-8.12.9), c_0 = 1/mu - 1/eta with mu = x/a - 1 as a series in eta (from
    mu mu' = eta (1 + mu)), c_k = c_(k-1)' / eta + (-1)^k g_k / mu, g_k Stirling's."""
    from fractions import Fraction
    order = powers + 2 * terms + 2
    mu = [Fraction(0), Fraction(1)] + [Fraction(0)] * order
    for n in range(2, order + 2):
        mu[n] = (mu[n - 1] - sum(mu[i] * (n + 1 - i) * mu[n + 1 - i] for i in range(2, n))) \
            / (n + 1)
    over_mu = [Fraction(1)] + [Fraction(0)] * order  # eta / mu
    for n in range(1, order + 1):
        over_mu[n] = -sum(mu[j + 1] * over_mu[n - j] for j in range(1, n + 1))
    # Gamma(z) e^z z^(1/2 - z) / sqrt(2 pi) = sum g_k z^-k = exp(sum B_2m / (2m (2m-1)) z^(1-2m))
    bernoulli = [Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30),
                 Fraction(5, 66), Fraction(-691, 2730), Fraction(7, 6)]
    log_g = [Fraction(0)] * (terms + 1)
    for m in range(1, (terms + 2) // 2 + 1):
        if 2 * m - 1 <= terms:
            log_g[2 * m - 1] = bernoulli[m - 1] / (2 * m * (2 * m - 1))
    g = [Fraction(1)] + [Fraction(0)] * terms
    for n in range(1, terms + 1):
        g[n] = sum(j * log_g[j] * g[n - j] for j in range(1, n + 1)) / n
    c = over_mu[1:]
    rows = [c[:powers]]
    for k in range(1, terms):
        assert c[1] + (-1) ** k * g[k] == 0  # the poles at eta = 0 cancel
        c = [(n + 2) * c[n + 2] + (-1) ** k * g[k] * over_mu[n + 1] for n in range(len(c) - 2)]
        rows.append(c[:powers])
    return rows


def test_temme_coefficients_are_the_exact_ones():
    from funcgrad.compile.scalar_math import TEMME
    exact = np.array(_temme_coefficients(*TEMME.shape), dtype=float)
    assert exact[0, :3].tolist() == [-1 / 3, 1 / 12, -2 / 135]  # DLMF 8.12.10
    assert exact[1, 0] == -1 / 540
    np.testing.assert_array_equal(TEMME, exact)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_compiled_incomplete_gamma_for_tiny_and_infinite_shapes(name):
    # Q is small for small a and x <= 1.1: 1 - P lost its digits (Q(1e-300, 1e-300) was
    # -2e-14, Q(1e-10, 1e-10) off by 1e-6); P(inf, x) = 0 was nan
    a, x = _grid(np.array([1e-300, 1e-100, 1e-10, 1e-5, 0.05, 0.3, 0.9, 1.2, np.inf]),
                 np.array([1e-300, 1e-10, 0.01, 0.3, 0.5, 0.8, 1.1, 3.0, np.inf]))
    assert_matches(_compiled(name, a, x), getattr(sc, name)(a, x), 1e-13)


def test_compiled_betainc_matches_scipy():
    a, b = _grid(np.logspace(-3, 3, 13), np.logspace(-3, 3, 13))
    for x in [1e-12, 1e-3, 0.3, 0.5, 0.9, 1 - 1e-9]:
        reference = sc.betainc(a, b, x)
        tiny = reference < 1e-280  # where SciPy and funcgrad underflow a little apart
        assert_matches(_compiled("betainc", a, b, np.full_like(a, x))[~tiny], reference[~tiny],
                       1e-11)
    assert_matches(_compiled("betainc", np.array([1.0, -1.0, 2.0, 2.0]),
                             np.array([1.0, 1.0, 2.0, 2.0]), np.array([0.0, 0.5, 1.0, 1.5])),
                   [0.0, np.nan, 1.0, np.nan], 0.0)


UNARY = ["gammaln", "digamma", "gamma", "erf", "erfc", "erfinv", "erfcinv", "ndtr", "log_ndtr",
         "ndtri", "i0e", "i1e", "entr", "expit", "logit", "log_expit"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_match_scipy(name):
    x = np.array([-3.5, -0.5, 0.0, 1e-8, 0.3, 0.5, 1.0, 1.7, 2.0, 25.0, 200.0, np.nan])
    if name in ("erfinv", "ndtri", "logit", "erfcinv"):
        x = np.array([-0.5, 0.0, 1e-20, 0.01, 0.3, 0.5, 0.99, 1.0, 1.5, 2.0])
    with np.errstate(all="ignore"):
        assert_matches(getattr(S, name)(x), getattr(sc, name)(x), 1e-14, 1e-300)


def test_binary_values_match_scipy():
    x = np.array([0.0, 0.0, 0.0, 0.5, 2.0, 3.0, -1.0, 1e-10, np.nan, 1.0, np.nan])
    y = np.array([0.0, 1.0, -1.0, 0.25, 3.0, -0.5, 2.0, 7.0, 1.0, np.nan, np.nan])
    with np.errstate(all="ignore"):
        for name in ["xlogy", "xlog1py", "rel_entr", "kl_div"]:
            assert_matches(getattr(S, name)(x, y), getattr(sc, name)(x, y), 1e-14)
    a = np.array([0.5, 1.0, 2.5, 10.0, -0.5, -2.5, 1e5])
    b = np.array([0.5, 3.0, 1e-3, 10.0, 1.0, 4.2, 3.0])
    assert_matches(S.beta(a, b), sc.beta(a, b), 1e-13)
    assert_matches(S.betaln(a, b), sc.betaln(a, b), 1e-13)
    assert_matches(S.gammainc(np.abs(a), np.abs(b)), sc.gammainc(np.abs(a), np.abs(b)), 1e-14)
    assert_matches(S.polygamma(np.array([0, 1, 2, 4]), 2.5), sc.polygamma([0, 1, 2, 4], 2.5),
                   1e-14)
    assert_matches(S.zeta(np.array([2.0, 3.5]), np.array([1.0, 0.25])),
                   sc.zeta([2.0, 3.5], [1.0, 0.25]), 1e-14)
    assert S.zeta(3.0) == pytest.approx(sc.zeta(3.0), rel=1e-15)
    for d in (1, 3):
        assert_matches(S.multigammaln(np.array([2.5, 40.0]), d),
                       [sc.multigammaln(2.5, d), sc.multigammaln(40.0, d)], 1e-14)


def test_logsumexp_of_a_fully_masked_row_has_gradient_zero_in_a():
    # b as a mask: a row with every b == 0 is -inf, and its gradient in a is 0 (JAX's), not
    # 0 * inf = nan, so it can be dropped by a where() without poisoning the gradient
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [1.0, 0.0]])

    def loss(a):
        out = S.logsumexp(a, axis=1, b=b)
        return fnp.sum(fnp.where(fnp.isfinite(out), out, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        assert_matches(S.logsumexp(a, axis=1, b=b), [-np.inf, 3.0], 0.0)
        np.testing.assert_array_equal(fg.grad(loss)(a), [[0.0, 0.0], [1.0, 0.0]])
    # the gradient in b at a zero weight is still exp(a) / sum (JAX's is 0)
    slope = fg.grad(lambda b: S.logsumexp(np.array([1.0, 2.0]), b=b))(np.array([1.0, 0.0]))
    np.testing.assert_allclose(slope, [1.0, np.e], rtol=1e-15)


def test_float32_stays_float32_and_integers_become_float64():
    x32 = np.array([0.5, 2.0], np.float32)
    assert S.gammaln(x32).dtype == np.float32
    assert S.gammainc(x32, x32).dtype == np.float32
    for f in (S.rel_entr, S.kl_div):
        assert f(x32, x32).dtype == np.float32
    assert S.entr(x32).dtype == np.float32
    assert S.digamma(np.array([1, 2])).dtype == np.float64
    assert S.polygamma(1, x32).dtype == np.float32
    # the sign-carrying ones too: their +-1 were float64 and promoted the result
    for f in (S.gammasgn, S.rgamma, lambda x: S.beta(x, x)):
        assert f(np.array([-0.5, 2.0], np.float32)).dtype == np.float32
    assert S.gammasgn(np.array([-1, 2])).dtype == np.float64


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_logsumexp_with_weights_and_sign(axis):
    a = np.array([[0.0, 1e3, -2.0], [1.0, 2.0, 3.0]])
    b = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -3.0]])
    ours, sign = S.logsumexp(a, axis=axis, b=b, return_sign=True)
    reference, ref_sign = sc.logsumexp(a, axis=axis, b=b, return_sign=True)
    assert_matches(ours, reference, 1e-14)
    np.testing.assert_array_equal(sign, ref_sign)
    with np.errstate(invalid="ignore"):
        assert_matches(S.logsumexp(a, axis=axis, b=b, keepdims=True),
                       sc.logsumexp(a, axis=axis, b=b, keepdims=True), 1e-14)
    assert_matches(S.logsumexp(a, axis=axis), sc.logsumexp(a, axis=axis), 1e-14)


def test_softmax_defaults_to_all_axes_as_scipy():
    x = np.array([[1.0, 2.0], [3.0, 1e3]])
    for axis in (None, 0, -1):
        assert_matches(S.softmax(x, axis=axis), sc.softmax(x, axis=axis), 1e-14)
        assert_matches(S.log_softmax(x, axis=axis), sc.log_softmax(x, axis=axis), 1e-14)


GRADIENT_CASES = [
    (S.gammaln, [np.array([0.3, 2.5, 40.0, -1.5])]),
    (S.digamma, [np.array([0.3, 2.5, 40.0, -1.5])]),
    (S.gamma, [np.array([0.3, 2.5, 5.0, -1.5])]),
    (S.erfc, [np.array([-1.0, 0.3, 3.0])]),
    (S.erfinv, [np.array([-0.9, 0.1, 0.7])]),
    (S.erfcinv, [np.array([0.1, 1.0, 1.9])]),
    (S.ndtr, [np.array([-5.0, 0.3, 3.0])]),
    (S.log_ndtr, [np.array([-30.0, -5.0, 0.3, 3.0])]),
    (S.ndtri, [np.array([0.01, 0.3, 0.9])]),
    (S.i0e, [np.array([-3.0, 0.5, 25.0])]),
    (S.i1e, [np.array([-3.0, 0.5, 25.0])]),
    (S.entr, [np.array([0.2, 1.5])]),
    (lambda x: S.polygamma(2, x), [np.array([0.5, 3.0])]),
    (lambda q: S.zeta(3.0, q), [np.array([0.5, 3.0])]),
    (lambda x: S.gammainc(2.5, x), [np.array([0.5, 3.0, 10.0])]),
    (lambda x: S.gammaincc(0.5, x), [np.array([0.5, 3.0, 10.0])]),
    (lambda x: S.betainc(0.5, 3.0, x), [np.array([0.1, 0.5, 0.9])]),
    (S.betaln, [np.array([0.5, 3.0, 200.0]), np.array([2.0, 0.1, 300.0])]),
    (S.beta, [np.array([0.5, 3.0]), np.array([2.0, 0.1])]),
    (S.xlogy, [np.array([0.5, 3.0]), np.array([2.0, 0.1])]),
    (S.xlog1py, [np.array([0.5, 3.0]), np.array([2.0, 0.1])]),
    (S.rel_entr, [np.array([0.5, 3.0]), np.array([2.0, 0.1])]),
    (S.kl_div, [np.array([0.5, 3.0]), np.array([2.0, 0.1])]),
    (lambda a: S.multigammaln(a, 3), [np.array([2.5, 7.0])]),
    (lambda a, b: S.logsumexp(a, axis=1, b=b), [np.array([[0.0, 1.0], [2.0, -1.0]]),
                                                 np.array([[1.0, 0.5], [2.0, 3.0]])]),
    (lambda a: S.softmax(a), [np.array([[0.0, 1.0], [2.0, -1.0]])]),
    (lambda a: S.log_softmax(a, axis=0), [np.array([[0.0, 1.0], [2.0, -1.0]])]),
]


@pytest.mark.parametrize("case", range(len(GRADIENT_CASES)))
def test_gradients_match_finite_differences(case):
    f, args = GRADIENT_CASES[case]
    check_grads(f, args, order=2 if case < 3 else 1)


def test_gradients_at_edges():
    # d/dx i1e at 0 is 1/2; the gamma density at x = 0 for a = 1 is 1
    assert fg.grad(lambda x: S.i1e(x))(0.0) == pytest.approx(0.5)
    assert fg.grad(lambda x: S.gammainc(1.0, x))(0.0) == pytest.approx(1.0)
    # P(a, 0) = 0 and Q(a, 0) = 1 for every a: slope 0 in a, also for a < 1 (not 0 * inf)
    for a in (0.5, 1.0, 3.0):
        assert fg.grad(lambda a: S.gammainc(a, 0.0))(a) == 0.0
        assert fg.grad(lambda a: S.gammaincc(a, 0.0))(a) == 0.0
    # xlogy keeps the gradient of its dropped branch finite
    assert np.isfinite(fg.grad(lambda x: fnp.sum(S.xlogy(x, x)))(np.array([0.0, 1.0]))).all()
    # log_ndtr's slope far in the tail is about -x, not nan
    assert fg.grad(S.log_ndtr)(-1e3) == pytest.approx(1e3, rel=1e-5)


def test_beta_at_its_poles_is_scipys_signed_inf_in_both_tiers():
    """Where a or b is 0 or a negative integer, B(a, b) is SciPy's value: +inf, -inf where
    a is such a pole and b an odd integer with a + b < 1, and finite where Gamma(a + b)'s
    pole cancels (beta(-3, 2) = B(2, 2)); a pole wins over a nan, as SciPy's. It was -inf
    at beta(-1, 2) (the three Gammas' signs), and nan at -inf compiled."""
    v = np.array([-4.0, -3.0, -1.0, -0.5, 0.0, -0.0, 1.0, 1.5, 2.0, 3.0, np.inf, -np.inf,
                  np.nan])
    a, b = (g.ravel() for g in np.meshgrid(v, v))
    with np.errstate(all="ignore"):
        expected, expected_ln = sc.beta(a, b), sc.betaln(a, b)
        for tier in (lambda f: f, lambda f: fg.jit(f, compile="sync")):
            np.testing.assert_allclose(tier(S.beta)(a, b), expected, rtol=1e-14)
            np.testing.assert_allclose(tier(S.betaln)(a, b), expected_ln, rtol=1e-14)
    assert S.beta(-1.0, 2.0) == np.inf and S.beta(-1.0, -3.0) == -np.inf


def test_entr_derivative_follows_jax_at_and_below_zero():
    """d/dx entr is -log(x) - 1: +inf at 0 (JAX's, the slope from the right), nan below 0
    and at nan; it used to be the dropped branches' 0 (and 1 at nan)."""
    x = np.array([0.0, -0.0, -1.0, np.nan, 0.5, 2.0])
    expected = [np.inf, np.inf, np.nan, np.nan, np.log(2.0) - 1, -np.log(2.0) - 1]
    slope = fg.vmap(fg.grad(S.entr))
    for tier in (slope, fg.jit(slope, compile="sync")):
        np.testing.assert_allclose(tier(x), expected, rtol=1e-15)
    assert fg.jvp(S.entr, (2.0,), (3.0,))[1] == pytest.approx(3 * (-np.log(2.0) - 1))
    check_grads(S.entr, [np.array([0.1, 0.5, 3.0])], order=2)


def test_xlogy_derivative_in_x_at_zero_is_log_y():
    # d/dx x log(y) is log(y) at x == 0 too (JAX's value); the shape parameters of the gamma,
    # beta and Dirichlet densities go through it, at the common value 1
    assert fg.grad(S.xlogy)(0.0, 2.5) == pytest.approx(np.log(2.5))
    assert fg.grad(S.xlog1py)(0.0, 1.5) == pytest.approx(np.log(2.5))
    assert fg.grad(S.xlogy, argnums=1)(0.0, 2.5) == 0.0
    from funcgrad.scipy.stats import gamma
    a_slope = fg.grad(lambda a: gamma.logpdf(1.5, a))(1.0)
    assert a_slope == pytest.approx(np.log(1.5) - sc.digamma(1.0))
    # nan stays nan, as in SciPy
    assert np.isnan(S.xlogy(0.0, np.nan)) and np.isnan(S.xlog1py(0.0, np.nan))


def test_derivative_in_an_unsupported_argument_raises():
    with pytest.raises(S.NoDerivativeError, match="random_gamma_grad in its first"):
        fg.grad(fg.grad(lambda a: S.gammainc(a, 2.0)))(1.5)  # second order in a
    with pytest.raises(S.NoDerivativeError, match="zeta in its first argument"):
        fg.grad(lambda s: S.zeta(s, 2.0))(3.0)
    # differentiating only x is fine
    assert np.isfinite(fg.grad(lambda x: S.gammaincc(1.5, x))(2.0))


def _everything(x, p, a):
    """Every special function at once, so one compilation covers them all."""
    return [S.gammaln(x), S.digamma(x), S.gamma(x), S.erfc(x), S.erfinv(p), S.erfcinv(p + 1),
            S.ndtr(x), S.log_ndtr(x), S.ndtri(p * 0.5 + 0.5), S.i0e(x), S.i1e(x), S.entr(x),
            S.polygamma(2, a), S.zeta(2.5, a), S.betaln(a, x * x), S.beta(a, a),
            S.gammainc(a, a * 0.7), S.gammaincc(a, a * 1.3), S.betainc(a, a + 1, (p + 1) / 2),
            S.xlog1py(x, a), S.kl_div(a, p),
            S.rel_entr(a, p), S.multigammaln(a + 2.0, 2), S.logsumexp(x, b=a),
            S.softmax(x), S.log_softmax(x), S.xlogy(a, p)]


def test_compiled_matches_uncompiled():
    x = np.concatenate([-np.logspace(-3, 1.5, 8) - 0.5, np.logspace(-6, 2.5, 9)])
    p = np.linspace(-0.999, 0.999, 17)
    a = np.logspace(-2, 3, 17)
    with np.errstate(all="ignore"):
        expected = _everything(x, p, a)
        compiled = fg.jit(_everything)(x, p, a)
    for i, (ours, reference) in enumerate(zip(compiled, expected)):
        assert_matches(ours, reference, 1e-12, 1e-300), i
    grads = fg.jit(fg.grad(lambda a: fnp.sum(S.gammaln(a) + S.digamma(a) + S.i1e(a)
                                            + S.gammainc(2.0, a))))(a)
    reference = fg.grad(lambda a: fnp.sum(S.gammaln(a) + S.digamma(a) + S.i1e(a)
                                         + S.gammainc(2.0, a)))(a)
    np.testing.assert_allclose(grads, reference, rtol=1e-12)


def test_vmap_and_jvp_of_special_functions():
    a = np.random.default_rng(0).uniform(0.5, 3, size=(4, 3))
    x = np.random.default_rng(1).uniform(0.5, 3, size=(3,))

    def f(a, x):
        return S.gammainc(a, x) + S.betainc(2.0, a, x / 4) + S.digamma(a) * S.i1e(x)

    np.testing.assert_allclose(fg.vmap(f, in_axes=(0, None))(a, x),
                               np.stack([f(row, x) for row in a]), rtol=1e-15)
    np.testing.assert_allclose(fg.vmap(f, in_axes=(1, None), out_axes=1)(a.T, x),
                               f(a, x).T, rtol=1e-15)
    check_grads(lambda x: f(a, x), [x], modes=("fwd", "rev"))


# ---------------------------------------------------------------------------------------
# gammasgn, rgamma, i0, i1: composed from gammaln, i0e and i1e


SPECIAL_POINTS = np.array([-180.5, -2.5, -2.0, -1.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 3.3,
                           171.0, 180.0, 200.0, np.inf, -np.inf, np.nan])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow to inf, as SciPy's value
@pytest.mark.parametrize("name", ["gammasgn", "rgamma"])
def test_gamma_sign_and_reciprocal_match_scipy_at_poles_and_extremes(name):
    points = np.concatenate([SPECIAL_POINTS, RNG.uniform(-30, 30, 200)])
    want = getattr(sc, name)(points)
    for got in (getattr(S, name)(points), fg.jit(getattr(S, name))(points)):
        # exp(-gammaln) near the overflow edge: gammaln ~ 700 carries 700 eps of rounding
        np.testing.assert_allclose(got, want, rtol=5e-13, atol=0)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("name", ["i0", "i1"])
def test_modified_bessel_functions_match_scipy(name):
    points = np.concatenate([np.linspace(-700, 700, 401), [0.0, -0.0, 1e-300, np.nan]])
    np.testing.assert_allclose(getattr(S, name)(points), getattr(sc, name)(points), rtol=1e-14)


def test_derivatives_of_rgamma_i0_i1():
    x = np.array([0.3, 2.5, -1.5, 7.0])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(S.rgamma(x)))(x),
                               -sc.rgamma(x) * sc.digamma(x), rtol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(S.i0(x)))(x), sc.i1(x), rtol=1e-13)
    check_grads(S.i1, [x], order=2, modes=("rev", "fwd"))
    assert fg.grad(lambda x: fnp.sum(S.gammasgn(x)))(x).tolist() == [0.0] * 4


# ---------------------------------------------------------------------------------------
# Bessel functions: SciPy's compiled routines, called by symbol from generated code

BESSEL_X = np.concatenate([np.linspace(0.05, 40.0, 300), [1e-8, 700.0, 0.0, -1.5, np.inf,
                                                          np.nan]])
UNARY_BESSEL = ["j0", "j1", "y0", "y1", "k0", "k1", "k0e", "k1e"]
ORDER_BESSEL = ["jv", "jn", "yv", "yn", "iv", "ive", "kv", "kn", "kve"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", UNARY_BESSEL + ORDER_BESSEL)
def test_bessel_functions_equal_scipys_eager_and_compiled(name):
    want_fn, ours = getattr(sc, name), getattr(S, name)
    if name in UNARY_BESSEL:
        want, args = want_fn(BESSEL_X), (BESSEL_X,)
    else:
        orders = np.array([0, 1, 2, 5])[:, None] if name in ("jn", "yn", "kn") \
            else np.array([-1.5, 0.0, 0.5, 2.25, 7.0])[:, None]
        want, args = want_fn(orders, BESSEL_X), (orders, BESSEL_X)
    # the same routines eager and compiled; yn and kn are SciPy's integer-order routines,
    # which funcgrad computes as yv and kv (equal to rounding)
    tolerance = {"rtol": 1e-12} if name in ("yn", "kn") else {"rtol": 0}
    np.testing.assert_allclose(ours(*args), want, **tolerance)
    np.testing.assert_allclose(fg.jit(ours)(*args), want, **tolerance)


@pytest.mark.parametrize("name", UNARY_BESSEL)
def test_bessel_derivatives_follow_the_recurrences(name):
    x = np.array([0.3, 1.7, 5.0, 12.5])
    check_grads(getattr(S, name), [x], order=2, modes=("rev", "fwd"))


@pytest.mark.parametrize("name,order", [("jv", 1.5), ("yv", 2.0), ("iv", 0.5), ("ive", 2.5),
                                        ("kv", 1.5), ("kve", 0.5), ("jn", 3), ("kn", 2)])
def test_bessel_derivatives_in_x_and_none_in_the_order(name, order):
    x = np.array([0.3, 1.7, 5.0, 12.5])
    fn = getattr(S, name)
    check_grads(lambda x: fn(order, x), [x], order=2, modes=("rev", "fwd"))
    with pytest.raises(S.NoDerivativeError, match="the order v"):
        fg.grad(lambda v: fnp.sum(fn(v, x)))(1.5)


def test_j0_derivative_is_minus_j1_and_compiled_gradient_agrees():
    x = np.linspace(0.1, 20.0, 50)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(S.j0(x)))(x), -sc.j1(x), rtol=1e-14)
    np.testing.assert_allclose(fg.jit(fg.grad(lambda x: fnp.sum(S.iv(1.0, x))))(x),
                               0.5 * (sc.iv(0.0, x) + sc.iv(2.0, x)), rtol=1e-13)


@pytest.mark.parametrize("a", [0.05, 0.3, 1.0, 2.5, 10.0, 80.0, 500.0])
def test_gammainc_derivative_in_the_shape(a):
    """dP/da against central differences of whichever of P and Q is the smaller (the other
    one's differences lose digits to rounding near 1), eager and compiled."""
    x = np.array([1e-3, 0.1, 0.9, 2.0, 5.0, 20.0, 60.0, 200.0, 700.0])
    h = 1e-5 * a
    lower = sc.gammainc(a, x) < 0.5
    numeric = np.where(lower, sc.gammainc(a + h, x) - sc.gammainc(a - h, x),
                       sc.gammaincc(a - h, x) - sc.gammaincc(a + h, x)) / (2 * h)
    measurable = np.abs(numeric) > 1e-250
    analytic = fg.jacrev(lambda a: S.gammainc(a, x))(a)
    compiled = fg.jit(fg.jacrev(lambda a: S.gammaincc(a, x)))(a)
    np.testing.assert_allclose(analytic[measurable], numeric[measurable], rtol=1e-4)
    np.testing.assert_allclose(compiled, -analytic, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("a,b", [(0.1, 0.2), (0.7, 5.0), (2.0, 60.0), (15.0, 1.0),
                                 (200.0, 200.0)])
def test_betainc_derivatives_in_the_shapes(a, b):
    """dI/da and dI/db against central differences of whichever tail is the smaller (I or
    I_(1-x)(b, a)), eager and compiled, relative to that tail."""
    x = np.array([1e-4, 0.05, 0.3, 0.5, 0.8, 0.97, 0.9999])
    lower = sc.betainc(a, b, x) < 0.5
    for which in (0, 1):
        h = 1e-5 * (a, b)[which]
        step = np.array([h, 0.0]) if which == 0 else np.array([0.0, h])
        plus, minus = np.array([a, b]) + step, np.array([a, b]) - step
        numeric = np.where(
            lower, sc.betainc(*plus, x) - sc.betainc(*minus, x),
            sc.betainc(minus[1], minus[0], 1 - x) - sc.betainc(plus[1], plus[0], 1 - x)) / (2 * h)

        def shape_fn(s, which=which):
            return S.betainc(s, b, x) if which == 0 else S.betainc(a, s, x)
        analytic = fg.jacrev(shape_fn)((a, b)[which])
        measurable = np.abs(numeric) > 1e-250
        np.testing.assert_allclose(analytic[measurable], numeric[measurable], rtol=1e-4)
        np.testing.assert_allclose(fg.jit(fg.jacrev(shape_fn))((a, b)[which]), analytic,
                                   rtol=1e-7, atol=1e-300)


def test_logsumexp_over_an_empty_axis_is_minus_inf_as_scipys():
    """The log of an empty sum; a ShapeError (max over nothing) before."""
    import warnings

    from funcgrad.scipy.special import logsumexp
    x = np.ones((3, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # -inf without a divide-by-zero warning, as SciPy
        for got in (fg.nn.logsumexp(x, axis=1), logsumexp(x, axis=1),
                    fg.jit(lambda x: fg.nn.logsumexp(x, axis=1))(x),
                    fg.vmap(fg.nn.logsumexp)(x)):
            np.testing.assert_array_equal(got, sc.logsumexp(x, axis=1))
        value, sign = logsumexp(x, axis=1, b=np.ones((3, 0)), return_sign=True)
        np.testing.assert_array_equal(value, [-np.inf] * 3)
        np.testing.assert_array_equal(sign, [0.0] * 3)
        assert fg.grad(lambda x: fnp.sum(fg.nn.logsumexp(x, axis=1)))(x).shape == (3, 0)
        assert fg.nn.logsumexp(x, axis=0).shape == (0,)
