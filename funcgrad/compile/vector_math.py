"""Transcendental functions that LLVM can vectorise inside funcgrad's fused loops.

Numba lowers ``np.exp(x)`` to a call of the C library's scalar ``exp``, one element at a time:
a loop that calls it cannot be vectorised. These versions are written as vector math
libraries write theirs: a range reduction (Cody-Waite: the constant split in a part whose
products are exact and a small correction), a polynomial evaluated by Horner's rule, and the
scaling by a power of two built from its bits. There is no branch: out-of-range and special
arguments (infinities, NaN, signed zeros, subnormals) are computed along with the others and
chosen at the end with conditional expressions LLVM turns into blends, so every element of a
loop runs the same instructions.

Each function takes a float64 or float32 and computes in float64; a float32 result is that
rounded once more (the generated code casts to the result's dtype), which is how they stay
within 2 ulp in both dtypes. tests/test_vector_math.py checks them against NumPy over their
whole domain. The polynomials are truncated Taylor series (more terms than a minimax
polynomial would need, but their coefficients are exact rationals anyone can check).

Like scalar_math's, they are compiled into each generated function that calls them, as
``fgm.exp(x)`` (scalar_math re-exports them).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal, getcontext

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, register_jitable

from funcgrad.compile.straight_line import select, straight_line

_jit = register_jitable  # small helpers: as a caller of them is traced, they are followed


# The functions generated code calls: written straight into the caller's LLVM IR, where
# LLVM sees the whole loop (straight_line.py: Numba's inline="always" re-ran its type
# inference for every call site and helper, seconds per program)
_inline = straight_line


getcontext().prec = 60
_LN2 = Decimal(2).ln()


def _split(value: Decimal, zero_bits: int) -> tuple[float, float]:
    """``value`` as hi + lo: hi is its double with the low ``zero_bits`` bits of the
    significand cleared (so hi times an integer below 2^zero_bits is exact), lo the rest."""
    bits = struct.unpack("<q", struct.pack("<d", float(value)))[0]
    hi = struct.unpack("<d", struct.pack("<q", bits & ~((1 << zero_bits) - 1)))[0]
    return hi, float(value - Decimal(hi))


LN2_HI, LN2_LO = _split(_LN2, 32)
INV_LN2 = float(1 / _LN2)
# 1/k! and 2/(2k+1), the Taylor coefficients of exp and of log(1+f) = 2 atanh(f / (2 + f))
EXP_C = tuple(1.0 / math.factorial(k) for k in range(14))
ATANH_C = tuple(2.0 / (2 * k + 1) for k in range(12))
ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2^52: t + it - it is t rounded to an integer
EXP_MAX = 709.782712893384  # above, exp overflows
TWO54 = 2.0 ** 54
SQRT2 = math.sqrt(2.0)


@intrinsic
def _bits(typingctx, x):
    """The int64 whose bits are the float64 ``x``'s."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, i):
    """The float64 whose bits are the int64 ``i``'s."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@select
def _where(condition, if_true, if_false):
    """A conditional expression as a function LLVM inlines (it becomes a select, a blend in
    vector code): the functions inlined at Numba's level keep none of their own, whose
    renamed variables Numba's SSA pass warns about."""
    return if_true if condition else if_false


@_jit
def _pow2(n):
    """2.0 ** n for an integer-valued float n in [-1022, 1023]."""
    return _from_bits((int(n) + 1023) << 52)


@_jit
def _round(t):
    """t rounded to the nearest integer (ties to even), for |t| < 2^51."""
    return (t + ROUND_MAGIC) - ROUND_MAGIC


@_jit
def _expm1_tail(r):
    """exp(r) - 1 - r for |r| <= ln2 / 2: Taylor to r^13 (its remainder is below 2^-60 r)."""
    p = EXP_C[13]
    p = p * r + EXP_C[12]
    p = p * r + EXP_C[11]
    p = p * r + EXP_C[10]
    p = p * r + EXP_C[9]
    p = p * r + EXP_C[8]
    p = p * r + EXP_C[7]
    p = p * r + EXP_C[6]
    p = p * r + EXP_C[5]
    p = p * r + EXP_C[4]
    p = p * r + EXP_C[3]
    p = p * r + EXP_C[2]
    return r * r * p


