"""NumPy's scalar types, callable on traced values as in JAX: ``fnp.float32(x)``.

``np.float32(x)`` on a traced ``x`` would need its value; JAX code writes ``jnp.float32(x)``
to convert an array, and ported code should keep working. Each ``ScalarType`` converts like
``astype`` when given an array or a traced value and behaves exactly like NumPy's type when
given a Python number (a NumPy scalar comes back). It is accepted wherever a dtype is
(``dtype=fnp.float32``, ``x.astype(fnp.int32)``, ``np.dtype(fnp.int8)``) through its
``dtype`` attribute, and compares equal to NumPy's type and dtype.
"""

from __future__ import annotations

import numpy as np

from funcgrad.core.tracing import Tracer
from funcgrad.numpy._creation import asarray


class ScalarType:
    """A NumPy scalar type that also converts traced values (``fnp.int64(x)``).

    Example:
        >>> fnp.float32(np.array([1.5, 2.5])), fnp.int64(2.7)
        (array([1.5, 2.5], dtype=float32), np.int64(2))
        >>> fg.grad(lambda x: fnp.sum(fnp.float32(x) ** 2))(np.ones(2, np.float32))
        array([2., 2.], dtype=float32)
    """

    def __init__(self, scalar_type: type, name: str):
        self.type = scalar_type
        self.dtype = np.dtype(scalar_type)
        self.__name__ = self.__qualname__ = name
        self.__doc__ = _doc(scalar_type, name)

    def __call__(self, x=0):
        if isinstance(x, (Tracer, np.ndarray, list, tuple)):
            return asarray(x, self.dtype)
        return self.type(x)

    def __eq__(self, other):
        return other is self or other is self.type or (
            isinstance(other, np.dtype) and other == self.dtype)

    def __hash__(self):
        return hash(self.type)

    def __repr__(self):
        return f"<class 'numpy.{self.type.__name__}'>"

    def __instancecheck__(self, value):  # isinstance(v, fnp.float64) as NumPy answers it
        return isinstance(value, self.type)


def _doc(scalar_type: type, name: str) -> str:
    values = [0.0, 1.5] if name == "bool_" else [1.5, 2.5]
    converted = repr(np.array(values).astype(scalar_type))
    return (f"NumPy's ``{name}``, which also converts arrays and traced values (``astype``).\n\n"
            f"Example:\n        >>> fnp.{name}(np.array({values}))\n        {converted}\n")


# --- dtype helpers: NumPy's, also given funcgrad's scalar types and traced arrays -----------

def _type(t):
    """A dtype-like NumPy understands: a ScalarType's NumPy type, an array's dtype."""
    if isinstance(t, ScalarType):
        return t.type
    return t.dtype if isinstance(t, (Tracer, np.ndarray)) else t


def isscalar(element):
    """Whether ``element`` is a scalar: as JAX has it, numpy.isscalar's answer, or a 0-d
    array (traced or not).

    Example:
        >>> fnp.isscalar(1.5), fnp.isscalar(np.array(2.0)), fnp.isscalar([1.0])
        (True, True, False)
    """
    return bool(np.isscalar(element)
                or (isinstance(element, (Tracer, np.ndarray)) and element.ndim == 0))


def issubdtype(arg1, arg2):
    """Whether the dtype ``arg1`` is of the kind ``arg2`` (like numpy.issubdtype).

    Example:
        >>> fnp.issubdtype(fnp.float32, fnp.floating), fnp.issubdtype(np.int8, fnp.inexact)
        (True, False)
    """
    return bool(np.issubdtype(_type(arg1), _type(arg2)))


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` cast to safely (like
    numpy.promote_types).

    Example:
        >>> fnp.promote_types(fnp.int8, fnp.uint8)
        dtype('int16')
    """
    return np.promote_types(_type(type1), _type(type2))


def can_cast(from_, to, casting="safe"):
    """Whether a cast from the dtype (or array) ``from_`` to ``to`` is allowed under the
    ``casting`` rule (like numpy.can_cast).

    Example:
        >>> fnp.can_cast(fnp.int32, fnp.float64), fnp.can_cast(np.ones(2), fnp.int64)
        (True, False)
    """
    return bool(np.can_cast(_type(from_), _type(to), casting))
