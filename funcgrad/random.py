"""Random numbers with explicit keys, the same eager, compiled and batched.

A *key* is a plain ``uint32`` array of shape ``(2,)``, as ``jax.random.PRNGKey`` makes. Every
function here is a pure function of its key: the same key gives the same numbers, so a key is
used once and ``split`` makes new ones. Keys are ordinary arrays, so they pass through
``jit``, ``grad`` (they have no gradient) and ``vmap`` (a batch of keys of shape ``(n, 2)``).

The generator is **Threefry-2x32** with 20 rounds (Salmon et al. 2011), as in JAX: a
counter-based generator, whose n-th number is a block cipher applied to the counter n under
the key. We chose it over Philox because it needs only 32-bit additions, rotations and xors
(no 32x32->64-bit multiply-high), which NumPy vectorises and Numba compiles to the same bits,
and because it is the generator JAX users already reason about (keys as uint32[2]). Counters
have two words: the high one names the purpose (0: numbers, 1: ``split``, 2: ``fold_in``), the
low one counts, so ``split`` and ``bits`` of one key never share a block. The bits are not
JAX's bit for bit (its layout of counters differs); the key discipline is the same.

Floating-point results are ``float64`` by default (funcgrad is float64-first, where JAX
defaults to float32); ``dtype=np.float32`` gives float32. A float64 uniform uses 53 random
bits from two 32-bit words; normals use the Box-Muller transform on two such uniforms.

Example:
    >>> key = fg.random.key(0)
    >>> key, sub = fg.random.split(key)
    >>> x = fg.random.normal(sub, (3,))
    >>> bool(np.all(x == fg.jit(fg.random.normal, static_argnums=1)(sub, (3,))))
    True
"""

from __future__ import annotations

import math
import operator

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError as _FuncgradTypeError
from funcgrad.core.errors import FuncgradValueError as _FuncgradValueError
from funcgrad.core.errors import ShapeError as _ShapeError
from funcgrad.core.tracing import Tracer as _Tracer
from funcgrad.numpy._util import array_arg as _array_arg
from funcgrad.ops.random import binomial as _binomial
from funcgrad.ops.random import gamma_reparam as _gamma_reparam
from funcgrad.ops.random import poisson as _poisson
from funcgrad.ops.random import random_order as _random_order
from funcgrad.ops.random import threefry2x32 as _threefry2x32
from funcgrad.ops.elementwise import logistic as _logistic
from funcgrad.ops.elementwise import stop_gradient as _stop_gradient
from funcgrad.ops.shape import iota as _iota

__all__ = [
    "ball",
    "bernoulli",
    "beta",
    "binomial",
    "bits",
    "categorical",
    "cauchy",
    "chisquare",
    "choice",
    "clone",
    "dirichlet",
    "double_sided_maxwell",
    "exponential",
    "f",
    "fold_in",
    "gamma",
    "generalized_normal",
    "geometric",
    "gumbel",
    "key",
    "key_data",
    "laplace",
    "loggamma",
    "logistic",
    "lognormal",
    "maxwell",
    "multinomial",
    "multivariate_normal",
    "normal",
    "orthogonal",
    "pareto",
    "permutation",
    "poisson",
    "PRNGKey",
    "rademacher",
    "randint",
    "rayleigh",
    "split",
    "t",
    "triangular",
    "truncated_normal",
    "uniform",
    "wald",
    "weibull_min",
    "wrap_key_data",
]

_NUMBERS, _SPLIT, _FOLD_IN = 0, 1, 2     # the counter's high word: what the block is for
_GAMMA_PROPOSALS = 12  # Marsaglia-Tsang accepts >= 95% of proposals: 12 all fail < 1e-15


# --- keys ---------------------------------------------------------------------------------

