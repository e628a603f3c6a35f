"""Tracers behave like NumPy arrays: operators, attributes, methods, indexing, functional
updates (``x.at[i]``), NumPy's own functions, static arguments and pytrees, each checked by
evaluating the traced Program against the same code run by NumPy."""

from __future__ import annotations

import dataclasses
import operator
from collections import namedtuple

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.core.ir import validate
from funcgrad.core.tracing import Tracer

SETTINGS = settings(max_examples=40, deadline=None)


def traced(fn, *args, static_argnums=()):
    """``fn(*args)``, by evaluating the Program make_ir records (static args left out)."""
    closed = fg.make_ir(fn, static_argnums=static_argnums)(*args)
    validate(closed.program)
    dynamic = [a for i, a in enumerate(args) if i not in static_argnums]
    return tree.unflatten(closed.out_tree, closed(*tree.leaves(dynamic)))


def assert_same(actual, expected):
    assert tree.structure(actual) == tree.structure(expected)
    for a, e in zip(tree.leaves(actual), tree.leaves(expected)):
        a, e = np.asarray(a), np.asarray(e)
        assert (a.shape, a.dtype) == (e.shape, e.dtype), (a, e)
        np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-13, equal_nan=True)


def same_as_numpy(fn, *args):
    """``fn`` traced and evaluated equals ``fn`` run on NumPy arrays."""
    assert_same(traced(fn, *args), fn(*args))


X = np.arange(24.0).reshape(2, 3, 4) / 7 - 1.5
V = np.linspace(-2.0, 2.0, 4)
M = np.arange(12.0).reshape(3, 4) / 5


# ---------------------------------------------------------------------------------------
# Operators

BINARY_OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv,
                    operator.floordiv, operator.mod, operator.pow, operator.lt, operator.le,
                    operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", BINARY_OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", [2.5, 3, np.float32(2.0), np.float64(1.5), V + 2.5,
                                   np.ones(4, int)],
                         ids=["float", "int", "f32 scalar", "f64 scalar", "f64 array",
                              "int array"])
def test_binary_operators_and_their_reflections(op, other):
    x = np.abs(X) + 0.5  # positive: ** and // and % stay tame
    same_as_numpy(lambda x: op(x, other), x)
    same_as_numpy(lambda x: op(other, x), x)  # reflected; a NumPy left operand goes through
    same_as_numpy(lambda x, y: op(x, y), x, x[0] + 1)    # __array_ufunc__
    same_as_numpy(lambda x: op(x.astype(np.float32), other), x)


@pytest.mark.parametrize("op", [operator.and_, operator.or_, operator.xor],
                         ids=lambda op: op.__name__)
def test_bitwise_operators(op):
    same_as_numpy(lambda x: op(x > 0, x < 1), X)
    same_as_numpy(lambda x: op(x > 0, True), X)
    same_as_numpy(lambda i: op(i, 6), np.arange(10))
    same_as_numpy(lambda i: op(3, i), np.arange(10))


def test_unary_operators():
    same_as_numpy(lambda x: (-x, +x, abs(x), ~(x > 0)), X)
    same_as_numpy(lambda i: (-i, abs(i), ~i), np.arange(-3, 3))


def test_matmul_operator():
    same_as_numpy(lambda x, m: (x @ m.T, m @ x[0].T, x @ V, V @ x[0].T), X, M)
    same_as_numpy(lambda x: M @ x[0].T, X)        # a NumPy array on the left
    same_as_numpy(lambda x: (x @ M.T, V @ x[0].T), X)


def test_shape_attributes_are_static():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, dtype=x.dtype, ndim=x.ndim, size=x.size, T=x.T.shape,
                    len=len(x))
        return x
    fg.make_ir(f)(X.astype(np.float32))
    assert seen == dict(shape=(2, 3, 4), dtype=np.float32, ndim=3, size=24, T=(4, 3, 2), len=2)
    assert isinstance(seen["shape"], tuple) and all(type(d) is int for d in seen["shape"])
    same_as_numpy(lambda x: x.T, X)
    same_as_numpy(lambda x: x.T, V)
    same_as_numpy(lambda x: [row for row in x], X)  # iteration over the first axis


