"""The lowering context: the API a lowering rule may use to write Numba code.

A ``Standalone`` or ``Region`` rule (funcgrad/rules/lowering.py) is called as
``lower(ctx, eqn)`` and must define every output of ``eqn``. What it may use:

Names and types
    ``ctx.name(var)``: the variable's name, as the printed program names it.
    ``ctx.fresh(prefix)``: a new local name. ``ctx.dtype(dtype)``: ``"np.float64"``...
Sizes and constants (not written into the source but read at run time from the runtime
table, so programs differing only in sizes share one compiled function; see _INLINE_FLOATS)
    ``ctx.dim(n)``, ``ctx.shape(shape)``, ``ctx.offset(n)``, ``ctx.literal(value, dtype)``.
Values
    ``ctx.array(atom)``: an expression for an input as an array (a scalar if 0-d), computing
    it if it was fused away. ``ctx.read(atom, index)``: one element, inside
    ``with ctx.loops(shape) as index, ctx.scoped(index, shape):``.
    ``ctx.new_array(aval, prefix)``: allocate. ``ctx.scratch(var)``: an array for ``var``
    allocated once per call, in a loop's body where that is safe (else None).
    ``ctx.define(var, expr)``: emit ``name = expr`` and bind ``var`` to it.
    ``ctx.bind(var, expr)``: ``var`` is ``expr`` (a local already holding it).
    ``ctx.assign(targets, exprs)``: reassign locals all at once.
Code
    ``ctx.emit(line)``, ``with ctx.indented():``, ``with ctx.loops(shape) as index:``.
    ``ctx.threads_for(work)``: above 1, work that large may be split among that many
    threads with ``prange`` (see compile/threads.py for what must stay identical).
Sub-programs (``Region`` rules)
    ``ctx.lower_region(program, input_exprs) -> output_exprs``: emit a nested Program's
    body here, at the current indentation (inside the ``if``/``for``/``while`` the rule
    wrote; ``pass`` if it needs no code), with fresh names for each emission and its own
    fusion. Inputs and outputs are expressions of arrays, or scalars for 0-d values. An
    output may be one of the input expressions itself (a value passed through), so a loop
    reassigns its carried values with ``ctx.assign``, all at once. Optional
    ``destinations`` (arrays, one per output or None) are where outputs are computed when
    the region can write them there: a loop's stacked rows, a second carry buffer.
    A ``for`` loop::

        carry = [ctx.fresh("carry") for _ in eqn.outputs]
        ctx.assign(carry, [ctx.array(a) for a in eqn.inputs])
        ctx.emit(f"for {ctx.fresh('i')} in range({ctx.literal(n, np.int64)}):")
        with ctx.indented():
            ctx.assign(carry, ctx.lower_region(body, carry))
        for var, name in zip(eqn.outputs, carry):
            ctx.bind(var, name)

    (tests/test_codegen_regions.py also writes ``if``/``else``, ``while`` and a scan whose
    per-step outputs are written at index i of arrays allocated before the loop).

Errors in generated code name the user's line: every emitted line remembers the source of
the equation being lowered.
"""

from __future__ import annotations

import keyword
import math
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from funcgrad.compile.scheduler import Schedule, inline_calls
from funcgrad.compile.threads import PARALLEL_MIN_WORK
from funcgrad.core.errors import LoweringError
from funcgrad.core.ir import Literal, Program, Var, _Namer
from funcgrad.core.types import ShapedArray
from funcgrad.rules.lowering import Guarded, kind_of, lowerings

_RESERVED = set(keyword.kwlist) | {"np", "math", "rt", "table", "bool", "int",
                                   "float", "range", "abs", "min", "max", "program",
                                   "fgm", "fgs", "fgb", "fgt", "fgd"}  # (modules: disk_cache.py)

_SMALL_OFFSET = 16

# The float constants derivative rules write everywhere (1 - t * t, x + x, 0.5 / sqrt(x),
# zeros) are written into the code rather than read from the runtime table: a program whose
# only constants they are takes no table, an array Numba unboxes on every call and types on
# every compile (6-11 ms of a small program's cold compile). Other values are read from the
# table, so that programs differing only in them share one compiled function.
_INLINE_FLOATS = (0.0, 0.5, 1.0, 2.0)


