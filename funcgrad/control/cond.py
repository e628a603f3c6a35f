"""``cond``: choose one of several sub-programs by an integer index, at run time.

    outputs = cond[branches=(p0, p1, ...)](index, *operands)

Every branch takes the same operands (all branches' captured values, then the arguments)
and returns the same types. The NumPy evaluator runs only the branch taken (the index is
clamped into range, as in JAX); the code generator writes an ``if``/``elif`` chain.

Reverse mode differentiates the branch taken: each branch is split into its forward half
(outputs and residuals) and backward half; a ``cond`` of forward halves saves every branch's
residual slots (those of the branches not taken are zeros, which cost nothing compiled),
and a ``cond`` of backward halves on the same index reads them.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from funcgrad.core.errors import ShapeError
from funcgrad.core.evaluate import evaluate, inline
from funcgrad.core.ir import Program
from funcgrad.core.primitive import Primitive
from funcgrad.core.tracing import trace_flat
from funcgrad.core.types import ShapedArray, is_float
from funcgrad.numpy import clip, reshape, where
from funcgrad.ops.shape import batch_size, to_front
from funcgrad.rules import batch_rules, jvp_rules, vjp_split_rules
from funcgrad.rules.lowering import Region, lowerings
from funcgrad.transforms.batching import FRONT, batch_program
from funcgrad.transforms.forward import jvp_program, tangent_outputs
from funcgrad.transforms.reverse import split_adjoint, zeros


def _cond_impl(index, *operands, branches):
    taken = int(np.clip(index, 0, len(branches) - 1))
    return evaluate(branches[taken], list(operands))


def _cond_rule(index, *operands, branches):
    if index.shape != () or index.dtype.kind not in "iub":
        raise ShapeError(f"cond's index must be an integer scalar, got {index}")
    first = [(a.shape, a.dtype) for a in branches[0].out_avals]
    for i, branch in enumerate(branches):
        if [(a.shape, a.dtype) for a in branch.in_avals] != \
                [(a.shape, a.dtype) for a in operands]:
            raise ShapeError(f"cond branch {i} takes {branch.in_avals}, given {list(operands)}")
        if [(a.shape, a.dtype) for a in branch.out_avals] != first:
            raise ShapeError(f"cond branch {i} returns {branch.out_avals}, but branch 0 "
                             f"returns {branches[0].out_avals}")
    return [a.strong() if any(b.out_avals[k].weak_type != a.weak_type for b in branches)
            else a for k, a in enumerate(branches[0].out_avals)]


cond_p = Primitive("cond", impl=_cond_impl, shape_rule=_cond_rule, multiple_results=True)


def _lower_cond(ctx, eqn):
    """``if index <= 0: outs = branch 0 ... elif index == k: ... else: outs = last``."""
    index, *args = [ctx.array(a) for a in eqn.inputs]
    branches = eqn.params["branches"]
    outs = [ctx.fresh("chosen") for _ in eqn.outputs]
    for k, branch in enumerate(branches):
        if len(branches) > 1:
            ctx.emit(f"if {index} <= 0:" if k == 0 else
                     "else:" if k == len(branches) - 1 else f"elif {index} == {k}:")
        with ctx.indented() if len(branches) > 1 else _nothing():
            ctx.assign(outs, ctx.lower_region(branch, args))
    for var, name in zip(eqn.outputs, outs):
        ctx.bind(var, name)


@contextmanager
def _nothing():
    yield


lowerings[cond_p] = Region(_lower_cond)


def cond(index, operands, branches: tuple[Program, ...]):
    return cond_p.bind(index, *operands, branches=tuple(branches))


# ---------------------------------------------------------------------------------------
# Reverse mode


def _program_of(fun, avals) -> Program:
    program, consts = trace_flat(fun, avals)
    assert not consts, "a derived branch captures nothing: its inputs are explicit"
    return program


def _padded_forwards(branches, flags):
    """Each branch's forward half, returning its residuals in its own slots and zeros in the
    other branches' slots, so that all branches return the same types."""
    halves = [split_adjoint(b, flags) for b in branches]
    n_out = len(branches[0].outvars)
    slots = [[v.aval.strong() for v in fwd.outvars[n_out:]] for fwd, _ in halves]

    def padded(i, fwd):
        def run(*operands):
            outs = inline(fwd, operands)
            res = []
            for j, avals in enumerate(slots):
                res += outs[n_out:] if j == i else [zeros(a) for a in avals]
            return outs[:n_out] + res
        return _program_of(run, branches[i].in_avals)

    return [padded(i, fwd) for i, (fwd, _) in enumerate(halves)], halves, slots


