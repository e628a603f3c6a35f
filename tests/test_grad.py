"""grad, value_and_grad, vjp, jacrev, hessian: API semantics, higher orders, control flow,
and the shape of the adjoint program itself."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import namedtuple

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)


@pytest.fixture
def traces(monkeypatch):
    """The signatures grad, value_and_grad and vjp traced the function for, in order (a
    function with no side effects, so caching its trace is allowed)."""
    from funcgrad.api import autodiff
    seen = []
    trace = autodiff._trace

    def counting(call, fun, key, wrt=None):
        seen.append(key)
        return trace(call, fun, key, wrt)
    monkeypatch.setattr(autodiff, "_trace", counting)
    return seen


def primitives(program):
    """Names of the primitives of a program, nested sub-programs included."""
    names = []
    for eqn in program.equations:
        names.append(eqn.primitive.name)
        for sub in eqn.params.values():
            if isinstance(sub, fg.Program):
                names += primitives(sub)
    return names


# --- derivatives at points where they are undefined: JAX's conventions ------------------
# Chosen in funcgrad/ops/elementwise.py and reductions.py; each is what central differences
# give at that point, except sqrt's (a one-sided limit) and relu's (JAX's choice).


def test_abs_at_zero_is_zero():
    """funcgrad's one departure from JAX's conventions at kinks (JAX's is 1: see
    docs/sharp-bits.md): it keeps |x| = max(x, -x) consistent with maximum's split of a tie,
    and with it the stable softplus right at 0, where sigmoid(0) = 0.5 is its derivative."""
    assert fg.grad(fnp.abs)(0.0) == 0.0
    assert fg.grad(fnp.abs)(-2.0) == -1.0
    assert fg.grad(lambda x: fnp.maximum(x, -x))(0.0) == 0.0

    def softplus(t):
        return fnp.maximum(t, 0.0) + fnp.log1p(fnp.exp(-fnp.abs(t)))
    assert fg.grad(softplus)(0.0) == 0.5
    assert fg.jvp(softplus, (0.0,), (1.0,))[1] == 0.5


def test_maximum_and_minimum_split_ties_equally():
    assert fg.grad(fnp.maximum, (0, 1))(1.0, 1.0) == (0.5, 0.5)
    assert fg.grad(fnp.minimum, (0, 1))(1.0, 1.0) == (0.5, 0.5)
    assert fg.grad(fnp.maximum, (0, 1))(2.0, 1.0) == (1.0, 0.0)


def test_max_reduction_splits_among_all_ties():
    g = fg.grad(fnp.max)(np.array([1.0, 3.0, 3.0, 3.0]))
    np.testing.assert_allclose(g, [0, 1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(fg.grad(fnp.min)(np.array([1.0, 1.0, 3.0])), [0.5, 0.5, 0])


def test_clip_at_a_bound_is_a_tie():
    clip = lambda x: fnp.clip(x, 0.0, 1.0)  # noqa: E731
    assert [fg.grad(clip)(x) for x in (-1.0, 0.0, 0.5, 1.0, 2.0)] == [0, 0.5, 1, 0.5, 0]


def test_sqrt_at_zero_is_inf():
    with np.errstate(divide="ignore"):
        assert fg.grad(fnp.sqrt)(0.0) == np.inf


def test_relu_at_zero_is_zero():
    assert fg.grad(fg.nn.relu)(0.0) == 0.0


def test_pow_at_the_origin():
    """x ** 0 is the constant 1, so d/dx is 0 even at x = 0 (JAX gives nan there)."""
    assert fg.grad(lambda x: x ** 0)(0.0) == 0.0
    assert fg.grad(fnp.power, (0, 1))(0.0, 0.0) == (0.0, 0.0)
    assert fg.grad(fnp.power, (0, 1))(0.0, 2.0) == (0.0, 0.0)
    assert fg.grad(fnp.power, (0, 1))(0.0, 1.0) == (1.0, 0.0)


def test_hypot_at_the_origin_is_zero():
    """hypot is the 2-norm of (x, y): 0-safe as norm is (JAX's 0.5, 0.5 is an artifact of
    its formula), where x / hypot(x, y) gave 0 / 0 = NaN."""
    with np.errstate(invalid="raise", divide="raise"):
        assert fg.grad(fnp.hypot, (0, 1))(0.0, 0.0) == (0.0, 0.0)
    assert fg.grad(fnp.hypot, (0, 1))(3.0, -4.0) == (0.6, -0.8)
    np.testing.assert_array_equal(fg.jacfwd(lambda x: fnp.hypot(x, 0.0))(np.zeros(2)),
                                  np.zeros((2, 2)))


@pytest.mark.parametrize("fn", [fnp.floor, fnp.ceil, fnp.round, fnp.rint, fnp.sign,
                                lambda x: fnp.floor_divide(x, 0.7)])
def test_piecewise_constant_functions_have_zero_gradient(fn):
    x = np.array([-1.5, 0.0, 0.3, 2.5])
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fn(x) * x))(x), fn(x))


def test_comparisons_and_argmax_have_zero_gradient():
    x = np.array([0.5, -1.0, 2.0])
    assert np.all(fg.grad(lambda x: fnp.sum((x > 0).astype(float)))(x) == 0)
    assert fg.grad(lambda x: fnp.argmax(x).astype(float))(x).tolist() == [0, 0, 0]
    # x[argmax(x)] is differentiable in x: the index is a constant
    assert fg.grad(lambda x: x[fnp.argmax(x)])(x).tolist() == [0, 0, 1]


def test_prod_with_zeros_is_exact():
    np.testing.assert_array_equal(fg.grad(fnp.prod)(np.array([0.0, 3.0, 2.0])), [6, 0, 0])
    np.testing.assert_array_equal(fg.grad(fnp.prod)(np.array([0.0, 0.0, 2.0])), [0, 0, 0])


# --- backpropagation by hand, as the lecture derives it ---------------------------------


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def two_layer_loss(params, x, y):
    """L = sum over examples n of C^n, C = 1/2 |z2 - y|^2, z2 = a1 W2 + b2, a1 = sigmoid(z1),
    z1 = x W1 + b1."""
    W1, b1, W2, b2 = params
    a1 = fg.nn.sigmoid(x @ W1 + b1)
    z2 = a1 @ W2 + b2
    return 0.5 * fnp.sum((z2 - y) ** 2)


def backprop_by_hand(params, x, y):
    """Per example and per weight, with loops, exactly as the lecture does it:
    forward pass: dz/dw is the input x on that weight (a bias's input is 1);
    backward pass: dC/dz for the output layer first (C is quadratic: dC/dz2 = z2 - y), then
    for the hidden layer from the layer above (case 2: dC/dz1_j = sigma'(z1_j) *
    sum_k W2_jk dC/dz2_k); dC/dw = (dz/dw) * (dC/dz); and dL/dw sums over examples."""
    W1, b1, W2, b2 = params
    gW1, gb1, gW2, gb2 = (np.zeros_like(p) for p in params)
    for n in range(x.shape[0]):
        # forward pass
        z1 = [sum(x[n, i] * W1[i, j] for i in range(W1.shape[0])) + b1[j]
              for j in range(W1.shape[1])]
        a1 = [sigmoid(z) for z in z1]
        z2 = [sum(a1[j] * W2[j, k] for j in range(W2.shape[0])) + b2[k]
              for k in range(W2.shape[1])]
        # backward pass: dC/dz from the output layer back
        dC_dz2 = [z2[k] - y[n, k] for k in range(W2.shape[1])]
        dC_dz1 = [sigmoid(z1[j]) * (1 - sigmoid(z1[j]))
                  * sum(W2[j, k] * dC_dz2[k] for k in range(W2.shape[1]))
                  for j in range(W1.shape[1])]
        # dC/dw = dz/dw (the input on that weight) * dC/dz
        for j in range(W2.shape[0]):
            for k in range(W2.shape[1]):
                gW2[j, k] += a1[j] * dC_dz2[k]
        for k in range(W2.shape[1]):
            gb2[k] += 1.0 * dC_dz2[k]
        for i in range(W1.shape[0]):
            for j in range(W1.shape[1]):
                gW1[i, j] += x[n, i] * dC_dz1[j]
        for j in range(W1.shape[1]):
            gb1[j] += 1.0 * dC_dz1[j]
    return [gW1, gb1, gW2, gb2]


def test_grad_of_two_layer_mlp_is_backprop_by_hand():
    params = [RNG.normal(size=(4, 5)), RNG.normal(size=5), RNG.normal(size=(5, 3)),
              RNG.normal(size=3)]
    x, y = RNG.normal(size=(6, 4)), RNG.normal(size=(6, 3))
    got = fg.grad(two_layer_loss)(params, x, y)
    assert isinstance(got, list) and len(got) == 4
    for g, expected in zip(got, backprop_by_hand(params, x, y)):
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12)


def test_mlp_adjoint_program_matches_the_lecture():
    """The adjoint's backward pass multiplies dC/dz by the layer's input: dW2 = a1^T dC/dz2
    and dW1 = x^T dC/dz1, each one dot_general whose first operand is that input."""
    params = [np.ones((4, 5)), np.ones(5), np.ones((5, 3)), np.ones(3)]
    program = fg.make_ir(fg.grad(two_layer_loss))(params, np.ones((6, 4)),
                                                   np.ones((6, 3))).program
    dots = [e for e in program.equations if e.primitive.name == "dot_general"]
    assert len(dots) == 2 + 3  # forward: 2; backward: dW2, dC/da1, dW1 (no dC/dx)
    x_var = program.invars[4]
    dW1 = next(e for e in dots if e.outputs[0] is program.outvars[0])
    assert dW1.inputs[0] is x_var and dW1.params["contract"] == ((0,), (0,))
    names = primitives(program)
    # db1 and db2 sum dC/dz over the examples; the loss's own sum is not needed for grad
    assert "logistic" in names and names.count("reduce_sum") == 2


# --- higher orders against closed forms --------------------------------------------------


@pytest.mark.parametrize("fn, derivatives", [
    (fnp.sin, [math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x)]),
    (fnp.exp, [math.exp] * 3),
    (lambda x: x ** 3, [lambda x: 3 * x * x, lambda x: 6 * x, lambda x: 6.0]),
    (fnp.log, [lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3]),
    (fnp.tanh, [lambda x: 1 - math.tanh(x) ** 2,
                lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
                lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2)]),
    (fg.nn.sigmoid, [lambda x: sigmoid(x) * (1 - sigmoid(x)),
                     lambda x: sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x)),
                     lambda x: sigmoid(x) * (1 - sigmoid(x)) * (1 - 6 * sigmoid(x)
                                                               + 6 * sigmoid(x) ** 2)]),
    (lambda x: fnp.sqrt(x) * fnp.arctan(x), [
        lambda x: 0.5 / math.sqrt(x) * math.atan(x) + math.sqrt(x) / (1 + x * x),
        lambda x: (-0.25 * x ** -1.5 * math.atan(x) + x ** -0.5 / (1 + x * x)
                   - 2 * x ** 1.5 / (1 + x * x) ** 2),
        None]),
])
@pytest.mark.parametrize("x", [0.3, 1.7])
def test_first_second_third_derivatives(fn, derivatives, x):
    d = fn
    for closed_form in derivatives:
        d = fg.grad(d)
        if closed_form is not None:
            assert d(x) == pytest.approx(closed_form(x), rel=1e-12, abs=1e-12)


def test_grad_of_grad_of_multivariate_function():
    """f(x, y) = x^2 y + sin(x y): the mixed partial d2f/dxdy = 2x + cos(xy) - xy sin(xy)."""
    f = lambda x, y: x * x * y + fnp.sin(x * y)  # noqa: E731
    x, y = 0.7, -1.3
    mixed = fg.grad(fg.grad(f, 0), 1)(x, y)
    assert mixed == pytest.approx(2 * x + math.cos(x * y) - x * y * math.sin(x * y), rel=1e-12)


def test_hessian_closed_form():
    """f(x) = sum(x^3) + (a . x)^2 has Hessian diag(6x) + 2 a a^T."""
    a = np.array([1.0, -2.0, 0.5])
    x = np.array([0.3, 1.1, -0.7])
    H = fg.hessian(lambda x: fnp.sum(x ** 3) + fnp.dot(a, x) ** 2)(x)
    np.testing.assert_allclose(H, np.diag(6 * x) + 2 * np.outer(a, a), rtol=1e-13)


def test_hessian_of_pytree_argument():
    H = fg.hessian(lambda p: p["a"] ** 2 * p["b"])({"a": 2.0, "b": 3.0})
    assert H["a"]["a"] == 6.0 and H["a"]["b"] == 4.0 and H["b"]["a"] == 4.0
    assert H["b"]["b"] == 0.0


def test_fourth_order_through_nested_programs():
    d4 = fg.grad(fg.grad(fg.grad(fg.grad(fnp.sin))))
    assert d4(0.4) == pytest.approx(math.sin(0.4), rel=1e-12)


def test_higher_order_check_grads_on_a_network():
    W = RNG.normal(size=(3, 4))
    f = lambda W, x: fnp.sum(fnp.tanh(x @ W) ** 2)  # noqa: E731
    check_grads(f, (W, RNG.normal(size=(2, 3))), order=3)


# --- API: has_aux, argnums, pytrees, vjp, jacrev --------------------------------------------


Point = namedtuple("Point", "x y")


@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: np.ndarray


def test_pytree_arguments_give_gradients_of_the_same_structure():
    params = {"layer": Layer(np.ones((2, 3)), np.zeros(3)), "p": Point(1.0, np.ones(2)),
              "list": [np.ones(2), (np.ones(1), None)]}

    def f(params):
        layer, p = params["layer"], params["p"]
        return (fnp.sum(layer.w * 2.0) + fnp.sum(layer.b * 3.0) + p.x ** 2
                + fnp.sum(p.y) + fnp.sum(params["list"][0] * params["list"][1][0]))

    g = fg.grad(f)(params)
    assert isinstance(g["layer"], Layer) and isinstance(g["p"], Point)
    np.testing.assert_array_equal(g["layer"].w, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(g["layer"].b, np.full(3, 3.0))
    assert g["p"].x == 2.0 and g["list"][1][1] is None
    np.testing.assert_array_equal(g["list"][1][0], [2.0])


def test_argnums_tuples_and_negative_argnums():
    f = lambda x, y, z: x * y * y * z  # noqa: E731
    assert fg.grad(f, (0, 2))(2.0, 3.0, 4.0) == (36.0, 18.0)
    assert fg.grad(f, (2, 0))(2.0, 3.0, 4.0) == (18.0, 36.0)
    assert fg.grad(f, -2)(2.0, 3.0, 4.0) == 48.0
    assert fg.grad(f, (1,))(2.0, 3.0, 4.0) == (48.0,)


def test_keyword_arguments_are_not_differentiated():
    f = lambda x, scale=1.0: fnp.sum(x * scale)  # noqa: E731
    np.testing.assert_array_equal(fg.grad(f)(np.ones(2), scale=3.0), [3.0, 3.0])


def test_has_aux_with_any_pytree():
    def loss(w):
        pred = w * 2.0
        return fnp.sum(pred ** 2), {"pred": pred, "point": Point(w, 1), "none": None}

    g, aux = fg.grad(loss, has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [8.0, 16.0])
    np.testing.assert_array_equal(aux["pred"], [2.0, 4.0])
    assert isinstance(aux["point"], Point) and aux["point"].y == 1 and aux["none"] is None
    (value, aux2), g2 = fg.value_and_grad(loss, has_aux=True)(np.array([1.0, 2.0]))
    assert value == 20.0
    np.testing.assert_array_equal(g2, g)


def test_value_and_grad():
    value, g = fg.value_and_grad(lambda x, y: fnp.sum(x * y), 1)(np.ones(2), np.arange(2.0))
    assert value == 1.0
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_vjp_with_pytree_output_and_pullback():
    def f(x, y):
        return {"s": fnp.sin(x) * y, "t": (x * y, fnp.sum(x))}

    x, y = np.array([0.1, 0.2]), 3.0
    out, pullback = fg.vjp(f, x, y)
    np.testing.assert_allclose(out["s"], np.sin(x) * y)
    ct = {"s": np.array([1.0, 2.0]), "t": (np.array([0.5, 0.0]), 1.0)}
    dx, dy = pullback(ct)
    np.testing.assert_allclose(dx, np.cos(x) * y * [1, 2] + y * np.array([0.5, 0]) + 1.0)
    assert dy == pytest.approx(np.sum(np.sin(x) * [1, 2]) + 0.5 * x[0])
    # the pullback can be called again, with other cotangents
    dx2, _ = pullback({"s": np.zeros(2), "t": (np.zeros(2), 2.0)})
    np.testing.assert_array_equal(dx2, [2.0, 2.0])


def test_vjp_has_aux_and_cotangent_checks():
    out, pullback, aux = fg.vjp(lambda x: (x * 2.0, x + 1.0), np.ones(2), has_aux=True)
    np.testing.assert_array_equal(aux, [2.0, 2.0])
    (dx,) = pullback(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(dx, [2.0, -2.0])
    with pytest.raises(fg.ShapeError, match="shape"):
        pullback(np.ones(3))
    with pytest.raises(fg.FuncgradTypeError, match="structure"):
        pullback((np.ones(2),))


def test_vjp_pullback_runs_only_the_backward_pass():
    calls = []

    def f(x):
        calls.append(1)
        return fnp.exp(x) * 2.0

    out, pullback = fg.vjp(f, np.ones(2))
    traced = len(calls)
    pullback(np.ones(2))
    pullback(np.ones(2))
    assert len(calls) == traced


def test_jacrev():
    J = fg.jacrev(lambda x: fnp.sin(x) * x[::-1])(np.array([0.1, 0.2, 0.3]))
    x = np.array([0.1, 0.2, 0.3])
    expected = np.diag(np.cos(x) * x[::-1]) + np.diag(np.sin(x))[:, ::-1]
    np.testing.assert_allclose(J, expected, rtol=1e-14)


def test_jacrev_shapes_pytrees_and_argnums():
    f = lambda x, y: {"a": x[:, None] * y[None, :], "b": fnp.sum(x)}  # noqa: E731
    J = fg.jacrev(f, (0, 1))(np.ones(2), np.arange(3.0))
    assert J["a"][0].shape == (2, 3, 2) and J["a"][1].shape == (2, 3, 3)
    assert J["b"][0].shape == (2,) and J["b"][1].shape == (3,)
    np.testing.assert_array_equal(J["b"][1], 0)


def test_jacrev_with_an_argument_named_twice_in_argnums():
    # as grad and jacfwd: each entry is the whole Jacobian (the first was zeros)
    a, b = np.array([1.0, 2.0]), np.array([2.0, 3.0])
    f = lambda a, b: a * b ** 2  # noqa: E731
    J = fg.jacrev(f, argnums=(1, 0, 1))(a, b)
    for got, want in zip(J, (np.diag(2 * a * b), np.diag(b ** 2), np.diag(2 * a * b))):
        np.testing.assert_array_equal(got, want)
    assert fg.grad(lambda a, b: fnp.sum(f(a, b)), (1, 1))(a, b)[0].tolist() == [4.0, 12.0]


def test_grad_with_float32_stays_float32():
    x = np.ones(3, np.float32)
    g = fg.grad(lambda x: fnp.sum(fnp.sin(x) * 2.0))(x)
    assert g.dtype == np.float32
    assert fg.grad(lambda x, y: fnp.sum(x * y), 1)(x, 2.0) == pytest.approx(3.0)


def test_gradient_with_respect_to_an_unused_argument_is_zero():
    g = fg.grad(lambda x, y: fnp.sum(x), 1)(np.ones(2), np.ones((2, 3), np.float32))
    assert g.shape == (2, 3) and g.dtype == np.float32 and not g.any()


# --- stop_gradient --------------------------------------------------------------------------


def test_stop_gradient():
    assert fg.grad(lambda x: x * fg.stop_gradient(x))(3.0) == 3.0
    assert fg.grad(fg.grad(lambda x: x ** 2 * fg.stop_gradient(x ** 2)))(2.0) == 8.0


def test_stop_gradient_of_pytrees():
    p = {"w": np.ones(2), "b": (3.0, np.float32(1.0))}
    out = fg.stop_gradient(p)
    assert fg.tree.structure(out) == fg.tree.structure(p)

    def f(p):
        q = fg.stop_gradient(p)
        return fnp.sum(p["w"] * q["w"]) + p["b"][0] * q["b"][0]

    g = fg.grad(f)(p)
    np.testing.assert_array_equal(g["w"], [1.0, 1.0])
    assert g["b"][0] == 3.0 and g["b"][1] == 0.0


# --- Python control flow under grad, and tracing once per signature --------------------------


def test_if_on_a_traced_value():
    def f(x):
        if x > 0:
            return fnp.sin(x)
        return x ** 3

    g = fg.grad(f)
    assert g(0.5) == pytest.approx(math.cos(0.5))
    assert g(-0.5) == pytest.approx(0.75)
    assert g(0.5) == pytest.approx(math.cos(0.5))  # not a stale program from the other branch


def test_while_loop_with_value_dependent_trip_count():
    def f(x):
        y, steps = x, 0
        while y < 10.0:
            y = y * y + 1.0
            steps += 1
        return y

    # x = 1: y = 2, 5, 26 (3 steps): y = ((x^2+1)^2+1)^2+1
    d1 = 2 * (5.0) * 2 * (2.0) * 2 * 1.0
    assert fg.grad(f)(1.0) == pytest.approx(d1)
    assert fg.grad(f)(4.0) == pytest.approx(8.0)  # one step: y = x^2 + 1
    assert fg.grad(f)(20.0) == 1.0  # no step


def test_control_flow_on_array_values():
    def f(w):
        total = 0.0
        for v in w:
            total = total + (v * v if v > 0 else -v)
        return total

    np.testing.assert_allclose(fg.grad(f)(np.array([1.0, -2.0, 3.0])), [2.0, -1.0, 6.0])


def test_value_dependent_control_flow_under_grad_of_grad():
    def f(x):
        return fnp.sin(x) if x > 0 else fnp.cos(x)

    assert fg.grad(fg.grad(f))(0.3) == pytest.approx(-math.sin(0.3))
    assert fg.grad(fg.grad(f))(-0.3) == pytest.approx(-math.cos(-0.3))


def test_value_dependent_branches_with_value_aux_and_custom_rules():
    """Branching functions backpropagate their values directly; value_and_grad, has_aux,
    float32 arguments and custom_vjp (whose rule runs a forward pass of its own) too."""
    @fg.custom_vjp
    def double(x):
        return 2.0 * x

    double.defvjp(lambda x: (2.0 * x, None), lambda _, g: (g * 3.0,))  # a deliberate "3"

    def f(x, scale):
        y = fnp.tanh(x) * scale
        y = y * y if fnp.sum(y) > 0 else -y
        return fnp.sum(fnp.exp(y)), {"first": y[0]}

    x = np.linspace(-1.0, 2.0, 5)
    (value, aux), g = fg.value_and_grad(f, has_aux=True)(x, 2.0)
    y = np.tanh(x) * 2.0
    assert value == pytest.approx(np.sum(np.exp(y * y))) and aux["first"] == y[0] ** 2
    np.testing.assert_allclose(g, np.exp(y * y) * 2 * y * 2.0 * (1 - np.tanh(x) ** 2))
    g32 = fg.grad(lambda x, s: f(x, s)[0])(x.astype(np.float32), 2.0)
    assert g32.dtype == np.float32 and g32.flags.writeable
    np.testing.assert_allclose(g32, g, rtol=1e-5)
    branchy = lambda x: fnp.sum(double(x)) if fnp.sum(x) > 0 else fnp.sum(x)  # noqa: E731
    np.testing.assert_allclose(fg.grad(branchy)(x), np.full(5, 3.0))
    np.testing.assert_allclose(fg.grad(branchy)(-x), np.ones(5))


def test_traced_twice_per_input_signature(traces):
    """The second call traces again to check the first trace holds (a function without side
    effects gives the same program); from then on the trace is cached."""
    def loss(w, x):
        return fnp.sum(fnp.tanh(x @ w))

    g = fg.grad(loss)
    w, x = np.ones((3, 2)), np.ones((4, 3))
    for _ in range(5):
        g(w * RNG.normal(), x)
    assert len(traces) == 2
    g(w, np.ones((5, 3)))  # new shape
    g(w.astype(np.float32), x.astype(np.float32))  # new dtypes
    assert len(traces) == 4
    g(w, np.ones((4, 3)))
    assert len(traces) == 4
    fg.value_and_grad(loss)(w, x)  # another transform is its own program
    assert len(traces) == 5


def test_functions_with_side_effects_run_on_every_call():
    """As with JAX's grad without jit: every call runs the function."""
    log = []

    def loss(w):
        log.append(1)
        return fnp.sum(w ** 2)

    g = fg.grad(loss)
    for _ in range(4):
        g(np.ones(2))
    assert len(log) == 4


def test_traced_once_per_pytree_structure(traces):
    def f(p):
        return sum(fnp.sum(v) for v in p.values())

    g = fg.grad(f)
    g({"a": np.ones(2)})
    g({"a": np.zeros(2)})
    g({"b": np.ones(2)})
    g({"a": np.ones(2), "b": 1.0})
    assert len(traces) == 4  # {"a"} twice (the second checks the first), then one each


def test_python_scalars_are_traced_once_whatever_their_value(traces):
    def f(a, b, c):
        return a * b + fnp.sin(c)

    for v in (0.1, 0.2, 0.3, 0.4):
        assert fg.grad(f, (0, 1, 2))(v, 2.0, v)[0] == 2.0
    assert len(traces) == 2  # the first call and the check of it


def test_rebinding_a_global_the_function_reads_retraces():
    global SCALE
    SCALE = np.array(2.0)
    f = lambda x: x * SCALE  # noqa: E731
    assert fg.grad(f)(1.0) == 2.0
    SCALE = np.array(5.0)
    assert fg.grad(f)(1.0) == 5.0


def test_value_dependent_functions_are_traced_with_values_each_call():
    traces = []

    def f(x):
        traces.append(1)
        return x * 2.0 if x > 0 else x * 3.0

    g = fg.grad(f)
    assert [g(1.0), g(-1.0), g(2.0)] == [2.0, 3.0, 2.0]
    # a concrete trace for each call, never a cached program; the failed abstract attempt is
    # made only the first time
    assert len(traces) == 4


# --- the adjoint program --------------------------------------------------------------------


def test_adjoint_has_no_zeros_that_are_only_added_to():
    """A variable used three times gets its cotangent as the sum of three contributions:
    the first one starts the sum, no zeros array is created for it to be added to."""
    def f(x):
        return fnp.sum(fnp.sin(x) * fnp.cos(x) + fnp.exp(x))

    program = fg.make_ir(fg.grad(f))(np.ones(3)).program
    zero_fills = [e for e in program.equations if e.primitive.name == "broadcast_to"
                  and isinstance(e.inputs[0], fg.core.ir.Literal) and e.inputs[0].value == 0]
    assert not zero_fills
    assert primitives(program).count("add") == 2  # three contributions to x's cotangent


def test_adjoint_keeps_only_forward_values_it_needs():
    """grad(f) needs cos(x) for sin's VJP but never sin(x) itself, nor the final sum."""
    program = fg.make_ir(fg.grad(lambda x: fnp.sum(fnp.sin(x) * 2.0)))(np.ones(3)).program
    assert primitives(program) == ["cos", "mul"]  # 2.0 * cos(x): no array of ones
    value_program = fg.make_ir(fg.value_and_grad(lambda x: fnp.sum(fnp.sin(x) * 2.0)))(
        np.ones(3)).program
    assert "sin" in primitives(value_program)


def test_inactive_values_get_no_backward_pass():
    """Nothing is differentiated along paths that do not depend on the argument."""
    c = RNG.normal(size=3)
    program = fg.make_ir(fg.grad(lambda x, c: fnp.sum(x * fnp.exp(fnp.sin(c)))))(
        np.ones(3), c).program
    names = primitives(program)
    assert "cos" not in names and names.count("exp") == 1


def test_adjoint_undoes_broadcasting():
    def f(x, b, s):
        return fnp.sum(fnp.tanh(x + b) * s)

    x, b, s = np.ones((4, 3)), np.ones((1, 3)), 2.0
    gx, gb, gs = fg.grad(f, (0, 1, 2))(x, b, s)
    assert gx.shape == (4, 3) and gb.shape == (1, 3) and np.shape(gs) == ()
    np.testing.assert_allclose(gb, np.sum(2 * (1 - np.tanh(2.0) ** 2)
                                          * np.ones((4, 3)), axis=0, keepdims=True))
    program = fg.make_ir(fg.grad(f, 1))(x, b, s).program
    sums = [e for e in program.equations if e.primitive.name == "reduce_sum"]
    assert [e.params["axes"] for e in sums] == [(0,)]


def test_adjoint_program_validates_and_evaluates():
    from funcgrad.core.ir import validate
    closed = fg.make_ir(fg.grad(two_layer_loss))(
        [np.ones((4, 5)), np.ones(5), np.ones((5, 3)), np.ones(3)],
        np.ones((6, 4)), np.ones((6, 3)))
    validate(closed.program)
    params = [RNG.normal(size=(4, 5)), RNG.normal(size=5), RNG.normal(size=(5, 3)),
              RNG.normal(size=3)]
    x, y = RNG.normal(size=(6, 4)), RNG.normal(size=(6, 3))
    for a, b in zip(closed(*params, x, y), fg.grad(two_layer_loss)(params, x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_adjoint_of_adjoint_prints():
    text = str(fg.make_ir(fg.grad(fg.grad(fnp.tanh)))(0.5))
    assert "tanh" in text and "mul" in text and text.count("{ lambda") == 1


def test_adjoint_computes_each_value_once():
    """sin(x) * sin(x): the two sines, and the two g * cos(x) * sin(x) terms of the
    backward pass, are computed once each."""
    program = fg.make_ir(fg.grad(lambda x: fnp.sum(fnp.sin(x) * fnp.sin(x))))(
        np.ones(3)).program
    names = primitives(program)
    assert names.count("sin") == 1 and names.count("cos") == 1 and names.count("mul") == 1


def test_non_array_arguments_that_are_not_differentiated_pass_through():
    """As in JAX's grad: functions, strings and configs may be passed along; they are
    static, so each distinct (hashable) value gets its own trace."""
    traces = []

    def loss(w, mode, act=fnp.tanh):
        traces.append(mode)
        return fnp.sum(act(w)) * (2.0 if mode == "train" else 1.0)

    g = fg.grad(loss)
    w = np.zeros(2)
    np.testing.assert_array_equal(g(w, "train"), [2.0, 2.0])
    np.testing.assert_array_equal(g(w, "eval"), [1.0, 1.0])
    np.testing.assert_array_equal(g(w, "train", act=fnp.sin), [2.0, 2.0])
    g(w, "train")
    assert traces == ["train", "eval", "train", "train"]  # a function with side effects
    config = {"scale": 3.0, "name": "layer"}  # unhashable: traced on every call
    np.testing.assert_array_equal(
        fg.grad(lambda w, c: fnp.sum(w * c["scale"]))(np.ones(2), config), [3.0, 3.0])


# --- the trace cache never serves a stale program ---------------------------------------------


class Model:
    def __init__(self):
        self.W = np.array([1.0, 2.0])
        self.calls = 0

    def loss(self, x):
        self.calls += 1  # a side effect: the method runs on every call
        return fnp.sum(self.W * x)


def test_bound_method_sees_its_objects_new_attributes():
    m = Model()
    g = fg.grad(m.loss)
    np.testing.assert_array_equal(g(np.ones(2)), [1.0, 2.0])
    m.W = np.array([5.0, 7.0])  # an optimizer step rebinds the parameters
    np.testing.assert_array_equal(g(np.ones(2)), [5.0, 7.0])
    np.testing.assert_array_equal(fg.grad(m.loss)(np.ones(2)), [5.0, 7.0])
    for x in (np.ones(2), np.ones((3, 2)), np.ones(2), np.ones((3, 2))):
        fg.grad(m.loss)(x)  # a new method object each time still finds its entry
    assert m.calls == 7  # the method counts its calls: it runs on every one, as in JAX
    other = Model()
    np.testing.assert_array_equal(fg.grad(other.loss)(np.ones(2)), [1.0, 2.0])


def test_dict_and_list_state_read_by_the_function():
    config = {"scale": 2.0}
    layers = [np.ones(2)]

    def f(x):
        return fnp.sum(x * config["scale"]) + sum(fnp.sum(w * x) for w in layers)

    g = fg.grad(f)
    np.testing.assert_array_equal(g(np.ones(2)), [3.0, 3.0])
    config["scale"] = 3.0
    np.testing.assert_array_equal(g(np.ones(2)), [4.0, 4.0])
    layers.append(np.full(2, 5.0))
    np.testing.assert_array_equal(g(np.ones(2)), [9.0, 9.0])


def test_counters_the_function_updates_count_every_call():
    global CALLS
    CALLS = 0
    log = []

    def f(x):
        global CALLS
        CALLS += 1
        log.append(x.shape)
        return fnp.sum(x ** 2)

    g = fg.grad(f)
    for x in (np.ones(2), np.ones(3), np.ones(2), np.ones(3), np.ones(2)):
        g(x)
    assert CALLS == 5 and len(log) == 5  # as without funcgrad: side effects happen


def test_callable_objects_and_partials_are_watched_too():
    class Loss:
        def __init__(self):
            self.w = 2.0

        def __call__(self, x):
            return x * self.w

    loss = Loss()
    g = fg.grad(loss)
    assert g(1.0) == 2.0
    loss.w = 5.0
    assert g(1.0) == 5.0

    m = Model()
    g = fg.grad(functools.partial(Model.loss, m))
    np.testing.assert_array_equal(g(np.ones(2)), [1.0, 2.0])
    m.W = np.full(2, 4.0)
    np.testing.assert_array_equal(g(np.ones(2)), [4.0, 4.0])
