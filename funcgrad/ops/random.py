"""The primitives of funcgrad.random: the Threefry-2x32 block cipher, and the ordering of
random sort keys (for permutations).

``threefry2x32(k0, k1, x0, x1) -> (y0, y1)`` encrypts the 64-bit counter (x0, x1) under the
64-bit key (k0, k1) with 20 rounds of Threefry-2x32 (Salmon et al., "Parallel random numbers:
as easy as 1, 2, 3", SC 2011), elementwise over uint32 arrays of one shape. A counter-based
generator is a pure function of (key, counter): the n-th number never depends on how the
others were computed, so NumPy, the Numba loop and a batch of keys give the same bits.

Its derivative is zero (integers), and it has a Numba lowering: one loop over the counters
calling compile/scalar_math.py's threefry2x32 (the rounds in 64-bit integers masked to 32
bits, as Numba widens uint32 arithmetic; one routine, typed once per program, where the
rounds written out at every draw made compiling a program with many keys slow). The two
implementations are checked against Random123's known answers and each other.

``poisson(k0, k1, lam)`` and ``binomial(k0, k1, n, p)`` draw Poisson and binomial counts,
each from its own key, by loops that run until they accept; ``gamma_reparam(a, x)`` gives
Gamma samples their gradient in the shape.
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.types import ShapedArray, int64
from funcgrad.rules import batch_rules, zero_derivative
from funcgrad.rules.lowering import Standalone, arith, lowerings

ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
KEY_PARITY = 0x1BD11BDA   # Threefish's key-schedule constant, as Threefry uses it
UINT32 = np.dtype(np.uint32)


def _rotl(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _threefry_impl(k0, k1, x0, x1):
    """Vectorised: uint32 arithmetic wraps modulo 2**32, which is what Threefry wants."""
    k0, k1, x0, x1 = (np.asarray(a, UINT32) for a in (k0, k1, x0, x1))
    with np.errstate(over="ignore"):
        ks = (k0, k1, k0 ^ k1 ^ np.uint32(KEY_PARITY))
        x0, x1 = x0 + ks[0], x1 + ks[1]
        for group in range(5):
            for r in ROTATIONS[4 * (group % 2):4 * (group % 2) + 4]:
                x0 = x0 + x1
                x1 = _rotl(x1, r) ^ x0
            x0 = x0 + ks[(group + 1) % 3]
            x1 = x1 + ks[(group + 2) % 3] + np.uint32(group + 1)
    return [np.asarray(x0, UINT32), np.asarray(x1, UINT32)]


def _threefry_rule(k0, k1, x0, x1):
    avals = (k0, k1, x0, x1)
    if any(a.dtype != UINT32 for a in avals):
        raise FuncgradTypeError("threefry2x32 takes uint32 keys and counters, not "
                                + ", ".join(str(a.dtype) for a in avals))
    if len({a.shape for a in avals}) != 1:
        raise ShapeError("threefry2x32 takes keys and counters of one shape, not "
                         + ", ".join(str(a.shape) for a in avals))
    return [ShapedArray(x0.shape, UINT32)] * 2


def _emit_rounds(ctx, k0, k1, x0, x1):
    """x0, x1 = the block of counter (x0, x1) under key (k0, k1): int64 locals below 2**32.
    The rounds are compile/scalar_math.py's threefry2x32, one routine that Numba types once
    however many keys a program draws from (it is the same cipher as _threefry_impl; the
    known-answer tests check both)."""
    ctx.emit(f"{x0}, {x1} = fgm.threefry2x32({k0}, {k1}, {x0}, {x1})")


def _lower_threefry(ctx, eqn):
    """One loop over the elements, each running the rounds on its own words."""
    shape = eqn.outputs[0].aval.shape
    ins = [ctx.array(a) for a in eqn.inputs]
    outs = [ctx.new_array(ShapedArray(shape or (1,), UINT32), "bits") for _ in range(2)]
    with ctx.loops(shape) as index:
        at = f"[{', '.join(index)}]" if index else ""
        k0, k1, x0, x1 = (ctx.fresh(n) for n in ("k0", "k1", "x0", "x1"))
        for local, expr in zip((k0, k1, x0, x1), ins):
            ctx.emit(f"{local} = np.int64({expr}{at})")
        _emit_rounds(ctx, k0, k1, x0, x1)
        where = f"[{', '.join(index)}]" if index else "[0]"
        ctx.emit(f"{outs[0]}{where} = {x0}")
        ctx.emit(f"{outs[1]}{where} = {x1}")
    for var, name in zip(eqn.outputs, outs):
        ctx.define(var, name if shape else f"{name}[0]")


def _elementwise_batch(prim):
    """Every operand gets the batch axis first (broadcast where it has none): the primitive is
    elementwise over operands of one shape, so a batch of keys is just more elements."""
    def rule(args, dims):
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        shape = next(tuple(a.shape[:d]) + tuple(a.shape[d + 1:])
                     for a, d in zip(args, dims) if d is not None)
        moved = []
        for a, d in zip(args, dims):
            if d is None:
                moved.append(broadcast_to(reshape(a, (1, *shape)), (size, *shape)))
            elif d != 0:
                perm = (d, *(i for i in range(len(a.shape)) if i != d))
                moved.append(transpose(a, perm))
            else:
                moved.append(a)
        outs = prim.bind(*moved)
        return (list(outs), [0] * len(outs)) if prim.multiple_results else ([outs], [0])
    return rule


threefry2x32_p = Primitive("threefry2x32", impl=_threefry_impl, shape_rule=_threefry_rule,
                           multiple_results=True)
zero_derivative(threefry2x32_p)
batch_rules[threefry2x32_p] = _elementwise_batch(threefry2x32_p)
lowerings[threefry2x32_p] = Standalone(_lower_threefry)


def threefry2x32(k0, k1, x0, x1):
    """(y0, y1): the counters (x0, x1) encrypted under the key (k0, k1); all uint32, broadcast
    to one shape."""
    from funcgrad.ops.shape import shape_of
    operands = [convert_element_type(a, UINT32) if _dtype(a) != UINT32 else a
                for a in (k0, k1, x0, x1)]
    shape = np.broadcast_shapes(*(shape_of(a) for a in operands))
    operands = [a if shape_of(a) == shape else broadcast_to(a, shape) for a in operands]
    return threefry2x32_p.bind(*operands)


def _dtype(x):
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


# --- the ordering of sort keys (random permutations) ----------------------------------------

def _order_rule(x):
    if x.ndim < 1:
        raise ShapeError(f"random_order needs at least one axis, not {x}")
    return ShapedArray(x.shape, int64)


def _order_impl(x):
    return np.argsort(x, axis=-1, kind="stable").astype(int64)


def _lower_order(ctx, eqn):
    """A stable argsort row by row (fgm.argsort_stable: one Numba can cache on disk)."""
    (x,), (out,) = eqn.inputs, eqn.outputs
    shape = x.aval.shape
    X = ctx.array(x)
    name = ctx.new_array(out.aval, "order")
    with ctx.loops(shape[:-1]) as index:
        at = "".join(f"{i}, " for i in index)
        ctx.emit(f"{name}[{at}:] = fgm.argsort_stable({X}[{at}:])")
    ctx.define(out, name)


def _order_batch(args, dims):
    (x,), (d,) = args, dims
    if d == x.ndim - 1:  # keep the sorted axis last
        x, d = transpose(x, (d, *range(d))), 0
    return [random_order_p.bind(x)], [d]


random_order_p = Primitive("random_order", impl=_order_impl, shape_rule=_order_rule)
zero_derivative(random_order_p)
batch_rules[random_order_p] = _order_batch
lowerings[random_order_p] = Standalone(_lower_order)


def random_order(x):
    """The indices that sort ``x`` along its last axis (stably): for random keys, a uniformly
    random permutation."""
    return random_order_p.bind(x)


# --- Poisson counts ------------------------------------------------------------------------
#
# poisson(k0, k1, lam) -> int64: one count per element, drawn from the element's own key
# (k0, k1): its n-th uniform is Threefry of the counter (0, n), 53 bits on (0, 1). Rates
# below PTRS_FROM multiply uniforms until the product falls to exp(-lam) (Knuth: lam + 1
# draws on average); larger ones use Hormann's transformed rejection with squeeze (PTRS,
# 1993, as NumPy does: over 90% of pairs accepted). Both are exact; the loops run until
# acceptance, so the NumPy and Numba versions consume the same draws and give the same
# counts. A rate that is negative, nan or infinite gives -1.

PTRS_FROM = 10.0


def _uniform_draw(k0, k1, n):
    """The n-th uniform of each element's stream: the same arithmetic as the lowering."""
    y0, y1 = _threefry_impl(k0, k1, np.zeros_like(k0), np.full_like(k0, n))
    return (y0.astype(np.float64) * 2.0 ** 21 + (y1 >> np.uint32(11)).astype(np.float64)
            + 0.5) * 2.0 ** -53


