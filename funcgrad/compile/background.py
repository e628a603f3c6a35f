"""Compiling in the background, while the NumPy evaluator answers calls (tiered execution).

A ``Job`` makes sure one generated function has machine code for one signature. Its thread
either compiles in this process (``thread``, the default) or starts a worker process that
compiles the module and writes Numba's disk cache, waits for it, and loads the machine code
from the cache (``process``); ``FUNCGRAD_COMPILE_WORKER`` chooses.

Measured on the 2-core benchmark machine (docs/performance.md), the thread reaches compiled
speed first: a worker process first imports NumPy and Numba and starts Numba's CPU target
(about a second before it compiles anything), and the parent loads the result. The
price of the thread is the GIL: Numba holds it while it types and lowers a function (LLVM's
optimisation runs without it), so the foreground's evaluator calls share the interpreter
with it meanwhile. Where cores are idle and the foreground's calls matter
more than the time to compiled speed, ``process`` leaves the interpreter to them.

At most ``FUNCGRAD_COMPILE_JOBS`` jobs (default: one fewer than the cores, at least one)
compile at once; the others wait their turn. At interpreter exit no job starts, worker
processes are killed, and a compile running on a thread is interrupted at its next Python
instruction (an exception raised in that thread, which its job catches): the exit does not
wait for a compile, and prints nothing. A compile stopped midway, or a process killed
midway, leaves the cache consistent: funcgrad writes a module to a temporary name and
renames it, and Numba does the same with its files, writing the code before the index that
names it.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from funcgrad.compile import disk_cache as disk
from funcgrad.compile import numba_start
from funcgrad.compile.compile_worker import numba_signature
from funcgrad.compile.thread_warnings import compiling_here

_WORKER_SCRIPT = str(Path(__file__).with_name("compile_worker.py"))
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # where `import funcgrad` works
stats = {"background_compiles": 0, "worker_processes": 0, "background_failures": 0}
_stopping = threading.Event()
_workers: set = set()  # live worker processes, killed at exit
_compiling: set = set()  # threads of jobs compiling in this process, stopped at exit
_workers_lock = threading.Lock()


class Stopped(BaseException):
    """Raised in a compiling thread at interpreter exit (a BaseException: Numba's handlers
    of compile errors must not catch it)."""


def worker_kind() -> str:
    kind = os.environ.get("FUNCGRAD_COMPILE_WORKER", "thread").strip().lower()
    return kind if kind in ("process", "thread") else "thread"


def _max_jobs() -> int:
    try:
        return max(1, int(os.environ["FUNCGRAD_COMPILE_JOBS"]))
    except (KeyError, ValueError):
        return max(1, (os.cpu_count() or 2) - 1)


_slot_count = _max_jobs()
_slots = threading.BoundedSemaphore(_slot_count)


def _before_fork():
    """os.fork() waits for the compiles under way (taking every slot, so that none starts):
    a child forked while a thread compiles would inherit Numba's and LLVM's locks held by a
    thread it does not have, and deadlock at its first compile."""
    for _ in range(_slot_count):
        _slots.acquire()


def _after_fork_in_parent():
    for _ in range(_slot_count):
        _slots.release()


def _after_fork_in_child():
    """The child has none of its parent's compile threads or workers."""
    global _slots, _workers_lock
    _slots = threading.BoundedSemaphore(_slot_count)
    _workers_lock = threading.Lock()
    _workers.clear()
    _compiling.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


class Job:
    """The background compile of generated function ``source`` for the argument types
    ``spec`` (see compile_worker.signature_spec). ``done`` is set once ``dispatcher`` holds
    its machine code, or ``failed`` says why not (the caller then compiles in the
    foreground, which raises the error where the user sees it)."""

    def __init__(self, source: str, spec: list):
        self.source = source
        self.spec = spec
        self.dispatcher = None
        self.failed: str | None = None
        self.done = threading.Event()
        self.pid = os.getpid()  # (a forked child has no thread of this job: see orphaned)
        stats["background_compiles"] += 1
        thread = threading.Thread(target=self._run, name="funcgrad-compile", daemon=False)
        thread.start()

    def orphaned(self) -> bool:
        """Whether this job was started by the process this one was forked from (its thread
        is not here: it will never be done)."""
        return self.pid != os.getpid()

    def _run(self):
        try:
            with _slots:
                if _stopping.is_set():
                    self.failed = "the interpreter is exiting"
                    return
                if worker_kind() == "process":
                    self._compile_in_worker()
                with _workers_lock:
                    if _stopping.is_set():
                        return
                    _compiling.add(threading.current_thread())
                try:  # thread: compile; process: load what the worker wrote to the cache
                    with compiling_here():  # (leaves the user's threads' warnings alone)
                        self.dispatcher = disk.compile_types(self.source,
                                                             numba_signature(self.spec))
                finally:
                    with _workers_lock:
                        _compiling.discard(threading.current_thread())
        except Stopped:
            self.failed = "the interpreter is exiting"
        except BaseException as err:  # noqa: BLE001  (reported by the foreground compile)
            self.failed = f"{type(err).__name__}: {err}"
            stats["background_failures"] += 1
        finally:
            self.done.set()

    def _compile_in_worker(self):
        """Compile in a worker process writing the disk cache (nothing to do when the cache
        cannot be used: the thread then compiles in memory)."""
        path = disk.write_module(self.source)
        if path is None:
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT,
                                                         env.get("PYTHONPATH")) if p)
        command = [sys.executable, _WORKER_SCRIPT, str(path), disk.module_name(path),
                   json.dumps(self.spec)]
        with _workers_lock:
            if _stopping.is_set():
                return
            worker = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _workers.add(worker)
            stats["worker_processes"] += 1
        try:
            numba_start.start_runtime()  # meanwhile: what loading the worker's result needs
            _, err = worker.communicate()
        finally:
            with _workers_lock:
                _workers.discard(worker)
        if worker.returncode != 0 and not _stopping.is_set():
            # Loading then compiles in this process, and raises what the worker met
            last = (err.decode(errors="replace").strip().splitlines() or ["?"])[-1]
            self.failed = f"the compile worker failed ({last})"


def stop():
    """At exit: kill the worker processes, interrupt the compiles running on threads (at
    their next Python instruction: Numba's compiler is mostly Python), start no more."""
    _stopping.set()
    with _workers_lock:
        for worker in _workers:
            try:
                worker.kill()
            except OSError:
                pass
        threads = list(_compiling)
    if not threads:
        return
    hook = sys.unraisablehook  # Stopped landing in a destructor is ignored there: silently

    def quiet(unraisable):
        if not isinstance(unraisable.exc_value, Stopped):
            hook(unraisable)
    sys.unraisablehook = quiet
    for _ in range(200):  # (raised again until it lands where it unwinds the compile)
        with _workers_lock:  # (only while it compiles: there Job._run catches it)
            threads = [t for t in threads if t in _compiling]
            for thread in threads:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                           ctypes.py_object(Stopped))
        if not threads:
            break
        threads[0].join(0.01)


try:  # called before the interpreter waits for non-daemon threads (as concurrent.futures)
    threading._register_atexit(stop)  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover  (Python < 3.9)
    import atexit
    atexit.register(stop)
