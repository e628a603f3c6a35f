"""NumPy's floating-point error handling, for the NumPy that funcgrad runs eagerly.

Programs written for NumPy set it (``np.seterr(divide="ignore")``, ``with np.errstate(...)``)
and should run unchanged. It governs the warnings of eager computation, which is NumPy's;
compiled code never warns or raises on floating-point errors (it gives inf and nan, as NumPy
does with errors ignored).
"""

from __future__ import annotations

import numpy as np


def seterr(all=None, divide=None, over=None, under=None, invalid=None):  # noqa: A002
    """Set how NumPy treats floating-point errors; returns the old settings (numpy.seterr).

    Example:
        >>> old = fnp.seterr(divide="ignore")
        >>> fnp.log(np.array([0.0]))
        array([-inf])
        >>> _ = fnp.seterr(**old)
    """
    return np.seterr(all=all, divide=divide, over=over, under=under, invalid=invalid)


def geterr():
    """How NumPy currently treats floating-point errors (numpy.geterr).

    Example:
        >>> sorted(fnp.geterr())
        ['divide', 'invalid', 'over', 'under']
    """
    return np.geterr()


class errstate(np.errstate):
    """A context in which NumPy treats floating-point errors as given (numpy.errstate).

    Example:
        >>> with fnp.errstate(invalid="ignore"):
        ...     print(fnp.sqrt(np.array([-1.0])))
        [nan]
    """
