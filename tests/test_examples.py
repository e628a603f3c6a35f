"""Every example in examples/ runs, as a user would run it, and says what it promises.

Each runs in a fresh Python process in a temporary directory (so the loss-curve PNG and
Hypothesis' database land there), with small settings where the defaults would take long.
The examples' dependencies (scikit-learn, tqdm, matplotlib) are in the ``test`` extra: a
missing one fails here rather than skipping.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(tmp_path, *args, timeout=300) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{output}"
    return output


def test_every_example_is_tested():
    tested = {"train_mlp.py", "backprop_by_hand.py", "logistic_regression.py",
              "hessian_vector_product.py", "test_my_loss.py", "speed.py",
              "train_mlp_dask.py", "per_example_gradients.py", "rnn_scan.py",
              "newton_while_loop.py", "train_mlp_adam.py", "hmc.py", "bbvi_logistic.py",
              "vae.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_train_mlp_defaults_reach_95_percent(tmp_path):
    out = run(tmp_path, EXAMPLES / "train_mlp.py", "--out", "curve.png")
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 95.0, out
    png = tmp_path / "curve.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(r"time per step, compiled .*: \d+ us", out), out
    assert re.search(r"time per step, uncompiled .*: \d+ us", out), out
    # the smaller last batch of each epoch must not compile a second Numba function
    compilations = int(re.search(r"Numba compilations in this run: (\d+)", out).group(1))
    assert compilations <= 1, out
    assert "epoch 100/100" in out  # the progress bar (on stderr)


def test_train_mlp_without_jit_small(tmp_path):
    out = run(tmp_path, EXAMPLES / "train_mlp.py", "--no-jit", "--epochs", "1", "--hidden",
              "8", "--batch-size", "100", "--lr", "0.5", "--seed", "1", "--out", "nojit.png")
    assert re.search(r"test accuracy: [\d.]+%", out), out
    assert "time per step, uncompiled" in out
    assert "Numba compilations" not in out
    assert (tmp_path / "nojit.png").exists()


def test_backprop_by_hand(tmp_path):
    out = run(tmp_path, EXAMPLES / "backprop_by_hand.py")
    assert "DIFFERENT" not in out
    assert "Every number computed by hand matched fg.grad." in out
    # the forward pass: dz/dw is the input on the weight
    assert re.search(r"dz1/dw\(x1 -> z1\) = x1 +by hand \+1\.000000 +fg\.grad \+1\.000000 +equal",
                     out), out
    assert re.search(r"dz1/dw\(x2 -> z1\) = x2 +by hand -1\.000000 +fg\.grad -1\.000000 +equal",
                     out), out
    # the backward pass, output layer first, then dC/dw = x * dC/dz
    assert out.index("output layer: dC/dz'1") < out.index("hidden: dC/dz1")
    assert re.search(r"dC/dw\(x1 -> z1\) = x1 \* dC/dz1 .* equal", out), out
    assert "logistic" in out and "dot_general" in out  # the adjoint IR
    assert "@njit" in out and "def program(" in out     # the generated Numba source
    assert "gives the same gradient as fg.grad(cost): True" in out


def test_logistic_regression_matches_scikit_learn(tmp_path):
    out = run(tmp_path, EXAMPLES / "logistic_regression.py")
    difference = float(re.search(r"largest difference in weights from scikit-learn's: (\S+)",
                                 out).group(1))
    assert difference < 1e-4, out


def test_hessian_vector_product(tmp_path):
    out = run(tmp_path, EXAMPLES / "hessian_vector_product.py", "--n", "1000")
    assert "grad of grad" in out and "ms with fg.jit" in out


def test_rnn_scan_trains_and_matches_the_unrolled_loop(tmp_path):
    out = run(tmp_path, EXAMPLES / "rnn_scan.py", "--steps", "150", "--length", "60")
    assert "vs the unrolled Python loop: largest difference" in out
    sizes = re.search(r"lengths 10 and 60: \[(\d+), (\d+)\]", out)
    assert sizes and sizes.group(1) == sizes.group(2), out
    start, end = map(float, re.search(r"loss: ([\d.]+) at the start, ([\d.]+) at the end",
                                      out).groups())
    assert end < 0.2 * start, out


def test_newton_while_loop_matches_the_implicit_function_theorem(tmp_path):
    out = run(tmp_path, EXAMPLES / "newton_while_loop.py")
    assert "matches the implicit function theorem" in out, out


def test_per_example_gradients(tmp_path):
    out = run(tmp_path, EXAMPLES / "per_example_gradients.py", "--steps", "40")
    gap = float(re.search(r"mini-batch gradient: largest difference (\S+)", out).group(1))
    assert gap < 1e-12, out
    assert "W1 (64, 64, 32)" in out
    assert re.search(r"norms min [\d.]+, median [\d.]+, max [\d.]+", out), out
    assert float(re.search(r"test accuracy: ([\d.]+)%", out).group(1)) > 50, out
    assert re.search(r"\d+ us with fg.jit\(fg.vmap\(fg.grad\)\)", out), out


def test_speed(tmp_path):
    out = run(tmp_path, EXAMPLES / "speed.py", "--batch", "8", "--inputs", "16", "--hidden",
              "32", "--classes", "4", "--budget", "0.01")
    for row in ("forward, NumPy", "forward, fg.jit", "value and gradient, no jit",
                "value and gradient, fg.jit"):
        assert re.search(re.escape(row) + r" +[\d.]+ us", out), out


def _missing_testing_api() -> str | None:
    """What of funcgrad.testing's documented API is missing (it is written in parallel)."""
    testing = importlib.import_module("funcgrad.testing")
    if not hasattr(testing, "check_grads"):
        return "funcgrad.testing.check_grads"
    try:
        strategies = importlib.import_module("funcgrad.testing.strategies")
    except ImportError:
        return "funcgrad.testing.strategies"
    return None if hasattr(strategies, "arrays") else "funcgrad.testing.strategies.arrays"


