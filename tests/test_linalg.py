"""funcgrad.numpy.linalg and funcgrad.scipy.linalg against NumPy and SciPy: values (float64
and float32, batched), derivatives of the composed functions against finite differences,
compiled against uncompiled, the conventions where a derivative is ill-defined, and errors.

The primitives' own rules (VJP, JVP, batching, lowering) are checked over drawn inputs by
tests/test_conformance.py with the cases in tests/linalg_cases.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.linalg as fsl
from funcgrad.core.errors import FuncgradError, FuncgradTypeError, LoweringError, ShapeError
from funcgrad.testing import check_grads

L = fnp.linalg
RNG = np.random.default_rng(42)
A = RNG.normal(size=(3, 3)) + 2.0 * np.eye(3)  # well conditioned
SPD = A @ A.T + 3 * np.eye(3)
B = RNG.normal(size=(3, 2))
TALL = RNG.normal(size=(4, 3))
WIDE = RNG.normal(size=(2, 4))
STACK = RNG.normal(size=(2, 3, 3)) + 3 * np.eye(3)


def _close(got, want, dtype=np.float64):
    tol = 1e-4 if dtype == np.float32 else 1e-10
    got_leaves, want_leaves = fg.tree.leaves(got), fg.tree.leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert np.shape(g) == np.shape(w)
        if np.asarray(w).dtype.kind == "f":
            assert np.asarray(g).dtype == np.asarray(w).dtype, (np.asarray(g).dtype, w.dtype)
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64),
                                   rtol=tol, atol=tol)


def _abs_vectors(result):
    """A decomposition's result with its vectors' signs dropped (LAPACK's choice)."""
    return [np.abs(x) for x in result]


# (name, funcgrad function, NumPy/SciPy function, arguments): values must agree
VALUE_CASES = [
    ("solve", L.solve, np.linalg.solve, (A, B)),
    ("solve_vector", L.solve, np.linalg.solve, (A, B[:, 0])),
    ("solve_batched_vector", L.solve, np.linalg.solve, (STACK, B[:, 0])),
    ("solve_broadcast", L.solve, np.linalg.solve, (STACK[:, None], RNG.normal(size=(4, 3, 2)))),
    ("inv", L.inv, np.linalg.inv, (STACK,)),
    ("det", L.det, np.linalg.det, (STACK,)),
    ("det_permuted", L.det, np.linalg.det, (A[[2, 0, 1]],)),
    ("slogdet", L.slogdet, np.linalg.slogdet, (A,)),
    ("slogdet_batched", L.slogdet, np.linalg.slogdet, (STACK,)),
    ("cholesky", L.cholesky, np.linalg.cholesky, (SPD,)),
    ("cholesky_upper", lambda a: L.cholesky(a, upper=True),
     lambda a: np.linalg.cholesky(a, upper=True), (SPD,)),
    ("eigvalsh", L.eigvalsh, np.linalg.eigvalsh, (SPD,)),
    ("eigh", lambda a: _abs_vectors(L.eigh(a)), lambda a: _abs_vectors(np.linalg.eigh(a)),
     (np.stack([SPD, SPD + np.diag([1.0, 2.0, 3.0])]),)),
    ("svd_full", lambda a: _abs_vectors(L.svd(a)), lambda a: _abs_vectors(np.linalg.svd(a)),
     (TALL,)),
    ("svd_reduced", lambda a: _abs_vectors(L.svd(a, full_matrices=False)),
     lambda a: _abs_vectors(np.linalg.svd(a, full_matrices=False)), (WIDE,)),
    ("svdvals", L.svdvals, np.linalg.svdvals, (TALL,)),
    ("qr", lambda a: _abs_vectors(L.qr(a)), lambda a: _abs_vectors(np.linalg.qr(a)), (TALL,)),
    ("qr_complete", lambda a: _abs_vectors(L.qr(a, "complete")),
     lambda a: _abs_vectors(np.linalg.qr(a, "complete")), (TALL,)),
    ("qr_r", lambda a: np.abs(L.qr(a, "r")), lambda a: np.abs(np.linalg.qr(a, "r")), (WIDE,)),
    ("pinv", L.pinv, np.linalg.pinv, (TALL,)),
    ("pinv_rank_deficient", L.pinv, np.linalg.pinv, (np.outer([1.0, 2.0], [1.0, 0.0, 1.0]),)),
    ("lstsq", L.lstsq, np.linalg.lstsq, (TALL, RNG.normal(size=(4, 2)))),
    ("lstsq_deficient", L.lstsq, np.linalg.lstsq, (np.ones((3, 2)), np.arange(3.0))),
    ("matrix_rank", L.matrix_rank, np.linalg.matrix_rank, (np.outer([1.0, 2.0], [1.0, 1.0]),)),
    ("cond", L.cond, np.linalg.cond, (A,)),
    ("cond_1", lambda a: L.cond(a, 1), lambda a: np.linalg.cond(a, 1), (A,)),
    ("matrix_power_3", lambda a: L.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3),
     (A,)),
    ("matrix_power_0", lambda a: L.matrix_power(a, 0), lambda a: np.linalg.matrix_power(a, 0),
     (STACK,)),
    ("matrix_power_-2", lambda a: L.matrix_power(a, -2),
     lambda a: np.linalg.matrix_power(a, -2), (A,)),
    ("multi_dot", lambda *xs: L.multi_dot(xs), lambda *xs: np.linalg.multi_dot(xs),
     (RNG.normal(size=4), TALL, A, RNG.normal(size=(3, 5)), RNG.normal(size=5))),
    ("trace", L.trace, np.linalg.trace, (STACK,)),
    ("diagonal", lambda x: L.diagonal(x, offset=1), lambda x: np.linalg.diagonal(x, offset=1),
     (STACK,)),
    ("outer", L.outer, np.linalg.outer, (B[:, 0], B[:, 1])),
    ("cross", L.cross, np.linalg.cross, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
    ("cross_axis0", lambda a, b: L.cross(a, b, axis=0),
     lambda a, b: np.linalg.cross(a, b, axis=0), (RNG.normal(size=(3, 2)),
                                                  RNG.normal(size=(3, 2)))),
    ("vecdot", L.vecdot, np.linalg.vecdot, (B.T, B[:, 0])),
    ("matrix_transpose", L.matrix_transpose, np.linalg.matrix_transpose, (STACK,)),
    ("tensorsolve", L.tensorsolve, np.linalg.tensorsolve,
     (RNG.normal(size=(6, 2, 3)), RNG.normal(size=6))),
    ("tensorsolve_axes", lambda a, b: L.tensorsolve(a, b, axes=(0,)),
     lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)),
     (RNG.normal(size=(6, 2, 3)), RNG.normal(size=(2, 3)))),
    ("tensorinv", lambda a: L.tensorinv(a, ind=1), lambda a: np.linalg.tensorinv(a, ind=1),
     (RNG.normal(size=(4, 2, 2)),)),
    ("scipy_cholesky", fsl.cholesky, sla.cholesky, (SPD,)),
    ("scipy_cholesky_lower", lambda a: fsl.cholesky(a, lower=True),
     lambda a: sla.cholesky(a, lower=True), (SPD,)),
    ("cho_solve_upper", lambda a, b: fsl.cho_solve(fsl.cho_factor(a), b),
     lambda a, b: sla.cho_solve(sla.cho_factor(a), b), (SPD, B)),
    ("cho_solve_lower", lambda a, b: fsl.cho_solve(fsl.cho_factor(a, lower=True), b),
     lambda a, b: sla.cho_solve(sla.cho_factor(a, lower=True), b), (SPD, B[:, 0])),
    ("lu_factor", fsl.lu_factor, sla.lu_factor, (A,)),
    ("lu_solve", lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b),
     lambda a, b: sla.lu_solve(sla.lu_factor(a), b), (A, B)),
    ("lu_solve_trans", lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=1),
     lambda a, b: sla.lu_solve(sla.lu_factor(a), b, trans=1), (A, B[:, 0])),
    ("expm", fsl.expm, sla.expm, (A,)),
    ("expm_large", fsl.expm, sla.expm, (20 * A,)),
    ("expm_batched", fsl.expm, sla.expm, (np.stack([0.01 * A, 5 * A]),)),
    ("block_diag", fsl.block_diag, sla.block_diag, (A, B, np.array([7.0, 8.0]), 9.0)),
] + [
    (f"solve_triangular_{trans}_{lower}_{unit}",
     (lambda t, lo, u: lambda a, b: fsl.solve_triangular(a, b, t, lo, u))(trans, lower, unit),
     (lambda t, lo, u: lambda a, b: sla.solve_triangular(a, b, t, lo, u))(trans, lower, unit),
     (SPD, B))
    for trans in (0, "T") for lower in (True, False) for unit in (True, False)
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ours, theirs, args", VALUE_CASES,
                         ids=[c[0] for c in VALUE_CASES])