def _knuth(k0, k1, lam):
    out = np.empty(lam.shape, np.int64)
    alive, product, limit = np.arange(lam.size), np.ones(lam.size), np.exp(-lam)
    draw = 0
    while alive.size:
        product = product * _uniform_draw(k0[alive], k1[alive], draw)
        draw += 1
        done = product <= limit[alive]
        out[alive[done]] = draw - 1
        alive, product = alive[~done], product[~done]
    return out


def _ptrs_constants(lam):
    b = 0.931 + 2.53 * np.sqrt(lam)
    a = -0.059 + 0.02483 * b
    return b, a, 1.1239 + 1.1328 / (b - 3.4), 0.9277 - 3.6224 / (b - 2.0)


def _ptrs(k0, k1, lam):
    out = np.empty(lam.shape, np.int64)
    alive, pair = np.arange(lam.size), 0
    while alive.size:
        rate = lam[alive]
        b, a, inv_alpha, vr = _ptrs_constants(rate)
        u = _uniform_draw(k0[alive], k1[alive], 2 * pair) - 0.5
        v = _uniform_draw(k0[alive], k1[alive], 2 * pair + 1)
        pair += 1
        us = 0.5 - np.abs(u)
        k = np.floor((2.0 * a / us + b) * u + rate + 0.43)
        quick = (us >= 0.07) & (v <= vr)
        possible = ~quick & (k >= 0) & ~((us < 0.013) & (v > us))
        log_fact = np.array([math.lgamma(c + 1.0) for c in np.where(possible, k, 0.0)])
        slow = possible & (np.log(v) + np.log(inv_alpha) - np.log(a / (us * us) + b)
                           <= -rate + k * np.log(rate) - log_fact)
        done = quick | slow
        out[alive[done]] = k[done]
        alive = alive[~done]
    return out


