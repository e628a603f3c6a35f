"""``call``: apply a Program, as ``jit`` records itself inside another transform's trace. Its
NumPy implementation runs the program compiled; its VJP differentiates the sub-program and
calls the forward and backward halves (each compiled once), saving between them exactly the
residuals the backward half reads; the code generator splices it into its caller.
"""

from __future__ import annotations

from funcgrad.compile.executable import run_program
from funcgrad.core.ir import Program
from funcgrad.core.primitive import Primitive
from funcgrad.ops.shape import batch_size, to_front
from funcgrad.rules import batch_rules, jvp_rules, vjp_split_rules
from funcgrad.rules.lowering import Inline, lowerings
from funcgrad.transforms.batching import batch_program
from funcgrad.transforms.forward import jvp_program, tangent_outputs
from funcgrad.transforms.reverse import split, split_adjoint, zeros


def _call_impl(*args, program: Program, name: str):
    return run_program(program, args)


def _call_vjp_fwd(inputs, active, *, program, name):
    forward, backward = split_adjoint(program, tuple(active))
    results = call(forward, inputs, name + "_fwd")
    n_out = len(program.outvars)
    return results[:n_out], (results[n_out:], backward)


def _call_vjp_bwd(residuals, cts, active, *, program, name):
    saved, backward = residuals
    cts = [ct if ct is not None else zeros(v.aval) for ct, v in zip(cts, program.outvars)]
    in_cts = iter(call(backward, [*saved, *cts], name + "_bwd"))
    return [next(in_cts) if on else None for on in active]


def _call_jvp(primals, tangents, *, program, name):
    """The JVP of a call is two calls of the JVP'd sub-program, cut as linearize cuts it: its
    forward part (outputs and residuals) and its linear part (residuals and tangents to
    output tangents). jvp(jit(f)) still runs compiled, and the tangent equations stay apart
    from the primal ones (linearize and jacfwd rely on that)."""
    forward, linear = linearized(program, tuple(t is not None for t in tangents))
    n_out = len(program.outvars)
    results = call(forward, primals, name + "_jvp")
    out_tangents = iter(call(linear, [*results[n_out:], *(t for t in tangents if t is not None)],
                             name + "_lin"))
    return results[:n_out], [next(out_tangents) if on else None
                             for on in tangent_outputs(program)]


def linearized(program: Program, has_tangent: tuple) -> tuple[Program, Program]:
    """The JVP of ``program`` cut into forward and linear programs (once per program)."""
    def build(p):
        return split(jvp_program(p, has_tangent), len(p.inputs), len(p.outvars))
    return program.cached(("linearized", has_tangent), build)


call_p = Primitive("call", impl=_call_impl,
                   shape_rule=lambda *avals, program, name: program.out_avals,
                   multiple_results=True)
lowerings[call_p] = Inline(lambda params: params["program"])
vjp_split_rules[call_p] = (_call_vjp_fwd, _call_vjp_bwd)
jvp_rules[call_p] = _call_jvp


def _call_batch(args, dims, *, program, name):
    """vmap of a call is a call of the batched sub-program (built once per batch layout):
    it still compiles as one function, and the code generator still splices it in."""
    args = list(map(to_front, args, dims))
    dims = [None if d is None else 0 for d in dims]
    batched, out_dims = batch_program(program, dims, batch_size(args, dims))
    return call(batched, args, name), out_dims


batch_rules[call_p] = _call_batch


def call(program: Program, args, name: str = "jit"):
    """Apply ``program`` to ``args`` as one equation (a call of a sub-program)."""
    return call_p.bind(*args, program=program, name=name)
