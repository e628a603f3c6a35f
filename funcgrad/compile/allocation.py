"""New arrays in generated code, as ``fgm.empty(shape, dtype)`` and ``fgm.full(shape, value,
dtype)``: Numba intrinsics that write the allocation into the caller directly.

``np.empty`` and ``np.full`` are Numba overloads: the first use of each combination of
shape length and dtype argument in a process compiles a small function through Numba's
whole pipeline (40-80 ms each, several per program, on every cold compile). These are typed
by a lookup and lowered by Numba's own array allocation (what ``np.empty`` ends in), so the
arrays are the same: C-contiguous, owned by Numba's runtime.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import _empty_nd_impl


def _array_type(shape, dtype):
    if not isinstance(shape, types.BaseTuple) or not isinstance(dtype, types.NumberClass):
        return None
    return types.Array(dtype.instance_type, len(shape), "C")


@intrinsic
def empty(typingctx, shape, dtype):
    """An uninitialised C-contiguous array of ``shape`` (a tuple of ints) and ``dtype`` (a
    NumPy scalar type such as np.float64)."""
    array_type = _array_type(shape, dtype)
    if array_type is None:
        return None

    def codegen(context, builder, signature, args):
        sizes = cgutils.unpack_tuple(builder, args[0])
        return _empty_nd_impl(context, builder, array_type, sizes)._getvalue()
    return array_type(shape, dtype), codegen


@intrinsic
def full(typingctx, shape, value, dtype):
    """An array of ``shape`` and ``dtype`` filled with ``value`` (cast to ``dtype``)."""
    array_type = _array_type(shape, dtype)
    if array_type is None or not isinstance(value, (types.Number, types.Boolean)):
        return None

    def codegen(context, builder, signature, args):
        sizes = cgutils.unpack_tuple(builder, args[0])
        array = _empty_nd_impl(context, builder, array_type, sizes)
        item = context.cast(builder, args[1], signature.args[1], array_type.dtype)
        with cgutils.for_range(builder, array.nitems) as loop:
            context.pack_value(builder, array_type.dtype, item,  # (booleans are bytes)
                               builder.gep(array.data, [loop.index]))
        return array._getvalue()
    return array_type(shape, value, dtype), codegen
