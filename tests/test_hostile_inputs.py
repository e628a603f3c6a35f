"""Siblings found by a sweep of hostile inputs (issue 14): each gave a raw internal error or a
silently wrong result before. (Others of the sweep are in test_dtype_paths.py and
test_large_and_impossible.py.)"""

import numpy as np
import pytest

import funcgrad as fg

TRANSFORMS = {
    "grad": fg.grad, "value_and_grad": fg.value_and_grad, "jacrev": fg.jacrev,
    "jacfwd": fg.jacfwd, "hessian": fg.hessian, "jit": fg.jit, "vmap": fg.vmap,
    "jvp": lambda f: fg.jvp(f, (1.0,), (1.0,)), "vjp": lambda f: fg.vjp(f, 1.0),
    "linearize": lambda f: fg.linearize(f, 1.0),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_a_transform_given_something_not_callable_says_so_at_once(name):
    with pytest.raises(fg.FuncgradTypeError, match=f"{name} needs a function, got int"):
        TRANSFORMS[name](3)


def test_a_mutated_input_of_a_transformed_call_is_not_seen_by_earlier_results():
    x = np.arange(3.0)
    y = fg.evaluate(fg.make_ir(lambda x: x * 1.0)(x).program, [x])[0]
    x[0] = 10.0
    np.testing.assert_array_equal(y, [0.0, 1.0, 2.0])