def _poisson_impl(k0, k1, lam):
    k0, k1 = np.asarray(k0, UINT32), np.asarray(k1, UINT32)
    lam = np.asarray(lam, np.float64)
    shape = lam.shape
    k0, k1, lam = k0.ravel(), k1.ravel(), lam.ravel()
    out = np.full(lam.size, -1, np.int64)
    valid = (lam >= 0) & (lam < np.inf)
    for method, chosen in ((_knuth, valid & (lam < PTRS_FROM)), (_ptrs, lam >= PTRS_FROM)):
        chosen = np.flatnonzero(chosen & valid)
        out[chosen] = method(k0[chosen], k1[chosen], lam[chosen])
    return out.reshape(shape)[()]


def _poisson_rule(k0, k1, lam):
    if k0.dtype != UINT32 or k1.dtype != UINT32 or lam.dtype != np.float64:
        raise FuncgradTypeError(f"poisson takes uint32 key words and float64 rates, not "
                                f"{k0.dtype}, {k1.dtype}, {lam.dtype}")
    if not k0.shape == k1.shape == lam.shape:
        raise ShapeError(f"poisson takes key words and rates of one shape, not {k0.shape}, "
                         f"{k1.shape}, {lam.shape}")
    return ShapedArray(lam.shape, int64)


