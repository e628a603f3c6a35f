"""jit: trace once per input signature, compile the whole program with Numba, dispatch fast.

``jit(f)(*args)`` flattens the arguments, looks up the signature (pytree structure, shapes,
dtypes, static arguments), and on a miss traces ``f`` and generates one Numba function for
the program (compile/codegen.py), loaded through the disk cache (compile/disk_cache.py).
Inside another transform's trace it records a ``call`` equation instead (control/call.py), so
``grad(jit(f))`` differentiates the program and still runs compiled code.

Shapes key the traced program but not the Numba function: a new batch size retraces (about a
millisecond) and usually regenerates the very same source, which is already compiled.

Repeat calls skip even the lookup: once a signature has run compiled, the jitted function's
``__call__`` is a function generated for it and up to three others (_fast_call), which
checks the arguments and the guard inline and calls the compiled code, or hands the call
to the general path.
"""

from __future__ import annotations

import itertools
import re
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad.api.transformed import Transformed
from funcgrad.api.trace_cache import (GuardChain, call_signature, leaf_signature,
                                      quick_chain_tests, random_state)
from funcgrad.compile import executable as compiled
from funcgrad.compile.executable import _disabled as compiled_off, executable, scalars
from funcgrad.compile.signals import LargeTrigArgument
from funcgrad.compile.threads import check_threads, default_threads
from funcgrad.compile.threads import set_threads as threads_of_numba
from funcgrad.control.call import call
from funcgrad.core.arguments import FunctionArgs, name_of, static_spec
from funcgrad.core.axis_names import bound_axes
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError
from funcgrad.core.evaluate import ClosedProgram, evaluate, owned_results
from funcgrad.core.ir import Program, common_subexpression_elimination, dead_code_elimination
from funcgrad.core.tracing import Tracer, current_trace, live_traces, trace_flat
from funcgrad.tree import unflatten


class _Entry:
    """One traced signature: its program, and how to run it."""

    __slots__ = ("program", "consts", "out_tree", "guard", "scalarize", "executable", "run",
                 "calls", "evaluated_in", "fast")

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
        self.evaluated_in = 0.0  # the last such call's time (seconds)
        self.fast: _Block | bool | None = None  # its part of the generated __call__, or
        # False if it cannot have one (_fast_block); None until asked

    def inputs(self, leaves) -> list:
        inputs = [*self.consts, *leaves] if self.consts else list(leaves)
        return scalars(inputs) if self.scalarize else inputs


