"""Tracing: run a Python function on Tracers and record what it does as a Program.

A Trace is a Program under construction. While one is active (the top of the trace stack),
every primitive applied is recorded in it as an Equation. Traces nest: a transform called
inside another transform's trace opens its own, and values of the outer trace that the
inner function uses become explicit constant inputs of the inner Program.

A trace may be *concrete*: its tracers also carry values, so Python control flow on them
works. ``grad`` falls back to that when a function branches on a traced value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from funcgrad.core.errors import (ConcretizationError, FuncgradTypeError,
                                  InPlaceUpdateError, UnexpectedTracerError, user_frame)
from funcgrad.core.ir import Equation, Literal, Program, Source, Var
from funcgrad.core.rules import RuleTable
from funcgrad.core.types import ShapedArray, aval_of, promote_types, weak_value

simplify_rules = RuleTable(
    "simplify", "Shortcuts taken while tracing instead of recording an equation (x * 1 -> x): "
    "rule(trace, out_aval, *args, **params) returns the result, or None to record as usual.")


class _State(threading.local):
    def __init__(self):
        self.stack: list[Trace] = []
        self.source: Source | None = None  # set while a transform re-emits a user's equation


_state = _State()


def current_trace() -> Trace | None:
    stack = _state.stack
    return stack[-1] if stack else None


# Every trace under way, on any thread: empty when none is (list.append and remove are atomic
# under the GIL). jit's generated fast path reads it inline, where calling current_trace (a
# thread-local read) costs a tenth of the call; when it is not empty the call takes jit's
# general path, which asks current_trace.
live_traces: list[Trace] = []


@contextmanager
def source_of(source: Source | None):
    """Attribute the equations emitted inside to ``source`` (the user line they derive from)."""
    saved = _state.source
    _state.source = source
    try:
        yield
    finally:
        _state.source = saved


def _current_source() -> Source | None:
    if _state.source is not None:
        return _state.source
    frame = user_frame()
    return Source(frame.f_code.co_filename, frame.f_lineno) if frame else None


class Trace:
    """A Program being recorded."""

    def __init__(self, concrete: bool = False):
        self.concrete = concrete
        self.invars: list[Var] = []
        self.equations: list[Equation] = []
        self.constvars: list[Var] = []
        self.consts: list = []            # values bound to constvars (arrays or outer tracers)
        self._const_index: dict[int, int] = {}
        self._producers: dict[int, Equation] = {}  # var -> the equation that defines it
        self._operands: dict[int, object] = {}     # var -> the tracer (or constant) it stands for
        self.alive = True
        self._watched: set[int] | None = None      # see watch
        self._passes_derivative: Callable[[object], bool] = bool

    def watch(self, inputs, passes_derivative) -> None:
        """A differentiating transform's concrete trace: ``float()`` and ``.item()`` of a
        value that depends on ``inputs`` (the tracers differentiated) through primitives
        with a derivative (``passes_derivative(primitive)``) are errors, not numbers that
        silently drop it."""
        self._watched = {id(t.ir_var) for t in inputs}
        self._passes_derivative = passes_derivative

    def differentiated(self, tracer: Tracer) -> bool:
        """Whether ``tracer`` of this trace depends on a watched input (see watch)."""
        return self._watched is not None and id(tracer.ir_var) in self._watched

    def _note_dependence(self, primitive, atoms, outputs) -> None:
        watched = self._watched
        assert watched is not None
        if self._passes_derivative(primitive) and any(
                id(a) in watched for a in atoms if isinstance(a, Var)):
            watched.update(id(v) for v in outputs)

    # -- inputs and atoms ------------------------------------------------------------------

    def new_input(self, aval: ShapedArray, value=None) -> Tracer:
        var = Var(aval)
        self.invars.append(var)
        tracer = self._operands[id(var)] = Tracer(self, var, value, None)
        return tracer

    def _const(self, value, aval) -> Var:
        index = self._const_index.get(id(value))
        if index is None:
            index = self._const_index[id(value)] = len(self.consts)
            var = Var(aval)
            self.constvars.append(var)
            self.consts.append(value)  # keeps `value` alive, so its id stays unique
            self._operands[id(var)] = value
            if self._watched is not None and isinstance(value, Tracer) \
                    and value._trace.differentiated(value):  # an enclosing trace's
                self._watched.add(id(var))
        return self.constvars[index]

    def atom(self, x) -> tuple[Var | Literal, object]:
        """The IR atom for an operand, and its value if known (None if not)."""
        if isinstance(x, Tracer):
            if x._trace is self:
                return x.ir_var, x.val
            if not x._trace.alive:
                raise escaped_tracer_error(x)
            return self._const(x, x.ir_var.aval), x.val  # from an enclosing trace
        if type(x) in (list, tuple):
            x = np.asarray(x)
        aval = aval_of(x)
        if isinstance(x, np.ndarray) and not x.dtype.isnative:  # compiled code needs native
            x = x.astype(aval.dtype)
        if aval.shape == ():
            # Python numbers stay Python numbers: NumPy then promotes them as weak (NEP 50)
            value = x[()] if isinstance(x, np.ndarray) else x
            return Literal(value, aval), value
        return self._const(x, aval), x

    def producer(self, x) -> Equation | None:
        """The equation that computed ``x`` in this trace, if any (for simplify rules)."""
        if isinstance(x, Tracer) and x._trace is self:
            return self._producers.get(id(x.ir_var))
        return None

    def value(self, atom):
        """The operand an atom of this trace stands for."""
        return atom.value if isinstance(atom, Literal) else self._operands[id(atom)]

    # -- equations -------------------------------------------------------------------------

    def emit(self, primitive, args, params):
        atoms, values = [], []
        for x in args:
            a, v = self.atom(x)
            atoms.append(a)
            values.append(v)
        out_avals = primitive.abstract_eval([a.aval for a in atoms], params)
        simplify = simplify_rules.get(primitive)
        if simplify is not None:
            shortcut = simplify(self, out_avals[0], *args, **params)
            if shortcut is not None:
                return shortcut
        if primitive.elementwise:
            _check_python_ints(atoms)
        if primitive.elementwise and atoms and all(type(a) is Literal for a in atoms):
            value = primitive.impl(*values, **params)  # constant folding: a scalar, no equation
            return weak_value(value) if out_avals[0].weak_type else value
        outputs = tuple(Var(aval) for aval in out_avals)
        source = _current_source()
        eqn = Equation(primitive, tuple(atoms), params, outputs, source)
        self.equations.append(eqn)
        if self._watched is not None:  # (a derivative transform's concrete trace)
            self._note_dependence(primitive, atoms, outputs)
        out_values = [None] * len(outputs)
        if self.concrete and all(v is not None for v in values):
            result = primitive.impl(*[v.val if isinstance(v, Tracer) else v for v in values],
                                    **params)
            out_values = list(result) if primitive.multiple_results else [result]
            out_values = [weak_value(x) if v.aval.weak_type else x
                          for x, v in zip(out_values, outputs)]
        tracers = []
        for v, val in zip(outputs, out_values):
            tracer = self._operands[id(v)] = Tracer(self, v, val, source)
            self._producers[id(v)] = eqn
            tracers.append(tracer)
        return tracers if primitive.multiple_results else tracers[0]

    def to_program(self, outputs) -> tuple[Program, list]:
        """Finish: the Program computing ``outputs`` and the values of its constvars."""
        outvars = [self.atom(x)[0] for x in outputs]
        program = Program(self.constvars, self.invars, self.equations, outvars)
        return program, list(self.consts)


def _check_python_ints(atoms):
    """A Python int operand must fit the integer dtype the operation computes in, as NumPy
    requires (``np.uint8(1) + 300`` raises): written into compiled code it would wrap
    around silently (issue 14)."""
    weak = [a for a in atoms
            if type(a) is Literal and a.aval.weak_type and a.aval.dtype.kind == "i"]
    if not weak or len(weak) == len(atoms):
        return
    dtype = promote_types(*[a.aval for a in atoms])[0]
    if dtype.kind not in "iu":
        return
    info = np.iinfo(dtype)
    for a in weak:
        if not info.min <= int(a.value) <= info.max:
            frame = user_frame()
            where = f" (at {Source(frame.f_code.co_filename, frame.f_lineno)})" if frame else ""
            raise OverflowError(f"Python integer {int(a.value)} out of bounds for {dtype.name}"
                                f"{where}: NumPy refuses it too; convert the array to a wider "
                                f"dtype first (x.astype(np.int64))")


@contextmanager
def new_trace(concrete: bool = False):
    trace = Trace(concrete)
    _state.stack.append(trace)
    live_traces.append(trace)
    try:
        yield trace
    finally:
        trace.alive = False
        # Tracers point to their trace and the trace to them: drop the trace's side so the
        # finished trace is freed by reference counting, not left to the cyclic GC.
        trace._operands.clear()
        trace._producers.clear()
        live_traces.remove(trace)
        popped = _state.stack.pop()
        assert popped is trace, "trace stack out of order"


@contextmanager
def no_trace():
    """Run NumPy eagerly even inside a trace (used when evaluating concrete values)."""
    saved = _state.stack
    _state.stack = []
    try:
        yield
    finally:
        _state.stack = saved


# ---------------------------------------------------------------------------------------
# Tracers


def escaped_tracer_error(tracer: Tracer) -> UnexpectedTracerError:
    made = f", created at {tracer.source}" if tracer.source else ""
    frame = user_frame()
    used = f" at {Source(frame.f_code.co_filename, frame.f_lineno)}" if frame else ""
    return UnexpectedTracerError(
        f"a traced value ({tracer.aval}{made}) was used{used} after the trace that made it had "
        "finished. It escaped its function while being traced: stored in a global, an outer "
        "variable or an object attribute. Return it from the function instead.")


def concretization_error(tracer: Tracer, what: str) -> ConcretizationError:
    return ConcretizationError(
        f"{what} needs a concrete value, but this {tracer.aval} is traced: under jit, vmap "
        "and make_ir, funcgrad records your function once, without the values of its inputs, so "
        "Python control flow (if, while, bool(), int(), float()) cannot depend on array "
        "values. Write an `if` as lax.cond(pred, true_fun, false_fun, *operands) and a loop as "
        "lax.while_loop(cond_fun, body_fun, init) (or lax.fori_loop, lax.scan), with "
        "`from funcgrad import lax`; use fnp.where(condition, x, y) to choose elementwise, or "
        "pass the value as a static argument (static_argnums). grad without jit handles this "
        "by re-tracing with concrete values.")


def derivative_dropped_error(tracer: Tracer, what: str) -> ConcretizationError:
    return ConcretizationError(
        f"{what} of a value being differentiated ({tracer.aval}) would drop its derivative: "
        "the Python number it makes is a constant to funcgrad, so the derivative would be "
        "silently wrong (JAX refuses this too). Keep the value an array: funcgrad.numpy "
        "functions instead of math's (fnp.exp(x), not math.exp(x)), fnp.where or lax.cond "
        "to choose. If a constant is meant, say so: float(fg.stop_gradient(x)). (bool() and "
        "int() are fine: an `if` on a value, or an integer made from it, has no derivative "
        "to drop.)")


class Tracer:
    """A stand-in for an array while a function is traced. Behaves like a NumPy array."""

    __slots__ = ("_trace", "ir_var", "val", "source")  # (_trace: ndarray's x.trace() is
    # a method, which the NumPy layer installs)
    __array_priority__ = 1000  # NumPy defers binary operators to us

    def __init__(self, trace: Trace, var: Var, val, source):
        self._trace = trace
        self.ir_var = var
        self.val = val          # the concrete value, when tracing concretely; else None
        self.source = source    # where it was created, for error messages

    aval = property(lambda self: self.ir_var.aval)
    shape = property(lambda self: self.ir_var.aval.shape)
    dtype = property(lambda self: self.ir_var.aval.dtype)
    ndim = property(lambda self: len(self.ir_var.aval.shape))
    size = property(lambda self: self.ir_var.aval.size)

    def __repr__(self):
        value = "" if self.val is None else f" value={self.val!r}"
        return f"Tracer<{self.aval}{value}>"

    def __len__(self):
        if not self.shape:
            raise FuncgradTypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise FuncgradTypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    # -- values Python needs concretely ----------------------------------------------------

    def _concrete(self, what):
        if not self._trace.alive:
            raise escaped_tracer_error(self)
        if self.val is None:
            raise concretization_error(self, what)
        return self.val

    def __bool__(self):
        return bool(self._concrete("bool() (an `if`, `while`, `and`, `or` or `not` on an array)"))

    def _number(self, what):
        """The concrete value, for a conversion to a Python number: an error where that
        number would drop a derivative being taken (int() and bool() drop none: their
        derivative is zero)."""
        value = self._concrete(what)
        if self.dtype.kind == "f" and self._trace.differentiated(self):
            raise derivative_dropped_error(self, what)
        return value

    def __int__(self):
        return int(self._concrete("int()"))

    def __float__(self):
        return float(self._number("float()"))

    def __index__(self):
        return self._concrete("using an array as a Python index").__index__()

    def __format__(self, spec):
        if not spec:  # f"{x}" shows the tracer; f"{x:.3f}" needs the number
            return repr(self)
        return format(self._concrete(f"formatting with {spec!r}"), spec)

    def item(self):
        return self._number(".item()").item()

    def tolist(self):
        return self._number(".tolist()").tolist()

    def __complex__(self):
        raise FuncgradTypeError("complex numbers are not supported")

    def __array__(self, dtype=None, copy=None):
        raise FuncgradTypeError(
            f"a traced {self.aval} cannot become a NumPy array: NumPy would need its value, "
            "which is not known while tracing. Use funcgrad.numpy (fnp) functions on traced "
            "values instead of numpy ones.")

    def __setitem__(self, index, value):
        raise InPlaceUpdateError(
            "arrays are immutable inside a traced function, so `x[i] = v` is not allowed. "
            "Use the functional update `x = x.at[i].set(v)` (or .add(v), .multiply(v)).")


# ---------------------------------------------------------------------------------------
# Tracing whole functions


def trace_flat(fn, avals, values=None) -> tuple[Program, list]:
    """Trace ``fn(*flat_inputs) -> flat outputs`` on inputs of the given avals.

    With ``values`` the trace is concrete (its tracers carry them). Returns the Program and the
    values of its constvars (arrays, or tracers of an enclosing trace).
    """
    program, consts, _ = _trace(fn, avals, values)
    return program, consts


def trace_concrete(fn, avals, values, watched=(), passes_derivative=None
                   ) -> tuple[Program, list, dict]:
    """``trace_flat`` with values, also returning the value of every variable (by id).
    ``watched``: the inputs differentiated, by position (see Trace.watch)."""
    return _trace(fn, avals, values, keep_values=True, watched=watched,
                  passes_derivative=passes_derivative)


def _trace(fn, avals, values, keep_values=False, watched=(), passes_derivative=None):
    concrete = values is not None
    with new_trace(concrete) as trace:
        ins = [trace.new_input(aval, values[i] if concrete else None)
               for i, aval in enumerate(avals)]
        if watched:
            trace.watch([ins[i] for i in watched], passes_derivative)
        program, consts = trace.to_program(fn(*ins))
        env = ({k: x.val if isinstance(x, Tracer) else x for k, x in trace._operands.items()}
               if keep_values else None)
    return program, consts, env
