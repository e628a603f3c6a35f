#!/usr/bin/env python
"""Time funcgrad against a hand-written Numba gradient, JAX and autograd (issue 4 item 8).

    python benchmarks/run.py [--problems mlp rosenbrock ...] [--quick] [--json out.json]
                             [--threads N] [--cpu K]

Everything runs on one thread: the thread variables of Numba, OpenMP and the BLAS libraries
are set to 1 and XLA is told not to use its thread pool, before NumPy or JAX is imported.
``--threads N`` lets funcgrad's compiled code use N threads (FUNCGRAD_NUM_THREADS and
NUMBA_NUM_THREADS; the other libraries keep one). funcgrad's jit compiles synchronously here
(FUNCGRAD_COMPILE=sync), so that every timed call runs compiled code; the first-call table
also measures the default, tiered compile (the time to the first result and to compiled
speed, beside JAX's time to its first result). See benchmarks/README.md for what each column
means and for the targets.
"""

from __future__ import annotations

import os
import sys

_THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS")
_XLA_SINGLE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def _single_threaded_env(env=None):
    env = os.environ if env is None else env
    for var in _THREAD_VARS:
        env[var] = "1"
    flags = env.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        env["XLA_FLAGS"] = (flags + " " + _XLA_SINGLE_THREAD).strip()
    return env


def _threads_argument(argv) -> int | None:
    """``--threads N`` read before NumPy and Numba are imported (they read the variables
    when imported)."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return None


def _funcgrad_env(env, threads):
    """Compiled code on ``threads`` threads (funcgrad's and Numba's pools), jit compiling
    synchronously (every timed call runs compiled code; the tiered first calls are measured
    on their own)."""
    env["FUNCGRAD_COMPILE"] = "sync"
    if threads is not None:
        env["FUNCGRAD_NUM_THREADS"] = str(threads)
        env["NUMBA_NUM_THREADS"] = str(threads)
    return env


_NUMPY_IMPORTED_EARLY = "numpy" in sys.modules  # then the variables come too late for BLAS
_THREADS = _threads_argument(sys.argv)
_single_threaded_env()  # before numpy (and so any BLAS) is imported
_funcgrad_env(os.environ, _THREADS)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import funcgrad as fg  # noqa: E402
from funcgrad import tree  # noqa: E402
from benchmarks.problems import PROBLEMS  # noqa: E402

# The implementations, in the table's order: (key, column title)
IMPLS = [
    ("fg_jit", "fg jit(grad)"),
    ("fg_grad", "fg grad"),
    ("numpy_fwd", "NumPy fwd"),
    ("hand", "hand njit"),
    ("jax_jit", "JAX jit(grad)"),
    ("autograd", "autograd"),
]
TITLES = dict(IMPLS)

JIT_VS_HAND = 1.3            # jit(grad) <= 1.3x the hand-written gradient, every problem
JIT_VS_JAX = 0.5             # jit(grad) <= 0.5x JAX jit(grad) on these:
JIT_VS_JAX_PROBLEMS = ("mlp_small", "rosenbrock", "scalar_tiny")
COLD_VS_HAND_COMPILE = 1.5   # cold first call <= 1.5x Numba compile of the hand kernel
# Issue 11: the RNN written with lax.scan compiles as one loop, whatever its length.
SCAN_PROBLEMS = ("rnn_scan", "rnn_scan_500")
SCAN_VS_HAND = 1.0           # jit(grad) <= 1.0x the hand-written gradient
SCAN_VS_JAX = 1.0            # jit(grad) <= 1.0x JAX jit(grad) with jax.lax.scan
SCAN_COLD_COMPILE = 1.5      # cold first call (trace, generate, Numba compile) <= 1.5 s
WARM_FIRST_CALL = 0.2        # seconds, first call in a new process with a warm disk cache
GRAD_VS_AUTOGRAD = 0.2       # issue 3 item 8: fg.grad without jit <= 1/5 of autograd on:
GRAD_VS_AUTOGRAD_PROBLEMS = ("mlp_small", "scalar_tiny")
TIERED_FIRST_VS_JAX = 1.0    # issue 15: first result (tiered) <= JAX's first result
COMPILED_AFTER_VS_HAND = 1.0  # issue 15: compiled speed reached <= hand kernel's compile
COLD_VS_HAND_COMPILE_II = 1.0  # issue 15 item 2: cold first call <= the hand kernel's compile
VECTOR_MATH_VS_JAX = 0.8     # issue 15 item 3: jit(grad) <= 0.8x JAX jit(grad) on these:
VECTOR_MATH_PROBLEMS = ("elementwise_chain", "mlp", "mlp_f32")
PER_CALL_VS_HAND = {"scalar_tiny": 3.0, "mlp_small": 1.2}  # issue 15 item 5


def has_jit():
    return hasattr(fg, "jit")


# ---------------------------------------------------------------------------------------
# The machine


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(distribution):
    """The installed version, without importing it (None when absent)."""
    from importlib import metadata
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _limit_blas_threads():
    """Also limit the BLAS and OpenMP pools at run time when threadpoolctl is there (it works
    even if NumPy was imported before the variables were set); what they use afterwards."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    threadpoolctl.threadpool_limits(1)
    return sorted({(i.get("internal_api"), i.get("num_threads"))
                   for i in threadpoolctl.threadpool_info()})


