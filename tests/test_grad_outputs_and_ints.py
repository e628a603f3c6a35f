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
