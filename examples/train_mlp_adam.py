"""The flagship MLP trained two ways on the same mini-batches: plain gradient descent, the
lecture's theta <- theta - eta grad L, and ``fg.optim.adam``; both loss curves on one plot.

Each training step (loss, gradient and update) is one ``fg.jit`` function: for Adam the
optimizer's state (two running moments and a step count) goes in and out of it as a pytree,
so the update compiles with the gradient. The network, data and loss are those of
examples/train_mlp.py.

    python examples/train_mlp_adam.py                 # 30 epochs of each
    python examples/train_mlp_adam.py --epochs 3 --out curves.png
"""

from __future__ import annotations

import argparse

import numpy as np

import funcgrad as fg
from train_mlp import N_CLASSES, accuracy, init_params, load_data, loss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr-gd", type=float, default=0.1, help="gradient descent's eta")
    parser.add_argument("--lr-adam", type=float, default=3e-3, help="Adam's learning rate")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="train_mlp_adam.png", help="loss-curve PNG file")
    args = parser.parse_args(argv)

    x_train, x_test, y_train, y_test = load_data(args.seed)
    params0 = init_params(np.random.default_rng(args.seed), x_train.shape[1], args.hidden,
                          N_CLASSES)

    @fg.jit
    def gd_step(params, x, y):
        value, grads = fg.value_and_grad(loss)(params, x, y)
        # theta <- theta - eta * grad L(theta)
        return fg.tree.map(lambda p, g: p - args.lr_gd * g, params, grads), value

    opt = fg.optim.adam(args.lr_adam)

    @fg.jit
    def adam_step(params, state, x, y):
        value, grads = fg.value_and_grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return fg.optim.apply_updates(params, updates), state, value

    gd_params, adam_params, adam_state = params0, params0, opt.init(params0)
    gd_losses, adam_losses = [], []
    order_rng = np.random.default_rng(args.seed + 1)
    for epoch in range(args.epochs):
        order = order_rng.permutation(len(x_train))
        gd_epoch, adam_epoch = [], []
        for i in range(0, len(order), args.batch_size):
            batch = order[i:i + args.batch_size]
            x, y = x_train[batch], y_train[batch]
            gd_params, value = gd_step(gd_params, x, y)
            gd_epoch.append(float(value))
            adam_params, adam_state, value = adam_step(adam_params, adam_state, x, y)
            adam_epoch.append(float(value))
        gd_losses.append(np.mean(gd_epoch))
        adam_losses.append(np.mean(adam_epoch))
        print(f"epoch {epoch + 1}: loss gradient descent {gd_losses[-1]:.4f}, "
              f"adam {adam_losses[-1]:.4f}")

    gd_acc, adam_acc = accuracy(gd_params, x_test, y_test), accuracy(adam_params, x_test, y_test)
    print(f"final training loss: gradient descent {gd_losses[-1]:.4f}, adam {adam_losses[-1]:.4f}")
    print(f"test accuracy: gradient descent {gd_acc:.2%}, adam {adam_acc:.2%}")
    write_plot(args.out, gd_losses, adam_losses, args)
    print(f"loss curves written to {args.out}")


def write_plot(path, gd_losses, adam_losses, args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, len(gd_losses) + 1)
    ax.plot(epochs, gd_losses, lw=2, label=f"gradient descent, eta = {args.lr_gd}")
    ax.plot(epochs, adam_losses, lw=2, label=f"fg.optim.adam({args.lr_adam})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training cross-entropy")
    ax.set_title("MLP on digits: theta <- theta - eta grad L beside Adam")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
