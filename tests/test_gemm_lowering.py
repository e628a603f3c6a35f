"""A product of two matrices compiles to one call of BLAS's gemm (compile/blas.py, written by
ops/linalg.py) instead of np.dot: every combination of transposed operands, both float
dtypes, operands of any memory layout, against NumPy; empty products keep np.dot."""

import numpy as np
import pytest

import funcgrad as fg

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_transposition_and_layout(dtype):
    a = RNG.normal(size=(5, 3)).astype(dtype)
    b = RNG.normal(size=(5, 4)).astype(dtype)
    c = RNG.normal(size=(3, 4)).astype(dtype)

    def products(a, b, c):
        return a.T @ b, a @ c, (c @ b.T).T, c.T @ a.T, a.T @ a

    f = fg.jit(products)
    assert "fgb.xxgemm(" in f.lower(a, b, c).source
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
