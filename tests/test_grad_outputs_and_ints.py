"""JAX's rules for what grad accepts: one scalar output (not [loss], not (loss,)), and
integer inputs only with allow_int=True, whose gradient is a float0 array."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp


@pytest.mark.parametrize("fn, got", [
    (lambda x: [x * 2.0], "a list of 1 array"),
    (lambda x: (x * 2.0,), "a tuple of 1 array"),
    (lambda x: {"loss": x * 2.0}, "a dict of 1 array"),
    (lambda x: (x, x), "a tuple of 2 arrays"),
])
def test_grad_refuses_a_container_of_one_scalar(fn, got):
    """As JAX (TypeError: Gradient only defined for scalar-output functions. Output was
    [...]); funcgrad used to unwrap a 1-element list or tuple silently."""
    for transform in (fg.grad, fg.value_and_grad):
        with pytest.raises(fg.FuncgradTypeError,
                           match=r"scalar-output functions\), but it "
                                 f"returned {got}") as err:
            transform(fn)(1.0)
        assert "test_grad_outputs_and_ints.py" in str(err.value)  # the user's line
    with pytest.raises(fg.FuncgradTypeError, match=got):
        fg.jit(fg.grad(fn))(1.0)


def test_has_aux_main_output_must_be_a_scalar_too():
    with pytest.raises(fg.FuncgradTypeError, match="returned a list of 1 array"):
        fg.grad(lambda x: ([x], 1.0), has_aux=True)(1.0)
    # a list of two is a pair, as JAX accepts it
    g, aux = fg.grad(lambda x: [x * 3.0, 1.0], has_aux=True)(1.0)
    assert (float(g), float(aux)) == (3.0, 1.0)


def test_shape_one_array_is_not_a_scalar():
    with pytest.raises(fg.ShapeError, match=r"returned f64\[1\]"):
        fg.grad(lambda x: fnp.reshape(x, (1,)))(1.0)


def _is_float0(x, shape):
    return x.dtype == fg.dtypes.float0 and x.shape == shape and fg.dtypes.float0 == fg.float0


def loss(x, n):
    return fnp.sum(x * n)


def test_integer_input_needs_allow_int_and_then_gets_float0():
    """JAX: grad requires real- or complex-valued inputs ... set allow_int to True."""
    for transform in (fg.grad, fg.value_and_grad, fg.jacrev):
        with pytest.raises(fg.FuncgradTypeError, match=r"argument 1 \(n\) of loss: it has "
                                                        r"dtype int64.*allow_int=True"):
            transform(loss, argnums=1)(1.0, np.arange(3))
    gx, gn = fg.grad(loss, argnums=(0, 1), allow_int=True)(2.0, np.arange(3))
    assert float(gx) == 3.0 and _is_float0(gn, (3,))
    value, gb = fg.value_and_grad(lambda x, b: x * b, 1, allow_int=True)(2.0, True)
    assert float(value) == 2.0 and _is_float0(gb, ())
    g = fg.grad(lambda p: p["w"] * p["steps"], allow_int=True)({"w": 2.0, "steps": 3})
    assert float(g["w"]) == 3.0 and _is_float0(g["steps"], ())
    with pytest.raises(fg.FuncgradTypeError, match="is complex"):  # still refused
        fg.grad(lambda z: z * 2.0, allow_int=True)(1j)


def test_float0_gradients_pass_through_jit_and_vmap():
    grad = fg.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)
    for f in (fg.jit(grad), fg.jit(grad, compile="sync")):
        gx, gn = f(1.0, 2)
        assert float(gx) == 2.0 and _is_float0(gn, ())
    gx, gn = fg.vmap(grad)(np.ones(2), np.arange(2))
    np.testing.assert_array_equal(gx, [0.0, 1.0])
    assert _is_float0(gn, (2,))  # with the batch axis, as JAX's
    grad = fg.grad(loss, argnums=(0, 1), allow_int=True)
    _, gn = fg.vmap(grad, out_axes=-1)(np.ones((2, 3)), np.ones((2, 3), np.int32))
    assert _is_float0(gn, (3, 2))


def test_vjp_gives_integer_primals_float0_cotangents():
    """As JAX's; funcgrad's pullback returned an int64 zero."""
    _, pullback = fg.vjp(lambda x, n: x * n, 1.0, 2)
    gx, gn = pullback(1.0)
    assert float(gx) == 2.0 and _is_float0(gn, ())
    _, pullback = fg.vjp(lambda x: (x * 2.0, fnp.argmax(x)), np.ones(2))
    g, = pullback((np.ones(2), np.zeros((), fg.dtypes.float0)))  # an int output's, as JAX
    np.testing.assert_array_equal(g, [2.0, 2.0])


def test_jacrev_allow_int():
    jx, jn = fg.jacrev(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(np.ones(2),
                                                                           np.arange(2))
    np.testing.assert_array_equal(jx, [[0.0, 0.0], [0.0, 1.0]])
    assert _is_float0(jn, (2, 2))
    jn = fg.jit(fg.jacrev(lambda x, n: x * n, argnums=1, allow_int=True))(np.ones(2),
                                                                         np.arange(2))
    assert _is_float0(jn, (2, 2))
