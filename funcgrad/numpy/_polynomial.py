"""NumPy's polynomial helpers on coefficient arrays, highest power first (``polyval`` is in
funcgrad.numpy._functions). Composed from convolve, slices, arithmetic and least squares,
they are traceable and differentiable in the coefficients; the degrees and lengths are
static. Leading zeros are kept (JAX's ``trim_leading_zeros=False``), since how many there
are depends on values; ``roots`` needs concrete coefficients.
"""

from __future__ import annotations

import operator

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.core.errors import (ConcretizationError, FuncgradTypeError, FuncgradValueError,
                                  ShapeError)
from funcgrad.core.tracing import Tracer
from funcgrad.numpy._util import array_arg


def _coefficients(p, name, what="coefficients"):
    p = array_arg(p, what)
    if p.ndim != 1:
        raise ShapeError(f"{name}: {what} must be a 1-D array, got {p.ndim} axes")
    return p


def _trim(p, name, trim_leading_zeros):
    if not trim_leading_zeros:
        return p
    if isinstance(p, Tracer):
        raise ConcretizationError(f"{name}: trim_leading_zeros=True needs concrete values")
    return np.trim_zeros(p, "f") if np.any(p) else p[-1:]


def poly(seq_of_zeros):
    """The coefficients of the monic polynomial with the given roots (like numpy.poly),
    by multiplying out ``(x - r)`` for each; a square matrix gives its characteristic
    polynomial (concrete matrices only: its eigenvalues may be complex).

    Example:
        >>> fnp.poly(np.array([1.0, 2.0]))
        array([ 1., -3.,  2.])
    """
    z = array_arg(seq_of_zeros, "seq_of_zeros")
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0]:
        if isinstance(z, Tracer):
            raise ConcretizationError("poly of a traced matrix: its eigenvalues may be complex, "
                                      "which funcgrad does not have")
        return np.poly(z)
    if z.ndim > 1:
        raise ShapeError("poly: input must be 1-D or a non-empty square 2-D array")
    dtype = np.result_type(z.dtype, np.float64) if z.dtype.kind != "f" else z.dtype
    if z.ndim == 0 or z.shape[0] == 0:  # no roots: NumPy's 1.0
        return np.ones((), dtype)[()]
    a = fnp.ones(1, dtype)
    for k in range(z.shape[0]):
        a = fnp.convolve(a, fnp.stack([fnp.asarray(1.0, dtype), -fnp.asarray(z[k], dtype)]))
    return a


def _aligned(a1, a2):
    """Both coefficient arrays at one length, zeros put in front of the shorter."""
    a1, a2 = array_arg(a1), array_arg(a2)
    n = max(a1.shape[0] if a1.ndim else 1, a2.shape[0] if a2.ndim else 1)
    return [fnp.pad(fnp.atleast_1d(a), (n - (a.shape[0] if a.ndim else 1), 0)) for a in (a1, a2)]


def polyadd(a1, a2):
    """The sum of two polynomials (like numpy.polyadd).

    Example:
        >>> fnp.polyadd(np.array([1.0, 2.0]), np.array([1.0, 0.0, 3.0]))
        array([1., 1., 5.])
    """
    a1, a2 = _aligned(a1, a2)
    return a1 + a2


def polysub(a1, a2):
    """The difference of two polynomials (like numpy.polysub).

    Example:
        >>> fnp.polysub(np.array([1.0, 2.0]), np.array([1.0, 0.0, 3.0]))
        array([-1.,  1., -1.])
    """
    a1, a2 = _aligned(a1, a2)
    return a1 - a2


def polymul(a1, a2, *, trim_leading_zeros=False):
    """The product of two polynomials (like numpy.polymul): their coefficients' convolution.

    Example:
        >>> fnp.polymul(np.array([1.0, 1.0]), np.array([1.0, -1.0]))
        array([ 1.,  0., -1.])
    """
    a1, a2 = fnp.atleast_1d(array_arg(a1)), fnp.atleast_1d(array_arg(a2))
    return _trim(fnp.convolve(a1, a2), "polymul", trim_leading_zeros)


def polyder(p, m=1):
    """The ``m``-th derivative of a polynomial (like numpy.polyder).

    Example:
        >>> fnp.polyder(np.array([1.0, 2.0, 3.0, 4.0]))
        array([3., 4., 3.])
    """
    m = operator.index(m)
    if m < 0:
        raise FuncgradValueError(f"polyder: order of derivative must be positive, got {m}")
    p = _coefficients(p, "polyder")
    if p.dtype.kind in "bu":
        p = fnp.asarray(p, np.int64)
    for _ in range(m):  # a constant's derivative has no coefficients, as in NumPy
        p = p[:-1] * np.arange(p.shape[0] - 1, 0, -1)
    return p


