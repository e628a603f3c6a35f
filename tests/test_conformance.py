"""The conformance suite: every primitive, every rule table, driven by one table of cases.

CASES maps each differentiable primitive of the registry to a strategy drawing a function
that uses it and arguments for that function (shapes with broadcasting, values inside the
function's domain); VALUE_CASES does the same for primitives whose derivative is zero
(comparisons, rounding, integer and boolean operations). ``test_every_primitive_has_a_case``
walks the registry, so a new primitive without a case here fails the suite.

Each case is checked, per table:
- VJP: against finite differences, in float64 to second order (the VJP of the VJP) and in
  float32 to first order with float32's looser tolerances;
- lowering: the compiled program (``jit``) against the NumPy implementation;
- JVP: against finite differences, and against the VJP by the transpose identity
  <vjp(u), v> == <u, jvp(v)> (skipped until forward mode exists);
- batching: ``vmap`` against a Python loop over the examples, over drawn batch sizes, mapped
  axes and output axes; and ``vmap`` of each VJP the same way.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.core.rules import REGISTRY
from funcgrad.rules import is_differentiable, vjp_rules, vjp_split_rules
from funcgrad.ops.random import binomial, poisson, random_order, threefry2x32
from funcgrad.numpy._indexing import scatter as at_update
from funcgrad.scipy import special
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.testing import check_grads
from funcgrad.testing import strategies as fst
from linalg_cases import LINALG_CASES, LINALG_VALUE_CASES

# FUNCGRAD_EXAMPLES=500 runs a thorough, randomized search instead of the quick fixed one.
_EXAMPLES = int(os.environ.get("FUNCGRAD_EXAMPLES", "0"))
SETTINGS = settings(max_examples=_EXAMPLES or 25, deadline=None, derandomize=not _EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _shape(draw, min_dims=0, max_dims=3):
    return draw(fst.shapes(min_dims=min_dims, max_dims=max_dims, max_side=3))


def _arr(draw, dtype, shape, domain=None):
    return draw(fst.in_domain(domain, dtype, shape))


# Piecewise-linear functions need no large step: in float32 the default one (3e-2, times
# |x| and the direction) would cross the kinks the cases keep 0.25 away.
PIECEWISE = dict(eps32=1e-3)


def _distinct(draw, dtype, shape, spacing=0.5):
    """Values on a grid of ``spacing``, all different: no ties within a finite-difference step."""
    n = int(np.prod(shape, dtype=np.int64))
    picks = draw(st.lists(st.integers(-30, 30), min_size=n, max_size=n, unique=True))
    return (np.array(picks, np.float64) * spacing).reshape(shape).astype(dtype)


# --- elementwise --------------------------------------------------------------------------

def unary(name, fn=None):
    fn = fn or getattr(fnp, name)

    @st.composite
    def case(draw, dtype):
        return fn, (_arr(draw, dtype, _shape(draw), name),)
    return case


def binary(fn, x_domain=None, y_domain=None):
    @st.composite
    def case(draw, dtype):
        shapes = draw(fst.mutually_broadcastable_shapes(2, max_side=3))
        x_shape, y_shape = shapes.input_shapes
        return fn, (_arr(draw, dtype, x_shape, x_domain), _arr(draw, dtype, y_shape, y_domain))
    return case


@st.composite
def max_min_case(draw, dtype, fn):
    """Either distinct values, or exact ties (where the gradient splits 0.5/0.5, which is
    exactly the central difference there)."""
    shape = _shape(draw)
    x = _distinct(draw, dtype, shape)
    if draw(st.booleans()):  # the derivative jumps at a tie: no second order there
        return fn, (x, x.copy()), dict(order=1, **PIECEWISE)
    return fn, (x, _distinct(draw, dtype, shape) + 0.25), PIECEWISE


@st.composite
def mod_case(draw, dtype):
    """x mod y jumps where x / y crosses an integer: keep x / y a distance from them."""
    shape = _shape(draw)
    y = _arr(draw, dtype, shape, "log") + 1
    k = draw(st.lists(st.integers(-3, 3), min_size=int(np.prod(shape)),
                      max_size=int(np.prod(shape))))
    frac = draw(fst.arrays(np.float64, shape, elements=st.floats(0.2, 0.8)))
    x = (np.reshape(k, shape) + frac) * y
    return fnp.mod, (x.astype(dtype), y), PIECEWISE


@st.composite
def pow_case(draw, dtype):
    shapes = draw(fst.mutually_broadcastable_shapes(2, max_side=3))
    x = _arr(draw, dtype, shapes.input_shapes[0], "power")
    y = _arr(draw, dtype, shapes.input_shapes[1])
    return (lambda x, y: fnp.power(x, y)), (x, y)


@st.composite
def integer_pow_case(draw, dtype):
    n = draw(st.integers(-3, 4))
    x = _arr(draw, dtype, _shape(draw), "reciprocal" if n < 0 else None)
    return (lambda x: ew.integer_pow(x, n)), (x,)


@st.composite
def select_case(draw, dtype):
    shapes = draw(fst.mutually_broadcastable_shapes(3, max_side=3))
    c_shape, x_shape, y_shape = shapes.input_shapes
    cond = draw(fst.arrays(np.bool_, c_shape, elements=st.booleans()))
    return ((lambda x, y: fnp.where(cond, x, y)),
            (_arr(draw, dtype, x_shape), _arr(draw, dtype, y_shape)))


@st.composite
def convert_case(draw, dtype):
    other = np.float32 if dtype == np.float64 else np.float64
    return (lambda x: fnp.sin(fnp.asarray(x, other))), (_arr(draw, dtype, _shape(draw)),)


@st.composite
def arctan2_case(draw, dtype):
    """arctan2(y, x) jumps across y = 0 for x < 0: keep y off zero."""
    shapes = draw(fst.mutually_broadcastable_shapes(2, max_side=3))
    return fnp.arctan2, (_arr(draw, dtype, shapes.input_shapes[0], "divide"),
                         _arr(draw, dtype, shapes.input_shapes[1]))


# --- reductions -----------------------------------------------------------------------------

@st.composite
def _axes(draw, ndim):
    if draw(st.booleans()):
        return None
    return tuple(draw(st.sets(st.integers(0, ndim - 1), max_size=ndim))) if ndim else None


def reduction(name, distinct=False):
    fn = getattr(fnp, name)

    @st.composite
    def case(draw, dtype):
        shape = _shape(draw)
        axis, keepdims = draw(_axes(shape and len(shape))), draw(st.booleans())
        x = _distinct(draw, dtype, shape) if distinct else _arr(draw, dtype, shape)
        return (lambda x: fn(x, axis=axis, keepdims=keepdims)), (x,), PIECEWISE
    return case


@st.composite
def reduce_max_ties_case(draw, dtype):
    """Two-way ties at the max: the gradient splits equally, as central differences do."""
    n = draw(st.integers(2, 4))
    x = _distinct(draw, dtype, (n,))
    x[draw(st.integers(0, n - 1))] = x.max()
    return (lambda x: fnp.max(x)), (x,), dict(order=1, **PIECEWISE)  # a jump at the tie


def cumulative(fn_name):
    @st.composite
    def case(draw, dtype):
        shape = _shape(draw, min_dims=1)
        axis, reverse = draw(st.integers(0, len(shape) - 1)), draw(st.booleans())
        x = _arr(draw, dtype, shape)
        if fn_name == "cumprod" and draw(st.booleans()):  # the rule is exact at zeros
            x.reshape(-1)[draw(st.integers(0, x.size - 1))] = 0
        fn = getattr(red, fn_name)
        return (lambda x: fn(x, axis, reverse=reverse)), (x,)
    return case


@st.composite
def prod_case(draw, dtype):
    """Up to 9 factors near 1: a product's high derivatives grow with its size, and with them
    the truncation error of finite differences."""
    shape = _shape(draw, max_dims=2)
    axis = draw(_axes(len(shape)))
    x = draw(fst.arrays(dtype, shape, elements=fst.floats(dtype, -1.5, 1.5)))
    if x.size and draw(st.booleans()):  # exact at zeros, including two zeros
        for _ in range(draw(st.integers(1, 2))):
            x.reshape(-1)[draw(st.integers(0, x.size - 1))] = 0
    return (lambda x: fnp.prod(x, axis=axis)), (x,)


# --- structure ------------------------------------------------------------------------------

@st.composite
def broadcast_case(draw, dtype):
    shape = _shape(draw)
    target = draw(fst.broadcastable_shapes(shape, max_side=3)
                  .filter(lambda s: len(s) >= len(shape)))
    out = np.broadcast_shapes(shape, target)
    return (lambda x: fnp.broadcast_to(x, out)), (_arr(draw, dtype, shape),)


@st.composite
def reshape_case(draw, dtype):
    shape = _shape(draw)
    n = int(np.prod(shape))
    new = draw(st.sampled_from([(n,), (1, n), (n, 1), (-1,)] + ([(2, n // 2)] if n % 2 == 0
                                                                   else [])))
    return (lambda x: fnp.reshape(x, new)), (_arr(draw, dtype, shape),)


@st.composite
def transpose_case(draw, dtype):
    shape = _shape(draw)
    perm = draw(st.permutations(range(len(shape))))
    return (lambda x: fnp.transpose(x, perm)), (_arr(draw, dtype, shape),)


@st.composite
def slice_case(draw, dtype):
    shape = _shape(draw, min_dims=1)
    index = []
    for d in shape:
        start, stop = draw(st.integers(-d, d)), draw(st.integers(-d - 1, d))
        step = draw(st.sampled_from([1, 2, -1, -2, 3]))
        index.append(slice(start, stop, step))
    index = tuple(index)
    return (lambda x: x[index]), (_arr(draw, dtype, shape),)


@st.composite
def pad_case(draw, dtype):
    shape = _shape(draw, min_dims=1)
    lo = [draw(st.integers(0, 2)) for _ in shape]
    hi = [draw(st.integers(0, 2)) for _ in shape]
    interior = [draw(st.integers(0, 2)) for _ in shape]
    value = draw(st.sampled_from([0.0, 1.5]))
    return (lambda x: sh.pad(x, lo, hi, interior, value)), (_arr(draw, dtype, shape),)


@st.composite
def concatenate_case(draw, dtype):
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(2, 3))):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        parts.append(_arr(draw, dtype, tuple(s)))
    return (lambda *xs: fnp.concatenate(xs, axis=axis)), tuple(parts)


@st.composite
def gather_case(draw, dtype):
    shape = _shape(draw, min_dims=1)
    kind = draw(st.sampled_from(["getitem", "take", "take_along_axis", "two_arrays"]))
    x = _arr(draw, dtype, shape)
    axis = draw(st.integers(0, len(shape) - 1))
    idx = draw(fst.arrays(np.int64, draw(fst.shapes(max_dims=2, max_side=3)),
                          elements=st.integers(-shape[axis], shape[axis] - 1)))
    if kind == "getitem":
        index = (slice(None),) * axis + (idx,)
        return (lambda x: x[index]), (x,)
    if kind == "take":
        return (lambda x: fnp.take(x, idx, axis=axis)), (x,)
    if kind == "take_along_axis":
        along = draw(fst.arrays(np.int64, shape, elements=st.integers(0, shape[axis] - 1)))
        return (lambda x: fnp.take_along_axis(x, along, axis)), (x,)
    other = draw(fst.arrays(np.int64, idx.shape, elements=st.integers(0, shape[0] - 1)))
    if len(shape) == 1:
        return (lambda x: x[other]), (x,)
    second = draw(fst.arrays(np.int64, idx.shape, elements=st.integers(0, shape[1] - 1)))
    return (lambda x: x[other, second]), (x,)


@st.composite
def _broadcasting_to(draw, shape):
    """A shape that broadcasts to ``shape``: some leading axes dropped, some sides 1."""
    kept = shape[draw(st.integers(0, len(shape))):]
    return tuple(d if draw(st.booleans()) else 1 for d in kept)


@st.composite
def scatter_case(draw, dtype):
    shape = _shape(draw, min_dims=1)
    mode = draw(st.sampled_from(["set", "add", "multiply", "min", "max"]))
    n = shape[0]
    # set and multiply assume (as JAX does) that no index repeats; add accumulates repeats
    idx = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n,
                                 unique=mode != "add")))
    upd_shape = draw(_broadcasting_to((len(idx),) + shape[1:]))
    if mode in ("min", "max"):  # no ties (tests/test_scatter_minmax.py has those)
        both = _distinct(draw, dtype, (int(np.prod(shape)) + int(np.prod(upd_shape)),))
        x, u = both[:int(np.prod(shape))].reshape(shape), both[int(np.prod(shape)):]
        return ((lambda x, u: at_update(x, idx, u, mode)), (x, u.reshape(upd_shape)),
                PIECEWISE)
    return ((lambda x, u: at_update(x, idx, u, mode)),
            (_arr(draw, dtype, shape), _arr(draw, dtype, upd_shape)))


@st.composite
def dot_case(draw, dtype):
    kind = draw(st.sampled_from(["matmul", "batched", "vector", "einsum", "tensordot",
                                 "outer_dot"]))
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    a = lambda *s: _arr(draw, dtype, s)  # noqa: E731
    if kind == "matmul":
        return fnp.matmul, (a(m, k), a(k, n))
    if kind == "batched":  # batch axes broadcast: (2, 1, m, k) @ (3, k, n)
        return fnp.matmul, (a(2, 1, m, k), a(3, k, n))
    if kind == "vector":
        return fnp.matmul, (a(k), a(2, k, n))
    if kind == "einsum":
        return (lambda x, y: fnp.einsum("bij,bjk->bki", x, y)), (a(2, m, k), a(2, k, n))
    if kind == "tensordot":
        return (lambda x, y: fnp.tensordot(x, y, ([0, 2], [1, 0]))), (a(k, m, n), a(n, k, 2))
    return (lambda x, y: fnp.dot(x, y)), (a(k), a(k))


def _dot_general_scalar_case():
    @st.composite
    def case(draw, dtype):
        return (lambda x, y: fnp.dot(x, y)), (_arr(draw, dtype, (3,)), _arr(draw, dtype, ()))
    return case


# --- control flow (funcgrad.lax): primitives holding sub-programs ---------------------------

@st.composite
def cond_case(draw, dtype):
    """switch on an index computed from the values (batched under vmap: a select), or on
    a fixed one; the threshold is far from the values drawn, so finite differences never
    change branch."""
    shape = _shape(draw)
    branches = [lambda x, y: fnp.sin(x) * y, lambda x, y: fnp.exp(x) + y * y,
                lambda x, y: x * x * fnp.cos(y)]
    fixed = draw(st.sampled_from([None, -1, 1, 2, 5]))

    def f(x, y):
        index = (fnp.sum(x) > 0.1234567).astype(np.int64) * 2 if fixed is None else fixed
        return lax.switch(index, branches, x, y)
    return f, (_arr(draw, dtype, shape), _arr(draw, dtype, shape))


@st.composite
def scan_case(draw, dtype):
    """An RNN-like scan: a const matrix, a carry, rows of xs; forwards or in reverse. The
    final carry and the stacked outputs are returned as one array."""
    n, steps = draw(st.integers(1, 3)), draw(st.integers(1, 3))  # 0 steps: test_lax.py
    reverse = draw(st.booleans())

    def f(w, h, xs):
        def step(h, x):
            h = fnp.tanh(h @ w + x)
            return h, fnp.sin(h) * x
        h, ys = lax.scan(step, h, xs, reverse=reverse)
        return fnp.concatenate([h, fnp.reshape(ys, (-1,))])
    scale = (0.5 / n) if dtype == np.float64 else (0.3 / n)
    return f, (_arr(draw, dtype, (n, n)) * dtype(scale), _arr(draw, dtype, (n,)),
               _arr(draw, dtype, (steps, n)))


@st.composite
def while_case(draw, dtype):
    """A loop of at most n steps (n drawn) that also stops when its carry grows past a
    bound, so examples stop at different steps under vmap."""
    shape = _shape(draw)
    n = draw(st.integers(0, 3))

    def f(x, a):
        def body(c):
            i, y = c
            return i + 1, fnp.sin(y) * a + 1.5 * y
        def running(c):
            return (c[0] < n) & (fnp.max(fnp.abs(c[1])) < 2.718281)
        return lax.while_loop(running, body, (np.int64(0), x))[1]
    # grad of grad through while_loop is refused (see control/loops.py): first order only
    return f, (_arr(draw, dtype, shape) * dtype(0.5), _arr(draw, dtype, shape)), {"order": 1}


@st.composite
def checkpoint_case(draw, dtype):
    shape = _shape(draw)
    f = fg.checkpoint(lambda x, y: fnp.sin(x) * fnp.cos(y) + x * y)
    return f, (_arr(draw, dtype, shape), _arr(draw, dtype, shape))
@st.composite
def checkpoint_name_case(draw, dtype):
    """A named value a policy saves: the checkpoint's backward pass takes it as an input."""
    f = fg.checkpoint(lambda x, y: fnp.sin(fg.checkpoint_name(x * y, "xy")) * y,
                      policy=fg.checkpoint_policies.save_only_these_names("xy"))
    shape = _shape(draw)
    return f, (_arr(draw, dtype, shape), _arr(draw, dtype, shape))


