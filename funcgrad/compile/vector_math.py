"""Transcendental functions that LLVM can vectorise inside funcgrad's fused loops.

Numba lowers ``np.exp(x)`` to a call of the C library's scalar ``exp``, one element at a
time: a loop that calls it cannot be vectorised. These versions are written as vector math
libraries write theirs: a range reduction (Cody-Waite: the constant split in a part whose
products are exact and a small correction), a polynomial (by Horner's rule, or by Estrin's
scheme where a shorter chain of dependent steps matters; each step a fused multiply-add
where the CPU has one), and the scaling by a power of two built from its bits. There is no
branch: out-of-range and special arguments (infinities, NaN, signed zeros, subnormals) are
computed along with the others and chosen at the end with conditional expressions LLVM turns
into blends, so every element of a loop runs the same instructions.

Each function computes in float64. The float64 ones (exp, log...) keep the last bits with
exact corrections (double-double sums, the residual of a division); the float32 ones
(exp_f32, log_f32...) need only 2^-30 or so, with shorter polynomials and none of those, and
their result is rounded once to float32 by the generated code's cast: within an ulp in both
dtypes. pow (float64) carries log|x| as a double-double. tests/test_vector_math.py checks
them all against NumPy over their whole domain. The polynomials are truncated Taylor series
(more terms than a minimax polynomial would need, but their coefficients are exact rationals
anyone can check).

Like scalar_math's, they are compiled into each generated function that calls them, as
``fgm.exp(x)`` (compile/routines.py finds them here). The addition of a long loop's sums
that lets LLVM vectorise the loop, add_reassociable, is in sums.py.
"""

from __future__ import annotations

import math
import struct
from decimal import Context, Decimal, localcontext

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import config
from numba.extending import intrinsic, register_jitable

from funcgrad.compile.straight_line import select, straight_line

_jit = register_jitable  # small helpers: as a caller of them is traced, they are followed


# The functions generated code calls: written straight into the caller's LLVM IR, where
# LLVM sees the whole loop (straight_line.py: Numba's inline="always" re-ran its type
# inference for every call site and helper, seconds per program)
_inline = straight_line


# The constants below are worked out in decimal arithmetic with enough digits, in a context
# of this module's own: the thread's context is the user's (importing funcgrad must not
# change their Decimal precision)
_DIGITS_60, _DIGITS_120 = Context(prec=60), Context(prec=120)
_LN2 = Decimal(2).ln(_DIGITS_60)


def _split(value: Decimal, zero_bits: int) -> tuple[float, float]:
    """``value`` as hi + lo: hi is its double with the low ``zero_bits`` bits of the
    significand cleared (so hi times an integer below 2^zero_bits is exact), lo the rest."""
    bits = struct.unpack("<q", struct.pack("<d", float(value)))[0]
    hi = struct.unpack("<d", struct.pack("<q", bits & ~((1 << zero_bits) - 1)))[0]
    return hi, float(value - Decimal(hi))


with localcontext(_DIGITS_60):
    LN2_HI, LN2_LO = _split(_LN2, 32)
    LN2 = float(_LN2)
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


@intrinsic
def _mul_add(typingctx, a, b, c):
    """a * b + c, one fused instruction where the machine has one (llvm.fmuladd: the
    polynomials' steps, where either rounding is as good; never in exact error terms)."""
    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        fmuladd = builder.module.declare_intrinsic(
            "llvm.fmuladd", [double], ir.FunctionType(double, [double] * 3))
        return builder.call(fmuladd, args)
    return types.float64(types.float64, types.float64, types.float64), codegen


@intrinsic
def _fused_mul_add(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma): one instruction where the CPU has it (_HAS_FMA),
    a call of the C library's fma where not."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return types.float64(types.float64, types.float64, types.float64), codegen


def _target_has_fma() -> bool:
    """Whether the CPU Numba compiles for has fused multiply-add instructions."""
    name, features = getattr(config, "CPU_NAME", None), getattr(config, "CPU_FEATURES", None)
    if name or features:  # a target chosen with NUMBA_CPU_NAME, NUMBA_CPU_FEATURES
        return "+fma" in (features or "")
    try:
        return bool(llvm.get_host_cpu_features().get("fma", False))
    except RuntimeError:  # LLVM cannot tell on this platform: Dekker's exact products
        return False


_HAS_FMA = _target_has_fma()


