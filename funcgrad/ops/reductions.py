"""Reductions over static axes, and cumulative sums and products along one axis.

Reductions take a sorted tuple of axes and drop them (funcgrad.numpy adds keepdims with a
reshape). Their VJPs broadcast the cotangent back over the reduced axes: the lecture's
L = sum_n C^n, whose derivative is the sum of the per-example derivatives, is the VJP of
reduce_sum read backwards.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.types import ShapedArray, bool_, int64
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules, zero_derivative
from funcgrad.rules.lowering import Reduction, Standalone, lowerings


def _kept_shape(shape, axes):
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _check_axes(x, axes):
    if any(not 0 <= a < x.ndim for a in axes) or len(set(axes)) != len(axes):
        raise ShapeError(f"axes {axes} are out of range for {x}")


def sum_dtype(dtype):
    # NumPy sums small integers (and booleans) in the platform integer
    if dtype.kind in "biu" and dtype.itemsize < 8:
        return np.dtype("uint64") if dtype.kind == "u" else int64
    return dtype


def _reduce_rule(result_dtype):
    def rule(x, *, axes):
        _check_axes(x, axes)
        return ShapedArray(_kept_shape(x.shape, axes), result_dtype(x.dtype), x.weak_type)
    return rule


def expand_reduced(g, shape, axes):
    """``g`` with the reduced axes put back, broadcast to ``shape``."""
    if tuple(axes) != tuple(range(len(axes))):  # broadcasting adds leading axes by itself
        g = reshape(g, [1 if i in axes else d for i, d in enumerate(shape)])
    return broadcast_to(g, shape)


def _sum_vjp(cts, inputs, outputs, active, *, axes):
    x = inputs[0]
    return [unbroadcast(expand_reduced(cts[0], x.shape, axes), x)]


def _chooser_vjp(cts, inputs, outputs, active, *, axes):
    """max/min: the gradient goes to the elements equal to the result, split among ties."""
    x, (ans,), (g,) = inputs[0], outputs, cts
    one, zero = x.dtype.type(1), x.dtype.type(0)
    chosen = where(x == expand_reduced(ans, x.shape, axes), one, zero)
    count = expand_reduced(reduce_sum(chosen, axes), x.shape, axes)
    return [chosen * expand_reduced(g, x.shape, axes) / count]


def _prod_vjp(cts, inputs, outputs, active, *, axes):
    """d prod(x) / dx_i = the product of the other elements: of those before i times those
    after it, so that zeros in x need no division."""
    x, (g,) = inputs[0], cts
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = transpose(x, kept + list(axes))
    flat = reshape(moved, [x.shape[i] for i in kept] + [int(np.prod([x.shape[a] for a in axes]))])
    others = exclusive_cumprod(flat, reverse=False) * exclusive_cumprod(flat, reverse=True)
    grad = transpose(reshape(others, moved.shape), np.argsort(kept + list(axes)))
    return [grad * expand_reduced(g, x.shape, axes)]


def _sum_jvp(primals, tangents, *, axes):
    out, t = reduce_sum_p.bind(primals[0], axes=axes), tangents[0]
    return [out], [None if t is None else reduce_sum_p.bind(t, axes=axes)]


def _chooser_jvp(prim):
    """max/min: the mean of the tangents of the elements equal to the result (ties share
    equally, as in the VJP, so the two are transposes of each other)."""
    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        ans = prim.bind(x, axes=axes)
        one, zero = x.dtype.type(1), x.dtype.type(0)
        chosen = where(x == expand_reduced(ans, x.shape, axes), one, zero)
        return [ans], [reduce_sum(chosen * t, axes) / reduce_sum(chosen, axes)]
    return jvp


def _prod_jvp(primals, tangents, *, axes):
    """The sum of each tangent times the product of the other elements (exact at zeros)."""
    (x,), (t,) = primals, tangents
    ans = reduce_prod_p.bind(x, axes=axes)
    one = broadcast_to(ans.dtype.type(1), ans.shape)
    others = _prod_vjp([one], [x], [ans], [True], axes=axes)[0]
    return [ans], [reduce_sum(others * t, axes)]


def exclusive_cumprod(x, reverse):
    """prod of the elements strictly before (after, if reverse) each one, along the last axis."""
    axis, n = x.ndim - 1, x.shape[-1]
    one = x.dtype.type(1)
    if n <= 1:
        return broadcast_to(one, x.shape)
    ones, ndim = broadcast_to(one, (*x.shape[:-1], 1)), x.ndim
    if reverse:
        rest = slice_array(x, [0] * (ndim - 1) + [1], [1] * ndim, (*x.shape[:-1], n - 1))
        return concatenate([cumprod(rest, axis, reverse=True), ones], axis)
    rest = slice_array(x, [0] * ndim, [1] * ndim, (*x.shape[:-1], n - 1))
    return concatenate([ones, cumprod(rest, axis)], axis)


def _lowest(dtype):
    return "-np.inf" if dtype.kind == "f" else "False" if dtype.kind == "b" else \
        str(np.iinfo(dtype).min)


def _highest(dtype):
    return "np.inf" if dtype.kind == "f" else "True" if dtype.kind == "b" else \
        str(np.iinfo(dtype).max)


def _reduced_axes(*, axes):
    return axes


# max/min propagate NaN as NumPy does: once the accumulator is NaN it stays NaN
_SUM = Reduction(lambda dtype: "0", "{acc} + {x}", _reduced_axes, widen=True)
_PROD = Reduction(lambda dtype: "1", "{acc} * {x}", _reduced_axes, widen=True)
# (selects, not conditional expressions: each of those is branches for Numba to compile)
_MAX = Reduction(_lowest, "fgm.where(({x} > {acc}) | ({x} != {x}), {x}, {acc})", _reduced_axes)
_MIN = Reduction(_highest, "fgm.where(({x} < {acc}) | ({x} != {x}), {x}, {acc})", _reduced_axes)
_ALL = Reduction(lambda dtype: "True", "{acc} and {x}", _reduced_axes)
_ANY = Reduction(lambda dtype: "False", "{acc} or {x}", _reduced_axes)


def _reduce_batch(prim):
    """A reduction of examples: the batch axis first, the reduced axes one further on."""
    def rule(args, dims, *, axes):
        return [prim.bind(to_front(args[0], dims[0]), axes=tuple(a + 1 for a in axes))], [0]
    return rule


def _along_axis_batch(prim):
    """argmax/argmin and the cumulative ones: the batch axis first, their axis one further."""
    def rule(args, dims, *, axis, **params):
        return [prim.bind(to_front(args[0], dims[0]), axis=axis + 1, **params)], [0]
    return rule

# np.add.reduce is what np.sum calls, without np.sum's dispatch (a third of its cost here)
reduce_sum_p = Primitive("reduce_sum", impl=lambda x, *, axes: np.add.reduce(x, axis=axes),
                         shape_rule=_reduce_rule(sum_dtype), allocates=True)
vjp_rules[reduce_sum_p] = _sum_vjp
jvp_rules[reduce_sum_p] = _sum_jvp
lowerings[reduce_sum_p] = _SUM
batch_rules[reduce_sum_p] = _reduce_batch(reduce_sum_p)
reduce_max_p = Primitive("reduce_max", impl=lambda x, *, axes: np.max(x, axis=axes),
                         shape_rule=_reduce_rule(lambda d: d), allocates=True)
vjp_rules[reduce_max_p] = _chooser_vjp
jvp_rules[reduce_max_p] = _chooser_jvp(reduce_max_p)
lowerings[reduce_max_p] = _MAX
batch_rules[reduce_max_p] = _reduce_batch(reduce_max_p)
reduce_min_p = Primitive("reduce_min", impl=lambda x, *, axes: np.min(x, axis=axes),
                         shape_rule=_reduce_rule(lambda d: d), allocates=True)
vjp_rules[reduce_min_p] = _chooser_vjp
jvp_rules[reduce_min_p] = _chooser_jvp(reduce_min_p)
lowerings[reduce_min_p] = _MIN
batch_rules[reduce_min_p] = _reduce_batch(reduce_min_p)
reduce_prod_p = Primitive("reduce_prod", impl=lambda x, *, axes: np.prod(x, axis=axes),
                          shape_rule=_reduce_rule(sum_dtype), allocates=True)
vjp_rules[reduce_prod_p] = _prod_vjp
jvp_rules[reduce_prod_p] = _prod_jvp
lowerings[reduce_prod_p] = _PROD
batch_rules[reduce_prod_p] = _reduce_batch(reduce_prod_p)
reduce_and_p = Primitive("reduce_and", impl=lambda x, *, axes: np.all(x, axis=axes),
                         shape_rule=_reduce_rule(lambda d: bool_), allocates=True)
zero_derivative(reduce_and_p)
lowerings[reduce_and_p] = _ALL
batch_rules[reduce_and_p] = _reduce_batch(reduce_and_p)
reduce_or_p = Primitive("reduce_or", impl=lambda x, *, axes: np.any(x, axis=axes),
                        shape_rule=_reduce_rule(lambda d: bool_), allocates=True)
zero_derivative(reduce_or_p)
lowerings[reduce_or_p] = _ANY
batch_rules[reduce_or_p] = _reduce_batch(reduce_or_p)


def _arg_rule(x, *, axis):
    _check_axes(x, (axis,))
    if x.shape[axis] == 0:
        raise ShapeError(f"argmax/argmin of an empty axis of {x}")
    return ShapedArray(_kept_shape(x.shape, (axis,)), int64)


def _arg_lowering(better):
    """The first index of the best element along ``axis``; the first NaN, if any, wins."""
    def lower(ctx, eqn):
        (x,), (out,), axis = eqn.inputs, eqn.outputs, eqn.params["axis"]
        name = ctx.name(out)
        xs = ctx.array(x)
        if out.aval.shape:
            ctx.emit(f"{name} = fgm.empty({ctx.shape(out.aval.shape)}, np.int64)")
        best, where, v, j = (ctx.fresh(s) for s in ("best", "where", "v", "j"))
        with ctx.loops(out.aval.shape) as index:
            at = lambda k: ", ".join(index[:axis] + [k] + index[axis:])  # noqa: E731
            ctx.emit(f"{best} = {xs}[{at('0')}]")
            ctx.emit(f"{where} = 0")
            ctx.emit(f"for {j} in range(1, {ctx.dim(x.aval.shape[axis])}):")
            with ctx.indented():
                ctx.emit(f"{v} = {xs}[{at(j)}]")
                ctx.emit(f"if ({v} {better} {best} or {v} != {v}) and {best} == {best}:")
                with ctx.indented():
                    ctx.emit(f"{best} = {v}")
                    ctx.emit(f"{where} = {j}")
            ctx.emit(f"{name}[{', '.join(index)}] = {where}" if index else f"{name} = {where}")
        ctx.bind(out, name)
    return Standalone(lower)


argmax_p = Primitive("argmax", impl=lambda x, *, axis: np.argmax(x, axis=axis).astype(int64),
                     shape_rule=_arg_rule, allocates=True)
zero_derivative(argmax_p)
lowerings[argmax_p] = _arg_lowering(">")
batch_rules[argmax_p] = _along_axis_batch(argmax_p)
argmin_p = Primitive("argmin", impl=lambda x, *, axis: np.argmin(x, axis=axis).astype(int64),
                     shape_rule=_arg_rule, allocates=True)
zero_derivative(argmin_p)
lowerings[argmin_p] = _arg_lowering("<")
batch_rules[argmin_p] = _along_axis_batch(argmin_p)


# --- cumulative ---------------------------------------------------------------------------

def _cumulative_impl(np_fn):
    def impl(x, *, axis, reverse):
        if reverse:
            return np.flip(np_fn(np.flip(x, axis), axis=axis), axis)
        return np_fn(x, axis=axis)
    return impl


def _cumulative_rule(x, *, axis, reverse):
    _check_axes(x, (axis,))
    return x.update(dtype=sum_dtype(x.dtype))


def _cumsum_vjp(cts, inputs, outputs, active, *, axis, reverse):
    return [unbroadcast(cumsum(cts[0], axis, reverse=not reverse), inputs[0])]


def _cumprod_vjp(cts, inputs, outputs, active, *, axis, reverse):
    """Exact at zeros: with P[j, k] = prod of x[:k+1] except x[j],
    dx_j = sum over k >= j of g_k P[j, k]. Costs O(n^2) along the axis."""
    x, (g,) = inputs[0], cts
    if reverse:
        x, g = flip(x, [axis]), flip(g, [axis])
    x_last, g_last = moveaxis_last(x, axis), moveaxis_last(g, axis)
    n = x_last.shape[-1]
    rows = iota(int64, (n, n), 0)
    cols = iota(int64, (n, n), 1)
    without_j = where(rows == cols, 1.0, expand_dims_at(x_last, -2))
    P = cumprod(without_j, x_last.ndim, reverse=False)          # [..., j, k]
    dx = reduce_sum(where(cols >= rows, P * expand_dims_at(g_last, -2), 0.0),
                    (x_last.ndim,))
    dx = moveaxis_from_last(dx, axis)
    return [flip(dx, [axis]) if reverse else dx]


def _cumsum_jvp(primals, tangents, *, axis, reverse):
    out, t = cumsum_p.bind(primals[0], axis=axis, reverse=reverse), tangents[0]
    return [out], [None if t is None else cumsum_p.bind(t, axis=axis, reverse=reverse)]


def _cumprod_jvp(primals, tangents, *, axis, reverse):
    """Exact at zeros: with P[j, k] = prod of x[:k+1] except x[j],
    dy_k = sum over j <= k of t_j P[j, k] (the transpose of the VJP's sum)."""
    (x,), (t,) = primals, tangents
    out = cumprod_p.bind(x, axis=axis, reverse=reverse)
    if reverse:
        x, t = flip(x, [axis]), flip(t, [axis])
    x_last, t_last = moveaxis_last(x, axis), moveaxis_last(t, axis)
    n = x_last.shape[-1]
    rows = iota(int64, (n, n), 0)
    cols = iota(int64, (n, n), 1)
    without_j = where(rows == cols, 1.0, expand_dims_at(x_last, -2))
    P = cumprod(without_j, x_last.ndim, reverse=False)          # [..., j, k]
    dy = reduce_sum(where(cols >= rows, P * expand_dims_at(t_last, -1), 0.0),
                    (x_last.ndim - 1,))
    dy = moveaxis_from_last(dy, axis)
    return [out], [flip(dy, [axis]) if reverse else dy]


def moveaxis_last(x, axis):
    perm = [i for i in range(x.ndim) if i != axis] + [axis]
    return transpose(x, perm)


def moveaxis_from_last(x, axis):
    perm = list(range(x.ndim - 1))
    perm.insert(axis, x.ndim - 1)
    return transpose(x, perm)


def expand_dims_at(x, axis):
    shape = list(x.shape)
    shape.insert(axis % (x.ndim + 1), 1)
    return reshape(x, shape)


def _cumulative_lowering(op):
    def lower(ctx, eqn):
        (x,), (out,) = eqn.inputs, eqn.outputs
        axis, reverse = eqn.params["axis"], eqn.params["reverse"]
        name = ctx.new_array(out.aval, ctx.name(out))
        xs = ctx.array(x)
        others = [d for k, d in enumerate(out.aval.shape) if k != axis]
        acc, j = ctx.fresh("acc"), ctx.fresh("j")
        with ctx.loops(others) as index:
            n = ctx.dim(out.aval.shape[axis])
            at = lambda k: ", ".join(index[:axis] + [k] + index[axis:])  # noqa: E731
            ctx.emit(f"{acc} = {ctx.dtype(out.aval.dtype)}({'0' if op == '+' else '1'})")
            ctx.emit(f"for {j} in " + (f"range({n} - 1, -1, -1):" if reverse else
                                       f"range({n}):"))
            with ctx.indented():
                ctx.emit(f"{acc} = {acc} {op} {xs}[{at(j)}]")
                ctx.emit(f"{name}[{at(j)}] = {acc}")
        ctx.bind(out, name)
    return Standalone(lower)


cumsum_p = Primitive("cumsum", impl=_cumulative_impl(np.cumsum), shape_rule=_cumulative_rule,
                     allocates=True)
vjp_rules[cumsum_p] = _cumsum_vjp
jvp_rules[cumsum_p] = _cumsum_jvp
lowerings[cumsum_p] = _cumulative_lowering("+")
batch_rules[cumsum_p] = _along_axis_batch(cumsum_p)
cumprod_p = Primitive("cumprod", impl=_cumulative_impl(np.cumprod), shape_rule=_cumulative_rule,
                     allocates=True)
vjp_rules[cumprod_p] = _cumprod_vjp
jvp_rules[cumprod_p] = _cumprod_jvp
lowerings[cumprod_p] = _cumulative_lowering("*")
batch_rules[cumprod_p] = _along_axis_batch(cumprod_p)


def _axes(axes):
    return tuple(sorted(int(a) for a in axes))


def reduce_sum(x, axes):
    axes = _axes(axes)
    return reduce_sum_p.bind(x, axes=axes) if axes else x


def reduce_max(x, axes):
    return reduce_max_p.bind(x, axes=_axes(axes))


def reduce_min(x, axes):
    return reduce_min_p.bind(x, axes=_axes(axes))


def reduce_prod(x, axes):
    return reduce_prod_p.bind(x, axes=_axes(axes))


def cumsum(x, axis, reverse=False):
    return cumsum_p.bind(x, axis=int(axis), reverse=bool(reverse))


def cumprod(x, axis, reverse=False):
    return cumprod_p.bind(x, axis=int(axis), reverse=bool(reverse))


from funcgrad.ops.elementwise import where  # noqa: E402
from funcgrad.ops.shape import (broadcast_to, concatenate, flip, iota, reshape,  # noqa: E402
                                slice_array, to_front, transpose, unbroadcast)