def machine_info(pools=None):
    import numba
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001
        blas = "?"
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "numba": numba.__version__,
        "funcgrad": fg.__version__,
        "funcgrad_jit": has_jit(),
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "autograd": _version("autograd"),
        "threads": {v: os.environ.get(v) for v in _THREAD_VARS[:3]},
        "funcgrad_threads": os.environ.get("FUNCGRAD_NUM_THREADS"),
        "funcgrad_compile": os.environ.get("FUNCGRAD_COMPILE"),
        "thread_pools": pools,
        "numpy_imported_early": _NUMPY_IMPORTED_EARLY,
        "xla_flags": os.environ.get("XLA_FLAGS"),
    }


def print_machine(info):
    print("Machine")
    print(f"  CPU        {info['cpu']}, {info['cores']} cores "
          f"({info['cores_usable']} usable), load average {info['load_average']}")
    print(f"  Python     {info['python']}   NumPy {info['numpy']} ({info['blas']})   "
          f"Numba {info['numba']}")
    print(f"  funcgrad   {info['funcgrad']} (jit: {'yes' if info['funcgrad_jit'] else 'absent'})"
          f"   JAX {info['jax'] or 'not installed'}"
          f"{' (jaxlib ' + info['jaxlib'] + ')' if info['jaxlib'] else ''}   autograd "
          f"{info['autograd'] or 'not installed'}")
    print("  one thread: " + " ".join(f"{k}={v}" for k, v in info["threads"].items())
          + f" XLA_FLAGS='{info['xla_flags']}'")
    print(f"  funcgrad: FUNCGRAD_NUM_THREADS={info['funcgrad_threads'] or '(unset: one)'}, "
          f"FUNCGRAD_COMPILE={info['funcgrad_compile']} for the timed calls")
    if info["thread_pools"] is not None:
        print("  thread pools (threadpoolctl): " + ", ".join(
            f"{api} {n}" for api, n in info["thread_pools"]))
    if info["numpy_imported_early"] and info["thread_pools"] is None:
        print("  WARNING: NumPy was imported before run.py set the thread variables, and "
              "threadpoolctl is absent: BLAS may use several threads")
    print()


# ---------------------------------------------------------------------------------------
# The callables timed for each problem


