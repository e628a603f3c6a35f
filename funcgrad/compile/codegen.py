"""Program -> Python source for one Numba function.

Lowering makes three passes over the program's equations:

1. **Schedule.** Elementwise equations join *loop groups*: one loop nest over one iteration
   shape computes all of a group's members per element, so chains of elementwise ops (and
   the reductions consuming them, which accumulate inside the same loop) make no temporary
   arrays. An equation joins the latest group of its shape that can see all of its inputs.
   Views (broadcast, transpose, slice, pad, reshape) and cheap arithmetic (no function
   calls) are not scheduled at all: whoever reads them computes them, in its own loop.
   Everything else (dot_general, gather...) is a standalone block.
2. **Materialise.** A group member is stored in an array only if something outside its
   group reads it, or it is an output.
3. **Emit.** Groups become loop nests; blocks call their primitive's lowering rule.

Every size (loop bounds, shapes, slice offsets) and every literal is read from the runtime
tables ``ints``/``floats`` instead of being written into the source. Programs that differ only
in sizes and constants, such as a training step on a smaller last batch, therefore generate
the same source, which Numba compiles once.
"""

from __future__ import annotations

import keyword
import linecache
import os
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from funcgrad.rules.lowering import (IDENTITY, Guarded, Inline, Reduction, View, is_elementwise,
                                     lowerings)
from funcgrad.core.errors import LoweringError
from funcgrad.core.ir import Equation, Literal, Program, Var, _Namer, format_program
from funcgrad.core.types import ShapedArray

_RESERVED = set(keyword.kwlist) | {"np", "math", "rt", "ints", "floats", "bool", "int",
                                   "float", "range", "abs", "min", "max", "program"}


_SMALL_OFFSET = 16


class Generated(NamedTuple):
    program: Program     # what was lowered: the program with its calls inlined
    source: str          # the function ``program(*inputs, ints, floats)``
    ints: list           # runtime table: sizes and integer constants
    floats: list         # runtime table: float constants
    line_sources: dict   # line number in ``source`` -> the user's Source of that line


class _Group:
    """A loop nest over ``shape`` computing its members element by element."""

    def __init__(self, position, shape):
        self.position, self.shape, self.members = position, shape, []


class _Block:
    def __init__(self, position, eqn):
        self.position, self.eqn = position, eqn


class _End:
    """Where the program's outputs are read: after everything."""
    position = float("inf")


_END = _End()


def comment_text(text: str) -> str:
    """``text`` (from the user's files: names, lines) safe as one comment line of generated
    code: a line break or other control character in it is written as an escape, so nothing
    of it can become code."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def dtype_expr(dtype: np.dtype) -> str:
    return "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"


def cast_expr(dtype: np.dtype, expr: str) -> str:
    return f"bool({expr})" if dtype == np.bool_ else f"{dtype_expr(dtype)}({expr})"


def _operand_index(aval: ShapedArray, shape, index) -> list:
    """The index of an operand broadcast (as NumPy does) against the loop's ``shape``."""
    lead = len(shape) - len(aval.shape)
    return [index[lead + k] if d == shape[lead + k] else "0" for k, d in enumerate(aval.shape)]


def _literal_dtype(eqn) -> np.dtype:
    """The dtype NumPy gives a weak literal operand of this equation (NEP 50)."""
    from funcgrad.core.types import promote_types  # a weak operand as a Python number:
    return promote_types(*[a.aval for a in eqn.inputs])[0]  # (np.result_type(uint64, int)
    # would be float64, and a uint64 computed in floats loses its low bits)


def inline_calls(program: Program) -> Program:
    """The program with every call of a sub-program (``Inline`` lowering) spliced in."""
    if not any(isinstance(lowerings.get(e.primitive), Inline) for e in program.equations):
        return program
    rename: dict[int, object] = {}

    def sub(atom, table):
        return table.get(id(atom), atom) if isinstance(atom, Var) else atom

    equations = []
    for eqn in program.equations:
        inputs = tuple(sub(a, rename) for a in eqn.inputs)
        if not isinstance(lowerings.get(eqn.primitive), Inline):
            equations.append(Equation(eqn.primitive, inputs, eqn.params, eqn.outputs,
                                      eqn.source))
            continue
        rule = lowerings.get(eqn.primitive)
        inner = inline_calls(rule.program(eqn.params))
        local = {id(v): a for v, a in zip(inner.inputs, rule.operands(inputs, eqn.params))}
        for e in inner.equations:
            outs = tuple(Var(v.aval) for v in e.outputs)  # fresh: a program may be inlined twice
            local.update((id(old), new) for old, new in zip(e.outputs, outs))
            equations.append(Equation(e.primitive, tuple(sub(a, local) for a in e.inputs),
                                      e.params, outs, e.source))
        rename.update((id(o), sub(v, local)) for o, v in zip(eqn.outputs, inner.outvars))
    return Program(program.constvars, program.invars, equations,
                   [sub(v, rename) for v in program.outvars])


