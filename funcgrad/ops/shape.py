"""Structural primitives: they move, copy or create elements but compute nothing.

broadcast_to, reshape, transpose, slice (static, strided, negative steps), pad (with
interior padding, so it undoes a strided slice), concatenate and iota (the index grid from
which arange, eye, tril and one_hot are built without constant arrays). Each rule below is
the full story of its primitive: shape, NumPy implementation, VJP, lowering.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.tracing import Tracer, simplify_rules
from funcgrad.core.types import ShapedArray, check_dtype
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules, zero_derivative
from funcgrad.rules.batching import batch_level
from funcgrad.rules.lowering import Guarded, Standalone, View, arith, lowerings


def _array(x):
    """x as an ndarray, cheaply: the methods of one cost a tenth of the np functions."""
    return x if type(x) is np.ndarray else np.asarray(x)


def shape_of(x) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else ()


def _fmt_shape(shape) -> str:
    return f"({', '.join(map(str, shape))}{',' if len(shape) == 1 else ''})"


def linear_jvp(prim):
    """The JVP rule of a primitive linear in its first operand, the only differentiable one
    (its other operands are indices): the tangent goes through the primitive itself."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        t = tangents[0]
        return [out], [None if t is None else prim.bind(t, *primals[1:], **params)]
    return jvp
# --- batch axes (vmap's rules, here and in the other ops modules) -----------------------

def batched_aval(aval: ShapedArray, dim, size: int) -> ShapedArray:
    """``aval`` with a batch axis of ``size`` inserted at ``dim`` (None: unbatched)."""
    if dim is None:
        return aval
    shape = list(aval.shape)
    shape.insert(dim, size)
    return aval.update(shape=tuple(shape))


def moveaxis(x, source: int, destination: int):
    """``x`` with axis ``source`` moved to ``destination`` (a transpose, free when compiled)."""
    if source == destination:
        return x
    perm = [i for i in range(len(shape_of(x))) if i != source]
    perm.insert(destination, source)
    return transpose(x, perm)


def to_front(x, dim):
    """``x`` with its batch axis ``dim`` first (unchanged if it is unbatched: dim None)."""
    return x if dim is None else moveaxis(x, dim, 0)


def with_batch_axis(x, dim, size: int):
    """``x`` batched with its batch axis first; an unbatched ``x`` is broadcast to the batch."""
    if dim is None:
        return broadcast_to(x, (size, *shape_of(x)))
    return moveaxis(x, dim, 0)


def batch_size(args, dims) -> int:
    """The number of examples: the size of a batched operand's batch axis, or, for an
    equation batched with no batched operand (one using a collective of this level, see
    rules/batching.py), the size of the batch being built."""
    for x, d in zip(args, dims):
        if d is not None:
            return shape_of(x)[d]
    level = batch_level()
    assert level is not None, "batch_size outside a batching rule"
    return level.size


def rank_aligned(x, dim, rank: int):
    """A batched operand of a broadcasting primitive, its batch axis first and unit axes after
    it, so that its own axes still line up (from the right) with those of the others, whose
    examples have ``rank`` axes; an unbatched one is returned as it is."""
    if dim is None:
        return x
    x = moveaxis(x, dim, 0)
    shape = shape_of(x)
    return reshape(x, (shape[0], *(1,) * (rank - len(shape) + 1), *shape[1:]))


def example_rank(x, dim) -> int:
    return len(shape_of(x)) - (dim is not None)


# --- broadcast_to -----------------------------------------------------------------------

def _broadcast_to_rule(x, *, shape):
    lead = len(shape) - x.ndim
    if lead < 0 or any(d not in (1, s) for d, s in zip(x.shape, shape[lead:])):
        raise ShapeError(f"cannot broadcast {x} to shape {_fmt_shape(shape)}")
    return x.update(shape=shape)


def _broadcast_to_vjp(cts, inputs, outputs, active, *, shape):
    return [unbroadcast(cts[0], inputs[0])]


def scalar_source(trace, x):
    """The scalar a traced array is a broadcast (or reshape of a broadcast) of, if it is one."""
    eqn = trace.producer(x)
    while eqn is not None and eqn.primitive in (broadcast_to_p, reshape_p):
        source = eqn.inputs[0]
        if source.aval.shape == ():
            return trace.value(source)
        eqn = trace.producer(trace.value(source))
    return None


