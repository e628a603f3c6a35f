"""Hypothesis cases for the decomposition primitives (funcgrad.ops.decompositions), in the
form of test_vjp_rules.CASES: ``case(dtype)`` draws ``(fn, args)`` or ``(fn, args, options)``.

The matrices are built to be well conditioned where the derivative needs it, so a finite
difference step never crosses a pivot change or an eigenvalue crossing: diagonally dominant
matrices for the solves and LU (rows permuted, so pivoting has work to do), spectra with
gaps for eigh and svd, full rank for qr, column norms apart for qr's pivoting. Functions of
eigen- and singular vectors read them only through sign-invariant expressions (squares).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import funcgrad.numpy as fnp
import funcgrad.scipy.linalg as fsl
from funcgrad.ops import decompositions as dec
from funcgrad.testing import strategies as fst

L = fnp.linalg


def _values(draw, shape, scale=0.25):
    """Values in [-4 scale, 4 scale]."""
    return draw(fst.in_domain(None, np.float64, shape)) * scale


def _side(draw, low=1):
    return draw(st.integers(low, 3))


def _dominant(a):
    """a (entries in [-1, 1], at most 3 columns) plus 4 I: strictly diagonally dominant, so
    every permutation of a's entries (as vmap's checks draw) stays well conditioned."""
    return a + 4.0 * np.eye(a.shape[-1], dtype=a.dtype)


def _orthogonal(draw, n):
    q, r = np.linalg.qr(_values(draw, (n, n)) + 2.0 * np.eye(n))
    return q * np.sign(np.diag(r))


def _spectrum(draw, k, low=0.5):
    """k distinct values, at least 0.5 apart, descending."""
    picks = draw(st.lists(st.integers(1, 8), min_size=k, max_size=k, unique=True))
    return low + 0.5 * np.array(sorted(picks, reverse=True), np.float64)


# Each case's function builds the structure its primitive needs from unconstrained arguments
# (a + 4 I, m m^T + I, base + small a), so that the arguments' entries can be permuted (as
# the batching checks do) without leaving the primitive's domain.


@st.composite
def solve_case(draw, dtype):
    n, k = _side(draw), _side(draw)
    kind = draw(st.sampled_from(["matrix", "vector", "batched", "inv"]))
    if kind == "inv":
        return (lambda a: L.inv(_dominant(a))), (_values(draw, (n, n)).astype(dtype),)
    a_shape, b_shape = {"matrix": ((n, n), (n, k)), "vector": ((n, n), (n,)),
                        # batch axes broadcast: (2, 1, n, n) with (3, n, k)
                        "batched": ((2, 1, n, n), (3, n, k))}[kind]
    args = (_values(draw, a_shape).astype(dtype), _values(draw, b_shape).astype(dtype))
    return (lambda a, b: L.solve(_dominant(a), b)), args


@st.composite
def triangular_solve_case(draw, dtype):
    n, k = _side(draw), _side(draw)
    lower, unit = draw(st.booleans()), draw(st.booleans())
    trans = draw(st.sampled_from([0, 1]))
    b_shape = draw(st.sampled_from([(n,), (n, k), (2, n, k)]))

    def fn(a, b):
        return fsl.solve_triangular(_dominant(a), b, trans=trans, lower=lower,
                                    unit_diagonal=unit)
    return fn, (_values(draw, (n, n)).astype(dtype), _values(draw, b_shape).astype(dtype))


def _dominant_rectangle(a):
    """a (entries in [-1, 1], at most 3 rows or columns) plus 4 on its main diagonal: every
    leading square block strictly diagonally dominant, so partial pivoting keeps the diagonal
    (then the rows are permuted) and no step of LU comes near a zero pivot."""
    return a + 4.0 * np.eye(*a.shape[-2:], dtype=a.dtype)


@st.composite
def lu_case(draw, dtype):
    n = _side(draw)
    kind = draw(st.sampled_from(["lu", "rectangular", "det", "slogdet", "lu_solve"]))
    m = _side(draw) if kind == "rectangular" else n
    rows = list(draw(st.permutations(range(m))))  # so that pivoting has rows to swap
    a = _values(draw, draw(st.sampled_from([(), (2,)])) + (m, n)).astype(dtype)

    def matrix(a):
        return _dominant_rectangle(a)[..., rows, :]
    if kind in ("lu", "rectangular"):
        return (lambda a: fsl.lu_factor(matrix(a))[0]), (a,)
    if kind == "det":
        return (lambda a: L.det(matrix(a))), (a,)
    if kind == "slogdet":
        return (lambda a: L.slogdet(matrix(a)).logabsdet), (a,)
    trans = draw(st.sampled_from([0, 1]))
    b = _values(draw, a.shape[:-1]).astype(dtype)
    return ((lambda a, b: fsl.lu_solve(fsl.lu_factor(matrix(a)), b[..., None], trans=trans)),
            (a, b))


@st.composite
def det_case(draw, dtype):
    """det is a polynomial, differentiable twice (its VJP's VJP is adjugate's) at any matrix:
    a dominant one, one of rank r < n (a product through an r-dimensional space), or the
    zero matrix, batched or not (n = 0 is in tests/test_linalg.py: vmap's checks permute
    the entries of the arguments, and an empty one has none)."""
    n = _side(draw)
    batch = draw(st.sampled_from([(), (2,)]))
    # (not "rank" in float32: along most directions det stays 0 there, and float32's finite
    # differences see the rounding of a 0 determinant, 1e-6 of the entries' products, / step)
    low_rank = n > 1 and dtype == np.float64
    kind = draw(st.sampled_from(["dominant", "zero"] + ["rank"] * low_rank))
    if kind == "dominant":
        return (lambda a: L.det(_dominant(a))), (_values(draw, batch + (n, n)).astype(dtype),)
    if kind == "zero":
        return (lambda a: L.det(a * 0)), (_values(draw, batch + (n, n)).astype(dtype),)
    r = draw(st.integers(1, n - 1))
    left = _values(draw, batch + (n, r), scale=1.0).astype(dtype)
    right = _values(draw, batch + (r, n), scale=1.0).astype(dtype)
    return (lambda x, y: L.det(x @ y)), (left, right)


@st.composite
def adjugate_case(draw, dtype):
    """base + a, as svd_case: singular values 0.5 apart (adjugate's second derivative goes
    through svd's), one of them 0 or not."""
    n = _side(draw)
    u, v = _orthogonal(draw, n), _orthogonal(draw, n)
    spectrum = _spectrum(draw, n)
    if draw(st.booleans()):
        spectrum[-1] = 0.0
    base = ((u * spectrum) @ v.T).astype(dtype)
    a = _values(draw, (n, n), scale=0.0125).astype(dtype)
    return (lambda a: dec.adjugate(base + a)), (a,)


def _joined(*arrays):
    """Several results as one flat array (the batching checks weight a single output)."""
    return fnp.concatenate([fnp.ravel(x) for x in arrays])


def _positive_definite(m):
    return m @ np.swapaxes(m, -1, -2) + np.eye(m.shape[-1], dtype=m.dtype)


@st.composite
def cholesky_case(draw, dtype):
    n = _side(draw)
    batch = draw(st.sampled_from([(), (2,)]))
    m = _values(draw, batch + (n, n)).astype(dtype)
    kind = draw(st.sampled_from(["cholesky", "upper", "cho_solve"]))
    if kind == "cholesky":
        return (lambda m: L.cholesky(_positive_definite(m))), (m,)
    if kind == "upper":
        return (lambda m: fsl.cholesky(_positive_definite(m))), (m,)
    b = _values(draw, batch + (n, 2)).astype(dtype)
    lower = draw(st.booleans())
    return ((lambda m, b: fsl.cho_solve(fsl.cho_factor(_positive_definite(m), lower=lower), b)),
            (m, b))


@st.composite
def eigh_case(draw, dtype):
    """base + a: base has eigenvalues 0.5 apart and a is too small (entries up to 0.05) to
    close the gaps."""
    n = _side(draw)
    q = _orthogonal(draw, n)
    base = ((q * _spectrum(draw, n, low=-2.0)) @ q.T).astype(dtype)
    a = _values(draw, (n, n), scale=0.0125).astype(dtype)
    weights = _values(draw, (n, n)).astype(dtype)
    if draw(st.sampled_from(["values", "vectors"])) == "values":
        return (lambda a: L.eigvalsh(base + a)), (a,)
    return (lambda a: L.eigh(base + a).eigenvectors ** 2 * weights), (a,)


@st.composite
def svd_case(draw, dtype):
    """base + a, as eigh_case: singular values 0.5 apart, at least 0.5."""
    m, n = _side(draw), _side(draw)
    k = min(m, n)
    u, v = _orthogonal(draw, m)[:, :k], _orthogonal(draw, n)[:, :k]
    base = ((u * _spectrum(draw, k)) @ v.T).astype(dtype)
    a = _values(draw, (m, n), scale=0.0125).astype(dtype)
    kind = draw(st.sampled_from(["vectors", "values", "pinv", "nuclear"]))
    if kind == "values":
        return (lambda a: L.svdvals(base + a)), (a,)
    if kind == "pinv":
        return (lambda a: L.pinv(base + a)), (a,)
    if kind == "nuclear":
        return (lambda a: L.norm(base + a, "nuc")), (a,)
    wu, wv = _values(draw, (m, k)).astype(dtype), _values(draw, (k, n)).astype(dtype)

    def vectors(a):
        U, S, Vh = L.svd(base + a, full_matrices=False)
        return _joined(U ** 2 * wu, S, Vh ** 2 * wv)
    return vectors, (a,)


@st.composite
def qr_case(draw, dtype):
    n = _side(draw)
    m = draw(st.integers(n, 3))
    if draw(st.booleans()):  # wide: q r1 = a1 square, r2 = q^T a2 (JAX's rule)
        m, n = n, m
    # no zero below the diagonal: there LAPACK's Householder QR flips signs discontinuously
    # (a column already zero needs no reflection; any other gets one, negating r's diagonal)
    a = (draw(fst.nonzero(np.float64, (m, n))) / 4.0).astype(dtype)
    eye = np.eye(m, n, dtype=dtype)
    return (lambda a: _joined(*L.qr(a + 4.0 * eye))), (a,)


@st.composite
def pivots_case(draw, dtype):
    """LAPACK's row swaps: pivots[i] >= i."""
    batch = draw(st.sampled_from([(), (2,)]))
    n = _side(draw)
    size = int(np.prod(batch, dtype=np.int64)) * n
    picks = draw(st.lists(st.integers(0, n - 1), min_size=size, max_size=size))
    pivots = np.maximum(np.array(picks, np.int32).reshape(batch + (n,)), np.arange(n))
    return dec.pivots_to_permutation, (pivots.astype(np.int32),)


@st.composite
def qr_pivots_case(draw, dtype):
    """base + small a: base's columns are orthogonal with norms 1 apart, in a drawn order
    (zero beyond the m-th of a wide one), so the norms geqp3 compares stay apart at each step:
    no near-tie can make LAPACK's choice and the compiled one (which recomputes the norms
    LAPACK updates) differ."""
    m, n = _side(draw), _side(draw)
    batch = draw(st.sampled_from([(), (2,)]))
    q = _orthogonal(draw, m)
    order = draw(st.permutations(range(n)))
    base = np.zeros((m, n))
    for column, rank in enumerate(order):
        if rank < m:
            base[:, column] = q[:, rank] * (1.0 + rank)
    a = _values(draw, batch + (m, n), scale=0.01).astype(dtype)
    return (lambda a: dec.qr_pivots(base.astype(dtype) + a)), (a,)


LINALG_CASES = {
    "solve": solve_case,
    "triangular_solve": triangular_solve_case,
    "lu": lu_case,
    "det": det_case,
    "adjugate": adjugate_case,
    "cholesky": cholesky_case,
    "eigh": eigh_case,
    "svd": svd_case,
    "qr": qr_case,
}
LINALG_VALUE_CASES = {"pivots_to_permutation": pivots_case, "qr_pivots": qr_pivots_case}
