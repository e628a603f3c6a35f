"""custom_jvp: functions whose JVP the user writes, with JAX's semantics.

    @fg.custom_jvp
    def log1pexp(x):
        return fnp.log(1.0 + fnp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * fg.nn.sigmoid(x)   # stable where the autodiff one is not

Called on plain arrays, the function just runs. Inside a trace it becomes one
``custom_jvp_call`` equation holding two traced Programs: ``fun`` (what it computes, which
the evaluator and the Numba backend run) and ``jvp`` (the rule: primals and tangents to
outputs and output tangents). Forward mode emits the rule. Reverse mode uses it too, by
linearisation: the rule is linear in the tangents, so its VJP with respect to them, seeded
with the output cotangent, is J^T g; the backward pass reverse-differentiates the rule's
program with respect to its tangent inputs. Those are ordinary equations, so grad of grad
works, as in JAX.

``nondiff_argnums`` arguments are static (any Python value); the rule receives them first,
``jvp(*nondiff_args, primals, tangents)``. Integer and boolean arguments get ``float0``
zero tangents, as in JAX. Inside its own rule, the function computes plainly (a call of
``f`` in ``f``'s rule does not use the rule again).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad.core.arguments import (FunctionArgs, check_arity, check_function,
                                     check_nondiff_range, check_rules, describe_value, name_of,
                                     nondiff_argnums_of, positional)
from funcgrad.core.errors import FuncgradError, FuncgradTypeError, ShapeError
from funcgrad.core.evaluate import evaluate, inline
from funcgrad.core.primitive import Primitive
from funcgrad.core.tracing import Tracer, current_trace, trace_flat
from funcgrad.core.types import is_float
from funcgrad.ops.shape import batch_size, with_batch_axis
from funcgrad.rules import batch_rules, jvp_rules, vjp_split_rules
from funcgrad.rules.lowering import Inline, lowerings
from funcgrad.transforms.batching import FRONT, batch_program
from funcgrad.transforms.forward import float0
from funcgrad.transforms.reverse import COTANGENT_INPUT, adjoint, zeros
from funcgrad.tree import flatten, unflatten



class custom_jvp:  # noqa: N801  (a decorator, named as JAX names it)
    """Give a function a hand-written JVP: decorate it, then ``f.defjvp(rule)`` (or
    ``f.defjvps(*per_argument)``).

    ``rule(primals, tangents)`` takes two tuples (one entry per argument, pytrees alike) and
    returns ``(f(*primals), output_tangent)``; the output tangent must be linear in the
    tangents. ``jvp`` and ``jacfwd`` use the rule; ``grad``, ``vjp`` and ``jacrev`` use its
    transpose.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> @fg.custom_jvp
        ... def safe_log1pexp(x):
        ...     return fnp.log1p(fnp.exp(x))
        >>> @safe_log1pexp.defjvp
        ... def _(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return safe_log1pexp(x), t * fg.nn.sigmoid(x)
        >>> float(fg.grad(safe_log1pexp)(1000.0))  # autodiff of the formula gives nan
        1.0
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        check_function(fun, "custom_jvp")
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        self.nondiff_argnums = nondiff_argnums_of(fun, nondiff_argnums, "custom_jvp")
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable) -> Callable:
        """Set the rule ``jvp(*nondiff_args, primals, tangents) -> (out, out_tangent)``;
        returns it, so it can be used as a decorator."""
        check_rules(self.fun, "custom_jvp", "defjvp", jvp=jvp)
        self.jvp = jvp
        return jvp

    def defjvps(self, *per_argument: Callable | None) -> None:
        """Set the rule from one function per argument, ``t_out_i = rule_i(t_i, out,
        *primals)`` (None: that argument has no derivative); the output tangent is their sum.

        Example:
            >>> import funcgrad as fg, funcgrad.numpy as fnp
            >>> f = fg.custom_jvp(lambda x, y: fnp.sin(x) * y)
            >>> f.defjvps(lambda t, ans, x, y: fnp.cos(x) * y * t,
            ...           lambda t, ans, x, y: fnp.sin(x) * t)
            >>> [float(g) for g in fg.grad(f, argnums=(0, 1))(0.0, 2.0)]
            [2.0, 0.0]
        """
        check_rules(self.fun, "custom_jvp", "defjvps",
                    **{f"rule {i}": r for i, r in enumerate(per_argument) if r is not None})

        def rule(*args):
            *nondiff, primals, tangents = args
            out = self.fun(*_merge(self.nondiff_argnums, nondiff, primals))
            total = None
            for fn, t in zip(per_argument, tangents):
                if fn is None or _is_float0(t):
                    continue
                check_arity(fn, 2 + len(primals), "the tangent, the output and the primals",
                            f"a defjvps rule of custom_jvp function {name_of(self.fun)}")
                term = fn(t, out, *primals)
                total = term if total is None else total + term
            return out, (total if total is not None else out * 0.0)
        self.jvp = rule

    def __get__(self, obj, objtype=None):  # decorating a method binds like a function
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        args = positional(self.fun, args, kwargs, "custom_jvp")
        check_nondiff_range(self.fun, self.nondiff_argnums, len(args), "custom_jvp")
        call = FunctionArgs(self.fun, args, {}, self.nondiff_argnums)
        if current_trace() is None and not any(isinstance(x, Tracer) for x in call.leaves):
            return self.fun(*args)  # nothing is being traced: just compute
        if self.jvp is None:
            raise FuncgradError(f"custom_jvp function {name_of(self.fun)} has no JVP rule yet: "
                                f"call {name_of(self.fun)}.defjvp(rule) before using it in a "
                                "traced or differentiated function")
        if id(self) in _tracing.rules:  # f inside its own rule: compute plainly
            return self.fun(*args)
        _tracing.rules.add(id(self))
        try:
            operands, params = _trace_rules(self, args, call)
        finally:
            _tracing.rules.discard(id(self))
        return unflatten(call.out_tree, custom_jvp_call_p.bind(*operands, **params))


