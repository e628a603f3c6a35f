"""Neural-network functions, composed from funcgrad.numpy.

The stable ones never overflow: softplus(1e4) is 1e4, log_softmax of logits near 1e4 is
finite, because each is written around the max of its inputs.

Example:
    >>> import numpy as np, funcgrad as fg
    >>> fg.nn.softplus(np.array([-1e4, 0.0, 1e4]))
    array([0.00000000e+00, 6.93147181e-01, 1.00000000e+04])
"""

from __future__ import annotations

import math
import operator

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core import errors
from funcgrad.numpy._util import (array_arg, broadcast_shape, inexact_arg, normalize_axes,
                                  normalize_axis)
from funcgrad.numpy._util import scalar_or_array as _scalar_or_array
from funcgrad.ops.elementwise import logistic
from funcgrad.ops.special import erfc
from funcgrad.ops.elementwise import stop_gradient as _stop_gradient

__all__ = ["relu", "sigmoid", "softplus", "log_sigmoid", "logsumexp", "log_softmax", "softmax",
           "one_hot", "gelu", "silu", "swish", "elu", "celu", "selu", "leaky_relu", "relu6",
           "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "mish", "soft_sign", "glu",
           "standardize", "logmeanexp", "dot_product_attention", "identity", "tanh",
           "log1mexp", "sparse_plus", "sparse_sigmoid", "squareplus"]


def relu(x):
    """max(x, 0). Its gradient is 0 at 0 and at nan (as in JAX's nn.relu, whose gradient
    is 1 only where x > 0); its value at nan is nan.

    Example:
        >>> fg.nn.relu(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
        >>> fg.grad(lambda x: fnp.sum(fg.nn.relu(x)))(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 1.])
    """
    x = array_arg(x)
    return fnp.where(x > 0, x, _constant(fnp.where(x <= 0, x.dtype.type(0), x)))