def test_values_match_numpy_and_scipy(name, ours, theirs, args, dtype):
    args = tuple(np.asarray(a, dtype) if isinstance(a, np.ndarray) else a for a in args)
    if dtype == np.float32 and name.startswith("expm_large"):
        pytest.skip("float32 exponentials of norm 60 matrices differ by their rounding")
    if name == "lstsq_deficient" or name == "matrix_rank":
        args = tuple(np.asarray(a, np.float64) for a in args)  # rank thresholds are dtype's
    _close(ours(*args), theirs(*args), dtype)


@pytest.mark.parametrize("ord_, axis, keepdims", [
    (None, None, False), (None, None, True), (2, 0, False), (1, 1, True), (np.inf, -1, False),
    (-np.inf, 0, False), (0, 1, False), (3, 0, False), (-1, 1, False), (0.5, 0, True),
    ("fro", None, False), ("nuc", None, True), (1, None, False), (-1, None, False),
    (2, None, False), (-2, None, False), (np.inf, None, False), (-np.inf, (1, 0), True),
    (None, (0, 1), False), ("nuc", (1, 0), False),
])
def test_norm_matches_numpy(ord_, axis, keepdims):
    x = np.array([[1.0, -2.0, 0.0], [3.0, 4.0, -0.5]])
    _close(L.norm(x, ord_, axis, keepdims), np.linalg.norm(x, ord_, axis, keepdims))


def test_vector_and_matrix_norms_match_numpy():
    x = RNG.normal(size=(2, 3, 4))
    _close(L.vector_norm(x), np.linalg.vector_norm(x))
    _close(L.vector_norm(x, axis=(0, 2), keepdims=True, ord=3),
           np.linalg.vector_norm(x, axis=(0, 2), keepdims=True, ord=3))
    for ord_ in ("fro", "nuc", 1, 2, -np.inf):
        _close(L.matrix_norm(x, ord=ord_), np.linalg.matrix_norm(x, ord=ord_))
    _close(L.norm(x), np.linalg.norm(x))  # axis=None, ord=None: the flattened 2-norm


