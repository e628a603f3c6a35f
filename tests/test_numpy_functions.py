"""funcgrad.numpy, funcgrad.nn and funcgrad.scipy.special against NumPy.

Every case is written once as ``call(m, *arrays)`` where ``m`` is a module: ``numpy`` gives
the expected result, ``funcgrad.numpy`` the actual one, run twice: eagerly on the arrays, and
by evaluating the Program that ``make_ir`` records. Both must equal NumPy's result, dtype
included (NEP 50: a float32 array times a Python float stays float32).
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.special as fsp
from funcgrad.core.errors import FuncgradError
from funcgrad.core.ir import Literal, validate
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import weak_value

FLOATS = [np.float32, np.float64]
SETTINGS = settings(max_examples=20, deadline=None)
# NumPy warns on the empty arrays and edge values drawn here (mean of nothing is nan), in the
# reference computation and in funcgrad's alike; the values are compared instead.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ---------------------------------------------------------------------------------------
# Running a case three ways


def traced(fn, args):
    """``fn(*args)`` computed by evaluating the Program that make_ir records for it."""
    closed = fg.make_ir(fn)(*args)
    validate(closed.program)
    assert not any(isinstance(c, Tracer) for c in closed.consts)
    flat = closed(*fg.tree.leaves(args))
    check_types_while_evaluating(closed.program, [*closed.consts, *fg.tree.leaves(args)])
    return fg.tree.unflatten(closed.out_tree, flat)


def check_types_while_evaluating(program, args):
    """Run ``program`` one equation at a time: each value must have the shape and dtype its
    variable declares (a shape rule that disagrees with its impl would pass unseen)."""
    env = {id(v): x for v, x in zip(program.inputs, args)}
    read = lambda a: a.value if isinstance(a, Literal) else env[id(a)]  # noqa: E731
    for eqn in program.equations:
        out = eqn.primitive.impl(*map(read, eqn.inputs), **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        for var, value in zip(eqn.outputs, outs):
            if var.aval.weak_type:  # a Python number, as the evaluator makes it
                value = weak_value(value)
            array = np.asarray(value)
            assert (array.shape, array.dtype) == (var.aval.shape, var.aval.dtype), (
                f"{eqn.primitive.name} at {eqn.source} computed {array.dtype}{list(array.shape)}"
                f" for a variable of type {var.aval}")
            env[id(var)] = value


def assert_like(actual, expected, how, rtol=None):
    """Same pytree of values, each with NumPy's shape, dtype and (to rounding) value."""
    actual_leaves, expected_leaves = fg.tree.leaves(actual), fg.tree.leaves(expected)
    assert len(actual_leaves) == len(expected_leaves), how
    for a, e in zip(actual_leaves, expected_leaves):
        assert not isinstance(a, Tracer), how
        a, e = np.asarray(a), np.asarray(e)
        assert a.dtype == e.dtype, f"{how}: dtype {a.dtype}, NumPy gives {e.dtype}"
        assert a.shape == e.shape, f"{how}: shape {a.shape}, NumPy gives {e.shape}"
        if e.dtype.kind == "f":
            tol = rtol if rtol is not None else (2e-6 if e.dtype == np.float32 else 1e-13)
            finite = np.abs(e[np.isfinite(e)])
            scale = finite.max() if finite.size else 1.0
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol * max(scale, 1.0),
                                       equal_nan=True, err_msg=how)
        else:
            np.testing.assert_array_equal(a, e, err_msg=how)


def check(call, *args, rtol=None, reference=None):
    """``call(fnp, *args)`` eagerly and traced equals ``call(np, *args)`` (or ``reference``);
    where NumPy refuses the arguments, funcgrad raises a FuncgradError of the same kind."""
    try:
        expected = call(np, *args) if reference is None else reference(*args)
    except (ValueError, TypeError, IndexError) as err:
        kind = next(k for k in (ValueError, TypeError, IndexError) if isinstance(err, k))
        for how, run in (("eager", lambda: call(fnp, *args)),
                         ("traced", lambda: traced(lambda *a: call(fnp, *a), args))):
            with pytest.raises(kind) as info:
                run()
            assert isinstance(info.value, FuncgradError), f"{how}: {info.value!r}"
        return
    assert_like(call(fnp, *args), expected, "eager", rtol)
    assert_like(traced(lambda *a: call(fnp, *a), args), expected, "traced", rtol)


# ---------------------------------------------------------------------------------------
# Strategies

DOMAINS = {  # element ranges, exact in float32
    "real": (-8.0, 8.0),
    "pos": (0.125, 8.0),
    "unit": (-0.875, 0.875),
    "ge1": (1.125, 8.0),
    "small": (-2.0, 2.0),
}


def elements(dtype, domain="real", special=False):
    if special:  # any float, inf and nan included
        return st.floats(width=np.dtype(dtype).itemsize * 8)
    lo, hi = DOMAINS[domain]
    return st.floats(lo, hi, width=np.dtype(dtype).itemsize * 8, allow_subnormal=False)


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


class Draw:
    """Hypothesis draws for one example, at one float dtype."""

    def __init__(self, data, dtype):
        self.data, self.dtype = data, np.dtype(dtype)

    def __call__(self, strategy):
        return self.data.draw(strategy)

    def shape(self, min_dims=0, max_dims=3, **kw):
        return self(shapes(min_dims, max_dims, **kw))

    def array(self, shape=None, domain="real", dtype=None, special=False):
        shape = self.shape() if shape is None else shape
        dtype = self.dtype if dtype is None else dtype
        return self(hnp.arrays(dtype, shape, elements=elements(dtype, domain, special)))

    def nonzero(self, shape, dtype=None):
        """Values away from zero, for divisors."""
        mag = self.array(shape, "pos", dtype)
        return mag * self(hnp.arrays(mag.dtype, shape, elements=st.sampled_from([-1, 1])))

    def ints(self, shape, lo, hi, dtype=np.int64):
        return self(hnp.arrays(dtype, shape, elements=st.integers(lo, hi)))

    def axis(self, ndim):
        return self(st.integers(-ndim, ndim - 1))

    def broadcastable(self, n=2, min_dims=0):
        return self(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims,
                                                      max_dims=3, max_side=4)).input_shapes


# ---------------------------------------------------------------------------------------
# The list of issue 2, all present

ISSUE_2_NAMES = """
    negative abs sign exp exp2 expm1 log log1p log2 log10 sqrt cbrt square reciprocal sin cos
    tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh floor ceil round clip
    isfinite isnan isinf
    add subtract multiply divide true_divide floor_divide mod power maximum minimum arctan2
    hypot logaddexp where equal not_equal less less_equal greater greater_equal logical_and
    logical_or logical_not
    sum mean prod max min amax amin var std argmax argmin cumsum cumprod all any
    dot matmul vdot inner outer tensordot einsum trace diag diagonal tril triu
    reshape ravel transpose swapaxes moveaxis expand_dims squeeze broadcast_to concatenate
    stack hstack vstack split tile repeat flip roll pad take take_along_axis
    array asarray zeros ones full zeros_like ones_like full_like arange linspace eye
    """.split()


