"""Special functions under scipy.special's names, differentiable and compiled.

Each is a primitive of funcgrad/ops/special.py (computed by SciPy in NumPy, by the routines
of funcgrad/compile/scalar_math.py under ``fg.jit``) or a composition of them. Arguments
outside a function's domain give SciPy's inf or nan. Derivatives: in every real argument
except the integer orders (polygamma's n, multigammaln's d), the order ``s`` of zeta and the
orders of the Bessel functions, which raise ``NoDerivativeError`` when asked. The shapes of
gammainc/gammaincc (``a``) and betainc (``a``, ``b``) differentiate to first order, to about
1e-9 relative even in the far tails (see funcgrad/ops/special.py); second derivatives in them
raise (gammainc) or are not exact (betainc).

Example:
    >>> import numpy as np
    >>> from funcgrad.scipy.special import expit, gammaln
    >>> expit(np.array([0.0]))
    array([0.5])
    >>> fg.grad(lambda x: gammaln(x))(1.0)  # digamma(1) = -Euler's gamma
    np.float64(-0.5772156649015329)
"""

from __future__ import annotations

import inspect
import math

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core import errors
from funcgrad.nn import log_sigmoid as _log_sigmoid
from funcgrad.nn import log_softmax as _log_softmax
from funcgrad.nn import logsumexp as _logsumexp
from funcgrad.nn import softmax as _softmax
from funcgrad.numpy._util import scalar_or_array
from funcgrad.numpy._util import dtype_of as _dtype_of
from funcgrad.ops import special as ops
from funcgrad.ops.elementwise import erf as _erf
from funcgrad.ops.elementwise import logistic
from funcgrad.ops.elementwise import stop_gradient as _stop_gradient
from funcgrad.ops.special import NoDerivativeError

__all__ = ["gammaln", "digamma", "psi", "polygamma", "gamma", "betaln", "beta", "multigammaln",
           "zeta", "erf", "erfc", "erfinv", "erfcinv", "ndtr", "log_ndtr", "ndtri", "expit",
           "logit", "log_expit", "xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "i0e",
           "i1e", "i0", "i1", "gammasgn", "rgamma", "gammainc", "gammaincc", "betainc",
           "logsumexp", "softmax", "log_softmax", "NoDerivativeError",
           # Bessel functions
           "j0", "j1", "y0", "y1", "k0", "k1", "k0e", "k1e", "jv", "jn", "yv", "yn", "iv",
           "ive", "kv", "kn", "kve",
           # exponential integrals, error-function relatives, combinatorics and the rest
           "loggamma", "factorial", "comb", "poch", "exp1", "expi", "expn", "erfcx", "dawsn",
           "boxcox", "boxcox1p", "bernoulli", "owens_t", "spence", "hyp1f1", "sici",
           "fresnel"]

_SQRT2 = math.sqrt(2.0)


logsumexp = _logsumexp  # one implementation: jax.scipy.special's is jax.nn's too


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) over ``axis``: all elements by default, as scipy's.

    Example:
        >>> from funcgrad.scipy.special import softmax
        >>> softmax(np.log(np.array([[1.0, 3.0], [2.0, 2.0]])))
        array([[0.125, 0.375],
               [0.25 , 0.25 ]])
    """
    return _softmax(x, axis=axis)


def log_softmax(x, axis=None):
    """x - logsumexp(x) over ``axis``: all elements by default, as scipy's.

    Example:
        >>> from funcgrad.scipy.special import log_softmax
        >>> log_softmax(np.array([1000.0, 1000.0]))
        array([-0.69314718, -0.69314718])
    """
    return _log_softmax(x, axis=axis)


def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x)).

    Example:
        >>> from funcgrad.scipy.special import expit
        >>> expit(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
    """
    return logistic(scalar_or_array(x))


def logit(p):
    """log(p / (1 - p)), the inverse of expit.

    Example:
        >>> from funcgrad.scipy.special import logit
        >>> logit(np.array([0.5, 0.75]))
        array([0.        , 1.09861229])
    """
    p = scalar_or_array(p)
    return fnp.log(p) - fnp.log1p(-p)


def _zero_times_log(x, y, low):
    """Where x * log(y - low) is set to 0 by hand: x == 0 with y - low not in (0, inf) (nan
    stays nan, as SciPy's). Elsewhere at x == 0 the product is 0 by itself, and its derivative
    in x is log(y - low), as JAX's: a where() around every x == 0 would make that 0."""
    return (x == 0) & ~((y > low) & (y < np.inf)) & ~fnp.isnan(y)


