"""Impossible work fails fast, and large programs do not break the compiler (issue 14 items
6 and 8)."""

import time
import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.compile.codegen import generate, split


@pytest.mark.parametrize("run", [
    lambda a, b: fg.grad(lambda a, b: fnp.sum(a + b))(a, b),
    lambda a, b: fg.jit(fg.grad(lambda a, b: fnp.sum(a + b)))(a, b),
    lambda a, b: fnp.add(a, b),
    lambda a, b: fg.grad(lambda a: fnp.sum(fnp.broadcast_to(a, (10**6, 10**6))))(a),
], ids=["grad", "jit(grad)", "eager", "broadcast_to"])
def test_a_result_larger_than_memory_raises_at_once(run):
    a, b = np.ones((10**6, 1)), np.ones((1, 10**6))
    start = time.perf_counter()
    with pytest.raises(MemoryError, match=r"f64\[1000000,1000000\].*more than this machine"):
        run(a, b)
    assert time.perf_counter() - start < 5.0


def _unrolled(steps):
    def loss(x):
        for _ in range(steps):
            x = fnp.sin(x) * 1.01 + 0.1
        return fnp.sum(x)
    return loss


def test_programs_of_ten_thousand_equations_trace_and_transform():
    loss = _unrolled(1700)  # its gradient: about 10^4 equations
    x = np.full(3, 0.3)
    closed = fg.make_ir(fg.grad(loss))(x)
    assert len(closed.equations) >= 10_000
    assert str(closed).count("\n") >= 10_000  # printing walks it too
    expected = closed(x)[0]
    with fg.disable_jit():
        np.testing.assert_allclose(fg.jit(fg.grad(loss))(x), expected)


def test_code_generation_for_a_long_unrolled_loop_needs_no_deep_python_stack():
    lowered = fg.jit(fg.grad(_unrolled(600))).lower(np.ones(3))  # nests deeper than 1000
    assert len(lowered.program.equations) > 3000 and "def program" in lowered.source


