"""Siblings found by a sweep of hostile inputs (issue 14): each gave a raw internal error or a
silently wrong result before. (Others of the sweep are in test_dtype_paths.py and
test_large_and_impossible.py.)"""

import warnings

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


def test_a_big_endian_constant_is_used_as_its_native_twin():
    """The issue's big-endian argument was fixed before; a captured big-endian constant was
    still refused with a message blaming float64."""
    B = np.array([[1.0, 2.0], [3.0, 4.0]], ">f8")
    x = np.ones(2)
    np.testing.assert_allclose(fg.jit(lambda x: B @ x)(x), B @ x)
    np.testing.assert_allclose(fg.grad(lambda x: fg.numpy.sum(B @ x))(x), B.sum(axis=0))


def _matrix():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # NumPy discourages it
        return np.matrix([[1.0, 2.0]])


def test_tracing_numpy_scalars_does_not_import_numpy_ma():
    """The masked-array check looks for numpy.ma only if it is imported (``np.ma`` imports
    it: 10-15 ms of a first trace, before the first result of every new process)."""
    import subprocess
    import sys
    code = ("import sys, numpy as np, funcgrad as fg, funcgrad.numpy as fnp\n"
            "g = fg.grad(lambda x, y: fnp.sin(x) * y, argnums=(0, 1))\n"
            "print(g(np.float64(0.5), np.float32(2.0)), 'numpy.ma' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "False"


@pytest.mark.parametrize("make", [lambda: np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
                                  _matrix], ids=["masked", "matrix"])
def test_array_subclasses_that_change_what_operations_mean_are_refused(make):
    """A masked array's sum skips masked values and a matrix's * is a matrix product:
    computed as plain arrays, they would silently give other results than NumPy."""
    value = make()
    for run in (fg.jit(lambda x: x * 2), fg.grad(lambda x: fg.numpy.sum(x)),
                fg.vmap(lambda x: x), lambda x: fg.numpy.sum(x),
                lambda x: fg.jit(lambda y: y * x)(np.ones(2))):
        with pytest.raises(fg.FuncgradTypeError, match="masked array|numpy.matrix"):
            run(value)
