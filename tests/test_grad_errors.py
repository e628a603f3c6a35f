"""Bad input to the differentiation API: each a clear FuncgradError naming the argument
(issue 3, item 5), tried as a new user would."""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp


def loss(w, x):
    return fnp.sum(w * x)


@pytest.mark.parametrize("w, x, argnums, named", [
    (np.arange(3), np.ones(3), 0, r"argument 0 \(w\) of loss: it has dtype int64"),
    (3, np.ones(3), 0, r"argument 0 \(w\) of loss: it has dtype int64"),
    (np.ones(3), np.ones(3, bool), 1, r"argument 1 \(x\) of loss: it has dtype bool"),
    (np.ones(3), np.arange(3, dtype=np.int32), (0, 1), r"argument 1 \(x\) of loss: .*int32"),
])
def test_integer_and_boolean_arguments(w, x, argnums, named):
    with pytest.raises(fg.FuncgradTypeError, match=named) as err:
        fg.grad(loss, argnums)(w, x)
    assert "only floating-point inputs can be differentiated" in str(err.value)
    with pytest.raises(fg.FuncgradTypeError, match=named):
        fg.value_and_grad(loss, argnums)(w, x)


def test_integer_leaf_inside_a_pytree_names_its_path():
    def f(params):
        return fnp.sum(params["w"] * params["steps"])

    params = {"w": np.ones(2), "steps": np.arange(2)}
    with pytest.raises(fg.FuncgradTypeError,
                       match=r"argument 0 \(params\) of f, at \['steps'\]: it has dtype int64"):
        fg.grad(f)(params)


def test_integer_arguments_not_differentiated_are_fine():
    np.testing.assert_array_equal(fg.grad(loss)(np.ones(3), np.arange(3)), [0, 1, 2])


def test_jacrev_refuses_integer_inputs():
    with pytest.raises(fg.FuncgradTypeError, match=r"jacrev of .* argument 0 \(x\)"):
        fg.jacrev(lambda x: x * 2)(np.arange(3))


@pytest.mark.parametrize("fn, match", [
    (lambda x: x * 2.0, r"to return a scalar, but it returned f64\[3\]"),
    (lambda x: (fnp.sum(x), fnp.sum(x)), "a tuple of 2 arrays; use has_aux=True"),
    (lambda x: fnp.argmax(x), r"floating-point output, but .* returned i64\[\]"),
])
def test_grad_needs_one_float_scalar_output(fn, match):
    with pytest.raises(fg.FuncgradError, match=match):
        fg.grad(fn)(np.ones(3))


def test_non_scalar_output_suggests_what_to_do():
    with pytest.raises(fg.ShapeError, match="reduce it .* or use vjp/jacrev"):
        fg.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(fg.ShapeError):
        fg.hessian(lambda x: x * 2.0)(np.ones(3))


@pytest.mark.parametrize("w, x, named", [
    (np.ones(3, complex), np.ones(3), r"argument 0 \(w\) of loss is complex \(complex128\)"),
    (np.ones(3), np.ones(3, np.complex64), r"argument 1 \(x\) of loss is complex"),
    (1j, np.ones(3), r"argument 0 \(w\) of loss is complex"),
])
def test_complex_inputs(w, x, named):
    with pytest.raises(fg.FuncgradTypeError, match=named):
        fg.grad(loss)(w, x)


def test_complex_input_to_vjp_names_the_argument():
    with pytest.raises(fg.FuncgradTypeError, match=r"argument 0 \(w\) of loss.*complex"):
        fg.vjp(loss, np.ones(3, complex), np.ones(3))


