"""Initializers for network parameters, as ``jax.nn.initializers``: each is a function
``init(key, shape, dtype=np.float64)`` (``zeros`` and ``ones`` are; the others are made by a
factory taking their options). Also reachable as ``funcgrad.nn.initializers``.

Fan-in and fan-out are read from the last two axes of ``shape`` (``in_axis=-2``,
``out_axis=-1``: a weight ``W`` used as ``x @ W``); other axes count as receptive field,
except those named by ``batch_axis`` (a stack of independent weights), as JAX's.
The normal ones draw from a normal truncated at two standard deviations, rescaled to keep
the variance, as JAX does.

Example:
    >>> w = fg.nn.initializers.glorot_uniform()(fg.random.key(0), (3, 4))
    >>> w.shape, w.dtype
    ((3, 4), dtype('float64'))
"""

from __future__ import annotations

import math

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import random
from funcgrad.core.errors import FuncgradTypeError as _FuncgradTypeError
from funcgrad.core.errors import ShapeError as _ShapeError

__all__ = [
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "ones",
    "orthogonal",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

# the standard deviation of a standard normal truncated to (-2, 2)
_TRUNCATED_STD = 0.87962566103423978


def zeros(key, shape, dtype=np.float64):
    """All zeros (the key is unused).

    Example:
        >>> fg.nn.initializers.zeros(fg.random.key(0), (2,))
        array([0., 0.])
    """
    return np.zeros(shape, dtype)


def ones(key, shape, dtype=np.float64):
    """All ones (the key is unused).

    Example:
        >>> fg.nn.initializers.ones(fg.random.key(0), (2,))
        array([1., 1.])
    """
    return np.ones(shape, dtype)


def constant(value):
    """An initializer filling with ``value``.

    Example:
        >>> fg.nn.initializers.constant(0.1)(fg.random.key(0), (2,))
        array([0.1, 0.1])
    """
    return lambda key, shape, dtype=np.float64: np.full(shape, value, dtype)


def normal(stddev=1e-2):
    """Normal numbers with standard deviation ``stddev``.

    Example:
        >>> fg.nn.initializers.normal(1.0)(fg.random.key(0), (2,)).shape
        (2,)
    """
    return lambda key, shape, dtype=np.float64: stddev * random.normal(key, shape, dtype)


def truncated_normal(stddev=1e-2, dtype=np.float64, lower=-2.0, upper=2.0):
    """Normal numbers truncated to (``lower``, ``upper``) standard deviations, times
    ``stddev`` (as JAX's: ``stddev`` is the scale before truncation).

    Example:
        >>> w = fg.nn.initializers.truncated_normal(1.0)(fg.random.key(0), (1000,))
        >>> bool(np.abs(w).max() < 2)
        True
    """
    def init(key, shape, dtype=dtype):
        return stddev * random.truncated_normal(key, lower, upper, tuple(shape), dtype)
    return init


def uniform(scale=1e-2):
    """Uniform numbers on [0, scale).

    Example:
        >>> bool(fg.nn.initializers.uniform(1.0)(fg.random.key(0), (5,)).max() < 1)
        True
    """
    return lambda key, shape, dtype=np.float64: scale * random.uniform(key, shape, dtype)


def _size(shape, axes, name):
    """The number of elements along ``axes`` (an axis or a sequence of them) of ``shape``."""
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    for axis in axes:
        if not -len(shape) <= axis < len(shape):
            raise _ShapeError(f"{name} {axis} is out of range for a weight of shape {shape}")
    return math.prod(shape[axis] for axis in axes)


def _fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """Fan-in and fan-out as JAX computes them: the sizes along ``in_axis`` and ``out_axis``,
    each times the receptive field, the size of the axes that are in none of the three
    (``batch_axis`` is left out: a stack of independent weights)."""
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise _ShapeError(f"a variance-scaling initializer needs a weight of two axes or more "
                          f"for its default in_axis=-2, not shape {shape} (or give in_axis "
                          "and out_axis)")
    in_size = _size(shape, in_axis, "in_axis")
    out_size = _size(shape, out_axis, "out_axis")
    receptive = math.prod(shape) / in_size / out_size / _size(shape, batch_axis, "batch_axis")
    return in_size * receptive, out_size * receptive


_DENOMINATORS = {"fan_in": lambda fan_in, fan_out: fan_in,
                 "fan_out": lambda fan_in, fan_out: fan_out,
                 "fan_avg": lambda fan_in, fan_out: (fan_in + fan_out) / 2,
                 "fan_geo_avg": lambda fan_in, fan_out: math.sqrt(fan_in * fan_out)}


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=np.float64):
    """Numbers with variance ``scale / n``, n the fan-in, fan-out, their mean or their
    geometric mean (``mode`` "fan_in", "fan_out", "fan_avg", "fan_geo_avg"), from a
    "truncated_normal", "normal" or "uniform" ``distribution``. The fans are computed as
    JAX's: ``in_axis`` and ``out_axis`` (an axis or a sequence of axes) times the other axes
    (the receptive field) except ``batch_axis``, which are independent weights stacked.

    Example:
        >>> init = fg.nn.initializers.variance_scaling(2.0, "fan_in", "normal")
        >>> float(init(fg.random.key(0), (500, 400)).var()).__round__(3)
        0.004
        >>> stacked = fg.nn.initializers.variance_scaling(1.0, "fan_in", "normal",
        ...                                               batch_axis=0)
        >>> float(stacked(fg.random.key(0), (50, 100, 80)).var()).__round__(3)  # 1 / 100
        0.01
    """
    if mode not in _DENOMINATORS:
        raise _FuncgradTypeError("mode is 'fan_in', 'fan_out', 'fan_avg' or 'fan_geo_avg', "
                                 f"not {mode!r}")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise _FuncgradTypeError("distribution is 'truncated_normal', 'normal' or 'uniform', "
                                f"not {distribution!r}")

    def init(key, shape, dtype=dtype):
        shape = tuple(shape)
        variance = scale / _DENOMINATORS[mode](*_fans(shape, in_axis, out_axis, batch_axis))
        if distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return random.uniform(key, shape, dtype, -limit, limit)
        if distribution == "normal":
            return math.sqrt(variance) * random.normal(key, shape, dtype)
        std = math.sqrt(variance) / _TRUNCATED_STD
        return std * random.truncated_normal(key, -2.0, 2.0, shape, dtype)
    return init


