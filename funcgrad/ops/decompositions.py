"""Matrix decompositions and solves: the primitives under funcgrad.numpy.linalg and
funcgrad.scipy.linalg.

Each acts on the last two axes and runs in lockstep over any leading (batch) axes, which must
be the same for every operand (the user-facing functions broadcast them first). Every other
linear-algebra function (inv, slogdet, pinv, lstsq, norm, expm...) is composed from these
and the ordinary primitives, so it gets its derivatives, batching and compilation from them.

    solve(a, b)                        a x = b, a general (LAPACK gesv)
    triangular_solve(a, b, lower, transpose_a, unit_diagonal)
                                       op(a) x = b, reading only a's triangle
    lu(a) -> (lu, pivots)              a[perm] = L U, packed as SciPy's lu_factor
    pivots_to_permutation(pivots)      LAPACK's row swaps as the permutation perm
    det(a)                             the determinant (LU); its derivative is adj(a)^T
    adjugate(a)                        adj(a), a adj(a) = det(a) I (SVD: exact at any rank)
    cholesky(a) -> L                   the symmetric part of a = L L^T
    eigh(a) -> (w, v)                  the symmetric part of a = v diag(w) v^T, w ascending
    svd(a, full_matrices) -> (u, s, vt)
    qr(a, full_matrices) -> (q, r)
    qr_pivots(a) -> perm               LAPACK geqp3's column order (no derivative)

Conventions where the derivative is not defined by the function alone (as JAX):

- cholesky and eigh read the symmetric part (a + a^T) / 2 of their input, so their
  derivatives are symmetric matrices, and exact for non-symmetric inputs too.
- eigenvectors and singular vectors are defined up to sign (and, for a repeated value, up to
  a rotation within its space): derivatives are those of the vectors LAPACK returns, which
  are meaningful for functions that do not depend on that choice (``v ** 2``, ``u @ vt``).
  Where two eigenvalues (or singular values) are exactly equal, the term coupling their
  vectors, 1 / (w_j - w_i), is taken to be 0 (JAX does so for the SVD; for eigh it gives
  inf): for functions that do not depend on the choice of basis that term cancels anyway.
- svd with ``full_matrices=True`` and qr with ``full_matrices=True`` are differentiable only
  when they return no arbitrary columns (square a for svd, m <= n for qr). A wide a = [a1 a2]
  (m < n) differentiates as JAX's: a1 = q r1 is a square QR and r2 = q^T a2. Other cases
  raise a FuncgradError.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradError, FuncgradTypeError, LoweringError, ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.types import ShapedArray
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules, zero_derivative
from funcgrad.rules.lowering import Standalone, lowerings

# --- checks shared by the shape rules ---------------------------------------------------


def _check_matrix(name, a, square=False):
    if a.dtype.kind != "f":
        raise FuncgradTypeError(f"{name} needs a float32 or float64 matrix, not {a}")
    if a.ndim < 2:
        raise ShapeError(f"{name} needs a matrix (at least 2 axes), not {a}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name} needs square matrices in the last two axes, not {a}")


def _check_rhs(name, a, b):
    _check_matrix(name, a, square=True)
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise ShapeError(f"{name}: right-hand side {b} does not match the matrix {a}")
    if b.dtype != a.dtype:
        raise FuncgradTypeError(f"{name}: matrix {a} and right-hand side {b} differ in dtype")


# --- matrix helpers written with funcgrad's ops (the rules record equations) ------------


def _mT(x):
    """x with its last two axes swapped."""
    perm = list(range(len(x.shape)))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    return transpose(x, perm)


def _mm(a, b):
    """(..., m, k) @ (..., k, n) with equal batch axes."""
    nb = len(a.shape) - 2
    batch = tuple(range(nb))
    return dot_general(a, b, ((nb + 1,), (nb,)), (batch, batch))


def _band(x, keep):
    """x where ``keep(column - row)`` holds on its last two axes, else 0."""
    n, m = x.shape[-2:]
    offsets = iota(np.int64, (n, m), 1) - iota(np.int64, (n, m), 0)
    return where(keep(offsets), x, x.dtype.type(0))


def _tril(x, k=0):
    return _band(x, lambda d: d <= k)


def _triu(x, k=0):
    return _band(x, lambda d: d >= k)


def _eye(n, dtype):
    return convert_element_type(iota(np.int64, (n, n), 0) == iota(np.int64, (n, n), 1), dtype)


def _diag_part(x):
    """The diagonal of the last two axes, (..., n, n) -> (..., n)."""
    return reduce_sum(x * _eye(x.shape[-1], x.dtype), (len(x.shape) - 1,))


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal."""
    return _column(v) * _eye(v.shape[-1], v.dtype)


def _column(v):
    """(..., n) -> (..., n, 1): scales the rows of a matrix it multiplies."""
    return reshape(v, tuple(v.shape) + (1,))