METHODS = {  # name: call on x; every one of issue 2 item 3 with its common arguments
    "sum": [(), dict(axis=1), dict(axis=(0, 2), keepdims=True), dict(dtype=np.float32)],
    "mean": [(), dict(axis=-1), dict(axis=(0, 1), keepdims=True)],
    "max": [(), dict(axis=0), dict(axis=2, keepdims=True)],
    "min": [(), dict(axis=(1, 2)), dict(axis=1, keepdims=True)],
    "prod": [(), dict(axis=2), dict(axis=0, keepdims=True)],
    "reshape": [(6, 4), ((4, 6),), (-1,), ((2, -1, 2),), [24]],
    "transpose": [(), (1, 0, 2), ((2, 0, 1),)],
    "astype": [(np.float32,), (np.int32,), (bool,), ("float64",)],
    "dot": [(V,)],
    "ravel": [()],
    "squeeze": [(), dict(axis=0)],
    "var": [(), dict(axis=1)], "std": [(), dict(axis=0, ddof=1)],
    "all": [(), dict(axis=0)], "any": [(), dict(axis=(1, 2))],
    "argmax": [(), dict(axis=1)], "argmin": [(), dict(axis=-1)],
    "cumsum": [(), dict(axis=1)], "cumprod": [dict(axis=2)],
    "clip": [(-1.0, 1.0)], "flatten": [()], "swapaxes": [(0, 2)], "copy": [()],
    # ndarray's methods that JAX arrays share, which traced arrays lacked (AttributeError)
    "round": [(), (1,)], "repeat": [(2,), dict(repeats=2, axis=1)], "take": [([0, 2], 1)],
    "diagonal": [(), (1, 0, 2)], "conj": [()], "conjugate": [()],
    "trace": [(), (1,), dict(offset=-1, axis1=1, axis2=2)],
}


@pytest.mark.parametrize("name, call", [(n, c) for n, cs in METHODS.items() for c in cs],
                         ids=str)
def test_methods(name, call):
    args, kwargs = (call, {}) if isinstance(call, (tuple, list)) else ((), call)
    x = X[:1] if name == "squeeze" else X
    same_as_numpy(lambda x: getattr(x, name)(*args, **kwargs), x)


def test_real_and_imag_attributes():
    same_as_numpy(lambda x: (x.real, x.imag), X)


def test_methods_take_numpys_positional_arguments():
    """ndarray.mean(axis, dtype, out, keepdims): the same order, also through np.<name>."""
    same_as_numpy(lambda x: (x.sum(1, np.float32, None, True), x.mean(0, np.float32),
                             x.max(2, None, True), x.min(0, None, False), x.prod(1, None),
                             x.var(1, None, None, 1), x.std(0, None, None, 0, True),
                             x.all(0, keepdims=True), x.any(1), x.argmax(1, None),
                             x.cumsum(0, np.float32), x.clip(-1.0, None), x.clip(max=0.5)), X)
    same_as_numpy(lambda x: (np.max(x, 0, None, True), np.mean(x, 1, None, None, True),
                             np.var(x, 0, None, None, 1), np.all(x > 0, 1, None, True),
                             np.std(x, correction=1), np.clip(x, -1.0, 1.0, None)), X)


def test_item_tolist_and_conversions_need_values():
    for use in (lambda x: x.item(), lambda x: x.tolist(), lambda x: int(x), lambda x: float(x),
                lambda x: bool(x), lambda x: range(10)[x]):
        with pytest.raises(fg.ConcretizationError):
            fg.make_ir(use)(np.int64(1))


# ---------------------------------------------------------------------------------------
# Indexing


@SETTINGS
@given(data=st.data())
def test_basic_indexing(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    index = data.draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True,
                                        allow_ellipsis=True))
    same_as_numpy(lambda x: x[index], x)


