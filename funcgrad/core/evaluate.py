"""Running a Program: with NumPy on arrays, or by re-recording it into the active trace.

``evaluate`` is the NumPy backend (what ``grad`` without ``jit`` runs). A program is turned
once into straight-line Python source, one line per equation, and executed from then on:
a call costs one NumPy call per equation and almost nothing else (no interpreter loop over
equations, no argument lists built per step).

(A program's first evaluation is interpreted instead; see ``evaluate``.)

The values it computes follow the program's avals, weak types included: a weak scalar (the
type of a Python number) stays a Python number, so NumPy promotes it as weak (NEP 50), as the
shape rules did while tracing; a float32 argument's gradient stays float32 even when a
Python float took part.

Two versions of the source are built. The fast one writes arithmetic on arrays as operators
and computes weak float scalars (Python floats) with Python's operators and ``math``, which is
ten times cheaper than a NumPy call on a scalar. Where Python and NumPy semantics differ
(1.0 / 0.0, math.log(0.0), math.exp(1000.0)), Python raises; then the call is redone by the
plain version, which calls each primitive's NumPy implementation, so results and warnings
are NumPy's.

``inline`` replays a program's equations into the current trace, which is how a transform
applies one Program to the tracers of another.
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad.core.errors import NAMES_A_LINE, FuncgradTypeError
from funcgrad.core.ir import Literal, Program, Var, format_program
from funcgrad.core.rules import REGISTRY
from funcgrad.core.interpret import bind_equation, dead_after, interpret
from funcgrad.core.tracing import Tracer, current_trace
from funcgrad.core.types import aval_of

# Arithmetic as Python operators: on NumPy operands exactly the ufunc (same promotion, same
# warnings), on two Python floats Python's own (which raises where NumPy would warn).
_OPERATORS = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}",
              "div": "{0} / {1}", "neg": "-{0}"}
# Functions of one weak float scalar (a Python float) that math computes as NumPy does,
# raising ValueError or OverflowError where NumPy would return nan or inf.
_MATH = {"sin", "cos", "tan", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt",
         "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
         "arctanh", "erf"}
_MATH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
               "arccosh": "acosh", "arctanh": "atanh"}
_PYTHON_FAILS = (ArithmeticError, ValueError)


def evaluate(program: Program, args) -> list:
    """The outputs of ``program`` on concrete ``args`` (its constvars' values first).

    A program's first evaluation is interpreted; from its second on, it runs compiled
    (compiling costs about as much as tracing: not worth it for programs run once, such as
    those of functions that branch on values, which grad traces anew for each call).

    Example:
        >>> w = np.array([1.0, 2.0])
        >>> closed = fg.make_ir(lambda x: fnp.sum(w * x))(np.zeros(2))
        >>> fg.evaluate(closed.program, [w, np.array([3.0, 4.0])])
        [np.float64(11.0)]
    """
    cache = program._cache
    fn = cache.get("numpy_fn")
    if fn is None:
        if "numpy_ran" not in cache:
            cache["numpy_ran"] = True
            return _interpret(program, args)
        fn = program.cached("numpy_fn", compile_program)
    try:
        return fn(*args)
    except np.linalg.LinAlgError:  # step by step again, to say which line of the user's
        return _interpret(program, args)  # code met the singular matrix (_apply_impl)


def compile_program(program: Program):
    """``program`` as a Python function of its inputs returning the list of its outputs."""
    plain = _build(program, fast=False)
    fast = _build(program, fast=True)
    if fast is plain:
        return plain

    def run(*args):
        try:
            return fast(*args)
        except _PYTHON_FAILS:
            return plain(*args)
    return run


def _build(program: Program, fast: bool):
    names: dict[int, str] = {}
    namespace: dict = {"_weak": _weak, "_cast": _cast, "math": math}
    uses_python = False

    def name(atom):
        if isinstance(atom, Literal):
            key = f"c{len(namespace)}"
            namespace[key] = atom.value
            return key
        return names[id(atom)]

    def new(var):
        names[id(var)] = f"v{len(names)}"
        return names[id(var)]

    dead = program.cached("dead_after", dead_after)
    params = ", ".join(new(v) for v in program.inputs)
    lines = [f"def run({params}):"]
    for k, eqn in enumerate(program.equations):
        prim, avals = eqn.primitive, [a.aval for a in eqn.inputs]
        ins = [name(a) for a in eqn.inputs]
        if not eqn.outputs:  # run for its effect (a debug callback): a statement
            namespace[f"f{k}"] = prim.impl
            namespace[f"p{k}"] = eqn.params
            lines.append(f"    f{k}({''.join(i + ', ' for i in ins)}**p{k})")
            lines += [f"    del {', '.join(names[id(v)] for v in dead[k])}"] if dead[k] else []
            continue
        out_aval = eqn.outputs[0].aval
        weak_scalar = out_aval.weak_type and out_aval.shape == ()
        expr = None
        numpy_operand = any(not a.weak_type and a.dtype.kind == "f" for a in avals)
        # operators: on NumPy operands, or on Python numbers only (see the module docstring)
        if fast and prim.name in _OPERATORS and out_aval.dtype.kind == "f" \
                and (numpy_operand or all(a.weak_type for a in avals)):
            expr = _OPERATORS[prim.name].format(*ins)
            uses_python = True
        elif fast and prim.name in _MATH and weak_scalar and out_aval.dtype.kind == "f":
            expr = f"math.{_MATH_NAMES.get(prim.name, prim.name)}({ins[0]})"
            uses_python = True
        if expr is None:
            namespace[f"f{k}"] = prim.impl
            for key, value in eqn.params.items():
                namespace[f"p{k}_{key}"] = value
            arguments = ins + [f"{key}=p{k}_{key}" for key in eqn.params]
            expr = f"f{k}({', '.join(arguments)})"
            if weak_scalar and not prim.multiple_results:
                expr = f"_weak({expr})"  # a Python number, as NumPy's promotion expects
        if any(a.weak_type and a.shape != () for a in avals) and not prim.multiple_results:
            # NumPy has no weak arrays: restore the dtype the shape rule gave
            namespace[f"d{k}"] = out_aval.dtype
            expr = f"_cast({expr}, d{k})"
        outs = [new(v) for v in eqn.outputs]
        target = ", ".join(outs) + ("," if prim.multiple_results and len(outs) == 1 else "")
        lines.append(f"    {target} = {expr}")
        if dead[k]:  # (see interpret.dead_after)
            lines.append(f"    del {', '.join(names[id(v)] for v in dead[k])}")
    lines.append(f"    return [{', '.join(name(v) for v in program.outvars)}]")
    if fast and not uses_python:
        return _build(program, fast=False)
    exec(compile("\n".join(lines), f"<funcgrad: {program!r}>", "exec"), namespace)  # noqa: S102
    run = namespace["run"]
    run.source = "\n".join(lines)
    return run


def _interpret(program: Program, args) -> list:
    """Evaluate step by step, with the plain version's semantics."""
    return interpret(program, args, _apply_impl)


def _apply_impl(eqn, args) -> list:
    prim = eqn.primitive
    try:
        value = prim.impl(*args, **eqn.params)
    except np.linalg.LinAlgError as err:  # (a singular matrix: found only when run)
        raise located_linalg_error(err, eqn) from None
    if prim.multiple_results:
        return value
    aval = eqn.outputs[0].aval
    if aval.weak_type and aval.shape == ():
        value = _weak(value)
    if any(a.aval.weak_type and a.aval.shape != () for a in eqn.inputs):
        value = _cast(value, aval.dtype)
    return [value]


def located_linalg_error(err: np.linalg.LinAlgError, eqn) -> np.linalg.LinAlgError:
    """NumPy's or SciPy's error, saying which line of the user's code the failing equation
    came from (unless it says so already: an equation of a loop's body, met first)."""
    message = str(err)
    if eqn.source is None or NAMES_A_LINE.search(message):
        return err
    return np.linalg.LinAlgError(f"{message} ({eqn.primitive.name}, in {eqn.source})")


def _weak(value):
    """A weak scalar's value as a Python number (NumPy returns NumPy scalars)."""
    return value.item() if isinstance(value, (np.generic, np.ndarray)) else value


def _cast(value, dtype):
    return value if getattr(value, "dtype", dtype) == dtype else np.asarray(value, dtype)


def inline(program: Program, args) -> list:
    """Record ``program``'s equations into the current trace, applied to ``args``. An arg
    for an input traced weak (a Python number's type) is made weak, so that the equations
    promote as they did when traced: a derived program (a loop's backward step, a cond's
    backward branch) may pass a strong value there, such as a row of residuals stacked
    over a loop's steps (arrays are never weak)."""
    args = [_weak_arg(x, v.aval) if v.aval.weak_type else x
            for x, v in zip(args, program.inputs)]
    return interpret(program, args, bind_equation)


def _weak_arg(x, aval):
    if not isinstance(x, Tracer):
        return _weak(x)
    if x.aval.weak_type and x.aval.dtype == aval.dtype:
        return x
    # the primitive by name: ops, which declare it, build on core
    return REGISTRY["convert_element_type"].bind(x, dtype=aval.dtype, weak_type=True)


# ---------------------------------------------------------------------------------------
# Results the caller owns


def owned_results(program: Program, outs, compiled: bool = False, count: int | None = None):
    """``program``'s outputs ``outs`` (its first ``count``), made safe to hand to the user:
    each array is fresh memory (never an input, a constant or a view of one, nor shared with
    another output), writable and C-contiguous, so writing into a result changes nothing
    else. Only the outputs that may fail this are looked at (see ``_ownership_plan``), so a
    gradient made of new arrays costs nothing here.

    ``compiled``: ``outs`` came from Numba code, whose new arrays are always C-contiguous."""
    key = "owned_compiled" if compiled else "owned"
    plan = program._cache.get(key)  # on every call's path: no closure, one dict lookup
    if plan is None:
        plan = program._cache[key] = _ownership_plan(program, compiled)
    if not plan:
        return outs
    outs = list(outs)
    for k, must_copy in plan:
        if count is not None and k >= count:
            break
        o = outs[k]
        if type(o) is np.ndarray:
            flags = o.flags
            if must_copy or not (flags.c_contiguous and flags.writeable):
                outs[k] = o.copy()
    return outs


def owned_copies(values, inputs) -> list:
    """``values`` computed once for one call (not by a program run again): each array that
    shares memory with one of ``inputs`` or an earlier value, or is not writable and
    C-contiguous, copied (the slow and general form of ``owned_results``)."""
    out, seen = [], [x for x in inputs if isinstance(x, np.ndarray)]
    for o in values:
        if type(o) is np.ndarray and (not o.flags.c_contiguous or not o.flags.writeable
                                      or any(np.may_share_memory(o, x) for x in seen)):
            o = o.copy()
        out.append(o)
        if isinstance(o, np.ndarray):
            seen.append(o)
    return out


def _allocates(primitive) -> bool:
    """Whether each result is new memory; unknown (a primitive defined elsewhere than with
    core.primitive.Primitive) counts as no, so its results are checked."""
    return getattr(primitive, "allocates", False)


def _ownership_plan(program: Program, compiled: bool) -> tuple:
    """(output index, must copy) for the outputs that may not be fresh arrays.

    Each variable's *roots* are the memory it may live in: an input's own, a new block for
    each result of a primitive that allocates (``Primitive.allocates``), and otherwise (a
    reshape, a transpose, a slice, a call of a sub-program) its operands' roots. An output
    must be copied if a root of it is an input's or a literal's, or an earlier output's;
    the others produced by primitives that do not allocate (a view may be read-only or
    strided), or by any primitive in the NumPy evaluator (a ufunc keeps a transposed
    operand's memory order), are copied only if they are not writable and C-contiguous."""
    roots: dict[int, frozenset] = {id(v): frozenset([("in", j)])
                                   for j, v in enumerate(program.inputs)}
    made_by: dict[int, bool] = {}  # variable -> whether an allocating primitive made it
    for n, eqn in enumerate(program.equations):
        if _allocates(eqn.primitive):
            outs = [frozenset([(n, i)]) for i in range(len(eqn.outputs))]
        else:
            outs = _passed_through(eqn, [_roots_of(a, roots) for a in eqn.inputs])
        for v, r in zip(eqn.outputs, outs):
            roots[id(v)] = r
            made_by[id(v)] = _allocates(eqn.primitive)
    shared = {r for r in roots.values() for r in r if r[0] == "in"}
    plan = []
    for k, out in enumerate(program.outvars):
        mine = _roots_of(out, roots)
        must_copy = bool(mine & shared) or any(r[0] == "literal" for r in mine)
        shared |= mine
        if must_copy or (out.aval.shape and not (compiled and made_by.get(id(out), False))):
            plan.append((k, must_copy))
    return tuple(plan)


def _roots_of(atom, roots) -> frozenset:
    if isinstance(atom, Literal):
        return frozenset([("literal", id(atom))]) if isinstance(atom.value, np.ndarray) \
            else frozenset()
    return roots[id(atom)]


def _passed_through(eqn, in_roots) -> list:
    """The roots of the results of an equation that may return its operands' memory: of a
    sub-program's call, those of the operands its outputs come from; otherwise all of them."""
    sub = eqn.params.get("program")
    if isinstance(sub, Program) and len(sub.inputs) == len(in_roots):
        inner = {id(v): frozenset([j]) for j, v in enumerate(sub.inputs)}
        for eq in sub.equations:
            ins = [inner.get(id(a), frozenset()) if isinstance(a, Var) else frozenset()
                   for a in eq.inputs]
            out = frozenset() if _allocates(eq.primitive) else frozenset().union(*ins)
            for v in eq.outputs:
                inner[id(v)] = out
        return [frozenset().union(*(in_roots[j] for j in inner.get(id(v), frozenset())))
                if isinstance(v, Var) else frozenset() for v in sub.outvars]
    every = frozenset().union(*in_roots)
    return [every] * len(eqn.outputs)


def run(program: Program, args) -> list:
    """Apply ``program`` to ``args``: inline into the active trace, or evaluate with NumPy."""
    if current_trace() is not None or any(isinstance(a, Tracer) for a in args):
        return inline(program, args)
    return evaluate(program, args)


class ClosedProgram:
    """A Program together with the values of its constvars, as ``make_ir`` returns it.
    Calling it evaluates the program with NumPy on the flat list of array arguments.

    Example:
        >>> w = np.array([1.0, 2.0])
        >>> closed = fg.make_ir(lambda x: fnp.sum(w * x))(np.zeros(2))
        >>> closed.consts
        (array([1., 2.]),)
        >>> closed(np.array([3.0, 4.0]))
        [np.float64(11.0)]
    """

    __slots__ = ("program", "consts", "in_tree", "out_tree")

    def __init__(self, program: Program, consts, in_tree=None, out_tree=None):
        self.program = program
        self.consts = tuple(consts)
        self.in_tree = in_tree
        self.out_tree = out_tree

    def __call__(self, *args):
        """Evaluate with NumPy on flat array arguments; returns the flat list of outputs."""
        self.check_arguments(args)
        return owned_results(self.program, evaluate(self.program, [*self.consts, *args]))

    def check_arguments(self, args):
        """The program was traced for its inputs' shapes and dtypes: refuse others."""
        invars = self.program.invars
        if len(args) != len(invars):
            raise FuncgradTypeError(f"this program takes {len(invars)} array arguments (the "
                                    f"leaves of its inputs), got {len(args)}")
        for i, (x, v) in enumerate(zip(args, invars)):
            aval = aval_of(x, f" (argument {i})")
            if (aval.shape, aval.dtype) != (v.aval.shape, v.aval.dtype):
                raise FuncgradTypeError(f"argument {i} is {aval}, but the program was traced "
                                        f"for {v.aval}; trace it again for other shapes")

    @property
    def equations(self):
        return self.program.equations

    def __str__(self):
        return format_program(self.program)

    __repr__ = __str__
