"""scipy.signal's convolutions and correlations, traceable and differentiable.

``convolve`` and ``correlate`` take N-D arrays (of equal rank), ``convolve2d`` and
``correlate2d`` 2-D ones, with SciPy's modes: 'full' (every overlap), 'valid' (full overlaps
only; one input must be at least as large as the other in every axis, and either may be
the larger) and 'same' (the size of ``in1``, centred as SciPy centres it). Real dtypes only.

They are one primitive (funcgrad/ops/convolution.py), differentiable in both inputs (in
reverse and forward mode), batched by vmap, and compiled to a direct loop: ``method``
('auto', 'direct', 'fft') is accepted for SciPy's signature, and the result is always
computed directly (exact for integers; for the small kernels of filters and convnets also
the fastest).

Example:
    >>> import numpy as np
    >>> from funcgrad.scipy import signal
    >>> signal.convolve(np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0]))
    array([ 1.,  1.,  1., -3.])
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.errors import FuncgradValueError, ShapeError
from funcgrad.numpy import _convolve
from funcgrad.numpy import _util
from funcgrad.ops import elementwise as ew
from funcgrad.ops import shape as sh

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve"]

_METHODS = ("auto", "direct", "fft")


def _window(name, mode, in1_shape, in2_shape, same_offset):
    """Starts and lengths, per convolved axis, of the part of the full result ``mode``
    keeps."""
    if mode == "full":
        return [0] * len(in1_shape), [n + k - 1 for n, k in zip(in1_shape, in2_shape)]
    if mode == "valid":
        return _convolve.valid_window(name, in1_shape, in2_shape)
    return [same_offset(k) for k in in2_shape], list(in1_shape)


def _nd(name, in1, in2, mode, method, same_offset, convolve):
    _convolve.check_mode(f"funcgrad.scipy.signal.{name}", mode)
    if method not in _METHODS:
        raise FuncgradValueError(f"funcgrad.scipy.signal.{name}: method must be 'auto', "
                                 f"'direct' or 'fft', not {method!r}")
    in1, in2 = _convolve.real_operands(name, in1, in2)
    if in1.ndim != in2.ndim:
        raise ShapeError(f"funcgrad.scipy.signal.{name}: in1 and in2 should have the same "
                         f"number of axes, not {tuple(in1.shape)} and {tuple(in2.shape)}")
    if in1.ndim == 0:  # as SciPy: the product
        return ew.multiply(in1, in2)
    starts, lengths = _window(name, mode, in1.shape, in2.shape, same_offset)
    return _convolve.window(in1, in2, starts, lengths, convolve)


def _2d(name, in1, in2, mode, boundary, fillvalue, same_offset, convolve):
    if boundary != "fill" or fillvalue != 0:
        raise FuncgradValueError(f"funcgrad.scipy.signal.{name} supports boundary='fill' with "
                                 f"fillvalue=0 only, not boundary={boundary!r}, "
                                 f"fillvalue={fillvalue!r}")
    in1, in2 = _convolve.real_operands(name, in1, in2)
    if in1.ndim != 2 or in2.ndim != 2:
        raise ShapeError(f"funcgrad.scipy.signal.{name}: inputs must both be 2-D arrays, not "
                         f"{tuple(in1.shape)} and {tuple(in2.shape)}")
    return _nd(name, in1, in2, mode, "direct", same_offset, convolve)


def _centred(k):
    return (k - 1) // 2


def convolve(in1, in2, mode="full", method="auto"):
    """The N-D convolution of in1 and in2 (like scipy.signal.convolve):
    ``out[i] = sum_k in1[i - k] in2[k]`` over mode 'full', 'valid' or 'same'.

    Differentiable in both inputs. ``method`` is accepted; it is computed directly.

    Example:
        >>> from funcgrad.scipy.signal import convolve
        >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), "same")
        array([1. , 2.5, 4. ])
    """
    return _nd("convolve", in1, in2, mode, method, _centred, True)


def correlate(in1, in2, mode="full", method="auto"):
    """The N-D cross-correlation of in1 and in2 (like scipy.signal.correlate):
    ``out[i] = sum_k in1[i + k] in2[k]``, shifted per mode as SciPy's ('full': by K - 1).

    Differentiable in both inputs. ``method`` is accepted; it is computed directly.

    Example:
        >>> from funcgrad.scipy.signal import correlate
        >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
        array([0.5, 2. , 3.5, 3. , 0. ])
    """
    return _nd("correlate", in1, in2, mode, method, _centred, False)


def fftconvolve(in1, in2, mode="full", axes=None):
    """The convolution of in1 and in2 along ``axes`` (all by default), as
    scipy.signal.fftconvolve: a floating-point result, the other axes taken in lockstep
    (equal in both inputs, or 1 in one of them, as SciPy broadcasts). Computed directly, as
    ``convolve`` is (no FFT: exact where the FFT rounds, and a nan or inf stays where its
    products go).

    Differentiable in both inputs.

    Example:
        >>> from funcgrad.scipy.signal import fftconvolve
        >>> fftconvolve(np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]), np.array([[1.0, -1.0]]),
        ...             axes=1)
        array([[ 1.,  1.,  1., -3.],
               [ 0.,  1., -1.,  0.]])
    """
    name = "funcgrad.scipy.signal.fftconvolve"
    _convolve.check_mode(name, mode)
    in1, in2 = _convolve.real_operands("fftconvolve", in1, in2)
    dtype = _util.inexact_dtype(in1.dtype)  # SciPy's FFT gives floats for integers
    in1, in2 = ew.convert_element_type(in1, dtype), ew.convert_element_type(in2, dtype)
    if in1.ndim != in2.ndim:
        raise ShapeError(f"{name}: in1 and in2 should have the same number of axes, not "
                         f"{tuple(in1.shape)} and {tuple(in2.shape)}")
    if in1.ndim == 0:  # as SciPy: the product
        return ew.multiply(in1, in2)
    axes = _conv_axes(name, axes, in1.ndim)
    order = [a for a in range(in1.ndim) if a not in axes] + axes  # lockstep axes first
    x, w = sh.transpose(in1, order), sh.transpose(in2, order)
    nb = in1.ndim - len(axes)
    lockstep = []
    for a, n, k in zip(order, x.shape[:nb], w.shape[:nb]):
        if n != k and 1 not in (n, k):
            raise ShapeError(f"{name}: axis {a} is not convolved, so its lengths must be "
                             f"equal or 1, not {n} and {k}")
        lockstep.append(max(n, k))
    x = sh.broadcast_to(x, [*lockstep, *x.shape[nb:]])
    w = sh.broadcast_to(w, [*lockstep, *w.shape[nb:]])
    starts, lengths = _window(name, mode, x.shape[nb:], w.shape[nb:], _centred)
    out = _convolve.window(x, w, starts, lengths, True, batch=nb)
    return sh.transpose(out, list(np.argsort(order)))


def _conv_axes(name, axes, ndim):
    """``axes`` as a sorted list of distinct non-negative axes (SciPy's reading)."""
    if axes is None:
        return list(range(ndim))
    axes = [_util.normalize_axis(a, ndim) for a in np.atleast_1d(axes).tolist()]
    if not axes:
        raise FuncgradValueError(f"{name}: axes, when given, cannot be empty")
    if len(set(axes)) != len(axes):
        raise FuncgradValueError(f"{name}: axes must be unique, not {axes}")
    return sorted(axes)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """The 2-D convolution of in1 and in2 (like scipy.signal.convolve2d), zero outside in1:
    boundary='fill' with fillvalue=0 is the one boundary supported.

    Differentiable in both inputs; compiled, a direct loop.

    Example:
        >>> from funcgrad.scipy.signal import convolve2d
        >>> image = np.arange(16.0).reshape(4, 4)
        >>> convolve2d(image, np.array([[0.0, 1.0], [1.0, 0.0]]), "valid")
        array([[ 5.,  7.,  9.],
               [13., 15., 17.],
               [21., 23., 25.]])
    """
    return _2d("convolve2d", in1, in2, mode, boundary, fillvalue, _centred, True)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """The 2-D cross-correlation of in1 and in2 (like scipy.signal.correlate2d), zero
    outside in1 (boundary='fill', fillvalue=0 only). Its 'same' mode centres as SciPy's
    correlate2d does, which for even kernel sizes is one place off scipy.signal.correlate's.

    Differentiable in both inputs; compiled, a direct loop.

    Example:
        >>> from funcgrad.scipy.signal import correlate2d
        >>> correlate2d(np.eye(3), np.array([[1.0, 2.0], [3.0, 4.0]]), "valid")
        array([[5., 3.],
               [2., 5.]])
    """
    return _2d("correlate2d", in1, in2, mode, boundary, fillvalue, lambda k: k // 2, False)
