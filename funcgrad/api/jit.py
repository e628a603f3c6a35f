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

import re
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad.api.transformed import Transformed
from funcgrad.api.trace_cache import GuardChain, call_signature, leaf_signature, random_state
from funcgrad.compile import executable as compiled
from funcgrad.compile.executable import _disabled as compiled_off, executable, scalars
from funcgrad.compile.signals import LargeTrigArgument
from funcgrad.compile.threads import check_threads, default_threads
from funcgrad.compile.threads import set_threads as threads_of_numba
from funcgrad.control.call import call
from funcgrad.core.arguments import FunctionArgs, name_of
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError
from funcgrad.core.evaluate import ClosedProgram, evaluate, owned_results
from funcgrad.core.ir import Program, common_subexpression_elimination, dead_code_elimination
from funcgrad.core.tracing import Tracer, current_trace, trace_flat
from funcgrad.tree import unflatten


class _Entry:
    """One traced signature: its program, and how to run it."""

    __slots__ = ("program", "consts", "out_tree", "guard", "scalarize", "executable", "run",
                 "calls")

    def __init__(self, program: Program, consts: list, out_tree, guard: GuardChain,
                 scalarize: bool):
        self.program = program    # inputs: the captured constants, then the flat arguments
        self.consts = consts
        self.out_tree = out_tree
        self.guard = guard        # what the function read from globals and closures
        self.scalarize = scalarize  # some argument is a 0-d array, which Numba takes as a scalar
        self.executable: compiled.Executable | None = None
        self.run: Callable | None = None  # the compiled fast path, once compiled (_runner)
        self.calls = 0  # calls answered by the NumPy evaluator while Numba compiled

    def inputs(self, leaves) -> list:
        inputs = [*self.consts, *leaves] if self.consts else list(leaves)
        return scalars(inputs) if self.scalarize else inputs


class Jitted(Transformed):
    """``fun`` compiled: call it like ``fun``. ``.lower(*args)`` shows the generated code and
    ``.lower(*args).compile()`` compiles ahead of time."""

    def __init__(self, fun: Callable, static_argnums: Sequence[int] = (),
                 static_argnames: Sequence[str] = (), compile: str | None = None,
                 threads: int | None = None):
        if not callable(fun):
            raise FuncgradTypeError(f"jit needs a function, got {type(fun).__name__}")
        if compile is not None and compile not in compiled.COMPILE_MODES:
            raise FuncgradValueError(f"jit(compile={compile!r}): compile must be one of "
                                     f"{', '.join(map(repr, compiled.COMPILE_MODES))} or None "
                                     "(the default, FUNCGRAD_COMPILE or 'tiered')")
        self.static_argnums = tuple(static_argnums)
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) \
            else tuple(static_argnames)
        self.threads = default_threads() if threads is None else \
            check_threads(threads, "jit(threads)")
        super().__init__(fun, (self.static_argnums, self.static_argnames, compile, threads))
        self.compile_mode = compile or compiled.default_compile_mode()
        self._tiered = self.compile_mode == "tiered"
        self._static = bool(self.static_argnums or self.static_argnames)
        self._entries: dict = {}

    def __repr__(self):
        return f"<jit of {name_of(self.fun)}>"

    def __call__(self, *args, **kwargs):
        # The hot path: one walk over the arguments gives their leaves and a key of their
        # structure, shapes and dtypes; a dictionary lookup; the guard; the compiled function.
        if not self._static:
            fast = call_signature(args, kwargs)
            if fast is not None:
                entry = self._entries.get(fast[1])
                if entry is not None and entry.guard.holds():
                    run = entry.run
                    if run is not None and current_trace() is None and not compiled_off[0]:
                        return run(fast[0])
                    return self._run(entry, fast[0])
        return self._slow_call(args, kwargs)

    def _slow_call(self, args, kwargs):
        call = FunctionArgs(self.fun, args, kwargs, self.static_argnums, self.static_argnames)
        return self._run(self._entry(call, args, kwargs), call.leaves)

    def _entry(self, call: FunctionArgs, args, kwargs) -> _Entry:
        key = (call.in_tree, tuple(map(leaf_signature, call.leaves)), call.static_key())
        entry = self._entries.get(key)
        if entry is None or not entry.guard.holds():
            entry = self._trace(call)
            if not any(isinstance(c, Tracer) for c in entry.consts):
                self._entries[key] = entry
                fast = None if self._static else call_signature(args, kwargs)
                if fast is not None and all(a is b for a, b in zip(fast[0], call.leaves)):
                    self._entries[fast[1]] = entry
        return entry

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
            ex = entry.executable
            if ex is None:
                ex = entry.executable = executable(entry.program, self.threads)
            inputs = entry.inputs(leaves)
            if ex.function is None and self._tiered and not ex.ready(inputs):
                started = time.perf_counter()
                outs = _evaluated(entry, ex, leaves)  # the first tier, while Numba compiles
                if entry.calls:  # not the first call, whose result is awaited
                    ex.yield_to_compiler(_COMPILER_SHARE * (time.perf_counter() - started))
                entry.calls += 1
            else:
                outs = owned_results(entry.program, ex(*inputs), True)
                if entry.run is None and ex.function is not None and not ex.too_big:
                    entry.run = _runner(entry, ex, leaves)
        return unflatten(entry.out_tree, outs)

    def lower(self, *args, **kwargs) -> Lowered:
        """The program traced for these arguments and the Numba source generated from it;
        ``.compile()`` on it compiles now (as JAX's ``jit(f).lower(*args).compile()``)."""
        call = FunctionArgs(self.fun, args, kwargs, self.static_argnums, self.static_argnames)
        entry = self._entry(call, args, kwargs)
        return Lowered(self, entry, call)


