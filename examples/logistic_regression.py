"""Logistic regression by gradient descent, checked against scikit-learn.

The loss is the mean logistic loss plus an L2 penalty, written with funcgrad.numpy:

    L(w, b) = mean_n softplus(-y_n (x_n . w + b)) + lam / 2 * |w|^2,    y_n in {-1, +1}

``fg.nn.softplus`` is stable (it never overflows, even for margins of 1e4). Gradient
descent with ``fg.jit(fg.value_and_grad(loss, argnums=(0, 1)))`` (the gradient with respect
to both w and b) reaches the same minimum as scikit-learn's LogisticRegression, whose
``C`` is ``1 / (lam * n)`` for this loss: the script prints both and their difference.

    python examples/logistic_regression.py
    python examples/logistic_regression.py --steps 200
"""

from __future__ import annotations

import argparse

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def loss(w, b, x, y, lam):
    margins = y * (x @ w + b)
    return fnp.mean(fg.nn.softplus(-margins)) + 0.5 * lam * fnp.sum(w * w)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--lam", type=float, default=1e-2, help="L2 penalty")
    args = parser.parse_args(argv)

    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    x, labels = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(axis=0)) / x.std(axis=0)      # standardize the 30 features
    y = np.where(labels == 1, 1.0, -1.0)
    n, d = x.shape
    print(f"breast cancer data: {n} examples, {d} features")

    step = fg.jit(fg.value_and_grad(loss, argnums=(0, 1)))
    w, b = np.zeros(d), 0.0
    for t in range(args.steps):
        value, (dw, db) = step(w, b, x, y, args.lam)
        w, b = w - args.lr * dw, b - args.lr * db
        if t % max(1, args.steps // 5) == 0:
            print(f"  step {t:5d}: loss {value:.6f}   |grad| {np.linalg.norm(dw):.2e}")
    value, (dw, db) = step(w, b, x, y, args.lam)
    accuracy = np.mean(np.sign(x @ w + b) == y)
    print(f"funcgrad, {args.steps} gradient steps: loss {value:.6f}, training accuracy "
          f"{accuracy:.2%}")

    reference = LogisticRegression(C=1.0 / (args.lam * n), tol=1e-10, max_iter=10_000)
    reference.fit(x, y)
    ref_w, ref_b = reference.coef_[0], reference.intercept_[0]
    print(f"scikit-learn: loss {loss(ref_w, ref_b, x, y, args.lam):.6f}")
    print(f"largest difference in weights from scikit-learn's: "
          f"{np.max(np.abs(np.append(w - ref_w, b - ref_b))):.1e}")


if __name__ == "__main__":
    main()
