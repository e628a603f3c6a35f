"""Printing and calling Python on the values a function computes, inside ``jit``, ``grad``
and ``vmap`` (JAX's ``jax.debug``).

Inside a transformed function, Python's ``print(x)`` runs once, while the function is traced,
and shows a tracer. ``funcgrad.debug.print`` and ``funcgrad.debug.callback`` are recorded in
the program instead, and run each time it runs, on the runtime values as NumPy arrays:
compiled or not, in every step of a loop, once per example under ``vmap``, with the primal
values under ``grad`` and ``jvp`` (see ops/debug.py for the rules, docs/debugging.md for
examples). Called outside any transformation, they simply run.

Example:
    >>> fg.jit(lambda x: fg.debug.print("x = {}", x * 2) or x)(np.arange(3.0))
    x = [0. 2. 4.]
    array([0., 1., 2.])
"""

from __future__ import annotations

import builtins
import string
from collections.abc import Callable

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError
from funcgrad.core.tracing import Tracer
from funcgrad.ops.debug import HostCallback, debug_callback
from funcgrad.tree import flatten

__all__ = ["print", "callback"]


def callback(fn: Callable, *args, ordered: bool = False, **kwargs) -> None:
    """Call ``fn(*args, **kwargs)`` on the runtime values of ``args`` and ``kwargs``, which
    may be pytrees: each array leaf (and Python number) arrives as a NumPy array of its own,
    other leaves (strings, None) as they are. Returns None; what ``fn`` returns is ignored.
    Runs wherever the program runs (see this module's docstring); programs run their
    equations in order, so ``ordered`` (JAX's) changes nothing.

    Example:
        >>> seen = []
        >>> fg.grad(lambda x: fg.debug.callback(seen.append, {"x": x}) or x ** 2)(3.0)
        np.float64(6.0)
        >>> seen
        [{'x': array(3.)}]
    """
    if not callable(fn):
        raise FuncgradTypeError(f"debug.callback's first argument must be a function, got "
                                f"{type(fn).__name__} {fn!r:.60}")
    _bind(fn, args, kwargs, getattr(fn, "__qualname__", type(fn).__name__))


def print(fmt: str, *args, ordered: bool = False, **kwargs) -> None:  # noqa: A001 (JAX's name)
    """Print ``fmt.format(*args, **kwargs)`` on the runtime values (NumPy arrays), wherever
    the program runs (see ``callback``).

    Example:
        >>> fg.vmap(lambda x: fg.debug.print("x={x:.1f}", x=x) or x)(np.array([1.0, 2.0]))
        x=1.0
        x=2.0
        array([1., 2.])
    """
    if not isinstance(fmt, str):
        raise FuncgradTypeError(f"debug.print's first argument must be a format string, got "
                                f"{type(fmt).__name__} {fmt!r:.60}")
    _check_fields(fmt, len(args), kwargs)
    _bind(_Format(fmt), args, kwargs, f"print({fmt!r:.40})")


class _Format:
    """Prints its format string filled in: equal for equal strings (see HostCallback)."""

    def __init__(self, fmt: str):
        self.fmt = fmt

    def __call__(self, *args, **kwargs):
        builtins.print(self.fmt.format(*args, **kwargs))

    def __eq__(self, other):
        return isinstance(other, _Format) and other.fmt == self.fmt

    def __hash__(self):
        return hash(self.fmt)


def _check_fields(fmt: str, count: int, kwargs: dict) -> None:
    """The fields of ``fmt`` name arguments that exist: said now, at the user's line, rather
    than when a compiled program first runs it."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(fmt) if field is not None]
    except ValueError as err:
        raise FuncgradValueError(f"debug.print's format string {fmt!r:.60} is malformed: "
                                 f"{err}") from None
    automatic = 0
    for field in fields:
        name = field.split(".")[0].split("[")[0]
        if name == "":
            index, automatic = automatic, automatic + 1
        elif name.isdigit():
            index = int(name)
        else:
            if name not in kwargs:
                raise FuncgradValueError(f"debug.print's format string {fmt!r:.60} names "
                                         f"{{{name}}}, but no keyword argument {name}= was given")
            continue
        if index >= count:
            raise FuncgradValueError(f"debug.print's format string {fmt!r:.60} reads "
                                     f"positional argument {index}, but only {count} positional "
                                     "arguments were given")


def _is_value(leaf) -> bool:
    """A leaf the program passes (an array, a traced value, a number); others are static."""
    if isinstance(leaf, Tracer) or type(leaf) in (bool, int, float):
        return True
    return isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype.kind in "biuf"


def _bind(fn, args, kwargs, describe: str) -> None:
    leaves, tree = flatten((args, kwargs))
    static = {i: leaf for i, leaf in enumerate(leaves) if not _is_value(leaf)}
    values = [leaf for i, leaf in enumerate(leaves) if i not in static]
    debug_callback.bind(*values, callback=HostCallback(fn, tree, static, describe))
