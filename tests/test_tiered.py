"""Tiered execution (issue 15 item 1): a new program's first calls run with the NumPy evaluator
while Numba compiles it in the background; later calls run the compiled function.

The rest of the suite compiles synchronously (conftest.py sets FUNCGRAD_COMPILE=sync); these
tests ask for tiered compiles explicitly. Each uses a function of its own so that its
generated source is new to this process (a source already loaded is used at once)."""

import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numba
import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.api.trace_cache import call_signature
from funcgrad.compile import background
from funcgrad.compile.compile_worker import numba_signature, signature_spec
from funcgrad.compile.thread_warnings import compiling_here
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _entry(jitted, *args):
    return jitted._entries[call_signature(args, {})[1]]


def _wait_compiled(jitted, *args, timeout=120.0):
    """Call until the compiled tier answers; the results of the calls before it."""
    entry = _entry(jitted, *args)
    deadline = time.monotonic() + timeout
    while entry.run is None:
        assert time.monotonic() < deadline, "the background compile did not finish"
        time.sleep(0.02)
        jitted(*args)
    return entry


def test_first_call_evaluates_then_compiled_code_takes_over():
    def loss(w, x):
        return fnp.sum(fnp.log1p(fnp.exp(fnp.sin(x @ w) * 1.25)) ** 2)

    rng = np.random.default_rng(0)
    w, x = rng.normal(size=3), rng.normal(size=(5, 3))
    step = fg.jit(fg.value_and_grad(loss), compile="tiered")
    started = background.stats["background_compiles"]
    value0, grad0 = step(w, x)  # the NumPy tier
    assert _entry(step, w, x).run is None
    assert background.stats["background_compiles"] == started + 1
    _wait_compiled(step, w, x)
    value1, grad1 = step(w, x)  # compiled
    sync_value, sync_grad = fg.jit(fg.value_and_grad(loss), compile="sync")(w, x)
    assert value1 == sync_value and np.array_equal(grad1, sync_grad)
    # the two tiers agree to rounding, in types too
    assert type(value0) is type(value1) is np.float64
    np.testing.assert_allclose(value0, value1, rtol=1e-13)
    np.testing.assert_allclose(grad0, grad1, rtol=1e-12, atol=1e-14)
    assert grad0.dtype == grad1.dtype and grad0.shape == grad1.shape


def test_the_compile_starts_once_the_first_result_is_computed(monkeypatch):
    """A compile running meanwhile would only slow the first result (on one core it takes
    half of it; on more, the GIL): it starts when the evaluator has answered."""
    import funcgrad.api.jit as jit_module
    events = []
    evaluated = jit_module._evaluated
    monkeypatch.setattr(jit_module, "_evaluated",
                        lambda *a: events.append("evaluated") or evaluated(*a))
    job = background.Job
    monkeypatch.setattr(background, "Job", lambda *a: events.append("compile") or job(*a))

    def f(x):
        return fnp.sum(fnp.arctan(x) * 1.375)

    step = fg.jit(fg.grad(f), compile="tiered")
    x = np.linspace(-1.0, 1.0, 5)
    step(x)
    assert events == ["evaluated", "compile"]
    _wait_compiled(step, x)
    assert events.count("compile") == 1


def test_a_call_during_the_compile_waits_for_it_before_evaluating(monkeypatch):
    """Later calls lend the compiler the interpreter first (up to a multiple of the last
    evaluation's time), and run compiled code if the compile finished meanwhile."""
    import funcgrad.api.jit as jit_module
    monkeypatch.setattr(jit_module, "_COMPILER_SHARE", 1e9)  # (wait for it, whatever it takes)

    def f(x):
        return fnp.sum(fnp.cosh(x) * 0.625)

    step = fg.jit(fg.value_and_grad(f), compile="tiered")
    x = np.linspace(-1.0, 1.0, 6)
    first = step(x)
    entry = _entry(step, x)
    assert entry.calls == 1 and entry.run is None and entry.evaluated_in > 0
    second = step(x)  # waited for the compile, then ran it
    assert entry.calls == 1 and entry.run is not None
    assert first[0] == pytest.approx(second[0], rel=1e-14)
    np.testing.assert_allclose(first[1], second[1], rtol=1e-14)


def test_tiers_agree_in_float32_and_python_numbers():
    def f(x, a):
        return fnp.tanh(x * a) + fnp.sqrt(fnp.abs(x)) / 3.0, a * 2.5

    x = np.linspace(-2, 2, 7, dtype=np.float32)
    step = fg.jit(f, compile="tiered")
    first = step(x, 0.75)
    _wait_compiled(step, x, 0.75)
    later = step(x, 0.75)
    assert first[0].dtype == later[0].dtype == np.float32
    np.testing.assert_allclose(first[0], later[0], rtol=2e-6)
    assert type(first[1]) is type(later[1]) is np.float64 and first[1] == later[1]