def xlogy(x, y):
    """x * log(y), defined as 0 where x == 0 (also when y == 0). The derivative in x is
    log(y), at x == 0 too (0 there where y is 0 or inf).

    Example:
        >>> from funcgrad.scipy.special import xlogy
        >>> xlogy(np.array([0.0, 2.0]), np.array([0.0, np.e]))
        array([0., 2.])
    """
    x, y = scalar_or_array(x), scalar_or_array(y)
    by_hand = _zero_times_log(x, y, 0)
    return fnp.where(by_hand, 0, x * fnp.log(fnp.where(by_hand, 1, y)))


def erf(x):
    """The error function 2/sqrt(pi) * integral of exp(-t^2) from 0 to x.

    Example:
        >>> from funcgrad.scipy.special import erf
        >>> erf(np.array([0.0, 1.0]))
        array([0.        , 0.84270079])
    """
    return _erf(scalar_or_array(x))


def erfc(x):
    """The complementary error function 1 - erf(x), accurate where it is tiny (large x).

    Example:
        >>> from funcgrad.scipy.special import erfc
        >>> erfc(np.array([0.0, 10.0]))
        array([1.00000000e+00, 2.08848758e-45])
    """
    return ops.erfc(scalar_or_array(x))


def erfinv(y):
    """The inverse of erf, on [-1, 1] (+-inf at +-1, nan outside).

    Example:
        >>> from funcgrad.scipy.special import erfinv
        >>> erfinv(np.array([0.0, 0.5, 1.0]))
        array([0.        , 0.47693628,        inf])
    """
    return ops.erfinv(scalar_or_array(y))


def erfcinv(y):
    """The inverse of erfc, on [0, 2]: -ndtri(y / 2) / sqrt(2), accurate for tiny y.

    Example:
        >>> from funcgrad.scipy.special import erfcinv
        >>> erfcinv(np.array([1.0, 1e-100]))
        array([ 0.       , 15.0655747])
    """
    return 0.0 - ops.ndtri(scalar_or_array(y) * 0.5) / _SQRT2  # 0.0 - : +0.0 at y = 1


def ndtr(x):
    """The standard normal CDF Phi(x) = erfc(-x / sqrt(2)) / 2, accurate in the lower tail.

    Example:
        >>> from funcgrad.scipy.special import ndtr
        >>> ndtr(np.array([-20.0, 0.0, 1.0]))
        array([2.75362412e-89, 5.00000000e-01, 8.41344746e-01])
    """
    return 0.5 * ops.erfc(scalar_or_array(x) / -_SQRT2)


def log_ndtr(x):
    """log Phi(x), finite far into the lower tail (an asymptotic series below -20).

    Example:
        >>> from funcgrad.scipy.special import log_ndtr
        >>> log_ndtr(np.array([-100.0, 0.0, 10.0]))
        array([-5.00552421e+03, -6.93147181e-01, -7.61985302e-24])
    """
    return ops.log_ndtr(scalar_or_array(x))


def ndtri(p):
    """The standard normal quantile, inverse of ndtr, on [0, 1].

    Example:
        >>> from funcgrad.scipy.special import ndtri
        >>> ndtri(np.array([1e-300, 0.5, 0.975]))
        array([-37.0470963 ,   0.        ,   1.95996398])
    """
    return ops.ndtri(scalar_or_array(p))


def gammaln(x):
    """log |Gamma(x)| (inf at the poles 0, -1, -2, ...).

    Example:
        >>> from funcgrad.scipy.special import gammaln
        >>> gammaln(np.array([0.5, 1.0, 1e10]))
        array([5.72364943e-01, 0.00000000e+00, 2.20258509e+11])
    """
    return ops.lgamma(scalar_or_array(x))


def digamma(x):
    """psi(x), the derivative of log Gamma(x) (nan at the poles 0, -1, ...; -inf at +0).

    Example:
        >>> from funcgrad.scipy.special import digamma
        >>> digamma(np.array([1.0, 0.5, -0.5]))
        array([-0.57721566, -1.96351003,  0.03648997])
    """
    return ops.digamma(scalar_or_array(x))


psi = digamma


def polygamma(n, x):
    """The n-th derivative of digamma, for integers n >= 0 (differentiable in x).

    Example:
        >>> from funcgrad.scipy.special import polygamma
        >>> polygamma(np.array([0, 1, 2]), 1.0)
        array([-0.57721566,  1.64493407, -2.40411381])
    """
    return ops.polygamma(scalar_or_array(n), scalar_or_array(x))


def zeta(x, q=None):
    """The Hurwitz zeta function sum over k >= 0 of (k + q)^-x, for x > 1 (nan for x < 1);
    the Riemann zeta function when ``q`` is None. Differentiable in q.

    Example:
        >>> from funcgrad.scipy.special import zeta
        >>> zeta(np.array([2.0, 4.0]))
        array([1.64493407, 1.08232323])
    """
    return ops.zeta(scalar_or_array(x), 1.0 if q is None else scalar_or_array(q))