@_jit
def _expm1_reduced(r):
    return r + _expm1_tail(r)


@_jit
def _two_sum(a, b):
    """(s, e) with s = a + b rounded and s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@_jit
def _split26(a):
    """a = hi + lo with hi holding a's upper 26 significand bits (Veltkamp), so products of
    halves are exact."""
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


@_jit
def _product_error(a, b, p):
    """a * b - p exactly, for p = a * b rounded (Dekker)."""
    ah, al = _split26(a)
    bh, bl = _split26(b)
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


@_jit
def _exp_reduce(x):
    """(n, r_hi, r_lo) with x = n ln2 + r_hi + r_lo, |r| <= ln2 / 2 and r_hi exact, for x
    clamped to [-746, 710] (NaN stays NaN in r; n is then 0)."""
    x = _where(x > 710.0, 710.0, x)
    x = _where(x < -746.0, -746.0, x)
    n = _round(x * INV_LN2)
    n = _where(n == n, n, 0.0)
    return n, x - n * LN2_HI, -n * LN2_LO


@_jit
def _scale(p, n):
    """p * 2^n for n in [-1080, 1030], in two steps so that neither factor over- or
    underflows; a subnormal result is rounded once."""
    half = _round(n * 0.5 - 0.25)  # floor(n / 2) for integer n
    return p * _pow2(half) * _pow2(n - half)


@_inline
def exp(x):
    """e^x."""
    n, r_hi, r_lo = _exp_reduce(x)
    return _scale(1.0 + _expm1_reduced(r_hi + r_lo), n)


@_inline
def _expm1_moderate(x):
    """(hi, lo, n, e^r): e^x - 1 = hi + lo to about 2^-100 relative where n = round(x / ln2) <= 52,
    as (2^n - 1) + 2^n r_hi (exact terms, summed exactly) + 2^n (r_lo + r^2 P(r))."""
    n, r_hi, r_lo = _exp_reduce(x)
    r = r_hi + r_lo
    tail = _expm1_tail(r)
    m = _where(n > 60.0, 60.0, n)
    m = _where(m < -60.0, -60.0, m)
    s = _pow2(m)
    hi, lo = _two_sum(s - 1.0, s * r_hi)
    hi, lo = _two_sum(hi, lo + s * (r_lo + tail))
    return hi, lo, n, 1.0 + (r + tail)


@_inline
def expm1(x):
    """e^x - 1, accurate near 0; 2^n e^r - 1 for large n."""
    x = float(x)
    hi, lo, n, exp_r = _expm1_moderate(x)
    large = _scale(exp_r, n) - 1.0
    y = _where(n <= 52.0, hi + lo, large)
    return _where(x == 0.0, x, y)  # keeps -0.0


@_inline
def _log_core(x, c):
    """log(x) + c for x > 0 finite, c a small correction (|c| < ulp(log x) scale): x = 2^k m,
    m in [sqrt(1/2), sqrt(2)), log m = f - f^2/2 + s (f^2/2 + R(s^2)) with f = m - 1,
    s = f / (2 + f), as fdlibm arranges it so that the large terms are exact."""
    tiny = x < 2.2250738585072014e-308
    xs = _where(tiny, x * TWO54, x)
    bits = _bits(xs)
    k = float(((bits >> 52) & 0x7FF) - 1023) - _where(tiny, 54.0, 0.0)
    m = _from_bits((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > SQRT2
    m = _where(big, m * 0.5, m)
    k = _where(big, k + 1.0, k)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    p = ATANH_C[11]
    p = p * z + ATANH_C[10]
    p = p * z + ATANH_C[9]
    p = p * z + ATANH_C[8]
    p = p * z + ATANH_C[7]
    p = p * z + ATANH_C[6]
    p = p * z + ATANH_C[5]
    p = p * z + ATANH_C[4]
    p = p * z + ATANH_C[3]
    p = p * z + ATANH_C[2]
    p = p * z + ATANH_C[1]
    R = z * p
    hfsq = 0.5 * f * f
    return k * LN2_HI - ((hfsq - (s * (hfsq + R) + (k * LN2_LO + c))) - f)


@_jit
def _log_special(x, y):
    """log's values outside (0, inf): y (computed for x in it) everywhere else."""
    y = _where(x == math.inf, math.inf, y)
    y = _where(x == 0.0, -math.inf, y)
    y = _where(x < 0.0, math.nan, y)
    return _where(x != x, x, y)


