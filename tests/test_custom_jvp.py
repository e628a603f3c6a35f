"""custom_jvp: hand-written JVPs, used by forward mode and, transposed, by reverse mode."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


@fg.custom_jvp
def log1pexp(x):
    return fnp.log1p(fnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * fg.nn.sigmoid(x)


@fg.custom_jvp
def doubled_sin(x):
    """sin with a deliberately doubled derivative, so using the rule is visible."""
    return fnp.sin(x)


@doubled_sin.defjvp
def _doubled_sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return fnp.sin(x), 2.0 * fnp.cos(x) * t


X = np.array([0.3, -1.0, 2.5])


def test_eager_calls_just_compute():
    np.testing.assert_allclose(log1pexp(X), np.log1p(np.exp(X)))


def test_jvp_and_grad_use_the_rule():
    assert fg.jvp(doubled_sin, (0.5,), (3.0,))[1] == pytest.approx(6 * np.cos(0.5))
    assert fg.grad(doubled_sin)(0.5) == pytest.approx(2 * np.cos(0.5))
    assert fg.grad(log1pexp)(1000.0) == 1.0  # the formula's own derivative is nan there


def test_all_modes_and_orders_agree_with_the_rule():
    def f(x):
        return fnp.sum(doubled_sin(x) ** 2)
    rule_grad = 2 * np.sin(X) * 2 * np.cos(X)
    np.testing.assert_allclose(fg.grad(f)(X), rule_grad)
    np.testing.assert_allclose(fg.jit(fg.grad(f))(X), rule_grad)
    np.testing.assert_allclose(fg.jacfwd(doubled_sin)(X), fg.jacrev(doubled_sin)(X))
    np.testing.assert_allclose(fg.hessian(f)(X), fg.jacrev(fg.grad(f))(X), atol=1e-12)


def test_a_correct_rule_checks_in_both_modes_to_second_order():
    check_grads(log1pexp, (X,), order=2, modes=("fwd", "rev"))


def test_jit_compiles_the_function_itself():
    np.testing.assert_allclose(fg.jit(log1pexp)(X), np.log1p(np.exp(X)))
    program = fg.make_ir(log1pexp)(X).program
    assert [e.primitive.name for e in program.equations] == ["custom_jvp_call"]


def test_defjvps_one_rule_per_argument():
    f = fg.custom_jvp(lambda x, y: fnp.sin(x) * y)
    f.defjvps(lambda t, ans, x, y: fnp.cos(x) * y * t, None)  # y: no derivative
    gx, gy = fg.grad(f, argnums=(0, 1))(0.0, 2.0)
    assert (gx, gy) == (2.0, 0.0)
    assert fg.jvp(f, (0.0, 2.0), (1.0, 1.0))[1] == 2.0


def test_pytrees_nondiff_argnums_and_integer_arguments():
    def scale(p, n, k):
        return {"y": p["a"] * k + p["b"] * n}

    f = fg.custom_jvp(scale, nondiff_argnums=(2,))

    @f.defjvp
    def _(k, primals, tangents):
        (p, n), (tp, tn) = primals, tangents
        assert tn.dtype == fg.float0  # an integer argument's tangent
        return f(p, n, k), {"y": tp["a"] * k + tp["b"] * n}

    p = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}
    g = fg.grad(lambda p: fnp.sum(f(p, 3, 10.0)["y"]))(p)
    np.testing.assert_allclose(g["a"], [10.0, 10.0])
    np.testing.assert_allclose(g["b"], [3.0, 3.0])


def test_keyword_and_default_arguments_reach_the_rule_as_positions():
    """As JAX resolves them: keyword arguments by the signature, defaults filled in, so the
    rule receives one primal and one tangent per parameter."""
    @fg.custom_jvp
    def scaled_sin(x, scale=2.0):
        return fnp.sin(x) * scale

    @scaled_sin.defjvp
    def _(primals, tangents):
        (x, scale), (t, t_scale) = primals, tangents
        return scaled_sin(x, scale), 2.0 * fnp.cos(x) * scale * t + fnp.sin(x) * t_scale

    assert fg.grad(scaled_sin)(0.5) == pytest.approx(4.0 * np.cos(0.5), rel=1e-14)
    assert fg.grad(lambda x: scaled_sin(x, scale=3.0))(0.5) == pytest.approx(
        6.0 * np.cos(0.5), rel=1e-14)
    assert fg.jit(lambda x: scaled_sin(x, scale=x))(0.5) == np.sin(0.5) * 0.5
    np.testing.assert_allclose(fg.vmap(fg.grad(lambda s: scaled_sin(0.5, scale=s)))(X),
                               np.full(3, np.sin(0.5)), rtol=1e-14)


@pytest.mark.parametrize("rule, error, match", [
    (lambda primals, tangents: primals[0], fg.FuncgradTypeError, "must return a pair"),
    (lambda primals, tangents: (primals[0], (tangents[0],)), fg.FuncgradTypeError,
     "with the structure of what"),
    (lambda primals, tangents: (primals[0], fnp.ones(5)), fg.ShapeError,
     r"tangent of shape \(5,\) for an output of shape \(3,\)"),
])
def test_bad_rules_are_named(rule, error, match):
    f = fg.custom_jvp(lambda x: x * 2.0)
    f.defjvp(rule)
    with pytest.raises(error, match=match):
        fg.grad(lambda x: fnp.sum(f(x)))(X)


def test_missing_rule():
    f = fg.custom_jvp(lambda x: x * 2.0)
    assert f(1.0) == 2.0
    with pytest.raises(fg.FuncgradError, match=r"no JVP rule yet: call .*defjvp"):
        fg.grad(f)(1.0)


def test_closed_over_traced_values_are_not_differentiable_through_the_rule():
    def outer(y):
        f = fg.custom_jvp(lambda x: x * y)
        f.defjvp(lambda p, t: (p[0] * y, t[0] * y))
        return f(2.0)
    with pytest.raises(fg.FuncgradError, match="closes over"):
        fg.grad(outer)(3.0)