def test_every_function_of_the_issue_exists():
    assert [n for n in ISSUE_2_NAMES if not callable(getattr(fnp, n, None))] == []
    nn = "relu sigmoid softplus log_sigmoid softmax log_softmax logsumexp one_hot gelu silu"
    assert [n for n in nn.split() if not callable(getattr(fg.nn, n, None))] == []
    special = "logsumexp expit logit xlogy erf"
    assert [n for n in special.split() if not callable(getattr(fsp, n, None))] == []


# ---------------------------------------------------------------------------------------
# Unary functions: the same name in numpy and funcgrad.numpy

UNARY = {  # name: domain of its inputs
    "negative": "real", "positive": "real", "abs": "real", "absolute": "real", "sign": "real",
    "exp": "real", "exp2": "real", "expm1": "real", "log": "pos", "log1p": "pos",
    "log2": "pos", "log10": "pos", "sqrt": "pos", "cbrt": "real", "square": "real",
    "reciprocal": "pos", "sin": "real", "cos": "real", "tan": "unit", "arcsin": "unit",
    "arccos": "unit", "arctan": "real", "sinh": "real", "cosh": "real", "tanh": "real",
    "arcsinh": "real", "arccosh": "ge1", "arctanh": "unit", "floor": "real", "ceil": "real",
    "round": "real", "around": "real", "rint": "real", "logical_not": "real",
}
PREDICATES = ["isfinite", "isnan", "isinf"]  # tried on any float, inf and nan included


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data())
def test_unary(name, dtype, data):
    d = Draw(data, dtype)
    x = d.array(domain=UNARY[name])
    check(lambda m, x: getattr(m, name)(x), x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", PREDICATES)
@SETTINGS
@given(data=st.data())
def test_float_predicates(name, dtype, data):
    check(lambda m, x: getattr(m, name)(x), Draw(data, dtype).array(special=True))


@pytest.mark.parametrize("name", ["negative", "abs", "sign", "square", "exp", "sqrt", "floor",
                                  "round", "logical_not", "isfinite", "reciprocal", "cbrt"])
@pytest.mark.parametrize("x", [3, 2.5, -4, True, np.int32(-3), np.int8(2), np.uint16(7),
                               np.float32(2.25), np.array([1, 3, -2], np.int16)], ids=repr)
@np.errstate(invalid="ignore")  # sqrt(-4) is nan, quietly
def test_unary_on_scalars_and_integers(name, x):
    """Python and NumPy scalars and integer and boolean dtypes, typed as NumPy types them.
    Where NumPy refuses (``-True``) or answers in float16 (``exp`` of int8), funcgrad raises
    a FuncgradTypeError: it has no float16."""
    call = lambda m, x: getattr(m, name)(x)  # noqa: E731
    try:
        expected = np.asarray(call(np, x))
    except TypeError:
        expected = None
    if expected is None or expected.dtype == np.float16:
        for run in (lambda: call(fnp, x), lambda: traced(lambda x: call(fnp, x), (x,))):
            with pytest.raises(fg.FuncgradTypeError, match="float16|not defined for"):
                run()
    else:
        check(call, x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("decimals", [1, 2, -1, -2])
@SETTINGS
@given(data=st.data())
def test_round_decimals(dtype, decimals, data):
    x = Draw(data, dtype).array(domain="real") * 37
    check(lambda m, x: m.round(x, decimals), x, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("decimals", [-2, -1, 0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_round_half_to_even_at_ties(decimals, dtype):
    x = np.array([15, 25, -15, -25, 150, 250, 1, 0, 35], dtype)
    if dtype in FLOATS:
        x = np.concatenate([x, x / 100, [0.125, 0.375, 2.5, 3.5, -0.5]]).astype(dtype)
    check(lambda m, x: m.round(x, decimals), x)
    check(lambda m, x: x.round(decimals) if m is np else m.around(x, decimals), x)


@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_clip(dtype, data):
    d = Draw(data, dtype)
    x_shape, lo_shape, hi_shape = d.broadcastable(3)
    x, lo, hi = d.array(x_shape), d.array(lo_shape), d.array(hi_shape)
    check(lambda m, x: m.clip(x, -1.5, 2.0), x)
    check(lambda m, x: m.clip(x, None, 0.5), x)
    check(lambda m, x: m.clip(x, -0.5, None), x)
    check(lambda m, x, lo, hi: m.clip(x, lo, hi), x, lo, hi)
    check(lambda m, x: x.clip(-1.0, 1.0), x)


# ---------------------------------------------------------------------------------------
# Binary functions

BINARY = {  # name: domains of (x, y); "nonzero" keeps divisors away from zero
    "add": ("real", "real"), "subtract": ("real", "real"), "multiply": ("real", "real"),
    "divide": ("real", "nonzero"), "true_divide": ("real", "nonzero"),
    "floor_divide": ("real", "nonzero"), "mod": ("real", "nonzero"),
    "remainder": ("real", "nonzero"), "power": ("pos", "small"), "maximum": ("real", "real"),
    "minimum": ("real", "real"), "arctan2": ("real", "real"), "hypot": ("real", "real"),
    "logaddexp": ("real", "real"), "equal": ("small", "small"),
    "not_equal": ("small", "small"), "less": ("small", "small"),
    "less_equal": ("small", "small"), "greater": ("small", "small"),
    "greater_equal": ("small", "small"), "logical_and": ("small", "small"),
    "logical_or": ("small", "small"), "logical_xor": ("small", "small"),
}


def binary_operand(d, shape, domain, dtype=None):
    if domain == "nonzero":
        return d.nonzero(shape, dtype)
    x = d.array(shape, domain, dtype)
    return np.round(x) if domain == "small" else x  # ties, for comparisons


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_broadcasting(name, dtype, data):
    d = Draw(data, dtype)
    (sx, sy), (dx, dy) = d.broadcastable(2), BINARY[name]
    x, y = binary_operand(d, sx, dx), binary_operand(d, sy, dy)
    check(lambda m, x, y: getattr(m, name)(x, y), x, y)


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_promotion(name, data):
    """Mixed float32/float64, integer arrays, and Python and NumPy scalars (NEP 50)."""
    d = Draw(data, np.float32)
    dx, dy = BINARY[name]
    shape = d.shape(max_dims=2)
    x32, y32 = binary_operand(d, shape, dx, np.float32), binary_operand(d, shape, dy, np.float32)
    y64 = binary_operand(d, shape, dy, np.float64)
    i32, j32 = d.ints(shape, 1, 5, np.int32), d.ints(shape, 1, 3, np.int32)
    sx, sy = 2.0, (2.0 if dy != "nonzero" else -1.5)
    check(lambda m, x, y: getattr(m, name)(x, y), x32, y64)
    check(lambda m, x: getattr(m, name)(x, sy), x32)          # a Python float: stays float32
    check(lambda m, x: getattr(m, name)(x, 3), x32)           # a Python int too
    check(lambda m, y: getattr(m, name)(sx, y), y32)
    check(lambda m, x: getattr(m, name)(x, np.float64(sy)), x32)  # a NumPy scalar is strong
    check(lambda m, x, y: getattr(m, name)(x, y), i32, y32)   # int32 with float32: float64
    check(lambda m, x: getattr(m, name)(x, 2), i32)
    check(lambda m, x, y: getattr(m, name)(x, y), i32, j32)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**", "<", "<=", ">", ">=",
                                "==", "!="])
@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_operators_with_python_scalars_keep_dtype(op, dtype, data):
    x = Draw(data, dtype).array(domain="pos")
    binop = eval(f"lambda a, b: a {op} b")  # noqa: S307  (a fixed operator table)
    check(lambda m, x: binop(x, 2.0), x)
    check(lambda m, x: binop(2.0, x), x)
    check(lambda m, x: binop(x, 3), x)


def test_adding_zero_keeps_the_sign_of_zero_as_numpy_does():
    """-0.0 + 0 is +0.0: adding a zero is no identity for floats (but multiplying by one is)."""
    x = np.array([-0.0, 0.0, 1.0])
    check(lambda m, x: m.arctan2(x + 0, -1.0), x)
    check(lambda m, x: m.arctan2(0.0 + x, -1.0), x)
    check(lambda m, x: m.arctan2(x * 1, -1.0), x)
    check(lambda m, x: m.arctan2(x + -0.0, -1.0), x)


def test_nep50_examples():
    x32 = np.arange(3, dtype=np.float32)
    for f in (lambda x: x * 2.0, lambda x: fnp.multiply(x, 2.0), lambda x: 2.0 * fnp.exp(x),
              lambda x: fnp.sum(x) / 3, lambda x: fnp.mean(x) + 1.0):
        assert np.asarray(f(x32)).dtype == np.float32
        assert np.asarray(traced(f, (x32,))).dtype == np.float32
        assert fg.make_ir(f)(x32).program.outvars[0].aval.dtype == np.float32
    # a Python float alone is float64; with an int64 array too
    assert np.asarray(traced(lambda x: x * 2.0, (np.arange(3),))).dtype == np.float64


WEAK_CASES = {  # call(m, x_f32, s) with s a Python float argument, traced as a weak scalar
    "python arithmetic on s": lambda m, x, s: x * (s * 2 - 1) / -s + s ** 2,
    "where of two python floats": lambda m, x, s: x * m.where(x > 0, 1.0, 0.0),
    "where of s": lambda m, x, s: x * m.where(x > 0, s, 0.0),
    "where on s alone": lambda m, x, s: x * m.where(s > 0, s, 0.0),
    "broadcast s": lambda m, x, s: x * m.broadcast_to(s, x.shape),
    "reshape s": lambda m, x, s: x * m.reshape(s, (1,)),
    "full of s": lambda m, x, s: x * m.full(x.shape, s),
    "stack of s": lambda m, x, s: m.stack([s, s]) * x[:2],
    "asarray of s": lambda m, x, s: x * m.asarray(s),
}


@pytest.mark.parametrize("name", sorted(WEAK_CASES))
def test_python_scalar_arguments_promote_as_numpy_does(name):
    """A Python number stays weak, in the program's types and when it runs; anything with a
    shape is an array, which NumPy promotes as strong (np.where(c, 1.0, 0.0) is float64)."""
    x = np.array([1.5, -2.0, 3.0], np.float32)
    check(WEAK_CASES[name], x, 0.5)


def test_fnp_function_of_a_python_scalar_argument_stays_weak_when_traced():
    """A deviation kept on purpose: NumPy makes np.sqrt(0.5) a (strong) np.float64, so
    x_f32 * fnp.sqrt(s) is float64 eagerly; traced, a function of weak values alone is weak,
    as Python arithmetic (and JAX) would have it, so the result stays float32."""
    x = np.ones(3, np.float32)
    f = lambda x, s: x * fnp.sqrt(s)  # noqa: E731
    assert f(x, 0.5).dtype == np.float64
    assert traced(f, (x, 0.5)).dtype == np.float32


@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_where(dtype, data):
    d = Draw(data, dtype)
    sc, sx, sy = d.broadcastable(3)
    c, x, y = d.array(sc) > 0, d.array(sx), d.array(sy)
    check(lambda m, c, x, y: m.where(c, x, y), c, x, y)
    check(lambda m, c, x: m.where(c, x, 0.0), c, x)
    check(lambda m, c, x: m.where(c, 1.0, x), c, x)
    check(lambda m, x, y: m.where(x > y, x, y), x, y)
    check(lambda m, x: m.where(x, 1, 2), x)  # a non-boolean condition means != 0


def test_where_mixed_dtypes():
    x32, x64, i = np.ones(3, np.float32), np.ones(3), np.arange(3)
    c = np.array([True, False, True])
    check(lambda m, c, a, b: m.where(c, a, b), c, x32, x64)
    check(lambda m, c, a, b: m.where(c, a, b), c, i, x32)
    check(lambda m, c, a: m.where(c, a, 2), c, i)
    check(lambda m, c: m.where(c, 1.0, 2), c)


# ---------------------------------------------------------------------------------------
# Reductions


def axis_choices(ndim):
    """None, each axis (negative too), and tuples of axes."""
    if ndim == 0:
        return st.sampled_from([None, ()])
    return st.one_of(
        st.none(), st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple),
        st.lists(st.integers(-ndim, -1), unique=True, min_size=1, max_size=ndim).map(tuple))


REDUCTIONS = ["sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "all", "any"]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", REDUCTIONS)
@SETTINGS
@given(data=st.data())
def test_reductions(name, dtype, data):
    d = Draw(data, dtype)
    x = d.array(d.shape(0, 3), "small" if name in ("prod", "all", "any") else "real")
    if name in ("all", "any"):
        x = np.round(x)
    axis, keepdims = d(axis_choices(x.ndim)), d(st.booleans())
    rtol = 1e-4 if dtype == np.float32 else 1e-11
    check(lambda m, x: getattr(m, name)(x, axis=axis, keepdims=keepdims), x, rtol=rtol)
    check(lambda m, x: getattr(m, name)(x), x, rtol=rtol)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std", "all",
                                  "any", "argmax", "argmin", "cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64])
def test_reductions_of_integers_and_booleans(name, dtype):
    x = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    check(lambda m, x: getattr(m, name)(x), x)
    check(lambda m, x: getattr(m, name)(x, axis=0), x)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "cumsum", "cumprod"])
