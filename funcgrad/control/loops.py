"""Loops whose body is a sub-program, traced once whatever the trip count.

    carry..., ys... = scan[body, length, reverse, num_consts, num_carry](*consts, *carry, *xs)
        body(*consts, *carry, *x) -> (*carry, *y); x is row i of each xs, ys stacks each y
    carry... = while[cond, body, cond_nconsts, body_nconsts, max_steps](*cc, *bc, *carry)
        while cond(*cc, *carry): carry = body(*bc, *carry)   (at most max_steps times)

The NumPy evaluator runs the body program once per iteration; the code generator writes a
``for`` or ``while`` loop around the body's code.

Reverse mode. ``scan`` (and ``fori_loop``, a scan when its bounds are static) saves, per
iteration, the residuals the body's backward half reads, stacked along a leading axis (the
forward scan returns them as extra outputs), and runs the backward halves in a scan that
goes the other way, carrying the carries' cotangents and summing the consts'. Residuals that
are a const or a row of an xs are not saved: the backward scan reads them where they are.

``while`` cannot return such stacks (their length is the trip count, unknown until it runs,
and a Program's values have static shapes). Its backward pass is one primitive,
``while_vjp``, whose meaning is "run the loop, taping each iteration's residuals on a
growable tape, then the backward halves over the tape in reverse", so every value of the
program keeps a static shape. The loop is run once: compiled, the ``while`` equation that
computes the loop's value records the tape for the ``while_vjp`` of the same operands
(``_Tape``), which then only runs the backward loop; the NumPy evaluator hands the tape
over the same way (``_Recorded``: a ``while`` whose body was differentiated runs its
forward half and keeps the last tape per thread, which may outlive the call when no
``while_vjp`` reads it). ``max_steps`` bounds the loop, and so the tape.

Higher derivatives: ``while_vjp(x, g)`` is J(x)^T g, and v . J(x)^T g = g . J(x) v, where
J(x) v is what the loop carrying tangents (the JVP's loop) computes. So the VJP and the JVP
of ``while_vjp`` are the first-order backward pass of that loop: another ``while_vjp``,
differentiable the same way.
"""

from __future__ import annotations

import threading

import numpy as np

from funcgrad.compile.context import dtype_expr
from funcgrad.control.subprogram import carry_activity
from funcgrad.core.errors import ShapeError
from funcgrad.core.evaluate import evaluate, inline
from funcgrad.core.ir import Literal, Program, Var, dead_code_elimination
from funcgrad.core.primitive import Primitive
from funcgrad.core.tracing import Tracer, current_trace, trace_flat
from funcgrad.core.types import ShapedArray, is_float
from funcgrad.numpy import einsum
from funcgrad.ops.elementwise import add, mul_p
from funcgrad.ops.linalg import dot_general, dot_general_p
from funcgrad.ops.shape import reshape
from funcgrad.numpy import any as any_of
from funcgrad.numpy import where
from funcgrad.ops.shape import batch_size, moveaxis, to_front, with_batch_axis
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules, vjp_split_rules
from funcgrad.transforms.batching import FRONT, SUM, batch_program
from funcgrad.transforms.forward import jvp_program, tangent_outputs
from funcgrad.rules.lowering import Elementwise, Reduction, Region, kind_of, lowerings
from funcgrad.transforms.reverse import split_adjoint, zeros


def _same(avals, others) -> bool:
    return [(a.shape, a.dtype) for a in avals] == [(a.shape, a.dtype) for a in others]


def _program_of(fun, avals) -> Program:
    program, consts = trace_flat(fun, list(avals))
    assert not consts, "a derived body captures nothing: its inputs are explicit"
    return program


# ---------------------------------------------------------------------------------------
# scan


def _scan_impl(*args, body, length, reverse, num_consts, num_carry, unroll=1):
    consts = list(args[:num_consts])
    carry = list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    ys = [np.empty((length, *a.shape), a.dtype) for a in body.out_avals[num_carry:]]
    for i in range(length):
        k = length - 1 - i if reverse else i
        outs = evaluate(body, [*consts, *carry, *[x[k] for x in xs]])
        carry = outs[:num_carry]
        for y, out in zip(ys, outs[num_carry:]):
            y[k] = out
    return [*[np.asarray(c, a.dtype)[()] for c, a in zip(carry, body.out_avals)], *ys]


def _scan_rule(*avals, body, length, reverse, num_consts, num_carry, unroll=1):
    carry = avals[num_consts:num_consts + num_carry]
    xs = avals[num_consts + num_carry:]
    if any(x.shape[:1] != (length,) for x in xs):
        raise ShapeError(f"scan over {length} steps, but its xs are {list(xs)}")
    x_avals = [ShapedArray(x.shape[1:], x.dtype) for x in xs]
    if not _same(body.in_avals, [*avals[:num_consts], *carry, *x_avals]):
        raise ShapeError(f"scan's body takes {body.in_avals}, given {list(avals)}")
    if not _same(body.out_avals[:num_carry], carry):
        raise ShapeError(f"scan's body returns the carry {body.out_avals[:num_carry]}, "
                         f"but the carry is {list(carry)}")
    return [*[a.strong() for a in carry],
            *[ShapedArray((length, *a.shape), a.dtype) for a in body.out_avals[num_carry:]]]


scan_p = Primitive("scan", impl=_scan_impl, shape_rule=_scan_rule, multiple_results=True)


def _lower_scan(ctx, eqn):
    """``for i in range(length): carry, ys[k] = body(consts, carry, xs[k])``, k = i or
    length - 1 - i. Each ys is allocated once; the body computes its rows in place where
    it can (a fused loop writing ``ys[k]``), else they are copied in by element (never by
    slice assignment: Numba's shape-mismatch error path for it costs seconds to compile).
    An array carry the body computes in a fused loop is written into a spare buffer, which
    then swaps with the carry's old one when no other carry may share that (else a new
    spare is allocated)."""
    p = eqn.params
    nc, nk = p["num_consts"], p["num_carry"]
    ins = [ctx.array(a) for a in eqn.inputs]
    consts, xs = _contiguous_matrices(ctx, p["body"], ins[:nc]), ins[nc + nk:]
    carry = _carried(ctx, eqn.inputs[nc:nc + nk], ins[nc:nc + nk])
    ys = [ctx.new_array(v.aval, "ys") for v in eqn.outputs[nk:]]
    body = p["body"]
    spares = [ctx.new_array(v.aval, "spare") if v.aval.shape else None
              for v in eqn.outputs[:nk]]
    i, length = ctx.fresh("i"), ctx.dim(p["length"])
    ctx.emit(f"for {i} in range({length}):")
    with ctx.indented():
        k = i
        if p["reverse"]:
            k = ctx.fresh("k")
            ctx.emit(f"{k} = {length} - 1 - {i}")
        rows = [f"{y}[{k}]" if v.aval.shape else None for y, v in zip(ys, eqn.outputs[nk:])]
        outs = ctx.lower_region(body, [*consts, *carry, *[f"{x}[{k}]" for x in xs]],
                                [*spares, *rows], repeated=True)
        for y, out, row, v in zip(ys, outs[nk:], rows, eqn.outputs[nk:]):
            if out != row:
                _copy_into(ctx, y, k, out, v.aval.shape[1:])
        swapped = _swappable(body, outs[:nk], spares)
        ctx.assign([*carry, *[spares[j] for j in swapped]],
                   [*outs[:nk], *[carry[j] for j in swapped]])
        for j, (out, spare) in enumerate(zip(outs[:nk], spares)):
            if spare is not None and out == spare and j not in swapped:  # now the carry
                aval = eqn.outputs[j].aval
                ctx.emit(f"{spare} = fgm.empty({ctx.shape(aval.shape)}, "
                         f"{dtype_expr(aval.dtype)})")
    for var, name in zip(eqn.outputs, [*carry, *ys]):
        ctx.bind(var, name)