def _jax():
    """jax and jax.numpy with float64 enabled, or None when JAX is not installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def _autograd():
    try:
        import autograd
    except ImportError:
        return None
    return autograd


def build_callables(problem, args, skip=()):
    """{impl: zero-argument callable returning the gradient (or the loss for numpy_fwd)},
    and {impl: why it is absent}."""
    fns, absent = {}, {}
    argnums = problem.argnums
    if "fg_jit" not in skip:
        if has_jit():
            step = fg.jit(fg.grad(problem.loss, argnums=argnums))
            fns["fg_jit"] = lambda: step(*args)
        else:
            absent["fg_jit"] = "funcgrad has no jit yet"
    if "fg_grad" not in skip:
        g = fg.grad(problem.loss, argnums=argnums)
        fns["fg_grad"] = lambda: g(*args)
    if "numpy_fwd" not in skip:
        fns["numpy_fwd"] = lambda: problem.forward(*args)
    fns["hand"] = lambda: problem.grad_njit(*args)
    if "jax_jit" not in skip:
        j = _jax()
        if j is None:
            absent["jax_jit"] = "JAX not installed"
        else:
            jax, jnp = j
            jg = jax.jit(jax.grad(problem.jax_loss(), argnums=argnums))
            # Arrays already on the device, as in a JAX training loop; Python floats stay
            # Python floats (their conversion is part of JAX's per-call cost).
            jargs = tree.map(lambda a: jnp.asarray(a) if isinstance(a, np.ndarray) else a,
                             args)
            fns["jax_jit"] = lambda: jax.block_until_ready(jg(*jargs))
    if "autograd" not in skip:
        ag = _autograd()
        if ag is None:
            absent["autograd"] = "autograd not installed"
        else:
            loss = problem.autograd_loss()
            if isinstance(argnums, tuple):  # autograd.grad takes one argnum: pack them
                def packed(wrt, *rest):
                    full = list(rest)
                    for i, x in zip(argnums, wrt):
                        full.insert(i, x)
                    return loss(*full)
                agrad = ag.grad(packed)
                wrt = tuple(args[i] for i in argnums)
                rest = tuple(a for i, a in enumerate(args) if i not in argnums)
                fns["autograd"] = lambda: agrad(wrt, *rest)
            else:
                agrad = ag.grad(loss, argnums)
                fns["autograd"] = lambda: agrad(*args)
    return fns, absent


def _close(got, expected, rtol):
    g_leaves, e_leaves = tree.leaves(got), tree.leaves(expected)
    if len(g_leaves) != len(e_leaves):
        return f"{len(g_leaves)} leaves, expected {len(e_leaves)}"
    for g, e in zip(g_leaves, e_leaves):
        g, e = np.asarray(g, np.float64), np.asarray(e, np.float64)
        if g.shape != e.shape:
            return f"shape {g.shape}, expected {e.shape}"
        scale = float(np.max(np.abs(e))) if e.size else 0.0
        if not np.allclose(g, e, rtol=rtol, atol=rtol * scale):
            return f"max abs difference {float(np.max(np.abs(g - e))):.3g}"
    return None


# ---------------------------------------------------------------------------------------
# Timing


def _time_batch(fn, n):
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n
    finally:
        if gc_was:
            gc.enable()


def _calibrate(fn, min_batch):
    """How many calls make a batch of at least ``min_batch`` seconds."""
    n = 1
    while True:
        per_call = _time_batch(fn, n)
        if per_call * n >= min_batch or n >= 1 << 20:
            return n
        n = min(max(2 * n, int(1.2 * min_batch / max(per_call, 1e-9)) + 1), 100 * n)


def time_interleaved(fns, repeats, min_batch):
    """Median seconds per call of each callable: batches of calls, one batch of each in
    turn per repetition (rotating the order), so that drift of the machine hits all
    alike."""
    names = list(fns)
    inner = {k: _calibrate(fns[k], min_batch) for k in names}
    samples = {k: [] for k in names}
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:
            samples[k].append(_time_batch(fns[k], inner[k]))
    return {k: {"median": statistics.median(v), "min": min(v), "spread": _spread(v),
                "samples": v, "calls_per_sample": inner[k]} for k, v in samples.items()}


def _spread(samples):
    """The interquartile range relative to the median: how noisy a median is."""
    if len(samples) < 4:
        return (max(samples) - min(samples)) / statistics.median(samples)
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return (q3 - q1) / statistics.median(samples)


def run_problem(problem, repeats, min_batch, skip):
    args = problem.make()
    fns, absent = build_callables(problem, args, skip)
    errors, mismatches = dict(absent), {}
    reference = problem.grad_njit(*args)
    rtol = max(problem.rtol * 10, 1e-7)
    for k in list(fns):
        try:
            out = fns[k]()  # the first call: compiles, traces
        except Exception as e:  # noqa: BLE001  (reported in the table, timing goes on)
            errors[k] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
            del fns[k]
            continue
        if k != "numpy_fwd":
            bad = _close(out, reference, rtol)
            if bad:
                mismatches[k] = bad
    _limit_blas_threads()  # again: the first calls may have loaded another BLAS (Numba's)
    timings = time_interleaved(fns, repeats, min_batch)
    return {"timings": timings, "errors": errors, "mismatches": mismatches}


# ---------------------------------------------------------------------------------------
# First calls in fresh processes


def _worker_first_result(kind, name):
    """In a fresh process: the time from making ``jit(value_and_grad(loss))`` to its first
    result, for funcgrad's default tiered compile (and the time until a call runs compiled
    code, calling it in a loop as a training loop would) or for JAX."""
    problem = PROBLEMS[name]
    args = problem.make()
    if kind == "jax":
        jax, jnp = _jax()
        jargs = tree.map(lambda a: jnp.asarray(a) if isinstance(a, np.ndarray) else a, args)
        loss = problem.jax_loss()
        t0 = time.perf_counter()
        step = jax.jit(jax.value_and_grad(loss, argnums=problem.argnums))
        jax.block_until_ready(step(*jargs))
        print(json.dumps({"first": time.perf_counter() - t0}))
        return
    from funcgrad.api.trace_cache import call_signature
    t0 = time.perf_counter()
    step = fg.jit(fg.value_and_grad(problem.loss, argnums=problem.argnums), compile="tiered")
    step(*args)
    first = time.perf_counter() - t0
    entry = step._entries[call_signature(args, {})[1]]  # (funcgrad's own: is it compiled?)
    calls = 1
    while entry.run is None and time.perf_counter() - t0 < 600:
        step(*args)
        calls += 1
    compiled = time.perf_counter() - t0
    print(json.dumps({"first": first, "compiled": compiled, "calls": calls}))


def _worker_first_call(kind, name):
    """In a fresh process: the time of the first call (and of the second); for
    ``fg-tiered`` (jit's default, tiered compile), the time until a call runs compiled code
    too (calling it in a loop)."""
    problem = PROBLEMS[name]
    args = problem.make()
    if kind == "hand":
        fn = problem.grad_njit
    else:
        fn = fg.jit(fg.grad(problem.loss, argnums=problem.argnums),
                    compile="tiered" if kind == "fg-tiered" else "sync")
    t0 = time.perf_counter()
    fn(*args)
    t1 = time.perf_counter()
    fn(*args)
    t2 = time.perf_counter()
    out = {"first": t1 - t0, "second": t2 - t1}
    if kind == "fg-tiered":
        from funcgrad.api.trace_cache import call_signature
        entry = fn._entries[call_signature(args, {})[1]]
        while entry.run is None and time.perf_counter() - t0 < 600:
            fn(*args)
        out["compiled"] = time.perf_counter() - t0
    print(json.dumps(out))


def _subprocess(argv, env_extra, timeout=900):
    env = _funcgrad_env(_single_threaded_env(dict(os.environ)), _THREADS)
    env.update(env_extra)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), *argv], env=env,
                          capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": tail[:300], "process": wall}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process"] = wall
    return out


def first_calls(name, with_jit=True, repeats=1, with_jax=True):
    """Hand kernel compile (Numba cache disabled, empty NUMBA_CACHE_DIR), funcgrad jit cold
    (empty FUNCGRAD_CACHE_DIR, synchronous compile) and warm (the same directory, a new
    process; synchronous, then tiered: its first result and when the code from the cache
    runs), funcgrad's tiered first result and time to compiled speed (empty cache), and
    JAX's first result; each ``repeats`` times with new directories, the median kept
    (compile times are noisy)."""
    runs = {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="fgbench-") as tmp:
            numba_dir = os.path.join(tmp, "numba-hand")
            os.mkdir(numba_dir)
            runs.setdefault("hand_compile", []).append(_subprocess(
                ["--worker", "first-call", "hand", name],
                {"NUMBA_CACHE_DIR": numba_dir, "NUMBA_DISABLE_CACHE": "1"}))
            if with_jit and has_jit():
                fg_dir, fg_numba = os.path.join(tmp, "funcgrad"), os.path.join(tmp, "numba-fg")
                os.mkdir(fg_dir)
                os.mkdir(fg_numba)
                env = {"FUNCGRAD_CACHE_DIR": fg_dir, "NUMBA_CACHE_DIR": fg_numba}
                runs.setdefault("fg_cold", []).append(
                    _subprocess(["--worker", "first-call", "fg", name], env))
                runs.setdefault("fg_warm", []).append(
                    _subprocess(["--worker", "first-call", "fg", name], env))
                runs.setdefault("fg_warm_tiered", []).append(
                    _subprocess(["--worker", "first-call", "fg-tiered", name], env))
                tiered_dir = os.path.join(tmp, "funcgrad-tiered")
                os.mkdir(tiered_dir)
                runs.setdefault("fg_tiered", []).append(_subprocess(
                    ["--worker", "first-result", "fg", name],
                    {"FUNCGRAD_CACHE_DIR": tiered_dir, "NUMBA_CACHE_DIR": tiered_dir}))
            if with_jax and _version("jax"):
                runs.setdefault("jax_first", []).append(
                    _subprocess(["--worker", "first-result", "jax", name], {}))
    result = {}
    for key, samples in runs.items():
        failed = [s for s in samples if "error" in s]
        if failed:
            result[key] = failed[0]
            continue
        result[key] = {field: statistics.median(s[field] for s in samples)
                       for field in ("first", "second", "process", "compiled", "calls")
                       if field in samples[0]}
        result[key]["samples"] = [s["first"] for s in samples]
    return result


# ---------------------------------------------------------------------------------------
# Compilations in a training loop whose last batch is smaller


def _compile_stats():
    """funcgrad's own counters of compilation work (funcgrad.compile.stats)."""
    from funcgrad.compile import stats
    return stats()


class _CompileCounter:
    """Counts Numba compilations (not disk-cache loads) through Numba's event API:
    ``top`` those started outside any other, ``total`` with the nested ones."""

    def __init__(self):
        from numba.core import event
        counter = self

        class Listener(event.Listener):
            def on_start(self, ev):
                if counter.depth == 0:
                    counter.top += 1
                counter.depth += 1
                counter.total += 1

            def on_end(self, ev):
                counter.depth -= 1

        self.top = self.total = self.depth = 0
        self.listener = Listener()
        event.register("numba:compile", self.listener)


def _worker_compile_count(n_samples, batch, epochs):
    """A training loop of ``epochs`` over ``n_samples`` in batches of ``batch`` (the last
    one smaller), jit(value_and_grad) of an MLP; prints how many compilations it caused."""
    from benchmarks.problems import _mlp, mlp_grad
    import funcgrad.numpy as fnp

    def loss(params, x, y):
        return _mlp(fnp, fg.stop_gradient, params, x, y)

    rng = np.random.default_rng(5)
    n_in, n_hidden, n_out = 64, 32, 10  # the digits data set's sizes
    X = rng.normal(0, 1, (n_samples, n_in))
    Y = np.eye(n_out)[rng.integers(0, n_out, n_samples)]
    params = {"W1": rng.normal(0, 0.1, (n_in, n_hidden)), "b1": np.zeros(n_hidden),
              "W2": rng.normal(0, 0.1, (n_hidden, n_out)), "b2": np.zeros(n_out)}
    counter = _CompileCounter()
    before = _compile_stats()
    step = fg.jit(fg.value_and_grad(loss))
    batches = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        for start in range(0, n_samples, batch):
            _, g = step(params, X[start:start + batch], Y[start:start + batch])
            params = {k: params[k] - 0.1 * g[k] for k in params}
            batches += 1
    seconds = time.perf_counter() - t0
    fg_top, fg_total = counter.top, counter.total
    for start in range(0, n_samples, batch):  # the same loop with the hand kernel
        mlp_grad(params, X[start:start + batch], Y[start:start + batch])
    print(json.dumps({
        "batches": batches, "batch_sizes": sorted({min(batch, n_samples - s)
                                                   for s in range(0, n_samples, batch)}),
        "numba_compiles": fg_top, "numba_compiles_nested": fg_total, "seconds": seconds,
        "hand_numba_compiles": counter.top - fg_top,
        "funcgrad_stats_before": before, "funcgrad_stats_after": _compile_stats()},
        default=str))


def compile_count(n_samples=1797, batch=64, epochs=2):
    with tempfile.TemporaryDirectory(prefix="fgbench-") as tmp:
        return _subprocess(["--worker", "compile-count", str(n_samples), str(batch),
                            str(epochs)],
                           {"FUNCGRAD_CACHE_DIR": os.path.join(tmp, "funcgrad"),
                            "NUMBA_CACHE_DIR": os.path.join(tmp, "numba")})


# ---------------------------------------------------------------------------------------
# Reporting


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.2f} us" if s < 1e-5 else f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms" if s < 1e-2 else f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_ratio(r):
    return "-" if r is None else (f"{r:.2f}x" if r < 100 else f"{r:.0f}x")


