"""funcgrad.testing: check_grads catches wrong derivatives and says where; numerical_grad;
the Hypothesis strategies draw what they promise and shrink to small examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import GradientCheckError, check_grads, numerical_grad
from funcgrad.testing import strategies as fst


def wrong_rule(rule):
    """sin with the derivative ``rule(x, g)`` instead of cos(x) * g."""
    @fg.custom_vjp
    def f(x):
        return fnp.sin(x)

    f.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (rule(x, g),))
    return f


# --- check_grads passes on right derivatives ---------------------------------------------------


def test_passes_on_pytrees_with_integer_leaves_held_fixed():
    def loss(params, x, labels):
        logits = x @ params["W"] + params["b"]
        picked = fnp.take_along_axis(fg.nn.log_softmax(logits), labels[:, None], axis=1)
        return -fnp.mean(picked)

    rng = np.random.default_rng(1)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    check_grads(loss, (params, rng.normal(size=(5, 3)), np.array([0, 3, 1, 1, 2])), order=2)


def test_passes_on_float32_and_python_scalars():
    check_grads(lambda x, s: fnp.sum(fnp.tanh(x * s)), (np.linspace(-1, 1, 4, dtype=np.float32),
                                                        0.7), order=2)


def test_passes_on_non_scalar_outputs():
    check_grads(lambda x: {"a": fnp.exp(x), "b": (x[:2] * x[1:],)}, (np.array([0.1, 0.5, -0.3]),),
                order=3)


# --- and fails, saying where, on wrong ones ----------------------------------------------------


def test_failure_names_argument_direction_numbers_and_error():
    f = wrong_rule(lambda x, g: g * fnp.sin(x))

    def loss(scale, x):
        return fnp.sum(f(x) * scale)

    with pytest.raises(GradientCheckError) as err:
        check_grads(loss, (2.0, np.array([0.5, 1.0, 2.0])))
    message = str(err.value)
    assert "the reverse-mode derivative of loss disagrees with finite differences" in message
    assert "with respect to:      argument 1 (x) of loss, float64[3]" in message
    assert "argument value:       [0.5 1.  2. ]" in message
    for part in ("direction v:", "finite differences:", "reverse mode:", "relative error"):
        assert part in message
    assert "worst element:" in message


def test_wrong_derivative_of_an_element_is_located():
    """The rule is right everywhere but at elements above 1.5: the worst element is [2]."""
    f = wrong_rule(lambda x, g: g * fnp.where(x > 1.5, 0.0, fnp.cos(x)))
    with pytest.raises(GradientCheckError, match=r"worst element:        \[2\]"):
        check_grads(lambda x: fnp.sum(f(x)), (np.array([0.5, 1.0, 2.0]),))


def test_order_two_catches_a_wrong_second_derivative():
    """cos(x0) * g with x0 a constant is right to first order only."""
    f = wrong_rule(lambda x, g: g * fnp.cos(fg.stop_gradient(x)))
    check_grads(f, (0.7,), order=1)
    with pytest.raises(GradientCheckError, match="derivative of order 2"):
        check_grads(f, (0.7,), order=2)


def test_float32_tolerances_are_looser_but_still_catch_errors():
    x = np.array([0.5, 1.0], np.float32)
    check_grads(lambda x: fnp.sum(fnp.sin(x)), (x,))
    f = wrong_rule(lambda x, g: g * fnp.cos(x) * 1.05)  # 5% off
    with pytest.raises(GradientCheckError):
        check_grads(lambda x: fnp.sum(f(x)), (x,))


def test_explicit_tolerances_and_step():
    f = wrong_rule(lambda x, g: g * fnp.cos(x) * (1 + 1e-4))
    check_grads(f, (0.3,), rtol=1e-3, atol=1e-3)
    with pytest.raises(GradientCheckError):
        check_grads(f, (0.3,))
    check_grads(fnp.sin, (0.3,), eps=1e-2)


def test_outside_the_domain_is_reported_as_such():
    with pytest.raises(GradientCheckError, match="not finite at x .* edge of the function's "
                                                 "domain"):
        check_grads(fnp.sqrt, (1e-5,))


def test_usage_errors():
    with pytest.raises(TypeError, match=r"check_grads\(f, \(x,\)\)"):
        check_grads(fnp.sin, np.ones(2))
    with pytest.raises(ValueError, match="unknown mode"):
        check_grads(fnp.sin, (0.3,), modes=("backward",))
    with pytest.raises(TypeError, match="no floating-point arguments"):
        check_grads(lambda n: n * 2, (3,))
    with pytest.raises(ValueError, match="order"):
        check_grads(fnp.sin, (0.3,), order=0)


def test_check_is_deterministic():
    f = wrong_rule(lambda x, g: g * 1.0)
    messages = []
    for _ in range(2):
        with pytest.raises(GradientCheckError) as err:
            check_grads(lambda x: fnp.sum(f(x)), (np.array([0.2, 0.4]),))
        messages.append(str(err.value))
    assert messages[0] == messages[1]


# --- numerical_grad ----------------------------------------------------------------------------


def test_numerical_grad_matches_closed_form():
    x = np.array([0.3, -1.2, 2.0])
    (g,) = numerical_grad(lambda x: fnp.sum(fnp.sin(x) * x), (x,))
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-9)


def test_numerical_grad_of_pytrees_and_python_floats():
    g_params, g_scale, g_n = numerical_grad(
        lambda p, s, n: (p["a"] ** 2 + fnp.sum(p["b"])) * s * n,
        ({"a": 1.5, "b": np.ones(2, np.float32)}, 2.0, 3))
    assert g_params["a"] == pytest.approx(18.0, rel=1e-5)  # the output is float32
    assert g_params["b"].dtype == np.float32
    np.testing.assert_allclose(g_params["b"], [6.0, 6.0], rtol=1e-4)
    assert g_scale == pytest.approx(3 * (2.25 + 2), rel=1e-4) and g_n is None


def test_numerical_grad_needs_a_scalar():
    with pytest.raises(TypeError, match="float scalar output"):
        numerical_grad(lambda x: x * 2.0, (np.ones(2),))


# --- strategies ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(fst.arrays(fst.float_dtypes(), fst.shapes()))
def test_default_arrays_are_well_conditioned(x):
    assert x.dtype in (np.float64, np.float32)
    assert np.all(np.isfinite(x)) and np.all(np.abs(x) <= 3)
    assert not np.any((x != 0) & (np.abs(x) < np.finfo(x.dtype).tiny))  # no subnormals


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_in_domain_respects_each_domain(data):
    dtype = data.draw(fst.float_dtypes())
    for name, inside in [("log", lambda x: x > 0), ("sqrt", lambda x: x > 0),
                         ("arcsin", lambda x: np.abs(x) < 1), ("arctanh", lambda x: np.abs(x) < 1),
                         ("arccosh", lambda x: x > 1), ("divide", lambda x: x != 0),
                         (fnp.log1p, lambda x: x > -1)]:
        x = data.draw(fst.in_domain(name, dtype, fst.shapes(min_dims=1)))
        assert x.dtype == dtype and np.all(inside(x)), name


@settings(max_examples=30, deadline=None)
@given(fst.positive(np.float32, 3), fst.nonzero(shape=(2,)), fst.unit_interval(shape=()))
def test_named_domains(p, nz, u):
    assert p.dtype == np.float32 and np.all(p >= 0.25)
    assert np.all(np.abs(nz) >= 0.25) and abs(float(u)) <= 0.8


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_broadcastable_shapes_broadcast(data):
    shape = data.draw(fst.shapes())
    other = data.draw(fst.broadcastable_shapes(shape))
    np.broadcast_shapes(shape, other)
    shapes = data.draw(fst.mutually_broadcastable_shapes(3))
    assert np.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape


@settings(max_examples=30, deadline=None)
@given(fst.pytrees(fst.arrays(np.float64, (2,)), max_leaves=5))
def test_pytrees_nest_the_leaves(tree):
    leaves = fg.tree.leaves(tree)
    assert 1 <= len(leaves) and all(isinstance(x, np.ndarray) for x in leaves)


def test_float32_bounds_are_representable():
    """Hypothesis refuses float32 bounds it cannot represent; 0.8 is not one."""
    x = find(fst.in_domain("arcsin", np.float32, (1,)), lambda x: abs(float(x[0])) > 0.7)
    assert abs(float(x[0])) <= 0.8


def test_failures_shrink_to_small_simple_examples():
    x = find(fst.arrays(np.float64), lambda x: np.any(x > 1))
    assert x.shape == () and float(x) <= 2.0


def test_check_grads_with_strategies_finds_a_wrong_rule():
    """The way a user would use both: a rule wrong only for negative inputs is found."""
    f = wrong_rule(lambda x, g: g * fnp.abs(fnp.cos(x)) * fnp.sign(x))

    @settings(max_examples=50, deadline=None, database=None)
    @given(fst.arrays(np.float64, fst.shapes(max_dims=1)))
    def prop(x):
        check_grads(lambda x: fnp.sum(f(x)), (x,))

    with pytest.raises(GradientCheckError):
        prop()


def test_module_doc_example():
    check_grads(lambda x: fnp.sum(fnp.sin(x) ** 2), (np.array([0.5, 1.0]),), order=2)
    assert math.isclose(float(numerical_grad(lambda x: x ** 3, (2.0,))[0]), 12.0, rel_tol=1e-9)


def test_reachable_as_fg_testing_without_hypothesis_until_strategies_are_used():
    import subprocess
    import sys
    code = ("import sys, funcgrad as fg; fg.testing.check_grads; "
            "assert 'hypothesis' not in sys.modules; fg.testing.strategies.arrays; "
            "assert 'hypothesis' in sys.modules")
    root = __file__.rsplit("/tests/", 1)[0]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_forward_mode_is_checked_too():
    check_grads(lambda x, y: fnp.sin(x) * y ** 2, (np.array([0.5, 1.0]), 0.7), order=2,
                modes=("fwd", "rev"))


def test_forward_mode_catches_a_wrong_derivative():
    """A custom_vjp whose bwd forgot the 2: its JVP (derived from bwd) is wrong too, and the
    forward-mode check says so, and which mode it was."""
    @fg.custom_vjp
    def square(x):
        return x * x
    square.defvjp(lambda x: (x * x, x), lambda x, g: (g * x,))
    with pytest.raises(GradientCheckError, match="the forward-mode derivative of square"):
        check_grads(square, (np.array([1.0, 2.0]),), modes=("fwd",))


def test_second_order_names_the_modes_nested():
    f = wrong_rule(lambda x, g: g * fnp.cos(fg.stop_gradient(x)))
    check_grads(f, (0.7,), order=1, modes=("fwd", "rev"))
    with pytest.raises(GradientCheckError, match=r"order 2 .*\((forward|reverse) mode over "):
        check_grads(f, (0.7,), order=2, modes=("fwd", "rev"))
