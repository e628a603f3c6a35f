"""custom_vjp: hand-written VJPs, with JAX's semantics, as a primitive carrying programs."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.ir import validate
from funcgrad.testing import check_grads


@fg.custom_vjp
def f(x, y):
    return fnp.sin(x) * y


def f_fwd(x, y):
    return f(x, y), (fnp.cos(x), fnp.sin(x), y)


def f_bwd(res, g):
    cos_x, sin_x, y = res
    return (cos_x * g * y, sin_x * g)


f.defvjp(f_fwd, f_bwd)


@fg.custom_vjp
def cube(x):
    return x * x * x


def cube_fwd(x):
    return cube(x), x


def cube_bwd(x, g):
    return (3.0 * x * x * g,)


cube.defvjp(cube_fwd, cube_bwd)


def test_eager_call_just_computes():
    assert f(1.0, 2.0) == pytest.approx(2 * math.sin(1.0))
    np.testing.assert_allclose(f(np.array([0.5, 1.0]), 3.0), 3 * np.sin([0.5, 1.0]))


def test_grad_uses_the_rule():
    assert fg.grad(f)(1.0, 2.0) == pytest.approx(2 * math.cos(1.0))
    gx, gy = fg.grad(f, (0, 1))(1.0, 2.0)
    assert (gx, gy) == (pytest.approx(2 * math.cos(1.0)), pytest.approx(math.sin(1.0)))
    check_grads(f, (np.array([0.3, -1.2]), np.array([2.0, 0.5])), order=2)


def test_the_rule_is_what_gets_used():
    """A rule that is not the true derivative shows it was used: clip the gradient."""
    @fg.custom_vjp
    def clip_gradient(x):
        return x

    clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (fnp.clip(g, -1.0, 1.0),))
    assert fg.grad(lambda x: 3.0 * clip_gradient(x))(2.0) == 1.0
    assert fg.grad(lambda x: 0.5 * clip_gradient(x))(2.0) == 0.5


def test_grad_of_grad_differentiates_through_bwd():
    """cube's bwd is 3 x^2 g: its derivative 6x comes from differentiating bwd."""
    assert fg.grad(cube)(2.0) == 12.0
    assert fg.grad(fg.grad(cube))(2.0) == 12.0
    assert fg.grad(fg.grad(fg.grad(cube)))(2.0) == 6.0


def test_f_inside_its_own_fwd_keeps_its_rule_at_higher_orders():
    """fwd returns (f(x), y) with the residual y = f(x); bwd uses y. Differentiating bwd
    differentiates y = f(x), which must use f's rule (as in JAX), not f's operations. The
    rule here, g -> 2 g y, is deliberately not f's true derivative (1), so the two differ:
    d/dx (2 y(x)) is 2 * (2 * 1 * y) = 12 at 3 with the rule (JAX says 12), 2 without."""
    @fg.custom_vjp
    def ident(x):
        return x

    def fwd(x):
        y = ident(x)
        return y, y

    ident.defvjp(fwd, lambda y, g: (2.0 * g * y,))
    assert fg.grad(ident)(3.0) == 6.0  # 2 * g * y with y = x
    assert fg.grad(fg.grad(ident))(3.0) == 12.0


def test_make_ir_prints_the_nested_programs_and_the_evaluator_runs_them():
    closed = fg.make_ir(f)(1.0, 2.0)
    text = str(closed)
    assert "custom_vjp_call" in text
    for part in ("fun =", "fwd =", "bwd =", "sin", "cos"):
        assert part in text
    validate(closed.program)
    (out,) = closed(1.0, 2.0)
    assert out == pytest.approx(2 * math.sin(1.0))


def test_adjoint_emits_fwd_and_bwd():
    program = fg.make_ir(fg.grad(f))(1.0, 2.0).program
    names = [e.primitive.name for e in program.equations]
    assert names == ["cos", "mul"]  # bwd's cos_x * g * y, with g = 1: nothing else


def test_vjp_and_jacrev():
    x = np.array([0.1, 0.2])
    out, pullback = fg.vjp(cube, x)
    np.testing.assert_allclose(out, x ** 3)
    np.testing.assert_allclose(pullback(np.ones(2))[0], 3 * x ** 2)
    np.testing.assert_allclose(fg.jacrev(cube)(x), np.diag(3 * x ** 2))


Pair = namedtuple("Pair", "a b")


def test_pytrees_for_arguments_residuals_outputs_and_cotangents():
    @fg.custom_vjp
    def h(p, scale):
        return {"sum": p.a * scale + p.b, "prod": p.a * p.b}

    def h_fwd(p, scale):
        return h(p, scale), {"p": p, "scale": (scale,)}

    def h_bwd(res, g):
        p, (scale,) = res["p"], res["scale"]
        dp = Pair(g["sum"] * scale + g["prod"] * p.b, g["sum"] + g["prod"] * p.a)
        return dp, fnp.sum(g["sum"] * p.a)

    h.defvjp(h_fwd, h_bwd)

    def loss(p, scale):
        out = h(p, scale)
        return fnp.sum(out["sum"] ** 2) + fnp.sum(out["prod"])

    p = Pair(np.array([0.5, -1.0]), np.array([2.0, 0.3]))
    gp, gs = fg.grad(loss, (0, 1))(p, 1.5)
    assert isinstance(gp, Pair)
    check_grads(loss, (p, 1.5), order=2)


