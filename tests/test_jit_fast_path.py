"""jit's generated fast path (api/jit.py, _fast_call): once a signature has run compiled,
its checks answer the next calls; every call it does not match must still be answered
right by the general path (other types, shapes, dtypes, structures, keyword arguments, a
rebound global, closure variable or default, a trace under way, disable_jit)."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.api import jit as jit_api
from funcgrad.compile import executable as compiled


def warm(f, *args):
    """Call until the fast path of this signature is in place (compiled, then generated)."""
    for _ in range(3):
        f(*args)
    assert type(f).__call__ is not jit_api.Jitted.__call__
    assert any(e.fast and e.guard.holds() for e in f._fast_entries)
    return f


def test_scalar_fast_path_answers_and_misses_fall_back():
    f = warm(fg.jit(lambda x, y: x * y + 1, compile="sync"), 2.0, 3.0)
    traces = compiled.stats["traces"]
    out = f(2.0, 4.0)
    assert type(out) is np.float64 and out == 9.0
    assert compiled.stats["traces"] == traces
    assert f(2, 4) == 9 and type(f(2, 4)) is np.int64        # ints: another signature
    assert f(True, 2.0) == 3.0                                 # a bool
    assert f(np.float32(2.0), 4.0).dtype == np.float32         # a NumPy scalar
    assert f(2.0, y=4.0) == 9.0                                # a keyword argument
    assert f(2.0, 4.0) == 9.0
    with pytest.raises(TypeError):
        f(2.0)                                                  # too few arguments
    with pytest.raises(TypeError):
        f(2.0, 4.0, 5.0)                                        # too many


def test_keyword_arguments_named_like_the_fast_paths_parameters():
    jf = warm(fg.jit(lambda x0, x1: x0 - x1, compile="sync"), 5.0, 3.0)
    assert jf(5.0, x1=3.0) == 2.0 and jf(x1=3.0, x0=5.0) == 2.0 and jf(5.0, 3.0) == 2.0


def test_defaults_given_to_a_function_without_any_change_nothing_traced():
    def f(x, y):
        return x * y
    jf = warm(fg.jit(f, compile="sync"), 2.0, 3.0)
    traces = compiled.stats["traces"]
    f.__defaults__ = (10.0,)  # fills y only in calls that leave it out
    assert jf(2.0, 3.0) == 6.0 and compiled.stats["traces"] == traces
    assert jf(2.0) == 20.0


def test_float64_results_keep_their_bits():
    f = warm(fg.jit(lambda x: (x * 1.0, -x, x + 0.0), compile="sync"), 1.0)
    for x in (-0.0, np.inf, -np.inf, 5e-324, np.nan):
        got = f(x)
        assert all(type(g) is np.float64 for g in got)
        want = (x, -x, x + 0.0)
        assert [np.signbit(g) for g in got] == [np.signbit(w) for w in want]
        np.testing.assert_array_equal(np.array(got), np.array(want))


def test_the_runtime_table_keeps_every_literal_exact():
    # The generated function reads its literals from runtime tables (int64, float64): large
    # ints, -0.0, subnormals, inf and nan must all survive the trip.
    big = 2**62 + 1  # not a float64: storing ints as floats would round it
    fi = warm(fg.jit(lambda n: (n + big, n * 3 - big), compile="sync"), np.int64(1))
    assert [int(v) for v in fi(np.int64(5))] == [5 + big, 15 - big]

    def g(x):
        return (x * -0.0, x + 5e-324, fnp.minimum(x, np.inf), fnp.maximum(x, -np.inf),
                x + np.nan, x * 1.1)
    x = np.array([1.0, -2.0, 3.5])
    ff = warm(fg.jit(g, compile="sync"), x)
    for got, want in zip(ff(x), g(x)):
        np.testing.assert_array_equal(got, want)
        assert (np.signbit(got) == np.signbit(want)).all()


def test_array_pytrees_miss_on_other_shapes_dtypes_and_structures():
    def f(params, x):
        return {"y": fnp.tanh(x @ params["w"]) + params["b"], "s": fnp.sum(x)}
    params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
    jf = warm(fg.jit(f, compile="sync"), params, np.ones((4, 3)))

    def check(p, x):
        got, want = jf(p, x), f(p, x)
        assert set(got) == {"y", "s"}
        for k in got:
            assert np.asarray(got[k]).dtype == np.asarray(want[k]).dtype
            np.testing.assert_allclose(got[k], want[k], rtol=1e-12)

    check(params, np.ones((5, 3)))                                  # another batch size
    check(params, np.ones((4, 3), np.float32))                      # another dtype
    check({"w": np.ones((3, 2), np.float32), "b": np.zeros(2)}, np.ones((4, 3)))
    check(dict(params), np.asfortranarray(np.ones((4, 3))))         # another layout
    check(params, np.ones((4, 3)))
    with pytest.raises(Exception):                                  # a key missing
        jf({"w": np.ones((3, 2)), "c": np.zeros(2)}, np.ones((4, 3)))
    with pytest.raises(Exception):                                  # a list, not a dict
        jf([np.ones((3, 2)), np.zeros(2)], np.ones((4, 3)))
    check(params, np.ones((4, 3)))


def _misaligned(a):
    """A writeable copy of ``a`` at an odd address (NumPy's flags say it is not aligned)."""
    buffer = bytearray(a.nbytes + 1)
    b = np.frombuffer(buffer, a.dtype, a.size, offset=1).reshape(a.shape)
    b[...] = a
    assert not b.flags.aligned and b.flags.writeable
    return b


def _readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def test_arrays_of_every_memory_layout_after_the_fast_path_runs():
    # Numba's type of an array depends on its layout and writeability, which the fast
    # path's checks (type, shape, dtype) do not look at: every kind must still be right.
    def f(w, x):
        return fnp.sum(fnp.tanh(x @ w) * x[:, :2]), x * 2.0 + w[0, 0]
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    jf = warm(fg.jit(f, compile="sync"), w, x)
    strided = rng.normal(size=(8, 6))[::2, ::2]
    for xs in (x, strided, np.asfortranarray(x), _readonly(x), _misaligned(x),
               _readonly(strided), np.frombuffer(x.tobytes(), x.dtype).reshape(4, 3)):
        for ws in (w, np.asfortranarray(w), _readonly(w), _misaligned(w)):
            got, want = jf(ws, xs), f(ws, xs)
            np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
            assert got[1] is not xs and got[1].flags.writeable
    empty = warm(fg.jit(lambda x: (fnp.sum(x, axis=0), x + 1.0), compile="sync"),
                 np.ones((0, 3)))
    for xs in (np.ones((0, 3)), _readonly(np.ones((0, 3))), np.ones((3, 0)).T,
               np.ones((0, 6))[:, ::2]):
        total, plus = empty(xs)
        assert total.tolist() == [0.0, 0.0, 0.0] and plus.shape == (0, 3)


def test_zero_dimensional_arguments_and_fresh_results():
    jf = warm(fg.jit(lambda x, s: (x, x * s), compile="sync"), np.ones(3), np.array(2.0))
    x = np.arange(3.0)
    same, doubled = jf(x, np.array(3.0))
    assert same is not x and same.tolist() == x.tolist()        # a copy, never the input
    assert doubled.tolist() == [0.0, 3.0, 6.0]
    assert jf(x, 3.0)[1].tolist() == [0.0, 3.0, 6.0]              # a float, not a 0-d array
    assert jf(x, np.array([3.0]))[1].tolist() == [0.0, 3.0, 6.0]  # a 1-element array


SCALE = 2.0


def test_rebinding_a_global_a_closure_variable_or_a_default_retraces():
    global SCALE
    offset = 1.0

    def f(x, power=1):
        return x ** power * SCALE + offset

    jf = warm(fg.jit(f, compile="sync"), 3.0)
    assert jf(3.0) == 7.0
    SCALE = 10.0
    assert jf(3.0) == 31.0
    offset = 2.0
    assert jf(3.0) == 32.0
    f.__defaults__ = (2,)
    assert jf(3.0) == 92.0
    warm(jf, 3.0)
    SCALE = 2.0
    assert jf(3.0) == 20.0


def test_a_call_inside_a_trace_is_recorded_not_run():
    jf = warm(fg.jit(lambda x: fnp.sin(x) * 2.0, compile="sync"), 0.5)
    # concrete arguments inside another transform's trace: a call equation, still
    program = fg.make_ir(lambda y: y * jf(0.5))(1.0)
    assert "call" in str(program)
    assert fg.grad(lambda y: y * jf(0.5))(1.0) == pytest.approx(2 * np.sin(0.5))
    assert fg.grad(jf)(0.5) == pytest.approx(2 * np.cos(0.5))
    assert jf(0.5) == pytest.approx(2 * np.sin(0.5))


def test_disable_jit_after_the_fast_path_runs_the_evaluator(monkeypatch):
    jf = warm(fg.jit(lambda x: x * 2.0, compile="sync"), 1.5)
    evaluated = []
    real = jit_api.evaluate
    monkeypatch.setattr(jit_api, "evaluate", lambda *a: evaluated.append(1) or real(*a))
    with fg.disable_jit():
        assert jf(1.5) == 3.0
    assert evaluated
    evaluated.clear()
    assert jf(1.5) == 3.0 and not evaluated


def _double(x):
    return x * 2.0


def test_alternating_signatures_pickling_and_identity():
    import pickle
    jf = warm(fg.jit(_double, compile="sync"), 1.0)
    calls = [(1.5,), (np.ones(2),), (np.ones(3, np.float32),), (np.ones((2, 2)),),
             (np.ones(4),), (np.ones(5),), (np.float32(2.0),)]
    for _ in range(3):  # the first four in the generated __call__, the others not
        for args in calls:
            got = jf(*args)
            np.testing.assert_array_equal(got, args[0] * 2.0)
            assert np.asarray(got).dtype == np.asarray(args[0]).dtype
    assert len(jf._fast_entries) == jit_api._MAX_FAST
    assert isinstance(jf, jit_api.Jitted) and repr(jf) == "<jit of _double>"
    again = pickle.loads(pickle.dumps(jf))
    assert type(again) is jit_api.Jitted and again(2.0) == 4.0


def test_a_python_int_too_large_for_int64_is_named_on_every_path():
    jf = warm(fg.jit(lambda i, x: i * x, compile="sync"), 3, 2.0)
    for _ in range(2):  # the fast path, then the general path's runner
        with pytest.raises(fg.FuncgradTypeError, match=r"argument 0 \(i\).*does not fit in int64"):
            jf(2**70, 2.0)
        assert jf(3, 2.0) == 6.0
    jf._answer_next_calls = lambda *a: None  # (the general path's runner alone)
    del type(jf).__call__
    with pytest.raises(fg.FuncgradTypeError, match="does not fit in int64"):
        jf(2**70, 2.0)


def test_guards_that_are_not_quick_are_checked_on_the_fast_path_too():
    class Layer:
        def __init__(self):
            self.W = np.array([1.0, 2.0])

    class Model:
        def __init__(self):
            self.layer = Layer()

    model, config = Model(), {"scale": 2.0}
    jf = warm(fg.jit(lambda x: fnp.sum(model.layer.W * x) * config["scale"], compile="sync"),
              np.ones(2))
    assert jf(np.ones(2)) == 6.0
    model.layer.W = np.array([3.0, 4.0])      # an attribute chain two levels deep
    assert jf(np.ones(2)) == 14.0
    warm(jf, np.ones(2))
    config["scale"] = 1.0                     # an item of a dict it reads
    assert jf(np.ones(2)) == 7.0


def test_the_runtime_table_is_passed_only_to_a_program_that_reads_it():
    """The runtime table (sizes, float constants) is an argument Numba unboxes on every
    call: a program that reads none (1.0 and 2.0 are written into the code) takes none."""
    cases = [(lambda x, y: x * y * 2.0 + 1.0, "def program(a, b):", 1.5),
             (lambda x, y: 2.5 * x + y, "def program(a, b, table):", 1.5),
             (lambda x, y: fnp.sum(x) * y, "def program(a, b, table):", np.arange(3.0))]
    for f, head, x in cases:
        jitted = fg.jit(f, compile="sync")
        assert head in jitted.lower(x, 0.25).source
        for _ in range(3):  # the general path, then the generated fast path
            np.testing.assert_allclose(jitted(x, 0.25), f(x, 0.25))