def key(seed, *, impl=None) -> np.ndarray:
    """A key from an integer seed: ``uint32[2]``, the seed's high and low 32 bits.
    ``impl`` may only name Threefry, the one generator.

    Example:
        >>> fg.random.key(42)
        array([ 0, 42], dtype=uint32)
    """
    _impl(impl)
    if isinstance(seed, _Tracer):
        seed = fnp.astype(seed, np.int64)
        high = fnp.astype(fnp.floor_divide(seed, 2 ** 32), np.uint32)
        return fnp.stack([high, fnp.astype(fnp.mod(seed, 2 ** 32), np.uint32)])
    if isinstance(seed, (float, np.floating)) or np.ndim(seed) != 0:
        raise _FuncgradTypeError(f"a seed is an integer, not {seed!r:.60}")
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:  # the key keeps 64 bits: more would collide silently
        raise _FuncgradValueError(f"a seed is a 64-bit integer, in [-2**63, 2**64), not {seed}")
    return np.array([(seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF], dtype=np.uint32)


PRNGKey = key
"""The same as ``key`` (JAX's older name; both give ``uint32[2]``).

Example:
    >>> fg.random.PRNGKey(1)
    array([0, 1], dtype=uint32)
"""


def key_data(keys):
    """The ``uint32`` words of ``keys`` (shape ``(..., 2)``). funcgrad's keys are those words
    already, so this is the identity; it exists so that code written for JAX's typed keys
    (``jax.random.key``) runs unchanged.

    Example:
        >>> fg.random.key_data(fg.random.key(7))
        array([0, 7], dtype=uint32)
    """
    return _key_words(keys, "key_data")


def wrap_key_data(key_bits, impl=None):
    """Keys from their ``uint32`` words (the inverse of ``key_data``; the identity here).
    ``impl`` may only name Threefry, the one generator.

    Example:
        >>> fg.random.wrap_key_data(np.array([0, 7], np.uint32))
        array([0, 7], dtype=uint32)
    """
    _impl(impl)
    return _key_words(key_bits, "wrap_key_data")


def _impl(impl):
    if impl not in (None, "threefry2x32"):
        raise _FuncgradTypeError(f"funcgrad's keys are Threefry-2x32 keys, not {impl!r}")


def _key_words(keys, name):
    keys = _array_arg(keys, "keys")
    if np.dtype(keys.dtype) != np.uint32 or not keys.shape or keys.shape[-1] != 2:
        raise _FuncgradTypeError(f"{name} takes keys, uint32 arrays of shape (..., 2), not "
                                f"{keys.dtype}{list(keys.shape)}")
    return keys


def _words(k):
    k = _array_arg(k, "key")
    if tuple(k.shape) != (2,) or np.dtype(k.dtype) != np.uint32:
        raise _FuncgradTypeError(f"a key is a uint32 array of shape (2,) (from "
                                f"fg.random.key), not {k.dtype}{list(k.shape)}; for a batch "
                                "of keys, use vmap")
    return k[0], k[1]


def _blocks(k, purpose, n):
    """Two uint32 words per counter 0..n-1 of ``purpose``, each of shape (n,)."""
    k0, k1 = _words(k)
    counter = _iota(np.uint32, (n,))
    return _threefry2x32(k0, k1, np.uint32(purpose), counter)


def split(key, num=2):
    """``num`` new keys from ``key`` (an array of shape ``(num, 2)``; a tuple ``num`` gives
    shape ``(*num, 2)``). Use each once; do not use ``key`` again.

    Example:
        >>> k1, k2 = fg.random.split(fg.random.key(0))
        >>> bool(np.any(k1 != k2))
        True
    """
    shape = (num,) if isinstance(num, (int, np.integer)) else tuple(num)
    n = math.prod(shape)
    if n == 0:
        return np.zeros((*shape, 2), np.uint32)
    y0, y1 = _blocks(key, _SPLIT, n)
    return fnp.reshape(fnp.stack([y0, y1], axis=1), (*shape, 2))


def fold_in(key, data):
    """A new key from ``key`` and an integer ``data`` (a step number, a process id): the
    same pair always gives the same key, different data give independent keys.

    Example:
        >>> k = fg.random.key(0)
        >>> bool(np.all(fg.random.fold_in(k, 3) == fg.random.fold_in(k, 3)))
        True
    """
    k0, k1 = _words(key)
    data = _array_arg(data, "data")
    if np.dtype(data.dtype).kind not in "iub" or tuple(data.shape) != ():
        raise _FuncgradTypeError(f"fold_in takes one integer, not {data.dtype}{list(data.shape)}")
    word = fnp.astype(fnp.mod(fnp.astype(data, np.int64), 2 ** 32), np.uint32)
    y0, y1 = _threefry2x32(k0, k1, np.uint32(_FOLD_IN), word)
    return fnp.stack([y0, y1])


# --- bits and uniforms --------------------------------------------------------------------

def _shape_arg(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if isinstance(shape, str):  # (iterable, and each digit an int: "12" would be (1, 2))
        raise _FuncgradTypeError(f"a shape is a tuple of integer dimensions, not {shape!r:.60}")
    try:
        dims = tuple(operator.index(d) for d in shape)  # (int(2.5) would be 2)
    except TypeError:
        raise _FuncgradTypeError(f"a shape is a tuple of integer dimensions, not "
                                 f"{shape!r:.60}") from None
    if any(d < 0 for d in dims):  # else an internal iota reports a dimension never given
        raise _ShapeError(f"a shape has no negative dimensions, not {dims}")
    return dims


def _words_of_shape(key, shape):
    """(high, low): two uint32 arrays of ``shape``, one 64-bit block per element."""
    n = math.prod(shape)
    if n == 0:
        z = np.zeros(shape, np.uint32)
        return z, z
    y0, y1 = _blocks(key, _NUMBERS, n)
    return fnp.reshape(y0, shape), fnp.reshape(y1, shape)


def bits(key, shape=(), dtype=np.uint32):
    """Uniformly random unsigned integers of ``shape``, every bit random (``uint8``,
    ``uint16``, ``uint32`` or ``uint64``).

    Example:
        >>> fg.random.bits(fg.random.key(0), (2,)).dtype
        dtype('uint32')
    """
    shape, dtype = _shape_arg(shape), np.dtype(np.uint32 if dtype is None else dtype)
    high, low = _words_of_shape(key, shape)
    if dtype == np.uint32:
        return high
    if dtype == np.uint64:
        return fnp.astype(high, np.uint64) * np.uint64(2 ** 32) + fnp.astype(low, np.uint64)
    if dtype in (np.uint8, np.uint16):  # the word's top bits (the casts would keep the low)
        return fnp.astype(high // np.uint32(2 ** (32 - 8 * dtype.itemsize)), dtype)
    raise _FuncgradTypeError(f"bits makes uint8, uint16, uint32 or uint64, not {dtype}")


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise _FuncgradTypeError(f"random floats are float32 or float64, not {dtype}")
    return dtype


def _unit(key, shape, dtype, offset=0.0):
    """Uniform on [0, 1) on the grid of ``dtype``'s resolution (53 or 24 bits); ``offset``
    0.5 shifts it half a step, onto (0, 1), for transforms that take logarithms."""
    high, low = _words_of_shape(key, shape)
    high = fnp.astype(high, np.float64)
    if dtype == np.float32:
        grid = fnp.floor(high * 2.0 ** -8)
        return fnp.astype((grid + offset) * 2.0 ** -24, np.float32)
    low = fnp.floor(fnp.astype(low, np.float64) * 2.0 ** -11)
    return (high * 2.0 ** 21 + low + offset) * 2.0 ** -53


def _open_unit(key, shape, dtype):
    return _unit(key, shape, dtype, offset=0.5)


def _param(x, dtype):
    x = _array_arg(x)
    return x if x.dtype == dtype else fnp.astype(x, dtype)


def _shape_of(shape, *params):
    if shape is None:
        return tuple(np.broadcast_shapes(*(tuple(p.shape) for p in params)))
    shape = _shape_arg(shape)
    _fits(shape, *params)
    return shape


def _fits(shape, *params):
    """Check that the parameters broadcast to ``shape`` (as JAX does): a smaller ``shape``
    drew one number for all of a parameter's elements, silently the same one."""
    shapes = [tuple(p.shape) for p in params]
    if _broadcast(shape, *shapes) != shape:
        raise _ShapeError(f"the parameters' shapes {', '.join(map(str, shapes))} must "
                          f"broadcast to the shape argument {shape}: each number needs its "
                          "own draw")


def uniform(key, shape=(), dtype=np.float64, minval=0.0, maxval=1.0):
    """Uniform on ``[minval, maxval)``.

    Example:
        >>> u = fg.random.uniform(fg.random.key(0), (1000,))
        >>> bool(0 <= u.min() and u.max() < 1)
        True
    """
    shape, dtype = _shape_arg(shape), _float_dtype(dtype)
    lo, hi = _param(minval, dtype), _param(maxval, dtype)
    _fits(shape, lo, hi)
    u = _unit(key, shape, dtype)
    return fnp.maximum(lo, fnp.minimum(u * (hi - lo) + lo, _below(hi)))


def _below(x):
    """The largest float below ``x`` (rounding of u * (hi - lo) + lo can reach hi)."""
    return x - fnp.abs(x) * np.finfo(x.dtype).epsneg


def normal(key, shape=(), dtype=np.float64):
    """Standard normal numbers (Box-Muller on two uniforms per number).

    Example:
        >>> z = fg.random.normal(fg.random.key(0), (20000,))
        >>> bool(abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03)
        True
    """
    shape, dtype = _shape_arg(shape), _float_dtype(dtype)
    u = _unit(key, (2, *shape), dtype)
    radius = fnp.sqrt(-2.0 * fnp.log1p(-u[0]))
    return fnp.astype(radius * fnp.cos((2 * np.pi) * u[1]), dtype)


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _ndtri_of_log(log_p):
    """x with log Phi(x) = ``log_p``, also where p underflows: a first guess (ndtri of p,
    or the tail's asymptote -sqrt(t - log t - log 2 pi), t = -2 log p), then Newton steps on
    log Phi (whose slope phi/Phi is smooth out to any tail)."""
    from funcgrad.scipy.special import log_ndtr, ndtri
    representable = log_p > -700.0
    t = fnp.maximum(-2.0 * log_p, 1.0)
    tail = -fnp.sqrt(fnp.maximum(t - fnp.log(t) - 2 * _LOG_SQRT_2PI, 0.0))
    x = fnp.where(representable, ndtri(fnp.exp(fnp.where(representable, log_p, 0.0))), tail)
    for _ in range(3):
        log_cdf = log_ndtr(x)
        x = x - (log_cdf - log_p) * fnp.exp(log_cdf + 0.5 * x * x + _LOG_SQRT_2PI)
    return x


def truncated_normal(key, lower, upper, shape=None, dtype=np.float64):
    """Standard normal numbers conditioned on ``lower < x < upper``, by inverting the CDF
    in the log domain: an interval in the upper half is mirrored into the lower one, where
    the CDF is small and log_ndtr keeps its digits, so far tails (lower = 5, upper = 6, or
    -40 < x < -39) are sampled accurately. The bounds may be infinite.

    Example:
        >>> x = fg.random.truncated_normal(fg.random.key(0), -1.0, 2.0, (1000,))
        >>> bool(x.min() > -1 and x.max() < 2)
        True
        >>> x = fg.random.truncated_normal(fg.random.key(0), 5.0, 6.0, (20000,))
        >>> bool(x.min() > 5 and x.max() < 6), float(x.mean().round(2))   # exact: 5.183
        (True, 5.18)
    """
    from funcgrad.scipy.special import log_ndtr
    dtype = _float_dtype(dtype)
    lower, upper = _param(lower, np.float64), _param(upper, np.float64)
    shape = _shape_of(shape, lower, upper)
    u = _open_unit(key, shape, np.float64)
    mirrored = lower > -upper
    lo = fnp.where(mirrored, -upper, lower)
    hi = fnp.where(mirrored, -lower, upper)
    log_a, log_b = log_ndtr(lo), log_ndtr(hi)
    # p = a + u (b - a) = b (1 - (1 - u)(1 - a/b)), in logarithms; mirrored with 1 - u, so
    # each number is the quantile of its own u either way
    above = fnp.where(mirrored, u, 1.0 - u)
    log_p = log_b + fnp.log1p(above * fnp.expm1(log_a - log_b))
    x = fnp.clip(_ndtri_of_log(log_p), lo, hi)
    return fnp.astype(fnp.where(mirrored, -x, x), dtype)


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans, True with probability ``p``. (``mode``, JAX's choice of how many random
    bits a float32 uniform gets, is accepted: funcgrad's uniforms here have 53.)

    Example:
        >>> b = fg.random.bernoulli(fg.random.key(0), 0.3, (10000,))
        >>> b.dtype, bool(abs(b.mean() - 0.3) < 0.02)
        (dtype('bool'), True)
    """
    _mode(mode, "bernoulli")
    p = _param(p, np.float64)
    return _unit(key, _shape_of(shape, p), np.float64) < p


def _mode(mode, name):
    """JAX's ``mode`` ("low" or "high": how many bits its float32 uniforms use). funcgrad's
    use 24 (float32) or 53 (float64) either way, so only a misspelt mode is refused."""
    if mode not in (None, "low", "high"):
        raise _FuncgradValueError(f"{name}'s mode is 'low' or 'high', not {mode!r}")


def gumbel(key, shape=(), dtype=np.float64, mode=None):
    """Standard Gumbel numbers, -log(-log(u)) (``mode`` as bernoulli's).

    Example:
        >>> fg.random.gumbel(fg.random.key(0), (3,)).shape
        (3,)
    """
    _mode(mode, "gumbel")
    dtype = _float_dtype(dtype)
    return -fnp.log(-fnp.log(_open_unit(key, _shape_arg(shape), dtype)))


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Indices drawn with probabilities softmax(``logits``) along ``axis`` (the Gumbel-max
    trick). ``shape`` defaults to ``logits``' shape without ``axis``; its leading axes
    beyond that are the draws. ``replace=False`` draws those without replacement, as JAX
    does: the indices of the largest logits plus Gumbel noise, one noise per logit.

    Example:
        >>> logits = np.log(np.array([0.2, 0.8]))
        >>> float(fg.random.categorical(fg.random.key(0), logits, shape=(10000,)).mean().round(2))
        0.8
        >>> c = fg.random.categorical(fg.random.key(0), np.zeros(4), shape=(4,), replace=False)
        >>> sorted(c.tolist())
        [0, 1, 2, 3]
    """
    _mode(mode, "categorical")
    logits = _array_arg(logits, "logits")
    axis = axis % logits.ndim
    batch = tuple(d for i, d in enumerate(logits.shape) if i != axis)
    shape = batch if shape is None else _shape_arg(shape)
    if len(shape) < len(batch) or _broadcast(shape, batch) != shape:
        raise _ShapeError(f"categorical's shape {shape} does not fit the logits' batch shape "
                          f"{batch} (logits of shape {logits.shape} without axis {axis}): it "
                          "must end with the batch shape, or broadcast it")
    n = logits.shape[axis]
    lead = len(shape) - len(batch)
    dtype = np.dtype(logits.dtype) if logits.dtype.kind == "f" else np.float64
    if not replace:
        return _categorical_without_replacement(key, logits, axis, shape, lead, dtype)
    noise_shape = (*shape[:lead], *_insert(shape[lead:], axis, n))
    noise = gumbel(key, noise_shape, dtype)
    return fnp.argmax(noise + logits, axis=axis - len(_insert(batch, axis, n)))


def _categorical_without_replacement(key, logits, axis, shape, lead, dtype):
    """The k = prod(shape[:lead]) largest of logits + Gumbel noise along ``axis``, in
    decreasing order (Gumbel-top-k: a draw of k categories without replacement)."""
    n, k = logits.shape[axis], math.prod(shape[:lead])
    if k > n:
        raise _ShapeError(f"categorical cannot draw {k} of {n} categories without "
                          "replacement")
    full = _insert(shape[lead:], axis, n)
    scores = fnp.broadcast_to(logits, full) + gumbel(key, full, dtype)
    order = _random_order(-fnp.moveaxis(scores, axis, -1))[..., :k]    # (*batch, k)
    return fnp.reshape(fnp.moveaxis(order, -1, 0), shape)


def _broadcast(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _insert(shape, axis, n):
    return (*shape[:axis], n, *shape[axis:])


def randint(key, shape, minval, maxval, dtype=np.int64):
    """Integers uniform on ``[minval, maxval)`` (53 random bits each: the bias is below
    (maxval - minval) / 2**53). As in JAX, the bounds are clipped to ``dtype``'s range (a
    ``maxval`` above it lets the largest value be drawn), and ``minval >= maxval`` gives
    ``minval``.

    Example:
        >>> r = fg.random.randint(fg.random.key(0), (1000,), 0, 6)
        >>> sorted(set(r.tolist()))
        [0, 1, 2, 3, 4, 5]
        >>> fg.random.randint(fg.random.key(0), (3,), 5, 2)
        array([5, 5, 5])
    """
    shape, dtype = _shape_arg(shape), _int_dtype(dtype, "randint")
    info = np.iinfo(dtype)
    lo, hi = _param(minval, np.float64), _param(maxval, np.float64)
    _fits(shape, lo, hi)
    # else the values would wrap around in the cast (300 as uint8 is 44)
    lo = fnp.clip(lo, float(info.min), float(info.max))
    hi = fnp.clip(hi, float(info.min), float(info.max) + 1.0)
    span = hi - lo
    r = fnp.minimum(fnp.floor(_unit(key, shape, np.float64) * span), span - 1.0)
    return fnp.astype(fnp.maximum(r, 0.0) + lo, dtype)


def permutation(key, x, axis=0, independent=False):
    """A random permutation of ``range(x)`` (an int), or of an array along ``axis`` (not in
    place: a new array). ``independent`` permutes each slice along ``axis`` on its own.

    Example:
        >>> sorted(fg.random.permutation(fg.random.key(0), 5).tolist())
        [0, 1, 2, 3, 4]
        >>> np.sort(fg.random.permutation(fg.random.key(0), np.eye(3), 1, True), axis=1)
        array([[0., 0., 1.],
               [0., 0., 1.],
               [0., 0., 1.]])
    """
    if isinstance(x, (int, np.integer)):
        return _order(key, int(x))
    x = _array_arg(x)
    if x.ndim == 0:  # (JAX's rule: a 0-d array is not a count; axis % 0 failed obscurely)
        raise _FuncgradTypeError(f"permutation permutes an int's range or an array of at "
                                 f"least one axis, not a 0-d {x.dtype} array")
    axis = axis % x.ndim
    if not independent:
        return fnp.take(x, _order(key, x.shape[axis]), axis=axis)
    moved = fnp.moveaxis(x, axis, -1)
    order = _random_order(_unit(key, tuple(moved.shape), np.float64))
    return fnp.moveaxis(fnp.take_along_axis(moved, order, axis=-1), -1, axis)


def _order(key, n):
    return _random_order(_unit(key, (n,), np.float64))


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Elements of ``a`` (or of ``range(a)`` for an int) drawn with probabilities ``p``
    (uniform by default), with or without replacement (``mode`` as bernoulli's).

    Example:
        >>> c = fg.random.choice(fg.random.key(0), 5, (5,), replace=False)
        >>> sorted(c.tolist())
        [0, 1, 2, 3, 4]
    """
    _mode(mode, "choice")
    shape = _shape_arg(shape)
    n = int(a) if isinstance(a, (int, np.integer)) else _array_arg(a).shape[axis]
    if p is not None and tuple(_array_arg(p, "p").shape) != (n,):
        raise _ShapeError(f"choice's p of shape {tuple(_array_arg(p).shape)} does not match "
                          f"the {n} elements it chooses from: give one probability each")
    k = math.prod(shape)
    if replace:
        if p is None:
            index = randint(key, shape, 0, n)
        else:
            index = categorical(key, fnp.log(_param(p, np.float64)), shape=shape)
    else:
        if k > n:
            raise _ShapeError(f"cannot choose {k} of {n} elements without replacement")
        if p is None:
            order = _order(key, n)
        else:  # the k largest of log p + Gumbel noise: sampling without replacement
            scores = fnp.log(_param(p, np.float64)) + gumbel(key, (n,))
            order = _random_order(-scores)
        index = fnp.reshape(order[:k], shape)
    if isinstance(a, (int, np.integer)):
        return index
    return fnp.take(_array_arg(a), index, axis=axis)


def exponential(key, shape=(), dtype=np.float64):
    """Exponential numbers with rate 1.

    Example:
        >>> float(fg.random.exponential(fg.random.key(0), (10000,)).mean().round(1))
        1.0
    """
    dtype = _float_dtype(dtype)
    return -fnp.log(_open_unit(key, _shape_arg(shape), dtype))


def laplace(key, shape=(), dtype=np.float64):
    """Laplace numbers (density exp(-|x|)/2).

    Example:
        >>> bool(abs(fg.random.laplace(fg.random.key(0), (10000,)).var() - 2) < 0.2)
        True
    """
    dtype = _float_dtype(dtype)
    u = 2.0 * _open_unit(key, _shape_arg(shape), dtype) - 1.0
    return -fnp.sign(u) * fnp.log1p(-fnp.abs(u))


def logistic(key, shape=(), dtype=np.float64):
    """Standard logistic numbers, log(u / (1 - u)).

    Example:
        >>> fg.random.logistic(fg.random.key(0), (3,)).dtype
        dtype('float64')
    """
    dtype = _float_dtype(dtype)
    u = _open_unit(key, _shape_arg(shape), dtype)
    return fnp.log(u) - fnp.log1p(-u)


def cauchy(key, shape=(), dtype=np.float64):
    """Standard Cauchy numbers, tan(pi (u - 1/2)).

    Example:
        >>> bool(abs(np.median(fg.random.cauchy(fg.random.key(0), (10001,)))) < 0.05)
        True
    """
    dtype = _float_dtype(dtype)
    u = _open_unit(key, _shape_arg(shape), dtype)
    return fnp.tan(np.pi * (u - 0.5))


def gamma(key, a, shape=None, dtype=np.float64):
    """Gamma numbers with shape ``a`` and scale 1, differentiable in ``a``.

    Marsaglia and Tsang's method (2000): for a >= 1, x = d (1 + c z)^3 with z normal,
    d = a - 1/3, c = 1/sqrt(9d), accepted with probability >= 0.95; a fixed number of
    proposals are drawn at once and the first accepted is kept, so the number of random
    draws does not depend on values (as compiled code needs). For a < 1, a gamma(a + 1)
    number times u^(1/a). The gradient in ``a`` is the implicit reparameterisation gradient
    (Figurnov et al. 2018), as JAX's: x held at its quantile, dx/da = -(dP/da)(a, x) / p(x; a)
    with P the gamma CDF, so E[dx/da] = d E[x]/da exactly. Second derivatives in ``a`` are
    not implemented (they raise).

    Example:
        >>> float(fg.random.gamma(fg.random.key(0), 3.0, (20000,)).mean().round(1))
        3.0
        >>> mean = lambda a: fnp.mean(fg.random.gamma(fg.random.key(0), a, (20000,)))
        >>> float(fg.grad(mean)(3.0).round(2))   # d E[x] / da = 1
        1.0
    """
    dtype = _float_dtype(dtype)
    a = _param(a, np.float64)
    shape = _shape_of(shape, a)
    a = fnp.broadcast_to(a, shape)
    fixed = _stop_gradient(a)
    x = _gamma_sample(key, fixed, shape)
    return fnp.astype(_gamma_reparam(a, x), dtype)


def _gamma_sample(key, a, shape):
    boosted = a < 1.0
    a1 = fnp.where(boosted, a + 1.0, a)
    d = a1 - 1.0 / 3.0
    c = 1.0 / fnp.sqrt(9.0 * d)
    key_z, key_u, key_boost = split(key, 3)
    proposals = (_GAMMA_PROPOSALS, *shape)
    z = normal(key_z, proposals)
    log_u = fnp.log(_open_unit(key_u, proposals, np.float64))
    t = 1.0 + c * z
    v = fnp.maximum(t * t * t, 1e-300)
    accept = (t > 0) & (log_u < 0.5 * z * z + d - d * v + d * fnp.log(v))
    first = fnp.argmax(fnp.astype(accept, np.int8), axis=0)
    chosen = fnp.take_along_axis(v, fnp.reshape(first, (1, *shape)), axis=0)
    x = d * fnp.reshape(chosen, shape)
    boost = fnp.exp(fnp.log(_open_unit(key_boost, shape, np.float64)) / a)
    return fnp.where(boosted, x * boost, x)


def beta(key, a, b, shape=None, dtype=np.float64):
    """Beta numbers, X / (X + Y) with X ~ gamma(a), Y ~ gamma(b).

    Example:
        >>> float(fg.random.beta(fg.random.key(0), 2.0, 6.0, (20000,)).mean().round(2))
        0.25
    """
    a, b = _param(a, np.float64), _param(b, np.float64)
    shape = _shape_of(shape, a, b)
    ka, kb = split(key)
    # from the gamma numbers' logs: for small a and b both underflow, and x / (x + y) was nan
    log_x, log_y = _log_gamma(ka, a, shape), _log_gamma(kb, b, shape)
    return fnp.astype(_logistic(log_x - log_y), _float_dtype(dtype))  # x / (x + y)


def dirichlet(key, alpha, shape=None, dtype=np.float64):
    """Dirichlet vectors (the last axis sums to 1), normalised gamma numbers.

    Example:
        >>> x = fg.random.dirichlet(fg.random.key(0), np.array([1.0, 2.0, 3.0]), (4,))
        >>> x.shape, bool(np.allclose(x.sum(-1), 1))
        ((4, 3), True)
    """
    alpha = _param(alpha, np.float64)
    batch = tuple(alpha.shape[:-1]) if shape is None else _shape_arg(shape)
    # normalised from the gamma numbers' logs: for small alpha all may underflow (0 / 0)
    log_g = _log_gamma(key, alpha, (*batch, alpha.shape[-1]))
    g = fnp.exp(log_g - _stop_gradient(fnp.max(log_g, axis=-1, keepdims=True)))
    return fnp.astype(g / fnp.sum(g, axis=-1, keepdims=True), _float_dtype(dtype))


def poisson(key, lam, shape=None, dtype=np.int64):
    """Poisson counts with rate ``lam`` (a traced rate too: no bound on the counts is needed).

    Each count is drawn from its own key (the numbers of ``key``, two words per element):
    Knuth's multiplication of uniforms for rates below 10, Hormann's transformed rejection
    (PTRS) above, both exact, in one primitive whose Numba lowering runs the same loops. A
    rate that is negative or nan gives -1 (an infinite one too).

    Example:
        >>> float(fg.random.poisson(fg.random.key(0), 4.0, (20000,)).mean().round(1))
        4.0
    """
    dtype = _int_dtype(dtype, "poisson")
    lam = _param(lam, np.float64)
    shape = _shape_of(shape, lam)
    k0, k1 = _words_of_shape(key, shape)
    counts = _poisson(k0, k1, fnp.broadcast_to(lam, shape))
    return counts if dtype == np.int64 else fnp.astype(counts, dtype)


def _cholesky(cov):
    """Cholesky factors of the (..., n, n) ``cov``, column by column with funcgrad
    operations (so it traces, compiles and batches like the rest)."""
    n = cov.shape[-1]
    rows = np.arange(n)
    columns = []
    for j in range(n):
        s = cov[..., :, j]
        if columns:
            done = fnp.stack(columns, axis=-1)                  # (..., n, j)
            s = s - fnp.sum(done * done[..., j:j + 1, :], axis=-1)
        columns.append(fnp.where(rows >= j, s / fnp.sqrt(s[..., j:j + 1]), 0.0))
    return fnp.stack(columns, axis=-1)


def _factor(cov, method):
    """A matrix A with A A^T = ``cov``: Cholesky's L, or U sqrt(S) of an eigen- or singular
    value decomposition (these two also take semidefinite covariances)."""
    if method == "cholesky":
        return _cholesky(cov)
    if method == "eigh":
        w, v = fnp.linalg.eigh(cov)
        return v * fnp.expand_dims(fnp.sqrt(fnp.maximum(w, 0.0)), -2)
    if method == "svd":
        u, sv, _ = fnp.linalg.svd(cov)
        return u * fnp.expand_dims(fnp.sqrt(sv), -2)
    raise _FuncgradValueError(f"multivariate_normal's method is 'cholesky', 'eigh' or 'svd', "
                              f"not {method!r}")


def multivariate_normal(key, mean, cov, shape=None, dtype=np.float64, method="cholesky"):
    """Normal vectors with ``mean`` (..., n) and covariance ``cov`` (..., n, n): mean + A z,
    with A A^T = cov from ``method`` ("cholesky", "eigh" or "svd", as JAX's). ``shape`` is
    the batch shape, by default mean's and cov's batch shapes broadcast; as in JAX, those
    must broadcast to it.

    Example:
        >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
        >>> x = fg.random.multivariate_normal(fg.random.key(0), np.zeros(2), cov, (20000,))
        >>> np.cov(x.T).round(1)
        array([[2. , 0.5],
               [0.5, 1. ]])
    """
    dtype = _float_dtype(dtype)
    mean, cov = _param(mean, np.float64), _param(cov, np.float64)
    if mean.ndim < 1 or cov.ndim < 2 or cov.shape[-1] != cov.shape[-2] \
            or cov.shape[-1] != mean.shape[-1]:
        raise _ShapeError(f"multivariate_normal needs a mean (..., n) and a covariance "
                          f"(..., n, n), not {tuple(mean.shape)} and {tuple(cov.shape)}")
    batches = (tuple(mean.shape[:-1]), tuple(cov.shape[:-2]))
    if shape is None:
        batch = _broadcast(*batches)
        if batch is None:
            raise _ShapeError(f"multivariate_normal's mean and covariance batch shapes "
                              f"{batches[0]} and {batches[1]} do not broadcast")
    else:
        batch = _shape_arg(shape)
        if _broadcast(batch, *batches) != batch:
            raise _ShapeError(f"multivariate_normal's mean and covariance batch shapes "
                              f"{batches[0]} and {batches[1]} must broadcast to the shape "
                              f"argument {batch}")
    z = normal(key, (*batch, mean.shape[-1]))
    mixed = fnp.sum(_factor(cov, method) * fnp.expand_dims(z, -2), axis=-1)   # A z
    return fnp.astype(mean + mixed, dtype)


def t(key, df, shape=None, dtype=np.float64):
    """Student's t numbers with ``df`` degrees of freedom: z / sqrt(chi2(df) / df).

    Example:
        >>> fg.random.t(fg.random.key(0), 5.0, (3,)).shape
        (3,)
    """
    dtype = _float_dtype(dtype)
    df = _param(df, np.float64)
    shape = _shape_of(shape, df)
    kz, kg = split(key)
    chi2 = 2.0 * gamma(kg, 0.5 * df, shape)
    return fnp.astype(normal(kz, shape) * fnp.sqrt(df / chi2), dtype)



# --- more distributions: transforms of the numbers above -----------------------------------

def _check(x, ok, message):
    """A clear error when a concrete parameter breaks ``ok`` (an elementwise test); traced
    parameters (under jit, grad or vmap) are not known yet and give nan where they break it."""
    if isinstance(x, _Tracer):
        return
    with np.errstate(invalid="ignore"):
        if not np.all(ok(np.asarray(x))):
            raise _FuncgradValueError(message)


def _positive(x, what, name):
    _check(x, lambda v: v > 0, f"{name}'s {what} must be positive, not {_show(x)}")


def _show(x):
    if isinstance(x, _Tracer):
        return "a traced value"
    text = np.array2string(np.asarray(x), threshold=6)
    return text if len(text) <= 60 else text[:57] + "..."


def _int_dtype(dtype, name):
    dtype = np.dtype(np.int64 if dtype is None else dtype)  # (np.dtype(None) is float64)
    if dtype.kind not in "iu":
        raise _FuncgradTypeError(f"{name} makes integers (an int dtype), not {dtype}")
    return dtype


def clone(key):
    """The same key (JAX's ``clone``, which marks a key for reuse when key reuse is checked:
    funcgrad does not check it, so this is the identity).

    Example:
        >>> k = fg.random.key(3)
        >>> bool(fg.random.uniform(fg.random.clone(k)) == fg.random.uniform(k))
        True
    """
    _words(key)
    return key


def lognormal(key, sigma=1.0, shape=None, dtype=np.float64):
    """Log-normal numbers exp(``sigma`` z), z standard normal (scipy.stats.lognorm(sigma)),
    differentiable in ``sigma``.

    Example:
        >>> x = fg.random.lognormal(fg.random.key(0), 0.5, (20000,))
        >>> float(np.median(x).round(1))
        1.0
    """
    dtype = _float_dtype(dtype)
    sigma = _param(sigma, dtype)
    _check(sigma, lambda v: v >= 0, f"lognormal's sigma must be >= 0, not {_show(sigma)}")
    return fnp.exp(normal(key, _shape_of(shape, sigma), dtype) * sigma)


def rayleigh(key, scale, shape=None, dtype=np.float64):
    """Rayleigh numbers, ``scale`` sqrt(-2 log u) (the inverse CDF; differentiable in
    ``scale``).

    Example:
        >>> x = fg.random.rayleigh(fg.random.key(0), 2.0, (20000,))
        >>> float((x.mean() / np.sqrt(np.pi / 2)).round(1))   # mean: scale sqrt(pi / 2)
        2.0
    """
    dtype = _float_dtype(dtype)
    scale = _param(scale, dtype)
    _positive(scale, "scale", "rayleigh")
    u = _open_unit(key, _shape_of(shape, scale), dtype)
    return scale * fnp.sqrt(-2.0 * fnp.log(u))


def weibull_min(key, scale, concentration, shape=(), dtype=np.float64):
    """Weibull numbers ``scale`` (-log(1 - u))^(1/``concentration``) (the inverse CDF,
    differentiable in both). As in JAX, the result's shape is ``shape`` broadcast with the
    parameters' (each element with its own u).

    Example:
        >>> x = fg.random.weibull_min(fg.random.key(0), 2.0, 1.0, (20000,))
        >>> float(x.mean().round(1))                  # concentration 1: exponential
        2.0
    """
    dtype = _float_dtype(dtype)
    scale, concentration = _param(scale, dtype), _param(concentration, dtype)
    _positive(scale, "scale", "weibull_min")
    _positive(concentration, "concentration", "weibull_min")
    full = tuple(np.broadcast_shapes(_shape_arg(shape), tuple(scale.shape),
                                     tuple(concentration.shape)))
    u = _open_unit(key, full, dtype)
    return fnp.power(-fnp.log1p(-u), 1.0 / concentration) * scale


def pareto(key, b, shape=None, dtype=np.float64):
    """Pareto numbers on [1, inf) with density b / x^(b + 1): exp(E / b), E exponential
    (differentiable in ``b``).

    Example:
        >>> x = fg.random.pareto(fg.random.key(0), 3.0, (20000,))
        >>> bool(x.min() >= 1), float(x.mean().round(1))   # mean b / (b - 1)
        (True, 1.5)
    """
    dtype = _float_dtype(dtype)
    b = _param(b, dtype)
    _positive(b, "b", "pareto")
    return fnp.exp(exponential(key, _shape_of(shape, b), dtype) / b)


def chisquare(key, df, shape=None, dtype=np.float64):
    """Chi-square numbers with ``df`` degrees of freedom: 2 gamma(df / 2) (differentiable in
    ``df``, as gamma is).

    Example:
        >>> float(fg.random.chisquare(fg.random.key(0), 4.0, (20000,)).mean().round(1))
        4.0
    """
    dtype = _float_dtype(dtype)
    df = _param(df, np.float64)
    _positive(df, "df", "chisquare")
    return 2.0 * gamma(key, 0.5 * df, _shape_of(shape, df), dtype)


def f(key, dfnum, dfden, shape=None, dtype=np.float64):
    """F numbers, (chi2(dfnum) / dfnum) / (chi2(dfden) / dfden).

    Example:
        >>> x = fg.random.f(fg.random.key(0), 5.0, 10.0, (20000,))
        >>> float(x.mean().round(1))                   # dfden / (dfden - 2) = 1.25
        1.2
    """
    dtype = _float_dtype(dtype)
    dfnum, dfden = _param(dfnum, np.float64), _param(dfden, np.float64)
    _positive(dfnum, "dfnum", "f")
    _positive(dfden, "dfden", "f")
    shape = _shape_of(shape, dfnum, dfden)
    k_den, k_num = split(key)
    num = chisquare(k_num, dfnum, shape) / dfnum
    den = chisquare(k_den, dfden, shape) / dfden
    return fnp.astype(num / den, dtype)


def geometric(key, p, shape=None, dtype=np.int64):
    """Geometric counts on {1, 2, ...}: the trial of the first success, each with
    probability ``p`` (floor(log u / log(1 - p)) + 1). Integers, ``int64`` by default.

    Example:
        >>> float(fg.random.geometric(fg.random.key(0), 0.25, (20000,)).mean().round(1))
        4.0
    """
    dtype = _int_dtype(dtype, "geometric")
    p = _param(p, np.float64)
    _check(p, lambda v: (v > 0) & (v <= 1), f"geometric's p must be in (0, 1], not {_show(p)}")
    u = _open_unit(key, _shape_of(shape, p), np.float64)
    certain = p >= 1.0   # log(1 - p) = -inf: the first trial
    gaps = fnp.floor(fnp.log(u) / fnp.log1p(-fnp.where(certain, 0.5, p)))
    return fnp.astype(fnp.where(certain, 1.0, gaps + 1.0), dtype)


def rademacher(key, shape=(), dtype=np.int64):
    """-1 or 1, each with probability 1/2 (``int64`` by default; a float dtype too).

    Example:
        >>> sorted(set(fg.random.rademacher(fg.random.key(0), (100,)).tolist()))
        [-1, 1]
    """
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    if dtype.kind not in "iuf":
        raise _FuncgradTypeError(f"rademacher makes numbers (an int or float dtype), not {dtype}")
    b = bernoulli(key, 0.5, _shape_arg(shape))
    return fnp.astype(2 * fnp.astype(b, np.int64) - 1, dtype)


def triangular(key, left, mode, right, shape=None, dtype=np.float64):
    """Triangular numbers on [``left``, ``right``] peaking at ``mode`` (the inverse CDF,
    differentiable in the three).

    Example:
        >>> x = fg.random.triangular(fg.random.key(0), 0.0, 1.0, 5.0, (20000,))
        >>> bool(x.min() >= 0 and x.max() <= 5), float(x.mean().round(1))   # mean 2
        (True, 2.0)
    """
    dtype = _float_dtype(dtype)
    left, mode, right = (_param(v, dtype) for v in (left, mode, right))
    if not any(isinstance(v, _Tracer) for v in (left, mode, right)):
        with np.errstate(invalid="ignore"):
            lo, md, hi = (np.asarray(v) for v in (left, mode, right))
            if not np.all((lo <= md) & (md <= hi) & (lo < hi)):
                raise _FuncgradValueError(
                    "triangular needs left <= mode <= right and left < right, not "
                    f"{_show(left)}, {_show(mode)}, {_show(right)}")
    shape = _shape_of(shape, left, mode, right)
    u = _open_unit(key, shape, dtype)
    width = right - left
    rising = left + fnp.sqrt(u * width * (mode - left))
    falling = right - fnp.sqrt((1.0 - u) * width * (right - mode))
    return fnp.where(u * width < mode - left, rising, falling)


def wald(key, mean, shape=None, dtype=np.float64):
    """Wald (inverse Gaussian) numbers with ``mean`` and shape parameter 1, density
    exp(-(x - mean)^2 / (2 mean^2 x)) / sqrt(2 pi x^3) (scipy.stats.invgauss(mean)), by
    Michael, Schucany and Haas's transformation of a normal and a uniform.

    Example:
        >>> float(fg.random.wald(fg.random.key(0), 2.0, (20000,)).mean().round(1))
        2.0
    """
    dtype = _float_dtype(dtype)
    mean = _param(mean, np.float64)
    _positive(mean, "mean", "wald")
    shape = _shape_of(shape, mean)
    k1, k2 = split(key)
    v = normal(k1, shape)
    u = _unit(k2, shape, np.float64)
    y = v * v
    # mean + mean^2 y / 2 - mean / 2 sqrt(4 mean y + mean^2 y^2), without its cancellation
    x = mean - 2.0 * mean * mean * y / (mean * y + fnp.sqrt(4.0 * mean * y + (mean * y) ** 2))
    return fnp.astype(fnp.where(u <= mean / (mean + x), x, mean * mean / x), dtype)


def maxwell(key, shape=(), dtype=np.float64):
    """Maxwell numbers: the length of a standard normal vector in 3 dimensions.

    Example:
        >>> float(fg.random.maxwell(fg.random.key(0), (20000,)).mean().round(1))  # 2 sqrt(2/pi)
        1.6
    """
    dtype = _float_dtype(dtype)
    z = normal(key, (*_shape_arg(shape), 3), dtype)
    return fnp.sqrt(fnp.sum(z * z, axis=-1))


def double_sided_maxwell(key, loc, scale, shape=(), dtype=np.float64):
    """``loc`` + ``scale`` s m, m a Maxwell number and s a random sign: density proportional
    to z^2 exp(-z^2 / 2), z = (x - loc) / scale. As in JAX, the result's shape is ``shape``
    followed by the parameters' broadcast shape (the latter alone when ``shape`` is ()).

    Example:
        >>> x = fg.random.double_sided_maxwell(fg.random.key(0), 1.0, 2.0, (20000,))
        >>> float(x.mean().round(1)), float(x.var().round(0))    # loc, 3 scale^2
        (1.0, 12.0)
    """
    dtype = _float_dtype(dtype)
    loc, scale = _param(loc, dtype), _param(scale, dtype)
    _positive(scale, "scale", "double_sided_maxwell")
    full = (*_shape_arg(shape), *np.broadcast_shapes(tuple(loc.shape), tuple(scale.shape)))
    k_maxwell, k_sign = split(key)
    m = maxwell(k_maxwell, full, dtype)
    return rademacher(k_sign, full, dtype) * m * scale + loc


def generalized_normal(key, p, shape=(), dtype=np.float64):
    """Generalized normal numbers, density proportional to exp(-|x|^p)
    (scipy.stats.gennorm(p)): s g^(1/p), g ~ gamma(1/p), s a random sign; differentiable in
    ``p`` through the gamma numbers.

    Example:
        >>> x = fg.random.generalized_normal(fg.random.key(0), 2.0, (20000,))
        >>> float(x.var().round(1))                 # p = 2: normal with variance 1/2
        0.5
    """
    dtype = _float_dtype(dtype)
    p = _param(p, np.float64)
    _positive(p, "p", "generalized_normal")
    shape = _shape_arg(shape)
    k_gamma, k_sign = split(key)
    g = gamma(k_gamma, 1.0 / p, shape)
    return fnp.astype(rademacher(k_sign, shape, np.float64) * g ** (1.0 / p), dtype)


def ball(key, d, p=2, shape=(), dtype=np.float64):
    """Points uniform in the unit l_p ball of dimension ``d``, shape ``(*shape, d)``
    (Barthe, Guedon, Mendelson and Naor 2005: generalized normal coordinates over the p-norm
    of them and one exponential).

    Example:
        >>> x = fg.random.ball(fg.random.key(0), 3, shape=(1000,))
        >>> x.shape, bool(np.all(np.linalg.norm(x, axis=-1) <= 1))
        ((1000, 3), True)
    """
    dtype = _float_dtype(dtype)
    if isinstance(d, _Tracer) or not isinstance(d, (int, np.integer)) or d < 0:
        raise _FuncgradTypeError(f"ball's dimension d is a non-negative int, not {d!r:.60}")
    p = _param(p, np.float64)
    _positive(p, "p", "ball")
    shape = _shape_arg(shape)
    k_g, k_e = split(key)
    g = generalized_normal(k_g, p, (*shape, int(d)))
    e = exponential(k_e, shape)
    norm = (fnp.sum(fnp.abs(g) ** p, axis=-1) + e) ** (1.0 / p)
    return fnp.astype(g / fnp.expand_dims(norm, -1), dtype)


def orthogonal(key, n, shape=(), dtype=np.float64, m=None):
    """Orthogonal matrices uniform on O(n) (Haar measure), shape ``(*shape, n, m)``: the Q
    of a normal matrix's QR decomposition, its columns' signs fixed by R's diagonal
    (Mezzadri 2007). With ``m`` != ``n``, semi-orthogonal: orthonormal rows (n < m) or
    columns (n > m).

    Example:
        >>> q = fg.random.orthogonal(fg.random.key(0), 3)
        >>> bool(np.allclose(q @ q.T, np.eye(3)))
        True
    """
    dtype = _float_dtype(dtype)
    m = n if m is None else m
    for v, what in ((n, "n"), (m, "m")):
        if isinstance(v, _Tracer) or not isinstance(v, (int, np.integer)) or v < 0:
            raise _FuncgradTypeError(f"orthogonal's {what} is a non-negative int, not {v!r:.60}")
    n, m = int(n), int(m)
    shape = _shape_arg(shape)
    z = normal(key, (*shape, max(n, m), min(n, m)), dtype)
    q, r = fnp.linalg.qr(z)
    d = fnp.diagonal(r, axis1=-2, axis2=-1)
    x = q * fnp.expand_dims(fnp.where(d < 0, -1.0, 1.0).astype(dtype), -2)
    return fnp.swapaxes(x, -1, -2) if n < m else x


def loggamma(key, a, shape=None, dtype=np.float64):
    """The logarithms of gamma(``a``) numbers, computed in logarithms: for a < 1 the
    boost u^(1/a) is added as log(u) / a, so numbers whose gamma value underflows (a = 0.001
    gives e^-1000) keep their logarithm. Differentiable in ``a`` as gamma is (dx/da / x).

    Example:
        >>> x = fg.random.loggamma(fg.random.key(0), 0.01, (5,))
        >>> bool(np.all(np.isfinite(x))), bool(x.min() < -100)
        (True, True)
    """
    dtype = _float_dtype(dtype)
    a = _param(a, np.float64)
    _positive(a, "a", "loggamma")
    return fnp.astype(_log_gamma(key, a, _shape_of(shape, a)), dtype)


def _log_gamma(key, a, shape):
    """loggamma's numbers in float64 (beta and dirichlet normalise them in logs)."""
    a = fnp.broadcast_to(a, shape)
    fixed = _stop_gradient(a)
    boosted = fixed < 1.0
    key_gamma, key_boost = split(key)
    # _gamma_sample(a + 1) for a < 1, without its own boost, then log u / a added
    x1 = _gamma_sample(key_gamma, fnp.where(boosted, fixed + 1.0, fixed), shape)
    log_u = fnp.log(_open_unit(key_boost, shape, np.float64))
    log_x = fnp.log(x1) + fnp.where(boosted, log_u / fixed, 0.0)
    # the value log_x; the derivative d log x / da = (dx/da) / x, as gamma's
    x = fnp.exp(log_x)
    safe = fnp.where(x > 0, x, 1.0)
    reparam = _gamma_reparam(a, fnp.where(x > 0, x, 1.0))
    slope = fnp.where(x > 0, (reparam - _stop_gradient(reparam)) / safe, 0.0)
    return log_x + slope


def binomial(key, n, p, shape=None, dtype=np.float64):
    """Binomial counts of ``n`` trials with success probability ``p``, as floats (JAX's
    convention; ``float64`` by default). A non-integer n counts floor(n) trials, an infinite
    one gives inf. Each count is drawn from its own key by inversion (n min(p, 1-p) <= 10) or
    Hormann's BTRS rejection, both exact, in one primitive compiled to the same loops.
    Concrete n < 0 or p outside [0, 1] raise; traced ones give nan.

    Example:
        >>> x = fg.random.binomial(fg.random.key(0), 20.0, 0.3, (20000,))
        >>> x.dtype, float(x.mean().round(1))
        (dtype('float64'), 6.0)
    """
    dtype = _float_dtype(dtype)
    n, p = _param(n, np.float64), _param(p, np.float64)
    _check(n, lambda v: v >= 0, f"binomial's n must be >= 0, not {_show(n)}")
    _check(p, lambda v: (v >= 0) & (v <= 1), f"binomial's p must be in [0, 1], not {_show(p)}")
    shape = _shape_of(shape, n, p)
    k0, k1 = _words_of_shape(key, shape)
    counts = _binomial(k0, k1, fnp.broadcast_to(n, shape), fnp.broadcast_to(p, shape))
    return fnp.astype(counts, dtype)


def multinomial(key, n, p, *, shape=None, dtype=np.float64, unroll=1):
    """Counts of ``n`` trials over the outcomes along ``p``'s last axis (as floats, JAX's
    convention): a binomial per outcome, of the trials left, with probability p_i over the
    probability left. ``shape`` is the whole result's shape, its last axis the outcomes (as
    JAX's code treats it); it defaults to p's. ``unroll`` is accepted for JAX's signature.

    Example:
        >>> c = fg.random.multinomial(fg.random.key(0), 10.0, np.array([0.2, 0.3, 0.5]))
        >>> c.shape, float(c.sum())
        ((3,), 10.0)
    """
    del unroll
    dtype = _float_dtype(dtype)
    n, p = _param(n, np.float64), _param(p, np.float64)
    if p.ndim < 1:
        raise _ShapeError("multinomial's p has the outcomes along its last axis, not a scalar")
    _check(n, lambda v: v >= 0, f"multinomial's n must be >= 0, not {_show(n)}")
    _check(p, lambda v: v >= 0, f"multinomial's p must be >= 0, not {_show(p)}")
    shape = tuple(p.shape) if shape is None else _shape_arg(shape)
    if not shape or shape[-1] != p.shape[-1]:
        raise _ShapeError(f"multinomial's shape ends with the {p.shape[-1]} outcomes of p, "
                          f"not {shape}")
    n = fnp.broadcast_to(n, shape[:-1])
    p = fnp.broadcast_to(p, shape)
    k = shape[-1]
    remaining = fnp.flip(fnp.cumsum(fnp.flip(p, -1), axis=-1), -1)
    ratios = p / fnp.where(remaining == 0, 1.0, remaining)
    left = n
    counts = []
    keys = split(key, k)
    for i in range(k):
        c = binomial(keys[i], left, fnp.clip(ratios[..., i], 0.0, 1.0))
        counts.append(c)
        left = left - c
    return fnp.astype(fnp.stack(counts, axis=-1), dtype)