def test_integer_matrices_compute_in_float64():
    a = np.array([[2, 1], [1, 3]])
    _close(L.inv(a), np.linalg.inv(a))
    _close(L.det(a), np.linalg.det(a))


# --- derivatives of the composed functions ----------------------------------------------

GRAD_CASES = [
    ("solve", lambda a, b: L.solve(a, b), (A, B)),
    ("inv_batched", L.inv, (STACK,)),
    ("det", L.det, (A,)),
    ("slogdet", lambda a: L.slogdet(a).logabsdet, (STACK,)),
    ("matrix_power", lambda a: L.matrix_power(a, 3), (A,)),
    ("matrix_power_negative", lambda a: L.matrix_power(a, -1), (A,)),
    ("multi_dot", lambda a, b, c: L.multi_dot([a, b, c]), (B[:, 0], A, TALL.T)),
    ("cross", L.cross, (RNG.normal(size=(2, 3)), RNG.normal(size=3))),
    ("tensorsolve", L.tensorsolve, (RNG.normal(size=(4, 2, 2)) + np.eye(4).reshape(4, 2, 2) * 3,
                                    RNG.normal(size=4))),
    ("tensorinv", lambda a: L.tensorinv(a, ind=1),
     (RNG.normal(size=(4, 2, 2)) + np.eye(4).reshape(4, 2, 2) * 3,)),
    ("lstsq", lambda a, b: L.lstsq(a, b)[0], (TALL, RNG.normal(size=4))),
    ("pinv_wide", L.pinv, (WIDE,)),
    ("cond", L.cond, (A,)),
    ("norm_2", lambda x: L.norm(x, 2), (A,)),
    ("norm_fro_axes", lambda x: L.norm(x, axis=(0, 2)), (RNG.normal(size=(2, 3, 2)),)),
    ("norm_3", lambda x: L.norm(x, 3, axis=1), (A,)),
    ("vector_norm", lambda x: L.vector_norm(x, axis=0), (A,)),
    ("expm", fsl.expm, (A,)),
    ("expm_squarings", fsl.expm, (6 * A,)),
    ("block_diag", lambda a, b: fsl.block_diag(a, b, 2.0), (A, B)),
    ("cho_solve", lambda a, b: fsl.cho_solve(fsl.cho_factor(a), b), (SPD, B)),
    ("lu_solve", lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=1), (A, B)),
    ("eigh_upper_triangle", lambda a: L.eigvalsh(a, "U", symmetrize_input=False), (A,)),
    ("cholesky_lower_triangle", lambda a: L.cholesky(a, symmetrize_input=False),
     (SPD + np.triu(A, 1),)),
]