def constant_scalar(trace, x):
    """The constant scalar ``x`` is, if it is one: a Python or NumPy scalar, or a broadcast
    (or reshape of a broadcast) of one recorded in ``trace``. None otherwise."""
    if type(x) in (int, float, bool) or isinstance(x, np.generic):
        return x
    if isinstance(x, np.ndarray):
        return x[()] if x.shape == () else None
    if trace is None or not isinstance(x, Tracer) or x._trace is not trace:
        return None
    scalar = scalar_source(trace, x)
    return scalar if scalar is not None and constant_scalar(None, scalar) is not None else None


def broadcast_source(trace, x):
    """y, if ``x`` is broadcast_to(y) recorded in ``trace``; else None."""
    eqn = trace.producer(x)
    if eqn is None or eqn.primitive is not broadcast_to_p:
        return None
    return trace.value(eqn.inputs[0])


def _simplify_broadcast_to(trace, out_aval, x, *, shape):
    scalar = scalar_source(trace, x)
    return None if scalar is None else broadcast_to(scalar, shape)


def _broadcast_to_index(ctx, index, x, out, *, shape):
    lead = len(shape) - x.ndim
    return [index[lead + k] if d == shape[lead + k] else "0" for k, d in enumerate(x.shape)]


broadcast_to_p = Primitive("broadcast_to", impl=lambda x, *, shape: np.broadcast_to(x, shape),
                           shape_rule=_broadcast_to_rule)
vjp_rules[broadcast_to_p] = _broadcast_to_vjp
jvp_rules[broadcast_to_p] = linear_jvp(broadcast_to_p)
lowerings[broadcast_to_p] = View(_broadcast_to_index)
simplify_rules[broadcast_to_p] = _simplify_broadcast_to
batch_rules[broadcast_to_p] = lambda args, dims, *, shape: (
    [broadcast_to(rank_aligned(args[0], dims[0], len(shape)),
                  (batch_size(args, dims), *shape))], [0])