def _copy_into(ctx, stack, k, value, shape):
    """``stack[k] = value`` element by element (one element when ``value`` is 0-d); no loop
    over an axis of length 1."""
    if not shape:
        ctx.emit(f"{stack}[{k}] = {value}")
        return
    with ctx.loops(shape, unit_free=True) as index:
        at = ", ".join(index)
        ctx.emit(f"{stack}[{k}, {at}] = {value}[{at}]")


def _contiguous_matrices(ctx, body, exprs) -> list:
    """The expressions of a loop's leading inputs ``exprs`` (its constants), those the
    body's matrix products read (maybe through a transpose) made C-contiguous once, here,
    before the loop: BLAS reads them in place then, where a matrix of another layout would
    be copied at every step (ops/linalg.py). ``fgb.contiguous`` copies only such a one."""
    transposed = {id(e.outputs[0]): e.inputs[0] for e in body.equations
                  if e.primitive.name == "transpose"}
    read = {id(transposed.get(id(a), a)) for e in body.equations if e.primitive is dot_general_p
            for a in e.inputs}
    out = []
    for v, expr in zip(body.inputs, exprs):
        if id(v) in read and v.aval.ndim == 2 and v.aval.dtype.kind == "f":
            out.append(ctx.fresh("matrix"))
            ctx.emit(f"{out[-1]} = fgb.contiguous({expr})")
        else:
            out.append(expr)
    return out


def _swappable(body, outs, spares) -> list[int]:
    """The carries whose new value the body wrote into their spare buffer, and whose old
    buffer (the spare of the next step) no other new carry may be: every other array carry
    is in its own spare or freshly computed (a fused loop or a matrix product), never an
    input passed through or a view of one."""
    written = [j for j, (o, s) in enumerate(zip(outs, spares)) if s is not None and o == s]
    producers = {id(v): e for e in body.equations for v in e.outputs}

    def fresh(j):
        if j in written or spares[j] is None:
            return True
        eqn = producers.get(id(body.outvars[j]))
        return eqn is not None and (eqn.primitive is dot_general_p or isinstance(
            kind_of(lowerings.get(eqn.primitive)), (Elementwise, Reduction)))

    if not all(fresh(j) for j in range(len(outs))):
        return []
    return written


def _carried(ctx, atoms, exprs) -> list[str]:
    """Fresh locals holding a loop's initial carry. Arrays are copied (by element: no
    ``np.copy`` for Numba to compile): the carry is reassigned with the body's results, a
    variable Numba must type as one writable array, and a carry alternating between two
    buffers writes into this one."""
    names = []
    for atom, expr in zip(atoms, exprs):
        if not atom.aval.shape:
            names.append(ctx.fresh("carry"))
            ctx.emit(f"{names[-1]} = {expr}")
            continue
        names.append(ctx.new_array(atom.aval, "carry"))
        with ctx.loops(atom.aval.shape) as index:
            at = ", ".join(index)
            ctx.emit(f"{names[-1]}[{at}] = {expr}[{at}]")
    return names


lowerings[scan_p] = Region(_lower_scan)


def scan(consts, init, xs, *, body, length, reverse=False):
    return scan_p.bind(*consts, *init, *xs, body=body, length=length, reverse=bool(reverse),
                       num_consts=len(consts), num_carry=len(init))


class _ScanPlan:
    """How the backward scan finds each residual of the body's forward half: a const
    (``("const", j)``), a row of an xs (``("x", j)``), or a row of a saved stack."""

    def __init__(self, body, flags, num_consts, num_carry):
        self.forward, self.backward = split_adjoint(body, flags)
        n_out = len(body.outvars)
        where = {id(v): i for i, v in enumerate(self.forward.invars)}
        self.kinds, stacked = [], []
        for r in self.forward.outvars[n_out:]:
            i = where.get(id(r))
            if i is not None and i < num_consts:
                self.kinds.append(("const", i))
            elif i is not None and i >= num_consts + num_carry:
                self.kinds.append(("x", i - num_consts - num_carry))
            else:
                self.kinds.append(("stack", len(stacked)))
                stacked.append(r)
        f = self.forward
        self.saving = Program((), f.invars, f.equations, [*f.outvars[:n_out], *stacked])
        self.stack_avals = [v.aval.strong() for v in stacked]


def _scan_vjp_fwd(inputs, active, *, body, length, reverse, num_consts, num_carry, unroll=1):
    nc, nk = num_consts, num_carry
    consts_on, xs_on = list(active[:nc]), list(active[nc + nk:])
    carry_on = carry_activity(body, consts_on, active[nc:nc + nk], xs_on)
    flags = tuple(bool(f) for f in [*consts_on, *carry_on, *xs_on])
    plan = body.cached(("scan_vjp", flags), lambda b: _ScanPlan(b, flags, nc, nk))
    outs = scan_p.bind(*inputs, body=plan.saving, length=length, reverse=reverse,
                       num_consts=nc, num_carry=nk)
    n_out = len(body.outvars)
    return outs[:n_out], (inputs, outs[n_out:], plan, flags)


