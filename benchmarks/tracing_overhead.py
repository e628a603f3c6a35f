"""Tracing overhead: how long make_ir takes per recorded equation, on issue 2's MLP loss
(16-32-4 tanh MLP, batch 8, softmax cross-entropy).

    python benchmarks/tracing_overhead.py            # the figure
    python benchmarks/tracing_overhead.py --profile  # where the time goes

Tracing runs once per input signature (grad caches the Program, jit compiles it), so this is
a first-call cost; it is also paid on every call of grad on a function that branches on
values, which must re-trace.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402


def loss(params, x, y):
    W1, b1, W2, b2 = params
    h = fnp.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    return -fnp.mean(fnp.sum(y * fg.nn.log_softmax(logits), axis=1))


def problem(n_in=16, n_hidden=32, n_out=4, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    params = (rng.normal(size=(n_in, n_hidden)) / 4, np.zeros(n_hidden),
              rng.normal(size=(n_hidden, n_out)) / 6, np.zeros(n_out))
    x = rng.normal(size=(batch, n_in))
    y = np.eye(n_out)[rng.integers(0, n_out, batch)]
    return params, x, y


def measure(repeats: int = 7, number: int = 200) -> dict:
    """Median over ``repeats`` runs of ``number`` traces each."""
    args = problem()
    trace = fg.make_ir(loss)
    n_equations = len(trace(*args).equations)
    for _ in range(50):  # warm up caches (dtype promotion, ufunc resolution)
        trace(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            trace(*args)
        times.append((time.perf_counter() - start) / number)
    per_trace = statistics.median(times)
    return {"equations": n_equations, "us_per_trace": per_trace * 1e6,
            "us_per_equation": per_trace * 1e6 / n_equations}


def profile():
    import cProfile
    import pstats
    args = problem()
    trace = fg.make_ir(loss)
    with cProfile.Profile() as prof:
        for _ in range(2000):
            trace(*args)
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="show where tracing spends time")
    if parser.parse_args().profile:
        profile()
        return
    r = measure()
    print(f"make_ir(loss), 16-32-4 MLP, batch 8: {r['equations']} equations, "
          f"{r['us_per_trace']:.1f} us per trace, {r['us_per_equation']:.2f} us per equation")


if __name__ == "__main__":
    main()
