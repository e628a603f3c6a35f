"""Primitives, the named operations Programs are made of, and the rule tables keyed by them.

A ``Primitive`` holds only what belongs to the operation itself: its name, how NumPy computes
it (``impl``), what shape and dtype it returns (``shape_rule``), whether it returns several
results, and whether it is elementwise (so tracing can fold it on constants and
transformations can derive its rules from per-element ones).

Everything a transformation or a backend needs from a primitive lives in that
transformation's own ``RuleTable`` (core/rules.py), keyed by primitive (funcgrad/rules/: VJP,
JVP, batching, Numba lowering; core/tracing.py: simplification). Adding a transformation adds
a table and an interpreter; it never edits this class. The ops/ modules fill every table where they
declare a primitive, so one screen still shows all of a primitive's rules.
"""

from __future__ import annotations

from collections.abc import Callable

import os

import numpy as np

from funcgrad.core.rules import REGISTRY
from funcgrad.core.types import ShapedArray

_RULE_CACHE_SIZE = 4096  # per primitive; cleared when full (shapes seen by one program recur)


class Primitive:
    """An operation of the IR.

      impl(*values, **params)         NumPy implementation, for the evaluator and eager calls
      shape_rule(*avals, **params)    output aval(s); raises ShapeError/FuncgradTypeError
      multiple_results                impl and shape_rule return a sequence
      elementwise                     computes each output element from the same element of
                                      its (broadcast) inputs
      allocates                       its results are always new memory, never an input or a
                                      view of one (default: elementwise); what is not known to
                                      allocate may pass an input through (see core/evaluate.py
                                      ``owned_results``)
      effect                          running it matters beyond its outputs (a debug callback
                                      prints): passes that drop or merge equations keep every
                                      one of it (core/ir.py ``has_effect``)
    """

    def __init__(self, name: str, *, impl: Callable, shape_rule: Callable,
                 multiple_results: bool = False, elementwise: bool = False,
                 allocates: bool | None = None, effect: bool = False):
        if name in REGISTRY:
            raise ValueError(f"primitive {name!r} is declared twice")
        self.name = name
        self.impl = impl
        self.shape_rule = shape_rule
        self.multiple_results = multiple_results
        self.elementwise = elementwise
        self.allocates = elementwise if allocates is None else allocates
        self.effect = effect
        self._rule_cache: dict = {}
        REGISTRY[name] = self

    def bind(self, *args, **params):
        """Apply the primitive: record it in the active trace, or compute it with NumPy."""
        trace = current_trace()
        if trace is not None:
            return trace.emit(self, args, params)
        return self.eager(args, params)

    __call__ = bind

    def eager(self, args, params):
        for x in args:
            if isinstance(x, Tracer):  # no trace is active, so x's trace has finished
                raise escaped_tracer_error(x)
        args = [np.asarray(x) if type(x) in (list, tuple) else x for x in args]
        # Check shapes with the same rule tracing uses, so eager and traced calls fail alike.
        self.abstract_eval([aval_of(x) for x in args], params)
        try:
            out = self.impl(*args, **params)
        except np.linalg.LinAlgError as err:  # (a singular matrix: found only when run)
            raise _located(err, self.name) from None
        if params and any(True for _ in sub_programs(params)):
            # a sub-program run eagerly (cond, loops, custom_vjp, checkpoint) may hand back
            # an operand or a view of one (a carry passed through, a branch returning its
            # input): results are new arrays, so writing into one changes nothing else
            if self.multiple_results:
                return owned_copies(list(out), args)
            return owned_copies([out], args)[0]
        return out

    def abstract_eval(self, avals: list[ShapedArray], params: dict) -> list[ShapedArray]:
        """The output avals, always as a new list; errors (FuncgradErrors) name the user's line.

        Shape rules are pure, and tracing asks each the same few questions over and over (every
        layer, every step), so answers are remembered per (avals, params). Returning the same
        aval objects also makes the next lookup's key comparison an identity check."""
        key: tuple | None
        out: tuple | None
        try:
            key = (*avals, *params.items())
            out = self._rule_cache.get(key)
        except TypeError:  # an unhashable param: compute every time
            key = out = None
        if out is None:
            out = self.shape_rule(*avals, **params)
            out = tuple(out) if self.multiple_results else (out,)
            for aval in out:
                _check_size(self, aval)
            if key is not None:
                if len(self._rule_cache) >= _RULE_CACHE_SIZE:
                    self._rule_cache.clear()
                self._rule_cache[key] = out
        return list(out)

    def __repr__(self):
        return f"Primitive({self.name})"

    def __reduce__(self):  # pickled by name: the receiving process has the same registry
        return _registered, (self.name,)


def _located(err: np.linalg.LinAlgError, name: str) -> np.linalg.LinAlgError:
    """NumPy's or SciPy's error, saying which line of the user's code called the primitive,
    in the words the evaluator uses for a traced program's (core/evaluate.py)."""
    where = user_location()
    if not where or NAMES_A_LINE.search(str(err)):
        return err
    return np.linalg.LinAlgError(f"{err} ({name}, in {where})")


def _registered(name: str) -> Primitive:
    try:
        return REGISTRY[name]
    except KeyError:
        from funcgrad.core.errors import FuncgradError
        raise FuncgradError(f"a pickled program uses primitive {name!r}, which this process "
                            "has not registered (import the module that declares it)") from None


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not POSIX: assume a large machine
        return 2 ** 50


_MEMORY = _physical_memory()


def _check_size(prim, aval):
    """Refuse, before anything is computed, a result larger than the machine's memory: NumPy
    raises MemoryError on allocating it, but a view (a broadcast) summed element by element
    would instead grind through it for hours."""
    size = 1
    for d in aval.shape:
        if d < 0:  # NumPy refuses it when allocating; compiled code would fail inside
            raise ShapeError(f"the result of {prim.name} would have the negative dimension "
                             f"{d} (shape {aval.shape}): negative dimensions are not allowed")
        size *= d
    if size * aval.dtype.itemsize > _MEMORY:
        raise FuncgradMemoryError(
            f"the result of {prim.name} would be {aval} ({size:,} elements, "
            f"{size * aval.dtype.itemsize / 2**30:,.0f} GiB), more than this machine's memory "
            f"({_MEMORY / 2**30:,.0f} GiB); check the shapes being broadcast together")


from funcgrad.core.errors import (NAMES_A_LINE, FuncgradMemoryError,  # noqa: E402
                                  ShapeError, user_location)
from funcgrad.core.evaluate import owned_copies  # noqa: E402
from funcgrad.core.ir import sub_programs  # noqa: E402
from funcgrad.core.tracing import Tracer, current_trace, escaped_tracer_error  # noqa: E402
from funcgrad.core.types import aval_of  # noqa: E402