@pytest.mark.parametrize("name, fn, args", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_against_finite_differences(name, fn, args):
    check_grads(fn, args, order=1 if name.startswith("expm") else 2)


def test_forward_mode_of_composed_functions():
    check_grads(L.det, (A,), modes=("fwd",))
    check_grads(lambda a: L.norm(a, "nuc"), (A,), modes=("fwd",))
    check_grads(fsl.expm, (A,), modes=("fwd",))


def test_norm_gradients_are_zero_at_zero():
    for fn in (L.norm, lambda x: L.norm(x, 3), lambda x: L.norm(x.reshape(2, 2), "fro"),
               L.vector_norm):
        np.testing.assert_array_equal(fg.grad(fn)(np.zeros(4)), np.zeros(4))
    hessian = fg.hessian(lambda x: L.norm(x) ** 2)(np.zeros(3))  # x.x: 2 I, even at 0
    assert np.all(np.isfinite(hessian))


def test_norms_of_vectors_whose_squares_underflow_are_numpys_and_scaling_fixes_them():
    """As docs/sharp-bits.md says: unscaled, as NumPy (value 0, the 0-safe gradient 0 where
    the squares underflow); the scaling it suggests gives 5e-170 and x / |x|."""
    x = np.array([3e-170, 4e-170])
    assert L.norm(x) == np.linalg.norm(x) == 0
    np.testing.assert_array_equal(fg.grad(L.norm)(x), np.zeros(2))

    def scaled(x):
        m = fg.stop_gradient(fnp.max(fnp.abs(x)))
        m = fnp.where(m == 0, 1.0, m)
        return m * L.norm(x / m)
    np.testing.assert_allclose(scaled(x), 5e-170, rtol=1e-15)
    for grad in (fg.grad(scaled), fg.jit(fg.grad(scaled))):
        np.testing.assert_allclose(grad(x), [0.6, 0.8], rtol=1e-15)
    np.testing.assert_array_equal(fg.grad(scaled)(np.zeros(2)), np.zeros(2))


def test_symmetric_decompositions_have_symmetric_gradients():
    weights = RNG.normal(size=(3, 3))
    for fn in (lambda a: fnp.sum(L.cholesky(a) * weights),
               lambda a: fnp.sum(L.eigvalsh(a) * weights[0])):
        g = fg.grad(fn)(SPD + np.triu(A, 1))  # not symmetric: its symmetric part is read
        np.testing.assert_allclose(g, g.T, atol=1e-12)


def test_repeated_eigenvalues_and_singular_values_give_finite_gradients():
    """Exactly equal values couple with 0 (not 1/0): exact for functions that do not depend
    on the basis chosen in a repeated value's space."""
    def projector(a):  # v v^T over the repeated pair: independent of the basis
        w, v = L.eigh(a)
        return fnp.sum(v[:, :2] @ v[:, :2].T * weights)
    weights = RNG.normal(size=(3, 3))
    a = np.diag([1.0, 1.0, 3.0])
    g = fg.grad(projector)(a)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(fg.grad(lambda a: fnp.sum(L.eigvalsh(a)))(a), np.eye(3))
    np.testing.assert_allclose(fg.grad(lambda a: L.norm(a, "nuc"))(np.eye(3)), np.eye(3))
    assert np.all(np.isfinite(fg.grad(lambda a: fnp.sum(L.pinv(a)))(2 * np.eye(3))))


def test_vmap_of_a_decomposition_matches_the_batched_call():
    batch = np.stack([SPD, 2 * SPD, SPD + np.eye(3)])
    _close(fg.vmap(L.cholesky)(batch), np.linalg.cholesky(batch))
    _close(fg.vmap(L.solve, (0, None))(STACK, B), np.linalg.solve(STACK, B))
    _close(fg.vmap(L.det, 2)(np.moveaxis(STACK, 0, 2)), np.linalg.det(STACK))


# --- det's derivative, the transposed adjugate, at every rank ----------------------------

def _adjugate(a):
    """adj(a) from cofactors: adj[i, j] = (-1)^(i + j) det(a without row j and column i)."""
    n = a.shape[-1]
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, j, axis=0), i, axis=1)
            out[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


def _of_rank(n, r, rng):
    return rng.normal(size=(n, r)) @ rng.normal(size=(r, n))


def _det_hessian_by_differences(a, step=1e-5):
    """H[i, j, k, l] = d^2 det / da_ij da_kl, by central differences of the closed-form
    gradient adj(a).T (a polynomial: the differences are exact up to rounding)."""
    n = a.shape[-1]
    hessian = np.empty((n, n, n, n))
    for k in range(n):
        for m in range(n):
            e = np.zeros_like(a)
            e[k, m] = step
            hessian[:, :, k, m] = (_adjugate(a + e).T - _adjugate(a - e).T) / (2 * step)
    return hessian


# every rank of n = 1..4, with rank n - 1 and n - 2 the singular cases that matter
DET_RANKS = [(n, r) for n in (1, 2, 3, 4) for r in range(n + 1)]


@pytest.mark.parametrize("n, rank", DET_RANKS, ids=[f"n{n}-rank{r}" for n, r in DET_RANKS])
def test_det_gradient_is_the_transposed_adjugate_at_every_rank(n, rank):
    """Finite at singular matrices (the LU's derivative divides by a zero pivot there): of
    rank one at rank n - 1, zero at rank n - 2 or less; eager, compiled, forward and reverse."""
    rng = np.random.default_rng(10 * n + rank)
    a = _of_rank(n, rank, rng) if rank < n else rng.normal(size=(n, n))
    want = _adjugate(a).T
    tol = 1e-12 * max(1.0, np.abs(want).max())
    for grad in (fg.grad(L.det), fg.jit(fg.grad(L.det)), fg.grad(fsl.det)):
        np.testing.assert_allclose(grad(a), want, rtol=0, atol=tol)
    if rank <= n - 2:  # exactly 0 where the zero singular values are exact
        assert not np.any(fg.grad(L.det)(np.diag(np.arange(n) < rank).astype(float)))
    direction = rng.normal(size=(n, n))
    value, tangent = fg.jvp(L.det, (a,), (direction,))
    _close(value, np.linalg.det(a))
    np.testing.assert_allclose(tangent, np.sum(want * direction), rtol=1e-12, atol=tol)
    check_grads(L.det, (a,), order=2, modes=("rev", "fwd"))  # a polynomial: FD hold anywhere


@pytest.mark.parametrize("name, a", [
    ("random", RNG.normal(size=(3, 3))), ("identity", np.eye(3)), ("scaled", 2 * np.eye(4)),
    ("rank_n-1", _of_rank(3, 2, np.random.default_rng(1))),
    ("rank_n-2", _of_rank(4, 2, np.random.default_rng(2))),
    ("repeated_zero", np.diag([2.0, 0.0, 0.0])), ("zero", np.zeros((3, 3)))])
def test_det_hessian_against_differences_of_its_gradient(name, a):
    """The second derivative is the adjugate's own rule (not the SVD's derivative, whose
    vectors are arbitrary at repeated singular values such as the identity's): exact at
    nonsingular and singular matrices alike, in every nesting of the two modes."""
    want = _det_hessian_by_differences(a)
    for hessian in (fg.hessian(L.det), fg.jacfwd(fg.jacfwd(L.det)),
                    fg.jacrev(fg.jacrev(L.det)), fg.jit(fg.hessian(L.det))):
        np.testing.assert_allclose(hessian(a), want, rtol=1e-7, atol=1e-7)


def test_det_of_empty_and_one_by_one_matrices():
    for wrap in (lambda f: f, fg.jit):
        _close(wrap(L.det)(np.zeros((0, 0))), np.float64(1.0))
        _close(wrap(L.det)(np.zeros((2, 0, 0), np.float32)), np.ones(2, np.float32),
               np.float32)
        _close(wrap(fg.grad(L.det))(np.zeros((0, 0))), np.zeros((0, 0)))
        _close(wrap(fg.hessian(L.det))(np.zeros((0, 0))), np.zeros((0, 0, 0, 0)))
        _close(wrap(L.det)(np.array([[-3.0]])), np.float64(-3.0))
        _close(wrap(fg.grad(L.det))(np.array([[0.0]])), np.ones((1, 1)))
        _close(wrap(fg.hessian(L.det))(np.array([[5.0]])), np.zeros((1, 1, 1, 1)))


def _singular_stack(rng):
    return np.stack([_of_rank(3, 2, rng), _of_rank(3, 1, rng), rng.normal(size=(3, 3)),
                     np.zeros((3, 3))])


def test_det_gradient_batched_vmapped_and_compiled():
    rng = np.random.default_rng(3)
    stack = _singular_stack(rng)
    want = np.stack([_adjugate(a).T for a in stack])
    loop = np.stack([fg.grad(L.det)(a) for a in stack])
    np.testing.assert_allclose(loop, want, rtol=1e-12, atol=1e-12)
    batched = fg.grad(lambda s: fnp.sum(L.det(s)))
    for got in (fg.vmap(fg.grad(L.det))(stack), batched(stack), fg.jit(batched)(stack),
                fg.jit(fg.vmap(fg.grad(L.det)))(stack),
                np.moveaxis(fg.vmap(fg.grad(L.det), 2, 2)(np.moveaxis(stack, 0, 2)), 2, 0)):
        np.testing.assert_allclose(got, loop, rtol=1e-12, atol=1e-12)
    _close(fg.jit(L.det)(stack), L.det(stack))
    hessians = np.stack([fg.hessian(L.det)(a) for a in stack])
    _close(fg.vmap(fg.hessian(L.det))(stack), hessians)
    _close(fg.jit(fg.vmap(fg.hessian(L.det)))(stack), hessians)


def test_det_gradient_in_float32():
    rng = np.random.default_rng(4)
    stack = _singular_stack(rng).astype(np.float32)
    want = np.stack([_adjugate(a.astype(np.float64)).T for a in stack])
    grad = fg.grad(lambda s: fnp.sum(L.det(s)))
    for got in (grad(stack), fg.jit(grad)(stack)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())
    _close(fg.jit(L.det)(stack), L.det(stack), np.float32)


def test_det_gradient_of_non_finite_matrices_is_nan():
    a = np.array([[1.0, np.nan], [2.0, 3.0]])
    for grad in (fg.grad(L.det), fg.jit(fg.grad(L.det))):
        assert np.all(np.isnan(grad(a)))
    assert np.isnan(fg.jit(L.det)(a)) and np.isnan(L.det(a))


def test_slogdet_gradient_stays_the_inverse_transpose():
    """log|det|'s gradient is inv(a).T (det's adjugate over det): infinite at a singular
    matrix, where it raises, as before (test_a_singular_matrix_met_while_evaluating...)."""
    _close(fg.grad(lambda a: L.slogdet(a).logabsdet)(A), np.linalg.inv(A).T)
    _close(fg.grad(L.det)(A), np.linalg.det(A) * np.linalg.inv(A).T)


# --- compiled against uncompiled ----------------------------------------------------------

def _everything(a, spd, b, tall):
    """One program using every primitive, so one compilation checks every lowering."""
    lu, piv = fsl.lu_factor(a)
    return dict(
        solve=L.solve(a, b), det=L.det(a), slogdet=L.slogdet(a),
        cholesky=L.cholesky(spd), eigh=_abs_vectors(L.eigh(spd)),
        svd=_abs_vectors(L.svd(tall, full_matrices=False)), svd_full=_abs_vectors(L.svd(a)),
        qr=_abs_vectors(L.qr(tall)), lu=lu, piv=piv,
        lu_solve=fsl.lu_solve((lu, piv), b, trans=1),
        triangular=[fsl.solve_triangular(spd, b, trans, lower, unit)
                    for trans in (0, 1) for lower in (True, False) for unit in (True, False)],
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_matches_numpy(dtype):
    args = [x.astype(dtype) for x in (A, SPD, B, TALL)]
    _close(fg.jit(_everything)(*args), _everything(*args), dtype)


def test_compiled_gradients_match_numpy():
    def loss(a, spd):
        return (L.slogdet(a).logabsdet + fnp.sum(fnp.sin(L.cholesky(spd)))
                + fnp.sum(L.eigh(spd).eigenvectors ** 2 * spd) + L.norm(a, "nuc"))
    grad = fg.grad(loss, (0, 1))
    _close(fg.jit(grad)(A, SPD), grad(A, SPD))


def test_compiled_expm_matches_scipy():
    _close(fg.jit(fsl.expm)(3 * A), sla.expm(3 * A))


def test_batched_compiled_matches_numpy():
    def fn(stack, rhs):
        return L.solve(stack, rhs), L.svdvals(stack), fsl.lu_factor(stack)
    rhs = RNG.normal(size=(2, 3, 2))
    _close(fg.jit(fn)(STACK, rhs), fn(STACK, rhs))


# --- errors ---------------------------------------------------------------------------------

def test_bad_shapes_and_dtypes_raise_clear_errors():
    with pytest.raises(ShapeError, match="square"):
        L.inv(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="at least 2 axes"):
        L.det(np.ones(3))
    with pytest.raises(ShapeError, match="does not match"):
        L.solve(np.eye(3), np.ones(2))
    with pytest.raises(ShapeError, match="does not match"):
        L.solve(np.eye(3), np.ones((2, 2)))
    with pytest.raises(ShapeError, match="3 elements"):
        L.cross(np.ones(2), np.ones(2))
    with pytest.raises(FuncgradTypeError, match="int"):
        L.matrix_power(np.eye(2), 1.5)
    with pytest.raises(ValueError, match="matrix norm"):
        L.norm(np.ones(3), "fro")
    with pytest.raises(ValueError, match="mode"):
        L.qr(np.eye(2), "raw")
    with pytest.raises(ShapeError, match="does not match"):
        fsl.solve_triangular(np.eye(3), np.ones(2))
    with pytest.raises(FuncgradTypeError, match="float32 or float64"):
        from funcgrad.ops import decompositions as dec
        dec.cholesky(np.eye(2, dtype=np.int64))


def test_not_positive_definite_raises_linalg_error():
    with pytest.raises(L.LinAlgError):
        L.cholesky(-np.eye(2))


def test_ill_defined_derivatives_raise():
    with pytest.raises(FuncgradError, match="full_matrices"):
        fg.grad(lambda a: fnp.sum(L.svd(a)[0]))(TALL)
    with pytest.raises(FuncgradError, match="complete"):
        fg.grad(lambda a: fnp.sum(L.qr(a, "complete")[0]))(TALL)
    check_grads(lambda a: L.svd(a)[1], (TALL,))  # the singular values alone: defined


def test_complete_qr_of_a_tall_matrix_does_not_compile():
    with pytest.raises(LoweringError, match="complete"):
        fg.jit(lambda a: L.qr(a, "complete"))(TALL)


# ---------------------------------------------------------------------------------------
# scipy.linalg's names for the same computations, and its structured matrices


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def test_scipy_linalg_aliases_match_scipy():
    rng = np.random.default_rng(11)
    a, s, m = rng.standard_normal((4, 4)), _spd(rng, 4), _spd(rng, 4)
    b = rng.standard_normal(4)
    for kwargs in ({}, {"assume_a": "pos"}, {"transposed": True}, {"assume_a": "sym"}):
        matrix = s if kwargs.get("assume_a") in ("pos", "sym") else a
        np.testing.assert_allclose(fsl.solve(matrix, b, **kwargs),
                                   sla.solve(matrix, b, **kwargs), rtol=1e-10)
    np.testing.assert_allclose(fsl.inv(a), sla.inv(a), rtol=1e-10)
    np.testing.assert_allclose(fsl.det(a), sla.det(a), rtol=1e-12)
    np.testing.assert_allclose(fsl.eigvalsh(s, m), sla.eigvalsh(s, m), rtol=1e-12)
    w, v = fsl.eigh(s, m)
    np.testing.assert_allclose(v.T @ m @ v, np.eye(4), atol=1e-12)   # b-orthonormal
    np.testing.assert_allclose(s @ v, m @ v * w, atol=1e-10)
    np.testing.assert_allclose(fsl.svd(a, compute_uv=False), sla.svd(a, compute_uv=False))
    np.testing.assert_allclose(fsl.svdvals(a), sla.svdvals(a))
    tall = rng.standard_normal((5, 3))
    for mode in ("full", "economic", "r"):
        ours, theirs = fsl.qr(tall, mode=mode), sla.qr(tall, mode=mode)
        assert [x.shape for x in ours] == [x.shape for x in theirs]
        np.testing.assert_allclose(np.abs(ours[-1]), np.abs(theirs[-1]), atol=1e-12)
    np.testing.assert_allclose(fsl.norm(a, 2), sla.norm(a, 2))
    np.testing.assert_allclose(fsl.pinv(tall), sla.pinv(tall), atol=1e-12)
    y = rng.standard_normal(5)
    np.testing.assert_allclose(fsl.lstsq(tall, y)[0], sla.lstsq(tall, y)[0], rtol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_lu_matches_scipy_in_every_form(seed):
    a = np.random.default_rng(seed).standard_normal((5, 5))
    for ours, theirs in zip(fsl.lu(a), sla.lu(a)):
        np.testing.assert_allclose(ours, theirs, atol=1e-13)
    np.testing.assert_array_equal(fsl.lu(a, p_indices=True)[0], sla.lu(a, p_indices=True)[0])
    np.testing.assert_allclose(fsl.lu(a, permute_l=True)[0], sla.lu(a, permute_l=True)[0],
                               atol=1e-13)
    check_grads(lambda a: fsl.lu(a)[1] @ fsl.lu(a)[2], [a])


def _lu_loss(a):
    _, lower, upper = fsl.lu(a)
    return fnp.sum(fnp.sin(lower)) + fnp.sum(fnp.cos(upper))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 3), (0, 3)])
