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

from funcgrad.core.errors import FuncgradValueError, ShapeError
from funcgrad.numpy import _convolve
from funcgrad.ops import elementwise as ew

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d"]

_METHODS = ("auto", "direct", "fft")


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
    if mode == "full":
        starts = [0] * in1.ndim
        lengths = [n + k - 1 for n, k in zip(in1.shape, in2.shape)]
    elif mode == "valid":
        starts, lengths = _convolve.valid_window(name, in1.shape, in2.shape)
    else:
        starts, lengths = [same_offset(k) for k in in2.shape], list(in1.shape)
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
