"""Pushing a whole basis of tangents through a linear program at once (for jacfwd, hessian).

``batch_linear(program, batched_inputs, n)`` turns a linear program of jvp (``linearize``'s:
inputs are the residuals, which are fixed, then the tangents) into one whose tangent inputs
and outputs carry a leading axis of length ``n``: n tangents pushed forward by one program, whose
size does not grow with n. ``jacfwd`` pushes the identity basis through it, so
``jit(hessian(f))`` compiles one program whatever the number of parameters.

This is batching restricted to what linear programs of JVPs hold: elementwise primitives and
the structural ones their tangents go through (broadcasts, reshapes, reductions, dot_general,
gather, scatter...); anything else is applied once per basis vector and stacked. It is a
stand-in for vmap (issue 10): when vmap lands, ``batch_linear`` becomes vmap of the linear
program over its tangent inputs, and this module goes.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.interpret import bind_equation, interpret
from funcgrad.core.ir import Program, common_subexpression_elimination, dead_code_elimination
from funcgrad.core.tracing import new_trace, source_of
from funcgrad.ops import indexing as ix
from funcgrad.ops import linalg as la
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops.indexing import gathered_shape


BASIS_RULES: dict = {}  # rules registered by higher layers (control/call.py: call)


def batch_linear(program: Program, batched_inputs: tuple, n: int) -> Program:
    """``program`` with the inputs flagged in ``batched_inputs`` (and every value depending
    on them) batched along a new leading axis of length ``n``; every output is batched
    (computed once per flags and n)."""
    return program.cached(("batch_linear", batched_inputs, n),
                          lambda p: _build(p, batched_inputs, n))


def _build(program: Program, batched_inputs: tuple, n: int) -> Program:
    with new_trace() as trace:
        inputs = [trace.new_input(v.aval.update(shape=(n, *v.aval.shape)) if on else v.aval)
                  for v, on in zip(program.inputs, batched_inputs)]
        batched = {id(v) for v, on in zip(program.inputs, batched_inputs) if on}

        def apply(eqn, ins):
            flags = [id(a) in batched for a in eqn.inputs]
            if not any(flags):
                return bind_equation(eqn, ins)
            with source_of(eqn.source):
                outs = _apply_batched(eqn, ins, flags, n)
            batched.update(id(v) for v in eqn.outputs)
            return outs

        outs = interpret(program, inputs, apply)
        outs = [x if id(v) in batched else sh.broadcast_to(x, (n, *v.aval.shape))
                for x, v in zip(outs, program.outvars)]
        result, consts = trace.to_program(outs)
    assert not consts
    return dead_code_elimination(common_subexpression_elimination(result))


def _apply_batched(eqn, ins, flags, n) -> list:
    prim, params = eqn.primitive, eqn.params
    rule = _RULES.get(prim) or BASIS_RULES.get(prim)
    if rule is None and prim.elementwise and not prim.multiple_results:
        rule = _elementwise
    if rule is not None:
        out = rule(eqn, ins, flags, n, **params)
        if out is not None:
            return out if prim.multiple_results else [out]
    return _loop(eqn, ins, flags, n)


def _loop(eqn, ins, flags, n) -> list:
    """Any other primitive: once per basis vector, the results stacked."""
    per_vector = [bind_equation(eqn, [x[b] if on else x for x, on in zip(ins, flags)])
                  for b in range(n)]
    return [sh.concatenate([sh.reshape(r[k], (1, *sh.shape_of(r[k]))) for r in per_vector], 0)
            for k in range(len(eqn.outputs))]


def _all_batched(ins, flags, n):
    return [x if on else sh.broadcast_to(x, (n, *sh.shape_of(x))) for x, on in zip(ins, flags)]


def _elementwise(eqn, ins, flags, n, **params):
    """A batched operand's axes line up with the result's from the right once the batch axis
    stands in front of the axes it would broadcast along."""
    rank = len(eqn.outputs[0].aval.shape)
    ins = [sh.reshape(x, (n, *(1,) * (rank - x.ndim + 1), *x.shape[1:])) if on else x
           for x, on in zip(ins, flags)]
    return eqn.primitive.bind(*ins, **params)


def _broadcast_to(eqn, ins, flags, n, *, shape):
    (x,) = ins
    x = sh.reshape(x, (n, *(1,) * (len(shape) - x.ndim + 1), *x.shape[1:]))
    return sh.broadcast_to(x, (n, *shape))


def _shifted(key):
    def rule(eqn, ins, flags, n, **params):
        if any(flags[1:]):
            return None
        params = dict(params)
        value = params[key]
        params[key] = (tuple(a + 1 for a in value) if isinstance(value, tuple) else value + 1)
        return eqn.primitive.bind(*ins, **params)
    return rule


def _dot_general(eqn, ins, flags, n, *, contract, batch):
    (x, y), ((xc, yc), (xb, yb)) = ins, (contract, batch)
    up = lambda axes: tuple(a + 1 for a in axes)  # noqa: E731
    if flags[0] and flags[1]:  # the basis axis is one more batch axis, in front
        return la.dot_general_p.bind(x, y, contract=(up(xc), up(yc)),
                                     batch=((0, *up(xb)), (0, *up(yb))))
    if flags[0]:  # a free axis of x: after the batch axes, first of x's
        out = la.dot_general_p.bind(x, y, contract=(up(xc), yc), batch=(up(xb), yb))
        return _to_front(out, len(xb))
    out = la.dot_general_p.bind(x, y, contract=(xc, up(yc)), batch=(xb, up(yb)))
    x_free = x.ndim - len(xc) - len(xb)
    return _to_front(out, len(xb) + x_free)


def _to_front(x, axis):
    perm = [axis] + [i for i in range(x.ndim) if i != axis]
    return sh.transpose(x, perm)


def _index_axis(spec, n_index_dims):
    """Where the basis axis lands in a gather whose spec got a leading slice: in front when
    the advanced indices are adjacent, else after the broadcast index axes."""
    advanced = [i for i, s in enumerate(spec) if isinstance(s, int)]
    adjacent = not advanced or advanced == list(range(advanced[0], advanced[-1] + 1))
    return 0 if adjacent else n_index_dims


def _gather(eqn, ins, flags, n, *, spec):
    if any(flags[1:]):
        return None  # batched indices: loop
    x, *indices = ins
    spec1 = ((0, 1, n), *spec)
    out = ix.gather_p.bind(x, *indices, spec=spec1)
    return _to_front(out, _index_axis(spec, _index_dims(indices)))


def _index_dims(indices) -> int:
    return len(np.broadcast_shapes(*(sh.shape_of(i) for i in indices)))


def _scatter(eqn, ins, flags, n, *, spec, mode):
    if any(flags[1:-1]):
        return None  # batched indices: loop
    x, *indices, updates = ins
    if not flags[0]:
        x = sh.broadcast_to(x, (n, *sh.shape_of(x)))
    selected = gathered_shape(x.shape[1:], [sh.shape_of(i) for i in indices], spec)
    axis = _index_axis(spec, _index_dims(indices))
    if flags[-1]:
        u = sh.reshape(updates, (n, *(1,) * (len(selected) - updates.ndim + 1),
                                 *updates.shape[1:]))
        u = sh.broadcast_to(u, (n, *selected))
        u = _moveaxis(u, 0, axis)
    else:
        u = sh.broadcast_to(updates, selected)
        u = sh.reshape(u, (*selected[:axis], 1, *selected[axis:]))
    return ix.scatter_p.bind(x, *indices, u, spec=((0, 1, n), *spec), mode=mode)


def _moveaxis(x, source, dest):
    perm = [i for i in range(x.ndim) if i != source]
    perm.insert(dest, source)
    return sh.transpose(x, perm)


_RULES = {
    sh.broadcast_to_p: _broadcast_to,
    sh.reshape_p: lambda eqn, ins, flags, n, *, shape: sh.reshape(ins[0], (n, *shape)),
    sh.transpose_p: lambda eqn, ins, flags, n, *, perm: sh.transpose(
        ins[0], (0, *(p + 1 for p in perm))),
    sh.slice_p: lambda eqn, ins, flags, n, *, start, step, size: sh.slice_p.bind(
        ins[0], start=(0, *start), step=(1, *step), size=(n, *size)),
    sh.pad_p: lambda eqn, ins, flags, n, *, lo, hi, interior, value: sh.pad_p.bind(
        ins[0], lo=(0, *lo), hi=(0, *hi), interior=(0, *interior), value=value),
    sh.concatenate_p: lambda eqn, ins, flags, n, *, axis: sh.concatenate_p.bind(
        *_all_batched(ins, flags, n), axis=axis + 1),
    red.reduce_sum_p: _shifted("axes"),
    red.reduce_max_p: _shifted("axes"),
    red.reduce_min_p: _shifted("axes"),
    red.reduce_prod_p: _shifted("axes"),
    red.cumsum_p: _shifted("axis"),
    red.cumprod_p: _shifted("axis"),
    la.dot_general_p: _dot_general,
    ix.gather_p: _gather,
    ix.scatter_p: _scatter,
}