def _median(results, name, impl):
    t = results[name]["timings"].get(impl)
    return t["median"] if t else None


def _ratio(a, b):
    return a / b if a is not None and b else None


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def print_results(results, impls):
    threads = f"funcgrad on {_THREADS} threads, the others on one" if _THREADS else "one thread"
    print(f"Median time per call ({threads}; * = result differs from the hand-written "
          "gradient, see below)")
    header = ["problem"] + [TITLES[k] for k in impls]
    rows = []
    for name, res in results.items():
        row = [name]
        for k in impls:
            t = _median(results, name, k)
            cell = fmt_time(t) if t is not None else ("error" if k in res["errors"]
                                                      and "installed" not in res["errors"][k]
                                                      and "no jit" not in res["errors"][k]
                                                      else "-")
            row.append(cell + ("*" if k in res["mismatches"] else ""))
        rows.append(row)
    _table(header, rows)
    print()
    print("Ratios (lower is better for funcgrad)")
    header = ["problem", "jit/hand", "grad/hand", "fwd/hand", "JAX/hand", "autograd/hand",
              "jit/JAX", "grad/autograd", "spread"]
    rows = []
    for name in results:
        m = {k: _median(results, name, k) for k, _ in IMPLS}
        spreads = [t["spread"] for t in results[name]["timings"].values()]
        rows.append([name] + [fmt_ratio(_ratio(m[a], m[b])) for a, b in [
            ("fg_jit", "hand"), ("fg_grad", "hand"), ("numpy_fwd", "hand"),
            ("jax_jit", "hand"), ("autograd", "hand"), ("fg_jit", "jax_jit"),
            ("fg_grad", "autograd")]] + [f"{max(spreads):.0%}" if spreads else "-"])
    _table(header, rows)
    notes = {}
    for name, res in results.items():
        for k, why in res["errors"].items():
            notes.setdefault(f"{TITLES[k]}: {why}", []).append(name)
        for k, why in res["mismatches"].items():
            notes.setdefault(f"{TITLES[k]}: gradient differs from the hand-written one: {why}",
                             []).append(name)
    if notes:
        print("\nNotes")
        for note, names in notes.items():
            where = "all problems" if len(names) == len(results) > 1 else ", ".join(names)
            print(f"  {note} ({where})")
    print()


