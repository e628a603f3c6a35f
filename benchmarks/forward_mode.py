"""Forward mode against JAX: hessian (forward over reverse) of a small MLP, and jacfwd vs
jacrev on tall and wide Jacobians (issue 9 item 7).

    python benchmarks/forward_mode.py            # all figures (JAX columns if JAX is installed)
    python benchmarks/forward_mode.py --quick    # fewer repetitions

Compile times are first calls in a fresh process with an empty funcgrad disk cache (a
temporary FUNCGRAD_CACHE_DIR), so they include Numba's compilation; per-call times are the
median of batches of calls. One thread everywhere.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
os.environ.setdefault("FUNCGRAD_COMPILE", "sync")  # timed calls run compiled code

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a clone, uninstalled

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402

RNG = np.random.default_rng(0)
X, Y = RNG.normal(size=(8, 3)), RNG.normal(size=8)
W = RNG.normal(size=21)  # a 3-4-1 tanh MLP: 12 + 4 + 4 + 1 = 21 parameters


def mlp_loss(np_, w):
    W1, b1, W2, b2 = np_.reshape(w[:12], (3, 4)), w[12:16], w[16:20], w[20]
    h = np_.tanh(X @ W1 + b1)
    return np_.mean((h @ W2 + b2 - Y) ** 2)


def tall(np_, x):   # 4 inputs -> 400 outputs
    return np_.sin(np_.outer(np_.linspace(0.0, 1.0, 100), x)).reshape(-1) * x[0]


def wide(np_, x):   # 400 inputs -> 4 outputs
    return np_.tanh(np_.reshape(x, (4, 100))) @ np_.cos(np_.linspace(0.0, 1.0, 100))


def per_call(fn, *args, quick=False) -> float:
    """Median seconds per call over batches of ~20 ms."""
    fn(*args)
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn(*args)
        if time.perf_counter() - start > 0.02:
            break
        n *= 2
    samples = []
    for _ in range(5 if quick else 15):
        start = time.perf_counter()
        for _ in range(n):
            fn(*args)
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


_FIRST_CALL = """
import sys, time, numpy as np
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import forward_mode as fm
t = time.perf_counter()
{setup}
print(time.perf_counter() - t)
"""


def first_call(setup: str) -> float:
    """Seconds for tracing, compiling and running once, in a fresh process, empty cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "FUNCGRAD_CACHE_DIR": cache}
        code = _FIRST_CALL.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), setup=setup)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
    return float(out.stdout.split()[-1])


def jax_modules():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def hessian_figures(quick):
    import functools
    jax, jnp = jax_modules()
    loss = functools.partial(mlp_loss, fnp)
    rows = []
    n_fg = len(fg.make_ir(fg.hessian(loss))(W).program.equations)
    compile_fg = first_call("import funcgrad as fg, funcgrad.numpy as fnp, functools\n"
                            "fg.jit(fg.hessian(functools.partial(fm.mlp_loss, fnp)))(fm.W)")
    hess = fg.jit(fg.hessian(loss))
    rows.append(("funcgrad jit(hessian)", n_fg, compile_fg, per_call(hess, W, quick=quick)))
    rows.append(("funcgrad hessian (NumPy)", n_fg, None,
                 per_call(fg.hessian(loss), W, quick=quick)))
    if jax is not None:
        jloss = functools.partial(mlp_loss, jnp)
        n_jax = len(jax.make_jaxpr(jax.hessian(jloss))(W).jaxpr.eqns)
        compile_jax = first_call(
            "import jax, jax.numpy as jnp, functools\n"
            "jax.config.update('jax_enable_x64', True)\n"
            "jax.jit(jax.hessian(functools.partial(fm.mlp_loss, jnp)))(fm.W).block_until_ready()")
        jh = jax.jit(jax.hessian(jloss))
        rows.append(("JAX jit(hessian)", n_jax, compile_jax,
                     per_call(lambda w: jh(w).block_until_ready(), W, quick=quick)))
        assert np.allclose(np.asarray(jh(W)), hess(W), atol=1e-12)
    print("Hessian of a 21-parameter MLP (3-4-1 tanh, batch 8)")
    print(f"{'':28s}{'equations':>10s}{'first call (s)':>16s}{'per call (us)':>15s}")
    for name, n, first, call in rows:
        first_text = f"{first:16.2f}" if first is not None else f"{'-':>16s}"
        print(f"{name:28s}{n:10d}{first_text}{call * 1e6:15.1f}")


def jacobian_figures(quick):
    import functools
    jax, jnp = jax_modules()
    print("\nJacobians, per call in microseconds (jit)")
    print(f"{'':24s}{'fg jacfwd':>11s}{'fg jacrev':>11s}{'JAX jacfwd':>12s}{'JAX jacrev':>12s}")
    for name, fn, x in (("tall (4 -> 400)", tall, RNG.normal(size=4)),
                        ("wide (400 -> 4)", wide, RNG.normal(size=400))):
        f = functools.partial(fn, fnp)
        times = [per_call(fg.jit(fg.jacfwd(f)), x, quick=quick)]
        times.append(per_call(fg.jit(fg.jacrev(f)), x, quick=quick))
        if jax is not None:
            jf = functools.partial(fn, jnp)
            for jac in (jax.jacfwd, jax.jacrev):
                compiled = jax.jit(jac(jf))
                times.append(per_call(lambda x: compiled(x).block_until_ready(), x,
                                      quick=quick))
        print(f"{name:24s}" + "".join(f"{t * 1e6:11.1f} " for t in times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    ns = parser.parse_args()
    hessian_figures(ns.quick)
    jacobian_figures(ns.quick)


if __name__ == "__main__":
    main()
