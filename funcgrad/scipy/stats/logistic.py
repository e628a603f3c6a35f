"""The logistic distribution: cdf expit((x - loc) / scale).

Example:
    >>> from funcgrad.scipy.stats import logistic
    >>> logistic.cdf(np.array([0.0, 1000.0]))
    array([0.5, 1. ])
"""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def _z(x, loc, scale):
    x, loc, scale = _common.arrays(x, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    return z, safe_scale, scale > 0


def logpdf(x, loc=0, scale=1):
    """log expit(z) + log expit(-z) - log(scale), finite for any z.

    Example:
        >>> from funcgrad.scipy.stats import logistic
        >>> logistic.logpdf(np.array([0.0, 1000.0]))
        array([   -1.38629436, -1000.        ])
    """
    z, safe_scale, valid = _z(x, loc, scale)
    value = nn.log_sigmoid(z) + nn.log_sigmoid(-z) - fnp.log(safe_scale)
    return _common.invalid_as_nan(valid, value)


def pdf(x, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import logistic
        >>> logistic.pdf(np.array([0.0]))
        array([0.25])
    """
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """expit(z).

    Example:
        >>> from funcgrad.scipy.stats import logistic
        >>> logistic.cdf(np.array([1.0]))
        array([0.73105858])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, nn.sigmoid(z))


def logcdf(x, loc=0, scale=1):
    """log expit(z), stable for large |z|.

    Example:
        >>> from funcgrad.scipy.stats import logistic
        >>> logistic.logcdf(np.array([-1000.0]))
        array([-1000.])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, nn.log_sigmoid(z))


def sf(x, loc=0, scale=1):
    """expit(-z).

    Example:
        >>> from funcgrad.scipy.stats import logistic
        >>> logistic.sf(np.array([1.0]))
        array([0.26894142])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, nn.sigmoid(-z))


def logsf(x, loc=0, scale=1):
    """log expit(-z).

    Example:
        >>> from funcgrad.scipy.stats import logistic
        >>> logistic.logsf(np.array([1000.0]))
        array([-1000.])
    """
    z, _, valid = _z(x, loc, scale)
    return _common.invalid_as_nan(valid, nn.log_sigmoid(-z))
