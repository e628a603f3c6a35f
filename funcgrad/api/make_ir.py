"""make_ir: a function's Program, as the user sees it printed; evaluate: run one."""

from __future__ import annotations

import numpy as np

from funcgrad import tree
from funcgrad.core import evaluate as _evaluate
from funcgrad.core.arguments import FunctionArgs, check_function
from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.evaluate import ClosedProgram, owned_results
from funcgrad.core.ir import Program
from funcgrad.core.tracing import Tracer, current_trace, trace_flat
from funcgrad.core.types import aval_of


def make_ir(fun, static_argnums=()):
    """Trace ``fun`` and return its Program, as ``make_ir(fun)(*args)``.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> print(fg.make_ir(lambda x: fnp.sin(x) * 2.0)(1.0))
        { lambda a:f64[] .
            b:f64[] = sin a       # <...>:1
            c:f64[] = mul b 2.0   # <...>:1
          in (c) }
    """
    check_function(fun, "make_ir")

    def traced(*args, **kwargs) -> ClosedProgram:
        call = FunctionArgs(fun, args, kwargs, static_argnums)
        program, consts = trace_flat(call.flat_function(), call.avals())
        return ClosedProgram(program, consts, call.in_tree, call.out_tree)

    traced.__name__ = f"make_ir({getattr(fun, '__name__', 'function')})"
    return traced


class ShapeDtypeStruct:
    """The shape and dtype of an array, without its values (JAX's ``jax.ShapeDtypeStruct``).
    A leaf of pytrees, like an array.

    Example:
        >>> fg.ShapeDtypeStruct((2, 3), np.float32)
        ShapeDtypeStruct(shape=(2, 3), dtype=float32)
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)

    def __eq__(self, other):
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype) == (
            other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"


def eval_shape(fun, *args, **kwargs):
    """The shapes and dtypes of ``fun(*args, **kwargs)``, found by tracing it: nothing is
    computed (JAX's ``jax.eval_shape``). Arguments may be arrays or ShapeDtypeStructs.

    Example:
        >>> x = fg.ShapeDtypeStruct((4, 3), np.float64)
        >>> fg.eval_shape(lambda x: (x @ x.T, fnp.sum(x)), x)
        (ShapeDtypeStruct(shape=(4, 4), dtype=float64), ShapeDtypeStruct(shape=(), dtype=float64))
    """
    check_function(fun, "eval_shape")
    args, kwargs = tree.map(_placeholder, (args, kwargs))
    closed = make_ir(fun)(*args, **kwargs)
    outs = [ShapeDtypeStruct(tuple(v.aval.shape), v.aval.dtype)
            for v in closed.program.outvars]
    return tree.unflatten(closed.out_tree, outs)


def _placeholder(x):
    """An array standing for a ShapeDtypeStruct: tracing reads only its shape and dtype."""
    if isinstance(x, ShapeDtypeStruct):
        return np.zeros(x.shape, np.dtype(x.dtype))
    return x
def evaluate(program: Program, args) -> list:
    """The outputs of ``program`` on concrete ``args`` (the values of its constvars first,
    then its invars), computed with NumPy. Every array returned is new (never one of
    ``args`` or a view of one), writable and C-contiguous. Inside a trace, the program is
    recorded into it instead.

    Example:
        >>> w = np.array([1.0, 2.0])
        >>> closed = fg.make_ir(lambda x: fnp.sum(w * x))(np.zeros(2))
        >>> fg.evaluate(closed.program, [w, np.array([3.0, 4.0])])
        [np.float64(11.0)]
    """
    if not isinstance(program, Program):
        raise FuncgradTypeError(f"evaluate needs a Program (make_ir(f)(*args).program), got "
                                f"{type(program).__name__}")
    args = list(args)
    inputs = program.inputs
    if len(args) != len(inputs):
        raise FuncgradTypeError(f"this program takes {len(inputs)} inputs ({len(program.constvars)}"
                                f" constants, then {len(program.invars)} arguments), got "
                                f"{len(args)}")
    for i, (x, v) in enumerate(zip(args, inputs)):
        aval = x.aval if isinstance(x, Tracer) else aval_of(x, f" (input {i})")
        if (aval.shape, aval.dtype) != (v.aval.shape, v.aval.dtype):
            raise FuncgradTypeError(f"input {i} is {aval}, but the program takes {v.aval}")
    if current_trace() is not None or any(isinstance(x, Tracer) for x in args):
        return _evaluate.inline(program, args)
    return owned_results(program, _evaluate.evaluate(program, args))