def _special_case(name, fn, domain):
    @st.composite
    def case(draw, dtype):
        return fn, (_arr(draw, dtype, _shape(draw), domain),)
    return case


CASES = {
    # unary
    **{name: unary(name) for name in [
        "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt",
        "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
        "arccosh", "arctanh"]},
    "neg": unary("negative"), "abs": unary("abs"),
    "logistic": unary("logistic", fg.nn.sigmoid),
    "erf": unary("erf", fg.scipy.special.erf),
    # special functions (funcgrad/ops/special.py), each inside the domain of a listed function
    **{name: _special_case(name, fn, domain) for name, fn, domain in [
        ("lgamma", special.gammaln, "log"), ("digamma", special.digamma, "log"),
        ("gamma", special.gamma, "log"), ("erfc", special.erfc, None),
        ("erfinv", special.erfinv, "arcsin"), ("ndtri", special.ndtri, "logit"),
        ("log_ndtr", special.log_ndtr, None), ("i0e", special.i0e, "abs"),
        ("i1e", special.i1e, "abs"), ("polygamma", lambda x: special.polygamma(2, x), "log"),
        ("zeta", lambda q: special.zeta(3.0, q), "log"),
        ("gammainc", lambda x: special.gammainc(2.5, x), "log"),
        ("gammaincc", lambda x: special.gammaincc(0.5, x), "log"),
        ("betainc", lambda x: special.betainc(1.5, 2.5, x), "logit"),
        # Bessel functions (SciPy's routines when compiled), away from x = 0
        ("j0", special.j0, "log"), ("j1", special.j1, "log"), ("y0", special.y0, "log"),
        ("y1", special.y1, "log"), ("k0", special.k0, "log"), ("k1", special.k1, "log"),
        ("k0e", special.k0e, "log"), ("k1e", special.k1e, "log"),
        ("jv", lambda x: special.jv(1.5, x), "log"), ("yv", lambda x: special.yv(2.0, x), "log"),
        ("iv", lambda x: special.iv(0.5, x), "log"), ("ive", lambda x: special.ive(2.5, x), "log"),
        ("kv", lambda x: special.kv(1.5, x), "log"),
        ("kve", lambda x: special.kve(0.5, x), "log")]},
    "betaln": binary(special.betaln, "log", "log"),
    "integer_pow": integer_pow_case,
    "convert_element_type": convert_case,
    # binary
    "add": binary(fnp.add), "sub": binary(fnp.subtract), "mul": binary(fnp.multiply),
    "div": binary(fnp.divide, None, "divide"),
    "mod": mod_case, "pow": pow_case, "arctan2": arctan2_case,
    "max": lambda dtype: max_min_case(dtype, fnp.maximum),
    "min": lambda dtype: max_min_case(dtype, fnp.minimum),
    "hypot": binary(fnp.hypot, "divide", None), "logaddexp": binary(fnp.logaddexp),
    "select": select_case,
    # a jitted function inside a transform is one call equation: its VJP calls the compiled
    # forward and backward halves of the sub-program
    "call": binary(fg.jit(lambda x, y: fnp.sin(x) * y + fnp.tanh(x * y))),
    # reductions
    "reduce_sum": reduction("sum"), "reduce_max": reduction("max", distinct=True),
    "reduce_min": reduction("min", distinct=True), "reduce_prod": prod_case,
    "cumsum": cumulative("cumsum"), "cumprod": cumulative("cumprod"),
    # structure
    "broadcast_to": broadcast_case, "reshape": reshape_case, "transpose": transpose_case,
    "slice": slice_case, "pad": pad_case, "concatenate": concatenate_case,
    "gather": gather_case, "scatter": scatter_case,
    "dot_general": dot_case,
    # control flow
    "cond": cond_case, "scan": scan_case, "while": while_case, "checkpoint": checkpoint_case,
    "checkpoint_name": checkpoint_name_case,
    # decompositions and solves (funcgrad.ops.decompositions)
    **LINALG_CASES,
}
# drawn separately from their primitive's main case
EXTRA_CASES = {"reduce_max_ties": reduce_max_ties_case, "dot_scalar": _dot_general_scalar_case()}


