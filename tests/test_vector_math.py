"""The vectorisable exp, expm1, log, log1p, tanh, logistic, sin, cos and pow of
compile/vector_math.py, as jitted programs compute them: against NumPy at many points of
every exponent range, at the special values and at the boundaries of overflow and underflow,
in float64 and float32; and the fused loop that calls them compiled to packed (SIMD)
instructions."""

import os
import platform
import re
import subprocess
import sys

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.compile import emitter
from funcgrad.compile.emitter import VECTOR_MATH_MIN_ELEMENTS

# Numba's SSA pass warns about the renamed variables of conditional expressions in functions
# it inlines: vector_math keeps them out of those (its _where)
pytestmark = pytest.mark.filterwarnings("error::numba.core.errors.NumbaWarning")

NAMES = ("exp", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos")


def _long(x):
    """x repeated to a loop long enough for vector_math (emitter.VECTOR_MATH_MIN_ELEMENTS)."""
    return np.resize(x, max(len(x), VECTOR_MATH_MIN_ELEMENTS))


def _numpy(name, x):
    with np.errstate(all="ignore"):
        if name == "logistic":
            return 1 / (1 + np.exp(-x))
        return getattr(np, name)(x)


def _all_six(x):
    return (fnp.exp(x), fnp.expm1(x), fnp.log(x), fnp.log1p(x), fnp.tanh(x),
            fg.nn.sigmoid(x))


def _all(x):
    """The six, then sin and cos in a loop of their own: an argument of 2^20 or more makes
    that loop run again with the C library's functions."""
    trig = fg.jit(lambda x: (fnp.sin(x), fnp.cos(x)))
    small = np.abs(x) < 2.0 ** 20
    return (*fg.jit(_all_six)(x), *trig(np.where(small, x, 0.0)))


def _points(dtype, n=60_000):
    """Random bit patterns (every exponent, subnormals included), the ranges where the
    functions change, and the special values and boundaries."""
    rng = np.random.default_rng(15)
    int_type = np.int64 if dtype == np.float64 else np.int32
    bits = rng.integers(np.iinfo(int_type).min, np.iinfo(int_type).max, n, dtype=int_type)
    random_bits = bits.view(dtype)
    info = np.finfo(dtype)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, -info.tiny, info.max, -info.max,
               info.smallest_subnormal, -info.smallest_subnormal, 1.0, -1.0, 2.0, 0.5,
               709.782712893384, 709.7827128933841, -708.3964185322641, -745.1332191019411,
               -745.1332191019412, 88.72283, 88.72284, -87.33655, -103.97208, -103.97209,
               -1.0 + info.eps / 2, 1.0 - info.eps / 2, 1.0 + info.eps, 0.34657359, -0.34657359,
               19.0625, 22.0, -22.0, 1e-300, -1e-300, 2.0 ** -60, -(2.0 ** -60)]
    with np.errstate(all="ignore"):
        return np.concatenate([random_bits, rng.uniform(-3, 3, n // 2),
                               rng.uniform(-800, 800, n // 4), rng.uniform(-1, 200, n // 4),
                               special]).astype(dtype)


def _ulps(got, want):
    """The distance in units in the last place, inf where one is finite and the other not,
    0 where both are the same NaN, infinity or signed zero."""
    int_type = np.int64 if got.dtype == np.float64 else np.int32

    def ordered(a):
        i = a.view(int_type).astype(np.int64)
        return np.where(i < 0, np.int64(np.iinfo(int_type).min) - i, i)
    same = (got == want) & (np.signbit(got) == np.signbit(want)) \
        | np.isnan(got) & np.isnan(want)
    finite = np.isfinite(got) & np.isfinite(want)
    distance = np.abs(ordered(got) - ordered(want)).astype(np.float64)
    return np.where(same, 0.0, np.where(finite, distance, np.inf))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_within_two_ulp_of_numpy_everywhere(dtype):
    x = _points(dtype)
    outs = _all(x)
    x_trig = np.where(np.abs(x) < 2.0 ** 20, x, 0.0).astype(dtype)
    for name, got in zip(NAMES, outs):
        x = x_trig if name in ("sin", "cos") else x
        assert got.dtype == dtype
        # float32 against NumPy's float64 rounded once: NumPy's float32 exp and log are
        # themselves up to 3 ulp from that, and its logistic flushes to 0 below -88.7
        with np.errstate(all="ignore"):
            want = _numpy(name, x.astype(np.float64)).astype(dtype) if dtype == np.float32 \
                else _numpy(name, x)
        errors = _ulps(got, want)
        worst = int(np.argmax(errors))
        assert errors[worst] <= 2, (name, x[worst], got[worst], want[worst])


SPECIAL = {np.float64: [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -2.0, 5e-324, -5e-324, 1e308,
                        -1e308, 710.0, -746.0],
           np.float32: [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -2.0, 1e-45, -1e-45, 3e38,
                        -3e38, 89.0, -104.0, 20.0, -20.0]}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_special_values_exactly_as_numpy(dtype):
    """Zeros keep their sign, infinities and NaN come out as NumPy's; float32 against NumPy's
    float64 rounded (NumPy's own float32 logistic flushes tiny results to 0)."""
    x = _long(np.array(SPECIAL[dtype], dtype))
    for name, got in zip(NAMES, _all(x)):
        x = np.where(np.abs(x) < 2.0 ** 20, x, 0.0).astype(dtype) if name in ("sin", "cos") \
            else x
        with np.errstate(over="ignore"):
            want = _numpy(name, x.astype(np.float64)).astype(dtype)
        assert np.array_equal(got, want, equal_nan=True), name
        signed = ~np.isnan(want)  # (a NaN's sign bit means nothing)
        assert np.array_equal(np.signbit(got[signed]), np.signbit(want[signed])), name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pow_within_two_ulp_of_numpy(dtype, monkeypatch):
    """x ** y (vector_math.pow, pow_f32): random bit patterns, integer and fractional
    exponents of negative bases, results from overflow to the subnormals, bases near 1 with
    large exponents, and every pair of special values (zeros, infinities, NaN, +-1,
    subnormals) as C's pow and NumPy define them."""
    rng = np.random.default_rng(16)
    n = 20_000
    int_type = np.int64 if dtype == np.float64 else np.int32
    bits = rng.integers(np.iinfo(int_type).min, np.iinfo(int_type).max, n,
                        dtype=int_type).view(dtype)
    info = np.finfo(dtype)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5,
                        3.0, -3.0, info.smallest_subnormal, -info.smallest_subnormal,
                        info.max, 1.5, -2.5, 1 + info.eps, 1 - info.eps / 2], dtype)
    special_x, special_y = np.meshgrid(special, special)
    top = np.log2(info.max)
    with np.errstate(invalid="ignore"):  # (signalling NaN among the bit patterns)
        x = np.concatenate([bits, rng.uniform(-5, 5, n), np.abs(bits), rng.uniform(0, 2, n),
                            np.full(n, 2.0), 1 + rng.uniform(-1e-3, 1e-3, n),
                            special_x.ravel()]).astype(dtype)
        y = np.concatenate([rng.uniform(-30, 30, n), rng.integers(-12, 12, n),
                            rng.uniform(-3, 3, n), bits, rng.uniform(-top - 60, top + 2, n),
                            rng.uniform(-1e5, 1e5, n), special_y.ravel()]).astype(dtype)
    monkeypatch.setattr(emitter, "VECTOR_POW_MIN_ELEMENTS", VECTOR_MATH_MIN_ELEMENTS)
    lowered = fg.jit(lambda x, y: x ** y).lower(x, y)
    assert "fgm.pow" in lowered.source
    got = lowered.compile()(x, y)
    assert got.dtype == dtype
    with np.errstate(all="ignore"):
        wants = [np.power(x, y)]
        if dtype == np.float32:  # and the correctly rounded result
            wants.append(np.power(x.astype(np.float64), y).astype(np.float32))
    for want in wants:
        errors = _ulps(got, want)
        worst = int(np.argmax(errors))
        assert errors[worst] <= 2, (x[worst], y[worst], got[worst], want[worst])


