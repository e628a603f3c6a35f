"""What every control-flow primitive does with the functions it is given (control/cond.py,
control/loops.py, control/checkpoint.py): trace each once, on abstract values, into a closed
Program whose captured values (closures, outer tracers) are explicit leading inputs; check
that outputs have the types the primitive needs; and find which values depend on the
differentiated inputs (a loop's carry may become active after a few iterations).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.ir import Program, Var
from funcgrad.core.tracing import Tracer, trace_flat
from funcgrad.core.types import ShapedArray, aval_of, is_float, promote_types
from funcgrad.numpy import asarray
from funcgrad.rules import is_differentiable
from funcgrad.tree import flatten, unflatten


class Traced:
    """A function traced once: ``program(*consts, *inputs) -> outputs`` (no constvars)."""

    def __init__(self, program: Program, consts: list, out_tree):
        self.program = program
        self.consts = consts
        self.out_tree = out_tree

    @property
    def out_avals(self) -> list[ShapedArray]:
        return self.program.out_avals


def leaf_aval(x, where: str = "") -> ShapedArray:
    return x.aval if isinstance(x, Tracer) else aval_of(x, where)


def strong_leaves(leaves) -> list:
    """Python numbers become arrays: a loop's carry has one fixed dtype (see carry_leaves),
    where a branch's operand or a checkpointed function's argument stays a Python number,
    promoting inside as it would outside."""
    return [x if isinstance(x, Tracer) or isinstance(x, (np.ndarray, np.generic))
            else asarray(x) for x in leaves]


def carry_leaves(leaves, new_carry: Callable, where: str) -> list:
    """A loop's initial carry as values of the one dtype each carries, which JAX decides:
    a Python number (a weak value) takes the dtype it promotes to with the new carry the
    body computes from it, where that differs (0.0 with float32 data added carries
    float32; 0 with 1.5 added, float64); any other value keeps its own. ``new_carry(avals)``
    traces the body once more, on the weak types, and returns its new carry's types (None
    if their structure is not the carry's: the body's own trace then says so)."""
    avals = [leaf_aval(x, where) for x in leaves]
    new = new_carry(avals) if any(a.weak_type for a in avals) else None
    if new is not None:
        leaves = [asarray(x, promote_types(a, n)[0])
                  if a.weak_type and n.shape == a.shape and n.dtype != a.dtype else x
                  for x, a, n in zip(leaves, avals, new)]
    return strong_leaves(leaves)


def describe(tree, avals) -> str:
    return str(unflatten(tree, [str(a) for a in avals])).replace("'", "")


def trace_closed(fun: Callable, in_tree, in_avals: Sequence[ShapedArray], what: str,
                 out_avals: Sequence[ShapedArray] | None = None, out_tree=None) -> Traced:
    """Trace ``fun(*unflatten(in_tree, leaves))`` once. With ``out_avals`` (and ``out_tree``),
    its outputs must have those shapes and dtypes: a weak output (a Python number) is cast to
    the expected dtype, anything else different raises a FuncgradTypeError naming ``what``."""
    found = []

    def flat(*leaves):
        out = fun(*unflatten(in_tree, list(leaves)))
        out_leaves, tree = flatten(out)
        found.append(tree)
        for i, x in enumerate(out_leaves):
            leaf_aval(x, f" (output {i} of {what})")  # an array, or a clear error
        if out_avals is not None:
            out_leaves = coerce(out_leaves, tree, out_avals, out_tree, what)
        return out_leaves

    program, consts = trace_flat(flat, list(in_avals))
    closed = Program((), program.constvars + program.invars, program.equations,
                     program.outvars)
    return Traced(closed, consts, found[0])


def takes_dtype(got: ShapedArray, dtype) -> bool:
    """A value of type ``got`` may stand for one of ``dtype``: the same dtype, or a Python
    number that fits it (as in arithmetic). A float is never truncated to an integer:
    `c + 0.5` in a loop over an int carry would round back every step (JAX refuses it too)."""
    return got.dtype == dtype or (got.weak_type and np.can_cast(got.dtype, dtype, "same_kind"))


def coerce(leaves, tree, avals, expected_tree, what):
    got = [leaf_aval(x) for x in leaves]
    same = tree == expected_tree and all(
        g.shape == a.shape and takes_dtype(g, a.dtype) for g, a in zip(got, avals))
    if not same:
        raise FuncgradTypeError(
            f"{what} must return {describe(expected_tree, avals)}, the same structure, shapes "
            f"and dtypes as its input, but it returns {describe(tree, got)}")
    return [asarray(x, a.dtype) if g.weak_type or g.dtype != a.dtype else x
            for x, g, a in zip(leaves, got, avals)]


def active_outputs(program: Program, active_inputs: Sequence[bool]) -> list[bool]:
    """Which outputs of ``program`` depend (differentiably) on the active inputs."""
    active = {id(v) for v, on in zip(program.inputs, active_inputs) if on}
    for eqn in program.equations:
        if is_differentiable(eqn.primitive) and any(
                isinstance(a, Var) and id(a) in active for a in eqn.inputs):
            active.update(id(v) for v in eqn.outputs if is_float(v.aval.dtype))
    return [isinstance(v, Var) and id(v) in active for v in program.outvars]


def carry_activity(body: Program, consts_on, carry_on, xs_on) -> list[bool]:
    """Which carries of a loop body ``(consts, carry, xs) -> (carry, ...)`` are active: those
    active on entry and those the body makes depend on an active value, in any iteration
    (a fixed point: a carry can become active through another after several steps)."""
    carry_on = [bool(c) and is_float(v.aval.dtype)
                for c, v in zip(carry_on, body.invars[len(consts_on):])]
    while True:
        outs = active_outputs(body, [*consts_on, *carry_on, *xs_on])
        new = [c or o for c, o in zip(carry_on, outs)]
        if new == carry_on:
            return carry_on
        carry_on = new
