"""What grad, value_and_grad, vmap and jit return: the user's function, transformed.

Each is a subclass of ``Transformed``: called like the function it transforms, bound like it
when it is a method, and pickled as (the function, the options), never as traces or machine
code, which the receiving process rebuilds (its disk cache holds the compiled code). A function
that is importable travels by reference; a closure travels by value with cloudpickle.
"""

from __future__ import annotations

import functools

from funcgrad.core.version import __version__, check_version


class Transformed:
    """Subclasses call ``super().__init__(fun, options)`` with ``options`` the arguments after
    ``fun`` that their constructor takes, so that unpickling can rebuild them."""

    def __init__(self, fun, options: tuple):
        self.fun = fun
        self._constructor_options = options
        functools.update_wrapper(self, fun, updated=())  # type: ignore[arg-type]  # not __dict__

    def __get__(self, obj, objtype=None):  # as a method: bind like a function would
        return self if obj is None else functools.partial(self, obj)

    def __repr__(self):
        return f"<{self.__name__}>"

    def __reduce__(self):
        return _rebuild, (__version__, type(self), self.fun, self._constructor_options)


def _rebuild(version, cls, fun, options):
    check_version(version, f"{cls.__name__} function")
    return cls(fun, *options)
