"""Linear algebra on NaN and inf input, and on singular and empty matrices: jit's two tiers
(the NumPy evaluator, which runs a program's first calls, and the compiled code) must give
the same results, and nothing raises where JAX returns NaN.

The LAPACK-backed primitives (solve, cholesky, eigh, svd, qr, and det's derivative) give NaN
for every result of a matrix with a NaN or inf entry (JAX: NaN wherever its elimination
spreads it; NumPy raises for svd and eigh, Numba for all of them). The compiled loops (lu,
triangular solves, det's value) propagate NaN and inf through their arithmetic in both tiers,
as NumPy's and JAX's do. Each program here is compiled once and run on NaN and inf input.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.linalg as fsl

# NaN and inf make the NumPy tier's arithmetic warn ("invalid value"): expected here
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
L = fnp.linalg
HERE = os.path.basename(__file__)
GOOD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
RHS = np.array([1.0, 2.0, 3.0])


def _bad(value):
    """GOOD with ``value`` at [1, 2] (``a``, read whole) and at [1, 2] and [2, 1] (``sym``,
    for the functions reading its symmetric part)."""
    a = GOOD.copy()
    a[1, 2] = value
    sym = a.copy()
    sym[2, 1] = value
    return a, sym


# rows that need swapping: LAPACK's blocked LU and the compiled loop spread a NaN (or pick
# a pivot next to one) differently, so lu gives NaN for a non-finite matrix, as solve does
PIVOTING = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5], [7.0, 8.5, 10.0]])


def _spots(value):
    """PIVOTING with ``value`` at each of its 9 places in turn."""
    spots = np.repeat(PIVOTING[None], 9, axis=0)
    spots.reshape(9, 9)[np.arange(9), np.arange(9)] = value
    return spots


def _everything(a, sym, b, stack, spots):
    """Every linalg primitive on one non-finite matrix, batched too: one compilation."""
    lu, piv = fsl.lu_factor(a)
    spots_lu = fsl.lu_factor(spots)
    return dict(
        spots_lu=spots_lu, spots_det=L.det(spots), spots_slogdet=L.slogdet(spots),
        spots_lu_solve=fsl.lu_solve(spots_lu, b), spots_solve=L.solve(spots, b),
        spots_triangular=[fsl.solve_triangular(spots, b, trans, lower)
                          for trans in (0, 1) for lower in (True, False)],
        solve=L.solve(a, b), solve_bad_rhs=L.solve(GOOD, b * a[1, 2]), det=L.det(a),
        slogdet=L.slogdet(a), cholesky=L.cholesky(sym), eigh=L.eigh(sym), svd=L.svd(a),
        qr=L.qr(a), triangular=fsl.solve_triangular(fnp.triu(a), b),
        triangle_not_read=fsl.solve_triangular(a, b, lower=True),
        cho_solve=fsl.cho_solve((fnp.triu(a), False), b), lu=lu, piv=piv,
        lu_solve=fsl.lu_solve((lu, piv), b),
        batched=[L.solve(stack, b), L.eigh(stack), L.svd(stack)],
    )


# scalar functions of one matrix, through every primitive's derivative
LOSSES = [lambda a: fnp.sum(L.solve(a, RHS)), L.det,
          lambda a: fnp.sum(L.eigh(a)[0]) + fnp.sum(L.eigh(a)[1] ** 2 * GOOD),
          lambda a: fnp.sum(L.svdvals(a)) + fnp.sum(L.svd(a)[0] * GOOD),
          lambda a: fnp.sum(L.cholesky(a)), lambda a: fnp.sum(L.qr(a)[1])]


def _values_and_gradients(sym):
    return [fg.value_and_grad(f)(sym) for f in LOSSES]


def _same(got, want):
    """Equal to rounding, NaN where NaN and inf where inf."""
    got_leaves, want_leaves = fg.tree.leaves(got), fg.tree.leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.fixture(scope="module")
def compiled():
    return (fg.jit(_everything, compile="sync"),
            fg.jit(_values_and_gradients, compile="sync"))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_matrices_give_nan_in_both_tiers(value, compiled):
    everything, values_and_gradients = compiled
    a, sym = _bad(value)
    args = (a, sym, RHS, np.stack([GOOD, sym]), _spots(value))
    evaluated = _everything(*args)
    _same(everything(*args), evaluated)
    for name in ("solve", "solve_bad_rhs", "cholesky", "eigh", "svd", "qr", "det", "slogdet",
                 "lu", "lu_solve", "spots_det", "spots_slogdet", "spots_lu_solve",
                 "spots_solve"):
        assert all(np.isnan(x).all() for x in fg.tree.leaves(evaluated[name])), name
    assert np.isnan(evaluated["spots_lu"][0]).all()
    np.testing.assert_array_equal(evaluated["piv"], [0, 1, 2])  # the identity's pivots
    np.testing.assert_array_equal(evaluated["spots_lu"][1], np.tile([0, 1, 2], (9, 1)))
    # the finite matrix of a batch is unaffected by the non-finite one
    solve, eigh, svd = evaluated["batched"]
    np.testing.assert_allclose(solve[0], np.linalg.solve(GOOD, RHS))
    np.testing.assert_allclose(eigh[0][0], np.linalg.eigvalsh(GOOD))
    np.testing.assert_allclose(svd[1][0], np.linalg.svd(GOOD)[1])
    for x in (solve, *eigh, *svd):
        assert np.isnan(x[1]).all()
    # a triangle that is not read does not matter (as in SciPy and JAX)
    np.testing.assert_allclose(evaluated["triangle_not_read"],
                               np.linalg.solve(np.tril(GOOD), RHS))
    pairs = _values_and_gradients(sym)
    _same(values_and_gradients(sym), pairs)
    for k, (value_, grad) in enumerate(pairs):
        assert not np.isfinite(value_) and np.isnan(grad).all(), k  # (det: -inf at inf)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_functions_composed_from_decompositions_give_nan(value):
    """(JAX 0.10 gives the same: NaN, and rank 0.) Their compiled code is that of the
    primitives above; expm's NumPy tier squares as many times as the norm asks (none for a
    non-finite one: it raised OverflowError at inf), its compiled code up to 40 times."""
    a, sym = _bad(value)
    for f in (L.inv, L.svdvals, L.pinv, lambda a: L.lstsq(a, RHS)[0], L.cond,
              lambda a: L.norm(a, 2), lambda a: L.norm(a, "nuc"), fsl.expm,
              lambda a: fsl.solve_sylvester(a, GOOD, np.ones((3, 3)))):
        assert np.isnan(f(a)).all()
    assert np.isnan(fsl.cho_factor(sym)[0]).all()
    assert L.matrix_rank(a) == 0  # no singular value above the cutoff
    assert np.isnan(fg.grad(lambda a: fnp.sum(fsl.expm(a)))(a)).all()


def test_triangular_solves_spread_nan_and_inf_by_substitution():
    """Triangular solves are substitution in both tiers (compiled loops, SciPy's in the NumPy
    tier), not given NaN: an inf can give inf, and a NaN reaches only the rows after it."""
    a, _ = _bad(np.inf)
    np.testing.assert_array_equal(fsl.solve_triangular(np.triu(a), RHS), [np.inf, -np.inf, 1.5])
    a, _ = _bad(np.nan)
    np.testing.assert_array_equal(np.isnan(fsl.solve_triangular(np.triu(a), RHS)),
                                  [True, True, False])


def test_float32_non_finite_matrices_give_float32_nan():
    a, sym = _bad(np.nan)
    for x in fg.tree.leaves([L.solve(a.astype(np.float32), RHS.astype(np.float32)),
                             L.eigh(sym.astype(np.float32)), L.svd(a.astype(np.float32))]):
        assert x.dtype == np.float32 and np.isnan(x).all()


SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])


def test_singular_matrices_raise_in_both_tiers_as_numpy():
    """A singular (finite) matrix is not non-finite input: solve (and inv) raise NumPy's
    LinAlgError in both tiers (JAX returns inf and NaN), cholesky of a matrix that is not
    positive definite too (JAX: NaN); det and slogdet give 0 and -inf in both."""
    for f in (lambda a: L.solve(a, np.ones(2)), L.cholesky):
        for tier in (f, fg.jit(f, compile="sync")):
            with pytest.raises(np.linalg.LinAlgError):
                tier(SINGULAR)
    both = fg.jit(lambda a: (L.det(a), L.slogdet(a)), compile="sync")
    for det, (sign, logabsdet) in (both(SINGULAR), (L.det(SINGULAR), L.slogdet(SINGULAR))):
        assert det == 0 and sign == 0 and logabsdet == -np.inf


def test_singular_matrix_errors_say_the_same_in_both_tiers_and_name_the_line():
    """Compiled code met the singular matrix with Numba's words ("Matrix is singular to
    machine precision.") and no line, eager code with NumPy's and no line either: both now
    give the first tier's error, NumPy's words with the primitive and the user's line."""
    def f(a, b):
        return L.solve(a, b) * 2.0
    line = f.__code__.co_firstlineno + 1
    for tier in (f, fg.jit(f, compile="sync"), fg.jit(fg.grad(lambda a, b: fnp.sum(f(a, b))),
                                                        compile="sync")):
        with pytest.raises(np.linalg.LinAlgError) as info:
            tier(SINGULAR, np.ones(2))
        assert str(info.value) == f"Singular matrix (solve, in {HERE}:{line})"