def test_results_of_the_first_tier_are_fresh_and_writable():
    step = fg.jit(lambda x, y: (x, y.T, x * 1.0), compile="tiered")
    x, y = np.arange(4.0), np.ones((2, 3))
    a, b, c = step(x, y)
    for out in (a, b, c):
        assert out.flags.writeable and out.flags.c_contiguous
        assert not np.shares_memory(out, x) and not np.shares_memory(out, y)
    a[0] = 99.0
    assert x[0] == 0.0


def test_the_first_tier_is_as_quiet_as_compiled_code(recwarn):
    step = fg.jit(lambda x: (fnp.exp(x * 3.0), fnp.log(x - 2.0)), compile="tiered")
    big, small = step(np.array([1000.0, 0.5]))
    assert big[0] == np.inf and np.isnan(small[1]) and not recwarn.list


_WARNINGS_DURING_A_COMPILE = """
import sys, warnings
import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
from funcgrad.api.trace_cache import call_signature

def f(x, y):
    return fnp.sum(fnp.arctan2(x, y) * fnp.cosh(x) - fnp.expm1(y) * 0.375)

x, y = np.linspace(0.1, 1.0, 7), np.linspace(1.0, 2.0, 7)
step = fg.jit(f, compile="tiered")
filters, show = warnings.filters, warnings.showwarning
polls, lost, swapped, others = 0, 0, 0, set()
sys.setswitchinterval(1e-5)  # (the threads take turns often: a race shows every time)
step(x, y)  # (starts the compile)
job = step._entries[call_signature((x, y), {})[1]].executable.job
while not job.done.is_set() or polls < 100:
    polls += 1
    swapped += warnings.filters is not filters or warnings.showwarning is not show
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("the user's own", UserWarning, stacklevel=1)
    lost += len(caught) != 1
    others.update(str(w.message) for w in caught if str(w.message) != "the user's own")
print(job.failed, swapped, lost, warnings.filters is filters and warnings.showwarning is show)
print(others)
"""


