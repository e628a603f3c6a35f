"""Primitives: the named operations Programs are made of, each with all of its rules.

A primitive knows how to compute itself with NumPy (``impl``), what shape and dtype it
returns (``shape_rule``), how to pull a cotangent back through itself (``vjp``), and how to
become Numba code (``lowering``). Everything about one operation lives in one declaration,
in funcgrad/ops/.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from funcgrad.core.types import ShapedArray

REGISTRY: dict[str, Primitive] = {}
_RULE_CACHE_SIZE = 4096  # per primitive; cleared when full (shapes seen by one program recur)


class Primitive:
    """An operation of the IR.

    Rules (all optional but ``impl`` and ``shape_rule``):
      impl(*values, **params)         NumPy implementation, for the evaluator and eager calls
      shape_rule(*avals, **params)    output aval(s); raises ShapeError/FuncgradTypeError
      vjp(cts, inputs, outputs, active, **params)
                                      cotangents of the inputs (None = zero) given those of
                                      the outputs; written with funcgrad.numpy, so it traces
      lowering                        what compile/codegen needs to emit Numba code
      simplify(trace, out_aval, *args, **params)
                                      a shortcut taken while tracing instead of recording the
                                      equation (x * 1 -> x), or None
      vjp_fwd(inputs, active, **params) -> (outputs, residuals)
      vjp_bwd(residuals, cts, active, **params) -> input cotangents
                                      instead of ``vjp``, for primitives that must choose what
                                      their forward pass saves (calls of sub-programs)
    ``differentiable=False`` declares a zero derivative (comparisons, argmax, floor...).
    """

    def __init__(self, name: str, *, impl: Callable, shape_rule: Callable,
                 vjp: Callable | None = None, differentiable: bool = True,
                 multiple_results: bool = False, elementwise: bool = False,
                 lowering: Any = None, simplify: Callable | None = None,
                 vjp_fwd: Callable | None = None, vjp_bwd: Callable | None = None):
        if name in REGISTRY:
            raise ValueError(f"primitive {name!r} is declared twice")
        self.name = name
        self.impl = impl
        self.shape_rule = shape_rule
        self.vjp = vjp
        self.differentiable = differentiable
        self.multiple_results = multiple_results
        self.elementwise = elementwise
        self.lowering = lowering
        self.simplify = simplify
        self.vjp_fwd = vjp_fwd
        self.vjp_bwd = vjp_bwd
        self._rule_cache: dict = {}
        REGISTRY[name] = self

    def bind(self, *args, **params):
        """Apply the primitive: record it in the active trace, or compute it with NumPy."""
        trace = current_trace()
        if trace is not None:
            return trace.emit(self, args, params)
        return self.eager(args, params)

    __call__ = bind

    def eager(self, args, params):
        for x in args:
            if isinstance(x, Tracer):  # no trace is active, so x's trace has finished
                raise escaped_tracer_error(x)
        args = [np.asarray(x) if type(x) in (list, tuple) else x for x in args]
        # Check shapes with the same rule tracing uses, so eager and traced calls fail alike.
        self.abstract_eval([aval_of(x) for x in args], params)
        return self.impl(*args, **params)

    def abstract_eval(self, avals: list[ShapedArray], params: dict) -> list[ShapedArray]:
        """The output avals, always as a new list; errors (FuncgradErrors) name the user's line.

        Shape rules are pure, and tracing asks each the same few questions over and over (every
        layer, every step), so answers are remembered per (avals, params). Returning the same
        aval objects also makes the next lookup's key comparison an identity check."""
        try:
            key = (*avals, *params.items())
            out = self._rule_cache.get(key)
        except TypeError:  # an unhashable param: compute every time
            key = out = None
        if out is None:
            out = self.shape_rule(*avals, **params)
            out = tuple(out) if self.multiple_results else (out,)
            if key is not None:
                if len(self._rule_cache) >= _RULE_CACHE_SIZE:
                    self._rule_cache.clear()
                self._rule_cache[key] = out
        return list(out)

    def __repr__(self):
        return f"Primitive({self.name})"


def elementwise_vjp(*per_input: Callable | None) -> Callable:
    """A vjp rule from one function per input, ``lambda g, ans, *inputs, **params: ...``, as
    autograd writes them. Results are summed back over broadcast axes so each cotangent has its
    input's shape."""
    from funcgrad.ops.shape import unbroadcast

    def vjp(cts, inputs, outputs, active, **params):
        (g,), (ans,) = cts, outputs
        out = []
        for rule, x, on in zip(per_input, inputs, active):
            ct = rule(g, ans, *inputs, **params) if rule is not None and on else None
            out.append(None if ct is None else unbroadcast(ct, x))  # a rule may say zero: None
        return out
    return vjp


from funcgrad.core.tracing import (Tracer, current_trace,  # noqa: E402
                                   escaped_tracer_error)
from funcgrad.core.types import aval_of  # noqa: E402
