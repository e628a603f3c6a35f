"""Row regions: on several threads, one parallel loop over blocks of rows for a run of
work that goes row by row (compile/threads.py).

A linear model's gradient is a product ``X @ w`` (each output row from a row of ``X``), a
loop over those rows, and a product ``X.T @ g`` summing over them. Split separately, each
would start and join the threads once, with the loop between them serial or a third
parallel loop. Here the schedule's consecutive items that can go row by row form one
region, emitted as::

    for chunk in prange(threads):
        start, stop = the chunk's block of rows
        rows start:stop of X @ w        (a BLAS call into rows of the result)
        the loop's rows start:stop      (the same code per element as on one thread)
        X[start:stop].T @ g[start:stop] (a BLAS call into the chunk's partial result)
    X.T @ g = the partial results added

An item joins the region (``_joins``) when it is

- a block whose lowering can compute a block of rows (``Standalone.rows``: products), of
  the region's row count, reading what the region computes only as whole arrays of rows
  it splits (``RowBlocks.split``), or
- a loop group over the region's rows (its outermost axis) that reads what the region
  computes only at its own index, and whose reductions keep the rows (sums along a row);

and nothing in it reads a summed result of the region (only complete after the region).
A region holds at least one block and one other item, and enough work for several
threads (``threads_for``). Values the region computes are whole arrays allocated before
the loop, each block of rows writing its own rows, so whatever follows reads them as it
would on one thread. Nothing here runs on one thread: there, the code is as before.
"""

from __future__ import annotations

import math

from funcgrad.compile.emitter import (_SMALL_TRIG, VECTOR_MATH_MIN_ELEMENTS, _comment,
                                      _emit_loops, _is_reducer, _reduction_setup,
                                      _suffix_depth, _vector_math)
from funcgrad.compile.scheduler import LoopGroup, kind
from funcgrad.core.ir import Var
from funcgrad.rules.lowering import Standalone


class RowRegion:
    """Consecutive schedule items computed a block of ``rows`` at a time."""

    def __init__(self, rows: int):
        self.rows = rows
        self.items: list = []
        self.local: set[int] = set()   # values made whole, each block writing its rows
        self.summed: set[int] = set()  # values summed over the blocks after the loop
        self.whole: dict[int, str] = {}  # operands read whole: their contiguous arrays
        self.work = 0


def row_regions(ctx) -> dict:
    """id(first item) -> RowRegion for each region of ``ctx``'s schedule (none on one
    thread, or inside a lax loop or cond)."""
    regions: dict = {}
    if ctx.text.threads <= 1 or ctx.text.indent != 1:
        return regions
    current = None
    for item in ctx.plan.items:
        if current is not None and _joins(ctx, current, item):
            continue
        _close(ctx, current, regions)
        current = _start(ctx, item)
    _close(ctx, current, regions)
    return regions


def _row_spec(item):
    """The block's RowBlocks, or None."""
    if isinstance(item, LoopGroup):
        return None
    rule = kind(item.eqn)
    if not isinstance(rule, Standalone) or rule.rows is None:
        return None
    return rule.rows(item.eqn)


def _start(ctx, item):
    if isinstance(item, LoopGroup):
        rows = item.shape[0] if item.shape else None
    else:
        spec = _row_spec(item)
        rows = spec.rows if spec is not None else None
    if not rows:
        return None
    region = RowRegion(rows)
    return region if _joins(ctx, region, item) else None


def _close(ctx, region, regions):
    if region is None or len(region.items) < 2:
        return
    if all(isinstance(item, LoopGroup) for item in region.items):
        return  # (loops alone: each is a parallel loop of its own, emitter.py)
    if ctx.threads_for(region.work) > 1:
        regions[id(region.items[0])] = region


def _reads_region(ctx, region, atom) -> bool:
    return any(id(root) in region.local or id(root) in region.summed
               for root, _ in ctx.plan.roots(atom))


def _joins(ctx, region, item) -> bool:
    """Add ``item`` to ``region`` if it can go row by row with it (module docstring)."""
    if isinstance(item, LoopGroup):
        if not _group_joins(ctx, region, item):
            return False
        region.local.update(id(e.outputs[0]) for e in item.members)
        region.work += math.prod(item.shape) * len(item.members)
    else:
        spec = _row_spec(item)
        if spec is None or spec.rows != region.rows:
            return False
        for atom, split in zip(item.eqn.inputs, spec.split):
            if _reads_region(ctx, region, atom) and not (
                    split and isinstance(atom, Var) and id(atom) in region.local):
                return False
        out = item.eqn.outputs[0]
        (region.summed if spec.summed else region.local).add(id(out))
        region.work += spec.work
    region.items.append(item)
    return True