def print_first_calls(first):
    print("First call in a fresh process (the call only; imports and data excluded; "
          "median over the processes)")
    header = ["problem", "hand compile", "fg jit cold", "fg jit warm", "cold/hand",
              "fg 2nd call", "warm process", "warm tiered", "compiled after"]
    rows = []
    for name, r in first.items():
        def cell(key, field="first"):
            v = r.get(key)
            if v is None:
                return "-"
            return "error" if "error" in v else fmt_time(v[field])
        hand = r.get("hand_compile", {}).get("first")
        cold = r.get("fg_cold", {}).get("first")
        rows.append([name, cell("hand_compile"), cell("fg_cold"), cell("fg_warm"),
                     fmt_ratio(_ratio(cold, hand)), cell("fg_warm", "second"),
                     cell("fg_warm", "process"), cell("fg_warm_tiered"),
                     cell("fg_warm_tiered", "compiled")])
    _table(header, rows)
    print()
    print("Time to the first result and to compiled speed, jit(value_and_grad), fresh process, "
          "empty cache (funcgrad's default tiered compile; JAX's jit)")
    header = ["problem", "fg first result", "JAX first result", "fg/JAX", "fg compiled after",
              "hand compile", "compiled/hand", "calls before"]
    rows = []
    for name, r in first.items():
        tiered, jax_first = r.get("fg_tiered", {}), r.get("jax_first", {})
        hand = r.get("hand_compile", {}).get("first")
        rows.append([name, fmt_time(tiered.get("first")), fmt_time(jax_first.get("first")),
                     fmt_ratio(_ratio(tiered.get("first"), jax_first.get("first"))),
                     fmt_time(tiered.get("compiled")), fmt_time(hand),
                     fmt_ratio(_ratio(tiered.get("compiled"), hand)),
                     str(tiered.get("calls", "-")) if "calls" in tiered else "-"])
    _table(header, rows)
    for name, r in first.items():
        for k, v in r.items():
            if "error" in v:
                print(f"  {name} / {k}: {v['error']}")
    print()


