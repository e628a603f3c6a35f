"""Repeated code written once (compile/outline.py): the copies of a loop body that a Python
loop unrolls into become calls of one generated function, which Numba compiles once."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.compile import outline

REPO = Path(__file__).resolve().parent.parent


def rnn_loss(params, xs, steps):
    h = xs[0]
    for t in range(steps):
        h = fnp.tanh(h @ params["W"] + xs[t % len(xs)] * params["b"])
    return fnp.sum(h ** 2)


def rnn_args(n=6, seed=0):
    rng = np.random.default_rng(seed)
    params = {"W": rng.normal(0, 0.4, (n, n)), "b": rng.normal(0, 1, n)}
    return params, rng.normal(0, 1, (3, n))


def functions_in(source: str) -> int:
    return source.count("def _repeated_")


def test_an_unrolled_loop_is_written_once_and_gives_the_same_gradient():
    params, xs = rnn_args()
    steps = 12
    jitted = fg.jit(fg.grad(lambda p, x: rnn_loss(p, x, steps)))
    source = jitted.lower(params, xs).source
    assert 1 <= functions_in(source) <= 6  # forward and backward steps, by xs[t % 3]
    assert source.count("_repeated_") - functions_in(source) >= 2 * (steps - 2)
    got = jitted(params, xs)
    with fg.disable_jit():
        expected = fg.grad(lambda p, x: rnn_loss(p, x, steps))(params, xs)
    for name in ("W", "b"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-12, atol=1e-14)
    # and against central differences
    eps, k = 1e-6, (2, 3)
    up, down = {**params, "W": params["W"].copy()}, {**params, "W": params["W"].copy()}
    up["W"][k] += eps
    down["W"][k] -= eps
    numeric = (rnn_loss(up, xs, steps) - rnn_loss(down, xs, steps)) / (2 * eps)
    assert got["W"][k] == pytest.approx(float(numeric), rel=1e-6, abs=1e-9)


def test_the_same_code_with_and_without_outlining_is_bit_identical(monkeypatch):
    params, xs = rnn_args(seed=1)
    inlined = fg.jit(fg.grad(lambda p, x: rnn_loss(p, x, 9)))
    monkeypatch.setattr(outline, "MIN_REPEATS", 10 ** 9)
    assert functions_in(inlined.lower(params, xs).source) == 0
    plain = inlined(params, xs)
    monkeypatch.undo()
    outlined = fg.jit(fg.grad(lambda p, x: rnn_loss(p, x, 9)))
    assert functions_in(outlined.lower(params, xs).source) > 0
    got = outlined(params, xs)
    for name in ("W", "b"):
        np.testing.assert_array_equal(got[name], plain[name])


def test_fewer_copies_than_the_threshold_stay_in_place():
    params, xs = rnn_args()
    steps = outline.MIN_REPEATS - 1
    source = fg.jit(lambda p, x: rnn_loss(p, x, steps)).lower(params, xs).source
    assert functions_in(source) == 0


def test_scalars_and_constants_that_differ_per_copy_are_arguments_and_results():
    def f(W, x):
        s, h = 0.0, x
        for k in range(6):
            h = fnp.tanh(W @ h)
            s = s * 0.75 + fnp.sum(h) * (k + 1.0)  # a sum per step, a constant per step
        return s

    rng = np.random.default_rng(2)
    W, x = rng.normal(0, 0.5, (5, 5)), rng.normal(size=5)
    value_and_grad = fg.jit(fg.value_and_grad(f))
    source = value_and_grad.lower(W, x).source
    assert functions_in(source) > 0
    assert re.search(r"return v\d+, v\d+\n", source)  # an array and a scalar
    value, grad = value_and_grad(W, x)
    s, h = 0.0, x
    for k in range(6):
        h = np.tanh(W @ h)
        s = s * 0.75 + h.sum() * (k + 1.0)
    assert value == pytest.approx(s, rel=1e-13)
    with fg.disable_jit():
        expected = fg.grad(f)(W, x)
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-14)
    eps = 1e-6
    up, down = W.copy(), W.copy()
    up[1, 3] += eps
    down[1, 3] -= eps
    assert grad[1, 3] == pytest.approx((f(up, x) - f(down, x)) / (2 * eps), rel=1e-6)


def test_a_program_on_several_threads_keeps_its_code_in_place():
    params, xs = rnn_args()
    source = fg.jit(lambda p, x: rnn_loss(p, x, 12), threads=2).lower(params, xs).source
    assert functions_in(source) == 0


def test_float32_copies_compute_in_float32():
    params, xs = rnn_args()
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    got = fg.jit(fg.grad(lambda p, x: rnn_loss(p, x, 10)))(params32, xs.astype(np.float32))
    with fg.disable_jit():
        expected = fg.grad(lambda p, x: rnn_loss(p, x, 10))(params, xs)
    assert got["W"].dtype == np.float32
    np.testing.assert_allclose(got["W"], expected["W"], rtol=2e-4, atol=1e-5)


WARM_PROGRAM = textwrap.dedent("""
    import json, sys
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp
    from funcgrad.compile import disk_cache as cache

    def loss(W, h):
        for _ in range(10):
            h = fnp.tanh(h @ W + 0.25)
        return fnp.sum(h ** 2)

    W = np.linspace(-0.5, 0.5, 16).reshape(4, 4)
    h = np.linspace(0.0, 1.0, 4)
    jitted = fg.jit(fg.grad(loss))
    g = jitted(W, h)
    with fg.disable_jit():
        ok = bool(np.allclose(g, fg.grad(loss)(W, h), rtol=1e-12))
    source = jitted.lower(W, h).source
    print(json.dumps({"ok": ok, "helpers": source.count("def _repeated_"),
                      "numba_compilations": cache.stats["numba_compilations"]}))
""")


def test_outlined_code_is_loaded_from_the_disk_cache(tmp_path):
    env = {**os.environ, "FUNCGRAD_CACHE_DIR": str(tmp_path), "FUNCGRAD_COMPILE": "sync",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def run():
        out = subprocess.run([sys.executable, "-c", WARM_PROGRAM], env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    cold, warm = run(), run()  # (with the suite's NUMBA_OPT=0 too)
    assert cold["ok"] and warm["ok"] and cold["helpers"] >= 1
    assert cold["numba_compilations"] == 1 and warm["numba_compilations"] == 0


def test_copies_next_to_code_that_stays_in_place():
    """A long loop of sin checks its arguments and may raise (emitter.py): it stays in place,
    and the copies around it that are outlined still read and write the right values."""
    def f(W, x, big):
        for _ in range(5):
            big = fnp.sin(big) * 0.5
            x = fnp.tanh(W @ x + fnp.sum(big) * 1e-3)
        return fnp.sum(x ** 2) + fnp.sum(big)

    rng = np.random.default_rng(3)
    W, x, big = rng.normal(0, 0.5, (4, 4)), rng.normal(size=4), rng.normal(size=5000)
    jitted = fg.jit(fg.grad(f, argnums=(0, 2)))
    source = jitted.lower(W, x, big).source
    assert functions_in(source) > 0 and "raise fgm.LargeTrigArgument" in source
    got = jitted(W, x, big)
    with fg.disable_jit():
        expected = fg.grad(f, argnums=(0, 2))(W, x, big)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-14)
