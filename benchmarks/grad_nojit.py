"""Per-call cost of grad without jit, against autograd (issue 3, item 8).

Two problems, each called repeatedly with same-shaped inputs:
  mlp_small  16-32-4 tanh MLP, batch 8, softmax cross-entropy; gradient for the parameters
  scalar     a function of three Python floats (about 15 operations); gradient for all three

Both styles of calling are timed: a gradient function made once (``g = grad(loss)``, then
``g(...)`` in the loop) and made in the loop (``grad(loss)(...)``, as autograd code is often
written). Target: funcgrad at most 1/5 of autograd's time on both problems.

    python benchmarks/grad_nojit.py            # best of several timing runs
    python benchmarks/grad_nojit.py --quick    # fewer repetitions
"""

from __future__ import annotations

import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402

try:
    import autograd
    import autograd.numpy as anp
except ImportError:  # optional: the bench extra
    autograd = anp = None


# --- the problems, written once per library -------------------------------------------------

def mlp_loss(np_, log_softmax):
    def loss(params, x, y):
        W1, b1, W2, b2 = params
        h = np_.tanh(np_.dot(x, W1) + b1)
        logits = np_.dot(h, W2) + b2
        return -np_.mean(np_.sum(y * log_softmax(logits), axis=1))
    return loss


def scalar_fn(np_):
    def f(a, b, c):  # 15 operations
        t = np_.sin(a) * b + np_.exp(c) / (1.0 + a * a)
        u = np_.tanh(t * c) - np_.log(1.0 + b * b)
        return u * u + np_.sqrt(1.0 + c * c) * a
    return f


def autograd_log_softmax(z):
    shifted = z - anp.max(z, axis=1, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))


def mlp_data():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(16, 32)) * 0.3, np.zeros(32), rng.normal(size=(32, 4)) * 0.3,
              np.zeros(4)]
    x = rng.normal(size=(8, 16))
    y = np.eye(4)[rng.integers(0, 4, 8)]
    return params, x, y


# --- timing ---------------------------------------------------------------------------------

def per_call_us(fn, repeat, number) -> float:
    """The best of ``repeat`` runs (the machine is shared: slower runs measure the others)."""
    fn()  # first call traces (funcgrad) or warms caches
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return min(times) / number * 1e6


def main(quick: bool = False):
    repeat, number = (3, 300) if quick else (7, 1000)
    params, x, y = mlp_data()
    fg_mlp = mlp_loss(fnp, fg.nn.log_softmax)
    fg_scalar = scalar_fn(fnp)
    problems = {
        "mlp_small": dict(fg=fg_mlp, args=(params, x, y), argnums=0,
                          ag=mlp_loss(anp, autograd_log_softmax) if anp else None),
        "scalar": dict(fg=fg_scalar, args=(0.3, -1.2, 0.7), argnums=(0, 1, 2),
                       ag=scalar_fn(anp) if anp else None),
    }
    print(f"grad without jit, per call (best of {repeat} runs of {number} calls)")
    print(f"{'problem':10s} {'style':12s} {'funcgrad':>10s} {'autograd':>10s} {'ratio':>7s}")
    ratios = []
    for name, p in problems.items():
        args, nums = p["args"], p["argnums"]
        g_fg = fg.grad(p["fg"], nums)
        styles = {"made once": (lambda: g_fg(*args), None),
                  "made per call": (lambda: fg.grad(p["fg"], nums)(*args), None)}
        if p["ag"] is not None:
            g_ag = autograd.grad(p["ag"], nums)
            styles["made once"] = (styles["made once"][0], lambda: g_ag(*args))
            styles["made per call"] = (styles["made per call"][0],
                                       lambda: autograd.grad(p["ag"], nums)(*args))
            _check_same(g_fg(*args), g_ag(*args), name)
        for style, (fg_call, ag_call) in styles.items():
            t_fg = per_call_us(fg_call, repeat, number)
            if ag_call is None:
                print(f"{name:10s} {style:12s} {t_fg:8.1f}us {'-':>10s} {'-':>7s}")
                continue
            t_ag = per_call_us(ag_call, repeat, max(number // 5, 20))
            ratios.append(t_fg / t_ag)
            print(f"{name:10s} {style:12s} {t_fg:8.1f}us {t_ag:8.1f}us {t_fg / t_ag:7.3f}")
    if ratios:
        verdict = "met" if max(ratios) <= 0.2 else "MISSED"
        print(f"target funcgrad/autograd <= 0.2: {verdict} (worst {max(ratios):.3f})")
    else:
        print("autograd is not installed (pip install autograd): no comparison")


def _check_same(a, b, name):
    """Both libraries must compute the same gradient, or the timing means nothing."""
    leaves_a, leaves_b = fg.tree.leaves(a), fg.tree.leaves(b)
    for u, v in zip(leaves_a, leaves_b):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12, err_msg=name)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