class _Tracing(threading.local):
    def __init__(self):
        self.rules: set = set()  # custom_jvp functions whose rule is being traced


_tracing = _Tracing()


def _merge(nondiff_argnums, nondiff, diff) -> list:
    """The full argument list from the static and the differentiable arguments."""
    static, dynamic = iter(nondiff), iter(diff)
    return [next(static) if i in nondiff_argnums else next(dynamic)
            for i in range(len(nondiff_argnums) + len(diff))]


def _is_float0(t) -> bool:
    return getattr(t, "dtype", None) == float0


def _trace_rules(f: custom_jvp, args, call: FunctionArgs):
    """Trace fun and the rule; return (operands..., params) for custom_jvp_call."""
    check_arity(f.jvp, len(f.nondiff_argnums) + 2,
                "the nondiff_argnums arguments, " * bool(f.nondiff_argnums) + "the primals "
                "and the tangents, as two tuples", f"the JVP rule of custom_jvp function "
                f"{name_of(f.fun)}")
    avals = call.avals()
    fun_prog, fun_consts = trace_flat(call.flat_function(), avals)
    out_avals = fun_prog.out_avals
    floats = [is_float(a.dtype) for a in avals]
    tangent_avals = [a.strong() for a, on in zip(avals, floats) if on]
    rule = _flat_rule(f, args, call, avals, floats, out_avals)
    jvp_prog, jvp_consts = trace_flat(rule, avals + tangent_avals)
    params = dict(fun=fun_prog, jvp=jvp_prog, num_consts=(len(fun_consts), len(jvp_consts)))
    return [*fun_consts, *jvp_consts, *call.leaves], params


