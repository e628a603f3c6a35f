"""The benchmark problems' hand-written Numba gradients are right: they equal fg.grad of the
funcgrad loss, and central finite differences of the NumPy forward pass, on small sizes.

The hand-written gradients are the yardstick for fg.jit, so a wrong one would make every
ratio in benchmarks/run.py meaningless. Needs neither JAX nor autograd.
"""

import numpy as np
import pytest

import funcgrad as fg
from funcgrad import tree

problems = pytest.importorskip("benchmarks.problems")
PROBLEMS = problems.PROBLEMS


def _leaves(x):
    return tree.flatten(x)[0]


def _wrt(problem, args):
    """The differentiated arguments, as a tuple."""
    nums = problem.argnums
    return tuple(args[i] for i in nums) if isinstance(nums, tuple) else (args[nums],)


def _replace(problem, args, new):
    nums = problem.argnums if isinstance(problem.argnums, tuple) else (problem.argnums,)
    args = list(args)
    for i, x in zip(nums, new):
        args[i] = x
    return tuple(args)


@pytest.fixture(params=sorted(PROBLEMS), scope="module")
def problem(request):
    return PROBLEMS[request.param]


def test_same_structure_and_values_as_fg_grad(problem):
    args = problem.make(test=True)
    expected = fg.grad(problem.loss, argnums=problem.argnums)(*args)
    got = problem.grad_njit(*args)
    assert tree.flatten(got)[1] == tree.flatten(expected)[1]
    for g, e in zip(_leaves(got), _leaves(expected)):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=max(problem.rtol, 1e-9), atol=1e-12)


def test_hand_gradient_dtype_follows_the_parameters(problem):
    args = problem.make(test=True)
    for g, p in zip(_leaves(problem.grad_njit(*args)), _leaves(_wrt(problem, args))):
        assert np.result_type(g) == np.result_type(p)


def test_against_central_finite_differences(problem):
    """<grad, v> equals (f(p + eps v) - f(p - eps v)) / (2 eps), in float64, along three
    random directions."""
    args = problem.make(test=True)
    args64 = tree.map(lambda a: a.astype(np.float64) if isinstance(a, np.ndarray) else a, args)
    wrt = _wrt(problem, args64)
    grads = problem.grad_njit(*args)
    grads = grads if isinstance(problem.argnums, tuple) else (grads,)
    leaves, treedef = tree.flatten(wrt)
    g_leaves = _leaves(grads)
    rng = np.random.default_rng(0)
    eps = 1e-6
    for _ in range(3):
        v = [rng.normal(size=np.shape(x)) for x in leaves]

        def at(sign):
            moved = [x + sign * eps * d for x, d in zip(leaves, v)]
            moved = [float(m) if isinstance(x, float) else m for x, m in zip(leaves, moved)]
            return float(problem.forward(*_replace(problem, args64, tree.unflatten(treedef,
                                                                                   moved))))

        numeric = (at(1) - at(-1)) / (2 * eps)
        analytic = sum(float(np.sum(np.asarray(g, np.float64) * d))
                       for g, d in zip(g_leaves, v))
        tol = 1e-3 if problem.rtol > 1e-6 else 1e-6
        assert abs(numeric - analytic) <= tol * max(1.0, abs(numeric)), (numeric, analytic)


def test_full_size_data_has_the_documented_shapes():
    mlp = PROBLEMS["mlp"].make()
    assert mlp[0]["W1"].shape == (784, 256) and mlp[0]["W2"].shape == (256, 10)
    assert mlp[1].shape == (64, 784) and mlp[2].shape == (64, 10)
    assert PROBLEMS["mlp_f32"].make()[1].dtype == np.float32
    small = PROBLEMS["mlp_small"].make()
    assert small[0]["W1"].shape == (16, 32) and small[1].shape == (8, 16)
    assert PROBLEMS["logreg"].make()[1].shape == (2000, 100)
    assert PROBLEMS["rosenbrock"].make()[0].shape == (10_000,)
    assert PROBLEMS["elementwise_chain"].make()[0].shape == (1_000_000,)
    assert all(type(a) is float for a in PROBLEMS["scalar_tiny"].make())
    rnn = PROBLEMS["rnn_loop"].make()
    assert rnn[0]["W"].shape == (64, 64) and problems.RNN_STEPS == 50


def test_the_harness_runs_and_prints_its_tables(tmp_path):
    """benchmarks/run.py end to end on two small problems with few repetitions (JAX and
    autograd left out so that the test needs neither, fg.jit so that it compiles little)."""
    import json
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, os.path.join(root, "benchmarks", "run.py"),
         "--problems", "scalar_tiny", "rosenbrock", "--skip", "fg_jit", "jax_jit", "autograd",
         "--repeats", "3", "--min-batch", "0.001", "--first-call-repeats", "1",
         "--no-compile-count", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stderr
    for heading in ("Machine", "Median time per call", "Ratios", "First call in a fresh",
                    "Targets"):
        assert heading in proc.stdout
    data = json.loads(out.read_text())
    for name in ("scalar_tiny", "rosenbrock"):
        timings = data["results"][name]["timings"]
        assert timings["hand"]["median"] > 0 and timings["fg_grad"]["median"] > 0
        assert not data["results"][name]["mismatches"]
        assert data["first_call"][name]["hand_compile"]["first"] > 0
