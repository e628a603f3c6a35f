"""jit: compiled programs equal the NumPy evaluation, gradients included."""

import functools

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.compile import executable as jit_module

rng = np.random.default_rng(0)


def close(a, b, rtol=1e-12, atol=1e-13):
    for x, y in zip(fg.tree.leaves(a), fg.tree.leaves(b)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype, (x.shape, y.shape, x.dtype, y.dtype)
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
    assert len(fg.tree.leaves(a)) == len(fg.tree.leaves(b))


def mlp_loss(params, x, y):
    W1, b1, W2, b2 = params
    h = fnp.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    return -fnp.mean(fnp.sum(y * fg.nn.log_softmax(logits), axis=1))


def mlp_data(batch=8, dtype=np.float64):
    params = [rng.normal(size=(16, 32)), rng.normal(size=32) * 0.1,
              rng.normal(size=(32, 4)), rng.normal(size=4) * 0.1]
    x = rng.normal(size=(batch, 16))
    y = np.eye(4)[rng.integers(0, 4, batch)]
    return [p.astype(dtype) for p in params], x.astype(dtype), y.astype(dtype)


def test_jit_grad_of_mlp_equals_grad():
    args = mlp_data()
    close(fg.jit(fg.grad(mlp_loss))(*args), fg.grad(mlp_loss)(*args))
    value, g = fg.jit(fg.value_and_grad(mlp_loss))(*args)
    close(value, mlp_loss(*args))


def test_float32_stays_float32():
    args = mlp_data(dtype=np.float32)
    g = fg.jit(fg.grad(mlp_loss))(*args)
    assert all(x.dtype == np.float32 for x in g)
    close(g, fg.grad(mlp_loss)(*args), rtol=2e-5, atol=1e-6)


CASES = {
    "elementwise chain": (lambda x, y: fnp.sum(fnp.sin(x) * fnp.exp(-y) + fnp.maximum(x, y)
                                               / (1 + fnp.tanh(x) ** 2)),
                          [(5, 3), (3,)]),
    "where and log": (lambda x, y: fnp.where(x > 0, fnp.log1p(fnp.abs(x)), y * x), [(4,), (4,)]),
    "reductions": (lambda x, y: (fnp.max(x, axis=0), fnp.min(x, axis=1), fnp.prod(y),
                                 fnp.mean(x), fnp.argmax(x, axis=1), fnp.any(x > 1)),
                   [(3, 4), (4,)]),
    "matmul variants": (lambda x, y: (x @ x.T, x.T @ x, y @ x.T, x @ y[:3].reshape(-1)[:4]
                                      if False else x @ fnp.ones(4), fnp.einsum("ij,kj->ik", x, x)),
                        [(3, 4), (4,)]),
    "batched matmul": (lambda x, y: fnp.matmul(x.reshape(2, 3, 2), y.reshape(2, 2)),
                       [(3, 4), (4,)]),
    "views": (lambda x, y: (x[::-1, 1:3], x.T[1], fnp.broadcast_to(y, (2, 4)), x[:, None, 2],
                            x.reshape(4, 3), fnp.swapaxes(x[None], 0, 2)), [(3, 4), (4,)]),
    "gather and scatter": (lambda x, y: (x[np.array([2, 0, 2])], x[:, np.array([[1], [3]])],
                                         fnp.at(y)[np.array([0, 0, 3])].add(1.0),
                                         fnp.at(y)[1:3].set(x[0, :2]),
                                         fnp.take(y, np.array([-1, 0]))),
                           [(3, 4), (4,)]),
    "structural": (lambda x, y: (fnp.concatenate([x, x * 2], axis=0), fnp.pad(y, (1, 2)),
                                 fnp.cumsum(x, axis=1), fnp.cumprod(y[::-1]), fnp.tril(x),
                                 fnp.eye(3) @ x, fnp.roll(y, 1), fnp.tile(y, 2)),
                   [(3, 4), (4,)]),
    "scalars": (lambda x, y: fnp.sum(x) * 2.0 + y[0] ** 3 - fnp.sqrt(fnp.abs(y[1]) + 1.0),
                [(2,), (2,)]),
}


@pytest.mark.parametrize("name", CASES)
def test_jit_equals_numpy(name):
    fun, shapes = CASES[name]
    args = [rng.normal(size=s) for s in shapes]
    close(fg.jit(fun)(*args), fun(*args))


@pytest.mark.parametrize("name", ["elementwise chain", "where and log", "scalars",
                                  "matmul variants", "structural"])
def test_jit_grad_equals_grad(name):
    fun, shapes = CASES[name]
    args = [rng.normal(size=s) for s in shapes]
    scalar = lambda x, y: fnp.sum(fnp.stack([fnp.sum(o) for o in fg.tree.leaves(fun(x, y))
                                             if o.dtype.kind == "f"]))  # noqa: E731
    close(fg.jit(fg.grad(scalar, argnums=(0, 1)))(*args), fg.grad(scalar, argnums=(0, 1))(*args))


def test_transforms_compose_with_jit():
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)  # noqa: E731
    x = rng.normal(size=5)
    expected = fg.grad(f)(x)
    close(fg.grad(fg.jit(f))(x), expected)
    close(fg.jit(fg.jit(f))(x), f(x))
    out, pullback = fg.vjp(fg.jit(f), x)
    close(pullback(1.0)[0], expected)
    close(fg.jit(fg.grad(fg.jit(f)))(x), expected)
    close(fg.grad(fg.grad(fg.jit(lambda s: fnp.sin(s) * s)))(0.5), -np.sin(0.5) * 0.5 + 2 * np.cos(0.5))