class Jitted(Transformed):
    """``fun`` compiled: call it like ``fun``. ``.lower(*args)`` shows the generated code and
    ``.lower(*args).compile()`` compiles ahead of time."""

    def __init__(self, fun: Callable, static_argnums: int | Sequence[int] = (),
                 static_argnames: str | Sequence[str] = (), compile: str | None = None,
                 threads: int | None = None):
        if not callable(fun):
            raise FuncgradTypeError(f"jit needs a function, got {type(fun).__name__}")
        if compile is not None and compile not in compiled.COMPILE_MODES:
            raise FuncgradValueError(f"jit(compile={compile!r}): compile must be one of "
                                     f"{', '.join(map(repr, compiled.COMPILE_MODES))} or None "
                                     "(the default, FUNCGRAD_COMPILE or 'tiered')")
        self.static_argnums, self.static_argnames = static_spec(fun, static_argnums,
                                                               static_argnames)
        self.threads = default_threads() if threads is None else \
            check_threads(threads, "jit(threads)")
        super().__init__(fun, (self.static_argnums, self.static_argnames, compile, threads))
        self.compile_mode = compile or compiled.default_compile_mode()
        self._tiered = self.compile_mode == "tiered"
        self._static = bool(self.static_argnums or self.static_argnames)
        self._entries: dict = {}
        self._fast_entries: list[_Entry] = []  # those the generated __call__ answers

    def __repr__(self):
        return f"<jit of {name_of(self.fun)}>"

    def __call__(self, *args, **kwargs):
        # The general path. Once a signature has run compiled, the jitted function gets a
        # class of its own whose __call__ is generated for it (see _fast_call and
        # _answer_next_calls), which comes here for calls of other signatures.
        return self._call(args, kwargs)

    def _call(self, args, kwargs):
        # One walk over the arguments gives their leaves and a key of their structure,
        # shapes and dtypes; a dictionary lookup; the guard; the compiled function.
        if not self._static:
            fast = call_signature(args, kwargs)
            if fast is not None:
                entry = self._entries.get(fast[1])
                if entry is not None and entry.guard.holds():
                    run = entry.run
                    if run is not None and current_trace() is None and not compiled_off[0]:
                        if not kwargs:  # this signature's fast path answers the next call
                            self._answer_next_calls(entry, args, fast[0])
                        try:
                            return run(fast[0])
                        except OverflowError:
                            self._overflowed(args, kwargs)
                            raise
                    return self._run(entry, fast[0])
        return self._slow_call(args, kwargs)

    def _overflowed(self, args, kwargs):
        """Numba refused a Python int too large for int64: raise the error naming it."""
        FunctionArgs(self.fun, args, kwargs, self.static_argnums, self.static_argnames).avals()

    def _answer_next_calls(self, entry: _Entry, args, leaves):
        """Make the generated ``__call__`` (see _fast_call) answer ``entry``'s signature too,
        up to _MAX_FAST signatures: the method of a class of the function's own (a subclass
        of Jitted), as Python looks special methods up on the class; a call then costs one
        Python frame, not two."""
        if entry.fast is None:
            entry.fast = _fast_block(entry, args, leaves) or False
        if not entry.fast or entry in self._fast_entries:
            return
        cls = type(self)
        if cls is not Jitted and not cls.__dict__.get("_fast_class"):
            return  # a subclass of someone's: left alone
        entries = [e for e in self._fast_entries if e.guard.holds()]  # (stale: retraced)
        if len(entries) >= _MAX_FAST:
            return  # more signatures in turn: the others take the general path
        self._fast_entries = entries = [*entries, entry]
        if cls is Jitted:
            cls = self.__class__ = type("Jitted", (Jitted,), {  # type: ignore[assignment]
                "__slots__": (), "__module__": __name__, "__doc__": Jitted.__doc__,
                "_fast_class": True})
        blocks = [e.fast for e in entries if isinstance(e.fast, _Block)]
        cls.__call__ = _fast_call(blocks)  # type: ignore[method-assign]

    def __reduce__(self):  # as a Jitted, not as its class of its own
        rebuild, (version, _, fun, options) = super().__reduce__()
        return rebuild, (version, Jitted, fun, options)

    def _slow_call(self, args, kwargs):
        call = FunctionArgs(self.fun, args, kwargs, self.static_argnums, self.static_argnames)
        return self._run(self._entry(call, args, kwargs), call.leaves)

    def _entry(self, call: FunctionArgs, args, kwargs) -> _Entry:
        key: tuple = (call.in_tree, tuple(map(leaf_signature, call.leaves)), call.static_key())
        axes = bound_axes()  # inside vmaps naming their axes, whose sizes a trace may read:
        if axes:             # such a trace is for them only (the fast key never finds it)
            key = (*key, axes)
        entry = self._entries.get(key)
        if entry is None or not entry.guard.holds():
            entry = self._trace(call)
            if not any(isinstance(c, Tracer) for c in entry.consts):
                self._entries[key] = entry
                fast = None if self._static or axes else call_signature(args, kwargs)
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
            first = not entry.calls
            if ex.function is None and self._tiered and not ex.ready(inputs, start=not first) \
                    and not ex.wait_for_compiler(inputs, _COMPILER_SHARE * entry.evaluated_in):
                started = time.perf_counter()
                outs = _evaluated(entry, ex, leaves)  # the first tier, while Numba compiles
                entry.evaluated_in = time.perf_counter() - started
                if first:  # its result came without a compile competing for the core
                    ex.ready(inputs)  # (starts it)
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


# Before the evaluator answers a call while Numba compiles on a thread (all but the first),
# the caller waits for the compile up to this many times the evaluator's last call, and
# runs compiled code if it finishes meanwhile: the compiler, which needs the GIL for most of
# its work, gets about 9/10 of the interpreter in a loop of calls, and compiled speed comes
# sooner (issue 15 item 1). Compiled calls are typically 10x the evaluator's speed or more,
# so a loop of calls gets through more of its work by giving the compiler the core than by
# sharing it evenly (on one core, each evaluator call delays the compiled tier by its own
# length); and waiting before a call rather than after it, a call that the compile
# overtakes runs compiled instead of evaluating.
_COMPILER_SHARE = 9.0


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
    """The compiled call of one traced signature, as one generated function of the flat
    arguments with everything that does not depend on their values done once (see
    _call_body)."""
    names = [f"a{i}" for i in range(len(leaves))]
    namespace: dict = {}
    unpack = f"    {', '.join(names)}, = leaves\n" if names else ""
    body = "".join(f"    {line}\n" for line in _call_body(entry, ex, leaves, names, namespace))
    exec(compile(f"def run(leaves):\n{unpack}{body}", "<funcgrad jit call>",  # noqa: S102
                 "exec"), namespace)
    return namespace["run"]


