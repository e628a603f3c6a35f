"""How fast is funcgrad on your machine? jit vs no jit vs plain NumPy, on an MLP loss.

For a tanh MLP with a softmax cross-entropy loss it times, per call (median):

* the forward pass in plain NumPy (funcgrad.numpy on NumPy arrays is NumPy),
* the forward pass compiled with ``fg.jit``,
* the gradient with ``fg.value_and_grad`` and no jit (the adjoint program run by NumPy),
* the gradient with ``fg.jit(fg.value_and_grad(...))`` (forward and backward fused in one
  Numba function),

and the first call of the jitted gradient (tracing plus Numba compilation, or loading from
funcgrad's disk cache: run the script twice to see both).

    python examples/speed.py
    python examples/speed.py --batch 256 --hidden 512 --float32
    OPENBLAS_NUM_THREADS=1 python examples/speed.py   # steadier on a busy machine

The matrix products go to BLAS in every column, so with multi-threaded BLAS on a machine
that is busy with other work the numbers can jump around; one BLAS thread steadies them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def loss(params, x, y):
    W1, b1, W2, b2 = params
    h = fnp.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    return -fnp.mean(fnp.sum(y * fg.nn.log_softmax(logits), axis=1))


def median_time(fn, *args, budget: float = 0.5, min_runs: int = 5) -> float:
    """Median seconds per call, calling ``fn`` for about ``budget`` seconds."""
    times, spent = [], 0.0
    while len(times) < min_runs or spent < budget:
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--inputs", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--float32", action="store_true")
    parser.add_argument("--budget", type=float, default=0.5, help="seconds per measurement")
    args = parser.parse_args(argv)

    dtype = np.float32 if args.float32 else np.float64
    rng = np.random.default_rng(0)
    params = (rng.normal(0, 0.05, (args.inputs, args.hidden)).astype(dtype),
              np.zeros(args.hidden, dtype),
              rng.normal(0, 0.05, (args.hidden, args.classes)).astype(dtype),
              np.zeros(args.classes, dtype))
    x = rng.normal(size=(args.batch, args.inputs)).astype(dtype)
    y = np.eye(args.classes, dtype=dtype)[rng.integers(0, args.classes, args.batch)]

    jit_forward = fg.jit(loss, compile="sync")  # (timed: compiled from the first call)
    uncompiled_grad = fg.value_and_grad(loss)
    jit_grad = fg.jit(uncompiled_grad, compile="sync")
    t0 = time.perf_counter()
    jit_grad(params, x, y)
    first_call = time.perf_counter() - t0
    jit_forward(params, x, y)

    value, grads = jit_grad(params, x, y)
    value_ref, grads_ref = uncompiled_grad(params, x, y)
    tol = 1e-4 if args.float32 else 1e-10
    assert all(np.allclose(g, r, rtol=tol, atol=tol) for g, r in zip(grads, grads_ref))

    rows = [("forward, NumPy", median_time(loss, params, x, y, budget=args.budget)),
            ("forward, fg.jit", median_time(jit_forward, params, x, y, budget=args.budget)),
            ("value and gradient, no jit", median_time(uncompiled_grad, params, x, y,
                                                       budget=args.budget)),
            ("value and gradient, fg.jit", median_time(jit_grad, params, x, y,
                                                       budget=args.budget))]

    threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
          f"{f', BLAS threads {threads}' if threads else ''}; Python "
          f"{platform.python_version()}, NumPy {np.__version__}")
    print(f"MLP {args.inputs}-{args.hidden}-{args.classes}, batch {args.batch}, "
          f"{np.dtype(dtype).name}\n")
    numpy_forward = rows[0][1]
    print(f"{'':30} {'per call':>12} {'vs NumPy forward':>18}")
    for name, seconds in rows:
        print(f"{name:30} {seconds * 1e6:9.1f} us {seconds / numpy_forward:17.2f}x")
    print(f"\nfirst call of fg.jit(value_and_grad): {first_call:.2f} s "
          "(trace + compile, or load from the disk cache)")


if __name__ == "__main__":
    main()