def test_lu_of_rectangular_matrices_matches_scipy(shape):
    """P (m, m), L (m, k), U (k, n), k = min(m, n), as SciPy's and JAX's."""
    a = np.random.default_rng(3).standard_normal(shape)
    p, lower, upper = fsl.lu(a)
    _close((p, lower, upper), sla.lu(a))
    np.testing.assert_allclose(p @ lower @ upper, a, atol=1e-12)
    _close(fsl.lu(a, permute_l=True), sla.lu(a, permute_l=True))
    indices = fsl.lu(a, p_indices=True)[0]
    assert indices.dtype == np.int32
    np.testing.assert_array_equal(indices, sla.lu(a, p_indices=True)[0])
    if a.ndim == 2:  # SciPy's lu_factor takes one matrix
        lu, piv = fsl.lu_factor(a)
        np.testing.assert_array_equal(piv, sla.lu_factor(a)[1])
        _close(lu, sla.lu_factor(a)[0])


def test_lu_of_a_matrix_without_columns_has_the_identity_permutation():
    """(SciPy 1.17 returns a 0x0 P for a 3x0 matrix, which P @ L cannot use; JAX's is I.)"""
    p, lower, upper = fsl.lu(np.zeros((3, 0)))
    _close((p, lower, upper), (np.eye(3), np.zeros((3, 0)), np.zeros((0, 0))))


