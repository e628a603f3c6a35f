"""Hessian-vector products by differentiating a gradient: grad of grad.

``fg.grad(f)`` is a program, so it can be differentiated again. The Hessian of f times a
vector v is the gradient of x -> <grad f(x), v>:

    hvp(f, x, v) = fg.grad(lambda x: fnp.vdot(fg.grad(f)(x), v))(x)

It costs a small multiple of one gradient, never forms the n x n Hessian, and compiles with
``fg.jit`` like any other program. This script checks it against the full Hessian
(``fg.hessian``) and against finite differences of the gradient on the Rosenbrock function,
then times it with n = 100,000, where the Hessian would take 80 GB.

    python examples/hessian_vector_product.py
    python examples/hessian_vector_product.py --n 1000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def hvp(f, x, v):
    """H(x) v for a scalar function f, as the gradient of <grad f(x), v>."""
    return fg.grad(lambda x: fnp.vdot(fg.grad(f)(x), v))(x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="size of the large problem")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    x, v = rng.normal(size=6), rng.normal(size=6)

    by_grad_of_grad = hvp(rosenbrock, x, v)
    by_hessian = fg.hessian(rosenbrock)(x) @ v
    eps = 1e-6
    g = fg.grad(rosenbrock)
    by_differences = (g(x + eps * v) - g(x - eps * v)) / (2 * eps)
    np.set_printoptions(precision=6, suppress=True)
    print("Rosenbrock in 6 dimensions, H(x) v three ways:")
    print(f"  grad of grad:             {by_grad_of_grad}")
    print(f"  fg.hessian(f)(x) @ v:     {by_hessian}")
    print(f"  differences of grad f:    {by_differences}")
    assert np.allclose(by_grad_of_grad, by_hessian, rtol=1e-10)
    assert np.allclose(by_grad_of_grad, by_differences, rtol=1e-5)

    program = fg.make_ir(lambda x, v: hvp(rosenbrock, x, v))(x, v)
    print(f"\nThe HVP program has {len(program.equations)} equations "
          f"(fg.make_ir prints them; rosenbrock alone has "
          f"{len(fg.make_ir(rosenbrock)(x).equations)}).")

    n = args.n
    x, v = rng.normal(size=n), rng.normal(size=n)
    fast_hvp = fg.jit(lambda x, v: hvp(rosenbrock, x, v))
    t0 = time.perf_counter()
    fast_hvp(x, v)
    first = time.perf_counter() - t0
    runs = 20
    t0 = time.perf_counter()
    for _ in range(runs):
        result = fast_hvp(x, v)
    compiled = (time.perf_counter() - t0) / runs
    t0 = time.perf_counter()
    for _ in range(runs):
        slow = hvp(rosenbrock, x, v)
    uncompiled = (time.perf_counter() - t0) / runs
    assert np.allclose(result, slow, rtol=1e-10)
    print(f"\nn = {n:,}: the Hessian would hold {8 * n * n / 1e9:,.1f} GB; one HVP takes")
    print(f"  {compiled * 1e3:8.3f} ms with fg.jit (first call, tracing and compiling: "
          f"{first:.2f} s)")
    print(f"  {uncompiled * 1e3:8.3f} ms without jit (NumPy evaluator)")


if __name__ == "__main__":
    main()