# After each call the evaluator answers while Numba compiles on a thread (but the first), the
# caller waits this many times that call's time, unless the compile finishes first: the
# compiler, which needs the GIL for most of its work, gets about 3/4 of the interpreter in a
# loop of calls, and compiled speed comes sooner (issue 15 item 1).
_COMPILER_SHARE = 3.0


def _evaluated(entry: _Entry, ex: compiled.Executable, leaves) -> list:
    """The program's results from the NumPy evaluator, of the types compiled code gives
    (0-d results as NumPy scalars of the program's dtype), made safe to hand out, and as
    quiet as compiled code about overflow and invalid values."""
    with np.errstate(all="ignore"):  # compiled code gives inf and nan silently too
        outs = evaluate(entry.program, [*entry.consts, *leaves])
    outs = owned_results(entry.program, outs)
    if ex.scalars is None:
        return outs
    return [o if s is None else s(o) for s, o in zip(ex.scalars, outs)]


def _runner(entry: _Entry, ex: compiled.Executable, leaves) -> Callable:
    """The compiled call of one traced signature, as one generated function with everything
    that does not depend on the arguments' values done once: the constants (as Numba takes
    them), the conversion of 0-d results to NumPy scalars, whether a result may need copying
    to be fresh (see owned_results), and the output tree, built by one expression.

    When every argument is a Python float or bool (the signature's key then fixes Numba's
    types exactly; an int may be too large for int64) it calls the compiled function's
    entry point, skipping the Numba dispatcher's type dispatch; arrays go through the
    dispatcher, which checks their memory layout."""
    names = [f"a{i}" for i in range(len(leaves))]
    namespace: dict = {"function": ex.function, "ints": ex.ints, "floats": ex.floats,
                       "locate": ex.locate, "explain": ex.explain, "scalars": scalars,
                       "owned_results": owned_results, "program": entry.program,
                       "LargeTrigArgument": LargeTrigArgument, "exact": ex.run_exact_trig}
    consts = scalars(entry.consts)
    namespace.update({f"k{i}": c for i, c in enumerate(consts)})
    entry_point = _entry_point(ex.function, [*consts, *leaves, ex.ints, ex.floats])
    if entry_point is not None:
        namespace["function"] = entry_point
    values = ", ".join([f"k{i}" for i in range(len(consts))] + names)
    arguments = ", ".join([f"k{i}" for i in range(len(consts))] + names + ["ints", "floats"])
    unpack = f"    {', '.join(names)}, = leaves\n" if names else ""
    if entry.scalarize and names:  # 0-d array arguments (the key fixes which are 0-d)
        unpack = f"    {', '.join(names)}, = scalars(leaves)\n"
    results = [f"o[{k}]" if t is None else f"t{k}(o[{k}])"
               for k, t in enumerate(ex.scalars or [None] * len(entry.program.outvars))]
    namespace.update({f"t{k}": t for k, t in enumerate(ex.scalars or ()) if t is not None})
    copy = ""
    if _may_copy(entry.program):
        copy = "    o = owned_results(program, [" + ", ".join(results) + "], True)\n"
        results = [f"o[{k}]" for k in range(len(results))]
    tree = _expression(_example(entry.out_tree))
    if tree is None:
        namespace["build"] = lambda outs: unflatten(entry.out_tree, outs)
        tree = "build([" + ", ".join(results) + "])"
    else:
        tree = re.sub(r"o\[(\d+)\]", lambda m: results[int(m.group(1))], tree)
    if ex.threads is not None:  # Numba's thread count is per calling thread
        namespace["set_threads"] = threads_of_numba
        unpack += f"    set_threads({ex.threads})\n"
    source = (f"def run(leaves):\n{unpack}"
              f"    try:\n        o = function({arguments})\n"
              f"    except LargeTrigArgument:\n        o = exact({values})\n"
              "    except IndexError as err:\n        raise locate(err) from None\n"
              "    except Exception as err:\n        raise explain(err) from err\n"
              f"{copy}    return {tree}\n")
    exec(compile(source, "<funcgrad jit call>", "exec"), namespace)  # noqa: S102
    return namespace["run"]


