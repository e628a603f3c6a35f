"""Scalar special functions for compiled code, where Numba has no routine of its own.

An elementwise lowering calls them as ``"fgm.digamma({0})"``: a generated module that does
imports compile/routines.py as ``fgm``, which imports this module on such a name's first
use. Each function takes and returns one float64 and follows scipy.special's conventions
at poles and outside the domain (inf or nan, never an exception). They are written from
the textbook methods named in each docstring: asymptotic expansions after a shift by a
recurrence, power series, continued fractions and Newton steps from a rough first guess.
tests/test_scipy_special.py states the accuracy reached against SciPy over each domain.
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import overload, register_jitable

# new arrays without Numba's np.empty and np.full overloads (allocation.py)
from funcgrad.compile.allocation import empty, full  # noqa: F401
from funcgrad.compile.signals import LargeTrigArgument  # noqa: F401
from funcgrad.compile.blas import dot  # noqa: F401  (np.dot without its overloads)
# np.argsort and np.searchsorted that Numba can cache (sorting_routines.py)
from funcgrad.compile.sorting_routines import argsort_stable, searchsorted  # noqa: F401

# exp, log, tanh... as fused loops call them: vectorisable versions (vector_math.py)
from funcgrad.compile.sums import add_reassociable  # noqa: F401
from funcgrad.compile.vector_math import (  # noqa: F401
    cos_small, exp, expm1, log, log1p, logistic, pow, sin_small, tanh, where)
from funcgrad.compile.vector_math import (  # noqa: F401
    cos_small_f32, exp_f32, expm1_f32, log1p_f32, log_f32, logistic_f32, pow_f32,
    sin_small_f32, tanh_f32)

SQRT2 = math.sqrt(2.0)
SQRT_PI = math.sqrt(math.pi)
SQRT_2PI = math.sqrt(2.0 * math.pi)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
EPS = 2.220446049250313e-16

# B_2k, the Bernoulli numbers of the Euler-Maclaurin and Stirling series
BERNOULLI = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6,
             -3617.0 / 510, 43867.0 / 798, -174611.0 / 330, 854513.0 / 138,
             -236364091.0 / 2730)

# Compiled into each generated function that calls them (not as separate dispatchers, which
# Numba could not cache under NUMBA_OPT=0); from Python they run as plain Python.
_jit = register_jitable


@_jit
def _is_integer(x):
    """Whether the float x is an integer (+-inf are). math.floor gives an int64 in Numba, which
    past 2^63 is undefined (compiled digamma(-3.4e38) of float32 was 90.9, not nan); from
    2^52 on every float is an integer."""
    return abs(x) >= 4503599627370496.0 or x == math.floor(x)


@_jit
def digamma(x):
    """psi(x) = d/dx log Gamma(x): reflection for x < 0, the recurrence psi(x) = psi(x + 1)
    - 1/x up to x >= 10, then the asymptotic series in 1/x^2."""
    x = float(x)
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == 0.0:
        return -math.copysign(math.inf, x)
    result = 0.0
    if x < 0.0:
        if _is_integer(x):
            return math.nan
        nearest = math.floor(x + 0.5)  # tan(pi x) has period 1: reduce to [-1/2, 1/2],
        result = -math.pi / math.tan(math.pi * (x - nearest))  # which is exact
        x = 1.0 - x
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    tail = 0.0
    for k in range(7, 0, -1):
        tail = tail * inv2 + BERNOULLI[k - 1] / (2 * k)
    return result + math.log(x) - 0.5 / x - tail * inv2


@_jit
def zeta(s, q):
    """Hurwitz zeta sum_k (k + q)^-s, for s > 1 (scipy.special.zeta(s, q)): the first terms
    summed directly, the rest by the Euler-Maclaurin formula. q <= 0 is allowed for integer
    s, as SciPy allows it (a pole at each non-positive integer q)."""
    s, q = float(s), float(q)
    if math.isnan(s) or math.isnan(q):
        return math.nan
    if s == 1.0:
        return math.inf
    if s < 1.0:
        return math.nan
    if q == math.inf:
        return 0.0
    total = 0.0
    if q <= 0.0:
        if _is_integer(q):
            return math.inf
        if not _is_integer(s):
            return math.nan
        while q <= 0.0:  # integer s: (q + k)^-s is real for negative q + k
            total += (-1.0) ** s * abs(q) ** -s
            q += 1.0
    shift = 12.0 + s
    while q < shift:
        total += q ** -s
        q += 1.0
    total += q ** (1.0 - s) / (s - 1.0) + 0.5 * q ** -s
    factor = s * q ** (-s - 1.0)  # s (s+1) ... (s+2k-2) q^(-s-2k+1) / (2k)!
    for k in range(1, 13):
        term = BERNOULLI[k - 1] * factor / 2.0
        total += term
        if abs(term) < EPS * abs(total):
            break
        factor *= (s + 2 * k - 1) * (s + 2 * k) / ((2 * k + 1) * (2 * k + 2) * q * q)
    return total


@_jit
def polygamma(n, x):
    """The n-th derivative of digamma: (-1)^(n+1) n! zeta(n + 1, x) for n >= 1."""
    n, x = float(n), float(x)
    if n < 0.0 or not _is_integer(n):
        return math.nan
    if n == 0.0:
        return digamma(x)
    sign = 1.0 if n % 2.0 == 1.0 else -1.0
    return sign * math.exp(math.lgamma(n + 1.0)) * zeta(n + 1.0, x)


@_jit
def _stirling_correction(x):
    """log Gamma(x) - [(x - 1/2) log x - x + log(2 pi)/2], for x >= 10."""
    inv2 = 1.0 / (x * x)
    total = 0.0
    for k in range(7, 0, -1):
        total = total * inv2 + BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
    return total / x


@_jit
def _gamma_pole(x):
    return x <= 0.0 and _is_integer(x)  # (-inf too, as SciPy's)


@_jit
def betaln(a, b):
    """log |B(a, b)|. For large arguments Stirling's series with its log terms combined into
    log1p, so that nothing of size log Gamma(a) cancels; else three lgammas."""
    a, b = float(a), float(b)
    if _gamma_pole(a) or _gamma_pole(b):  # SciPy's order: a pole wins over a nan (inf)
        if math.isnan(a) or math.isnan(b):
            return math.inf
    elif math.isnan(a) or math.isnan(b):
        return math.nan
    if a > b:
        a, b = b, a
    if b == math.inf and a < math.inf:  # B(a, inf) = 0 for a > 0; SciPy's inf for a <= 0
        return -math.inf if a > 0.0 else math.inf
    if a <= 0.0 and _is_integer(a):  # at Gamma(a)'s pole, SciPy's limit: inf, or for
        # integer b > 0 with a + b < 1, log |B(1 - a - b, b)| (the lgammas give inf - inf)
        if not (b > 0.0 and _is_integer(b) and a + b < 1.0 and a > -math.inf):
            return math.inf
        a, b = min(b, 1.0 - a - b), max(b, 1.0 - a - b)
    if b < 10.0 or a + b < 10.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    corr = _stirling_correction(b) - _stirling_correction(a + b)
    if a < 10.0:  # log Gamma(b) - log Gamma(a + b) by Stirling (a may be negative)
        return (math.lgamma(a) - (b - 0.5) * math.log1p(a / b) - a * math.log(a + b) + a
                + corr)
    return (HALF_LOG_2PI - 0.5 * math.log(b) - (a - 0.5) * math.log1p(b / a)
            - b * math.log1p(a / b) + _stirling_correction(a) + corr)


@_jit
def _erfinv_central(y):
    """erfinv for |y| <= 0.5: the Maclaurin series' first terms, then Newton steps on erf
    (which has no cancellation there, so tiny y keep their relative accuracy)."""
    z = 0.5 * SQRT_PI * y
    z2 = z * z
    x = z * (1.0 + z2 * (1.0 / 3 + z2 * (7.0 / 30 + z2 * (127.0 / 630 + z2 * 4369.0 / 22680))))
    for _ in range(3):
        x -= (math.erf(x) - y) * 0.5 * SQRT_PI * math.exp(x * x)
    return x


@_jit
def _ndtri_lower(p):
    """Phi^-1(p) for 0 < p <= 0.25: a rational first guess (error < 5e-4), then Newton steps
    on log Phi(x) = log p, which stay accurate down to the smallest p."""
    t = math.sqrt(-2.0 * math.log(p))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328))
          / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    log_p = math.log(p)
    for _ in range(4):
        log_cdf = log_ndtr(x)
        # d/dx log Phi(x) = phi(x) / Phi(x)
        slope = math.exp(-0.5 * x * x - HALF_LOG_2PI - log_cdf)
        x -= (log_cdf - log_p) / slope
    return x


@_jit
def ndtri(p):
    """The standard normal quantile Phi^-1(p): central p through erfinv, tails (using the
    exact 1 - p for p > 1/2) through _ndtri_lower."""
    p = float(p)
    if math.isnan(p) or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if 0.25 <= p <= 0.75:
        return SQRT2 * _erfinv_central(2.0 * p - 1.0)
    if p < 0.5:
        return _ndtri_lower(p)
    return -_ndtri_lower(1.0 - p)


@_jit
def erfinv(y):
    """The inverse error function, on [-1, 1]."""
    y = float(y)
    if math.isnan(y) or abs(y) > 1.0:
        return math.nan
    if abs(y) == 1.0:
        return math.copysign(math.inf, y)
    if abs(y) <= 0.5:
        return _erfinv_central(y)
    x = -_ndtri_lower(0.5 * (1.0 - abs(y))) / SQRT2  # 1 - |y| is exact here
    return math.copysign(x, y)


@_jit
def log_ndtr(x):
    """log Phi(x): log1p of the small upper tail for x > -1, log of erfc down to -20, and
    below that the asymptotic series of Phi(x) phi(x)^-1 (-x) in 1/x^2."""
    x = float(x)
    if math.isnan(x):
        return math.nan
    if x > -1.0:
        return math.log1p(-0.5 * math.erfc(x / SQRT2))
    if x > -20.0:
        return math.log(0.5 * math.erfc(-x / SQRT2))
    inv2 = 1.0 / (x * x)
    series, term = 1.0, 1.0
    for k in range(1, 12):
        term *= -(2 * k - 1) * inv2
        series += term
    return -0.5 * x * x - HALF_LOG_2PI - math.log(-x) + math.log(series)


@_jit
def _bessel_i_scaled(nu, x):
    """exp(-x) I_nu(x) for x >= 0 and nu in {0, 1}: the power series up to x = 20 (positive
    terms, no cancellation), then the large-x asymptotic series, whose smallest term there
    is below 1e-17."""
    if x <= 20.0:
        quarter = 0.25 * x * x
        term = 1.0 if nu == 0 else 0.5 * x
        total = term
        k = 1
        while term > EPS * total * 0.1 and k < 500:
            term *= quarter / (k * (k + nu))
            total += term
            k += 1
        return total * math.exp(-x)
    mu = 4.0 * nu * nu
    term, total = 1.0, 1.0
    for k in range(1, 60):
        nxt = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if abs(nxt) >= abs(term):
            break
        term = nxt
        total += term
        if abs(term) < EPS * 0.1 * abs(total):
            break
    return total / SQRT_2PI / math.sqrt(x)  # (2 pi x overflowed at x = 1.8e308: 0, not 3e-155)


@_jit
def i0e(x):
    """exp(-|x|) I_0(x), the exponentially scaled modified Bessel function of order 0."""
    x = float(x)
    if math.isnan(x):
        return math.nan
    return _bessel_i_scaled(0, abs(x))


@_jit
def i1e(x):
    """exp(-|x|) I_1(x), the exponentially scaled modified Bessel function of order 1."""
    x = float(x)
    if math.isnan(x):
        return math.nan
    return math.copysign(_bessel_i_scaled(1, abs(x)), x)


@_jit
def _log1pmx_neg(t):
    """t - log(1 + t) for |t| <= 1/2, without the cancellation of its two terms: with
    u = t / (2 + t), log(1 + t) = 2 atanh(u) and t - 2u = u t, so it is
    u t - 2 (u^3/3 + u^5/5 + ...)."""
    u = t / (2.0 + t)
    u2 = u * u
    power = u
    total = 0.0
    for k in range(1, 40):
        power *= u2
        term = power / (2 * k + 1)
        total += term
        if abs(term) <= EPS * abs(total):
            break
    return u * t - 2.0 * total


@_jit
def _gamma_prefactor(a, x):
    """x^a exp(-x) / Gamma(a). For a >= 10 as sqrt(a / 2 pi) exp(-(x - a - a log(x / a))
    - Stirling's correction), with x - a - a log(x / a) summed so that nothing of size
    a log x cancels: a log x - x - lgamma(a) did, and the relative error of its exp was
    their rounding, 1e-13 at a = 1e3 and 3e-7 at a = 1e10."""
    if a < 10.0:
        return math.exp(a * math.log(x) - x - math.lgamma(a))
    t = (x - a) / a
    deviance = a * _log1pmx_neg(t) if abs(t) <= 0.5 else (x - a) - a * math.log(x / a)
    return math.sqrt(a / (2.0 * math.pi)) * math.exp(-deviance - _stirling_correction(a))


@_jit
def _gammainc_series(a, x):
    """P(a, x) by its power series, for x < a + 1."""
    term = 1.0 / a
    total = term
    n = 1
    while abs(term) > EPS * abs(total) and n < 100000:
        term *= x / (a + n)
        total += term
        n += 1
    return total * _gamma_prefactor(a, x)


@_jit
def _gammaincc_fraction(a, x):
    """Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < EPS:
            break
    return h * _gamma_prefactor(a, x)


# zeta(k) for k = 2, 3...: the coefficients of log Gamma(1 + a)'s Maclaurin series
ZETA_OF_INTEGERS = tuple(zeta(float(k), 1.0) for k in range(2, 27))
EULER_GAMMA = 0.5772156649015329


@_jit
def _lgamma1p(a):
    """log Gamma(1 + a), accurate also for tiny a, which 1 + a would round away: for
    |a| < 0.2 the series -gamma a + sum over k >= 2 of zeta(k) (-a)^k / k."""
    if abs(a) >= 0.2:
        return math.lgamma(1.0 + a)
    total = -EULER_GAMMA * a
    power = -a
    for k in range(2, 27):
        power *= -a
        total += ZETA_OF_INTEGERS[k - 2] * power / k
    return total


@_jit
def _gammaincc_small_a(a, x):
    """Q(a, x) for small a and x <= 1.1 (DLMF 8.7.3, the term n = 0 taken apart as
    1 - x^a / Gamma(a + 1) by expm1): Q is small there, and 1 - P would lose its digits
    (Q(1e-300, 1e-300) came out as -2e-14, not 7e-298)."""
    total = 0.0
    factor = 1.0
    for n in range(1, 1000):
        factor *= -x / n
        term = factor / (a + n)
        total += term
        if abs(term) <= EPS * abs(total):
            break
    log_x = math.log(x)
    return -math.expm1(a * log_x - _lgamma1p(a)) - math.exp(a * log_x - math.lgamma(a)) * total


@_jit
def _small_a(a, x):
    """Whether Q is best summed by _gammaincc_small_a at (a, x) (SciPy's choice too)."""
    if x > 1.1:
        return False
    return a <= -0.4 / math.log(x) if x <= 0.5 else a <= 1.1 * x


@_jit
def _gammainc_domain(a, x):
    """The value of P(a, x) where the formulas do not apply, or -1.0 where they do."""
    if math.isnan(a) or math.isnan(x) or a < 0.0 or x < 0.0:
        return math.nan
    if a == 0.0:
        return 1.0 if x > 0.0 else math.nan
    if a == math.inf:  # P(a, x) -> 0 as a grows past x
        return 0.0 if x < math.inf else math.nan
    if x == 0.0:
        return 0.0
    if x == math.inf:
        return 1.0
    return -1.0


# Temme's uniform expansion of Q(a, x) for large a (DLMF 8.12.3-8.12.9):
#   Q = erfc(eta sqrt(a/2)) / 2 + exp(-a eta^2/2) / sqrt(2 pi a) sum_k c_k(eta) a^-k,
#   eta = sign(x - a) sqrt(2 (l - 1 - log l)), l = x / a,
# TEMME[k][n] the coefficient of eta^n in c_k (c_k is analytic, its series converging for
# |eta| < 2 sqrt(pi)); the exact rational ones are derived in tests/test_scipy_special.py.
TEMME = np.array((
    (-0.3333333333333333, 0.08333333333333333, -0.014814814814814815, 0.0011574074074074073,
     0.0003527336860670194, -0.0001787551440329218, 3.919263178522438e-05,
     -2.185448510679992e-06, -1.85406221071516e-06, 8.296711340953087e-07,
     -1.7665952736826078e-07, 6.707853543401498e-09, 1.0261809784240309e-08,
     -4.382036018453353e-09, 9.14769958223679e-10, -2.5514193994946248e-11,
     -5.830772132550426e-11, 2.4361948020667415e-11, -5.0276692801141755e-12,
     1.1004392031956135e-13, 3.371763262400985e-13, -1.392388722418162e-13),
    (-0.001851851851851852, -0.003472222222222222, 0.0026455026455026454,
     -0.0009902263374485596, 0.00020576131687242798, -4.018775720164609e-07,
     -1.8098550334489977e-05, 7.64916091608111e-06, -1.6120900894563446e-06,
     4.647127802807434e-09, 1.378633446915721e-07, -5.752545603517705e-08,
     1.1951628599778148e-08, -1.7543241719747647e-11, -1.0091543710600413e-09,
     4.162792991842583e-10, -8.56390702649298e-11, 6.067215101604758e-14,
     7.1624989648114856e-12, -2.933186643771437e-12, 5.996696365683689e-13,
     -2.1671786527323313e-16),
    (0.004133597883597883, -0.0026813271604938273, 0.0007716049382716049,
     2.0093878600823047e-06, -0.0001073665322636516, 5.2923448829120125e-05,
     -1.2760635188618728e-05, 3.423578734096138e-08, 1.3721957309062934e-06,
     -6.298992138380055e-07, 1.4280614206064242e-07, -2.0477098421990866e-10,
     -1.409252991086752e-08, 6.228974084922022e-09, -1.3670488396617114e-09,
     9.428356159014678e-13, 1.2872252400089318e-10, -5.5645956134363323e-11,
     1.197593554636698e-11, -4.1689782251838634e-15, -1.0940640427884595e-12,
     4.662239946390136e-13),
    (0.0006494341563786008, 0.00022947209362139917, -0.0004691894943952557,
     0.00026772063206283885, -7.561801671883977e-05, -2.396505113867297e-07,
     1.1082654115347302e-05, -5.6749528269915965e-06, 1.4230900732435883e-06,
     -2.7861080291528143e-11, -1.6958404091930278e-07, 8.099464905388083e-08,
     -1.9111168485973655e-08, 2.3928620439808118e-12, 2.0620131815488797e-09,
     -9.460496661855133e-10, 2.1541049775774907e-10, -1.388823336813903e-14,
     -2.1894761681963938e-11, 9.790998951171684e-12, -2.178219188018096e-12,
     6.208819573407901e-17),
    (-0.0008618882909167117, 0.0007840392217200666, -0.0002990724803031902,
     -1.4638452578843418e-06, 6.641498215465122e-05, -3.968365047179435e-05,
     1.1375726970678419e-05, 2.507497226237533e-10, -1.6954149536558305e-06,
     8.907507532205309e-07, -2.292934834000805e-07, 2.956794137544049e-11,
     2.8865829742708783e-08, -1.4189739437803219e-08, 3.4463580499464896e-09,
     -2.3024517174528067e-13, -3.9409233028046403e-10, 1.86023389685045e-10,
     -4.356323005056618e-11, 1.278600101629623e-15, 4.67927502665792e-12,
     -2.149246470613483e-12),
    (-0.00033679855336635813, -6.972813758365857e-05, 0.0002772753244959392,
     -0.00019932570516188847, 6.797780477937208e-05, 1.419062920643967e-07,
     -1.3594048189768693e-05, 8.018470256334202e-06, -2.291481176508095e-06,
     -3.252473551298454e-10, 3.4652846491085265e-07, -1.8447187191171344e-07,
     4.8240967037894184e-08, -1.7989466721743514e-14, -6.306194500013523e-09,
     3.162417628774568e-09, -7.840924253697429e-10, 5.192679165254041e-15,
     9.358944242306784e-11, -4.513426216163278e-11, 1.0799129993116828e-11,
     -3.661886712685252e-17),
    (0.0005313079364639922, -0.0005921664373536939, 0.0002708782096718045,
     7.902353232660328e-07, -8.153969367561969e-05, 5.61168275310625e-05,
     -1.8329116582843375e-05, -3.0796134506033047e-09, 3.465155368803609e-06,
     -2.0291327396058603e-06, 5.788792863149004e-07, 2.338630673826657e-13,
     -8.828600746330484e-08, 4.7435958880408125e-08, -1.2545415020710383e-08,
     8.649648858010293e-14, 1.6846058979264062e-09, -8.575492823577594e-10,
     2.1598224929232125e-10, -7.613230520476153e-16, -2.6639822008536144e-11,
     1.3065700536611057e-11),
    (0.00034436760689237765, 5.171790908260592e-05, -0.00033493161081142234,
     0.0002812695154763237, -0.00010976582244684731, -1.2741009095484485e-07,
     2.7744451511563645e-05, -1.8263488805711332e-05, 5.7876949497350525e-06,
     4.93875893393627e-10, -1.0595367014026043e-06, 6.166714376110408e-07,
     -1.7562973359060463e-07, -1.297447328701544e-12, 2.695423606288966e-08,
     -1.4578352908731272e-08, 3.887645959386175e-09, -3.881002251019412e-17,
     -5.327994173877286e-10, 2.7437977643314844e-10, -6.995796092070568e-11,
     2.589986387486848e-17),
    (-0.0006526239185953094, 0.0008394987206720873, -0.000438297098541721,
     -6.969091458420552e-07, 0.00016644846642067547, -0.00012783517679769218,
     4.629953263691304e-05, 4.557909867922708e-09, -1.0595271125805195e-05,
     6.783342904865167e-06, -2.1075476666258803e-06, -1.7213731432817144e-11,
     3.773587741611098e-07, -2.1867506700122867e-07, 6.220228804018927e-08, 6.597703826733e-16,
     -9.590386497425686e-09, 5.213214492280807e-09, -1.3991589583935709e-09,
     5.382058999060575e-16, 1.9484714275467745e-10, -1.0127287556389682e-10),
    (-0.0005967612901927463, -7.204895416020011e-05, 0.0006782308837667328,
     -0.0006401475260262758, 0.00027750107634328704, 1.819700838046515e-07,
     -8.479507117068503e-05, 6.105192082501531e-05, -2.1073920183404862e-05,
     -8.858589014125599e-10, 4.5284535953805374e-06, -2.8427815022504407e-06,
     8.708234177864641e-07, 3.6886101871706966e-12, -1.534469519070206e-07,
     8.862466778790695e-08, -2.5184812301826817e-08, -1.0225912098215092e-14,
     3.896947075815478e-09, -2.1267304792235634e-09, 5.737013552805138e-10,
     -1.8877498501697116e-19),
))
TEMME_MIN_A = 100.0  # from here on 10 terms of the sum reach EPS (c_k a^-k ~ 1e-3 * 100^-k)
TEMME_MAX_T = 0.3  # |x - a| / a up to which 22 powers of eta (|eta| < 0.34) reach EPS


@_jit
def _temme(a, x, upper):
    """Q(a, x) if upper else P(a, x) by Temme's expansion (TEMME above) where it applies:
    large a and x near it, where the series and the continued fraction need about sqrt(a)
    steps (and round as many times); -1.0 elsewhere."""
    t = (x - a) / a
    if a < TEMME_MIN_A or abs(t) > TEMME_MAX_T:
        return -1.0
    deviance = a * _log1pmx_neg(t)
    eta = math.copysign(math.sqrt(2.0 * deviance / a), t)
    total = 0.0
    scale = 1.0
    for k in range(len(TEMME)):
        row = TEMME[k]
        c = 0.0
        power = 1.0
        for n in range(len(row)):
            c += row[n] * power
            power *= eta
        total += c * scale
        scale /= a
        if scale < EPS * 1e-3:
            break
    tail = math.exp(-deviance) / math.sqrt(2.0 * math.pi * a) * total
    z = math.copysign(math.sqrt(deviance), t)
    if upper:
        return 0.5 * math.erfc(z) + tail
    return 0.5 * math.erfc(-z) - tail


@_jit
def _use_series(a, x):
    """Whether P's series (else Q's continued fraction) is the accurate one at (a, x): the
    series where P is the smaller, but for small a, Q is small already from x = 1/2."""
    return x < a + 1.0 and not (a < 1.0 and x >= 0.5)


@_jit
def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x)."""
    a, x = float(a), float(x)
    special = _gammainc_domain(a, x)
    if special != -1.0:
        return special
    if _small_a(a, x):
        return 1.0 - _gammaincc_small_a(a, x)
    value = _temme(a, x, False)
    if value != -1.0:
        return value
    if _use_series(a, x):
        return _gammainc_series(a, x)
    return 1.0 - _gammaincc_fraction(a, x)


@_jit
def gammaincc(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    a, x = float(a), float(x)
    special = _gammainc_domain(a, x)
    if special != -1.0:
        return 1.0 - special
    if _small_a(a, x):
        return _gammaincc_small_a(a, x)
    value = _temme(a, x, True)
    if value != -1.0:
        return value
    if _use_series(a, x):
        return 1.0 - _gammainc_series(a, x)
    return _gammaincc_fraction(a, x)


@_jit
def _betainc_fraction(a, b, x):
    """The continued fraction of I_x(a, b) (modified Lentz), without its prefactor; it
    converges fast for x < (a + 1) / (a + b + 2)."""
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    for m in range(1, 100000):
        # even step, then odd step, of the fraction's numerators
        num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
        d = 1.0 + num * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + num / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        num = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
        d = 1.0 + num * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + num / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < EPS:
            break
    return h


@_jit
def _betainc_lower(a, b, x):
    """I_x(a, b) from its continued fraction, where that converges fast."""
    log_front = a * math.log(x) + b * math.log1p(-x) - betaln(a, b)
    return math.exp(log_front) * _betainc_fraction(a, b, x) / a


@_jit
def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1: the
    continued fraction at x or, past its mean, 1 - I_(1-x)(b, a)."""
    a, b, x = float(a), float(b), float(x)
    if math.isnan(a) or math.isnan(b) or math.isnan(x) or a <= 0.0 or b <= 0.0 \
            or x < 0.0 or x > 1.0:
        return math.nan
    if x == 0.0 or x == 1.0:
        return x
    if x < (a + 1.0) / (a + b + 2.0):
        return _betainc_lower(a, b, x)
    return 1.0 - _betainc_lower(b, a, 1.0 - x)


