"""Numba's start-up without importing scipy.linalg (funcgrad/compile/numba_start.py).

Each test runs in a new process: what it checks is the first start of Numba in a process,
and which modules that imports.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(script: str, tmp_path) -> dict:
    env = {**os.environ, "FUNCGRAD_CACHE_DIR": str(tmp_path / "cache"),
           "FUNCGRAD_COMPILE": "sync",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_WITHOUT_THEN_WITH_PRODUCTS = """
    import json, sys
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp

    def loaded(name):
        return name in sys.modules

    x = np.linspace(-1.0, 1.0, 7)
    g = fg.jit(fg.grad(lambda x: fnp.sum(fnp.sin(x) ** 2)))(x)
    out = {"grad": bool(np.allclose(g, np.sin(2 * x), rtol=1e-14)),
           "numba started": loaded("numba.np.arraymath"),
           "after elementwise": [loaded("scipy.linalg"), loaded("scipy.linalg.cython_blas")]}

    a = np.arange(12.0).reshape(4, 3)
    out["product"] = bool(np.array_equal(fg.jit(lambda a: a.T @ a)(a), a.T @ a))
    out["after product"] = [loaded("scipy.linalg"), loaded("scipy.linalg.cython_blas")]

    import scipy.linalg
    out["attribute"] = scipy.linalg.cython_blas is sys.modules["scipy.linalg.cython_blas"]
    out["capsules"] = "dgemm" in scipy.linalg.cython_blas.__pyx_capi__
    out["solve"] = bool(np.allclose(scipy.linalg.solve(np.diag([2.0, 4.0]), [1.0, 1.0]),
                                    [0.5, 0.25]))
    print(json.dumps(out))
