"""Matrix and vector products in generated code, calling BLAS without Numba's ``np.dot``.

``np.dot`` is a Numba overload: each combination of operand layouts (C or F: a transposed
operand is F) compiles a function through Numba's whole pipeline on its first use in a
process, which compiles ``np.dot(a, b, out)``, its argument checks and ``np.empty`` in turn:
0.2-0.4 s per combination, most of a cold compile of an MLP's gradient. Generated code calls
BLAS in two ways instead (ops/linalg.py chooses):

- ``fgm.dot(a, b)``, a product into a new array: a Numba intrinsic typed by a lookup and
  lowered with the same BLAS calls Numba's lowering of ``np.dot`` makes (its
  ``call_xxgemm``, ``call_xxgemv`` and ``call_xxdot``), so the results are the same; the
  argument checks are left out because funcgrad's shapes agree by construction (a mismatch
  is a tracing error long before). Operands that are neither C- nor F-contiguous are
  copied to C-contiguous arrays first, as ``np.dot`` would (which also warned, at each
  compile, that it is faster on contiguous arrays). (scalar_math re-exports it.)
- ``fgb.xxgemm(...)`` and ``fgb.xxgemv(...)``, a product written into a buffer the code
  generator chose (a loop's stacked row, its spare carry buffer, a buffer allocated once
  per call): the routines np.dot ends in, ``numba_xxgemm`` and ``numba_xxgemv`` (Numba's
  wrappers of SciPy's, which it loads when first called), on operands made C-contiguous by
  ``contiguous`` (nothing to compile or copy for an array Numba knows is C-contiguous). A
  generated module that calls them imports this one as ``fgb`` (compile/disk_cache.py).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_new_ref
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array
from numba.np.linalg import call_xxdot, call_xxgemm, call_xxgemv, ensure_blas

from funcgrad.compile.allocation import allocate
from funcgrad.compile.numba_start import scipy_blas_path

_INT_MAX = 2**31 - 1  # BLAS takes sizes as C ints


def _result_type(a, b):
    """The type of ``np.dot(a, b)`` for arrays of BLAS's float types, or None."""
    if not (isinstance(a, types.Array) and isinstance(b, types.Array)) or a.dtype != b.dtype \
            or a.dtype not in (types.float32, types.float64) or a.ndim not in (1, 2) \
            or b.ndim not in (1, 2):
        return None
    ndim = a.ndim + b.ndim - 2
    return a.dtype if ndim == 0 else types.Array(a.dtype, ndim, "C")


@intrinsic
def dot(typingctx, a, b):
    """``np.dot(a, b)`` for 1-d and 2-d float32 or float64 arrays of the same dtype."""
    result = _result_type(a, b)
    if result is None:
        return None

    def codegen(context, builder, signature, args):
        if a.layout not in "CF" or b.layout not in "CF":  # strided: C-contiguous copies
            return context.compile_internal(builder, lambda x, y: dot(
                np.ascontiguousarray(x), np.ascontiguousarray(y)), signature, args)
        ensure_blas()
        x = make_array(a)(context, builder, args[0])
        y = make_array(b)(context, builder, args[1])
        x_shape = cgutils.unpack_tuple(builder, x.shape)
        y_shape = cgutils.unpack_tuple(builder, y.shape)
        _check_c_ints(context, builder, x_shape + y_shape)
        if a.ndim == 1 and b.ndim == 1:
            slot = cgutils.alloca_once(builder, context.get_value_type(result))
            call_xxdot(context, builder, False, result, x_shape[0], x.data, y.data, slot)
            return builder.load(slot)
        if a.ndim == 2 and b.ndim == 2:
            shape = [x_shape[0], y_shape[1]]
        else:
            shape = [x_shape[0] if a.ndim == 2 else y_shape[1]]
        out = allocate(context, builder, result, shape)
        _products(context, builder, (a, x, x_shape), (b, y, y_shape), (result, out, shape))
        return impl_ret_new_ref(context, builder, result, out._getvalue())
    return result(a, b), codegen


def _check_c_ints(context, builder, sizes):
    """One check of all of a product's sizes (each raise site is a block LLVM optimises: a
    program of a hundred products compiled seconds longer with one per size)."""
    too_big = cgutils.false_bit
    for size in sizes:
        too_big = builder.or_(too_big,
                              builder.icmp_signed(">", size, ir.Constant(size.type, _INT_MAX)))
    with builder.if_then(too_big, likely=False):
        context.call_conv.return_user_exc(builder, OverflowError,
                                          ("array size too large to fit in C int",))