def _inline_float(value) -> bool:
    value = float(value)
    return value in _INLINE_FLOATS and math.copysign(1.0, value) > 0  # (not -0.0)


def dtype_expr(dtype: np.dtype) -> str:
    return "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"


def cast_expr(dtype: np.dtype, expr: str) -> str:
    return f"bool({expr})" if dtype == np.bool_ else f"{dtype_expr(dtype)}({expr})"


def operand_index(aval: ShapedArray, shape, index) -> list:
    """The index of an operand broadcast (as NumPy does) against the loop's ``shape``."""
    lead = len(shape) - len(aval.shape)
    return [index[lead + k] if d == shape[lead + k] else "0" for k, d in enumerate(aval.shape)]


def _literal_dtype(eqn) -> np.dtype:
    """The dtype NumPy gives a weak literal operand of this equation (NEP 50)."""
    from funcgrad.core.types import promote_types  # a weak operand as a Python number:
    return promote_types(*[a.aval for a in eqn.inputs])[0]  # (np.result_type(uint64, int)
    # would be float64, and a uint64 computed in floats loses its low bits)


# Primitives whose Numba expression on float64 operands is a float64 already (comparisons:
# a boolean; select: its branches' type): their results need no np.float64(...) or bool(...)
# around them, and each such call costs Numba's type inference (a third of a small program's
# compile time; issue 15 item 2).
_FLOAT64_CLOSED = frozenset({"neg", "abs", "sign", "add", "sub", "mul", "div", "pow", "max",
                             "min", "exp", "expm1", "log", "log1p", "sqrt", "sin", "cos",
                             "tan", "sinh", "cosh", "tanh", "arctan2", "hypot", "logistic"})
_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})


def _needs_no_cast(eqn) -> bool:
    """Whether ``eqn``'s expression has its result's dtype without a cast: one of
    _FLOAT64_CLOSED or _COMPARISONS on float64 variables and numbers, or a select between
    those by a boolean."""
    name, out = eqn.primitive.name, eqn.outputs[0].aval.dtype
    operands = eqn.inputs
    if name == "select" and out == np.float64 and len(operands) == 3:
        condition = operands[0]
        if not (isinstance(condition, Var) and condition.aval.dtype == np.bool_):
            return False
        operands = operands[1:]
        if all(isinstance(a, Literal) and _read_as_float64(a, eqn) for a in operands):
            return True  # (two constants from the float table)
    elif not ((name in _FLOAT64_CLOSED and out == np.float64)
              or (name == "integer_pow" and eqn.params["n"] != 0 and out == np.float64)
              or (name in _COMPARISONS and out == np.bool_)):
        return False
    float64_var = False
    for a in operands:
        if isinstance(a, Var):
            if a.aval.dtype != np.float64:
                return False
            float64_var = True
        elif not _plain_number(getattr(a, "value", None)):
            return False
    return float64_var


def _read_as_float64(literal: Literal, eqn) -> bool:
    """Whether ``literal``, an operand of ``eqn``, is read as a float64 (LoweringContext.read)."""
    weak = literal.aval.weak_type
    return (_literal_dtype(eqn) if weak else literal.aval.dtype) == np.float64


def _plain_number(value) -> bool:
    """A literal that Numba reads as a float64 or an integer (which float64 arithmetic
    turns into a float64)."""
    if isinstance(value, (bool, int, float)):
        return not isinstance(value, np.floating) or value.dtype == np.float64
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.dtype == np.float64 or value.dtype.kind in "iub"
    return False


class LoopScope(NamedTuple):
    """The loop being emitted: reads inside it keep recomputed values in locals, once per
    index they are read at (``memo``: (var id, index) -> local)."""
    indices: list     # the loop's index names
    shape: tuple
    memo: dict


_NO_LOOP = LoopScope([], (), {})  # outside any loop (0-d reads)