def _row(v):
    """(..., n) -> (..., 1, n): scales the columns of a matrix it multiplies."""
    return reshape(v, tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _sym(a):
    return (a + _mT(a)) * 0.5


def _inverse_gaps(w):
    """F[..., i, j] = 1 / (w_j - w_i), and 0 where w_i == w_j (the diagonal, and repeated
    values: see the module's docstring)."""
    gaps = _row(w) - _column(w)
    same = gaps == 0
    return where(same, w.dtype.type(0), 1.0 / where(same, w.dtype.type(1), gaps))


def _nonzero(ct):
    """ct, or None if it is known to be zero: reverse mode hands a multiple-result rule
    explicit zeros for the results that were not used (a broadcast 0 in a trace)."""
    if ct is None:
        return None
    if isinstance(ct, np.ndarray):
        return ct if ct.any() else None
    from funcgrad.core.tracing import current_trace
    from funcgrad.ops.shape import constant_scalar
    value = constant_scalar(current_trace(), ct)
    return None if value is not None and value == 0 else ct


def _zeros_like(x):
    return broadcast_to(x.dtype.type(0), tuple(x.shape))


# --- batching: every primitive here maps over leading axes ------------------------------


def _to_front(x, d, size):
    """x with its batch axis d first (broadcast to ``size`` if it has none)."""
    if d is None:
        return broadcast_to(x, (size,) + tuple(x.shape))
    perm = [d] + [i for i in range(len(x.shape)) if i != d]
    return transpose(x, perm)


def _batch_leading(prim):
    def rule(args, dims, **params):
        if all(d is None for d in dims):
            outs = prim.bind(*args, **params)
            outs = list(outs) if prim.multiple_results else [outs]
            return outs, [None] * len(outs)
        size = next(x.shape[d] for x, d in zip(args, dims) if d is not None)
        outs = prim.bind(*(_to_front(x, d, size) for x, d in zip(args, dims)), **params)
        outs = list(outs) if prim.multiple_results else [outs]
        return outs, [0] * len(outs)
    return rule


# --- lowering: a loop over the leading axes around a per-matrix body --------------------


def _per_matrix(body):
    """A Standalone lowering: every operand is made a contiguous (batch, ...) array; outputs
    are allocated so; ``body(ctx, eqn, ins, outs)`` writes one matrix's outputs (``ins`` and
    ``outs`` are local names of that matrix's 2-D or 1-D slices)."""
    def lower(ctx, eqn):
        first = eqn.inputs[0].aval
        nb = first.ndim - 2
        b = int(np.prod(first.shape[:nb], dtype=np.int64))
        flat_in = []
        for atom in eqn.inputs:
            name = ctx.fresh("mat")
            shape = (b,) + tuple(atom.aval.shape[nb:])
            ctx.emit(f"{name} = np.ascontiguousarray({ctx.array(atom)}).reshape("
                     f"{ctx.shape(shape)})")
            flat_in.append(name)
        flat_out = []
        for v in eqn.outputs:
            name = ctx.fresh("res")
            shape = (b,) + tuple(v.aval.shape[nb:])
            ctx.emit(f"{name} = fgm.empty({ctx.shape(shape)}, {ctx.dtype(v.aval.dtype)})")
            flat_out.append(name)
        i = ctx.fresh("i")
        ctx.emit(f"for {i} in range({ctx.dim(b)}):")
        with ctx.indented():
            ins = [ctx.fresh("m") for _ in flat_in]
            outs = [ctx.fresh("r") for _ in flat_out]
            for local, whole in zip(ins + outs, flat_in + flat_out):
                ctx.emit(f"{local} = {whole}[{i}]")
            body(ctx, eqn, ins, outs)
        for v, name in zip(eqn.outputs, flat_out):
            ctx.define(v, f"{name}.reshape({ctx.shape(v.aval.shape)})")
    return Standalone(lower)


def _half(ctx, dtype):
    return f"{ctx.dtype(dtype)}(0.5)"


def _per_matrix_impl(fn, a, *rest, out_dtypes=None):
    """Apply ``fn`` (2-D arrays -> tuple of arrays) to every matrix of the batch."""
    a = np.asarray(a)
    rest = [np.asarray(r) for r in rest]
    batch = a.shape[:-2]
    results = None
    for idx in np.ndindex(*batch):
        outs = fn(a[idx], *(r[idx] for r in rest))
        if results is None:
            results = [np.empty(batch + o.shape, out_dtypes[k] if out_dtypes else a.dtype)
                       for k, o in enumerate(outs)]
        for res, o in zip(results, outs):
            res[idx] = o
    if results is None:  # an empty batch: ask fn for the shapes on a dummy matrix
        dummy = fn(np.eye(*a.shape[-2:], dtype=a.dtype),
                   *(np.zeros(r.shape[-2:], r.dtype) for r in rest))
        results = [np.empty(batch + o.shape, out_dtypes[k] if out_dtypes else a.dtype)
                   for k, o in enumerate(dummy)]
    return results


# --- non-finite input: NaN results, the same in both tiers ------------------------------
#
# What LAPACK makes of a matrix holding a NaN or an inf depends on the routine: solve, lu and
# qr return whatever the elimination spreads (some entries NaN, some finite), svd and eigh may
# raise "did not converge", cholesky raises "not positive definite" at an inf, and Numba's
# np.linalg (the compiled tier) refuses every such matrix; the compiled LU, a loop, spreads
# NaN and picks pivots differently from LAPACK's blocked one. So jit's two tiers would
# disagree on one program. The primitives that call LAPACK in either tier instead give NaN
# for every float result of a matrix with a non-finite entry in any operand (JAX's results
# are NaN there too, but for entries its elimination happens not to reach), and LAPACK sees
# the identity in its place. (Triangular solves are substitution, the same in both tiers:
# NaN and inf spread through them as through SciPy's and JAX's.)


def _nan_for_nonfinite(impl):
    """impl (NumPy tier) with every float result of a non-finite matrix of the batch NaN (its
    integer results, lu's pivots, are the identity's)."""
    def run(*args, **params):
        args = [np.asarray(x) for x in args]
        finite = np.logical_and.reduce([np.isfinite(x).all(axis=(-2, -1)) for x in args])
        if finite.all():
            return impl(*args, **params)
        safe = [np.where(finite[..., None, None], x, np.eye(*x.shape[-2:], dtype=x.dtype))
                for x in args]
        outs = impl(*safe, **params)
        single = not isinstance(outs, (tuple, list))
        masked = tuple(o if o.dtype.kind != "f" else
                       np.where(finite.reshape(finite.shape + (1,) * (o.ndim - finite.ndim)),
                                o, o.dtype.type(np.nan))
                       for o in ((outs,) if single else outs))
        return masked[0] if single else masked
    return run


def _emit_all_finite(ctx, matrices):
    """Code setting a new flag, whose name is returned, to whether every entry of the 2-D
    ``matrices`` is finite: a loop, not np.isfinite's array, which a batch of small matrices
    allocated once per matrix (20000 3x3 solves took 60% longer)."""
    finite, i, j = ctx.fresh("finite"), ctx.fresh("i"), ctx.fresh("j")
    ctx.emit(f"{finite} = True")
    for m in matrices:
        ctx.emit(f"for {i} in range({m}.shape[0]):")
        ctx.emit(f"    for {j} in range({m}.shape[1]):")
        ctx.emit(f"        if not np.isfinite({m}[{i}, {j}]):")
        ctx.emit(f"            {finite} = False")
    return finite


def _nan_for_nonfinite_body(body):
    """A _per_matrix body (compiled tier) doing what _nan_for_nonfinite does: a non-finite
    matrix is replaced by the identity, and the float results are NaN. The check is O(n^2)
    before O(n^3) work."""
    def guarded(ctx, eqn, ins, outs):
        finite = _emit_all_finite(ctx, ins)
        ctx.emit(f"if not {finite}:")
        with ctx.indented():
            for m, atom in zip(ins, eqn.inputs):
                ctx.emit(f"{m} = np.eye({m}.shape[0], {m}.shape[1], 0, "
                         f"{ctx.dtype(atom.aval.dtype)})")
        body(ctx, eqn, ins, outs)
        floats = [r for r, v in zip(outs, eqn.outputs) if v.aval.dtype.kind == "f"]
        if floats:  # (qr_pivots has none: its order is the identity's)
            ctx.emit(f"if not {finite}:")
            with ctx.indented():
                for r in floats:
                    ctx.emit(f"{r}.fill(np.nan)")
    return guarded


def _identity_for_empty(body):
    """A _per_matrix body that gives an empty matrix NumPy's factors (identities where they
    are square: svd's u and vt with full_matrices; nothing else has an element) instead of
    calling Numba's np.linalg, which refuses empty arrays."""
    def guarded(ctx, eqn, ins, outs):
        ctx.emit(f"if {ins[0]}.size > 0:")
        with ctx.indented():
            body(ctx, eqn, ins, outs)
        ctx.emit("else:")
        with ctx.indented():  # (every user has a 2-D result: the branch is not empty)
            nb = eqn.inputs[0].aval.ndim - 2
            for r, v in zip(outs, eqn.outputs):
                if v.aval.ndim - nb == 2:
                    i = ctx.fresh("i")
                    ctx.emit(f"{r}[:, :] = 0")
                    ctx.emit(f"for {i} in range(min({r}.shape[0], {r}.shape[1])):")
                    ctx.emit(f"    {r}[{i}, {i}] = 1")
    return guarded


# --- solve: a x = b ---------------------------------------------------------------------


def _solve_rule(a, b):
    _check_rhs("solve", a, b)
    return ShapedArray(b.shape, a.dtype)


def _solve_vjp(cts, inputs, outputs, active):
    (g,), (a, _), (x,) = cts, inputs, outputs
    gb = solve(_mT(a), g)
    return [-_mm(gb, _mT(x)) if active[0] else None, gb if active[1] else None]


def _solve_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    x = solve(a, b)
    if da is None and db is None:
        return [x], [None]
    rhs = db if da is None else (-_mm(da, x) if db is None else db - _mm(da, x))
    return [x], [solve(a, rhs)]


def _lower_solve(ctx, eqn, ins, outs):
    a, b = ins
    ctx.emit(f"{outs[0]}[:, :] = np.linalg.solve({a}, {b})")


solve_p = Primitive("solve", impl=_nan_for_nonfinite(np.linalg.solve), shape_rule=_solve_rule)
vjp_rules[solve_p] = _solve_vjp
jvp_rules[solve_p] = _solve_jvp
batch_rules[solve_p] = _batch_leading(solve_p)
lowerings[solve_p] = _per_matrix(_nan_for_nonfinite_body(_lower_solve))


def solve(a, b):
    """x with a @ x = b, for a (..., n, n) and b (..., n, k) with the same batch axes."""
    return solve_p.bind(a, b)


# --- triangular_solve: op(a) x = b, reading one triangle of a ---------------------------


def _triangular_solve_rule(a, b, *, lower, transpose_a, unit_diagonal):
    _check_rhs("triangular_solve", a, b)
    return ShapedArray(b.shape, a.dtype)


def _triangular_solve_impl(a, b, *, lower, transpose_a, unit_diagonal):
    from scipy.linalg import solve_triangular

    def one(a2, b2):
        return (solve_triangular(a2, b2, trans=int(transpose_a), lower=lower,
                                 unit_diagonal=unit_diagonal, check_finite=False),)
    return _per_matrix_impl(one, a, b)[0]


def _triangle(x, lower, unit_diagonal):
    """The part of x a triangular solve reads."""
    if lower:
        return _tril(x, -1 if unit_diagonal else 0)
    return _triu(x, 1 if unit_diagonal else 0)


def _triangular_solve_vjp(cts, inputs, outputs, active, *, lower, transpose_a, unit_diagonal):
    (g,), (a, _), (x,) = cts, inputs, outputs
    gb = triangular_solve(a, g, lower=lower, transpose_a=not transpose_a,
                          unit_diagonal=unit_diagonal)
    ga = None
    if active[0]:  # d op(a) = -gb x^T
        ga = -(_mm(x, _mT(gb)) if transpose_a else _mm(gb, _mT(x)))
        ga = _triangle(ga, lower, unit_diagonal)
    return [ga, gb if active[1] else None]


def _triangular_solve_jvp(primals, tangents, **params):
    (a, b), (da, db) = primals, tangents
    x = triangular_solve(a, b, **params)
    if da is None and db is None:
        return [x], [None]
    rhs = db
    if da is not None:
        da = _triangle(da, params["lower"], params["unit_diagonal"])
        change = _mm(_mT(da) if params["transpose_a"] else da, x)
        rhs = -change if db is None else db - change
    return [x], [triangular_solve(a, rhs, **params)]


_SINGULAR_TRIANGLE = "singular matrix: a zero on the diagonal of a triangular solve"


def _lower_triangular_solve(ctx, eqn, ins, outs):
    """Forward or back substitution, column by column (Numba has no triangular solve)."""
    (a, b), (x,) = ins, outs
    lower, trans = eqn.params["lower"], eqn.params["transpose_a"]
    unit = eqn.params["unit_diagonal"]
    n, k = eqn.inputs[1].aval.shape[-2:]
    N, K = ctx.dim(n), ctx.dim(k)
    at = (lambda r, c: f"{a}[{c}, {r}]") if trans else (lambda r, c: f"{a}[{r}, {c}]")
    forward = lower != trans  # the effective matrix is lower triangular
    c, step, r, j, acc = (ctx.fresh(s) for s in ("c", "step", "r", "j", "acc"))
    if not unit:  # a zero on the diagonal raises, as SciPy's (the NumPy evaluator's) does
        ctx.emit(f"for {r} in range({N} if {K} else 0):")
        with ctx.indented():
            ctx.emit(f"if {a}[{r}, {r}] == 0:")
            ctx.emit(f"    raise np.linalg.LinAlgError({_SINGULAR_TRIANGLE!r})")
    ctx.emit(f"for {c} in range({K}):")
    with ctx.indented():
        ctx.emit(f"for {step} in range({N}):")
        with ctx.indented():
            ctx.emit(f"{r} = {step}" if forward else f"{r} = {N} - 1 - {step}")
            ctx.emit(f"{acc} = {b}[{r}, {c}]")
            ctx.emit(f"for {j} in range({r}):" if forward else
                     f"for {j} in range({r} + 1, {N}):")
            with ctx.indented():
                ctx.emit(f"{acc} -= {at(r, j)} * {x}[{j}, {c}]")
            ctx.emit(f"{x}[{r}, {c}] = {acc}" if unit else f"{x}[{r}, {c}] = {acc} / {at(r, r)}")


triangular_solve_p = Primitive("triangular_solve", impl=_triangular_solve_impl,
                               shape_rule=_triangular_solve_rule)
vjp_rules[triangular_solve_p] = _triangular_solve_vjp
jvp_rules[triangular_solve_p] = _triangular_solve_jvp
batch_rules[triangular_solve_p] = _batch_leading(triangular_solve_p)
lowerings[triangular_solve_p] = _per_matrix(_lower_triangular_solve)


def triangular_solve(a, b, *, lower, transpose_a=False, unit_diagonal=False):
    """x with op(a) @ x = b (op(a) = a, or a^T if ``transpose_a``), reading only the lower or
    upper triangle of a (without its diagonal, taken as ones, if ``unit_diagonal``)."""
    return triangular_solve_p.bind(a, b, lower=bool(lower), transpose_a=bool(transpose_a),
                                   unit_diagonal=bool(unit_diagonal))


# --- lu: a[perm] = L U, packed as SciPy's lu_factor, and LAPACK's row swaps -------------
#
# a is (m, n), k = min(m, n): L is (m, k) unit lower triangular, U (k, n) upper triangular,
# packed in one (m, n) matrix, and k row swaps. The rules make L and U square as JAX's do:
# L with the identity's last m - k columns, U with the identity's last n - k rows, so that
# L^-1 and U^-1 exist and one formula serves every shape.


def _lu_rule(a):
    _check_matrix("lu", a)
    k = min(a.shape[-2:])
    return [ShapedArray(a.shape, a.dtype), ShapedArray(a.shape[:-2] + (k,), np.dtype(np.int32))]


def _lu_impl(a):
    import warnings

    from scipy.linalg import lu_factor

    def one(a2):
        with warnings.catch_warnings():  # a singular matrix has an LU too (a zero pivot)
            warnings.simplefilter("ignore")
            lu, piv = lu_factor(a2, check_finite=False)
        return lu, piv
    return tuple(_per_matrix_impl(one, a, out_dtypes=[np.asarray(a).dtype, np.int32]))


def _permutation_matrix(pivots, dtype, m):
    """P (m, m) with (P @ a)[i] = a[perm[i]]."""
    perm = pivots_to_permutation(pivots, size=m)
    return convert_element_type(_column(perm) == iota(np.int32, (m,), 0), dtype)


def _resized(x, axis, size):
    """x cut or padded with zeros to ``size`` along ``axis`` (-1 or -2)."""
    shape = tuple(x.shape)
    axis = len(shape) + axis
    if shape[axis] >= size:
        return slice_array(x, (0,) * len(shape), (1,) * len(shape),
                           shape[:axis] + (size,) + shape[axis + 1:])
    hi = [0] * len(shape)
    hi[axis] = size - shape[axis]
    return pad(x, (0,) * len(shape), hi, (0,) * len(shape))


def _square_factors(lu_):
    """(L (m, m), U (n, n)) made square from the packed lu: L's strict lower triangle (its
    unit diagonal implied), and U with ones on the diagonal past row k."""
    m, n = lu_.shape[-2:]
    L = _resized(lu_, -1, m)
    U = _resized(lu_, -2, n)
    if m < n:
        rows = iota(np.int64, (n, n), 0)
        U = where((rows == iota(np.int64, (n, n), 1)) & (rows >= m), lu_.dtype.type(1), U)
    return L, U


def _lu_vjp(cts, inputs, outputs, active):
    """With a' = P a = L U (L, U square): a'bar = L^-T (tril(L^T g, -1) + triu(g U^T)) U^-T,
    the transpose of the JVP's map, and abar = P^T a'bar."""
    (g, _), (lu_, pivots) = cts, outputs
    if g is None:
        return [None]
    m, n = lu_.shape[-2:]
    L, U = _square_factors(lu_)
    L_full = _tril(L, -1) + _eye(m, lu_.dtype)
    middle = _tril(_mm(_mT(L_full), g), -1) + _triu(_mm(g, _mT(_triu(U))))
    left = triangular_solve(L, middle, lower=True, transpose_a=True, unit_diagonal=True)
    g_permuted = _mT(triangular_solve(U, _mT(left), lower=False))
    return [_mm(_mT(_permutation_matrix(pivots, lu_.dtype, m)), g_permuted)]


def _lu_jvp(primals, tangents):
    """x = L^-1 P da U^-1 (L, U square); dlu = L tril(x, -1) + triu(x) U."""
    (a,), (da,) = primals, tangents
    lu_, pivots = lu(a)
    if da is None:
        return [lu_, pivots], [None, None]
    m, n = lu_.shape[-2:]
    L, U = _square_factors(lu_)
    permuted = _mm(_permutation_matrix(pivots, lu_.dtype, m), da)
    x = triangular_solve(L, permuted, lower=True, unit_diagonal=True)  # L^-1 P da
    x = _mT(triangular_solve(U, _mT(x), lower=False, transpose_a=True))  # ... U^-1
    L_full = _tril(L, -1) + _eye(m, lu_.dtype)
    return [lu_, pivots], [_mm(L_full, _tril(x, -1)) + _mm(_triu(x), _triu(U)), None]


def _lower_lu(ctx, eqn, ins, outs):
    """Partial pivoting, Doolittle order (Numba has no LU): the pivot is the first largest
    magnitude, as LAPACK's; a zero pivot column is left as it is. k = min(m, n) steps."""
    (a,), (lu_, piv) = ins, outs
    m, n = (ctx.dim(d) for d in eqn.inputs[0].aval.shape[-2:])
    k, p, best, r, c, f, tmp = (ctx.fresh(s) for s in ("k", "p", "best", "r", "c", "f", "t"))
    for line in [
        f"{lu_}[:, :] = {a}",
        f"for {k} in range(min({m}, {n})):",
        f"    {p} = {k}",
        f"    {best} = abs({lu_}[{k}, {k}])",
        f"    for {r} in range({k} + 1, {m}):",
        f"        if abs({lu_}[{r}, {k}]) > {best}:",
        f"            {best} = abs({lu_}[{r}, {k}])",
        f"            {p} = {r}",
        f"    {piv}[{k}] = {p}",
        f"    if {p} != {k}:",
        f"        for {c} in range({n}):",
        f"            {tmp} = {lu_}[{k}, {c}]",
        f"            {lu_}[{k}, {c}] = {lu_}[{p}, {c}]",
        f"            {lu_}[{p}, {c}] = {tmp}",
        f"    if {lu_}[{k}, {k}] != 0:",
        f"        for {r} in range({k} + 1, {m}):",
        f"            {lu_}[{r}, {k}] = {lu_}[{r}, {k}] / {lu_}[{k}, {k}]",
        f"            {f} = {lu_}[{r}, {k}]",
        f"            for {c} in range({k} + 1, {n}):",
        f"                {lu_}[{r}, {c}] -= {f} * {lu_}[{k}, {c}]",
    ]:
        ctx.emit(line)


lu_p = Primitive("lu", impl=_nan_for_nonfinite(_lu_impl), shape_rule=_lu_rule,
                 multiple_results=True)
vjp_rules[lu_p] = _lu_vjp
jvp_rules[lu_p] = _lu_jvp
batch_rules[lu_p] = _batch_leading(lu_p)
lowerings[lu_p] = _per_matrix(_nan_for_nonfinite_body(_lower_lu))


def lu(a):
    """(lu, pivots): for a (..., m, n), L (unit diagonal, below) and U (on and above) packed
    in one (m, n) matrix, and LAPACK's min(m, n) 0-based row swaps, as scipy's lu_factor."""
    return lu_p.bind(a)


def _pivots_rule(pivots, *, size):
    if pivots.dtype.kind not in "iu" or pivots.ndim < 1:
        raise FuncgradTypeError(f"pivots must be integers with at least one axis, not {pivots}")
    if size < pivots.shape[-1]:
        raise ShapeError(f"a permutation of {size} rows cannot hold {pivots.shape[-1]} row "
                         "swaps")
    return ShapedArray(pivots.shape[:-1] + (size,), np.dtype(np.int32))


def _pivots_impl(pivots, *, size):
    pivots = np.asarray(pivots)
    perm = np.empty(pivots.shape[:-1] + (size,), np.int32)
    for idx in np.ndindex(*pivots.shape[:-1]):
        order = np.arange(size, dtype=np.int32)
        for i, p in enumerate(pivots[idx]):
            order[i], order[p] = order[p], order[i]
        perm[idx] = order
    return perm


def _lower_pivots(ctx, eqn):
    (pivots,), (out,) = eqn.inputs, eqn.outputs
    shape = pivots.aval.shape
    b, k, n = int(np.prod(shape[:-1], dtype=np.int64)), shape[-1], eqn.params["size"]
    piv, perm, i, j, p, t = (ctx.fresh(s) for s in ("piv", "perm", "i", "j", "p", "t"))
    ctx.emit(f"{piv} = np.ascontiguousarray({ctx.array(pivots)}).reshape({ctx.shape((b, k))})")
    ctx.emit(f"{perm} = fgm.empty({ctx.shape((b, n))}, np.int32)")
    for line in [
        f"for {i} in range({ctx.dim(b)}):",
        f"    for {j} in range({ctx.dim(n)}):",
        f"        {perm}[{i}, {j}] = {j}",
        f"    for {j} in range({ctx.dim(k)}):",
        f"        {p} = {piv}[{i}, {j}]",
        f"        {t} = {perm}[{i}, {j}]",
        f"        {perm}[{i}, {j}] = {perm}[{i}, {p}]",
        f"        {perm}[{i}, {p}] = {t}",
    ]:
        ctx.emit(line)
    ctx.define(out, f"{perm}.reshape({ctx.shape(out.aval.shape)})")


pivots_to_permutation_p = Primitive("pivots_to_permutation", impl=_pivots_impl,
                                    shape_rule=_pivots_rule)
zero_derivative(pivots_to_permutation_p)
batch_rules[pivots_to_permutation_p] = _batch_leading(pivots_to_permutation_p)
lowerings[pivots_to_permutation_p] = Standalone(_lower_pivots)


def pivots_to_permutation(pivots, *, size=None):
    """perm with a[perm] = L U, from lu's row swaps (row i swapped with pivots[i], in order):
    a permutation of ``size`` rows (default: as many as there are swaps; an (m, n) matrix's
    LU has min(m, n) swaps of its m rows)."""
    size = pivots.shape[-1] if size is None else int(size)
    return pivots_to_permutation_p.bind(pivots, size=size)


# --- det and adjugate: the determinant, and its derivative at every rank ----------------
#
# det is a primitive (not parity * prod(diag(U)) composed from lu) so that its derivative is
# not lu's: that one divides by U's pivots and fails at every singular matrix, while
# d det(a) = tr(adj(a) da) exists everywhere (adj(a) is a polynomial in a's entries: zero at
# rank <= n - 2, of rank one at rank n - 1). Its value is still the LU's. Its rules call a
# second primitive, adjugate, computed from the SVD without dividing by a singular value
# (adj(u s vt) = det(u) det(v) v adj(s) u^T, adj(s) the products of all singular values but
# one), whose own rules are the exact derivative of adj at diagonal matrices, turned by u and
# v: so the Hessian of det is exact wherever a's SVD is, repeated or zero singular values
# included. adjugate has to be a primitive: composed from svd, its derivative would be the
# singular vectors', arbitrary at repeated singular values (the identity's), and the Hessian
# of det wrong there. det could be a custom_jvp composite, but its rule would be recorded as
# a sub-program at every call and transposed for reverse mode; a primitive keeps value,
# rules, batching and lowering on one screen, as for every decomposition here.


def _det_rule(a):
    _check_matrix("det", a, square=True)
    return ShapedArray(a.shape[:-2], a.dtype)


def _det_impl(a):
    """The product of the LU's pivots, negated for each row swap (NumPy's det goes through
    logarithms instead, and rounds det([[1, 2], [3, 4]]) to -2.0000000000000004)."""
    a = np.asarray(a)
    lu_, pivots = lu_p.impl(a)
    n = a.shape[-1]
    swaps = np.count_nonzero(pivots != np.arange(n, dtype=np.int32), axis=-1)
    parity = np.where(swaps % 2 == 1, a.dtype.type(-1), a.dtype.type(1))
    return (parity * np.prod(np.diagonal(lu_, axis1=-2, axis2=-1), axis=-1))[()]


def _batch_column(x):
    """(...) -> (..., 1, 1): scales the matrices of a (..., n, n) stack."""
    return reshape(x, tuple(x.shape) + (1, 1))


def _det_vjp(cts, inputs, outputs, active):
    (g,), (a,) = cts, inputs
    return [_batch_column(g) * _mT(adjugate(a))]


def _det_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    d = det(a)
    if da is None:
        return [d], [None]
    nb = len(a.shape) - 2
    return [d], [reduce_sum(_mT(adjugate(a)) * da, (nb, nb + 1))]


def _lower_det(ctx, eqn):
    """The LU factorization (lu's lowering) and the product of its pivots, negated for each
    row swap; 1 for a 0x0 matrix, NaN for one with a NaN or inf (as lu's results)."""
    (a,), (out,) = eqn.inputs, eqn.outputs
    shape = tuple(a.aval.shape)
    n, batch = shape[-1], shape[:-2]
    b = int(np.prod(batch, dtype=np.int64))
    N = ctx.dim(n)
    mat, res, lu_, piv, i, k, d = (ctx.fresh(s) for s in ("mat", "res", "lu", "piv", "i", "k",
                                                          "d"))
    dtype = ctx.dtype(a.aval.dtype)
    ctx.emit(f"{mat} = np.ascontiguousarray({ctx.array(a)}).reshape("
             f"{ctx.shape((b, n, n))})")
    ctx.emit(f"{res} = fgm.empty({ctx.shape((b,))}, {dtype})")
    # lu and piv are views taken in the loop, as _per_matrix's are: Numba compiles lu's
    # loops on an array allocated outside the loop some 30 times slower (200x200)
    lus, pivs = ctx.fresh("lus"), ctx.fresh("pivs")
    ctx.emit(f"{lus} = fgm.empty({ctx.shape((1, n, n))}, {dtype})")
    ctx.emit(f"{pivs} = fgm.empty({ctx.shape((1, n))}, np.int32)")
    ctx.emit(f"for {i} in range({ctx.dim(b)}):")
    with ctx.indented():
        ctx.emit(f"{lu_} = {lus}[0]")
        ctx.emit(f"{piv} = {pivs}[0]")
        _lower_lu(ctx, eqn, [f"{mat}[{i}]"], [lu_, piv])
        finite = _emit_all_finite(ctx, [f"{mat}[{i}]"])
        ctx.emit(f"{d} = 1.0")  # float64, as the products of funcgrad's reductions
        ctx.emit(f"for {k} in range({N}):")
        with ctx.indented():
            ctx.emit(f"{d} *= {lu_}[{k}, {k}]")
            ctx.emit(f"if {piv}[{k}] != {k}:")
            ctx.emit(f"    {d} = -{d}")
        ctx.emit(f"{res}[{i}] = {d} if {finite} else np.nan")
    ctx.define(out, f"{res}.reshape({ctx.shape(batch)})")


det_p = Primitive("det", impl=_det_impl, shape_rule=_det_rule)
vjp_rules[det_p] = _det_vjp
jvp_rules[det_p] = _det_jvp
batch_rules[det_p] = _batch_leading(det_p)
lowerings[det_p] = Standalone(_lower_det)


def det(a):
    """The determinant of each matrix of a (..., n, n), from its LU factorization; its
    derivative is ``adjugate(a).T``, at singular matrices too."""
    return det_p.bind(a)


def _adjugate_rule(a):
    _check_matrix("adjugate", a, square=True)
    return ShapedArray(a.shape, a.dtype)


def _np_all_but_one(s):
    """The product of all elements of s's last axis but the i-th, without dividing."""
    ones = np.ones(s.shape[:-1] + (1,), s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
    return before * after


def _adjugate_impl(a):
    a = np.asarray(a)
    if a.shape[-1] == 0:
        return np.empty(a.shape, a.dtype)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    sigma = np.where(np.linalg.det(u) * np.linalg.det(vt) < 0, -1.0, 1.0)
    adj = (np.swapaxes(vt, -1, -2) * _np_all_but_one(s)[..., None, :]) @ np.swapaxes(u, -1, -2)
    return (sigma[..., None, None] * adj).astype(a.dtype, copy=False)


def _svd_oriented(a):
    """(u, s, v, sigma): a = u diag(s) v^T, and sigma = det(u) det(v) (+1 or -1, shaped
    (..., 1, 1), with no derivative: u and v stay orthogonal)."""
    u, s, vt = svd(a)
    sign = det(stop_gradient(u)) * det(stop_gradient(vt))
    one = a.dtype.type(1)
    sigma = where(sign < 0, -one, one)
    return u, s, _mT(vt), _batch_column(sigma)


def _adjugate_step(s, e):
    """The derivative of adj at diag(s) along e: -e[i, j] q[i, j] off the diagonal and
    sum_(k != i) e[k, k] q[i, k] on it, q[i, j] the product of all of s but s_i and s_j
    (written without dividing). It is symmetric as a linear map (q is), so the same function
    gives the JVP and the VJP."""
    n = s.shape[-1]
    eye = _eye(n, s.dtype) > 0
    rows = broadcast_to(_row(s), tuple(s.shape) + (n,))
    q = where(eye, s.dtype.type(0),
              _all_but_one(where(eye, s.dtype.type(1), rows)))  # s_i -> 1 in row i
    diagonal = reduce_sum(q * _row(_diag_part(e)), (len(s.shape),))
    return _diag_embed(diagonal) - q * e


def _all_but_one(x):
    return exclusive_cumprod(x, reverse=False) * exclusive_cumprod(x, reverse=True)


def _adjugate_vjp(cts, inputs, outputs, active):
    """abar = sigma u D(v^T adjbar u) v^T, D the step of _adjugate_step (its own transpose)."""
    (g,), (a,) = cts, inputs
    if a.shape[-1] <= 1:  # adj is constant: [[1]] (or 0x0)
        return [None]
    u, s, v, sigma = _svd_oriented(a)
    inner = _adjugate_step(s, _mm(_mm(_mT(v), g), u))
    return [sigma * _mm(_mm(u, inner), _mT(v))]


def _adjugate_jvp(primals, tangents):
    """adj(a + da) = sigma v adj(s + u^T da v) u^T, to first order in da."""
    (a,), (da,) = primals, tangents
    adj = adjugate(a)
    if da is None or a.shape[-1] <= 1:
        return [adj], [None]
    u, s, v, sigma = _svd_oriented(a)
    inner = _adjugate_step(s, _mm(_mm(_mT(u), da), v))
    return [adj], [sigma * _mm(_mm(v, inner), _mT(u))]


def _lower_adjugate(ctx, eqn, ins, outs):
    """LAPACK's SVD (through Numba), the products of all singular values but one by a
    forward and a backward pass, then sigma v diag(p) u^T."""
    (a,), (r,) = ins, outs
    dtype = eqn.inputs[0].aval.dtype
    N = ctx.dim(eqn.inputs[0].aval.shape[-1])
    u, ut, s, vt, p, sg, acc, i, j, k = (ctx.fresh(x) for x in ("u", "ut", "s", "vt", "p", "sg",
                                                                "acc", "i", "j", "k"))
    for line in [
        f"{u}, {s}, {vt} = np.linalg.svd({a})",
        f"{sg} = 1.0 if np.linalg.det({u}) * np.linalg.det({vt}) >= 0 else -1.0",
        f"{p} = fgm.empty(({N},), {ctx.dtype(dtype)})",
        f"{acc} = 1.0",
        f"for {k} in range({N}):",
        f"    {p}[{k}] = {acc}",
        f"    {acc} *= {s}[{k}]",
        f"{acc} = 1.0",
        f"for {k} in range({N} - 1, -1, -1):",
        f"    {p}[{k}] *= {acc}",
        f"    {acc} *= {s}[{k}]",
        f"{ut} = np.ascontiguousarray({u}.T)",
        f"for {i} in range({N}):",  # row i: sum over k of sg vt[k, i] p[k] u[:, k]
        f"    for {j} in range({N}):",
        f"        {r}[{i}, {j}] = 0",
        f"    for {k} in range({N}):",
        f"        {acc} = {sg} * {vt}[{k}, {i}] * {p}[{k}]",
        f"        for {j} in range({N}):",
        f"            {r}[{i}, {j}] += {acc} * {ut}[{k}, {j}]",
    ]:
        ctx.emit(line)


adjugate_p = Primitive("adjugate", impl=_nan_for_nonfinite(_adjugate_impl),
                       shape_rule=_adjugate_rule)
vjp_rules[adjugate_p] = _adjugate_vjp
jvp_rules[adjugate_p] = _adjugate_jvp
batch_rules[adjugate_p] = _batch_leading(adjugate_p)
lowerings[adjugate_p] = _per_matrix(_nan_for_nonfinite_body(
    _identity_for_empty(_lower_adjugate)))


def adjugate(a):
    """adj(a), with a @ adj(a) = det(a) I: the transposed matrix of cofactors, the derivative
    ``d det(a) / da = adj(a).T``. From the SVD, exact at singular matrices too."""
    return adjugate_p.bind(a)


# --- cholesky: the symmetric part of a = L L^T ------------------------------------------


def _np_sym(a):
    a = np.asarray(a)
    return (a + np.swapaxes(a, -1, -2)) * a.dtype.type(0.5)


def _cholesky_rule(a):
    _check_matrix("cholesky", a, square=True)
    return ShapedArray(a.shape, a.dtype)


def _phi(x):
    """The lower triangle of x with its diagonal halved."""
    return _tril(x) - 0.5 * x * _eye(x.shape[-1], x.dtype)


def _cholesky_vjp(cts, inputs, outputs, active):
    """abar = sym(L^-T phi(L^T Lbar) L^-1) (Murray 2016), symmetric as the input it reads."""
    (g,), (L,) = cts, outputs
    middle = _phi(_mm(_mT(L), g))
    left = triangular_solve(L, middle, lower=True, transpose_a=True)    # L^-T middle
    both = _mT(triangular_solve(L, _mT(left), lower=True, transpose_a=True))  # ... L^-1
    return [_sym(both)]


def _cholesky_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    L = cholesky(a)
    if da is None:
        return [L], [None]
    x = triangular_solve(L, _sym(da), lower=True)      # L^-1 da
    x = triangular_solve(L, _mT(x), lower=True)        # L^-1 da L^-T
    return [L], [_mm(L, _phi(x))]


def _lower_cholesky(ctx, eqn, ins, outs):
    (a,), (L,) = ins, outs
    ctx.emit(f"{L}[:, :] = np.linalg.cholesky(({a} + {a}.T) * "
             f"{_half(ctx, eqn.inputs[0].aval.dtype)})")


cholesky_p = Primitive("cholesky",
                       impl=_nan_for_nonfinite(lambda a: np.linalg.cholesky(_np_sym(a))),
                       shape_rule=_cholesky_rule)
vjp_rules[cholesky_p] = _cholesky_vjp
jvp_rules[cholesky_p] = _cholesky_jvp
batch_rules[cholesky_p] = _batch_leading(cholesky_p)
lowerings[cholesky_p] = _per_matrix(_nan_for_nonfinite_body(_lower_cholesky))


def cholesky(a):
    """L, lower triangular, with L @ L^T the symmetric part of a."""
    return cholesky_p.bind(a)


# --- eigh: the symmetric part of a = v diag(w) v^T ---------------------------------------


def _eigh_rule(a):
    _check_matrix("eigh", a, square=True)
    return [ShapedArray(a.shape[:-1], a.dtype), ShapedArray(a.shape, a.dtype)]


def _eigh_vjp(cts, inputs, outputs, active):
    """abar = sym(v (diag(wbar) + F * (v^T vbar)) v^T), F[i, j] = 1 / (w_j - w_i)."""
    (gw, gv), (w, v) = [_nonzero(ct) for ct in cts], outputs
    inner = _diag_embed(gw) if gw is not None else _zeros_like(v)
    if gv is not None:
        inner = inner + _inverse_gaps(w) * _mm(_mT(v), gv)
    return [_sym(_mm(_mm(v, inner), _mT(v)))]


def _eigh_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    w, v = eigh(a)
    if da is None:
        return [w, v], [None, None]
    rotated = _mm(_mm(_mT(v), _sym(da)), v)
    return [w, v], [_diag_part(rotated), _mm(v, _inverse_gaps(w) * rotated)]


def _lower_eigh(ctx, eqn, ins, outs):
    (a,), (w, v) = ins, outs
    wt, vt = ctx.fresh("w"), ctx.fresh("v")
    ctx.emit(f"{wt}, {vt} = np.linalg.eigh(({a} + {a}.T) * "
             f"{_half(ctx, eqn.inputs[0].aval.dtype)})")
    ctx.emit(f"{w}[:] = {wt}")
    ctx.emit(f"{v}[:, :] = {vt}")


eigh_p = Primitive("eigh", impl=_nan_for_nonfinite(lambda a: tuple(np.linalg.eigh(_np_sym(a)))),
                   shape_rule=_eigh_rule, multiple_results=True)
vjp_rules[eigh_p] = _eigh_vjp
jvp_rules[eigh_p] = _eigh_jvp
batch_rules[eigh_p] = _batch_leading(eigh_p)
lowerings[eigh_p] = _per_matrix(_nan_for_nonfinite_body(_lower_eigh))


def eigh(a):
    """(w, v): eigenvalues ascending and eigenvectors (columns) of a's symmetric part."""
    return eigh_p.bind(a)


# --- svd: a = u diag(s) vt ---------------------------------------------------------------


def _svd_rule(a, *, full_matrices):
    _check_matrix("svd", a)
    *batch, m, n = a.shape
    k = min(m, n)
    batch = tuple(batch)
    u = batch + ((m, m) if full_matrices else (m, k))
    vt = batch + ((n, n) if full_matrices else (k, n))
    return [ShapedArray(u, a.dtype), ShapedArray(batch + (k,), a.dtype),
            ShapedArray(vt, a.dtype)]


def _svd_impl(a, *, full_matrices):
    a = np.asarray(a)
    return tuple(x.astype(a.dtype, copy=False)
                 for x in np.linalg.svd(a, full_matrices=full_matrices))


def _leading_columns(x, k):
    shape = tuple(x.shape)
    return slice_array(x, (0,) * len(shape), (1,) * len(shape), shape[:-1] + (k,))


def _check_svd_differentiable(a, full_matrices):
    m, n = a.shape[-2:]
    if full_matrices and m != n:
        raise FuncgradError("the derivative of svd with full_matrices=True is defined only for "
                            f"square matrices (the extra columns are arbitrary), not {m}x{n}; "
                            "use full_matrices=False")


def _svd_vjp(cts, inputs, outputs, active, *, full_matrices):
    """Townsend (2016), "Differentiating the singular value decomposition", reduced form."""
    (gu, gs, gvt), (a,), (u, s, vt) = [_nonzero(ct) for ct in cts], inputs, outputs
    m, n = a.shape[-2:]
    k = min(m, n)
    if full_matrices and m != n:
        if gu is not None or gvt is not None:
            _check_svd_differentiable(a, full_matrices)
        u, vt = _leading_columns(u, k), _mT(_leading_columns(_mT(vt), k))  # s alone: defined
    v = _mT(vt)
    inner = _diag_embed(gs) if gs is not None else _zeros_like(_mm(_mT(u), u))
    extra = None
    F = _inverse_gaps(s * s) if gu is not None or gvt is not None else None
    if gu is not None:
        utg = _mm(_mT(u), gu)
        J = F * utg
        inner = inner + (J + _mT(J)) * _row(s)
        if m > k:  # (I - u u^T) gu s^-1 vt
            extra = _mm((gu - _mm(u, utg)) * _row(1.0 / s), vt)
    if gvt is not None:
        gv = _mT(gvt)
        vtg = _mm(vt, gv)
        K = F * vtg
        inner = inner + _column(s) * (K + _mT(K))
        if n > k:  # u s^-1 gv^T (I - v v^T)
            term = _mm(u, _column(1.0 / s) * _mT(gv - _mm(v, vtg)))
            extra = term if extra is None else extra + term
    ga = _mm(_mm(u, inner), vt)
    return [ga if extra is None else ga + extra]


def _svd_jvp(primals, tangents, *, full_matrices):
    (a,), (da,) = primals, tangents
    u, s, vt = svd(a, full_matrices=full_matrices)
    if da is None:
        return [u, s, vt], [None, None, None]
    _check_svd_differentiable(a, full_matrices)
    m, n = a.shape[-2:]
    k = min(m, n)
    v = _mT(vt)
    dp = _mm(_mm(_mT(u), da), v)
    F = _inverse_gaps(s * s)
    du = _mm(u, F * (dp * _row(s) + _column(s) * _mT(dp)))
    dv = _mm(v, F * (_column(s) * dp + _mT(dp) * _row(s)))
    if m > k:
        du = du + (_mm(da, v) - _mm(u, dp)) * _row(1.0 / s)
    if n > k:
        dv = dv + (_mm(_mT(da), u) - _mm(v, _mT(dp))) * _row(1.0 / s)
    return [u, s, vt], [du, _diag_part(dp), _mT(dv)]


def _lower_svd(ctx, eqn, ins, outs):
    (a,), (u, s, vt) = ins, outs
    names = [ctx.fresh(x) for x in ("u", "s", "vt")]
    full = "True" if eqn.params["full_matrices"] else "False"
    ctx.emit(f"{', '.join(names)} = np.linalg.svd({a}, {full})")
    ctx.emit(f"{u}[:, :] = {names[0]}")
    ctx.emit(f"{s}[:] = {names[1]}")
    ctx.emit(f"{vt}[:, :] = {names[2]}")


svd_p = Primitive("svd", impl=_nan_for_nonfinite(_svd_impl), shape_rule=_svd_rule,
                  multiple_results=True)
vjp_rules[svd_p] = _svd_vjp
jvp_rules[svd_p] = _svd_jvp
batch_rules[svd_p] = _batch_leading(svd_p)
lowerings[svd_p] = _per_matrix(_nan_for_nonfinite_body(
    _identity_for_empty(_lower_svd)))


def svd(a, *, full_matrices=False):
    """(u, s, vt) with a = u diag(s) vt, s descending."""
    return svd_p.bind(a, full_matrices=bool(full_matrices))


# --- qr: a = q r -------------------------------------------------------------------------


def _qr_rule(a, *, full_matrices):
    _check_matrix("qr", a)
    *batch, m, n = a.shape
    k = m if full_matrices else min(m, n)
    batch = tuple(batch)
    return [ShapedArray(batch + (m, k), a.dtype), ShapedArray(batch + (k, n), a.dtype)]


def _qr_impl(a, *, full_matrices):
    a = np.asarray(a)
    q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)


def _check_qr_differentiable(a, full_matrices):
    m, n = a.shape[-2:]
    if full_matrices and m > n:
        raise FuncgradError(f"the derivative of qr with mode='complete' is defined here only "
                            f"for m <= n (the extra columns of q are arbitrary), not {m}x{n}; "
                            "use mode='reduced'")


def _copyltu(x):
    """The symmetric matrix with x's lower triangle."""
    return _tril(x) + _mT(_tril(x, -1))


def _split_columns(x, k):
    """x[..., :k] and x[..., k:]."""
    shape = tuple(x.shape)
    ones, zeros = (1,) * len(shape), (0,) * len(shape)
    return (slice_array(x, zeros, ones, shape[:-1] + (k,)),
            slice_array(x, zeros[:-1] + (k,), ones, shape[:-1] + (shape[-1] - k,)))


def _qr_vjp(cts, inputs, outputs, active, *, full_matrices):
    """abar = (qbar + q copyltu(M)) r^-T, M = r rbar^T - qbar^T q (m >= n; Liao et al.). A
    wide a = [a1 a2] (m < n) is the square a1 = q r1 and r2 = q^T a2, as JAX's rule."""
    (gq, gr), (a,), (q, r) = [_nonzero(ct) for ct in cts], inputs, outputs
    _check_qr_differentiable(a, full_matrices)
    m, n = a.shape[-2:]
    if m >= n:
        return [_qr_square_vjp(gq, gr, q, r)]
    a2 = _split_columns(a, m)[1]
    r1 = _split_columns(r, m)[0]
    gr1, gr2 = _split_columns(gr, m) if gr is not None else (None, None)
    if gr2 is not None:  # r2 = q^T a2: q gets a2 r2bar^T, a2 gets q r2bar
        gq = _mm(a2, _mT(gr2)) if gq is None else gq + _mm(a2, _mT(gr2))
    g1 = _qr_square_vjp(gq, gr1, q, r1)
    g2 = _mm(q, gr2) if gr2 is not None else _zeros_like(a2)
    return [concatenate([g1, g2], len(a.shape) - 1)]


def _qr_square_vjp(gq, gr, q, r):
    M = _mm(r, _mT(gr)) if gr is not None else _zeros_like(_mm(r, _mT(r)))
    if gq is not None:
        M = M - _mm(_mT(gq), q)
    b = _mm(q, _copyltu(M))
    if gq is not None:
        b = b + gq
    return _mT(triangular_solve(r, _mT(b), lower=False))


def _qr_jvp(primals, tangents, *, full_matrices):
    (a,), (da,) = primals, tangents
    q, r = qr(a, full_matrices=full_matrices)
    if da is None:
        return [q, r], [None, None]
    _check_qr_differentiable(a, full_matrices)
    m, n = a.shape[-2:]
    if m >= n:
        return [q, r], list(_qr_square_jvp(q, r, da))
    (da1, da2), a2 = _split_columns(da, m), _split_columns(a, m)[1]
    dq, dr1 = _qr_square_jvp(q, _split_columns(r, m)[0], da1)
    dr2 = _mm(_mT(dq), a2) + _mm(_mT(q), da2)       # r2 = q^T a2
    return [q, r], [dq, concatenate([dr1, dr2], len(a.shape) - 1)]


def _qr_square_jvp(q, r, da):
    y = _mT(triangular_solve(r, _mT(da), lower=False, transpose_a=True))  # da r^-1
    c = _mm(_mT(q), y)
    omega = _tril(c, -1) - _mT(_tril(c, -1))
    return y - _mm(q, c) + _mm(q, omega), _mm(c - omega, r)


def _lower_qr(ctx, eqn, ins, outs):
    (a,), (q, r) = ins, outs
    m, n = eqn.inputs[0].aval.shape[-2:]
    if eqn.params["full_matrices"] and m > n:
        raise LoweringError("qr with mode='complete' of a tall matrix cannot be compiled: "
                            "Numba's np.linalg.qr has only the reduced mode; run it under "
                            "fg.disable_jit(), or use mode='reduced'")
    qt, rt = ctx.fresh("q"), ctx.fresh("r")
    ctx.emit(f"{qt}, {rt} = np.linalg.qr({a})")
    ctx.emit(f"{q}[:, :] = {qt}")
    ctx.emit(f"{r}[:, :] = {rt}")


qr_p = Primitive("qr", impl=_nan_for_nonfinite(_qr_impl), shape_rule=_qr_rule,
                 multiple_results=True)
vjp_rules[qr_p] = _qr_vjp
jvp_rules[qr_p] = _qr_jvp
batch_rules[qr_p] = _batch_leading(qr_p)
lowerings[qr_p] = _per_matrix(_nan_for_nonfinite_body(
    _identity_for_empty(_lower_qr)))


def qr(a, *, full_matrices=False):
    """(q, r) with a = q r, q orthonormal columns, r upper triangular."""
    return qr_p.bind(a, full_matrices=bool(full_matrices))



# --- qr_pivots: the column order of QR with column pivoting (LAPACK geqp3) --------------
#
# Only the order is a primitive: pivoted QR is the plain QR of a[..., perm], so Q and R get
# qr's derivatives with the order held fixed (as JAX's), and the order itself, an integer
# choice, has none.


def _qr_pivots_rule(a):
    _check_matrix("qr_pivots", a)
    return ShapedArray(a.shape[:-2] + (a.shape[-1],), np.dtype(np.int32))


def _qr_pivots_impl(a):
    from scipy.linalg import qr as scipy_qr

    def one(a2):
        return (scipy_qr(a2, mode="r", pivoting=True, check_finite=False)[1],)
    return _per_matrix_impl(one, a, out_dtypes=[np.int32])[0]


def _lower_qr_pivots(ctx, eqn, ins, outs):
    """Householder QR of a copy, choosing at step j the remaining column whose part from row
    j down has the largest norm (the first of equal ones, as LAPACK's idamax). geqp3 updates
    those norms instead of recomputing them, so the two can differ at near-ties only."""
    (a,), (perm,) = ins, outs
    dtype = eqn.inputs[0].aval.dtype
    m, n = (ctx.dim(d) for d in eqn.inputs[0].aval.shape[-2:])
    w, j, c, r, p, best, acc, t, alpha, beta, tau = (ctx.fresh(x) for x in (
        "w", "j", "c", "r", "p", "best", "acc", "t", "alpha", "beta", "tau"))
    for line in [
        f"{w} = fgm.empty(({m}, {n}), {ctx.dtype(dtype)})",
        f"{w}[:, :] = {a}",
        f"for {c} in range({n}):",
        f"    {perm}[{c}] = {c}",
        f"for {j} in range(min({m}, {n})):",
        f"    {p} = {j}",
        f"    {best} = -1.0",
        f"    for {c} in range({j}, {n}):",
        f"        {acc} = 0.0",
        f"        for {r} in range({j}, {m}):",
        f"            {acc} += {w}[{r}, {c}] * {w}[{r}, {c}]",
        f"        if {acc} > {best}:",
        f"            {best} = {acc}",
        f"            {p} = {c}",
        f"    if {p} != {j}:",
        f"        {t} = {perm}[{j}]",
        f"        {perm}[{j}] = {perm}[{p}]",
        f"        {perm}[{p}] = {t}",
        f"        for {r} in range({m}):",
        f"            {acc} = {w}[{r}, {j}]",
        f"            {w}[{r}, {j}] = {w}[{r}, {p}]",
        f"            {w}[{r}, {p}] = {acc}",
        # the reflection H = I - tau v v^T with v = (1, w[j+1:, j] / (alpha - beta))
        f"    {alpha} = {w}[{j}, {j}]",
        f"    {acc} = 0.0",
        f"    for {r} in range({j} + 1, {m}):",
        f"        {acc} += {w}[{r}, {j}] * {w}[{r}, {j}]",
        f"    if {acc} == 0:",  # nothing below the diagonal: H = I, as LAPACK's dlarfg
        "        continue",
        f"    {beta} = -np.copysign(np.sqrt({alpha} * {alpha} + {acc}), {alpha})",
        f"    {tau} = ({beta} - {alpha}) / {beta}",
        f"    for {r} in range({j} + 1, {m}):",
        f"        {w}[{r}, {j}] /= {alpha} - {beta}",
        f"    for {c} in range({j} + 1, {n}):",
        f"        {acc} = {w}[{j}, {c}]",
        f"        for {r} in range({j} + 1, {m}):",
        f"            {acc} += {w}[{r}, {j}] * {w}[{r}, {c}]",
        f"        {acc} *= {tau}",
        f"        {w}[{j}, {c}] -= {acc}",
        f"        for {r} in range({j} + 1, {m}):",
        f"            {w}[{r}, {c}] -= {acc} * {w}[{r}, {j}]",
    ]:
        ctx.emit(line)


qr_pivots_p = Primitive("qr_pivots", impl=_nan_for_nonfinite(_qr_pivots_impl),
                        shape_rule=_qr_pivots_rule)
zero_derivative(qr_pivots_p)
batch_rules[qr_pivots_p] = _batch_leading(qr_pivots_p)
lowerings[qr_pivots_p] = _per_matrix(_nan_for_nonfinite_body(_lower_qr_pivots))


def qr_pivots(a):
    """perm (..., n), int32: the column order LAPACK's QR with column pivoting (geqp3)
    chooses for a (..., m, n), so that ``a[..., perm] = q r`` with |r|'s diagonal
    non-increasing. A matrix with a NaN or inf keeps its order."""
    return qr_pivots_p.bind(a)

from funcgrad.ops.elementwise import convert_element_type, stop_gradient, where  # noqa: E402
from funcgrad.ops.linalg import dot_general  # noqa: E402
from funcgrad.ops.reductions import exclusive_cumprod, reduce_sum  # noqa: E402
from funcgrad.ops.shape import (broadcast_to, concatenate, iota, pad,  # noqa: E402
                                reshape, slice_array, transpose)
