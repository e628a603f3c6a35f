"""``debug_callback``: the primitive that calls a Python function on runtime values, the way
``funcgrad.debug.print`` and ``funcgrad.debug.callback`` (funcgrad/debug.py) see values
inside ``jit``, ``grad`` and ``vmap``.

It has no outputs and an effect (``Primitive.effect``): dead-code elimination and common
subexpression elimination keep every one (core/ir.py), so it runs wherever the program runs.

- Derivatives: it runs with the primal values, in the forward pass; nothing flows through it
  (a zero derivative). Reverse mode runs it once, in the forward pass (a backward pass that
  recomputes the forward, as ``checkpoint``'s does, runs it again, as JAX's does).
- vmap: it runs once per example, as JAX's (which unrolls the batch). Here the batch stays
  rolled: each batching level moves its batch axis to the front of the operands it batches and
  appends ``(batched operands)`` to the ``batched`` parameter; the implementation loops over
  the levels, the first vmapped (innermost) slowest, which is the order JAX prints in.
- Numba: the compiled function calls back into Python in an ``objmode`` block,
  ``fgd.run(key, batched, operands)``. The callback itself is never written into the
  generated source (which is cached on disk by its text, and shared by programs that differ
  only in their constants): ``key`` is read from the runtime table like any constant, and
  names the callback in this process's registry (``HostCallback.key``). So a module loaded
  from the disk cache in a new process calls the callback of the program that process traced.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import weakref

import numpy as np

from funcgrad.core.primitive import Primitive
from funcgrad.ops.shape import moveaxis
from funcgrad.rules import batch_rules, zero_derivative
from funcgrad.rules.lowering import Standalone, lowerings
from funcgrad.tree import unflatten

# key -> HostCallback, for compiled code (which holds only the key). Weak: a callback lives as
# long as the programs whose equations hold it (and the executables compiled from them).
_REGISTRY: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_KEYS = itertools.count(1)


class HostCallback:
    """The Python function a ``debug_callback`` equation calls, with how to rebuild its
    arguments: ``tree`` (the structure of ``(args, kwargs)``), and its leaves, ``static``
    (index -> a leaf that is not an array, such as a string, passed as it is) and the rest
    the equation's operands, in order. ``key`` names it in this process (see the module's
    docstring). Two are equal when they call the same function on the same structure (so a
    function traced twice to the same program is recognised as such)."""

    def __init__(self, fn, tree, static: dict, describe: str):
        self.fn, self.tree, self.static, self.describe = fn, tree, static, describe
        self.key = next(_KEYS)
        _REGISTRY[self.key] = self

    def _identity(self):
        return (self.fn, self.tree, tuple(sorted(self.static.items(), key=lambda kv: kv[0])))

    def __eq__(self, other):
        if not isinstance(other, HostCallback):
            return NotImplemented
        try:
            return self._identity() == other._identity()
        except (TypeError, ValueError):  # static leaves that do not compare (arrays)
            return self is other

    def __hash__(self):
        try:
            return hash(self._identity())
        except TypeError:
            return id(self)

    def __repr__(self):
        return self.describe

    def __reduce__(self):  # a new key in the process that unpickles it
        return HostCallback, (self.fn, self.tree, self.static, self.describe)

    def __call__(self, values) -> None:
        """Call the function on the operands' ``values`` (NumPy arrays, 0-d for scalars)."""
        values = iter(values)
        size = self.tree.num_leaves
        leaves = [self.static[i] if i in self.static else next(values) for i in range(size)]
        args, kwargs = unflatten(self.tree, leaves)
        self.fn(*args, **kwargs)


# Set while a program runs again only to find where it failed (compile/executable.py's
# locate_linalg): its callbacks ran in the run that failed, and must not run twice.
_SUPPRESSED = contextvars.ContextVar("funcgrad_callbacks_suppressed", default=False)


@contextlib.contextmanager
def callbacks_suppressed():
    """Within it, ``debug_callback`` equations run without calling their functions."""
    token = _SUPPRESSED.set(True)
    try:
        yield
    finally:
        _SUPPRESSED.reset(token)


def _host_value(x):
    """An operand as the callback sees it: a NumPy array of its own (0-d for a scalar): the
    evaluator may hand a Python number, and compiled code an array it reuses later."""
    return np.array(x)


def _impl(*args, callback: HostCallback, batched: tuple = ()):
    if _SUPPRESSED.get():
        return []
    _call_each(callback, [_host_value(x) for x in args], batched)
    return []


def _call_each(callback: HostCallback, args: list, batched: tuple) -> None:
    """Call once per example of each vmap level in ``batched`` (innermost first: see the
    module's docstring). A level's batch axis sits after those of the levels added after it,
    each of which moved its own to the front."""
    if not batched:
        callback(args)
        return
    level, rest = batched[0], batched[1:]
    axes = [sum(later[k] for later in rest) for k in range(len(args))]
    size = next(x.shape[axis] for x, on, axis in zip(args, level, axes) if on)
    for i in range(size):
        _call_each(callback, [np.take(x, i, axis=axis) if on else x
                              for x, on, axis in zip(args, level, axes)], rest)


def _no_outputs(*avals, callback, batched=()):
    return []


debug_callback = Primitive("debug_callback", impl=_impl, shape_rule=_no_outputs,
                           multiple_results=True, effect=True)
zero_derivative(debug_callback)  # runs with the primal values; nothing flows through it


def _batch(args, dims, callback, batched=()):
    args = [x if d is None else moveaxis(x, d, 0) for x, d in zip(args, dims)]
    debug_callback.bind(*args, callback=callback,
                        batched=(*batched, tuple(d is not None for d in dims)))
    return [], []


batch_rules[debug_callback] = _batch


def run(key: int, batched: tuple, args: tuple) -> None:
    """What compiled code calls, in object mode: the callback registered under ``key``."""
    _impl(*args, callback=_REGISTRY[key], batched=batched)


def _lower(ctx, eqn):
    """``with fgd.objmode(): fgd.run(key, batched, (operands,))``: scalars are cast to their
    dtype there (Numba hands object mode a float32 as a Python float)."""
    key = ctx.literal(eqn.params["callback"].key, np.int64)
    operands = [ctx.array(a) if a.aval.shape else
                f"np.asarray({ctx.array(a)}, {ctx.dtype(a.aval.dtype)})" for a in eqn.inputs]
    batched = tuple(tuple(bool(on) for on in level) for level in eqn.params.get("batched", ()))
    ctx.emit("with fgd.objmode():")
    with ctx.indented():
        ctx.emit(f"fgd.run({key}, {batched!r}, ({''.join(o + ', ' for o in operands)}))")


lowerings[debug_callback] = Standalone(_lower)


def __getattr__(name):
    """``fgd.objmode``, Numba's, imported when generated code is compiled (not with funcgrad:
    Numba is imported only when something is compiled)."""
    if name == "objmode":
        from numba import objmode
        return objmode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
