"""Row regions (compile/row_blocks.py): on several threads, a product by rows, the loops
over those rows and a product summing over them run as one parallel loop over blocks of
rows, each block's products one BLAS call into existing arrays. Results match NumPy and the
one-thread program for any thread count and row count; the one-thread code is unchanged."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.compile.context as context
import funcgrad.numpy as fnp

RNG = np.random.default_rng(3)


def _logreg(w, X, y):
    """The benchmark's logistic regression (benchmarks/problems.py)."""
    t = -y * (X @ w)
    softplus = fnp.maximum(t, 0.0) + fnp.log1p(fnp.exp(-fnp.abs(t)))
    return fnp.sum(softplus) / X.shape[0] + 0.05 * fnp.sum(w * w)


def _logreg_grad_numpy(w, X, y):
    t = -y * (X @ w)
    return X.T @ (-y / (1.0 + np.exp(-t))) / X.shape[0] + 0.1 * w


def _data(n, d, dtype=np.float64, order="C"):
    X = np.asarray(RNG.normal(size=(n, d)), dtype=dtype, order=order)
    y = np.where(RNG.normal(size=n) > 0, 1.0, -1.0).astype(dtype)
    return RNG.normal(0, 0.1, d).astype(dtype), X, y


def _grad(threads):
    """A fresh gradient (its own trace and compile) of _logreg."""
    return fg.jit(fg.grad(lambda w, X, y: _logreg(w, X, y)), compile="sync", threads=threads)


def test_a_linear_models_gradient_is_one_parallel_loop():
    w, X, y = _data(2000, 100)
    two = _grad(2).lower(w, X, y).source
    assert two.count("prange(") == 1  # X @ w, the loop over its rows and X.T @ g together
    assert "np.dot" not in two and two.count("fgb.xxgemv(") == 2
    one = _grad(1).lower(w, X, y).source  # one thread: as before row regions
    assert "prange(" not in one and "fgb." not in one and one.count("fgm.dot(") == 2


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gradients_match_numpy_for_any_thread_count(threads):
    w, X, y = _data(2001, 50)  # blocks of unequal sizes
    got = _grad(threads)(w, X, y)
    np.testing.assert_allclose(got, _logreg_grad_numpy(w, X, y), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(got, fg.grad(_logreg)(w, X, y), rtol=1e-10, atol=1e-13)


def test_float32_and_fortran_ordered_operands():
    w, X, y = _data(1500, 40, np.float32)
    got = _grad(2)(w, X, y)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _logreg_grad_numpy(w, X, y), rtol=2e-4, atol=1e-6)
    w, X, y = _data(1500, 40, order="F")
    np.testing.assert_allclose(_grad(2)(w, X, y), _logreg_grad_numpy(w, X, y), rtol=1e-10,
                               atol=1e-13)


def test_fewer_rows_than_threads_and_no_rows(monkeypatch):
    monkeypatch.setattr(context, "PARALLEL_MIN_WORK", 1)  # split even tiny programs
    w, X, y = _data(2, 5)
    f = _grad(3)
    assert "prange(2)" in f.lower(w, X, y).source  # a block of one row each
    np.testing.assert_allclose(f(w, X, y), _logreg_grad_numpy(w, X, y), rtol=1e-12)
    w, X, y = _data(0, 5)  # nothing to split: an empty product is no row region
    f = fg.jit(fg.grad(lambda w, X, y: fnp.sum(fnp.tanh(X @ w) * y)), threads=3)
    np.testing.assert_array_equal(f(w, X, y), np.zeros(5))


def _layer(W, V, X):
    """Matrix-matrix products by rows (X @ W, h @ V.T), a loop over their rows with a
    sum along each row, and the gradient's products summing over the rows."""
    h = fnp.tanh(X @ W)
    z = h @ V.T
    return fnp.sum(fnp.log(fnp.sum(fnp.exp(z), axis=1)))


def _layer_grads_numpy(W, V, X):
    h = np.tanh(X @ W)
    z = h @ V.T
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    gh = (p @ V) * (1 - h * h)
    return X.T @ gh, p.T @ h


