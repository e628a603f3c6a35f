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

Named axes: ``batch_program(..., axis_name="batch")`` batches the axis that name binds
(``vmap(f, axis_name="batch")``); while it runs, rules read the name and size from
``rules.batching.batch_level()``. A collective naming it (``psum[axis_name=batch]``, see
ops/collectives.py) becomes ordinary primitives (a sum over the batch axis); one naming an
outer vmap's axis stays, batched, for that vmap to resolve. An equation using this level's
name is batched even when none of its operands is (``axis_index`` has none), and
sub-programs of batched equations (calls, conds, loops) are batched over the same named axis.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import NamedTuple

from funcgrad.core.interpret import bind_equation, interpret
from funcgrad.core.ir import Equation, Program, dead_code_elimination, sub_programs
from funcgrad.core.tracing import new_trace, source_of
from funcgrad.ops.elementwise import convert_element_type
from funcgrad.ops.reductions import reduce_sum
from funcgrad.ops.shape import batched_aval, moveaxis, with_batch_axis
from funcgrad.rules import batch_rules
from funcgrad.rules.batching import batch_level, batching_level, collectives

FRONT = 0       # out_policy entry: the output batched, its batch axis first (broadcast if not)
SUM = "sum"     # out_policy entry: the output summed over the batch axis
SAME_AXIS = object()  # batch_program's default axis_name: that of the batch being built


class Batched(NamedTuple):
    """A value of the batched program and its batch axis (None: the same for every example)."""
    value: object
    dim: int | None


def _batched(x) -> Batched:
    return x if type(x) is Batched else Batched(x, None)  # a literal: unbatched


def _apply(eqn, inputs) -> list:
    """One equation, batched: through its batching rule if any input is batched, or if it
    uses this level's axis name (a collective, or a sub-program holding one)."""
    ins, in_dims = zip(*map(_batched, inputs)) if inputs else ((), ())
    if all(d is None for d in in_dims) and not _uses_this_axis(eqn):
        return [Batched(x, None) for x in bind_equation(eqn, ins)]
    rule = batch_rules.get(eqn.primitive)
    if rule is None:
        raise NotImplementedError(f"no batching rule for primitive {eqn.primitive.name}")
    with source_of(eqn.source):
        outs, out_dims = rule(list(ins), list(in_dims), **eqn.params)
        outs = [x if d is None else _example_dtype(x, v.aval.dtype)
                for x, d, v in zip(outs, out_dims, eqn.outputs)]
    return [Batched(x, d) for x, d in zip(outs, out_dims)]


def _uses_this_axis(eqn: Equation) -> bool:
    level = batch_level()
    return level is not None and level.name is not None and level.name in _axis_names_of(eqn)


def _axis_names_of(eqn: Equation) -> frozenset:
    if eqn.primitive in collectives:
        return frozenset((eqn.params["axis_name"],))
    return frozenset().union(*(axis_names(sub) for _, sub in sub_programs(eqn.params)))


def axis_names(program: Program) -> frozenset:
    """The axis names the collectives of ``program`` (and of its sub-programs) name."""
    return program.cached("axis_names", lambda p: frozenset().union(
        *map(_axis_names_of, p.equations)))


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
                  out_policy: Sequence | None = None,
                  axis_name: Hashable | None = SAME_AXIS) -> tuple[Program, list]:
    """``program`` batched: its inputs are ``program.inputs`` (constvars first) with a batch
    axis at ``in_dims[i]`` (None: unbatched); it has no constvars.

    ``out_policy[j]``: an axis k (output j batched with its batch axis at k, broadcast if it
    does not depend on the batch; FRONT is 0), SUM (summed over the examples), or None (left
    where its rule put it).
    ``axis_name``: the name the batch axis binds (None: none). By default, that of the batch
    being built when a batching rule batches a sub-program of its equation (the same axis),
    else none.
    Returns the batched Program and the batch axis of each output (None: unbatched)."""
    if axis_name is SAME_AXIS:
        level = batch_level()
        axis_name = level.name if level is not None else None
    key = ("batch", tuple(in_dims), axis_size, None if out_policy is None else tuple(out_policy),
           axis_name)
    return program.cached(key, lambda p: _build(p, list(in_dims), axis_size, out_policy,
                                                axis_name))


def _build(program, in_dims, axis_size, out_policy, axis_name):
    with new_trace() as trace, batching_level(axis_name, axis_size):
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


__all__ = ["batch_program", "batch_equations", "axis_names", "moveaxis", "FRONT", "SUM"]
