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
from funcgrad.ops.elementwise import broadcast_shapes
from funcgrad.ops.shape import python_slice


def gathered_shape(x_shape, index_shapes, spec) -> tuple[int, ...]:
    from funcgrad.core.types import ShapedArray
    index_shape = (broadcast_shapes(*(ShapedArray(s, np.dtype(int)) for s in index_shapes))
                   if index_shapes else ())
    advanced = [i for i, s in enumerate(spec) if isinstance(s, int)]
    sizes = [None if isinstance(s, int) else s[2] for s in spec]
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


gather_p = Primitive("gather", impl=lambda x, *idx, spec: x[index_tuple(spec, idx)],
                     shape_rule=_gather_rule, vjp=_gather_vjp, lowering="gather")


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


_UFUNC_AT = {"add": np.add.at, "multiply": np.multiply.at}


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
    """set: the overwritten elements get no gradient; multiply assumes unique indices."""
    (g,), (x, *indices, updates) = cts, inputs
    if mode == "set":
        dx = scatter(g, indices, x.dtype.type(0), spec, "set")
        du = gather(g, indices, spec)
    elif mode == "add":
        dx, du = g, gather(g, indices, spec)
    else:
        dx = scatter(g, indices, updates, spec, "multiply")
        du = gather(g * x, indices, spec)
    return [dx] + [None] * len(indices) + [unbroadcast(du, updates) if active[-1] else None]


scatter_p = Primitive("scatter", impl=_scatter_impl, shape_rule=_scatter_rule, vjp=_scatter_vjp,
                      lowering="scatter")


def scatter(x, indices, updates, spec, mode):
    return scatter_p.bind(x, *indices, updates, spec=tuple(spec), mode=mode)


from funcgrad.ops.shape import broadcast_to, unbroadcast  # noqa: E402
