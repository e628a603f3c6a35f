"""Issue 12's shape, creation and composed NumPy names (diff, insert, delete, the split
family, the stacks, rot90, meshgrid, kron, polyval, trapezoid, vander, select, piecewise,
linspace/logspace/geomspace with traced ends, r_/c_, einsum's sublist form and the array
API's aliases) against NumPy.

Each case is written once as ``call(m, *arrays)``: ``numpy`` gives the expected result,
``funcgrad.numpy`` the actual one, eagerly and by evaluating the Program make_ir records
(where the arrays are traced), dtype included. Then derivatives against finite differences
in both modes, vmap against a loop, and one jitted function using most of them.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.errors import ConcretizationError, FuncgradError
from funcgrad.core.tracing import Tracer
from funcgrad.testing import check_grads

FLOATS = [np.float32, np.float64]
SETTINGS = settings(max_examples=12, deadline=None)
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # np.row_stack


# ---------------------------------------------------------------------------------------
# Running a case eagerly and traced, against NumPy

def traced(fn, args):
    """``fn(*args)`` computed by evaluating the Program that make_ir records for it."""
    closed = fg.make_ir(fn)(*args)
    return fg.tree.unflatten(closed.out_tree, closed(*fg.tree.leaves(args)))


def assert_like(actual, expected, how):
    actual_leaves, expected_leaves = fg.tree.leaves(actual), fg.tree.leaves(expected)
    assert len(actual_leaves) == len(expected_leaves), how
    for a, e in zip(actual_leaves, expected_leaves):
        assert not isinstance(a, Tracer), how
        a, e = np.asarray(a), np.asarray(e)
        assert (a.shape, a.dtype) == (e.shape, e.dtype), f"{how}: {a.dtype}{a.shape}, NumPy " \
                                                         f"gives {e.dtype}{e.shape}"
        if e.dtype.kind == "f":
            tol = 4e-6 if e.dtype == np.float32 else 1e-12
            finite = np.abs(e[np.isfinite(e)])
            scale = max(finite.max(), 1.0) if finite.size else 1.0
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol * scale, equal_nan=True,
                                       err_msg=how)
        else:
            np.testing.assert_array_equal(a, e, err_msg=how)


def check(call, *args):
    """``call(fnp, *args)`` eagerly and traced equals ``call(np, *args)``; where NumPy refuses
    the arguments, funcgrad raises a FuncgradError of the same kind."""
    try:
        expected = call(np, *args)
    except (ValueError, TypeError, IndexError) as err:
        kind = next(k for k in (ValueError, TypeError, IndexError) if isinstance(err, k))
        for run in (lambda: call(fnp, *args), lambda: traced(lambda *a: call(fnp, *a), args)):
            with pytest.raises(kind) as info:
                run()
            assert isinstance(info.value, FuncgradError), repr(info.value)
        return
    assert_like(call(fnp, *args), expected, "eager")
    assert_like(traced(lambda *a: call(fnp, *a), args), expected, "traced")


class Draw:
    def __init__(self, data, dtype):
        self.data, self.dtype = data, np.dtype(dtype)

    def __call__(self, strategy):
        return self.data.draw(strategy)

    def shape(self, min_dims=0, max_dims=3, min_side=0, max_side=4):
        return self(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                     max_side=max_side))

    def array(self, shape=None, lo=-4.0, hi=4.0):
        shape = self.shape() if shape is None else shape
        return self(hnp.arrays(self.dtype, shape, elements=st.floats(
            lo, hi, width=self.dtype.itemsize * 8, allow_subnormal=False)))

    def axis(self, ndim):
        return self(st.integers(-ndim, ndim - 1))


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------------------------------
# Cases: each draws arguments and returns (call, *traced arguments)

@case
def diff(d):
    x = d.array(d.shape(1, 3))
    axis, n = d.axis(x.ndim), d(st.integers(0, 3))
    ends = {}
    for name in ("prepend", "append"):
        if d(st.booleans()):
            shape = list(x.shape)
            shape[axis] = d(st.integers(1, 2))
            ends[name] = d(st.sampled_from([1.5, d.array(tuple(shape))]))
    return (lambda m, x: m.diff(x, n, axis, **ends)), x


@case
def diff_of_booleans_and_ints(d):
    x = d.array(d.shape(1, 2))
    return (lambda m, x: (m.diff(x > 0), m.diff(m.floor(x).astype(m.int32), axis=0))), x


@case
def ediff1d(d):
    x = d.array()
    begin = d(st.sampled_from([None, -1.0, [1.0, 2.0]]))
    end = d(st.sampled_from([None, 0.5, np.ones((1, 2), d.dtype)]))
    return (lambda m, x: m.ediff1d(x, to_end=end, to_begin=begin)), x


@case
def append(d):
    x = d.array(d.shape(1, 3))
    if d(st.booleans()):
        return (lambda m, x, v: m.append(x, v)), x, d.array()
    axis = d.axis(x.ndim)
    shape = list(x.shape)
    shape[axis] = d(st.integers(0, 3))
    return (lambda m, x, v: m.append(x, v, axis=axis)), x, d.array(tuple(shape))


def _obj(d, n):
    """An index argument of insert/delete for an axis of length n."""
    return d(st.integers(-n, n) | st.lists(st.integers(-n, max(n - 1, 0)), max_size=3)
             | st.builds(slice, st.integers(-n, n) | st.none(), st.none() | st.integers(0, n),
                         st.sampled_from([None, 1, 2, -1])))


@case
def insert(d):
    x = d.array(d.shape(0, 3))
    axis = d(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    n = x.size if axis is None else x.shape[axis]
    obj = _obj(d, n)
    values = d(st.sampled_from([2.5, d.array(d.shape(0, 2, max_side=3))]))
    if isinstance(values, np.ndarray):  # traced values
        return (lambda m, x, v: m.insert(x, obj, v, axis=axis)), x, values
    return (lambda m, x: m.insert(x, obj, values, axis=axis)), x


@case
def delete(d):
    x = d.array(d.shape(1, 3))
    axis = d(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    obj = d(st.sampled_from([_obj(d, n), np.arange(n) % 2 == 0]))
    return (lambda m, x: m.delete(x, obj, axis=axis)), x


@case
def array_split(d):
    x = d.array(d.shape(1, 3))
    axis = d.axis(x.ndim)
    n = x.shape[axis]
    how = d(st.integers(1, 4) | st.lists(st.integers(-n - 1, n + 1), max_size=3))
    return (lambda m, x: m.array_split(x, how, axis=axis)), x


@case
def split_family(d):
    x = d.array(d.shape(1, 4, min_side=1))
    name = d(st.sampled_from(["split", "hsplit", "vsplit", "dsplit"]))
    how = d(st.integers(1, 3) | st.lists(st.integers(-4, 4), max_size=3))
    if name == "split":
        return (lambda m, x: m.split(x, how, axis=-1)), x
    return (lambda m, x: getattr(m, name)(x, how)), x


@case
def stacks(d):
    shape = d.shape(0, 3)
    x, y = d.array(shape), d.array(shape)
    return (lambda m, x, y: (m.column_stack([x, y]), m.row_stack((x, y)), m.dstack([x, y]),
                             m.atleast_3d(x), m.atleast_3d(x, y), m.atleast_1d(x, y),
                             m.atleast_2d(x, y))), x, y


@case
def rot90(d):
    x = d.array(d.shape(2, 4))
    k = d(st.integers(-5, 5))
    axes = d(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=2, max_size=2))
    return (lambda m, x: m.rot90(x, k, axes)), x


@case
def meshgrid(d):
    xs = [d.array(d.shape(0, 2, max_side=3)) for _ in range(d(st.integers(0, 3)))]
    indexing, sparse = d(st.sampled_from(["xy", "ij"])), d(st.booleans())
    return (lambda m, *xs: m.meshgrid(*xs, indexing=indexing, sparse=sparse)), *xs


@case
def kron(d):
    a, b = d.array(d.shape(0, 3, max_side=3)), d.array(d.shape(0, 3, max_side=3))
    return (lambda m, a, b: m.kron(a, b)), a, b


@case
def polyval(d):
    p = d.array(d.shape(1, 1))
    x = d.array(lo=-2.0, hi=2.0)
    return (lambda m, p, x: m.polyval(p, x)), p, x


@case
def trapezoid(d):
    y = d.array(d.shape(1, 3))
    axis = d.axis(y.ndim)
    how = d(st.sampled_from(["dx", "x1", "xfull", "none"]))
    if how == "dx":
        return (lambda m, y: m.trapezoid(y, dx=0.25, axis=axis)), y
    if how == "x1":
        return (lambda m, y, x: m.trapezoid(y, x, axis=axis)), y, d.array((y.shape[axis],))
    if how == "xfull":
        return (lambda m, y, x: m.trapezoid(y, x=x, axis=axis)), y, d.array(y.shape)
    return (lambda m, y: m.trapezoid(y, axis=axis)), y


@case
def vander(d):
    x = d.array(d.shape(1, 1))
    N = d(st.none() | st.integers(0, 4))
    increasing = d(st.booleans())
    return (lambda m, x: (m.vander(x, N, increasing), m.vander(m.floor(x).astype(m.int32), N))
            ), x


@case
def select(d):
    x = d.array(d.shape(0, 2))
    y = d.array(x.shape)
    default = d(st.sampled_from([0, -1.5, np.float32(2.0)]))
    return (lambda m, x, y: m.select([x < -1, x > y, x > 0], [x, y * 2, 3.0],
                                     default=default)), x, y


@case
def piecewise(d):
    x = d.array(d.shape(0, 2, min_side=1))  # NumPy fails on an empty x with a lone condition
    which = d(st.integers(0, 3))
    if which == 0:  # as many functions as conditions
        return (lambda m, x: m.piecewise(x, [x < 0, x >= 1], [lambda v: -v, lambda v: v * v])), x
    if which == 1:  # one more: everywhere else
        return (lambda m, x: m.piecewise(x, [x < 0], [0.5, lambda v, a: v * a], 3.0)), x
    if which == 2:  # a lone condition (NumPy reads the rows of a 2-D one as conditions)
        x = x.ravel()
        return (lambda m, x: m.piecewise(x, x > 1, [m.sin, m.cos])), x
    return (lambda m, x: m.piecewise(x.astype(m.int32), [x > 0], [lambda v: v * 2.7, -1])), x


@case
def linspace(d):
    shape = d(st.sampled_from([(), (2,), (3, 2)]))
    lo, hi = d.array(shape), d.array(shape)
    num, endpoint = d(st.integers(0, 5)), d(st.booleans())
    axis = d.axis(len(shape) + 1)
    dtype = d(st.sampled_from([None, np.float64, np.int32]))
    return (lambda m, lo, hi: m.linspace(lo, hi, num, endpoint, True, dtype, axis)), lo, hi


@case
def linspace_python_end(d):
    lo = d.array(())
    num = d(st.integers(1, 5))
    return (lambda m, lo: (m.linspace(lo, 2.0, num), m.linspace(-1, lo, num, axis=-1))), lo


@case
def logspace(d):
    shape = d(st.sampled_from([(), (2,)]))
    lo, hi = d.array(shape, -2.0, 2.0), d.array(shape, -2.0, 2.0)
    num, endpoint = d(st.integers(0, 5)), d(st.booleans())
    if d(st.booleans()):
        base = d.array(shape, 0.5, 3.0)
        return (lambda m, lo, hi, b: m.logspace(lo, hi, num, endpoint, b, axis=-1)), lo, hi, base
    return (lambda m, lo, hi: m.logspace(lo, hi, num, endpoint, 2.0)), lo, hi


@case
def geomspace(d):
    shape = d(st.sampled_from([(), (2,)]))
    sign = d(st.sampled_from([1.0, -1.0]))
    lo, hi = sign * d.array(shape, 0.5, 8.0), sign * d.array(shape, 0.5, 8.0)
    num, endpoint = d(st.integers(0, 5)), d(st.booleans())
    axis = d.axis(len(shape) + 1)
    return (lambda m, lo, hi: m.geomspace(lo, hi, num, endpoint, axis=axis)), lo, hi


@case
def copy(d):
    x = d.array()
    return (lambda m, x: m.copy(x) * 2), x


@case
def index_tricks(d):
    x, y = d.array((3,)), d.array((3,))
    z = d.array((2, 3))
    return (lambda m, x, y, z: (m.r_[x, 0.5, y], m.r_[x, 1:4], m.r_[-1:1:5j, x],
                                m.r_["0,2", x, y], m.r_["-1,2,0", x, y], m.r_[z, x[None]],
                                m.r_["1", z, z], m.c_[x, y], m.c_[z.T, x], m.r_[3, x[0]],
                                m.r_[0:5] * x[0], m.c_[1:3, 4:6] * x[1])
            ), x, y, z


@case
def einsum_sublists(d):
    a, b = d.array((2, 3)), d.array((3, 4))
    c = d.array((2, 2, 3))
    return (lambda m, a, b, c: (m.einsum(a, [0, 1], b, [1, 2], [0, 2]),
                                m.einsum(a, [0, 1], b, [1, 2]),
                                m.einsum(c, [Ellipsis, 1], a, [0, 1], [Ellipsis, 0]),
                                m.einsum(c, [0, 0, 1]), m.einsum(a, [26, 51], [51]))
            ), a, b, c


@case
def array_api_aliases(d):
    x = d.array(d.shape(2, 4))
    perm = d(st.permutations(range(x.ndim)))
    axis = d.axis(x.ndim)
    y = d.array(x.shape[-2:])
    return (lambda m, x, y: (m.concat([x, x], axis=axis), m.permute_dims(x, perm),
                             m.matrix_transpose(x), m.vecdot(x, y), m.vecdot(x, x, axis=axis),
                             m.unstack(x, axis=axis))), x, y


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_against_numpy(name, dtype, data):
    call, *args = CASES[name](Draw(data, dtype))
    check(call, *args)


def test_triangle_indices():
    for n, k, m in [(3, 0, None), (4, 1, None), (3, -1, 5), (0, 0, None), (2, 5, 3)]:
        for name in ("tril_indices", "triu_indices"):
            for got, want in zip(getattr(fnp, name)(n, k, m), getattr(np, name)(n, k, m)):
                np.testing.assert_array_equal(got, want)
    x = np.zeros((3, 4))
    for name in ("tril_indices_from", "triu_indices_from"):
        for k in (-1, 0, 2):
            want = getattr(np, name)(x, k)
            indices = getattr(fnp, name)
            got = fg.make_ir(lambda x, f=indices, k=k: x[f(x, k)])(x)(x)[0]
            np.testing.assert_array_equal(got, x[want])
    with pytest.raises(ValueError, match="2-d"):
        fnp.tril_indices_from(np.zeros(3))


def test_split_reads_negative_indices_as_python_slices():
    x = np.arange(7.0)
    for how in ([-2], [2, -1], [5, 3], [-9, 9]):
        for got, want in zip(fnp.split(x, how), np.split(x, how)):
            np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------
# Derivatives against finite differences, reverse and forward mode

rng = np.random.default_rng(0)
X = rng.normal(size=(3, 4))
V = rng.normal(size=4)

GRADIENT_CASES = {
    "diff": (lambda x, p: fnp.diff(x, 2, axis=0, prepend=p), (X, V[None])),
    "diff_append_scalar": (lambda x: fnp.diff(x, append=0.5), (X,)),
    "ediff1d": (lambda x, b: fnp.ediff1d(x, to_begin=b, to_end=[1.0]), (X, V)),
    "append": (lambda x, v: fnp.append(x, v[None], axis=0), (X, V)),
    "insert": (lambda x, v: fnp.insert(x, [0, 2, 2], v[:3], axis=1), (X, V)),
    "insert_scalar_index": (lambda x, v: fnp.insert(x, 1, v, axis=0), (X, V)),
    "delete": (lambda x: fnp.delete(x, [0, -1], axis=1), (X,)),
    "array_split": (lambda x: [p * (i + 1) for i, p in enumerate(fnp.array_split(x, 3, 1))],
                    (X,)),
    "stacks": (lambda x, v: (fnp.column_stack([v, x[0]]), fnp.dstack([x, x]),
                             fnp.atleast_3d(v)), (X, V)),
    "rot90": (lambda x: fnp.rot90(x[None], 3, axes=(2, 1)), (X,)),
    "meshgrid": (lambda a, b: fnp.meshgrid(a, b), (V, V[:3])),
    "kron": (fnp.kron, (X, X[:2, :2])),
    "polyval": (fnp.polyval, (V, X)),
    "trapezoid": (lambda y, x: fnp.trapezoid(y, x, axis=1), (X, np.cumsum(np.abs(V)))),
    "trapezoid_dx": (lambda y, dx: fnp.trapezoid(y, dx=dx, axis=0), (X, 0.3)),
    "vander": (lambda x: fnp.vander(x, 4), (np.array([0.0, 1.5, -2.0]),)),
    "select": (lambda x, y: fnp.select([x > 0.5, x < -0.5], [x * y, y], default=x), (X, X.T.T * 2)),
    "piecewise": (lambda x: fnp.piecewise(x, [x < 0, x > 1], [fnp.sin, lambda v: v ** 3, 0.5]),
                  (X,)),
    "linspace": (lambda a, b: fnp.linspace(a, b, 5, axis=1), (V, V[::-1] + 1.0)),
    "linspace_open": (lambda a, b: fnp.linspace(a, b, 4, endpoint=False, retstep=True),
                      (0.5, 2.0)),
    "logspace": (lambda a, b, base: fnp.logspace(a, b, 4, base=base), (V / 3, V / 2, 1.5)),
    "geomspace": (lambda a, b: fnp.geomspace(a, b, 5), (np.array([0.5, -2.0]),
                                                         np.array([4.0, -0.5]))),
    "copy": (fnp.copy, (X,)),
    "r_": (lambda x, v: fnp.r_[x[0], 2.0, v], (X, V)),
    "c_": (lambda x, v: fnp.c_[x.T, v], (X, V)),
    "einsum_sublists": (lambda a, b: fnp.einsum(a, [0, 1], b, [1], [0]), (X, V)),
    "aliases": (lambda x, v: (fnp.concat([x, x]), fnp.permute_dims(x[None], (2, 0, 1)),
                              fnp.matrix_transpose(x), fnp.vecdot(x, v), fnp.unstack(x, axis=1)),
                (X, V)),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients(name):
    fn, args = GRADIENT_CASES[name]
    check_grads(fn, args, modes=("fwd", "rev"))


@pytest.mark.parametrize("name", ["polyval", "linspace", "geomspace", "piecewise"])
def test_second_order(name):
    fn, args = GRADIENT_CASES[name]
    check_grads(fn, args, order=2, modes=("rev",))


# (not select and piecewise: drawn values tie at their conditions' kinks; GRADIENT_CASES
# checks them away from those)
DIFFERENTIABLE_CASES = ["diff", "ediff1d", "append", "insert", "delete", "array_split",
                        "split_family", "stacks", "rot90", "meshgrid", "kron", "polyval",
                        "trapezoid", "linspace_python_end", "logspace", "geomspace",
                        "index_tricks", "einsum_sublists", "array_api_aliases"]


@pytest.mark.parametrize("name", DIFFERENTIABLE_CASES)
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_gradients_on_drawn_shapes(name, data):
    call, *args = CASES[name](Draw(data, np.float64))
    try:
        call(np, *args)
    except (ValueError, TypeError, IndexError):
        return  # arguments NumPy refuses: test_against_numpy checks funcgrad refuses them too
    if not args:
        return  # meshgrid of no arrays
    check_grads(lambda *a: call(fnp, *a), args, modes=("fwd", "rev"))


def test_vander_gradient_is_exact_at_zero():
    got = fg.grad(lambda x: fnp.sum(fnp.vander(x, 4)))(np.array([0.0, 2.0]))
    np.testing.assert_allclose(got, [1.0, 1.0 + 2 * 2.0 + 3 * 4.0])  # d(1 + x + x^2 + x^3)


# ---------------------------------------------------------------------------------------
# vmap against a loop over examples

VMAP_CASES = {
    "diff": lambda x: fnp.diff(x, 2, prepend=1.0),
    "insert": lambda x: fnp.insert(x, [1, 3], x[:2] * 2),
    "delete": lambda x: fnp.delete(x, slice(0, None, 2)),
    "rot90": lambda x: fnp.rot90(fnp.reshape(x, (2, 2))),
    "kron": lambda x: fnp.kron(x, x[:2]),
    "polyval": lambda x: fnp.polyval(x, x[::-1]),
    "trapezoid": lambda x: fnp.trapezoid(x, fnp.cumsum(x * x)),
    "vander": lambda x: fnp.vander(x, 3),
    "select": lambda x: fnp.select([x > 0], [x * 3], default=x[0]),
    "piecewise": lambda x: fnp.piecewise(x, [x > 0], [fnp.exp, 0.0]),
    "linspace": lambda x: fnp.linspace(x[0], x[1:3], 4),
    "geomspace": lambda x: fnp.geomspace(fnp.abs(x[0]) + 1, 2.0 + x[1] ** 2, 3),
    "r_": lambda x: fnp.r_[x, 0.0:2.0:3j],
    "vecdot": lambda x: fnp.vecdot(fnp.reshape(x, (2, 2)), x[:2]),
    "meshgrid": lambda x: fnp.meshgrid(x[:2], x, indexing="ij"),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_equals_a_loop(name):
    fn = VMAP_CASES[name]
    xs = rng.normal(size=(3, 4))
    want = fg.tree.map(lambda *ys: np.stack(ys), *[fn(x) for x in xs])
    fg.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12),
                fg.vmap(fn)(xs), want)


# ---------------------------------------------------------------------------------------
# Under jit: one compiled program computes a function using most of the names and its
# gradient (one Numba compile, to keep this file fast)

def many(x, a):
    pieces = fnp.array_split(fnp.rot90(x), 3, axis=1)
    y = fnp.insert(fnp.delete(x, 0, axis=0), [1], a, axis=0)
    z = fnp.select([y > 0], [fnp.diff(y, prepend=0.0, axis=1)], default=y)
    w = fnp.piecewise(z, [z < 0], [fnp.sin, lambda v: v * v])
    ramp = fnp.linspace(a[0], a[1], 4)
    return (fnp.sum(fnp.kron(w[:2, :2], x[:1, :2])) + fnp.trapezoid(fnp.polyval(a, ramp))
            + fnp.sum(fnp.vander(ramp, 3)) + fnp.sum(fnp.r_[pieces[0].ravel(), ramp])
            + fnp.sum(fnp.geomspace(1.0 + a[2] ** 2, 4.0, 3)) + fnp.vecdot(a, ramp)
            + fnp.sum(fnp.logspace(a[:2], a[2:], 3, base=2.0, axis=1)[1] * fnp.ediff1d(a)[1])
            + fnp.sum(fnp.meshgrid(a, ramp[:2])[0] * fnp.column_stack([a, a])[:, 0])
            + fnp.sum(fnp.unstack(fnp.dstack([x, x]), axis=2)[1] * fnp.matrix_transpose(x.T))
            + fnp.sum(fnp.einsum(x, [0, 1], a, [1], [0]) * fnp.append(a[:2], 1.0)))


def test_jit_equals_eager_and_its_gradient_too():
    x, a = rng.normal(size=(3, 4)), rng.normal(size=4)
    value_and_grad = fg.value_and_grad(many, argnums=(0, 1))
    (value, grads), (want_value, want_grads) = fg.jit(value_and_grad)(x, a), value_and_grad(x, a)
    np.testing.assert_allclose(value, many(x, a), rtol=1e-12)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    for got, want in zip(grads, want_grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    check_grads(many, (x, a), modes=("rev",))


# ---------------------------------------------------------------------------------------
# Static arguments: traced ones are refused, naming the argument

@pytest.mark.parametrize("call, argument", [
    (lambda i, x: fnp.insert(x, i, 1.0), "obj"),
    (lambda i, x: fnp.delete(x, i), "obj"),
    (lambda i, x: fnp.delete(x, [0, i]), "obj"),
    (lambda i, x: fnp.split(x, i), "indices_or_sections"),
    (lambda i, x: fnp.array_split(x, [i]), "indices_or_sections"),
    (lambda i, x: fnp.linspace(0.0, 1.0, i), "num"),
    (lambda i, x: fnp.geomspace(1.0, 2.0, i), "num"),
    (lambda i, x: fnp.tril_indices(i), "n must"),
    (lambda i, x: fnp.r_[0:i], "slice"),
])
def test_traced_static_arguments_are_refused(call, argument):
    with pytest.raises(ConcretizationError, match=argument):
        fg.jit(call)(2, np.arange(4.0))


@pytest.mark.parametrize("call", [
    lambda: fnp.diff(np.ones(3), n=-1),
    lambda: fnp.diff(np.float64(1.0)),
    lambda: fnp.split(np.ones(5), 2),
    lambda: fnp.split(np.ones(5), 0),
    lambda: fnp.vsplit(np.ones(4), 2),
    lambda: fnp.rot90(np.ones((2, 2)), axes=(0, 0)),
    lambda: fnp.rot90(np.ones((2, 2)), axes=(0, 1, 2)),
    lambda: fnp.insert(np.ones(3), 5, 1.0),
    lambda: fnp.delete(np.ones(3), [7]),
    lambda: fnp.vander(np.ones((2, 2))),
    lambda: fnp.select([np.ones(2)], [np.ones(2)]),
    lambda: fnp.select([], []),
    lambda: fnp.piecewise(np.ones(2), [np.ones(2) > 0], [1, 2, 3]),
    lambda: fnp.meshgrid(np.ones(2), indexing="yx"),
    lambda: fnp.ediff1d(np.arange(3), to_begin=1.5),
    lambda: fnp.matrix_transpose(np.ones(3)),
    lambda: fnp.permute_dims(np.ones((2, 3)), (0, 0)),
    lambda: fnp.vecdot(np.ones(3), np.ones(2)),
    lambda: fnp.unstack(np.float64(1.0)),
    lambda: fnp.einsum(np.ones(2), [60]),
    lambda: fnp.einsum(np.ones(2), ["i"]),
    lambda: fnp.r_["r", np.ones(2)],
    lambda: fnp.r_[np.ones(2), "0"],
    lambda: fnp.r_[()],
    lambda: fnp.linspace(0.0, 1.0, -1),
    lambda: fnp.geomspace(0.0, 1.0, 3),
    lambda: fnp.logspace(0.0, 1.0, 3.5),
    lambda: fnp.rot90(np.ones((2, 2)), 1.5),
    lambda: fnp.array_split(np.ones(3), [1.5]),
    lambda: fnp.array_split(np.float64(1.0), 2),
])
def test_bad_arguments_raise_funcgrad_errors(call):
    with pytest.raises(FuncgradError):
        call()


def test_index_trick_examples_run():
    """r_ and c_ are objects, not functions, so the docstring test passes them by: run their
    examples here."""
    import doctest
    for trick in (fnp.r_, fnp.c_):
        test = doctest.DocTestParser().get_doctest(trick.__doc__, {"np": np, "fnp": fnp},
                                                   "trick", None, 0)
        result = doctest.DocTestRunner().run(test)
        assert result.attempted == 1 and result.failed == 0


# --- repeat with JAX's total_repeat_length -----------------------------------------------

def _repeats_to_length(x, r):
    return (fnp.repeat(x, r, total_repeat_length=5),    # filled with the last element
            fnp.repeat(x, r, total_repeat_length=2),    # truncated
            fnp.repeat(x, r[1], total_repeat_length=7),  # one traced count for every element
            fnp.repeat(fnp.reshape(x, (3, 1)), r, axis=0, total_repeat_length=4))


def test_repeat_total_repeat_length_takes_traced_repeats_as_jax():
    """JAX's values (jnp.repeat with total_repeat_length): the result is cut at the length,
    or completed with the last element; eager, evaluated, compiled and batched agree."""
    x, r = np.array([1.0, 2.0, 3.0]), np.array([1, 2, 0])
    want = ([1.0, 2.0, 2.0, 3.0, 3.0], [1.0, 2.0], [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0],
            [[1.0], [2.0], [2.0], [3.0]])
    ways = {"eager": _repeats_to_length(x, r),
            "evaluated": fg.make_ir(_repeats_to_length)(x, r)(x, r),
            "compiled": fg.jit(_repeats_to_length, compile="sync")(x, r)}
    for way, got in ways.items():
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=way)
    # the values NumPy's repeat gives when the length is the total
    np.testing.assert_array_equal(fnp.repeat(x, [3, 0, 2], total_repeat_length=5),
                                  np.repeat(x, [3, 0, 2]))
    batched = fg.vmap(lambda r: fnp.repeat(x, r, total_repeat_length=4))(
        np.array([[1, 1, 2], [0, 0, 4]]))
    np.testing.assert_array_equal(batched, [[1.0, 2.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0]])
    # the derivative counts each element's places in the result
    np.testing.assert_array_equal(
        fg.grad(lambda x, r: fnp.sum(fnp.repeat(x, r, total_repeat_length=5)))(x, r),
        [1.0, 2.0, 2.0])
    check_grads(lambda x: fnp.repeat(x, np.array([1, 2, 0]), total_repeat_length=4) ** 2,
                (x,), modes=("rev", "fwd"))


def test_repeat_of_traced_repeats_without_total_repeat_length_says_to_pass_it():
    with pytest.raises(ConcretizationError, match=r"total_repeat_length=.*test_numpy_shapes_more"):
        fg.jit(lambda x, r: fnp.repeat(x, r))(np.ones(3), np.array([1, 2, 0]))  # <- here
    with pytest.raises(FuncgradError, match="total_repeat_length must not be negative"):
        fnp.repeat(np.ones(3), 2, total_repeat_length=-1)
    with pytest.raises(FuncgradError, match="2 repeats for an axis of length 3"):
        fg.jit(lambda r: fnp.repeat(np.ones(3), r, total_repeat_length=3))(np.array([1, 2]))