@pytest.mark.parametrize("cotangent, match", [
    (np.ones(3) * 1j, r"cotangent 0 has dtype complex128, but its output has dtype float64"),
    (np.ones(3, np.float32), "cotangent 0 has dtype float32, but its output has dtype float64"),
    (np.ones(3, int), "cotangent 0 has dtype int64"),
    (np.array([object()] * 3), "cotangent 0 has dtype object"),
])
def test_a_cotangent_has_its_outputs_dtype(cotangent, match):
    """As jvp's tangents (and JAX's cotangents): a complex cotangent lost its imaginary part
    with only NumPy's ComplexWarning, pointing into funcgrad."""
    _, pullback = fg.vjp(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(fg.FuncgradTypeError, match=match):
        pullback(cotangent)


def test_a_python_number_cotangent_takes_the_outputs_dtype():
    _, pullback = fg.vjp(lambda x: fnp.sum(x), np.ones(3, np.float32))
    assert pullback(1.0)[0].dtype == np.float32
    _, pullback = fg.vjp(lambda x: (fnp.sum(x), fnp.argmax(x)), np.ones(3))
    np.testing.assert_array_equal(pullback((1.0, 0))[0], np.ones(3))  # an int output's


@pytest.mark.parametrize("fn, got", [
    (lambda x: fnp.sum(x), r"returned a single array \(f64\[\]\)"),
    (lambda x: (fnp.sum(x), 1, 2), "returned a tuple of length 3"),
    (lambda x: {"loss": fnp.sum(x)}, "returned a dict"),
])
def test_has_aux_function_not_returning_a_pair(fn, got):
    with pytest.raises(fg.FuncgradTypeError, match=r"has_aux=True needs <lambda> to return a "
                                                    r"pair \(output, aux\), but it " + got):
        fg.grad(fn, has_aux=True)(np.ones(3))


@pytest.mark.parametrize("argnums, match", [
    (2, "argnums=2 is out of range: loss was called with 2 positional arguments"),
    ((0, 5), "argnums=5 is out of range"),
    (-3, "argnums=-3 is out of range"),
    (1.0, "argnums must be an int or a tuple of ints, got 1.0"),
    (("w",), "argnums must be ints, got 'w'"),
])
def test_argnums_out_of_range(argnums, match):
    with pytest.raises(fg.FuncgradTypeError, match=match):
        fg.grad(loss, argnums)(np.ones(3), np.ones(3))
    with pytest.raises(fg.FuncgradTypeError, match=match):
        fg.value_and_grad(loss, argnums)(np.ones(3), np.ones(3))


def test_arguments_passed_by_keyword_are_not_differentiated():
    with pytest.raises(fg.FuncgradTypeError, match=r"keyword arguments \(w, x\) are never "
                                                    "differentiated"):
        fg.grad(loss)(w=np.ones(3), x=np.ones(3))


def test_a_string_cannot_be_differentiated():
    with pytest.raises(fg.FuncgradTypeError,
                       match=r"argument 0 \(w\) of loss is a str, not an array"):
        fg.grad(loss)("weights", np.ones(3))


def test_value_dependent_control_flow_under_make_ir_still_explains():
    def f(x):
        return x if x > 0 else -x

    with pytest.raises(fg.ConcretizationError, match="fnp.where"):
        fg.make_ir(fg.grad(f))(1.0)


def test_errors_leave_no_broken_cache_entry():
    """A failed call must not poison the next one."""
    g = fg.grad(loss)
    with pytest.raises(fg.FuncgradTypeError):
        g(np.arange(3), np.ones(3))
    np.testing.assert_array_equal(g(np.ones(3), np.arange(3.0)), [0, 1, 2])


def _math_exp(x):
    return math.exp(x) * x


@pytest.mark.parametrize("transform, what", [
    (lambda f: fg.grad(f)(1.0), "float()"),
    (lambda f: fg.value_and_grad(f)(1.0), "float()"),
    (lambda f: fg.vjp(f, 1.0), "float()"),
    (lambda f: fg.jvp(f, (1.0,), (1.0,)), "float()"),
    (lambda f: fg.jacfwd(f)(1.0), "float()"),
    (lambda f: fg.hessian(f)(1.0), "float()"),
])
def test_a_python_float_of_a_value_being_differentiated_is_refused(transform, what):
    """float() under an eager derivative transform would make a constant of a value that
    depends on the input (math.exp(x) calls it): the derivative silently wrong. JAX raises
    too. The error names the user's line."""
    with pytest.raises(fg.ConcretizationError, match=r"float\(\) of a value being "
                       r"differentiated .*would drop its derivative.*in test_grad_errors\.py"):
        transform(_math_exp)


def test_item_and_tolist_of_a_value_being_differentiated_are_refused():
    for convert in (lambda x: (x * 2).item(), lambda x: fnp.stack([x, x]).tolist()[0]):
        with pytest.raises(fg.ConcretizationError, match=r"of a value being differentiated"):
            fg.grad(lambda x: convert(x) * x)(2.0)  # noqa: B023


def test_python_numbers_that_lose_no_derivative_are_allowed():
    """What the refusal above leaves alone: the derivative through bool(), int(), floor and
    stop_gradient is zero anyway; an argument not differentiated is a constant; a formatted
    value is only text."""
    cases = {
        lambda x: x * 2 if x > 0 else x: 2.0,                       # an `if`: bool()
        lambda x: x * int(x): 2.0,                                   # int(): integer
        lambda x: float(fnp.floor(x)) * x: 2.0,                      # zero derivative
        lambda x: float(fg.stop_gradient(x)) * x: 2.0,               # a constant, said so
        lambda x: x * float(x > 1): 1.0,                             # a bool made a float
        lambda x: x * len(f"{x:.3f}"): 5.0,                          # text
    }
    for f, expected in cases.items():
        assert fg.grad(f)(2.0) == expected
    assert fg.grad(lambda x, y: x * float(y))(2.0, 3.0) == 3.0       # y not differentiated
    assert fg.jacfwd(lambda x, y: x * float(y))(2.0, 3.0) == 3.0
    # a value of an enclosing derivative trace, differentiated out there: refused inside too
    for inner in (lambda x, y: y * float(x), lambda x, y: y * float(fnp.sin(x))):
        with pytest.raises(fg.ConcretizationError, match="would drop its derivative"):
            fg.grad(lambda x: fg.grad(lambda y: inner(x, y))(x))(2.0)  # noqa: B023
