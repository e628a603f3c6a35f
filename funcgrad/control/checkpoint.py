"""``checkpoint`` (alias ``remat``): differentiate a function by recomputing its forward pass
in the backward pass, instead of saving its intermediate values.

    outputs = checkpoint[program](*operands)

Its forward half saves only the operands; its backward half is one ``checkpoint`` equation
whose program is the whole adjoint of ``program`` (forward recomputed, then backward). That
equation reads the output cotangents, so splitting an adjoint into forward and backward
programs puts the recomputation where it belongs, in the backward one: a scan whose body is
checkpointed saves per step only the body's inputs, not everything its backward needs.

With a ``policy`` (funcgrad.checkpoint_policies), the forward half also returns the outputs
of the equations the policy calls saveable, and the backward half takes them instead of
recomputing them (and whatever only they needed): what is saved changes, never the values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from funcgrad.control.call import linearized
from funcgrad.control.subprogram import leaf_aval, trace_closed
from funcgrad.core.arguments import call_checked, check_function
from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.evaluate import evaluate
from funcgrad.core.ir import Program
from funcgrad.core.primitive import Primitive
from funcgrad.ops.shape import batch_size, linear_jvp, to_front
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules, vjp_split_rules
from funcgrad.transforms.batching import batch_program
from funcgrad.transforms.forward import tangent_outputs
from funcgrad.rules.lowering import IDENTITY, Inline, lowerings
from funcgrad.transforms.reverse import COTANGENT_INPUT, adjoint, zeros
from funcgrad.tree import flatten, unflatten

checkpoint_p = Primitive(
    "checkpoint", impl=lambda *args, program, policy=None: evaluate(program, list(args)),
    shape_rule=lambda *avals, program, policy=None: program.out_avals, multiple_results=True)
lowerings[checkpoint_p] = Inline(lambda params: params["program"])


def _saved(program, policy) -> list:
    """The equations whose outputs ``policy`` saves (JAX's signature: ``policy(primitive,
    *input avals, **params)``); not those with a forward pass of their own (loops, nested
    checkpoints), whose backward halves need residuals."""
    if policy is None:
        return []
    return [e for e in program.equations if e.primitive not in vjp_split_rules
            and policy(e.primitive, *(a.aval for a in e.inputs), **e.params)]


def _bind(*args, program, policy):
    """A checkpoint equation; the policy is a parameter only when there is one."""
    return checkpoint_p.bind(*args, program=program,
                             **({} if policy is None else {"policy": policy}))


def _policy_programs(program, policy, active):
    """The forward program (outputs, then the saved values) and the adjoint that takes the
    saved values instead of recomputing them; computed once per program, policy and flags."""
    def build(p):
        saved = _saved(p, policy)
        n_out = len(p.outvars)
        forward = Program(p.constvars, p.invars, p.equations,
                          [*p.outvars, *(v for e in saved for v in e.outputs)]) if saved else p
        backward = adjoint(p, active, [COTANGENT_INPUT] * n_out, keep=[False] * n_out,
                           saved=saved)
        return forward, backward
    return program.cached(("checkpoint policy", policy, active), build)


def _checkpoint_vjp_fwd(inputs, active, *, program, policy=None):
    flags = tuple(bool(a) for a in active)
    forward, _ = _policy_programs(program, policy, flags)
    outs = _bind(*inputs, program=forward, policy=policy)
    n_out = len(program.outvars)
    return outs[:n_out], (inputs, outs[n_out:])


def _checkpoint_vjp_bwd(residuals, cts, active, *, program, policy=None):
    (inputs, saved), flags = residuals, tuple(bool(a) for a in active)
    _, recompute = _policy_programs(program, policy, flags)
    cts = [ct if ct is not None else zeros(v.aval.strong()) for ct, v in
           zip(cts, program.outvars)]
    in_cts = iter(_bind(*inputs, *saved, *cts, program=recompute, policy=policy))
    return [next(in_cts) if on else None for on in flags]


vjp_split_rules[checkpoint_p] = (_checkpoint_vjp_fwd, _checkpoint_vjp_bwd)


def _checkpoint_jvp(primals, tangents, *, program, policy=None):
    """Two checkpoints, as linearize cuts a JVP: the forward part (outputs and residuals)
    and the linear part (residuals and tangents to output tangents)."""
    forward, linear = linearized(program, tuple(t is not None for t in tangents))
    n_out = len(program.outvars)
    results = _bind(*primals, program=forward, policy=policy)
    out_tangents = iter(_bind(*results[n_out:], *(t for t in tangents if t is not None),
                              program=linear, policy=policy))
    return results[:n_out], [next(out_tangents) if on else None
                             for on in tangent_outputs(program)]


def _checkpoint_batch(args, dims, *, program, policy=None):
    size = batch_size(args, dims)
    args = list(map(to_front, args, dims))
    batched, out_dims = batch_program(program, [None if d is None else 0 for d in dims], size)
    return _bind(*args, program=batched, policy=policy), out_dims


jvp_rules[checkpoint_p] = _checkpoint_jvp
batch_rules[checkpoint_p] = _checkpoint_batch


def checkpoint(fun: Callable, *, prevent_cse: bool = True, policy=None,
               static_argnums: int | Sequence[int] = ()) -> Callable:
    """``fun``, differentiated by recomputing its forward pass during the backward pass
    instead of saving its intermediate values: less memory, more compute (JAX's
    ``jax.checkpoint``; ``remat`` is the same function). Use it on the body of a long
    ``lax.scan`` or ``lax.while_loop``: each step then saves only its inputs.

    ``policy`` (from ``funcgrad.checkpoint_policies``, or any ``policy(primitive, *avals,
    **params) -> bool``) names the intermediate values worth saving after all, e.g.
    ``dots_saveable`` (the matrix products) or ``save_only_these_names("h")`` (values marked
    ``checkpoint_name(x, "h")``); the backward pass takes those instead of recomputing them.
    The default saves nothing. ``static_argnums`` are arguments that are not arrays (or not
    traced): passed to ``fun`` as they are. ``prevent_cse`` is accepted for JAX
    compatibility: funcgrad recomputes inside the backward pass's own checkpoint program,
    where no optimization merges it with the forward pass.

    Example:
        >>> f = fg.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
        >>> float(fg.grad(f)(0.5)) == float(np.cos(np.sin(0.5)) * np.cos(0.5))
        True
        >>> policy = fg.checkpoint_policies.dots_saveable
        >>> g = fg.checkpoint(lambda w, x: fnp.tanh(w @ x), policy=policy)
        >>> fg.grad(lambda w: fnp.sum(g(w, np.ones(2))))(np.eye(2))
        array([[0.41997434, 0.41997434],
               [0.41997434, 0.41997434]])
    """
    check_function(fun, "checkpoint")
    static = _static_argnums(static_argnums)
    if policy is not None and not callable(policy):
        raise FuncgradTypeError(f"checkpoint's policy must be a function (primitive, *avals, "
                                f"**params) -> bool, such as funcgrad.checkpoint_policies."
                                f"dots_saveable; got {policy!r}")

    @functools.wraps(fun)
    def recomputed(*args, **kwargs):  # keyword arguments are operands too, as in JAX
        fixed = {i % len(args): args[i] for i in static if -len(args) <= i < len(args)}
        if len(fixed) != len(static):
            raise FuncgradTypeError(f"checkpoint: static_argnums {static} out of range for a "
                                    f"call with {len(args)} positional argument"
                                    f"{'s' * (len(args) != 1)}")
        dynamic = [a for i, a in enumerate(args) if i not in fixed]
        leaves, in_tree = flatten((dynamic, kwargs))

        def call(dyn, kw):
            it = iter(dyn)
            return call_checked(fun, [fixed[i] if i in fixed else next(it)
                                      for i in range(len(args))], kw)

        traced = trace_closed(call, in_tree, [leaf_aval(x) for x in leaves], "checkpoint")
        outs = _bind(*traced.consts, *leaves, program=traced.program, policy=policy)
        return unflatten(traced.out_tree, outs)

    return recomputed


def _static_argnums(static_argnums) -> tuple:
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise FuncgradTypeError(f"checkpoint's static_argnums must be ints, got "
                                f"{static_argnums!r}")
    return nums


remat = checkpoint


# --- checkpoint_name: a value a policy can save by name ---------------------------------

checkpoint_name_p = Primitive("checkpoint_name", impl=lambda x, *, name: x,
                              shape_rule=lambda x, *, name: x, allocates=False)
vjp_rules[checkpoint_name_p] = lambda cts, ins, outs, active, *, name: [cts[0]]
jvp_rules[checkpoint_name_p] = linear_jvp(checkpoint_name_p)
lowerings[checkpoint_name_p] = IDENTITY
batch_rules[checkpoint_name_p] = lambda args, dims, *, name: (
    [checkpoint_name_p.bind(args[0], name=name)], [dims[0]])


def checkpoint_name(x, name: str):
    """``x``, marked ``name`` for ``checkpoint``'s policies (``save_only_these_names``, ...):
    JAX's ``jax.ad_checkpoint.checkpoint_name``. Outside a checkpoint it does nothing.

    Example:
        >>> float(fg.checkpoint_name(fnp.asarray(2.0), "h"))
        2.0
    """
    if not isinstance(name, str):
        raise FuncgradTypeError(f"checkpoint_name's name must be a string, got {name!r}")
    from funcgrad.numpy._util import scalar_or_array
    return checkpoint_name_p.bind(scalar_or_array(x), name=name)