@select
def _where(condition, if_true, if_false):
    """A conditional expression as a function LLVM inlines (it becomes a select, a blend in
    vector code): the functions inlined at Numba's level keep none of their own, whose
    renamed variables Numba's SSA pass warns about."""
    return if_true if condition else if_false


@_inline
def where(condition, if_true, if_false):
    """``if_true if condition else if_false`` without a branch (an LLVM select), as generated
    code's ``fgm.where``: the code stays one basic block, which Numba's SSA and type passes
    go through faster (and a loop's, which LLVM vectorises)."""
    return _where(condition, if_true, if_false)


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
    """exp(r) - 1 - r for |r| <= ln2 / 2: Taylor to r^13 (its remainder is below 2^-60 r),
    by Estrin's scheme (pairs of terms, then pairs of pairs: a third of Horner's latency,
    which is what a chain of functions waits for)."""
    r2 = r * r
    r4 = r2 * r2
    q0 = _mul_add(EXP_C[3], r, EXP_C[2])
    q1 = _mul_add(EXP_C[5], r, EXP_C[4])
    q2 = _mul_add(EXP_C[7], r, EXP_C[6])
    q3 = _mul_add(EXP_C[9], r, EXP_C[8])
    q4 = _mul_add(EXP_C[11], r, EXP_C[10])
    q5 = _mul_add(EXP_C[13], r, EXP_C[12])
    p = _mul_add(_mul_add(_mul_add(q5, r2, q4), r4, _mul_add(q3, r2, q2)), r4,
                 _mul_add(q1, r2, q0))
    return r2 * p


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
def _residual(a, q, b):
    """a - q b exactly, for q within an ulp or two of a / b (the remainder of a division):
    one fused multiply-add, or Dekker's exact product where the CPU has none."""
    if _HAS_FMA:  # a global: Numba compiles one branch
        return _fused_mul_add(-q, b, a)
    p = q * b
    return (a - p) - _product_error(q, b, p)


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
    z2 = z * z
    z4 = z2 * z2
    p01 = _mul_add(ATANH_C[2], z, ATANH_C[1])
    p23 = _mul_add(ATANH_C[4], z, ATANH_C[3])
    p45 = _mul_add(ATANH_C[6], z, ATANH_C[5])
    p67 = _mul_add(ATANH_C[8], z, ATANH_C[7])
    p89 = _mul_add(ATANH_C[10], z, ATANH_C[9])
    high = _mul_add(_mul_add(ATANH_C[11], z2, p89), z4, _mul_add(p67, z2, p45))
    p = _mul_add(high, z4, _mul_add(p23, z2, p01))  # Estrin's scheme, as _expm1_tail
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
    and 2 + t kept as double-doubles and the quotient corrected by its exact residual (one
    division: the reciprocal, then the quotient and the correction multiply by it)."""
    x = float(x)
    t_hi, t_lo, n, exp_r = _expm1_moderate(-2.0 * abs(x))
    d_hi, d_lo = _two_sum(2.0, t_hi)
    d_lo = d_lo + t_lo
    reciprocal = 1.0 / d_hi
    q = -t_hi * reciprocal
    residual = _residual(-t_hi, q, d_hi) - t_lo - q * d_lo
    y = q + residual * reciprocal
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


with localcontext(_DIGITS_120):
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
    """(sin r, cos r) for r + r_lo, |r| <= pi/4 (a little beyond is fine), the polynomials
    in z = r^2 by Estrin's scheme (as _expm1_tail)."""
    z = r * r
    z2 = z * z
    z4 = z2 * z2
    s01 = _mul_add(SIN_C[2], z, SIN_C[1])
    s23 = _mul_add(SIN_C[4], z, SIN_C[3])
    s45 = _mul_add(SIN_C[6], z, SIN_C[5])
    s67 = _mul_add(SIN_C[8], z, SIN_C[7])
    p = _mul_add(_mul_add(SIN_C[9], z4, _mul_add(s67, z2, s45)), z4, _mul_add(s23, z2, s01))
    sin_r = r + (r * z * p + r_lo * (1.0 - 0.5 * z))
    c23 = _mul_add(COS_C[3], z, COS_C[2])
    c45 = _mul_add(COS_C[5], z, COS_C[4])
    c67 = _mul_add(COS_C[7], z, COS_C[6])
    c89 = _mul_add(COS_C[9], z, COS_C[8])
    c = _mul_add(_mul_add(c89, z2, c67), z4, _mul_add(c45, z2, c23))
    half_z = 0.5 * z
    w = 1.0 - half_z
    cos_r = w + (((1.0 - w) - half_z) + (z2 * c - r * r_lo))
    return sin_r, cos_r