def test_sin_and_cos_of_huge_arguments():
    """A loop meeting an argument of 2^20 or more runs again with the C library's sin and cos
    (emitter.py)."""
    x = _long(np.array([0.5, 2.0 ** 20, -(2.0 ** 20) - 0.5, 1e22, -1e300, 3.0]))
    sin, cos = fg.jit(lambda x: (fnp.sin(x), fnp.cos(x)))(x)
    assert _ulps(sin, np.sin(x)).max() <= 1 and _ulps(cos, np.cos(x)).max() <= 1
    small = np.linspace(-7, 7, VECTOR_MATH_MIN_ELEMENTS)
    assert _ulps(fg.jit(fnp.sin)(small), np.sin(small)).max() <= 1


def test_rerun_with_reductions_in_the_loop():
    """The loop that runs again recomputes its reductions from their initial values."""
    x = np.linspace(-3, 3, 5000).reshape(50, 100)
    x[3, 7] = 1e22

    def f(x):
        return fnp.sum(fnp.sin(x) * fnp.cos(x), axis=1), fnp.max(fnp.cos(x)), fnp.sin(x) + 1
    for a in (x, np.where(x > 3, 0.0, x)):
        got = fg.jit(f)(a)
        want = np.sum(np.sin(a) * np.cos(a), axis=1), np.max(np.cos(a)), np.sin(a) + 1
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-14, atol=1e-14)