def check_targets(results, first):
    """[(target, problem, value, verdict)], verdict PASS, MISS or n/a."""
    checks = []

    def add(target, name, value, limit, unit="x"):
        if value is None:
            checks.append((target, name, "-", "n/a"))
            return
        shown = f"{value:.2f}{unit}" if unit == "x" else fmt_time(value)
        verdict = "PASS" if value <= limit else "MISS"
        checks.append((target, name, shown, verdict))

    for name in results:
        add(f"jit(grad) <= {JIT_VS_HAND}x hand-written", name,
            _ratio(_median(results, name, "fg_jit"), _median(results, name, "hand")),
            JIT_VS_HAND)
    for name in JIT_VS_JAX_PROBLEMS:
        if name in results:
            add(f"jit(grad) <= {JIT_VS_JAX}x JAX jit(grad)", name,
                _ratio(_median(results, name, "fg_jit"), _median(results, name, "jax_jit")),
                JIT_VS_JAX)
    for name, r in first.items():
        cold = r.get("fg_cold", {}).get("first")
        hand = r.get("hand_compile", {}).get("first")
        add(f"cold first call <= {COLD_VS_HAND_COMPILE}x hand compile", name,
            _ratio(cold, hand), COLD_VS_HAND_COMPILE)
    for name, r in first.items():
        add("tiered first result <= JAX's first result", name,
            _ratio(r.get("fg_tiered", {}).get("first"), r.get("jax_first", {}).get("first")),
            TIERED_FIRST_VS_JAX)
        add("tiered: compiled speed after <= hand compile", name,
            _ratio(r.get("fg_tiered", {}).get("compiled"),
                   r.get("hand_compile", {}).get("first")), COMPILED_AFTER_VS_HAND)
    for name, r in first.items():
        add(f"warm first call <= {WARM_FIRST_CALL} s", name,
            r.get("fg_warm", {}).get("first"), WARM_FIRST_CALL, unit="s")
        add(f"warm first call, tiered (the default) <= {WARM_FIRST_CALL} s", name,
            r.get("fg_warm_tiered", {}).get("first"), WARM_FIRST_CALL, unit="s")
    for name in SCAN_PROBLEMS:
        if name in results:
            add(f"scan jit(grad) <= {SCAN_VS_HAND}x hand-written", name,
                _ratio(_median(results, name, "fg_jit"), _median(results, name, "hand")),
                SCAN_VS_HAND)
            add(f"scan jit(grad) <= {SCAN_VS_JAX}x JAX jit(grad) with lax.scan", name,
                _ratio(_median(results, name, "fg_jit"), _median(results, name, "jax_jit")),
                SCAN_VS_JAX)
        if name in first:
            add(f"scan cold first call <= {SCAN_COLD_COMPILE} s", name,
                first[name].get("fg_cold", {}).get("first"), SCAN_COLD_COMPILE, unit="s")
    for name, r in first.items():
        add(f"cold first call <= {COLD_VS_HAND_COMPILE_II}x hand compile (issue 15)", name,
            _ratio(r.get("fg_cold", {}).get("first"), r.get("hand_compile", {}).get("first")),
            COLD_VS_HAND_COMPILE_II)
    for name in VECTOR_MATH_PROBLEMS:
        if name in results:
            add(f"jit(grad) <= {VECTOR_MATH_VS_JAX}x JAX jit(grad) (issue 15)", name,
                _ratio(_median(results, name, "fg_jit"), _median(results, name, "jax_jit")),
                VECTOR_MATH_VS_JAX)
    for name, limit in PER_CALL_VS_HAND.items():
        if name in results:
            add(f"jit(grad) <= {limit}x hand-written (issue 15)", name,
                _ratio(_median(results, name, "fg_jit"), _median(results, name, "hand")), limit)
    for name in GRAD_VS_AUTOGRAD_PROBLEMS:
        if name in results:
            add(f"grad (no jit) <= {GRAD_VS_AUTOGRAD}x autograd (issue 3)", name,
                _ratio(_median(results, name, "fg_grad"), _median(results, name, "autograd")),
                GRAD_VS_AUTOGRAD)
    return checks


