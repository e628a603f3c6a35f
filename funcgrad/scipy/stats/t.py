"""Student's t distribution with ``df`` degrees of freedom, shifted by loc and scaled.

Its cdf needs the incomplete beta function, which funcgrad does not have yet.

Example:
    >>> from funcgrad.scipy.stats import t
    >>> t.logpdf(np.array([0.0, 2.0]), 3.0)
    array([-1.00088885, -2.69548457])
"""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import _common

__all__ = ["logpdf", "pdf"]


def logpdf(x, df, loc=0.0, scale=1.0):
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
             - (safe_df + 1) / 2 * fnp.log1p(z * z / safe_df))
    return _common.invalid_as_nan(fnp.logical_and(scale > 0, df > 0), value)


def pdf(x, df, loc=0.0, scale=1.0):
    """The density exp(logpdf).

    Example:
        >>> from funcgrad.scipy.stats import t
        >>> t.pdf(np.array([0.0]), 1.0)
        array([0.31830989])
    """
    return fnp.exp(logpdf(x, df, loc, scale))
