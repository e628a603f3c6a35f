"""numpy.convolve and numpy.correlate, and the windows of the full correlation that each mode
of NumPy's and SciPy's convolutions keeps (funcgrad.scipy.signal uses them too).

Every mode is a window of the full correlation, ``full[i] = sum_k x[i + k - (K - 1)] w[k]``
(n + K - 1 values per axis; a convolution is that of the reversed kernel), taken directly by
the correlate primitive's padding (funcgrad/ops/convolution.py), never computed whole:

- full: all of it;
- valid: where the shorter of x and w lies inside the longer: |n - K| + 1 values from min(n,
  K) - 1 (SciPy and NumPy agree, whichever is longer);
- same: SciPy's keeps n values centred, from (K - 1) // 2 (correlate2d's from K // 2);
  NumPy's keeps max(n, K) values, from (K - 1) // 2 if n >= K, else from n // 2 for
  correlate and (n - 1) // 2 for convolve.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradValueError, ShapeError
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import aval_of
from funcgrad.numpy._util import array_arg
from funcgrad.ops import convolution, elementwise as ew
from funcgrad.ops.shape import flip, reshape

MODES = ("full", "valid", "same")


def real_operands(name: str, x, w):
    """x and w as arrays of their common dtype (NumPy's promotion of x * w), float32 for two
    booleans as in JAX (NumPy's logical 'convolution' of booleans is not a sum)."""
    x, w = array_arg(x, f"{name}'s first input"), array_arg(w, f"{name}'s second input")
    dtype = ew._ufunc_dtype(np.multiply, [_aval(x).strong(), _aval(w).strong()])
    if dtype == np.bool_:
        dtype = np.dtype(np.float32)
    if 0 in x.shape or 0 in w.shape:
        raise ShapeError(f"{name}: an input is empty ({tuple(x.shape)} and {tuple(w.shape)})")
    return ew.convert_element_type(x, dtype), ew.convert_element_type(w, dtype)


def _aval(x):
    return x.aval if isinstance(x, Tracer) else aval_of(x)


def check_mode(name: str, mode: str):
    if mode not in MODES:
        raise FuncgradValueError(f"{name}: mode must be 'full', 'valid' or 'same', not {mode!r}")


def valid_window(name: str, x_shape, w_shape):
    """Starts and lengths of the valid window: one input must be at least as large as the
    other in every axis (as SciPy requires; in 1-D it always is)."""
    if not (all(n >= k for n, k in zip(x_shape, w_shape))
            or all(n <= k for n, k in zip(x_shape, w_shape))):
        raise ShapeError(f"{name}: for 'valid' mode one input must be at least as large as the "
                         f"other in every axis, not {tuple(x_shape)} and {tuple(w_shape)}")
    return ([min(n, k) - 1 for n, k in zip(x_shape, w_shape)],
            [abs(n - k) + 1 for n, k in zip(x_shape, w_shape)])


def window(x, w, starts, lengths, convolve: bool, batch: int = 0):
    """``full[starts : starts + lengths]`` of x's full correlation (convolution) with w,
    along the axes after the first ``batch`` (equal in x and w, taken in lockstep)."""
    if convolve:
        w = flip(w, range(batch, len(w.shape)))
    padding = []
    for n, k, s, length in zip(x.shape[batch:], w.shape[batch:], starts, lengths):
        lo = k - 1 - s
        padding.append((lo, length - 1 + k - n - lo))
    return convolution.correlate(x, w, padding, batch)


def _one_dimensional(name, a, v):
    a, v = real_operands(name, a, v)
    if a.ndim > 1 or v.ndim > 1:
        raise ShapeError(f"funcgrad.numpy.{name} takes 1-D sequences, not arrays of shapes "
                         f"{tuple(a.shape)} and {tuple(v.shape)} (funcgrad.scipy.signal's "
                         "functions take N-D)")
    if name == "correlate" and 0 in (a.ndim, v.ndim):  # NumPy's and JAX's refusal
        raise ShapeError(f"funcgrad.numpy.correlate takes 1-D sequences, not a 0-d input "
                         f"(shapes {tuple(a.shape)} and {tuple(v.shape)}); numpy.convolve "
                         "alone reads a scalar as a sequence of one")
    return _vector(a), _vector(v)


def _vector(x):
    """A 0-d input as a sequence of one (NumPy's ndmin=1)."""
    return x if x.ndim == 1 else reshape(x, (1,))


def _numpy_mode(name, a, v, mode, same_start, convolve):
    check_mode(f"funcgrad.numpy.{name}", mode)
    a, v = _one_dimensional(name, a, v)
    n, k = a.shape[0], v.shape[0]
    if mode == "full":
        starts, lengths = [0], [n + k - 1]
    elif mode == "valid":
        starts, lengths = valid_window(name, (n,), (k,))
    else:
        starts, lengths = [same_start(n, k)], [max(n, k)]
    return window(a, v, starts, lengths, convolve)


def convolve(a, v, mode="full"):
    """The discrete linear convolution of two 1-D sequences (like numpy.convolve):
    ``out[i] = sum_k a[k] v[i - k]``, over mode 'full' (every overlap, n + K - 1 values),
    'same' (max(n, K) values, centred) or 'valid' (only full overlaps).

    Differentiable in both inputs (the derivative of a convolution is a correlation with the
    other input); compiled, a direct loop. Real inputs only.

    Example:
        >>> fnp.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
        array([0. , 1. , 2.5, 4. , 1.5])
        >>> fnp.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), "same")
        array([1. , 2.5, 4. ])
    """
    return _numpy_mode("convolve", a, v, mode, lambda n, k: (min(n, k) - 1) // 2, True)


def correlate(a, v, mode="valid"):
    """The cross-correlation of two 1-D sequences (like numpy.correlate, whose default mode
    is 'valid'): ``out[i] = sum_k a[i + k] v[k]``, shifted as NumPy's is for each mode
    ('full', 'same', 'valid'; see funcgrad.numpy.convolve). For real inputs its 'full' and
    'valid' modes equal scipy.signal.correlate's (which NumPy's differ from only in how they
    conjugate complex inputs); the default modes differ: NumPy's is 'valid', SciPy's 'full'.

    Differentiable in both inputs; compiled, a direct loop. Real inputs only.

    Example:
        >>> fnp.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
        array([3.5])
        >>> fnp.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), "full")
        array([0.5, 2. , 3.5, 3. , 0. ])
    """
    return _numpy_mode("correlate", a, v, mode,
                       lambda n, k: (k - 1) // 2 if n >= k else n // 2, False)
