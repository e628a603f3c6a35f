"""New arrays in generated code, as ``fgm.empty(shape, dtype)`` and ``fgm.full(shape, value,
dtype)``: Numba intrinsics that write the allocation into the caller directly.

``np.empty`` and ``np.full`` are Numba overloads: the first use of each combination of
shape length and dtype argument in a process compiles a small function through Numba's
whole pipeline (40-80 ms each, several per program, on every cold compile). These are typed
by a lookup and lowered by ``allocate`` below, which makes the same arrays as ``np.empty``:
C-contiguous, owned by Numba's runtime.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import get_itemsize, make_array, populate_array


def allocate(context, builder, array_type, sizes):
    """A new C-contiguous array of ``array_type`` (an LLVM array struct) with the LLVM
    integer ``sizes`` as its shape, its memory from Numba's runtime allocator called directly.

    Numba's own lowering of ``np.empty`` reaches the allocator through a small function it
    compiles (twice through its whole pipeline) on its first use in a process: 30-70 ms of
    every cold compile that makes an array.
    """
    intp = context.get_value_type(types.intp)
    itemsize = ir.Constant(intp, get_itemsize(context, array_type))
    nbytes, overflow = itemsize, cgutils.false_bit
    for size in reversed(sizes):  # the last stride is the item size, the first the row size
        product = builder.smul_with_overflow(nbytes, size)
        nbytes = builder.extract_value(product, 0)
        overflow = builder.or_(overflow, builder.extract_value(product, 1))
    with builder.if_then(overflow, likely=False):
        context.call_conv.return_user_exc(builder, ValueError, (
            "array is too big; `arr.size * arr.dtype.itemsize` is larger than the maximum "
            "possible size.",))
    strides = [itemsize]
    for size in reversed(sizes[1:]):
        strides.insert(0, builder.mul(strides[0], size))
    alignment = context.get_preferred_array_alignment(array_type.dtype)
    meminfo = context.nrt.meminfo_alloc_aligned(builder, nbytes, alignment)
    data = context.nrt.meminfo_data(builder, meminfo)
    array = make_array(array_type)(context, builder)
    populate_array(array, data=builder.bitcast(data, array.data.type),
                   shape=cgutils.pack_array(builder, list(sizes), ty=intp),
                   strides=cgutils.pack_array(builder, strides, ty=intp),
                   itemsize=itemsize, meminfo=meminfo)
    return array


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
        return allocate(context, builder, array_type, sizes)._getvalue()
    return array_type(shape, dtype), codegen


@intrinsic
def full(typingctx, shape, value, dtype):
    """An array of ``shape`` and ``dtype`` filled with ``value`` (cast to ``dtype``)."""
    array_type = _array_type(shape, dtype)
    if array_type is None or not isinstance(value, (types.Number, types.Boolean)):
        return None

    def codegen(context, builder, signature, args):
        sizes = cgutils.unpack_tuple(builder, args[0])
        array = allocate(context, builder, array_type, sizes)
        item = context.cast(builder, args[1], signature.args[1], array_type.dtype)
        with cgutils.for_range(builder, array.nitems) as loop:
            context.pack_value(builder, array_type.dtype, item,  # (booleans are bytes)
                               builder.gep(array.data, [loop.index]))
        return array._getvalue()
    return array_type(shape, value, dtype), codegen
