"""Executables: a Program compiled to one Numba function, and the switch that runs programs
with the NumPy evaluator instead (``disable_jit``).

The code generator (codegen.py) writes the function's source; the disk cache
(disk_cache.py) loads or compiles it. ``run_program`` is what every caller of compiled code
uses: jit's dispatch (api/jit.py) and the ``call`` primitive (control/call.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings

import numpy as np

from funcgrad.compile import background
from funcgrad.compile import disk_cache as disk
from funcgrad.compile import threads as threading_
from funcgrad.compile.codegen import generate, split
from funcgrad.compile.compile_worker import signature_spec
from funcgrad.compile.signals import LargeTrigArgument
from funcgrad.core.errors import FuncgradIndexError, LoweringError
from funcgrad.core.evaluate import evaluate
from funcgrad.core.ir import Program, Var
from funcgrad.ops.debug import callbacks_suppressed

_disabled = [os.environ.get("FUNCGRAD_DISABLE_JIT", "") not in ("", "0")]
stats = {"traces": 0, "programs_generated": 0}
COMPILE_MODES = ("tiered", "sync")


def default_compile_mode() -> str:
    """``FUNCGRAD_COMPILE``: ``tiered`` (the default: a new program's first calls run with the
    NumPy evaluator while Numba compiles it in the background) or ``sync`` (the first call
    waits for the compiler; every call runs compiled code)."""
    mode = os.environ.get("FUNCGRAD_COMPILE", "tiered").strip().lower()
    return mode if mode in COMPILE_MODES else "tiered"


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

    def __init__(self, program: Program, threads: int = 1, exact_trig: bool = False):
        generated = generate(program, threads, exact_trig)
        stats["programs_generated"] += 1
        self.program = generated.program  # calls inlined: its names are the source's
        self.source = generated.source
        # one runtime table: the sizes, then the float constants' bits (compile/tables.py)
        self.table = np.concatenate([np.array(generated.ints, dtype=np.int64), np.array(
            generated.floats, dtype=np.float64).view(np.int64)])
        self.tables = [self.table] if generated.tables else []  # the last arguments
        self.line_sources = generated.line_sources
        self.function = None  # the Numba dispatcher, once compiled for these arguments
        self.job: background.Job | None = None  # its compile in the background (tiered)
        self.lines = self.source.count("\n") + 1
        self.requested_threads = threads
        self.threads = threads if "prange(" in self.source else None  # set at each call
        self.too_big = self.lines > max_generated_lines()
        self.parts: list | None = None  # when too big: Executables of consecutive parts
        self.exact_trig: Executable | None = None  # with the C library's sin and cos: made
        # when a call meets an argument vector_math's do not cover (emitter.py)
        scalars = [v.aval.dtype.type if v.aval.shape == () else None for v in program.outvars]
        self.scalars = scalars if any(scalars) else None  # Numba returns 0-d results as
        # Python numbers: they become NumPy scalars of the program's dtype

    @property
    def module_source(self) -> str:
        return disk.module_text(self.source)

    def __call__(self, *args):
        """Run on arrays and scalars (0-d arrays must come as scalars: see ``scalars``)."""
        if self.too_big:
            return self._evaluate(args)
        if self.function is None:
            self.compile(args)
        if self.threads is not None:  # Numba's count is per calling thread: set it each time
            threading_.set_threads(self.threads)
        try:
            out = self.function(*args, *self.tables)
        except LargeTrigArgument:
            return self.run_exact_trig(*args)
        except IndexError as err:
            raise self.locate(err) from None
        except np.linalg.LinAlgError as err:
            raise self.locate_linalg(args, err) from None
        except Exception as err:
            raise self.explain(err) from err
        if self.scalars is None:
            return out
        return [o if s is None else s(o) for s, o in zip(self.scalars, out)]

    def run_exact_trig(self, *args):
        """The results for ``args`` (without the tables) from the variant compiled with the C
        library's sin and cos, made on first use: what a call does when the compiled function
        raised LargeTrigArgument (an argument vector_math's sin and cos do not cover)."""
        if self.exact_trig is None:
            self.exact_trig = Executable(self.program, self.requested_threads, True)
        return self.exact_trig(*args)

    def compile(self, args):
        """Compile now for these arguments (waiting for a compile started in the background:
        it may be about to finish, and compiling the same module twice at once is waste)."""
        if self.job is not None and not self.job.orphaned():
            self.job.done.wait()
            if self.job.dispatcher is not None:
                self.function = self.job.dispatcher
                return
        try:
            self.function = disk.compile_signature(self.source, [*args, *self.tables])
        except Exception as err:
            raise self.explain(err) from err

    def ready(self, args, start: bool = True) -> bool:
        """Tiered execution: whether compiled code should run these arguments now. If not,
        a compile runs in the background (started now unless ``start`` is false: then a
        later ``ready`` starts it), and the caller evaluates the program with NumPy
        meanwhile. Compiled code is used at once when it is cheap to have: already in this
        process (another trace generated the same source), or the program too large for
        Numba (``__call__`` evaluates it anyway)."""
        if self.function is not None or self.too_big:
            return True
        job = self.job
        if job is not None and not job.done.is_set() and job.orphaned():
            job = self.job = None  # forked while it compiled: compile here anew
        if job is None:
            if disk.is_loaded(self.source):
                return True
            spec = signature_spec([*args, *self.tables])
            if spec is None:  # an argument Numba types in a way not described: compile now
                return True
            if start:
                self.job = background.Job(self.source, spec)
            return False
        if not job.done.is_set():
            return False
        if job.dispatcher is not None:
            self.function = job.dispatcher
        return True  # compiled, or failed (then __call__ compiles, raising the error)

    def wait_for_compiler(self, args, seconds: float) -> bool:
        """Wait up to ``seconds`` for the background compile (its thread then has the GIL),
        returning as soon as it is done; whether compiled code should run ``args`` now."""
        if self.job is None or seconds <= 0 or background.worker_kind() != "thread":
            return False
        self.job.done.wait(seconds)
        return self.ready(args)

    def _evaluate(self, args):
        """Too large for Numba to compile as one function (compile time and memory grow
        faster than the function): run it as several compiled functions, one after the
        other, passing the values they share. What cannot be split further (one equation
        holding a huge loop body) runs with the NumPy evaluator, saying so once."""
        if self.parts is None:
            pieces = split(self.program, -(-self.lines // max_generated_lines()))
            self.parts = [Executable(p, self.requested_threads)
                          for p in pieces] if len(pieces) > 1 else []
        if not self.parts:
            return self._run_with_numpy(args)
        env = {id(v): a for v, a in zip(self.program.inputs, args)}
        for part in self.parts:
            outs = part(*scalars([env[id(v)] for v in part.program.invars]))
            env.update((id(v), o) for v, o in zip(part.program.outvars, outs))
        return [env[id(v)] if isinstance(v, Var) else v.aval.dtype.type(v.value)
                for v in self.program.outvars]

    def _run_with_numpy(self, args):
        if self.function is None:
            self.function = evaluate
            warnings.warn(
                f"this program has {len(self.program.equations):,} equations: its generated "
                f"function ({self.lines:,} lines) is too large for Numba to compile in "
                "reasonable time and memory and cannot be split, so it runs with the NumPy "
                "evaluator instead, as under fg.disable_jit(). A Python loop unrolls into one "
                "copy of its body per step: write it with lax.scan or lax.fori_loop, batch the "
                "steps with vmap, or jit the body and loop over the jitted function. The "
                "limit is FUNCGRAD_MAX_GENERATED_LINES "
                f"(now {max_generated_lines():,}).", RuntimeWarning, stacklevel=6)
        outs = evaluate(self.program, list(args))
        return [np.ascontiguousarray(o) if type(o) is np.ndarray else o for o in outs]

    def locate(self, err: IndexError):
        """An index out of bounds, named by the index variable that checked it: with the line
        of the user's code it comes from (see ops/indexing.py)."""
        found = re.search(r"^(index out of bounds in \w+) \((\w+)\)$", str(err))
        if found is None:
            return err
        lines = self.source.splitlines()
        check = f"if {found.group(2)} < 0 or "
        source = next((self.line_sources.get(n + 1) for n, line in enumerate(lines)
                       if line.lstrip().startswith(check)), None)
        where = f" at {source}" if source is not None else ""
        return FuncgradIndexError(f"{found.group(1)}{where}")

    def locate_linalg(self, args, err: np.linalg.LinAlgError) -> np.linalg.LinAlgError:
        """A singular matrix met by compiled code (Numba's words, and no line): the NumPy
        evaluator runs the program again to find the equation, raising the error the first
        tier of jit and eager code give, with the user's line. Only the failing call pays.
        Its debug callbacks do not run again: they ran in the compiled call."""
        try:
            with callbacks_suppressed():
                evaluate(self.program, list(args))
        except np.linalg.LinAlgError as located:
            return located
        return err

    def explain(self, err):
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


def max_generated_lines() -> int:
    """The largest generated function compiled with Numba as one (FUNCGRAD_MAX_GENERATED_LINES);
    larger ones are split. Numba's compile time and memory grow faster than linearly with a
    function's size: measured on an unrolled RNN's gradient, 670 lines took 15 s, 1,350
    lines 32 s, 2,700 lines 96 s and 5,400 lines 404 s and 1.7 GB (a 5,000-equation Hessian
    took gigabytes), so parts stay near where the growth is still linear."""
    try:
        return max(1, int(os.environ.get("FUNCGRAD_MAX_GENERATED_LINES", "1500")))
    except ValueError:
        return 1500


def executable(program: Program, threads: int | None = None) -> Executable:
    """``program`` compiled for ``threads`` threads (default: FUNCGRAD_NUM_THREADS, or 1)."""
    threads = threading_.default_threads() if threads is None else threads
    if threads <= 1:
        return program.cached("executable", Executable)
    return program.cached(("executable", threads), lambda p: Executable(p, threads))


def scalars(args) -> list:
    """0-d arrays as NumPy scalars: Numba takes 0-d values as scalars."""
    return [a[()] if type(a) is np.ndarray and not a.shape else a for a in args]


def disabled() -> bool:
    """Whether programs run with the NumPy evaluator instead of Numba (``disable_jit``)."""
    return _disabled[0]


def run_program(program: Program, args) -> list:
    """Run ``program`` (no constvars) on concrete arguments: compiled, unless jit is disabled
    or (tiered, see ``default_compile_mode``) its compile is still under way."""
    if _disabled[0]:
        return evaluate(program, list(args))
    ex = executable(program)
    inputs = scalars(args)
    if ex.function is None and default_compile_mode() == "tiered" and not ex.ready(inputs):
        return evaluate(program, list(args))
    return ex(*inputs)