def _call_body(entry: _Entry, ex: compiled.Executable, leaves, names: list[str],
               namespace: dict, overflow: str = "", p: str = "") -> list[str]:
    """The source (for a function whose locals ``names`` hold the flat arguments) that
    calls the compiled function and returns the output tree: the constants (as Numba takes
    them), the conversion of 0-d arguments and results (Numba takes and gives them as
    scalars; results become NumPy scalars of the program's dtype), whether a result may
    need copying to be fresh (see owned_results), and the output tree, built by one
    expression, as lines. Adds the objects it names to ``namespace``, their names starting
    with ``p``. ``overflow``: a statement run when Numba refuses a Python int (too large
    for int64) with OverflowError.

    When every argument is a Python float or bool (the signature's key then fixes Numba's
    types exactly; an int may be too large for int64) it calls the compiled function's
    entry point, skipping the Numba dispatcher's type dispatch; arrays go through the
    dispatcher, which checks their memory layout."""
    tables = [f"{p}table{k}" for k in range(len(ex.tables))]
    namespace.update(zip(tables, ex.tables))
    namespace.update({f"{p}function": ex.function, f"{p}locate": ex.locate,
                      f"{p}explain": ex.explain, "owned_results": owned_results,
                      f"{p}program": entry.program, "LargeTrigArgument": LargeTrigArgument,
                      f"{p}exact": ex.run_exact_trig})
    consts = scalars(entry.consts)
    namespace.update({f"{p}k{i}": c for i, c in enumerate(consts)})
    entry_point = _entry_point(ex.function, [*consts, *leaves], ex.tables)
    if entry_point is not None:
        namespace[f"{p}function"] = entry_point
    inputs = list(names)
    if entry.scalarize:  # 0-d array arguments (the key fixes which are 0-d) as scalars
        inputs = [f"{n}[()]" if type(x) is np.ndarray and not x.shape else n
                  for n, x in zip(names, leaves)]
    values = ", ".join([f"{p}k{i}" for i in range(len(consts))] + inputs)
    arguments = ", ".join(([values] if values else []) + tables)
    results = [f"o[{k}]" if t is None else f"(o[{k}] * ONE)" if t is np.float64 else
               f"{p}t{k}(o[{k}])"
               for k, t in enumerate(ex.scalars or [None] * len(entry.program.outvars))]
    namespace.update({f"{p}t{k}": t for k, t in enumerate(ex.scalars or ()) if t is not None})
    namespace["ONE"] = _ONE
    lines = []
    if ex.threads is not None:  # Numba's thread count is per calling thread
        namespace["set_threads"] = threads_of_numba
        lines.append(f"set_threads({ex.threads})")
    lines += ["try:", f"    o = {p}function({arguments})",
              "except LargeTrigArgument:",  # rerun by the variant with the C library's trig
              f"    o = {p}exact({values})",
              "except IndexError as err:", f"    raise {p}locate(err) from None"]
    if overflow and any(type(x) is int for x in leaves):
        lines += ["except OverflowError:", f"    {overflow}", "    raise"]
    lines += ["except Exception as err:", f"    raise {p}explain(err) from err"]
    if _may_copy(entry.program):
        lines.append(f"o = owned_results({p}program, [" + ", ".join(results) + "], True)")
        results = [f"o[{k}]" for k in range(len(results))]
    tree = _expression(_example(entry.out_tree))
    if tree is None:
        namespace[f"{p}build"] = lambda outs: unflatten(entry.out_tree, outs)
        tree = f"{p}build([" + ", ".join(results) + "])"
    else:
        tree = re.sub(r"o\[(\d+)\]", lambda m: results[int(m.group(1))], tree)
    lines.append(f"return {tree}")
    return lines


# A float times it is that float as a NumPy float64, exactly (-0.0, inf and nan included),
# in half the time of calling np.float64.
_ONE = np.float64(1.0)


