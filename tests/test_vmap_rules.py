"""Every primitive's batching rule against a Python loop over the examples.

For each case of tests/test_vjp_rules.py's ``CASES`` (one function per differentiable
primitive) and of ``BATCH_CASES`` below (the primitives with no derivative), Hypothesis draws
a batch size, which arguments are mapped and along which axis (negative axes too), and where
the batch axis goes in the output; ``vmap(fn, in_axes, out_axes)`` must equal ``fn`` applied
to each example in turn, stacked along the output axis. The examples differ: each is a
permutation of the drawn argument's elements, so they stay inside the function's domain.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.rules import REGISTRY
from funcgrad.rules import batch_rules
from funcgrad.testing import strategies as fst
from tests.test_vjp_rules import _EXAMPLES, CASES, EXTRA_CASES, SETTINGS, _shape


# --- cases of the primitives with no derivative -------------------------------------------

def _unary(fn, dtype=None, elements=None):
    @st.composite
    def case(draw, float_dtype):
        t = dtype or float_dtype
        values = fst.floats(t, -3, 3) if elements is None else elements
        x = draw(fst.arrays(t, _shape(draw), elements=values))
        return fn, (x,)
    return case


def _binary(fn, dtype=None, elements=None):
    @st.composite
    def case(draw, float_dtype):
        t = dtype or float_dtype
        shapes = draw(fst.mutually_broadcastable_shapes(2, max_side=3)).input_shapes
        make = lambda s: draw(fst.arrays(t, s, elements=fst.floats(t, -3, 3) if elements is None else elements))  # noqa
        return fn, tuple(map(make, shapes))
    return case


def _same_shape(fn):
    @st.composite
    def case(draw, dtype):
        shape = _shape(draw)
        make = lambda: draw(fst.arrays(dtype, shape, elements=fst.floats(dtype, -3, 3)))  # noqa
        return fn, (make(), make())
    return case


@st.composite
def _argmax_case(draw, dtype, fn):
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(shape) - 1))
    x = draw(fst.arrays(dtype, shape, elements=fst.floats(dtype, -3, 3)))
    return (lambda x: fn(x, axis=axis)), (x,)


@st.composite
def _bool_reduction_case(draw, dtype, fn):
    shape = _shape(draw)
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    return (lambda x: fn(x > 0, axis=axis)), (draw(fst.arrays(dtype, shape,
                                                           elements=fst.floats(dtype, -1, 1))),)


@st.composite
def _iota_case(draw, dtype):
    shape = _shape(draw, min_dims=1)
    x = draw(fst.arrays(dtype, shape, elements=fst.floats(dtype, -3, 3)))
    return (lambda x: x * fnp.arange(shape[-1]) + fnp.eye(shape[-1])[0]), (x,)


@fg.custom_vjp
def _scaled_sin(x, y):
    return fnp.sin(x) * y


_scaled_sin.defvjp(lambda x, y: (_scaled_sin(x, y), (fnp.cos(x), fnp.sin(x), y)),
                   lambda res, g: (res[0] * g * res[2], res[1] * g))

_INTS = st.integers(-20, 20)
BATCH_CASES = {
    **{name: _unary(getattr(fnp, fn)) for name, fn in [
        ("floor", "floor"), ("ceil", "ceil"), ("rint", "rint"), ("sign", "sign"),
        ("isfinite", "isfinite"), ("isnan", "isnan"), ("isinf", "isinf")]},
    "stop_gradient": _unary(fg.stop_gradient),
    "logical_not": _unary(lambda x: fnp.logical_not(x > 0)),
    "invert": _unary(fnp.invert, np.int64, _INTS),
    **{name: _binary(getattr(fnp, fn)) for name, fn in [
        ("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
        ("gt", "greater"), ("ge", "greater_equal")]},
    **{name: _binary(lambda x, y, f=getattr(fnp, name): f(x > 0, y > 0))
       for name in ["logical_and", "logical_or", "logical_xor"]},
    **{name: _binary(getattr(fnp, name), np.int64, _INTS)
       for name in ["bitwise_and", "bitwise_or", "bitwise_xor"]},
    "floor_divide": _binary(fnp.floor_divide, np.int64, st.integers(1, 20)),
    "argmax": lambda dtype: _argmax_case(dtype, fnp.argmax),
    "argmin": lambda dtype: _argmax_case(dtype, fnp.argmin),
    "reduce_and": lambda dtype: _bool_reduction_case(dtype, fnp.all),
    "reduce_or": lambda dtype: _bool_reduction_case(dtype, fnp.any),
    "iota": _iota_case,
    "custom_vjp_call": _same_shape(_scaled_sin),
}
ALL_CASES = {**CASES, **EXTRA_CASES, **BATCH_CASES}


def test_every_primitive_has_a_batching_rule_and_a_case():
    for name, prim in REGISTRY.items():
        assert prim in batch_rules or prim in batch_rules.exemptions, name
        assert name in ALL_CASES, f"no batching case for {name}"


# --- the check ----------------------------------------------------------------------------

def _examples(draw, x, size):
    """``size`` examples like ``x``: permutations of its elements (the first one is x)."""
    x = np.asarray(x)
    flat = x.reshape(-1)
    perms = [np.arange(flat.size)] + [np.asarray(draw(st.permutations(range(flat.size))))
                                      for _ in range(size - 1)]
    return [flat[p].reshape(x.shape) for p in perms]


def check_batched(draw, fn, args):
    """vmap(fn) over drawn in_axes/out_axes/batch size equals a loop over the examples."""
    size = draw(st.integers(1, 3))
    in_axes, batched, per_example = [], [], [[] for _ in range(size)]
    for x in args:
        ndim = np.ndim(x)
        axis = draw(st.sampled_from([None] + list(range(-ndim - 1, ndim + 1))))
        if axis is None:
            in_axes.append(None)
            batched.append(x)
            for ex in per_example:
                ex.append(x)
            continue
        examples = _examples(draw, x, size)
        in_axes.append(axis)
        batched.append(np.stack(examples, axis=axis))
        for ex, value in zip(per_example, examples):
            ex.append(value)
    if all(a is None for a in in_axes):
        axis_size = size
    else:
        axis_size = draw(st.sampled_from([None, size]))
    expected = [fg.tree.leaves(fn(*ex)) for ex in per_example]
    out_ndim = min(np.ndim(leaf) for leaf in expected[0])
    out_axis = draw(st.sampled_from(list(range(-out_ndim - 1, out_ndim + 1))))
    got = fg.tree.leaves(fg.vmap(fn, tuple(in_axes), out_axis, axis_size)(*batched))
    for k, leaf in enumerate(got):
        want = np.stack([np.asarray(ex[k]) for ex in expected], axis=out_axis)
        assert np.shape(leaf) == want.shape, (np.shape(leaf), want.shape)
        assert np.asarray(leaf).dtype == want.dtype, (np.asarray(leaf).dtype, want.dtype)
        np.testing.assert_allclose(leaf, want, rtol=1e-6, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", sorted(ALL_CASES))
@settings(SETTINGS, max_examples=_EXAMPLES or 12)
@given(data=st.data())
def test_batching_rule_matches_a_loop(name, data):
    fn, args, *_ = data.draw(ALL_CASES[name](np.dtype(np.float64)), label=name)
    check_batched(data.draw, fn, args)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(SETTINGS, max_examples=_EXAMPLES or 4)
@given(data=st.data())
def test_batched_vjp_matches_a_loop(name, data):
    """vmap of each primitive's VJP (grad of a weighted sum of its output), mapped over every
    argument: the batching rules of the backward pass the VJP rule records."""
    fn, args, *_ = data.draw(CASES[name](np.dtype(np.float64)), label=name)
    weights = np.cos(np.arange(np.size(fn(*args)))).reshape(np.shape(fn(*args)))
    argnums = tuple(range(len(args)))
    vjp = fg.grad(lambda *a: fnp.sum(fn(*a) * weights), argnums)
    check_batched(data.draw, vjp, args)
