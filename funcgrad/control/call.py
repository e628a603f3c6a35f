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
from funcgrad.rules import batch_rules, vjp_split_rules
from funcgrad.rules.lowering import Inline, lowerings
from funcgrad.transforms.batching import batch_program
from funcgrad.transforms.reverse import split_adjoint, zeros


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


call_p = Primitive("call", impl=_call_impl,
                   shape_rule=lambda *avals, program, name: program.out_avals,
                   multiple_results=True)
lowerings[call_p] = Inline(lambda params: params["program"])
vjp_split_rules[call_p] = (_call_vjp_fwd, _call_vjp_bwd)


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
