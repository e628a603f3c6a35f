"""Impossible work fails fast, and large programs do not break the compiler (issue 14 items
6 and 8)."""

import time

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp


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


def test_a_function_too_large_for_numba_runs_with_numpy_and_says_so(monkeypatch):
    monkeypatch.setenv("FUNCGRAD_MAX_GENERATED_LINES", "50")
    loss, x = _unrolled(40), np.full(3, 0.2)
    with pytest.warns(RuntimeWarning, match=r"equations: its generated function .* too large"):
        got = fg.jit(fg.grad(loss))(x)
    np.testing.assert_allclose(got, fg.grad(loss)(x))
