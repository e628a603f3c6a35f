"""Where each equation of a program is computed: the scheduler of the code generator.

It only decides; the emitter (emitter.py) writes. Equations are placed by the kind their
primitive declares (funcgrad/rules/lowering.py):

- ``Elementwise`` equations join *loop groups*: one loop nest over one iteration shape
  computes all of a group's members per element, so chains of elementwise ops make no
  temporary arrays. An equation joins the latest group of its shape that can see all of its
  inputs. ``Reduction``s accumulate inside the loop that computes their input.
- ``View``s and ``cheap`` elementwise equations are not placed at all (*virtual*): whoever
  reads them computes them, in its own loop. Reading through them is bounded
  (``MAX_READ_DEPTH`` views or virtual values deep, ``MAX_READ_ROOTS`` values read in the
  end): past that, the value is stored like any other, so a chain of 10^5 cheap operations
  (a Python loop unrolled) neither nests the generator's reads 10^5 deep nor makes each
  read cost the whole chain.
- Everything else (``Standalone``, ``Region``) is a ``Block`` of its own.
- ``Inline`` calls are spliced into their caller first (``inline_calls``), so fusion
  crosses them.

A group member is then *stored* in an array only if something outside its group reads it,
or it is an output.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

from funcgrad.core.errors import LoweringError
from funcgrad.core.ir import Equation, Program, Var
from funcgrad.rules.lowering import (IDENTITY, Elementwise, Inline, Reduction, View, kind_of,
                                     lowerings)

MAX_READ_DEPTH = 24   # views and virtual values read through, one inside another
MAX_READ_ROOTS = 16   # stored values one virtual value reads in the end


def kind(eqn: Equation):
    """The lowering kind ``eqn``'s primitive declares."""
    rule = lowerings.get(eqn.primitive)
    if rule is None:
        raise LoweringError(f"primitive {eqn.primitive.name} has no Numba lowering "
                            f"(used at {eqn.source})")
    return kind_of(rule)


class LoopGroup:
    """A loop nest over ``shape`` computing its members element by element."""

    def __init__(self, position: int, shape: tuple):
        self.position, self.shape = position, shape
        self.members: list = []


class Block:
    """One equation lowered by its own rule (Standalone, Region, a View that cannot be one)."""

    def __init__(self, position: int, eqn: Equation):
        self.position, self.eqn = position, eqn


class _End:
    """Where the program's outputs are read: after everything."""
    position = float("inf")


END = _End()


class Role(enum.Enum):
    MEMBER = "computed element by element in a loop group"
    REDUCER = "accumulated in a loop group"
    BLOCK = "defined by a block"


class Placement(NamedTuple):
    item: Any      # the LoopGroup or Block computing the variable
    role: Role


class Root(NamedTuple):
    """A variable that reading another one reads in the end (through views and virtual
    values); ``same_index``: read at the same index as the variable read."""
    var: Var
    same_index: bool


class Reader(NamedTuple):
    item: Any          # a LoopGroup, Block or END
    same_index: bool   # reads element by element at its own loop's index


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


def reduced_axes(eqn: Equation) -> tuple:
    return tuple(kind(eqn).axes(**eqn.params))


