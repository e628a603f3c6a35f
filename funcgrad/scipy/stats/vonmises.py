"""The von Mises distribution on the circle: density exp(kappa cos x) / (2 pi I0(kappa)),
x in radians (periodic, as scipy.stats.vonmises: no support is imposed). kappa = 0 is
uniform. Differentiable in x and kappa.

Example:
    >>> from funcgrad.scipy.stats import vonmises
    >>> vonmises.pdf(np.array([0.0, np.pi]), 0.0)
    array([0.15915494, 0.15915494])
"""

from __future__ import annotations

import math

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf"]

_LOG_2PI = math.log(2 * math.pi)


def logpdf(x, kappa):
    """kappa (cos x - 1) - log(2 pi i0e(kappa)): no overflow for large kappa; nan for
    kappa < 0.

    Example:
        >>> from funcgrad.scipy.stats import vonmises
        >>> vonmises.logpdf(np.array([0.0, 0.1]), 1000.0)
        array([ 2.53481404, -2.46102068])
    """
    x, kappa = _common.arrays(x, kappa)
    valid = kappa >= 0
    safe = fnp.where(valid, kappa, 1.0)
    # log i0e(kappa) is -kappa at 0 to first order: i0e's own derivative there follows
    # |kappa|'s convention (0 at 0), but kappa >= 0 here, so the one from the right is it
    log_i0e = fnp.where(safe > 0, fnp.log(special.i0e(safe)), -safe)
    value = safe * (fnp.cos(x) - 1) - _LOG_2PI - log_i0e
    return _common.invalid_as_nan(valid, value, at=x)


def pdf(x, kappa):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import vonmises
        >>> vonmises.pdf(np.array([0.0]), 1.0)
        array([0.34171049])
    """
    return fnp.exp(logpdf(x, kappa))