def _scan_vjp_bwd(residuals, cts, active, *, body, length, reverse, num_consts, num_carry,
                  unroll=1):
    inputs, stacks, plan, flags = residuals
    nc, nk = num_consts, num_carry
    consts, xs = inputs[:nc], inputs[nc + nk:]
    consts_on, carry_on, xs_on = flags[:nc], flags[nc:nc + nk], flags[nc + nk:]
    out_avals = [a.strong() for a in body.out_avals]
    ct_carry = [ct if ct is not None else zeros(a) for ct, a in zip(cts[:nk], out_avals)]
    ct_ys = [ct if ct is not None else zeros(ShapedArray((length, *a.shape), a.dtype))
             for ct, a in zip(cts[nk:], out_avals[nk:])]
    carry_avals = [a for a, on in zip(out_avals, carry_on) if on]
    acc_avals = [ShapedArray(a.shape, a.dtype) for a, on in zip(body.in_avals, consts_on) if on]
    n_ct, n_acc, n_x, n_st = len(carry_avals), len(acc_avals), len(xs), len(stacks)

    def backward_step(hoisted, found, *args):
        """One step of the backward scan. The cotangent of a const is summed over the steps:
        in an accumulator carried along, or, for those in ``hoisted`` (a product of two
        per-step values larger than they are, like the outer product that is a weight
        matrix's cotangent), by returning the two factors, stacked by the scan and
        contracted over the steps afterwards (one matrix product instead of one outer
        product per step)."""
        n_kept = n_acc - len(hoisted)
        c, rest = args[:nc], args[nc:]
        ct_c, acc = rest[:n_ct], iter(rest[n_ct:n_ct + n_kept])
        rows = rest[n_ct + n_kept:]
        x_rows, stack_rows, ct_y = rows[:n_x], rows[n_x:n_x + n_st], rows[n_x + n_st:]
        source = {"const": c, "x": x_rows, "stack": stack_rows}
        res = [source[kind][j] for kind, j in plan.kinds]
        it = iter(ct_c)
        ct_out = [next(it) if on else zeros(a) for on, a in zip(carry_on, out_avals)]
        in_cts = inline(plan.backward, [*res, *ct_out, *ct_y])
        const_cts, rest_cts = in_cts[:n_acc], in_cts[n_acc:]
        if found is not None:
            found.extend(j for j, g in enumerate(const_cts) if _product_factors(g, nc))
        sums, factors = [], []
        for j, g in enumerate(const_cts):
            if j in hoisted:  # a factor that is a row of an input is read from that input
                products[j], *pair = _product_factors(g, nc)
                sources[j] = [next((r for r, row in enumerate(rows[:n_x + n_st]) if f is row),
                                   None) for f in pair]
                factors += [f for f, r in zip(pair, sources[j]) if r is None]
            else:
                sums.append(add(next(acc), g))
        return [*rest_cts[:n_ct], *sums, *rest_cts[n_ct:], *factors]

    row = [ShapedArray(v.aval.shape[1:], v.aval.dtype) for v in [*xs, *stacks]]

    def step_program(hoisted, found=None):
        avals = [*[ShapedArray(v.aval.shape, v.aval.dtype) for v in body.invars[:nc]],
                 *carry_avals, *[a for j, a in enumerate(acc_avals) if j not in hoisted], *row,
                 *[ShapedArray(a.shape, a.dtype) for a in out_avals[nk:]]]
        return dead_code_elimination(_program_of(
            lambda *args: backward_step(hoisted, found, *args), avals))

    found: list[int] = []
    products: dict = {}
    sources: dict = {}
    step = step_program(frozenset(), found)
    hoisted = frozenset(found)
    if hoisted:
        step = step_program(hoisted)
    init_ct = [ct for ct, on in zip(ct_carry, carry_on) if on]
    init_acc = [zeros(a) for j, a in enumerate(acc_avals) if j not in hoisted]
    n_kept = len(init_acc)
    outs = scan_p.bind(*consts, *init_ct, *init_acc, *xs, *stacks, *ct_ys, body=step,
                       length=length, reverse=not reverse, num_consts=nc,
                       num_carry=n_ct + n_kept)
    n_xct = sum(xs_on)
    ct_init, sums = iter(outs[:n_ct]), iter(outs[n_ct:n_ct + n_kept])
    ct_xs = iter(outs[n_ct + n_kept:n_ct + n_kept + n_xct])
    stacked_factors = iter(outs[n_ct + n_kept + n_xct:])
    ct_consts = []
    for j in range(n_acc):
        if j in hoisted:
            inputs_rows = [*xs, *stacks]
            sa, sb = (next(stacked_factors) if r is None else inputs_rows[r]
                      for r in sources[j])
            ct_consts.append(_sum_over_steps(products[j], sa, sb))
        else:
            ct_consts.append(next(sums))
    ct_consts = iter(ct_consts)
    result = [next(ct_consts) if on else None for on in consts_on]
    result += [next(ct_init) if on else None for on in carry_on]
    result += [next(ct_xs) if on else None for on in xs_on]
    return [ct if on else None for ct, on in zip(result, active)]


def _product_factors(g, n_consts):
    """``(kind, a, b)`` if ``g`` (a value of the step being traced) is ``mul(a, b)`` or
    ``dot_general(a, b)`` of two values that change from step to step (not derived from the
    step's first ``n_consts`` inputs alone), with more elements than ``a`` and ``b``
    together; else None."""
    trace = current_trace()
    eqn = trace.producer(g)
    if eqn is None or eqn.primitive not in (mul_p, dot_general_p):
        return None
    a, b = (trace.value(x) for x in eqn.inputs)
    varying = _varying(trace, n_consts)
    if not all(isinstance(x, Tracer) and x._trace is trace and id(x.ir_var) in varying
               for x in (a, b)):
        return None
    out = eqn.outputs[0].aval
    if out.size <= a.aval.size + b.aval.size:
        return None
    kind = ("dot_general", eqn.params) if eqn.primitive is dot_general_p else ("mul", out.shape)
    return kind, a, b


def _varying(trace, n_consts) -> set:
    """The variables of ``trace`` that depend on its inputs after the first ``n_consts``."""
    varying = {id(v) for v in trace.invars[n_consts:]}
    for eqn in trace.equations:
        if any(isinstance(x, Var) and id(x) in varying for x in eqn.inputs):
            varying.update(id(v) for v in eqn.outputs)
    return varying


def _sum_over_steps(kind, sa, sb):
    """sum over t of product(sa[t], sb[t]): one contraction over the leading axis."""
    name, detail = kind
    if name == "dot_general":
        (ca, cb), (ba, bb) = detail["contract"], detail["batch"]
        shift = lambda dims: tuple(d + 1 for d in dims)  # noqa: E731
        return dot_general(sa, sb, ((0, *shift(ca)), (0, *shift(cb))), (shift(ba), shift(bb)))
    out_shape = detail
    letters = "abcdefghijklmnopqrstuvwxy"[:len(out_shape)]

    def term(stack):
        shape = stack.shape[1:]
        aligned = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
        kept = [k for k, d in enumerate(aligned) if d == out_shape[k]]
        flat = reshape(stack, (stack.shape[0], *[aligned[k] for k in kept]))
        return flat, "z" + "".join(letters[k] for k in kept)

    (fa, ta), (fb, tb) = term(sa), term(sb)
    return einsum(f"{ta},{tb}->{letters}", fa, fb)


vjp_split_rules[scan_p] = (_scan_vjp_fwd, _scan_vjp_bwd)


# ---------------------------------------------------------------------------------------
# while


def _loop_runs(cond, cond_consts, carry, max_steps):
    n = 0
    while (max_steps is None or n < max_steps) and evaluate(cond, [*cond_consts, *carry])[0]:
        yield n
        n += 1


def _while_impl(*args, cond, body, cond_nconsts, body_nconsts, max_steps=None):
    cc, bc = list(args[:cond_nconsts]), list(args[cond_nconsts:cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts:])
    forward = body.cached(_TAPED_BY, lambda _: None)
    if forward is None:
        for _ in _loop_runs(cond, cc, carry, max_steps):
            carry[:] = evaluate(body, [*bc, *carry])
    else:  # the forward half, taped for the while_vjp that follows (see _Recorded)
        carry[:] = _Recorded.run(args, cond, forward, cond_nconsts, body_nconsts, max_steps)
    return [np.asarray(c, a.dtype)[()] for c, a in zip(carry, body.out_avals)]


# The NumPy evaluator runs a loop once for its value and its gradient, as compiled code does
# (_Tape): a body that was differentiated knows its forward half (``_TAPED_BY``), which the
# ``while`` runs instead of the body, recording each iteration's residuals; the
# ``while_vjp`` of the same loop on the same operands (the same objects) reads that tape
# instead of running the loop again. Only the last loop run per thread is kept.
_TAPED_BY = "while_taped_by"


class _Recorded(threading.local):
    key: tuple | None = None
    tape: list | None = None

    @classmethod
    def run(cls, args, cond, forward, cn, bn, max_steps) -> list:
        """The carries after running ``forward``, taping the residuals (forward's outputs
        after the carries) on the thread's record."""
        nk = len(args) - cn - bn
        bc, carry = list(args[cn:cn + bn]), list(args[cn + bn:])
        tape = []
        for _ in _loop_runs(cond, args[:cn], carry, max_steps):
            outs = evaluate(forward, [*bc, *carry])
            carry[:] = outs[:nk]
            tape.append(outs[nk:])
        _RECORDED.key, _RECORDED.tape = (cond, forward, max_steps, tuple(args)), tape
        return carry

    @classmethod
    def take(cls, cond, forward, max_steps, args) -> list | None:
        """The tape of the last loop run, if it ran ``forward`` on these very operands."""
        key, tape = _RECORDED.key, _RECORDED.tape
        _RECORDED.key = _RECORDED.tape = None
        if key is None or key[0] is not cond or key[1] is not forward or key[2] != max_steps \
                or len(key[3]) != len(args) or any(a is not b for a, b in zip(key[3], args)):
            return None
        return tape


_RECORDED = _Recorded()