def _lower_poisson(ctx, eqn):
    """Per element, one loop drawing a uniform per turn: Knuth's product for small rates,
    PTRS on pairs of draws (the first of a pair kept in ``first``) for large ones."""
    (out,) = eqn.outputs
    shape = out.aval.shape
    K0, K1, LAM = (ctx.array(a) for a in eqn.inputs)
    result = ctx.new_array(ShapedArray(shape or (1,), int64), "counts")
    v = {n: ctx.fresh(n) for n in ("k0", "k1", "x0", "x1", "lam", "res", "n", "u", "first",
                                   "prod", "b", "a", "inv_alpha", "vr", "us", "k", "big")}
    with ctx.loops(shape) as index:
        at = f"[{', '.join(index)}]" if index else "[0]"
        src = f"[{', '.join(index)}]" if index else ""
        ctx.emit(f"{v['k0']} = np.int64({K0}{src})")
        ctx.emit(f"{v['k1']} = np.int64({K1}{src})")
        ctx.emit(f"{v['lam']} = np.float64({LAM}{src})")
        ctx.emit(f"{v['res']} = -1")
        ctx.emit(f"if {v['lam']} >= 0.0 and {v['lam']} < math.inf:")
        with ctx.indented():
            lam = v["lam"]
            ctx.emit(f"{v['big']} = {lam} >= {PTRS_FROM}")
            ctx.emit(f"{v['b']} = 0.931 + 2.53 * math.sqrt({lam})")
            ctx.emit(f"{v['a']} = -0.059 + 0.02483 * {v['b']}")
            ctx.emit(f"{v['inv_alpha']} = 1.1239 + 1.1328 / ({v['b']} - 3.4)")
            ctx.emit(f"{v['vr']} = 0.9277 - 3.6224 / ({v['b']} - 2.0)")
            ctx.emit(f"{v['prod']} = 1.0")
            ctx.emit(f"{v['first']} = 0.0")
            ctx.emit(f"{v['n']} = 0")
            ctx.emit("while True:")
            with ctx.indented():
                ctx.emit(f"{v['x0']} = np.int64(0)")
                ctx.emit(f"{v['x1']} = np.int64({v['n']})")
                _emit_rounds(ctx, v["k0"], v["k1"], v["x0"], v["x1"])
                ctx.emit(f"{v['u']} = ({v['x0']} * 2097152.0 + ({v['x1']} >> 11) + 0.5)"
                         " * 1.1102230246251565e-16")
                ctx.emit(f"{v['n']} += 1")
                ctx.emit(f"if not {v['big']}:")
                with ctx.indented():
                    ctx.emit(f"{v['prod']} *= {v['u']}")
                    ctx.emit(f"if {v['prod']} <= math.exp(-{lam}):")
                    with ctx.indented():
                        ctx.emit(f"{v['res']} = {v['n']} - 1")
                        ctx.emit("break")
                ctx.emit(f"elif {v['n']} % 2 == 1:")
                with ctx.indented():
                    ctx.emit(f"{v['first']} = {v['u']} - 0.5")
                ctx.emit("else:")
                with ctx.indented():
                    u, us, k, a, b = v["first"], v["us"], v["k"], v["a"], v["b"]
                    ctx.emit(f"{us} = 0.5 - abs({u})")
                    ctx.emit(f"{k} = math.floor((2.0 * {a} / {us} + {b}) * {u} + {lam} + 0.43)")
                    ctx.emit(f"if {us} >= 0.07 and {v['u']} <= {v['vr']}:")
                    with ctx.indented():
                        ctx.emit(f"{v['res']} = np.int64({k})")
                        ctx.emit("break")
                    ctx.emit(f"if {k} >= 0.0 and not ({us} < 0.013 and {v['u']} > {us}) and "
                             f"math.log({v['u']}) + math.log({v['inv_alpha']}) - math.log("
                             f"{a} / ({us} * {us}) + {b}) <= -{lam} + {k} * math.log({lam})"
                             f" - math.lgamma({k} + 1.0):")
                    with ctx.indented():
                        ctx.emit(f"{v['res']} = np.int64({k})")
                        ctx.emit("break")
        ctx.emit(f"{result}{at} = {v['res']}")
    ctx.define(out, result if shape else f"{result}[0]")