def test_rectangular_lu_differentiates_batches_and_compiles():
    rng = np.random.default_rng(4)
    tall, wide = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    for a in (tall, wide):
        check_grads(_lu_loss, (a,), order=2)
        check_grads(lambda a: fsl.lu_factor(a)[0], (a,), order=1, modes=("fwd", "rev"))
    # JAX 0.10's gradient of _lu_loss at this tall matrix, first row
    np.testing.assert_allclose(fg.grad(_lu_loss)(np.random.default_rng(0).normal(size=(4, 3)))[0],
                               [1.89255881, -1.20286307, 0.47366217], atol=1e-8)
    stack = rng.standard_normal((3, 5, 2))
    _close(fg.vmap(fsl.lu)(stack), sla.lu(stack))

    def program(tall, wide):
        return fsl.lu(tall), fsl.lu_factor(wide), fg.grad(_lu_loss)(wide)
    _close(fg.jit(program, compile="sync")(tall, wide), program(tall, wide))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 5, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pivoted_qr_matches_scipy(shape, dtype):
    a = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    for mode in ("full", "economic", "r"):
        ours, theirs = fsl.qr(a, mode=mode, pivoting=True), sla.qr(a, mode=mode, pivoting=True)
        assert ours[-1].dtype == np.int32
        np.testing.assert_array_equal(ours[-1], theirs[-1])
        _close(ours, theirs, dtype)
    q, r, perm = fsl.qr(a, mode="economic", pivoting=True)
    _close(q @ r, np.take_along_axis(a, perm[..., None, :], axis=-1), dtype)
    diagonal = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    assert np.all(diagonal[..., :-1] >= diagonal[..., 1:])