def _while_rule(*avals, cond, body, cond_nconsts, body_nconsts, max_steps=None):
    carry = avals[cond_nconsts + body_nconsts:]
    if not _same(cond.in_avals, [*avals[:cond_nconsts], *carry]):
        raise ShapeError(f"while_loop's cond takes {cond.in_avals}, given {list(avals)}")
    if [(a.shape, a.dtype.kind) for a in cond.out_avals] != [((), "b")]:
        raise ShapeError(f"while_loop's cond must return a boolean scalar, not "
                         f"{cond.out_avals}")
    if not _same(body.in_avals, [*avals[cond_nconsts:cond_nconsts + body_nconsts], *carry]) \
            or not _same(body.out_avals, carry):
        raise ShapeError(f"while_loop's body maps {body.in_avals} to {body.out_avals}, "
                         f"but the carry is {list(carry)}")
    return [a.strong() for a in carry]


while_p = Primitive("while", impl=_while_impl, shape_rule=_while_rule, multiple_results=True)


def _emit_loop_head(ctx, cond, cond_consts, carry, max_steps):
    """``while True:`` that breaks when ``cond`` fails or after ``max_steps`` iterations;
    returns the counter's name (None without max_steps). The caller emits the body."""
    steps = None
    if max_steps is not None:
        steps = ctx.fresh("steps")
        ctx.emit(f"{steps} = 0")
    ctx.emit("while True:")
    with ctx.indented():
        if steps is not None:
            ctx.emit(f"if {steps} >= {ctx.dim(max_steps)}:")
            ctx.emit("    break")
            ctx.emit(f"{steps} += 1")
        (go,) = ctx.lower_region(cond, [*cond_consts, *carry])
        ctx.emit(f"if not {go}:")
        ctx.emit("    break")


def _lower_while(ctx, eqn):
    """A ``while`` loop. When the same program later runs the backward pass of this very
    loop (a ``while_vjp`` on the same operands), this loop is the one that records its
    tape: it runs the forward half, which also returns the residuals, and the
    ``while_vjp`` reads the tape instead of running the loop again."""
    p = eqn.params
    cn, bn = p["cond_nconsts"], p["body_nconsts"]
    vjp = _backward_pass_of(ctx, eqn)
    if vjp is not None:
        _tapes(ctx)[id(vjp)] = tape = _Tape(ctx, vjp)
        for var, name in zip(eqn.outputs, tape.carry):
            ctx.bind(var, name)
        return
    ins = [ctx.array(a) for a in eqn.inputs]
    carry = _carried(ctx, eqn.inputs[cn + bn:], ins[cn + bn:])
    consts = _contiguous_matrices(ctx, p["body"], ins[cn:cn + bn])
    _emit_loop_head(ctx, p["cond"], ins[:cn], carry, p["max_steps"])
    with ctx.indented():
        ctx.assign(carry, ctx.lower_region(p["body"], [*consts, *carry], repeated=True))
    for var, name in zip(eqn.outputs, carry):
        ctx.bind(var, name)


_SPLIT_FROM = "while_body"  # a while_vjp's forward half -> the body it was split from


def _tapes(ctx) -> dict:
    """The tapes recorded by ``while`` loops of the program ``ctx`` lowers, by the id of
    the ``while_vjp`` equation to read them (None once that one is lowered)."""
    return ctx.__dict__.setdefault("loop_tapes", {})


def _backward_pass_of(ctx, eqn):
    """The first ``while_vjp`` of the program being lowered that differentiates the loop
    ``eqn`` (the same operands, condition, body and bound) and is not lowered yet."""
    n = len(eqn.inputs)
    same = lambda a, b: a is b or (isinstance(a, Literal) and isinstance(b, Literal)  # noqa
                                    and a.aval == b.aval and a.value == b.value)
    for other in ctx.program.equations:
        if other.primitive is while_vjp_p and id(other) not in _tapes(ctx) \
                and other.params["cond"] is eqn.params["cond"] \
                and other.params["forward"].cached(_SPLIT_FROM, lambda _: None) \
                is eqn.params["body"] \
                and other.params["max_steps"] == eqn.params["max_steps"] \
                and other.params["cond_nconsts"] == eqn.params["cond_nconsts"] \
                and other.params["body_nconsts"] == eqn.params["body_nconsts"] \
                and len(other.inputs) >= n \
                and all(same(a, b) for a, b in zip(other.inputs[:n], eqn.inputs)):
            return other
    return None


lowerings[while_p] = Region(_lower_while)


def while_loop(cond_consts, body_consts, init, *, cond, body, max_steps=None):
    return while_p.bind(*cond_consts, *body_consts, *init, cond=cond, body=body,
                        cond_nconsts=len(cond_consts), body_nconsts=len(body_consts),
                        max_steps=max_steps)


def _while_vjp_impl(*args, cond, forward, backward, cond_nconsts, body_nconsts, consts_on,
                    carry_on, max_steps):
    """Run the loop, taping each iteration's residuals, then the backward halves over the
    tape in reverse. Returns the cotangents of the active body consts and carries."""
    nk = len(carry_on)
    n_loop = cond_nconsts + body_nconsts + nk
    given = iter(args[n_loop:])
    tape = _Recorded.take(cond, forward, max_steps, args[:n_loop])
    if tape is None:
        _Recorded.run(args[:n_loop], cond, forward, cond_nconsts, body_nconsts, max_steps)
        tape = _Recorded.take(cond, forward, max_steps, args[:n_loop])
    # shapes from the backward half: under vmap over cotangents it is the batched one
    avals = backward.in_avals[len(backward.invars) - nk:]
    ct_carry = [next(given) if on else np.zeros(a.shape, a.dtype)
                for on, a in zip(carry_on, avals)]
    n_acc = sum(consts_on)
    acc = [np.zeros(a.shape, a.dtype) for a in backward.out_avals[:n_acc]]
    active = [k for k, on in enumerate(carry_on) if on]
    for res in reversed(tape):
        cts = evaluate(backward, [*res, *ct_carry])
        acc = [a + g for a, g in zip(acc, cts[:n_acc])]
        for k, g in zip(active, cts[n_acc:]):
            ct_carry[k] = g
    return [*acc, *[np.asarray(ct_carry[k], avals[k].dtype) for k in active]]


def _while_vjp_rule(*avals, cond, forward, backward, cond_nconsts, body_nconsts, consts_on,
                    carry_on, max_steps):
    return [a.strong() for a in backward.out_avals]  # active consts', then carries' cts


while_vjp_p = Primitive("while_vjp", impl=_while_vjp_impl, shape_rule=_while_vjp_rule,
                        multiple_results=True)

_TAPE_START = 16  # rows a tape starts with; it doubles when full


