"""The benchmark problems of issue 4 item 8, each in every form the harness times.

Each problem's mathematics is written once, as a function of an array module ``xp`` (and of
that library's ``stop_gradient`` where it matters), and instantiated for
``funcgrad.numpy`` (the loss funcgrad differentiates), NumPy (the plain forward pass),
``jax.numpy`` and ``autograd.numpy``; so every library computes the same thing. Beside it is
a hand-written, hand-fused ``@numba.njit`` gradient: what an expert would write by hand
(fused loops, ``np.dot`` for matrix products, few temporaries), the practical limit that
``fg.jit(fg.grad(loss))`` is measured against. It returns the same structure as
``fg.grad(loss, argnums)``.

A :class:`Problem` holds them all; :data:`PROBLEMS` lists them by name. ``make(test=True)``
builds smaller data, for tests/test_benchmark_problems.py.

Only NumPy, Numba and funcgrad are needed to import this module; JAX and autograd are
imported when their versions are asked for (``Problem.jax_loss()``,
``Problem.autograd_loss()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numba
import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def _identity(x):
    return x


@dataclass
class Problem:
    """One benchmark problem.

    Attributes:
        name: its name on the command line and in the table.
        description: one line for the table's legend.
        make: ``make(test=False) -> args``: the arguments of ``loss`` (fixed seed);
            ``test=True`` gives small sizes for the tests.
        generic: ``generic(xp, stop_gradient, *args)``: the loss, for any NumPy-like module.
        grad_njit: the hand-written gradient: ``grad_njit(*args)`` has the structure of
            ``fg.grad(loss, argnums)(*args)``.
        argnums: what is differentiated (as in ``fg.grad``).
        loss: the loss written with funcgrad.numpy (set in ``__post_init__``).
        forward: the plain NumPy forward pass (set in ``__post_init__``).
        rtol: the tolerance when comparing gradients of this problem.
    """

    name: str
    description: str
    make: Callable[..., tuple]
    generic: Callable[..., Any]
    grad_njit: Callable[..., Any]
    argnums: int | tuple = 0
    rtol: float = 1e-9
    loss: Callable = field(init=False)
    forward: Callable = field(init=False)

    def __post_init__(self):
        generic, name = self.generic, self.name

        def loss(*args):
            return generic(fnp, fg.stop_gradient, *args)

        def forward(*args):
            return generic(np, _identity, *args)

        loss.__name__ = loss.__qualname__ = f"{name}_loss"
        forward.__name__ = forward.__qualname__ = f"{name}_forward"
        self.loss, self.forward = loss, forward

    def jax_loss(self):
        """The loss with jax.numpy (float64 needs ``jax_enable_x64``, which the caller sets)."""
        import jax
        import jax.numpy as jnp
        generic = self.generic

        def loss(*args):
            return generic(jnp, jax.lax.stop_gradient, *args)
        return loss

    def autograd_loss(self):
        """The loss with autograd.numpy (autograd has no stop_gradient: the identity)."""
        import autograd.numpy as anp
        generic = self.generic

        def loss(*args):
            return generic(anp, _identity, *args)
        return loss


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------
# MLP: tanh hidden layer, softmax cross-entropy on one-hot labels, mean over the batch


def _mlp(xp, stop_gradient, params, x, y):
    h = xp.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    z = z - stop_gradient(xp.max(z, axis=1, keepdims=True))
    log_p = z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))
    return -xp.sum(y * log_p) / x.shape[0]


def _make_mlp(sizes, batch, dtype, seed):
    def make(test=False):
        n_in, n_hidden, n_out = (12, 9, 5) if test else sizes
        b = 6 if test else batch
        rng = _rng(seed)
        params = {
            "W1": rng.normal(0, 1 / math.sqrt(n_in), (n_in, n_hidden)).astype(dtype),
            "b1": rng.normal(0, 0.1, n_hidden).astype(dtype),
            "W2": rng.normal(0, 1 / math.sqrt(n_hidden), (n_hidden, n_out)).astype(dtype),
            "b2": rng.normal(0, 0.1, n_out).astype(dtype),
        }
        x = rng.normal(0, 1, (b, n_in)).astype(dtype)
        y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, b)]
        return params, x, y
    return make


@numba.njit(cache=False)
def _mlp_grad_kernel(W1, b1, W2, b2, x, y):
    n, n_hidden = x.shape[0], W1.shape[1]
    n_out = W2.shape[1]
    h = np.dot(x, W1)
    for i in range(n):
        for j in range(n_hidden):
            h[i, j] = np.tanh(h[i, j] + b1[j])
    dz = np.dot(h, W2)
    scale = 1.0 / n
    for i in range(n):  # softmax cross-entropy: dz = (softmax(z) * sum(y) - y) / n
        m = dz[i, 0] + b2[0]
        for k in range(1, n_out):
            m = max(m, dz[i, k] + b2[k])
        s = 0.0
        ysum = 0.0
        for k in range(n_out):
            e = np.exp(dz[i, k] + b2[k] - m)
            dz[i, k] = e
            s += e
            ysum += y[i, k]
        c = ysum / s
        for k in range(n_out):
            dz[i, k] = (dz[i, k] * c - y[i, k]) * scale
    dW2 = np.dot(h.T, dz)
    db2 = np.zeros(n_out, dtype=W2.dtype)
    for i in range(n):
        for k in range(n_out):
            db2[k] += dz[i, k]
    da = np.dot(dz, W2.T)
    db1 = np.zeros(n_hidden, dtype=W1.dtype)
    for i in range(n):
        for j in range(n_hidden):
            d = da[i, j] * (1 - h[i, j] * h[i, j])
            da[i, j] = d
            db1[j] += d
    dW1 = np.dot(x.T, da)
    return dW1, db1, dW2, db2


def mlp_grad(params, x, y):
    """The gradient of the MLP loss with respect to ``params`` (a dict like params)."""
    dW1, db1, dW2, db2 = _mlp_grad_kernel(params["W1"], params["b1"], params["W2"],
                                          params["b2"], x, y)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# ---------------------------------------------------------------------------------------
# Logistic regression: mean softplus(-y * (X @ w)) + lam/2 * |w|^2, labels +-1

LOGREG_L2 = 1e-3


def _logreg(xp, stop_gradient, w, X, y):
    t = -y * (X @ w)
    softplus = xp.maximum(t, 0.0) + xp.log1p(xp.exp(-xp.abs(t)))  # never overflows
    return xp.sum(softplus) / X.shape[0] + 0.5 * LOGREG_L2 * xp.sum(w * w)


def _make_logreg(test=False):
    n, d = (40, 7) if test else (2000, 100)
    rng = _rng(1)
    X = rng.normal(0, 1, (n, d))
    w_true = rng.normal(0, 1, d)
    y = np.where(X @ w_true + rng.normal(0, 1, n) > 0, 1.0, -1.0)
    w = rng.normal(0, 0.1, d)
    return w, X, y


@numba.njit(cache=False)
def _logreg_grad_kernel(w, X, y, l2):
    n = X.shape[0]
    dz = np.dot(X, w)
    for i in range(n):
        t = -y[i] * dz[i]
        if t >= 0:
            s = 1.0 / (1.0 + np.exp(-t))
        else:
            e = np.exp(t)
            s = e / (1.0 + e)
        dz[i] = -y[i] * s / n
    g = np.dot(X.T, dz)
    for j in range(g.shape[0]):
        g[j] += l2 * w[j]
    return g


def logreg_grad(w, X, y):
    """The gradient of the logistic-regression loss with respect to ``w``."""
    return _logreg_grad_kernel(w, X, y, LOGREG_L2)


# ---------------------------------------------------------------------------------------
# Rosenbrock: sum(100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2)


def _rosenbrock(xp, stop_gradient, x):
    d = x[1:] - x[:-1] * x[:-1]
    e = 1.0 - x[:-1]
    return xp.sum(100.0 * d * d + e * e)


def _make_rosenbrock(test=False):
    n = 11 if test else 10_000
    return (_rng(2).uniform(-1.5, 1.5, n),)


@numba.njit(cache=False)
def rosenbrock_grad(x):
    """The gradient of the Rosenbrock function."""
    n = x.shape[0]
    g = np.empty_like(x)
    g[0] = 0.0
    for i in range(n - 1):
        xi = x[i]
        d = x[i + 1] - xi * xi
        g[i] += -400.0 * xi * d - 2.0 * (1.0 - xi)
        g[i + 1] = 200.0 * d
    return g


# ---------------------------------------------------------------------------------------
# A chain of 22 elementwise operations, then a sum


def _elementwise_chain(xp, stop_gradient, x):
    a = xp.sin(x)                      # 1
    q = xp.exp(-(x * x))               # 2-4
    c = a * q + 0.5 * x                # 5-7
    d = xp.tanh(c)                     # 8
    e = xp.log(1.0 + x * x)            # 9-11
    f = xp.where(x > 0, d, e)          # 12-13
    g = xp.maximum(f, 0.1 * x)         # 14-15
    h = g * g + xp.cos(x) * e          # 16-19
    return xp.sum(xp.sqrt(h * h + 1.0))  # 20-22, then the sum


def _make_elementwise_chain(test=False):
    n = 50 if test else 1_000_000
    return (_rng(3).normal(0, 1.5, n),)


@numba.njit(cache=False)
def elementwise_chain_grad(x):
    """The gradient of the elementwise chain: one fused loop, forward then backward."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        xi = x[i]
        sx, cx = np.sin(xi), np.cos(xi)
        xx = xi * xi
        q = np.exp(-xx)
        d = np.tanh(sx * q + 0.5 * xi)
        e = np.log(1.0 + xx)
        f = d if xi > 0 else e
        lo = 0.1 * xi
        g = f if f >= lo else lo
        h = g * g + cx * e
        dh = h / np.sqrt(h * h + 1.0)
        dx = -sx * e * dh                   # through cos(x)
        de = cx * dh
        dg = 2.0 * g * dh
        if f >= lo:
            if xi > 0:
                dc = dg * (1.0 - d * d)
                dx += dc * (q * cx + sx * q * (-2.0 * xi) + 0.5)
            else:
                de += dg
        else:
            dx += 0.1 * dg
        dx += de * 2.0 * xi / (1.0 + xx)
        out[i] = dx
    return out