@_jit
def _sin_of(x, quadrant, s, c):
    """sin x from the quadrant of x and the sine and cosine of its remainder."""
    y = _where(quadrant == 0.0, s, c)
    y = _where(quadrant == 2.0, -s, y)
    y = _where(quadrant == 3.0, -c, y)
    y = _where(x < 0.0, -y, y)
    y = _where(abs(x) == math.inf, math.nan, y)
    return _where((x == 0.0) | (x != x), x, y)  # keeps -0.0 and NaN


@_jit
def _cos_of(x, quadrant, s, c):
    """cos x, as _sin_of."""
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
    s, c = _sin_cos_reduced(r, r_lo)
    return _sin_of(x, quadrant, s, c)


@_inline
def cos_small(x):
    """The cosine for |x| < 2^20 (and inf and NaN), as sin_small."""
    x = float(x)
    quadrant, r, r_lo = _reduce_small(x)
    s, c = _sin_cos_reduced(r, r_lo)
    return _cos_of(x, quadrant, s, c)


# --- float32 ---------------------------------------------------------------------------
# A float32 argument is exact as a float64, and its result needs 24 bits: computed in
# float64 to a relative 2^-30 or better with shorter polynomials and no double-double
# corrections, then rounded once to float32 (by the generated code's cast), it is within
# an ulp of the correctly rounded result. Subnormal float32 are normal float64, so no
# rescaling either. A loop over float32 arrays runs 8 lanes of float64 on AVX-512 machines.

F32_EXP_LIMIT = 160.0  # |x| beyond: e^x is 0 or inf in float32 (e^160 is finite in float64)
F32_TANH_LIMIT = 20.0  # beyond, tanh rounds to +-1 in float32


@_jit
def _exp_reduce_f32(x):
    """(n, r) with x = n ln2 + r, |r| <= ln2 / 2 to 2^-60 or so, for x clamped to
    [-160, 160] (NaN: n = 0 and r NaN)."""
    x = _where(x > F32_EXP_LIMIT, F32_EXP_LIMIT, x)
    x = _where(x < -F32_EXP_LIMIT, -F32_EXP_LIMIT, x)
    n = _round(x * INV_LN2)
    n = _where(n == n, n, 0.0)
    return n, (x - n * LN2_HI) - n * LN2_LO


@_jit
def _expm1_reduced_f32(r):
    """e^r - 1 for |r| <= ln2 / 2: Taylor to r^8 (the remainder is below 2^-31 r)."""
    p = _mul_add(EXP_C[8], r, EXP_C[7])
    p = _mul_add(p, r, EXP_C[6])
    p = _mul_add(p, r, EXP_C[5])
    p = _mul_add(p, r, EXP_C[4])
    p = _mul_add(p, r, EXP_C[3])
    p = _mul_add(p, r, EXP_C[2])
    return _mul_add(r * r, p, r)


@_jit
def _expm1_f32_core(x):
    """e^x - 1 = (2^n - 1) + 2^n (e^r - 1): each term exact or relative, no cancellation
    beyond a factor of about 2."""
    n, r = _exp_reduce_f32(x)
    s = _pow2(n)
    return (s - 1.0) + s * _expm1_reduced_f32(r)


@_inline
def exp_f32(x):
    """e^x of a float32, in float64 (to round to float32)."""
    n, r = _exp_reduce_f32(float(x))
    return (1.0 + _expm1_reduced_f32(r)) * _pow2(n)


@_inline
def expm1_f32(x):
    """e^x - 1 of a float32, in float64."""
    x = float(x)
    return _where(x == 0.0, x, _expm1_f32_core(x))  # keeps -0.0


@_inline
def tanh_f32(x):
    """tanh of a float32, in float64: sign(x) (-t / (2 + t)), t = e^(-2|x|) - 1."""
    x = float(x)
    a = abs(x)
    t = _expm1_f32_core(-2.0 * _where(a > F32_TANH_LIMIT, F32_TANH_LIMIT, a))
    return math.copysign(-t / (2.0 + t), x)


@_inline
def logistic_f32(x):
    """1 / (1 + e^-x) of a float32, in float64."""
    return 1.0 / (1.0 + exp_f32(-float(x)))