class _Tape:
    """The forward loop of a ``while_vjp`` equation (its forward half, run while the
    condition holds), each iteration's residuals written to growable tapes: arrays
    allocated before the loop that double when full. ``carry``: the final carries'
    locals; ``trips``: the trip count's; ``tapes``: one per residual not read from a
    body const."""

    def __init__(self, ctx, eqn):
        p = eqn.params
        cn, bn, nk = p["cond_nconsts"], p["body_nconsts"], len(p["carry_on"])
        forward = p["forward"]
        ins = [ctx.array(a) for a in eqn.inputs[:cn + bn + nk]]
        self.consts = _contiguous_matrices(ctx, forward, ins[cn:cn + bn])
        self.carry = _carried(ctx, eqn.inputs[cn + bn:cn + bn + nk], ins[cn + bn:])
        self.where = {id(v): j for j, v in enumerate(forward.invars[:bn])}
        self.residuals = forward.outvars[nk:]
        taped = [r for r in self.residuals if id(r) not in self.where]
        self.taped = {id(r): j for j, r in enumerate(taped)}
        self.trips, self.capacity = n, cap = ctx.fresh("trips"), ctx.fresh("capacity")
        ctx.emit(f"{n} = 0")
        ctx.emit(f"{cap} = {_TAPE_START}")
        self.tapes = [ctx.fresh("tape") for _ in taped]
        for tape, r in zip(self.tapes, taped):
            ctx.emit(f"{tape} = fgm.empty(({cap}, {_dims(ctx, r.aval.shape)}), "
                     f"{dtype_expr(r.aval.dtype)})")
        _emit_loop_head(ctx, p["cond"], ins[:cn], self.carry, p["max_steps"])
        with ctx.indented():
            ctx.emit(f"if {n} == {cap}:")
            with ctx.indented():
                ctx.emit(f"{cap} = 2 * {cap}")
                for j, r in enumerate(taped):
                    self._grow(ctx, j, r.aval)
            rows = [f"{self.tapes[self.taped[id(r)]]}[{n}]"
                    if id(r) in self.taped and r.aval.shape else None for r in self.residuals]
            outs = ctx.lower_region(forward, [*self.consts, *self.carry], [None] * nk + rows,
                                    repeated=True)
            for r, value, row in zip(self.residuals, outs[nk:], rows):
                if id(r) in self.taped and value != row:
                    _copy_into(ctx, self.tapes[self.taped[id(r)]], n, value, r.aval.shape)
            ctx.assign(self.carry, outs[:nk])
            ctx.emit(f"{n} += 1")

    def _grow(self, ctx, j, aval):
        grown, t = ctx.fresh("grown"), ctx.fresh("t")
        ctx.emit(f"{grown} = fgm.empty(({self.capacity}, {_dims(ctx, aval.shape)}), "
                 f"{dtype_expr(aval.dtype)})")
        ctx.emit(f"for {t} in range({self.trips}):")
        with ctx.indented():
            _copy_into(ctx, grown, t, f"{self.tapes[j]}[{t}]", aval.shape)
        ctx.emit(f"{self.tapes[j]} = {grown}")

    def row(self, r, t) -> str:
        """Residual ``r`` of iteration ``t``."""
        if id(r) in self.where:
            return self.consts[self.where[id(r)]]
        return f"{self.tapes[self.taped[id(r)]]}[{t}]"


def _lower_while_vjp(ctx, eqn):
    """The forward loop recording the tapes (unless the ``while`` it differentiates
    recorded them), then the backward halves over the tapes in reverse."""
    p = eqn.params
    nk, backward = len(p["carry_on"]), p["backward"]
    tape = _tapes(ctx).get(id(eqn)) or _Tape(ctx, eqn)
    _tapes(ctx)[id(eqn)] = None
    given = iter(ctx.array(a) for a in eqn.inputs[len(eqn.inputs) - sum(p["carry_on"]):])
    avals = backward.in_avals[len(backward.invars) - nk:]
    ct_carry = [ctx.fresh("ct") for _ in range(nk)]
    ctx.assign(ct_carry, [next(given) if on else _zero(ctx, a)
                          for on, a in zip(p["carry_on"], avals)])
    acc_avals = backward.out_avals[:sum(p["consts_on"])]
    acc = [ctx.fresh("acc") for _ in acc_avals]
    ctx.assign(acc, [_zero(ctx, a) for a in acc_avals])
    t = ctx.fresh("t")
    ctx.emit(f"for {t} in range({tape.trips} - 1, -1, -1):")
    with ctx.indented():
        res = [tape.row(r, t) for r in tape.residuals]
        cts = ctx.lower_region(backward, [*res, *ct_carry], repeated=True)
        ctx.assign(acc, [f"{a} + {g}" for a, g in zip(acc, cts[:len(acc)])])
        active = [k for k, on in enumerate(p["carry_on"]) if on]
        ctx.assign([ct_carry[k] for k in active], cts[len(acc):])
    results = [*acc, *[ct_carry[k] for k, on in enumerate(p["carry_on"]) if on]]
    for var, name in zip(eqn.outputs, results):
        ctx.bind(var, name)


def _dims(ctx, shape) -> str:
    return "".join(ctx.dim(d) + ", " for d in shape)


def _zero(ctx, aval) -> str:
    if aval.shape:
        return f"np.zeros(({_dims(ctx, aval.shape)}), {dtype_expr(aval.dtype)})"
    return f"{dtype_expr(aval.dtype)}(0)"


lowerings[while_vjp_p] = Region(_lower_while_vjp)


def _while_vjp_fwd(inputs, active, *, cond, body, cond_nconsts, body_nconsts, max_steps=None):
    outs = while_p.bind(*inputs, cond=cond, body=body, cond_nconsts=cond_nconsts,
                        body_nconsts=body_nconsts, max_steps=max_steps)
    return outs, inputs


def _while_vjp_bwd(inputs, cts, active, *, cond, body, cond_nconsts, body_nconsts,
                   max_steps=None):
    consts_on = [bool(a) for a in active[cond_nconsts:cond_nconsts + body_nconsts]]
    carry_on = carry_activity(body, consts_on, active[cond_nconsts + body_nconsts:], [])
    forward, backward = split_adjoint(body, tuple([*consts_on, *carry_on]))
    forward.cached(_SPLIT_FROM, lambda _: body)  # what a while lowering matches (_Tape)
    body._cache[_TAPED_BY] = forward  # what a while evaluated runs (_Recorded)
    given = [ct if ct is not None else zeros(a.strong())
             for ct, a, on in zip(cts, body.out_avals, carry_on) if on]
    outs = iter(while_vjp_p.bind(*inputs, *given, cond=cond, forward=forward,
                                 backward=backward, cond_nconsts=cond_nconsts,
                                 body_nconsts=body_nconsts, consts_on=tuple(consts_on),
                                 carry_on=tuple(carry_on), max_steps=max_steps))
    result = [None] * cond_nconsts
    result += [next(outs) if on else None for on in consts_on]
    result += [next(outs) if on else None for on in carry_on]
    return [ct if on else None for ct, on in zip(result, active)]


vjp_split_rules[while_p] = (_while_vjp_fwd, _while_vjp_bwd)


# ---------------------------------------------------------------------------------------
# Forward mode: a loop of the JVP'd body, carrying the carries' tangents beside them


def _tangent_flags(tangents, avals):
    return [t is not None and is_float(a.dtype) for t, a in zip(tangents, avals)]


def _strong(avals):
    return [ShapedArray(a.shape, a.dtype) for a in avals]


