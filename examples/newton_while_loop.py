"""The gradient of a Newton solver, through its while_loop, checked against the implicit
function theorem.

Kepler's equation relates an orbit's eccentric anomaly E to its mean anomaly M and its
eccentricity e:

    E - e sin(E) = M

It has no closed-form solution; Newton's method solves it, iterating until the residual is
below 1e-13, a trip count that depends on the data. ``lax.while_loop`` runs that loop
inside ``fg.jit``, and ``fg.grad`` differentiates through it (JAX refuses: its while_loop has
no reverse mode). The answer must agree with the implicit function theorem, which
differentiates the equation instead of the iterations:

    dE/dM = 1 / (1 - e cos E),        dE/de = sin(E) / (1 - e cos E)

    python examples/newton_while_loop.py
"""

from __future__ import annotations

import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax


def eccentric_anomaly(mean_anomaly, e):
    """Solve E - e sin(E) = M for E by Newton's method, elementwise."""
    def residual(E):
        return E - e * fnp.sin(E) - mean_anomaly

    def not_converged(state):
        E, steps = state
        return fnp.max(fnp.abs(residual(E))) > 1e-13

    def newton_step(state):
        E, steps = state
        return E - residual(E) / (1.0 - e * fnp.cos(E)), steps + 1

    E, steps = lax.while_loop(not_converged, newton_step, (mean_anomaly + 0.0, 0))
    return E, steps


def x_position(mean_anomaly, e):
    """The sum of the orbit's x coordinates (semi-major axis 1) at the given mean anomalies."""
    E, _ = eccentric_anomaly(mean_anomaly, e)
    return fnp.sum(fnp.cos(E) - e)


def main():
    M = np.linspace(0.1, 6.0, 25)
    e = 0.6

    solve = fg.jit(eccentric_anomaly)
    E, steps = solve(M, e)
    print(f"Newton converged in {int(steps)} steps; largest residual "
          f"{np.max(np.abs(E - e * np.sin(E) - M)):.1e}")

    t0 = time.perf_counter()
    grad = fg.jit(fg.grad(x_position, argnums=(0, 1)))
    dM, de = grad(M, e)
    print(f"jit(grad) through the while_loop: first call {time.perf_counter() - t0:.2f} s")

    # the implicit function theorem: d/dM and d/de of sum(cos E - e)
    denominator = 1.0 - e * np.cos(E)
    dE_dM, dE_de = 1.0 / denominator, np.sin(E) / denominator
    ift_dM = -np.sin(E) * dE_dM
    ift_de = np.sum(-np.sin(E) * dE_de) - len(M)
    error_M = np.max(np.abs(dM - ift_dM))
    error_e = abs(float(de) - ift_de)
    print(f"d/dM: largest difference from the implicit function theorem: {error_M:.1e}")
    print(f"d/de: through the loop {float(de):+.12f}, implicit function theorem "
          f"{ift_de:+.12f}, difference {error_e:.1e}")
    assert error_M < 1e-9 and error_e < 1e-9
    print("The gradient through the while_loop matches the implicit function theorem.")


if __name__ == "__main__":
    main()
