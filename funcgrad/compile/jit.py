"""jit: trace once per input signature, compile the whole program with Numba, dispatch fast.

``jit(f)(*args)`` flattens the arguments, looks up the signature (pytree structure, shapes,
dtypes, static arguments), and on a miss traces ``f`` and generates one Numba function for
the program (compile/codegen.py), loaded through the disk cache (compile/cache.py). Inside
another transform's trace it records a ``call`` equation instead (ops/control.py), so
``grad(jit(f))`` differentiates the program and still runs compiled code.

Shapes key the traced program but not the Numba function: a new batch size retraces (about a
millisecond) and usually regenerates the very same source, which is already compiled.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from funcgrad.compile import cache as disk
from funcgrad.compile.codegen import generate
from funcgrad.core.cache import GuardChain, call_signature, leaf_signature
from funcgrad.core.errors import FuncgradTypeError, LoweringError
from funcgrad.core.evaluate import evaluate
from funcgrad.core.ir import (ClosedProgram, Program, common_subexpression_elimination,
                              dead_code_elimination)
from funcgrad.core.tracing import Tracer, current_trace, trace_flat
from funcgrad.core.calls import FunctionArgs, name_of
from funcgrad.tree import unflatten

_disabled = [os.environ.get("FUNCGRAD_DISABLE_JIT", "") not in ("", "0")]
stats = {"traces": 0, "programs_generated": 0}


@contextlib.contextmanager
def disable_jit(disable: bool = True):
    """Run jitted functions with the NumPy evaluator instead of Numba (for debugging: same
    programs, plain NumPy, breakpoints work). Also set by ``FUNCGRAD_DISABLE_JIT=1``.

    Example:
        >>> with fg.disable_jit():
        ...     fg.jit(fnp.sin)(0.0)
        0.0
    """
    saved = _disabled[0]
    _disabled[0] = disable
    try:
        yield
    finally:
        _disabled[0] = saved


# ---------------------------------------------------------------------------------------
# Executables: one program, compiled


_MODULE_HEADER_LINES = disk.module_text("").count("\n")


class Executable:
    """A program compiled to one Numba function, with the runtime tables of its sizes and
    constants."""

    def __init__(self, program: Program):
        generated = generate(program)
        stats["programs_generated"] += 1
        self.program = generated.program  # calls inlined: its names are the source's
        self.source = generated.source
        self.ints = np.array(generated.ints, dtype=np.int64)
        self.floats = np.array(generated.floats, dtype=np.float64)
        self.line_sources = generated.line_sources
        self.function = None  # the Numba dispatcher, once compiled for these arguments
        scalars = [v.aval.dtype.type if v.aval.shape == () else None for v in program.outvars]
        self.scalars = scalars if any(scalars) else None  # Numba returns 0-d results as
        # Python numbers: they become NumPy scalars of the program's dtype

    @property
    def module_source(self) -> str:
        return disk.module_text(self.source)

    def __call__(self, *args):
        """Run on arrays and scalars (0-d arrays must come as scalars: see ``scalars``)."""
        if self.function is None:
            try:
                self.function = disk.compile_signature(self.source,
                                                       [*args, self.ints, self.floats])
            except Exception as err:
                raise self._explain(err) from err
        try:
            out = self.function(*args, self.ints, self.floats)
        except Exception as err:
            raise self._explain(err) from err
        if self.scalars is None:
            return out
        return [o if s is None else s(o) for s, o in zip(self.scalars, out)]

    def _explain(self, err):
        import numba
        if not isinstance(err, numba.core.errors.NumbaError):
            return err
        lines = [int(n) for n in re.findall(r"fg_[0-9a-f]+\.py\", line (\d+)", str(err))]
        where = ""
        for n in lines:
            source = self.line_sources.get(n - _MODULE_HEADER_LINES)
            if source is not None:
                where = f" for the code from {source}"
                break
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return LoweringError(f"Numba could not compile the generated code{where}: {first}. "
                             "This is a funcgrad bug; fg.disable_jit() runs the same program "
                             "with NumPy meanwhile.")


def executable(program: Program) -> Executable:
    return program.cached("executable", Executable)


def scalars(args) -> list:
    """0-d arrays as NumPy scalars: Numba takes 0-d values as scalars."""
    return [a[()] if type(a) is np.ndarray and not a.shape else a for a in args]


def run_program(program: Program, args) -> list:
    """Run ``program`` (no constvars) on concrete arguments: compiled, unless jit is disabled."""
    if _disabled[0]:
        return evaluate(program, list(args))
    return executable(program)(*scalars(args))


# ---------------------------------------------------------------------------------------
# jit


class _Entry(NamedTuple):
    program: Program      # inputs: the captured constants, then the flat arguments
    consts: list
    out_tree: Any
    guard: GuardChain     # what the function read from globals and closures (core/cache.py)
    scalarize: bool       # some argument is a 0-d array, which Numba takes as a scalar


class Jitted:
    """``fun`` compiled: call it like ``fun``. ``.lower(*args)`` shows the generated code."""

    def __init__(self, fun: Callable, static_argnums: Sequence[int] = (),
                 static_argnames: Sequence[str] = ()):
        if not callable(fun):
            raise FuncgradTypeError(f"jit needs a function, got {type(fun).__name__}")
        self.fun = fun
        self.static_argnums = tuple(static_argnums)
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) \
            else tuple(static_argnames)
        self._static = bool(self.static_argnums or self.static_argnames)
        self._entries: dict = {}
        functools.update_wrapper(self, fun, updated=())  # not __dict__: ours

    def __repr__(self):
        return f"<jit of {name_of(self.fun)}>"

    def __get__(self, obj, objtype=None):  # as a method: bind like a function would
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        # The hot path: one walk over the arguments gives their leaves and a key of their
        # structure, shapes and dtypes; then a dictionary lookup.
        if not self._static:
            fast = call_signature(args, kwargs)
            if fast is not None:
                entry = self._entries.get(fast[1])
                if entry is not None and entry.guard.holds():
                    return self._run(entry, fast[0])
        return self._slow_call(args, kwargs)

    def _slow_call(self, args, kwargs):
        call = FunctionArgs(self.fun, args, kwargs, self.static_argnums, self.static_argnames)
        key = (call.in_tree, tuple(map(leaf_signature, call.leaves)), call.static_key())
        entry = self._entries.get(key)
        if entry is None or not entry.guard.holds():
            entry = self._trace(call)
            if not any(isinstance(c, Tracer) for c in entry.consts):
                self._entries[key] = entry
                fast = None if self._static else call_signature(args, kwargs)
                if fast is not None and all(a is b for a, b in zip(fast[0], call.leaves)):
                    self._entries[fast[1]] = entry
        return self._run(entry, call.leaves)

    def _trace(self, call: FunctionArgs) -> _Entry:
        stats["traces"] += 1
        guard = GuardChain(self.fun)
        program, consts = trace_flat(call.flat_function(), call.avals())
        program = dead_code_elimination(common_subexpression_elimination(program))
        opened = Program((), [*program.constvars, *program.invars], program.equations,
                         program.outvars)
        scalarize = any(type(x) is np.ndarray and not x.shape for x in [*consts, *call.leaves])
        return _Entry(opened, consts, call.out_tree, guard.settle(), scalarize)

    def _run(self, entry: _Entry, leaves):
        if current_trace() is not None:  # inside another transform: record one call
            from funcgrad.ops.control import call
            outs = call(entry.program, [*entry.consts, *leaves], name_of(self.fun))
        elif _disabled[0]:
            outs = evaluate(entry.program, [*entry.consts, *leaves])
        else:
            inputs = [*entry.consts, *leaves] if entry.consts else leaves
            if entry.scalarize:
                inputs = scalars(inputs)
            outs = executable(entry.program)(*inputs)
        return unflatten(entry.out_tree, outs)

    def lower(self, *args, **kwargs) -> Lowered:
        """The program traced for these arguments and the Numba source generated from it."""
        call = FunctionArgs(self.fun, args, kwargs, self.static_argnums, self.static_argnames)
        entry = self._trace(call)
        return Lowered(entry.program, entry.consts, entry.out_tree)


class Lowered:
    """What ``jit(f).lower(*args)`` returns: ``.program`` (the IR) and ``.source`` (the
    Python module Numba compiles, with comments naming the user's lines)."""

    def __init__(self, program: Program, consts, out_tree):
        self.executable = executable(program)
        self.program = self.executable.program  # variable names match the source's
        self.closed = ClosedProgram(self.program, consts, None, out_tree)
        self.source = self.executable.module_source

    def __str__(self):
        return self.source


def jit(fun: Callable | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()):
    """Compile ``fun`` with Numba: traced once per input signature, the whole program (a
    gradient's forward and backward passes included) becomes one fused CPU function,
    cached on disk across processes.

    Example:
        >>> step = fg.jit(fg.value_and_grad(lambda w: fnp.sum(fnp.tanh(w) ** 2)))
        >>> value, grad = step(np.ones(3))
    """
    if fun is None:
        return lambda f: Jitted(f, static_argnums, static_argnames)
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    return Jitted(fun, static_argnums, static_argnames)


