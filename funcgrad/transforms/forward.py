"""Forward mode as a Program -> Program transform: a tangent carried along the forward pass.

The lecture's forward pass computes each z from the values before it; forward mode carries,
next to each value, its directional derivative (its *tangent*): dz = (dz/dw) dw summed over
the inputs w of the equation that made z. ``jvp_program(program, has_tangent)`` re-emits each
equation of ``program`` through its primitive's JVP rule (rules/forward.py), which returns
the equation's outputs and their tangents. JVP rules are written with funcgrad's own
operations, so the tangent computation is recorded as ordinary equations: the JVP program
prints, compiles, and can be differentiated again (forward over reverse gives Hessians).

Zero tangents are never materialised (None) unless an output's tangent must exist. Equations
none of whose inputs carry a tangent (inactive ones) are re-emitted as they are, and so are
primitives with a zero derivative (comparisons, floor, argmax). Afterwards each distinct
computation is kept once and dead code is dropped, as ``adjoint`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from funcgrad.core.interpret import bind_equation, interpret
from funcgrad.core.ir import (Program, Var, common_subexpression_elimination,
                              dead_code_elimination)
from funcgrad.core.tracing import new_trace, source_of
from funcgrad.core.types import is_float
from funcgrad.dtypes import float0  # noqa: F401  (the tangent dtype of integers, as JAX's)
from funcgrad.ops.elementwise import convert_element_type
from funcgrad.ops.shape import broadcast_to, shape_of
from funcgrad.rules import ZERO_DERIVATIVE, jvp_rules
from funcgrad.transforms.reverse import zeros



def tangent_outputs(program: Program) -> list[bool]:
    """Which outputs of ``program`` get a tangent output in its JVP program: the float ones
    (integer and boolean values have no tangent; JAX gives them float0 zeros)."""
    return [is_float(v.aval.dtype) for v in program.outvars]


def jvp_program(program: Program, has_tangent: Sequence[bool]) -> Program:
    """The JVP of ``program`` (computed once per program and ``has_tangent``).

    ``has_tangent[i]``: ``program.inputs[i]`` (constvars, then invars) carries a tangent.
    The JVP program's inputs are ``program.inputs`` and then one tangent per input with one
    (non-float inputs never carry one); its outputs are ``program.outvars`` and then one
    tangent per float output (``tangent_outputs``), zeros where nothing reaches it.
    """
    flags = tuple(bool(on) and is_float(v.aval.dtype)
                  for v, on in zip(program.inputs, has_tangent))
    return program.cached(("jvp", flags), lambda p: _build(p, flags))


def _build(program: Program, flags: tuple) -> Program:
    with new_trace() as trace:
        primals = [trace.new_input(v.aval) for v in program.inputs]
        tangents = [trace.new_input(v.aval.strong()) if on else None
                    for v, on in zip(program.inputs, flags)]
        outs, out_tangents = emit_jvp(program, primals, tangents)
        out_tangents = [t if t is not None else zeros(v.aval.strong())
                        for t, v, on in zip(out_tangents, program.outvars,
                                            tangent_outputs(program)) if on]
        result, consts = trace.to_program([*outs, *out_tangents])
    assert not consts, "a JVP program captures no constants: they are inputs of the program"
    return dead_code_elimination(common_subexpression_elimination(result))


def emit_jvp(program: Program, primals: Sequence, tangents: Sequence) -> tuple[list, list]:
    """Record the JVP of ``program`` into the current trace: its outputs and their tangents
    (None: zero), given its inputs and theirs (None: zero)."""
    tangent_of = {id(v): t for v, t in zip(program.inputs, tangents)
                  if t is not None and is_float(v.aval.dtype)}

    def tangent(atom):
        return tangent_of.get(id(atom)) if isinstance(atom, Var) else None

    def apply(eqn, ins):
        in_tangents = [tangent(a) for a in eqn.inputs]
        rule = jvp_rules.get(eqn.primitive)
        if rule is ZERO_DERIVATIVE or all(t is None for t in in_tangents):
            return bind_equation(eqn, ins)  # inactive: no tangent flows out
        if rule is None:
            raise NotImplementedError(f"no JVP rule for primitive {eqn.primitive.name}")
        with source_of(eqn.source):
            outs, out_tangents = rule(ins, in_tangents, **eqn.params)
        for v, t in zip(eqn.outputs, out_tangents):
            if t is not None and is_float(v.aval.dtype):
                tangent_of[id(v)] = _like(t, v.aval)
        return outs

    outs = interpret(program, primals, apply)
    return outs, [tangent(v) for v in program.outvars]


def _like(t, aval):
    """A rule's tangent with exactly its output's shape and dtype (a rule may leave a tangent
    broadcastable, or in a Python scalar's dtype)."""
    if shape_of(t) != aval.shape:
        t = broadcast_to(t, aval.shape)
    if getattr(t, "dtype", None) != aval.dtype:
        t = convert_element_type(t, aval.dtype)
    return t