def test_matrix_products_by_rows():
    # (Fortran-ordered: read in place; C order is the other tests' and test_threads.py's)
    X = np.asarray(RNG.normal(size=(301, 60)), order="F")
    W, V = RNG.normal(0, 0.2, (60, 40)), RNG.normal(0, 0.2, (7, 40))
    f = fg.jit(fg.grad(lambda W, V, X: _layer(W, V, X), argnums=(0, 1)), compile="sync",
               threads=2)
    assert "fgb.xxgemm(" in f.lower(W, V, X).source
    for got, want in zip(f(W, V, X), _layer_grads_numpy(W, V, X)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _two_layers(params, X, y):
    """An MLP's loss: its bias gradients sum over the rows, its weight gradients contract
    them (the first one large enough to be added up on the threads), its loss sums all."""
    h = fnp.tanh(X @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    return fnp.sum((z - y) ** 2) / X.shape[0]


def _two_layers_numpy(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    r = 2 * (h @ params["W2"] + params["b2"] - y) / X.shape[0]
    gh = (r @ params["W2"].T) * (1 - h * h)
    grads = {"W1": X.T @ gh, "b1": gh.sum(0), "W2": h.T @ r, "b2": r.sum(0)}
    return np.sum((h @ params["W2"] + params["b2"] - y) ** 2) / X.shape[0], grads


@pytest.mark.parametrize("dtype", [np.float32])  # (float64: the same code, and test_threads.py)
def test_an_mlps_loss_and_gradient_are_one_parallel_loop(dtype):
    n, d, hidden, out = 65, 300, 120, 3
    params = {"W1": RNG.normal(0, 0.1, (d, hidden)), "b1": RNG.normal(0, 0.1, hidden),
              "W2": RNG.normal(0, 0.1, (hidden, out)), "b2": RNG.normal(0, 0.1, out)}
    params = {k: v.astype(dtype) for k, v in params.items()}
    X, y = RNG.normal(size=(n, d)).astype(dtype), RNG.normal(size=(n, out)).astype(dtype)
    step = fg.jit(fg.value_and_grad(lambda p, X, y: _two_layers(p, X, y)), compile="sync",
                  threads=2)
    source = step.lower(params, X, y).source
    assert source.count("prange(") == 2  # the region, and adding up W1's large gradient
    loss, grads = step(params, X, y)
    want_loss, want = _two_layers_numpy(params, X, y)
    tol = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(loss, want_loss, rtol=tol)
    for k in want:
        assert grads[k].dtype == dtype
        np.testing.assert_allclose(grads[k], want[k], rtol=tol, atol=tol)


@pytest.mark.parametrize("layout", ["F", "strided"])
def test_vector_times_matrix_sums_over_the_rows(layout, monkeypatch):
    monkeypatch.setattr(context, "PARALLEL_MIN_WORK", 1)
    X = RNG.normal(size=(9, 8))  # a strided matrix is copied once, a Fortran one read as is
    X = np.asfortranarray(X[:, :4]) if layout == "F" else X[:, ::2]
    u = RNG.normal(size=9)
    f = fg.jit(lambda u, X: (fnp.tanh(u) @ X, fnp.tanh(X @ X[0])), threads=3)
    assert "prange(3)" in f.lower(u, X).source
    got = f(u, X)
    np.testing.assert_allclose(got[0], np.tanh(u) @ X, rtol=1e-12)
    np.testing.assert_allclose(got[1], np.tanh(X @ X[0]), rtol=1e-12)


def test_transposed_operands_are_read_in_place():
    """X.T @ u splits X.T's rows (X's columns), h @ V.T and h @ W.T read the transposed
    weights as they are (Fortran-ordered), a Fortran-ordered weight too."""
    X, u = RNG.normal(size=(300, 200)), RNG.normal(size=300)
    V, W = RNG.normal(size=(7, 300)), np.asfortranarray(RNG.normal(size=(300, 5)))
    f = fg.jit(lambda X, u, V, W: (fnp.tanh(X.T @ u), fnp.tanh(X.T @ V.T), X.T @ W),
               compile="sync", threads=2)
    source = f.lower(X, u, V, W).source
    assert "np.dot" not in source and "fgb.rows_contiguous(" in source
    want = (np.tanh(X.T @ u), np.tanh(X.T @ V.T), X.T @ W)
    for got, expected in zip(f(X, u, V, W), want):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