def polyint(p, m=1, k=None):
    """The ``m``-th antiderivative of a polynomial (like numpy.polyint), with the
    integration constants ``k`` (one, or ``m`` of them, the first for the first
    integration; zeros by default).

    Example:
        >>> fnp.polyint(np.array([3.0, 2.0, 1.0]))
        array([1., 1., 1., 0.])
    """
    m = operator.index(m)
    if m < 0:
        raise FuncgradValueError(f"polyint: order of integral must be positive, got {m}")
    p = _coefficients(p, "polyint")
    dtype = np.result_type(p.dtype, np.float64) if p.dtype.kind != "f" else p.dtype
    p = fnp.asarray(p, dtype)
    if k is None:
        k = [0.0] * m
    elif isinstance(k, (list, tuple)) or np.ndim(k):  # a sequence may hold traced constants
        k = [k[i] for i in range(len(k))]
    else:
        k = [k] * m
    if len(k) != m:
        raise FuncgradValueError(f"polyint: k must have {m} constants, got {len(k)}")
    for constant in k:
        n = p.shape[0]
        p = fnp.concatenate([p / np.arange(n, 0, -1), fnp.reshape(fnp.asarray(constant, dtype),
                                                                  (1,))])
    return p


def polydiv(u, v, *, trim_leading_zeros=False):
    """Quotient and remainder of polynomial division (like numpy.polydiv, by long
    division). As in JAX the remainder keeps ``u``'s length (its leading zeros: NumPy
    trims them) unless ``trim_leading_zeros=True`` (concrete values only). ``v``'s
    leading coefficient must not be zero.

    Example:
        >>> fnp.polydiv(np.array([1.0, 3.0, 2.0]), np.array([1.0, 1.0]))
        (array([1., 2.]), array([0., 0., 0.]))
    """
    u, v = _coefficients(u, "polydiv", "u"), _coefficients(v, "polydiv", "v")
    dtype = np.result_type(u.dtype, v.dtype, np.float64)
    u, v = fnp.asarray(u, dtype), fnp.asarray(v, dtype)
    m, n = u.shape[0] - 1, v.shape[0] - 1
    if n < 0:
        raise ShapeError("polydiv: v must not be empty")
    scale = 1.0 / v[0]
    q, r = [], u
    for k in range(max(m - n + 1, 0)):
        d = scale * r[k]
        q.append(d)
        r = fnp.concatenate([r[:k], r[k:k + n + 1] - d * v, r[k + n + 1:]])
    q = fnp.stack(q) if q else fnp.zeros(1, dtype)
    return q, _trim(r, "polydiv", trim_leading_zeros)


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """The least-squares polynomial of degree ``deg`` through the points (x, y) (like
    numpy.polyfit; ``y`` may have one column per fit), by funcgrad's lstsq on the scaled
    Vandermonde matrix, so it is differentiable in ``x``, ``y`` and ``w``. ``full`` also
    returns the residuals, rank, singular values and rcond; ``cov`` is not supported.

    Example:
        >>> fnp.polyfit(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), 1)
        array([2., 1.])
    """
    if cov:
        raise FuncgradTypeError("polyfit does not support cov=")
    deg = operator.index(deg)
    if deg < 0:
        raise FuncgradValueError(f"polyfit: expected deg >= 0, got {deg}")
    x, y = _coefficients(x, "polyfit", "x"), array_arg(y, "y")
    x = fnp.asarray(x, np.result_type(x.dtype, np.float64)) if x.dtype.kind != "f" else x
    if y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise ShapeError(f"polyfit: expected y of shape ({x.shape[0]},) or ({x.shape[0]}, k), "
                         f"got {tuple(y.shape)}")
    rcond = x.shape[0] * np.finfo(x.dtype).eps if rcond is None else rcond
    lhs, rhs = fnp.vander(x, deg + 1), fnp.asarray(y, x.dtype)
    if w is not None:
        w = _coefficients(w, "polyfit", "w")
        if w.shape[0] != x.shape[0]:
            raise ShapeError("polyfit: expected w and y to have the same length")
        lhs = lhs * w[:, None]
        rhs = rhs * (w[:, None] if rhs.ndim == 2 else w)
    scale = fnp.sqrt(fnp.sum(lhs * lhs, axis=0))  # columns of norm one: better conditioned
    c, residuals, rank, s = fnp.linalg.lstsq(lhs / scale, rhs, rcond)
    c = (c.T / scale).T
    return (c, residuals, rank, s, rcond) if full else c


def roots(p, *, strip_zeros=True):
    """The roots of the polynomial with coefficients ``p`` (like numpy.roots: the
    eigenvalues of its companion matrix). Eager only: concrete coefficients, and roots that
    are all real, since funcgrad has no complex numbers (a FuncgradTypeError says so).

    Example:
        >>> fnp.roots(np.array([1.0, -3.0, 2.0]))
        array([2., 1.])
    """
    if isinstance(p, Tracer):
        raise ConcretizationError("roots needs concrete coefficients: its eigenvalue solver "
                                  "runs in NumPy and may give complex roots")
    p = _coefficients(p, "roots")
    if not strip_zeros and p.size and p[0] == 0:
        raise FuncgradValueError("roots: a leading coefficient of zero needs strip_zeros=True")
    out = np.roots(p)
    if out.dtype.kind == "c":
        raise FuncgradTypeError(f"roots: the polynomial has complex roots ({out}), and "
                                "funcgrad has no complex numbers")
    return out