def test_a_background_compile_leaves_the_main_threads_warnings_alone(tmp_path):
    """Numba's type inference enters warnings.catch_warnings (not thread-safe) for each
    constraint; on the compile thread that swapped the process-wide filters and the
    recorder of the main thread's own catch_warnings under it (compile/thread_warnings.py).
    (A new process with an empty cache: the compile must type the function.)"""
    env = dict(os.environ, FUNCGRAD_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", _WARNINGS_DURING_A_COMPILE], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    failed, swapped, lost, restored = done.stdout.splitlines()[0].split()
    assert (failed, swapped, lost, restored) == ("None", "0", "0", "True"), done.stdout


def _in_a_compile_thread(work):
    """Runs work(inside, leave) on a thread marked as a compile thread: it calls inside()
    when it is in the middle of what it does and waits for leave before going on."""
    inside, leave, errors = threading.Event(), threading.Event(), []

    def run():
        try:
            with compiling_here():
                work(inside.set, lambda: leave.wait(30))
        except BaseException as e:  # (reported on the main thread)
            errors.append(e)
            inside.set()

    thread = threading.Thread(target=run)
    thread.start()
    return inside, leave, thread, errors


def test_catch_warnings_on_a_compile_thread_swaps_nothing_for_the_other_threads():
    """The same race as above, step by step: the main thread enters a catch_warnings, then
    the compile thread enters one with a filter of its own (as an import of scipy.linalg
    there does), the main thread raises a warning and leaves its block, and only then does
    the compile thread leave its own."""
    def work(inside, wait):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("ignore")
            inside()
            wait()
        assert record == []

    filters_before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inside, leave, thread, errors = _in_a_compile_thread(work)
        assert inside.wait(30)
        warnings.warn("the user's own", UserWarning, stacklevel=1)
    leave.set()
    thread.join(30)
    assert not errors, errors
    assert [str(w.message) for w in caught] == ["the user's own"]
    assert warnings.filters == filters_before


def test_a_filter_a_compile_thread_adds_for_good_is_kept():
    message = "funcgrad test: a module imported on the compile thread filters this for good"

    def work(inside, wait):
        warnings.filterwarnings("ignore", message=message)
        inside()

    try:
        inside, leave, thread, errors = _in_a_compile_thread(work)
        thread.join(30)
        assert not errors, errors
        assert any(f[1] is not None and f[1].pattern == message for f in warnings.filters)
    finally:
        warnings.filters[:] = [f for f in warnings.filters
                               if f[1] is None or f[1].pattern != message]


def test_catch_warnings_is_unchanged_on_other_threads(recwarn):
    with compiling_here():
        pass  # (installs the thread-aware functions, as the first compile thread does)
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        assert warnings.filters != before
        warnings.simplefilter("always")
        warnings.warn("recorded", UserWarning, stacklevel=1)
    assert warnings.filters == before and [str(w.message) for w in caught] == ["recorded"]


def test_sync_compiles_on_the_first_call():
    def f(x):
        return fnp.cos(x) * fnp.exp(-x) + 0.125

    step = fg.jit(f, compile="sync")
    x = np.linspace(0, 1, 5)
    step(x)
    assert _entry(step, x).run is not None


def test_environment_variable_chooses_the_default(monkeypatch):
    monkeypatch.setenv("FUNCGRAD_COMPILE", "sync")
    assert fg.jit(np.sin).compile_mode == "sync"
    monkeypatch.setenv("FUNCGRAD_COMPILE", "tiered")
    assert fg.jit(np.sin).compile_mode == "tiered"
    monkeypatch.delenv("FUNCGRAD_COMPILE")
    assert fg.jit(np.sin).compile_mode == "tiered"  # the default
    assert fg.jit(np.sin, compile="sync").compile_mode == "sync"  # the argument wins


def test_bad_compile_mode_is_refused():
    with pytest.raises(FuncgradValueError, match="compile must be one of 'tiered', 'sync'"):
        fg.jit(np.sin, compile="eager")


def test_jit_inside_grad_is_tiered_too(monkeypatch):
    monkeypatch.setenv("FUNCGRAD_COMPILE", "tiered")

    def inner(x):
        return fnp.sum(fnp.sin(x) * fnp.arctan(x) * 1.5)

    g = fg.grad(fg.jit(inner))
    x = np.linspace(-1, 1, 4)
    expected = 1.5 * (np.cos(x) * np.arctan(x) + np.sin(x) / (1 + x * x))
    np.testing.assert_allclose(g(x), expected, rtol=1e-12)
    np.testing.assert_allclose(g(x), expected, rtol=1e-12)


def test_lower_compile_ahead_of_time():
    def f(x, y):
        return {"s": fnp.sum(x * y - 0.375), "p": (x + y, [x * 2.0, None])}

    step = fg.jit(f, compile="tiered")
    x, y = np.arange(3.0), np.ones(3)
    lowered = step.lower(x, y)
    assert "def program(" in lowered.as_text() and lowered.as_text() == lowered.source
    compiled = lowered.compile()
    assert _entry(step, x, y).run is not None  # the jitted function runs it from now on
    out = compiled(x, y)
    assert out["s"] == np.sum(x * y - 0.375) and out["p"][1][1] is None
    np.testing.assert_array_equal(out["p"][0], x + y)
    np.testing.assert_array_equal(step(x, y)["p"][1][0], x * 2.0)
    with pytest.raises(FuncgradTypeError, match="compiled .* for arguments of another"):
        compiled(np.arange(4.0), np.ones(4))


@pytest.mark.parametrize("value", [
    np.zeros((3, 4)), np.zeros((3, 4))[:, ::2], np.asfortranarray(np.zeros((3, 4))),
    np.zeros(5, np.float32), np.zeros((), np.int64), np.zeros(3, bool),
    np.frombuffer(b"\0" * 16), 1.5, 3, True, np.float32(2.0), np.int16(4), 1j])
def test_signature_spec_gives_numba_typeof(value):
    assert numba_signature(signature_spec([value])) == (numba.typeof(value),)


def test_signature_spec_refuses_what_it_cannot_describe():
    assert signature_spec([2 ** 70]) is None
    assert signature_spec([np.zeros(2, ">f8")]) is None
    assert signature_spec(["text"]) is None


_SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp
    def loss(w, x):
        h = fnp.tanh(x @ w[0] + 0.5) * fnp.exp(-x @ w[1])
        return fnp.sum(fnp.log1p(h * h)) + fnp.sum(fnp.sinh(w[0]) ** 3)
    step = fg.jit(fg.value_and_grad(loss), compile="tiered")
    w, x = np.ones((2, 4, 4)) * 0.1, np.ones((3, 4))
    value, grad = step(w, x)
    print(repr(float(value)), flush=True)
    time.sleep(float(sys.argv[1]))
""")


def _run_script(tmp_path, worker, delay, cache):
    env = dict(os.environ, FUNCGRAD_COMPILE_WORKER=worker, FUNCGRAD_CACHE_DIR=str(cache),
               PYTHONPATH=ROOT)
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(delay)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("worker", ["thread", "process"])
def test_exit_during_a_background_compile_is_quick_and_quiet(tmp_path, worker):
    proc = _run_script(tmp_path, worker, 0.3, tmp_path / "cache")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err == "" and float(out)


def test_a_process_killed_mid_compile_leaves_the_cache_usable(tmp_path):
    cache = tmp_path / "cache"
    proc = _run_script(tmp_path, "process", 60, cache)
    first = proc.stdout.readline()  # the first result: the compile is under way
    time.sleep(0.5)
    proc.kill()
    proc.communicate()
    again = _run_script(tmp_path, "process", 0, cache)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert float(out) == float(first)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_process_forked_during_a_compile_compiles_for_itself():
    step = fg.jit(lambda x: fnp.sum(fnp.cosh(x) * 0.625 - x), compile="tiered")
    x = np.linspace(0, 1, 3)
    expected = np.sum(np.cosh(x) * 0.625 - x)
    assert np.isclose(step(x), expected)  # a compile under way
    pid = os.fork()  # waits for it (see background._before_fork)
    if pid == 0:  # the child: its calls still answer, and it reaches compiled code
        try:
            entry = _wait_compiled(step, x, timeout=60)
            os._exit(0 if np.isclose(entry.run([x]), expected) else 1)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
