"""The Numba backend's rule table, ``lowerings``, and the kinds of lowering a primitive can
declare in it (``lowerings[p] = kind``).

- a ``str`` or a callable ``(operands, index, **params) -> str``: an **elementwise** scalar
  expression. The code generator evaluates it inside a fused loop, once per element; the
  operands are expressions of the inputs' elements, ``index`` the loop's index names.
- ``Reduction(init, update)``: a **reduction**, fused into the loop that computes its input:
  ``acc = init(dtype)`` before the loop, ``acc = update.format(acc=..., x=...)`` per element.
- ``View(index, ...)``: a primitive that only **re-indexes** its input (broadcast, transpose,
  slice, reshape). ``index(ctx, out_index, in_aval, out_aval, **params)`` gives the input's
  index expressions for one element of the output, so consumers read through the view and it
  costs nothing; or a ``Guarded(index, condition, fill)`` when some elements are not read
  from the input at all (padding). ``applies(in_aval, out_aval, **params)`` says whether it can (else
  ``fallback`` lowers it as a standalone block); ``as_array(ctx, base, ...)`` is an array
  expression for the view without copying, when a block needs it whole (else it is copied).
- ``Standalone(lower)``: a **block** of its own, ``lower(ctx, eqn)``, written with the ctx
  API of compile/codegen.py (``ctx.array(atom)``, ``ctx.dim(n)``, ``ctx.emit(line)``,
  ``ctx.define(var, expr)``, ``ctx.loops(shape)``...). dot_general, gather, pad, concatenate.
- ``Inline(program, operands)``: a call of a sub-program, ``program(params) -> Program``
  applied to ``operands(inputs, params)``, whose equations are spliced into the caller's
  before scheduling, so fusion crosses the call.

This module imports nothing heavy: primitives declare their lowerings at import time, and
Numba is only imported when something is compiled.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from funcgrad.core.rules import RuleTable

lowerings = RuleTable("lowering", "How the code generator (compile/) writes each primitive as "
                      "Numba code: one of the kinds below.")


class Reduction(NamedTuple):
    init: Callable   # dtype -> Python expression of the initial accumulator
    update: str      # e.g. "{acc} + {x}"
    widen: bool = False  # accumulate float32 in float64 (sums and products lose less)


def _always(in_aval, out_aval, **params) -> bool:
    return True


class View(NamedTuple):
    index: Callable
    applies: Callable = _always
    fallback: Callable | None = None
    as_array: Callable | None = None


class Guarded(NamedTuple):
    index: list       # the input's index, where ``condition`` holds
    condition: str
    fill: str         # the value elsewhere


class Standalone(NamedTuple):
    lower: Callable


def _all_inputs(inputs, params):
    return inputs


class Inline(NamedTuple):
    program: Callable                   # params -> the sub-program
    operands: Callable = _all_inputs    # (inputs, params) -> the sub-program's inputs


def is_elementwise(lowering) -> bool:
    return isinstance(lowering, str) or (
        callable(lowering) and not isinstance(lowering, (Reduction, View, Standalone, Inline)))


def _identity_index(ctx, index, in_aval, out_aval, **params):
    return index


IDENTITY = View(_identity_index, as_array=lambda ctx, base, *avals, **params: base)
