"""Program -> Python source for one Numba function: the entry point of the code generator.

The generator has three parts, each knowing only the kinds primitives declare
(funcgrad/rules/lowering.py), never a primitive:

- context.py: the lowering context, the documented API lowering rules write code with
  (names, dtypes, sizes and literals from the runtime tables, loops, arrays, sub-programs);
- scheduler.py: where each equation is computed (fused loop groups, reductions inside
  them, views and cheap values recomputed where read, blocks) and what needs an array;
- emitter.py: writes a schedule as source.

Every size (loop bounds, shapes, slice offsets) and every literal (but booleans and a few
float constants, context.py) is read from the runtime table ``table`` instead of being written
into the source. Programs that differ only in sizes and constants, such as a training step
on a smaller last batch, therefore generate the same source, which Numba compiles once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from funcgrad.compile.context import FunctionText, LoweringContext
from funcgrad.compile.emitter import emit_program
from funcgrad.compile.outline import Outlined, outline
from funcgrad.compile.scheduler import inline_calls
from funcgrad.core.ir import Program, Var, format_program, sub_programs


class Generated(NamedTuple):
    program: Program     # what was lowered: the program with its calls inlined
    source: str          # the function ``program(*inputs, *tables)``
    ints: list           # sizes and integer constants,
    floats: list         # then float constants: the runtime table (``table``)
    tables: tuple        # ("table",) if it reads the table, else ()
    line_sources: dict   # line number in ``source`` -> the user's Source of that line


def generate(program: Program, threads: int = 1, exact_trig: bool = False) -> Generated:
    """The Python source of one function ``program(*inputs, *tables)`` (``table``, the
    runtime table of its sizes and constants, if it reads any: each argument is a cost on
    every call and on every compile); for ``threads`` > 1, its large loops are parallel
    (compile/threads.py); with ``exact_trig``, sin and cos are the C library's in every loop
    (else long loops raise LargeTrigArgument for arguments vector_math's do not cover:
    emitter.py)."""
    program = inline_calls(program)
    text = FunctionText()
    text.threads = threads
    text.exact_trig = exact_trig
    format_program(program, text.namer)  # the names of the printed program, for reading both
    ctx = LoweringContext(program, text)
    for v in program.inputs:
        ctx.bind(v, ctx.name(v))
    outs = emit_program(ctx)
    ctx.emit(f"return ({''.join(o + ', ' for o in outs)})")
    tables = ("table",) if text.int_names or text.float_names else ()
    params = [ctx.name(v) for v in program.inputs] + list(tables)
    reads = unpack_lines(text.int_names, "items") + unpack_lines(
        text.float_names, "floats", len(text.int_names))
    head = [f"def program({', '.join(params)}):"] + ["    " + h for h in reads + text.header]
    body, body_sources, functions, function_sources = _outlined(text, params, head)
    sources = {len(head) + k: s for k, s in body_sources.items()}
    sources.update((len(head) + len(body) + k, s) for k, s in function_sources.items())
    return Generated(program, "\n".join(head + body + functions) + "\n", text.ints,
                     text.floats, tables, sources)


def _outlined(text: FunctionText, params: list[str], head: list[str]) -> Outlined:
    """The body with repeated pieces written once (outline.py); as it is on more than one
    thread (a prange loop's function takes Numba's parallel options, which these do not)."""
    if text.threads > 1:
        return Outlined(text.lines, text.line_sources, [], {})
    return outline(params, head[1:], text.lines, text.pieces, text.line_sources)


_TABLE_CHUNK = 32  # items per fgt.items tuple (large tuples are slow for LLVM)


def unpack_lines(names: list[str], reader: str, start: int = 0) -> list[str]:
    """The lines reading the runtime table from ``start`` on into ``names`` (in order) at
    the top of the function, with ``fgt.items`` (integers) or ``fgt.floats``, a tuple of up
    to _TABLE_CHUNK items at a time: Numba types and lowers one such tuple far faster than
    as many array reads (compile/tables.py)."""
    step = _TABLE_CHUNK
    return [f"{', '.join(names[s:s + step])}, = fgt.{reader}(table, {start + s}, "
            f"{start + min(s + step, len(names))})" for s in range(0, len(names), step)]


def weight(program: Program) -> int:
    """The size of ``program`` for splitting: its equations, counting those of the
    sub-programs they hold (a loop's body is written out once)."""
    total, pending = 0, [program]
    while pending:
        current = pending.pop()
        total += len(current.equations)
        pending.extend(sub for eqn in current.equations for _, sub in sub_programs(eqn.params))
    return total


def split(program: Program, parts: int) -> list[Program]:
    """``program`` (no constvars, calls inlined) cut into about ``parts`` consecutive
    programs of similar weight, run one after the other: each takes the values it reads
    that earlier parts (or the inputs) made, and returns the values later parts or the
    outputs read. A program too large for Numba to compile in reasonable time and memory is
    compiled as several functions this way (compile/executable.py)."""
    weights = [1 + sum(weight(sub) for _, sub in sub_programs(e.params))
               for e in program.equations]
    budget = max(1, -(-sum(weights) // max(parts, 1)))
    groups = [program.equations[a:b] for a, b in _cuts(program, weights, budget)]
    read_later: set[int] = {id(v) for v in program.outvars if isinstance(v, Var)}
    pieces = []
    for eqns in reversed(groups):  # what each part must return: what later parts read
        made = {id(v) for e in eqns for v in e.outputs}
        reads = [a for e in eqns for a in e.inputs if isinstance(a, Var)]
        outs = [v for e in eqns for v in e.outputs if id(v) in read_later]
        ins = list({id(a): a for a in reads if id(a) not in made}.values())
        pieces.append(Program((), ins, eqns, outs))
        read_later.update(id(a) for a in ins)
    pieces.reverse()
    return pieces


def _cuts(program: Program, weights: list, budget: int) -> list:
    """(start, stop) of each part: about ``budget`` in weight. Where the program repeats
    itself (a Python loop unrolled), a part's length is a multiple of the repetition's
    period, so consecutive parts are the same code and Numba compiles it once (the
    generated source names variables and reads sizes and constants from tables the same way
    in each)."""
    kinds: dict = {}
    codes = np.array([kinds.setdefault(e.primitive, len(kinds)) for e in program.equations],
                     dtype=np.int64)
    cuts, start, n = [], 0, len(codes)
    while start < n:
        stop, filled = start, 0
        while stop < n and (stop == start or filled + weights[stop] <= budget):
            filled += weights[stop]
            stop += 1
        period = _period(codes[start:start + 2 * (stop - start)]) if stop < n else None
        if period is not None and sum(weights[start:stop]) == stop - start:
            stop = start + max(period, (stop - start) // period * period)
        cuts.append((start, stop))
        start = stop
    return cuts


def _period(codes: np.ndarray) -> int | None:
    """The shortest p such that ``codes`` repeats every p (in all but a few places)."""
    for p in range(1, len(codes) // 2 + 1):
        if np.count_nonzero(codes[:-p] != codes[p:]) <= len(codes) // 50:
            return p
    return None