class Schedule:
    """The schedule of one program: ``items`` (LoopGroups and Blocks, in order), ``views``
    and ``virtual`` (var -> the equation recomputed where read), ``placed`` (var ->
    Placement) and ``stored`` (ids of group members that need an array)."""

    def __init__(self, program: Program):
        self.program = program
        self.items: list = []
        self.views: dict[int, Equation] = {}
        self.virtual: dict[int, Equation] = {}
        self.placed: dict[int, Placement] = {}
        self.stored: set[int] = set()
        self._roots_memo: dict[int, tuple] = {}
        self._place_all()
        self._merge_groups()
        self._mark_stored()

    def roots(self, atom) -> tuple:
        """What reading ``atom`` reads in the end, through views and recomputed equations
        (at most MAX_READ_DEPTH deep: see ``_place_all``)."""
        if not isinstance(atom, Var):
            return ()
        memo = self._roots_memo.get(id(atom))
        if memo is not None:
            return memo
        eqn = None if id(atom) in self.placed else self.views.get(id(atom))
        if eqn is not None:
            same = kind(eqn) is IDENTITY
            roots = tuple(Root(r, same and i) for r, i in self.roots(eqn.inputs[0]))
        elif id(atom) in self.virtual:
            eqn = self.virtual[id(atom)]
            roots = tuple(Root(r, i and a.aval.shape == atom.aval.shape)
                          for a in eqn.inputs for r, i in self.roots(a))
        else:
            roots = (Root(atom, True),)
        self._roots_memo[id(atom)] = roots
        return roots

    # -- placing equations -----------------------------------------------------------------

    def _read_depth(self, eqn) -> int:
        """How deep reading ``eqn``'s output would nest if it were a view or virtual."""
        return 1 + max((self._depth.get(id(a), 0) for a in eqn.inputs), default=0)

    def _place_all(self):
        needed = self._arrays_needed()
        self._depth: dict[int, int] = {}  # views and virtual values: how deep reads nest
        for eqn in self.program.equations:
            rule = kind(eqn)
            out = eqn.outputs[0] if eqn.outputs else None  # (None: run for its effect, a block)
            if isinstance(rule, View) and rule.applies(eqn.inputs[0].aval, out.aval,
                                                       **eqn.params):
                self.views[id(out)] = eqn
                depth = self._read_depth(eqn)
                if depth < MAX_READ_DEPTH:
                    self._depth[id(out)] = depth
                else:  # copied by a block (its fallback), then read as an array
                    block = Block(len(self.items), eqn)
                    self.items.append(block)
                    self.placed[id(out)] = Placement(block, Role.BLOCK)
            elif isinstance(rule, Reduction):
                group = self._join_group(eqn, eqn.inputs[0].aval.shape)
                self.placed[id(out)] = Placement(group, Role.REDUCER)
            elif (isinstance(rule, Elementwise) and rule.is_cheap(eqn.params)
                  and id(out) not in needed and self._read_depth(eqn) < MAX_READ_DEPTH
                  and sum(len(self.roots(a)) for a in eqn.inputs) <= MAX_READ_ROOTS):
                self.virtual[id(out)] = eqn
                self._depth[id(out)] = self._read_depth(eqn)
            elif isinstance(rule, Elementwise):
                self.placed[id(out)] = Placement(self._join_group(eqn, out.aval.shape),
                                                 Role.MEMBER)
            else:
                block = Block(len(self.items), eqn)
                self.items.append(block)
                for v in eqn.outputs:
                    self.placed[id(v)] = Placement(block, Role.BLOCK)

    def _arrays_needed(self) -> set:
        """Variables some block or output needs whole, as an array (through views too):
        recomputing those where they are read would compute them twice."""
        needed = {id(v) for v in self.program.outvars if isinstance(v, Var)}
        for eqn in reversed(self.program.equations):
            rule = kind(eqn)
            if isinstance(rule, View):
                if id(eqn.outputs[0]) in needed:
                    needed.add(id(eqn.inputs[0]))
            elif not isinstance(rule, (Reduction, Elementwise)):
                needed.update(id(a) for a in eqn.inputs if isinstance(a, Var))
        return needed

    def _join_group(self, eqn, shape) -> LoopGroup:
        """The group ``eqn`` joins: the latest one holding an input it reads element by
        element, provided everything else it reads is computed before that group; else
        the latest group of its shape after everything it reads; else a new group."""
        candidates, earliest = [], 0
        for atom in eqn.inputs:
            for root, same_index in self.roots(atom):
                where = self.placed.get(id(root))
                if where is None:
                    continue
                item = where.item
                if (where.role is Role.MEMBER and same_index
                        and atom.aval.shape == shape == item.shape):
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
            for item in reversed(self.items):
                if item.position < earliest:
                    break
                if isinstance(item, LoopGroup) and item.shape == shape:
                    group = item
                    break
        if group is None:
            group = LoopGroup(len(self.items), shape)
            self.items.append(group)
        group.members.append(eqn)
        return group

    def _merge_groups(self):
        """Move a group's loop into the first thing that reads its results, when that is a
        group of the same shape reading them element by element: a chain of updates (the
        sum of an RNN's per-step weight gradients) then runs as one loop."""
        readers = self._readers()
        for a in [item for item in self.items if isinstance(item, LoopGroup)]:
            outside = [(reader, id(e.outputs[0])) for e in a.members
                       for reader in readers.get(id(e.outputs[0]), ()) if reader.item is not a]
            if not outside:
                continue
            first = min((reader.item for reader, _ in outside), key=lambda item: item.position)
            if not (isinstance(first, LoopGroup) and first.shape == a.shape):
                continue
            reducers = {id(e.outputs[0]) for e in a.members if isinstance(kind(e), Reduction)}
            if any(reader.item is first and (not reader.same_index or var in reducers)
                   for reader, var in outside):
                continue  # first reads them elsewhere than where it is, or before they are done
            first.members[:0] = a.members
            for eqn in a.members:
                out = id(eqn.outputs[0])
                self.placed[out] = Placement(first, self.placed[out].role)
            self.items.remove(a)
            for k, item in enumerate(self.items):
                item.position = k
            for entries in readers.values():  # what a's members read, first now reads
                entries[:] = [Reader(first, r.same_index) if r.item is a else r for r in entries]

    def _readers(self) -> dict:
        """For each variable, who reads it element by element."""
        readers: dict[int, list] = {}
        for item in self.items:
            for eqn in (item.members if isinstance(item, LoopGroup) else [item.eqn]):
                for atom in eqn.inputs:
                    for root, same_index in self.roots(atom):
                        same = (isinstance(item, LoopGroup) and same_index
                                and atom.aval.shape == item.shape == root.aval.shape)
                        readers.setdefault(id(root), []).append(Reader(item, same))
        for atom in self.program.outvars:
            for root in self.roots(atom):
                readers.setdefault(id(root.var), []).append(Reader(END, False))
        return readers

    # -- which members need arrays ---------------------------------------------------------

    def _mark_stored(self):
        def mark(atom, group=None):
            for root, same_index in self.roots(atom):
                where = self.placed.get(id(root))
                if where is not None and where.role is Role.MEMBER and not (
                        where.item is group and same_index and atom.aval.shape == group.shape):
                    self.stored.add(id(root))

        for item in self.items:
            if isinstance(item, LoopGroup):
                for eqn in item.members:
                    for atom in eqn.inputs:
                        mark(atom, item)
            else:
                for atom in item.eqn.inputs:
                    mark(atom)
        for atom in self.program.outvars:
            mark(atom)
