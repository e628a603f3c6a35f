"""funcgrad.debug.print and funcgrad.debug.callback (JAX's jax.debug): they run on runtime
values wherever the program runs. Expected outputs under transforms are JAX 0.10's (what
jax.debug.print printed for the same functions), hard-coded."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.core.ir import common_subexpression_elimination, dead_code_elimination

HERE = os.path.basename(__file__)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def printed(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def f_prints(x):
    fg.debug.print("x={x}", x=x)
    return fnp.sum(fnp.sin(x))


def test_eager_print_and_callback(capsys):
    assert fg.debug.print("{} and {b:.2f}", np.arange(2.0), b=np.float32(1.5)) is None
    seen = []
    assert fg.debug.callback(lambda *a, **k: seen.append((a, k)), {"w": np.ones(2)},
                             (3, "label", None), z=2.5) is None
    assert printed(capsys) == ["[0. 1.] and 1.50"]
    (tree, (three, label, none)), kwargs = seen[0]
    # arrays and numbers arrive as NumPy arrays of their own; other leaves as they are
    assert type(tree["w"]) is np.ndarray and np.array_equal(tree["w"], np.ones(2))
    assert type(three) is np.ndarray and three == 3 and (label, none) == ("label", None)
    assert type(kwargs["z"]) is np.ndarray and kwargs["z"] == 2.5


def test_jit_compiled_prints_runtime_values_every_call(capsys):
    def f(x, s):
        fg.debug.print("doubled={} s={}", x * 2, s)
        return x + 1

    jitted = fg.jit(f, compile="sync")
    assert "fgd.run(" in jitted.lower(np.ones(2), np.float32(0.5)).source  # compiled in
    out = jitted(np.ones(2), np.float32(0.5))
    jitted(np.array([3.0, 4.0]), np.float32(-1.0))  # the same compiled function
    assert np.array_equal(out, [2.0, 2.0])
    assert printed(capsys) == ["doubled=[2. 2.] s=0.5", "doubled=[6. 8.] s=-1.0"]


def test_compiled_callback_gets_fresh_arrays_of_the_right_dtype(capsys):
    seen = []

    def f(x):
        for i in range(3):  # three callbacks, each its own array
            x = x * 2.0
            fg.debug.callback(seen.append, (x, x[0], i))
        return x

    fg.jit(f, compile="sync")(np.ones(2, np.float32))
    assert [(a.tolist(), b.dtype, int(i)) for a, b, i in seen] == [
        ([2.0, 2.0], np.float32, 0), ([4.0, 4.0], np.float32, 1), ([8.0, 8.0], np.float32, 2)]
    assert all(a.dtype == np.float32 and b.shape == () for a, b, _ in seen)


def test_tiered_jit_prints_once_per_call_in_both_tiers(capsys):
    jitted = fg.jit(lambda x: fg.debug.print("tiered {}", x - 0.25) or x, compile="tiered")
    for k in range(3):
        jitted(float(k))
    with fg.disable_jit():
        jitted(7.0)
    assert printed(capsys) == ["tiered -0.25", "tiered 0.75", "tiered 1.75", "tiered 6.75"]


def test_dead_code_elimination_and_cse_keep_every_print(capsys):
    def f(x):
        fg.debug.print("unused {}", x * 3.0)  # nothing reads it
        fg.debug.print("unused {}", x * 3.0)  # the same computation: printed again
        return x

    def g(x):  # a loop whose results nothing reads, kept for the print in its body
        lax.fori_loop(0, 2, lambda i, c: fg.debug.print("body {}", i) or c + 1.0, x)
        return x

    program = fg.make_ir(f)(1.0).program
    kept = dead_code_elimination(common_subexpression_elimination(program))
    assert [e.primitive.name for e in kept.equations].count("debug_callback") == 2
    assert len(dead_code_elimination(fg.make_ir(g)(1.0).program).equations) == 1
    fg.jit(f, compile="sync")(2.0)
    fg.jit(g, compile="sync")(2.0)
    assert printed(capsys) == ["unused 6.0", "unused 6.0", "body 0", "body 1"]


def test_grad_prints_primal_values_once_in_the_forward_pass(capsys):
    x = np.arange(2.0)
    fg.grad(f_prints)(x)
    fg.jit(fg.grad(f_prints), compile="sync")(x)
    fg.value_and_grad(f_prints)(x)
    fg.hessian(lambda x: f_prints(x) * 1.0)(x)
    _, pullback = fg.vjp(f_prints, x)
    print("pullback")
    pullback(1.0)  # the backward pass prints nothing
    fg.jvp(f_prints, (x,), (np.ones(2),))
    assert printed(capsys) == ["x=[0. 1.]"] * 5 + ["pullback", "x=[0. 1.]"]


def test_checkpoint_and_custom_vjp_as_jax(capsys):
    def f(x):
        fg.debug.print("ck {}", x)
        return fnp.sin(x)

    fg.grad(fg.checkpoint(f))(1.0)  # the backward pass recomputes f: JAX prints twice too

    @fg.custom_vjp
    def h(x):
        return f(x)

    h.defvjp(lambda x: (f(x), x), lambda r, g: (fg.debug.print("bwd {}", g) or g,))
    fg.grad(h)(2.0)
    assert printed(capsys) == ["ck 1.0", "ck 1.0", "ck 2.0", "bwd 1.0"]


def test_vmap_prints_once_per_example_in_jax_order(capsys):
    fg.vmap(f_prints)(np.arange(4.0).reshape(2, 2))
    fg.vmap(lambda x: fg.debug.print("col {}", x) or x, in_axes=1)(np.arange(4.0).reshape(2, 2))
    fg.vmap(lambda x: fg.debug.print("same {}", 1.0) or x)(np.arange(3.0))  # unbatched: once

    def g(x, y):
        fg.debug.print("g {} {}", x, y)
        return x + y

    nested = fg.vmap(fg.vmap(g, in_axes=(0, None)), in_axes=(None, 0))
    nested(np.arange(2.0), np.array([0.0, 10.0, 20.0]))
    fg.jit(nested, compile="sync")(np.arange(2.0), np.array([0.0, 10.0, 20.0]))
    pairs = [f"g {x} {y}" for x in (0.0, 1.0) for y in (0.0, 10.0, 20.0)]  # JAX's order
    assert printed(capsys) == ["x=[0. 1.]", "x=[2. 3.]", "col [0. 2.]", "col [1. 3.]",
                               "same 1.0"] + pairs + pairs


def control_flow(xs, n):
    def step(c, x):
        fg.debug.print("scan c={} x={}", c, x)
        return c + x, c

    total, _ = lax.scan(step, 0.0, xs)
    count = lax.while_loop(lambda i: i < n,
                           lambda i: fg.debug.print("while {}", i) or i + 1, 0)
    loop = lax.fori_loop(0, 2, lambda i, c: fg.debug.print("fori {}", i) or c * 2.0, total)
    return lax.cond(count > 1, lambda v: fg.debug.print("taken {}", v) or v,
                    lambda v: fg.debug.print("not taken {}", v) or -v, loop)


CONTROL_FLOW = ["scan c=0.0 x=0.0", "scan c=0.0 x=1.0", "scan c=1.0 x=2.0", "while 0",
                "while 1", "fori 0", "fori 1", "taken 12.0"]


def test_loops_print_every_step_and_cond_its_taken_branch(capsys):
    xs = np.arange(3.0)
    assert control_flow(xs, 2) == 12.0
    assert fg.jit(control_flow, compile="sync")(xs, 2) == 12.0
    assert printed(capsys) == CONTROL_FLOW * 2
    fg.grad(lambda x: lax.fori_loop(0, 2, lambda i, c: fg.debug.print("c {}", c) or
                                    fnp.sin(c), x))(1.0)
    fg.vmap(lambda p, x: lax.cond(p, lambda v: fg.debug.print("t {}", v) or v,
                                  lambda v: fg.debug.print("f {}", v) or v, x))(
        np.array([True, False]), np.arange(2.0))  # batched predicate: both run, as JAX's
    assert printed(capsys) == ["c 1.0", f"c {np.sin(1.0)}", "f 0.0", "f 1.0", "t 0.0",
                               "t 1.0"]


def test_a_loaded_module_calls_the_callback_of_its_own_process():
    """Generated source is cached on disk by its text: the second process loads the first
    one's compiled module and must call its own callback, not a key from the first."""
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import funcgrad as fg
        from funcgrad.compile import stats
        for other in range(int(sys.argv[1])):  # takes keys: this process's callback's differ
            fg.debug.print("other {}", 0.5)
        fg.jit(lambda x: fg.debug.print(sys.argv[2] + " {}", x * 2.0) or x)(np.ones(2))
        print("compiled", stats()["numba_compilations"])
    """)
    # (Numba's default optimisation: at level 0, as the suite runs, such code is not cached)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_OPT"}
    outs = []
    for others, tag in [(0, "first"), (2, "second")]:
        run = subprocess.run([sys.executable, "-c", script, str(others), tag], cwd=ROOT,
                             capture_output=True, text=True, timeout=300, env=env)
        assert run.returncode == 0, run.stderr
        outs.append(run.stdout.splitlines())
    assert outs[0][-2] == "first [2. 2.]"
    assert outs[1] == ["other 0.5", "other 0.5", "second [2. 2.]", "compiled 0"]


def test_bad_input_names_the_users_line():
    cases = [(lambda: fg.debug.print(3, 1.0), fg.FuncgradTypeError, "format string, got int"),
             (lambda: fg.debug.callback("f", 1.0), fg.FuncgradTypeError,
              "must be a function, got str"),
             (lambda: fg.debug.print("{y}", 1.0), fg.FuncgradValueError,
              "no keyword argument y="),
             (lambda: fg.jit(lambda x: fg.debug.print("{} {}", x))(1.0), fg.FuncgradValueError,
              "reads positional argument 1"),
             (lambda: fg.debug.print("{", 1.0), fg.FuncgradValueError, "is malformed")]
    for bad, error, message in cases:
        with pytest.raises(error, match=message) as info:
            bad()
        assert f"(in {HERE}:" in str(info.value)


def test_an_error_in_the_callback_reaches_the_caller():
    def boom(x):
        raise RuntimeError(f"boom {x}")

    for mode in (fg.jit(lambda x: fg.debug.callback(boom, x), compile="sync"),
                 lambda x: fg.debug.callback(boom, x)):
        with pytest.raises(RuntimeError, match="boom 1.0"):
            mode(1.0)
