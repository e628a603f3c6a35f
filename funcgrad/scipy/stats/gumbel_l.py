"""The left-skewed Gumbel distribution (of minima): sf exp(-exp(z)), z = (x - loc) / scale.
Differentiable in x, loc and scale.

It is the mirror image of gumbel_r: X ~ gumbel_l(loc, scale) exactly when -X ~
gumbel_r(-loc, scale), so its densities and tails are gumbel_r's at -x (exactly: z's sign
flips, and negation rounds nothing); only the quantile is written out, where log1p(-p)
keeps digits that gumbel_r's log(1 - p) would lose.

Example:
    >>> from funcgrad.scipy.stats import gumbel_l
    >>> gumbel_l.sf(np.array([0.0]))
    array([0.36787944])
"""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad.scipy.stats import _common, gumbel_r

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]


def _mirrored(x, loc):
    """x and loc for gumbel_r: -x and -loc."""
    x, loc = _common.arrays(x, loc)
    return -x, -loc


def logpdf(x, loc=0, scale=1):
    """z - exp(z) - log(scale).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_l
        >>> gumbel_l.logpdf(np.array([0.0, -1000.0]))
        array([   -1., -1000.])
    """
    return gumbel_r.logpdf(*_mirrored(x, loc), scale)


def pdf(x, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_l
        >>> gumbel_l.pdf(np.array([0.0]))
        array([0.36787944])
    """
    return gumbel_r.pdf(*_mirrored(x, loc), scale)


def logsf(x, loc=0, scale=1):
    """-exp(z).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_l
        >>> gumbel_l.logsf(np.array([2.0, -50.0]))
        array([-7.38905610e+00, -1.92874985e-22])
    """
    return gumbel_r.logcdf(*_mirrored(x, loc), scale)


def sf(x, loc=0, scale=1):
    """exp(-exp(z)).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_l
        >>> gumbel_l.sf(np.array([10.0, -10.0]))
        array([0.       , 0.9999546])
    """
    return gumbel_r.cdf(*_mirrored(x, loc), scale)


def logcdf(x, loc=0, scale=1):
    """log(1 - exp(-exp(z))), accurate in both tails (z where exp(z) underflows).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_l
        >>> gumbel_l.logcdf(np.array([0.0, -1000.0]))
        array([-4.58675145e-01, -1.00000000e+03])
    """
    return gumbel_r.logsf(*_mirrored(x, loc), scale)


def cdf(x, loc=0, scale=1):
    """1 - exp(-exp(z)), as -expm1(-exp(z)) (accurate in the lower tail).

    Example:
        >>> from funcgrad.scipy.stats import gumbel_l
        >>> gumbel_l.cdf(np.array([-40.0]))
        array([4.24835426e-18])
    """
    return gumbel_r.sf(*_mirrored(x, loc), scale)


def ppf(p, loc=0, scale=1):
    """The quantile loc + scale log(-log(1 - p)); nan outside [0, 1].

    Example:
        >>> from funcgrad.scipy.stats import gumbel_l
        >>> gumbel_l.ppf(np.array([0.0, 1.0 - np.exp(-1.0), 1.0]))
        array([-inf,   0.,  inf])
    """
    p, loc, scale = _common.arrays(p, loc, scale)
    valid = fnp.logical_and(scale > 0, fnp.logical_and(p >= 0, p <= 1))
    safe_p = fnp.where(valid, p, 0.5)
    return _common.invalid_as_nan(valid, loc + scale * fnp.log(-fnp.log1p(-safe_p)))