@_inline
def log(x):
    """The natural logarithm."""
    x = float(x)
    return _log_special(x, _log_core(x, 0.0))


@_inline
def log1p(x):
    """log(1 + x), accurate near 0: log(u) for u = 1 + x rounded, plus the rounding error of
    u relative to u (which log's last sum adds exactly where it matters)."""
    x = float(x)
    u = 1.0 + x
    err = _where(u >= 2.0, (1.0 - (u - x)), (x - (u - 1.0)))
    u_pos = _where(u > 0.0, u, 1.0)
    y = _log_core(u_pos, err / u_pos)
    y = _log_special(u, y)
    y = _where(x == math.inf, math.inf, y)
    return _where(x == 0.0, x, y)  # keeps -0.0


@_inline
def tanh(x):
    """tanh(x) = sign(x) (-t / (2 + t)), t = e^(-2|x|) - 1 in (-1, 0] (no cancellation), with t
    and 2 + t kept as double-doubles and the quotient corrected by its exact residual."""
    x = float(x)
    t_hi, t_lo, n, exp_r = _expm1_moderate(-2.0 * abs(x))
    d_hi, d_lo = _two_sum(2.0, t_hi)
    d_lo = d_lo + t_lo
    q = -t_hi / d_hi
    residual = (-t_hi - q * d_hi) - _product_error(q, d_hi, q * d_hi) - t_lo - q * d_lo
    y = q + residual / d_hi
    return math.copysign(y, x)


@_inline
def logistic(x):
    """1 / (1 + e^-x), as NumPy computes it (funcgrad's logistic)."""
    return 1.0 / (1.0 + exp(-float(x)))


# --- sin and cos -----------------------------------------------------------------------
# x = n pi/2 + r with |r| <= pi/4, then sin r or cos r by the quadrant n mod 4, for
# |x| < 2^20: Cody-Waite with pi/2 in three 33-bit parts and a tail. A fused loop counts
# larger arguments and runs again with the C library's sin and cos if there were any
# (emitter.py): an exact reduction of every double, branch-free, took seconds to compile
# into each program.

def _pi_times(scale_bits: int) -> int:
    """floor(pi * 2^scale_bits), by Machin's formula pi = 16 atan(1/5) - 4 atan(1/239) in
    integers with guard bits."""
    one = 1 << (scale_bits + 32)

    def atan_inverse(k):
        total, term, n, sign = 0, one // k, 1, 1
        while term:
            total += sign * (term // n)
            term //= k * k
            n += 2
            sign = -sign
        return total
    return (16 * atan_inverse(5) - 4 * atan_inverse(239)) >> 32


_PI_BITS = 1400
_PI = _pi_times(_PI_BITS)  # pi = _PI / 2^_PI_BITS to within 2^-1390


def _pio2_parts(count: int, bits: int) -> tuple[float, ...]:
    """pi/2 as ``count`` doubles of ``bits`` significant bits each, then the rest (so n times
    each part but the last is exact for n < 2^(53 - bits))."""
    parts, rest = [], Decimal(_PI) / Decimal(2 ** (_PI_BITS + 1))
    for _ in range(count):
        hi, _ = _split(rest, 53 - bits)
        parts.append(hi)
        rest -= Decimal(hi)
    return (*parts, float(rest))


getcontext().prec = 120
PIO2_1, PIO2_2, PIO2_3, PIO2_3T = _pio2_parts(3, 33)
TWO_OVER_PI = float(Decimal(2 ** (_PI_BITS + 1)) / Decimal(_PI))
# 1/(2k+1)! and 1/(2k)!: Taylor coefficients of sin and cos, enough for |r| <= pi/4
SIN_C = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(10))
COS_C = tuple((-1) ** k / math.factorial(2 * k) for k in range(10))
MEDIUM = 2.0 ** 20  # below, the Cody-Waite reduction