def test_every_primitive_has_a_vjp_and_a_case():
    """A primitive is differentiable with a rule, or declared non-differentiable; each
    differentiable one is checked below."""
    missing_rule, missing_case = [], []
    for name, prim in REGISTRY.items():
        if not is_differentiable(prim):
            continue
        if prim not in vjp_rules and prim not in vjp_split_rules:
            missing_rule.append(name)
        if name not in CASES and name not in NO_CASE:
            missing_case.append(name)
    assert not missing_rule, f"primitives without a VJP rule: {missing_rule}"
    assert not missing_case, f"differentiable primitives without a test case: {missing_case}"


# primitives tested in their own files (they carry sub-programs)
NO_CASE = {"custom_vjp_call", "custom_jvp_call",
           # collectives run only inside a named vmap: tests/test_collectives.py checks
           # their values and derivatives against NumPy and finite differences of the batch
           "psum", "pmax", "pmin", "all_gather", "psum_scatter", "axis_index",
           "while_vjp",  # while's backward pass: checked by the VJP of the "while" case
           # random.gamma's gradient in a: checked against the inverse CDF's finite
           # differences and E[dx/da] = 1 in tests/test_random.py (x is not a function of a)
           "gamma_reparam", "random_gamma_grad",
           # no outputs: what it does is call Python, which tests/test_debug.py checks
           "debug_callback"}