def gamma(x):
    """The gamma function (inf at 0 and past 171.6, nan at negative integers).

    Example:
        >>> from funcgrad.scipy.special import gamma
        >>> gamma(np.array([0.5, 5.0, -1.5]))
        array([ 1.77245385, 24.        ,  2.3632718 ])
    """
    return ops.gamma(scalar_or_array(x))


def betaln(a, b):
    """log |B(a, b)|, accurate for large arguments (no cancellation of the log Gammas).

    Example:
        >>> from funcgrad.scipy.special import betaln
        >>> betaln(np.array([1.0, 1e10]), np.array([2.0, 1e10]))
        array([-6.93147181e-01, -1.38629436e+10])
    """
    return ops.betaln(scalar_or_array(a), scalar_or_array(b))


def _signs(positive, x):
    """+1 where ``positive``, else -1, in x's float dtype (float32 stays float32, as JAX's;
    ``where`` of two Python floats alone would be float64)."""
    return fnp.astype(fnp.where(positive, 1.0, -1.0), np.result_type(_dtype_of(x), 1.0))


def _odd(x):
    """x is an odd integer (no remainder: it warns at inf)."""
    return (x == fnp.floor(x)) & (fnp.floor(x) != 2.0 * fnp.floor(0.5 * x))


def _nonpositive_integer(x):
    """x is a pole of Gamma: 0, a negative integer or -inf."""
    return (x <= 0) & (x == fnp.floor(x))


def _gamma_sign(x):
    """The sign of Gamma(x): negative on (-1, 0), (-3, -2), ...; + at its poles, as SciPy's
    Gamma, whose inf there is unsigned."""
    return _signs(~((x < 0) & _odd(fnp.floor(x))) | _nonpositive_integer(x), x)


def gammasgn(x):
    """The sign of the gamma function: -1 on (-1, 0), (-3, -2), ... and at -0.0, +1 elsewhere
    on the real line, nan at the poles (negative integers and -inf) and at nan, as SciPy.

    Example:
        >>> from funcgrad.scipy.special import gammasgn
        >>> gammasgn(np.array([2.0, -0.5, -1.5, -1.0]))
        array([ 1., -1.,  1., nan])
    """
    x = scalar_or_array(x)
    pole = fnp.logical_and(x < 0, x == fnp.floor(x))
    negative_side = fnp.arctan2(0.0, x) > 0  # x < 0, or x = -0.0
    odd = fnp.floor(x) != 2.0 * fnp.floor(0.5 * x)  # (no remainder: it warns at inf)
    sign = _signs(fnp.logical_not(fnp.logical_and(negative_side, fnp.logical_or(odd, x == 0))), x)
    return fnp.where(fnp.logical_or(pole, fnp.isnan(x)), fnp.nan, sign)


def rgamma(x):
    """1 / Gamma(x), computed as sign(Gamma) exp(-gammaln) so that it neither overflows
    where Gamma does nor divides: 0 at the poles (0, negative integers) and at +-inf.
    Its gradient is -rgamma(x) digamma(x), taken as 0 at the poles.

    Example:
        >>> from funcgrad.scipy.special import rgamma
        >>> rgamma(np.array([1.0, 0.5, -2.0, 200.0]))
        array([1.        , 0.56418958, 0.        , 0.        ])
    """
    x = scalar_or_array(x)
    pole = fnp.logical_and(x <= 0, x == fnp.floor(x))
    sign = fnp.where(pole, 1.0, gammasgn(fnp.where(pole, 1.0, x)))
    at_pole = fnp.where(x == 0, x, 0.0)  # signed like SciPy's: rgamma(-0.0) = -0.0
    return fnp.where(pole, at_pole, sign * fnp.exp(-ops.lgamma(fnp.where(pole, 1.0, x))))


def i0(x):
    """I_0(x), the modified Bessel function of order 0, as i0e(x) exp(|x|).

    Example:
        >>> from funcgrad.scipy.special import i0
        >>> i0(np.array([0.0, 1.0, -2.0]))
        array([1.        , 1.26606588, 2.2795853 ])
    """
    x = scalar_or_array(x)
    return ops.i0e(x) * fnp.exp(fnp.abs(x))


def i1(x):
    """I_1(x), the modified Bessel function of order 1, as i1e(x) exp(|x|).

    Example:
        >>> from funcgrad.scipy.special import i1
        >>> i1(np.array([0.0, 1.0, -2.0]))
        array([ 0.        ,  0.5651591 , -1.59063685])
    """
    x = scalar_or_array(x)
    return ops.i1e(x) * fnp.exp(fnp.abs(x))


