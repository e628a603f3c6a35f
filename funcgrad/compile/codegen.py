"""Program -> Python source for one Numba function: the entry point of the code generator.

The generator has three parts, each knowing only the kinds primitives declare
(funcgrad/rules/lowering.py), never a primitive:

- context.py: the lowering context, the documented API lowering rules write code with
  (names, dtypes, sizes and literals from the runtime tables, loops, arrays, sub-programs);
- scheduler.py: where each equation is computed (fused loop groups, reductions inside
  them, views and cheap values recomputed where read, blocks) and what needs an array;
- emitter.py: writes a schedule as source.

Every size (loop bounds, shapes, slice offsets) and every literal is read from the runtime
tables ``ints``/``floats`` instead of being written into the source. Programs that differ only
in sizes and constants, such as a training step on a smaller last batch, therefore generate
the same source, which Numba compiles once.
"""

from __future__ import annotations

from typing import NamedTuple

from funcgrad.compile.context import FunctionText, LoweringContext
from funcgrad.compile.emitter import emit_program
from funcgrad.compile.scheduler import inline_calls
from funcgrad.core.ir import Program, format_program


class Generated(NamedTuple):
    program: Program     # what was lowered: the program with its calls inlined
    source: str          # the function ``program(*inputs, ints, floats)``
    ints: list           # runtime table: sizes and integer constants
    floats: list         # runtime table: float constants
    line_sources: dict   # line number in ``source`` -> the user's Source of that line


def generate(program: Program) -> Generated:
    """The Python source of one function ``program(*inputs, ints, floats)``."""
    program = inline_calls(program)
    text = FunctionText()
    format_program(program, text.namer)  # the names of the printed program, for reading both
    ctx = LoweringContext(program, text)
    for v in program.inputs:
        ctx.bind(v, ctx.name(v))
    outs = emit_program(ctx)
    ctx.emit(f"return ({''.join(o + ', ' for o in outs)})")
    params = [ctx.name(v) for v in program.inputs] + ["ints", "floats"]
    head = [f"def program({', '.join(params)}):"] + ["    " + h for h in text.header]
    sources = {len(head) + k: s for k, s in text.line_sources.items()}
    return Generated(program, "\n".join(head + text.lines) + "\n", text.ints, text.floats,
                     sources)
