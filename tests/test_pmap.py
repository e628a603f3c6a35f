"""pmap: JAX's parallel map as jit(vmap(f, axis_name=...)) on one machine.

Values are checked against a Python loop over the examples (with the collectives computed
by NumPy on the whole batch), gradients against central finite differences, and each
error for the user's line it names. The suite's conftest makes jit compile synchronously,
so every call here runs the compiled function."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax

HERE = os.path.basename(__file__)
rng = np.random.default_rng(11)
XS = rng.normal(size=(4, 3))


def test_each_example_is_mapped_and_the_collectives_see_the_whole_axis():
    def f(x):
        return fnp.tanh(x) * lax.axis_index("dev") - lax.pmean(x, "dev") + lax.psum(x[0], "dev")

    got = fg.pmap(f, axis_name="dev")(XS)
    want = np.stack([np.tanh(x) * i for i, x in enumerate(XS)]) - XS.mean(0) + XS[:, 0].sum()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_in_axes_none_broadcasts_and_out_axes_places_the_mapped_axis():
    w = rng.normal(size=3)
    got = fg.pmap(lambda x, w: x * w, in_axes=(0, None), out_axes=1)(XS, w)
    np.testing.assert_allclose(got, (XS * w).T, rtol=1e-15)
    got = fg.pmap(lambda x: fnp.sum(x), in_axes=1)(XS)
    np.testing.assert_allclose(got, XS.sum(0), rtol=1e-14)


def test_static_broadcasted_arguments_are_python_values_and_key_the_compile():
    f = fg.pmap(lambda x, n, y: x ** n + y, static_broadcasted_argnums=(1,),
                in_axes=(0, None, None))
    np.testing.assert_allclose(f(XS, 2, 1.0), XS ** 2 + 1.0, rtol=1e-15)
    np.testing.assert_allclose(f(XS, 3, 1.0), XS ** 3 + 1.0, rtol=1e-15)
    g = fg.pmap(lambda mode, x: fnp.max(x) if mode == "max" else fnp.min(x),
                static_broadcasted_argnums=0)
    np.testing.assert_array_equal(g("max", XS), XS.max(1))
    np.testing.assert_array_equal(g("min", XS), XS.min(1))


def test_gradient_through_pmap_matches_finite_differences():
    def loss(x):
        return fnp.sum(fg.pmap(lambda v: fnp.sin(v) * lax.psum(v ** 2, "i"), axis_name="i")(x))

    got = fg.grad(loss)(XS)
    eps, want = 1e-6, np.zeros_like(XS)
    for i in np.ndindex(XS.shape):
        up, down = XS.copy(), XS.copy()
        up[i] += eps
        down[i] -= eps
        want[i] = (loss(up) - loss(down)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_mapped_axis_may_be_longer_than_any_device_count_and_nests_with_vmap():
    xs = rng.normal(size=(9, 2, 3))
    got = fg.pmap(fg.vmap(lambda x: x - lax.pmean(x, "inner"), axis_name="inner"))(xs)
    np.testing.assert_allclose(got, xs - xs.mean(1, keepdims=True), atol=1e-14)


def test_pmapped_functions_pickle_and_print_as_a_call():
    f = pickle.loads(pickle.dumps(fg.pmap(fnp.cos)))
    np.testing.assert_allclose(f(XS), np.cos(XS), rtol=1e-15)
    assert "pmap(cos)" in str(fg.make_ir(fg.pmap(fnp.cos))(XS))


def _line_of(marker: str) -> int:
    with open(__file__) as source:
        return next(n for n, line in enumerate(source, 1) if marker in line)


@pytest.mark.parametrize("call, error, words", [
    (lambda: fg.pmap(lambda x, y: x, in_axes=(0,))(XS, XS),  # mark: length
     fg.FuncgradValueError, "in_axes has 1 entries for 2 positional arguments"),
    (lambda: fg.pmap(lambda x, n: x, static_broadcasted_argnums=1,  # mark: static axis
                     in_axes=(0, 0))(XS, 3),
     fg.FuncgradValueError, "argument 1 is static"),
    (lambda: fg.pmap(lambda x, y: x)(XS, XS[:2]),  # mark: sizes
     fg.ShapeError, "different sizes"),
])
def test_errors_say_what_is_wrong_and_name_the_line(call, error, words):
    with pytest.raises(error, match=words) as info:
        call()
    marker = {"in_axes has": "mark: length", "is static": "mark: static axis",
              "different": "mark: sizes"}
    line = next(_line_of(m) for k, m in marker.items() if k in words)
    assert f"{HERE}:{line}" in str(info.value)


def test_options_it_cannot_honour_are_refused_when_made():
    with pytest.raises(fg.FuncgradTypeError, match="needs a function"):
        fg.pmap(3)
    with pytest.raises(fg.FuncgradValueError, match="CPU only"):
        fg.pmap(fnp.sin, backend="gpu")
    with pytest.raises(fg.FuncgradTypeError, match="static_broadcasted_argnums must be ints"):
        fg.pmap(fnp.sin, static_broadcasted_argnums="x")
