"""Bayesian logistic regression by black-box variational inference.

The posterior over the weights w of a logistic regression (prior w ~ N(0, I)) is approximated
by a Gaussian q(w) = N(mu, diag(sigma^2)) that maximises the evidence lower bound

    ELBO(mu, sigma) = E_q[log p(y | X, w) + log p(w)] + entropy(q),

estimated with ``--samples`` draws w = mu + sigma * eps, eps = fg.random.normal(key, ...): the
reparameterisation trick, so ``fg.grad`` differentiates through the draws. Each step gets a
fresh key from ``fg.random.split``, and the whole step (draws, ELBO, gradient, Adam update)
is one ``fg.jit`` function. The result is compared with the posterior mode (MAP), which the
mean of q should be near.

    python examples/bbvi_logistic.py
    python examples/bbvi_logistic.py --steps 200
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.optimize import minimize

import funcgrad as fg
import funcgrad.numpy as fnp


def make_data(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    true_w = np.array([1.5, -2.0, 0.5])
    x = np.column_stack([rng.normal(size=(n, 2)), np.ones(n)])  # two features and a bias
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-x @ true_w))).astype(np.float64)
    return x, y, true_w


def log_joint(w, x, y):
    """log p(y | X, w) + log p(w) for one weight vector (up to a constant)."""
    logits = x @ w
    return -fnp.sum(fg.nn.sigmoid_binary_cross_entropy(logits, y)) - 0.5 * fnp.sum(w * w)


def negative_elbo(params, key, x, y, n_samples: int):
    """-ELBO estimated from ``n_samples`` draws (a Python int: it fixes the program's shape)."""
    mu, log_sigma = params["mu"], params["log_sigma"]
    eps = fg.random.normal(key, (n_samples, mu.shape[0]))
    ws = mu + fnp.exp(log_sigma) * eps          # reparameterised draws from q
    expected = sum(log_joint(ws[s], x, y) for s in range(n_samples)) / n_samples
    entropy = fnp.sum(log_sigma)                # of a diagonal Gaussian, up to a constant
    return -(expected + entropy)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--samples", type=int, default=4, help="Monte Carlo draws per step")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x, y, true_w = make_data(args.seed)
    opt = fg.optim.adam(args.lr)

    @fg.jit
    def step(params, state, key):
        objective = lambda p: negative_elbo(p, key, x, y, args.samples)
        value, grads = fg.value_and_grad(objective)(params)
        updates, state = opt.update(grads, state, params)
        return fg.optim.apply_updates(params, updates), state, value

    params = {"mu": np.zeros(3), "log_sigma": np.full(3, -1.0)}
    state = opt.init(params)
    key = fg.random.key(args.seed)
    history = []
    for i in range(args.steps):
        key, sub = fg.random.split(key)
        params, state, value = step(params, state, sub)
        history.append(float(value))
        if (i + 1) % max(1, args.steps // 5) == 0:
            print(f"step {i + 1}: -ELBO {np.mean(history[-50:]):.3f}")

    w_map = minimize(lambda w: -log_joint(w, x, y), np.zeros(3),
                     jac=lambda w: -fg.grad(log_joint)(w, x, y)).x
    sigma = np.exp(params["log_sigma"])
    print(f"true weights:       {np.round(true_w, 2)}")
    print(f"posterior mode:     {np.round(w_map, 2)}")
    print(f"variational mean:   {np.round(params['mu'], 2)}")
    print(f"variational stddev: {np.round(sigma, 2)}")
    distance = np.max(np.abs(params["mu"] - w_map) / sigma)
    print(f"largest |mean - mode| in posterior standard deviations: {distance:.2f}")


if __name__ == "__main__":
    main()