@st.composite
def mixed_indices(draw, shape):
    """Ints, slices, None, ... and integer arrays (broadcast together), as NumPy mixes them."""
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    entries = []
    for n in shape[:draw(st.integers(0, len(shape)))]:
        kind = draw(st.sampled_from(["int", "slice", "array", "array"] if n else ["slice"]))
        if kind == "int":
            entries.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            entries.append(draw(st.slices(n)))
        else:
            sub = index_shape[draw(st.integers(0, len(index_shape))):]  # broadcasts
            entries.append(draw(hnp.arrays(np.int64, sub, elements=st.integers(-n, n - 1))))
    full = len(entries) == len(shape)
    for _ in range(draw(st.integers(0, 2))):  # new axes, anywhere
        entries.insert(draw(st.integers(0, len(entries))), None)
    if draw(st.booleans()):  # '...' stands for the axes not indexed, here those at the end
        entries.insert(draw(st.integers(0, len(entries))) if full else len(entries), Ellipsis)
    return tuple(entries) if draw(st.booleans()) or len(entries) != 1 else entries[0]


@SETTINGS
@given(data=st.data())
def test_advanced_indexing_with_constant_and_traced_index_arrays(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 3
    index = data.draw(mixed_indices(shape))
    same_as_numpy(lambda x: x[index], x)
    # the same with the index arrays traced: passed as arguments
    entries = index if isinstance(index, tuple) else (index,)
    arrays = [e for e in entries if isinstance(e, np.ndarray)]

    def with_traced_indices(x, *traced_arrays):
        it = iter(traced_arrays)
        rebuilt = tuple(next(it) if isinstance(e, np.ndarray) else e for e in entries)
        return x[rebuilt if isinstance(index, tuple) else rebuilt[0]]
    assert_same(traced(with_traced_indices, x, *arrays), x[index])


def test_advanced_indexing_placement_follows_numpy():
    x = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    i, j = np.array([[0, 1], [1, 0]]), np.array([2, 0])
    for index in [(i,), (slice(None), i), (slice(None), i, j), (i, slice(None), j),
                  (0, slice(None), j), (slice(None), 1, j), (i, 1), (Ellipsis, j),
                  (None, slice(None), i, j), (i, None, j), (slice(1, None), i, 2, slice(None)),
                  ([0, 1],), ([[1], [0]], [0, 2]), (np.int32(1), j), (-1, [-1, 0]),
                  (slice(None), 0, Ellipsis, j), (i, Ellipsis, j), (i, 0, Ellipsis, 1, j),
                  (slice(None), i, 1, Ellipsis)]:
        same_as_numpy(lambda x: x[index], x)


def test_constant_boolean_masks():
    x = np.arange(12.0).reshape(3, 4) - 5
    full = x > 0
    rows = np.array([True, False, True])
    cols = np.array([False, True, True, False])
    for index in [full, rows, (rows,), (slice(None), cols), (rows, slice(1, 3)), (rows, 1),
                  (Ellipsis, cols), [True, False, True], (rows, Ellipsis, [1, 2])]:
        same_as_numpy(lambda x: x[index], x)


def test_indexing_with_traced_integer_scalar():
    same_as_numpy(lambda x, i: x[i], X, np.int64(1))
    same_as_numpy(lambda x, i: x[:, i, ::-1], X, np.int32(-2))


def test_getitem_with_numpy_integer_and_index_dtypes():
    same_as_numpy(lambda x: (x[np.int64(1)], x[np.uint8(1)], x[:, np.array([2], np.int32)]), X)


def test_indexing_errors():
    with pytest.raises(IndexError, match="out of bounds"):
        fg.make_ir(lambda x: x[2])(X)
    with pytest.raises(IndexError, match="out of bounds"):
        fg.make_ir(lambda x: x[:, np.array([0, 3])])(X)
    with pytest.raises(IndexError, match="too many indices"):
        fg.make_ir(lambda x: x[0, 0, 0, 0])(X)
    with pytest.raises(IndexError, match="single ellipsis"):
        fg.make_ir(lambda x: x[..., 0, ...])(X)
    with pytest.raises(IndexError, match="fnp.where"):
        fg.make_ir(lambda x: x[x > 0])(X)
    with pytest.raises(IndexError, match="integers"):
        fg.make_ir(lambda x: x[np.array([0.0, 1.0])])(X)


# ---------------------------------------------------------------------------------------
# Functional updates: x.at[index].set / add / multiply


def numpy_update(x, index, values, mode):
    out = x.copy()
    if mode == "set":
        out[index] = values
    else:  # unbuffered, so repeated indices accumulate
        getattr(np, mode).at(out, index, values)
    return out


AT_INDICES = [1, -1, (0, 2), slice(1, None), slice(None, None, -2), (Ellipsis, 0),
              (slice(None), Ellipsis, np.array([1, 2])),
              np.array([0, 2, 0, 0]), [2, 2], (slice(None), np.array([1, 1, 3])),
              (np.array([0, 1, 1]), np.array([2, 0, 2])), (1, np.array([0, 0])),
              np.array([[0], [2]]), np.array([True, False, True]), (-1, slice(None, 2))]


@pytest.mark.parametrize("mode", ["set", "add", "multiply"])
@pytest.mark.parametrize("index", AT_INDICES, ids=repr)
def test_at_updates_match_numpy(index, mode):
    x = np.arange(12.0).reshape(3, 4) - 4
    selected = x[index].shape
    for values in (2.5, np.arange(1.0, 1.0 + np.prod(selected)).reshape(selected),
                   np.full(selected[-1:], 3.0)):
        expected = numpy_update(x, index, values, mode)
        f = lambda x, v: getattr(x.at[index], mode)(v)  # noqa: E731
        assert_same(traced(f, x, values), expected)                 # traced values
        assert_same(traced(lambda x: f(x, values), x), expected)   # constant values
        assert_same(traced(lambda x: x.at[index].get(), x), x[index])


@pytest.mark.parametrize("mode", ["set", "add", "multiply"])
def test_at_with_index_arrays_apart(mode):
    """An empty '...' between advanced indices still puts their axes first, in NumPy."""
    x = np.arange(24.0).reshape(2, 3, 4)
    for index in [(slice(None), 0, Ellipsis, np.array([1, 3, 2])),
                  (np.array([1, 0]), slice(None), np.array([0, 2]))]:
        values = np.arange(1.0, 1.0 + x[index].size).reshape(x[index].shape)
        f = lambda x, v: getattr(x.at[index], mode)(v)  # noqa: E731
        assert_same(traced(f, x, values), numpy_update(x, index, values, mode))
        assert_same(traced(f, x, values[:1]), numpy_update(x, index, values[:1], mode))


def test_at_with_traced_indices_and_dtypes():
    x = np.zeros(5)
    idx = np.array([1, 3, 1])
    assert_same(traced(lambda x, i: x.at[i].add(1.0), x, idx), numpy_update(x, idx, 1.0, "add"))
    assert_same(traced(lambda x, i: x.at[i].set(7), x, np.int64(2)),
                numpy_update(x, 2, 7, "set"))
    x32 = np.ones(4, np.float32)
    out = traced(lambda x: x.at[0].add(1e-3), x32)  # a Python float does not promote
    assert out.dtype == np.float32
    out = traced(lambda x: x.at[1:].multiply(np.float64(2.0)), x32)  # values take x's dtype
    assert_same(out, np.array([1.0, 2.0, 2.0, 2.0], np.float32))
    i = np.arange(4)
    assert_same(traced(lambda i: i.at[0].set(9), i), np.array([9, 1, 2, 3]))


def test_at_leaves_the_original_untouched():
    def f(x):
        y = x.at[0].set(100.0)
        return x, y
    x = np.zeros(3)
    original, updated = traced(f, x)
    assert_same(original, np.zeros(3))
    assert_same(updated, np.array([100.0, 0.0, 0.0]))
    assert_same(x, np.zeros(3))


def test_at_errors():
    with pytest.raises(fg.ShapeError, match="cannot use"):
        fg.make_ir(lambda x: x.at[0].set(np.ones(3)))(np.zeros((2, 4)))
    with pytest.raises(IndexError, match="None"):
        fg.make_ir(lambda x: x.at[None].set(1.0))(np.zeros(2))


# ---------------------------------------------------------------------------------------
# NumPy's own functions on tracers go to funcgrad.numpy

NUMPY_CALLS = {
    "ufunc": lambda x: (np.exp(x), np.sin(x), np.maximum(x, 0.5), np.abs(x), np.sqrt(x * x),
                        np.add(x, 1), np.divide(x, 3), np.power(x, 2), np.isnan(x),
                        np.logaddexp(x, 0.0), np.arctan2(x, 1.0), np.negative(x),
                        np.remainder(x, 1.5), np.fmax(x, 0.0), np.square(x)),
    "ufunc methods": lambda x: (np.add.reduce(x, axis=1), np.multiply.reduce(x),
                                np.maximum.reduce(x, axis=0), np.add.accumulate(x, axis=2),
                                np.logical_and.reduce(x > 0, axis=0)),
    "reductions": lambda x: (np.sum(x), np.sum(x, axis=(0, 2), keepdims=True), np.mean(x, 1),
                             np.max(x), np.min(x, axis=0), np.prod(x, -1), np.var(x),
                             np.std(x, axis=1), np.argmax(x, axis=1), np.cumsum(x, axis=2),
                             np.all(x > -2), np.any(x > 1, axis=0), np.amax(x, 2)),
    "shape": lambda x: (np.reshape(x, (6, 4)), np.transpose(x), np.swapaxes(x, 0, 1),
                        np.moveaxis(x, 0, -1), np.expand_dims(x, 1), np.squeeze(x[:1]),
                        np.concatenate([x, x], axis=2), np.stack([x, x]), np.ravel(x),
                        np.split(x, 2, axis=2), np.tile(x, 2), np.flip(x, 1),
                        np.roll(x, 1), np.pad(x, 1), np.broadcast_to(x, (2, 2, 3, 4)),
                        np.take(x, [0, 2], axis=1), np.where(x > 0, x, 0.0)),
    "linalg": lambda x: (np.dot(M, x[0].T), np.matmul(x, V), np.einsum("ijk->k", x),
                         np.tensordot(x, V, 1), np.trace(x[0]), np.outer(V, x[0, 0]),
                         np.inner(x, V), np.diagonal(x), np.tril(x), np.triu(x[0])),
    "creation": lambda x: (np.zeros_like(x), np.ones_like(x), np.full_like(x, 2.0)),
    # np.linalg's go to funcgrad.numpy.linalg ("funcgrad.numpy has no norm" before)
    "np.linalg": lambda x: (np.linalg.norm(x, axis=-1), np.linalg.det(x[0, :, :3] + np.eye(3)),
                            np.linalg.inv(x[0, :, :3] + 2 * np.eye(3))),
    "numpy array operands": lambda x: (V + x, V * x, V - x, V / (x + 10), M @ x[0].T,
                                       V < x, V == x, np.float64(2.0) * x, (V + 3) ** x),
}


@pytest.mark.parametrize("name", sorted(NUMPY_CALLS))
def test_numpy_functions_on_tracers_are_routed(name):
    same_as_numpy(NUMPY_CALLS[name], X)
    program = fg.make_ir(NUMPY_CALLS[name])(X).program
    assert len(program.equations) >= len(fg.tree.leaves(NUMPY_CALLS[name](X)))  # recorded


def test_numpy_operand_keeps_dtype_rules():
    x32 = X.astype(np.float32)
    # np.result_type reads the dtypes (it recursed into itself through dispatch)
    assert traced(lambda x: np.zeros(1, np.result_type(x, 1.0)), x32).dtype == np.float32
    assert traced(lambda x: np.zeros(1, np.result_type(x, np.int64)), x32).dtype == np.float64
    assert traced(lambda x: np.float32(2) * x, x32).dtype == np.float32
    assert traced(lambda x: V.astype(np.float32) + x, x32).dtype == np.float32
    assert traced(lambda x: V + x, x32).dtype == np.float64


# ---------------------------------------------------------------------------------------
# static_argnums


def test_static_argnums():
    def f(x, n, mode):
        if mode == "power":  # Python control flow on a static argument is fine
            return x ** n
        return x * n
    for static in ((1, 2), (-2, -1)):
        closed = fg.make_ir(f, static_argnums=static)(V, 3, "power")
        assert len(closed.program.invars) == 1
        assert_same(closed(V)[0], V ** 3)
        assert_same(traced(f, V, 2, "times", static_argnums=(1, 2)), V * 2)
    closed = fg.make_ir(lambda n, x: x[:n], static_argnums=0)(2, V)
    assert_same(closed(V)[0], V[:2])
    with pytest.raises(fg.FuncgradTypeError, match="out of range"):
        fg.make_ir(f, static_argnums=3)(V, 3, "power")


def test_non_static_python_scalars_are_traced():
    closed = fg.make_ir(lambda x, n: x * n)(V, 3)
    assert [str(v.aval) for v in closed.program.invars] == ["f64[4]", "i64[]"]
    assert_same(closed(V, 5)[0], V * 5)


def test_keyword_arguments():
    closed = fg.make_ir(lambda x, scale=1.0: x * scale)(V, scale=np.float64(2.0))
    assert len(closed.program.invars) == 2
    assert_same(closed(V, 3.0)[0], V * 3.0)


# ---------------------------------------------------------------------------------------
# Pytrees as arguments and results

Params = namedtuple("Params", ["w", "b"])


@dataclasses.dataclass
class Layer:
    weight: np.ndarray
    bias: object
    name: str = dataclasses.field(default="layer", metadata={"static": True})


class Pair:
    """A custom node, registered with funcgrad.tree.register."""

    def __init__(self, first, second, label="pair"):
        self.first, self.second, self.label = first, second, label

    def __eq__(self, other):
        return (type(other) is Pair and self.label == other.label
                and tree.structure(self.first) == tree.structure(other.first))


tree.register(Pair, lambda p: ((p.first, p.second), p.label),
              lambda label, children: Pair(*children, label=label))

TREES = {
    "tuple": (V, (M, 2.0)),
    "list": [V, [M, np.float32(1.0)]],
    "dict": {"w": M, "b": V, "nested": {"c": 3.0, "d": [V]}},
    "namedtuple": Params(w=M, b=V),
    "dataclass": Layer(weight=M, bias=V),
    "dataclass with None": Layer(weight=M, bias=None),
    "None leaves": (V, None, {"a": None, "b": M}),
    "custom node": Pair(V, {"m": M}),
    "everything": {"params": [Params(M, V), Layer(M, (V, None))], "pair": Pair(V, 1.0),
                   "scale": 0.5},
}


def scale_tree(t, s):
    return tree.map(lambda leaf: leaf * s, t)


@pytest.mark.parametrize("name", sorted(TREES))
def test_pytree_arguments_and_results(name):
    t = TREES[name]
    closed = fg.make_ir(scale_tree)(t, np.float64(2.0))
    assert len(closed.program.invars) == len(tree.leaves(t)) + 1
    out = tree.unflatten(closed.out_tree, closed(*tree.leaves(t), 3.0))
    expected = scale_tree(t, 3.0)
    assert type(out) is type(expected)
    assert_same(out, expected)
    assert tree.structure(out) == tree.structure(t)


def test_results_of_mixed_structure():
    def f(x):
        return {"sum": fnp.sum(x), "parts": [x[0], (x[1], None)], "p": Params(x, -x),
                "layer": Layer(x, None), "const": 1.0}
    out = traced(f, M)
    assert isinstance(out["p"], Params) and isinstance(out["layer"], Layer)
    assert out["parts"][1][1] is None and out["layer"].bias is None
    assert_same(out, f(M))


def test_in_tree_and_out_tree():
    closed = fg.make_ir(lambda p, x: Params(p.w @ x, p.b))(Params(M, V), V)
    assert closed.in_tree == tree.structure(((Params(M, V), V), {}))
    assert closed.out_tree == tree.structure(Params(V, V))


def test_non_array_leaves_are_refused_with_their_position():
    with pytest.raises(fg.FuncgradTypeError, match=r"argument 0 \(params\).*\['w'\]"):
        fg.make_ir(lambda params: params["w"])({"w": "a string"})


# ---------------------------------------------------------------------------------------
# The funcgrad.tree API


def test_tree_flatten_unflatten_leaves_structure():
    t = {"b": [1.0, (2.0, None)], "a": Params(3.0, np.ones(2)), "c": Layer(4.0, 5.0)}
    leaves, treedef = tree.flatten(t)
    assert leaves[0] == 3.0 and leaves[2:] == [1.0, 2.0, 4.0, 5.0]  # sorted keys; None: none
    assert tree.leaves(t) is not leaves and len(tree.leaves(t)) == 6
    assert tree.structure(t) == treedef
    rebuilt = tree.unflatten(treedef, [10.0 * i for i in range(6)])
    assert rebuilt["b"] == [20.0, (30.0, None)]
    assert isinstance(rebuilt["a"], Params) and rebuilt["a"].w == 0.0
    assert isinstance(rebuilt["c"], Layer) and rebuilt["c"].bias == 50.0
    assert tree.leaves(None) == [] and tree.leaves(3.0) == [3.0]
    assert tree.structure([1, 2]) != tree.structure((1, 2))


def test_tree_map():
    t = {"w": [1.0, 2.0], "b": (3.0, None)}
    assert tree.map(lambda x: x * 2, t) == {"w": [2.0, 4.0], "b": (6.0, None)}
    assert tree.map(lambda x, y: x + y, t, t) == {"w": [2.0, 4.0], "b": (6.0, None)}
    layer = tree.map(lambda x: -x, Layer(1.0, Params(2.0, 3.0)))
    assert layer == Layer(-1.0, Params(-2.0, -3.0))
    with pytest.raises(ValueError):
        tree.map(lambda x, y: x, [1.0], [1.0, 2.0])


def test_tree_register_custom_node():
    class Box:
        def __init__(self, value, tag):
            self.value, self.tag = value, tag
    tree.register(Box, lambda b: ((b.value,), b.tag), lambda tag, ch: Box(ch[0], tag))
    leaves, treedef = tree.flatten([Box(np.ones(2), "t"), Box(3.0, "u")])
    assert len(leaves) == 2
    rebuilt = tree.unflatten(treedef, [1, 2])
    assert [(b.value, b.tag) for b in rebuilt] == [(1, "t"), (2, "u")]
    out = traced(lambda b: Box(b.value * 2, b.tag + "!"), Box(V, "v"))
    assert out.tag == "v!"
    assert_same(out.value, V * 2)


def test_tree_namespace_does_not_touch_other_libraries():
    import optree

    class Private:
        pass
    tree.register(Private, lambda p: ((), None), lambda aux, ch: Private())
    assert optree.tree_leaves([Private()]) != []  # optree's global registry: still a leaf


def test_tracers_do_not_leak_from_make_ir():
    closed = fg.make_ir(lambda x: (x + 1, fnp.sum(x)))(M)
    program = closed.program
    for eqn in program.equations:
        for a in eqn.inputs:
            assert not isinstance(a, Tracer)
        for v in eqn.params.values():
            assert not isinstance(v, Tracer)
    assert not any(isinstance(c, Tracer) for c in closed.consts)
