"""Per-example gradients: funcgrad's jit(vmap(grad)) beside JAX's, and beside a Python loop
(issue 10, item 3).

The problem: a 16-32-4 tanh MLP with softmax cross-entropy, 64 examples; the gradient of each
example's loss with respect to all the parameters (one gradient per example, as differential
privacy and gradient clipping need). Timed in one process, on one thread, median of several
batches of calls:

  fg_vmap    fg.jit(fg.vmap(fg.grad(loss), in_axes=(None, 0, 0)))
  jax_vmap   jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))   (if JAX is installed)
  fg_loop    a Python loop over the examples of fg.jit(fg.grad(loss))

Target: fg_vmap at most 1.0x jax_vmap, and far below fg_loop.

    python benchmarks/per_example_grads.py            # best of several timing runs
    python benchmarks/per_example_grads.py --quick    # fewer repetitions
"""

from __future__ import annotations

import os
import sys
import timeit

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread, as benchmarks/run.py measures
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")
os.environ.setdefault("FUNCGRAD_COMPILE", "sync")  # timed calls run compiled code

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
except ImportError:  # optional: the bench extra
    jax = jnp = None

SIZES, BATCH = (16, 32, 4), 64


def example_loss(np_, log_softmax):
    """The loss of one example: x of shape (16,), y one-hot of shape (4,)."""
    def loss(params, x, y):
        W1, b1, W2, b2 = params
        h = np_.tanh(np_.dot(x, W1) + b1)
        logits = np_.dot(h, W2) + b2
        return -np_.sum(y * log_softmax(logits))
    return loss


def _log_softmax(np_):
    def log_softmax(z):
        shifted = z - np_.max(z)
        return shifted - np_.log(np_.sum(np_.exp(shifted)))
    return log_softmax


def data(dtype=np.float64):
    rng = np.random.default_rng(0)
    n_in, n_hidden, n_out = SIZES
    params = (rng.normal(size=(n_in, n_hidden)) / 4, np.zeros(n_hidden),
              rng.normal(size=(n_hidden, n_out)) / 6, np.zeros(n_out))
    x = rng.normal(size=(BATCH, n_in))
    y = np.eye(n_out)[rng.integers(0, n_out, BATCH)]
    return tuple(p.astype(dtype) for p in params), x.astype(dtype), y.astype(dtype)


def implementations():
    """name -> a function of (params, xs, ys) returning the per-example gradients."""
    loss = example_loss(fnp, _log_softmax(fnp))
    out = {"fg_vmap": fg.jit(fg.vmap(fg.grad(loss), in_axes=(None, 0, 0)))}
    one = fg.jit(fg.grad(loss))

    def fg_loop(params, xs, ys):
        grads = [one(params, x, y) for x, y in zip(xs, ys)]
        return tuple(np.stack(g) for g in zip(*grads))
    out["fg_loop"] = fg_loop
    if jax is not None:
        jloss = example_loss(jnp, _log_softmax(jnp))
        jitted = jax.jit(jax.vmap(jax.grad(jloss), in_axes=(None, 0, 0)))
        out["jax_vmap"] = lambda *a: jax.block_until_ready(jitted(*a))
    return out


def check(impls, args):
    """Every implementation gives the same per-example gradients."""
    want = impls["fg_loop"](*args)
    for name, fn in impls.items():
        got = fn(*args)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9, atol=1e-12, err_msg=name)


def time_call(fn, args, repeats, min_batch=0.02) -> float:
    """Median seconds per call, over ``repeats`` batches each lasting about ``min_batch``."""
    fn(*args)
    number = 1
    while timeit.timeit(lambda: fn(*args), number=number) < min_batch:
        number *= 2
    samples = timeit.repeat(lambda: fn(*args), number=number, repeat=repeats)
    return float(np.median(samples)) / number


def main(argv=None):
    quick = "--quick" in (argv or sys.argv[1:])
    repeats = 5 if quick else 21
    args = data()
    impls = implementations()
    check(impls, args)
    times = {name: time_call(fn, args, repeats) for name, fn in impls.items()}
    print(f"per-example gradients, MLP {'-'.join(map(str, SIZES))}, {BATCH} examples, float64")
    for name, t in times.items():
        print(f"  {name:10s} {t * 1e6:10.1f} us")
    if "jax_vmap" in times:
        print(f"  fg_vmap / jax_vmap = {times['fg_vmap'] / times['jax_vmap']:.2f} (target <= 1.0)")
    print(f"  fg_loop / fg_vmap  = {times['fg_loop'] / times['fg_vmap']:.1f}")
    return times


if __name__ == "__main__":
    main()
