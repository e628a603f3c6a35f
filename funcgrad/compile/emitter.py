"""Writes a scheduled program (scheduler.py) as Python source through its lowering context
(context.py): loop groups become loop nests computing their members per element, with
their reductions' accumulators around them; blocks call their primitive's rule."""

from __future__ import annotations

import linecache
import math
import os

import numpy as np

from funcgrad.compile.context import LoweringContext, cast_expr, dtype_expr, operand_index
from funcgrad.compile.scheduler import LoopGroup, kind, reduced_axes
from funcgrad.core.errors import LoweringError
from funcgrad.core.ir import Var
from funcgrad.rules.lowering import Reduction, View


def emit_program(ctx: LoweringContext) -> list:
    """Emit every item of ``ctx``'s schedule, in order (its inputs are bound already); the
    expressions of the program's outputs."""
    top = ctx.text.indent == 1  # (not a region's body)
    items = ctx.plan.items
    if ctx.text.threads > 1:  # runs of items going row by row: one parallel loop each
        from funcgrad.compile.row_blocks import with_row_regions
        items = with_row_regions(ctx)
    for item in items:
        start = len(ctx.text.lines)
        if isinstance(item, LoopGroup):
            _emit_group(ctx, item)
        elif hasattr(item, "emit"):  # a row region (compile/row_blocks.py)
            item.emit(ctx)
        else:
            _emit_block(ctx, item.eqn)
        if top:  # the lines of each item: copies of the same are written once (outline.py)
            ctx.text.pieces.append((start, len(ctx.text.lines)))
    ctx.text.source = None
    return [ctx.array(atom) for atom in ctx.program.outvars]


def comment_text(text: str) -> str:
    """``text`` (from the user's files: names, lines) safe as one comment line of generated
    code: a line break or other control character in it is written as an escape, so nothing
    of it can become code."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _comment(ctx, eqns):
    """``# file.py:12: the user's line`` above what computes it."""
    ctx.text.source = None
    seen = []
    for eqn in eqns:
        if eqn.source and eqn.source not in seen:
            seen.append(eqn.source)
            text = linecache.getline(eqn.source.file, eqn.source.line).strip()
            ctx.emit(comment_text(f"# {os.path.basename(eqn.source.file)}:{eqn.source.line}"
                                  + (f": {text}" if text else "")))


def _emit_block(ctx, eqn):
    _comment(ctx, [eqn])
    ctx.text.source = eqn.source
    rule = kind(eqn)
    (rule.fallback if isinstance(rule, View) else rule.lower)(ctx, eqn)
    for v in eqn.outputs:
        if id(v) not in ctx.values:
            raise LoweringError(f"internal: lowering {eqn.primitive.name} left its output "
                                "undefined")


def _is_reducer(eqn) -> bool:
    return isinstance(kind(eqn), Reduction)


# Fused loops call vector_math's exp, log, tanh, sin... (written so that LLVM vectorises the
# loop) in place of the C library's that the lowerings name, their _f32 versions for float32
# results (computed to float32's precision: half the work). sin and cos of arguments below
# 2^20 need only a short range reduction: a group computing them counts larger arguments,
# and if it met any the function raises LargeTrigArgument, and the program runs again
# compiled with the C library's sin and cos (executable.py). That variant is compiled only
# for programs that meet such arguments: a second copy of the loop in every program took a
# third of its compile time (full branch-free reductions took seconds).
VECTOR_MATH = {"exp": ("np.exp(", "fgm.exp("), "expm1": ("np.expm1(", "fgm.expm1("),
               "log": ("np.log(", "fgm.log("), "log1p": ("np.log1p(", "fgm.log1p("),
               "tanh": ("np.tanh(", "fgm.tanh("), "logistic": ("np.exp(", "fgm.exp("),
               "sin": ("np.sin(", "fgm.sin_small("), "cos": ("np.cos(", "fgm.cos_small("),
               "pow": ("fgm.power(", "fgm.pow(")}
