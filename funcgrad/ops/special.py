"""Special-function primitives: elementwise, computed by scipy.special in NumPy, compiled to
the scalar routines of compile/scalar_math.py (``fgm``) or Numba's ``math``.

Each row declares the primitive with the NumPy ufunc whose dtype promotion it follows (unary:
like ``exp``, so float32 stays float32 and integers become float64; binary: like
``arctan2``), its derivative in each input (``lambda g, ans, *inputs``, as in
ops/elementwise.py; None: that input is an integer order or has no derivative here), and its
Numba expression. The composite functions (ndtr, beta, xlogy...) are in funcgrad/scipy/.
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad.core.errors import FuncgradError
from funcgrad.core.primitive import Primitive
from funcgrad.core.types import aval_of
from funcgrad.ops.elementwise import (
    _ufunc_rule,
    absolute as _abs,
    broadcast_shapes,
    cos,
    define_elementwise,
    erf,
    exp,
    expm1,
    log,
    log1p,
    sign,
    sin,
    true_divide,
    where,
)
from funcgrad.rules.lowering import call

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
SQRT_2PI = math.sqrt(2 * math.pi)
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
EPS = float(np.finfo(np.float64).eps)


class NoDerivativeError(FuncgradError, NotImplementedError):
    """A special function was differentiated in an argument whose derivative funcgrad does not
    implement (the order ``s`` of zeta, the order of a Bessel function, the second derivative
    of gammainc in its shape).

    Example:
        >>> from funcgrad.scipy.special import zeta
        >>> try:
        ...     fg.grad(lambda s: zeta(s, 2.0))(3.0)
        ... except fg.FuncgradError as err:
        ...     print(err.reason)
        the derivative of zeta in its first argument (s) is not implemented
    """


def _no_derivative(name, which):
    def rule(g, ans, *inputs):
        raise NoDerivativeError(f"the derivative of {name} in its {which} is not implemented; "
                                "only in x" if name.startswith(("gammainc", "betainc")) else
                                f"the derivative of {name} in its {which} is not implemented")
    return rule


class _LazySpecial:
    """scipy.special, imported when a special function is first computed with NumPy: the
    import takes a fifth of a second, which every ``import funcgrad`` paid (issue 15)."""

    def __getattr__(self, name):
        def compute(*args):
            import scipy.special
            return getattr(scipy.special, name)(*args)
        compute.__name__ = name
        return compute


sc = _LazySpecial()


def special_primitive(name, scipy_fn, model_ufunc, derivatives, lowering) -> Primitive:
    """An elementwise primitive computed by ``scipy_fn``, its result cast to the dtype that
    ``model_ufunc`` would give (or that a shape rule passed in its place gives), with the
    rules of every table (define_elementwise: VJP, JVP and batching from the derivatives)."""
    shape_rule = (_ufunc_rule(model_ufunc, name) if isinstance(model_ufunc, np.ufunc)
                  else model_ufunc)

    def impl(*args):
        dtype = shape_rule(*(aval_of(np.asarray(a) if type(a) in (list, tuple) else a)
                             for a in args)).dtype
        with np.errstate(all="ignore"):
            return np.asarray(scipy_fn(*args), dtype)[()]

    prim = Primitive(name, impl=impl, shape_rule=shape_rule, elementwise=True)
    define_elementwise(prim, derivatives, lowering)  # a call(...): each calls a routine
    return prim


def _polygamma_impl(n, x):
    return sc.polygamma(n, x)


def _xlogy_x_safe(a, x):
    """(a - 1) log x, 0 where a == 1 (also at x = 0, where the density's limit needs it)."""
    am1 = a - 1.0
    return where(am1 == 0, 0.0, am1 * log(where(am1 == 0, 1.0, x)))


def _gammainc_dx(g, ans, a, x):
    """d/dx P(a, x) = x^(a-1) exp(-x) / Gamma(a), the gamma density."""
    return g * exp(_xlogy_x_safe(a, x) - x - lgamma(a))


def _i1e_dx(g, ans, x):
    """i0e(x) - i1e(x) (sign(x) + 1/x), with its limit 1/2 at x = 0."""
    at_zero = x == 0
    safe_x = where(at_zero, 1.0, x)
    return g * where(at_zero, 0.5, i0e(x) - ans * (sign(x) + true_divide(1.0, safe_x)))


# name              scipy        dtype like  derivative in each input        Numba
lgamma_p = special_primitive("lgamma", sc.gammaln, np.exp,
                             [lambda g, ans, x: g * digamma(x)], call("math.lgamma({0})"))
digamma_p = special_primitive("digamma", sc.digamma, np.exp,
                              [lambda g, ans, x: g * polygamma(1, x)], call("fgm.digamma({0})"))
polygamma_p = special_primitive("polygamma", _polygamma_impl, np.arctan2,
                                [None, lambda g, ans, n, x: g * polygamma(n + 1, x)],
                                call("fgm.polygamma({0}, {1})"))
zeta_p = special_primitive("zeta", sc.zeta, np.arctan2,
                           [_no_derivative("zeta", "first argument (s)"),
                            lambda g, ans, s, q: -g * s * zeta(s + 1.0, q)],
                           call("fgm.zeta({0}, {1})"))
gamma_p = special_primitive("gamma", sc.gamma, np.exp,
                            [lambda g, ans, x: g * ans * digamma(x)], call("math.gamma({0})"))
betaln_p = special_primitive("betaln", sc.betaln, np.arctan2,
                             [lambda g, ans, a, b: g * (digamma(a) - digamma(a + b)),
                              lambda g, ans, a, b: g * (digamma(b) - digamma(a + b))],
                             call("fgm.betaln({0}, {1})"))
erfc_p = special_primitive("erfc", sc.erfc, np.exp,
                           [lambda g, ans, x: -g * TWO_OVER_SQRT_PI * exp(-x * x)],
                           call("math.erfc({0})"))
erfinv_p = special_primitive("erfinv", sc.erfinv, np.exp,
                             [lambda g, ans, x: g * SQRT_PI_OVER_2 * exp(ans * ans)],
                             call("fgm.erfinv({0})"))
ndtri_p = special_primitive("ndtri", sc.ndtri, np.exp,
                            [lambda g, ans, p: g * SQRT_2PI * exp(ans * ans * 0.5)],
                            call("fgm.ndtri({0})"))
log_ndtr_p = special_primitive("log_ndtr", sc.log_ndtr, np.exp,
                               [lambda g, ans, x: g * exp(-0.5 * x * x - ans) / SQRT_2PI],
                               call("fgm.log_ndtr({0})"))
i0e_p = special_primitive("i0e", sc.i0e, np.exp,
                          [lambda g, ans, x: g * (i1e(x) - sign(x) * ans)], call("fgm.i0e({0})"))
i1e_p = special_primitive("i1e", sc.i1e, np.exp, [_i1e_dx], call("fgm.i1e({0})"))
def _gammainc_da(g, ans, a, x):
    """dP/da. Where P < 1/2: -(dx/da at fixed P) p(x; a), random_gamma_grad's series times
    the density. Past the median that series cancels (it is accurate to 1e-15 absolute, not
    relative to the small upper tail Q), so there dP/da = -dQ/da = -Q d(log Q)/da, from
    central differences of log Q at steps a/100 and a/200 combined by Richardson
    extrapolation (about 1e-9 relative). Neither part has derivatives of its own: second
    derivatives in a raise NoDerivativeError."""
    at_zero = x == 0  # P(a, 0) = 0 for every a: slope 0 (for a < 1 the product is 0 * inf)
    safe_x = where(at_zero, 1.0, x)
    lower = where(at_zero, 0.0,
                  -random_gamma_grad_p(a, safe_x) * _gammainc_dx(1.0, ans, a, safe_x))
    return g * where(ans < 0.5, lower, -_upper_tail_da(a, x))


def _upper_tail_da(a, x):
    q = gammaincc_p(a, x)
    return where(q > 0, q * _log_slope(lambda t: gammaincc_p(t, x), a), 0.0)


def _log_slope(f, s):
    """d log f(s) / ds for a positive shape s, from central differences of log f at steps
    s/100 and s/200 combined by Richardson extrapolation: about 1e-9 relative for the smooth
    incomplete gamma and beta functions, whose small tails have no cancellation-free series
    for their derivative in the shape."""
    def log_f(t):
        value = f(t)
        return log(where(value > 0, value, 1e-300))
    h = 0.01 * s
    wide = (log_f(s + h) - log_f(s - h)) / (2.0 * h)
    narrow = (log_f(s + 0.5 * h) - log_f(s - 0.5 * h)) / h
    return (4.0 * narrow - wide) / 3.0


gammainc_p = special_primitive("gammainc", sc.gammainc, np.arctan2,
                               [_gammainc_da, _gammainc_dx], call("fgm.gammainc({0}, {1})"))
gammaincc_p = special_primitive("gammaincc", sc.gammaincc, np.arctan2,
                                [lambda g, ans, a, x: -_gammainc_da(g, 1.0 - ans, a, x),
                                 lambda g, ans, a, x: -_gammainc_dx(g, ans, a, x)],
                                call("fgm.gammaincc({0}, {1})"))



def _ternary_rule(a, b, x):
    """Broadcasting, and arctan2's promotion applied to (a, b) and then to x."""
    first = _ufunc_rule(np.arctan2, "betainc")(a, b)
    return _ufunc_rule(np.arctan2, "betainc")(first, x).update(
        shape=broadcast_shapes(a, b, x))


def _betainc_dx(g, ans, a, b, x):
    """d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b), the beta density."""
    return g * exp(_xlogy_x_safe(a, x) + _xlogy_x_safe(b, 1.0 - x) - betaln(a, b))


def _betainc_da(g, ans, a, b, x):
    """dI/da: I d(log I)/da below the median, and past it -U d(log U)/da for the upper tail
    U = I_(1-x)(b, a), each computed where it is small and accurate (_log_slope). Its own
    derivatives would difference differences: second derivatives in a and b are not exact."""
    upper = betainc_p(b, a, 1.0 - x)
    return g * where(ans < 0.5, ans * _log_slope(lambda t: betainc_p(t, b, x), a),
                     -upper * _log_slope(lambda t: betainc_p(b, t, 1.0 - x), a))


def _betainc_db(g, ans, a, b, x):
    """dI/db, as _betainc_da."""
    upper = betainc_p(b, a, 1.0 - x)
    return g * where(ans < 0.5, ans * _log_slope(lambda t: betainc_p(a, t, x), b),
                     -upper * _log_slope(lambda t: betainc_p(t, a, 1.0 - x), b))


betainc_p = special_primitive("betainc", sc.betainc, _ternary_rule,
                              [_betainc_da, _betainc_db, _betainc_dx],
                              call("fgm.betainc({0}, {1}, {2})"))


# --- Bessel functions: SciPy's compiled routines (compile/scipy_routines.py) ------------
# Derivatives in x by the recurrences Z_v' = (Z_(v-1) - Z_(v+1)) / 2 (J, Y),
# I_v' = (I_(v-1) + I_(v+1)) / 2 and K_v' = -(K_(v-1) + K_(v+1)) / 2, and for the
# exponentially scaled ive = I_v e^-|x| and kve = K_v e^x the derivative of the scale; none
# in the order v.

def _order_rule(v, x):
    return _ufunc_rule(np.arctan2, "bessel")(v, x)


def _bessel(name, scipy_fn, dx):
    return special_primitive(name, scipy_fn, _order_rule,
                             [_no_derivative(name, "first argument (the order v)"), dx],
                             call(f"fgs.{name}({{0}}, {{1}})"))


jv_p = _bessel("jv", sc.jv, lambda g, ans, v, x: g * 0.5 * (jv_p(v - 1, x) - jv_p(v + 1, x)))
yv_p = _bessel("yv", sc.yv, lambda g, ans, v, x: g * 0.5 * (yv_p(v - 1, x) - yv_p(v + 1, x)))
iv_p = _bessel("iv", sc.iv, lambda g, ans, v, x: g * 0.5 * (iv_p(v - 1, x) + iv_p(v + 1, x)))
ive_p = _bessel("ive", sc.ive, lambda g, ans, v, x: g * (
    0.5 * (ive_p(v - 1, x) + ive_p(v + 1, x)) - sign(x) * ans))
kv_p = _bessel("kv", sc.kv, lambda g, ans, v, x: g * -0.5 * (kv_p(v - 1, x) + kv_p(v + 1, x)))
kve_p = _bessel("kve", sc.kve, lambda g, ans, v, x: g * (
    ans - 0.5 * (kve_p(v - 1, x) + kve_p(v + 1, x))))
j0_p = special_primitive("j0", sc.j0, np.exp, [lambda g, ans, x: -g * j1_p(x)],
                         call("fgs.j0({0})"))
j1_p = special_primitive("j1", sc.j1, np.exp,
                         [lambda g, ans, x: g * 0.5 * (j0_p(x) - jv_p(2.0, x))],
                         call("fgs.j1({0})"))
y0_p = special_primitive("y0", sc.y0, np.exp, [lambda g, ans, x: -g * y1_p(x)],
                         call("fgs.y0({0})"))
y1_p = special_primitive("y1", sc.y1, np.exp,
                         [lambda g, ans, x: g * 0.5 * (y0_p(x) - yv_p(2.0, x))],
                         call("fgs.y1({0})"))
k0_p = special_primitive("k0", sc.k0, np.exp, [lambda g, ans, x: -g * k1_p(x)],
                         call("fgs.k0({0})"))
k1_p = special_primitive("k1", sc.k1, np.exp,
                         [lambda g, ans, x: g * -0.5 * (k0_p(x) + kv_p(2.0, x))],
                         call("fgs.k1({0})"))
k0e_p = special_primitive("k0e", sc.k0e, np.exp, [lambda g, ans, x: g * (ans - k1e_p(x))],
                          call("fgs.k0e({0})"))
k1e_p = special_primitive("k1e", sc.k1e, np.exp,
                          [lambda g, ans, x: g * (ans - 0.5 * (k0e_p(x) + kve_p(2.0, x)))],
                          call("fgs.k1e({0})"))



# --- more special functions: SciPy's compiled routines (compile/scipy_routines.py) -------
# with their closed-form derivatives; hyp1f1 in its parameters a and b by Richardson-
# extrapolated central differences (no closed form: JAX differentiates its series).

def _safe(condition, x, fill):
    return where(condition, fill, x)


def _nan_below_0(x, slope):
    """The derivative of a function that is nan for x < 0 (loggamma, exp1): nan there too,
    not the formula's finite value."""
    return where(x < 0.0, math.nan, slope)


def _boxcox_dlmbda(g, ans, log_x, lmbda):
    """d/dlmbda (x^lmbda - 1) / lmbda = L^2 f(lmbda L), L = log x, f(t) = (t e^t - e^t + 1)
    / t^2, by its series 1/2 + t/3 + t^2/8 + t^3/30 near t = 0 (where the formula cancels)."""
    t = lmbda * log_x
    small = _abs(t) < 1e-3
    big_t = _safe(small, t, 1.0)
    exact = (big_t * exp(big_t) - expm1(big_t)) / (big_t * big_t)
    series = 0.5 + t * (1.0 / 3.0 + t * (0.125 + t / 30.0))
    return g * log_x * log_x * where(small, series, exact)


def _richardson(f, s):
    """df/ds by central differences at steps h and h/2, h = 1e-3 max(1, |s|), combined by
    Richardson extrapolation (an error of order h^4: about 1e-10 relative for smooth f)."""
    h = 1e-3 * where(_abs(s) > 1.0, _abs(s), 1.0)
    wide = (f(s + h) - f(s - h)) / (2.0 * h)
    narrow = (f(s + 0.5 * h) - f(s - 0.5 * h)) / h
    return (4.0 * narrow - wide) / 3.0


def _sici_impl(which):
    def impl(x):
        return sc.sici(x)[which]
    return impl


def _fresnel_impl(which):
    def impl(x):
        return sc.fresnel(x)[which]
    return impl


def _expn_impl(n, x):
    return sc.expn(n, x)


# name              scipy        dtype like  derivative in each input        Numba
loggamma_p = special_primitive("loggamma", sc.loggamma, np.exp,
                               [lambda g, ans, x: g * _nan_below_0(x, digamma(x))],
                               call("fgs.loggamma({0})"))
exp1_p = special_primitive("exp1", sc.exp1, np.exp,
                           [lambda g, ans, x: -g * _nan_below_0(x, exp(-x) / x)],
                           call("fgs.exp1({0})"))
expi_p = special_primitive("expi", sc.expi, np.exp,
                           [lambda g, ans, x: g * exp(x) / x], call("fgs.expi({0})"))
expn_p = special_primitive(
    "expn", _expn_impl, np.arctan2,
    [None, lambda g, ans, n, x: g * where(n >= 1, -expn_p(_safe(n < 1, n - 1.0, 0.0), x),
                                          -ans * (1.0 + 1.0 / x))],
    call("fgs.expn({0}, {1})"))
erfcx_p = special_primitive("erfcx", sc.erfcx, np.exp,
                            [lambda g, ans, x: g * (2.0 * x * ans - TWO_OVER_SQRT_PI)],
                            call("fgs.erfcx({0})"))
dawsn_p = special_primitive("dawsn", sc.dawsn, np.exp,
                            [lambda g, ans, x: g * (1.0 - 2.0 * x * ans)], call("fgs.dawsn({0})"))


def _spence_derivative(g, ans, x):
    """spence'(x) = log(x) / (1 - x) = -log1p(t) / t, t = x - 1; near t = 0 (where it is
    0/0) by its series -1 + t/2 - t^2/3 + t^3/4, whose own derivatives are right there too
    (a constant -1 at x = 1 gave the second derivative 0 where it is 1/2)."""
    t = x - 1.0
    small = _abs(t) < 1e-4
    big_t = _safe(small, t, 1.0)
    series = -1.0 + t * (0.5 + t * (-1.0 / 3.0 + t * 0.25))
    return g * where(small, series, -log1p(big_t) / big_t)


spence_p = special_primitive("spence", sc.spence, np.exp, [_spence_derivative],
                             call("fgs.spence({0})"))
boxcox_p = special_primitive(
    "boxcox", sc.boxcox, np.arctan2,
    [lambda g, ans, x, lmbda: g * exp((lmbda - 1.0) * log(x)),
     lambda g, ans, x, lmbda: _boxcox_dlmbda(g, ans, log(x), lmbda)],
    call("fgs.boxcox({0}, {1})"))
boxcox1p_p = special_primitive(
    "boxcox1p", sc.boxcox1p, np.arctan2,
    [lambda g, ans, x, lmbda: g * exp((lmbda - 1.0) * log1p(x)),
     lambda g, ans, x, lmbda: _boxcox_dlmbda(g, ans, log1p(x), lmbda)],
    call("fgs.boxcox1p({0}, {1})"))
owens_t_p = special_primitive(
    "owens_t", sc.owens_t, np.arctan2,
    [lambda g, ans, h, a: -g * exp(-0.5 * h * h) / SQRT_2PI * 0.5 * erf(a * h / math.sqrt(2.0)),
     lambda g, ans, h, a: g * exp(-0.5 * h * h * (1.0 + a * a)) / (2 * math.pi * (1.0 + a * a))],
    call("fgs.owens_t({0}, {1})"))
poch_p = special_primitive(
    "poch", sc.poch, np.arctan2,
    [lambda g, ans, z, m: g * ans * (digamma(z + m) - digamma(z)),
     lambda g, ans, z, m: g * ans * digamma(z + m)],
    call("fgs.poch({0}, {1})"))
hyp1f1_p = special_primitive(
    "hyp1f1", sc.hyp1f1, _ternary_rule,
    [lambda g, ans, a, b, x: g * _richardson(lambda t: hyp1f1_p(t, b, x), a),
     lambda g, ans, a, b, x: g * _richardson(lambda t: hyp1f1_p(a, t, x), b),
     lambda g, ans, a, b, x: g * a / b * hyp1f1_p(a + 1.0, b + 1.0, x)],
    call("fgs.hyp1f1({0}, {1}, {2})"))
si_p = special_primitive(
    "si", _sici_impl(0), np.exp,
    [lambda g, ans, x: g * where(x == 0, 1.0, sin(x) / _safe(x == 0, x, 1.0))],
    call("fgs.si({0})"))
ci_p = special_primitive("ci", _sici_impl(1), np.exp, [lambda g, ans, x: g * cos(x) / x],
                         call("fgs.ci({0})"))
fresnel_s_p = special_primitive("fresnel_s", _fresnel_impl(0), np.exp,
                                [lambda g, ans, x: g * sin(0.5 * math.pi * x * x)],
                                call("fgs.fresnel_s({0})"))
fresnel_c_p = special_primitive("fresnel_c", _fresnel_impl(1), np.exp,
                                [lambda g, ans, x: g * cos(0.5 * math.pi * x * x)],
                                call("fgs.fresnel_c({0})"))

def _random_gamma_grad_impl(a, x):
    """compile/scalar_math.py's random_gamma_grad vectorised: the same series, each element
    summed until its own tail is negligible (the loop runs as long as the slowest needs)."""
    a, sample = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    valid = (a > 0) & (sample >= 0) & (sample < np.inf)
    a, x = np.where(valid, a, 1.0), np.where(valid & (sample > 0), sample, 1.0)
    log_x, psi = np.log(x), sc.digamma(a + 1.0)
    ratio, total = np.ones_like(x), log_x - psi
    running = np.ones(x.shape, bool)
    for n in range(1, 100000):
        if not running.any():
            break
        ratio = ratio * (x / (a + n))
        psi = psi + 1.0 / (a + n)
        term = ratio * (log_x - psi)
        total = np.where(running, total + term, total)
        shrink = x / (a + n + 1.0)
        running &= ~((shrink < 1.0) & (np.abs(term) <= EPS * np.abs(total) * (1.0 - shrink)))
    return np.where(valid, np.where(sample > 0, -(x / a) * total, 0.0), np.nan)


# dx/da of a Gamma(a) sample x at fixed quantile (random.gamma's gradient in a); its own
# derivatives are not implemented, as in JAX (so second derivatives in a raise)
random_gamma_grad_p = special_primitive(
    "random_gamma_grad", _random_gamma_grad_impl, np.arctan2,
    [_no_derivative("random_gamma_grad", "first argument (a)"),
     _no_derivative("random_gamma_grad", "second argument (x)")],
    call("fgm.random_gamma_grad({0}, {1})"))
random_gamma_grad = random_gamma_grad_p

lgamma, digamma, polygamma, zeta, gamma, betaln = (lgamma_p, digamma_p, polygamma_p, zeta_p,
                                                   gamma_p, betaln_p)
erfc, erfinv, ndtri, log_ndtr, i0e, i1e = erfc_p, erfinv_p, ndtri_p, log_ndtr_p, i0e_p, i1e_p
gammainc, gammaincc, betainc = gammainc_p, gammaincc_p, betainc_p

__all__ = ["lgamma", "digamma", "polygamma", "zeta", "gamma", "betaln", "erfc", "erfinv",
           "ndtri", "log_ndtr", "i0e", "i1e", "gammainc", "gammaincc", "betainc",
           "NoDerivativeError", "jv_p", "yv_p", "iv_p", "ive_p", "kv_p", "kve_p", "j0_p",
           "j1_p", "y0_p", "y1_p", "k0_p", "k1_p", "k0e_p", "k1e_p", "random_gamma_grad",
           "loggamma_p", "exp1_p", "expi_p", "expn_p", "erfcx_p", "dawsn_p", "spence_p",
           "boxcox_p", "boxcox1p_p", "owens_t_p", "poch_p", "hyp1f1_p", "si_p", "ci_p",
           "fresnel_s_p", "fresnel_c_p"]
