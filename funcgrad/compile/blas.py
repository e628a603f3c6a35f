"""Matrix products for compiled code: BLAS's gemm and gemv called directly (``fgb.xxgemm``,
``fgb.xxgemv``).

``np.dot`` in Numba is a generic implementation that Numba types and compiles for each
layout of its operands: about 0.3 s of a cold compile for a program's first matrix product.
The code generator (ops/linalg.py) writes instead the call of the routine np.dot ends in,
``numba_xxgemm`` or ``numba_xxgemv`` (Numba's wrappers of SciPy's, which it loads when
first called), on operands made C-contiguous by ``contiguous`` (nothing to compile or copy
for an array Numba knows is C-contiguous). A generated module that calls them imports this one as
``fgb`` (compile/disk_cache.py).
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

# int numba_xxgemm(kind, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
# column-major, as Fortran's gemm; kind is ord('d') or ord('s'), trans ord('n') or ord('t');
# pointers to alpha and beta, and to the arrays; 0 on success
xxgemm = types.ExternalFunction("numba_xxgemm", types.intc(
    types.char, types.char, types.char, types.intp, types.intp, types.intp,
    types.voidptr, types.voidptr, types.intp, types.voidptr, types.intp, types.voidptr,
    types.voidptr, types.intp))


# int numba_xxgemv(kind, trans, m, n, alpha, a, lda, x, beta, y): y = op(A) x, A column-major
xxgemv = types.ExternalFunction("numba_xxgemv", types.intc(
    types.char, types.char, types.intp, types.intp, types.voidptr, types.voidptr, types.intp,
    types.voidptr, types.voidptr, types.voidptr))


def contiguous(a):
    """``a`` as a C-contiguous array: itself if it is one (from Python: np.ascontiguousarray)."""
    return np.ascontiguousarray(a)


@overload(contiguous)
def _contiguous(a):
    if isinstance(a, types.Array) and a.layout == "C":
        return lambda a: a
    return lambda a: np.ascontiguousarray(a)