def _entry_point(dispatcher, args):
    """The compiled function's entry point for ``args`` if all are Python floats or bools
    but the two tables (C-contiguous arrays of funcgrad's), else None."""
    if not all(type(a) is float or type(a) is bool for a in args[:-2]):
        return None
    import numba
    overload = dispatcher.overloads.get(tuple(numba.typeof(a) for a in args))
    return getattr(overload, "entry_point", None)


def _may_copy(program: Program) -> bool:
    """Whether some compiled result may need copying to be fresh (see owned_results)."""
    owned_results(program, [], True, 0)  # makes the plan and keeps it with the program
    return bool(program._cache.get("owned_compiled"))


def _example(out_tree):
    """The output tree with leaf ``k`` as the number k (None if it cannot be made)."""
    try:
        return unflatten(out_tree, list(range(out_tree.num_leaves)))
    except (TypeError, ValueError):
        return None


def _expression(example) -> str | None:
    """Python source building ``example``'s tree from the results ``o``: for tuples, lists,
    dicts of string keys and None (a step's usual outputs), several times faster than
    unflattening; None for others."""
    t = type(example)
    if t is int:
        return f"o[{example}]"
    if example is None:
        return "None"
    if t is tuple or t is list:
        parts = [_expression(e) for e in example]
        if any(p is None for p in parts):
            return None
        inner = ", ".join(map(str, parts)) + ("," if t is tuple and len(parts) == 1 else "")
        return f"({inner})" if t is tuple else f"[{inner}]"
    if t is dict and all(type(k) is str and k.isidentifier() for k in example):
        values = [_expression(v) for v in example.values()]
        if any(p is None for p in values):
            return None
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(example, values)) + "}"
    return None


def _warn_random_draw(fun):
    code = getattr(getattr(fun, "__wrapped__", fun), "__code__", None)
    where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
    warnings.warn(f"jit({name_of(fun)}): {name_of(fun)}{where} drew random numbers (np.random "
                  "or random) while it was traced; under jit the values drawn are constants "
                  "of the compiled program, the same on every call. Draw them outside and pass "
                  "them as arguments.", RuntimeWarning, stacklevel=5)