def broadcast_to(x, shape):
    shape = tuple(int(d) for d in shape)
    return x if shape_of(x) == shape else broadcast_to_p.bind(x, shape=shape)


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, and give it ``x``'s dtype:
    the cotangent of a broadcast operand."""
    shape, gshape = shape_of(x), shape_of(g)
    if gshape != shape:
        lead = len(gshape) - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                          if d == 1 and gshape[lead + i] != 1)
        if lead >= 0 and axes:
            g = reshape(reduce_sum(g, axes), shape)
        if shape_of(g) != shape:
            g = broadcast_to(reshape(g, shape_of(g)), shape)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and getattr(g, "dtype", dtype) != dtype:
        from funcgrad.ops.elementwise import convert_element_type
        g = convert_element_type(g, dtype)
    return g


# --- reshape ----------------------------------------------------------------------------

def _reshape_rule(x, *, shape):
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(f"cannot reshape {x} into shape {_fmt_shape(shape)}")
    return x.update(shape=shape)


def _simplify_reshape(trace, out_aval, x, *, shape):
    """reshape(reshape(y)) -> reshape(y); a reshaped broadcast scalar is broadcast directly."""
    scalar = scalar_source(trace, x)
    if scalar is not None:
        return broadcast_to(scalar, shape)
    eqn = trace.producer(x)
    if eqn is not None and eqn.primitive is reshape_p:
        return reshape(trace.value(eqn.inputs[0]), shape)
    return None


def _only_unit_axes_change(x, out, *, shape):
    return [d for d in x.shape if d != 1] == [d for d in shape if d != 1]


def _reshape_index(ctx, index, x, out, *, shape):
    """Adding or removing length-1 axes: the other axes keep their index."""
    kept = iter(i for i, d in zip(index, shape) if d != 1)
    return ["0" if d == 1 else next(kept) for d in x.shape]


def _reshape_as_array(ctx, base, x, out, *, shape):
    if not shape or not x.shape:
        return None  # to or from a scalar: copied element by element
    return f"np.ascontiguousarray({base}).reshape({ctx.shape(shape)})"


def _lower_reshape(ctx, eqn):
    (x,), (out,) = eqn.inputs, eqn.outputs
    ctx.define(out, _reshape_as_array(ctx, ctx.array(x), x.aval, out.aval, **eqn.params))


reshape_p = Primitive("reshape", impl=lambda x, *, shape: _array(x).reshape(shape),
                      shape_rule=_reshape_rule)
vjp_rules[reshape_p] = lambda cts, inputs, outputs, active, *, shape: [
    reshape(cts[0], shape_of(inputs[0]))]
jvp_rules[reshape_p] = linear_jvp(reshape_p)
lowerings[reshape_p] = View(_reshape_index, applies=_only_unit_axes_change,
                            fallback=_lower_reshape, as_array=_reshape_as_array)
simplify_rules[reshape_p] = _simplify_reshape
batch_rules[reshape_p] = lambda args, dims, *, shape: (
    [reshape(to_front(args[0], dims[0]), (batch_size(args, dims), *shape))], [0])


def reshape(x, shape):
    shape = tuple(int(d) for d in shape)
    return x if shape_of(x) == shape else reshape_p.bind(x, shape=shape)


# --- transpose --------------------------------------------------------------------------

def _transpose_rule(x, *, perm):
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"axes {perm} are not a permutation of the {x.ndim} axes of {x}")
    return x.update(shape=tuple(x.shape[p] for p in perm))


def _transpose_index(ctx, index, x, out, *, perm):
    source = [None] * len(perm)
    for k, p in enumerate(perm):
        source[p] = index[k]
    return source


transpose_p = Primitive("transpose", impl=lambda x, *, perm: _array(x).transpose(perm),
                        shape_rule=_transpose_rule)
vjp_rules[transpose_p] = lambda cts, inputs, outputs, active, *, perm: [
    transpose(cts[0], np.argsort(perm))]
jvp_rules[transpose_p] = linear_jvp(transpose_p)
lowerings[transpose_p] = View(_transpose_index, as_array=lambda ctx, base, x, out, *, perm:
                              f"np.transpose({base}, ({''.join(f'{p}, ' for p in perm)}))")
batch_rules[transpose_p] = lambda args, dims, *, perm: (
    [transpose(to_front(args[0], dims[0]), (0, *(p + 1 for p in perm)))], [0])


def transpose(x, perm):
    perm = tuple(int(p) for p in perm)
    # (the identity of all the axes: a prefix of it, such as (0,), is for the rule to refuse)
    return x if perm == tuple(range(np.ndim(x))) else transpose_p.bind(x, perm=perm)


# --- slice: static, strided, steps may be negative --------------------------------------
# Along axis i the result holds x[start[i] + k * step[i]] for k < size[i].

def python_slice(start: int, step: int, size: int) -> slice:
    if size == 0:
        return slice(0, 0)
    stop = start + (size - 1) * step + (1 if step > 0 else -1)
    return slice(start, None if stop < 0 else stop, step)


def _slice_impl(x, *, start, step, size):
    return x[tuple(map(python_slice, start, step, size))]


def _slice_rule(x, *, start, step, size):
    for s, st, n, d in zip(start, step, size, x.shape):
        if n and not (0 <= s < d and 0 <= s + (n - 1) * st < d):
            raise ShapeError(f"slice start={start} step={step} size={size} is out of bounds "
                             f"for {x}")
    return x.update(shape=tuple(size))


def _slice_vjp(cts, inputs, outputs, active, *, start, step, size):
    g, shape = cts[0], shape_of(inputs[0])
    flipped = [i for i, st in enumerate(step) if st < 0]
    if flipped:  # walk negative steps forwards: reverse g, start from the other end
        g = flip(g, flipped)
        start = [s + (n - 1) * st if st < 0 else s for s, st, n in zip(start, step, size)]
        step = [abs(st) for st in step]
    lo = [s if n else d for s, n, d in zip(start, size, shape)]
    hi = [d - (s + (n - 1) * st + 1) if n else 0 for s, st, n, d in zip(start, step, size, shape)]
    return [pad(g, lo, hi, [st - 1 for st in step], 0)]


def _operand(i: str) -> str:
    """Index expression ``i`` (maybe another view's, such as ``5 + i0 * -1``) made safe to
    combine with operators that bind tighter than its own."""
    return i if i.isidentifier() or i.isdigit() else f"({i})"


def _slice_index(ctx, index, x, out, *, start, step, size):
    def element(i, s, st):
        offset = ctx.offset(s) + " + " if s else ""
        i = _operand(i)
        return f"{offset}{i}" if st == 1 else f"{offset}{i} * {st}"
    return [element(i, s, st) for i, s, st in zip(index, start, step)]


def _slice_as_array(ctx, base, x, out, *, start, step, size):
    if any(st < 0 for st in step):
        return None  # copied element by element
    bounds = []
    for s, st, n in zip(start, step, size):
        lo = ctx.offset(s)
        bounds.append(f"{lo}:{lo} + {ctx.dim((n - 1) * st + 1 if n else 0)}:{st}")
    return f"{base}[{', '.join(bounds)}]"


slice_p = Primitive("slice", impl=_slice_impl, shape_rule=_slice_rule)
vjp_rules[slice_p] = _slice_vjp
jvp_rules[slice_p] = linear_jvp(slice_p)
lowerings[slice_p] = View(_slice_index, as_array=_slice_as_array)
batch_rules[slice_p] = lambda args, dims, *, start, step, size: (
    [slice_array(to_front(args[0], dims[0]), (0, *start), (1, *step),
                 (batch_size(args, dims), *size))], [0])


def slice_array(x, start, step, size):
    start, step, size = (tuple(int(v) for v in t) for t in (start, step, size))
    if all(s == 0 and st == 1 for s, st in zip(start, step)) and size == shape_of(x):
        return x
    return slice_p.bind(x, start=start, step=step, size=size)


def flip(x, axes):
    shape = shape_of(x)
    axes = set(axes)
    return slice_array(x, [d - 1 if i in axes and d else 0 for i, d in enumerate(shape)],
                       [-1 if i in axes else 1 for i in range(len(shape))], shape)


# --- pad: constant value, lo/hi >= 0 and interior padding between elements --------------

def _padded(n, lo, hi, interior):
    return lo + hi + n + max(n - 1, 0) * interior


def _pad_rule(x, *, lo, hi, interior, value):
    if min((*lo, *hi, *interior), default=0) < 0:
        raise ShapeError(f"negative padding lo={lo} hi={hi} interior={interior}")
    return x.update(shape=tuple(map(_padded, x.shape, lo, hi, interior)))


def _pad_impl(x, *, lo, hi, interior, value):
    x = np.asarray(x)
    out = np.full(tuple(map(_padded, x.shape, lo, hi, interior)), value, x.dtype)
    out[tuple(slice(low, low + (n - 1) * (i + 1) + 1 if n else low, i + 1)
              for n, low, i in zip(x.shape, lo, interior))] = x
    return out


def _pad_vjp(cts, inputs, outputs, active, *, lo, hi, interior, value):
    return [slice_array(cts[0], lo, [i + 1 for i in interior], shape_of(inputs[0]))]


def _pad_jvp(primals, tangents, *, lo, hi, interior, value):
    """The padding is constant: the tangent is padded with zeros."""
    out = pad_p.bind(primals[0], lo=lo, hi=hi, interior=interior, value=value)
    t = tangents[0]
    zero = 0 if t is None else t.dtype.type(0)
    return [out], [None if t is None else pad_p.bind(t, lo=lo, hi=hi, interior=interior,
                                                     value=zero)]


def _pad_index(ctx, index, x, out, *, lo, hi, interior, value):
    """Element i of the padded array is x[(i - lo) / (interior + 1)] where that is a whole
    number in range, else the padding value: padding fuses into the loop that reads it.
    i is an index of the output, so i - lo >= 0 needs checking only if lo > 0, and
    i - lo < span only if hi > 0; the checks are one expression without short-circuits
    (each ``and`` or chained comparison is a branch, blocks that Numba's passes go over)."""
    source, conditions = [], []
    for i, n, low, high, gap in zip(index, x.shape, lo, hi, interior):
        shifted = f"(({i}) - {ctx.offset(low)})" if low else _operand(i)
        span = (n - 1) * (gap + 1) + 1 if n else 0
        if low:
            conditions.append(f"{i} >= {ctx.offset(low)}")
        if high or not n:
            conditions.append(f"{shifted} < {ctx.dim(span)}")
        if gap:
            conditions.append(f"{shifted} % {gap + 1} == 0")
            shifted = f"{shifted} // {gap + 1}"
        source.append(shifted)
    condition = " & ".join(f"({c})" for c in conditions) if len(conditions) > 1 else \
        (conditions[0] if conditions else "True")
    return Guarded(source, condition, ctx.literal(value, out.dtype))


pad_p = Primitive("pad", impl=_pad_impl, shape_rule=_pad_rule, allocates=True)
vjp_rules[pad_p] = _pad_vjp
jvp_rules[pad_p] = _pad_jvp
lowerings[pad_p] = View(_pad_index)
batch_rules[pad_p] = lambda args, dims, *, lo, hi, interior, value: (
    [pad(to_front(args[0], dims[0]), (0, *lo), (0, *hi), (0, *interior), value)], [0])


def pad(x, lo, hi, interior, value=0):
    lo, hi, interior = (tuple(int(v) for v in t) for t in (lo, hi, interior))
    if not any((*lo, *hi, *interior)):
        return x
    return pad_p.bind(x, lo=lo, hi=hi, interior=interior, value=value)


# --- concatenate ------------------------------------------------------------------------

def _concatenate_rule(*xs, axis):
    first = xs[0]
    for x in xs[1:]:
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape))
                                       if i != axis):
            raise ShapeError(f"cannot concatenate {first} with {x} along axis {axis}")
    from funcgrad.core.types import promote_types
    dtype, weak = promote_types(*xs)
    shape = list(first.shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return ShapedArray(tuple(shape), check_dtype(dtype), weak)


def _concatenate_vjp(cts, inputs, outputs, active, *, axis):
    g, out, offset = cts[0], [], 0
    for x, on in zip(inputs, active):
        shape = shape_of(x)
        if on:
            start = [0] * len(shape)
            start[axis] = offset
            out.append(unbroadcast(slice_array(g, start, [1] * len(shape), shape), x))
        else:
            out.append(None)
        offset += shape[axis]
    return out


def _concatenate_jvp(primals, tangents, *, axis):
    """The tangents concatenated, zeros standing in for the operands without one."""
    out = concatenate_p.bind(*primals, axis=axis)
    if all(t is None for t in tangents):
        return [out], [None]
    dtype = out.dtype
    parts = [broadcast_to(dtype.type(0), shape_of(x)) if t is None else t
             for x, t in zip(primals, tangents)]
    return [out], [concatenate_p.bind(*parts, axis=axis)]


def _lower_concatenate(ctx, eqn):
    out, axis = eqn.outputs[0], eqn.params["axis"]
    name = ctx.new_array(out.aval, ctx.name(out))
    offset = 0
    for x in eqn.inputs:
        n = x.aval.shape[axis]
        if n:
            where = [":"] * out.aval.ndim
            where[axis] = f"{ctx.offset(offset)}:{ctx.offset(offset + n)}"
            ctx.emit(f"{name}[{', '.join(where)}] = {ctx.array(x)}")
        offset += n
    ctx.bind(out, name)


concatenate_p = Primitive("concatenate", impl=lambda *xs, axis: np.concatenate(xs, axis),
                          shape_rule=_concatenate_rule, allocates=True)
vjp_rules[concatenate_p] = _concatenate_vjp
jvp_rules[concatenate_p] = _concatenate_jvp
lowerings[concatenate_p] = Standalone(_lower_concatenate)
batch_rules[concatenate_p] = lambda args, dims, *, axis: (
    [concatenate([with_batch_axis(x, d, batch_size(args, dims)) for x, d in zip(args, dims)],
                 axis + 1)], [0])


def concatenate(xs, axis):
    return xs[0] if len(xs) == 1 else concatenate_p.bind(*xs, axis=axis)


# --- iota: the index along one axis, as an array ----------------------------------------

def _iota_rule(*, dtype, shape, axis):
    return ShapedArray(tuple(shape), check_dtype(dtype))


def _iota_impl(*, dtype, shape, axis):
    index = np.arange(shape[axis], dtype=dtype).reshape(
        [-1 if i == axis else 1 for i in range(len(shape))])
    return np.broadcast_to(index, shape)


iota_p = Primitive("iota", impl=_iota_impl, shape_rule=_iota_rule, allocates=True)
zero_derivative(iota_p)
lowerings[iota_p] = arith(lambda operands, index, *, dtype, shape, axis: index[axis])
# iota has no operands, so it is never batched: vmap re-emits it unchanged, never calls this
batch_rules[iota_p] = lambda args, dims, **params: ([iota_p.bind(**params)], [None])


def iota(dtype, shape, axis=0):
    if not shape:
        raise FuncgradTypeError("iota needs at least one axis")
    return iota_p.bind(dtype=np.dtype(dtype), shape=tuple(int(d) for d in shape), axis=axis)


from funcgrad.ops.reductions import reduce_sum  # noqa: E402  (reductions use shape ops too)
