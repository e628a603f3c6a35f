"""Student's t distribution with ``df`` degrees of freedom, shifted by loc and scaled.

Its cdf and sf (through the incomplete beta function) are differentiable in x, loc, scale
and, to first order, in df.

Example:
    >>> from funcgrad.scipy.stats import t
    >>> t.logpdf(np.array([0.0, 2.0]), 3.0)
    array([-1.00088885, -2.69548457])
"""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, df, loc=0, scale=1):
    """log density: lgamma((df + 1) / 2) - lgamma(df / 2) - log(df pi) / 2 - log(scale)
    - (df + 1) / 2 log1p(z^2 / df), z = (x - loc) / scale.

    Example:
        >>> from funcgrad.scipy.stats import t
        >>> t.logpdf(np.array([1.0]), df=np.array([1.0, 1e6]), scale=2.0)
        array([-2.06102062, -1.73708607])
    """
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    z, safe_scale = _common.standardize(x, loc, scale)
    safe_df = fnp.where(df > 0, df, 1.0)
    value = (special.gammaln((safe_df + 1) / 2) - special.gammaln(safe_df / 2)
             - 0.5 * (fnp.log(safe_df) + _common.LOG_PI) - fnp.log(safe_scale)
             - (safe_df + 1) / 2 * _common.log1p_square(z / fnp.sqrt(safe_df)))
    return _common.invalid_as_nan(fnp.logical_and(scale > 0, df > 0), value)


def pdf(x, df, loc=0, scale=1):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import t
        >>> t.pdf(np.array([0.0]), 1.0)
        array([0.31830989])
    """
    return fnp.exp(logpdf(x, df, loc, scale))


# Below this |z| the cdf is 1/2 + z pdf(z), exact to O(z^3): the incomplete beta function of
# z^2 has an infinite slope at 0, which would meet the zero slope of z^2 as inf * 0 = nan.
_CENTRE = 1e-8


def _upper_tail(x, df, loc, scale):
    """P(T > |z|) and z, and the parameters' validity, and where z is in the centre (where
    cdf and sf are 1/2 +- z pdf(z) instead). The incomplete beta function at
    df / (df + z^2) is accurate for a small tail; near 1/2 (small z, where that argument
    rounds to 1) the tail is 1/2 less the one at z^2 / (df + z^2)."""
    x, df, loc, scale = _common.arrays(x, df, loc, scale)
    z, _ = _common.standardize(x, loc, scale)
    safe_df = fnp.where(df > 0, df, 1.0)
    # at z = +-inf the tail is 0 and flat; the formulas would give inf / inf there, whose
    # nan slope would reach the gradient through the branches where() drops
    infinite = fnp.isinf(z)
    finite = fnp.where(infinite, 1.0, z)
    centre = fnp.abs(finite) < _CENTRE
    z2 = fnp.where(centre, 1.0, finite * finite)
    far = 0.5 * special.betainc(safe_df / 2, 0.5, safe_df / (safe_df + z2))
    near = 0.5 - 0.5 * special.betainc(0.5, safe_df / 2, z2 / (safe_df + z2))
    valid = fnp.logical_and(scale > 0, df > 0)
    slope = finite * fnp.exp(logpdf(finite, safe_df))
    tail = fnp.where(infinite, 0.0, fnp.where(far > 0.25, near, far))
    return tail, z, valid, centre, slope


def cdf(x, df, loc=0, scale=1):
    """P(T <= x).

    Example:
        >>> from funcgrad.scipy.stats import t
        >>> t.cdf(np.array([-1e3, 0.0, 2.0]), 3.0)
        array([1.10265382e-09, 5.00000000e-01, 9.30337016e-01])
    """
    tail, z, valid, centre, slope = _upper_tail(x, df, loc, scale)
    value = fnp.where(centre, 0.5 + slope, fnp.where(z < 0, tail, 1.0 - tail))
    return _common.invalid_as_nan(valid, value)


def sf(x, df, loc=0, scale=1):
    """P(T > x), accurate in the upper tail.

    Example:
        >>> from funcgrad.scipy.stats import t
        >>> t.sf(np.array([1e3]), 3.0)
        array([1.10265382e-09])
    """
    tail, z, valid, centre, slope = _upper_tail(x, df, loc, scale)
    value = fnp.where(centre, 0.5 - slope, fnp.where(z < 0, 1.0 - tail, tail))
    return _common.invalid_as_nan(valid, value)


def logcdf(x, df, loc=0, scale=1):
    """log P(T <= x).

    Example:
        >>> from funcgrad.scipy.stats import t
        >>> t.logcdf(np.array([0.0]), 3.0)
        array([-0.69314718])
    """
    return _common.log_probability(cdf(x, df, loc, scale), sf(x, df, loc, scale))


def logsf(x, df, loc=0, scale=1):
    """log P(T > x).

    Example:
        >>> from funcgrad.scipy.stats import t
        >>> t.logsf(np.array([0.0]), 3.0)
        array([-0.69314718])
    """
    return _common.log_probability(sf(x, df, loc, scale), cdf(x, df, loc, scale))
