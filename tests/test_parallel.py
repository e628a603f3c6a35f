"""Beyond one process: pickling funcgrad's functions and programs, shards on threads, and
data-parallel gradients on a 2-worker Dask cluster (issue 16)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.parallel import combine_results, data_parallel, map_shards

REPO = Path(__file__).resolve().parent.parent
# Other processes cannot import this test module: its functions travel by value, as a user's
# script's (__main__) functions do.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def loss(params, x, y):
    h = fnp.tanh(x @ params["W"] + params["b"])
    return fnp.sum((h - y) ** 2)


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    return params, rng.normal(size=(n, 3)), rng.normal(size=(n, 2))


def _close(a, b, rtol=1e-12):
    for x, y in zip(fg.tree.leaves(a), fg.tree.leaves(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-12)


# --- pickling ---------------------------------------------------------------------------

@pytest.mark.parametrize("make", [fg.grad, fg.value_and_grad, fg.jit,
                                  lambda f: fg.jit(fg.value_and_grad(f))])
def test_transformed_functions_pickle_by_reference_and_compute_the_same(make):
    params, x, y = _data()
    fn = make(loss)
    expected = fn(params, x, y)  # after a call: traces and machine code must not be pickled
    for dumps in (pickle.dumps, cloudpickle.dumps):
        _close(pickle.loads(dumps(fn))(params, x, y), expected)


def test_closures_pickle_with_cloudpickle():
    scale = 3.0
    fn = fg.jit(fg.grad(lambda w: scale * fnp.sum(fnp.sin(w))))
    w = np.linspace(0, 1, 4)
    _close(pickle.loads(cloudpickle.dumps(fn))(w), 3.0 * np.cos(w))


def test_vjp_pullback_and_closed_program_pickle():
    x = np.linspace(-1, 1, 5)
    y, pullback = fg.vjp(lambda x: fnp.tanh(x) * 2.0, x)
    ct = np.arange(5.0)
    _close(pickle.loads(pickle.dumps(pullback))(ct), pullback(ct))
    closed = fg.make_ir(lambda x: fnp.sum(fnp.exp(x)))(x)
    again = pickle.loads(pickle.dumps(closed))
    _close(again(x), closed(x))
    assert str(again) == str(closed)


def test_a_pickled_program_names_an_unknown_primitive():
    from funcgrad.core.primitive import Primitive
    from funcgrad.core.rules import forget
    toy = Primitive("toy_pickled_op", impl=np.negative, shape_rule=lambda x: x)
    try:
        data = pickle.dumps(fg.make_ir(lambda x: toy(x))(np.ones(2)).program)
    finally:
        forget(toy)
    with pytest.raises(fg.FuncgradError, match="toy_pickled_op"):
        pickle.loads(data)


def test_a_version_mismatch_is_a_clear_error(monkeypatch):
    data = pickle.dumps(fg.jit(loss))
    import funcgrad.core.version as version
    monkeypatch.setattr(version, "__version__", "99.0")
    with pytest.raises(fg.FuncgradError, match=r"pickled by funcgrad 0\.\d.*runs funcgrad 99"):
        pickle.loads(data)


def test_a_compiled_gradient_runs_in_a_fresh_process(tmp_path):
    """Pickled here, unpickled in another interpreter sharing the disk cache: it finds its
    machine code there instead of compiling."""
    params, x, y = _data()
    step = fg.jit(fg.value_and_grad(loss))
    expected = step(params, x, y)
    payload = tmp_path / "step.pkl"
    payload.write_bytes(cloudpickle.dumps((step, params, x, y)))
    script = textwrap.dedent(f"""
        import pickle, sys
        import numpy as np
        from funcgrad.compile import stats
        step, params, x, y = pickle.loads(open({str(payload)!r}, "rb").read())
        value, g = step(params, x, y)
        np.save({str(tmp_path / "g.npy")!r}, g["W"])
        print(float(value), stats()["numba_compilations"])
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    value, compilations = out.stdout.split()
    np.testing.assert_allclose(float(value), expected[0], rtol=1e-12)
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), expected[1]["W"], rtol=1e-12)
    assert compilations == "0"  # loaded from the disk cache this process filled


# --- threads ----------------------------------------------------------------------------

def test_map_shards_sums_shard_gradients_like_the_whole_batch():
    params, x, y = _data(n=41)
    step = fg.jit(fg.value_and_grad(loss))
    whole = step(params, x, y)
    for threads in (1, 2, 3):
        _close(map_shards(step, params, x, y, in_axes=(None, 0, 0), threads=threads), whole,
               rtol=1e-10)


def test_map_shards_stacks_and_concatenates():
    x = np.arange(12.0).reshape(6, 2)
    predict = fg.jit(lambda x: fnp.sum(x, axis=1))
    np.testing.assert_array_equal(map_shards(predict, x, threads=3, combine="concatenate"),
                                  x.sum(axis=1))
    assert map_shards(predict, x, threads=2, combine="stack").shape == (2, 3)


def test_one_compiled_gradient_called_from_many_threads_at_once():
    """Compiled code releases the GIL and keeps no state between calls: eight threads calling
    the same compiled gradient get the results of eight sequential calls."""
    step = fg.jit(fg.grad(loss))
    cases = [_data(seed=k) for k in range(8)]
    expected = [step(*c) for c in cases]
    results, errors = [None] * 8, []

    def work(k):
        try:
            for _ in range(20):
                results[k] = step(*cases[k])
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r, e in zip(results, expected):
        _close(r, e)


