"""funcgrad.scipy.stats's output dtypes as jax.scipy.stats's (x64 on), and shape errors from
scipy.stats and nn losses naming the user's line.

The dtypes are JAX's promote_args_inexact: a float32 point with Python-number parameters
stays float32; integers become float32 (narrow ones) or float64 (int64), unless a float
array is there, whose dtype wins (int64 with float32 is float32 in JAX, float64 in NumPy).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import stats
import marked_lines


# a point and valid shape parameters for every elementwise distribution
POINTS = {
    "norm": (0.3, []), "t": (0.3, [3.0]), "gamma": (0.7, [2.0]), "beta": (0.3, [2.0, 3.0]),
    "poisson": (2.0, [1.5]), "bernoulli": (1.0, [0.3]), "binom": (2.0, [5.0, 0.3]),
    "expon": (0.7, []), "laplace": (0.3, []), "logistic": (0.3, []), "cauchy": (0.3, []),
    "uniform": (0.3, []), "chi2": (0.7, [3.0]), "geom": (2.0, [0.3]),
    "nbinom": (2.0, [3.0, 0.4]), "betabinom": (2.0, [5.0, 2.0, 3.0]), "pareto": (1.5, [2.0]),
    "gumbel_l": (0.3, []), "gumbel_r": (0.3, []), "truncnorm": (0.3, [-1.0, 2.0]),
    "vonmises": (0.3, [2.0]), "gennorm": (0.3, [1.5]),
}
FUNCTIONS = [(name, f) for name in POINTS for f in getattr(stats, name).__all__]
# JAX's norm.ppf and norm.isf return the default float (float64) whatever their input's
ALWAYS_FLOAT64 = {("norm", "ppf"), ("norm", "isf")}


def _call(name, function, point, params):
    return getattr(getattr(stats, name), function)(point, *params)


@pytest.mark.parametrize("name", sorted(POINTS))
def test_float32_stays_float32(name):
    """float32 points with Python-number parameters, and float32 everything (0-d too), gave
    float64: the defaults and where()'s constants widened them."""
    point, params = POINTS[name]
    for function in getattr(stats, name).__all__:
        expected = np.float64 if (name, function) in ALWAYS_FLOAT64 else np.float32
        q = 0.3 if function in ("ppf", "isf") else point
        cases = [(np.full(2, q, np.float32), params),
                 (np.full(2, q, np.float32), [np.float32(p) for p in params]),
                 (np.float32(q), [np.float32(p) for p in params])]
        for x, ps in cases:
            out = _call(name, function, x, ps)
            assert out.dtype == expected, (function, x, ps, out.dtype)
            reference = _call(name, function, np.float64(q), params)
            np.testing.assert_allclose(out, reference, rtol=2e-5)


@pytest.mark.parametrize("name", sorted(POINTS))
def test_integer_points_follow_jax(name):
    """int32 points with the default loc and scale are float32 (JAX's defaults are Python
    ints); int64 ones float64; an integer point with a float32 parameter float32."""
    point, params = POINTS[name]
    for function in getattr(stats, name).__all__:
        if function in ("ppf", "isf"):
            continue
        int_params = [int(p) if p == int(p) else p for p in params]
        as_float = name, function, np.float64(int(point)), int_params
        reference = _call(*as_float)
        for dtype, expected in [(np.int32, np.float32), (np.int64, np.float64)]:
            if any(isinstance(p, float) for p in int_params):
                expected = np.float64  # an int with a Python float: JAX's default float
            out = _call(name, function, np.full(2, int(point), dtype), int_params)
            assert out.dtype == expected, (function, dtype, out.dtype)
            np.testing.assert_allclose(out, reference, rtol=1e-6)
        if params:
            mixed = _call(name, function, np.full(2, int(point), np.int64),
                          [np.float32(p) for p in params])
            assert mixed.dtype == np.float32, function


def test_dtypes_under_jit_grad_and_vmap():
    x32 = np.full(3, 0.3, np.float32)
    assert fg.jit(lambda x: stats.norm.logpdf(x, 0.0, 2.0))(x32).dtype == np.float32
    assert fg.jit(lambda x: stats.gamma.logpdf(x, 2))(np.ones(3, np.int32)).dtype == np.float32
    assert fg.vmap(lambda x: stats.beta.logpdf(x, 2.0, 3.0))(x32).dtype == np.float32
    grad = fg.grad(lambda s: stats.norm.logpdf(np.float32(1.0), 0.0, s))(np.float32(2.0))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, (1 / 4 - 1) / 2, rtol=1e-6)  # (x^2/s^2 - 1) / s


def test_other_functions_keep_float32():
    x = np.array([[0.2, 0.5], [0.8, 0.5]], np.float32)
    assert stats.dirichlet.logpdf(x, np.array([2.0, 3.0], np.float32)).dtype == np.float32
    y = np.ones((3, 2), np.float32)
    assert stats.multivariate_normal.logpdf(y).dtype == np.float32
    mean, cov = np.zeros(2, np.float32), np.eye(2, dtype=np.float32)
    assert stats.multivariate_normal.logpdf(y.astype(np.int64), mean, cov).dtype == np.float32
    assert stats.sem(np.array([1.0, 2.0, 4.0], np.float32)).dtype == np.float32
    assert stats.sem(np.array([1, 2, 4], np.int32)).dtype == np.float32