_MAX_FAST = 4  # signatures one generated __call__ checks, in the order they came


class _Block:
    """One signature's part of a generated ``__call__`` (see _fast_call): how many positional
    arguments, the condition that a call is of this signature (binding its leaves), the
    body calling the compiled code, and the objects they name (prefixed: unique)."""

    __slots__ = ("arity", "condition", "body", "namespace")

    def __init__(self, arity: int, condition: list[str], body: list[str], namespace: dict):
        self.arity, self.condition, self.body, self.namespace = arity, condition, body, namespace


_blocks = itertools.count()
_GIVEN = "GIVEN"  # in a block's body: the positional arguments given (see _fast_call)


def _fast_block(entry: _Entry, args: tuple, leaves) -> _Block | None:
    """``entry``'s signature as a _Block: conditions that the positional arguments have the
    structure, types, shapes and dtypes of ``args`` (binding the leaves as they go) and that
    the guard holds (its identity checks inline when they are quick), and the body of
    ``_runner``. None if ``args`` hold something not checked inline (namedtuples, custom
    nodes, objects)."""
    p = f"e{next(_blocks)}_"
    namespace: dict = {}
    tops = [f"x{i}" for i in range(len(args))]
    conds: list[str] = []
    names: list[str] = []
    for top, x in zip(tops, args):
        if not _checks(top, x, conds, names, namespace, p):
            return None
    if len(names) != len(leaves) or not _picks(tops, conds, names, namespace, args, leaves):
        return None
    tests = quick_chain_tests(entry.guard.links, namespace, f"{p}G")
    if tests is None:
        namespace[f"{p}guard"] = entry.guard.holds
        tests = [f"{p}guard()"]
    ex = entry.executable
    assert ex is not None
    body = _call_body(entry, ex, leaves, names, namespace,
                      f"overflowed(self, {_GIVEN}, kwargs)", p)
    return _Block(len(args), conds + tests, body, namespace)


def _fast_call(blocks: list[_Block]) -> Callable:
    """One generated ``__call__`` answering the signatures of ``blocks`` (a polymorphic
    inline cache): when there are no keyword arguments, no trace is under way and jit is not
    disabled, each block's condition in turn, and the body of the first that holds; jit's
    general path (Jitted._call) otherwise. The positional arguments arrive as
    positional-only parameters defaulting to _ABSENT: no tuple of them is made, and a
    signature of fewer arguments checks that no more were given."""
    arity = max(b.arity for b in blocks)
    tops = [f"x{i}" for i in range(arity)]
    parameters = "".join(f"{t}=ABSENT, " for t in tops) + ("/, " if tops else "")
    given = f"given(({''.join(t + ', ' for t in tops)}), rest)"
    namespace: dict = {"ndarray": np.ndarray, "traces": live_traces, "off": compiled_off,
                       "given": _given, "ABSENT": _ABSENT, "general": Jitted._call,
                       "overflowed": Jitted._overflowed}
    lines = [f"def __call__(self, {parameters}*rest, **kwargs):",
             "    if not (rest or kwargs or traces or off[0]):"]
    for b in blocks:
        namespace.update(b.namespace)
        condition = [f"{t} is ABSENT" for t in tops[b.arity:]] + b.condition
        lines += ["        try:",
                  "            hit = (" + ("\n                   and ".join(condition) or "True")
                  + ")",
                  "        except (ValueError, KeyError):  # a key, an emptied cell, a global",
                  "            hit = False",
                  "        if hit:"]
        lines += ["            " + line.replace(_GIVEN, given) for line in b.body]
    lines.append(f"    return general(self, {given}, kwargs)")
    exec(compile("\n".join(lines) + "\n", "<funcgrad jit fast path>", "exec"),  # noqa: S102
         namespace)
    call: Callable = namespace["__call__"]
    return call


class _Absent:
    """The default of a fast path's positional parameters: no argument was given."""

    __slots__ = ()


_ABSENT = _Absent()


def _given(positional: tuple, rest: tuple) -> tuple:
    """The positional arguments a fast path was called with."""
    if positional and positional[-1] is _ABSENT:
        positional = tuple(a for a in positional if a is not _ABSENT)
    return positional + rest if rest else positional


