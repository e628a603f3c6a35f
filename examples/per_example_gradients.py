"""Per-example gradients on the digits MLP, with ``fg.vmap``: their norms, and gradient
descent with each example's gradient clipped (as differentially private training does).

The lecture's mini-batch gradient is the mean of the per-example gradients,

    grad L = 1/N sum_n grad C^n,

and ``fg.vmap(fg.grad(example_loss), in_axes=(None, 0, 0))`` computes all the grad C^n at
once: one traced program of the loss of ONE example, batched over the examples (its matrix
products become batched ones), compiled with ``fg.jit`` into one Numba function. Clipping
each grad C^n to a norm of at most ``--clip`` before averaging bounds how much any single
example can move the parameters.

The script checks that the mean of the per-example gradients is the mini-batch gradient,
prints how the per-example gradient norms are spread, trains with clipped gradients, and
times the batched per-example gradients against a Python loop over the examples.

    python examples/per_example_gradients.py
    python examples/per_example_gradients.py --steps 300 --clip 0.5 --batch-size 64
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

N_CLASSES = 10


def init_params(rng, n_in: int, n_hidden: int, n_out: int) -> dict:
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_out)),
        "b2": np.zeros(n_out),
    }


def example_loss(params, x, label):
    """The cross-entropy of ONE example: x has shape (64,), label is an int."""
    hidden = fg.nn.relu(x @ params["W1"] + params["b1"])
    log_p = fg.nn.log_softmax(hidden @ params["W2"] + params["b2"])
    return -fnp.sum(fg.nn.one_hot(label, N_CLASSES) * log_p)


def batch_loss(params, x, labels):
    """The mini-batch loss: the mean of the examples' losses (vmap of the example's loss)."""
    return fnp.mean(fg.vmap(example_loss, in_axes=(None, 0, 0))(params, x, labels))


per_example_grads = fg.jit(fg.vmap(fg.grad(example_loss), in_axes=(None, 0, 0)), compile="sync")


def global_norms(grads: dict) -> np.ndarray:
    """Each example's gradient norm, over all the parameters (axis 0 runs over examples)."""
    squares = sum(np.sum(g.reshape(len(g), -1) ** 2, axis=1) for g in grads.values())
    return np.sqrt(squares)


def clipped_mean(grads: dict, clip: float) -> dict:
    """The mean over examples of each gradient scaled down to a norm of at most ``clip``."""
    scale = np.minimum(1.0, clip / np.maximum(global_norms(grads), 1e-12))
    return {k: np.tensordot(scale, g, axes=1) / len(scale) for k, g in grads.items()}


def accuracy(params, x, labels) -> float:
    hidden = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    return float(np.mean(np.argmax(hidden @ params["W2"] + params["b2"], axis=1) == labels))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits
    images, labels = load_digits(return_X_y=True)
    images = images / 16.0
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(labels))
    train, test = order[:1400], order[1400:]
    params = init_params(rng, 64, args.hidden, N_CLASSES)

    x, y = images[train[:args.batch_size]], labels[train[:args.batch_size]]
    grads = per_example_grads(params, x, y)
    mean = {k: g.mean(axis=0) for k, g in grads.items()}
    batch = fg.grad(batch_loss)(params, x, y)
    gap = max(float(np.max(np.abs(mean[k] - batch[k]))) for k in batch)
    print(f"per-example gradients: {', '.join(f'{k} {g.shape}' for k, g in grads.items())}")
    print(f"mean of per-example gradients vs mini-batch gradient: largest difference {gap:.1e}")
    norms = global_norms(grads)
    print(f"per-example gradient norms at the start: min {norms.min():.3f}, "
          f"median {np.median(norms):.3f}, max {norms.max():.3f}")

    for step in range(args.steps):
        batch_ids = rng.choice(train, args.batch_size, replace=False)
        grads = per_example_grads(params, images[batch_ids], labels[batch_ids])
        update = clipped_mean(grads, args.clip)
        params = {k: params[k] - args.lr * update[k] for k in params}
    norms = global_norms(per_example_grads(params, x, y))
    print(f"after {args.steps} steps with per-example gradients clipped to {args.clip}: "
          f"norms min {norms.min():.3f}, median {np.median(norms):.3f}, max {norms.max():.3f}")
    print(f"test accuracy: {100 * accuracy(params, images[test], labels[test]):.1f}%")

    one = fg.jit(fg.grad(example_loss), compile="sync")
    one(params, x[0], y[0])
    t0 = time.perf_counter()
    for _ in range(10):
        per_example_grads(params, x, y)
    batched = (time.perf_counter() - t0) / 10
    t0 = time.perf_counter()
    for _ in range(3):
        [one(params, xi, yi) for xi, yi in zip(x, y)]
    looped = (time.perf_counter() - t0) / 3
    print(f"{len(x)} per-example gradients: {batched * 1e6:.0f} us with fg.jit(fg.vmap(fg.grad)),"
          f" {looped * 1e6:.0f} us with a Python loop of fg.jit(fg.grad) "
          f"({looped / batched:.0f}x slower)")


if __name__ == "__main__":
    main()
