"""The one sorting primitive: ``argsort``, the stable sorting permutation along an axis.

Everything else that sorts is built on it: ``sort`` is ``argsort`` followed by a gather
(``take_along_axis``), so its VJP is the gather's, a scatter-add through the permutation: each
element, tied or not, gets the cotangent of the position it lands in (JAX's convention for a
stable sort). The permutation itself is an integer result: zero derivative.

NaN sorts last, as in NumPy; ties keep their order (a stable sort: NumPy's ``kind='stable'``).
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.types import ShapedArray, int64
from funcgrad.rules import batch_rules, zero_derivative
from funcgrad.rules.lowering import Standalone, lowerings


def _argsort_rule(x, *, axis):
    if not 0 <= axis < x.ndim:
        raise ShapeError(f"argsort: axis {axis} is out of range for {x}")
    return ShapedArray(x.shape, int64)


def _argsort_impl(x, *, axis):
    return np.argsort(x, axis=axis, kind="stable").astype(int64)


def _lower_argsort(ctx, eqn):
    """np.argsort slice by slice (Numba's takes 1-D arrays); its mergesort is stable and puts
    NaN last, as NumPy's does."""
    (x,), (out,), axis = eqn.inputs, eqn.outputs, eqn.params["axis"]
    shape = x.aval.shape
    xs = ctx.array(x)
    name = ctx.new_array(out.aval, "order")
    with ctx.loops(shape[:axis] + shape[axis + 1:]) as index:
        at = ", ".join(index[:axis] + [":"] + index[axis:])
        ctx.emit(f"{name}[{at}] = np.argsort({xs}[{at}], kind='mergesort')")
    ctx.define(out, name)


def _argsort_batch(args, dims, *, axis):
    """The batch axis first, the sorted axis one further on."""
    return [argsort_p.bind(to_front(args[0], dims[0]), axis=axis + 1)], [0]


argsort_p = Primitive("argsort", impl=_argsort_impl, shape_rule=_argsort_rule, allocates=True)
zero_derivative(argsort_p)
batch_rules[argsort_p] = _argsort_batch
lowerings[argsort_p] = Standalone(_lower_argsort)


def argsort(x, axis):
    """The indices that sort ``x`` stably along ``axis`` (NaN last)."""
    return argsort_p.bind(x, axis=int(axis))


from funcgrad.ops.shape import to_front  # noqa: E402