def _scan_jvp(primals, tangents, *, body, length, reverse, num_consts, num_carry, unroll=1):
    nc, nk = num_consts, num_carry
    on = _tangent_flags(tangents, body.in_avals)
    consts_on, xs_on = on[:nc], on[nc + nk:]
    carry_on = carry_activity(body, consts_on, on[nc:nc + nk], xs_on)
    jvp = jvp_program(body, [*consts_on, *carry_on, *xs_on])
    n_out, float_out = len(body.outvars), tangent_outputs(body)
    ins = body.in_avals
    groups = [ins[:nc], [a for a, f in zip(ins[:nc], consts_on) if f],
              ins[nc:nc + nk], [a for a, f in zip(ins[nc:nc + nk], carry_on) if f],
              ins[nc + nk:], [a for a, f in zip(ins[nc + nk:], xs_on) if f]]
    sizes = [len(g) for g in groups]

    def step(*args):
        c, tc, k, tk, x, tx = _split_by(args, sizes)
        outs = inline(jvp, [*c, *k, *x, *tc, *tk, *tx])
        it = iter(outs[n_out:])
        t_out = [next(it) if f else None for f in float_out]
        return [*outs[:nk], *[t for t, f in zip(t_out[:nk], carry_on) if f],
                *outs[nk:n_out], *[t for t in t_out[nk:] if t is not None]]

    program = _program_of(step, _strong([a for g in groups for a in g]))
    c, _, k, _, x, _ = _split_by(primals, sizes[:1] + [0] + sizes[2:3] + [0] + sizes[4:5] + [0])
    tc = [t for t, f in zip(tangents[:nc], consts_on) if f]
    tk = [t if t is not None else zeros(a.strong())
          for t, a, f in zip(tangents[nc:nc + nk], ins[nc:nc + nk], carry_on) if f]
    tx = [t for t, f in zip(tangents[nc + nk:], xs_on) if f]
    outs = scan_p.bind(*c, *tc, *k, *tk, *x, *tx, body=program, length=length, reverse=reverse,
                       num_consts=nc + len(tc), num_carry=nk + len(tk))
    n_tk = len(tk)
    carry_t, ys = iter(outs[nk:nk + n_tk]), outs[nk + n_tk:]
    n_y = n_out - nk
    y_t = iter(ys[n_y:])
    # the outputs from a scan of the primals alone, which reads no tangent (linearize and
    # jacfwd cut the JVP there); the loop above recomputes them beside the tangents
    primal_outs = scan_p.bind(*primals, body=body, length=length, reverse=reverse,
                              num_consts=nc, num_carry=nk)
    return (primal_outs, [next(carry_t) if f else None for f in carry_on] +
            [next(y_t) if f else None for f in float_out[nk:]])


def _split_by(values, sizes):
    out, start = [], 0
    for n in sizes:
        out.append(list(values[start:start + n]))
        start += n
    return out


def _jvp_loop(primals, tangents, cond, body, cn, bn, max_steps):
    """The while loop carrying the tangents beside the carries: ``(operands, params,
    carry_on)`` for ``while_p.bind(*operands, **params)``, whose outputs are the carries,
    then the tangents of the carries in ``carry_on``."""
    nk = len(body.outvars)
    on = _tangent_flags(tangents[cn:], body.in_avals)
    consts_on = on[:bn]
    carry_on = carry_activity(body, consts_on, on[bn:], [])
    jvp = jvp_program(body, [*consts_on, *carry_on])
    carry_avals = body.in_avals[bn:]
    t_const_avals = [a for a, f in zip(body.in_avals[:bn], consts_on) if f]
    t_carry_avals = [a for a, f in zip(carry_avals, carry_on) if f]
    n_tb, n_tk = len(t_const_avals), len(t_carry_avals)

    def test(*args):
        return inline(cond, args[:cn + nk])

    def step(*args):
        b, tb, k, tk = _split_by(args, [bn, n_tb, nk, n_tk])
        outs = inline(jvp, [*b, *k, *tb, *tk])
        it = iter(outs[nk:])
        t_out = [next(it) if f else None for f in tangent_outputs(body)]
        return [*outs[:nk], *[t for t, f in zip(t_out, carry_on) if f]]

    test_program = _program_of(test, _strong([*cond.in_avals, *t_carry_avals]))
    step_program = _program_of(step, _strong([*body.in_avals[:bn], *t_const_avals,
                                              *carry_avals, *t_carry_avals]))
    cc, bc, init = primals[:cn], primals[cn:cn + bn], primals[cn + bn:]
    tb = [t for t, f in zip(tangents[cn:cn + bn], consts_on) if f]
    tk = [t if t is not None else zeros(a.strong())
          for t, a, f in zip(tangents[cn + bn:], carry_avals, carry_on) if f]
    params = dict(cond=test_program, body=step_program, cond_nconsts=cn,
                  body_nconsts=bn + n_tb, max_steps=max_steps)
    return [*cc, *bc, *tb, *init, *tk], params, carry_on


def _while_jvp(primals, tangents, *, cond, body, cond_nconsts, body_nconsts, max_steps=None):
    nk = len(body.outvars)
    operands, params, carry_on = _jvp_loop(primals, tangents, cond, body, cond_nconsts,
                                           body_nconsts, max_steps)
    carry_t = iter(while_p.bind(*operands, **params)[nk:])
    primal_outs = while_p.bind(*primals, cond=cond, body=body, cond_nconsts=cond_nconsts,
                               body_nconsts=body_nconsts, max_steps=max_steps)  # (as scan's)
    return primal_outs, [next(carry_t) if f else None for f in carry_on]


# Higher derivatives through the backward pass of a while loop W. ``while_vjp(x, g)`` is
# J(x)^T g, J the Jacobian of W, so for any v: v . while_vjp(x, g) = g . (J(x) v), the
# product of g with the tangent that the loop carrying tangents beside the carries, W'(x, v)
# = (W(x), J(x) v), computes. Differentiating that scalar: its gradient in x is the first
# order VJP of W' (cotangent g on the tangent carries), its gradient in g is J(x) v. So both
# the VJP and the JVP of while_vjp are a while_vjp of W' (and the next order one of W'').


def _loop_of(params):
    """The loop (cond, body, cond_nconsts, body_nconsts, max_steps) a while_vjp is the
    backward pass of, and its carries' activity."""
    forward, nk = params["forward"], len(params["carry_on"])
    assert not _cotangent_axes(forward, params["backward"], params["carry_on"]), \
        "a while_vjp batched over its cotangents is differentiated per cotangent"
    return _body_of(forward, nk), nk


def _body_of(forward, nk) -> Program:
    """The loop body a while_vjp's forward half was split from: its first ``nk`` outputs."""
    return dead_code_elimination(Program((), forward.invars, forward.equations,
                                         forward.outvars[:nk]))


def _per_cotangent(rule, params, values, batched, out_avals, policy):
    """``rule(values, **params)`` (a list of results, None for zeros, of ``out_avals``)
    for a while_vjp whose backward half was batched over its cotangents (jacrev's vmap):
    differentiated first, then batched, as the rule for one cotangent, batched over those
    axes again. ``batched[i]``: values[i] has the cotangents' leading axes (None values
    pass through); ``policy``: each result's batching (FRONT, or SUM where all cotangents'
    contributions add up)."""
    n_axes = _cotangent_axes(params["forward"], params["backward"], params["carry_on"])
    body = _body_of(params["forward"], len(params["carry_on"]))
    forward, backward = split_adjoint(body, (*params["consts_on"], *params["carry_on"]))
    one = dict(params, forward=forward, backward=backward)
    given = [j for j, x in enumerate(values) if x is not None]

    def rule_of_one(*a):
        full = [None] * len(values)
        for j, x in zip(given, a):
            full[j] = x
        return [zeros(aval) if r is None else r for r, aval in zip(rule(full, **one), out_avals)]

    avals = [ShapedArray(values[j].shape[n_axes if batched[j] else 0:], values[j].dtype)
             for j in given]
    program = _program_of(rule_of_one, avals)
    for axis in reversed(range(n_axes)):  # the innermost batching first
        size = next(values[j].shape[axis] for j in given if batched[j])
        program = batch_program(program, [0 if batched[j] else None for j in given], size,
                                policy, axis_name=None)[0]
    return inline(program, [values[j] for j in given])


