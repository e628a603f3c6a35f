"""A product of two matrices compiles to BLAS without Numba's np.dot (compile/blas.py, written
by ops/linalg.py): fgm.dot at the top level, one direct call of gemm into a reused buffer in a
loop's body. Every combination of transposed operands, both float dtypes, operands of any
memory layout, against NumPy; empty products."""

import numpy as np
import pytest

import funcgrad as fg
from funcgrad import lax

RNG = np.random.default_rng(3)


def _in_a_loop(products):
    def looped(a, b, c):
        _, stacked = lax.scan(lambda carry, _: (carry, products(a, b, c)), 0.0, None, length=2)
        return tuple(s[1] for s in stacked)
    return looped


@pytest.mark.parametrize("where", ["top level", "loop body"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_transposition_and_layout(dtype, where):
    a = RNG.normal(size=(5, 3)).astype(dtype)
    b = RNG.normal(size=(5, 4)).astype(dtype)
    c = RNG.normal(size=(3, 4)).astype(dtype)

    def products(a, b, c):
        return a.T @ b, a @ c, (c @ b.T).T, c.T @ a.T, a.T @ a

    call = "fgm.dot(" if where == "top level" else "fgb.xxgemm("
    f = fg.jit(products if where == "top level" else _in_a_loop(products))
    assert call in f.lower(a, b, c).source
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    for args in [(a, b, c), (np.asfortranarray(a), b[::1, :], np.asfortranarray(c)),
                 (a[::-1], np.ascontiguousarray(b[:, ::-1])[:, ::-1], c)]:
        for got, want in zip(f(*args), products(*args)):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def test_mixed_dtypes_and_empty_products():
    a = RNG.normal(size=(4, 3))
    b = RNG.normal(size=(3, 2)).astype(np.float32)
    np.testing.assert_allclose(fg.jit(lambda a, b: a @ b)(a, b), a @ b, rtol=1e-6)
    for x, y in [(np.ones((0, 3)), np.ones((3, 2))), (np.ones((2, 0)), np.ones((0, 3)))]:
        got = fg.jit(lambda x, y: x @ y)(x, y)
        np.testing.assert_array_equal(got, x @ y)