_SMALL_TRIG = ("sin", "cos")
SMALL_TRIG_BOUND = 2.0 ** 20
# They add 0.3-1 s of compile time each: loops of fewer elements keep the C library's
VECTOR_MATH_MIN_ELEMENTS = int(os.environ.get("FUNCGRAD_VECTOR_MATH_MIN_ELEMENTS", "4096"))
# pow adds 1.5 s and saves 2-3 ns an element (0.7x the C library's time): only in loops
# long enough to repay it within a few hundred calls
VECTOR_POW_MIN_ELEMENTS = int(os.environ.get("FUNCGRAD_VECTOR_POW_MIN_ELEMENTS", str(2 ** 20)))


# Elsewhere, float64 functions are called as math.sin(x), not np.sin(x): Numba lowers both
# to the same code (its NumPy loops call math's implementations), but types math's with a
# plain template where np.sin goes through its ufunc machinery, about 2 ms more of every cold
# compile per function used.
SCALAR_MATH = {name: (f"np.{name}(", f"math.{name.replace('arc', 'a')}(") for name in (
    "exp", "expm1", "log", "log1p", "log10", "sqrt", "sin", "cos", "tan", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot")}
SCALAR_MATH["logistic"] = ("np.exp(", "math.exp(")


def _emit_group(ctx, group: LoopGroup):
    if math.prod(group.shape) < VECTOR_MATH_MIN_ELEMENTS:
        _emit_group_once(ctx, group, (), None)
        return
    trig = [e for e in group.members if e.primitive.name in _SMALL_TRIG]
    if not trig or ctx.text.exact_trig:
        _emit_group_once(ctx, group, _vector_math(ctx), None)
        return
    count = "large_args_" + ctx.name(trig[0].outputs[0])
    ctx.emit(f"{count} = 0")
    _emit_group_once(ctx, group, VECTOR_MATH, count)
    ctx.emit(f"if {count}:")
    with ctx.indented():
        ctx.emit("raise fgm.LargeTrigArgument()")


def _vector_math(ctx) -> tuple:
    """The primitives a long loop computes with vector_math's functions."""
    return tuple(name for name in VECTOR_MATH
                 if not (ctx.text.exact_trig and name in _SMALL_TRIG))


def _emit_group_once(ctx, group: LoopGroup, vector_math, trig_count):
    _comment(ctx, group.members)
    rank = len(group.shape)
    reducers = [e for e in group.members if _is_reducer(e)]
    dims = [ctx.dim(d) for d in group.shape]
    for eqn in group.members:
        ctx.text.source = eqn.source
        out = eqn.outputs[0]
        if eqn in reducers:
            _reduction_setup(ctx, eqn, rank)
        elif id(out) in ctx.plan.stored and rank:
            if id(out) in ctx.destinations:  # computed into an array given (lower_region)
                ctx.emit(f"{ctx.name(out)} = {ctx.destinations[id(out)]}")
                ctx.written.add(id(out))
            else:
                ctx.emit(f"{ctx.name(out)} = fgm.empty(({''.join(d + ', ' for d in dims)}), "
                         f"{dtype_expr(out.aval.dtype)})")
            ctx.bind(out, ctx.name(out))
    ctx.in_loop = {id(e.outputs[0]) for e in group.members if e not in reducers}
    index = [f"i{k}" for k in range(rank)]
    ranged = "prange" if _parallel(ctx, group, reducers) else "range"
    with ctx.scoped(index, group.shape):
        _emit_loops(ctx, group, dims, index, 0, reducers, vector_math, trig_count, ranged)
    ctx.in_loop = set()
    if not rank:  # 0-d members are plain locals
        for eqn in group.members:
            ctx.values.setdefault(id(eqn.outputs[0]), "_" + ctx.name(eqn.outputs[0]))


# Reductions over the innermost axes keep their accumulator in a local (a register);
# others accumulate into an array.

def _suffix_depth(eqn, rank):
    axes = reduced_axes(eqn)
    return rank - len(axes) if axes == tuple(range(rank - len(axes), rank)) else None


def _acc_dtype(eqn):
    dtype = eqn.outputs[0].aval.dtype
    if dtype == np.float32 and kind(eqn).widen:
        return np.dtype(np.float64)
    return dtype


def _acc(ctx, eqn):
    return "acc_" + ctx.name(eqn.outputs[0])


def _reduction_setup(ctx, eqn, rank):
    out = eqn.outputs[0]
    if _suffix_depth(eqn, rank) is None:
        acc_dtype = _acc_dtype(eqn)
        ctx.emit(f"{_acc(ctx, eqn)} = fgm.full({ctx.shape(out.aval.shape)}, "
                 f"{kind(eqn).init(acc_dtype)}, {dtype_expr(acc_dtype)})")
    elif out.aval.shape != ():
        ctx.emit(f"{ctx.name(out)} = fgm.empty({ctx.shape(out.aval.shape)}, "
                 f"{dtype_expr(out.aval.dtype)})")


# Splittable over the outermost axis by Numba's prange: sums and products (per-thread
# partial results, combined); max, min, all and any over it are not reductions Numba
# recognises, and would race.
_SPLITTABLE = ("{acc} + {x}", "{acc} * {x}")


def _parallel(ctx, group, reducers) -> bool:
    """Whether ``group``'s outermost loop runs on several threads: the program is compiled
    for more than one, the group is large and at the function's top level (not inside a
    lax loop or cond), and each reduction either keeps the outermost axis or is a sum or
    product (compile/threads.py)."""
    work = math.prod(group.shape) * len(group.members)
    if not group.shape or ctx.threads_for(work) == 1:
        return False
    for eqn in reducers:
        depth = _suffix_depth(eqn, len(group.shape))
        if depth == 0 and kind(eqn).update not in _SPLITTABLE:
            return False
        if depth is None and 0 in reduced_axes(eqn):
            return False
    return True


def _emit_loops(ctx, group, dims, index, depth, reducers, vector_math, trig_count,
                ranged="range"):
    rank = len(dims)
    here = [e for e in reducers if _suffix_depth(e, rank) == depth]
    for eqn in here:
        ctx.text.source = eqn.source
        acc_dtype = _acc_dtype(eqn)
        ctx.emit(f"{_acc(ctx, eqn)} = {_initial(acc_dtype, kind(eqn).init(acc_dtype))}")
    if depth == rank:
        _emit_body(ctx, group, index, reducers, vector_math, trig_count, ranged == "prange")
    else:
        ctx.emit(f"for {index[depth]} in {ranged if depth == 0 else 'range'}({dims[depth]}):")
        with ctx.indented():
            _emit_loops(ctx, group, dims, index, depth + 1, reducers, vector_math,
                        trig_count, ranged)
    for eqn in here:
        ctx.text.source = eqn.source
        out = eqn.outputs[0]
        value = _acc(ctx, eqn) if _acc_dtype(eqn) == out.aval.dtype == np.float64 else \
            cast_expr(out.aval.dtype, _acc(ctx, eqn))
        target = ctx.name(out) + (f"[{', '.join(index[:depth])}]" if depth else "")
        ctx.emit(f"{target} = {value}")
        ctx.bind(out, ctx.name(out))
    if depth == 0:
        for eqn in reducers:
            if _suffix_depth(eqn, rank) is None:
                out = eqn.outputs[0]
                cast = "" if _acc_dtype(eqn) == out.aval.dtype else \
                    f".astype({dtype_expr(out.aval.dtype)})"
                ctx.define(out, _acc(ctx, eqn) + cast)


def _initial(dtype, init: str) -> str:
    """An accumulator's first value: a float64 number as a literal (``np.float64(0)`` is a
    call Numba types at every reduction), anything else cast to its dtype."""
    if dtype == np.float64:
        if init in ("np.inf", "-np.inf"):
            return init
        try:
            return repr(float(init))
        except ValueError:
            pass
    return cast_expr(dtype, init)


def _vectorisable_sum(eqn) -> bool:
    """A float sum into a local accumulator: in long loops, an addition LLVM may reorder
    (sums.add_reassociable), so that it vectorises the loop with partial sums (an
    accumulator array's updates vectorise as they are; a prange loop's sums are Numba's)."""
    return kind(eqn).update == "{acc} + {x}" and _acc_dtype(eqn).kind == "f"


def _emit_body(ctx, group, index, reducers, vector_math, trig_count, parallel=False):
    ctx.local_reads = _read_more_than_once(ctx, group)  # (the body writes only its own
    try:  # outputs, which it reads as locals)
        _emit_members(ctx, group, index, reducers, vector_math, trig_count, parallel)
    finally:
        ctx.local_reads = set()


def _read_more_than_once(ctx, group) -> set:
    """The arrays that ``group``'s members read in more than one place (directly or through
    views): their elements are read into locals, once per index. Numba types and lowers
    each ``a[i]`` apart, 1-2 ms each; a value read once stays inline."""
    counts: dict = {}
    pending = [a for e in group.members
               for a in e.inputs * (2 if e.primitive.name in _SMALL_TRIG else 1)]
    followed: set = set()  # (a sine's argument is also read by its range check)
    while pending:
        atom = pending.pop()
        while isinstance(atom, Var) and id(atom) in ctx.plan.views:
            atom = ctx.plan.views[id(atom)].inputs[0]
        if not isinstance(atom, Var):
            continue
        virtual = ctx.plan.virtual.get(id(atom))  # (recomputed where read: its inputs)
        if virtual is None:
            counts[id(atom)] = counts.get(id(atom), 0) + 1
        elif id(atom) not in followed:
            followed.add(id(atom))
            pending.extend(virtual.inputs)
    return {key for key, n in counts.items() if n > 1}


def _emit_members(ctx, group, index, reducers, vector_math, trig_count, parallel):
    large: list = []  # the trig arguments' checks; parallel: counted once (Numba's prange
    # reductions allow one update per iteration)
    for eqn in group.members:
        ctx.text.source = eqn.source
        out = eqn.outputs[0]
        if eqn in reducers:
            x = eqn.inputs[0]
            value = ctx.read(x, operand_index(x.aval, group.shape, index))
            acc = _acc(ctx, eqn)
            if _suffix_depth(eqn, len(index)) is None and out.aval.shape:
                axes = reduced_axes(eqn)
                kept = [i for k, i in enumerate(index) if k not in axes]
                acc = f"{acc}[{', '.join(kept)}]"
            elif vector_math and not parallel and _vectorisable_sum(eqn):
                ctx.emit(f"{acc} = fgm.add_reassociable({acc}, {value})")
                continue
            ctx.emit(f"{acc} = {kind(eqn).update.format(acc=acc, x=value)}")
            continue
        expr = ctx.expression(eqn, index, group.shape)
        name = eqn.primitive.name
        long_enough = name != "pow" or math.prod(group.shape) >= VECTOR_POW_MIN_ELEMENTS
        if name in vector_math and out.aval.dtype.kind == "f" and long_enough:
            numba_name, vector_name = VECTOR_MATH[name]
            if out.aval.dtype == np.float32:  # float32 versions: shorter polynomials
                vector_name = vector_name.replace("(", "_f32(")
            expr = expr.replace(numba_name, vector_name)
        elif name in SCALAR_MATH and all(v.aval.dtype == np.float64
                                         for v in (*eqn.inputs, out)):
            expr = expr.replace(*SCALAR_MATH[name], 1)  # (its own call: the first)
        if trig_count and name in _SMALL_TRIG:
            x = eqn.inputs[0]
            arg = ctx.read(x, operand_index(x.aval, group.shape, index))
            check = f"abs({arg}) >= {SMALL_TRIG_BOUND!r}"
            if check not in large:  # (sin and cos of one argument: checked once)
                large.append(check)
                if not parallel:
                    ctx.emit(f"{trig_count} += {check}")
        ctx.emit(f"_{ctx.name(out)} = {expr}")
        if id(out) in ctx.plan.stored and index:
            ctx.emit(f"{ctx.name(out)}[{', '.join(index)}] = _{ctx.name(out)}")
    if large and parallel:
        ctx.emit(f"{trig_count} += {' + '.join('(' + c + ')' for c in large)}")