def _gradient_through_tangent_loop(x, v, g, params, wanted, ct_carries=None):
    """``d/dx [g . J(x) v + c . W(x)]`` (c = ``ct_carries``, None = 0) at the positions
    ``wanted`` of ``x`` (None elsewhere), and ``J(x) v``; ``x`` are a while_vjp's loop
    operands, ``v`` tangents for them, ``g`` and ``c`` cotangents of the carries in
    ``params['carry_on']`` (the while_vjp's)."""
    body, nk = _loop_of(params)
    cn, bn, carry_on = params["cond_nconsts"], params["body_nconsts"], params["carry_on"]
    operands, loop, t_on = _jvp_loop(x, v, params["cond"], body, cn, bn, params["max_steps"])
    n_tb = loop["body_nconsts"] - bn
    g_all, c_all = _on_carries(g, carry_on), _on_carries(ct_carries, carry_on)
    cts = [*c_all, *[ct for ct, on in zip(g_all, t_on) if on]]
    at = [*range(cn + bn), *range(cn + bn + n_tb, cn + bn + n_tb + nk)]  # x in operands
    active = [False] * len(operands)
    for position, on in zip(at, wanted):
        active[position] = bool(on)
    grads = _while_vjp_bwd(operands, cts, active, **loop)
    tangents = iter(while_p.bind(*operands, **loop)[nk:])
    return [grads[k] for k in at], [next(tangents) if on else None for on in t_on]


def _on_carries(values, carry_on) -> list:
    """Values given for the carries in ``carry_on`` (or None), spread over all carries."""
    given = iter(values if values is not None else [None] * sum(carry_on))
    return [next(given) if on else None for on in carry_on]


def _while_vjp_jvp(primals, tangents, **params):
    """d[J(x)^T g] = J(x)^T dg + d/dx[g . J(x) dx]."""
    cn, bn, nk = params["cond_nconsts"], params["body_nconsts"], len(params["carry_on"])
    n_x = cn + bn + nk
    if _cotangent_axes(params["forward"], params["backward"], params["carry_on"]):
        return _jvp_per_cotangent(primals, tangents, params, n_x)
    wanted = [False] * cn + list(params["consts_on"]) + list(params["carry_on"])
    at_x, _ = _gradient_through_tangent_loop(primals[:n_x], tangents[:n_x], primals[n_x:],
                                             params, wanted, tangents[n_x:])
    return while_vjp_p.bind(*primals, **params), [t for t, on in zip(at_x, wanted) if on]


def _while_vjp_vjp(cts, inputs, outputs, active, **params):
    """With v the cotangents of J(x)^T g: d/dx[g . J(x) v] for x, J(x) v for g."""
    cn, bn, nk = params["cond_nconsts"], params["body_nconsts"], len(params["carry_on"])
    n_x = cn + bn + nk
    if _cotangent_axes(params["forward"], params["backward"], params["carry_on"]):
        return _vjp_per_cotangent(cts, inputs, active, params, n_x)
    it = iter(cts)
    v = [None] * cn + [next(it) if on else None
                       for on in [*params["consts_on"], *params["carry_on"]]]
    at_x, jv = _gradient_through_tangent_loop(inputs[:n_x], v, inputs[n_x:], params,
                                              list(active[:n_x]))
    return [*at_x, *[t for t, on in zip(jv, params["carry_on"]) if on]]


def _jvp_per_cotangent(primals, tangents, params, n_x):
    """``_while_vjp_jvp`` of a while_vjp batched over its cotangents (``_per_cotangent``):
    the cotangents, their tangents and all results have the cotangents' axes."""
    n = len(primals)
    n_axes = _cotangent_axes(params["forward"], params["backward"], params["carry_on"])
    per_one = [ShapedArray(a.shape[n_axes:], a.dtype) for a in params["backward"].out_avals]

    def jvp_of_one(values, **one):
        outs, touts = _while_vjp_jvp(values[:n], values[n:], **one)
        return [*outs, *touts]
    outs = _per_cotangent(jvp_of_one, params, [*primals, *tangents],
                          [j % n >= n_x for j in range(2 * n)], per_one * 2,
                          [FRONT] * (2 * len(per_one)))
    return outs[:len(per_one)], outs[len(per_one):]


def _vjp_per_cotangent(cts, inputs, active, params, n_x):
    """``_while_vjp_vjp`` of a while_vjp batched over its cotangents (``_per_cotangent``):
    the loop operands' cotangents add up over the cotangents, the others have their axes."""
    n_ct = len(cts)
    n_axes = _cotangent_axes(params["forward"], params["backward"], params["carry_on"])
    wanted = [j for j, on in enumerate(active) if on]

    def vjp_of_one(values, **one):
        result = _while_vjp_vjp(values[:n_ct], values[n_ct:], None, active, **one)
        return [result[j] for j in wanted]
    per_one = [ShapedArray(inputs[j].shape[n_axes if j >= n_x else 0:], inputs[j].dtype)
               for j in wanted]
    outs = iter(_per_cotangent(vjp_of_one, params, [*cts, *inputs],
                               [True] * n_ct + [j >= n_x for j in range(len(inputs))],
                               per_one, [SUM if j < n_x else FRONT for j in wanted]))
    return [next(outs) if on else None for on in active]


jvp_rules[scan_p] = _scan_jvp
jvp_rules[while_p] = _while_jvp
jvp_rules[while_vjp_p] = _while_vjp_jvp
vjp_rules[while_vjp_p] = _while_vjp_vjp


# ---------------------------------------------------------------------------------------
# Batching: a loop of the batched body; a carry is batched if it starts batched or the body
# makes it so (a fixed point, as for activity). A while whose condition differs between
# examples runs until every example is done, each keeping its carry once it is.


def _batched_carries(body, dims_before, carry_dims, dims_after, size):
    batched = [d is not None for d in carry_dims]
    while True:
        in_dims = [*dims_before, *[0 if b else None for b in batched], *dims_after]
        out_dims = batch_program(body, in_dims, size)[1]
        new = [b or d is not None for b, d in zip(batched, out_dims)]
        if new == batched:
            return batched
        batched = new


def _scan_batch(args, dims, *, body, length, reverse, num_consts, num_carry, unroll=1):
    nc, nk = num_consts, num_carry
    size = batch_size(args, dims)
    consts = [to_front(x, d) for x, d in zip(args[:nc], dims[:nc])]
    const_dims = [None if d is None else 0 for d in dims[:nc]]
    xs = [x if d is None else moveaxis(x, d, 1) for x, d in zip(args[nc + nk:], dims[nc + nk:])]
    row_dims = [None if d is None else 0 for d in dims[nc + nk:]]
    batched = _batched_carries(body, const_dims, dims[nc:nc + nk], row_dims, size)
    n_y = len(body.outvars) - nk
    program = batch_program(body, [*const_dims, *[0 if b else None for b in batched],
                                   *row_dims], size,
                            [FRONT if b else None for b in batched] + [FRONT] * n_y)[0]
    init = [with_batch_axis(x, d, size) if b else x
            for x, d, b in zip(args[nc:nc + nk], dims[nc:nc + nk], batched)]
    outs = scan_p.bind(*consts, *init, *xs, body=program, length=length, reverse=reverse,
                       num_consts=nc, num_carry=nk)
    return outs, [0 if b else None for b in batched] + [1] * n_y


def _while_batch(args, dims, *, cond, body, cond_nconsts, body_nconsts, max_steps=None):
    operands, params, out_dims = _batched_while(args, dims, cond, body, cond_nconsts,
                                                body_nconsts, max_steps)
    return while_p.bind(*operands, **params), out_dims


