"""Train the digits MLP data-parallel on a local Dask cluster.

The training set is cut into one shard per worker and sent once; the compiled step
``fg.jit(fg.value_and_grad(loss))`` is sent once (it pickles as the loss function and its
options; each worker finds the machine code in its disk cache or compiles it there once).
Every step then sends only the parameters: each worker returns the value and gradient of
its shard's share of the loss, and their sum is the full-batch gradient, the same (up to
the order of additions) as one process would compute:

    grad L(theta) = sum over shards s of grad L_s(theta),   L_s = (1/N) sum_{n in s} C^n

    python examples/train_mlp_dask.py                    # 2 workers, 150 steps: about 97%
    python examples/train_mlp_dask.py --workers 4 --steps 500

Needs the ``funcgrad[distributed]`` extra (Dask). It prints the dashboard's address while it
runs, the test accuracy, and how far the data-parallel gradient is from the single-process
one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mlp import N_CLASSES, accuracy, init_params, load_data, logits  # noqa: E402


def shard_loss(params, x, labels, n_total):
    """This shard's share of the mean cross-entropy: its examples' sum, over all N."""
    log_p = fg.nn.log_softmax(logits(params, x))
    return -fnp.sum(fg.nn.one_hot(labels, N_CLASSES) * log_p) / n_total


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    x_train, x_test, y_train, y_test = load_data(args.seed)
    n = len(x_train)
    params = init_params(np.random.default_rng(args.seed), x_train.shape[1], args.hidden,
                         N_CLASSES)
    step = fg.jit(fg.value_and_grad(shard_loss))
    shards = [(x, y, float(n)) for x, y in zip(np.array_split(x_train, args.workers),
                                               np.array_split(y_train, args.workers))]

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=40) as cluster, \
            Client(cluster) as client:
        print(f"Dask dashboard: {client.dashboard_link}")
        start = time.perf_counter()
        for t in range(args.steps):
            value, g = fg.parallel.data_parallel(step, params, shards, client=client)
            params = fg.tree.map(lambda p, d: p - args.lr * d, params, g)
            if t % 50 == 0 or t == args.steps - 1:
                print(f"step {t:4d}  loss {float(value):.4f}")
        elapsed = time.perf_counter() - start
        _, g_parallel = fg.parallel.data_parallel(step, params, shards, client=client)

    _, g_single = step(params, x_train, y_train, float(n))
    gap = max(float(np.max(np.abs(g_parallel[k] - g_single[k]))) for k in g_single)
    acc = accuracy(params, x_test, y_test)
    print(f"{args.steps} data-parallel steps on {args.workers} workers in {elapsed:.1f} s")
    print(f"largest difference from the single-process gradient: {gap:.1e}")
    print(f"test accuracy: {100 * acc:.1f}%")
    return acc


if __name__ == "__main__":
    main()