def test_a_function_too_large_for_numba_is_compiled_in_parts(monkeypatch):
    monkeypatch.setenv("FUNCGRAD_MAX_GENERATED_LINES", "60")
    W = np.array([[0.5, -0.3], [0.2, 0.4]])

    def loss(x):  # an unrolled RNN: each step's gradient reads the step before
        for _ in range(6):
            x = fnp.tanh(W @ x) * 1.01 + 0.1
        return fnp.sum(x ** 2), x
    x = np.array([0.3, -0.2])
    step = fg.jit(fg.value_and_grad(lambda x: loss(x)[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # split, not run with NumPy
        value, g = step(x)
        both = fg.jit(loss)(x)
    parts = step.lower(x).executable
    assert parts.too_big
    want_value, want_g = fg.value_and_grad(lambda x: loss(x)[0])(x)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(g, want_g, rtol=1e-12)
    np.testing.assert_allclose(both[1], loss(x)[1], rtol=1e-12)


@pytest.mark.parametrize("parts", [2, 7, 40])
def test_split_parts_run_in_sequence_compute_the_program(parts):
    closed = fg.make_ir(fg.grad(_unrolled(12)))(np.full(3, 0.3))
    program = closed.program
    assert not program.constvars
    pieces = split(program, parts)
    assert min(parts, len(program.equations)) // 2 <= len(pieces) <= 2 * parts
    assert all(piece.equations for piece in pieces)
    env = {id(program.invars[0]): np.full(3, 0.3)}
    for piece in pieces:
        assert not any(id(v) in env for e in piece.equations for v in e.outputs)
        outs = fg.evaluate(piece, [env[id(v)] for v in piece.invars])
        env.update((id(v), o) for v, o in zip(piece.outvars, outs))
    np.testing.assert_allclose(env[id(program.outvars[0])], closed(np.full(3, 0.3))[0])


def test_the_parts_of_an_unrolled_loop_are_the_same_code_compiled_once():
    program = fg.make_ir(fg.grad(_unrolled(300)))(np.full(3, 0.3)).program
    pieces = split(program, 12)
    sources = {generate(piece).source for piece in pieces}
    assert len(pieces) >= 12 and len(sources) <= 5  # forward, backward, their seams


def test_what_cannot_be_split_runs_with_numpy_and_says_why_and_what_to_do(monkeypatch):
    monkeypatch.setenv("FUNCGRAD_MAX_GENERATED_LINES", "20")

    def body(c, _):  # one scan: a single equation, whose body alone is too large
        for _ in range(8):
            c = fnp.sin(c) * 1.01 + 0.1
        return c, None
    run = fg.jit(lambda x: fg.lax.scan(body, x, None, length=3)[0])
    x = np.full(3, 0.2)
    with pytest.warns(RuntimeWarning, match=r"equations: its generated function .* too large"
                                            r"[\s\S]*lax.scan"):
        got = run(x)
    np.testing.assert_allclose(got, fg.lax.scan(body, x, None, length=3)[0])


def _chain(kind, n):
    """A function whose program is a chain of about n equations, each reading the last."""
    steps = {"cheap": lambda x: x * 0.999 + 0.001, "calls": lambda x: fnp.sin(x) + x,
             "views": lambda x: x.T, "slices": lambda x: fnp.concatenate([x[1:], x[:1]])}
    per_step = {"cheap": 2, "calls": 2, "views": 1, "slices": 3}[kind]

    def f(x):
        for _ in range(n // per_step):
            x = steps[kind](x)
        return x
    return f


@pytest.mark.parametrize("kind", ["cheap", "calls", "views", "slices"])
def test_code_generation_of_ten_thousand_chained_equations_is_linear(kind):
    x = np.arange(9.0).reshape(3, 3) / 10
    start = time.perf_counter()
    lowered = fg.jit(_chain(kind, 10_000)).lower(x)
    assert len(lowered.program.equations) >= 9_999 and "def program" in lowered.source
    assert time.perf_counter() - start < 60  # was minutes (reads through every value)


def test_eager_transforms_of_long_chains_need_no_deep_stack():
    f = _chain("cheap", 100_000)  # 10^5 equations: traced and evaluated
    x = np.full(3, 0.5)
    closed = fg.make_ir(f)(x)
    assert len(closed.equations) >= 100_000
    expected = x
    for _ in range(50_000):
        expected = expected * 0.999 + 0.001
    np.testing.assert_allclose(closed(x)[0], expected)
    g = _chain("cheap", 10_000)  # 10^4: differentiated, batched, pushed forward
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(g(x)))(x), np.full(3, 0.999 ** 5000))
    np.testing.assert_allclose(fg.vmap(g)(np.stack([x, x]))[1], g(x))
    np.testing.assert_allclose(fg.jvp(g, (x,), (np.ones(3),))[1], np.full(3, 0.999 ** 5000))


@pytest.mark.parametrize("make", [lambda a: fnp.zeros((-1,)) + a, lambda a: fnp.full((2, -3), a),
                                  lambda a: fnp.broadcast_to(a, (3, -1))])
def test_a_negative_dimension_is_refused_before_compiling(make):
    for run in (fg.jit(make), fg.grad(lambda a: fnp.sum(make(a)))):
        with pytest.raises(fg.ShapeError, match="negative dimension"):
            run(1.0)


def test_jit_grad_of_a_500_step_python_loop_compiles_in_parts_and_agrees():
    """The issue's RNN: 500 steps unrolled (8,000 equations, 25,000 lines of generated code)
    compile as parts of one repeated shape (six Numba compilations, not one huge function
    that took minutes and gigabytes)."""
    xs = np.sin(np.arange(500) * 0.1)

    def loss(w):
        h = 0.0
        for t in range(500):
            h = fnp.tanh(w[0] * h + w[1] * xs[t])
        return h * h
    w = np.array([0.5, 0.8])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled, not run with NumPy
        got = fg.jit(fg.grad(loss))(w)
    np.testing.assert_allclose(got, fg.grad(loss)(w), rtol=1e-10)


def test_jit_hessian_of_an_mlp_with_83_parameters():
    rng = np.random.default_rng(0)
    sizes = [(3, 8), (8, 5), (5, 1)]
    X, Y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))

    def loss(theta):
        k, h = 0, X
        for i, (a, b) in enumerate(sizes):
            h = h @ theta[k:k + a * b].reshape(a, b) + theta[k + a * b:k + a * b + b]
            k += a * b + b
            h = fnp.tanh(h) if i < len(sizes) - 1 else h
        return fnp.mean((h - Y) ** 2)
    theta = rng.normal(size=83) * 0.3
    hessian = fg.jit(fg.hessian(loss))
    assert len(hessian.lower(theta).program.equations) < 1000  # batched, not unrolled
    np.testing.assert_allclose(hessian(theta), fg.hessian(loss)(theta), rtol=1e-8, atol=1e-12)
