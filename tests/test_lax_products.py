"""Vector-matrix products in the body of a compiled loop (scan, while_loop, the backward loop
of either) are one call of BLAS's gemv each (ops/linalg.py, compile/blas.py), into the
output's destination (a carry's spare buffer, a stacked row) or a buffer allocated once
per call (LoweringContext.scratch), the transpose of a matrix read as that matrix.
Compiled values against the NumPy evaluator, gradients against finite differences, and
the generated code."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.testing import check_grads

RNG = np.random.default_rng(7)
K, M = 7, 5
W = RNG.normal(size=(K, K)) * 0.4
V = RNG.normal(size=(K, M)) * 0.4
B = RNG.normal(size=K) * 0.1
H0 = RNG.normal(size=K)
XS = RNG.normal(size=(4, K))

STEPS = {  # the body's product, in every order of operands and axes
    "h @ W": lambda h, w: h @ w,
    "W @ h": lambda h, w: w @ h,
    "h @ W.T": lambda h, w: h @ w.T,
    "W.T @ h": lambda h, w: w.T @ h,
}


def evaluated(fun, *args):
    with fg.disable_jit():
        return fun(*args)


def assert_compiled_equals_evaluated(fun, *args):
    got, want = fg.jit(fun)(*args), evaluated(fun, *args)
    for g, w in zip(fg.tree.leaves(got), fg.tree.leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def rnn(product, reverse=False):
    def loss(w, b, h0, xs):
        def step(h, x):
            new = fnp.tanh(product(h, w) + b + x)
            return new, fnp.sum(new * x)
        h, ys = lax.scan(step, h0, xs, reverse=reverse)
        return fnp.sum(h * h) + fnp.sum(ys)
    return loss


@pytest.mark.parametrize("name", list(STEPS))
def test_scan_products_are_gemv_calls_with_the_numpy_values(name):
    loss = rnn(STEPS[name])
    assert_compiled_equals_evaluated(loss, W, B, H0, XS)
    source = fg.jit(loss).lower(W, B, H0, XS).source
    assert "np.dot(" not in source and "fgb.xxgemv(" in source
    assert "transpose" not in source and "np.empty" not in source.split("for i_")[1]
    # (no copy of a transposed matrix; nothing allocated in the loop)


@pytest.mark.parametrize("name", ["h @ W", "W @ h"])
@pytest.mark.parametrize("reverse", [False, True])
def test_compiled_scan_gradients(name, reverse):
    loss = rnn(STEPS[name], reverse)
    grad = fg.grad(loss, argnums=(0, 1, 2))
    for g, w in zip(fg.jit(grad)(W, B, H0, XS), evaluated(grad, W, B, H0, XS)):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-13)
    check_grads(loss, (W, B, H0, XS))


@pytest.mark.parametrize("length", [0, 1])
def test_short_scans(length):
    loss = rnn(STEPS["W @ h"])
    grad = fg.grad(loss, argnums=(0, 1, 2))
    xs = XS[:length]
    for g, w in zip(fg.jit(grad)(W, B, H0, xs), evaluated(grad, W, B, H0, xs)):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-13)


def test_products_that_are_outputs_or_read_by_views():
    """A product that is the carry itself (computed into the spare buffer), a stacked output
    (into its row), or read through a view that is an output (no buffer shared between
    iterations), in a pytree carry with a matrix that is a row of the scanned input."""
    def fun(w, v, h0, xs):
        def step(carry, x):
            h, g = carry["h"], carry["g"]
            new_h = h @ w                        # the carry itself
            new_g = fnp.sin(g @ x.reshape(K, K))  # a matrix changing every step: np.dot
            wide = new_h @ v                      # stacked
            return {"h": new_h, "g": new_g}, (wide, (h @ w).reshape(K, 1))
        return lax.scan(step, {"h": h0, "g": h0}, xs)
    xs = RNG.normal(size=(3, K * K)) * 0.3
    assert_compiled_equals_evaluated(fun, W, V, H0, xs)


def test_while_loop_products_and_their_gradient():
    """A while loop's body (and the backward loop through its tape) computes its products
    the same way."""
    def loss(w, h0):
        def body(c):
            i, h = c
            return i + 1, fnp.tanh(w @ h + h @ w)
        _, h = lax.while_loop(lambda c: c[0] < 5, body, (0, h0))
        return fnp.sum(h * h)
    assert_compiled_equals_evaluated(loss, W, H0)
    grad = fg.grad(loss, argnums=(0, 1))
    for g, w in zip(fg.jit(grad)(W, H0), evaluated(grad, W, H0)):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-13)
    check_grads(loss, (W, H0))


def test_float32_and_nested_loops():
    """gemv in float32; a product in a scan inside a scan (its buffer reused by every inner
    and outer step) and one whose matrix is the outer step's row."""
    def fun(w, h0, xs):
        def outer(h, x):
            inner, _ = lax.scan(lambda g, _: (fnp.tanh(g @ w + x), None), h, None, length=3)
            m = fnp.outer(x, x)
            return inner, m @ h
        return lax.scan(outer, h0, xs)
    for dtype, rtol in [(np.float64, 1e-12), (np.float32, 1e-5)]:
        args = [a.astype(dtype) for a in (W, H0, XS)]
        got, want = fg.jit(fun)(*args), evaluated(fun, *args)
        for g, w in zip(fg.tree.leaves(got), fg.tree.leaves(want)):
            assert g.dtype == dtype
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)
    assert "fgb.xxgemv(115" in fg.jit(fun).lower(*[a.astype(np.float32)
                                                    for a in (W, H0, XS)]).source


def test_vmap_and_jvp_of_a_scan_with_products():
    """vmap makes the body's products matrix-matrix ones (gemm, into the carry's spare
    buffer or a buffer reused by every step); jvp adds the tangents' products."""
    loss = rnn(STEPS["W @ h"])
    batched = fg.vmap(fg.grad(loss, argnums=(0, 1)), (None, None, 0, None))
    h0s = RNG.normal(size=(3, K))
    source = fg.jit(batched).lower(W, B, h0s, XS).source
    assert "fgb.xxgemm(" in source
    assert_compiled_equals_evaluated(batched, W, B, h0s, XS)
    tangent = fg.jit(lambda w, t: fg.jvp(lambda w: loss(w, B, H0, XS), (w,), (t,)))
    for got, want in zip(tangent(W, V @ V.T), evaluated(
            lambda w, t: fg.jvp(lambda w: loss(w, B, H0, XS), (w,), (t,)), W, V @ V.T)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)


def test_a_matrix_of_another_layout_is_made_contiguous_once_before_the_loop():
    loss = rnn(STEPS["h @ W"])
    w_f = np.asfortranarray(W)
    source = fg.jit(loss).lower(w_f, B, H0, XS).source
    before, loop = source.split("for i_", 1)
    assert "fgb.contiguous(a)" in before  # (inside the loop it is then the identity)
    grad = fg.grad(loss, argnums=(0, 1, 2))
    for g, w in zip(fg.jit(grad)(w_f, B, H0, XS), evaluated(grad, W, B, H0, XS)):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-13)