def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=np.float64):
    """Glorot (Xavier) uniform: variance 2 / (fan_in + fan_out).

    Example:
        >>> w = fg.nn.initializers.glorot_uniform()(fg.random.key(0), (30, 20))
        >>> bool(np.abs(w).max() <= np.sqrt(6 / 50))
        True
    """
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis,
                            dtype)


def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=np.float64):
    """Glorot (Xavier) normal: variance 2 / (fan_in + fan_out), truncated at 2 sigma.

    Example:
        >>> fg.nn.initializers.glorot_normal()(fg.random.key(0), (3, 2)).shape
        (3, 2)
    """
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=np.float64):
    """He (Kaiming) uniform: variance 2 / fan_in, for ReLU layers.

    Example:
        >>> fg.nn.initializers.he_uniform()(fg.random.key(0), (3, 2)).shape
        (3, 2)
    """
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis,
                            dtype)


def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=np.float64):
    """He (Kaiming) normal: variance 2 / fan_in, for ReLU layers.

    Example:
        >>> w = fg.nn.initializers.he_normal()(fg.random.key(0), (400, 300))
        >>> float(w.var() * 400).__round__(1)
        2.0
    """
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=np.float64):
    """LeCun uniform: variance 1 / fan_in.

    Example:
        >>> fg.nn.initializers.lecun_uniform()(fg.random.key(0), (3, 2)).shape
        (3, 2)
    """
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis,
                            dtype)


def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=np.float64):
    """LeCun normal: variance 1 / fan_in (for SELU networks).

    Example:
        >>> w = fg.nn.initializers.lecun_normal()(fg.random.key(0), (400, 300))
        >>> float(w.var() * 400).__round__(1)
        1.0
    """
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


def orthogonal(scale=1.0, column_axis=-1):
    """A matrix with orthonormal columns (or rows, whichever are fewer), times ``scale``:
    the Q of a QR factorisation of normal numbers, its signs fixed by R's diagonal so that
    it is uniformly (Haar) distributed. funcgrad's QR traces, so the key may be traced
    (under ``jit`` or ``vmap``).

    Example:
        >>> q = fg.nn.initializers.orthogonal()(fg.random.key(0), (4, 3))
        >>> bool(np.allclose(q.T @ q, np.eye(3)))
        True
    """
    def init(key, shape, dtype=np.float64):
        shape = tuple(shape)
        if len(shape) < 2:
            raise _ShapeError(f"orthogonal initialization needs two axes or more, not {shape}")
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        a = random.normal(key, (max(n_rows, n_cols), min(n_rows, n_cols)))
        q, r = fnp.linalg.qr(a)
        # sign(diag R), with +1 where the diagonal is 0 (probability 0; keeps q orthogonal)
        q = q * fnp.where(fnp.diagonal(r) < 0, -1.0, 1.0)
        if n_rows < n_cols:
            q = fnp.transpose(q)
        rest = tuple(np.delete(shape, column_axis % len(shape)))
        q = fnp.moveaxis(fnp.reshape(q, (*rest, n_cols)), -1, column_axis)
        return fnp.astype(scale * q, dtype)
    return init


# JAX's other names for the same initializers
xavier_normal, xavier_uniform = glorot_normal, glorot_uniform
kaiming_normal, kaiming_uniform = he_normal, he_uniform
