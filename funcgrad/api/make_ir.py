"""make_ir: a function's Program, as the user sees it printed."""

from __future__ import annotations

from funcgrad.core.arguments import FunctionArgs
from funcgrad.core.evaluate import ClosedProgram
from funcgrad.core.tracing import trace_flat


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
    def traced(*args, **kwargs) -> ClosedProgram:
        call = FunctionArgs(fun, args, kwargs, static_argnums)
        program, consts = trace_flat(call.flat_function(), call.avals())
        return ClosedProgram(program, consts, call.in_tree, call.out_tree)

    traced.__name__ = f"make_ir({getattr(fun, '__name__', 'function')})"
    return traced
