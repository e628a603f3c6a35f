"""The addition of a fused loop's sums in generated code (``fgm.add_reassociable``).

A module of its own, not vector_math's: a loop that sums without calling exp or log (a
Rosenbrock or least-squares loss) would otherwise import vector_math's constants and
helpers, about 9 ms of each such cold compile.
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic


@intrinsic
def add_reassociable(typingctx, total, x):
    """total + x as an addition LLVM may reorder (the reassoc flag on that one instruction,
    nothing else of the function): a fused loop's sum, which LLVM then vectorises with
    several partial sums, combined in a fixed order at the end. The rounding of the sum
    changes (as NumPy's pairwise sums differ from sequential ones); for given compiled code
    it is the same every run."""
    if not isinstance(total, types.Float):
        return None

    def codegen(context, builder, signature, args):
        return builder.fadd(args[0], args[1], flags=("reassoc",))
    return total(total, total), codegen