def _flat_rule(f, args, call, avals, floats, out_avals):
    """The rule as a function of flat (primal leaves..., float leaves' tangents...) ->
    (output leaves..., output tangent leaves...), checked against what ``fun`` returns."""
    nondiff = [args[i] for i in f.nondiff_argnums]
    diff = [i for i in range(len(args)) if i not in f.nondiff_argnums]
    arg_trees = [flatten(args[i])[1] for i in diff]
    n = len(avals)

    def rule(*leaves):
        primal_leaves, tangent_iter = leaves[:n], iter(leaves[n:])
        tangent_leaves = [next(tangent_iter) if on else np.zeros(a.shape, float0)
                          for a, on in zip(avals, floats)]
        primals, tangents, start = [], [], 0
        for tree in arg_trees:
            stop = start + tree.num_leaves
            primals.append(unflatten(tree, primal_leaves[start:stop]))
            tangents.append(unflatten(tree, tangent_leaves[start:stop]))
            start = stop
        result = f.jvp(*nondiff, tuple(primals), tuple(tangents))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise FuncgradTypeError(
                f"the JVP rule of custom_jvp function {name_of(f.fun)} must return a pair "
                f"(output, output_tangent), but it returned {describe_value(result)}")
        out_leaves, out_tree = flatten(result[0])
        t_leaves, t_tree = flatten(result[1])
        if out_tree != call.out_tree or t_tree != call.out_tree:
            raise FuncgradTypeError(
                f"the JVP rule of custom_jvp function {name_of(f.fun)} must return an output "
                f"and a tangent with the structure of what {name_of(f.fun)} returns "
                f"({call.out_tree}), but they are {out_tree} and {t_tree}")
        for t, aval in zip(t_leaves, out_avals):
            if tuple(np.shape(t)) not in (aval.shape, ()):
                raise ShapeError(
                    f"the JVP rule of custom_jvp function {name_of(f.fun)} returned a tangent "
                    f"of shape {tuple(np.shape(t))} for an output of shape {aval.shape}")
            if is_float(aval.dtype) and not is_float(np.result_type(t)):
                # (an integer tangent cuts its dependence on the input tangents: grad was 0
                # where jvp was not; JAX refuses it too)
                raise FuncgradTypeError(
                    f"the JVP rule of custom_jvp function {name_of(f.fun)} returned an integer "
                    f"tangent ({np.result_type(t)}) for a float output ({aval}); return a float "
                    "one, 0.0 for none")
        return [*out_leaves, *(_as_output_tangent(t, a) for t, a in zip(t_leaves, out_avals))]
    return rule


def _as_output_tangent(t, aval):
    from funcgrad.ops.elementwise import convert_element_type
    from funcgrad.ops.shape import broadcast_to
    if not is_float(aval.dtype):
        return zeros(aval)  # an integer output: its tangent is never read
    t = broadcast_to(t, aval.shape) if tuple(np.shape(t)) != aval.shape else t
    return t if getattr(t, "dtype", None) == aval.dtype else convert_element_type(t, aval.dtype)


# ---------------------------------------------------------------------------------------
# The primitive: operands are fun's consts, the rule's consts, then the arguments.


def _split(inputs, num_consts):
    a, b = num_consts
    return inputs[:a], inputs[a:a + b], inputs[a + b:]


def _impl(*inputs, fun, jvp, num_consts):
    fun_consts, _, args = _split(inputs, num_consts)
    return evaluate(fun, [*fun_consts, *args])


def _check_no_closure_derivative(flags, num_consts):
    if any(flags[:sum(num_consts)]):
        raise FuncgradError(
            "a custom_jvp function is being differentiated with respect to a value it closes "
            "over (a traced value it reads without taking it as an argument). Its JVP rule "
            "only covers its explicit arguments: pass that value as an argument.")


def _jvp(primals, tangents, *, fun, jvp, num_consts):
    """Forward mode: the user's rule, emitted; zero tangents materialised for it."""
    _check_no_closure_derivative([t is not None for t in tangents], num_consts)
    _, jvp_consts, args = _split(primals, num_consts)
    arg_tangents = tangents[sum(num_consts):]
    floats = [is_float(v.aval.dtype) for v in jvp.invars[:len(args)]]
    ts = [t if t is not None else zeros(v.aval.strong())
          for t, v, on in zip(arg_tangents, jvp.invars, floats) if on]
    results = inline(jvp, [*jvp_consts, *args, *ts])
    n_out = len(fun.outvars)
    return results[:n_out], results[n_out:]


