"""Eager transforms run the user's Python on every call unless caching is safe, and jit
notices the state its traced function reads (issue 14 items 2 and 3)."""

import random
import sys
import types
import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

HELPER_SCALE = [1.0]
cfg = types.ModuleType("user_config")  # a module of the user's, as `import config` gives
cfg.__file__ = __file__
cfg.scale = 2.0
GENERATOR = np.random.default_rng(0)


def _noisy_loss(w):
    return fnp.sum((w - np.random.randn(3)) ** 2)


def test_grad_draws_new_random_numbers_on_every_call():
    w = np.zeros(3)
    for transform in (fg.grad, lambda f: (lambda w: fg.value_and_grad(f)(w)[1]),
                      lambda f: (lambda w: fg.vjp(f, w)[1](1.0)[0])):
        g = transform(_noisy_loss)
        np.random.seed(0)
        got = [g(w) for _ in range(4)]
        np.random.seed(0)
        expected = [2 * -np.random.randn(3) for _ in range(4)]
        np.testing.assert_allclose(got, expected)


def _noisy(w):
    return fnp.sum(fnp.sin(w) * np.random.randn(2))


# each eager transform of _noisy at w, as a float array; and the same with NumPy alone
_EVERY_TRANSFORM = {
    "vmap": (lambda w: fg.vmap(_noisy)(w[None])[0], lambda w, r: np.sum(np.sin(w) * r)),
    "jvp": (lambda w: fg.jvp(_noisy, (w,), (np.ones(2),))[1],
            lambda w, r: np.sum(np.cos(w) * r)),
    "linearize": (lambda w: fg.linearize(_noisy, w)[1](np.ones(2)),
                  lambda w, r: np.sum(np.cos(w) * r)),
    "jacfwd": (lambda w: fg.jacfwd(_noisy)(w), lambda w, r: np.cos(w) * r),
    "jacrev": (lambda w: fg.jacrev(_noisy)(w), lambda w, r: np.cos(w) * r),
    "hessian": (lambda w: fg.hessian(_noisy)(w), lambda w, r: np.diag(-np.sin(w) * r)),
}


@pytest.mark.parametrize("name", sorted(_EVERY_TRANSFORM))
def test_every_eager_transform_draws_new_random_numbers_on_every_call(name):
    run, expected = _EVERY_TRANSFORM[name]
    w = np.array([0.3, -0.7])
    np.random.seed(0)
    got = [np.asarray(run(w)) for _ in range(4)]
    np.random.seed(0)
    want = [expected(w, np.random.randn(2)) for _ in range(4)]
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(_EVERY_TRANSFORM))
def test_every_eager_transform_sees_a_changed_global(name):
    run = _EVERY_TRANSFORM[name][0]
    f = {"vmap": lambda w: fg.vmap(_uses_helper)(w[None])[0],
         "jvp": lambda w: fg.jvp(_uses_helper, (w,), (np.ones(2),))[1]}.get(name)
    if f is None:  # the others differentiate a scalar
        transform = {"linearize": lambda g: (lambda w: fg.linearize(g, w)[1](np.ones(2))),
                     "jacfwd": fg.jacfwd, "jacrev": fg.jacrev,
                     "hessian": lambda g: (lambda w: fg.jacfwd(g)(w))}[name]
        f = transform(lambda w: fnp.sum(_uses_helper(w) * w))
    del run
    w = np.array([0.5, 2.0])
    HELPER_SCALE[0] = 1.0
    first = [np.asarray(f(w)) for _ in range(3)]  # cached after two equal traces
    HELPER_SCALE[0] = 3.0
    try:
        np.testing.assert_allclose(np.asarray(f(w)), 3.0 * first[0])
    finally:
        HELPER_SCALE[0] = 1.0


def test_grad_sees_python_random_and_generator_draws():
    g = fg.grad(lambda x: x * random.random())
    random.seed(1)
    got = [g(1.0) for _ in range(3)]
    random.seed(1)
    assert got == [random.random() for _ in range(3)]
    h = fg.grad(lambda w: fnp.sum(w * GENERATOR.normal(size=2)))
    assert len({tuple(h(np.ones(2))) for _ in range(4)}) == 4


def _helper(x):
    return x * HELPER_SCALE[0]


def _uses_helper(x):
    return _helper(x) * 2.0


@pytest.mark.parametrize("transform", [fg.grad, fg.jit], ids=["grad", "jit"])
def test_globals_read_by_helper_functions_are_watched(transform):
    HELPER_SCALE[0] = 1.0
    f = transform(_uses_helper)
    assert [f(1.0) for _ in range(3)] == [2.0] * 3
    HELPER_SCALE[0] = 3.0
    assert f(1.0) == 6.0


def _scaled(x):
    return x * cfg.scale


@pytest.mark.parametrize("transform", [fg.grad, fg.jit], ids=["grad", "jit"])
def test_module_attributes_are_watched(transform):
    cfg.scale = 2.0
    f = transform(_scaled)
    assert [f(1.0) for _ in range(3)] == [2.0] * 3
    cfg.scale = 5.0
    assert f(1.0) == 5.0


class Settings:  # settings as class attributes
    scale = 2.0


def _class_scaled(x):
    return x * Settings.scale


@pytest.mark.parametrize("transform", [fg.grad, fg.jit], ids=["grad", "jit"])
def test_class_attributes_are_watched(transform):
    Settings.scale = 2.0
    f = transform(_class_scaled)
    assert [f(1.0) for _ in range(3)] == [2.0] * 3
    Settings.scale = 4.0
    assert f(1.0) == 4.0


def test_changed_defaults_and_attributes_two_levels_deep_are_seen_by_jit():
    def f(x, s=2.0):
        return x * s

    jf = fg.jit(f)
    assert jf(1.0) == 2.0
    f.__defaults__ = (7.0,)
    assert jf(1.0) == 7.0

    class Layer:
        W = np.ones(2)

    class Model:
        layer = Layer()

    model = Model()
    model.layer = Layer()
    jk = fg.jit(lambda x: fnp.sum(model.layer.W * x))
    gk = fg.grad(lambda x: fnp.sum(model.layer.W * x))
    assert jk(np.ones(2)) == 2.0 and gk(np.ones(2)).tolist() == [1.0, 1.0]
    gk(np.ones(2))
    model.layer.W = np.full(2, 3.0)
    assert jk(np.ones(2)) == 6.0 and gk(np.ones(2)).tolist() == [3.0, 3.0]


def test_pure_functions_keep_their_cached_trace():
    from funcgrad.api import autodiff
    calls = []  # not read by the function: the count of its traces
    traced = autodiff._trace

    def counting(*args):
        calls.append(1)
        return traced(*args)
    autodiff._trace, saved = counting, autodiff._trace
    try:
        g = fg.grad(lambda x: fnp.sum(fnp.sin(x)))
        for _ in range(5):
            g(np.ones(3))
    finally:
        autodiff._trace = saved
    assert len(calls) == 2  # the first call, and the second checking it


def test_jit_warns_when_tracing_draws_random_numbers():
    with pytest.warns(RuntimeWarning, match=r"test_state_and_purity.py:\d+\) drew random numbers"):
        fg.jit(_noisy_loss)(np.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fg.jit(lambda x: x * 2.0)(1.0)


def test_the_helper_module_is_the_users():
    from funcgrad.api.trace_cache import _is_users
    assert _is_users(sys.modules[__name__]) and _is_users(_helper)
    assert not _is_users(np) and not _is_users(fnp.sum)
