"""jit: trace once per input signature, compile the whole program with Numba, dispatch fast.

``jit(f)(*args)`` flattens the arguments, looks up the signature (pytree structure, shapes,
dtypes, static arguments), and on a miss traces ``f`` and generates one Numba function for
the program (compile/codegen.py), loaded through the disk cache (compile/disk_cache.py).
Inside another transform's trace it records a ``call`` equation instead (control/call.py), so
``grad(jit(f))`` differentiates the program and still runs compiled code.

Shapes key the traced program but not the Numba function: a new batch size retraces (about a
millisecond) and usually regenerates the very same source, which is already compiled.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad.api.transformed import Transformed
from funcgrad.api.trace_cache import GuardChain, call_signature, leaf_signature, random_state
from funcgrad.compile import executable as compiled
from funcgrad.compile.executable import executable, scalars
from funcgrad.control.call import call
from funcgrad.core.arguments import FunctionArgs, name_of
from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.evaluate import ClosedProgram, evaluate, owned_results
from funcgrad.core.ir import Program, common_subexpression_elimination, dead_code_elimination
from funcgrad.core.tracing import Tracer, current_trace, trace_flat
from funcgrad.tree import unflatten


class _Entry(NamedTuple):
    program: Program      # inputs: the captured constants, then the flat arguments
    consts: list
    out_tree: Any
    guard: GuardChain     # what the function read from globals and closures (core/cache.py)
    scalarize: bool       # some argument is a 0-d array, which Numba takes as a scalar


class Jitted(Transformed):
    """``fun`` compiled: call it like ``fun``. ``.lower(*args)`` shows the generated code."""

    def __init__(self, fun: Callable, static_argnums: Sequence[int] = (),
                 static_argnames: Sequence[str] = ()):
        if not callable(fun):
            raise FuncgradTypeError(f"jit needs a function, got {type(fun).__name__}")
        self.static_argnums = tuple(static_argnums)
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) \
            else tuple(static_argnames)
        super().__init__(fun, (self.static_argnums, self.static_argnames))
        self._static = bool(self.static_argnums or self.static_argnames)
        self._entries: dict = {}

    def __repr__(self):
        return f"<jit of {name_of(self.fun)}>"

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
        compiled.stats["traces"] += 1
        guard = GuardChain(self.fun)
        before = random_state()
        program, consts = trace_flat(call.flat_function(), call.avals())
        if random_state() != before:
            _warn_random_draw(self.fun)
        program = dead_code_elimination(common_subexpression_elimination(program))
        opened = Program((), [*program.constvars, *program.invars], program.equations,
                         program.outvars)
        scalarize = any(type(x) is np.ndarray and not x.shape for x in [*consts, *call.leaves])
        return _Entry(opened, consts, call.out_tree, guard.settle(), scalarize)

    def _run(self, entry: _Entry, leaves):
        if current_trace() is not None:  # inside another transform: record one call
            outs = call(entry.program, [*entry.consts, *leaves], name_of(self.fun))
        elif compiled.disabled():
            outs = owned_results(entry.program, evaluate(entry.program, [*entry.consts, *leaves]))
        else:
            inputs = [*entry.consts, *leaves] if entry.consts else leaves
            if entry.scalarize:
                inputs = scalars(inputs)
            outs = owned_results(entry.program, executable(entry.program)(*inputs), True)
        return unflatten(entry.out_tree, outs)

    def lower(self, *args, **kwargs) -> Lowered:
        """The program traced for these arguments and the Numba source generated from it."""
        call = FunctionArgs(self.fun, args, kwargs, self.static_argnums, self.static_argnames)
        entry = self._trace(call)
        return Lowered(entry.program, entry.consts, entry.out_tree)


def _warn_random_draw(fun):
    code = getattr(getattr(fun, "__wrapped__", fun), "__code__", None)
    where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
    warnings.warn(f"jit({name_of(fun)}): {name_of(fun)}{where} drew random numbers (np.random "
                  "or random) while it was traced; under jit the values drawn are constants "
                  "of the compiled program, the same on every call. Draw them outside and pass "
                  "them as arguments.", RuntimeWarning, stacklevel=5)


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
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if fun is None:  # @jit(static_argnums=...)
        return lambda f: Jitted(f, nums, static_argnames)
    return Jitted(fun, nums, static_argnames)