def beta(a, b):
    """The beta function Gamma(a) Gamma(b) / Gamma(a + b), as exp(betaln) with its sign.
    At the poles (a or b 0 or a negative integer) SciPy's value, inf, signed as SciPy signs
    it (JAX's is nan there), in both tiers.

    Example:
        >>> from funcgrad.scipy.special import beta
        >>> beta(np.array([1.0, 0.5, -0.5]), np.array([2.0, 0.5, 1.0]))
        array([ 0.5       ,  3.14159265, -2.        ])
    """
    a, b = scalar_or_array(a), scalar_or_array(b)
    pole_a, pole_b = _nonpositive_integer(a), _nonpositive_integer(b)
    # where a (or b) is a pole of Gamma, SciPy's value: B(1 - a - b, b) with sign (-1)^b
    # where b is an integer and a + b < 1, else +inf (the sign not that of the three Gammas)
    total = a + b
    negative_at_pole = ((total < 1) & fnp.isfinite(total)
                        & ((pole_a & _odd(b)) | (~pole_a & pole_b & _odd(a))))
    sign = fnp.where(pole_a | pole_b, _signs(~negative_at_pole, a),
                     _gamma_sign(a) * _gamma_sign(b) * _gamma_sign(total))
    return sign * fnp.exp(ops.betaln(a, b))


def multigammaln(a, d: int):
    """The log of the multivariate gamma function of dimension ``d`` (a Python int):
    d (d - 1) / 4 log(pi) + sum over j < d of gammaln(a - j / 2).

    Example:
        >>> from funcgrad.scipy.special import multigammaln
        >>> multigammaln(np.array([2.5, 10.0]), 3)
        array([ 1.88099546, 36.81285863])
    """
    a = scalar_or_array(a)
    total = d * (d - 1) / 4 * math.log(math.pi)
    for j in range(int(d)):
        total = total + ops.lgamma(a - j / 2)
    return total


def i0e(x):
    """exp(-|x|) I_0(x), the exponentially scaled modified Bessel function of order 0.

    Example:
        >>> from funcgrad.scipy.special import i0e
        >>> i0e(np.array([0.0, 1.0, 1e4]))
        array([1.        , 0.46575961, 0.00398947])
    """
    return ops.i0e(scalar_or_array(x))


def i1e(x):
    """exp(-|x|) I_1(x), the exponentially scaled modified Bessel function of order 1.

    Example:
        >>> from funcgrad.scipy.special import i1e
        >>> i1e(np.array([-1.0, 0.0, 1e4]))
        array([-0.20791042,  0.        ,  0.00398927])
    """
    return ops.i1e(scalar_or_array(x))


def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x), for a, x >= 0.
    Differentiable in x only (the gamma density); in ``a`` it raises NoDerivativeError.

    Example:
        >>> from funcgrad.scipy.special import gammainc
        >>> gammainc(np.array([1.0, 3.0]), 2.0)
        array([0.86466472, 0.32332358])
    """
    return ops.gammainc(scalar_or_array(a), scalar_or_array(x))


def gammaincc(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), accurate where
    it is tiny. Differentiable in x only.

    Example:
        >>> from funcgrad.scipy.special import gammaincc
        >>> gammaincc(np.array([1.0, 3.0]), 100.0)
        array([3.72007598e-44, 1.89761076e-40])
    """
    return ops.gammaincc(scalar_or_array(a), scalar_or_array(x))


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1.
    Differentiable in x only (the beta density); in ``a`` or ``b`` it raises
    NoDerivativeError.

    Example:
        >>> from funcgrad.scipy.special import betainc
        >>> betainc(2.0, 3.0, np.array([0.0, 0.4, 1.0]))
        array([0.    , 0.5248, 1.    ])
    """
    return ops.betainc(scalar_or_array(a), scalar_or_array(b), scalar_or_array(x))


def log_expit(x):
    """log(expit(x)), stable for large |x| (funcgrad.nn.log_sigmoid).

    Example:
        >>> from funcgrad.scipy.special import log_expit
        >>> log_expit(np.array([-1000.0, 0.0]))
        array([-1.00000000e+03, -6.93147181e-01])
    """
    return _log_sigmoid(x)


def _positive(x):
    """x where x > 0, else 1: keeps log's nan and inf out of the branch where() drops, and
    out of its gradient."""
    return fnp.where(x > 0, x, 1.0)


def xlog1py(x, y):
    """x * log1p(y), defined as 0 where x == 0. The derivative in x is log1p(y), at x == 0
    too (0 there where y is -1 or inf).

    Example:
        >>> from funcgrad.scipy.special import xlog1py
        >>> xlog1py(np.array([0.0, 2.0]), np.array([-1.0, np.e - 1]))
        array([0., 2.])
    """
    x, y = scalar_or_array(x), scalar_or_array(y)
    by_hand = _zero_times_log(x, y, -1)
    return fnp.where(by_hand, 0.0, x * fnp.log1p(fnp.where(by_hand, 0.0, y)))


def entr(x):
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0 (the elementwise entropy). Its derivative
    is -log(x) - 1, as JAX's: +inf at 0 (the slope from the right), nan below 0 and at nan.

    Example:
        >>> from funcgrad.scipy.special import entr
        >>> entr(np.array([0.5, 0.0, -1.0]))
        array([0.34657359, 0.        ,       -inf])
        >>> float(fg.grad(entr)(0.0))
        inf
    """
    x = scalar_or_array(x)
    inside = x > 0
    safe = _positive(x)
    return fnp.where(inside, -safe * fnp.log(safe), _entr_outside(x, inside))


