"""Scatter and gather gradients with repeated indices (issue 14 item 4): ``set`` gives the
cotangent to the update that wins (the last written), ``add`` and gathers to every one,
``multiply`` the product of the others; checked against finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads, numerical_grad


def _loss(mode, idx):
    def loss(x, v):
        updated = getattr(fnp.at(x)[idx], mode)(v)
        return fnp.sum(fnp.sin(updated) * np.arange(1.0, 1.0 + updated.size))
    return loss


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_set_with_repeated_index_gives_the_cotangent_to_the_last_write(jit):
    x, v = np.arange(4.0), np.array([10.0, 20.0, 30.0])
    idx = np.array([1, 1, 2])
    loss = _loss("set", idx)
    g = (fg.jit(fg.grad(loss, 1)) if jit else fg.grad(loss, 1))(x, v)
    assert np.allclose(g, [0.0, 2 * np.cos(20.0), 3 * np.cos(30.0)])


def test_set_of_a_broadcast_value_counts_each_place_once():
    x, idx = np.arange(4.0), np.array([1, 1, 2])
    g = fg.grad(lambda x, s: fnp.sum(fnp.sin(x.at[idx].set(s))), 1)(x, 2.0)
    assert np.isclose(g, 2 * np.cos(2.0))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(mode=st.sampled_from(["set", "add", "multiply"]),
       idx=st.lists(st.integers(-4, 3), min_size=5, max_size=5),
       values=st.lists(st.sampled_from([0.0, -1.5, 0.5, 2.0, 3.0]), min_size=5, max_size=5))
def test_scatter_gradients_match_finite_differences(mode, idx, values):
    x = np.array([0.3, -0.7, 1.1, 0.9])
    v = np.array(values)  # one shape: each mode compiles once
    loss = _loss(mode, np.array(idx))
    expected = numerical_grad(loss, (x, v))
    for got in (fg.grad(loss, (0, 1))(x, v), fg.jit(fg.grad(loss, (0, 1)))(x, v)):
        for g, e in zip(got, expected):
            assert np.allclose(g, e, atol=1e-6), (got, expected)


def test_gather_with_repeated_index_accumulates():
    x, idx = np.array([0.5, 1.0, 2.0]), np.array([0, 0, 2, 0])
    check_grads(lambda x: fnp.sum(fnp.sin(x[idx])), (x,))
    assert np.allclose(fg.grad(lambda x: fnp.sum(x[idx]))(x), [3.0, 0.0, 1.0])


def test_two_dimensional_set_with_repeated_rows():
    x, v = np.zeros((3, 2)), np.arange(6.0).reshape(3, 2) + 1.0
    idx = np.array([2, 0, 2])
    loss = lambda v: fnp.sum(fnp.at(x)[idx].set(v) ** 2)  # noqa: E731
    assert np.allclose(fg.grad(loss)(v), [[0, 0], [6, 8], [10, 12]])
