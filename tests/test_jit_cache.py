"""The disk cache: compile once across processes, survive damage and concurrency."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PROGRAM = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp
    from funcgrad.compile import disk_cache as cache

    def loss(w, x):
        return fnp.sum(fnp.tanh(x @ w) ** 2) + 0.1 * fnp.sum(w * w)

    w = np.linspace(-1, 1, 12).reshape(4, 3)
    x = np.linspace(0, 2, 20).reshape(5, 4)
    start = time.perf_counter()
    g = fg.jit(fg.grad(loss))(w, x)
    first = time.perf_counter() - start
    expected = fg.grad(loss)(w, x)
    print(json.dumps({"ok": bool(np.allclose(g, expected, rtol=1e-12)), "first": first,
                      **cache.stats}))
""")


def run(cache_dir, script=PROGRAM):
    env = {**os.environ, "FUNCGRAD_CACHE_DIR": str(cache_dir),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    import json
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_reuses_the_compiled_code(tmp_path):
    cold = run(tmp_path)
    warm = run(tmp_path)
    assert cold["ok"] and warm["ok"]
    assert cold["numba_compilations"] == 1 and cold["modules_written"] == 1
    assert warm["numba_compilations"] == 0 and warm["modules_written"] == 0


def modules(tmp_path):
    return list(tmp_path.glob("*/fg_*.py"))


def test_damaged_module_file_is_rebuilt(tmp_path):
    run(tmp_path)
    (module,) = modules(tmp_path)
    module.write_text(module.read_text()[:40])  # truncated
    again = run(tmp_path)
    assert again["ok"] and again["modules_written"] == 1


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_numba_cache_is_rebuilt(tmp_path, damage):
    run(tmp_path)
    numba_files = list(tmp_path.glob("*/__pycache__/fg_*"))
    assert numba_files
    for f in numba_files:
        data = f.read_bytes()
        f.write_bytes(data[: len(data) // 2] if damage == "truncate" else os.urandom(len(data)))
    again = run(tmp_path)
    assert again["ok"]
    assert run(tmp_path)["numba_compilations"] == 0  # and the repaired cache works


def test_two_processes_compiling_at_once_both_succeed(tmp_path):
    env = {**os.environ, "FUNCGRAD_CACHE_DIR": str(tmp_path),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [subprocess.Popen([sys.executable, "-c", PROGRAM], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert '"ok": true' in out
    assert run(tmp_path)["numba_compilations"] == 0


BESSEL_PROGRAM = PROGRAM.replace("fnp.tanh(x @ w)", "fg.scipy.special.j1(x @ w)").replace(
    "import funcgrad as fg, funcgrad.numpy as fnp",
    "import funcgrad as fg, funcgrad.numpy as fnp, funcgrad.scipy.special")


def test_scipys_routines_called_by_symbol_are_cached_too(tmp_path):
    """Generated code that calls SciPy's compiled Bessel routine links it by name, so Numba
    caches it (a ctypes pointer would be a dynamic global, compiled again in every process)."""
    cold, warm = run(tmp_path, BESSEL_PROGRAM), run(tmp_path, BESSEL_PROGRAM)
    assert cold["ok"] and warm["ok"]
    assert cold["numba_compilations"] == 1 and warm["numba_compilations"] == 0