def print_targets(checks):
    print("Targets (issue 4 item 8, issue 11 (scan), issue 15, issue 3 item 8)")
    _table(["target", "problem", "value", "verdict"], [list(c) for c in checks])
    counts = {v: sum(1 for c in checks if c[3] == v) for v in ("PASS", "MISS", "n/a")}
    print("  " + ", ".join(f"{n} {v}" for v, n in counts.items() if n))
    print()


def print_compiles(c):
    print("Numba compilations in a training loop (jit(value_and_grad) of a 64-32-10 MLP, "
          "1,797 samples in batches of 64, 2 epochs)")
    if c is None:
        print("  skipped: funcgrad has no jit yet\n")
        return
    if "error" in c:
        print(f"  error: {c['error']}\n")
        return
    print(f"  {c['batches']} steps, batch sizes {c['batch_sizes']}: "
          f"{c['numba_compiles']} Numba compilations ({c['numba_compiles_nested']} with nested "
          f"ones) in {c['seconds']:.2f} s; the hand-written kernel: "
          f"{c['hand_numba_compiles']}")
    before, after = c["funcgrad_stats_before"], c["funcgrad_stats_after"]
    print("  funcgrad's counters over the loop: " + ", ".join(
        f"{k} +{after[k] - before.get(k, 0)}" for k in sorted(after)))
    print()