poisson_p = Primitive("poisson", impl=_poisson_impl, shape_rule=_poisson_rule)
zero_derivative(poisson_p)
batch_rules[poisson_p] = _elementwise_batch(poisson_p)
lowerings[poisson_p] = Standalone(_lower_poisson)


def poisson(k0, k1, lam):
    """Poisson counts with rates ``lam`` (float64), each drawn from its own key (k0, k1)
    (uint32 words of lam's shape); -1 where a rate is negative, nan or infinite."""
    return poisson_p.bind(k0, k1, lam)



# --- binomial counts -----------------------------------------------------------------------
#
# binomial(k0, k1, n, p) -> float64: one count per element from the element's own stream
# (as poisson's). With q = min(p, 1 - p): while n q <= 10, inversion by geometric gaps (the
# gaps between successes, ceil(log u / log(1 - q)), summed until they pass n: n q + 1 draws
# on average); above, Hormann's BTRS (1993, as TensorFlow and JAX use), its acceptance test
# the exact log ratio of probabilities (lgamma), not Stirling's series. Counts of p >= 1/2
# are n minus the count of 1 - p. compile/scalar_math.py's binomial_draw is the same loop
# per element for compiled code; the vectorised one here consumes the same draws.

BTRS_FROM = 10.0


def _binomial_inversion(k0, k1, n, q):
    out = np.zeros(q.shape)
    log1mq = np.log1p(-q)
    alive, gaps, draw = np.arange(q.size), np.zeros(q.size), 0
    while alive.size:
        u = _uniform_draw(k0[alive], k1[alive], draw)
        draw += 1
        gaps = gaps + np.ceil(np.log(u) / log1mq[alive])
        done = gaps > n[alive]
        out[alive[~done]] += 1.0
        alive, gaps = alive[~done], gaps[~done]
    return out


def _binomial_btrs(k0, k1, n, q):
    out = np.zeros(q.shape)
    spq = np.sqrt(n * q * (1.0 - q))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * q
    c, vr, alpha = n * q + 0.5, 0.92 - 4.2 / b, (2.83 + 5.1 / b) * spq
    m = np.floor((n + 1.0) * q)
    log_odds = np.log(q / (1.0 - q))
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    log_fm = lgamma(m + 1.0) + lgamma(n - m + 1.0)
    alive, draw = np.arange(q.size), 0
    while alive.size:
        u = _uniform_draw(k0[alive], k1[alive], draw) - 0.5
        v = _uniform_draw(k0[alive], k1[alive], draw + 1)
        draw += 2
        i = alive
        us = 0.5 - np.abs(u)
        k = np.floor((2.0 * a[i] / us + b[i]) * u + c[i])
        inside = (k >= 0) & (k <= n[i])
        quick = inside & (us >= 0.07) & (v <= vr[i])
        kk = np.where(inside, k, 0.0)
        with np.errstate(all="ignore"):
            slow = inside & ~quick & (
                np.log(v * alpha[i] / (a[i] / (us * us) + b[i]))
                <= log_fm[i] - lgamma(kk + 1.0) - lgamma(n[i] - kk + 1.0)
                + (kk - m[i]) * log_odds[i])
        done = quick | slow
        out[alive[done]] = k[done]
        alive = alive[~done]
    return out


def _binomial_impl(k0, k1, n, p):
    k0, k1 = np.asarray(k0, UINT32), np.asarray(k1, UINT32)
    n, p = np.asarray(n, np.float64), np.asarray(p, np.float64)
    shape = p.shape
    k0, k1, n, p = k0.ravel(), k1.ravel(), n.ravel(), p.ravel()
    out = np.full(p.size, np.nan)
    valid = ~(np.isnan(n) | np.isnan(p) | (n < 0) | (p < 0) | (p > 1))
    out[valid & (n == np.inf)] = np.inf
    finite = valid & (n < np.inf)
    count = np.floor(np.where(finite, n, 0.0))
    q = np.where(p < 0.5, p, 1.0 - p)
    trivial = finite & ((q == 0) | (count == 0))
    out[trivial] = 0.0
    rest = finite & ~trivial
    for method, chosen in ((_binomial_inversion, rest & (count * q <= BTRS_FROM)),
                           (_binomial_btrs, rest & (count * q > BTRS_FROM))):
        chosen = np.flatnonzero(chosen)
        out[chosen] = method(k0[chosen], k1[chosen], count[chosen], q[chosen])
    flip = finite & (p >= 0.5)
    out[flip] = count[flip] - out[flip]
    return out.reshape(shape)[()]


