"""``checkpoint`` (alias ``remat``): differentiate a function by recomputing its forward pass
in the backward pass, instead of saving its intermediate values.

    outputs = checkpoint[program](*operands)

Its forward half saves only the operands; its backward half is one ``checkpoint`` equation
whose program is the whole adjoint of ``program`` (forward recomputed, then backward). That
equation reads the output cotangents, so splitting an adjoint into forward and backward
programs puts the recomputation where it belongs, in the backward one: a scan whose body is
checkpointed saves per step only the body's inputs, not everything its backward needs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from funcgrad.control.call import linearized
from funcgrad.control.subprogram import leaf_aval, trace_closed
from funcgrad.core.evaluate import evaluate
from funcgrad.core.primitive import Primitive
from funcgrad.ops.shape import batch_size, to_front
from funcgrad.rules import batch_rules, jvp_rules, vjp_split_rules
from funcgrad.transforms.batching import batch_program
from funcgrad.transforms.forward import tangent_outputs
from funcgrad.rules.lowering import Inline, lowerings
from funcgrad.transforms.reverse import COTANGENT_INPUT, adjoint, zeros
from funcgrad.tree import flatten, unflatten

checkpoint_p = Primitive(
    "checkpoint", impl=lambda *args, program: evaluate(program, list(args)),
    shape_rule=lambda *avals, program: program.out_avals, multiple_results=True)
lowerings[checkpoint_p] = Inline(lambda params: params["program"])


def _recomputing_adjoint(program, active):
    n_out = len(program.outvars)
    return adjoint(program, active, [COTANGENT_INPUT] * n_out, keep=[False] * n_out)


def _checkpoint_vjp_fwd(inputs, active, *, program):
    return checkpoint_p.bind(*inputs, program=program), inputs


def _checkpoint_vjp_bwd(inputs, cts, active, *, program):
    flags = tuple(bool(a) for a in active)
    recompute = program.cached(("recompute", flags), lambda p: _recomputing_adjoint(p, flags))
    cts = [ct if ct is not None else zeros(v.aval.strong()) for ct, v in
           zip(cts, program.outvars)]
    in_cts = iter(checkpoint_p.bind(*inputs, *cts, program=recompute))
    return [next(in_cts) if on else None for on in flags]


vjp_split_rules[checkpoint_p] = (_checkpoint_vjp_fwd, _checkpoint_vjp_bwd)


def _checkpoint_jvp(primals, tangents, *, program):
    """Two checkpoints, as linearize cuts a JVP: the forward part (outputs and residuals)
    and the linear part (residuals and tangents to output tangents)."""
    forward, linear = linearized(program, tuple(t is not None for t in tangents))
    n_out = len(program.outvars)
    results = checkpoint_p.bind(*primals, program=forward)
    out_tangents = iter(checkpoint_p.bind(*results[n_out:],
                                          *(t for t in tangents if t is not None),
                                          program=linear))
    return results[:n_out], [next(out_tangents) if on else None
                             for on in tangent_outputs(program)]


def _checkpoint_batch(args, dims, *, program):
    size = batch_size(args, dims)
    args = list(map(to_front, args, dims))
    batched, out_dims = batch_program(program, [None if d is None else 0 for d in dims], size)
    return checkpoint_p.bind(*args, program=batched), out_dims


jvp_rules[checkpoint_p] = _checkpoint_jvp
batch_rules[checkpoint_p] = _checkpoint_batch


def checkpoint(fun: Callable, *, prevent_cse: bool = True, policy=None,
               static_argnums: Sequence[int] = ()) -> Callable:
    """``fun``, differentiated by recomputing its forward pass during the backward pass
    instead of saving its intermediate values: less memory, more compute (JAX's
    ``jax.checkpoint``; ``remat`` is the same function). Use it on the body of a long
    ``lax.scan`` or ``lax.while_loop``: each step then saves only its inputs.

    ``prevent_cse`` and ``policy`` are accepted for JAX compatibility; ``policy`` must be None
    (save nothing). ``static_argnums`` are not supported yet and must be empty.

    Example:
        >>> f = fg.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
        >>> float(fg.grad(f)(0.5)) == float(np.cos(np.sin(0.5)) * np.cos(0.5))
        True
    """
    if policy is not None or tuple(static_argnums):
        raise NotImplementedError("checkpoint supports neither policies nor static_argnums "
                                  "yet: it recomputes everything")

    @functools.wraps(fun)
    def recomputed(*args, **kwargs):  # keyword arguments are operands too, as in JAX
        leaves, in_tree = flatten((args, kwargs))
        traced = trace_closed(lambda a, k: fun(*a, **k), in_tree,
                              [leaf_aval(x) for x in leaves], "checkpoint")
        outs = checkpoint_p.bind(*traced.consts, *leaves, program=traced.program)
        return unflatten(traced.out_tree, outs)

    return recomputed


remat = checkpoint
