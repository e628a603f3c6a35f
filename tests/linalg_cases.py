"""Hypothesis cases for the decomposition primitives (funcgrad.ops.decompositions), in the
form of test_vjp_rules.CASES: ``case(dtype)`` draws ``(fn, args)`` or ``(fn, args, options)``.

The matrices are built to be well conditioned where the derivative needs it, so a finite
difference step never crosses a pivot change or an eigenvalue crossing: diagonally dominant
matrices for the solves and LU (rows permuted, so pivoting has work to do), spectra with
gaps for eigh and svd, and full column rank for qr. Functions of eigen- and singular vectors
read them only through sign-invariant expressions (squares).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import funcgrad.numpy as fnp
import funcgrad.scipy.linalg as fsl
from funcgrad.testing import strategies as fst

L = fnp.linalg


def _values(draw, shape):
    """Values in [-1, 1]."""
    return draw(fst.in_domain(None, np.float64, shape)) / 4.0


def _side(draw, low=1):
    return draw(st.integers(low, 3))


def _dominant(draw, n, batch=()):
    """A diagonally dominant matrix: solves and LU need no pivoting to be stable."""
    return _values(draw, batch + (n, n)) + 4.0 * np.eye(n)


def _orthogonal(draw, n):
    q, r = np.linalg.qr(_values(draw, (n, n)) + 2.0 * np.eye(n))
    return q * np.sign(np.diag(r))


def _spectrum(draw, k, low=0.5):
    """k distinct values, at least 0.5 apart."""
    picks = draw(st.lists(st.integers(1, 8), min_size=k, max_size=k, unique=True))
    return low + 0.5 * np.array(sorted(picks, reverse=True), np.float64)


@st.composite
def solve_case(draw, dtype):
    n, k = _side(draw), _side(draw)
    kind = draw(st.sampled_from(["matrix", "vector", "batched", "inv"]))
    if kind == "vector":
        args = (_dominant(draw, n), _values(draw, (n,)))
    elif kind == "batched":  # batch axes broadcast: (2, 1, n, n) with (3, n, k)
        args = (_dominant(draw, n, (2, 1)), _values(draw, (3, n, k)))
    elif kind == "inv":
        return L.inv, (_dominant(draw, n).astype(dtype),)
    else:
        args = (_dominant(draw, n), _values(draw, (n, k)))
    return L.solve, tuple(a.astype(dtype) for a in args)


@st.composite
def triangular_solve_case(draw, dtype):
    n, k = _side(draw), _side(draw)
    lower, unit = draw(st.booleans()), draw(st.booleans())
    trans = draw(st.sampled_from([0, 1]))
    b_shape = draw(st.sampled_from([(n,), (n, k), (2, n, k)]))

    def fn(a, b):
        return fsl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    return fn, (_dominant(draw, n).astype(dtype), _values(draw, b_shape).astype(dtype))


@st.composite
def lu_case(draw, dtype):
    n = _side(draw)
    rows = draw(st.permutations(range(n)))
    a = (_dominant(draw, n, (draw(st.sampled_from([(), (2,)])))))[..., rows, :]
    kind = draw(st.sampled_from(["lu", "det", "slogdet", "lu_solve"]))
    if kind == "lu":
        return (lambda a: fsl.lu_factor(a)[0]), (a.astype(dtype),)
    if kind == "det":
        return L.det, (a.astype(dtype),)
    if kind == "slogdet":
        return (lambda a: L.slogdet(a).logabsdet), (a.astype(dtype),)
    trans = draw(st.sampled_from([0, 1]))
    b = _values(draw, a.shape[:-1])
    return ((lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b[..., None], trans=trans)),
            (a.astype(dtype), b.astype(dtype)))


def _positive_definite(draw, n, batch=()):
    m = _values(draw, batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + np.eye(n)


@st.composite
def cholesky_case(draw, dtype):
    n = _side(draw)
    batch = draw(st.sampled_from([(), (2,)]))
    a = _positive_definite(draw, n, batch).astype(dtype)
    kind = draw(st.sampled_from(["cholesky", "upper", "cho_solve"]))
    if kind == "cholesky":
        return L.cholesky, (a,)
    if kind == "upper":
        return (lambda a: fsl.cholesky(a)), (a,)
    b = _values(draw, batch + (n, 2)).astype(dtype)
    lower = draw(st.booleans())
    return (lambda a, b: fsl.cho_solve(fsl.cho_factor(a, lower=lower), b)), (a, b)


@st.composite
def eigh_case(draw, dtype):
    n = _side(draw)
    q = _orthogonal(draw, n)
    a = (q * _spectrum(draw, n, low=-2.0)) @ q.T
    weights = _values(draw, (n, n)).astype(dtype)
    kind = draw(st.sampled_from(["values", "vectors"]))
    if kind == "values":
        return L.eigvalsh, (a.astype(dtype),)
    return (lambda a: L.eigh(a).eigenvectors ** 2 * weights), (a.astype(dtype),)


@st.composite
def svd_case(draw, dtype):
    m, n = _side(draw), _side(draw)
    k = min(m, n)
    u, v = _orthogonal(draw, m)[:, :k], _orthogonal(draw, n)[:, :k]
    a = ((u * _spectrum(draw, k)) @ v.T).astype(dtype)
    kind = draw(st.sampled_from(["vectors", "values", "pinv", "nuclear"]))
    if kind == "values":
        return L.svdvals, (a,)
    if kind == "pinv":
        return L.pinv, (a,)
    if kind == "nuclear":
        return (lambda a: L.norm(a, "nuc")), (a,)
    wu, wv = _values(draw, (m, k)).astype(dtype), _values(draw, (k, n)).astype(dtype)

    def vectors(a):
        U, S, Vh = L.svd(a, full_matrices=False)
        return U ** 2 * wu, S, Vh ** 2 * wv
    return vectors, (a,)


@st.composite
def qr_case(draw, dtype):
    n = _side(draw)
    m = draw(st.integers(n, 3))
    # no zero below the diagonal: there LAPACK's Householder QR flips signs discontinuously
    # (a column already zero needs no reflection; any other gets one, negating r's diagonal)
    a = (draw(fst.nonzero(np.float64, (m, n))) / 4.0 + 4.0 * np.eye(m, n)).astype(dtype)
    return (lambda a: tuple(L.qr(a))), (a,)


LINALG_CASES = {
    "solve": solve_case,
    "triangular_solve": triangular_solve_case,
    "lu": lu_case,
    "cholesky": cholesky_case,
    "eigh": eigh_case,
    "svd": svd_case,
    "qr": qr_case,
}
