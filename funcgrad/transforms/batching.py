"""Batching as a Program -> Program transform: what ``vmap`` builds.

``batch_program(program, in_dims, axis_size)`` returns the Program that computes ``program``
for every example of a batch at once. ``in_dims[i]`` is the axis of input i that runs over the
examples (None: the input is the same for every example). Each equation is re-emitted through
its primitive's batching rule (rules/batching.py, filled by ops/): the rule receives the
batched operands with their batch axes and returns the batched results with theirs, written
with funcgrad's own operations, so the batched program is recorded like any other and prints,
compiles and differentiates. An equation none of whose operands is batched is re-emitted as
it is: it is computed once, not once per example.

A batch axis may sit anywhere; rules move it where they need it (most to the front), and
``batch_program`` returns where each output's ended up (``out_dims``), or puts them where the
caller asks (``out_policy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from funcgrad.core.interpret import bind_equation, interpret
from funcgrad.core.ir import Program, dead_code_elimination
from funcgrad.core.tracing import new_trace, source_of
from funcgrad.ops.elementwise import convert_element_type
from funcgrad.ops.reductions import reduce_sum
from funcgrad.ops.shape import batched_aval, moveaxis, with_batch_axis
from funcgrad.rules import batch_rules

FRONT = 0       # out_policy entry: the output batched, its batch axis first (broadcast if not)
SUM = "sum"     # out_policy entry: the output summed over the batch axis


class Batched(NamedTuple):
    """A value of the batched program and its batch axis (None: the same for every example)."""
    value: object
    dim: int | None


def _batched(x) -> Batched:
    return x if type(x) is Batched else Batched(x, None)  # a literal: unbatched


def _apply(eqn, inputs) -> list:
    """One equation, batched: through its batching rule if any input is batched."""
    ins, in_dims = zip(*map(_batched, inputs)) if inputs else ((), ())
    if all(d is None for d in in_dims):
        return [Batched(x, None) for x in bind_equation(eqn, ins)]
    rule = batch_rules.get(eqn.primitive)
    if rule is None:
        raise NotImplementedError(f"no batching rule for primitive {eqn.primitive.name}")
    with source_of(eqn.source):
        outs, out_dims = rule(list(ins), list(in_dims), **eqn.params)
        outs = [x if d is None else _example_dtype(x, v.aval.dtype)
                for x, d, v in zip(outs, out_dims, eqn.outputs)]
    return [Batched(x, d) for x, d in zip(outs, out_dims)]


def _example_dtype(x, dtype):
    """A batched result in the dtype the example's equation has. They differ where an
    operand is weak in the example (a Python number's type, which a float32 array it meets
    does not promote) but batched in the batch, and so strong (arrays are never weak)."""
    return x if x.dtype == dtype else convert_element_type(x, dtype)


def batch_equations(program: Program, args: list, dims: list, axis_size: int):
    """Re-emit ``program`` on batched ``args`` into the current trace; returns the outputs
    and their batch axes (None: unbatched)."""
    results = [_batched(r) for r in interpret(program, list(map(Batched, args, dims)), _apply)]
    return [r.value for r in results], [r.dim for r in results]


def batch_program(program: Program, in_dims: Sequence[int | None], axis_size: int,
                  out_policy: Sequence | None = None) -> tuple[Program, list]:
    """``program`` batched: its inputs are ``program.inputs`` (constvars first) with a batch
    axis at ``in_dims[i]`` (None: unbatched); it has no constvars.

    ``out_policy[j]``: an axis k (output j batched with its batch axis at k, broadcast if it
    does not depend on the batch; FRONT is 0), SUM (summed over the examples), or None (left
    where its rule put it).
    Returns the batched Program and the batch axis of each output (None: unbatched)."""
    key = ("batch", tuple(in_dims), axis_size, None if out_policy is None else tuple(out_policy))
    return program.cached(key, lambda p: _build(p, list(in_dims), axis_size, out_policy))


def _build(program, in_dims, axis_size, out_policy):
    with new_trace() as trace:
        args = [trace.new_input(batched_aval(v.aval, d, axis_size))
                for v, d in zip(program.inputs, in_dims)]
        outs, dims = batch_equations(program, args, in_dims, axis_size)
        if out_policy is not None:
            outs, dims = zip(*map(_settle, outs, dims, out_policy,
                                  [axis_size] * len(outs))) if outs else ((), ())
        result, consts = trace.to_program(list(outs))
    assert not consts, "a batched program captures no constants: they are its inputs"
    return dead_code_elimination(result), list(dims)


def _settle(x, d, policy, axis_size):
    if policy is None:
        return x, d
    if policy == SUM:  # the same value for every example sums to axis_size times it
        return (x * axis_size, None) if d is None else (reduce_sum(x, (d,)), None)
    return moveaxis(with_batch_axis(x, d, axis_size), 0, policy), policy


__all__ = ["batch_program", "batch_equations", "moveaxis", "FRONT", "SUM"]