def test_none_cotangent_means_zero():
    @fg.custom_vjp
    def k(x, y):
        return x * y

    k.defvjp(lambda x, y: (x * y, y), lambda y, g: (g * y, None))
    assert fg.grad(k, (0, 1))(2.0, 3.0) == (3.0, 0.0)


def test_nondiff_argnums():
    def apply(fn, x):
        return fn(x)

    applied = fg.custom_vjp(apply, nondiff_argnums=(0,))
    applied.defvjp(lambda fn, x: (fn(x), x),
                   lambda fn, x, g: (g * fg.grad(fn)(x),))
    assert applied(fnp.sin, 0.5) == pytest.approx(math.sin(0.5))
    assert fg.grad(applied, 1)(fnp.sin, 0.5) == pytest.approx(math.cos(0.5))
    assert fg.grad(applied, 1)(fnp.exp, 0.5) == pytest.approx(math.exp(0.5))


def test_float32_cotangents_keep_the_argument_dtype():
    g = fg.grad(lambda x: fnp.sum(cube(x)))(np.ones(2, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [3.0, 3.0])


def test_keyword_arguments_are_resolved_to_positions():
    assert fg.grad(lambda x: f(x, y=2.0))(1.0) == pytest.approx(2 * math.cos(1.0))


def test_default_arguments_reach_fwd_and_bwd():
    """As JAX resolves arguments: fwd receives every parameter, defaults filled in, and
    bwd returns one cotangent per parameter."""
    @fg.custom_vjp
    def scaled_sin(x, scale=2.0):
        return fnp.sin(x) * scale

    scaled_sin.defvjp(lambda x, scale: (scaled_sin(x, scale), (x, scale)),
                      lambda res, g: (fnp.cos(res[0]) * res[1] * g, fnp.sin(res[0]) * g))
    assert fg.grad(scaled_sin)(1.0) == pytest.approx(2 * math.cos(1.0), rel=1e-14)
    assert fg.jit(fg.grad(lambda x: scaled_sin(x)))(1.0) == pytest.approx(
        2 * math.cos(1.0), rel=1e-14)


def test_value_dependent_python_inside_fun_under_grad():
    @fg.custom_vjp
    def relu_ish(x):
        return x if x > 0 else 0.0 * x

    relu_ish.defvjp(lambda x: (relu_ish(x), x), lambda x, g: (g * (x > 0),))
    assert fg.grad(relu_ish)(2.0) == 1.0
    assert fg.grad(relu_ish)(-2.0) == 0.0


# --- errors -----------------------------------------------------------------------------


def test_no_rule_yet():
    @fg.custom_vjp
    def bare(x):
        return x * 2.0

    assert bare(1.0) == 2.0  # eager: fine
    with pytest.raises(fg.FuncgradError, match=r"bare.defvjp\(fwd, bwd\)"):
        fg.grad(bare)(1.0)


def test_fwd_must_return_a_pair_with_the_functions_output():
    @fg.custom_vjp
    def g1(x):
        return x * 2.0

    g1.defvjp(lambda x: x * 2.0, lambda r, g: (g,))
    with pytest.raises(fg.FuncgradTypeError, match="must return a pair"):
        fg.grad(g1)(1.0)

    @fg.custom_vjp
    def g2(x):
        return x * 2.0

    g2.defvjp(lambda x: ((x, x), None), lambda r, g: (g,))
    with pytest.raises(fg.FuncgradTypeError, match="output g2 returns"):
        fg.grad(g2)(1.0)


def test_bwd_must_return_one_cotangent_per_argument_of_the_right_shape():
    @fg.custom_vjp
    def g3(x, y):
        return fnp.sum(x * y)

    g3.defvjp(lambda x, y: (g3(x, y), None), lambda r, g: (g,))
    with pytest.raises(fg.FuncgradTypeError, match="tuple of 2 cotangents"):
        fg.grad(g3)(np.ones(2), np.ones(2))

    @fg.custom_vjp
    def g4(x):
        return fnp.sum(x)

    g4.defvjp(lambda x: (g4(x), None), lambda r, g: (g,))  # g is a scalar, x is f64[2]
    with pytest.raises(fg.ShapeError, match=r"shape \(\) for argument 0 \(x\)"):
        fg.grad(g4)(np.ones(2))


def test_differentiating_a_closed_over_value_is_an_error():
    def outer(w):
        @fg.custom_vjp
        def scaled(x):
            return x * w

        scaled.defvjp(lambda x: (x * w, None), lambda r, g: (g * w,))
        return scaled(2.0)

    with pytest.raises(fg.FuncgradError, match="closes over"):
        fg.grad(outer)(3.0)