def test_grad_of_jit_runs_compiled_code():
    f = fg.jit(lambda x: fnp.sum(fnp.exp(x)))
    ir = str(fg.make_ir(fg.grad(f))(np.ones(3)))
    assert "call[name=" in ir  # the forward and backward halves are compiled sub-programs


def test_python_scalars_follow_nep50():
    f = fg.jit(lambda x, s: x * s)
    out = f(np.ones(3, np.float32), 2.0)
    assert out.dtype == np.float32
    assert isinstance(fg.jit(lambda a, b: a * b + 1.0)(2.0, 3.0), np.float64)


def test_static_arguments():
    f = fg.jit(lambda x, n, mode="sum": fnp.sum(x ** n) if mode == "sum" else x ** n,
               static_argnums=1, static_argnames="mode")
    x = np.arange(3.0)
    assert f(x, 2) == 5.0 and f(x, 3) == 9.0
    close(f(x, 2, mode="all"), x ** 2)


def test_static_arguments_by_name_or_position_either_way():
    # as JAX's jit reads the signature: a parameter static by name is static passed by
    # position, one static by position is static passed by keyword or left at its default
    def f(x, n, mode="sum"):
        return fnp.sum(x ** n) if mode == "sum" else x ** n
    x = np.arange(3.0)
    by_name = fg.jit(f, static_argnames=("n", "mode"))
    assert by_name(x, 2, "sum") == 5.0
    close(by_name(x, 3, "all"), x ** 3)
    by_position = fg.jit(f, static_argnums=(1, 2))
    assert by_position(x, n=2) == 5.0 and by_position(x, 3) == 9.0
    close(by_position(x, n=2, mode="all"), x ** 2)
    close(fg.make_ir(f, static_argnums=2)(x, 2, mode="all")(x, 2)[0], x ** 2)


def test_a_static_argument_traced_by_an_enclosing_transform_is_named_as_such():
    # grad traces the 3 it does not differentiate, so jit's static argument is a tracer (JAX
    # closes over it); the error said the static argument was not hashable
    f = fg.jit(lambda x, n: fnp.sum(x ** n), static_argnums=1)
    x = np.arange(3.0)
    with pytest.raises(fg.FuncgradTypeError, match="static argument .* traced value.*Close over"):
        fg.grad(f)(x, 3)
    close(fg.grad(lambda x: f(x, 3))(x), 3 * x ** 2)


