"""Numba's start-up in this process, without importing ``scipy.linalg`` for it.

The first time Numba compiles in a process (or loads compiled code from its cache), its CPU
target loads its NumPy support, which checks that SciPy's BLAS is there by importing
``scipy.linalg.cython_blas``. Importing that module imports its package first, the whole of
``scipy.linalg``, and through SciPy's array-API layer NumPy's f2py, testing and masked-array
packages: about 80 ms of the 0.3 s cold compile of a small program, paid even by generated
code with no matrix product, which never calls BLAS.

``start`` lets that check find the one module it asks for. For the moment of the start-up,
``scipy.linalg.cython_blas`` is loaded on its own from SciPy's file and put in
``sys.modules``; then it is taken out again, so the process is as it was: a later
``import scipy.linalg`` imports the package as usual and is given the same module object
(one per process: Python and Cython keep it). Code with a matrix product imports
``scipy.linalg`` when it is compiled, as before (Numba's code generation for BLAS calls
imports it). When it runs, it does not: Numba's BLAS wrappers find SciPy's routines by
importing ``scipy.linalg.cython_blas`` at their first call, which would import the package
too (80 ms of a 0.2 s first call of code loaded from the cache), so ``start`` makes them find
the routines funcgrad calls while the module is loaded on its own. If the module cannot be
loaded on its own, Numba imports it the usual way.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import importlib.util
import os
import sys
from contextlib import contextmanager
from pathlib import Path

_BLAS_MODULE = "scipy.linalg.cython_blas"
_started = False


def start():
    """Start Numba's CPU target in this process (its imports and tables, a few tenths of a
    second), once. If Numba has started already (a Numba function of the user's compiled
    first), ``scipy.linalg`` is imported and the refreshes find nothing left to load."""
    global _started
    if _started:
        return
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.registry import cpu_target
    with global_compiler_lock:  # (no other thread's compile starts Numba meanwhile)
        if not _started:
            with _blas_module_alone():
                cpu_target.typing_context.refresh()
                cpu_target.target_context.refresh()
                _find_blas_routines()
            _started = True


def _find_blas_routines():
    """Each of Numba's BLAS wrappers that funcgrad's generated code calls (compile/blas.py),
    called once for float32 and float64 with all sizes 0 (BLAS returns at once, touching no
    memory), so that it looks up SciPy's routine now, while ``scipy.linalg.cython_blas`` is
    in ``sys.modules`` on its own, and keeps it for the process. (PYFUNCTYPE: the GIL stays
    held, as the lookup needs it, and an error the lookup sets is raised here; it is
    ignored: the wrapper then looks up again at its first call, importing ``scipy.linalg``
    as before.)"""
    if sys.modules.get(_BLAS_MODULE) is None:
        return
    from numba import _helperlib
    scratch = (ctypes.c_double * 4)()
    char, size, pointer = ctypes.c_char, ctypes.c_ssize_t, ctypes.c_void_p
    p = (pointer, ctypes.addressof(scratch))
    # each wrapper's arguments after the kind, (type, value), as numba/_lapack.c declares
    arguments = {
        "xxdot": [(char, b"N"), (size, 0), p, p, p],
        "xxgemv": [(char, b"N"), (size, 0), (size, 0), p, p, (size, 1), p, p, p],
        "xxgemm": [(char, b"N"), (char, b"N"), (size, 0), (size, 0), (size, 0), p, p,
                   (size, 1), p, (size, 1), p, p, (size, 1)],
    }
    for name, typed_values in arguments.items():
        types, values = zip(*typed_values)
        wrapper = ctypes.PYFUNCTYPE(ctypes.c_int, char, *types)(_helperlib.c_helpers[name])
        for kind in (b"s", b"d"):
            try:
                wrapper(kind, *values)
            except Exception:  # noqa: BLE001, S112  (looked up later instead: see above)
                continue


def scipy_blas_path() -> Path | None:
    """The file of SciPy's ``cython_blas`` extension module (found without importing
    ``scipy.linalg``), or None."""
    try:
        import scipy
    except ImportError:
        return None
    directory = Path(scipy.__file__).parent / "linalg"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = directory / f"cython_blas{suffix}"
        if path.is_file():
            return path
    return None


@contextmanager
def _blas_module_alone():
    """``scipy.linalg.cython_blas`` in ``sys.modules`` without its package, for the body
    (when neither is imported yet); afterwards as it was, unless ``scipy.linalg`` was
    imported meanwhile (by another thread): then the module stays, as the package's
    attribute too, as importing it through the package would have left it."""
    if "scipy.linalg" in sys.modules or _BLAS_MODULE in sys.modules:
        yield
        return
    module = _load_alone()
    try:
        yield
    finally:
        if module is not None and sys.modules.get(_BLAS_MODULE) is module:
            package = sys.modules.get("scipy.linalg")
            if package is None:
                del sys.modules[_BLAS_MODULE]
            elif getattr(package, "cython_blas", None) is None:
                package.cython_blas = module


def _load_alone():
    """SciPy's ``cython_blas`` module, loaded from its file without its package and put in
    ``sys.modules``; None if that cannot be done (Numba then imports it the usual way)."""
    path = scipy_blas_path()
    if path is None:
        return None
    loader = importlib.machinery.ExtensionFileLoader(_BLAS_MODULE, os.fspath(path))
    spec = importlib.util.spec_from_file_location(_BLAS_MODULE, path, loader=loader)
    if spec is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_BLAS_MODULE] = module
    try:
        loader.exec_module(module)
    except Exception:  # noqa: BLE001  (the usual import then runs, and says what is wrong)
        del sys.modules[_BLAS_MODULE]
        return None
    return module
