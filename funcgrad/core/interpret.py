"""The one walk over a Program's equations that every interpreter shares.

Evaluating with NumPy, inlining into a trace, the forward half of the adjoint, emitting a
custom rule's program, and the forward-mode and batching transforms are all the same loop:
read each equation's inputs from an environment, apply the equation somehow, bind its
outputs. They differ only in ``apply_equation``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from funcgrad.core.ir import Equation, Literal, Program, Var
from funcgrad.core.tracing import source_of

ApplyEquation = Callable[[Equation, list], Sequence]


def interpret(program: Program, args: Sequence, apply_equation: ApplyEquation,
              env: dict | None = None) -> list:
    """Run ``program`` on ``args`` (one per input, constvars first), applying each equation
    with ``apply_equation(eqn, input_values) -> output_values`` (always a sequence, one per
    output). ``env``, if given, is filled with every variable's value (by ``id``), for callers
    that read intermediate values afterwards (the backward pass reads the forward's)."""
    dead = None if env is not None else program.cached("dead_after", dead_after)
    env = {} if env is None else env
    env.update(zip(map(id, program.inputs), args))

    def read(atom):
        return atom.value if type(atom) is Literal else env[id(atom)]

    for k, eqn in enumerate(program.equations):
        outs = apply_equation(eqn, [read(a) for a in eqn.inputs])
        env.update(zip(map(id, eqn.outputs), outs))
        if dead is not None:
            for var in dead[k]:
                del env[id(var)]
    return [read(v) for v in program.outvars]


# Arrays from this size up are freed as soon as they die (below it, malloc reuses memory
# anyway, and dropping each value costs more than it saves: mlp_small's eager gradient).
FREE_EARLY_BYTES = 1 << 16


def dead_after(program: Program) -> list[list[Var]]:
    """For each equation, the large arrays (``FREE_EARLY_BYTES`` and up) no later equation
    or output reads: an interpreter that owns its environment drops their values there, so
    that they are freed as they die (NumPy then reuses their memory instead of faulting in
    new pages, and a long program's peak memory is its live values', not all of them)."""
    end = len(program.equations)
    last: dict[int, tuple[int, Var]] = {}  # id -> (index of the last reader, variable)
    for k, eqn in enumerate(program.equations):
        for atom in [*eqn.inputs, *eqn.outputs]:
            if isinstance(atom, Var):
                last[id(atom)] = (k, atom)
    for atom in program.outvars:
        if isinstance(atom, Var):
            last[id(atom)] = (end, atom)
    dead: list[list[Var]] = [[] for _ in range(end)]
    for k, var in last.values():
        if k < end and _nbytes(var.aval) >= FREE_EARLY_BYTES:
            dead[k].append(var)
    return dead


def _nbytes(aval) -> int:
    dtype = getattr(aval, "dtype", None)
    return getattr(aval, "size", 0) * dtype.itemsize if dtype is not None else 0


def bind_equation(eqn: Equation, args: Sequence, params: dict | None = None) -> list:
    """Apply ``eqn``'s primitive to ``args`` (recorded into the current trace if there is one),
    attributing what it records to the equation's source line; always a list of outputs."""
    with source_of(eqn.source):
        out = eqn.primitive.bind(*args, **(eqn.params if params is None else params))
    return out if eqn.primitive.multiple_results else [out]