def test_my_loss_property_tests(tmp_path):
    missing = _missing_testing_api()
    if missing is not None:
        pytest.skip(f"NOT TESTED: examples/test_my_loss.py needs {missing}, which this "
                    "checkout of funcgrad does not have yet (issue 3 item 6)")
    out = run(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider",
              EXAMPLES / "test_my_loss.py")
    assert re.search(r"\b2 passed\b", out), out


def test_train_mlp_dask_matches_one_process(tmp_path):
    out = run(tmp_path, EXAMPLES / "train_mlp_dask.py", "--steps", "60")
    assert re.search(r"Dask dashboard: http://\S+", out), out
    gap = float(re.search(r"single-process gradient: ([\d.e+-]+)", out).group(1))
    assert gap < 1e-12, out
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 90.0, out


# --- training examples (issue 13): small settings, and what each promises -------------------

def test_train_mlp_adam_plots_both_curves_and_adam_wins(tmp_path):
    out = run(tmp_path, EXAMPLES / "train_mlp_adam.py", "--epochs", "3", "--hidden", "16",
              "--out", "curves.png")
    gd, adam = map(float, re.search(r"final training loss: gradient descent ([\d.]+), adam "
                                    r"([\d.]+)", out).groups())
    assert adam < gd, out
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hmc_recovers_the_target_mean(tmp_path):
    out = run(tmp_path, EXAMPLES / "hmc.py", "--samples", "400")
    assert float(re.search(r"acceptance rate: ([\d.]+)", out).group(1)) > 0.6, out
    assert float(re.search(r"largest error of the mean: ([\d.]+)", out).group(1)) < 0.3, out


def test_bbvi_mean_is_near_the_posterior_mode(tmp_path):
    out = run(tmp_path, EXAMPLES / "bbvi_logistic.py", "--steps", "300")
    distance = float(re.search(r"in posterior standard deviations: ([\d.]+)", out).group(1))
    assert distance < 1.0, out


def test_vae_elbo_improves(tmp_path):
    out = run(tmp_path, EXAMPLES / "vae.py", "--epochs", "2", "--hidden", "16", "--out", "v.png")
    before = float(re.search(r"test -ELBO before training: ([\d.]+)", out).group(1))
    after = float(re.search(r"test -ELBO after training: ([\d.]+)", out).group(1))
    assert after < before - 5, out
    assert (tmp_path / "v.png").exists()