class Codegen:
    """One generation. Standalone lowering rules receive it as ``ctx``."""

    def __init__(self, program: Program):
        program = inline_calls(program)
        self.program = program
        namer = _Namer()
        format_program(program, namer)  # the names of the printed program, for reading both
        self._names = {k: (v + "_" if v in _RESERVED else v) for k, v in namer.names.items()}
        self.ints: list[int] = []
        self.floats: list[float] = []
        self.header: list[str] = []
        self.lines: list[str] = []
        self.line_sources: dict[int, object] = {}
        self.source = None                    # the Source of the lines being emitted
        self._indent = 1
        self._fresh = 0
        self.values: dict[int, str] = {}      # var -> local holding it (array; scalar if 0-d)
        self.views: dict[int, object] = {}    # var -> the view equation defining it
        self.virtual: dict[int, object] = {}  # var -> cheap elementwise equation, recomputed
        self._roots_memo: dict[int, tuple] = {}
        self.scope = None                     # the loop being emitted: (index, shape, memo)
        self.defined: dict[int, tuple] = {}   # var -> (schedule item, "member"|"reducer"|"block")
        self.schedule: list = []
        self.stored: set[int] = set()
        self.in_loop: set[int] = set()        # members of the group being emitted

    # -- the ctx API for lowering rules ----------------------------------------------------

    def name(self, var: Var) -> str:
        return self._names[id(var)]

    def dtype(self, dtype) -> str:
        return dtype_expr(np.dtype(dtype))

    def fresh(self, prefix: str = "t") -> str:
        self._fresh += 1
        return f"{prefix}_{self._fresh}"

    def emit(self, line: str):
        self.lines.append("    " * self._indent + line)
        if self.source is not None:
            self.line_sources[len(self.lines)] = self.source

    @contextmanager
    def indented(self):
        self._indent += 1
        try:
            yield
        finally:
            self._indent -= 1

    def dim(self, n: int) -> str:
        """A size, read at run time from the ``ints`` table."""
        self.ints.append(int(n))
        k = len(self.ints) - 1
        self.header.append(f"n{k} = ints[{k}]")
        return f"n{k}"

    def offset(self, n: int) -> str:
        """An index offset. Small ones (x[1:], x[:-1] and padding by a few) are written into
        the code: they do not change with sizes, and a constant offset lets LLVM see that an
        index stays non-negative and vectorise the loop (3x on Rosenbrock). Large ones come
        from sizes (x[::-1] starts at n - 1) and are read at run time like sizes."""
        return str(int(n)) if 0 <= n <= _SMALL_OFFSET else self.dim(n)

    def shape(self, shape) -> str:
        return f"({''.join(self.dim(d) + ', ' for d in shape)})"

    def literal(self, value, dtype) -> str:
        """A constant of ``dtype``, read at run time from a table (booleans are inline)."""
        dtype = np.dtype(dtype)
        if dtype == np.bool_:
            return "True" if value else "False"
        table, convert = (self.floats, float) if dtype.kind == "f" else (self.ints, int)
        table.append(convert(value))
        k = len(table) - 1
        name = f"c{k}" if dtype.kind == "f" else f"k{k}"
        table_name = "floats" if dtype.kind == "f" else "ints"
        self.header.append(f"{name} = {dtype_expr(dtype)}({table_name}[{k}])")
        return name

    def define(self, var: Var, expr: str):
        """Bind ``var`` to ``expr`` (an array, or a scalar if 0-d)."""
        self.emit(f"{self.name(var)} = {expr}")
        self.values[id(var)] = self.name(var)

    @contextmanager
    def loops(self, shape):
        """A loop nest over ``shape``; yields the index names."""
        index = [self.fresh("j") for _ in shape]
        for i, d in zip(index, shape):
            self.emit(f"for {i} in range({self.dim(d)}):")
            self._indent += 1
        try:
            yield index
        finally:
            self._indent -= len(shape)

    def new_array(self, aval: ShapedArray, prefix: str) -> str:
        name = self.fresh(prefix)
        self.emit(f"{name} = np.empty({self.shape(aval.shape)}, {dtype_expr(aval.dtype)})")
        return name

    def array(self, atom) -> str:
        """An expression for ``atom`` as an array (a scalar if 0-d), for a block to use."""
        if isinstance(atom, Literal):
            return self.literal(atom.value, atom.aval.dtype)
        if id(atom) in self.values:
            return self.values[id(atom)]
        if id(atom) not in self.views and id(atom) not in self.virtual:
            raise LoweringError(f"internal: {self.name(atom)} is used before it is computed")
        expr = None
        if atom.aval.shape == ():
            with self.scoped([], ()):
                expr = self.read(atom, [])
        elif id(atom) in self.views:
            eqn = self.views[id(atom)]
            if lowerings.get(eqn.primitive).as_array is not None:
                base = eqn.inputs[0]
                expr = lowerings.get(eqn.primitive).as_array(self, self.array(base), base.aval,
                                                       atom.aval, **eqn.params)
        if expr is None:  # compute it element by element
            expr = self.new_array(atom.aval, self.name(atom))
            with self.loops(atom.aval.shape) as index, self.scoped(index, atom.aval.shape):
                self.emit(f"{expr}[{', '.join(index)}] = {self.read(atom, index)}")
        if expr.isidentifier():
            self.values[id(atom)] = expr
        else:
            self.define(atom, expr)
        return self.values[id(atom)]

    @contextmanager
    def scoped(self, index, shape):
        """Reads inside a loop over ``shape`` with ``index``: recomputed values are kept in
        locals, once per index they are read at."""
        saved = self.scope
        self.scope = (list(index), tuple(shape), {})
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
            return name if atom.aval.shape == () else f"{name}[{', '.join(index)}]"
        eqn = self.views.get(id(atom))
        if eqn is not None:
            base = eqn.inputs[0]
            mapped = lowerings.get(eqn.primitive).index(self, list(index), base.aval, atom.aval,
                                                  **eqn.params)
            if isinstance(mapped, Guarded):
                memo, key = self.scope[2], (id(atom), tuple(index))
                if key not in memo:
                    memo[key] = self._guarded_read(base, mapped, atom.aval.dtype)
                return memo[key]
            return self.read(base, mapped)
        eqn = self.virtual.get(id(atom))
        if eqn is None:
            raise LoweringError(f"internal: {self.name(atom)} is read before it is computed")
        memo = self.scope[2]
        key = (id(atom), tuple(index))
        if key not in memo:
            temp = f"_{self.name(atom)}" if list(index) == self.scope[0] else \
                self.fresh("_" + self.name(atom))
            self.emit(f"{temp} = {self._expression(eqn, index, atom.aval.shape)}")
            memo[key] = temp
        return memo[key]

    def _guarded_read(self, base, guarded: Guarded, dtype) -> str:
        """Read ``base`` only where the guard holds: outside it the index may be out of range,
        so whatever is computed to read it (recomputed values) stays inside the branch."""
        temp = self.fresh("_pad")
        index, shape, memo = self.scope
        self.emit(f"if {guarded.condition}:")
        with self.indented():
            self.scope = (index, shape, dict(memo))  # values made in the branch stay there
            try:
                self.emit(f"{temp} = {cast_expr(dtype, self.read(base, guarded.index))}")
            finally:
                self.scope = (index, shape, memo)
        self.emit("else:")
        self.emit(f"    {temp} = {guarded.fill}")
        return temp

    def _expression(self, eqn, index, shape) -> str:
        """An elementwise equation's value at ``index`` of a loop over ``shape``."""
        rule = lowerings.get(eqn.primitive)
        literal_dtype = _literal_dtype(eqn) if eqn.inputs else None
        operands = [self.read(a, _operand_index(a.aval, shape, index), literal_dtype)
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
        return cast_expr(eqn.outputs[0].aval.dtype, expr)

    # -- pass 1: schedule ------------------------------------------------------------------

    def _roots(self, atom) -> tuple:
        """What reading ``atom`` reads in the end, through views and recomputed equations:
        ((root, read at the same index as atom), ...)."""
        if not isinstance(atom, Var):
            return ()
        memo = self._roots_memo.get(id(atom))
        if memo is not None:
            return memo
        eqn = self.views.get(id(atom))
        if eqn is not None:
            same = lowerings.get(eqn.primitive) is IDENTITY
            roots = tuple((r, same and i) for r, i in self._roots(eqn.inputs[0]))
        elif id(atom) in self.virtual:
            eqn = self.virtual[id(atom)]
            roots = tuple((r, i and a.aval.shape == atom.aval.shape)
                          for a in eqn.inputs for r, i in self._roots(a))
        else:
            roots = ((atom, True),)
        self._roots_memo[id(atom)] = roots
        return roots

    def _place(self, eqn, shape) -> _Group:
        """The group ``eqn`` joins: the latest one holding an input it reads element by
        element, provided everything else it reads is computed before that group; else
        the latest group of its shape after everything it reads; else a new group."""
        candidates, earliest = [], 0
        for atom in eqn.inputs:
            for root, identity in self._roots(atom):
                where = self.defined.get(id(root))
                if where is None:
                    continue
                item, kind = where
                if kind == "member" and identity and atom.aval.shape == shape == item.shape:
                    candidates.append(item)
                else:
                    earliest = max(earliest, item.position + 1)
        group = None
        if candidates:
            latest = max(candidates, key=lambda g: g.position)
            earliest = max([earliest] + [g.position + 1 for g in candidates if g is not latest])
            if latest.position >= earliest:
                group = latest
        else:
            for item in reversed(self.schedule):
                if item.position < earliest:
                    break
                if isinstance(item, _Group) and item.shape == shape:
                    group = item
                    break
        if group is None:
            group = _Group(len(self.schedule), shape)
            self.schedule.append(group)
        group.members.append(eqn)
        return group

    def _merge_groups(self):
        """Move a group's loop into the first thing that reads its results, when that is a
        group of the same shape reading them element by element: a chain of updates (the
        sum of an RNN's per-step weight gradients) then runs as one loop."""
        reads = self._reads()
        for a in [item for item in self.schedule if isinstance(item, _Group)]:
            outside = [(item, same, id(e.outputs[0])) for e in a.members
                       for item, same in reads.get(id(e.outputs[0]), ()) if item is not a]
            if not outside:
                continue
            first = min((item for item, _, _ in outside), key=lambda item: item.position)
            if not (isinstance(first, _Group) and first.shape == a.shape):
                continue
            reducers = {id(e.outputs[0]) for e in a.members
                        if isinstance(lowerings.get(e.primitive), Reduction)}
            if any(item is first and (not same or var in reducers)
                   for item, same, var in outside):
                continue  # first reads them elsewhere than where it is, or before they are done
            first.members[:0] = a.members
            for eqn in a.members:
                self.defined[id(eqn.outputs[0])] = (first, self.defined[id(eqn.outputs[0])][1])
            self.schedule.remove(a)
            for k, item in enumerate(self.schedule):
                item.position = k
            for entries in reads.values():  # what a's members read, first now reads
                entries[:] = [(first if item is a else item, same) for item, same in entries]

    def _reads(self) -> dict:
        """For each variable, who reads it element by element: [(item, at its own index)]."""
        reads: dict[int, list] = {}
        for item in self.schedule:
            for eqn in (item.members if isinstance(item, _Group) else [item.eqn]):
                for atom in eqn.inputs:
                    for root, identity in self._roots(atom):
                        same = (isinstance(item, _Group) and identity
                                and atom.aval.shape == item.shape == root.aval.shape)
                        reads.setdefault(id(root), []).append((item, same))
        for atom in self.program.outvars:
            for root, _ in self._roots(atom):
                reads.setdefault(id(root), []).append((_END, False))
        return reads

    def _arrays_needed(self) -> set:
        """Variables some block or output needs whole, as an array (through views too):
        recomputing those where they are read would compute them twice."""
        needed = {id(v) for v in self.program.outvars if isinstance(v, Var)}
        for eqn in reversed(self.program.equations):
            rule = lowerings.get(eqn.primitive)
            if isinstance(rule, View):
                if id(eqn.outputs[0]) in needed:
                    needed.add(id(eqn.inputs[0]))
            elif not (isinstance(rule, Reduction) or is_elementwise(rule)):
                needed.update(id(a) for a in eqn.inputs if isinstance(a, Var))
        return needed

    def _schedule(self):
        needed = self._arrays_needed()
        for eqn in self.program.equations:
            rule = lowerings.get(eqn.primitive)
            out = eqn.outputs[0]
            if rule is None:
                raise LoweringError(f"primitive {eqn.primitive.name} has no Numba lowering "
                                    f"(used at {eqn.source})")
            if isinstance(rule, View) and rule.applies(eqn.inputs[0].aval, out.aval,
                                                       **eqn.params):
                self.views[id(out)] = eqn
            elif isinstance(rule, Reduction):
                self.defined[id(out)] = (self._place(eqn, eqn.inputs[0].aval.shape), "reducer")
            elif is_elementwise(rule) and _cheap(eqn) and id(out) not in needed:
                self.virtual[id(out)] = eqn
            elif is_elementwise(rule):
                self.defined[id(out)] = (self._place(eqn, out.aval.shape), "member")
            else:
                block = _Block(len(self.schedule), eqn)
                self.schedule.append(block)
                for v in eqn.outputs:
                    self.defined[id(v)] = (block, "block")

    # -- pass 2: members that need arrays --------------------------------------------------

    def _mark_stored(self):
        def mark(atom, group=None):
            for root, identity in self._roots(atom):
                where = self.defined.get(id(root))
                if where is not None and where[1] == "member" and not (
                        where[0] is group and identity and atom.aval.shape == group.shape):
                    self.stored.add(id(root))

        for item in self.schedule:
            if isinstance(item, _Group):
                for eqn in item.members:
                    for atom in eqn.inputs:
                        mark(atom, item)
            else:
                for atom in item.eqn.inputs:
                    mark(atom)
        for atom in self.program.outvars:
            mark(atom)

    # -- pass 3: emit ----------------------------------------------------------------------

    def generate(self) -> Generated:
        for v in self.program.inputs:
            self.values[id(v)] = self.name(v)
        self._schedule()
        self._merge_groups()
        self._mark_stored()
        for item in self.schedule:
            if isinstance(item, _Group):
                self._emit_group(item)
            else:
                self._emit_block(item.eqn)
        self.source = None
        outs = [self.array(atom) for atom in self.program.outvars]
        self.emit(f"return ({''.join(o + ', ' for o in outs)})")
        params = [self.name(v) for v in self.program.inputs] + ["ints", "floats"]
        head = [f"def program({', '.join(params)}):"] + ["    " + h for h in self.header]
        sources = {len(head) + k: s for k, s in self.line_sources.items()}
        return Generated(self.program, "\n".join(head + self.lines) + "\n", self.ints,
                         self.floats, sources)

    def _comment(self, eqns):
        self.source = None
        seen = []
        for eqn in eqns:
            if eqn.source and eqn.source not in seen:
                seen.append(eqn.source)
                text = linecache.getline(eqn.source.file, eqn.source.line).strip()
                self.emit(comment_text(f"# {os.path.basename(eqn.source.file)}:"
                                       f"{eqn.source.line}" + (f": {text}" if text else "")))

    def _emit_block(self, eqn):
        self._comment([eqn])
        self.source = eqn.source
        rule = lowerings.get(eqn.primitive)
        (rule.fallback if isinstance(rule, View) else rule.lower)(self, eqn)
        for v in eqn.outputs:
            if id(v) not in self.values:
                raise LoweringError(f"internal: lowering {eqn.primitive.name} left its output "
                                    "undefined")

    def _emit_group(self, group: _Group):
        self._comment(group.members)
        rank = len(group.shape)
        reducers = [e for e in group.members if isinstance(lowerings.get(e.primitive), Reduction)]
        dims = [self.dim(d) for d in group.shape]
        for eqn in group.members:
            self.source = eqn.source
            out = eqn.outputs[0]
            if eqn in reducers:
                self._reduction_setup(eqn, rank)
            elif id(out) in self.stored and rank:
                self.emit(f"{self.name(out)} = np.empty(({''.join(d + ', ' for d in dims)}), "
                          f"{dtype_expr(out.aval.dtype)})")
                self.values[id(out)] = self.name(out)
        self.in_loop = {id(e.outputs[0]) for e in group.members if e not in reducers}
        index = [f"i{k}" for k in range(rank)]
        with self.scoped(index, group.shape):
            self._emit_loops(group, dims, index, 0, reducers)
        self.in_loop = set()
        if not rank:  # 0-d members are plain locals
            for eqn in group.members:
                self.values.setdefault(id(eqn.outputs[0]), "_" + self.name(eqn.outputs[0]))

    # Reductions over the innermost axes keep their accumulator in a local (a register);
    # others accumulate into an array.

    @staticmethod
    def _suffix_depth(eqn, rank):
        axes = tuple(eqn.params["axes"])
        return rank - len(axes) if axes == tuple(range(rank - len(axes), rank)) else None

    @staticmethod
    def _acc_dtype(eqn):
        dtype = eqn.outputs[0].aval.dtype
        if dtype == np.float32 and lowerings.get(eqn.primitive).widen:
            return np.dtype(np.float64)
        return dtype

    def _acc(self, eqn):
        return "acc_" + self.name(eqn.outputs[0])

    def _reduction_setup(self, eqn, rank):
        out = eqn.outputs[0]
        if self._suffix_depth(eqn, rank) is None:
            acc_dtype = self._acc_dtype(eqn)
            self.emit(f"{self._acc(eqn)} = np.full({self.shape(out.aval.shape)}, "
                      f"{lowerings.get(eqn.primitive).init(acc_dtype)}, {dtype_expr(acc_dtype)})")
        elif out.aval.shape != ():
            self.emit(f"{self.name(out)} = np.empty({self.shape(out.aval.shape)}, "
                      f"{dtype_expr(out.aval.dtype)})")

    def _emit_loops(self, group, dims, index, depth, reducers):
        rank = len(dims)
        here = [e for e in reducers if self._suffix_depth(e, rank) == depth]
        for eqn in here:
            self.source = eqn.source
            acc_dtype = self._acc_dtype(eqn)
            self.emit(f"{self._acc(eqn)} = "
                      f"{cast_expr(acc_dtype, lowerings.get(eqn.primitive).init(acc_dtype))}")
        if depth == rank:
            self._emit_body(group, index, reducers)
        else:
            self.emit(f"for {index[depth]} in range({dims[depth]}):")
            with self.indented():
                self._emit_loops(group, dims, index, depth + 1, reducers)
        for eqn in here:
            self.source = eqn.source
            out = eqn.outputs[0]
            value = cast_expr(out.aval.dtype, self._acc(eqn))
            target = self.name(out) + (f"[{', '.join(index[:depth])}]" if depth else "")
            self.emit(f"{target} = {value}")
            self.values[id(out)] = self.name(out)
        if depth == 0:
            for eqn in reducers:
                if self._suffix_depth(eqn, rank) is None:
                    out = eqn.outputs[0]
                    cast = "" if self._acc_dtype(eqn) == out.aval.dtype else \
                        f".astype({dtype_expr(out.aval.dtype)})"
                    self.define(out, self._acc(eqn) + cast)

    def _emit_body(self, group, index, reducers):
        for eqn in group.members:
            self.source = eqn.source
            rule = lowerings.get(eqn.primitive)
            out = eqn.outputs[0]
            if eqn in reducers:
                x = eqn.inputs[0]
                value = self.read(x, _operand_index(x.aval, group.shape, index))
                acc = self._acc(eqn)
                if self._suffix_depth(eqn, len(index)) is None and out.aval.shape:
                    kept = [i for k, i in enumerate(index) if k not in eqn.params["axes"]]
                    acc = f"{acc}[{', '.join(kept)}]"
                self.emit(f"{acc} = {rule.update.format(acc=acc, x=value)}")
                continue
            self.emit(f"_{self.name(out)} = {self._expression(eqn, index, group.shape)}")
            if id(out) in self.stored and index:
                self.emit(f"{self.name(out)}[{', '.join(index)}] = _{self.name(out)}")


def _cheap(eqn) -> bool:
    """Arithmetic without function calls: cheaper to recompute wherever it is read than to
    store and load."""
    rule = lowerings.get(eqn.primitive)
    text = rule if isinstance(rule, str) else rule(
        ["x"] * len(eqn.inputs), ["i"] * len(eqn.outputs[0].aval.shape), **eqn.params)
    return not any(call in text for call in ("np.", "math.", "**"))


def generate(program: Program) -> Generated:
    """The Python source of one function ``program(*inputs, ints, floats)``."""
    return Codegen(program).generate()
