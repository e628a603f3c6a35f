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
  it splits (``RowBlocks.split``) (a matrix from before the region, a transpose say,
  is read in place if it is C- or Fortran-contiguous, else copied once), or
- a loop group over the region's rows (its outermost axis) that reads what the region
  computes only in the row it computes (``_reads_own_rows``: through views and
  recomputed values), whose reductions keep the rows (sums along a row) or are sums
  over them (a bias gradient, a loss: each block accumulates its partial result);

and nothing in it reads a summed result of the region (only complete after the loop).
An item that can neither join nor start a region, and that nothing joining later reads, is
moved after the region (a loss's scalar between the passes). A region holds at least one
block (a product alone is one too) and enough work for several threads (``threads_for``).
Values the region computes are whole arrays allocated before the loop, each block of rows
writing its own rows, so whatever follows reads them as it would on one thread; partial
results are added after the loop (``_combine``). BLAS runs one thread of its own during
the loop (blas.py). Nothing here runs on one thread: there, the code is as before.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from funcgrad.compile.context import cast_expr, dtype_expr, operand_index
from funcgrad.compile.emitter import (_SMALL_TRIG, VECTOR_MATH_MIN_ELEMENTS, _acc,
                                      _acc_dtype, _comment, _emit_loops, _is_reducer,
                                      _reduction_setup, _suffix_depth, _vector_math)
from funcgrad.compile.scheduler import LoopGroup, kind, reduced_axes
from funcgrad.core.ir import Var
from funcgrad.rules.lowering import Guarded, Standalone, lowerings


class RowRegion:
    """Consecutive schedule items computed a block of ``rows`` at a time."""

    def __init__(self, rows: int):
        self.rows = rows
        self.items: list = []
        self.local: set[int] = set()   # values made whole, each block writing its rows
        self.summed: set[int] = set()  # values summed over the blocks after the loop
        self.whole: dict[int, tuple] = {}  # operands from before: (array, Fortran flag)
        self.work = 0

    def emit(self, ctx):
        emit_row_region(ctx, self)


MAX_MOVED = 64  # items moved after one region, at most (a region goes on past them)


def with_row_regions(ctx) -> list:
    """``ctx``'s schedule items in the order to emit them, with each run that goes row by
    row replaced by its RowRegion (none on one thread, or inside a lax loop or cond). An
    item that cannot join the region being formed, nor start one, and that nothing the
    region reads later depends on, is moved after it (a loss's scalar between the
    forward and backward passes), so the region goes on."""
    if ctx.text.threads <= 1 or ctx.text.indent != 1:
        return list(ctx.plan.items)
    order: list = []
    region: RowRegion | None = None
    after: list = []
    moved: set[int] = set()  # what the items in ``after`` compute
    for item in ctx.plan.items:
        if region is not None:
            if not _reads(ctx, item, moved) and _joins(ctx, region, item):
                continue
            if len(after) < MAX_MOVED and _start(ctx, item) is None:
                after.append(item)
                moved.update(id(v) for v in _outputs(item))
                continue
        _close(ctx, region, after, order)
        region, after, moved = _start(ctx, item), [], set()
        if region is None:
            order.append(item)
    _close(ctx, region, after, order)
    return order


def _close(ctx, region, after, order):
    """Append ``region`` and the items moved after it to ``order``; if it is not worth a
    parallel loop, its items and those in their own order instead."""
    if region is None:
        return
    if (any(not isinstance(item, LoopGroup) for item in region.items)
            and ctx.threads_for(region.work) > 1):  # (loops alone: parallel loops of
        order.append(region)                       # their own, emitter.py)
        order.extend(after)
    else:
        order.extend(sorted(region.items + after, key=lambda item: item.position))


def _outputs(item) -> list:
    return [e.outputs[0] for e in item.members] if isinstance(item, LoopGroup) \
        else list(item.eqn.outputs)


def _reads(ctx, item, made: set) -> bool:
    """Whether ``item`` reads any of the variables ``made`` (ids)."""
    if not made:
        return False
    eqns = item.members if isinstance(item, LoopGroup) else [item.eqn]
    return any(id(root) in made for e in eqns for atom in e.inputs
               for root, _ in ctx.plan.roots(atom))


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


def _reads_region(ctx, region, atom) -> bool:
    return any(id(root) in region.local or id(root) in region.summed
               for root, _ in ctx.plan.roots(atom))


def _joins(ctx, region, item) -> bool:
    """Add ``item`` to ``region`` if it can go row by row with it (module docstring)."""
    if isinstance(item, LoopGroup):
        if not _group_joins(ctx, region, item):
            return False
        for eqn in item.members:
            summed = _is_reducer(eqn) and 0 in reduced_axes(eqn)
            (region.summed if summed else region.local).add(id(eqn.outputs[0]))
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
    index = [_ROW] + [f"{_ROW}{k}" for k in range(1, len(shape))]
    with _probing(ctx):
        for eqn in group.members:
            if id(eqn.outputs[0]) in ctx.destinations:
                return False
            if _is_reducer(eqn) and 0 in reduced_axes(eqn) and not _summable(eqn):
                return False  # (a max over the rows, say: no partial results to combine)
            if not all(_reads_own_rows(ctx, region, atom, operand_index(atom.aval, shape,
                                                                        index))
                       for atom in eqn.inputs):
                return False
    return True


def _summable(eqn) -> bool:
    """A sum over the rows, as partial sums per block of rows added after the loop."""
    return kind(eqn).update == "{acc} + {x}"


_ROW = "row_index"  # the loop's index of rows, for _reads_own_rows


def _reads_own_rows(ctx, region, atom, index) -> bool:
    """Whether reading ``atom`` at ``index`` (expressions of the loop's indices, the rows'
    being _ROW) reads what the region computes only in the row being computed, through
    views and recomputed values as LoweringContext.read does: a block of rows has only its
    own rows (and a summed result is complete only after the loop)."""
    if not isinstance(atom, Var):
        return True
    if id(atom) in region.summed:
        return False
    if id(atom) in region.local:
        return index[0] == _ROW
    plan = ctx.plan
    if id(atom) in ctx.values or id(atom) in plan.placed:
        return True  # (computed before the region)
    eqn = plan.views.get(id(atom))
    if eqn is not None:
        base = eqn.inputs[0]
        mapped = lowerings.get(eqn.primitive).index(ctx, list(index), base.aval, atom.aval,
                                                    **eqn.params)
        if isinstance(mapped, Guarded):
            mapped = mapped.source
        return _reads_own_rows(ctx, region, base, mapped)
    eqn = plan.virtual.get(id(atom))
    return eqn is None or all(
        _reads_own_rows(ctx, region, a, operand_index(a.aval, atom.aval.shape, index))
        for a in eqn.inputs)


@contextmanager
def _probing(ctx):
    """Index expressions worked out to be looked at, not emitted: what they add to the
    runtime tables (sizes, offsets) is taken back."""
    text = ctx.text
    saved = [(items, len(items)) for items in (text.ints, text.int_names, text.floats,
                                               text.float_names, text.header)]
    try:
        yield
    finally:
        for items, length in saved:
            del items[length:]


def emit_row_region(ctx, region: RowRegion):
    """Write ``region`` as one prange loop over blocks of its rows (module docstring)."""
    threads = min(ctx.text.threads, region.rows)
    _comment(ctx, [e for item in region.items
                   for e in (item.members if isinstance(item, LoopGroup) else [item.eqn])])
    chunk, start, stop = ctx.fresh("chunk"), ctx.fresh("start"), ctx.fresh("stop")
    prepared = [_prepare_group(ctx, item, threads) if isinstance(item, LoopGroup)
                else _prepare_block(ctx, region, item, threads, chunk) for item in region.items]
    failed, blas_threads = ctx.fresh("failed"), ctx.fresh("blas_threads")
    ctx.emit(f"{blas_threads} = fgb.blas_threads(1)  # (the loop's threads are enough)")
    ctx.emit(f"{failed} = 0")
    n = ctx.dim(region.rows)
    ctx.emit(f"for {chunk} in prange({threads}):")
    with ctx.indented():
        ctx.emit(f"{start} = {chunk} * {n} // {threads}")
        ctx.emit(f"{stop} = ({chunk} + 1) * {n} // {threads}")
        statuses = []
        for item, ready in zip(region.items, prepared):
            if isinstance(item, LoopGroup):
                _emit_group_rows(ctx, item, ready, start, stop, chunk)
            else:
                ctx.text.source = item.eqn.source
                spec, operands, fortran, out, _ = ready
                status = ctx.fresh("status")
                ctx.emit(f"{status} = "
                         f"{spec.lower(ctx, item.eqn, operands, fortran, out, start, stop)}")
                statuses.append(status)
        ctx.emit(f"{failed} += {' + '.join(f'({s} != 0)' for s in statuses)}")
    ctx.emit(f"fgb.blas_threads({blas_threads})")
    ctx.emit(f"if {failed}:")
    ctx.emit("    raise RuntimeError('BLAS could not be called')")
    for item, ready in zip(region.items, prepared):
        if isinstance(item, LoopGroup):
            _define_group_results(ctx, item, ready, threads)
        elif ready[0].summed:
            ctx.text.source = item.eqn.source
            _combine(ctx, item.eqn.outputs[0], ready[4], threads)


def _prepare_block(ctx, region, block, threads, chunk):
    """Before the loop: the operands from before the region, C-contiguous (a matrix may be
    Fortran-contiguous instead: ``fortran``, its flag, true then), and the result's array:
    whole, or one partial result per block of rows."""
    ctx.text.source = block.eqn.source
    spec = _row_spec(block)
    operands, fortran = [], []
    for atom in block.eqn.inputs:
        if isinstance(atom, Var) and id(atom) in region.local:
            operands.append(ctx.values[id(atom)])
            fortran.append(None)  # (made here: C-ordered)
            continue
        if id(atom) not in region.whole:
            name = ctx.fresh("operand")
            if atom.aval.ndim == 2:  # (a transpose is Fortran-ordered: read as it is)
                flag = ctx.fresh("fortran")
                ctx.emit(f"{name} = fgb.rows_contiguous({ctx.array(atom)})")
                ctx.emit(f"{flag} = not {name}.flags.c_contiguous")
                region.whole[id(atom)] = (name, flag)
            else:
                ctx.emit(f"{name} = fgb.contiguous({ctx.array(atom)})")
                region.whole[id(atom)] = (name, None)
        name, flag = region.whole[id(atom)]
        operands.append(name)
        fortran.append(flag)
    out = block.eqn.outputs[0]
    if spec.summed:
        parts = ctx.fresh("parts")
        ctx.emit(f"{parts} = fgm.empty({ctx.shape((threads, *out.aval.shape))}, "
                 f"{ctx.dtype(out.aval.dtype)})")
        return spec, operands, fortran, f"{parts}[{chunk}]", parts
    result = ctx.new_array(out.aval, ctx.name(out))
    ctx.bind(out, result)
    return spec, operands, fortran, result, None


def _prepare_group(ctx, group, threads):
    """Before the loop: the arrays of the group's stored members and of its reductions
    (as emitter._emit_group_once makes them), those summing over the rows as one partial
    result per block; the vector math it computes with (as on one thread: the same code per
    element)."""
    rank = len(group.shape)
    partial = {}  # id(reduction) -> its partial results
    for eqn in group.members:
        ctx.text.source = eqn.source
        out = eqn.outputs[0]
        if _is_reducer(eqn) and 0 in reduced_axes(eqn):
            acc_dtype = _acc_dtype(eqn)
            parts = partial[id(eqn)] = ctx.fresh("parts")
            ctx.emit(f"{parts} = fgm.full({ctx.shape((threads, *out.aval.shape))}, "
                     f"{kind(eqn).init(acc_dtype)}, {dtype_expr(acc_dtype)})")
        elif _is_reducer(eqn):
            _reduction_setup(ctx, eqn, rank)
        elif id(out) in ctx.plan.stored:  # (the loop writes it by this name)
            ctx.emit(f"{ctx.name(out)} = fgm.empty({ctx.shape(out.aval.shape)}, "
                     f"{ctx.dtype(out.aval.dtype)})")
            ctx.bind(out, ctx.name(out))
    small = math.prod(group.shape) < VECTOR_MATH_MIN_ELEMENTS
    return (() if small else _vector_math(ctx)), partial


def _emit_group_rows(ctx, group, prepared, start, stop, chunk):
    """The group's loops, the outermost over rows ``start:stop`` only; sums over the rows
    accumulate into the block's partial result."""
    vector_math, partial = prepared
    rank = len(group.shape)
    reducers = [e for e in group.members if _is_reducer(e)]
    for eqn in reducers:  # an accumulator array: the block's own
        if id(eqn) in partial and _suffix_depth(eqn, rank) is None:
            ctx.emit(f"{_acc(ctx, eqn)} = {partial[id(eqn)]}[{chunk}]")
    dims = [f"{start}, {stop}"] + [ctx.dim(d) for d in group.shape[1:]]
    index = [f"i{k}" for k in range(rank)]
    ctx.in_loop = {id(e.outputs[0]) for e in group.members if e not in reducers}
    with ctx.scoped(index, group.shape):
        _emit_loops(ctx, group, dims, index, 0, reducers, vector_math, None, "range")
    ctx.in_loop = set()
    for eqn in reducers:  # an accumulator in a local: stored as the block's
        if id(eqn) in partial and _suffix_depth(eqn, rank) == 0:
            ctx.emit(f"{partial[id(eqn)]}[{chunk}] = {_acc(ctx, eqn)}")


def _define_group_results(ctx, group, prepared, threads):
    """After the loop: the sums over the rows, their blocks' partial results added; the
    reductions into arrays, by the names they have outside the loop."""
    _, partial = prepared
    for eqn in group.members:
        if not _is_reducer(eqn):
            continue
        ctx.text.source = eqn.source
        out = eqn.outputs[0]
        if id(eqn) in partial:
            _combine(ctx, out, partial[id(eqn)], threads, _acc_dtype(eqn) != out.aval.dtype)
        elif _suffix_depth(eqn, len(group.shape)) is None:
            dtype = out.aval.dtype
            cast = "" if _acc_dtype(eqn) == dtype else f".astype({dtype_expr(dtype)})"
            ctx.define(out, _acc(ctx, eqn) + cast)


def _combine(ctx, out, parts, threads, cast=False):
    """``out`` = the sum of its ``threads`` partial results ``parts`` (in their order, in
    their dtype, then ``cast`` to ``out``'s). A large result is added up on the
    threads too, by blocks of its elements: an MLP's weight gradient of 784 x 256 took 0.2
    ms to add serially (``parts.sum(axis=0)``), a third of the gradient on two threads."""
    dtype = out.aval.dtype
    as_out = (lambda total: cast_expr(dtype, total)) if cast else (lambda total: total)
    if not out.aval.shape:
        ctx.define(out, as_out(" + ".join(f"{parts}[{k}]" for k in range(threads))))
        return
    size = math.prod(out.aval.shape)
    flat, result = ctx.fresh("flat"), ctx.fresh("flat")
    ctx.emit(f"{flat} = {parts}.reshape({ctx.shape((threads, size))})")
    ctx.emit(f"{ctx.name(out)} = fgm.empty({ctx.shape(out.aval.shape)}, {ctx.dtype(dtype)})")
    ctx.emit(f"{result} = {ctx.name(out)}.reshape({ctx.shape((size,))})")
    ctx.bind(out, ctx.name(out))
    j, block = ctx.fresh("j"), ctx.fresh("block")
    n = ctx.dim(size)
    total = as_out(" + ".join(f"{flat}[{k}, {j}]" for k in range(threads)))
    pieces = ctx.threads_for(size * threads) if size >= threads else 1
    if pieces == 1:
        ctx.emit(f"for {j} in range({n}):")
        ctx.emit(f"    {result}[{j}] = {total}")
        return
    ctx.emit(f"for {block} in prange({pieces}):")
    with ctx.indented():
        ctx.emit(f"for {j} in range({block} * {n} // {pieces}, ({block} + 1) * {n} // "
                 f"{pieces}):")
        ctx.emit(f"    {result}[{j}] = {total}")
