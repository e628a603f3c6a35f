"""NumPy's complex-number helpers on real arrays.

funcgrad has no complex dtype, so on its arrays these are simple: the real part is the
array, the imaginary part is zero, conjugation does nothing and the angle is 0 or pi. They
exist so that code written for complex-capable NumPy (``np.real(x)``, ``x.conj()`` in an
inner product, ``np.iscomplexobj`` checks) runs unchanged.
"""

from __future__ import annotations

import numpy as np

from funcgrad.numpy._util import array_arg
from funcgrad.numpy._creation import zeros_like
from funcgrad.ops.elementwise import arctan2, convert_element_type, multiply, stop_gradient


def real(val):
    """The real part: ``val`` itself, since funcgrad's arrays are real (like numpy.real).

    Example:
        >>> fnp.real(np.array([1.0, -2.0]))
        array([ 1., -2.])
    """
    return array_arg(val, "val")


def imag(val):
    """The imaginary part: zeros of ``val``'s shape and dtype (like numpy.imag).

    Example:
        >>> fnp.imag(np.array([1.0, -2.0]))
        array([0., 0.])
    """
    return zeros_like(array_arg(val, "val"))


def conjugate(x):
    """The complex conjugate: ``x`` itself on real arrays (like numpy.conjugate).

    Example:
        >>> fnp.conjugate(np.array([1.0, -2.0]))
        array([ 1., -2.])
    """
    x = array_arg(x, "x")  # NumPy's conjugate ufunc has no bool loop: int8 is the first
    return convert_element_type(x, np.dtype(np.int8)) if x.dtype == np.bool_ else x


conj = conjugate


def angle(z, deg=False):
    """The argument of each element: 0 for positive numbers and +0.0, pi for negative ones
    and -0.0 (like numpy.angle). It is piecewise constant, so its gradient is zero.

    Example:
        >>> fnp.angle(np.array([2.0, -3.0]))
        array([0.        , 3.14159265])
    """
    z = array_arg(z, "z")
    if z.dtype.kind != "f":
        z = convert_element_type(z, np.dtype(np.float64))
    out = arctan2(zeros_like(z), stop_gradient(z))
    return multiply(out, 180.0 / np.pi) if deg else out


def real_if_close(a, tol=100):
    """``a`` itself: a real array is already real (like numpy.real_if_close).

    Example:
        >>> fnp.real_if_close(np.array([1.0, 2.0]))
        array([1., 2.])
    """
    return array_arg(a, "a")


def iscomplexobj(x) -> bool:
    """Whether ``x`` has a complex dtype: never, for funcgrad's arrays (numpy.iscomplexobj).

    Example:
        >>> fnp.iscomplexobj(np.ones(2))
        False
    """
    return np.dtype(getattr(x, "dtype", np.asarray(x).dtype if not hasattr(x, "aval")
                            else np.float64)).kind == "c"


def isrealobj(x) -> bool:
    """Whether ``x`` has a real dtype (like numpy.isrealobj).

    Example:
        >>> fnp.isrealobj(np.ones(2))
        True
    """
    return not iscomplexobj(x)


def iscomplex(x):
    """Where ``x`` has a non-zero imaginary part: nowhere, for real arrays (like
    numpy.iscomplex).

    Example:
        >>> fnp.iscomplex(np.array([1.0, 2.0]))
        array([False, False])
    """
    return zeros_like(array_arg(x, "x"), dtype=np.bool_)


def isreal(x):
    """Where ``x`` has a zero imaginary part: everywhere, for real arrays (like numpy.isreal).

    Example:
        >>> fnp.isreal(np.array([1.0, 2.0]))
        array([ True,  True])
    """
    return ~iscomplex(x)