def test_a_singular_matrix_in_compiled_code_runs_debug_callbacks_once(capsys):
    # the evaluator's run that finds the failing line printed "before solve" a second time
    def f(a, b):
        fg.debug.print("before solve {}", b[0])
        return L.solve(a, b)
    for tier in (f, fg.jit(f, compile="sync")):
        with pytest.raises(np.linalg.LinAlgError, match=f"solve, in {HERE}:"):
            tier(SINGULAR, np.ones(2))
        assert capsys.readouterr().out == "before solve 1.0\n"
        np.testing.assert_allclose(tier(2.0 * np.eye(2), np.ones(2)), [0.5, 0.5])
        assert capsys.readouterr().out == "before solve 1.0\n"  # and prints after it

def _empty_factors(wide, tall, square):
    return [(L.svd(a), L.svd(a, full_matrices=False), L.qr(a)) for a in (wide, tall, square)] \
        + [fg.grad(L.det)(square)]


def test_empty_matrices_factor_in_both_tiers_as_numpy():
    """Numba's np.linalg refuses empty arrays ("Arrays cannot be empty"): compiled svd and
    qr raised where NumPy returns empty factors (and identities for svd's square u and vt)."""
    args = (np.zeros((0, 2)), np.zeros((2, 0)), np.zeros((0, 0)))
    evaluated = _empty_factors(*args)
    _same(fg.jit(_empty_factors, compile="sync")(*args), evaluated)
    np.testing.assert_array_equal(evaluated[0][0].Vh, np.eye(2))
    np.testing.assert_array_equal(evaluated[1][0].U, np.eye(2))
