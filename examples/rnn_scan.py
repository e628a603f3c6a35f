"""An RNN trained with lax.scan: one compiled loop, whatever the sequence length.

The network reads a noisy sine wave one value at a time and predicts the next value:

    h_t = tanh(h_{t-1} @ W + x_t * U + b),    prediction_t = h_t . V + c

Written with a Python ``for`` loop, tracing would unroll it: one copy of the step per time
step, in the program and in its gradient. ``lax.scan`` traces the step once; ``fg.jit``
compiles the forward loop and the backward loop (which runs the other way, reading what the
forward loop saved per step) into one Numba function. The script trains with Adam,
checks the gradient against the unrolled Python loop once, and shows that the program has
the same size at two sequence lengths.

    python examples/rnn_scan.py
    python examples/rnn_scan.py --steps 300 --length 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax


def predictions(params, xs, step=None):
    step = step or (lambda h, x: rnn_step(params, h, x))
    h0 = fnp.zeros(params["b"].shape)
    _, hs = lax.scan(step, h0, xs)
    return hs @ params["V"] + params["c"]


def rnn_step(params, h, x):
    h = fnp.tanh(h @ params["W"] + x * params["U"] + params["b"])
    return h, h


def loss(params, xs, targets):
    return fnp.mean((predictions(params, xs) - targets) ** 2)


def loss_unrolled(params, xs, targets):
    """The same loss with a Python loop (unrolled when traced): the reference."""
    h, hs = fnp.zeros(params["b"].shape), []
    for x in xs:
        h, out = rnn_step(params, h, x)
        hs.append(out)
    return fnp.mean((fnp.stack(hs) @ params["V"] + params["c"] - targets) ** 2)


def init(hidden, rng):
    return {"W": rng.normal(0, 0.5 / np.sqrt(hidden), (hidden, hidden)),
            "U": rng.normal(0, 1.0, hidden), "b": np.zeros(hidden),
            "V": rng.normal(0, 1.0 / np.sqrt(hidden), hidden), "c": np.float64(0.0)}


def adam(grad_step, params, steps, lr=0.02):
    m = fg.tree.map(np.zeros_like, params)
    v = fg.tree.map(np.zeros_like, params)
    history = []
    for t in range(1, steps + 1):
        value, g = grad_step(params)
        history.append(float(value))
        m = fg.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = fg.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        m_scale, v_scale = 1 / (1 - 0.9 ** t), 1 / (1 - 0.999 ** t)
        params = fg.tree.map(
            lambda p, m, v, ms=m_scale, vs=v_scale: p - lr * m * ms / (np.sqrt(v * vs) + 1e-8),
            params, m, v)
    return params, history


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="Adam steps")
    parser.add_argument("--length", type=int, default=100, help="sequence length")
    parser.add_argument("--hidden", type=int, default=16)
    ns = parser.parse_args()

    rng = np.random.default_rng(0)
    t = np.linspace(0, 8 * np.pi, ns.length + 1)
    wave = np.sin(t) + 0.05 * rng.normal(size=t.shape)
    xs, targets = wave[:-1], wave[1:]
    params = init(ns.hidden, rng)

    value_and_grad = fg.jit(fg.value_and_grad(loss))
    expected = fg.grad(loss_unrolled)(params, xs[:20], targets[:20])
    got = value_and_grad(params, xs[:20], targets[:20])[1]
    difference = max(np.max(np.abs(got[k] - expected[k])) for k in params)
    print(f"gradient through lax.scan vs the unrolled Python loop: largest difference "
          f"{difference:.1e}")
    assert difference < 1e-10

    sizes = [len(fg.make_ir(fg.grad(loss))(params, xs[:n], targets[:n]).equations)
             for n in (10, ns.length)]
    print(f"equations in the gradient's program at lengths 10 and {ns.length}: {sizes}")
    assert sizes[0] == sizes[1]

    t0 = time.perf_counter()
    trained, history = adam(lambda p: value_and_grad(p, xs, targets), params, ns.steps)
    elapsed = time.perf_counter() - t0
    print(f"{ns.steps} Adam steps on a sequence of {ns.length} in {elapsed:.2f} s "
          f"(the first step compiles)")
    print(f"loss: {history[0]:.4f} at the start, {history[-1]:.4f} at the end")
    assert history[-1] < 0.2 * history[0]


if __name__ == "__main__":
    main()
