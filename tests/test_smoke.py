import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def test_grad_of_sin_is_cos():
    assert np.isclose(fg.grad(fnp.sin)(0.3), np.cos(0.3))


def test_grad_of_grad_of_sin():
    assert np.isclose(fg.grad(fg.grad(fnp.sin))(1.0), -np.sin(1.0))
