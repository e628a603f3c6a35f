"""The example of check_grads' docstring: a user's loss, property-tested with Hypothesis.

This is how a funcgrad user tests their own gradients: draw well-conditioned inputs with
funcgrad.testing.strategies, and let check_grads compare reverse mode with finite
differences, to second order. When it fails, the message names the argument (here, which
leaf of the params dict), the direction, both numbers and the relative error, and Hypothesis
shrinks the inputs to a small example.
"""

import numpy as np
from hypothesis import given, settings

import funcgrad.numpy as fnp
from funcgrad.testing import check_grads
from funcgrad.testing import strategies as fst


def loss(params, x, y):
    h = fnp.tanh(x @ params["W"] + params["b"])
    return fnp.mean((h - y) ** 2)


@settings(max_examples=25, deadline=None)
@given(fst.arrays(np.float64, (3, 4)), fst.arrays(np.float64, 4),
       fst.arrays(np.float64, (5, 3)), fst.arrays(np.float64, (5, 4)))
def test_loss_gradients(W, b, x, y):
    check_grads(loss, ({"W": W, "b": b}, x, y), order=2)


@settings(max_examples=15, deadline=None)
@given(fst.arrays(np.float32, (3, 4)), fst.arrays(np.float32, 4),
       fst.arrays(np.float32, (5, 3)), fst.arrays(np.float32, (5, 4)))
def test_loss_gradients_in_float32(W, b, x, y):
    check_grads(loss, ({"W": W, "b": b}, x, y))