def _picks(tops, conds, names, namespace, args, leaves) -> bool:
    """Whether the generated checks accept ``args`` and bind the very leaves the general
    path found, in its order (a check of _checks against call_signature)."""
    probe = {"ndarray": np.ndarray, **namespace}
    exec(compile(f"def leaves_of({', '.join(tops)}):\n    try:\n"  # noqa: S102
                 f"        if {' and '.join(conds) or 'True'}:\n"
                 f"            return [{', '.join(names)}]\n"
                 "    except (ValueError, KeyError):\n        pass\n",
                 "<funcgrad jit probe>", "exec"), probe)
    picked = probe["leaves_of"](*args)
    return picked is not None and len(picked) == len(leaves) and \
        all(a is b for a, b in zip(picked, leaves))


def _checks(expr: str, x, conds: list, names: list, namespace: dict, p: str) -> bool:
    """Append to ``conds`` the conditions that ``expr`` has the structure, types, shapes and
    dtypes of ``x``, binding its leaves (by ``:=``) to the names appended to ``names`` in
    the order call_signature walks them (the objects they name added to ``namespace``,
    their names starting with ``p``). False if ``x`` holds something not checked inline."""
    t = type(x)
    n = len(names)
    leaf = expr if expr.isidentifier() else f"a{n}"
    bind = leaf if leaf == expr else f"({leaf} := {expr})"
    if t is np.ndarray:
        namespace[f"{p}s{n}"], namespace[f"{p}d{n}"] = x.shape, x.dtype
        conds.append(f"type({bind}) is ndarray and {leaf}.shape == {p}s{n} "
                     f"and {leaf}.dtype is {p}d{n}")
    elif t is float or t is int or t is bool:
        conds.append(f"type({bind}) is {t.__name__}")
    elif isinstance(x, (np.number, np.bool_)):  # a NumPy scalar: its type fixes its dtype
        namespace[f"{p}T{n}"] = t
        conds.append(f"type({bind}) is {p}T{n}")
    elif x is None:
        conds.append(f"{expr} is None")
        return True
    elif t is tuple or t is list or t is dict:
        node = expr
        if not expr.isidentifier():
            node = f"n{len(conds)}"
            expr = f"({node} := {expr})"
        conds.append(f"type({expr}) is {t.__name__} and len({node}) == {len(x)}")
        if t is dict:
            if not all(type(k) is str for k in x):
                return False  # (other keys may hash, compare or sort in surprising ways)
            parts = [(f"{node}[{k!r}]", x[k]) for k in sorted(x)]  # a missing key: KeyError
        else:
            parts = [(f"{node}[{i}]", e) for i, e in enumerate(x)]
        return all(_checks(sub, e, conds, names, namespace, p) for sub, e in parts)
    else:
        return False
    names.append(leaf)
    return True


def _entry_point(dispatcher, args, tables):
    """The compiled function's entry point for ``args`` and ``tables`` (C-contiguous arrays
    of funcgrad's) if all ``args`` are Python floats or bools, else None."""
    if not all(type(a) is float or type(a) is bool for a in args):
        return None
    import numba
    overload = dispatcher.overloads.get(tuple(numba.typeof(a) for a in [*args, *tables]))
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
        threads: int | None = None, donate_argnums: int | Sequence[int] = (),
        donate_argnames: str | Sequence[str] = ()):
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

    ``donate_argnums`` and ``donate_argnames`` are accepted, so that code written for JAX
    runs, and change nothing: compiled code never writes into its arguments, so there is no
    buffer to reuse, and a donated argument stays valid (JAX deletes it).

    Example:
        >>> step = fg.jit(fg.value_and_grad(lambda w: fnp.sum(fnp.tanh(w) ** 2)))
        >>> value, grad = step(np.ones(3))
    """
    _check_donations(donate_argnums, donate_argnames)
    if fun is None:  # @jit(static_argnums=...)
        return lambda f: Jitted(f, static_argnums, static_argnames, compile, threads)
    return Jitted(fun, static_argnums, static_argnames, compile, threads)


def _check_donations(argnums, argnames):
    """Donations do nothing here (see jit), but a wrong one is still an error, as in JAX."""
    nums = (argnums,) if isinstance(argnums, int) else argnums
    names = (argnames,) if isinstance(argnames, str) else argnames
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise FuncgradTypeError(f"jit: donate_argnums must be ints, got {argnums!r}")
    if not all(isinstance(name, str) for name in names):
        raise FuncgradTypeError(f"jit: donate_argnames must be strings, got {argnames!r}")