def test_pivoted_qr_compiles_and_takes_the_first_of_equal_columns():
    rng = np.random.default_rng(6)
    tall, wide = rng.standard_normal((5, 3)), rng.standard_normal((2, 3, 4))
    # columns 1 and 2 tie, then rows 1 of what is left are all 0: LAPACK takes the first
    ties = np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])

    def program(tall, wide, ties):
        return (fsl.qr(tall, mode="economic", pivoting=True), fsl.qr(wide, pivoting=True),
                fsl.qr(ties, mode="r", pivoting=True)[1])
    got = fg.jit(program, compile="sync")(tall, wide, ties)
    _close(got, program(tall, wide, ties))
    np.testing.assert_array_equal(got[2], sla.qr(ties, mode="r", pivoting=True)[1])
    np.testing.assert_array_equal(got[2], [1, 0, 2])


@pytest.mark.parametrize("shape", [(4, 3), (3, 4)])
def test_pivoted_qr_differentiates_with_the_order_held_fixed(shape):
    """As JAX's: P has no derivative; Q and R are those of the QR of a[:, P]."""
    a = np.random.default_rng(0).normal(size=(4, 3))
    a = a if shape == (4, 3) else a.T
    perm = fsl.qr(a, pivoting=True, mode="economic")[2]

    def loss(a):
        q, r, _ = fsl.qr(a, pivoting=True, mode="economic")
        return fnp.sum(fnp.sin(r)) + fnp.sum(q ** 2 * np.arange(q.size).reshape(q.shape))

    def fixed(a):
        q, r = fsl.qr(a[:, perm], mode="economic")
        return fnp.sum(fnp.sin(r)) + fnp.sum(q ** 2 * np.arange(q.size).reshape(q.shape))
    _close(fg.grad(loss)(a), fg.grad(fixed)(a))
    check_grads(lambda a: fsl.qr(a, pivoting=True, mode="economic")[:2], (a,), order=2)
    # JAX 0.10's gradient of sum(sin(R)) at this matrix and its transpose, first row
    jax_row = {(4, 3): [-0.21498886, -0.28270604, -0.46635457],
               (3, 4): [-0.26442271, -0.67855394, -0.15601427, -0.26665625]}[shape]
    grad = fg.grad(lambda a: fnp.sum(fnp.sin(fsl.qr(a, pivoting=True, mode="economic")[1])))
    np.testing.assert_allclose(grad(a)[0], jax_row, atol=1e-8)


def test_qr_of_a_wide_matrix_differentiates_as_jax():
    """a = [a1 a2]: q r1 = a1 is a square QR, r2 = q^T a2 (JAX 0.10's rule)."""
    check_grads(L.qr, (WIDE,), order=2)
    check_grads(lambda a: L.qr(a, "complete"), (WIDE,), order=1)
    check_grads(L.qr, (RNG.normal(size=(2, 2, 3)),), order=1)


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0), (2, 0, 0)])
def test_empty_matrices_reduce_as_numpy(shape):
    """The largest singular value or column sum of an empty matrix is 0, as in NumPy's norm,
    pinv and matrix_rank (funcgrad's max of an empty axis raised); cond raises as NumPy's."""
    a = np.zeros(shape)
    for ord_ in (2, 1, np.inf, "nuc", "fro"):
        _close(L.norm(a, ord_, axis=(-2, -1)), np.linalg.norm(a, ord_, axis=(-2, -1)))
    _close(L.pinv(a), np.linalg.pinv(a))
    np.testing.assert_array_equal(L.matrix_rank(a), np.linalg.matrix_rank(a))
    if shape[-1] == shape[-2]:
        _close(fsl.expm(a), sla.expm(a))
        with pytest.raises(L.LinAlgError, match="empty"):
            L.cond(a)
    if a.ndim == 2:
        _close(L.lstsq(a, np.zeros(shape[0]))[0], np.linalg.lstsq(a, np.zeros(shape[0]))[0])