# ---------------------------------------------------------------------------------------
# Shape mismatches name the user's line, eagerly (where NumPy's operators raised a bare
# ValueError from inside funcgrad) as well as traced


def line_of(marker: str) -> str:
    return marked_lines.line_of(__file__, marker)


def _check(info, marker, *fragments):
    message = str(info.value)
    assert line_of(marker) in message, message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("name, function", FUNCTIONS)
def test_every_distribution_names_the_line_of_a_shape_mismatch(name, function):
    point, params = POINTS[name]
    f = getattr(getattr(stats, name), function)
    n_required = sum(p.default is inspect.Parameter.empty
                     for p in inspect.signature(f).parameters.values())
    args = [np.full(2, point)] + [np.full(3, p) for p in params][:n_required - 1]
    if len(args) == 1:
        args.append(np.zeros(3))  # loc
    with pytest.raises(fg.ShapeError) as info:
        f(*args)  # <- stats eager
    _check(info, "stats eager", "cannot broadcast", "[2]", "[3]")


def test_shape_mismatch_traced_names_the_line():
    def model(x, loc):
        return stats.norm.logpdf(x, loc)  # <- stats traced
    with pytest.raises(fg.ShapeError) as info:
        fg.jit(model)(np.ones(2), np.ones(3))
    _check(info, "stats traced", "cannot broadcast f64[2] with f64[3]")


# each nn function with two arguments that do not broadcast
LOSSES = {
    "mse": ((np.ones(2), np.ones(3)), {}),
    "huber": ((np.ones(2), np.ones(3)), {}),
    "sigmoid_binary_cross_entropy": ((np.ones(2), np.ones(3)), {}),
    "softmax_cross_entropy": ((np.ones((1, 2)), np.ones((1, 3))), {}),
    "standardize": ((np.ones(2),), {"mean": np.ones(3)}),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_nn_shape_mismatch_names_the_line(name):
    f, (args, kwargs) = getattr(fg.nn, name), LOSSES[name]
    with pytest.raises(fg.ShapeError) as info:
        f(*args, **kwargs)  # <- nn eager
    _check(info, "nn eager", "cannot broadcast", "2]", "3]")
    with pytest.raises(fg.ShapeError) as info:
        fg.grad(lambda *a: fnp.sum(f(*a, **kwargs)))(*args)  # <- nn grad
    _check(info, "nn grad", "cannot broadcast")


def test_attention_bias_mismatch_names_the_line():
    q = np.ones((1, 2, 1, 2))
    with pytest.raises(fg.ShapeError) as info:
        fg.nn.dot_product_attention(q, q, q, bias=np.ones(3))  # <- bias
    _check(info, "bias", "cannot broadcast", "[3]")


# ---------------------------------------------------------------------------------------
# Derivatives at the edges of the support


@pytest.mark.parametrize("function", ["cdf", "logcdf", "sf", "logsf"])
def test_tail_derivatives_at_the_support_edge_are_the_ones_from_outside(function):
    """At x = 0 with a < 1 the density is infinite: the derivative from outside (0, as JAX's
    gamma and beta give) used to be nan for logcdf/logsf (0 times an infinite slope) and
    half the density (inf) for cdf/sf."""
    cases = [(stats.gamma, 0.0, (0.5,)), (stats.chi2, 0.0, (1.0,)),
             (stats.beta, 0.0, (0.5, 2.0)), (stats.beta, 1.0, (2.0, 0.5))]
    for dist, edge, params in cases:
        f = getattr(dist, function)
        assert fg.grad(lambda x, f=f, p=params: f(x, *p))(edge) == 0.0, (dist, function)
    # inside, the derivative of the cdf is still the density
    inside = fg.grad(lambda x: stats.gamma.cdf(x, 0.5))(0.3)
    np.testing.assert_allclose(inside, stats.gamma.pdf(0.3, 0.5), rtol=1e-12)


def test_vonmises_derivative_in_kappa_at_zero():
    """d/dkappa logpdf = cos x - I1(kappa)/I0(kappa), cos x at kappa = 0; it was cos x - 1
    (i0e's derivative at 0 takes |kappa|'s slope there as 0)."""
    grad = fg.grad(lambda k: stats.vonmises.logpdf(0.3, k))
    np.testing.assert_allclose(grad(0.0), np.cos(0.3), rtol=1e-12)
    np.testing.assert_allclose(stats.vonmises.logpdf(0.3, 0.0), -np.log(2 * np.pi))


def test_nn_argument_errors_name_the_line():
    """glu on an axis that does not exist raised a bare IndexError; a dropout rate out of
    range and a non-integer one_hot num_classes raised errors naming no line."""
    with pytest.raises(fg.ShapeError) as info:
        fg.nn.glu(np.ones((2, 4)), axis=2)  # <- glu
    _check(info, "glu", "axis 2 is out of bounds")
    with pytest.raises(fg.ShapeError) as info:
        fg.nn.glu(np.array(1.0))  # <- glu 0-d
    _check(info, "glu 0-d", "out of bounds")
    with pytest.raises(fg.FuncgradValueError) as info:
        fg.nn.dropout(fg.random.key(0), 1.0, np.ones(3))  # <- dropout
    _check(info, "dropout", "dropout rate must be in [0, 1), not 1.0")
    with pytest.raises(fg.FuncgradTypeError) as info:
        fg.nn.one_hot(np.array([0, 1]), 2.5)  # <- one_hot
    _check(info, "one_hot", "num_classes must be an integer")