def test_map_shards_errors():
    with pytest.raises(fg.FuncgradTypeError, match="maps no argument"):
        map_shards(np.sum, np.ones(3), in_axes=None)
    with pytest.raises(fg.FuncgradTypeError, match="2 entries for 1 arguments"):
        map_shards(np.sum, np.ones(3), in_axes=(0, 0))
    with pytest.raises(fg.ShapeError, match="no axis 1"):
        map_shards(np.sum, np.ones(3), in_axes=1)
    with pytest.raises(fg.FuncgradTypeError, match="combine must be one of"):
        combine_results([1.0], "median")


def test_map_shards_mean_weights_unequal_shards_by_their_examples():
    """Five examples on two threads are shards of 3 and 2: the mean of per-shard means is
    the whole batch's mean only when each is weighted by its number of examples."""
    mean_loss = fg.grad(lambda w, x: fnp.mean((x @ w) ** 2))
    w, x = np.ones(3), np.arange(15.0).reshape(5, 3)
    for threads in (2, 3, 4):
        np.testing.assert_allclose(
            map_shards(mean_loss, w, x, in_axes=(None, 0), threads=threads, combine="mean"),
            mean_loss(w, x), rtol=1e-12)
    np.testing.assert_allclose(combine_results([np.ones(2), np.zeros(2)], "mean"), [0.5, 0.5])
    np.testing.assert_allclose(
        combine_results([np.ones(2), np.zeros(2)], "mean", weights=[3, 1]), [0.75, 0.75])


def test_map_shards_of_an_empty_batch_is_fn_of_it():
    total = map_shards(lambda x: np.sum(x, axis=0), np.ones((0, 3)), threads=2)
    np.testing.assert_array_equal(total, np.zeros(3))


def test_map_shards_refuses_arguments_of_different_batch_sizes():
    """Split separately, 4 and 5 examples would pair shards of 2 with shards of 3."""
    with pytest.raises(fg.ShapeError, match=r"argument 1 has 5 along axis 0, argument 0 has 4"):
        map_shards(lambda x, y: fnp.sum(x * y), np.ones(4), np.ones(5), threads=2)
    with pytest.raises(fg.ShapeError, match=r"argument 0\['b'\] has 3 along axis 1"):
        map_shards(lambda d: d, {"a": np.ones((2, 4)), "b": np.ones((2, 3))}, in_axes=1,
                   threads=2)


# --- Dask -------------------------------------------------------------------------------

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import Client, LocalCluster
    env = {"PYTHONPATH": str(REPO)}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=env, silence_logs=50) as cluster, \
            Client(cluster) as client:
        yield cluster, client


def test_data_parallel_gradient_equals_the_single_process_one(cluster):
    _, client = cluster
    params, x, y = _data(n=60)
    step = fg.jit(fg.value_and_grad(loss))
    shards = [(x[k::3], y[k::3]) for k in range(3)]
    for _ in range(2):  # the second call reuses the shards and step the workers hold
        value, g = data_parallel(step, params, shards, client=client)
        whole_value, whole_g = step(params, x, y)
        np.testing.assert_allclose(value, whole_value, rtol=1e-10)
        _close(g, whole_g, rtol=1e-10)


def test_data_parallel_mean_weights_shards_by_their_examples(cluster):
    _, client = cluster
    params, x, y = _data(n=10)
    mean_step = fg.jit(fg.grad(lambda p, x, y: loss(p, x, y) / x.shape[0]))
    shards = [(x[:7], y[:7]), (x[7:], y[7:])]
    _close(data_parallel(mean_step, params, shards, client=client, combine="mean"),
           mean_step(params, x, y), rtol=1e-10)


def test_a_worker_killed_mid_step_is_retried_and_the_result_is_right(cluster):
    dask_cluster, client = cluster
    params, x, y = _data(n=60, seed=3)
    step = fg.jit(fg.value_and_grad(lambda p, x, y: loss(p, x, y) * 1.5))
    shards = [(x[k::4], y[k::4]) for k in range(4)]
    expected = step(params, x, y)
    result = {}
    runner = threading.Thread(target=lambda: result.update(
        out=data_parallel(step, params, shards, client=client)))
    runner.start()
    time.sleep(0.3)  # the workers are compiling the step for the first time
    nanny = next(iter(dask_cluster.workers.values()))
    os.kill(nanny.process.process.pid, signal.SIGKILL)
    runner.join(timeout=120)
    assert "out" in result
    np.testing.assert_allclose(result["out"][0], expected[0], rtol=1e-10)
    _close(result["out"][1], expected[1], rtol=1e-10)


def test_map_shards_checks_its_shard_count_as_jit_checks_threads(monkeypatch):
    x = np.arange(6.0)
    for bad in (0, -1, 1.5, "two"):
        with pytest.raises(fg.FuncgradValueError, match="number of threads"):
            map_shards(lambda v: v, x, threads=bad, combine="concatenate")
    monkeypatch.setenv("FUNCGRAD_NUM_THREADS", "abc")
    with pytest.raises(fg.FuncgradValueError, match="FUNCGRAD_NUM_THREADS='abc'"):
        map_shards(lambda v: v, x, combine="concatenate")
    monkeypatch.setenv("FUNCGRAD_NUM_THREADS", "3")
    np.testing.assert_array_equal(map_shards(lambda v: v * 2, x, combine="stack").shape, (3, 2))
