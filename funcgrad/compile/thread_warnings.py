"""Numba compiling on funcgrad's background thread without touching the warnings of the
user's threads.

Numba's type inference wraps each of its constraints in ``warnings.catch_warnings(record=
True)`` and sets a filter inside it. That context manager is not thread-safe: it replaces
the process-wide filters and the function that shows warnings, and on exit puts back what it
found on entry. On a background compile it raced with the user's threads: a warning the
main thread raised meanwhile went to Numba's record instead of the user's (lost, or shown
again later), and a ``catch_warnings`` the user entered or left meanwhile was undone or
left in place for good (tests/test_tiered.py shows both).

So the Numba modules that do this (its error helpers and its compiler) see, in place of the
``warnings`` module, a stand-in that is the module itself in every thread but funcgrad's
compile threads. In those, ``catch_warnings`` records nothing and restores nothing, and
``simplefilter`` and ``filterwarnings`` add no filter. A warning Numba raises while it
compiles there takes the process-wide filters, as any other warning does; the generated
code gives Numba no cause for any (a strided operand of a product is copied, not passed to
``np.dot``, which warned).
"""

from __future__ import annotations

import contextlib
import threading
import warnings

_compiling = threading.local()
_installed = False
_install_lock = threading.Lock()


@contextlib.contextmanager
def compiling_here():
    """Marks the calling thread as one of funcgrad's compile threads while in the block,
    after giving Numba's modules the stand-in (once per process)."""
    _install()
    _compiling.active = True
    try:
        yield
    finally:
        _compiling.active = False


def _in_compile_thread() -> bool:
    return getattr(_compiling, "active", False)


class _Record(contextlib.AbstractContextManager):
    """``catch_warnings`` in a compile thread: the process-wide state stays as it is."""

    def __init__(self, record: bool = False):
        self.record = record

    def __enter__(self):
        return [] if self.record else None

    def __exit__(self, *exc):
        return None


class _ThreadAwareWarnings:
    """The ``warnings`` module, but for what a compile thread must not change."""

    def __getattr__(self, name):
        return getattr(warnings, name)

    def catch_warnings(self, *args, **kwargs):
        if _in_compile_thread():
            return _Record(kwargs.get("record", False))
        return warnings.catch_warnings(*args, **kwargs)

    def simplefilter(self, *args, **kwargs):
        if not _in_compile_thread():
            warnings.simplefilter(*args, **kwargs)

    def filterwarnings(self, *args, **kwargs):
        if not _in_compile_thread():
            warnings.filterwarnings(*args, **kwargs)


def _install():
    """Numba's modules that enter ``catch_warnings`` while compiling a function get the
    stand-in: its error helpers (type inference's WarningsFixer) and its compiler (a
    parallel loop's body)."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        import numba.core.compiler
        import numba.core.errors
        stand_in = _ThreadAwareWarnings()
        for module in (numba.core.errors, numba.core.compiler):
            if module.warnings is warnings:
                module.warnings = stand_in  # type: ignore[assignment]
        _installed = True
