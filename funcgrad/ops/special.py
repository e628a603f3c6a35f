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
    broadcast_shapes,
    define_elementwise,
    exp,
    log,
    sign,
    true_divide,
    where,
)
from funcgrad.rules.lowering import call

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
SQRT_2PI = math.sqrt(2 * math.pi)
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class NoDerivativeError(FuncgradError, NotImplementedError):
    """A special function was differentiated in an argument whose derivative funcgrad does not
    implement (the shape ``a`` of gammainc, the order ``s`` of zeta).

    Example:
        >>> from funcgrad.scipy.special import gammainc
        >>> try:
        ...     fg.grad(lambda a: gammainc(a, 2.0))(1.5)
        ... except fg.FuncgradError as err:
        ...     print(err.reason)
        the derivative of gammainc in its first argument (a) is not implemented; only in x
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
gammainc_p = special_primitive("gammainc", sc.gammainc, np.arctan2,
                               [_no_derivative("gammainc", "first argument (a)"),
                                _gammainc_dx], call("fgm.gammainc({0}, {1})"))
gammaincc_p = special_primitive("gammaincc", sc.gammaincc, np.arctan2,
                                [_no_derivative("gammaincc", "first argument (a)"),
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


betainc_p = special_primitive("betainc", sc.betainc, _ternary_rule,
                              [_no_derivative("betainc", "first argument (a)"),
                               _no_derivative("betainc", "second argument (b)"),
                               _betainc_dx], call("fgm.betainc({0}, {1}, {2})"))

lgamma, digamma, polygamma, zeta, gamma, betaln = (lgamma_p, digamma_p, polygamma_p, zeta_p,
                                                   gamma_p, betaln_p)
erfc, erfinv, ndtri, log_ndtr, i0e, i1e = erfc_p, erfinv_p, ndtri_p, log_ndtr_p, i0e_p, i1e_p
gammainc, gammaincc, betainc = gammainc_p, gammaincc_p, betainc_p

__all__ = ["lgamma", "digamma", "polygamma", "zeta", "gamma", "betaln", "erfc", "erfinv",
           "ndtri", "log_ndtr", "i0e", "i1e", "gammainc", "gammaincc", "betainc",
           "NoDerivativeError"]
