"""Forward mode: jvp, linearize, jacfwd, hessian (forward over reverse), and their
compositions with grad, jit and custom_vjp. Every primitive's JVP is checked in
tests/test_conformance.py (finite differences, and the transpose identity with its VJP)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads, numerical_grad
from funcgrad.testing import strategies as fst


def f(x):
    return fnp.sum(fnp.sin(x) * x ** 2)


X = np.array([0.3, -1.2, 2.0])
V = np.array([1.0, 0.5, -2.0])


def test_jvp_is_the_gradient_along_the_tangent():
    y, y_dot = fg.jvp(f, (X,), (V,))
    assert y == pytest.approx(np.sum(np.sin(X) * X ** 2))
    assert y_dot == pytest.approx(fg.grad(f)(X) @ V, rel=1e-12)
    assert isinstance(y_dot, np.float64)


def test_jvp_of_pytrees_and_several_arguments():
    def model(params, x):
        return {"out": fnp.tanh(x @ params["W"] + params["b"]), "norm": fnp.sum(x ** 2)}
    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    x = rng.normal(size=(4, 3))
    t_params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    t_x = rng.normal(size=(4, 3))
    out, out_dot = fg.jvp(model, (params, x), (t_params, t_x))
    assert set(out_dot) == {"out", "norm"} and out_dot["out"].shape == (4, 2)
    h = 1e-6
    plus = model(fg.tree.map(lambda p, t: p + h * t, params, t_params), x + h * t_x)
    minus = model(fg.tree.map(lambda p, t: p - h * t, params, t_params), x - h * t_x)
    for k in out:
        np.testing.assert_allclose(out_dot[k], (plus[k] - minus[k]) / (2 * h), rtol=1e-6)


def test_jvp_has_aux():
    y, y_dot, aux = fg.jvp(lambda x: (fnp.sin(x), {"x2": x * 2}), (0.5,), (1.0,), has_aux=True)
    assert y_dot == pytest.approx(np.cos(0.5)) and aux["x2"] == 1.0


def test_integer_primals_and_outputs_have_float0_tangents():
    def g(x, n):
        return x * n, n * 2
    (y, m), (y_dot, m_dot) = fg.jvp(g, (2.0, 3), (1.0, np.zeros((), fg.float0)))
    assert (y, m, y_dot) == (6.0, 6, 3.0)
    assert m_dot.dtype == fg.float0 and m_dot.shape == ()


def test_float0_tangents_leave_a_traced_function_as_in_jax():
    # jit and vmap pass float0 through (funcgrad.dtypes: they are pytree nodes, not traced);
    # a float0 array the user makes is still refused, and the error points to has_aux
    def g(x):
        return x * 2.0, fnp.floor(x).astype(int)
    xs = np.arange(6.0).reshape(2, 3)
    jac, jac_n = fg.vmap(fg.jacfwd(g))(xs)
    assert jac_n.dtype == fg.float0 and jac_n.shape == (2, 3, 3)  # as JAX's
    _, (_, n_dot) = fg.jit(lambda x: fg.jvp(g, (x,), (x,)))(xs[0])
    assert n_dot.dtype == fg.float0 and n_dot.shape == (3,)
    with pytest.raises(fg.FuncgradTypeError, match="float0.*has_aux=True"):
        fg.jit(lambda x: (x, np.zeros(3, fg.float0)))(1.0)
    jac, n = fg.vmap(fg.jacfwd(g, has_aux=True))(xs)
    np.testing.assert_array_equal(jac, np.broadcast_to(2.0 * np.eye(3), (2, 3, 3)))
    np.testing.assert_array_equal(n, xs.astype(int))


def test_jvp_of_python_floats_and_float32():
    assert fg.jvp(lambda x: x * x, (3.0,), (1.0,))[1] == 6.0
    x = np.array([1.0, 2.0], np.float32)
    y, y_dot = fg.jvp(fnp.exp, (x,), (np.ones(2, np.float32),))
    assert y_dot.dtype == np.float32
    np.testing.assert_allclose(y_dot, np.exp(x), rtol=1e-6)


@pytest.mark.parametrize("primals, tangents, error, match", [
    (X, (V,), fg.FuncgradTypeError, "primals must be a tuple or a list"),
    ((X,), (V, V), fg.FuncgradTypeError, "1 primals but 2 tangents"),
    ((X,), (V[:2],), fg.ShapeError, r"tangent 0 has shape \(2,\), but its primal has shape"),
    ((X,), (V.astype(np.float32),), fg.FuncgradTypeError, "tangent 0 has dtype float32"),
    ((X,), (V.astype(int),), fg.FuncgradTypeError, "tangent 0 has dtype int64"),
    (({"a": X},), ({"b": V},), fg.FuncgradTypeError, "tangents' structure"),
])
def test_jvp_errors_name_what_is_wrong(primals, tangents, error, match):
    with pytest.raises(error, match=match):
        fg.jvp(f, primals, tangents)


def test_linearize_runs_the_forward_pass_once():
    calls = []

    def counted(x):
        calls.append(1)
        return fnp.sin(x) * x
    y, f_jvp = fg.linearize(counted, X)
    n = len(calls)
    tangents = [f_jvp(v) for v in (V, 2 * V, np.ones(3))]
    assert len(calls) == n  # f_jvp runs the saved linear program: no tracing, no forward pass
    for v, t in zip((V, 2 * V, np.ones(3)), tangents):
        np.testing.assert_allclose(t, fg.jvp(counted, (X,), (v,))[1], rtol=1e-13)
    np.testing.assert_allclose(y, np.sin(X) * X)
    with pytest.raises(fg.ShapeError):
        f_jvp(np.ones(4))


def test_linearize_has_aux():
    y, f_jvp, aux = fg.linearize(lambda x: (x ** 2, x + 1), 3.0, has_aux=True)
    assert (y, aux, f_jvp(1.0)) == (9.0, 4.0, 6.0)


@pytest.mark.parametrize("fn, args", [
    (lambda x: fnp.sin(x) * x[0], (X,)),                                  # square
    (lambda x: fnp.outer(x, x).reshape(-1), (X,)),                        # tall
    (lambda x: fnp.sum(fnp.tanh(x)) * fnp.ones(2), (np.ones((2, 5)),)),   # wide
    (lambda x, y: fnp.dot(x, y) + x[0, 0], (np.ones((2, 3)), np.ones(3))),
])
def test_jacfwd_equals_jacrev(fn, args):
    np.testing.assert_allclose(fg.jacfwd(fn)(*args), fg.jacrev(fn)(*args), atol=1e-12)


def test_jacfwd_of_pytrees_argnums_and_aux():
    def g(p, x):
        return {"y": p["a"] * x, "z": fnp.sum(p["b"] ** 2)}, x * 10
    p, x = {"a": np.array([1.0, 2.0]), "b": np.array([[3.0]])}, 2.0
    jac, aux = fg.jacfwd(g, argnums=(0, 1), has_aux=True)(p, x)
    ref, _ = fg.jacrev(g, argnums=(0, 1), has_aux=True)(p, x)
    assert aux == 20.0
    for got, want in zip(fg.tree.leaves(jac), fg.tree.leaves(ref)):
        np.testing.assert_allclose(got, want)
    assert jac["y"][0]["b"].shape == (2, 1, 1) and jac["z"][1].shape == ()


def test_jacfwd_needs_float_arguments():
    with pytest.raises(fg.FuncgradTypeError, match="jacfwd of .* dtype int64"):
        fg.jacfwd(lambda n: n * 2.0)(np.arange(3))


def mlp_loss(w, x, y):
    W1, b1 = fnp.reshape(w[:6], (2, 3)), w[6:9]
    h = fnp.tanh(x @ W1 + b1)
    return fnp.mean((h @ w[9:12] - y) ** 2)


def test_hessian_is_forward_over_reverse_and_matches_finite_differences():
    rng = np.random.default_rng(1)
    w, x, y = rng.normal(size=12), rng.normal(size=(5, 2)), rng.normal(size=5)
    H = fg.hessian(mlp_loss)(w, x, y)
    assert H.shape == (12, 12)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    numeric = np.stack([numerical_grad(lambda w: fg.grad(mlp_loss)(w, x, y)[i], (w,))[0]
                        for i in range(12)])
    np.testing.assert_allclose(H, numeric, atol=1e-7)


def test_jit_of_hessian():
    def loss(w):
        return fnp.sum(fnp.tanh(w) * w[::-1]) ** 2
    w = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(fg.jit(fg.hessian(loss))(w), fg.jacrev(fg.grad(loss))(w),
                               atol=1e-12)


def test_hessian_program_does_not_grow_with_the_parameters():
    def loss(w):
        return fnp.sum(fnp.tanh(w) * w[::-1]) ** 2
    sizes = [len(fg.make_ir(fg.hessian(loss))(np.ones(n)).program.equations) for n in (3, 40)]
    assert sizes[0] == sizes[1]


def test_hessian_vector_products_by_forward_over_reverse():
    rng = np.random.default_rng(2)
    w, x, y, v = rng.normal(size=12), rng.normal(size=(5, 2)), rng.normal(size=5), \
        rng.normal(size=12)
    hvp = fg.jvp(lambda w: fg.grad(mlp_loss)(w, x, y), (w,), (v,))[1]
    np.testing.assert_allclose(hvp, fg.hessian(mlp_loss)(w, x, y) @ v, atol=1e-12)


def test_compositions_with_grad_jit_and_make_ir():
    y_dot = fg.jvp(f, (X,), (V,))[1]
    jitted = fg.jit(lambda x, v: fg.jvp(f, (x,), (v,)))(X, V)
    assert jitted[1] == pytest.approx(y_dot, rel=1e-13)
    assert fg.jvp(fg.jit(f), (X,), (V,))[1] == pytest.approx(y_dot, rel=1e-13)
    # reverse over forward: d/dx <grad f(x), v> is H v
    np.testing.assert_allclose(fg.grad(lambda x: fg.jvp(f, (x,), (V,))[1])(X),
                               fg.hessian(f)(X) @ V, rtol=1e-12)
    printed = str(fg.make_ir(lambda x, v: fg.jvp(f, (x,), (v,)))(X, V))
    assert "cos" in printed and "reduce_sum" in printed
    check_grads(lambda x: fg.jvp(f, (x,), (V,))[1], (X,), order=2, modes=("fwd", "rev"))


def test_jvp_of_jit_runs_the_jvp_program_compiled():
    program = fg.make_ir(lambda x, v: fg.jvp(fg.jit(f), (x,), (v,)))(X, V).program
    calls = [e for e in program.equations if e.primitive.name == "call"]
    # the forward part and the linear part, each a compiled sub-program
    assert [c.params["name"][-4:] for c in calls] == ["_jvp", "_lin"]


def test_jvp_of_a_function_that_branches_on_values():
    def relu_ish(x):
        return x * 2.0 if x > 0 else x * 3.0
    assert fg.jvp(relu_ish, (1.0,), (1.0,))[1] == 2.0
    assert fg.jvp(relu_ish, (-1.0,), (1.0,))[1] == 3.0


def test_jvp_through_custom_vjp_uses_the_users_rule():
    """Past JAX: the JVP of a custom_vjp function is the transpose of its bwd."""
    @fg.custom_vjp
    def clipped_sin(x):
        return fnp.sin(x)
    clipped_sin.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)),
                       lambda c, g: (2.0 * c * g,))  # a deliberately doubled derivative
    x = np.array([0.1, 2.0])
    np.testing.assert_allclose(fg.jvp(clipped_sin, (x,), (np.array([0.1, 0.1]),))[1],
                               2.0 * np.cos(x) * 0.1)
    np.testing.assert_allclose(fg.jacfwd(clipped_sin)(x), fg.jacrev(clipped_sin)(x))


def test_jvp_through_custom_vjp_with_several_arguments_and_pytrees():
    @fg.custom_vjp
    def scaled(p, s):
        return p["a"] * s + p["b"]

    def fwd(p, s):
        return scaled(p, s), (p["a"], s)

    def bwd(res, g):
        a, s = res
        return {"a": g * s, "b": g}, fnp.sum(g * a)
    scaled.defvjp(fwd, bwd)
    p = {"a": np.array([1.0, 2.0]), "b": np.array([0.5, 0.5])}
    tp = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}
    _, y_dot = fg.jvp(scaled, (p, 3.0), (tp, 1.0))
    np.testing.assert_allclose(y_dot, tp["a"] * 3.0 + p["a"] * 1.0 + tp["b"])
    check_grads(scaled, (p, 3.0), modes=("fwd", "rev"))


def test_forward_over_reverse_through_custom_vjp():
    @fg.custom_vjp
    def cube(x):
        return x ** 3
    cube.defvjp(lambda x: (x ** 3, x), lambda x, g: (3 * x ** 2 * g,))
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(fg.hessian(lambda x: fnp.sum(cube(x)))(x), np.diag(6 * x))


PARAMS = {"W": np.linspace(-1, 1, 6).reshape(2, 3), "b": np.array([0.1, -0.2, 0.3])}
INPUTS = np.linspace(-2, 2, 8).reshape(4, 2)


def model(params, x, n):
    h = fnp.tanh(x @ params["W"] + params["b"]) * n
    return {"h": h, "total": fnp.sum(fnp.cumsum(h, axis=0) ** 2)}


@settings(max_examples=15, deadline=None, derandomize=True)
@given(fst.tangents((PARAMS, INPUTS, 3)))
def test_transpose_identity_on_a_model(v):
    """<vjp(u), v> == <u, jvp(v)> for drawn tangents (the integer argument gets float0)."""
    primals = (PARAMS, INPUTS, 3)
    out, out_dot = fg.jvp(model, primals, v)
    u = fg.tree.map(lambda y: np.cos(np.arange(np.size(y))).reshape(np.shape(y)), out)
    _, pullback = fg.vjp(lambda p, x: model(p, x, 3), PARAMS, INPUTS)
    left = sum(np.sum(a * b) for a, b in zip(fg.tree.leaves(pullback(u)),
                                             fg.tree.leaves(v[:2])))
    right = sum(np.sum(a * b) for a, b in zip(fg.tree.leaves(u), fg.tree.leaves(out_dot)))
    assert left == pytest.approx(right, rel=1e-10, abs=1e-10)


def test_jacfwd_argnums_in_any_order_and_repeated():
    def g(a, b):
        return fnp.stack([a * b[0], a + b[1]])
    a, b = 2.0, np.array([3.0, 5.0])
    j_ba = fg.jacfwd(g, argnums=(1, 0))(a, b)
    r_ba = fg.jacrev(g, argnums=(1, 0))(a, b)
    for got, want in zip(j_ba, r_ba):
        np.testing.assert_allclose(got, want)
    j_aa = fg.jacfwd(g, argnums=(0, 0))(a, b)
    np.testing.assert_allclose(j_aa[0], j_aa[1])


def test_jacfwd_reuses_its_program_across_calls():
    """Eager transforms trace again until two traces agree (docs/sharp-bits.md), then reuse
    the program. (The trace counter is not state the function reads: a function that wrote to
    state it reads, a list it appends to, would be traced on every call, as JAX runs it.)"""
    traces = itertools.count()

    def counted(x, scale):
        next(traces)
        return fnp.sin(x) * scale
    jac = fg.jacfwd(counted)
    for k in range(5):
        np.testing.assert_allclose(jac(X, float(k)), np.diag(np.cos(X)) * k)
    assert next(traces) == 2