def _products(context, builder, left, right, output):
    """out = x @ y with BLAS, as Numba's np.dot(x, y, out) computes it: zeros when a size is
    0, else a dot, a matrix-vector or a matrix-matrix product by which sizes are 1."""
    (a, x, x_shape), (b, y, y_shape), (out_type, out, out_shape) = left, right, output
    k = x_shape[-1]
    zero, one = (context.get_constant(types.intp, v) for v in (0, 1))
    empty = builder.icmp_signed("==", k, zero)
    for size in out_shape:
        empty = builder.or_(empty, builder.icmp_signed("==", size, zero))
    with builder.if_else(empty, likely=False) as (if_empty, if_not):
        with if_empty:
            cgutils.memset(builder, out.data, builder.mul(out.itemsize, out.nitems), 0)
        with if_not:
            if a.ndim == 1:  # vector @ matrix: y.T @ x
                call_xxgemv(context, builder, b.layout == "F", b, y_shape, y.data, x.data,
                            out.data)
            elif b.ndim == 1:  # matrix @ vector
                call_xxgemv(context, builder, a.layout == "C", a, x_shape, x.data, y.data,
                            out.data)
            else:
                _matrix_matrix(context, builder, (a, x, x_shape), (b, y, y_shape),
                               (out_type, out, out_shape), one)


def _matrix_matrix(context, builder, left, right, output, one):
    (a, x, x_shape), (b, y, y_shape), (out_type, out, out_shape) = left, right, output
    m, k = x_shape
    n = y_shape[1]
    left_vector = builder.icmp_signed("==", m, one)
    right_vector = builder.icmp_signed("==", n, one)
    with builder.if_else(right_vector) as (r_vector, r_matrix):
        with r_vector:
            with builder.if_else(left_vector) as (v_v, m_v):
                with v_v:
                    call_xxdot(context, builder, False, a.dtype, k, x.data, y.data, out.data)
                with m_v:
                    call_xxgemv(context, builder, a.layout == out_type.layout, a, x_shape,
                                x.data, y.data, out.data)
        with r_matrix:
            with builder.if_else(left_vector) as (v_m, m_m):
                with v_m:
                    call_xxgemv(context, builder, b.layout != out_type.layout, b, y_shape,
                                y.data, x.data, out.data)
                with m_m:
                    call_xxgemm(context, builder, a, x_shape, x.data, b, y_shape, y.data,
                                out_type, out_shape, out.data)


# ---------------------------------------------------------------------------------------
# Products into a given buffer: the routines themselves

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


def rows_contiguous(a):
    """``a`` if it is C- or Fortran-contiguous (blocks of its rows are then matrices BLAS
    reads as they are), else a C-contiguous copy."""
    return a if a.flags.c_contiguous or a.flags.f_contiguous else np.ascontiguousarray(a)


@overload(rows_contiguous)
def _rows_contiguous(a):
    if isinstance(a, types.Array) and a.layout in "CF":
        return lambda a: a
    return lambda a: a if a.flags.c_contiguous or a.flags.f_contiguous else \
        np.ascontiguousarray(a)


# ---------------------------------------------------------------------------------------
# BLAS's own threads

def _blas_threads_address() -> int | None:
    """The address of ``openblas_set_num_threads_local(n)`` (sets OpenBLAS's thread count,
    for the whole process in its pthreads builds, and returns the previous one) in the BLAS
    that Numba's products call: SciPy's, found through the library its cython_blas module
    links (loaded as a library, without importing scipy.linalg: 90 ms). None for another
    BLAS."""
    import ctypes
    path = scipy_blas_path()
    if path is None:
        return None
    try:
        function = ctypes.CDLL(str(path)).openblas_set_num_threads_local
        return ctypes.cast(function, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None


_stand_in: list = []  # the stand-in's compiled function, kept alive


def _no_blas_threads_address() -> int:
    """A stand-in for a BLAS without openblas_set_num_threads_local: does nothing."""
    from numba import cfunc

    @cfunc(types.intc(types.intc))
    def no_threads(n):
        return 0
    _stand_in.append(no_threads)
    return no_threads.address  # type: ignore[return-value]


def _register_blas_threads():
    import llvmlite.binding as llvm
    llvm.add_symbol("funcgrad_blas_threads",
                    _blas_threads_address() or _no_blas_threads_address())


_register_blas_threads()

# int funcgrad_blas_threads(n): run BLAS's next calls on n threads; the previous count. A
# parallel loop calling BLAS on each of its threads sets 1 around it (compile/row_blocks.py):
# OpenBLAS's threads on top of the loop's, more threads than cores, each waiting for the
# others, made an MLP's gradient on two threads a hundred times slower.
blas_threads = types.ExternalFunction("funcgrad_blas_threads", types.intc(types.intc))