def _entr_outside(x, inside):
    """entr where x <= 0 or nan, with JAX's slopes there (a custom rule would need the control
    layer): sqrt(u) for u = 0 of slope 1 is 0 of slope +inf (entr's from the right at 0),
    and -inf + (that - that) is -inf of slope inf - inf = nan below 0. u is 1 where x > 0,
    so that this branch, which where() drops there, has a finite slope; infinite x are
    held constant (inf - inf would be a nan value)."""
    dtype = np.result_type(_dtype_of(x), np.float32)
    held = fnp.where(fnp.isinf(x), dtype.type(0), x)
    u = held - _stop_gradient(held) + fnp.where(inside, dtype.type(1), dtype.type(0))
    edge = fnp.sqrt(u)  # nan at nan, with slope nan
    return fnp.where(x < 0, -np.inf + (edge - edge), edge)


def _inf_unless_nan(x, y):
    """inf, the value outside the domain, but nan where x or y is (as SciPy's): a nan fails
    every test of the domain and would otherwise come out as inf."""
    return fnp.where(fnp.isnan(x) | fnp.isnan(y), x + y, np.inf)  # x + y: nan, x's dtype


def rel_entr(x, y):
    """x log(x / y) for x, y > 0; 0 where x == 0 and y >= 0; inf elsewhere.

    Example:
        >>> from funcgrad.scipy.special import rel_entr
        >>> rel_entr(np.array([0.5, 0.0, 1.0]), np.array([0.25, 1.0, -1.0]))
        array([0.34657359, 0.        ,        inf])
    """
    x, y = scalar_or_array(x), scalar_or_array(y)
    both = fnp.logical_and(x > 0, y > 0)
    sx, sy = fnp.where(both, x, 1.0), fnp.where(both, y, 1.0)
    return fnp.where(both, sx * fnp.log(sx / sy),
                     fnp.where(fnp.logical_and(x == 0, y >= 0), 0.0, _inf_unless_nan(x, y)))


def kl_div(x, y):
    """x log(x / y) - x + y for x, y > 0; y where x == 0 and y >= 0; inf elsewhere.

    Example:
        >>> from funcgrad.scipy.special import kl_div
        >>> kl_div(np.array([0.5, 0.0, 1.0]), np.array([0.25, 1.0, -1.0]))
        array([0.09657359, 1.        ,        inf])
    """
    x, y = scalar_or_array(x), scalar_or_array(y)
    both = fnp.logical_and(x > 0, y > 0)
    sx, sy = fnp.where(both, x, 1.0), fnp.where(both, y, 1.0)
    return fnp.where(both, sx * fnp.log(sx / sy) - sx + sy,
                     fnp.where(fnp.logical_and(x == 0, y >= 0), y, _inf_unless_nan(x, y)))