def test_sums_of_long_loops():
    """A float sum in a long fused loop adds with sums.add_reassociable (partial sums
    LLVM vectorises): the same sums to rounding, in every layout of accumulator; integer
    sums and short loops keep the plain addition."""
    x = np.random.default_rng(17).normal(size=(64, 256))

    def f(x):
        return (fnp.sum(fnp.exp(x)), fnp.sum(x * x, axis=1), fnp.sum(x, axis=0),
                fnp.sum(x > 0), fnp.mean(x.astype(np.float32)))
    lowered = fg.jit(f).lower(x)
    assert lowered.source.count("fgm.add_reassociable(") == 3  # not the bools, not axis 0
    got = lowered.compile()(x)
    want = (np.sum(np.exp(x)), np.sum(x * x, axis=1), np.sum(x, axis=0), np.sum(x > 0),
            np.mean(x.astype(np.float32)))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6 if w.dtype == np.float32 else 1e-13)
    assert "add_reassociable" not in fg.jit(f).lower(x[:8]).source


def test_integer_arguments():
    x = _long(np.arange(1, 5, dtype=np.int32))
    got = fg.jit(_all_six)(x)
    for name, g in zip(NAMES, got):
        want = _numpy(name, np.asarray(x, np.float64))
        np.testing.assert_allclose(g, want, rtol=1e-15, err_msg=name)


def test_gradients_use_them_too():
    x = np.linspace(-3, 3, VECTOR_MATH_MIN_ELEMENTS)
    got = fg.jit(fg.grad(lambda x: fnp.sum(fnp.tanh(x) * fnp.exp(-x))))(x)
    np.testing.assert_allclose(got, (1 - np.tanh(x) ** 2) * np.exp(-x)
                               - np.tanh(x) * np.exp(-x), rtol=1e-13, atol=1e-14)