# ---------------------------------------------------------------------------------------
# A function of three Python floats, 15 operations


def _scalar_tiny(xp, stop_gradient, x, y, z):
    a = x * y + z                            # 2
    b = xp.sin(a) * xp.exp(-z)               # 6
    c = xp.log(1.0 + x * x) / y              # 10
    d = xp.tanh(b + c)                       # 12
    return d * x + xp.sqrt(z)                # 15


def _make_scalar_tiny(test=False):
    return 0.7, 1.3, 2.1


@numba.njit(cache=False)
def scalar_tiny_grad(x, y, z):
    """The gradient of scalar_tiny with respect to x, y and z (a tuple of three floats)."""
    a = x * y + z
    sa = math.sin(a)
    ez = math.exp(-z)
    xx1 = 1.0 + x * x
    lg = math.log(xx1)
    c = lg / y
    d = math.tanh(sa * ez + c)
    du = x * (1.0 - d * d)                   # d(d * x)/d(b + c)
    da = du * ez * math.cos(a)
    dx = d + du / y * 2.0 * x / xx1 + da * y
    dy = -du * c / y + da * x
    dz = da - du * sa * ez + 0.5 / math.sqrt(z)
    return dx, dy, dz


# ---------------------------------------------------------------------------------------
# An RNN unrolled by a Python loop: 50 steps of h = tanh(h @ W + b), loss sum(h^2)