# --- Bessel functions: SciPy's own compiled routines, differentiable in x ----------------
# name: (what it is, its primitive, its order's name or None, its value at x = [0.5, 2.0]
# (order 1 where it has one), for the docstring's example)
_BESSEL = {
    "j0": ("J_0, the Bessel function of the first kind of order 0", ops.j0_p, None,
           "array([0.93846981, 0.22389078])"),
    "j1": ("J_1, the Bessel function of the first kind of order 1", ops.j1_p, None,
           "array([0.24226846, 0.57672481])"),
    "y0": ("Y_0, the Bessel function of the second kind of order 0 (x > 0)", ops.y0_p, None,
           "array([-0.44451873,  0.51037567])"),
    "y1": ("Y_1, the Bessel function of the second kind of order 1 (x > 0)", ops.y1_p, None,
           "array([-1.47147239, -0.10703243])"),
    "k0": ("K_0, the modified Bessel function of the second kind of order 0 (x > 0)",
           ops.k0_p, None, "array([0.92441907, 0.11389387])"),
    "k1": ("K_1, the modified Bessel function of the second kind of order 1 (x > 0)",
           ops.k1_p, None, "array([1.65644112, 0.13986588])"),
    "k0e": ("exp(x) K_0(x), the exponentially scaled K_0", ops.k0e_p, None,
            "array([1.52410939, 0.84156822])"),
    "k1e": ("exp(x) K_1(x), the exponentially scaled K_1", ops.k1e_p, None,
            "array([2.73100971, 1.03347685])"),
    "jv": ("J_v, the Bessel function of the first kind of real order v", ops.jv_p, "v",
           "array([0.24226846, 0.57672481])"),
    "jn": ("J_n for an integer order n (the same function as jv)", ops.jv_p, "n",
           "array([0.24226846, 0.57672481])"),
    "yv": ("Y_v, the Bessel function of the second kind of real order v (x > 0)", ops.yv_p,
           "v", "array([-1.47147239, -0.10703243])"),
    "yn": ("Y_n for an integer order n (computed as yv)", ops.yv_p, "n",
           "array([-1.47147239, -0.10703243])"),
    "iv": ("I_v, the modified Bessel function of the first kind of real order v", ops.iv_p,
           "v", "array([0.25789431, 1.59063685])"),
    "ive": ("exp(-|x|) I_v(x), the exponentially scaled I_v", ops.ive_p, "v",
            "array([0.1564208 , 0.21526929])"),
    "kv": ("K_v, the modified Bessel function of the second kind of real order v", ops.kv_p,
           "v", "array([1.65644112, 0.13986588])"),
    "kn": ("K_n for an integer order n (computed as kv)", ops.kv_p, "n",
           "array([1.65644112, 0.13986588])"),
    "kve": ("exp(x) K_v(x), the exponentially scaled K_v", ops.kve_p, "v",
            "array([2.73100971, 1.03347685])"),
}


def _bessel_function(name, what, prim, order, value):
    """scipy.special's ``name`` over ``prim``, with its signature and an example."""
    def of_x(x):
        return prim(scalar_or_array(x))

    def of_order_and_x(v, x):
        return prim(scalar_or_array(v), scalar_or_array(x))

    if order is None:
        bessel, call, derivative = of_x, "np.array([0.5, 2.0])", "differentiable in x."
    else:
        bessel, call = of_order_and_x, "1, np.array([0.5, 2.0])"
        derivative = "differentiable in x, not in the order (a NoDerivativeError)."
        bessel.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in (order, "x")])
    bessel.__name__ = bessel.__qualname__ = name
    bessel.__doc__ = (f"{what}. Compiled code calls SciPy's routine; {derivative}\n\n"
                      f"    Example:\n        >>> from funcgrad.scipy.special import {name}\n"
                      f"        >>> {name}({call})\n        {value}\n    ")
    return bessel


j0 = _bessel_function("j0", *_BESSEL["j0"])
j1 = _bessel_function("j1", *_BESSEL["j1"])
y0 = _bessel_function("y0", *_BESSEL["y0"])
y1 = _bessel_function("y1", *_BESSEL["y1"])
k0 = _bessel_function("k0", *_BESSEL["k0"])
k1 = _bessel_function("k1", *_BESSEL["k1"])
k0e = _bessel_function("k0e", *_BESSEL["k0e"])
k1e = _bessel_function("k1e", *_BESSEL["k1e"])
jv = _bessel_function("jv", *_BESSEL["jv"])
jn = _bessel_function("jn", *_BESSEL["jn"])
yv = _bessel_function("yv", *_BESSEL["yv"])
yn = _bessel_function("yn", *_BESSEL["yn"])
iv = _bessel_function("iv", *_BESSEL["iv"])
ive = _bessel_function("ive", *_BESSEL["ive"])
kv = _bessel_function("kv", *_BESSEL["kv"])
kn = _bessel_function("kn", *_BESSEL["kn"])
kve = _bessel_function("kve", *_BESSEL["kve"])



# --- exponential integrals, error-function relatives, combinatorics and the rest --------
# SciPy's compiled routines (compile/scipy_routines.py) with closed-form derivatives.


def loggamma(x):
    """The principal branch of log Gamma(x) for real x: log Gamma(x) for x > 0, nan for
    x < 0 (where Gamma is negative or the log is complex), as scipy.special.loggamma.
    Its derivative is digamma.

    Example:
        >>> from funcgrad.scipy.special import loggamma
        >>> loggamma(np.array([0.5, 1.0, 1e10]))
        array([5.72364943e-01, 0.00000000e+00, 2.20258509e+11])
    """
    return ops.loggamma_p(scalar_or_array(x))


def factorial(n, exact=False):
    """n! = Gamma(n + 1), for real n too (0 for n < 0), as JAX's (exact=True, SciPy's
    integer arithmetic, is not supported). Differentiable: d n!/dn = Gamma(n + 1)
    digamma(n + 1).

    Example:
        >>> from funcgrad.scipy.special import factorial
        >>> factorial(np.array([0.0, 5.0, 1.5, -1.0]))
        array([  1.        , 120.        ,   1.32934039,   0.        ])
    """
    if exact:
        raise NotImplementedError("factorial(exact=True) is not supported (nor in JAX): "
                                  "it needs integer arithmetic; exact=False is Gamma(n + 1)")
    n = scalar_or_array(n)
    safe = fnp.where(n < 0, 0.0, n)
    return fnp.where(n < 0, 0.0, ops.gamma(safe + 1.0))