# --- primitives with a zero derivative: values only ---------------------------------------

def _ints(draw, shape, lo=-5, hi=5):
    return np.array(draw(st.lists(st.integers(lo, hi), min_size=int(np.prod(shape)),
                                  max_size=int(np.prod(shape)))), np.int64).reshape(shape)


def int_binary(fn, nonzero=False):
    @st.composite
    def case(draw, dtype):
        x_shape, y_shape = draw(fst.mutually_broadcastable_shapes(2, max_side=3)).input_shapes
        y = _ints(draw, y_shape, 1 if nonzero else -5, 5)
        return fn, (_ints(draw, x_shape), y)
    return case


def bool_binary(fn):
    @st.composite
    def case(draw, dtype):
        x_shape, y_shape = draw(fst.mutually_broadcastable_shapes(2, max_side=3)).input_shapes
        return fn, (_ints(draw, x_shape) > 0, _ints(draw, y_shape) > 0)
    return case


@st.composite
def bool_reduction_case(draw, dtype, fn):
    shape = _shape(draw, min_dims=1)
    axes = draw(_axes(len(shape)))
    return (lambda x: fn(x, axis=axes)), (_ints(draw, shape) > 0,)


@st.composite
def arg_case(draw, dtype, fn):
    shape = _shape(draw, min_dims=1)
    axis = draw(st.integers(0, len(shape) - 1))
    return (lambda x: fn(x, axis=axis)), (_distinct(draw, dtype, shape),)


