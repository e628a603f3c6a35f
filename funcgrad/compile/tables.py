"""``fgt.items(table, start, stop)``: the runtime table's items ``start`` to ``stop`` as a
tuple, which the generated code unpacks into its sizes and constants at its top.

Read one by one (``c0 = floats[0]``), each item cost Numba about 1 ms to type and lower as
an array index, a large part of the cold compile of a small program; one tuple of up to 32
items (compile/codegen.py) is typed once and lowered as loads. The table is one int64 array:
the sizes, then the float constants' bits, read by ``fgt.floats``. Generated code imports
this module as ``fgt``: light, it adds little to the compile of a program that calls nothing
else of funcgrad's.
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic


def _read(table, start, stop, item):
    """The typing and lowering of ``tuple(table[start:stop])`` as items of Numba type
    ``item`` (their bits reinterpreted when it is not the table's dtype)."""
    if not isinstance(table, types.Array) or table.ndim != 1 \
            or not isinstance(start, types.IntegerLiteral) \
            or not isinstance(stop, types.IntegerLiteral):
        return None
    first, last = start.literal_value, stop.literal_value
    result = types.UniTuple(item, last - first)

    def codegen(context, builder, signature, args):
        array = context.make_array(table)(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        stride = builder.extract_value(array.strides, 0)
        base = builder.ptrtoint(array.data, intp)
        pointer = context.get_value_type(item).as_pointer()
        values = []
        for k in range(first, last):
            address = builder.add(base, builder.mul(stride, intp(k)))
            values.append(builder.load(builder.inttoptr(address, pointer)))
        return context.make_tuple(builder, result, values)
    return result(table, start, stop), codegen


@intrinsic(prefer_literal=True)
def items(typingctx, table, start, stop):
    """``tuple(table[start:stop])`` for a 1-d array ``table`` and literal ints ``start`` and
    ``stop``, read without bounds checks (the caller's tables are as long as its reads)."""
    return _read(table, start, stop, getattr(table, "dtype", None))


@intrinsic(prefer_literal=True)
def floats(typingctx, table, start, stop):
    """``items`` of an int64 ``table`` read as the float64 numbers of the same bits (the
    one runtime table holds sizes and float constants: ``floats.view(np.int64)``)."""
    if getattr(table, "dtype", None) != types.int64:
        return None
    return _read(table, start, stop, types.float64)

