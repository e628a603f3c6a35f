"""Train a multilayer perceptron on handwritten digits by plain gradient descent.

This is the lecture's first slide, run: start from parameters theta^0 and repeat

    theta^(t+1) = theta^t - eta * grad L(theta^t)

where grad L comes from ``fg.jit(fg.value_and_grad(loss))``: funcgrad traces ``loss`` to a
program, builds its adjoint program (backpropagation), and compiles both passes into one
Numba function (cached on disk, so a second run starts at once).

The data are the 1,797 8x8 digit images that scikit-learn ships (no download), split into a
training and a test set. The network is 64 -> hidden (relu) -> 10 (softmax), and the loss is
the cross-entropy averaged over a mini-batch (the lecture's L = sum over n of C^n, divided by
the batch size so that the learning rate does not depend on it).

At the end it prints the test accuracy, the time per gradient step compiled and uncompiled,
how many Numba compilations the run needed (the smaller last batch of each epoch does not
cause one) and writes the loss curve to a PNG file.

    python examples/train_mlp.py                      # the defaults: about 97% test accuracy
    python examples/train_mlp.py --epochs 5 --hidden 32 --out curve.png
    python examples/train_mlp.py --no-jit             # the same, with the NumPy evaluator
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.compile

N_CLASSES = 10


def init_params(rng, n_in: int, n_hidden: int, n_out: int) -> dict:
    """Small random weights (scaled by 1/sqrt(fan-in)) and zero biases."""
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_out)),
        "b2": np.zeros(n_out),
    }


def logits(params, x):
    """The network: z1 = x W1 + b1, a1 = relu(z1), z2 = a1 W2 + b2."""
    hidden = fg.nn.relu(x @ params["W1"] + params["b1"])
    return hidden @ params["W2"] + params["b2"]


def loss(params, x, labels):
    """Mean cross-entropy of the softmax of the logits against the integer labels."""
    log_p = fg.nn.log_softmax(logits(params, x))
    return -fnp.mean(fnp.sum(fg.nn.one_hot(labels, N_CLASSES) * log_p, axis=1))


def accuracy(params, x, labels) -> float:
    # On plain NumPy arrays funcgrad.numpy simply runs NumPy: no tracing, no compiling.
    return float(np.mean(np.argmax(logits(params, x), axis=1) == labels))


def load_data(seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    images, labels = load_digits(return_X_y=True)
    images = images / 16.0  # pixel intensities 0..16 -> 0..1
    return train_test_split(images, labels, test_size=0.25, random_state=seed, stratify=labels)


def time_steps(step, params, x, y, n: int) -> float:
    """Median seconds per call of ``step`` over ``n`` calls (after one warm-up call)."""
    step(params, x, y)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step(params, x, y)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="passes over the training set")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate eta")
    parser.add_argument("--hidden", type=int, default=64, help="hidden layer width")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step")
    parser.add_argument("--no-jit", action="store_true",
                        help="run fg.value_and_grad(loss) with the NumPy evaluator, no Numba")
    parser.add_argument("--seed", type=int, default=0, help="for the split and the weights")
    parser.add_argument("--out", default="train_mlp_loss.png", help="loss-curve PNG file")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    start = time.perf_counter()
    x_train, x_test, y_train, y_test = load_data(args.seed)
    rng = np.random.default_rng(args.seed)
    params = init_params(rng, x_train.shape[1], args.hidden, N_CLASSES)
    n_train = len(x_train)
    steps_per_epoch = -(-n_train // args.batch_size)
    print(f"digits: {n_train} training and {len(x_test)} test images of 8x8 pixels; "
          f"network 64-{args.hidden}-10; {steps_per_epoch} steps per epoch "
          f"(the last one on {n_train - (steps_per_epoch - 1) * args.batch_size} images)")

    uncompiled_step = fg.value_and_grad(loss)
    step = uncompiled_step if args.no_jit else fg.jit(uncompiled_step)

    # The first call traces loss, builds its adjoint, generates the Numba source and compiles
    # it (or loads it from the disk cache: run the script twice to see the difference).
    t0 = time.perf_counter()
    step(params, x_train[:args.batch_size], y_train[:args.batch_size])
    first_call = time.perf_counter() - t0

    losses, epoch_losses = [], []
    t_train = time.perf_counter()
    bar = tqdm(range(args.epochs), unit="epoch", desc="training")
    for epoch in bar:
        order = rng.permutation(n_train)
        for i in range(0, n_train, args.batch_size):
            batch = order[i:i + args.batch_size]
            value, grads = step(params, x_train[batch], y_train[batch])
            # theta <- theta - eta * grad L(theta), leaf by leaf of the params dict
            params = fg.tree.map(lambda p, g: p - args.lr * g, params, grads)
            losses.append(float(value))
        epoch_losses.append(float(np.mean(losses[-steps_per_epoch:])))
        bar.set_description(f"epoch {epoch + 1}/{args.epochs}")
        bar.set_postfix(loss=f"{epoch_losses[-1]:.4f}")
    bar.close()
    train_time = time.perf_counter() - t_train

    test_acc = accuracy(params, x_test, y_test)
    print(f"train accuracy: {accuracy(params, x_train, y_train):.2%}")
    print(f"test accuracy: {test_acc:.2%}")

    # Time per step, compiled and not, each the median of many calls on the same batch.
    x0, y0 = x_train[:args.batch_size], y_train[:args.batch_size]
    n_steps = args.epochs * steps_per_epoch
    print(f"training: {n_steps} steps in {train_time:.2f} s, updates and progress bar included")
    print(f"first call ({'trace' if args.no_jit else 'trace + compile or load from cache'}): "
          f"{first_call:.2f} s")
    uncompiled = time_steps(uncompiled_step, params, x0, y0, 200)
    if args.no_jit:
        print(f"time per step, uncompiled (fg.value_and_grad): {uncompiled * 1e6:.0f} us")
    else:
        compiled = time_steps(step, params, x0, y0, 200)
        print(f"time per step, compiled (fg.jit(fg.value_and_grad)): {compiled * 1e6:.0f} us")
        print(f"time per step, uncompiled (fg.value_and_grad): {uncompiled * 1e6:.0f} us "
              f"({uncompiled / compiled:.1f}x the compiled step)")
        print(f"Numba compilations in this run: {funcgrad.compile.stats()['numba_compilations']} "
              "(0 when the disk cache already held the program; the smaller last batch "
              "reuses the same compiled code)")

    write_plot(args.out, losses, epoch_losses, steps_per_epoch, test_acc)
    print(f"loss curve written to {args.out}")
    print(f"total time: {time.perf_counter() - start:.1f} s")
    return test_acc


def write_plot(path, losses, epoch_losses, steps_per_epoch, test_acc):
    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(losses) + 1) / steps_per_epoch
    ax.plot(steps, losses, lw=0.5, alpha=0.4, label="mini-batch loss")
    ax.plot(np.arange(1, len(epoch_losses) + 1), epoch_losses, lw=2, label="epoch mean")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss L(theta)")
    ax.set_title(f"MLP on digits, plain gradient descent (test accuracy {test_acc:.1%})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