def test_structured_matrices_match_scipy_and_differentiate():
    rng = np.random.default_rng(12)
    c, r = rng.standard_normal(4), rng.standard_normal(3)
    for name, args in [("toeplitz", (c, r)), ("toeplitz", (c,)), ("circulant", (c,)),
                       ("hankel", (c, r)), ("hankel", (c,))]:
        np.testing.assert_array_equal(getattr(fsl, name)(*args), getattr(sla, name)(*args))
        check_grads(lambda *args, name=name: getattr(fsl, name)(*args), list(args))
    np.testing.assert_array_equal(fg.jit(fsl.toeplitz)(c, r), sla.toeplitz(c, r))


def test_structured_matrices_batch_over_leading_axes_as_jax():
    """Leading axes are a batch, broadcast between c and r (JAX, SciPy 1.17's toeplitz and
    circulant); they were ravelled into one long vector (SciPy's old behaviour)."""
    rng = np.random.default_rng(14)
    c, r, r1 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal(4)
    for name, args in [("toeplitz", (c, r)), ("toeplitz", (c, r1)), ("toeplitz", (c,)),
                       ("circulant", (c,)), ("hankel", (c, r)), ("hankel", (c,))]:
        got = fg.jit(getattr(fsl, name))(*args)
        one = [getattr(sla, name)(*(a if a.ndim == 1 else a[k] for a in args))
               for k in range(2)]
        np.testing.assert_array_equal(got, np.stack(one), err_msg=name)
    np.testing.assert_array_equal(fsl.toeplitz(3.0), [[3.0]])


def test_solve_sylvester_and_banded_match_scipy_and_differentiate():
    rng = np.random.default_rng(13)
    a, b, q = rng.standard_normal((3, 3)), rng.standard_normal((2, 2)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(fsl.solve_sylvester(a, b, q), sla.solve_sylvester(a, b, q),
                               rtol=1e-10)
    check_grads(fsl.solve_sylvester, [a, b, q], order=2, modes=("rev", "fwd"))
    ab, rhs = rng.standard_normal((4, 6)), rng.standard_normal(6)
    ab[1] += 4.0  # a dominant diagonal (u = 1): well conditioned
    for l_and_u in [(2, 1)]:
        np.testing.assert_allclose(fsl.solve_banded(l_and_u, ab, rhs),
                                   sla.solve_banded(l_and_u, ab, rhs), rtol=1e-10)
        check_grads(lambda ab, rhs, lu=l_and_u: fsl.solve_banded(lu, ab, rhs), [ab, rhs])
    with pytest.raises(ShapeError, match="l \\+ u \\+ 1 = 3 rows"):
        fsl.solve_banded((1, 1), ab, rhs)
    with pytest.raises(ShapeError, match="q must have shape \\(3, 2\\)"):
        fsl.solve_sylvester(a, b, q.T)


def test_scipy_linalg_options_it_does_not_support_say_so():
    a = np.eye(2)
    with pytest.raises(NotImplementedError, match="subset_by_index"):
        fsl.eigh(a, subset_by_index=(0, 0))
    with pytest.raises(ValueError, match="mode must be one of"):
        fsl.qr(a, mode="raw")


def test_a_singular_triangular_matrix_raises_compiled_as_evaluated():
    """SciPy's solve_triangular, and so the NumPy evaluator (jit's first calls), raise
    LinAlgError at a zero on the diagonal; compiled code divided by it (inf). (det's
    gradient, which went through such a solve, is the adjugate now, finite there.)"""
    u = np.array([[1.0, 2.0], [0.0, 0.0]])
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix"):
        sla.solve_triangular(u, np.ones(2))
    solve = fg.jit(lambda u, b: fsl.solve_triangular(u, b), compile="sync")
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix"):
        solve(u, np.ones(2))
    with pytest.raises(np.linalg.LinAlgError, match="singular matrix"):
        solve(u.T, np.ones(2))  # (a zero pivot met last, reading the other way)
    np.testing.assert_allclose(
        fg.jit(fg.grad(fnp.linalg.det), compile="sync")(np.array([[1.0, 2.0], [2.0, 4.0]])),
        [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    regular = np.triu(u + 1.0)
    np.testing.assert_allclose(solve(regular, np.ones(2)),
                               sla.solve_triangular(regular, np.ones(2)))
    unit = fg.jit(lambda u, b: fsl.solve_triangular(u, b, unit_diagonal=True), compile="sync")
    np.testing.assert_allclose(unit(u, np.ones(2)),  # (its diagonal is not read)
                               sla.solve_triangular(u, np.ones(2), unit_diagonal=True))


def test_a_singular_matrix_met_while_evaluating_names_the_users_line():
    """A singular matrix is found only when the program runs, by NumPy's or SciPy's routine:
    its LinAlgError (the type NumPy raises) says which primitive met it and on which line of
    the user's code, in the forward pass and in the backward one (the derivative of slogdet's
    log|det| at a singular matrix, inv(a).T, divides by LU's zero pivot; det's does not)."""
    a = np.array([[1.0, 2.0], [2.0, 4.0]])

    def loss(a, b):
        x = fnp.linalg.solve(a, b)
        return fnp.sum(x * x)

    line = loss.__code__.co_firstlineno + 1
    for _ in range(3):  # the program interpreted first, then as the evaluator's function
        with pytest.raises(np.linalg.LinAlgError,
                           match=rf"^Singular matrix \(solve, in test_linalg\.py:{line}\)$"):
            fg.grad(loss)(a, np.ones(2))
    with pytest.raises(np.linalg.LinAlgError, match=r"\(triangular_solve, in test_linalg\.py"):
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 on the way
            fg.grad(lambda a: fnp.linalg.slogdet(a).logabsdet)(a)
