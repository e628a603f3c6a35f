"""pmap: JAX's parallel map, on one machine: ``jit(vmap(f, axis_name=...))``.

JAX's ``pmap`` runs one copy of ``f`` per device and gives the collectives (``lax.psum``...)
the devices to talk over. funcgrad has one CPU, so the mapped axis is a batch, as ``vmap``'s:
the collectives become sums (and the like) over an array axis, and the whole program is
compiled as one function whose large loops run on ``jit``'s threads. The results are
JAX's; what differs is that the mapped axis may have any size (JAX's is at most the number
of devices) and that nothing is split into per-device arrays.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Hashable, Sequence

from funcgrad.api.batching import Vectorized
from funcgrad.api.jit import jit
from funcgrad.core.arguments import name_of
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError


def pmap(fun: Callable, axis_name: Hashable | None = None, *, in_axes: Any = 0,
         out_axes: Any = 0, static_broadcasted_argnums: int | Sequence[int] = (),
         devices: Any = None, backend: str | None = None, axis_size: int | None = None,
         donate_argnums: int | Sequence[int] = ()):
    """``fun`` mapped over the leading axis of its arguments, compiled, with the mapped axis
    named ``axis_name`` for the collectives: ``jit(vmap(fun, in_axes, out_axes,
    axis_name=axis_name))``, so that code written for JAX's ``pmap`` runs unchanged.

    ``static_broadcasted_argnums`` are positional arguments passed to every example as they
    are (hashable Python values, as ``jit``'s ``static_argnums``); their ``in_axes`` entries,
    if ``in_axes`` is a tuple, must be None. ``devices`` and ``backend`` are accepted and
    ignored (funcgrad runs on the one CPU), and so is ``donate_argnums`` (as ``jit``'s).

    Unlike JAX's, the mapped axis may be longer than the number of devices: it is a batch
    axis, computed by one compiled function whose large loops share ``jit``'s threads
    (``FUNCGRAD_NUM_THREADS``), not one program per device.

    Example:
        >>> import funcgrad as fg
        >>> from funcgrad import lax
        >>> center = fg.pmap(lambda x: x - lax.pmean(x, "i"), axis_name="i")
        >>> center(np.arange(4.0))
        array([-1.5, -0.5,  0.5,  1.5])
    """
    if not callable(fun):
        raise FuncgradTypeError(f"pmap needs a function, got {type(fun).__name__}")
    if backend not in (None, "cpu"):
        raise FuncgradValueError(f"pmap: funcgrad runs on the CPU only, got backend={backend!r}")
    statics = _argnums(static_broadcasted_argnums)
    mapped = _Mapped(fun, in_axes, out_axes, axis_name, axis_size, statics)
    return jit(mapped, static_argnums=statics, donate_argnums=donate_argnums)


def _argnums(argnums) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise FuncgradTypeError(f"pmap: static_broadcasted_argnums must be ints, got "
                                f"{argnums!r}")
    return nums


class _Mapped:
    """The function ``jit`` compiles: ``vmap`` of ``fun`` over the arguments that are not
    static (a class rather than a closure, so that the jitted function pickles)."""

    def __init__(self, fun, in_axes, out_axes, axis_name, axis_size, statics):
        self.fun, self.in_axes, self.out_axes = fun, in_axes, out_axes
        self.axis_name, self.axis_size, self.statics = axis_name, axis_size, statics
        self.__name__ = f"pmap({name_of(fun)})"

    def __call__(self, *args, **kwargs):
        static = {i % len(args) for i in self.statics if -len(args) <= i < len(args)}
        mapped = [i for i in range(len(args)) if i not in static]

        def one_example(*mapped_args, **kwargs):
            full = list(args)
            for i, a in zip(mapped, mapped_args):
                full[i] = a
            return self.fun(*full, **kwargs)

        one_example.__name__ = name_of(self.fun)
        # (without static arguments, fun itself: errors then name its arguments, "(x)")
        return Vectorized(one_example if static else self.fun,
                          self._mapped_axes(len(args), static), self.out_axes,
                          self.axis_size, self.axis_name, transform="pmap")(
            *(args[i] for i in mapped), **kwargs)

    def _mapped_axes(self, count: int, static: set):
        if not isinstance(self.in_axes, (tuple, list)):
            return self.in_axes
        if len(self.in_axes) != count:
            raise FuncgradValueError(f"pmap's in_axes has {len(self.in_axes)} entries for "
                                     f"{count} positional argument{'s' * (count != 1)}")
        for i in sorted(static):
            if self.in_axes[i] is not None:
                raise FuncgradValueError(f"pmap: argument {i} is static (broadcast to every "
                                         f"example), so its in_axes entry must be None, got "
                                         f"{self.in_axes[i]!r}")
        return tuple(a for i, a in enumerate(self.in_axes) if i not in static)