# ---------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", choices=sorted(PROBLEMS), metavar="NAME",
                        help=f"which problems (default all: {', '.join(PROBLEMS)})")
    parser.add_argument("--quick", action="store_true",
                        help="fewer and shorter repetitions: to check the harness, not for "
                             "numbers")
    parser.add_argument("--repeats", type=int, help="repetitions per implementation "
                                                    "(default 21, --quick 5)")
    parser.add_argument("--min-batch", type=float,
                        help="seconds per timed batch of calls (default 0.02, --quick 0.005)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="IMPL",
                        choices=[k for k, _ in IMPLS if k != "hand"],
                        help="implementations to leave out (fg_jit fg_grad numpy_fwd jax_jit "
                             "autograd)")
    parser.add_argument("--no-first-call", action="store_true",
                        help="skip the first-call measurements in fresh processes")
    parser.add_argument("--first-call-repeats", type=int, metavar="N",
                        help="fresh processes per first-call measurement, the median kept "
                             "(default 3, --quick 1)")
    parser.add_argument("--no-compile-count", action="store_true",
                        help="skip counting compilations in a training loop")
    parser.add_argument("--cpu", type=int, help="pin this process and its children to one CPU")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="threads for funcgrad's compiled code (FUNCGRAD_NUM_THREADS and "
                             "NUMBA_NUM_THREADS; default one); do not pin to one --cpu then")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)

    if ns.worker:
        kind, *rest = ns.worker
        if kind == "first-call":
            _worker_first_call(*rest)
        elif kind == "first-result":
            _worker_first_result(*rest)
        elif kind == "compile-count":
            _worker_compile_count(*map(int, rest))
        return 0
    if ns.cpu is not None:
        os.sched_setaffinity(0, {ns.cpu})

    names = ns.problems or list(PROBLEMS)
    repeats = ns.repeats or (5 if ns.quick else 21)
    min_batch = ns.min_batch or (0.005 if ns.quick else 0.02)
    first_repeats = ns.first_call_repeats or (1 if ns.quick else 3)
    impls = [k for k, _ in IMPLS if k not in ns.skip]

    info = machine_info(_limit_blas_threads())
    print_machine(info)
    results = {}
    for name in names:
        t0 = time.perf_counter()
        try:
            results[name] = run_problem(PROBLEMS[name], repeats, min_batch, ns.skip)
        except Exception:  # noqa: BLE001  (one broken problem must not hide the others)
            traceback.print_exc()
            results[name] = {"timings": {}, "errors": {"hand": "the problem failed"},
                             "mismatches": {}}
        print(f"  timed {name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print()
    print_results(results, impls)

    first = {}
    if not ns.no_first_call:
        for name in names:
            first[name] = first_calls(name, with_jit="fg_jit" not in ns.skip,
                                      repeats=first_repeats, with_jax="jax_jit" not in ns.skip)
            print(f"  first calls of {name} measured", file=sys.stderr)
        print_first_calls(first)

    compiles = None
    if not ns.no_compile_count and has_jit() and "fg_jit" not in ns.skip:
        compiles = compile_count()
    if not ns.no_compile_count:
        print_compiles(compiles)

    checks = check_targets(results, first)
    print_targets(checks)

    if ns.json:
        with open(ns.json, "w") as f:
            json.dump({"machine": info, "repeats": repeats, "min_batch": min_batch,
                       "first_call_repeats": first_repeats,
                       "results": results, "first_call": first, "compile_count": compiles,
                       "targets": [dict(zip(("target", "problem", "value", "verdict"), c))
                                   for c in checks]}, f, indent=1, default=str)
        print(f"wrote {ns.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
