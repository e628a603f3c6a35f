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

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.numpy._util import array_arg, normalize_axes
from funcgrad.ops.elementwise import erf, logistic
from funcgrad.ops.elementwise import stop_gradient as _stop_gradient

__all__ = [
    "gelu",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "one_hot",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swish",
]


def relu(x):
    """max(x, 0). Its gradient at 0 is 0 (as in JAX's nn.relu).

    Example:
        >>> fg.nn.relu(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
        >>> fg.grad(lambda x: fnp.sum(fg.nn.relu(x)))(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 1.])
    """
    x = array_arg(x)
    return fnp.where(x > 0, x, x.dtype.type(0))


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), stable for large |x|.

    Example:
        >>> fg.nn.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
    """
    return logistic(array_arg(x))


def softplus(x):
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) so it never overflows.

    Example:
        >>> fg.nn.softplus(np.array([-1e4, 0.0, 1e4]))
        array([0.00000000e+00, 6.93147181e-01, 1.00000000e+04])
    """
    x = array_arg(x)
    return fnp.maximum(x, 0) + fnp.log1p(fnp.exp(-fnp.abs(x)))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|.

    Example:
        >>> fg.nn.log_sigmoid(np.array([-1000.0, 0.0]))
        array([-1.00000000e+03, -6.93147181e-01])
    """
    return -softplus(-array_arg(x))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, shifted by the max so that it never overflows.

    Example:
        >>> fg.nn.logsumexp(np.array([[0.0, 0.0], [1e4, 1e4]]), axis=1)
        array([6.93147181e-01, 1.00006931e+04])
        >>> fg.nn.logsumexp(np.array([1e4, 1e4]))
        np.float64(10000.69314718056)
    """
    x = array_arg(x)
    axes = normalize_axes(axis, x.ndim)
    m = _stop_gradient(fnp.max(x, axis=axes, keepdims=True))
    m = fnp.where(fnp.isfinite(m), m, 0)
    total = fnp.sum(fnp.exp(x - m), axis=axes, keepdims=keepdims)  # a scalar, like np.sum
    return fnp.log(total) + (m if keepdims else fnp.squeeze(m, axes))


def log_softmax(x, axis=-1):
    """x - logsumexp(x): log-probabilities, stable for large logits.

    Example:
        >>> fg.nn.log_softmax(np.array([1000.0, 1000.0]))
        array([-0.69314718, -0.69314718])
    """
    x = array_arg(x)
    shifted = x - _stop_gradient(fnp.max(x, axis=axis, keepdims=True))
    return shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows.

    Example:
        >>> fg.nn.softmax(np.log(np.array([1.0, 3.0])))
        array([0.25, 0.75])
        >>> fg.nn.softmax(np.array([1000.0, 1000.0]))
        array([0.5, 0.5])
    """
    x = array_arg(x)
    unnormalized = fnp.exp(x - _stop_gradient(fnp.max(x, axis=axis, keepdims=True)))
    return unnormalized / fnp.sum(unnormalized, axis=axis, keepdims=True)


def one_hot(x, num_classes: int, dtype=np.float64, axis=-1):
    """1.0 where ``x`` equals the class index, along a new last axis.

    Example:
        >>> fg.nn.one_hot(np.array([0, 2]), 3)
        array([[1., 0., 0.],
               [0., 0., 1.]])
    """
    x = array_arg(x)
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
    x = array_arg(x)
    if approximate:
        c = math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + fnp.tanh(c * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def silu(x):
    """x * sigmoid(x) (also called swish).

    Example:
        >>> fg.nn.silu(np.array([-1.0, 0.0, 1.0]))
        array([-0.26894142,  0.        ,  0.73105858])
    """
    x = array_arg(x)
    return x * logistic(x)


swish = silu


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
        raise ValueError(f"dropout rate must be in [0, 1), not {rate}")
    if rate == 0.0:
        return x
    keep = bernoulli(key, 1.0 - rate, tuple(x.shape))
    return fnp.where(keep, x / (1.0 - rate), x.dtype.type(0))


def softmax_cross_entropy(logits, labels):
    """Cross-entropy between softmax(``logits``) and ``labels`` along the last axis, one
    value per example. Integer ``labels`` (shape ``logits.shape[:-1]``) are class indices;
    float labels are one-hot or probability vectors (shape of ``logits``). Computed from
    log_softmax, so large logits do not overflow.

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
    return -fnp.sum(labels * log_softmax(logits, axis=-1), axis=-1)


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
        >>> fg.nn.sigmoid_binary_cross_entropy(np.array([0.0, 1e4, -1e4]), np.array([1.0, 1.0, 1.0]))
        array([6.93147181e-01, 0.00000000e+00, 1.00000000e+04])
    """
    x, y = array_arg(logits), array_arg(labels)
    return fnp.maximum(x, 0) - x * y + fnp.log1p(fnp.exp(-fnp.abs(x)))


def huber(predictions, targets, delta=1.0):
    """Elementwise Huber loss: err**2 / 2 within ``delta``, delta (|err| - delta / 2)
    beyond (as optax.huber_loss).

    Example:
        >>> fg.nn.huber(np.array([0.5, 3.0]), np.zeros(2))
        array([0.125, 2.5  ])
    """
    err = fnp.abs(array_arg(predictions) - array_arg(targets))
    quadratic = fnp.minimum(err, delta)
    return 0.5 * quadratic * quadratic + delta * (err - quadratic)


def mse(predictions, targets, axis=None):
    """Mean squared error over ``axis`` (all elements by default).

    Example:
        >>> float(fg.nn.mse(np.array([1.0, 3.0]), np.zeros(2)))
        5.0
    """
    err = array_arg(predictions) - array_arg(targets)
    return fnp.mean(err * err, axis=axis)


from funcgrad import nn_init as initializers