class FunctionText:
    """The one function being written, shared by the contexts of every (sub-)program
    lowered into it: its lines, its header reading the runtime tables, the tables, and
    the names given so far."""

    def __init__(self):
        self.ints: list[int] = []
        self.floats: list[float] = []
        self.int_names: list[str] = []     # the locals the tables are read into, in order
        self.float_names: list[str] = []
        self.header: list[str] = []
        self.lines: list[str] = []
        self.pieces: list[tuple[int, int]] = []  # top-level items' lines [start, stop)
        self.line_sources: dict[int, object] = {}
        self.source = None                 # the Source of the lines being emitted
        self.indent = 1
        self.threads = 1                   # large top-level loops may use prange (threads.py)
        self.exact_trig = False            # sin and cos: the C library's (emitter.py)
        self.namer = _Namer()              # names like the printed program's
        self.emitted: dict[int, list] = {}  # id(program) -> [program, times emitted]
        self._fresh = 0

    def fresh(self, prefix: str) -> str:
        self._fresh += 1
        return f"{prefix}_{self._fresh}"

    def names_for(self, program: Program) -> dict:
        """Names for ``program``'s variables: the printed program's the first time it is
        emitted, fresh ones each time after."""
        entry = self.emitted.setdefault(id(program), [program, 0])
        again = entry[1] > 0
        entry[1] += 1
        names = {}
        variables = list(program.inputs) + [v for e in program.equations for v in e.outputs]
        for v in variables:
            name = self.namer(v)
            name = name + "_" if name in _RESERVED else name
            names[id(v)] = self.fresh(name) if again else name
        return names