RNN_STEPS = 50


def _rnn_loop(xp, stop_gradient, params, h0):
    h = h0
    for _ in range(RNN_STEPS):
        h = xp.tanh(h @ params["W"] + params["b"])
    return xp.sum(h * h)


def _make_rnn_loop(test=False):
    n = 6 if test else 64
    rng = _rng(4)
    params = {"W": rng.normal(0, 1.2 / math.sqrt(n), (n, n)), "b": rng.normal(0, 0.1, n)}
    return params, rng.normal(0, 1, n)


@numba.njit(cache=False)
def _rnn_grad_kernel(W, b, h0, steps):
    n = h0.shape[0]
    hs = np.empty((steps + 1, n), dtype=h0.dtype)
    hs[0] = h0
    for t in range(steps):
        a = np.dot(hs[t], W)
        for j in range(n):
            hs[t + 1, j] = np.tanh(a[j] + b[j])
    das = np.empty((steps, n), dtype=h0.dtype)
    dh = 2.0 * hs[steps]
    for t in range(steps - 1, -1, -1):
        for j in range(n):
            das[t, j] = dh[j] * (1.0 - hs[t + 1, j] * hs[t + 1, j])
        dh = np.dot(W, das[t])
    dW = np.dot(hs[:steps].T, das)
    db = np.zeros(n, dtype=h0.dtype)
    for t in range(steps):
        for j in range(n):
            db[j] += das[t, j]
    return dW, db


