"""The primitives of funcgrad.random: the Threefry-2x32 block cipher, and the ordering of
random sort keys (for permutations).

``threefry2x32(k0, k1, x0, x1) -> (y0, y1)`` encrypts the 64-bit counter (x0, x1) under the
64-bit key (k0, k1) with 20 rounds of Threefry-2x32 (Salmon et al., "Parallel random numbers:
as easy as 1, 2, 3", SC 2011), elementwise over uint32 arrays of one shape. A counter-based
generator is a pure function of (key, counter): the n-th number never depends on how the
others were computed, so NumPy, the Numba loop and a batch of keys give the same bits.

Its derivative is zero (integers), and it has a Numba lowering: one loop over the counters
running the rounds in 64-bit integers masked to 32 bits (Numba widens uint32 arithmetic).
"""

from __future__ import annotations

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


def _lower_threefry(ctx, eqn):
    """One loop over the elements; each runs the 20 rounds on int64 locals masked to 32 bits
    (Numba widens uint32 sums to 64 bits, so the carries must be dropped by hand)."""
    shape = eqn.outputs[0].aval.shape
    ins = [ctx.array(a) for a in eqn.inputs]
    outs = [ctx.new_array(ShapedArray(shape or (1,), UINT32), "bits") for _ in range(2)]
    m = "0xFFFFFFFF"
    with ctx.loops(shape) as index:
        at = f"[{', '.join(index)}]" if index else ""
        k0, k1, x0, x1 = (ctx.fresh(n) for n in ("k0", "k1", "x0", "x1"))
        for local, expr in zip((k0, k1, x0, x1), ins):
            ctx.emit(f"{local} = np.int64({expr}{at})")
        k2 = ctx.fresh("k2")
        ctx.emit(f"{k2} = {k0} ^ {k1} ^ {KEY_PARITY}")
        ctx.emit(f"{x0} = ({x0} + {k0}) & {m}")
        ctx.emit(f"{x1} = ({x1} + {k1}) & {m}")
        # rolled loops: a fifth of the code for Numba to type (compile time dominates: a
        # program draws from many keys), and LLVM unrolls them again
        g, q, r = ctx.fresh("group"), ctx.fresh("round"), ctx.fresh("r")
        ctx.emit(f"for {g} in range(5):")
        with ctx.indented():
            ctx.emit(f"for {q} in range(4):")
            with ctx.indented():
                ctx.emit(f"{r} = {ROTATIONS}[4 * ({g} % 2) + {q}]")
                ctx.emit(f"{x0} = ({x0} + {x1}) & {m}")
                ctx.emit(f"{x1} = ((({x1} << {r}) | ({x1} >> (32 - {r}))) & {m}) ^ {x0}")
            ctx.emit(f"{x0} = ({x0} + ({k0}, {k1}, {k2})[({g} + 1) % 3]) & {m}")
            ctx.emit(f"{x1} = ({x1} + ({k0}, {k1}, {k2})[({g} + 2) % 3] + {g} + 1) & {m}")
        where = f"[{', '.join(index)}]" if index else "[0]"
        ctx.emit(f"{outs[0]}{where} = {x0}")
        ctx.emit(f"{outs[1]}{where} = {x1}")
    for var, name in zip(eqn.outputs, outs):
        ctx.define(var, name if shape else f"{name}[0]")


def _threefry_batch(args, dims):
    """Every operand gets the batch axis first (broadcast where it has none): the cipher is
    elementwise, so a batch of keys is just more elements."""
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
    return list(threefry2x32_p.bind(*moved)), [0, 0]


threefry2x32_p = Primitive("threefry2x32", impl=_threefry_impl, shape_rule=_threefry_rule,
                           multiple_results=True)
zero_derivative(threefry2x32_p)
batch_rules[threefry2x32_p] = _threefry_batch
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
    """np.argsort row by row (Numba's argsort takes 1-D arrays); mergesort is stable."""
    (x,), (out,) = eqn.inputs, eqn.outputs
    shape = x.aval.shape
    X = ctx.array(x)
    name = ctx.new_array(out.aval, "order")
    with ctx.loops(shape[:-1]) as index:
        at = "".join(f"{i}, " for i in index)
        ctx.emit(f"{name}[{at}:] = np.argsort({X}[{at}:], kind='mergesort')")
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
