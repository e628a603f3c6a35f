"""Property-test the gradients of your own loss with Hypothesis and funcgrad.testing.

Hypothesis draws inputs (funcgrad.testing.strategies gives well-conditioned float arrays by
default), and ``check_grads`` compares funcgrad's reverse-mode derivatives, first and second
order, with finite differences along random directions. When a derivative is wrong the
failure names the argument (down to the leaf of a params dict), the direction, both numbers
and their relative error, and Hypothesis shrinks the inputs to a small example.

    python -m pytest examples/test_my_loss.py
    python examples/test_my_loss.py          # the same tests, without pytest
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads
from funcgrad.testing import strategies as fst


def log_cosh(r):
    """log(cosh(r)): quadratic near 0, linear far away (a smooth Huber loss), written as
    log(exp(r) + exp(-r)) - log(2) with the stable logaddexp so that it never overflows.

    (Writing it as |r| + log1p(exp(-2|r|)) - log(2) is just as stable, but the first test
    below fails on it, with inputs that Hypothesis shrinks to all zeros: abs has derivative
    0 at 0, as in JAX, so that form's second derivative at r = 0 comes out 0 instead of 1.)
    """
    return fnp.logaddexp(r, -r) - np.log(2.0)


def my_loss(params, x, y):
    """A one-layer model with a robust loss: the function under test."""
    prediction = fnp.tanh(x @ params["W"] + params["b"])
    return fnp.mean(log_cosh(prediction - y))


@settings(max_examples=25, deadline=None)
@given(W=fst.arrays(np.float64, (3, 4)), b=fst.arrays(np.float64, (4,)),
       x=fst.arrays(np.float64, (5, 3)),
       y=fst.arrays(np.float64, (5, 4), elements=st.floats(-1, 1)))
def test_gradients_match_finite_differences(W, b, x, y):
    # order=2 also checks the derivative of the gradient (what a Newton method would use)
    check_grads(my_loss, ({"W": W, "b": b}, x, y), order=2)


_compiled_grad = fg.jit(fg.grad(my_loss))  # one compiled program for every batch size


@settings(max_examples=15, deadline=None)
@given(data=st.data(), batch=st.integers(1, 6))
def test_jit_agrees_with_grad_for_any_batch_size(data, batch):
    W = data.draw(fst.arrays(np.float64, (3, 4)), label="W")
    b = data.draw(fst.arrays(np.float64, (4,)), label="b")
    x = data.draw(fst.arrays(np.float64, (batch, 3)), label="x")
    y = data.draw(fst.arrays(np.float64, (batch, 4), elements=st.floats(-1, 1)), label="y")
    params = {"W": W, "b": b}
    expected = fg.grad(my_loss)(params, x, y)
    got = _compiled_grad(params, x, y)
    for name in params:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-10, atol=1e-12)


if __name__ == "__main__":
    test_gradients_match_finite_differences()
    test_jit_agrees_with_grad_for_any_batch_size()
    print("my_loss: gradients agree with finite differences (to second order), and the "
          "jitted gradient agrees with fg.grad for every batch size tried")
