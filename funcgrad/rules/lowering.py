"""The Numba backend's rule table, ``lowerings``, and the kinds of lowering a primitive can
declare in it (``lowerings[p] = kind``). A kind tells the code generator (funcgrad/compile/)
everything it needs to schedule the primitive: the generator never names a primitive, and
never guesses from parameter names or from the code a rule writes.

- ``Elementwise(expr, cheap)``: a scalar expression, evaluated once per element inside a
  fused loop. ``expr`` is a format string over the operands' element expressions (``"{0} +
  {1}"``; params are available by name) or a callable ``(operands, index, **params) -> str``
  (``index``: the loop's index names). ``cheap`` (a bool, or ``(**params) -> bool``) says it
  costs less to recompute wherever it is read than to store and load (arithmetic, no
  function calls). ``arith(expr)`` and ``call(expr)`` declare the two. A bare string or
  callable is an elementwise lowering that is not cheap.
- ``Reduction(init, update, axes, widen)``: a **reduction**, fused into the loop that
  computes its input: ``acc = init(dtype)`` before the loop, ``acc = update.format(acc=...,
  x=...)`` per element. ``axes(**params)`` are the axes it reduces; ``widen`` accumulates
  float32 in float64 (sums and products lose less).
- ``View(index, ...)``: a primitive that only **re-indexes** its input (broadcast, transpose,
  slice, reshape). ``index(ctx, out_index, in_aval, out_aval, **params)`` gives the input's
  index expressions for one element of the output, so consumers read through the view and it
  costs nothing; or a ``Guarded(source, condition, fill)`` when some elements are not read
  from the input at all (padding). ``applies(in_aval, out_aval, **params)`` says whether it
  can (else ``fallback`` lowers it as a standalone block; by default it is copied);
  ``as_array(ctx, base, ...)`` is an
  array expression for the view without copying, when a block needs it whole (else it is
  copied).
- ``Standalone(lower, rows)``: a **block** of its own, ``lower(ctx, eqn)``, written with the
  documented API of compile/context.py (``ctx.array(atom)``, ``ctx.dim(n)``,
  ``ctx.emit(line)``, ``ctx.define(var, expr)``, ``ctx.loops(shape)``...). dot_general,
  gather, scatter, concatenate, cumsum. ``rows(eqn)``, optional: a ``RowBlocks`` when the
  block can also be computed a block of rows at a time (matrix products).
- ``Region(lower)``: a block for a primitive that **holds sub-programs** (branches, loops).
  ``lower(ctx, eqn)`` writes the control flow (``if``/``else``, ``for``, ``while``) and, inside
  it, ``outs = ctx.lower_region(program, input_exprs)`` emits a nested Program's body at the
  current indentation: fresh names for each emission, its own fusion, arrays or scalars in
  and out. Loops reassign their carried values with ``ctx.assign(targets, outs)`` (all at
  once, so swapping carries is safe). Nothing is unrolled: the generated source does not
  grow with a trip count (read it with ``ctx.literal(n, np.int64)``). The scheduler treats
  it as a block; see compile/context.py for an example.
- ``Inline(program, operands)``: a call of a sub-program, ``program(params) -> Program``
  applied to ``operands(inputs, params)``, whose equations are spliced into the caller's
  before scheduling, so fusion crosses the call.

This module imports nothing heavy: primitives declare their lowerings at import time, and
Numba is only imported when something is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from funcgrad.core.rules import RuleTable

lowerings = RuleTable("lowering", "How the code generator (compile/) writes each primitive as "
                      "Numba code: one of the kinds below.")


class Elementwise(NamedTuple):
    expr: str | Callable            # "{0} + {1}", or (operands, index, **params) -> str
    cheap: bool | Callable = False  # recompute where read rather than store (or **params)

    def is_cheap(self, params) -> bool:
        return self.cheap(**params) if callable(self.cheap) else bool(self.cheap)


def arith(expr) -> Elementwise:
    """An elementwise expression without function calls: recomputed wherever it is read."""
    return Elementwise(expr, cheap=True)


def call(expr) -> Elementwise:
    """An elementwise expression that calls a function (``np.exp({0})``): computed once."""
    return Elementwise(expr, cheap=False)


class Reduction(NamedTuple):
    init: Callable       # dtype -> Python expression of the initial accumulator
    update: str          # e.g. "{acc} + {x}"
    axes: Callable       # (**params) -> the axes it reduces
    widen: bool = False  # accumulate float32 in float64 (sums and products lose less)


def _always(in_aval, out_aval, **params) -> bool:
    return True


def copy_view(ctx, eqn):
    """A view computed into an array of its own, element by element (or by its
    ``as_array``): where the scheduler stops reading through a long chain of views."""
    ctx.array(eqn.outputs[0])


class View(NamedTuple):
    index: Callable
    applies: Callable = _always
    fallback: Callable = copy_view
    as_array: Callable | None = None


class Guarded(NamedTuple):
    source: list      # the input's index, where ``condition`` holds
    condition: str
    fill: str         # the value elsewhere


class Standalone(NamedTuple):
    lower: Callable   # (ctx, eqn) -> None; defines every output (ctx.define / ctx.bind)
    rows: Callable | None = None  # (eqn) -> RowBlocks or None: it can run by row blocks


class RowBlocks(NamedTuple):
    """How a ``Standalone`` block computes a block of rows (axis 0) of its operands, so that
    on several threads the code generator can run it in one parallel region with the
    loops that make and read those rows (compile/row_blocks.py). ``split``: per operand,
    whether only the block's rows are read (else it is read whole); ``summed``: the result
    sums over the rows (each block writes a partial result, the partials are then added),
    else its rows are the operands' rows. ``lower(ctx, eqn, operands, fortran, out, start,
    stop)`` is an expression computing the block of rows ``start:stop`` whose value is 0
    when it succeeded (a status: nothing may raise inside a parallel loop), ``operands``
    being arrays, whole, C-contiguous except where ``fortran`` (per operand) is an
    expression, true at run time when that one is Fortran-contiguous instead (a 2-D
    operand: blocks of its rows, or a transpose, need no copy either way), and ``out`` the
    array to write (whole, or the block's partial result)."""
    rows: int
    split: tuple
    summed: bool
    lower: Callable
    work: int         # element operations (multiply-adds), for compile/threads.py


class Region(NamedTuple):
    lower: Callable   # (ctx, eqn) -> None; may call ctx.lower_region(program, input_exprs)


def _all_inputs(inputs, params):
    return inputs


class Inline(NamedTuple):
    program: Callable                   # params -> the sub-program
    operands: Callable = _all_inputs    # (inputs, params) -> the sub-program's inputs


def kind_of(lowering):
    """The declared kind: a bare string or callable is an elementwise expression."""
    if isinstance(lowering, str) or (callable(lowering) and not isinstance(lowering, tuple)):
        return Elementwise(lowering)
    return lowering


def _identity_index(ctx, index, in_aval, out_aval, **params):
    return index


IDENTITY = View(_identity_index, as_array=lambda ctx, base, *avals, **params: base)
