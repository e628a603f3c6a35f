"""Numba compiling on funcgrad's background thread without touching the warnings of the
user's threads.

``warnings.catch_warnings`` is not thread-safe: it replaces the process-wide filters and
the function that shows warnings, and on exit puts back what it found on entry. Code that
runs on the compile thread enters it often: Numba's type inference wraps each of its
constraints in ``catch_warnings(record=True)``, and the first compile in a process imports
Numba's NumPy support, which imports ``scipy.linalg``, whose modules enter it at import. So
a background compile raced with the user's threads: a warning the main thread raised
meanwhile went to the compile thread's record instead of the user's (lost), and a
``catch_warnings`` the user entered or left meanwhile was undone or left in place for good
(tests/test_tiered.py shows both).

So once a process starts a compile thread, the ``warnings`` module's ``catch_warnings``,
``simplefilter`` and ``filterwarnings`` are replaced by versions that behave exactly as
before in every thread but funcgrad's compile threads. In those, ``catch_warnings`` records
nothing and restores nothing, and a filter added inside it is not added (it would stay for
good); a filter added outside one (a module imported there that filters for good) is added.
A warning raised on the compile thread meets the process-wide filters, as any other
warning does; the generated code gives Numba no cause for any (a strided operand of a
product is copied, not passed to ``np.dot``, which warned). (Python 3.14's context-aware
warnings would make this unnecessary.)
"""

from __future__ import annotations

import contextlib
import functools
import threading
import warnings

_state = threading.local()  # .compiling: a funcgrad compile thread; .scoped: catch_warnings depth
_installed = False
_install_lock = threading.Lock()


@contextlib.contextmanager
def compiling_here():
    """Marks the calling thread as one of funcgrad's compile threads while in the block,
    after installing the thread-aware ``warnings`` functions (once per process)."""
    _install()
    _state.compiling, _state.scoped = True, 0
    try:
        yield
    finally:
        _state.compiling = False


def _in_compile_thread() -> bool:
    return getattr(_state, "compiling", False)


def _in_scoped_block() -> bool:
    return _in_compile_thread() and _state.scoped > 0


def _install():
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        warnings.catch_warnings = _thread_aware_catch_warnings(warnings.catch_warnings)
        warnings.simplefilter = _outside_scoped_blocks(warnings.simplefilter)
        warnings.filterwarnings = _outside_scoped_blocks(warnings.filterwarnings)
        _installed = True


def _thread_aware_catch_warnings(original: type) -> type:
    class catch_warnings(original):  # type: ignore[valid-type, misc]
        """``warnings.catch_warnings``, inert in funcgrad's compile threads
        (funcgrad/compile/thread_warnings.py says why)."""

        def __enter__(self):
            if not _in_compile_thread():
                return super().__enter__()
            _state.scoped += 1
            return [] if self._record else None

        def __exit__(self, *exc_info):
            if not _in_compile_thread():
                return super().__exit__(*exc_info)
            _state.scoped -= 1
            return None

    return catch_warnings


def _outside_scoped_blocks(add_filter):
    @functools.wraps(add_filter)
    def thread_aware(*args, **kwargs):
        if not _in_scoped_block():
            add_filter(*args, **kwargs)

    return thread_aware
