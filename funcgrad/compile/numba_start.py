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

Code loaded from Numba's disk cache needs less: Numba's runtime and those BLAS routines
(``start_runtime``), not the typing and lowering tables only compiling reads. Numba's cache
starts the whole CPU target before every load all the same (two thirds of a warm first call:
0.14 s of the 50-step RNN's 0.23 s), so ``load_lightly`` makes a generated module's dispatcher
load without it, and run ``start`` only when the cache has no code and Numba compiles.
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
_started = False          # the whole CPU target (start)
_runtime_started = False  # Numba's runtime and the BLAS routines (start_runtime)


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


def start_runtime():
    """What running and loading compiled code needs of Numba's start-up, once: its runtime
    (NRT), and SciPy's routines given to Numba's BLAS wrappers (a few milliseconds)."""
    global _runtime_started
    if _runtime_started or _started:
        return
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.registry import cpu_target
    from numba.core.runtime import rtsys
    with global_compiler_lock:
        if not (_runtime_started or _started):
            rtsys.initialize(cpu_target.target_context)
            with _blas_module_alone():
                _find_blas_routines()
            _runtime_started = True


def load_lightly(dispatcher):
    """Make ``dispatcher`` (a generated module's) load machine code from Numba's disk cache
    after ``start_runtime`` only, and run ``start`` when there is none, before Numba
    compiles. (Numba's cache calls the target context's ``refresh`` before it loads; that
    call is answered by ``start_runtime`` while it loads, under Numba's compiler lock, which
    every other refresh is made under too. With a Numba whose dispatchers have no such cache,
    nothing changes: it starts itself as usual.)"""
    cache = getattr(dispatcher, "_cache", None)
    load_overload = getattr(cache, "load_overload", None)
    if load_overload is None or getattr(load_overload, "lightly", False):
        return

    def load(signature, target_context):
        if _started:
            return load_overload(signature, target_context)
        start_runtime()
        target_context.refresh = _nothing  # (hides the class's method while it loads)
        try:
            loaded = load_overload(signature, target_context)
        finally:
            del target_context.refresh
        if loaded is None:
            start()  # (Numba compiles next)
        return loaded
    load.lightly = True  # type: ignore[attr-defined]
    cache.load_overload = load


def _nothing():
    pass


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
