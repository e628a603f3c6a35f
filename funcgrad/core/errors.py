"""funcgrad's exceptions, and how they name the line of user code they are about.

Every error a user can cause says what was wrong and where in *their* code: the innermost
stack frame outside the funcgrad package. A FuncgradError adds that location to its message
when it is made, so no raise site has to remember to (one that names a line itself, such as
an equation's source, keeps its own).
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# NumPy's own Python code (np.vectorize, ...) is never the user's line either
_NOT_USER = (_PACKAGE_DIR, os.path.dirname(os.path.abspath(np.__file__)) + os.sep)
NAMES_A_LINE = re.compile(r"\.pyw?:\d+|<[^>]*>:\d+")  # 'model.py:12', '<stdin>:1'


class FuncgradError(Exception):
    """Base class of all errors funcgrad raises about its user's code. Its message ends with
    the line of user code it is about; ``reason`` is the message without it.

    Example:
        >>> try:
        ...     fnp.add(np.ones(2), np.ones(3))
        ... except fg.FuncgradError as err:
        ...     print(type(err).__name__, "-", err.reason)
        ShapeError - cannot broadcast f64[2] with f64[3]
    """

    def __init__(self, message: str = "", *args):
        self.reason = message  # without the location, for errors that wrap this one
        super().__init__(at_user_line(message) if isinstance(message, str) else message, *args)


class FuncgradTypeError(FuncgradError, TypeError):
    """A value of the wrong type or dtype.

    Example:
        >>> fnp.exp(np.array(["a"]))
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.FuncgradTypeError: dtype str32 is not supported; funcgrad works ...
    """


class ShapeError(FuncgradError, ValueError):
    """Shapes that do not fit together (broadcasting, matmul, reshape, concatenate...).

    Example:
        >>> fnp.add(np.ones(2), np.ones(3))
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.ShapeError: cannot broadcast f64[2] with f64[3] (in ...)
    """


class FuncgradValueError(FuncgradError, ValueError):
    """A value NumPy would refuse too, such as an integer to a negative integer power.

    Example:
        >>> fnp.power(np.array([2, 3]), -2)
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.FuncgradValueError: integers to negative integer powers are not ...
    """


class FuncgradMemoryError(FuncgradError, MemoryError):
    """An array larger than this machine's memory: refused before any work is done on it.

    Example:
        >>> fnp.add(np.ones((10**7, 1)), np.ones((1, 10**7)))
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.FuncgradMemoryError: the result of add would be f64[10000000,...
    """


class FuncgradIndexError(FuncgradError, IndexError):
    """An index out of bounds, or of a kind funcgrad cannot trace.

    Example:
        >>> fg.grad(lambda x: x[3])(np.zeros(2))
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.FuncgradIndexError: index 3 is out of bounds for an axis of size 2 ...
    """


class ConcretizationError(FuncgradError, TypeError):
    """Python needed a concrete value (``if``, ``bool()``, ``int()``) of a traced array.

    Example:
        >>> fg.jit(lambda x: x if x > 0 else -x)(1.0)
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.ConcretizationError: bool() (an `if`, `while`, `and`, `or` or ...
        >>> fg.jit(lambda x: fnp.where(x > 0, x, -x))(-1.0)  # the traceable choice
        np.float64(1.0)
    """


class UnexpectedTracerError(FuncgradError, RuntimeError):
    """A traced value was used after the trace that created it had finished.

    Example:
        >>> seen = []
        >>> fg.grad(lambda x: seen.append(x) or x * 2.0)(1.0)  # keeps a traced value
        np.float64(2.0)
        >>> seen[0] + 1.0
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.UnexpectedTracerError: a traced value (f64[]) was used at ...
    """


class InPlaceUpdateError(FuncgradError, TypeError):
    """``x[i] = v`` on a traced array: arrays are immutable in a pure function.

    Example:
        >>> def zero_first(x):
        ...     x[0] = 0.0
        ...     return x
        >>> fg.jit(zero_first)(np.ones(2))
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.InPlaceUpdateError: arrays are immutable inside a traced ...
        >>> fg.jit(lambda x: x.at[0].set(0.0))(np.ones(2))  # the functional update
        array([0., 1.])
    """


class UnboundAxisError(FuncgradError, NameError):
    """A collective (``lax.psum``, ``lax.axis_index``...) named an axis that no enclosing
    ``vmap(..., axis_name=...)`` binds: called eagerly, under ``jit`` alone, or with a
    misspelled name. JAX raises NameError "unbound axis name" for it.

    Example:
        >>> from funcgrad import lax
        >>> lax.psum(np.ones(2), "batch")
        Traceback (most recent call last):
            ...
        funcgrad.core.errors.UnboundAxisError: unbound axis name: batch. psum needs an ...
        >>> fg.vmap(lambda x: x / lax.psum(x, "batch"), axis_name="batch")(np.ones(2))
        array([0.5, 0.5])
    """


class LoweringError(FuncgradError, NotImplementedError):
    """A primitive that the Numba backend cannot compile: a funcgrad bug. Until it is fixed,
    ``fg.disable_jit()`` runs the same jitted function with NumPy.

    Example:
        >>> step = fg.jit(lambda x: fnp.sin(x) * 2.0)
        >>> with fg.disable_jit():  # the way around a LoweringError
        ...     step(np.zeros(2))
        array([0., 0.])
    """


def is_internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR)


def user_frame():
    """The innermost frame of the call stack that is neither funcgrad's code nor NumPy's."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_NOT_USER):
        frame = frame.f_back
    return frame


def user_location() -> str:
    """'file.py:12' for the innermost frame of user code, or '' if there is none."""
    frame = user_frame()
    if frame is None:
        return ""
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def at_user_line(message: str) -> str:
    """``message (in file.py:12)``, unless the message already names a line."""
    if NAMES_A_LINE.search(message):
        return message
    where = user_location()
    return f"{message} (in {where})" if where else message