@_jit
def random_gamma_grad(a, x):
    """dx/da for a Gamma(a, 1) sample x held at its quantile: -(dP/da)(a, x) / p(x; a)
    (implicit reparameterisation). P's series sum_n x^(a+n) e^-x / Gamma(a+n+1), differentiated
    term by term and divided by the density, is -(x/a) sum_n r_n (log x - psi(a+n+1)) with
    r_n = prod_(k<=n) x/(a+k): no prefactor to underflow. Summed until a + n > x and the
    geometric tail is below EPS of the total."""
    a, x = float(a), float(x)
    if math.isnan(a) or math.isnan(x) or a <= 0.0 or x < 0.0 or x == math.inf:
        return math.nan
    if x == 0.0:
        return 0.0
    log_x = math.log(x)
    psi = digamma(a + 1.0)
    ratio = 1.0
    total = log_x - psi
    for n in range(1, 100000):
        ratio *= x / (a + n)
        psi += 1.0 / (a + n)
        term = ratio * (log_x - psi)
        total += term
        shrink = x / (a + n + 1.0)
        if shrink < 1.0 and abs(term) <= EPS * abs(total) * (1.0 - shrink):
            break
    return -(x / a) * total


@_jit
def threefry2x32(key0, key1, x0, x1):
    """Threefry-2x32 with 20 rounds (funcgrad/ops/random.py's primitive, one block) on int64
    words below 2**32, masked after each sum: Numba widens uint32 arithmetic, so carries are
    dropped by hand. Returns the two output words."""
    mask = 0xFFFFFFFF
    key2 = key0 ^ key1 ^ 0x1BD11BDA
    x0 = (x0 + key0) & mask
    x1 = (x1 + key1) & mask
    for group in range(5):
        for j in range(4):
            r = (13, 15, 26, 6, 17, 29, 16, 24)[4 * (group % 2) + j]
            x0 = (x0 + x1) & mask
            x1 = (((x1 << r) | (x1 >> (32 - r))) & mask) ^ x0
        x0 = (x0 + (key0, key1, key2)[(group + 1) % 3]) & mask
        x1 = (x1 + (key0, key1, key2)[(group + 2) % 3] + group + 1) & mask
    return x0, x1