def test_reductions_with_dtype(name):
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    check(lambda m, x: getattr(m, name)(x, dtype=np.float64), x)
    check(lambda m, x: getattr(m, name)(x, axis=1, dtype=np.float64), x)


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_ddof(ddof):
    x = np.arange(12.0).reshape(3, 4) ** 1.5
    for name in ("var", "std"):
        check(lambda m, x: getattr(m, name)(x, ddof=ddof), x)
        check(lambda m, x: getattr(m, name)(x, axis=(0,), ddof=ddof, keepdims=True), x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@SETTINGS
@given(data=st.data())
def test_arg_reductions(name, dtype, data):
    d = Draw(data, dtype)
    x = np.round(d.array(d.shape(1, 3), "small"))  # ties: the first one wins
    axis, keepdims = d(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1))), d(st.booleans())
    check(lambda m, x: getattr(m, name)(x, axis=axis, keepdims=keepdims), x)
    check(lambda m, x: getattr(m, name)(x, axis=axis), x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@SETTINGS
@given(data=st.data())
def test_cumulative(name, dtype, data):
    d = Draw(data, dtype)
    x = d.array(d.shape(0, 3), "small")
    axis = d(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    check(lambda m, x: getattr(m, name)(x, axis=axis), x,
          rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_reductions_as_methods():
    x = np.arange(24.0).reshape(2, 3, 4) - 5
    for name in ("sum", "mean", "max", "min", "prod", "var", "std", "all", "any"):
        check(lambda m, x: getattr(x, name)(axis=1), x)
        check(lambda m, x: getattr(x, name)(axis=(0, 2), keepdims=True), x)
        check(lambda m, x: getattr(x, name)(), x)
    for name in ("argmax", "argmin", "cumsum", "cumprod"):
        check(lambda m, x: getattr(x, name)(axis=1), x)
        check(lambda m, x: getattr(x, name)(), x)


def test_max_of_empty_axis_is_an_error():
    with pytest.raises(ValueError):
        fnp.max(np.zeros((0, 3)), axis=0)
    with pytest.raises(ValueError):
        fg.make_ir(lambda x: fnp.max(x, axis=0))(np.zeros((0, 3)))


# ---------------------------------------------------------------------------------------
# Linear algebra


@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_matmul_all_ranks(dtype, data):
    d = Draw(data, dtype)
    sa, sb = d(hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=4,
                                                 max_side=4)).input_shapes
    a, b = d.array(sa), d.array(sb)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    check(lambda m, a, b: m.matmul(a, b), a, b, rtol=rtol)
    check(lambda m, a, b: a @ b, a, b, rtol=rtol)


DOT_SHAPES = [((), ()), ((3,), ()), ((), (2, 3)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
              ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (4, 3, 2)),
              ((2, 2, 3), (2, 3, 4))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa, sb", DOT_SHAPES, ids=str)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_dot(sa, sb, dtype, data):
    d = Draw(data, dtype)
    a, b = d.array(sa), d.array(sb)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    check(lambda m, a, b: m.dot(a, b), a, b, rtol=rtol)
    if a.ndim and b.ndim:
        check(lambda m, a, b: a.dot(b), a, b, rtol=rtol)


@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_vdot_inner_outer(dtype, data):
    d = Draw(data, dtype)
    shape = d.shape(1, 3)
    a, b = d.array(shape), d.array(shape)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    check(lambda m, a, b: m.vdot(a, b), a, b, rtol=rtol)
    check(lambda m, a, b: m.outer(a, b), a, b, rtol=rtol)
    c = d.array(d.shape(0, 2) + shape[-1:])
    check(lambda m, a, c: m.inner(a, c), a, c, rtol=rtol)
    check(lambda m, a: m.inner(a, 2.0), a, rtol=rtol)


TENSORDOT_CASES = [((3, 4), (4, 5), 1), ((2, 3, 4), (3, 4, 5), 2), ((3,), (3,), 1),
                   ((2, 3), (4, 5), 0), ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])),
                   ((2, 3, 4), (5, 2), ([0], [1])), ((3, 4), (4, 3), ((0, 1), (1, 0))),
                   ((2, 3), (3, 2), (-1, 0))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa, sb, axes", TENSORDOT_CASES, ids=str)
def test_tensordot(sa, sb, axes, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa).astype(dtype), rng.normal(size=sb).astype(dtype)
    check(lambda m, a, b: m.tensordot(a, b, axes), a, b,
          rtol=1e-5 if dtype == np.float32 else 1e-12)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij,ij->", [(2, 3)] * 2),
    ("ij,ij->ij", [(2, 3)] * 2), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ii->", [(3, 3)]),
    ("ij->ji", [(2, 3)]), ("ba", [(2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]), ("i,i", [(3,), (3,)]), ("i,i->i", [(3,), (3,)]),
    ("ij,j->i", [(2, 3), (3,)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 4)]), ("...ij,jk", [(5, 2, 3), (3, 4)]),
    ("i...->...", [(2, 3, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ijk,kji->", [(2, 3, 4), (4, 3, 2)]), ("iij->j", [(3, 3, 2)]), ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("abc,cd->abd", [(2, 3, 4), (4, 5)]), ("i,i,i->", [(3,)] * 3), ("ijj->ij", [(2, 3, 3)]),
    ("bi,bi->b", [(4, 3)] * 2), ("i->", [(4,)]), ("ab,cd->abcd", [(2, 3), (1, 2)]),
    (" ij , jk -> ik ", [(2, 3), (3, 4)]), ("ij,->ij", [(2, 3), ()]),
    ("...A,A->...", [(2, 3), (3,)]), ("A...,B...->AB...", [(2, 4), (3, 4)]),  # own capitals
    ("...ij,...jk", [(1, 2, 3), (5, 3, 4)]), ("ij,ij->ij", [(1, 3), (2, 3)]),  # size 1
    ("ij,jk", [(2, 1), (3, 4)]), ("...i,...i", [(3,), (2, 3)]),               # broadcasts
    # NumPy refuses these; funcgrad must too
    ("ij->k", [(2, 3)]), ("ij,jk->ik", [(2, 3), (4, 5)]), ("ijk", [(2, 3)]),
    ("ij->ii", [(2, 2)]), ("ij,jk", [(2, 3)]), ("i->i->i", [(2,)]), ("i.j", [(2, 2)]),
    ("...ij,...jk", [(2, 2, 3), (5, 3, 4)]),
    ("ii", [(1, 3)]), ("iij->j", [(1, 2, 2)]), ("ii->i", [(3, 1)]),  # a diagonal of sizes 1, n
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("subscripts, shapes_", EINSUM_CASES, ids=str)
def test_einsum(subscripts, shapes_, dtype):
    rng = np.random.default_rng(1)
    ops = [rng.normal(size=s).astype(dtype) for s in shapes_]
    check(lambda m, *ops: m.einsum(subscripts, *ops), *ops,
          rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_einsum_sums_booleans_with_logical_or():
    """NumPy's einsum of booleans alone is boolean (a sum is a logical or, as in dot); a
    single operand's summed label counted instead: einsum("ii", a) was 2. Mixed with
    integers, booleans count."""
    a, v = np.array([[True, False], [True, True]]), np.array([2, 3])
    for subscripts, ops in [("ii", (a,)), ("ij->", (a,)), ("ij->i", (a,)),
                            ("iij->j", (a[:, :, None] | a,)), ("ij,jk->", (a, a)),
                            ("ij,k->k", (a, v)), ("ij,j->", (a, v))]:
        check(lambda m, *ops: m.einsum(subscripts, *ops), *ops)  # noqa: B023


@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_matrix_helpers(dtype, data):
    d = Draw(data, dtype)
    x = d.array(d.shape(2, 2))
    k = d(st.integers(-3, 3))
    check(lambda m, x: m.trace(x), x, rtol=1e-5 if dtype == np.float32 else 1e-12)
    check(lambda m, x: m.trace(x, k), x, rtol=1e-5 if dtype == np.float32 else 1e-12)
    check(lambda m, x: m.diag(x, k), x)
    check(lambda m, x: m.diagonal(x, k), x)
    check(lambda m, x: m.tril(x, k), x)
    check(lambda m, x: m.triu(x, k), x)
    v = d.array(d.shape(1, 1))
    check(lambda m, v: m.diag(v), v)
    check(lambda m, v: m.diag(v, k), v)
    t = d.array(d.shape(3, 3))
    check(lambda m, t: m.diagonal(t, k, 2, 0), t)
    check(lambda m, t: m.diagonal(t, 0, -1, -2), t)
    check(lambda m, t: m.trace(t, 0, 1, 2), t, rtol=1e-5 if dtype == np.float32 else 1e-12)
    check(lambda m, t: m.tril(t, k), t)
    check(lambda m, t: m.triu(t, k), t)


# ---------------------------------------------------------------------------------------
# Shape functions: each case draws its arrays and static arguments, then calls m.<name>

SHAPE_CASES = {}


def shape_case(fn):
    SHAPE_CASES[fn.__name__] = fn
    return fn


@shape_case
def reshape(d):
    x = d.array(d.shape(0, 3))
    target = list(d(st.permutations(x.shape)))
    if target and d(st.booleans()):
        target[d(st.integers(0, len(target) - 1))] = -1
    order = d(st.sampled_from("CF"))
    return (lambda m, x: m.reshape(x, tuple(target), order=order)), x


@shape_case
def reshape_method(d):
    x = d.array(d.shape(1, 3))
    target = d(st.permutations(x.shape))
    return (lambda m, x: x.reshape(*target)), x


@shape_case
def ravel(d):
    x = d.array()
    order = d(st.sampled_from("CF"))
    return (lambda m, x: m.ravel(x, order)), x


@shape_case
def transpose(d):
    x = d.array()
    perm = d(st.permutations(range(x.ndim)))
    return (lambda m, x: m.transpose(x, perm) if perm else m.transpose(x)), x


@shape_case
def transpose_method_and_T(d):
    x = d.array()
    perm = tuple(d(st.permutations(range(x.ndim))))
    return (lambda m, x: (x.T, x.transpose(), x.transpose(perm), x.transpose(*perm))), x


@shape_case
def swapaxes(d):
    x = d.array(d.shape(1, 3))
    a, b = d.axis(x.ndim), d.axis(x.ndim)
    return (lambda m, x: (m.swapaxes(x, a, b), x.swapaxes(a, b))), x


@shape_case
def moveaxis(d):
    x = d.array(d.shape(1, 4))
    n = d(st.integers(1, x.ndim))
    src = d(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=n, max_size=n,
                     unique_by=lambda a: a % x.ndim))
    dst = d(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=n, max_size=n,
                     unique_by=lambda a: a % x.ndim))
    if n == 1 and d(st.booleans()):
        src, dst = src[0], dst[0]
    return (lambda m, x: m.moveaxis(x, src, dst)), x


@shape_case
def expand_dims(d):
    x = d.array()
    n = d(st.integers(1, 2))
    out_ndim = x.ndim + n
    axes = d(st.lists(st.integers(-out_ndim, out_ndim - 1), min_size=n, max_size=n,
                      unique_by=lambda a: a % out_ndim))
    axis = axes[0] if n == 1 else tuple(axes)
    return (lambda m, x: m.expand_dims(x, axis)), x


@shape_case
def squeeze(d):
    x = d.array(d.shape(0, 4, max_side=2))
    ones = [i for i, s in enumerate(x.shape) if s == 1]
    axis = d(st.none() | st.lists(st.sampled_from(ones), unique=True).map(tuple)) \
        if ones else None
    return (lambda m, x: (m.squeeze(x, axis), x.squeeze(axis), x.squeeze())), x


@shape_case
def broadcast_to(d):
    target, source = d.broadcastable(2)
    target = np.broadcast_shapes(target, source)
    x = d.array(source)
    return (lambda m, x: m.broadcast_to(x, target)), x


@shape_case
def concatenate(d):
    base = d.shape(1, 3)
    axis = d.axis(len(base))
    arrays = []
    for _ in range(d(st.integers(1, 3))):
        shape = list(base)
        shape[axis] = d(st.integers(0, 3))
        arrays.append(d.array(tuple(shape)))
    return (lambda m, *xs: m.concatenate(xs, axis)), *arrays


@shape_case
def concatenate_flat(d):
    return (lambda m, x, y: m.concatenate([x, y], axis=None)), d.array(), d.array()


@shape_case
def stack(d):
    shape = d.shape()
    axis = d.axis(len(shape) + 1)
    arrays = [d.array(shape) for _ in range(d(st.integers(1, 3)))]
    return (lambda m, *xs: m.stack(xs, axis=axis)), *arrays


@shape_case
def hstack_vstack(d):
    shape = d.shape(0, 3)
    x, y = d.array(shape), d.array(shape)
    return (lambda m, x, y: (m.hstack([x, y]), m.vstack((x, y)))), x, y


@shape_case
def split(d):
    shape = list(d.shape(1, 3))
    axis = d.axis(len(shape))
    sections = d(st.integers(1, 3))
    if d(st.booleans()):
        shape[axis] *= sections
        how = sections
    else:
        how = sorted(d(st.lists(st.integers(0, shape[axis] + 1), max_size=3)))
    x = d.array(tuple(shape))
    return (lambda m, x: m.split(x, how, axis=axis)), x


@shape_case
def tile(d):
    x = d.array()
    reps = d(st.integers(1, 3) | st.lists(st.integers(1, 3), max_size=4).map(tuple))
    return (lambda m, x: m.tile(x, reps)), x


@shape_case
def repeat(d):
    x = d.array()
    axis = d(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    n = x.size if axis is None else x.shape[axis]
    repeats = d(st.integers(-1, 3) | st.lists(st.integers(0, 3), min_size=n, max_size=n)
                | st.just([1, 2]))  # negative and miscounted: errors, as in NumPy
    return (lambda m, x: m.repeat(x, repeats, axis=axis)), x


@shape_case
def flip(d):
    x = d.array()
    axis = d(axis_choices(x.ndim)) if x.ndim else None
    return (lambda m, x: m.flip(x, axis)), x


@shape_case
def fliplr_flipud(d):
    x = d.array(d.shape(2, 3))
    return (lambda m, x: (m.fliplr(x), m.flipud(x))), x


@shape_case
def roll(d):
    x = d.array(d.shape(0, 3))
    shift = d(st.integers(-5, 5))
    if x.ndim and d(st.booleans()):
        axis = d.axis(x.ndim)
        if d(st.booleans()):
            axis, shift = (axis, (axis + 1) % x.ndim - x.ndim), (shift, -2)
    else:
        axis = None
    return (lambda m, x: m.roll(x, shift, axis)), x


@shape_case
def pad(d):
    x = d.array(d.shape(1, 3))
    widths = d(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=x.ndim,
                        max_size=x.ndim))
    width = d(st.sampled_from([widths, widths[0], widths[0][0]]))
    mode = d(st.sampled_from(["constant", "edge", "wrap"]))
    if mode == "constant" and d(st.booleans()):
        return (lambda m, x: m.pad(x, width, constant_values=1.5)), x
    return (lambda m, x: m.pad(x, width, mode=mode)), x


@shape_case
def pad_reflect(d):
    x = d.array(d.shape(1, 2, min_side=3))
    width = d(st.integers(0, 2))
    mode = d(st.sampled_from(["reflect", "symmetric"]))
    return (lambda m, x: m.pad(x, width, mode=mode)), x


@shape_case
def take(d):
    x = d.array(d.shape(1, 3, min_side=1))
    axis = d(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    idx = d.ints(d.shape(0, 2), -n, n - 1)
    if d(st.booleans()):  # a traced index array
        return (lambda m, x, i: m.take(x, i, axis=axis)), x, idx
    return (lambda m, x: m.take(x, idx, axis=axis)), x


@shape_case
def take_along_axis(d):
    x = d.array(d.shape(1, 3, min_side=1))
    axis = d.axis(x.ndim)
    shape = list(x.shape)
    shape[axis] = d(st.integers(1, 4))
    idx = d.ints(tuple(shape), -x.shape[axis], x.shape[axis] - 1)
    if d(st.booleans()):
        return (lambda m, x, i: m.take_along_axis(x, i, axis)), x, idx
    idx = np.argsort(x, axis=axis)
    return (lambda m, x: m.take_along_axis(x, idx, axis)), x


@shape_case
def shape_ndim_size(d):
    x = d.array()
    return (lambda m, x: m.ones(m.shape(x)) * m.ndim(x) + m.size(x)), x


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
@SETTINGS
@given(data=st.data())
def test_shape_functions(name, dtype, data):
    call, *args = SHAPE_CASES[name](Draw(data, dtype))
    check(call, *args)


# ---------------------------------------------------------------------------------------
# Creation, constants and dtypes


CREATION = {  # name: call(m, x), run eagerly, traced (where x is a tracer), and in NumPy
    "zeros": lambda m, x: m.zeros(x.shape) + x,
    "zeros_f32": lambda m, x: m.zeros((2, 3), dtype=m.float32),
    "ones": lambda m, x: m.ones(x.shape, x.dtype) * x,
    "ones_int": lambda m, x: m.ones(3, dtype=m.int32),
    "full": lambda m, x: m.full(x.shape, 2.5) - x,
    "full_int": lambda m, x: m.full((2, 2), 7),
    "full_dtype": lambda m, x: m.full((2,), 1.5, m.float32),
    "full_tracer": lambda m, x: m.full((2, 3), m.sum(x)),
    "zeros_like": lambda m, x: (m.zeros_like(x), m.zeros_like(x, None, "C", True, (2, 1))),
    "layout args": lambda m, x: (m.zeros((2,), None, "F"), m.ones(3, m.int32, "C"),
                                 m.full((1,), 2.0, None, "C"), m.eye(2, None, 0, None, "F"),
                                 m.ones_like(x, m.float32, "K"), m.full_like(x, 2, None, "C")),
    "take positional": lambda m, x: m.take(x, [0, -1], None, None, "raise"),
    "ones_like": lambda m, x: m.ones_like(x, dtype=m.int64),
    "full_like": lambda m, x: m.full_like(x, 3.0),
    "full_like_int": lambda m, x: m.full_like(x, 3, dtype=m.int32),
    "like_a_list": lambda m, x: (m.zeros_like([1, 2]), m.ones_like([[1.5], [2.0]]),
                                 m.full_like([m.sum(x), m.sum(x)], 3), m.empty_like((True,)).shape),
    "arange": lambda m, x: m.arange(5) * m.sum(x),
    "arange_args": lambda m, x: (m.arange(1, 7, 2), m.arange(2.0, 3.0, 0.25),
                                 m.arange(4, dtype=m.float32)),
    "linspace": lambda m, x: m.linspace(0.0, 1.0, 5) + m.mean(x),
    "linspace_args": lambda m, x: (m.linspace(-1, 1, 4, endpoint=False),
                                   m.linspace(0, 1, 3, dtype=m.float32)),
    "eye": lambda m, x: (m.eye(3), m.eye(2, 4, 1), m.eye(4, 2, -1, dtype=m.int32),
                         m.eye(3, dtype=x.dtype) * x[..., None, None]),
    "array": lambda m, x: m.array([[1.0, 2.0], [3.0, 4.0]]) * m.sum(x),
    "array_of_tracers": lambda m, x: m.array([m.sum(x), m.max(x), 1.0]),
    "array_nested": lambda m, x: m.array([[m.sum(x), 2.0], [3.0, m.min(x)]]),
    "array_dtype": lambda m, x: m.array([1, 2], dtype=m.float32),
    "asarray": lambda m, x: (m.asarray(x), m.asarray([1, 2]), m.asarray(x, dtype=m.float32)),
    "asarray_list": lambda m, x: m.asarray([m.sum(x), m.max(x)]),
    "astype": lambda m, x: (x.astype(m.float32), x.astype(m.int32), x.astype(m.bool_),
                            x.astype(m.float64), m.astype(x, m.float32)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(CREATION))
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_creation(name, dtype, data):
    check(CREATION[name], Draw(data, dtype).array())


def test_constants_and_dtypes():
    for name in ("pi", "e", "inf", "nan", "newaxis"):
        assert getattr(fnp, name) is getattr(np, name) or (
            name == "nan" and np.isnan(fnp.nan)), name
    for name in ("float32", "float64", "int32", "int64", "bool_"):  # callable on tracers too
        assert getattr(fnp, name) == getattr(np, name), name
    x = np.arange(3.0)
    check(lambda m, x: (x[m.newaxis], x[:, m.newaxis], x * m.pi + m.e), x)
    check(lambda m, x: m.where(x > 1, m.inf, -m.inf), x)
    check(lambda m, x: m.isnan(x * m.nan), x)
    for dt in ("float32", "float64", "int32", "int64", "bool_"):
        check(lambda m, x: (m.zeros(2, getattr(m, dt)), x.astype(getattr(m, dt)),
                            m.asarray(x, getattr(m, dt))), x)


# ---------------------------------------------------------------------------------------
# funcgrad.nn and funcgrad.scipy.special against NumPy formulas


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.asarray(x).dtype])(x)


def _np_logsumexp(x, axis=None, keepdims=False):
    x64 = x.astype(np.float64)
    if (x64.size if axis is None else x64.shape[axis]) == 0:  # -inf, as SciPy's
        out = np.full(np.sum(x64, axis=axis, keepdims=True).shape, -np.inf)
    else:
        out = _np_shifted_logsumexp(x64, axis)
    return (out if keepdims else np.squeeze(out, axis)).astype(x.dtype)


def _np_shifted_logsumexp(x64, axis):
    m = np.max(x64, axis=axis, keepdims=True)  # (refuses an empty axis)
    return np.log(np.sum(np.exp(x64 - m), axis=axis, keepdims=True)) + m


def _np_log_softmax(x, axis=-1):
    if x.shape[axis] == 0:  # an empty axis gives an empty result, as JAX's
        return x.copy()
    x64 = x.astype(np.float64)
    return (x64 - _np_shifted_logsumexp(x64, axis)).astype(x.dtype)


def _np_softplus(x):
    return np.logaddexp(0, x.astype(np.float64)).astype(x.dtype)


def _np_sigmoid(x):
    x64 = x.astype(np.float64)
    return (np.exp(-np.logaddexp(0, -x64))).astype(x.dtype)


NN = {  # name: (funcgrad function, NumPy reference), both of x
    "relu": (fg.nn.relu, lambda x: np.maximum(x, 0)),
    "sigmoid": (fg.nn.sigmoid, _np_sigmoid),
    "softplus": (fg.nn.softplus, _np_softplus),
    "log_sigmoid": (fg.nn.log_sigmoid, lambda x: -_np_softplus(-x)),
    "softmax": (fg.nn.softmax, lambda x: np.exp(_np_log_softmax(x.astype(np.float64))).astype(
        x.dtype)),
    "softmax_axis0": (lambda x: fg.nn.softmax(x, axis=0), lambda x: np.exp(
        _np_log_softmax(x.astype(np.float64), 0)).astype(x.dtype)),
    "log_softmax": (fg.nn.log_softmax, _np_log_softmax),
    "log_softmax_axis0": (lambda x: fg.nn.log_softmax(x, axis=0),
                          lambda x: _np_log_softmax(x, 0)),
    "logsumexp": (fg.nn.logsumexp, _np_logsumexp),
    "logsumexp_axis": (lambda x: fg.nn.logsumexp(x, axis=-1, keepdims=True),
                       lambda x: _np_logsumexp(x, -1, True)),
    "gelu": (fg.nn.gelu, lambda x: (0.5 * x.astype(np.float64) * (1 + np.tanh(
        math.sqrt(2 / math.pi) * (x + 0.044715 * x.astype(np.float64) ** 3)))).astype(x.dtype)),
    "gelu_exact": (lambda x: fg.nn.gelu(x, approximate=False),
                   lambda x: (0.5 * x * (1 + _erf(x.astype(np.float64) / math.sqrt(2))))
                   .astype(x.dtype)),
    "silu": (fg.nn.silu, lambda x: (x * _np_sigmoid(x.astype(np.float64))).astype(x.dtype)),
    "expit": (fsp.expit, _np_sigmoid),
    "logit": (lambda p: fsp.logit(fnp.clip(p, 0.01, 0.99)),
              lambda p: np.log(np.clip(p, 0.01, 0.99) / (1 - np.clip(p, 0.01, 0.99)))),
    "erf": (fsp.erf, lambda x: _erf(x.astype(np.float64)).astype(x.dtype)),
    "special_logsumexp": (lambda x: fsp.logsumexp(x, axis=0), lambda x: _np_logsumexp(x, 0)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(NN))
@SETTINGS
@given(data=st.data())
def test_nn_and_special(name, dtype, data):
    d = Draw(data, dtype)
    fn, reference = NN[name]
    x = d.array(d.shape(1, 3), "unit" if name == "logit" else "real")
    if name == "logit":
        x = (x + 1) / 2
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    check(lambda m, x: fn(x), x, reference=reference, rtol=rtol)


@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
@np.errstate(divide="ignore", invalid="ignore")  # log(0) where x != 0: -inf
def test_xlogy(dtype, data):
    d = Draw(data, dtype)
    sx, sy = d.broadcastable(2)
    x = np.round(d.array(sx, "small"))  # zeros among them
    y = d.array(sy, "pos") * d(hnp.arrays(dtype, sy, elements=st.sampled_from([0, 1])))

    def reference(x, y):
        return np.where(x == 0, 0, x * np.log(y)).astype(np.result_type(x, y))
    check(lambda m, x, y: fsp.xlogy(x, y), x, y, reference=reference)


@pytest.mark.parametrize("dtype", FLOATS)
@SETTINGS
@given(data=st.data())
def test_one_hot(dtype, data):
    d = Draw(data, dtype)
    n = d(st.integers(1, 5))
    labels = d.ints(d.shape(0, 2), 0, n - 1)
    reference = lambda x: (x[..., None] == np.arange(n)).astype(dtype)  # noqa: E731
    check(lambda m, x: fg.nn.one_hot(x, n, dtype=dtype), labels, reference=reference)
    check(lambda m, x: fg.nn.one_hot(x, n, dtype=dtype, axis=0), labels,
          reference=lambda x: np.moveaxis(reference(x), -1, 0))


STABLE = {  # name: (function, value at x, for x = -1e4, 0, 1e4)
    "softplus": (fg.nn.softplus, [0.0, math.log(2), 1e4]),
    "log_sigmoid": (fg.nn.log_sigmoid, [-1e4, -math.log(2), 0.0]),
    "sigmoid": (fg.nn.sigmoid, [0.0, 0.5, 1.0]),
    "expit": (fsp.expit, [0.0, 0.5, 1.0]),
    "silu": (fg.nn.silu, [-0.0, 0.0, 1e4]),
    "log_softmax": (lambda x: fg.nn.log_softmax(fnp.stack([x, fnp.zeros_like(x)], -1))[..., 0],
                    [-1e4, -math.log(2), 0.0]),
    "softmax": (lambda x: fg.nn.softmax(fnp.stack([x, fnp.zeros_like(x)], -1))[..., 0],
                [0.0, 0.5, 1.0]),
    "logsumexp": (lambda x: fg.nn.logsumexp(fnp.stack([x, x], -1), axis=-1),
                  [-1e4 + math.log(2), math.log(2), 1e4 + math.log(2)]),
    "special_logsumexp": (lambda x: fsp.logsumexp(fnp.stack([x, x]), axis=0),
                          [-1e4 + math.log(2), math.log(2), 1e4 + math.log(2)]),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(STABLE))
def test_stable_at_large_inputs(name, dtype):
    fn, expected = STABLE[name]
    x = np.array([-1e4, 0.0, 1e4], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # not even in between
        for out in (fn(x), traced(fn, (x,))):
            assert out.dtype == dtype
            assert np.all(np.isfinite(out)), out
            np.testing.assert_allclose(out, np.array(expected, dtype), rtol=1e-6, atol=1e-6)


def test_logsumexp_of_all_minus_inf_rows():
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    for fn in (lambda x: fg.nn.logsumexp(x, axis=1), lambda x: fsp.logsumexp(x, axis=1)):
        with np.errstate(divide="ignore"):
            np.testing.assert_array_equal(fn(x), [-np.inf, 0.0])
            np.testing.assert_array_equal(traced(fn, (x,)), [-np.inf, 0.0])


# ---------------------------------------------------------------------------------------
# evaluate(make_ir(f)) == f on random compositions of ops

UNARY_MENU = [  # each total on any finite input, so compositions stay finite
    fnp.sin, fnp.cos, fnp.tanh, fnp.arctan, fnp.negative, fnp.abs, fnp.square, fnp.sign,
    fnp.floor, fg.nn.sigmoid, fg.nn.relu, fg.nn.softplus,
    lambda x: fnp.exp(-fnp.abs(x)), lambda x: fnp.log1p(fnp.abs(x)),
    lambda x: fnp.sqrt(fnp.abs(x) + 1.0), lambda x: fnp.clip(x, -1.0, 1.0), lambda x: x * 2.0,
    lambda x: 1.5 - x, lambda x: x ** 2, lambda x: fnp.where(x > 0, x, 0.5 * x),
]
BINARY_MENU = [fnp.add, fnp.subtract, fnp.multiply, fnp.maximum, fnp.minimum, fnp.arctan2,
               fnp.hypot, fnp.logaddexp, lambda x, y: x / (1.0 + y * y),
               lambda x, y: fnp.where(x < y, x, y - 1.0)]
REDUCE_MENU = [fnp.sum, fnp.mean, fnp.max, fnp.min, fg.nn.logsumexp,
               lambda x, axis, keepdims: fnp.var(x, axis=axis, keepdims=keepdims),
               lambda x, axis, keepdims: fnp.cumsum(x, axis=axis if type(axis) is int else None)]


def shape_menu(x):
    """The shape ops that apply to ``x``."""
    ops = [fnp.transpose, fnp.ravel, fnp.flip, fnp.squeeze, lambda x: fnp.expand_dims(x, 0),
           lambda x: x[None], lambda x: fnp.reshape(x, (-1,)), lambda x: fnp.tile(x, 2),
           lambda x: fnp.roll(x, 1)]
    if x.ndim:
        ops += [lambda x: fnp.concatenate([x, x]), lambda x: x[::-1],
                lambda x: x[..., ::2], lambda x: x[np.array([0, -1, 0])]]
    if x.ndim and x.shape[-1] > 1:
        ops += [lambda x: x[..., 1:]]
    if x.ndim >= 2:
        ops += [lambda x: x @ fnp.swapaxes(x, -1, -2), lambda x: fnp.swapaxes(x, 0, -1),
                lambda x: x[:, 0], lambda x: fnp.stack([x, x], axis=1), lambda x: x.T]
    return ops


def random_function(data, arity):
    """A random expression tree over ``arity`` inputs, as a Python function. Its choices are
    drawn now, so that the function does the same thing each time it is called."""
    steps = [(data.draw(st.sampled_from(["unary", "binary", "reduce", "shape"])),
              data.draw(st.integers(0, 2**16))) for _ in range(data.draw(st.integers(1, 8)))]

    def f(*xs):
        x = xs[0]
        for kind, choice in steps:
            if kind == "unary":
                x = UNARY_MENU[choice % len(UNARY_MENU)](x)
            elif kind == "binary":
                other = xs[choice % arity]
                if not _broadcastable(x, other):
                    other = fnp.mean(other)
                x = BINARY_MENU[choice % len(BINARY_MENU)](x, other)
            elif kind == "reduce":
                axis = None if x.ndim == 0 or choice % 3 == 0 else choice % x.ndim
                x = REDUCE_MENU[choice % len(REDUCE_MENU)](x, axis=axis,
                                                         keepdims=bool(choice & 8))
            else:
                ops = shape_menu(x)
                x = ops[choice % len(ops)](x)
        return x
    return f


def _broadcastable(x, y):
    try:
        np.broadcast_shapes(fnp.shape(x), fnp.shape(y))
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("dtype", FLOATS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_compositions_evaluate_like_the_function(dtype, data):
    d = Draw(data, dtype)
    arity = d(st.integers(1, 3))
    inputs = [d.array(s, "small") for s in d.broadcastable(arity)]
    f = random_function(data, arity)
    with np.errstate(all="ignore"):
        expected = f(*inputs)
    assert not isinstance(expected, Tracer)
    closed = fg.make_ir(f)(*inputs)
    validate(closed.program)
    with np.errstate(all="ignore"):
        got = fg.evaluate(closed.program, [*closed.consts, *inputs])
    assert len(got) == 1
    assert_like(got[0], expected, "evaluate(make_ir(f))", rtol=0)  # the same NumPy calls