_INSPECT_GENERATED_LOOP = """
import re, numpy as np, funcgrad as fg, funcgrad.numpy as fnp

def compiled(f, x):
    lowered = fg.jit(f).lower(x)
    namespace = {}
    exec(lowered.source.replace("@njit(cache=True,", "@njit(cache=False,"), namespace)
    program = namespace["program"]
    out = program(x, *lowered.executable.tables)[0]
    return out, program.inspect_llvm(program.signatures[0])

for dtype in (np.float64, np.float32):
    x = np.linspace(0.5, 2.0, 4096).astype(dtype)
    out, llvm_ir = compiled(lambda x: fnp.tanh(fnp.exp(x) * fnp.log1p(x)), x)
    want = np.tanh(np.exp(x) * np.log1p(x))
    assert np.allclose(out, want, rtol=1e-15 if dtype == np.float64 else 1e-6, atol=0)
    print(llvm_ir)
    print("=== end of", dtype.__name__)
total, llvm_ir = compiled(lambda x: fnp.sum(fnp.exp(x)), x.astype(np.float64))
assert np.allclose(total, np.sum(np.exp(x.astype(np.float64))), rtol=1e-14, atol=0)
print(llvm_ir)
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 instructions")
def test_fused_loop_is_vectorised(tmp_path):
    """The loop computing tanh(exp(x) * log1p(x)) is vectorised and calls no math library
    function, in float64 and in float32, and so is the one summing exp(x): compiled in a
    fresh process at Numba's usual optimisation level (the tests run with NUMBA_OPT=0,
    which vectorises nothing), without the disk cache (a function loaded from it has no
    assembly to show)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(FUNCGRAD_CACHE_DIR=str(tmp_path),
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", _INSPECT_GENERATED_LOOP], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    float64_ir, float32_ir, sum_ir = done.stdout.split("=== end of")

    def lanes(llvm_ir, kind):
        return max((int(n) for n in re.findall(rf"<(\d+) x {kind}>", llvm_ir)), default=0)
    # float32 data at least as many to a vector as float64 (AVX-512 takes twice as many,
    # AVX2 as many: 4 each)
    assert lanes(float32_ir, "float") >= lanes(float64_ir, "double") >= 2
    for llvm_ir in (float64_ir, float32_ir, sum_ir):
        assert re.search(r"<\d+ x double>", llvm_ir)  # vectors of doubles
        assert not re.search(r"call [^(]*@(exp|log1p|tanh)f?\(", llvm_ir)
    assert re.search(r"fdiv <\d+ x double>", float64_ir + float32_ir)  # log1p's, tanh's
    # the sum's loop, with partial sums (sums.add_reassociable)
    assert re.search(r"fadd reassoc <\d+ x double>", sum_ir)


_WITHOUT_FMA = """
import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
from funcgrad.compile import vector_math
assert not vector_math._HAS_FMA
x = np.concatenate([np.linspace(-20, 20, 4001), [0.0, -0.0, np.inf, -np.inf, np.nan]])
got = fg.jit(fnp.tanh)(x)
print(np.abs(got - np.tanh(x))[np.isfinite(x)].max() / np.spacing(1.0), np.array_equal(
    got[-5:], np.tanh(x[-5:]), equal_nan=True), np.signbit(got[-4]))
"""


def test_tanh_on_a_cpu_without_fused_multiply_add(tmp_path):
    """tanh's exact residual of its division without the fused multiply-add instruction
    (Dekker's product), compiled for a generic x86 CPU."""
    env = dict(os.environ, NUMBA_CPU_NAME="generic", FUNCGRAD_CACHE_DIR=str(tmp_path),
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", _WITHOUT_FMA], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    worst, specials_equal, minus_zero = done.stdout.split()
    assert float(worst) <= 1.0 and specials_equal == "True" and minus_zero == "True"


_DECIMAL_CONTEXT = """
import decimal
decimal.getcontext().prec = 33
from funcgrad.compile import vector_math as v
print(decimal.getcontext().prec)
"""


def test_importing_vector_math_leaves_the_decimal_context_alone():
    """Its constants are worked out in Decimal arithmetic at 60 and 120 digits, in contexts
    of its own: the importing thread's precision (the user's) stays what it was."""
    done = subprocess.run([sys.executable, "-c", _DECIMAL_CONTEXT], capture_output=True,
                          text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=os.path.dirname(
                              os.path.dirname(os.path.abspath(__file__)))))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["33"]


def test_the_split_constants_sum_to_ln2_and_pi_over_2():
    """ln 2 as a 21-bit double and the rest, pi/2 as three 33-bit doubles and the rest: each
    sum exact to within its last double's rounding (checked with Decimal at 80 digits, in
    a context of the test's own)."""
    from decimal import Context, Decimal, localcontext

    from funcgrad.compile import vector_math as v
    with localcontext(Context(prec=80)):
        ln2 = Decimal(2).ln()
        assert abs(Decimal(v.LN2_HI) + Decimal(v.LN2_LO) - ln2) < Decimal(2) ** -74
        pio2 = sum(map(Decimal, (v.PIO2_1, v.PIO2_2, v.PIO2_3, v.PIO2_3T)))
        pi = Decimal("3.14159265358979323846264338327950288419716939937510582097494459")
        assert abs(pio2 - pi / 2) < Decimal(2) ** -150