def comb(N, k, *, repetition=False):
    """The number of combinations of ``N`` things taken ``k`` at a time, C(N, k) =
    exp(lgamma(N + 1) - lgamma(k + 1) - lgamma(N - k + 1)) for 0 <= k <= N, else 0 (real N
    and k too, as SciPy's exact=False); with ``repetition``, C(N + k - 1, k) (0 for
    negative N or k, as JAX's; SciPy's gives nan there).
    Differentiable in N and k.

    Example:
        >>> from funcgrad.scipy.special import comb
        >>> comb(np.array([5.0, 10.0, 3.0]), np.array([2.0, 3.0, 4.0]))
        array([ 10., 120.,   0.])
        >>> comb(3.0, 2.0, repetition=True)
        array(6.)
    """
    N, k = scalar_or_array(N), scalar_or_array(k)
    if repetition:
        return fnp.where((k == 0) & (N >= 0), 1.0, comb(N + k - 1, k))
    inside = (k <= N) & (N >= 0) & (k >= 0)
    safe_N, safe_k = fnp.where(inside, N, 0.0), fnp.where(inside, k, 0.0)
    log_comb = (ops.lgamma(safe_N + 1) - ops.lgamma(safe_k + 1)
                - ops.lgamma(safe_N - safe_k + 1))
    return fnp.where(inside, fnp.exp(log_comb), 0.0)


def poch(z, m):
    """The Pochhammer symbol (rising factorial) Gamma(z + m) / Gamma(z). Differentiable in
    both: d/dz = poch (digamma(z + m) - digamma(z)), d/dm = poch digamma(z + m).

    Example:
        >>> from funcgrad.scipy.special import poch
        >>> poch(np.array([1.0, 3.0, 0.5]), 3.0)
        array([ 6.   , 60.   ,  1.875])
    """
    return ops.poch_p(scalar_or_array(z), scalar_or_array(m))


def exp1(x):
    """The exponential integral E1(x) = integral from x to inf of exp(-t) / t dt (inf at 0,
    nan for x < 0); its derivative is -exp(-x) / x.

    Example:
        >>> from funcgrad.scipy.special import exp1
        >>> exp1(np.array([0.0, 1.0, 700.0]))
        array([            inf, 2.19383934e-001, 1.40651877e-307])
    """
    return ops.exp1_p(scalar_or_array(x))


def expi(x):
    """The exponential integral Ei(x) = -PV integral from -x to inf of exp(-t) / t dt (-inf
    at 0); its derivative is exp(x) / x.

    Example:
        >>> from funcgrad.scipy.special import expi
        >>> expi(np.array([-1.0, 0.0, 1.0]))
        array([-0.21938393,        -inf,  1.89511782])
    """
    return ops.expi_p(scalar_or_array(x))


def expn(n, x):
    """The generalized exponential integral E_n(x) = integral from 1 to inf of exp(-x t) /
    t^n dt, for integers n >= 0 and x >= 0 (nan otherwise). Differentiable in x:
    dE_n/dx = -E_(n-1)(x), and E_0 = exp(-x) / x; not in the integer order n.

    Example:
        >>> from funcgrad.scipy.special import expn
        >>> expn(np.array([0, 1, 2]), 1.0)
        array([0.36787944, 0.21938393, 0.14849551])
    """
    return ops.expn_p(scalar_or_array(n), scalar_or_array(x))


def erfcx(x):
    """The scaled complementary error function exp(x^2) erfc(x), without overflow or
    underflow for large |x|; its derivative is 2 x erfcx(x) - 2 / sqrt(pi).

    Example:
        >>> from funcgrad.scipy.special import erfcx
        >>> erfcx(np.array([-1.0, 0.0, 1e5]))
        array([5.00898008e+00, 1.00000000e+00, 5.64189584e-06])
    """
    return ops.erfcx_p(scalar_or_array(x))


def dawsn(x):
    """Dawson's integral exp(-x^2) integral from 0 to x of exp(t^2) dt; its derivative is
    1 - 2 x dawsn(x).

    Example:
        >>> from funcgrad.scipy.special import dawsn
        >>> dawsn(np.array([0.0, 1.0, 1e3]))
        array([0.00000000e+00, 5.38079507e-01, 5.00000250e-04])
    """
    return ops.dawsn_p(scalar_or_array(x))