@_jit
def _floor(t):
    """floor(t) for any finite t."""
    r = _round(t)
    r = _where(r > t, r - 1.0, r)
    return _where(abs(t) >= 4503599627370496.0, t, r)


@_inline
def _reduce_medium(a):
    """(n, r_hi, r_lo) with a = n pi/2 + r_hi + r_lo, for 0 <= a < 2^20."""
    n = _round(a * TWO_OVER_PI)
    r1 = a - n * PIO2_1
    h, e = _two_sum(r1, -(n * PIO2_2))
    h2, e2 = _two_sum(h, -(n * PIO2_3))
    r_hi, r_lo = _two_sum(h2, e2 + e - n * PIO2_3T)
    return n, r_hi, r_lo


@_inline
def _reduce_small(x):
    """(quadrant, r_hi, r_lo) for |x| < 2^20: |x| = quadrant pi/2 + r (mod 2 pi)."""
    a = abs(x)
    n, r_hi, r_lo = _reduce_medium(_where(a < MEDIUM, a, 0.0))
    return n - 4.0 * _floor(n * 0.25), r_hi, r_lo


@_inline
def _sin_cos_reduced(r, r_lo):
    """(sin r, cos r) for r + r_lo, |r| <= pi/4 (a little beyond is fine)."""
    z = r * r
    p = SIN_C[9]
    p = p * z + SIN_C[8]
    p = p * z + SIN_C[7]
    p = p * z + SIN_C[6]
    p = p * z + SIN_C[5]
    p = p * z + SIN_C[4]
    p = p * z + SIN_C[3]
    p = p * z + SIN_C[2]
    p = p * z + SIN_C[1]
    sin_r = r + (r * z * p + r_lo * (1.0 - 0.5 * z))
    c = COS_C[9]
    c = c * z + COS_C[8]
    c = c * z + COS_C[7]
    c = c * z + COS_C[6]
    c = c * z + COS_C[5]
    c = c * z + COS_C[4]
    c = c * z + COS_C[3]
    c = c * z + COS_C[2]
    half_z = 0.5 * z
    w = 1.0 - half_z
    cos_r = w + (((1.0 - w) - half_z) + (z * z * c - r * r_lo))
    return sin_r, cos_r


@_jit
def _sin_of(x, quadrant, r, r_lo):
    s, c = _sin_cos_reduced(r, r_lo)
    y = _where(quadrant == 0.0, s, c)
    y = _where(quadrant == 2.0, -s, y)
    y = _where(quadrant == 3.0, -c, y)
    y = _where(x < 0.0, -y, y)
    y = _where(abs(x) == math.inf, math.nan, y)
    return _where((x == 0.0) | (x != x), x, y)  # keeps -0.0 and NaN


@_jit
def _cos_of(x, quadrant, r, r_lo):
    s, c = _sin_cos_reduced(r, r_lo)
    y = _where(quadrant == 0.0, c, -s)
    y = _where(quadrant == 2.0, -c, y)
    y = _where(quadrant == 3.0, s, y)
    y = _where(abs(x) == math.inf, math.nan, y)
    return _where(x != x, x, y)


@_inline
def sin_small(x):
    """The sine for |x| < 2^20 (and inf and NaN); anything for larger |x|. A fused loop calls
    it and counts larger arguments (emitter.py), to run again with the C library's if there
    were."""
    x = float(x)
    quadrant, r, r_lo = _reduce_small(x)
    return _sin_of(x, quadrant, r, r_lo)


@_inline
def cos_small(x):
    """The cosine for |x| < 2^20 (and inf and NaN), as sin_small."""
    x = float(x)
    quadrant, r, r_lo = _reduce_small(x)
    return _cos_of(x, quadrant, r, r_lo)
