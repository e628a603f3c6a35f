"""funcgrad.scipy.special's exponential integrals, error-function relatives, combinatorics,
Owen's T, Spence, 1F1, sici and fresnel: values against scipy.special over wide ranges
(edges, nan, inf), eager and compiled (SciPy's own routines, called from Numba), the
closed-form derivatives against finite differences and the formulas, batched."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sc

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.testing import check_grads

LINE = np.concatenate([-np.logspace(-8, 3, 40), [0.0, -0.0, np.nan, np.inf, -np.inf],
                       np.logspace(-300, 300, 60), np.linspace(0.1, 30, 40)])
POS = np.concatenate([np.logspace(-300, 2.8, 80), [0.0, np.nan, np.inf, -1.0]])


def _assert_same(ours, reference, rtol=1e-14):
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
    np.testing.assert_allclose(ours, reference, rtol=rtol, atol=1e-300)


def _pair(first, second):
    a, b = np.meshgrid(first, second)
    return a.ravel(), b.ravel()


def _cases():
    h, a = _pair(np.concatenate([np.linspace(-8, 8, 17), [0.0, np.nan, 40.0]]),
                 np.concatenate([np.linspace(-3, 3, 13), [1e3, np.inf, np.nan]]))
    x, lm = _pair(np.concatenate([np.logspace(-8, 3, 15), [0.0, -0.5, np.nan, np.inf]]),
                  np.array([-2.0, -1e-9, 0.0, 1e-9, 0.5, 3.0, np.nan]))
    n, xs = _pair(np.array([0, 1, 2, 5, 30]), np.concatenate([np.logspace(-5, 2.8, 20),
                                                            [0.0, -1.0, np.nan]]))
    z, m = _pair(np.array([-2.5, -1.0, 0.0, 0.5, 1.0, 3.0, 10.0, 150.0]),
                 np.array([-1.5, 0.0, 0.5, 2.0, 3.0, 7.5]))
    ha, hb = _pair(np.array([-2.5, -1.0, 0.0, 0.5, 1.0, 3.0]), np.array([0.5, 1.0, 2.0, 7.0]))
    return [
        ("loggamma", (POS,)), ("exp1", (POS,)), ("expi", (LINE,)), ("erfcx", (LINE,)),
        ("dawsn", (LINE,)), ("spence", (POS,)), ("owens_t", (h, a)), ("boxcox", (x, lm)),
        ("boxcox1p", (x - 1e-12, lm)), ("expn", (n, xs)), ("poch", (z, m)),
        ("hyp1f1", (ha, hb, np.tile([0.0, -3.0, 1.5, 20.0, 0.5, 1.0], 4))),
        ("sici", (LINE,)), ("fresnel", (LINE,)),
    ]


CASES = _cases()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_values_match_scipy_eager_and_compiled():
    """Every function over its domain and past it, eager (SciPy) and compiled (SciPy's
    routines from Numba, one program for all: compiles are slow)."""
    def everything(*flat):
        out, i = [], 0
        for name, args in CASES:
            result = getattr(special, name)(*flat[i:i + len(args)])
            out.extend(result if isinstance(result, tuple) else [result])
            i += len(args)
        return out

    flat = [a for _, args in CASES for a in args]
    expected = []
    with np.errstate(all="ignore"):
        for name, args in CASES:
            result = getattr(sc, name)(*args)
            expected.extend(result if isinstance(result, tuple) else [result])
    eager = everything(*flat)
    compiled = fg.jit(everything)(*flat)
    for ours, theirs, again in zip(eager, expected, compiled):
        _assert_same(ours, theirs)
        _assert_same(again, theirs, 1e-14)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_combinatorics_match_scipy():
    n = np.array([-2.0, -0.5, 0.0, 1.0, 1.5, 5.0, 20.0, 170.0, 171.0, np.nan])
    _assert_same(special.factorial(n), sc.factorial(n, exact=False), 1e-13)
    N, k = _pair(np.array([-1.0, 0.0, 1.3, 3.0, 10.0, 50.0, 1000.0]),
                 np.array([-1.0, 0.0, 0.5, 2.0, 3.0, 10.0]))
    _assert_same(special.comb(N, k), sc.comb(N, k), 1e-11)
    ok = (N >= 0) & (k >= 0)   # SciPy's repetition gives nan for negative N or k; JAX's 0
    _assert_same(special.comb(N[ok], k[ok], repetition=True),
                 sc.comb(N[ok], k[ok], repetition=True), 1e-11)
    np.testing.assert_array_equal(special.comb(N[~ok], k[~ok], repetition=True), 0.0)
    for m in (0, 1, 2, 5, 30):
        np.testing.assert_allclose(special.bernoulli(m), sc.bernoulli(m), rtol=1e-15)
    with pytest.raises(NotImplementedError, match="exact=True"):
        special.factorial(3.0, exact=True)
    with pytest.raises(fg.FuncgradValueError, match="n >= 0"):
        special.bernoulli(-1)
    with pytest.raises(fg.FuncgradTypeError, match="concrete integer"):
        special.bernoulli(2.5)


def _slope(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_no_finite_derivative_where_the_value_is_nan():
    # loggamma and exp1 are nan for x < 0; their formulas' derivatives there were finite
    x = np.array([-2.5, -1e-3, 2.0])
    for f in (special.loggamma, special.exp1):
        assert np.isnan(f(x[:2])).all()
        slope = fg.grad(lambda v: fnp.sum(f(v)))(x)
        assert np.isnan(slope[:2]).all() and np.isfinite(slope[2])


def test_derivatives_have_their_closed_forms():
    x = np.array([0.05, 0.7, 2.0, 9.0, 40.0])
    pi = math.pi
    formulas = {
        "exp1": (special.exp1, -np.exp(-x) / x),
        "expi": (special.expi, np.exp(x) / x),
        "erfcx": (special.erfcx, 2 * x * sc.erfcx(x) - 2 / np.sqrt(pi)),
        "dawsn": (special.dawsn, 1 - 2 * x * sc.dawsn(x)),
        "loggamma": (special.loggamma, sc.digamma(x)),
        "spence": (special.spence, np.log(x) / (1 - x)),
        "si": (lambda x: special.sici(x)[0], np.sin(x) / x),
        "ci": (lambda x: special.sici(x)[1], np.cos(x) / x),
        "fresnel_s": (lambda x: special.fresnel(x)[0], np.sin(pi * x * x / 2)),
        "fresnel_c": (lambda x: special.fresnel(x)[1], np.cos(pi * x * x / 2)),
        "expn2": (lambda x: special.expn(2, x), -sc.expn(1, x)),
        "expn0": (lambda x: special.expn(0, x), -np.exp(-x) / x * (1 + 1 / x)),
    }
    for name, (f, expected) in formulas.items():
        grad = fg.vmap(fg.grad(f))(x)
        np.testing.assert_allclose(grad, expected, rtol=1e-13, err_msg=name)
        np.testing.assert_allclose(fg.jacfwd(f)(x).diagonal(), expected, rtol=1e-13,
                                   err_msg=name)
    # at the removable points: Si'(0) = 1, spence'(1) = -1
    assert fg.grad(lambda x: special.sici(x)[0])(0.0) == 1.0
    assert fg.grad(special.spence)(1.0) == -1.0
    # and smoothly through it: spence''(x) = (1 - x + x log x) / (x (1 - x)^2) -> 1/2 at 1
    # (a constant -1 there gave 0)
    for x in (1.0, 1.0 + 3e-5, 1.0 - 3e-5):
        second = 0.5 if x == 1.0 else (1 - x + x * np.log(x)) / (x * (1 - x) ** 2)
        assert fg.grad(fg.grad(special.spence))(x) == pytest.approx(second, rel=1e-4)
    # expn has no derivative in its integer order
    assert fg.grad(special.expn, argnums=1)(3, 1.5) == pytest.approx(-sc.expn(2, 1.5),
                                                                     rel=1e-14)


@pytest.mark.parametrize("f, args", [
    (special.owens_t, [np.array([-2.0, 0.3, 1.7]), np.array([0.5, -1.5, 3.0])]),
    (special.boxcox, [np.array([0.3, 1.7, 5.0]), np.array([-1.2, 0.4, 2.0])]),
    (special.boxcox1p, [np.array([-0.3, 1e-3, 5.0]), np.array([-1.2, 0.4, 2.0])]),
    (special.poch, [np.array([0.5, 1.7, 5.0]), np.array([-0.3, 0.4, 2.0])]),
    (special.hyp1f1, [np.array([0.5, 1.7, -0.4]), np.array([1.5, 0.8, 2.0]),
                      np.array([-1.0, 0.4, 3.0])]),
    (lambda N, k: special.comb(N, k), [np.array([4.5, 10.0]), np.array([1.5, 3.0])]),
    (special.factorial, [np.array([0.5, 3.0, 7.2])]),
])
def test_gradients_match_finite_differences(f, args):
    check_grads(f, args, modes=("fwd", "rev"))


def test_boxcox_derivative_in_lambda_near_zero():
    """d/dlmbda boxcox = (log x)^2 / 2 at lmbda = 0, and continuous through it (the formula
    (x^l log x - boxcox) / l cancels there: a series takes over)."""
    x = np.array([0.2, 3.0, 50.0])
    for lm in (0.0, 1e-9, -1e-6, 2e-3):
        ours = fg.vmap(fg.grad(special.boxcox, argnums=1), in_axes=(0, None))(x, lm)
        h = 1e-4
        expected = (sc.boxcox(x, lm + h) - sc.boxcox(x, lm - h)) / (2 * h)
        np.testing.assert_allclose(ours, expected, rtol=1e-7, err_msg=str(lm))
    np.testing.assert_allclose(
        fg.vmap(fg.grad(special.boxcox, argnums=1), in_axes=(0, None))(x, 0.0),
        np.log(x) ** 2 / 2, rtol=1e-15)


def test_float32_and_batched():
    x = np.array([0.5, 2.0], np.float32)
    for name in ("exp1", "expi", "erfcx", "dawsn", "loggamma", "spence"):
        assert getattr(special, name)(x).dtype == np.float32, name
    assert special.sici(x)[1].dtype == np.float32
    rows = np.array([[0.5, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(fg.vmap(lambda r: special.owens_t(r, 0.5))(rows),
                               sc.owens_t(rows, 0.5), rtol=1e-15)
    np.testing.assert_allclose(fg.vmap(special.hyp1f1, in_axes=(0, None, None))(
        rows[:, 0], 2.0, 1.5), sc.hyp1f1(rows[:, 0], 2.0, 1.5), rtol=1e-15)


def test_compiled_gradients_agree():
    def loss(x):
        s, c = special.fresnel(x)
        si, ci = special.sici(x)
        return fnp.sum(special.exp1(x) + special.erfcx(x) + s * c + si * ci
                       + special.owens_t(x, 0.7) + special.hyp1f1(0.5, 1.5, x)
                       + special.boxcox1p(x, 0.3) + special.poch(x, 2.5))
    x = np.array([0.3, 1.1, 4.0])
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(x), fg.grad(loss)(x), rtol=1e-11)