def _cond_vjp_fwd(inputs, active, *, branches):
    flags = tuple(bool(a) for a in active[1:])
    forwards, halves, slots = branches[0].cached(
        ("cond_vjp", branches, flags), lambda _: _padded_forwards(branches, flags))
    n_out = len(branches[0].outvars)
    outs = cond(inputs[0], inputs[1:], forwards)
    return outs[:n_out], (inputs[0], outs[n_out:], halves, slots)


def _cond_vjp_bwd(residuals, cts, active, *, branches):
    index, saved, halves, slots = residuals
    out_avals = [v.aval.strong() for v in branches[0].outvars]
    cts = [ct if ct is not None else zeros(a) for ct, a in zip(cts, out_avals)]
    starts = np.cumsum([0] + [len(s) for s in slots])

    def backward(i, bwd):
        def run(*args):
            res, g = args[:starts[-1]], args[starts[-1]:]
            return inline(bwd, [*res[starts[i]:starts[i + 1]], *g])
        return _program_of(run, [v.aval for v in saved] + [ShapedArray(a.shape, a.dtype)
                                                             for a in out_avals])

    backwards = tuple(backward(i, bwd) for i, (_, bwd) in enumerate(halves))
    in_cts = iter(cond(index, [*saved, *cts], backwards))
    return [None] + [next(in_cts) if on else None for on in active[1:]]


vjp_split_rules[cond_p] = (_cond_vjp_fwd, _cond_vjp_bwd)


# ---------------------------------------------------------------------------------------
# Forward mode and batching


def _cond_jvp(primals, tangents, *, branches):
    """A cond of the branches' JVP programs, on the operands and their tangents, for the
    tangents (it recomputes the outputs: a cond of the branches' linearised halves would
    not)."""
    flags = [t is not None and is_float(a.dtype)
             for t, a in zip(tangents[1:], branches[0].in_avals)]
    jvps = tuple(jvp_program(b, flags) for b in branches)
    outs = cond(primals[0], [*primals[1:], *[t for t, on in zip(tangents[1:], flags) if on]],
                jvps)
    n_out = len(branches[0].outvars)
    out_tangents = iter(outs[n_out:])
    # the outputs from a cond of the primals alone: linearize and jacfwd cut the JVP into
    # the part that reads no tangent and the part that does (see control/call.py)
    return cond(primals[0], primals[1:], branches), [
        next(out_tangents) if on else None for on in tangent_outputs(branches[0])]


def _cond_batch(args, dims, *, branches):
    """With the index the same for every example: a cond of the batched branches. With a
    batched index: every branch runs on the whole batch, and each example takes its own
    branch's results (a select), as in JAX."""
    size = batch_size(args, dims)
    args = list(map(to_front, args, dims))
    dims = [None if d is None else 0 for d in dims]
    n_out = len(branches[0].outvars)
    batched = tuple(batch_program(b, dims[1:], size, [FRONT] * n_out)[0] for b in branches)
    if dims[0] is None:
        return cond(args[0], args[1:], batched), [0] * n_out
    index = clip(args[0], 0, len(branches) - 1)
    results = [inline(b, args[1:]) for b in batched]
    chosen = results[-1]
    for k in range(len(branches) - 2, -1, -1):
        chosen = [where(reshape(index == k, (size,) + (1,) * (len(r.shape) - 1)), r, c)
                  for r, c in zip(results[k], chosen)]
    return chosen, [0] * n_out


jvp_rules[cond_p] = _cond_jvp
batch_rules[cond_p] = _cond_batch
