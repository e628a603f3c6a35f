"""Running a Program: with NumPy on arrays, or by re-recording it into the active trace.

``evaluate`` is the NumPy backend (what ``grad`` without ``jit`` runs): the program is turned
once into a list of steps over numbered slots, so each call costs one NumPy call per equation
and little else. ``inline`` replays a program's equations into the current trace, which is
how a transform applies one Program to the tracers of another.
"""

from __future__ import annotations

from funcgrad.core.ir import Literal, Program
from funcgrad.core.tracing import Tracer, current_trace, source_of
from funcgrad.core.types import weak_value


def _plan(program: Program):
    slots: dict[int, int] = {}
    initial: list = []

    def slot(atom):
        if isinstance(atom, Literal):
            initial.append(atom.value)
            return len(initial) - 1
        return slots[id(atom)]

    for v in program.inputs:
        slots[id(v)] = len(initial)
        initial.append(None)
    steps = []
    for eqn in program.equations:
        ins = tuple(slot(a) for a in eqn.inputs)
        outs = []
        for v in eqn.outputs:
            slots[id(v)] = len(initial)
            initial.append(None)
            outs.append(slots[id(v)])
        multiple = eqn.primitive.multiple_results
        impl = eqn.primitive.impl
        if not multiple and eqn.outputs[0].aval.weak_type:
            impl = _giving_python_scalars(impl)
        steps.append((impl, ins, eqn.params, outs if multiple else outs[0], multiple))
    results = [slot(v) for v in program.outvars]
    return len(program.inputs), initial, steps, results


def _giving_python_scalars(impl):
    """``impl`` for a weak output: NumPy returns a NumPy scalar, which would promote as strong
    in the equations that use it; the program's types say it is weak (a Python number)."""
    def weak_impl(*args, **params):
        return weak_value(impl(*args, **params))
    return weak_impl


def evaluate(program: Program, args) -> list:
    """The outputs of ``program`` on concrete ``args`` (its constvars' values first)."""
    n_in, initial, steps, results = program.cached("numpy_plan", _plan)
    env = initial.copy()
    env[:n_in] = args
    for impl, ins, params, out, multiple in steps:
        value = impl(*[env[i] for i in ins], **params)
        if multiple:
            for o, x in zip(out, value):
                env[o] = x
        else:
            env[out] = value
    return [env[i] for i in results]


def inline(program: Program, args) -> list:
    """Record ``program``'s equations into the current trace, applied to ``args``."""
    env = {id(v): x for v, x in zip(program.inputs, args)}

    def read(atom):
        return atom.value if isinstance(atom, Literal) else env[id(atom)]

    for eqn in program.equations:
        with source_of(eqn.source):
            out = eqn.primitive.bind(*[read(a) for a in eqn.inputs], **eqn.params)
        for v, x in zip(eqn.outputs, out if eqn.primitive.multiple_results else (out,)):
            env[id(v)] = x
    return [read(v) for v in program.outvars]


def run(program: Program, args) -> list:
    """Apply ``program`` to ``args``: inline into the active trace, or evaluate with NumPy."""
    if current_trace() is not None or any(isinstance(a, Tracer) for a in args):
        return inline(program, args)
    return evaluate(program, args)
