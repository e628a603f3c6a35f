"""The axis names in scope while a function is traced: what ``vmap(f, axis_name=...)`` binds.

``vmap(f, axis_name="batch")`` traces ``f`` on one example; while it does, the name "batch"
is bound to the batch size, so that ``f``'s collectives (ops/collectives.py: ``lax.psum``,
``lax.axis_index``...) can check that the axis they name exists and read its size (pmean
divides by it, all_gather's result has it). Nested vmaps bind their names on top of the
outer ones; the innermost binding of a name wins (it shadows an outer one of that name).

This is the trace-time half of named axes. The batching half, which name the batch being
built binds (so that a collective's batching rule knows whether to reduce over its own
batch axis or pass the collective on to an outer vmap), is ``rules/batching.py``'s
``batch_level``. Traces cached per input signature (grad's, vmap's, jit's) are also keyed by
``bound_axes()``: a trace that read an axis size is valid for that size only.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from funcgrad.core.errors import UnboundAxisError


class _Bound(threading.local):
    def __init__(self):
        self.axes: tuple = ()  # ((name, size), ...), outermost first


_bound = _Bound()


def bound_axes() -> tuple:
    """((name, size), ...) of the enclosing vmaps that name their axis, outermost first."""
    return _bound.axes


@contextmanager
def binding(name: Hashable | None, size: int) -> Iterator[None]:
    """Bind ``name`` to a batch of ``size`` examples inside (nothing if ``name`` is None)."""
    if name is None:
        yield
        return
    saved = _bound.axes
    _bound.axes = (*saved, (name, size))
    try:
        yield
    finally:
        _bound.axes = saved


def axis_size(name: Hashable, what: str) -> int:
    """The size of the innermost axis bound to ``name``; UnboundAxisError (naming ``what``,
    the collective asking) if no enclosing vmap binds it."""
    for bound, size in reversed(_bound.axes):
        if bound == name:
            return size
    raise unbound_axis(name, what)


def unbound_axis(name: Hashable, what: str) -> UnboundAxisError:
    names = ", ".join(repr(n) for n, _ in _bound.axes)
    where = (f"the axis names bound here are {names}" if names else
             "no enclosing vmap names its axis (called eagerly, or under jit alone?)")
    return UnboundAxisError(f"unbound axis name: {name}. {what} needs an enclosing "
                            f"vmap(..., axis_name={name!r}); {where}")