def test_new_batch_size_does_not_recompile():
    step = fg.jit(fg.value_and_grad(mlp_loss))
    step(*mlp_data(batch=8))
    before = dict(fg.compile.disk_cache.stats)
    for batch in (5, 3, 17):
        step(*mlp_data(batch=batch))
    after = fg.compile.disk_cache.stats
    assert after["numba_compilations"] == before["numba_compilations"]


def test_disable_jit_runs_the_same_program_with_numpy(monkeypatch):
    f = fg.jit(lambda x: fnp.sum(fnp.sin(x)))
    with fg.disable_jit():
        assert f(np.zeros(3)) == 0.0
        with pytest.raises(ZeroDivisionError):  # plain Python runs: breakpoints, prints work
            fg.jit(lambda x: x + 1 / 0)(1.0)


def test_lowered_source_names_user_lines():
    lowered = fg.jit(fg.grad(mlp_loss)).lower(*mlp_data())
    assert "@njit(cache=True" in lowered.source
    assert "test_jit.py:" in lowered.source  # and its matrix products call BLAS:
    assert "fgm.dot(" in lowered.source or "fgb.xxgemm(" in lowered.source
    assert lowered.program.equations


def test_value_dependent_branch_under_jit_explains():
    def f(x):
        if fnp.sum(x) > 0:
            return x
        return -x
    with pytest.raises(fg.ConcretizationError, match="fnp.where"):
        fg.jit(f)(np.ones(2))
    assert fg.grad(lambda x: fnp.sum(f(x)))(np.ones(2)).tolist() == [1.0, 1.0]


def test_changed_global_is_seen():
    global SCALE
    SCALE = np.float64(2.0)
    f = fg.jit(lambda x: x * SCALE)
    assert f(1.0) == 2.0
    SCALE = np.float64(3.0)
    assert f(1.0) == 3.0


def test_gather_out_of_bounds_names_the_line():
    f = fg.jit(lambda x, i: x[i])
    with pytest.raises(IndexError, match="test_jit.py"):
        f(np.arange(3.0), np.array(5))


def test_dispatch_overhead_is_small():
    # not a timing assertion: the fast path must not retrace or re-key
    f = fg.jit(lambda a, b, c: a * b + c)
    traces = jit_module.stats["traces"]
    for _ in range(100):
        f(1.0, 2.0, 3.0)
    assert jit_module.stats["traces"] == traces + 1


def test_pytrees_keyword_arguments_and_none():
    def f(params, x, *, scale=1.0, extra=None):
        out = {"y": fnp.tanh(x @ params["w"]) * scale, "n": None,
               "pair": (fnp.sum(x), params["b"] + 1.0)}
        return out
    params = {"w": rng.normal(size=(3, 2)), "b": np.zeros(2)}
    x = rng.normal(size=(4, 3))
    got = fg.jit(f)(params, x, scale=2.0)
    want = f(params, x, scale=2.0)
    assert got["n"] is None
    close(got, want)


def test_jit_as_method_decorator():
    class Model:
        def __init__(self):
            self.w = np.ones(3)

        @fg.jit
        def predict(self, x):
            return x * 2.0

        @functools.partial(fg.jit, static_argnums=0)
        def predict_static(self, x):
            return x * self.w

    with pytest.raises(fg.FuncgradTypeError, match=r"argument 0 \(self\).*static_argnums"):
        Model().predict(np.ones(3))
    assert Model().predict_static(np.ones(3)).tolist() == [1.0, 1.0, 1.0]


def test_primitive_without_lowering_names_itself_and_the_line():
    from funcgrad.core.primitive import Primitive
    from funcgrad.core.rules import forget
    mystery = Primitive("mystery_test_op", impl=lambda x: x * 2, shape_rule=lambda x: x)
    try:
        f = fg.jit(lambda x: mystery(x) + 1.0)
        with pytest.raises(fg.LoweringError, match=r"mystery_test_op.*test_jit.py:\d+"):
            f(np.ones(2))
        with fg.disable_jit():  # the NumPy evaluator still runs it
            assert f(np.ones(2)).tolist() == [3.0, 3.0]
    finally:
        forget(mystery)


