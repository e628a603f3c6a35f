"""The intermediate representation: a Program is a list of Equations over typed Vars.

A Program is plain, immutable data. Tracing builds one (core/tracing.py), transforms map one
to another (transforms/), and backends run one (core/evaluate.py with NumPy,
compile/ with Numba). It holds no tracers and no references to user code, only the
source location of each equation.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, NamedTuple, Union

import numpy as np

from funcgrad.core.types import ShapedArray, dtype_name


class Var:
    """A variable of a Program: defined once, by an equation or as an input. Named when printed."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval})"

    def __reduce__(self):  # plain arguments: pickling a program of 10^5 equations is fast
        return Var, (self.aval,)


class Literal:
    """A scalar constant written into the program text."""

    __slots__ = ("value", "aval")

    def __init__(self, value, aval: ShapedArray):
        self.value = value  # a NumPy scalar of aval.dtype
        self.aval = aval

    def __repr__(self):
        return format_literal(self.value, self.aval.weak_type)


Atom = Union[Var, Literal]  # noqa: UP007  (a runtime alias: X | Y needs Python 3.10's types)


class Source(NamedTuple):
    """Where in the user's code an equation came from."""

    file: str
    line: int

    def __str__(self):
        return f"{os.path.basename(self.file)}:{self.line}"


class Equation:
    """``outputs = primitive[params](*inputs)``, recorded at ``source``."""

    __slots__ = ("primitive", "inputs", "params", "outputs", "source")

    def __init__(self, primitive, inputs: tuple[Atom, ...], params: dict[str, Any],
                 outputs: tuple[Var, ...], source: Source | None):
        self.primitive = primitive
        self.inputs = inputs
        self.params = params
        self.outputs = outputs
        self.source = source

    def __repr__(self):
        return f"Equation({self.primitive.name}, {len(self.inputs)} inputs)"

    def __reduce__(self):
        return Equation, (self.primitive, self.inputs, self.params, self.outputs, self.source)