@st.composite
def iota_case(draw, dtype):
    shape = _shape(draw, min_dims=1)
    return (lambda x: x + fnp.arange(shape[-1], dtype=dtype)), (_arr(draw, dtype, shape),)


@st.composite
def threefry_case(draw):
    shape = _shape(draw)
    n = int(np.prod(shape))
    words = [np.array(draw(st.lists(st.integers(0, 2 ** 32 - 1), min_size=n, max_size=n)),
                      np.uint32).reshape(shape) for _ in range(4)]
    return (lambda *w: threefry2x32(*w)), tuple(words)


@st.composite
def poisson_case(draw):
    shape = _shape(draw)
    n = int(np.prod(shape))
    words = [np.array(draw(st.lists(st.integers(0, 2 ** 32 - 1), min_size=n, max_size=n)),
                      np.uint32).reshape(shape) for _ in range(2)]
    rates = draw(st.lists(st.sampled_from([0.0, 0.4, 3.0, 9.9, 10.0, 31.5, 1e4, -1.0]),
                          min_size=n, max_size=n))
    return poisson, (*words, np.array(rates, np.float64).reshape(shape))


@st.composite
def binomial_case(draw):
    """Counts and probabilities across binomial's two methods (inversion below n p = 10,
    rejection above) and its edges (n = 0, p = 0 or 1)."""
    shape = _shape(draw)
    n = int(np.prod(shape))
    words = [np.array(draw(st.lists(st.integers(0, 2 ** 32 - 1), min_size=n, max_size=n)),
                      np.uint32).reshape(shape) for _ in range(2)]
    counts = draw(st.lists(st.sampled_from([0.0, 1.0, 7.0, 40.0, 1e4]), min_size=n,
                           max_size=n))
    ps = draw(st.lists(st.sampled_from([0.0, 0.05, 0.5, 0.93, 1.0]), min_size=n, max_size=n))
    return binomial, (*words, np.array(counts).reshape(shape), np.array(ps).reshape(shape))


