"""vmap's rule table (used by transforms/batching.py).

``batch_rules[p](args, dims, **params) -> (outputs, output_dims)``
    ``args`` holds one value per input and ``dims[i]`` the axis of ``args[i]`` that is the
    batch axis (None: the input is not batched, the same for every example). The rule
    returns lists with one entry per output: the batched outputs and the axis of each that is
    the batch axis (None: the same for every example). Rules are written with funcgrad's own
    operations, so the batched program is recorded like any other.

``batch_level()``: while a rule runs, the batch being built: its size and the axis name it
binds (``vmap(..., axis_name=...)``, None if it names none). The rules of collectives
(ops/collectives.py, registered in ``collectives``) read it: a collective naming this level
reduces over its batch axis; one naming an outer vmap's axis is passed on, still batched. A
collective naming this level is batched even when its operands are not (``axis_index`` has
none), and so is any equation holding a sub-program with one (a call, a cond, a loop): for
those, all ``dims`` may be None and ``ops.shape.batch_size`` is the level's size.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from funcgrad.core.primitive import Primitive
from funcgrad.core.rules import RuleTable

batch_rules = RuleTable("batching", "vmap: how each primitive computes on a batch axis.")

# Primitives that communicate across the examples of the vmap whose axis their
# ``axis_name`` parameter names (one name each: lax.psum(x, ("i", "j")) records two).
collectives: set[Primitive] = set()


class BatchLevel(NamedTuple):
    name: Hashable | None  # the axis name this batch binds (None: vmap without axis_name)
    size: int              # its number of examples


class _Levels(threading.local):
    def __init__(self):
        self.level: BatchLevel | None = None


_levels = _Levels()


def batch_level() -> BatchLevel | None:
    """The batch being built (None outside transforms/batching.py's ``batch_program``)."""
    return _levels.level


@contextmanager
def batching_level(name: Hashable | None, size: int) -> Iterator[BatchLevel]:
    """Set ``batch_level()`` while a program is batched (transforms/batching.py only)."""
    saved = _levels.level
    _levels.level = level = BatchLevel(name, size)
    try:
        yield level
    finally:
        _levels.level = saved