@_jit
def _stream_uniform(key0, key1, n):
    """The n-th uniform of the stream of key (key0, key1): Threefry of the counter (0, n),
    53 bits on (0, 1), as funcgrad/ops/random.py's _uniform_draw."""
    y0, y1 = threefry2x32(key0, key1, 0, n)
    return (y0 * 2097152.0 + (y1 >> 11) + 0.5) * 1.1102230246251565e-16


@_jit
def binomial_draw(key0, key1, count, prob):
    """A Binomial(count, prob) number drawn from the stream of key (key0, key1), as
    funcgrad/ops/random.py's binomial: nan for a count that is nan or negative or a prob
    outside [0, 1], inf for an infinite count; otherwise floor(count) trials, the smaller of
    prob and 1 - prob drawn by summing geometric gaps (inversion) while count q <= 10, and by
    Hormann's BTRS with an exact acceptance test (lgamma) above."""
    key0, key1 = int(key0), int(key1)
    count, prob = float(count), float(prob)
    if math.isnan(count) or math.isnan(prob) or count < 0.0 or prob < 0.0 or prob > 1.0:
        return math.nan
    if count == math.inf:
        return math.inf
    count = math.floor(count)
    q = prob if prob < 0.5 else 1.0 - prob
    k = 0.0
    if q > 0.0 and count > 0.0:
        draw = 0
        if count * q <= 10.0:
            log1mq = math.log1p(-q)
            gaps = 0.0
            while True:
                u = _stream_uniform(key0, key1, draw)
                draw += 1
                gaps += math.ceil(math.log(u) / log1mq)
                if gaps > count:
                    break
                k += 1.0
        else:
            spq = math.sqrt(count * q * (1.0 - q))
            b = 1.15 + 2.53 * spq
            a = -0.0873 + 0.0248 * b + 0.01 * q
            c = count * q + 0.5
            vr = 0.92 - 4.2 / b
            alpha = (2.83 + 5.1 / b) * spq
            m = math.floor((count + 1.0) * q)
            log_odds = math.log(q / (1.0 - q))
            log_fm = math.lgamma(m + 1.0) + math.lgamma(count - m + 1.0)
            while True:
                u = _stream_uniform(key0, key1, draw) - 0.5
                v = _stream_uniform(key0, key1, draw + 1)
                draw += 2
                us = 0.5 - abs(u)
                k = math.floor((2.0 * a / us + b) * u + c)
                if k < 0.0 or k > count:
                    continue
                if us >= 0.07 and v <= vr:
                    break
                if (math.log(v * alpha / (a / (us * us) + b)) <= log_fm - math.lgamma(k + 1.0)
                        - math.lgamma(count - k + 1.0) + (k - m) * log_odds):
                    break
    return k if prob < 0.5 else count - k


