"""Reverse mode as a Program -> Program transform: backpropagation, written down.

``adjoint(program, wrt, seeds)`` builds one Program that runs the forward pass (the
program's own equations, re-emitted) and then the backward pass: for each equation in reverse
order, its primitive's VJP rule turns the cotangents of its outputs into cotangents of its
inputs, and cotangents reaching the same variable are added (the lecture's chain rule,
case 2). VJP rules are written with funcgrad.numpy, so the backward pass is recorded as
ordinary equations: the adjoint prints, compiles, and can be differentiated again.

Zero cotangents are never materialised (None): the first contribution to a variable's
cotangent starts its sum, so no array of zeros is ever added to. Equations on inactive
values (those that do not depend on the inputs being differentiated) get no VJP. While the
adjoint is recorded, elementwise operations skip the broadcasts the VJP rules make (see
ops/elementwise.py); afterwards each distinct computation is kept once (common
subexpression elimination) and dead code elimination drops whatever the requested outputs
do not need, so the backward pass keeps only the forward values it reads (``grad`` does not
even ask for the loss itself).

``split(adjoint, n_cts)`` cuts an adjoint into the part that does not depend on the output
cotangents (the forward pass, which also returns the residuals the backward pass needs) and
the part that does (the backward pass). ``vjp`` returns the backward part as its pullback.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from funcgrad.core.interpret import bind_equation, interpret
from funcgrad.core.ir import (Literal, Program, Var, common_subexpression_elimination,
                              dead_code_elimination)
from funcgrad.core.tracing import current_trace, new_trace, source_of
from funcgrad.core.types import is_float
from funcgrad.ops.elementwise import add
from funcgrad.ops.shape import broadcast_to
from funcgrad.rules import is_differentiable, vjp_rules, vjp_split_rules


class CotangentInput:
    """Seed marker: this output's cotangent is an input of the adjoint program."""


COTANGENT_INPUT = CotangentInput()


def zeros(aval):
    """A zero cotangent, where one must exist: a broadcast scalar in a trace (it costs
    nothing compiled), a fresh writable array outside one (it may be handed to the user)."""
    if current_trace() is None:
        return np.zeros(aval.shape, aval.dtype)[()]
    return broadcast_to(aval.dtype.type(0), aval.shape)


def adjoint(program: Program, wrt: Sequence[bool], seeds: Sequence,
            keep: Sequence[bool] | None = None, saved: Sequence = ()) -> Program:
    """The adjoint of ``program``.

    ``wrt[i]``: differentiate with respect to ``program.inputs[i]``.
    ``seeds[j]``: the cotangent of output j: COTANGENT_INPUT (an input of the adjoint),
    None (zero: the output is not differentiated), or a number (e.g. 1.0 for ``grad``).
    ``keep[j]``: return output j (default: all). ``grad`` drops the loss itself, so that the
    forward equations only it needs are removed.

    ``saved``: equations of ``program`` (without split rules) whose outputs are not recomputed
    but given (a checkpoint policy's saved values).

    The adjoint's inputs are ``program.inputs``, the outputs of the ``saved`` equations, and
    then one cotangent per COTANGENT_INPUT seed; its outputs are the kept program outputs and
    then the cotangent of each wrt input.
    """
    with new_trace() as trace:
        primals = [trace.new_input(v.aval) for v in program.inputs]
        given = {id(v): trace.new_input(v.aval) for e in saved for v in e.outputs}
        ct_inputs = iter([trace.new_input(v.aval.strong())
                          for v, s in zip(program.outvars, seeds) if s is COTANGENT_INPUT])
        env: dict[int, object] = {}

        def read(atom):
            return atom.value if isinstance(atom, Literal) else env[id(atom)]

        active = {id(v) for v, on in zip(program.inputs, wrt) if on and is_float(v.aval.dtype)}
        residuals = _forward(program, primals, env, active, given)
        out_cts = [next(ct_inputs) if s is COTANGENT_INPUT else s for s in seeds]
        cts = _backward_pass(program, read, active, out_cts, residuals)
        keep = [True] * len(program.outvars) if keep is None else keep
        outputs = [read(v) for v, k in zip(program.outvars, keep) if k]
        outputs += [cts.get(id(v)) if id(v) in cts else zeros(v.aval)
                    for v, on in zip(program.inputs, wrt) if on]
        result, consts = trace.to_program(outputs)
    assert not consts, "an adjoint captures no constants: they are inputs of the program"
    return dead_code_elimination(common_subexpression_elimination(result))


def backward_with_values(program: Program, values: dict, wrt: Sequence[bool], seeds: Sequence):
    """The cotangents of the ``wrt`` inputs, computed directly from the values of a concrete
    trace (``values``: var id -> value) rather than recorded as a program: for a function that
    branched on values, whose program serves one call only. The same VJP rules run, on
    arrays. None if the program holds a primitive whose VJP needs its own forward pass."""
    if any(eqn.primitive in vjp_split_rules for eqn in program.equations):
        return None

    def read(atom):
        return atom.value if isinstance(atom, Literal) else values[id(atom)]

    active = {id(v) for v, on in zip(program.inputs, wrt) if on and is_float(v.aval.dtype)}
    for eqn in program.equations:
        if is_differentiable(eqn.primitive) and any(
                isinstance(a, Var) and id(a) in active for a in eqn.inputs):
            active.update(id(v) for v in eqn.outputs if is_float(v.aval.dtype))
    cts = _backward_pass(program, read, active, seeds, {})
    return [cts.get(id(v)) if id(v) in cts else zeros(v.aval)
            for v, on in zip(program.inputs, wrt) if on]