def _constant(x):
    """``x`` held constant for derivatives: the value a piecewise-linear activation takes
    outside its sloped piece, including nan at nan, whose gradient is 0 as JAX's
    (a ``where`` alone would pass the nan's gradient through as 1)."""
    return _stop_gradient(x)


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), stable for large |x|.

    Example:
        >>> fg.nn.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
    """
    return logistic(array_arg(x))  # JAX's refuses integers: NumPy's promotion here


def softplus(x):
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) so it never overflows.

    Example:
        >>> fg.nn.softplus(np.array([-1e4, 0.0, 1e4]))
        array([0.00000000e+00, 6.93147181e-01, 1.00000000e+04])
    """
    x = inexact_arg(x)
    return fnp.maximum(x, 0) + fnp.log1p(fnp.exp(-fnp.abs(x)))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|.

    Example:
        >>> fg.nn.log_sigmoid(np.array([-1000.0, 0.0]))
        array([-1.00000000e+03, -6.93147181e-01])
    """
    return -softplus(-inexact_arg(x))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """log(sum(b * exp(a))) over ``axis`` (of the elements ``where`` is True), shifted by the
    max so that it never overflows; as jax.nn.logsumexp and jax.scipy.special.logsumexp
    (``funcgrad.scipy.special.logsumexp`` is this function).

    With weights ``b`` the sum may be negative: its log is then nan, unless ``return_sign``,
    which returns ``(log|sum|, sign(sum))``. Left-out elements and those whose weight is 0
    add nothing, and ``a`` gets no gradient from them; ``b`` gets its true gradient,
    exp(a) / sum, also where it is 0 (JAX's is 0 there). An empty sum is -inf (sign 0).

    Example:
        >>> fg.nn.logsumexp(np.array([[0.0, 0.0], [1e4, 1e4]]), axis=1)
        array([6.93147181e-01, 1.00006931e+04])
        >>> fg.nn.logsumexp(np.array([1e4, 1e4]))
        np.float64(10000.69314718056)
        >>> fg.nn.logsumexp(np.array([0.0, np.log(3.0)]), b=np.array([1.0, -1.0]),
        ...                 return_sign=True)
        (np.float64(0.693147180559945...), np.float64(-1.0))
    """
    a = inexact_arg(a)
    if b is not None:
        b = _scalar_or_array(b)
        if type(b) in (float, int, bool):  # a Python weight takes a's dtype, as JAX's
            b = a.dtype.type(b)
        shape = broadcast_shape(a, b)
        a, b = fnp.broadcast_to(a, shape), fnp.broadcast_to(b, shape)
    if where is not None:  # left-out elements weigh 0
        a = fnp.where(where, a, -np.inf)
        b = None if b is None else fnp.where(where, b, 0)
    axes = normalize_axes(axis, a.ndim)
    if any(a.shape[i] == 0 for i in axes):  # the log of an empty sum, as SciPy's and JAX's
        total = fnp.sum(fnp.exp(a), axis=axes, keepdims=keepdims)
        out = fnp.full_like(total, -np.inf)
        return (out, fnp.zeros_like(total)) if return_sign else out
    weighted = a if b is None else fnp.where(b != 0, a, -np.inf)  # the terms that count
    m = _stop_gradient(fnp.max(weighted, axis=axes, keepdims=True))
    m = fnp.where(fnp.isfinite(m), m, 0)
    total = fnp.sum(_terms(a, b, m), axis=axes, keepdims=keepdims)
    # log|total|, its sign held constant (+1 at 0): the slope at a zero sum is +-inf, as
    # JAX's, where the derivative of abs at 0 would make it nan
    sign = _stop_gradient(fnp.where(total < 0, -1, 1).astype(total.dtype))
    out = fnp.log(sign * total) + (m if keepdims else fnp.squeeze(m, axes))
    if return_sign:
        return out, fnp.sign(total)
    return out if b is None else fnp.where(total < 0, np.nan, out)


def _terms(a, b, m):
    """b exp(a - m), exactly 0 where b is 0 (even where a - m is huge, which would give
    0 * inf), with a's gradient there 0 and b's exp(a - m) (capped below overflow)."""
    if b is None:
        return fnp.exp(a - m)
    nonzero = b != 0
    counted = b * fnp.exp(fnp.where(nonzero, a, -np.inf) - m)
    cap = a.dtype.type(math.log(float(np.finfo(a.dtype).max)) - 1)
    slope = _stop_gradient(fnp.exp(fnp.minimum(fnp.where(nonzero, -np.inf, a) - m, cap)))
    return counted + fnp.where(nonzero, b.dtype.type(0), b) * slope


def _shifted(x, axis, where):
    """``x`` minus its max along ``axis``, the max held constant for gradients. The max
    starts from -inf, as JAX's: an empty axis (or one ``where`` masks out) has a max, and
    the elements masked out become -inf, so their exp is 0."""
    axes = normalize_axes(axis, x.ndim)
    # -inf matters only where a slice can be empty; elsewhere it would be a max with -inf
    # in every program's listing
    can_be_empty = where is not None or any(x.shape[a] == 0 for a in axes)
    initial = -np.inf if can_be_empty else None
    top = _stop_gradient(fnp.max(x, axis=axes, keepdims=True, initial=initial, where=where))
    shifted = x - top
    return shifted if where is None else fnp.where(where, shifted, -np.inf)


def log_softmax(x, axis=-1, where=None):
    """x - logsumexp(x): log-probabilities, stable for large logits. Only the elements
    ``where`` is True take part; the others are -inf (as JAX's). Integer inputs compute in
    floating point (``funcgrad.numpy._util.inexact_dtype``).

    Example:
        >>> fg.nn.log_softmax(np.array([1000.0, 1000.0]))
        array([-0.69314718, -0.69314718])
        >>> fg.nn.log_softmax(np.array([0.0, 5.0, 0.0]), where=np.array([True, False, True]))
        array([-0.69314718,        -inf, -0.69314718])
    """
    x = inexact_arg(x)
    shifted = _shifted(x, axis, where)
    out = shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=axis, keepdims=True))
    return out if where is None else fnp.where(where, out, -np.inf)


def softmax(x, axis=-1, where=None):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows. Only
    the elements ``where`` is True take part; the others are 0 (as JAX's).

    Example:
        >>> fg.nn.softmax(np.log(np.array([1.0, 3.0])))
        array([0.25, 0.75])
        >>> fg.nn.softmax(np.array([1000.0, 1000.0]))
        array([0.5, 0.5])
        >>> fg.nn.softmax(np.zeros((2, 0))).shape  # an empty axis: an empty result
        (2, 0)
    """
    x = inexact_arg(x)
    unnormalized = fnp.exp(_shifted(x, axis, where))
    out = unnormalized / fnp.sum(unnormalized, axis=axis, keepdims=True)
    return out if where is None else fnp.where(where, out, x.dtype.type(0))


def one_hot(x, num_classes: int, dtype=np.float64, axis=-1):
    """1.0 where ``x`` equals the class index, along a new last axis.

    Example:
        >>> fg.nn.one_hot(np.array([0, 2]), 3)
        array([[1., 0., 0.],
               [0., 0., 1.]])
    """
    x = array_arg(x)
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        raise errors.FuncgradTypeError(f"one_hot's num_classes must be an integer, not "
                                       f"{num_classes!r}") from None
    classes = fnp.arange(num_classes).reshape((1,) * x.ndim + (num_classes,))
    hot = fnp.expand_dims(x, -1) == classes
    hot = fnp.where(hot, np.dtype(dtype).type(1), np.dtype(dtype).type(0))
    return hot if axis in (-1, x.ndim) else fnp.moveaxis(hot, -1, axis)


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit; the tanh approximation by default, as in JAX.

    Example:
        >>> fg.nn.gelu(np.array([-1.0, 0.0, 1.0]))
        array([-0.15880801,  0.        ,  0.84119199])
        >>> fg.nn.gelu(np.array([-1.0, 0.0, 1.0]), approximate=False)
        array([-0.15865525,  0.        ,  0.84134475])
    """
    x = inexact_arg(x)
    if approximate:
        c = math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + fnp.tanh(c * (x + 0.044715 * x * x * x)))
    return 0.5 * x * erfc(x / -math.sqrt(2))  # not 1 + erf(...), which is 0 for x << 0


def silu(x):
    """x * sigmoid(x) (also called swish).

    Example:
        >>> fg.nn.silu(np.array([-1.0, 0.0, 1.0]))
        array([-0.26894142,  0.        ,  0.73105858])
    """
    x = array_arg(x)
    return x * logistic(x)


swish = silu


def _negative_part(x):
    """x where x <= 0, else 0: the argument of the exponential branch of elu and its kin,
    kept from overflowing (and from giving inf * 0 gradients) where x is large."""
    return fnp.where(x > 0, x.dtype.type(0), x)


def _float64_unless_float(x):
    """``x`` with integers and booleans as float64: JAX's elu, celu and relu6 mix them
    with a Python float, which makes them float64 whatever their width."""
    x = array_arg(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    Example:
        >>> fg.nn.elu(np.array([-1.0, 0.0, 2.0]))
        array([-0.63212056,  0.        ,  2.        ])
    """
    x = _float64_unless_float(x)
    return fnp.where(x > 0, x, alpha * fnp.expm1(_negative_part(x)))


def celu(x, alpha=1.0):
    """Continuously differentiable elu: x for x > 0, alpha * (exp(x / alpha) - 1) otherwise.

    Example:
        >>> fg.nn.celu(np.array([-1.0, 2.0]), alpha=2.0)
        array([-0.78693868,  2.        ])
    """
    x = _float64_unless_float(x)
    return fnp.where(x > 0, x, alpha * fnp.expm1(_negative_part(x) / alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled elu, scale * elu(x, alpha), with the self-normalizing constants
    alpha = 1.6732632... and scale = 1.0507009....

    Example:
        >>> fg.nn.selu(np.array([-1.0, 1.0]))
        array([-1.11133074,  1.05070099])
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def leaky_relu(x, negative_slope=0.01):
    """x for x >= 0, negative_slope * x otherwise.

    Example:
        >>> fg.nn.leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)
        array([-0.2,  3. ])
    """
    x = array_arg(x)
    return fnp.where(x >= 0, x, negative_slope * x)


def relu6(x):
    """min(max(x, 0), 6), with gradient 0 at both corners and at nan (as JAX's).

    Example:
        >>> fg.nn.relu6(np.array([-1.0, 3.0, 7.0]))
        array([0., 3., 6.])
    """
    x = _float64_unless_float(x)
    inside = (x > 0) & (x < 6)
    clipped = fnp.where(x >= 6, x.dtype.type(6), x)  # nan fails both tests and stays nan
    return fnp.where(inside, x, _constant(fnp.where(x <= 0, x.dtype.type(0), clipped)))


def hard_sigmoid(x):
    """relu6(x + 3) / 6, a piecewise-linear sigmoid.

    Example:
        >>> fg.nn.hard_sigmoid(np.array([-4.0, 0.0, 4.0]))
        array([0. , 0.5, 1. ])
    """
    return relu6(array_arg(x) + 3.0) / 6.0


def hard_silu(x):
    """x * hard_sigmoid(x) (also called hard_swish).

    Example:
        >>> fg.nn.hard_silu(np.array([-4.0, 1.0, 4.0]))
        array([-0.        ,  0.66666667,  4.        ])
    """
    x = array_arg(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x):
    """x clipped to [-1, 1].

    Example:
        >>> fg.nn.hard_tanh(np.array([-2.0, 0.5, 2.0]))
        array([-1. ,  0.5,  1. ])
    """
    x = array_arg(x)
    one = x.dtype.type(1)
    return fnp.where(x > 1, one, fnp.where(x < -1, -one, x))


def soft_sign(x):
    """x / (|x| + 1).

    Example:
        >>> fg.nn.soft_sign(np.array([-1.0, 3.0]))
        array([-0.5 ,  0.75])
    """
    x = inexact_arg(x)
    return x / (fnp.abs(x) + 1)


def mish(x):
    """x * tanh(softplus(x)).

    Example:
        >>> fg.nn.mish(np.array([-1.0, 0.0, 1.0]))
        array([-0.30340146,  0.        ,  0.86509839])
    """
    x = inexact_arg(x)
    return x * fnp.tanh(softplus(x))



def identity(x):
    """``x`` unchanged (as an array): the activation of a layer that has none.

    Example:
        >>> fg.nn.identity(np.array([-2.0, 0.5]))
        array([-2. ,  0.5])
    """
    return array_arg(x)


def tanh(x):
    """The hyperbolic tangent (``funcgrad.numpy.tanh``, as ``jax.nn.tanh`` is jnp.tanh).

    Example:
        >>> fg.nn.tanh(np.array([0.0, 1000.0]))
        array([0., 1.])
    """
    return fnp.tanh(inexact_arg(x))


def log1mexp(x):
    """log(1 - exp(-x)) for x >= 0, accurate at both ends (Machler 2012, as JAX): log(-expm1(-x))
    below log 2, log1p(-exp(-x)) above. -inf at 0, nan below 0; its derivative is
    1 / expm1(x) (inf at 0), each branch differentiated only where it is taken.

    Example:
        >>> fg.nn.log1mexp(np.array([1e-20, 1.0, 50.0]))
        array([-4.60517019e+01, -4.58675145e-01, -1.92874985e-22])
    """
    x = inexact_arg(x)
    c = x.dtype.type(math.log(2.0))
    small = x < c
    # each branch sees a harmless input where it is not taken, so its derivative there is
    # finite (0 times an infinite slope would be nan)
    near = fnp.where(small, x, c)
    far = fnp.where(small, c, x)
    return fnp.where(small, fnp.log(-fnp.expm1(-near)), fnp.log1p(-fnp.exp(-far)))


def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 between, x for x >= 1: softplus's twin that is exactly 0
    and exactly linear outside [-1, 1] (smooth: its derivative is sparse_sigmoid).

    Example:
        >>> fg.nn.sparse_plus(np.array([-2.0, 0.0, 0.5, 3.0]))
        array([0.    , 0.25  , 0.5625, 3.    ])
    """
    x = array_arg(x)
    zero = x.dtype.type(0) if x.dtype.kind == "f" else 0.0
    return fnp.where(x <= -1, zero, fnp.where(x >= 1, x, (x + 1) ** 2 / 4))


def sparse_sigmoid(x):
    """(x + 1) / 2 clipped to [0, 1]: sigmoid's piecewise-linear twin, the derivative of
    sparse_plus. Its derivative at the kinks -1 and 1 is 1/4 (JAX's: the clip's two sides
    averaged).

    Example:
        >>> fg.nn.sparse_sigmoid(np.array([-2.0, 0.0, 0.5, 3.0]))
        array([0.  , 0.5 , 0.75, 1.  ])
        >>> fg.grad(lambda x: fnp.sum(fg.nn.sparse_sigmoid(x)))(np.array([-1.0, 0.0, 1.0]))
        array([0.25, 0.5 , 0.25])
    """
    x = array_arg(x)
    return 0.5 * fnp.clip(x + 1, 0, 2)


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2 (So 2021), a smooth relu; ``b`` >= 0 sets the smoothness
    (b = 0 is relu). Computed without cancellation for x < 0, as b / (2 (sqrt(x^2 + b) - x)),
    and without overflow of x^2 for huge |x| (JAX's formula gives 0 at x = -1e10 and inf at
    1e200: here 1e-10 and 1e200).

    Example:
        >>> fg.nn.squareplus(np.array([-1e10, 0.0, 3.0]))
        array([1.00000000e-10, 1.00000000e+00, 3.30277564e+00])
    """
    x = inexact_arg(x)
    b = fnp.astype(array_arg(b), x.dtype) if not isinstance(b, (int, float)) else \
        x.dtype.type(b)
    limit = x.dtype.type(math.sqrt(float(np.finfo(x.dtype).max)) / 4)
    huge = fnp.abs(x) > limit   # x^2 would overflow; sqrt(x^2 + b) is |x| there
    moderate = fnp.where(huge, x.dtype.type(1), x)
    root = fnp.where(huge, fnp.abs(x), fnp.sqrt(moderate * moderate + b))
    positive = x >= 0
    above = fnp.where(positive, x, x.dtype.type(0))    # each branch finite where not taken
    below = fnp.where(positive, x.dtype.type(-1), x)   # keeps root - below > 0
    return fnp.where(positive, (above + root) / 2, b / (2 * (root - below)))

def glu(x, axis=-1):
    """Gated linear unit: the first half of ``x`` along ``axis`` times the sigmoid of the
    second half (the axis must have even length).

    Example:
        >>> fg.nn.glu(np.array([[1.0, 2.0, 0.0, 100.0]]))
        array([[0.5, 2. ]])
    """
    x = inexact_arg(x)
    size = fnp.shape(x)[normalize_axis(axis, x.ndim)]
    if size % 2:
        raise errors.ShapeError(f"glu splits axis {axis} in two halves, but its length is {size}, "
                         "which is odd")
    a, b = fnp.split(x, 2, axis=axis)
    return a * logistic(b)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None):
    """(x - mean) / sqrt(variance + epsilon) along ``axis``, the mean and variance computed
    from ``x`` (from the elements ``where`` is True) unless given (variance as
    mean(x^2) - mean(x)^2, as JAX's).

    Example:
        >>> fg.nn.standardize(np.array([[1.0, 2.0, 3.0]]), epsilon=0.0)
        array([[-1.22474487,  0.        ,  1.22474487]])
    """
    x = inexact_arg(x)
    given = [array_arg(v) for v in (mean, variance) if v is not None]
    broadcast_shape(x, *given)  # a given mean or variance must fit x
    if mean is None:
        mean = fnp.mean(x, axis=axis, keepdims=True, where=where)
    if variance is None:
        variance = fnp.mean(x * x, axis=axis, keepdims=True, where=where) - mean * mean
    return (x - mean) / fnp.sqrt(variance + epsilon)


def logmeanexp(x, axis=None, where=None, keepdims=False):
    """log(mean(exp(x))) over ``axis`` (only where ``where`` is True), stable for large x.

    Example:
        >>> fg.nn.logmeanexp(np.array([1e4, 1e4]))
        np.float64(10000.0)
        >>> fg.nn.logmeanexp(np.array([0.0, 5.0]), where=np.array([True, False]))
        np.float64(0.0)
    """
    x = inexact_arg(x)
    axes = normalize_axes(axis, x.ndim)
    if where is None:
        count = math.prod(fnp.shape(x)[a] for a in axes)
        log_count = math.log(count) if count else -math.inf  # the empty mean 0 / 0 is nan
        return logsumexp(x, axis=axes, keepdims=keepdims) - log_count
    where = fnp.broadcast_to(where, fnp.shape(x))
    count = fnp.sum(where, axis=axes, keepdims=keepdims)
    return logsumexp(x, axis=axes, keepdims=keepdims, where=where) \
        - fnp.log(count.astype(x.dtype))


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal=False):
    """softmax(query key^T * scale + bias, masked) value, per head, as jax.nn's.

    Shapes: query (B, T, N, H), key and value (B, S, K, H), the batch axis B optional;
    N query heads share each of K key/value heads (N a multiple of K). ``scale`` defaults to
    1 / sqrt(H); ``mask`` (broadcast to (B, N, T, S)) is True where a query may attend;
    ``is_causal`` lets query t attend only to keys s <= t. Returns (B, T, N, H).

    Example:
        >>> q = np.ones((1, 2, 1, 2))                      # two queries, one head
        >>> k = np.array([[[[1.0, 0.0]], [[0.0, 1.0]]]])   # two keys
        >>> v = np.array([[[[1.0, 0.0]], [[0.0, 1.0]]]])
        >>> fg.nn.dot_product_attention(q, k, v, is_causal=True)[0, :, 0]
        array([[1. , 0. ],
               [0.5, 0.5]])
    """
    query, key, value = array_arg(query), array_arg(key), array_arg(value)
    unbatched = query.ndim == 3
    if unbatched:
        query, key, value = (fnp.expand_dims(a, 0) for a in (query, key, value))
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise errors.ShapeError("dot_product_attention takes query, key and value of rank 3 or 4 "
                         f"(batch, length, heads, head size); got {fnp.shape(query)}, "
                         f"{fnp.shape(key)}, {fnp.shape(value)}")
    heads, kv_heads, head_size = query.shape[2], key.shape[2], query.shape[3]
    if heads % kv_heads or value.shape[2] != kv_heads:
        raise errors.ShapeError(f"dot_product_attention: {heads} query heads cannot share "
                         f"{kv_heads} key and {value.shape[2]} value heads")
    if kv_heads != heads:  # grouped-query attention: each key/value head serves a group
        key = fnp.repeat(key, heads // kv_heads, axis=2)
        value = fnp.repeat(value, heads // kv_heads, axis=2)
    scale = 1.0 / math.sqrt(head_size) if scale is None else scale
    logits = fnp.einsum("btnh,bsnh->bnts", query, key) * scale
    if bias is not None:
        bias = array_arg(bias)
        broadcast_shape(logits, bias)
        logits = logits + bias
    allowed = None if mask is None else fnp.broadcast_to(array_arg(mask), logits.shape)
    if is_causal:
        t, s = logits.shape[-2:]
        causal = np.tril(np.ones((t, s), dtype=bool))
        allowed = causal if allowed is None else fnp.logical_and(allowed, causal)
    if allowed is not None:
        logits = fnp.where(allowed, logits, np.finfo(logits.dtype).min)
    out = fnp.einsum("bnts,bsnh->btnh", softmax(logits, axis=-1), value)
    return out[0] if unbatched else out
# --- training: dropout, losses, initializers ------------------------------------------------

__all__ += [
    "dropout",
    "huber",
    "initializers",
    "mse",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
]


def dropout(key, rate, x):
    """Zero each element of ``x`` with probability ``rate`` and scale the rest by
    1 / (1 - rate), so the expectation is unchanged (inverted dropout; rate 0 is ``x``).

    Example:
        >>> y = fg.nn.dropout(fg.random.key(0), 0.5, np.ones(10000))
        >>> sorted(set(y.tolist())), float(y.mean()).__round__(1)
        ([0.0, 2.0], 1.0)
    """
    from funcgrad.random import bernoulli
    x = array_arg(x)
    if not 0.0 <= rate < 1.0:
        raise errors.FuncgradValueError(f"dropout rate must be in [0, 1), not {rate}")
    if rate == 0.0:
        return x
    keep = bernoulli(key, 1.0 - rate, tuple(x.shape))
    return fnp.where(keep, x / (1.0 - rate), x.dtype.type(0))


def softmax_cross_entropy(logits, labels):
    """Cross-entropy between softmax(``logits``) and ``labels`` along the last axis, one
    value per example. Integer ``labels`` (shape ``logits.shape[:-1]``) are class indices;
    float labels are one-hot or probability vectors (shape of ``logits``). Computed from
    log_softmax, so large logits do not overflow; a -inf logit (a masked class) whose label
    is 0 adds 0, as in optax.

    Example:
        >>> logits = np.array([[2.0, 0.0, -1.0], [1e4, 0.0, 0.0]])
        >>> fg.nn.softmax_cross_entropy(logits, np.array([0, 1]))
        array([1.6984602e-01, 1.0000000e+04])
        >>> fg.nn.softmax_cross_entropy(logits, np.eye(3)[[0, 1]])
        array([1.6984602e-01, 1.0000000e+04])
    """
    logits, labels = array_arg(logits), array_arg(labels)
    if labels.dtype.kind in "iu":
        return softmax_cross_entropy_with_integer_labels(logits, labels)
    broadcast_shape(logits, labels)
    # a class with label 0 adds 0, even where its logit is -inf (0 * -inf would be nan)
    logp = fnp.where(labels == 0, 0.0, log_softmax(logits, axis=-1))
    return -fnp.sum(labels * logp, axis=-1)


def softmax_cross_entropy_with_integer_labels(logits, labels):
    """Cross-entropy of class indices ``labels`` under softmax(``logits``): the negative
    log-probability of each example's class.

    Example:
        >>> fg.nn.softmax_cross_entropy_with_integer_labels(np.zeros((1, 4)), np.array([2]))
        array([1.38629436])
    """
    logits, labels = array_arg(logits), array_arg(labels)
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        from funcgrad.core.errors import ShapeError
        raise ShapeError(f"integer labels of shape {tuple(labels.shape)} do not match logits "
                         f"of shape {tuple(logits.shape)} (expected {tuple(logits.shape[:-1])})")
    logp = log_softmax(logits, axis=-1)
    picked = fnp.take_along_axis(logp, fnp.expand_dims(labels, -1), axis=-1)
    return -fnp.squeeze(picked, -1)


def sigmoid_binary_cross_entropy(logits, labels):
    """Elementwise cross-entropy of binary ``labels`` (0/1 or probabilities) under
    sigmoid(``logits``), as max(x, 0) - x y + log(1 + exp(-|x|)): no overflow.

    Example:
        >>> logits, labels = np.array([0.0, 1e4, -1e4]), np.array([1.0, 1.0, 1.0])
        >>> fg.nn.sigmoid_binary_cross_entropy(logits, labels)
        array([6.93147181e-01, 0.00000000e+00, 1.00000000e+04])
    """
    x, y = array_arg(logits), array_arg(labels)
    broadcast_shape(x, y)
    return fnp.maximum(x, 0) - x * y + fnp.log1p(fnp.exp(-fnp.abs(x)))


def _difference(predictions, targets):
    """predictions - targets, or a ShapeError naming the caller's line if they do not
    broadcast (NumPy's operator would raise a bare ValueError on concrete arrays)."""
    predictions, targets = array_arg(predictions), array_arg(targets)
    broadcast_shape(predictions, targets)
    return predictions - targets


def huber(predictions, targets, delta=1.0):
    """Elementwise Huber loss: err**2 / 2 within ``delta``, delta (|err| - delta / 2)
    beyond (as optax.huber_loss).

    Example:
        >>> fg.nn.huber(np.array([0.5, 3.0]), np.zeros(2))
        array([0.125, 2.5  ])
    """
    err = fnp.abs(_difference(predictions, targets))
    quadratic = fnp.minimum(err, delta)
    return 0.5 * quadratic * quadratic + delta * (err - quadratic)


def mse(predictions, targets, axis=None):
    """Mean squared error over ``axis`` (all elements by default).

    Example:
        >>> float(fg.nn.mse(np.array([1.0, 3.0]), np.zeros(2)))
        5.0
    """
    err = _difference(predictions, targets)
    return fnp.mean(err * err, axis=axis)


from funcgrad import nn_init as initializers  # noqa: E402  (nn_init uses funcgrad.nn)