def _binomial_rule(k0, k1, n, p):
    if k0.dtype != UINT32 or k1.dtype != UINT32 or n.dtype != np.float64 \
            or p.dtype != np.float64:
        raise FuncgradTypeError(f"binomial takes uint32 key words and float64 counts and "
                                f"probabilities, not {k0.dtype}, {k1.dtype}, {n.dtype}, "
                                f"{p.dtype}")
    if not k0.shape == k1.shape == n.shape == p.shape:
        raise ShapeError(f"binomial takes key words, counts and probabilities of one shape, "
                         f"not {k0.shape}, {k1.shape}, {n.shape}, {p.shape}")
    return ShapedArray(p.shape, np.dtype(np.float64))


def _lower_binomial(ctx, eqn):
    """One loop over the elements, each calling fgm.binomial_draw on its own key words."""
    (out,) = eqn.outputs
    shape = out.aval.shape
    K0, K1, N, P = (ctx.array(a) for a in eqn.inputs)
    result = ctx.new_array(ShapedArray(shape or (1,), np.dtype(np.float64)), "counts")
    with ctx.loops(shape) as index:
        at = f"[{', '.join(index)}]" if index else "[0]"
        src = f"[{', '.join(index)}]" if index else ""
        ctx.emit(f"{result}{at} = fgm.binomial_draw(np.int64({K0}{src}), np.int64({K1}{src}),"
                 f" {N}{src}, {P}{src})")
    ctx.define(out, result if shape else f"{result}[0]")


binomial_p = Primitive("binomial", impl=_binomial_impl, shape_rule=_binomial_rule)
zero_derivative(binomial_p)
batch_rules[binomial_p] = _elementwise_batch(binomial_p)
lowerings[binomial_p] = Standalone(_lower_binomial)


def binomial(k0, k1, n, p):
    """Binomial counts (float64) of ``n`` trials with success probability ``p``, each drawn
    from its own key (k0, k1) (uint32 words of p's shape); nan where n is nan or negative or
    p is outside [0, 1], inf where n is infinite."""
    return binomial_p.bind(k0, k1, n, p)

# --- the implicit reparameterisation of gamma samples ------------------------------------

from funcgrad.ops.elementwise import _ufunc_rule, convert_element_type, define_elementwise  # noqa: E402,I001
from funcgrad.ops.shape import broadcast_to, reshape, transpose  # noqa: E402
from funcgrad.ops.special import random_gamma_grad  # noqa: E402


def _reparam_impl(a, x):
    """x, broadcast against a and cast as the shape rule says."""
    shape, dtype = np.broadcast_shapes(np.shape(a), np.shape(x)), np.result_type(a, x)
    return np.array(np.broadcast_to(x, shape), dtype)[()]


def _reparam_da(g, ans, a, x):
    return g * random_gamma_grad(a, ans)


# gamma_reparam(a, x) is x, Gamma(a) samples drawn with a held constant, made a function of
# a at x's fixed quantile: its derivative in a is dx/da = -(dP/da)/p (Figurnov et al. 2018).
gamma_reparam_p = Primitive("gamma_reparam", impl=_reparam_impl, elementwise=True,
                            shape_rule=_ufunc_rule(np.arctan2, "gamma_reparam"))
define_elementwise(gamma_reparam_p, [_reparam_da, lambda g, ans, a, x: g], arith("{1}"))


def gamma_reparam(a, x):
    """``x`` (Gamma(``a``) samples), differentiable in ``a`` at fixed quantile."""
    return gamma_reparam_p.bind(a, x)