def boxcox(x, lmbda):
    """The Box-Cox transform (x^lmbda - 1) / lmbda, log(x) at lmbda = 0. Differentiable in
    both (in lmbda through a series near lmbda log x = 0, where the formula cancels).

    Example:
        >>> from funcgrad.scipy.special import boxcox
        >>> boxcox(np.array([1.0, 4.0, 4.0]), np.array([2.0, 0.5, 0.0]))
        array([0.        , 2.        , 1.38629436])
    """
    return ops.boxcox_p(scalar_or_array(x), scalar_or_array(lmbda))


def boxcox1p(x, lmbda):
    """The Box-Cox transform of 1 + x, accurate for small x: ((1 + x)^lmbda - 1) / lmbda,
    log1p(x) at lmbda = 0. Differentiable in both.

    Example:
        >>> from funcgrad.scipy.special import boxcox1p
        >>> boxcox1p(np.array([1e-20, 3.0]), np.array([0.5, 0.5]))
        array([1.e-20, 2.e+00])
    """
    return ops.boxcox1p_p(scalar_or_array(x), scalar_or_array(lmbda))


def bernoulli(n):
    """The Bernoulli numbers B_0 ... B_n (B_1 = -1/2), an array of n + 1, for a concrete
    integer n >= 0 (a constant: no derivative, nothing to trace).

    Example:
        >>> from funcgrad.scipy.special import bernoulli
        >>> bernoulli(6)
        array([ 1.        , -0.5       ,  0.16666667,  0.        , -0.03333333,
                0.        ,  0.02380952])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise errors.FuncgradTypeError(f"bernoulli takes a concrete integer n, not {n!r:.60}")
    if n < 0:
        raise errors.FuncgradValueError(f"bernoulli takes n >= 0, not {n}")
    import scipy.special
    return np.asarray(scipy.special.bernoulli(int(n)), np.float64)


def owens_t(h, a):
    """Owen's T function (1 / 2 pi) integral from 0 to a of exp(-h^2 (1 + t^2) / 2) /
    (1 + t^2) dt. Differentiable in both: dT/dh = -phi(h) erf(a h / sqrt 2) / 2, dT/da =
    exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2)).

    Example:
        >>> from funcgrad.scipy.special import owens_t
        >>> owens_t(np.array([0.0, 1.3]), 0.5)
        array([0.07379181, 0.02972129])
    """
    return ops.owens_t_p(scalar_or_array(h), scalar_or_array(a))


def spence(x):
    """Spence's function (the dilogarithm Li2(1 - x)) integral from 1 to x of log(t) /
    (1 - t) dt, for x >= 0 (nan below). Its derivative is log(x) / (1 - x) (-1 at x = 1;
    JAX's gives nan).

    Example:
        >>> from funcgrad.scipy.special import spence
        >>> spence(np.array([0.0, 1.0, 2.0]))
        array([ 1.64493407,  0.        , -0.82246703])
    """
    return ops.spence_p(scalar_or_array(x))


def hyp1f1(a, b, x):
    """Kummer's confluent hypergeometric function 1F1(a; b; x). Differentiable in x
    (a / b 1F1(a + 1; b + 1; x)) and in a and b (no closed form: Richardson-extrapolated
    central differences, about 1e-10 relative).

    Example:
        >>> from funcgrad.scipy.special import hyp1f1
        >>> hyp1f1(1.0, 2.0, np.array([0.0, 1.0]))      # (e^x - 1) / x
        array([1.        , 1.71828183])
    """
    return ops.hyp1f1_p(scalar_or_array(a), scalar_or_array(b), scalar_or_array(x))


def sici(x):
    """The sine and cosine integrals (Si(x), Ci(x)): Si = integral from 0 to x of sin(t) / t
    dt, Ci = gamma + log x + integral from 0 to x of (cos(t) - 1) / t dt (-inf at 0; for
    x < 0, the real part of Ci, as SciPy). Derivatives sin(x) / x and cos(x) / x.

    Example:
        >>> from funcgrad.scipy.special import sici
        >>> si, ci = sici(np.array([1.0, 10.0]))
        >>> si, ci
        (array([0.94608307, 1.65834759]), array([ 0.33740392, -0.04545643]))
    """
    x = scalar_or_array(x)
    return ops.si_p(x), ops.ci_p(x)


def fresnel(x):
    """The Fresnel integrals (S(x), C(x)): integrals from 0 to x of sin(pi t^2 / 2) and
    cos(pi t^2 / 2) dt (SciPy's order, S first). Derivatives sin(pi x^2 / 2) and
    cos(pi x^2 / 2).

    Example:
        >>> from funcgrad.scipy.special import fresnel
        >>> fresnel(np.array([0.0, 1.0]))
        (array([0.        , 0.43825915]), array([0.       , 0.7798934]))
    """
    x = scalar_or_array(x)
    return ops.fresnel_s_p(x), ops.fresnel_c_p(x)