class Lowered:
    """What ``jit(f).lower(*args)`` returns: ``.program`` (the IR), ``.source`` (the Python
    module Numba compiles, with comments naming the user's lines; also ``.as_text()``), and
    ``.compile()``, which compiles it now and returns a ``Compiled``."""

    def __init__(self, jitted: Jitted, entry: _Entry, call: FunctionArgs):
        self._jitted, self._entry, self._call = jitted, entry, call
        if entry.executable is None:
            entry.executable = executable(entry.program, jitted.threads)
        self.executable = entry.executable
        self.program = self.executable.program  # variable names match the source's
        self.closed = ClosedProgram(self.program, entry.consts, call.in_tree, entry.out_tree)
        self.source = self.executable.module_source

    def __str__(self):
        return self.source

    def as_text(self) -> str:
        """The generated module's source (what Numba compiles)."""
        return self.source

    def compile(self) -> Compiled:
        """Compile now, waiting for Numba: later calls of the jitted function with arguments
        of this signature run compiled code from the first."""
        entry, ex = self._entry, self.executable
        if not ex.too_big and ex.function is None:
            ex.compile(entry.inputs(self._call.leaves))
        if entry.run is None and not ex.too_big:
            entry.run = _runner(entry, ex, self._call.leaves)
        return Compiled(self._jitted, self._call)


class Compiled:
    """A jitted function compiled ahead of time for one signature (``lower(...).compile()``):
    call it with arguments of that signature (the same pytree structure, shapes and dtypes,
    and equal static arguments)."""

    def __init__(self, jitted: Jitted, call: FunctionArgs):
        self._jitted = jitted
        self._key = _signature_key(call)
        self._name = name_of(jitted.fun)

    def __call__(self, *args, **kwargs):
        j = self._jitted
        call = FunctionArgs(j.fun, args, kwargs, j.static_argnums, j.static_argnames)
        if _signature_key(call) != self._key:
            raise FuncgradTypeError(
                f"{self._name} was compiled (lower(...).compile()) for arguments of another "
                "structure, shapes or dtypes (or other static arguments) than these; call the "
                "jitted function itself to compile for each signature")
        return j(*args, **kwargs)

    def __repr__(self):
        return f"<compiled {self._name}>"


def _signature_key(call: FunctionArgs):
    return (call.in_tree, tuple(map(leaf_signature, call.leaves)), call.static_key())


def jit(fun: Callable | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), compile: str | None = None,
        threads: int | None = None):
    """Compile ``fun`` with Numba: traced once per input signature, the whole program (a
    gradient's forward and backward passes included) becomes one fused CPU function,
    cached on disk across processes.

    ``compile``: ``"tiered"`` (the default, or the ``FUNCGRAD_COMPILE`` environment
    variable): the first calls of a new program run it with the NumPy evaluator while Numba
    compiles it in the background, and later calls switch to the compiled function (results
    agree to rounding); ``"sync"``: the first call waits for the compiler, so that every call
    runs compiled code (benchmarks, results reproducible to the last bit).
    ``jit(f).lower(*args).compile()`` compiles ahead of time in either mode.

    ``threads``: how many threads large loops run on (default: the ``FUNCGRAD_NUM_THREADS``
    environment variable, or 1). With more than one, large fused loops share their outermost
    loop among them and large matrix products their rows; elementwise results are
    bit-identical for any count, sums over a shared loop may differ by rounding
    (docs/performance.md, "Threads").

    Example:
        >>> step = fg.jit(fg.value_and_grad(lambda w: fnp.sum(fnp.tanh(w) ** 2)))
        >>> value, grad = step(np.ones(3))
    """
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if fun is None:  # @jit(static_argnums=...)
        return lambda f: Jitted(f, nums, static_argnames, compile, threads)
    return Jitted(fun, nums, static_argnames, compile, threads)


