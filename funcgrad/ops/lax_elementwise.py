"""Elementwise primitives that ``funcgrad.lax`` needs and no composite of the others can
compute exactly: ``nextafter`` (the next float after x toward y; it is piecewise constant,
so its derivative is zero, as in JAX).
"""

from __future__ import annotations

import numpy as np

from funcgrad.ops.elementwise import ufunc_primitive
from funcgrad.rules.lowering import call

nextafter_p = ufunc_primitive("nextafter", np.nextafter, None, call("np.nextafter({0}, {1})"))


def nextafter(x, y):
    return nextafter_p.bind(x, y)