class Program:
    """A pure function as data: ``outputs = f(*constvars, *invars)``.

    ``constvars`` are inputs bound to values captured while tracing (closures, globals);
    whoever holds the Program also holds those values (see ClosedProgram). Params of an
    equation may hold Programs (sub-programs of calls and, later, control flow).

    Example:
        >>> w = np.array([1.0, 2.0])
        >>> program = fg.make_ir(lambda x: fnp.sum(w * x))(np.zeros(2)).program
        >>> program
        <Program: 2 inputs, 2 equations, 1 outputs>
        >>> print(program)  # w is a constvar, b
        { lambda a:f64[2] ; consts b:f64[2] .
            c:f64[2] = mul b a                  # ...
            d:f64[] = reduce_sum[axes=(0,)] c   # ...
          in (d) }
    """

    __slots__ = ("constvars", "invars", "equations", "outvars", "_cache")
    constvars: tuple[Var, ...]
    invars: tuple[Var, ...]
    equations: tuple[Equation, ...]
    outvars: tuple[Atom, ...]
    _cache: dict

    def __init__(self, constvars, invars, equations, outvars):
        init = object.__setattr__  # the only writes: a built Program never changes
        init(self, "constvars", tuple(constvars))
        init(self, "invars", tuple(invars))
        init(self, "equations", tuple(equations))
        init(self, "outvars", tuple(outvars))
        init(self, "_cache", {})  # values derived from the program, e.g. its evaluator

    def __setattr__(self, name, value):
        raise AttributeError(f"a Program is immutable: build a new one instead of setting {name}")

    def __reduce__(self):  # pickled without its derived values (compiled forms are rebuilt)
        return Program, (self.constvars, self.invars, self.equations, self.outvars)

    @property
    def inputs(self) -> tuple[Var, ...]:
        return self.constvars + self.invars

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.inputs]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.outvars]

    def cached(self, key, build):
        """A value derived from this program, computed once (programs never change)."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = build(self)
            return value

    def __str__(self):
        return format_program(self)

    def __repr__(self):
        return (f"<Program: {len(self.inputs)} inputs, {len(self.equations)} equations, "
                f"{len(self.outvars)} outputs>")


# ---------------------------------------------------------------------------------------
# Printing


def format_literal(value, weak: bool = False) -> str:
    """A weak literal (a Python number) prints as Python writes it; others with their dtype."""
    v = value.item() if hasattr(value, "item") else value
    text = repr(v)
    return text if weak else f"{text}:{dtype_name(np.asarray(value).dtype)}"


def _names():
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in itertools.count(1):
        for combo in itertools.product(letters, repeat=n):
            yield "".join(combo)


class _Namer:
    def __init__(self):
        self.names: dict[int, str] = {}
        self.fresh = _names()

    def __call__(self, atom) -> str:
        if isinstance(atom, Literal):
            return format_literal(atom.value, atom.aval.weak_type)
        name = self.names.get(id(atom))
        if name is None:
            name = self.names[id(atom)] = next(self.fresh)
        return name

    def typed(self, var: Var) -> str:
        return f"{self(var)}:{var.aval}"


def sub_programs(params: dict[str, Any]):
    """(name, Program) for each Program a params dict holds, alone or in a tuple (the
    branches of a cond): ``branches[1]``."""
    for key, value in params.items():
        if isinstance(value, Program):
            yield key, value
        elif isinstance(value, tuple) and value and all(isinstance(v, Program) for v in value):
            for i, sub in enumerate(value):
                yield f"{key}[{i}]", sub


def _holds_programs(value) -> bool:
    return isinstance(value, Program) or (
        isinstance(value, tuple) and bool(value) and all(isinstance(v, Program) for v in value))


def format_params(params: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in params.items() if not _holds_programs(v)]
    return f"[{' '.join(shown)}]" if shown else ""


def format_program(program: Program, namer: _Namer | None = None, indent: int = 0) -> str:
    namer = namer or _Namer()
    pad = " " * indent
    head = " ".join(namer.typed(v) for v in program.invars)
    if program.constvars:
        head += " ; consts " + " ".join(namer.typed(v) for v in program.constvars)
    lines = [f"{pad}{{ lambda {head} ." if head else f"{pad}{{ lambda ."]
    body = []
    for eqn in program.equations:
        outs = " ".join(namer.typed(v) for v in eqn.outputs)
        ins = " ".join(namer(a) for a in eqn.inputs)
        text = f"{outs} = " if outs else ""  # (none: run for its effect)
        text = f"{text}{eqn.primitive.name}{format_params(eqn.params)} {ins}".rstrip()
        body.append((text, str(eqn.source) if eqn.source else "", eqn))
    width = min(max((len(t) for t, _, _ in body), default=0), 88)
    for text, where, eqn in body:
        line = f"{pad}    {text.ljust(width)}   # {where}" if where else f"{pad}    {text}"
        lines.append(line.rstrip())
        for key, sub in sub_programs(eqn.params):
            lines.append(f"{pad}      {key} =")
            lines.append(format_program(sub, namer, indent + 8))
    outs = " ".join(namer(v) for v in program.outvars)
    lines.append(f"{pad}  in ({outs}) }}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Checks and simple rewrites


def validate(program: Program) -> None:
    """Check that every variable is defined once before it is used, and types agree."""
    defined: set[int] = set()

    def define(v):
        if id(v) in defined:
            raise ValueError(f"{v} is defined twice")
        defined.add(id(v))

    for v in program.inputs:
        define(v)
    for eqn in program.equations:
        for a in eqn.inputs:
            if isinstance(a, Var) and id(a) not in defined:
                raise ValueError(f"{eqn.primitive.name} uses an undefined variable ({eqn.source})")
        out_avals = eqn.primitive.abstract_eval([a.aval for a in eqn.inputs], eqn.params)
        for v, aval in zip(eqn.outputs, out_avals):
            if (v.aval.shape, v.aval.dtype) != (aval.shape, aval.dtype):
                raise ValueError(f"{eqn.primitive.name} at {eqn.source}: output {v.aval} but "
                                 f"its shape rule says {aval}")
        for _, sub in sub_programs(eqn.params):
            validate(sub)
        for v in eqn.outputs:
            define(v)
    for out in program.outvars:
        if isinstance(out, Var) and id(out) not in defined:
            raise ValueError("an output is an undefined variable")


def has_effect(eqn: Equation) -> bool:
    """Whether running ``eqn`` matters beyond its outputs: its primitive has an effect
    (``Primitive.effect``: a debug callback), or a sub-program it holds has one (a loop
    whose body prints). Passes that drop or merge equations keep these."""
    if getattr(eqn.primitive, "effect", False):
        return True
    for value in eqn.params.values():  # (sub_programs, unrolled: CSE asks of every equation)
        if isinstance(value, Program):
            if has_effects(value):
                return True
        elif type(value) is tuple and value and isinstance(value[0], Program):
            if any(has_effects(v) for v in value if isinstance(v, Program)):
                return True
    return False


def has_effects(program: Program) -> bool:
    """Whether an equation of ``program`` has an effect (``has_effect``)."""
    return program.cached("has_effects", lambda p: any(map(has_effect, p.equations)))


def dead_code_elimination(program: Program) -> Program:
    """Drop equations whose outputs nothing uses and that have no effect (``has_effect``:
    every other primitive is pure)."""
    live = {id(v) for v in program.outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(program.equations):
        if any(id(v) in live for v in eqn.outputs) or has_effect(eqn):
            kept.append(eqn)
            live.update(id(a) for a in eqn.inputs if isinstance(a, Var))
    kept.reverse()
    if len(kept) == len(program.equations):
        return program
    return Program(program.constvars, program.invars, kept, program.outvars)


def common_subexpression_elimination(program: Program) -> Program:
    """Compute each distinct (primitive, inputs, params) once (every primitive is pure, but
    those with an effect: two prints of the same value print twice).

    Backward passes repeat work the rules cannot see: the VJP of x * x adds g * x twice, the
    VJP of a value used twice may recompute the same product."""
    rename: dict[int, Var] = {}
    seen: dict = {}
    kept = []

    def atom(a):
        return rename.get(id(a), a) if isinstance(a, Var) else a

    for eqn in program.equations:
        inputs = tuple(atom(a) for a in eqn.inputs)
        key = None if has_effect(eqn) else _cse_key(eqn.primitive, inputs, eqn.params)
        found = seen.get(key) if key is not None else None
        if found is not None:
            for v, w in zip(eqn.outputs, found):
                rename[id(v)] = w
            continue
        if key is not None:
            seen[key] = eqn.outputs
        if inputs != eqn.inputs:
            eqn = Equation(eqn.primitive, inputs, eqn.params, eqn.outputs, eqn.source)
        kept.append(eqn)
    if len(kept) == len(program.equations):
        return program
    return Program(program.constvars, program.invars, kept, [atom(v) for v in program.outvars])


def _cse_key(primitive, inputs, params):
    """A hashable identity of an equation's computation, or None (then it is kept as is)."""
    atoms = tuple(id(a) if isinstance(a, Var)
                  else (repr(a.value), a.aval.dtype, a.aval.weak_type)  # repr: -0.0 != 0.0
                  for a in inputs)
    key = (primitive, atoms, tuple(params.items()))
    try:
        hash(key)
    except TypeError:
        return None
    return key
