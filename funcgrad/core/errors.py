"""funcgrad's exceptions, and how they name the line of user code they are about.

Every error a user can cause says what was wrong and where in *their* code: the innermost
stack frame outside the funcgrad package.
"""

from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class FuncgradError(Exception):
    """Base class of all errors funcgrad raises about its user's code."""


class FuncgradTypeError(FuncgradError, TypeError):
    """A value of the wrong type or dtype."""


class ShapeError(FuncgradError, ValueError):
    """Shapes that do not fit together (broadcasting, matmul, reshape, concatenate...)."""


class ConcretizationError(FuncgradError, TypeError):
    """Python needed a concrete value (``if``, ``bool()``, ``int()``) of a traced array."""


class UnexpectedTracerError(FuncgradError, RuntimeError):
    """A traced value was used after the trace that created it had finished."""


class InPlaceUpdateError(FuncgradError, TypeError):
    """``x[i] = v`` on a traced array: arrays are immutable in a pure function."""


class LoweringError(FuncgradError, NotImplementedError):
    """A primitive that the Numba backend cannot compile."""


def is_internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR)


def user_frame():
    """The innermost frame of the call stack that is not funcgrad's own code."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    return frame


def user_location() -> str:
    """'file.py:12' for the innermost frame of user code, or '' if there is none."""
    frame = user_frame()
    if frame is None:
        return ""
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def at_user_line(message: str) -> str:
    where = user_location()
    return f"{message} (in {where})" if where else message