@st.composite
def order_case(draw, dtype):
    return random_order, (_distinct(draw, dtype, _shape(draw, min_dims=1)),)


@st.composite
def special_values_case(draw, dtype, fn):
    shape = _shape(draw)
    values = draw(st.lists(st.sampled_from([0.0, -1.5, 2.5, np.inf, -np.inf, np.nan, 1e300]),
                           min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return fn, (np.array(values, dtype).reshape(shape),)


@st.composite
def searchsorted_case(draw, dtype):
    """Sorted inside the function: vmap's examples permute the drawn arrays."""
    a = _ints(draw, (draw(st.integers(1, 5)),)).astype(dtype)
    a[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from([np.nan, a[0]]))
    v = _ints(draw, _shape(draw)).astype(dtype)
    side = draw(st.sampled_from(["left", "right"]))
    return (lambda a, v: fnp.searchsorted(fnp.sort(a), v, side)), (a, v)


VALUE_CASES = {
    **{name: unary(name) for name in ["sign", "floor", "ceil", "rint"]},
    **{name: (lambda n: lambda dtype: special_values_case(dtype, getattr(fnp, n)))(name)
       for name in ["isfinite", "isnan", "isinf"]},
    "logical_not": lambda dtype: bool_reduction_case(dtype, lambda x, axis: fnp.logical_not(x)),
    "invert": int_binary(lambda x, y: fnp.invert(x) + y),
    "floor_divide": int_binary(fnp.floor_divide, nonzero=True),
    **{name: binary(getattr(fnp, fn)) for name, fn in [
        ("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
        ("gt", "greater"), ("ge", "greater_equal")]},
    **{name: bool_binary(getattr(fnp, name)) for name in [
        "logical_and", "logical_or", "logical_xor"]},
    **{name: int_binary(getattr(fnp, name)) for name in [
        "bitwise_and", "bitwise_or", "bitwise_xor"]},
    "reduce_and": lambda dtype: bool_reduction_case(dtype, fnp.all),
    "reduce_or": lambda dtype: bool_reduction_case(dtype, fnp.any),
    "argmax": lambda dtype: arg_case(dtype, fnp.argmax),
    "argmin": lambda dtype: arg_case(dtype, fnp.argmin),
    "iota": iota_case,
    "stop_gradient": unary("stop_gradient", fg.stop_gradient),
    **LINALG_VALUE_CASES,
    "threefry2x32": lambda dtype: threefry_case(),
    "random_order": lambda dtype: order_case(dtype),
    # sorting (funcgrad.ops.sorting)
    "argsort": lambda dtype: arg_case(dtype, fnp.argsort),
    "searchsorted": searchsorted_case,
    "poisson": lambda dtype: poisson_case(),
    "binomial": lambda dtype: binomial_case(),
    "nextafter": lambda dtype: special_values_case(dtype, lambda x: fnp.nextafter(x, 1.0)),
    "spacing": lambda dtype: special_values_case(dtype, fnp.spacing),
    "gcd": int_binary(fnp.gcd), "lcm": int_binary(fnp.lcm),
}


# --- issue 12: more NumPy ufuncs, and the correlate primitive of every convolution -------

@st.composite
def heaviside_case(draw, dtype):
    """x1 exactly 0 where a fixed mask says (so a finite-difference step in x1 keeps it 0,
    where x2 counts), else a step away from 0 (where the result is constant)."""
    shapes = draw(fst.mutually_broadcastable_shapes(2, max_side=3))
    x_shape, h_shape = shapes.input_shapes
    mask = draw(fst.arrays(np.bool_, x_shape, elements=st.booleans())).astype(dtype)
    return ((lambda x, h: fnp.heaviside(x * mask, h)),
            (_arr(draw, dtype, x_shape, "divide"), _arr(draw, dtype, h_shape)), PIECEWISE)


@st.composite
def correlate_case(draw, dtype):
    """A convolution or correlation of 1 to 3 axes: through scipy.signal's functions in each
    mode, or the primitive itself with any padding (negative crops)."""
    from funcgrad.ops.convolution import correlate
    from funcgrad.scipy import signal
    ndim = draw(st.integers(1, 2 if dtype == np.float32 else 3))
    x_shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    w_shape = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    x, w = _arr(draw, dtype, x_shape), _arr(draw, dtype, w_shape)
    kind = draw(st.sampled_from(["convolve", "correlate", "padding"]))
    if kind != "padding":
        mode = draw(st.sampled_from(["full", "same"] + ["valid"] * all(
            n >= k for n, k in zip(x_shape, w_shape))))
        fn = getattr(signal, kind)
        return (lambda x, w: fn(x, w, mode)), (x, w)
    padding = [(draw(st.integers(-min(n, 1), 2)), draw(st.integers(-min(n, 1), 2)))
               for n in x_shape]
    padding = [(lo, max(hi, k - n - lo)) for (lo, hi), n, k in zip(padding, x_shape, w_shape)]
    return (lambda x, w: correlate(x, w, padding)), (x, w)


@st.composite
def fmod_case(draw, dtype):
    """fmod jumps where x / y crosses an integer, as mod does (it truncates where mod floors)."""
    _, args, options = draw(mod_case(dtype))
    return fnp.fmod, args, options


CASES.update({
    "fmod": fmod_case,
    "ldexp": unary("ldexp", lambda x: fnp.ldexp(x, 3)),
    # special functions added with SciPy's routines (compiled: the same routines)
    **{name: _special_case(name, fn, domain) for name, fn, domain in [
        ("loggamma", special.loggamma, "log"), ("exp1", special.exp1, "log"),
        ("expi", special.expi, "log"), ("expn", lambda x: special.expn(2, x), "log"),
        ("erfcx", special.erfcx, None), ("dawsn", special.dawsn, None),
        ("spence", special.spence, "log"),
        ("hyp1f1", lambda x: special.hyp1f1(0.5, 1.5, x), None),
        ("si", lambda x: special.sici(x)[0], "log"), ("ci", lambda x: special.sici(x)[1], "log"),
        ("fresnel_s", lambda x: special.fresnel(x)[0], None),
        ("fresnel_c", lambda x: special.fresnel(x)[1], None)]},
    "boxcox": binary(special.boxcox, "log", "abs"),
    "boxcox1p": binary(special.boxcox1p, "log", "abs"),
    "owens_t": binary(special.owens_t),
    "poch": binary(special.poch, "log", "log"),
    "fabs": unary("abs", fnp.fabs),
    "logaddexp2": binary(fnp.logaddexp2),
    "copysign": binary(fnp.copysign, "divide", "divide"),
    "heaviside": heaviside_case,
    "correlate": correlate_case,
})
VALUE_CASES.update({
    "trunc": unary("trunc"),
    "signbit": lambda dtype: special_values_case(dtype, fnp.signbit),
})



@st.composite
def shift_case(draw, dtype, fn):
    """Counts past int64's width and negative ones too: NumPy defines both (every bit goes)."""
    x_shape, y_shape = draw(fst.mutually_broadcastable_shapes(2, max_side=3)).input_shapes
    return fn, (_ints(draw, x_shape, -2 ** 40, 2 ** 40), _ints(draw, y_shape, -3, 70))


VALUE_CASES.update({
    "left_shift": lambda dtype: shift_case(dtype, fnp.left_shift),
    "right_shift": lambda dtype: shift_case(dtype, fnp.right_shift),
})

def test_every_primitive_has_a_case():
    missing = [name for name in REGISTRY
               if name not in CASES and name not in VALUE_CASES and name not in NO_CASE]
    assert not missing, f"primitives without a conformance case: {missing}"
    wrong = [name for name in VALUE_CASES if is_differentiable(REGISTRY[name])]
    assert not wrong, f"differentiable primitives among the value-only cases: {wrong}"


def _draw(data, name, dtype):
    """(fn, args) of a case from either table."""
    strategy = CASES.get(name) or EXTRA_CASES.get(name) or VALUE_CASES[name]
    fn, args, *_ = data.draw(strategy(dtype), label=name)
    return fn, args


def _same(actual, expected):
    """Equal shapes and dtypes, values equal up to a few ulps of their dtype (libm and NumPy's
    vectorised transcendentals may round differently)."""
    for a, e in zip(fg.tree.leaves(actual), fg.tree.leaves(expected)):
        assert np.shape(a) == np.shape(e) and np.asarray(a).dtype == np.asarray(e).dtype
        tol = 4e-6 if np.asarray(e).dtype == np.float32 else 1e-12
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(e, np.float64),
                                   rtol=tol, atol=tol)


def _check_case(data, name, dtype):
    """A case draws (fn, args) or (fn, args, options): ``order``, the highest order that is
    smooth at args, and ``eps32``, the finite-difference step in float32."""
    fn, args, *options = data.draw(CASES.get(name, EXTRA_CASES.get(name))(dtype), label=name)
    options = options[0] if options else {}
    if dtype == np.float64:
        check_grads(fn, args, order=min(2, options.get("order", 2)))
    else:
        check_grads(fn, args, order=1, eps=options.get("eps32"))


@pytest.mark.parametrize("name", sorted(CASES) + sorted(EXTRA_CASES))
@SETTINGS
@given(data=st.data())
def test_vjp_float64_second_order(name, data):
    _check_case(data, name, np.float64)


@pytest.mark.parametrize("name", sorted(CASES) + sorted(EXTRA_CASES))
@SETTINGS
@given(data=st.data())
def test_vjp_float32(name, data):
    _check_case(data, name, np.float32)


# --- lowering: each primitive compiled against its NumPy implementation --------------------

@pytest.mark.parametrize("name", sorted(CASES) + sorted(VALUE_CASES))
@settings(SETTINGS, max_examples=_EXAMPLES or 8)
@given(data=st.data())
def test_lowering_matches_numpy(name, data):
    fn, args = _draw(data, name, np.float64)
    with np.errstate(all="ignore"):
        _same(fg.jit(fn)(*args), fn(*args))


# --- forward mode ----------------------------------------------------------------------------

def _needs(name):
    if not hasattr(fg, name):
        pytest.skip(f"funcgrad.{name} does not exist yet")


def _random_like(tree, seed):
    rng = np.random.default_rng(seed)
    return fg.tree.map(lambda x: rng.normal(size=np.shape(x)).astype(np.asarray(x).dtype)
                       if np.asarray(x).dtype.kind == "f" else np.zeros(np.shape(x)), tree)


@pytest.mark.parametrize("name", sorted(CASES) + sorted(EXTRA_CASES))
@SETTINGS
@given(data=st.data())
def test_jvp_float64_against_finite_differences(name, data):
    _needs("jvp")
    fn, args = _draw(data, name, np.float64)
    check_grads(fn, args, order=1, modes=("fwd",))


@pytest.mark.parametrize("name", sorted(CASES) + sorted(EXTRA_CASES))
@SETTINGS
@given(data=st.data())
def test_jvp_and_vjp_are_transposes(name, data):
    """<vjp(u), v> == <u, jvp(v)>: the two rules are the same linear map, read both ways."""
    _needs("jvp")
    fn, args = _draw(data, name, np.float64)
    floats = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]

    def of_floats(*xs):
        full = list(args)
        for i, x in zip(floats, xs):
            full[i] = x
        return fn(*full)

    primals = tuple(args[i] for i in floats)
    v = _random_like(primals, 1)
    out, jv = fg.jvp(of_floats, primals, v)
    u = _random_like(out, 2)
    _, pullback = fg.vjp(of_floats, *primals)
    vjp_u = pullback(u)
    left = sum(np.sum(a * b) for a, b in zip(fg.tree.leaves(vjp_u), fg.tree.leaves(v)))
    right = sum(np.sum(a * b) for a, b in zip(fg.tree.leaves(u), fg.tree.leaves(jv)))
    # an output may be float32 (convert_element_type): then the two sums round as float32
    single = any(np.asarray(y).dtype == np.float32 for y in fg.tree.leaves(out))
    tol = 1e-5 if single else 1e-9
    np.testing.assert_allclose(left, right, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(CASES) + sorted(EXTRA_CASES))
@settings(SETTINGS, max_examples=_EXAMPLES or 5)
@given(data=st.data())
def test_jacfwd_matches_jacrev(name, data):
    """jacfwd pushes the whole identity basis through the linear program of the JVP, batched
    by vmap over its tangents: each primitive's tangent rule batched."""
    _needs("jacfwd")
    fn, args = _draw(data, name, np.float64)
    floats = tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f")
    if not floats or not all(np.size(args[i]) for i in floats):
        return
    forward = fg.jacfwd(fn, argnums=floats)(*args)
    reverse = fg.jacrev(fn, argnums=floats)(*args)
    for a, b in zip(fg.tree.leaves(forward), fg.tree.leaves(reverse)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# --- batching ----------------------------------------------------------------------------------

def _examples(draw, x, size):
    """``size`` examples like ``x``: permutations of its elements (the first one is x), so
    they stay inside the case's domain (and integer and boolean ones differ too)."""
    x = np.asarray(x)
    flat = x.reshape(-1)
    perms = [np.arange(flat.size)] + [np.asarray(draw(st.permutations(range(flat.size))))
                                      for _ in range(size - 1)]
    return [flat[p].reshape(x.shape) for p in perms]


def check_batched(draw, fn, args):
    """vmap(fn) equals a Python loop over the examples, over a drawn batch size, drawn mapped
    axes (None: shared by every example; negative axes too), a drawn output axis and, when
    nothing is mapped, axis_size."""
    size = draw(st.integers(1, 3), label="batch size")
    in_axes, batched, per_example = [], [], [[] for _ in range(size)]
    for x in args:
        ndim = np.ndim(x)
        axis = draw(st.sampled_from([None] + list(range(-ndim - 1, ndim + 1))), label="in_axis")
        in_axes.append(axis)
        examples = [x] * size if axis is None else _examples(draw, x, size)
        batched.append(x if axis is None else np.stack(examples, axis=axis))
        for ex, value in zip(per_example, examples):
            ex.append(value)
    axis_size = size if all(a is None for a in in_axes) else None
    with np.errstate(all="ignore"):
        expected = [fg.tree.leaves(fn(*ex)) for ex in per_example]
        out_ndim = min(np.ndim(leaf) for leaf in expected[0])
        out_axis = draw(st.sampled_from(list(range(-out_ndim - 1, out_ndim + 1))),
                        label="out_axis")
        got = fg.vmap(fn, tuple(in_axes), out_axis, axis_size)(*batched)
    want = [np.stack([np.asarray(ex[k]) for ex in expected], axis=out_axis)
            for k in range(len(expected[0]))]
    _same(got, want)


@pytest.mark.parametrize("name", sorted(CASES) + sorted(EXTRA_CASES) + sorted(VALUE_CASES))
@settings(SETTINGS, max_examples=_EXAMPLES or 10)
@given(data=st.data())
def test_vmap_matches_a_loop(name, data):
    fn, args = _draw(data, name, np.float64)
    check_batched(data.draw, fn, args)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(SETTINGS, max_examples=_EXAMPLES or 4)
@given(data=st.data())
def test_vmap_of_the_vjp_matches_a_loop(name, data):
    """vmap of each primitive's VJP (grad of a weighted sum of its output): the batching
    rules of the backward pass its VJP rule records."""
    fn, args = _draw(data, name, np.float64)
    out = fn(*args)
    weights = np.cos(np.arange(np.size(out))).reshape(np.shape(out))
    vjp = fg.grad(lambda *a: fnp.sum(fn(*a) * weights), tuple(range(len(args))))
    check_batched(data.draw, vjp, args)