# --- integer powers -----------------------------------------------------------------------
# x ** y as NumPy computes it (issue 14): Numba returns 0 for an integer to a negative
# integer power, NumPy raises. The check is chosen when Numba types the call, so float
# powers compile to a bare ``**``.

_NEGATIVE_POWER = "Integers to negative integer powers are not allowed."


def power(x, y):
    if y < 0 and not isinstance(x, float) and not isinstance(y, float):
        raise ValueError(_NEGATIVE_POWER)
    return x ** y


@overload(power)
def _power_typed(x, y):
    from numba.core import types
    from numba.np.numpy_support import as_dtype
    if isinstance(x, types.Integer) and isinstance(y, types.Integer):
        one = as_dtype(x).type(1)

        def checked(x, y):
            if y < 0:
                raise ValueError(_NEGATIVE_POWER)
            # by squaring, wrapping around as NumPy's does: Numba's ** takes an exponent
            # above 2**16 to floating point (7 ** 2**62 was -2**63, not 1)
            result, base = one, x
            while y:
                if y & 1:
                    result *= base
                base *= base
                y >>= 1
            return result
        return checked
    return lambda x, y: x ** y


def floor_divide(x, y):
    return x // y  # Python's integers do not overflow


@overload(floor_divide)
def _floor_divide_typed(x, y):
    # the smallest integer // -1 wraps around to itself in NumPy; Numba's // gives 0
    from numba.core import types
    if isinstance(x, types.Integer) and isinstance(y, types.Integer) and x.signed:
        return lambda x, y: -x if y == -1 else x // y
    return lambda x, y: x // y