def _backward_pass(program, read, active, out_cts, residuals) -> dict:
    """Backpropagation: from the cotangents of the outputs, through each equation's VJP in
    reverse order, adding the cotangents that reach a variable along several paths (the chain
    rule's case 2). Returns var id -> cotangent, for the active variables reached."""
    cts: dict[int, object] = {}

    def accumulate(var, ct):
        if isinstance(var, Var) and id(var) in active and ct is not None:
            cts[id(var)] = ct if id(var) not in cts else add(cts[id(var)], ct)

    for v, ct in zip(program.outvars, out_cts):
        if ct is not None:  # a number seeds the output with that value, broadcast
            accumulate(v, ct if hasattr(ct, "aval") else broadcast_to(
                v.aval.dtype.type(ct), v.aval.shape))
    for eqn in reversed(program.equations):
        eqn_cts = [cts.pop(id(v), None) for v in eqn.outputs]
        if all(ct is None for ct in eqn_cts):
            continue
        flags = [isinstance(a, Var) and id(a) in active for a in eqn.inputs]
        with source_of(eqn.source):
            in_cts = _backward(eqn, eqn_cts, flags, read, residuals)
            for a, ct in zip(eqn.inputs, in_cts):
                accumulate(a, ct)
    return cts


def _forward(program, primals, env, active, given=None):
    """Re-emit the forward equations (filling ``env``), but for those whose outputs are
    ``given`` (var id -> value); mark the values that depend on the wrt inputs; return the
    residuals that split rules saved for their backward halves."""
    residuals = {}

    def apply(eqn, ins):
        prim = eqn.primitive
        flags = [isinstance(a, Var) and id(a) in active for a in eqn.inputs]
        split = vjp_split_rules.get(prim)
        if given and id(eqn.outputs[0]) in given:
            outs = [given[id(v)] for v in eqn.outputs]
        elif split is not None and any(flags):
            with source_of(eqn.source):
                outs, residuals[id(eqn)] = split[0](ins, flags, **eqn.params)
        else:
            outs = bind_equation(eqn, ins)
        if is_differentiable(prim) and any(flags):
            active.update(id(v) for v in eqn.outputs if is_float(v.aval.dtype))
        return outs

    interpret(program, primals, apply, env)
    return residuals


def _backward(eqn, out_cts, flags, read, residuals):
    prim = eqn.primitive
    split = vjp_split_rules.get(prim)
    if split is not None:
        return split[1](residuals[id(eqn)], out_cts, flags, **eqn.params)
    rule = vjp_rules.get(prim)
    if rule is None:
        raise NotImplementedError(f"no VJP rule for primitive {prim.name}")
    # rules see zero cotangents of other outputs as explicit zeros (rare: multi-output prims)
    out_cts = [ct if ct is not None else zeros(v.aval) for ct, v in zip(out_cts, eqn.outputs)]
    ins = [read(a) for a in eqn.inputs]
    outs = [read(v) for v in eqn.outputs]
    return rule(out_cts, ins, outs, flags, **eqn.params)


def split(adjoint_program: Program, n_primal_inputs: int, n_primal_outputs: int
          ) -> tuple[Program, Program]:
    """Cut an adjoint into forward and backward programs by dependence on the cotangents.

    The adjoint's inputs are primal inputs then cotangents; its outputs primal outputs then
    input cotangents.
      forward:  primal inputs -> (primal outputs..., residuals...)
      backward: (residuals..., cotangents...) -> input cotangents
    """
    primal_in = adjoint_program.invars[:n_primal_inputs]
    ct_in = adjoint_program.invars[n_primal_inputs:]
    depends = {id(v) for v in ct_in}
    fwd_eqns, bwd_eqns = [], []
    for eqn in adjoint_program.equations:
        if any(isinstance(a, Var) and id(a) in depends for a in eqn.inputs):
            bwd_eqns.append(eqn)
            depends.update(id(v) for v in eqn.outputs)
        else:
            fwd_eqns.append(eqn)
    primal_out = adjoint_program.outvars[:n_primal_outputs]
    ct_out = adjoint_program.outvars[n_primal_outputs:]
    # residuals: forward values the backward pass reads (or returns unchanged)
    residuals, seen = [], set()
    for a in [a for eqn in bwd_eqns for a in eqn.inputs] + list(ct_out):
        if isinstance(a, Var) and id(a) not in depends and id(a) not in seen:
            seen.add(id(a))
            residuals.append(a)
    forward = dead_code_elimination(Program((), primal_in, fwd_eqns, [*primal_out, *residuals]))
    backward = Program((), [*residuals, *ct_in], bwd_eqns, ct_out)
    return forward, backward


def split_adjoint(program: Program, active: tuple) -> tuple[Program, Program]:
    """Forward and backward programs of ``program`` (no constvars), differentiated with
    respect to the ``active`` inputs; computed once per program (programs never change)."""
    def build(p):
        adj = adjoint(p, active, [COTANGENT_INPUT] * len(p.outvars))
        return split(adj, len(p.inputs), len(p.outvars))
    return program.cached(("split_adjoint", active), build)