"""


def test_a_program_without_products_compiles_without_importing_scipy_linalg(tmp_path):
    """Numba's start-up finds SciPy's BLAS module without its package (80 ms of a small
    program's cold compile); a product imports the package when it is compiled; and
    ``scipy.linalg`` imported afterwards is whole and works."""
    out = run(_WITHOUT_THEN_WITH_PRODUCTS, tmp_path)
    assert out == {"grad": True, "numba started": True, "after elementwise": [False, False],
                   "product": True, "after product": [True, True], "attribute": True,
                   "capsules": True, "solve": True}


_IMPORTED_MEANWHILE = """
    import json, sys
    from funcgrad.compile import numba_start

    with numba_start._blas_module_alone():
        alone = "scipy.linalg.cython_blas" in sys.modules and "scipy.linalg" not in sys.modules
        import scipy.linalg  # (as another thread might, during the start-up)
    blas = sys.modules.get("scipy.linalg.cython_blas")
    print(json.dumps({"alone": alone, "kept": blas is not None,
                      "attribute": getattr(scipy.linalg, "cython_blas", None) is blas}))
"""


def test_scipy_linalg_imported_during_the_start_up_keeps_its_blas_module(tmp_path):
    """If the package is imported while its module is loaded on its own, the module stays
    and is the package's attribute, as importing it through the package leaves it."""
    assert run(_IMPORTED_MEANWHILE, tmp_path) == {"alone": True, "kept": True,
                                                  "attribute": True}


_BLAS_FILE_NOT_FOUND = """
    import json, sys
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp
    from funcgrad.compile import numba_start

    numba_start.scipy_blas_path = lambda: None  # (not found: Numba imports it as usual)
    y = fg.jit(lambda x: fnp.exp(x) * 2.0)(np.zeros(3))
    print(json.dumps({"value": y.tolist(), "scipy.linalg": "scipy.linalg" in sys.modules}))
"""


def test_without_scipys_blas_file_numba_starts_as_usual(tmp_path):
    assert run(_BLAS_FILE_NOT_FOUND, tmp_path) == {"value": [2.0, 2.0, 2.0],
                                                             "scipy.linalg": True}



_PRODUCTS = """
    import json, sys
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp

    def products(a, v):  # gemm, gemv and dot in the value and the gradient
        return fnp.sum((a @ a.T) @ v) + v @ v + fnp.sum(a.T @ v)

    out = {}
    for dtype in (np.float32, np.float64):
        a = (np.arange(12.0).reshape(3, 4) / 10).astype(dtype)
        v = np.linspace(-1.0, 1.0, 3).astype(dtype)
        value, (ga, gv) = fg.jit(fg.value_and_grad(products, argnums=(0, 1)))(a, v)
        u = np.ones(3, dtype)
        expected = [np.sum((a @ a.T) @ v) + v @ v + np.sum(a.T @ v),
                    (np.outer(u, v) + np.outer(v, u)) @ a + np.outer(v, np.ones(4, dtype)),
                    a @ a.T @ u + 2 * v + a @ np.ones(4, dtype)]
        out[np.dtype(dtype).name] = [bool(np.allclose(got, want, rtol=1e-5))
                                     for got, want in zip((value, ga, gv), expected)]
    out["scipy.linalg"] = "scipy.linalg" in sys.modules
    print(json.dumps(out))
"""


def test_products_loaded_from_the_cache_run_without_importing_scipy_linalg(tmp_path):
    """Compiling a product imports ``scipy.linalg`` (Numba's code generation does); running
    it again in a new process, from the disk cache, does not: Numba's BLAS wrappers were
    given SciPy's routines at the start-up (80 ms of a 0.2 s first call)."""
    right = {"float32": [True, True, True], "float64": [True, True, True]}
    assert run(_PRODUCTS, tmp_path) == {**right, "scipy.linalg": True}
    assert run(_PRODUCTS, tmp_path) == {**right, "scipy.linalg": False}


_KINDS_OF_CODE = """
    import json, sys
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp
    import funcgrad.scipy.special as fsp
    from funcgrad import lax
    from funcgrad.compile import numba_start

    def kinds(a, v):  # BLAS, vectorised math, a special function, a sort and a loop
        s = fnp.sum(fnp.sort(fnp.tanh(v) * fsp.gammaln(v + 3.0)))
        w = lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 1.5), (0, s))[1]
        return fnp.sum((a @ a.T) @ v) + w

    a = np.arange(12.0).reshape(3, 4) / 10
    v = np.linspace(-1.0, 1.0, 3)
    step = fg.value_and_grad(kinds, argnums=(0, 1))
    (value, grads), (want, want_grads) = fg.jit(step)(a, v), step(a, v)
    x = np.linspace(0.0, 1.0, 100_000)
    threaded = fg.jit(lambda x: fnp.exp(x) * x, threads=2)(x)
    out = {"agree": [bool(np.allclose(g, w, rtol=1e-13, atol=0))
                     for g, w in zip((value, *grads), (want, *want_grads))],
           "threaded": bool(np.allclose(threaded, np.exp(x) * x, rtol=1e-15)),
           "started": [numba_start._started, "numba.np.arraymath" in sys.modules,
                       "scipy.linalg" in sys.modules]}
    new = fg.jit(lambda x: fnp.cos(x) + OFFSET)(v)  # (a new program in each process)
    out["then compiled"] = [bool(np.allclose(new, np.cos(v) + OFFSET, rtol=1e-15)),
                            numba_start._started, "scipy.linalg" in sys.modules]
    print(json.dumps(out))
"""


def test_code_loaded_from_the_cache_runs_without_starting_all_of_numba(tmp_path):
    """In a new process, machine code from the disk cache (matrix products, vectorised and
    special functions, sorts, loops, parallel loops) loads and runs after Numba's runtime
    only, not its typing and lowering tables (two thirds of a warm first call); compiling a
    new program afterwards starts the rest."""
    first = run(_KINDS_OF_CODE.replace("OFFSET", "1.0"), tmp_path)
    assert first == {"agree": [True] * 3, "threaded": True, "started": [True, True, True],
                     "then compiled": [True, True, True]}
    second = run(_KINDS_OF_CODE.replace("OFFSET", "2.0"), tmp_path)
    assert second == {"agree": [True] * 3, "threaded": True, "started": [False, False, False],
                      "then compiled": [True, True, False]}