class LoweringContext:
    """The lowering of one program (the function's, or a region's) into ``text``."""

    def __init__(self, program: Program, text: FunctionText):
        self.program = program
        self.text = text
        self._names = text.names_for(program)
        self.plan = Schedule(program)
        self.values: dict[int, str] = {}      # var -> local holding it (array; scalar if 0-d)
        self.scope: LoopScope = _NO_LOOP   # the loop being emitted
        self.in_loop: set[int] = set()        # members of the group being emitted
        self.local_reads: set[int] = set()  # arrays whose elements are read into locals,
        # once per index (read more than once in a fused loop's body, which writes no array
        # it reads: emitter.py)
        self.destinations: dict[int, str] = {}  # var -> an array to compute it into
        self.written: set[int] = set()        # the vars computed into their destinations
        self.repeated = False                 # emitted inside a loop (see scratch)

    # -- names and types -------------------------------------------------------------------

    def name(self, var: Var) -> str:
        return self._names[id(var)]

    def dtype(self, dtype) -> str:
        return dtype_expr(np.dtype(dtype))

    def fresh(self, prefix: str = "t") -> str:
        return self.text.fresh(prefix)

    # -- code ------------------------------------------------------------------------------

    def emit(self, line: str):
        self.text.lines.append("    " * self.text.indent + line)
        if self.text.source is not None:
            self.text.line_sources[len(self.text.lines)] = self.text.source

    @contextmanager
    def indented(self):
        self.text.indent += 1
        try:
            yield
        finally:
            self.text.indent -= 1

    @contextmanager
    def loops(self, shape, unit_free: bool = False):
        """A loop nest over ``shape``; yields the index names. ``unit_free``: no loop over an
        axis of length 1, whose index is ``"0"``."""
        index = ["0" if unit_free and d == 1 else self.fresh("j") for d in shape]
        looped = [(i, d) for i, d in zip(index, shape) if i != "0"]
        for i, d in looped:
            self.emit(f"for {i} in range({self.dim(d)}):")
            self.text.indent += 1
        try:
            yield index
        finally:
            self.text.indent -= len(looped)

    def threads_for(self, work: int) -> int:
        """How many threads ``work`` (element operations: see compile/threads.py) may be
        split among here, with ``prange``: the program's thread count for large work at the
        function's top level (not inside a lax loop or cond), else 1."""
        if self.text.indent == 1 and work >= PARALLEL_MIN_WORK:
            return self.text.threads
        return 1

    # -- sizes and constants, from the runtime tables --------------------------------------

    def dim(self, n: int) -> str:
        """A size, read at run time from the runtime table."""
        text = self.text
        text.ints.append(int(n))
        text.int_names.append(f"n{len(text.ints) - 1}")
        return text.int_names[-1]

    def offset(self, n: int) -> str:
        """An index offset. Small ones (x[1:], x[:-1] and padding by a few) are written into
        the code: they do not change with sizes, and a constant offset lets LLVM see that an
        index stays non-negative and vectorise the loop (3x on Rosenbrock). Large ones come
        from sizes (x[::-1] starts at n - 1) and are read at run time like sizes."""
        return str(int(n)) if 0 <= n <= _SMALL_OFFSET else self.dim(n)

    def shape(self, shape) -> str:
        return f"({''.join(self.dim(d) + ', ' for d in shape)})"

    def literal(self, value, dtype) -> str:
        """A constant of ``dtype``, read at run time from a table (booleans, and the float64
        constants of _INLINE_FLOATS, are written into the code)."""
        dtype = np.dtype(dtype)
        if dtype == np.bool_:
            return "True" if value else "False"
        if dtype == np.float64 and _inline_float(value):
            return repr(float(value))
        text = self.text
        floating = dtype.kind == "f"
        table: list = text.floats if floating else text.ints
        names = text.float_names if floating else text.int_names
        table.append(float(value) if floating else _int64_bits(int(value)))
        name = f"{'c' if floating else 'k'}{len(table) - 1}"
        if dtype in (np.float64, np.int64):  # the tables' own types: no cast
            names.append(name)
        else:
            names.append(f"{name}_read")
            text.header.append(f"{name} = {dtype_expr(dtype)}({name}_read)")
        return name

    # -- values ----------------------------------------------------------------------------

    def bind(self, var: Var, expr: str):
        """``var`` is held by ``expr`` (a local, or an expression cheap to repeat)."""
        self.values[id(var)] = expr

    def define(self, var: Var, expr: str):
        """Bind ``var`` to ``expr`` (an array, or a scalar if 0-d)."""
        self.emit(f"{self.name(var)} = {expr}")
        self.bind(var, self.name(var))

    def assign(self, targets, exprs):
        """``targets = exprs``, all at once (a loop's carried values may swap)."""
        if len(targets) == 1:
            self.emit(f"{targets[0]} = {exprs[0]}")
        elif targets:
            self.emit(f"{', '.join(targets)} = {', '.join(exprs)}")

    def new_array(self, aval: ShapedArray, prefix: str) -> str:
        name = self.fresh(prefix)
        self.emit(f"{name} = fgm.empty({self.shape(aval.shape)}, {dtype_expr(aval.dtype)})")
        return name

    def scratch(self, var: Var) -> str | None:
        """An array for ``var`` allocated once, at the function's entry, instead of at each
        iteration of the loop this region is emitted in; None where that is not safe. Only in
        a region emitted in a loop (``lower_region(..., repeated=True)``), and only for a value
        that is not an output of the region and that only primitives whose results are new
        memory read (``allocates``: no view of it survives): so nothing outliving the
        iteration shares the memory the next iteration overwrites."""
        if not self.repeated or not var.aval.shape or \
                any(out is var for out in self.program.outvars):
            return None
        for eqn in self.program.equations:
            if not eqn.primitive.allocates and any(a is var for a in eqn.inputs):
                return None
        name = self.fresh(self.name(var))
        shape = self.shape(var.aval.shape)  # (its sizes are read in the header first)
        self.text.header.append(f"{name} = fgm.empty({shape}, {dtype_expr(var.aval.dtype)})")
        return name

    def array(self, atom) -> str:
        """An expression for ``atom`` as an array (a scalar if 0-d), for a block to use."""
        if isinstance(atom, Literal):
            return self.literal(atom.value, atom.aval.dtype)
        if id(atom) in self.values:
            return self.values[id(atom)]
        views, virtual = self.plan.views, self.plan.virtual
        if id(atom) not in views and id(atom) not in virtual:
            raise LoweringError(f"internal: {self.name(atom)} is used before it is computed")
        expr = None
        if id(atom) in self.destinations and atom.aval.shape:  # a view or fused value asked
            expr = self.fresh(self.name(atom))                 # for in an array given:
            self.emit(f"{expr} = {self.destinations[id(atom)]}")  # computed into it
            self.written.add(id(atom))
            with self.loops(atom.aval.shape, unit_free=True) as index, \
                    self.scoped(index, atom.aval.shape):
                self.emit(f"{expr}[{', '.join(index)}] = {self.read(atom, index)}")
        elif atom.aval.shape == ():
            with self.scoped([], ()):
                expr = self.read(atom, [])
        elif id(atom) in views:
            eqn = views[id(atom)]
            as_array = lowerings.get(eqn.primitive).as_array
            if as_array is not None:
                base = eqn.inputs[0]
                expr = as_array(self, self.array(base), base.aval, atom.aval, **eqn.params)
        if expr is None:  # compute it element by element
            expr = self.new_array(atom.aval, self.name(atom))
            with self.loops(atom.aval.shape) as index, self.scoped(index, atom.aval.shape):
                self.emit(f"{expr}[{', '.join(index)}] = {self.read(atom, index)}")
        if expr.isidentifier():
            self.bind(atom, expr)
        else:
            self.define(atom, expr)
        return self.values[id(atom)]

    @contextmanager
    def scoped(self, index, shape):
        """Reads inside a loop over ``shape`` with ``index``: recomputed values are kept in
        locals, once per index they are read at."""
        saved = self.scope
        self.scope = LoopScope(list(index), tuple(shape), {})
        try:
            yield
        finally:
            self.scope = saved

    def read(self, atom, index, literal_dtype=None) -> str:
        """An expression for the element of ``atom`` at ``index`` (inside a loop)."""
        if isinstance(atom, Literal):
            dtype = literal_dtype if atom.aval.weak_type and literal_dtype else atom.aval.dtype
            return self.literal(atom.value, dtype)
        if id(atom) in self.in_loop:
            return "_" + self.name(atom)
        if id(atom) in self.values:
            name = self.values[id(atom)]
            if atom.aval.shape == ():
                return name
            element = f"{name}[{', '.join(index)}]"
            if id(atom) not in self.local_reads:
                return element
            memo, key = self.scope.memo, (id(atom), tuple(index))
            if key not in memo:  # (Numba types and lowers each a[i] apart: 1-2 ms each)
                memo[key] = self.fresh("_" + self.name(atom))
                self.emit(f"{memo[key]} = {element}")
            return memo[key]
        eqn = self.plan.views.get(id(atom))
        if eqn is not None:
            base = eqn.inputs[0]
            mapped = lowerings.get(eqn.primitive).index(self, list(index), base.aval, atom.aval,
                                                        **eqn.params)
            if isinstance(mapped, Guarded):
                memo, key = self.scope.memo, (id(atom), tuple(index))
                if key not in memo:
                    memo[key] = self._guarded_read(base, mapped, atom.aval.dtype)
                return memo[key]
            return self.read(base, mapped)
        eqn = self.plan.virtual.get(id(atom))
        if eqn is None:
            raise LoweringError(f"internal: {self.name(atom)} is read before it is computed")
        memo = self.scope.memo
        key = (id(atom), tuple(index))
        if key not in memo:
            temp = f"_{self.name(atom)}" if list(index) == self.scope.indices else \
                self.fresh("_" + self.name(atom))
            self.emit(f"{temp} = {self.expression(eqn, index, atom.aval.shape)}")
            memo[key] = temp
        return memo[key]

    def _guarded_read(self, base, guarded: Guarded, dtype) -> str:
        """Read ``base`` only where the guard holds: outside it the index may be out of range,
        so whatever is computed to read it (recomputed values) stays inside the branch."""
        temp = self.fresh("_pad")
        outer = self.scope
        self.emit(f"{temp} = {guarded.fill}")  # (no else: one basic block fewer)
        self.emit(f"if {guarded.condition}:")
        with self.indented():
            # values made in the branch stay there
            self.scope = outer._replace(memo=dict(outer.memo))
            try:
                value = self.read(base, guarded.source)
                # the fill has the dtype: a float64 one makes Numba's unified type of the
                # branches float64 without a cast (which costs its type inference)
                self.emit(f"{temp} = {value if dtype == np.float64 else cast_expr(dtype, value)}")
            finally:
                self.scope = outer
        return temp

    def expression(self, eqn, index, shape) -> str:
        """An elementwise equation's value at ``index`` of a loop over ``shape``."""
        rule = kind_of(lowerings.get(eqn.primitive)).expr
        literal_dtype = _literal_dtype(eqn) if eqn.inputs else None
        operands = [self.read(a, operand_index(a.aval, shape, index), literal_dtype)
                    for a in eqn.inputs]
        out_dtype = eqn.outputs[0].aval.dtype
        if out_dtype.kind == "f":  # NumPy computes in the result's dtype: uint64 + int64 is
            # float64 there, but wraps around in integers (issue 14)
            operands = [cast_expr(out_dtype, o) if isinstance(a, Var) and not a.aval.weak_type
                        and a.aval.dtype.kind in "iu" else o
                        for a, o in zip(eqn.inputs, operands)]
        if isinstance(rule, str):
            params = {k: dtype_expr(v) if isinstance(v, np.dtype) else v
                      for k, v in eqn.params.items()}
            expr = rule.format(*operands, **params)
        else:
            expr = rule(operands, index, **eqn.params)
        if _needs_no_cast(eqn):
            return f"({expr})"
        return cast_expr(eqn.outputs[0].aval.dtype, expr)

    # -- sub-programs ----------------------------------------------------------------------

    def lower_region(self, program: Program, inputs, destinations=None,
                     repeated: bool = False) -> list:
        """Emit ``program``'s body here, its inputs (``program.inputs``: constvars first)
        being the expressions ``inputs``; the expressions of its outputs. Calls inside it
        are inlined, and it is scheduled and fused on its own; its names are fresh each time
        it is emitted. ``destinations`` (one per output, None or an existing array of the
        output's shape and dtype, such as a row of a loop's stacked outputs): an output a
        fused loop computes is written there, instead of into a new array, and its
        expression is then that destination, as given. ``repeated``: the region is emitted
        inside a loop (its intermediates may live in ``scratch`` arrays)."""
        from funcgrad.compile.emitter import emit_program  # it writes with this context
        program = inline_calls(program)
        if len(inputs) != len(program.inputs):
            raise LoweringError(f"internal: a region of {len(program.inputs)} inputs was "
                                f"given {len(inputs)}")
        region = LoweringContext(program, self.text)
        region.repeated = repeated or self.repeated  # (a region inside a loop's body)
        saved_source, lines_before = self.text.source, len(self.text.lines)
        read = {id(a) for e in program.equations for a in e.inputs} | \
            {id(a) for a in program.outvars}
        for var, expr in zip(program.inputs, inputs):
            if not str(expr).isidentifier() and id(var) in read:  # read it once, by name
                region.define(var, str(expr))
            else:
                region.bind(var, str(expr))
        own = {id(v) for v in program.inputs}
        for out, dest in zip(program.outvars, destinations or []):
            if dest is not None and isinstance(out, Var) and id(out) not in own:
                region.destinations.setdefault(id(out), dest)
        outputs = emit_program(region)
        if len(self.text.lines) == lines_before:
            self.emit("pass")  # the block a rule opened for it must not be empty
        self.text.source = saved_source
        claimed = set()
        for k, (out, dest) in enumerate(zip(program.outvars, destinations or [])):
            if id(out) in region.written and region.destinations[id(out)] == dest \
                    and id(out) not in claimed:
                claimed.add(id(out))
                outputs[k] = dest
        return outputs


def _int64_bits(n: int) -> int:
    """``n`` as the int64 table holds it: a uint64 above int64's range as its bits, which
    the cast to uint64 on reading gives back."""
    return n - (1 << 64) if n >= 1 << 63 else n
