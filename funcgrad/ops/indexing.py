"""Gather and scatter: NumPy advanced indexing, and its functional updates (``x.at[i].add``).

Both take a static *spec* with one entry per axis of ``x``: either ``(start, step, size)``, a
strided slice, or an int ``k``, meaning "indexed by the k-th index array". The index arrays
are operands (they may be traced), broadcast together, and placed in the result as NumPy
places advanced indices: where the first one stands if they are adjacent, else in front.
Negative indices count from the end; out-of-range indices raise IndexError.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules
from funcgrad.rules.lowering import Standalone, lowerings
from funcgrad.ops.elementwise import broadcast_shapes
from funcgrad.ops.shape import linear_jvp, python_slice


def gathered_shape(x_shape, index_shapes, spec) -> tuple[int, ...]:
    from funcgrad.core.types import ShapedArray
    index_shape = (broadcast_shapes(*(ShapedArray(s, np.dtype(int)) for s in index_shapes))
                   if index_shapes else ())
    advanced = [i for i, s in enumerate(spec) if isinstance(s, int)]
    sizes: list = [None if isinstance(s, int) else s[2] for s in spec]
    if not advanced:
        return tuple(sizes)
    if advanced == list(range(advanced[0], advanced[-1] + 1)):
        first = advanced[0]
        return (*sizes[:first], *index_shape, *(n for n in sizes[first:] if n is not None))
    return (*index_shape, *(n for n in sizes if n is not None))


def index_tuple(spec, indices) -> tuple:
    return tuple(indices[s] if isinstance(s, int) else python_slice(*s) for s in spec)


def _check(x, indices, spec):
    if len(spec) != x.ndim:
        raise ShapeError(f"an index spec of {len(spec)} entries for {x}")
    for i in indices:
        if i.dtype.kind not in "iu":
            raise FuncgradTypeError(f"arrays used as indices must be integers, got {i}")
    return gathered_shape(x.shape, [i.shape for i in indices], spec)


def _gather_rule(x, *indices, spec):
    return x.update(shape=_check(x, indices, spec))


def _gather_vjp(cts, inputs, outputs, active, *, spec):
    x, *indices = inputs
    zeros = broadcast_to(x.dtype.type(0), x.shape)
    return [scatter(zeros, indices, cts[0], spec, "add")] + [None] * len(indices)


def _source_index(ctx, eqn, x, indices, spec, out_index):
    """For an element of the gathered result at ``out_index``, the index into ``x``: slices
    step through their range; index arrays are read (negative ones count from the end, out
    of range ones raise IndexError naming the user's line)."""
    nb = len(broadcast_shapes(*indices)) if indices else 0
    advanced = [k for k, s in enumerate(spec) if isinstance(s, int)]
    if advanced and advanced != list(range(advanced[0], advanced[-1] + 1)):
        b_start = 0
    else:
        b_start = sum(1 for s in spec[:advanced[0]] if not isinstance(s, int)) if advanced else 0
    b_index = out_index[b_start:b_start + nb]
    rest = iter(out_index[:b_start] + out_index[b_start + nb:])
    batch_shape = broadcast_shapes(*indices) if indices else ()
    source = []
    for k, s in enumerate(spec):
        if isinstance(s, int):
            arr = indices[s]
            lead = len(batch_shape) - arr.ndim
            at = [b_index[lead + a] if d == batch_shape[lead + a] else "0"
                  for a, d in enumerate(arr.shape)]
            expr = ctx.array(eqn.inputs[1 + s])
            value = f"{expr}[{', '.join(at)}]" if at else expr
            i, n = ctx.fresh("ix"), ctx.dim(x.shape[k])
            ctx.emit(f"{i} = {value}")
            ctx.emit(f"if {i} < 0:")
            ctx.emit(f"    {i} += {n}")
            ctx.emit(f"if {i} < 0 or {i} >= {n}:")
            # the user's line is not written into the code (it is in a comment, and the
            # executable adds it to the error): moving the function keeps the same code
            ctx.emit(f"    raise IndexError('index out of bounds in {eqn.primitive.name} "
                     f"({i})')")
            source.append(i)
        else:
            start, step, _ = s
            j = next(rest)
            offset = f"{ctx.offset(start)} + " if start else ""
            source.append(f"{offset}{j}" if step == 1 else f"{offset}{j} * {step}")
    return source


def _lower_gather(ctx, eqn):
    x, *indices = (a.aval for a in eqn.inputs)
    out = eqn.outputs[0]
    name = ctx.new_array(out.aval, ctx.name(out)) if out.aval.shape else None
    xs = ctx.array(eqn.inputs[0])
    with ctx.loops(out.aval.shape) as index:
        source = _source_index(ctx, eqn, x, indices, eqn.params["spec"], index)
        value = f"{xs}[{', '.join(source)}]" if source else xs
        if name is None:
            name = ctx.fresh(ctx.name(out))
            ctx.emit(f"{name} = {value}")
        else:
            ctx.emit(f"{name}[{', '.join(index)}] = {value}")
    ctx.bind(out, name)


gather_p = Primitive("gather", impl=lambda x, *idx, spec: x[index_tuple(spec, idx)],
                     shape_rule=_gather_rule)
vjp_rules[gather_p] = _gather_vjp
jvp_rules[gather_p] = linear_jvp(gather_p)
lowerings[gather_p] = Standalone(_lower_gather)


def _adjacent(spec) -> bool:
    """Whether the index arrays of ``spec`` index adjacent axes (or there are none)."""
    advanced = [k for k, s in enumerate(spec) if isinstance(s, int)]
    return not advanced or advanced == list(range(advanced[0], advanced[-1] + 1))


def _index_block(spec) -> int:
    """Where the broadcast index arrays' axes go in the result of a gather with ``spec``."""
    advanced = [k for k, s in enumerate(spec) if isinstance(s, int)]
    return advanced[0] if advanced and _adjacent(spec) else 0


def _batched_indices(indices, dims):
    """The index arrays with their batch axes first and aligned to the examples' broadcast
    index rank (unbatched ones unchanged), and that rank."""
    shapes = [shape_of(i)[:d] + shape_of(i)[d + 1:] if d is not None else shape_of(i)
              for i, d in zip(indices, dims)]
    rank = len(np.broadcast_shapes(*shapes)) if shapes else 0
    return [rank_aligned(i, d, rank) for i, d in zip(indices, dims)], shapes, rank


def _batch_index(size, rank):
    """An index array selecting example b of a batch axis, shaped to broadcast as (size, ...)."""
    return iota(np.int64, (size, *(1,) * rank), 0)


def _gather_batch(args, dims, *, spec):
    """Only x batched: its batch axis is one more sliced axis. Batched indices: their batch
    axes lead the index arrays' (and, if x is batched, a new index array walks its batch
    axis in step with them)."""
    (x, *indices), (dx, *index_dims) = args, dims
    size = batch_size(args, dims)
    if all(d is None for d in index_dims):
        out = gather(to_front(x, dx), indices, ((0, 1, size), *spec))
        if _adjacent(spec):  # the slices before the index arrays' axes keep their place
            return [out], [0]
        return [out], [len(np.broadcast_shapes(*map(shape_of, indices)))]
    indices, _, rank = _batched_indices(indices, index_dims)
    if dx is None:
        return [gather(x, indices, spec)], [_index_block(spec)]
    indices.append(_batch_index(size, rank))
    out = gather(to_front(x, dx), indices, (len(indices) - 1, *spec))
    # now (batch, index axes, sliced axes); an example's index axes sit after the p sliced
    # axes before them
    p, n_sliced = _index_block(spec), sum(1 for s in spec if not isinstance(s, int))
    perm = [0, *(1 + rank + i for i in range(p)), *(1 + i for i in range(rank)),
            *(1 + rank + i for i in range(p, n_sliced))]
    return [transpose(out, perm)], [0]


batch_rules[gather_p] = _gather_batch


def gather(x, indices, spec):
    return gather_p.bind(x, *indices, spec=tuple(spec))


def _scatter_rule(x, *operands, spec, mode):
    *indices, updates = operands
    selected = x.update(shape=_check(x, indices, spec))
    try:
        fits = broadcast_shapes(updates, selected) == selected.shape
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(f"cannot use {updates} to update the {selected} selected by the index")
    return x.strong()


_UFUNC_AT = {"add": np.add.at, "multiply": np.multiply.at, "min": np.minimum.at,
             "max": np.maximum.at}


def _scatter_impl(x, *operands, spec, mode):
    *indices, updates = operands
    out = np.array(x, copy=True)
    index = index_tuple(spec, indices)
    if mode == "set":
        out[index] = updates
    else:
        _UFUNC_AT[mode](out, index, updates)
    return out


def _scatter_vjp(cts, inputs, outputs, active, *, spec, mode):
    """Exact with repeated indices: of the updates written to one element, ``set`` lets the
    last one win (NumPy's order, and the generated loop's), so only it gets the cotangent;
    ``add`` gives each its cotangent; ``multiply`` gives each the product of the others."""
    (g,), (x, *indices, updates) = cts, inputs
    repeats = bool(indices)  # only index arrays can name one element twice
    if mode == "set":
        dx = scatter(g, indices, x.dtype.type(0), spec, "set")
        du = gather(g, indices, spec) if active[-1] else None
        if du is not None and repeats:
            du = where(_wins(x, indices, spec), du, x.dtype.type(0))
    elif mode == "add":
        dx, du = g, gather(g, indices, spec) if active[-1] else None
    elif mode in ("min", "max"):
        dx, du = _extremum_shares(g, x, indices, updates, outputs[0], spec)
        du = du if active[-1] else None
    else:
        dx = scatter(g, indices, updates, spec, "multiply")
        du = gather(g * x, indices, spec) if active[-1] else None
        if du is not None and repeats:
            du = du * _product_of_others(x, indices, updates, spec)
    return [dx] + [None] * len(indices) + [unbroadcast(du, updates) if active[-1] else None]


def _extremum_shares(g, x, indices, updates, out, spec):
    """The min/max scatter's cotangents of x and of the updates, as JAX gives them: each
    place's cotangent is split equally among all the values that reached the result there
    (x's element and the updates equal to it), as maximum's is at a tie."""
    u = broadcast_to(updates, _selected_shape(x, indices, spec))
    zero, one = x.dtype.type(0), x.dtype.type(1)
    x_wins = where(x == out, one, zero)
    u_wins = where(u == gather(out, indices, spec), one, zero)
    share = g / scatter(x_wins, indices, u_wins, spec, "add")  # the count is >= 1 everywhere
    return share * x_wins, gather(share, indices, spec) * u_wins


def _selected_shape(x, indices, spec):
    return gathered_shape(x.shape, [i.shape for i in indices], spec)


def _wins(x, indices, spec):
    """For each selected element (an update written), whether it is the one that stays: the
    last written to its place. Numbers the updates, scatters the numbers with the same
    indices and reads back which number each place kept."""
    selected = _selected_shape(x, indices, spec)
    size = int(np.prod(selected, dtype=np.int64))
    numbers = reshape(iota(np.dtype(np.int64), (max(size, 1),), 0), (size,))
    numbers = reshape(numbers, selected)
    kept = scatter(broadcast_to(np.int64(-1), x.shape), indices, numbers, spec, "set")
    return gather(kept, indices, spec) == numbers


def _product_of_others(x, indices, updates, spec):
    """For each update of a multiply-scatter, the product of the other updates written to the
    same place, without dividing by zero: the product of the nonzero ones and the count of
    zeros at each place decide it."""
    selected = _selected_shape(x, indices, spec)
    zero, one = x.dtype.type(0), x.dtype.type(1)
    u = broadcast_to(updates, selected)
    is_zero = u == zero
    nonzero = where(is_zero, one, u)
    product = gather(scatter(broadcast_to(one, x.shape), indices, nonzero, spec, "multiply"),
                     indices, spec)
    zeros = gather(scatter(broadcast_to(zero, x.shape), indices, where(is_zero, one, zero),
                           spec, "add"), indices, spec)
    return where(is_zero, where(zeros == one, product, zero),
                 where(zeros == zero, product / nonzero, zero))


def _scatter_jvp(primals, tangents, *, spec, mode):
    """set and add are linear in (x, updates): their tangents are scattered alike, zeros
    standing in for a missing one (set's last write wins for the tangent too). multiply,
    d(x * u1 * u2 ...) = dx * u1 * u2 ... + x * (du1 * u2 ... + u1 * du2 ... + ...), each du
    times the product of the other updates written to its place."""
    (x, *indices, updates), (tx, *_, tu) = primals, tangents
    out = scatter_p.bind(x, *indices, updates, spec=spec, mode=mode)
    zero = x.dtype.type(0)
    if mode in ("min", "max"):  # the tangents of the values that won, averaged at ties
        ct = _extremum_shares(broadcast_to(x.dtype.type(1), x.shape), x, indices, updates,
                              out, spec)
        tx = None if tx is None else tx * ct[0]
        tu = None if tu is None else scatter(broadcast_to(zero, x.shape), indices,
                                             tu * ct[1], spec, "add")
        return [out], [tu if tx is None else tx if tu is None else tx + tu]
    if mode == "multiply":
        dx = None if tx is None else scatter(tx, indices, updates, spec, "multiply")
        if tu is not None and indices:
            tu = tu * _product_of_others(x, indices, updates, spec)
        du = None if tu is None else x * scatter(broadcast_to(zero, x.shape), indices, tu,
                                                 spec, "add")
        return [out], [du if dx is None else dx if du is None else dx + du]
    if tu is None:  # add passes tx through; set overwrites the selected part of it
        return [out], [tx if tx is None or mode == "add"
                       else scatter(tx, indices, zero, spec, "set")]
    tx = broadcast_to(zero, x.shape) if tx is None else tx
    return [out], [scatter(tx, indices, tu, spec, mode)]


_SCATTER_OPS = {"set": "{0} = {1}", "add": "{0} += {1}", "multiply": "{0} *= {1}",
                "min": "{0} = np.minimum({0}, {1})", "max": "{0} = np.maximum({0}, {1})"}


def _lower_scatter(ctx, eqn):
    x, *indices, updates = (a.aval for a in eqn.inputs)
    out, spec = eqn.outputs[0], eqn.params["spec"]
    name = ctx.fresh(ctx.name(out))
    ctx.emit(f"{name} = np.copy({ctx.array(eqn.inputs[0])})")
    selected = gathered_shape(x.shape, [i.shape for i in indices], spec)
    u = ctx.array(eqn.inputs[-1])
    with ctx.loops(selected) as index:
        target = _source_index(ctx, eqn, x, indices, spec, index)
        lead = len(selected) - updates.ndim
        at = [index[lead + a] if d == selected[lead + a] else "0"
              for a, d in enumerate(updates.shape)]
        value = f"{u}[{', '.join(at)}]" if at else u
        place = f"{name}[{', '.join(target)}]"
        ctx.emit(_SCATTER_OPS[eqn.params["mode"]].format(place, value))
    ctx.bind(out, name)


scatter_p = Primitive("scatter", impl=_scatter_impl, shape_rule=_scatter_rule, allocates=True)
vjp_rules[scatter_p] = _scatter_vjp
jvp_rules[scatter_p] = _scatter_jvp
lowerings[scatter_p] = Standalone(_lower_scatter)


def _scatter_batch(args, dims, *, spec, mode):
    """Every operand batched (x broadcast if it is not), and a new index array walking the
    batch axis, first in the spec: the selected elements then have the batch axis first and
    the index arrays' axes next, and the updates are transposed to match."""
    (x, *indices, updates), (dx, *index_dims, du) = args, dims
    size = batch_size(args, dims)
    x = with_batch_axis(x, dx, size)
    indices, shapes, rank = _batched_indices(indices, index_dims)
    selected = gathered_shape(shape_of(x)[1:], shapes, spec)
    updates = broadcast_to(rank_aligned(updates, du, len(selected)), (size, *selected))
    p = _index_block(spec)
    rest = len(selected) - p - rank
    perm = [0, *(1 + p + i for i in range(rank)), *(1 + i for i in range(p)),
            *(1 + p + rank + i for i in range(rest))]
    indices.append(_batch_index(size, rank))
    out = scatter(x, indices, transpose(updates, perm), (len(indices) - 1, *spec), mode)
    return [out], [0]


batch_rules[scatter_p] = _scatter_batch


def scatter(x, indices, updates, spec, mode):
    return scatter_p.bind(x, *indices, updates, spec=tuple(spec), mode=mode)


from funcgrad.ops.elementwise import where  # noqa: E402
from funcgrad.ops.shape import (batch_size, broadcast_to, iota, rank_aligned,  # noqa: E402
                                reshape, shape_of, to_front, transpose, unbroadcast,
                                with_batch_axis)