def _group_joins(ctx, region, group) -> bool:
    shape = group.shape
    if not shape or shape[0] != region.rows:
        return False
    if (any(e.primitive.name in _SMALL_TRIG for e in group.members)
            and not ctx.text.exact_trig and math.prod(shape) >= VECTOR_MATH_MIN_ELEMENTS):
        return False  # (its count of large arguments would be a reduction over the rows)
    for eqn in group.members:
        if id(eqn.outputs[0]) in ctx.destinations:
            return False
        if _is_reducer(eqn) and not _suffix_depth(eqn, len(shape)):
            return False  # reduces over the rows, or accumulates into an array
        for atom in eqn.inputs:
            for root, same_index in ctx.plan.roots(atom):
                if id(root) in region.summed or (id(root) in region.local and not (
                        same_index and atom.aval.shape == shape == root.aval.shape)):
                    return False
    return True


def emit_row_region(ctx, region: RowRegion):
    """Write ``region`` as one prange loop over blocks of its rows (module docstring)."""
    threads = min(ctx.text.threads, region.rows)
    _comment(ctx, [e for item in region.items
                   for e in (item.members if isinstance(item, LoopGroup) else [item.eqn])])
    chunk, start, stop = ctx.fresh("chunk"), ctx.fresh("start"), ctx.fresh("stop")
    prepared = [_prepare_group(ctx, item) if isinstance(item, LoopGroup)
                else _prepare_block(ctx, region, item, threads, chunk) for item in region.items]
    failed = ctx.fresh("failed")
    ctx.emit(f"{failed} = 0")
    n = ctx.dim(region.rows)
    ctx.emit(f"for {chunk} in prange({threads}):")
    with ctx.indented():
        ctx.emit(f"{start} = {chunk} * {n} // {threads}")
        ctx.emit(f"{stop} = ({chunk} + 1) * {n} // {threads}")
        statuses = []
        for item, ready in zip(region.items, prepared):
            if isinstance(item, LoopGroup):
                _emit_group_rows(ctx, item, ready, start, stop)
            else:
                ctx.text.source = item.eqn.source
                spec, operands, out, _ = ready
                status = ctx.fresh("status")
                ctx.emit(f"{status} = {spec.lower(ctx, item.eqn, operands, out, start, stop)}")
                statuses.append(status)
        ctx.emit(f"{failed} += {' + '.join(f'({s} != 0)' for s in statuses)}")
    ctx.emit(f"if {failed}:")
    ctx.emit("    raise RuntimeError('BLAS could not be called')")
    for item, ready in zip(region.items, prepared):
        if not isinstance(item, LoopGroup) and ready[0].summed:
            ctx.text.source = item.eqn.source
            ctx.define(item.eqn.outputs[0], f"{ready[3]}.sum(axis=0)")


def _prepare_block(ctx, region, block, threads, chunk):
    """Before the loop: the operands read whole (C-contiguous), and the result's array:
    whole, or one partial result per block of rows."""
    ctx.text.source = block.eqn.source
    spec = _row_spec(block)
    operands = []
    for atom in block.eqn.inputs:
        if isinstance(atom, Var) and id(atom) in region.local:
            operands.append(ctx.values[id(atom)])
        elif id(atom) in region.whole:
            operands.append(region.whole[id(atom)])
        else:
            name = region.whole[id(atom)] = ctx.fresh("operand")
            ctx.emit(f"{name} = fgb.contiguous({ctx.array(atom)})")
            operands.append(name)
    out = block.eqn.outputs[0]
    if spec.summed:
        parts = ctx.fresh("parts")
        ctx.emit(f"{parts} = fgm.empty({ctx.shape((threads, *out.aval.shape))}, "
                 f"{ctx.dtype(out.aval.dtype)})")
        return spec, operands, f"{parts}[{chunk}]", parts
    result = ctx.new_array(out.aval, ctx.name(out))
    ctx.bind(out, result)
    return spec, operands, result, None


def _prepare_group(ctx, group):
    """Before the loop: the arrays of the group's stored members and of its reductions
    (as emitter._emit_group_once makes them); the vector math it computes with (as on one
    thread: the same code per element)."""
    rank = len(group.shape)
    for eqn in group.members:
        ctx.text.source = eqn.source
        out = eqn.outputs[0]
        if _is_reducer(eqn):
            _reduction_setup(ctx, eqn, rank)
        elif id(out) in ctx.plan.stored:  # (the loop writes it by this name)
            ctx.emit(f"{ctx.name(out)} = fgm.empty({ctx.shape(out.aval.shape)}, "
                     f"{ctx.dtype(out.aval.dtype)})")
            ctx.bind(out, ctx.name(out))
    small = math.prod(group.shape) < VECTOR_MATH_MIN_ELEMENTS
    return () if small else _vector_math(ctx)


def _emit_group_rows(ctx, group, vector_math, start, stop):
    """The group's loops, the outermost over rows ``start:stop`` only."""
    reducers = [e for e in group.members if _is_reducer(e)]
    dims = [f"{start}, {stop}"] + [ctx.dim(d) for d in group.shape[1:]]
    index = [f"i{k}" for k in range(len(group.shape))]
    ctx.in_loop = {id(e.outputs[0]) for e in group.members if e not in reducers}
    with ctx.scoped(index, group.shape):
        _emit_loops(ctx, group, dims, index, 0, reducers, vector_math, None, "range")
    ctx.in_loop = set()