def left_shift(x, y):
    return np.left_shift(x, y)


def right_shift(x, y):
    return np.right_shift(x, y)


def _shift_typed(left: bool):
    """x << y or x >> y as NumPy computes them: in the dtype NumPy's promotion gives, with a
    count outside 0 .. width - 1 (negative, or the width or more; LLVM leaves those
    undefined) shifting every bit out: 0, or -1 for a negative x shifted right."""
    def typed(x, y):
        from numba.core import types
        from numba.np.numpy_support import as_dtype, from_dtype
        if not all(isinstance(t, (types.Integer, types.Boolean)) for t in (x, y)):
            return None
        ufunc = np.left_shift if left else np.right_shift
        dtype = ufunc.resolve_dtypes((as_dtype(x), as_dtype(y), None))[-1]
        to, width = from_dtype(dtype), dtype.itemsize * 8
        zero, minus_one = dtype.type(0), dtype.type(-1 if dtype.kind == "i" else 0)
        if isinstance(y, types.Integer) and y.signed:  # a negative count: all bits out
            if left:
                return lambda x, y: zero if y < 0 or y >= width else to(to(x) << to(y))
            return lambda x, y: (minus_one if to(x) < 0 else zero) if y < 0 or y >= width \
                else to(to(x) >> to(y))
        if left:
            return lambda x, y: zero if y >= width else to(to(x) << to(y))
        return lambda x, y: (minus_one if to(x) < 0 else zero) if y >= width \
            else to(to(x) >> to(y))
    return typed


overload(left_shift)(_shift_typed(True))
overload(right_shift)(_shift_typed(False))


def spacing(x):
    return np.spacing(x)


@overload(spacing)
def _spacing_typed(x):
    # NumPy's spacing: the step to the next float away from zero, up from -0.0 as from +0.0
    # (5e-324; Numba's np.spacing gave -5e-324), nan at inf. Numba's also failed to compile
    # where float32 and float64 spacing met in one program (it declares llvm.copysign for
    # the first of them only).
    from numba.np.numpy_support import as_dtype
    up = as_dtype(x).type(np.inf)
    return lambda x: np.nextafter(x, up if x >= 0 else -up) - x