@_inline
def _log_f32_core(x):
    """log(x) for x > 0 finite and normal: x = 2^k m, m in [sqrt(1/2), sqrt(2)),
    log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172: Taylor to s^11."""
    bits = _bits(x)
    k = float(((bits >> 52) & 0x7FF) - 1023)
    m = _from_bits((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > SQRT2
    m = _where(big, m * 0.5, m)
    k = _where(big, k + 1.0, k)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    p = _mul_add(ATANH_C[5], z, ATANH_C[4])
    p = _mul_add(p, z, ATANH_C[3])
    p = _mul_add(p, z, ATANH_C[2])
    p = _mul_add(p, z, ATANH_C[1])
    return _mul_add(k, LN2, _mul_add(s * z, p, s + s))


@_inline
def log_f32(x):
    """The natural logarithm of a float32, in float64."""
    x = float(x)
    return _log_special(x, _log_f32_core(_where(x > 0.0, x, 1.0)))


@_inline
def log1p_f32(x):
    """log(1 + x) of a float32, in float64: log(u), u = 1 + x rounded, plus the rounding
    error (where |x| < 1/2, where it matters; u is then near 1, and the error over u is
    the error to the precision needed)."""
    x = float(x)
    u = 1.0 + x
    err = _where(abs(x) < 0.5, x - (u - 1.0), 0.0)
    y = _log_f32_core(_where(u > 0.0, u, 1.0)) + err
    y = _log_special(u, y)
    y = _where(x == math.inf, math.inf, y)
    return _where(x == 0.0, x, y)  # keeps -0.0


@_inline
def _sin_cos_reduced_f32(r, r_lo):
    """(sin r, cos r) for r + r_lo, |r| <= pi/4: Taylor to r^13 and r^12."""
    z = r * r
    p = _mul_add(SIN_C[6], z, SIN_C[5])
    p = _mul_add(p, z, SIN_C[4])
    p = _mul_add(p, z, SIN_C[3])
    p = _mul_add(p, z, SIN_C[2])
    p = _mul_add(p, z, SIN_C[1])
    sin_r = r + (r * z * p + r_lo)
    c = _mul_add(COS_C[6], z, COS_C[5])
    c = _mul_add(c, z, COS_C[4])
    c = _mul_add(c, z, COS_C[3])
    c = _mul_add(c, z, COS_C[2])
    cos_r = (1.0 - 0.5 * z) + (z * z * c - r * r_lo)
    return sin_r, cos_r


@_inline
def sin_small_f32(x):
    """The sine of a float32 below 2^20 in magnitude (and inf and NaN), in float64, as
    sin_small."""
    x = float(x)
    quadrant, r, r_lo = _reduce_small(x)
    s, c = _sin_cos_reduced_f32(r, r_lo)
    return _sin_of(x, quadrant, s, c)


@_inline
def cos_small_f32(x):
    """The cosine of a float32 below 2^20 in magnitude (and inf and NaN), in float64."""
    x = float(x)
    quadrant, r, r_lo = _reduce_small(x)
    s, c = _sin_cos_reduced_f32(r, r_lo)
    return _cos_of(x, quadrant, s, c)


@_jit
def _pow_special(x, y, magnitude):
    """x ** y as C's powf and NumPy define it, from |x| ** y (``magnitude``, right for x
    finite and non-zero and y finite): the sign for x < 0 (NaN unless y is an integer),
    zeros and infinities of x and y, NaN, and the 1 of y = 0 and of x = 1."""
    y_integer = _floor(y) == y
    half = 0.5 * y
    y_odd = y_integer & (_floor(half) != half)
    negative = math.copysign(1.0, x) < 0.0
    signed = _where(y_odd & negative, -1.0, 1.0)
    result = _where(x < 0.0, _where(y_integer, signed * magnitude, math.nan), magnitude)
    result = _where(x == 0.0, signed * _where(y < 0.0, math.inf, 0.0), result)
    result = _where(abs(x) == math.inf, signed * _where(y < 0.0, 0.0, math.inf), result)
    grows = (abs(x) > 1.0) == (y > 0.0)
    result = _where(abs(y) == math.inf,
                    _where(abs(x) == 1.0, 1.0, _where(grows, math.inf, 0.0)), result)
    result = _where((x != x) | (y != y), math.nan, result)
    return _where((y == 0.0) | (x == 1.0), 1.0, result)


@_inline
def pow_f32(x, y):
    """x ** y of float32, in float64: e^(y log|x|) with log|x| to float64's precision (so
    that y log|x|, up to 160 in magnitude where the result is finite, is still within
    2^-45), then the signs and special values of _pow_special."""
    x = float(x)
    y = float(y)
    a = abs(x)
    log_a = _log_core(_where((a > 0.0) & (a < math.inf), a, 1.0), 0.0)
    return _pow_special(x, y, exp_f32(y * log_a))


# --- pow in float64 --------------------------------------------------------------------
# e^(y log|x|) loses |y log|x|| (up to 745) times log's relative error: within 2 ulp it
# needs log|x| to about 2^-64, as a double-double, and y log|x| as one too.

TWO_THIRDS_HI = 2.0 / 3.0
with localcontext(_DIGITS_120):
    TWO_THIRDS_LO = float(Decimal(2) / Decimal(3) - Decimal(TWO_THIRDS_HI))


@_jit
def _two_product(a, b):
    """(p, e) with p = a * b rounded and p + e = a * b exactly."""
    p = a * b
    if _HAS_FMA:  # a global: Numba compiles one branch
        return p, _fused_mul_add(a, b, -p)
    return p, _product_error(a, b, p)


@_inline
def _log_double_double(x):
    """(hi, lo) with hi + lo = log(x) to about 2^-66 relative, for x > 0 finite:
    log m = 2 atanh(s) = 2s + (2/3) s^3 + s^5 Q(s^2) for s = f / (2 + f), with s, its cube
    term and the sums kept as double-doubles; the last term is below 2^-12 of the result."""
    tiny = x < 2.2250738585072014e-308
    xs = _where(tiny, x * TWO54, x)
    bits = _bits(xs)
    k = float(((bits >> 52) & 0x7FF) - 1023) - _where(tiny, 54.0, 0.0)
    m = _from_bits((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > SQRT2
    m = _where(big, m * 0.5, m)
    k = _where(big, k + 1.0, k)
    f = m - 1.0
    d_hi, d_lo = _two_sum(2.0, f)
    reciprocal = 1.0 / d_hi
    s = f * reciprocal
    s_lo = (_residual(f, s, d_hi) - s * d_lo) * reciprocal
    z, z_lo = _two_product(s, s)
    cube, cube_lo = _two_product(s, z)
    cube_lo = _mul_add(s, z_lo, cube_lo)
    third, third_lo = _two_product(TWO_THIRDS_HI, cube)
    third_lo = third_lo + (TWO_THIRDS_HI * cube_lo + TWO_THIRDS_LO * cube)
    q = _mul_add(ATANH_C[11], z, ATANH_C[10])
    q = _mul_add(q, z, ATANH_C[9])
    q = _mul_add(q, z, ATANH_C[8])
    q = _mul_add(q, z, ATANH_C[7])
    q = _mul_add(q, z, ATANH_C[6])
    q = _mul_add(q, z, ATANH_C[5])
    q = _mul_add(q, z, ATANH_C[4])
    q = _mul_add(q, z, ATANH_C[3])
    q = _mul_add(q, z, ATANH_C[2])
    small = cube * z * q + 2.0 * s_lo * (1.0 + z)
    h1, e1 = _two_sum(s + s, third)
    h2, e2 = _two_sum(k * LN2_HI, h1)
    lo = ((e1 + third_lo) + small) + (e2 + k * LN2_LO)
    return _two_sum(h2, lo)


@_inline
def pow(x, y):
    """x ** y in float64: e^(y log|x|) with log|x| and the product as double-doubles, the
    low part added to exp's reduced argument; then the signs and special values of
    _pow_special."""
    x = float(x)
    y = float(y)
    a = abs(x)
    log_hi, log_lo = _log_double_double(_where((a > 0.0) & (a < math.inf), a, 1.0))
    t, t_lo = _two_product(y, log_hi)
    t_lo = t_lo + y * log_lo
    # (NaN where Dekker's split of a y beyond 1e300 overflows: then log|x| = 0, x = 1)
    t_lo = _where((abs(t) < 1000.0) & (t_lo == t_lo), t_lo, 0.0)
    n, r_hi, r_lo = _exp_reduce(t)
    magnitude = _scale(1.0 + _expm1_reduced(r_hi + (r_lo + t_lo)), n)
    return _pow_special(x, y, magnitude)