def test_zero_dimensional_inputs_and_outputs():
    f = fg.jit(lambda x, s: (fnp.sum(x) * s, x[0]))
    total, first = f(np.arange(3.0), np.array(2.0))
    assert isinstance(total, np.float64) and total == 6.0 and first == 0.0
    assert fg.jit(lambda x: x > 0)(np.float32(1.0)) is np.True_


def test_integer_and_boolean_programs():
    f = fg.jit(lambda i, m: (i * 2 + 1, fnp.where(m, i, -i), fnp.sum(m), i // 2, i % 3))
    i = np.arange(-3, 4)
    m = i > 0
    close(f(i, m), (i * 2 + 1, np.where(m, i, -i), np.sum(m), i // 2, i % 3))
    assert fg.jit(lambda a, b: a @ b)(np.eye(2, dtype=np.int64), np.ones((2, 2), np.int64)).dtype == np.int64


def test_numba_failure_becomes_a_lowering_error_naming_the_line():
    from funcgrad.core.primitive import Primitive
    from funcgrad.core.rules import forget
    from funcgrad.rules.lowering import lowerings
    broken = Primitive("broken_lowering_test", impl=np.negative, shape_rule=lambda x: x,
                       elementwise=True)
    lowerings[broken] = "no_such_function({0})"
    try:
        f = fg.jit(lambda x: fnp.sin(broken(x)))
        with pytest.raises(fg.LoweringError, match=r"test_jit.py:\d+") as info:
            f(np.ones(2))
        assert "Numba" in str(info.value) and "disable_jit" in str(info.value)
    finally:
        forget(broken)


def test_disable_jit_environment_variable(tmp_path):
    import os
    import subprocess
    import sys
    script = ("import numpy as np, funcgrad as fg, funcgrad.numpy as fnp\n"
              "from funcgrad.compile import executable as jit\n"
              "print(fg.jit(lambda x: fnp.sum(x * 2))(np.ones(3)), "
              "jit.stats['programs_generated'])\n")
    env = {**os.environ, "FUNCGRAD_DISABLE_JIT": "1", "FUNCGRAD_CACHE_DIR": str(tmp_path),
           "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["6.0", "0"]  # computed, and nothing was compiled


def test_custom_vjp_under_jit_keeps_its_rule():
    @fg.custom_vjp
    def f(x):
        return fnp.sin(x)

    f.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)), lambda c, g: (g * c * 10.0,))
    x = np.linspace(0, 1, 4)
    loss = lambda x: fnp.sum(f(x))  # noqa: E731
    close(fg.jit(f)(x), np.sin(x))
    close(fg.jit(fg.grad(loss))(x), 10 * np.cos(x))
    close(fg.grad(fg.jit(loss))(x), 10 * np.cos(x))



def test_argument_names_are_read_once_per_function():
    """jit with static_argnames reads the signature at every call with positional
    arguments (a name may be passed by position): inspect.signature once per function,
    kept while the function lives; a callable that cannot be weakly referenced still
    answers."""
    from funcgrad.core.arguments import argument_names

    def f(x, mode="a"):
        return x

    assert argument_names(f) == ["x", "mode"]
    assert argument_names(f) is argument_names(f)
    assert argument_names(max) == []  # a builtin: no signature, no weak reference


def test_donated_arguments_are_accepted_and_stay_valid():
    """Code written for JAX passes donate_argnums; funcgrad's compiled code never writes its
    arguments, so the donation changes nothing and the array can still be read."""
    w = np.array([1.0, 2.0])
    step = fg.jit(lambda w: w - 0.1 * fg.grad(lambda v: fnp.sum(v ** 2))(w), donate_argnums=0)
    np.testing.assert_allclose(step(w), [0.8, 1.6])
    np.testing.assert_array_equal(w, [1.0, 2.0])
    named = fg.jit(lambda params: params["w"] * 2, donate_argnames="params")
    np.testing.assert_array_equal(named({"w": w}), [2.0, 4.0])
    with pytest.raises(fg.FuncgradTypeError, match="donate_argnums must be ints"):
        fg.jit(lambda w: w, donate_argnums="w")
    with pytest.raises(fg.FuncgradTypeError, match="donate_argnames must be strings"):
        fg.jit(lambda w: w, donate_argnames=(0,))