def _vjp_fwd(inputs, active, *, fun, jvp, num_consts):
    _check_no_closure_derivative(active, num_consts)
    fun_consts, jvp_consts, args = _split(inputs, num_consts)
    outs = inline(fun, [*fun_consts, *args])
    return outs, (jvp_consts, args)


def _vjp_bwd(residuals, cts, active, *, fun, jvp, num_consts):
    """Reverse mode by linearisation: the rule's VJP with respect to its tangent inputs."""
    jvp_consts, args = residuals
    n_out = len(fun.outvars)
    seeds = tuple([None] * n_out + [None if ct is None or not is_float(v.aval.dtype)
                                    else COTANGENT_INPUT for ct, v in zip(cts, fun.outvars)])
    transposed = _transposed(jvp, len(jvp_consts), len(args), seeds)
    tangent_vars = jvp.invars[len(args):]
    given = [ct for ct, s in zip(cts, seeds[n_out:]) if s is COTANGENT_INPUT]
    if not given:
        return [None] * len(active)
    in_cts = iter(inline(transposed, [*jvp_consts, *args, *map(_zero_of, tangent_vars),
                                      *given]))
    floats = [is_float(v.aval.dtype) for v in jvp.invars[:len(args)]]
    arg_cts = [next(in_cts) if on else None for on in floats]
    n = sum(num_consts)
    return [None] * n + [ct if on else None for ct, on in zip(arg_cts, active[n:])]


def _zero_of(var):
    return zeros(var.aval)


def _transposed(jvp, n_consts, n_args, seeds):
    """The adjoint of the rule's program with respect to its tangent inputs (once per seeds):
    the rule is linear in them, so this is the transpose of the JVP, J^T g."""
    def build(p):
        n_tangents = len(p.invars) - n_args
        wrt = [False] * (n_consts + n_args) + [True] * n_tangents
        return adjoint(p, wrt, list(seeds), keep=[False] * len(p.outvars))
    return jvp.cached(("custom_jvp_transpose", seeds), build)


def _batch(args, dims, *, fun, jvp, num_consts):
    """vmap of a custom_jvp function keeps its rule: ``fun`` and the rule's program are each
    batched. Every argument gets the batch axis (first), so the tangents a later jvp or grad
    pairs with them are batched alike."""
    size = batch_size(args, dims)
    n = sum(num_consts)
    consts, const_dims = list(args[:n]), list(dims[:n])
    batched = [with_batch_axis(x, d, size) for x, d in zip(args[n:], dims[n:])]
    fun_dims, jvp_dims = const_dims[:num_consts[0]], const_dims[num_consts[0]:]
    n_out = len(fun.outvars)
    fun_b = batch_program(fun, [*fun_dims, *[0] * len(batched)], size, [FRONT] * n_out)[0]
    n_tangents = len(jvp.invars) - len(jvp_dims) - len(batched)
    jvp_b = batch_program(jvp, [*jvp_dims, *[0] * (len(batched) + n_tangents)], size,
                          [FRONT] * len(jvp.outvars))[0]
    outs = custom_jvp_call_p.bind(*consts, *batched, fun=fun_b, jvp=jvp_b,
                                  num_consts=num_consts)
    return outs, [0] * n_out


def _fun_operands(inputs, params):
    fun_consts, _, args = _split(inputs, params["num_consts"])
    return [*fun_consts, *args]


custom_jvp_call_p = Primitive("custom_jvp_call", impl=_impl,
                              shape_rule=lambda *avals, fun, jvp, num_consts: fun.out_avals,
                              multiple_results=True)
jvp_rules[custom_jvp_call_p] = _jvp
vjp_split_rules[custom_jvp_call_p] = (_vjp_fwd, _vjp_bwd)
lowerings[custom_jvp_call_p] = Inline(lambda params: params["fun"], _fun_operands)
batch_rules[custom_jvp_call_p] = _batch
