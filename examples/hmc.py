"""Hamiltonian Monte Carlo with compiled leapfrog steps and explicit random keys.

The target is a correlated 2-D Gaussian (its mean and covariance are known, so the samples can
be checked). One HMC transition draws a momentum, runs ``--leapfrog`` leapfrog steps of the
Hamiltonian dynamics (the gradient of the log density comes from ``fg.grad``), and accepts or
rejects with a Metropolis test. The whole transition, leapfrog steps included, is one
``fg.jit`` function of (position, key); the chain itself is a Python loop (a ``fori_loop``
would compile it too, once structured control flow lands).

    python examples/hmc.py                   # 2000 samples
    python examples/hmc.py --samples 300
"""

from __future__ import annotations

import argparse

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

MEAN = np.array([1.0, -2.0])
COV = np.array([[1.0, 0.8], [0.8, 1.0]])
PRECISION = np.linalg.inv(COV)


def log_density(q):
    d = q - MEAN
    return -0.5 * fnp.dot(d, fnp.dot(PRECISION, d))


def make_transition(step_size: float, n_leapfrog: int):
    grad_log_density = fg.grad(log_density)

    @fg.jit
    def transition(q, key):
        k_momentum, k_accept = fg.random.split(key)
        p = fg.random.normal(k_momentum, q.shape)
        q_new, p_new = q, p + 0.5 * step_size * grad_log_density(q)
        for i in range(n_leapfrog):  # unrolled into the compiled program
            q_new = q_new + step_size * p_new
            if i < n_leapfrog - 1:
                p_new = p_new + step_size * grad_log_density(q_new)
        p_new = p_new + 0.5 * step_size * grad_log_density(q_new)
        energy_old = -log_density(q) + 0.5 * fnp.sum(p * p)
        energy_new = -log_density(q_new) + 0.5 * fnp.sum(p_new * p_new)
        accept = fnp.log(fg.random.uniform(k_accept)) < energy_old - energy_new
        return fnp.where(accept, q_new, q), accept
    return transition


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--step-size", type=float, default=0.3)
    parser.add_argument("--leapfrog", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    transition = make_transition(args.step_size, args.leapfrog)
    key = fg.random.key(args.seed)
    q = np.zeros(2)
    samples, accepted = [], 0
    for _ in range(args.samples):
        key, sub = fg.random.split(key)
        q, accept = transition(q, sub)
        samples.append(q)
        accepted += bool(accept)
    samples = np.array(samples[len(samples) // 10:])  # drop a tenth as burn-in
    print(f"acceptance rate: {accepted / args.samples:.2f}")
    print(f"sample mean: {np.round(samples.mean(0), 2)} (true {MEAN})")
    print(f"sample covariance: {np.round(np.cov(samples.T), 2).tolist()} (true {COV.tolist()})")
    error = np.abs(samples.mean(0) - MEAN).max()
    print(f"largest error of the mean: {error:.3f}")


if __name__ == "__main__":
    main()
