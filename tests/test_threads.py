"""Compiled programs on several threads (issue 15 item 4): ``jit(f, threads=N)`` and
``FUNCGRAD_NUM_THREADS``. Large fused loops run their outermost loop with Numba's prange;
elementwise results are bit-identical for any thread count, sums equal to rounding; small
programs generate the same code as on one thread."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.compile.threads import PARALLEL_MIN_WORK, default_threads
from funcgrad.core.errors import FuncgradValueError

ROWS, COLS = 300, 250  # 75,000 elements: above PARALLEL_MIN_WORK
RNG = np.random.default_rng(0)


def _fused(x):
    """One loop group over x's shape: elementwise outputs, a sum of everything, row sums."""
    y = fnp.sin(x) * x + 1.0
    return y, fnp.sum(y), fnp.sum(fnp.exp(-x * x), axis=1)


def _chain(x):
    """Part of the benchmark's elementwise chain: its gradient counts large sin/cos
    arguments in the parallel loop (the vector-math fallback)."""
    e = fnp.log(1.0 + x * x)
    return fnp.sum(fnp.where(x > 0, fnp.tanh(fnp.sin(x) * x), e) + fnp.cos(x) * e)


def test_the_size_is_large_enough_to_split():
    assert ROWS * COLS >= PARALLEL_MIN_WORK


def test_elementwise_results_are_identical_and_sums_equal_to_rounding():
    x = RNG.normal(size=(ROWS, COLS))
    one = fg.jit(_fused, compile="sync", threads=1)
    two = fg.jit(_fused, compile="sync", threads=2)
    assert "prange(" not in one.lower(x).source
    assert "prange(" in two.lower(x).source
    y1, s1, r1 = one(x)
    y2, s2, r2 = two(x)
    y2, s2, r2 = two(x)  # the fast path (set_threads before the compiled call) too
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(r1, r2)  # row sums: each row on one thread, same order
    np.testing.assert_allclose(s2, s1, rtol=1e-12)
    np.testing.assert_allclose(s2, np.sum(np.sin(x) * x + 1.0), rtol=1e-12)
    np.testing.assert_allclose(r2, np.sum(np.exp(-x * x), axis=1), rtol=1e-12)


def test_gradient_with_the_large_argument_check_is_identical():
    x = RNG.normal(0, 1.5, ROWS * COLS)
    x[7] = 3e7  # a sin argument past the short range reduction: the fallback loop runs
    one = fg.jit(fg.grad(_chain), compile="sync", threads=1)
    two = fg.jit(fg.grad(_chain), compile="sync", threads=2)
    assert "prange(" in two.lower(x).source
    np.testing.assert_array_equal(one(x), two(x))
    x[7] = 0.5  # and without it
    np.testing.assert_array_equal(one(x), two(x))


def test_large_products_are_split_by_rows():
    X = RNG.normal(size=(400, 200))
    v, u = RNG.normal(size=200), RNG.normal(size=400)
    B, C = RNG.normal(size=(200, 3)), RNG.normal(size=(400, 3))
    products = lambda X, v, u, B, C: (X @ v, X.T @ u, X @ B, X.T @ C)  # noqa: E731
    two = fg.jit(products, compile="sync", threads=2)
    source = two.lower(X, v, u, B, C).source  # (X @ v and X @ B: one loop over X's rows)
    assert "prange(" in source and "fgm.dot(" not in source  # no product left serial
    expected = (X @ v, X.T @ u, X @ B, X.T @ C)
    for got, want in zip(two(X, v, u, B, C), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduce", [lambda x: fnp.max(fnp.sin(x)),
                                    lambda x: fnp.sum(fnp.sin(x), axis=0)])
def test_reductions_that_cannot_be_split_stay_serial(reduce):
    # a max over the outermost axis is no prange reduction, and a sum over axis 0 of a 2-D
    # loop accumulates into one array from every row: either would race
    x = np.ones((ROWS, COLS))
    assert "prange(" not in fg.jit(reduce, threads=2).lower(x).source


def test_small_programs_generate_the_same_code():
    x = np.ones(1000)
    f = lambda x: fnp.sum(fnp.tanh(x) * x)  # noqa: E731
    assert fg.jit(f, threads=2).lower(x).source == fg.jit(f, threads=1).lower(x).source


def test_loops_inside_control_flow_stay_serial():
    def body(i, x):
        return fnp.sin(x) * 0.5

    x = np.ones(ROWS * COLS)
    source = fg.jit(lambda x: fg.lax.fori_loop(0, 2, body, x), threads=2).lower(x).source
    assert "prange(" not in source


@pytest.mark.parametrize("bad", [0, -1, "abc", 1.5, True])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(FuncgradValueError, match="threads"):
        fg.jit(fnp.sin, threads=bad)


def test_the_environment_variable(monkeypatch):
    monkeypatch.delenv("FUNCGRAD_NUM_THREADS", raising=False)
    assert default_threads() == 1 and fg.jit(fnp.sin).threads == 1
    monkeypatch.setenv("FUNCGRAD_NUM_THREADS", "2")
    assert fg.jit(fnp.sin).threads == 2
    assert fg.jit(fnp.sin, threads=1).threads == 1  # the option wins
    monkeypatch.setenv("FUNCGRAD_NUM_THREADS", "abc")
    with pytest.raises(FuncgradValueError, match="FUNCGRAD_NUM_THREADS='abc'"):
        fg.jit(fnp.sin)
