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



def _jit(function):
    """Compiled into its caller at Numba's level: LLVM's inliner leaves the larger ones as
    calls, which stop the loop around them from being vectorised. (A fresh decorator each
    time: register_jitable pops its options from the dict it was given.)"""
    return register_jitable(inline="always")(function)


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
    x = 710.0 if x > 710.0 else x
    x = -746.0 if x < -746.0 else x
    n = _round(x * INV_LN2)
    n = n if n == n else 0.0
    return n, x - n * LN2_HI, -n * LN2_LO


@_jit
def _scale(p, n):
    """p * 2^n for n in [-1080, 1030], in two steps so that neither factor over- or
    underflows; a subnormal result is rounded once."""
    half = _round(n * 0.5 - 0.25)  # floor(n / 2) for integer n
    return p * _pow2(half) * _pow2(n - half)


@_jit
def exp(x):
    """e^x."""
    n, r_hi, r_lo = _exp_reduce(x)
    return _scale(1.0 + _expm1_reduced(r_hi + r_lo), n)


@_jit
def _expm1_moderate(x):
    """(hi, lo, n, e^r): e^x - 1 = hi + lo to about 2^-100 relative where n = round(x / ln2) <= 52,
    as (2^n - 1) + 2^n r_hi (exact terms, summed exactly) + 2^n (r_lo + r^2 P(r))."""
    n, r_hi, r_lo = _exp_reduce(x)
    r = r_hi + r_lo
    tail = _expm1_tail(r)
    m = 60.0 if n > 60.0 else n
    m = -60.0 if m < -60.0 else m
    s = _pow2(m)
    hi, lo = _two_sum(s - 1.0, s * r_hi)
    hi, lo = _two_sum(hi, lo + s * (r_lo + tail))
    return hi, lo, n, 1.0 + (r + tail)


@_jit
def expm1(x):
    """e^x - 1, accurate near 0; 2^n e^r - 1 for large n."""
    x = float(x)
    hi, lo, n, exp_r = _expm1_moderate(x)
    large = _scale(exp_r, n) - 1.0
    y = hi + lo if n <= 52.0 else large
    return x if x == 0.0 else y  # keeps -0.0


@_jit
def _log_core(x, c):
    """log(x) + c for x > 0 finite, c a small correction (|c| < ulp(log x) scale): x = 2^k m,
    m in [sqrt(1/2), sqrt(2)), log m = f - f^2/2 + s (f^2/2 + R(s^2)) with f = m - 1,
    s = f / (2 + f), as fdlibm arranges it so that the large terms are exact."""
    tiny = x < 2.2250738585072014e-308
    xs = x * TWO54 if tiny else x
    bits = _bits(xs)
    k = float(((bits >> 52) & 0x7FF) - 1023) - (54.0 if tiny else 0.0)
    m = _from_bits((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > SQRT2
    m = m * 0.5 if big else m
    k = k + 1.0 if big else k
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
    y = math.inf if x == math.inf else y
    y = -math.inf if x == 0.0 else y
    y = math.nan if x < 0.0 else y
    return x if x != x else y


@_jit
def log(x):
    """The natural logarithm."""
    x = float(x)
    return _log_special(x, _log_core(x, 0.0))


@_jit
def log1p(x):
    """log(1 + x), accurate near 0: log(u) for u = 1 + x rounded, plus the rounding error of
    u relative to u (which log's last sum adds exactly where it matters)."""
    x = float(x)
    u = 1.0 + x
    err = (1.0 - (u - x)) if u >= 2.0 else (x - (u - 1.0))
    u_pos = u if u > 0.0 else 1.0
    y = _log_core(u_pos, err / u_pos)
    y = _log_special(u, y)
    y = math.inf if x == math.inf else y
    return x if x == 0.0 else y  # keeps -0.0


@_jit
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


@_jit
def logistic(x):
    """1 / (1 + e^-x), as NumPy computes it (funcgrad's logistic)."""
    return 1.0 / (1.0 + exp(-float(x)))
