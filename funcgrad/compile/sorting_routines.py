"""Sorting and searching in generated code, as ``fgm.argsort_stable(x)`` and
``fgm.searchsorted(a, v, right)``: NumPy's order (NaN after every number), written here
because Numba's own ``np.argsort(kind="mergesort")`` and ``np.searchsorted`` keep their
helpers as dynamic globals, which stops Numba from caching a program that calls them on disk:
every process compiled such a program again.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from funcgrad.compile.allocation import empty


@register_jitable
def _before(a, b):
    """Whether ``a`` sorts strictly before ``b``: NaN after everything, as NumPy sorts."""
    return a < b or (b != b and a == a)


@register_jitable
def argsort_stable(x):
    """np.argsort(x, kind="stable") of a 1-D array: a bottom-up merge sort of indices, which
    takes from the left run unless the right run's value sorts strictly before it."""
    n = x.shape[0]
    order = empty((n,), np.int64)
    spare = empty((n,), np.int64)
    for i in range(n):
        order[i] = i
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                if i < mid and (j >= hi or not _before(x[order[j]], x[order[i]])):
                    spare[k] = order[i]
                    i += 1
                else:
                    spare[k] = order[j]
                    j += 1
        order, spare = spare, order
        width *= 2
    return order


@register_jitable
def searchsorted(a, v, right):
    """np.searchsorted(a, v, side="right" if right else "left") for a sorted 1-D ``a`` and
    one value ``v``: the first place whose element sorts after ``v`` (right) or does not
    sort before it (left), by bisection."""
    lo, hi = 0, a.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if (_before(v, a[mid]) if right else not _before(a[mid], v)):
            hi = mid
        else:
            lo = mid + 1
    return lo
