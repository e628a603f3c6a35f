"""dot_general: every contraction (dot, matmul, tensordot, einsum, inner, outer, vdot).

``dot_general(x, y, contract=((xa, ...), (ya, ...)), batch=((xb, ...), (yb, ...)))`` sums
over the paired contracted axes and runs in lockstep over the paired batch axes. Its result
has the batch axes first, then x's free axes, then y's (in their order), as in XLA.

The VJP is the lecture's backward pass in matrix form: for z = x @ W, dC/dW = x^T dC/dz
(each dz/dw is the input x on that weight) and dC/dx = dC/dz W^T.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules
from funcgrad.rules.lowering import RowBlocks, Standalone, lowerings
from funcgrad.core.types import ShapedArray


def _free(ndim, contract, batch):
    return [i for i in range(ndim) if i not in contract and i not in batch]


def _dot_general_rule(x, y, *, contract, batch):
    (xc, yc), (xb, yb) = contract, batch
    pairs = list(zip(xc, yc)) + list(zip(xb, yb))
    if (len(xc) != len(yc) or len(xb) != len(yb)
            or any(not (0 <= a < x.ndim and 0 <= b < y.ndim) for a, b in pairs)
            or any(x.shape[a] != y.shape[b] for a, b in pairs)):
        raise ShapeError(f"cannot multiply {x} by {y}: contracting axes {xc} with {yc}"
                         + (f" and batching {xb} with {yb}" if xb else ""))
    from funcgrad.ops.elementwise import _ufunc_dtype
    shape = (tuple(x.shape[a] for a in xb) + tuple(x.shape[a] for a in _free(x.ndim, xc, xb))
             + tuple(y.shape[a] for a in _free(y.ndim, yc, yb)))
    return ShapedArray(shape, _ufunc_dtype(np.multiply, [x.strong(), y.strong()]))


def _dot_general_impl(x, y, *, contract, batch):
    (xc, yc), (xb, yb) = contract, batch
    x, y = np.asarray(x), np.asarray(y)
    if not xb and len(xc) == 1 and x.ndim <= 2 and y.ndim <= 2:
        # matrix and vector products (every one of an MLP and its gradient): np.dot, on the
        # transposes it needs, costs a sixth of np.tensordot
        if x.ndim == 2 and xc[0] == 0:
            x = x.T
        if y.ndim == 2 and yc[0] == 1:
            y = y.T
        return np.dot(x, y)
    if not xb:
        return np.tensordot(x, y, (xc, yc)) if xc else np.multiply.outer(x, y)
    # batch axes first, then free, then contracted: a batched matrix product
    xf, yf = _free(x.ndim, xc, xb), _free(y.ndim, yc, yb)
    xt = np.transpose(x, (*xb, *xf, *xc))
    yt = np.transpose(y, (*yb, *yc, *yf))
    bshape = xt.shape[:len(xb)]
    m = int(np.prod([x.shape[a] for a in xf], dtype=np.int64))
    k = int(np.prod([x.shape[a] for a in xc], dtype=np.int64))
    n = int(np.prod([y.shape[a] for a in yf], dtype=np.int64))
    out = np.matmul(xt.reshape(*bshape, m, k), yt.reshape(*bshape, k, n))
    return out.reshape(*bshape, *(x.shape[a] for a in xf), *(y.shape[a] for a in yf))


def _dot_general_vjp(cts, inputs, outputs, active, *, contract, batch):
    """The result's axes are (batch, x free, y free); each cotangent contracts g with the
    other operand over that operand's free axes, then puts its axes in the operand's order."""
    (g,), (x, y) = cts, inputs
    (xc, yc), (xb, yb) = contract, batch
    nb = len(xb)
    x_free, y_free = _free(x.ndim, xc, xb), _free(y.ndim, yc, yb)
    g_x_free = tuple(range(nb, nb + len(x_free)))
    g_y_free = tuple(range(nb + len(x_free), g.ndim))
    g_batch = tuple(range(nb))
    dx = dy = None
    if active[0]:  # axes: batch, x free, y's contracted axes in y's order -> x's axes
        d = dot_general(g, y, (g_y_free, tuple(y_free)), (g_batch, yb))
        x_of = dict(zip(yc, xc))
        order = [*xb, *x_free, *(x_of[a] for a in sorted(yc))]
        dx = unbroadcast(transpose(d, np.argsort(order)), x)
    if active[1]:  # axes: batch, x's contracted axes in x's order -> y's axes, y free
        d = dot_general(x, g, (tuple(x_free), g_x_free), (xb, g_batch))
        y_of = dict(zip(xc, yc))
        order = [*yb, *(y_of[a] for a in sorted(xc)), *y_free]
        dy = unbroadcast(transpose(d, np.argsort(order)), y)
    return [dx, dy]


def _dot_general_jvp(primals, tangents, *, contract, batch):
    """Product rule: d(x . y) = dx . y + x . dy."""
    (x, y), (tx, ty) = primals, tangents
    out = dot_general_p.bind(x, y, contract=contract, batch=batch)
    terms = [dot_general_p.bind(a, b, contract=contract, batch=batch)
             for a, b in ((tx, y), (x, ty)) if a is not None and b is not None]
    return [out], [terms[0] + terms[1] if len(terms) == 2 else terms[0]]


_BLAS_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _lower_dot_general(ctx, eqn):
    """Matrix products go to BLAS (compile/blas.py). In a loop's body, a matrix times a
    matrix or a vector calls gemm or gemv directly, into the output's destination or a
    buffer allocated once per call; elsewhere a product is ``fgm.dot`` (Numba's np.dot
    without its overloads' compiles), or for those large enough for several threads blocks
    of rows of it; others (batched, several contracted axes) are transposed and reshaped
    into (batch, m, k) @ (batch, k, n). Plain 2-D and 1-D cases need no copy at all."""
    (x, y), (out,) = eqn.inputs, eqn.outputs
    (xc, yc), (xb, yb) = eqn.params["contract"], eqn.params["batch"]
    dtype = out.aval.dtype
    if dtype.kind != "f":
        return _lower_dot_loops(ctx, eqn)
    simple = not xb and len(xc) == 1 and x.aval.ndim <= 2 and y.aval.ndim <= 2
    if ctx.repeated and simple and sorted((x.aval.ndim, y.aval.ndim)) == [1, 2] \
            and dtype in _BLAS_DTYPES and x.aval.dtype == y.aval.dtype == dtype \
            and x.aval.size and y.aval.size:
        _lower_gemv(ctx, eqn)
        return
    X, Y = (_as_dtype(ctx, a, dtype) for a in (x, y))
    if simple and _split_dot(ctx, eqn, X, Y):
        return
    if ctx.repeated and simple and x.aval.ndim == 2 and y.aval.ndim == 2 \
            and dtype in _BLAS_DTYPES \
            and out.aval.size and x.aval.size and y.aval.size:
        _lower_gemm(ctx, eqn, X, Y)
        return
    if simple:
        if x.aval.ndim == 2 and xc == (0,):
            X = f"{X}.T"
        if y.aval.ndim == 2 and yc == (1,):
            Y = f"{Y}.T"
        ctx.define(out, f"fgm.dot({X}, {Y})")  # np.dot without its overloads' compiles
        return
    xf, yf = _free(x.aval.ndim, xc, xb), _free(y.aval.ndim, yc, yb)
    size = lambda shape, axes: int(np.prod([shape[a] for a in axes], dtype=np.int64))  # noqa
    b, m = size(x.aval.shape, xb), size(x.aval.shape, xf)
    k, n = size(x.aval.shape, xc), size(y.aval.shape, yf)
    xt = f"np.ascontiguousarray(np.transpose({X}, {tuple(xb) + tuple(xf) + tuple(xc)}))"
    yt = f"np.ascontiguousarray(np.transpose({Y}, {tuple(yb) + tuple(yc) + tuple(yf)}))"
    x3, y3 = ctx.fresh("lhs"), ctx.fresh("rhs")
    ctx.emit(f"{x3} = {xt}.reshape({ctx.shape((b, m, k))})")
    ctx.emit(f"{y3} = {yt}.reshape({ctx.shape((b, k, n))})")
    flat = ctx.fresh("product")
    ctx.emit(f"{flat} = fgm.empty({ctx.shape((b, m, n))}, {ctx.dtype(dtype)})")
    i = ctx.fresh("i")
    ctx.emit(f"for {i} in range({ctx.dim(b)}):")
    with ctx.indented():
        ctx.emit(f"{flat}[{i}] = fgm.dot({x3}[{i}], {y3}[{i}])")
    ctx.define(out, f"{flat}.reshape({ctx.shape(out.aval.shape)})" if out.aval.shape
               else f"{flat}[0, 0, 0]")


def _lower_gemv(ctx, eqn):
    """A matrix times a vector (either order, summed over either axis of the matrix) in a
    loop's body, as one call of BLAS's gemv, into the output's destination or a buffer
    allocated once per call (``ctx.scratch``) where it can. (Not at the top level: the
    unrolled RNN's gradient ran 30% slower with a hundred of these calls than with np.dot.)
    A matrix that is the transpose of another is read as that one, transposed by gemv.
    The row-major matrix is gemv's column-major transpose, so gemv transposes it exactly
    when the product sums over its columns (``matrix @ v``)."""
    (x, _), (out,) = eqn.inputs, eqn.outputs
    (xc, yc), _ = eqn.params["contract"], eqn.params["batch"]
    at = 0 if x.aval.ndim == 2 else 1
    matrix, vector, axis = eqn.inputs[at], eqn.inputs[1 - at], (xc, yc)[at][0]
    view = ctx.plan.views.get(id(matrix))
    if view is not None and view.primitive.name == "transpose" and \
            view.params["perm"] == (1, 0) and id(matrix) not in ctx.values:  # A^T as A
        matrix, axis = view.inputs[0], 1 - axis
    rows, cols = matrix.aval.shape
    m, v = ctx.fresh("matrix"), ctx.fresh("vector")
    ctx.emit(f"{m} = fgb.contiguous({ctx.array(matrix)})")
    ctx.emit(f"{v} = fgb.contiguous({ctx.array(vector)})")
    result = _result_array(ctx, out)
    scalars = _alpha_beta(ctx, out.aval.dtype)
    status = ctx.fresh("status")
    kind = ord("d" if out.aval.dtype == np.float64 else "s")
    ctx.emit(f"{status} = fgb.xxgemv({kind}, {ord('t' if axis == 1 else 'n')}, "
             f"{ctx.dim(cols)}, {ctx.dim(rows)}, {scalars}.ctypes, {m}.ctypes, "
             f"{ctx.dim(cols)}, {v}.ctypes, {scalars}[1:].ctypes, {result}.ctypes)")
    _check_status(ctx, status, "gemv")
    _bind_result(ctx, out, result)


def _result_array(ctx, out) -> str:
    """Where a BLAS call writes ``out``: its destination (a loop's stacked row or spare
    carry buffer), else, in a loop's body, a buffer allocated once per call where that is
    safe, else a new array."""
    if id(out) in ctx.destinations:
        ctx.written.add(id(out))
        return ctx.destinations[id(out)]
    return ctx.scratch(out) or ctx.new_array(out.aval, ctx.name(out))


def _bind_result(ctx, out, result):
    """``out`` is ``result``: a local's name, or a destination such as a stacked row, read
    once into a local."""
    if result.isidentifier():
        ctx.bind(out, result)
    else:
        ctx.define(out, result)


def _alpha_beta(ctx, dtype) -> str:
    """An array holding gemm's and gemv's scalars alpha = 1 and beta = 0, allocated at the
    function's entry (one per dtype)."""
    name = f"alpha_beta_{np.dtype(dtype).name}"
    text = ctx.text
    if not any(line.startswith(f"{name} =") for line in text.header):
        text.header += [f"{name} = fgm.empty((2,), {ctx.dtype(dtype)})", f"{name}[0] = 1.0",
                        f"{name}[1] = 0.0"]
    return name


def _check_status(ctx, status, routine):
    ctx.emit(f"if {status} != 0:")
    ctx.emit(f"    raise RuntimeError('BLAS {routine} could not be called')")


def _lower_gemm(ctx, eqn, X, Y):
    """A product of two matrices as one call of BLAS's gemm (compile/blas.py), into
    ``_result_array``. gemm is
    column-major, and a row-major matrix is its column-major transpose: the row-major
    result C = op(x) op(y) is the column-major C^T = op(y)^T op(x)^T, where each operand
    is read transposed exactly when it is here."""
    (x, y), (out,) = eqn.inputs, eqn.outputs
    (xc, yc), _ = eqn.params["contract"], eqn.params["batch"]
    x_t, y_t = xc == (0,), yc == (1,)
    m, n = out.aval.shape
    k = x.aval.shape[0] if x_t else x.aval.shape[1]
    a, b = ctx.fresh("lhs"), ctx.fresh("rhs")
    ctx.emit(f"{a} = fgb.contiguous({X})")
    ctx.emit(f"{b} = fgb.contiguous({Y})")
    result = _result_array(ctx, out)
    scalars = _alpha_beta(ctx, out.aval.dtype)
    kind = ord("d" if out.aval.dtype == np.float64 else "s")
    trans = [ord("t" if t else "n") for t in (y_t, x_t)]
    status = ctx.fresh("status")
    ctx.emit(f"{status} = fgb.xxgemm({kind}, {trans[0]}, {trans[1]}, {ctx.dim(n)}, "
             f"{ctx.dim(m)}, {ctx.dim(k)}, {scalars}.ctypes, {b}.ctypes, "
             f"{ctx.dim(y.aval.shape[1])}, {a}.ctypes, {ctx.dim(x.aval.shape[1])}, "
             f"{scalars}[1:].ctypes, {result}.ctypes, {ctx.dim(n)})")
    _check_status(ctx, status, "gemm")
    _bind_result(ctx, out, result)


def _split_dot(ctx, eqn, X, Y) -> bool:
    """A large matrix-vector or matrix-matrix product on several threads (compile/threads.py),
    each calling BLAS on a block of the matrix's rows: of the output's rows when the matrix
    is not transposed (each row computed as on one thread, by the same BLAS kernel), else of
    the contracted axis, whose per-thread partial products are then summed (equal to
    rounding). False (nothing emitted) when the product stays one BLAS call. ``X``, ``Y``:
    the operands' expressions, untransposed."""
    (x, y), (out,) = eqn.inputs, eqn.outputs
    xc, yc = eqn.params["contract"]
    if x.aval.ndim != 2:
        return False
    rows = x.aval.shape[0]
    work = x.aval.size * (y.aval.shape[1 - yc[0]] if y.aval.ndim == 2 else 1)
    threads = min(ctx.threads_for(work), rows)
    if threads <= 1 or (xc == (0,) and y.aval.ndim == 2 and yc == (1,)):
        return False  # (a transposed right operand's row blocks are not contiguous)
    matrix, other = ctx.fresh("matrix"), ctx.fresh("other")
    ctx.emit(f"{matrix} = {X}")
    ctx.emit(f"{other} = {Y}.T" if y.aval.ndim == 2 and yc == (1,) else f"{other} = {Y}")
    c, start, stop = ctx.fresh("chunk"), ctx.fresh("start"), ctx.fresh("stop")
    n = ctx.dim(rows)
    if xc == (1,):
        result = ctx.new_array(out.aval, ctx.name(out))
        block = f"{result}[{start}:{stop}] = np.dot({matrix}[{start}:{stop}], {other})"
    else:
        parts = ctx.fresh("parts")
        ctx.emit(f"{parts} = fgm.empty({ctx.shape((threads, *out.aval.shape))}, "
                 f"{ctx.dtype(out.aval.dtype)})")
        block = (f"{parts}[{c}] = np.dot({matrix}[{start}:{stop}].T, "
                 f"{other}[{start}:{stop}])")
    blas_threads = ctx.fresh("blas_threads")  # (one BLAS thread in each: row_blocks.py)
    ctx.emit(f"{blas_threads} = fgb.blas_threads(1)")
    ctx.emit(f"for {c} in prange({threads}):")
    with ctx.indented():
        ctx.emit(f"{start} = {c} * {n} // {threads}")
        ctx.emit(f"{stop} = ({c} + 1) * {n} // {threads}")
        ctx.emit(block)
    ctx.emit(f"fgb.blas_threads({blas_threads})")
    if xc == (1,):
        ctx.bind(out, result)
    else:
        ctx.define(out, f"{parts}.sum(axis=0)")
    return True


def _dot_rows(eqn):
    """How a product runs a block of rows at a time (RowBlocks, compile/row_blocks.py):
    ``x @ y`` with a 2-D ``x`` by ``x``'s rows (each output row from the same row of
    ``x``), ``x.T @ y`` (contracting both operands' first axes) as a sum over the rows; one
    BLAS call per block either way. None for other products (batched, several contracted
    axes, not float32 or float64 throughout, empty)."""
    (x, y), (out,) = eqn.inputs, eqn.outputs
    (xc, yc), (xb, _) = eqn.params["contract"], eqn.params["batch"]
    dtype = out.aval.dtype
    if xb or len(xc) != 1 or dtype not in _BLAS_DTYPES \
            or not x.aval.dtype == y.aval.dtype == dtype \
            or not (x.aval.size and y.aval.size and out.aval.size) \
            or x.aval.ndim > 2 or y.aval.ndim > 2:
        return None
    work = out.aval.size * x.aval.shape[xc[0]]
    if x.aval.ndim == 2 and xc == (1,):
        return RowBlocks(x.aval.shape[0], (True, False), False, _lower_row_product, work)
    if xc == yc == (0,) and x.aval.ndim + y.aval.ndim >= 3:
        return RowBlocks(x.aval.shape[0], (True, True), True, _lower_row_contraction, work)
    return None


def _blas_kind(dtype) -> int:
    return ord("d" if dtype == np.float64 else "s")


def _either(fortran, c_order, f_order) -> str:
    """``c_order``, or where the operand may be Fortran-ordered (``fortran``: an expression
    true when it is), the choice between the two at run time."""
    return c_order if fortran is None else f"({f_order} if {fortran} else {c_order})"


def _block_op(fortran, cols, rows_total, transposed) -> tuple:
    """BLAS's (trans, ld) for a block of rows of a 2-D operand of ``cols`` columns, read as
    the column-major ``cols x block`` matrix (``transposed``: ``block x cols``). A C-ordered
    block is stored as that matrix (leading dimension ``cols``); a Fortran-ordered one as
    its transpose (leading dimension the operand's rows): its rows need no copy either."""
    t, n = ord("t"), ord("n")
    return (_either(fortran, t if transposed else n, n if transposed else t),
            _either(fortran, cols, rows_total))


def _lower_row_product(ctx, eqn, operands, fortran, out, start, stop):
    """Rows ``start:stop`` of ``x @ y``: gemv or gemm on those rows of ``x`` (a row-major
    block of rows is contiguous: gemv and gemm read it as the column-major transpose),
    written into the same rows of ``out``."""
    (x, y), (result,) = eqn.inputs, eqn.outputs
    (_, yc), _ = eqn.params["contract"], eqn.params["batch"]
    X, Y = operands
    dtype = result.aval.dtype
    n, k = ctx.dim(x.aval.shape[0]), ctx.dim(x.aval.shape[1])
    scalars = _alpha_beta(ctx, dtype)
    rows = f"{stop} - {start}"
    if y.aval.ndim == 1:  # out = X w: gemv of X's block transposed (stored k x rows)
        f = fortran[0]
        return (f"fgb.xxgemv({_blas_kind(dtype)}, {_either(f, ord('t'), ord('n'))}, "
                f"{_either(f, k, rows)}, {_either(f, rows, k)}, {scalars}.ctypes, "
                f"{X}[{start}:].ctypes, {_either(f, k, n)}, {Y}.ctypes, "
                f"{scalars}[1:].ctypes, {out}[{start}:].ctypes)")
    m = ctx.dim(result.aval.shape[1])
    # out^T (m x rows) = op(W) (m x k) X^T (k x rows), column-major; W is (k, m) row-major,
    # column-major m x k, or (m, k) (read transposed) when the product is X @ W.T; a
    # Fortran-ordered W is the other way round
    f, t, n_ = fortran[1], ord("t"), ord("n")
    trans, ld = (_either(f, n_, t), _either(f, m, k)) if yc == (0,) else \
        (_either(f, t, n_), _either(f, k, m))
    x_trans, x_ld = _block_op(fortran[0], k, n, False)
    return (f"fgb.xxgemm({_blas_kind(dtype)}, {trans}, {x_trans}, {m}, {rows}, {k}, "
            f"{scalars}.ctypes, {Y}.ctypes, {ld}, {X}[{start}:].ctypes, {x_ld}, "
            f"{scalars}[1:].ctypes, {out}[{start}:].ctypes, {m})")


def _lower_row_contraction(ctx, eqn, operands, fortran, out, start, stop):
    """The part of ``x.T @ y`` (both contracted over their first axis) from rows
    ``start:stop``, into ``out``: a row-major (rows, p) block is the column-major p x rows
    matrix, so ``x.T @ v`` is gemv without transposing and ``x.T @ y`` is gemm of y's block
    times x's block transposed (the column-major transpose of the row-major result)."""
    (x, y), (result,) = eqn.inputs, eqn.outputs
    X, Y = operands
    dtype = result.aval.dtype
    scalars = _alpha_beta(ctx, dtype)
    rows = f"{stop} - {start}"
    n = ctx.dim(x.aval.shape[0])
    if x.aval.ndim == 1 or y.aval.ndim == 1:  # a matrix's block transposed times a vector's
        (A, a, f), (V, _, _) = ((X, x, fortran[0]), (Y, y, fortran[1])) \
            if x.aval.ndim == 2 else ((Y, y, fortran[1]), (X, x, fortran[0]))
        p = ctx.dim(a.aval.shape[1])
        return (f"fgb.xxgemv({_blas_kind(dtype)}, {_either(f, ord('n'), ord('t'))}, "
                f"{_either(f, p, rows)}, {_either(f, rows, p)}, {scalars}.ctypes, "
                f"{A}[{start}:].ctypes, {_either(f, p, n)}, {V}[{start}:].ctypes, "
                f"{scalars}[1:].ctypes, {out}.ctypes)")
    p, q = ctx.dim(x.aval.shape[1]), ctx.dim(y.aval.shape[1])
    y_trans, y_ld = _block_op(fortran[1], q, n, False)
    x_trans, x_ld = _block_op(fortran[0], p, n, True)
    return (f"fgb.xxgemm({_blas_kind(dtype)}, {y_trans}, {x_trans}, {q}, {p}, {rows}, "
            f"{scalars}.ctypes, {Y}[{start}:].ctypes, {y_ld}, {X}[{start}:].ctypes, {x_ld}, "
            f"{scalars}[1:].ctypes, {out}.ctypes, {q})")


def _as_dtype(ctx, atom, dtype):
    expr = ctx.array(atom)
    return expr if atom.aval.dtype == dtype else f"{expr}.astype({ctx.dtype(dtype)})"


def _lower_dot_loops(ctx, eqn):
    """Integer products (BLAS only multiplies floats): plain loops."""
    (x, y), (out,) = eqn.inputs, eqn.outputs
    (xc, yc), (xb, yb) = eqn.params["contract"], eqn.params["batch"]
    X, Y = ctx.array(x), ctx.array(y)
    nb = len(xb)
    xf, yf = _free(x.aval.ndim, xc, xb), _free(y.aval.ndim, yc, yb)
    name = ctx.fresh(ctx.name(out))
    ctx.emit(f"{name} = np.zeros({ctx.shape(out.aval.shape or (1,))}, "
             f"{ctx.dtype(out.aval.dtype)})")
    contracted = [x.aval.shape[a] for a in xc]
    with ctx.loops(out.aval.shape) as index:
        with ctx.loops(contracted) as c:
            xi, yi = [None] * x.aval.ndim, [None] * y.aval.ndim
            for pos, (a, bb) in enumerate(zip(xb, yb)):
                xi[a] = yi[bb] = index[pos]
            for pos, a in enumerate(xf):
                xi[a] = index[nb + pos]
            for pos, a in enumerate(yf):
                yi[a] = index[nb + len(xf) + pos]
            for pos, (a, bb) in enumerate(zip(xc, yc)):
                xi[a] = yi[bb] = c[pos]
            at = ", ".join(index) if index else "0"
            xe = f"{X}[{', '.join(xi)}]" if xi else X
            ye = f"{Y}[{', '.join(yi)}]" if yi else Y
            ctx.emit(f"{name}[{at}] += {xe} * {ye}")
    ctx.define(out, name if out.aval.shape else f"{name}[0]")


dot_general_p = Primitive("dot_general", impl=_dot_general_impl, shape_rule=_dot_general_rule,
                          allocates=True)
vjp_rules[dot_general_p] = _dot_general_vjp
jvp_rules[dot_general_p] = _dot_general_jvp
lowerings[dot_general_p] = Standalone(_lower_dot_general, rows=_dot_rows)


def _dot_general_batch(args, dims, *, contract, batch):
    """vmap of a contraction is a contraction: with both operands batched, the batch axis is
    one more batch dimension of dot_general (first in the result); with one batched, it is
    one more free axis of that operand, which keeps plain matrix products plain (BLAS)."""
    (x, y), (dx, dy) = args, dims
    (xc, yc), (xb, yb) = contract, batch
    x, y = to_front(x, dx), to_front(y, dy)
    shift = lambda axes, on: tuple(a + on for a in axes)  # noqa: E731
    sx, sy = int(dx is not None), int(dy is not None)
    contract = (shift(xc, sx), shift(yc, sy))
    if sx and sy:
        out = dot_general_p.bind(x, y, contract=contract,
                                 batch=((0, *shift(xb, 1)), (0, *shift(yb, 1))))
        return [out], [0]
    out = dot_general_p.bind(x, y, contract=contract, batch=(shift(xb, sx), shift(yb, sy)))
    if sx:  # x's first free axis: right after the batch axes
        return [out], [len(xb)]
    x_free = len(_free(len(shape_of(x)), xc, xb))
    return [out], [len(xb) + x_free]


batch_rules[dot_general_p] = _dot_general_batch


def dot_general(x, y, contract, batch=((), ())):
    norm = lambda t: (tuple(int(a) for a in t[0]), tuple(int(a) for a in t[1]))  # noqa: E731
    contract, batch = norm(contract), norm(batch)
    if not contract[0] and not batch[0]:  # an outer product is elementwise: let it fuse
        from funcgrad.ops.elementwise import multiply
        return multiply(reshape(x, tuple(x.shape) + (1,) * len(y.shape)), y)
    return dot_general_p.bind(x, y, contract=contract, batch=batch)


from funcgrad.ops.shape import (reshape, shape_of, to_front, transpose,  # noqa: E402
                                unbroadcast)