def _batched_while(args, dims, cond, body, cn, bn, max_steps, force=None):
    """The operands and params of the while loop computing ``while_p(*args)`` for every
    example, and its outputs' batch axes. With ``force`` (body-const positions, maybe
    none), those consts and all carries are batched even where the same for every example
    (each example gets its own cotangents)."""
    size = batch_size(args, dims)
    args = list(map(to_front, args, dims))
    dims = [None if d is None else 0 for d in dims]
    for j in force or ():
        args[cn + j], dims[cn + j] = with_batch_axis(args[cn + j], dims[cn + j], size), 0
    cc_dims, bc_dims, carry_dims = dims[:cn], dims[cn:cn + bn], dims[cn + bn:]
    batched = _batched_carries(body, bc_dims, carry_dims, [], size)
    if force is not None:
        batched = [True] * len(batched)
    carry_in = [0 if b else None for b in batched]
    pred_dim = batch_program(cond, [*cc_dims, *carry_in], size)[1][0]
    if pred_dim is not None:  # every carry takes part in the per-example mask
        batched = [True] * len(batched)
        carry_in = [0] * len(batched)
    test = batch_program(cond, [*cc_dims, *carry_in], size,
                         [None if pred_dim is None else FRONT])[0]
    step = batch_program(body, [*bc_dims, *carry_in], size,
                         [FRONT if b else None for b in batched])[0]
    cc, bc = args[:cn], args[cn:cn + bn]
    init = [with_batch_axis(x, d, size) if b else x
            for x, d, b in zip(args[cn + bn:], carry_dims, batched)]
    out_dims = [0 if b else None for b in batched]
    if pred_dim is None:
        return [*cc, *bc, *init], dict(cond=test, body=step, cond_nconsts=cn, body_nconsts=bn,
                                       max_steps=max_steps), out_dims

    def any_running(*a):
        return [any_of(inline(test, a)[0])]

    def masked_step(*a):
        c, b, k = a[:cn], a[cn:cn + bn], a[cn + bn:]
        running = inline(test, [*c, *k])[0]
        new = inline(step, [*b, *k])
        return [where(running.reshape((size,) + (1,) * (len(n.shape) - 1)), n, old)
                for n, old in zip(new, k)]

    cond_avals = _strong(test.in_avals)
    body_avals = _strong([*test.in_avals[:cn], *step.in_avals])
    return [*cc, *cc, *bc, *init], dict(
        cond=_program_of(any_running, cond_avals), body=_program_of(masked_step, body_avals),
        cond_nconsts=cn, body_nconsts=cn + bn, max_steps=max_steps), out_dims


def _while_vjp_batch(args, dims, *, cond, forward, backward, cond_nconsts, body_nconsts,
                     consts_on, carry_on, max_steps):
    """vmap over the cotangents only (jacrev): the same loop for every example, its
    backward half batched. With batched loop inputs (per-example gradients), the gradient
    of the batched loop."""
    nk = len(carry_on)
    if any(d is not None for d in dims[:cond_nconsts + body_nconsts + nk]):
        return _per_example_while_vjp(args, dims, cond, forward, cond_nconsts, body_nconsts,
                                      consts_on, carry_on, max_steps,
                                      _cotangent_axes(forward, backward, carry_on))
    size = batch_size(args, dims)
    n_primal = len(args) - sum(carry_on)
    cts = [with_batch_axis(x, d, size) for x, d in zip(args[n_primal:], dims[n_primal:])]
    n_res = len(backward.invars) - nk
    in_dims = [None] * n_res + [0 if on else None for on in carry_on]
    batched = batch_program(backward, in_dims, size, [FRONT] * len(backward.outvars))[0]
    outs = while_vjp_p.bind(*args[:n_primal], *cts, cond=cond, forward=forward,
                            backward=batched, cond_nconsts=cond_nconsts,
                            body_nconsts=body_nconsts, consts_on=consts_on, carry_on=carry_on,
                            max_steps=max_steps)
    return outs, [0] * len(outs)


def _cotangent_axes(forward, backward, carry_on) -> int:
    """How many axes ``backward`` was batched over its cotangents only (a jacrev's basis,
    ``_while_vjp_batch``'s first path): those lead each cotangent, before the carry's own."""
    nk = len(carry_on)
    cts = backward.in_avals[len(backward.invars) - nk:]
    return next((len(ct.shape) - len(carry.shape)
                 for ct, carry, on in zip(cts, forward.out_avals[:nk], carry_on) if on), 0)


def _per_example_while_vjp(args, dims, cond, forward, cn, bn, consts_on, carry_on,
                           max_steps, ct_axes=0):
    """The backward pass of the batched loop (see ``_batched_while``: its differentiated
    consts and all its carries batched, so each example gets its own cotangents), on the
    batched cotangents. Where examples stop at different steps, the loop is masked, and the
    mask's VJP passes a finished example's cotangent through unchanged. ``ct_axes``:
    the cotangents' leading axes that an earlier batching over them only added (see
    ``_cotangent_axes``), batched again here, one at a time, around the per-example pass."""
    if ct_axes:
        return _over_cotangent_axis(args, dims, cond, forward, cn, bn, consts_on, carry_on,
                                    max_steps, ct_axes)
    nk = len(carry_on)
    body = _body_of(forward, nk)
    n_primal = cn + bn + nk
    force = [j for j, on in enumerate(consts_on) if on]
    operands, params, _ = _batched_while(args[:n_primal], dims[:n_primal], cond, body, cn, bn,
                                         max_steps, force)
    size = batch_size(args, dims)
    cts = [with_batch_axis(x, d, size) for x, d in zip(args[n_primal:], dims[n_primal:])]
    new_cn, new_bn = params["cond_nconsts"], params["body_nconsts"]
    new_consts_on = [False] * (new_bn - bn) + list(consts_on)  # the mask's consts: never
    new_body = params["body"]
    new_carry_on = carry_activity(new_body, new_consts_on, carry_on, [])
    fwd, bwd = split_adjoint(new_body, (*new_consts_on, *new_carry_on))
    given = iter(cts)
    cts = [next(given) if on else zeros(a.strong())
           for on, a in zip(carry_on, new_body.out_avals)]
    outs = iter(while_vjp_p.bind(
        *operands, *[ct for ct, on in zip(cts, new_carry_on) if on], cond=params["cond"],
        forward=fwd, backward=bwd, cond_nconsts=new_cn, body_nconsts=new_bn,
        consts_on=tuple(new_consts_on), carry_on=tuple(new_carry_on), max_steps=max_steps))
    ct_consts = [next(outs) for on in new_consts_on if on]
    ct_carry = [next(outs) if on else None for on in new_carry_on]
    results = ct_consts + [ct for ct, on in zip(ct_carry, carry_on) if on]
    return results, [0] * len(results)


def _over_cotangent_axis(args, dims, cond, forward, cn, bn, consts_on, carry_on, max_steps,
                         ct_axes):
    """``_per_example_while_vjp`` where the cotangents also carry ``ct_axes`` leading axes
    (a jacrev's basis inside this vmap): the per-example pass on one cotangent, as a
    program, batched over the first of those axes (the loop runs once per example, its
    backward half for every cotangent)."""
    n_primal = cn + bn + len(carry_on)
    args = list(map(to_front, args, dims))
    dims = [None if d is None else 0 for d in dims]
    size = batch_size(args, dims)
    cts = [with_batch_axis(x, d, size) for x, d in zip(args[n_primal:], dims[n_primal:])]
    n_cts = cts[0].shape[1]
    avals = [*(ShapedArray(x.shape, x.dtype) for x in args[:n_primal]),
             *(ShapedArray(x.shape[:1] + x.shape[2:], x.dtype) for x in cts)]
    in_dims = [*dims[:n_primal], *[0] * len(cts)]

    def one_cotangent(*a):
        return _per_example_while_vjp(list(a), in_dims, cond, forward, cn, bn, consts_on,
                                      carry_on, max_steps, ct_axes - 1)[0]

    program = _program_of(one_cotangent, avals)
    batched = batch_program(program, [None] * n_primal + [1] * len(cts), n_cts,
                            [FRONT] * len(program.outvars), axis_name=None)[0]
    outs = inline(batched, [*args[:n_primal], *cts])
    return outs, [1] * len(outs)


batch_rules[scan_p] = _scan_batch
batch_rules[while_p] = _while_batch
batch_rules[while_vjp_p] = _while_vjp_batch