def rnn_loop_grad(params, h0):
    """The gradient of the RNN loss with respect to ``params`` (a dict like params)."""
    dW, db = _rnn_grad_kernel(params["W"], params["b"], h0, RNN_STEPS)
    return {"W": dW, "b": db}


# The same RNN written with a scan (issue 11): funcgrad.lax.scan and jax.lax.scan trace the
# step once, whatever the number of steps; NumPy and autograd run the Python loop.


def _scan_of(xp):
    if xp is fnp:
        return fg.lax.scan
    if xp.__name__.startswith("jax"):
        import jax
        return jax.lax.scan
    return None


def _rnn_scan(steps):
    def generic(xp, stop_gradient, params, h0):
        def step(h, _):
            return xp.tanh(h @ params["W"] + params["b"]), None
        scan = _scan_of(xp)
        if scan is None:
            h = h0
            for _ in range(steps):
                h = step(h, None)[0]
        else:
            h, _ = scan(step, h0, None, length=steps)
        return xp.sum(h * h)
    return generic


def _rnn_scan_grad(steps):
    def grad(params, h0):
        dW, db = _rnn_grad_kernel(params["W"], params["b"], h0, steps)
        return {"W": dW, "b": db}
    return grad


# ---------------------------------------------------------------------------------------

PROBLEMS: dict[str, Problem] = {p.name: p for p in [
    Problem("mlp", "784-256-10 tanh MLP, batch 64, softmax cross-entropy, float64",
            _make_mlp((784, 256, 10), 64, np.float64, 10), _mlp, mlp_grad),
    Problem("mlp_f32", "the same MLP in float32",
            _make_mlp((784, 256, 10), 64, np.float32, 10), _mlp, mlp_grad, rtol=2e-4),
    Problem("mlp_small", "16-32-4 tanh MLP, batch 8",
            _make_mlp((16, 32, 4), 8, np.float64, 11), _mlp, mlp_grad),
    Problem("logreg", "logistic regression 2000 x 100, stable softplus loss, L2",
            _make_logreg, _logreg, logreg_grad),
    Problem("rosenbrock", "Rosenbrock function, n = 10,000",
            _make_rosenbrock, _rosenbrock, rosenbrock_grad),
    Problem("elementwise_chain", "22 elementwise ops on 1e6 float64, then a sum",
            _make_elementwise_chain, _elementwise_chain, elementwise_chain_grad),
    Problem("scalar_tiny", "15 ops on three Python floats, gradient in all three",
            _make_scalar_tiny, _scalar_tiny, scalar_tiny_grad, argnums=(0, 1, 2)),
    Problem("rnn_loop", "50 steps of h = tanh(h @ W + b), n = 64, Python loop (unrolled)",
            _make_rnn_loop, _rnn_loop, rnn_loop_grad),
    Problem("rnn_scan", "the same 50-step RNN written with lax.scan (a compiled loop)",
            _make_rnn_loop, _rnn_scan(RNN_STEPS), _rnn_scan_grad(RNN_STEPS)),
    Problem("rnn_scan_500", "the lax.scan RNN at 500 steps",
            _make_rnn_loop, _rnn_scan(10 * RNN_STEPS), _rnn_scan_grad(10 * RNN_STEPS)),
]}
