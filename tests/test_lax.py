"""funcgrad.lax: structured control flow. Values against plain Python/NumPy loops, gradients
against finite differences and against the same loop unrolled by hand, the program's size
independent of the trip count, and the errors of misuse."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
W = RNG.normal(size=(3, 3)) * 0.5
XS = RNG.normal(size=(6, 3))
H0 = RNG.normal(size=3)


def rnn_scan(h, xs, w):
    h, hs = lax.scan(lambda h, x: (fnp.tanh(h @ w + x), h), h, xs)
    return fnp.sum(h ** 2) + fnp.sum(fnp.sin(hs))


def rnn_unrolled(h, xs, w):
    hs = []
    for x in xs:
        hs.append(h)
        h = fnp.tanh(h @ w + x)
    return fnp.sum(h ** 2) + fnp.sum(fnp.sin(fnp.stack(hs)))


def newton_sqrt(a):
    return lax.while_loop(lambda x: fnp.abs(x * x - a) > 1e-12, lambda x: 0.5 * (x + a / x), a)


def equations(fun, *args):
    return len(fg.make_ir(fun)(*args).program.equations)


# --- values ------------------------------------------------------------------------------

def test_scan_matches_a_python_loop():
    np.testing.assert_allclose(rnn_scan(H0, XS, W), rnn_unrolled(H0, XS, W), rtol=1e-13)
    np.testing.assert_allclose(fg.jit(rnn_scan)(H0, XS, W), rnn_unrolled(H0, XS, W),
                               rtol=1e-13)


def test_scan_reverse_pytrees_and_length():
    xs = {"a": np.arange(4.0), "b": np.arange(8.0).reshape(4, 2)}

    def step(carry, x):
        total, count = carry
        total = total + x["a"] + fnp.sum(x["b"])
        return (total, count + 1), {"t": total, "pair": (x["a"], 2 * x["b"])}

    (total, count), ys = lax.scan(step, (0.0, 0), xs, reverse=True)
    running = np.cumsum((np.arange(4.0) + np.arange(8.0).reshape(4, 2).sum(1))[::-1])[::-1]
    assert float(total) == running[0] and int(count) == 4
    np.testing.assert_allclose(ys["t"], running)
    np.testing.assert_allclose(ys["pair"][1], 2 * xs["b"])
    carry, ys = lax.scan(lambda c, _: (c * 2.0, c), 1.0, None, length=5)
    assert float(carry) == 32.0 and ys.tolist() == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_cond_and_switch_choose_at_run_time():
    f = fg.jit(lambda x: lax.cond(x > 0, lambda x: x * 2.0, lambda x: -x, x))
    assert float(f(3.0)) == 6.0 and float(f(-3.0)) == 3.0
    g = fg.jit(lambda i, x: lax.switch(i, [lambda x: x + 1.0, lambda x: x * 10.0,
                                           lambda x: x - 1.0], x))
    assert [float(g(i, 2.0)) for i in (-5, 0, 1, 2, 9)] == [3.0, 3.0, 20.0, 1.0, 1.0]


def test_cond_with_pytrees_and_closures():
    y = np.array([1.0, 2.0])

    def f(p, x):
        return lax.cond(p, lambda a: {"s": a[0] * y, "t": a[1]},
                        lambda a: {"s": a[0] - y, "t": 2 * a[1]}, (x, 3.0))
    out = fg.jit(f)(True, np.array([5.0, 6.0]))
    np.testing.assert_allclose(out["s"], [5.0, 12.0])
    assert float(out["t"]) == 3.0
    out = fg.jit(f)(False, np.array([5.0, 6.0]))
    np.testing.assert_allclose(out["s"], [4.0, 4.0])


def test_python_number_operands_of_cond_switch_and_checkpoint_stay_python_numbers():
    """A Python number operand promotes inside a branch (or a checkpointed function) as it
    would outside: with a float32 value it gives float32, as in JAX, not float64."""
    y = np.float32(3.0)

    def branches(p, x):
        return lax.cond(p, lambda a: a * y, lambda a: y + a, x)

    for got in (branches(True, 2.0), fg.jit(branches)(False, 2.0),
                lax.switch(1, [lambda a: a * y, lambda a: y + a], 2.0),
                fg.vmap(lambda p: branches(p, 2.0))(np.array([True, False])),
                fg.checkpoint(lambda a, b: a * b)(y, 2.0),
                fg.grad(lambda y: fg.checkpoint(lambda a, b: a * b * a)(y, 2.0))(y)):
        assert got.dtype == np.float32
    assert branches(True, 2.0) == 6.0 and fg.jit(branches)(False, 2.0) == 5.0
    assert lax.cond(True, lambda a: a * np.int32(2), lambda a: a, 2).dtype == np.int32


def test_while_and_fori_loops():
    assert float(fg.jit(newton_sqrt)(2.0)) == pytest.approx(np.sqrt(2.0), abs=1e-14)

    def collatz_steps(n):
        def body(c):
            n, k = c
            return fnp.where(n % 2 == 0, n // 2, 3 * n + 1), k + 1
        return lax.while_loop(lambda c: c[0] != 1, body, (n, 0))[1]
    assert int(fg.jit(collatz_steps)(np.int64(27))) == 111
    assert float(lax.fori_loop(2, 5, lambda i, s: s + i, 0.0)) == 9.0
    dyn = fg.jit(lambda n, x: lax.fori_loop(0, n, lambda i, s: s * x, 1.0))
    assert float(dyn(np.int64(3), 2.0)) == 8.0 and float(dyn(np.int64(0), 2.0)) == 1.0
    assert float(lax.while_loop(lambda x: x < 100.0, lambda x: x * 2, 1.0, max_steps=3)) == 8.0


def test_map_and_select():
    np.testing.assert_allclose(lax.map(lambda r: fnp.sum(r ** 2), XS), np.sum(XS ** 2, 1))
    p = XS > 0
    np.testing.assert_allclose(lax.select(p, XS, -XS), np.abs(XS))


def test_select_with_a_scalar_predicate_chooses_a_whole_case():
    # JAX's lax.select takes a scalar pred too; under vmap that is a per-example choice
    np.testing.assert_allclose(lax.select(True, XS, -XS), XS)
    first_positive = XS[:, 0] > 0
    choose = fg.vmap(lambda p, x: lax.select(p, x, -x))
    np.testing.assert_allclose(choose(first_positive, XS),
                               np.where(first_positive[:, None], XS, -XS))
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(lax.select(False, x, x ** 2)))(XS),
                               2 * XS)


def test_programs_are_traced_once_whatever_the_trip_count():
    short, long = XS[:2], RNG.normal(size=(50, 3))
    assert equations(rnn_scan, H0, short, W) == equations(rnn_scan, H0, long, W)
    assert equations(fg.grad(rnn_scan), H0, short, W) == \
        equations(fg.grad(rnn_scan), H0, long, W)
    assert equations(rnn_unrolled, H0, long, W) > 10 * equations(rnn_scan, H0, long, W)


def test_make_ir_prints_sub_programs_nested():
    text = str(fg.make_ir(lambda x: lax.cond(x > 0, fnp.sin, fnp.cos, x))(1.0))
    assert "branches[0] =" in text and "branches[1] =" in text
    assert text.index("cos") < text.index("sin")  # branch 0 is false_fun
    text = str(fg.make_ir(rnn_scan)(H0, XS, W))
    assert "scan[length=6 reverse=False" in text and "body =" in text and "tanh" in text


# --- reverse mode ------------------------------------------------------------------------

def test_grad_of_scan_matches_the_unrolled_loop_and_finite_differences():
    for argnums in (0, 1, 2):
        np.testing.assert_allclose(fg.grad(rnn_scan, argnums)(H0, XS, W),
                                   fg.grad(rnn_unrolled, argnums)(H0, XS, W), rtol=1e-12)
    check_grads(rnn_scan, (H0, XS[:3], W), order=2)


def test_grad_of_reverse_scan_with_integer_and_inactive_carries():
    def f(x, xs):
        def step(c, xi):
            k, acc, const = c
            acc = fnp.sin(acc) * x + xi * k
            return (k + 1, acc, const), acc * const
        (_, acc, _), ys = lax.scan(step, (0, 0.5, 2.0), xs, reverse=True)
        return acc + fnp.sum(ys ** 2)
    check_grads(f, (0.7, RNG.normal(size=4)), order=2)


def test_grad_of_cond_differentiates_the_branch_taken():
    def f(x, y):
        return lax.cond(fnp.sum(x) > 0, lambda x, y: fnp.sin(x) * y,
                        lambda x, y: fnp.exp(x) + y * y, x, y)
    for x in (np.array([0.3, 0.4]), np.array([-0.3, 0.1])):
        check_grads(f, (x, 1.5), order=2)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(f(x, 1.5)))(np.array([-0.3, 0.1])),
                               np.exp([-0.3, 0.1]))
    g = lambda i, x: lax.switch(i, [fnp.sin, fnp.cos, lambda x: x ** 3], x)  # noqa: E731
    assert fg.grad(g, 1)(np.int64(2), 2.0) == pytest.approx(12.0)


def test_grad_through_a_data_dependent_while_loop():
    # d sqrt(a) / da = 1 / (2 sqrt(a)): the loop's fixed point, differentiated through
    for a in (2.0, 9.0):
        assert float(fg.grad(newton_sqrt)(a)) == pytest.approx(0.5 / np.sqrt(a), rel=1e-10)
        assert float(fg.jit(fg.grad(newton_sqrt))(a)) == pytest.approx(0.5 / np.sqrt(a),
                                                                       rel=1e-10)


def test_grad_of_while_matches_the_hand_unrolled_loop():
    def body(c, b):
        x, y = c
        return (x * b + fnp.sin(y), fnp.cos(x) * y)

    def looped(a, b):
        out = lax.while_loop(lambda c: fnp.sum(c[0]) < 5.0, lambda c: body(c, b),
                             (a, np.ones(2)))
        return fnp.sum(out[0] * out[1])

    def unrolled(a, b):  # the same iterations, for these inputs (the trip count is data)
        c = (a, np.ones(2))
        while np.sum(c[0]) < 5.0:
            c = body(c, b)
        return fnp.sum(c[0] * c[1])

    a, b = np.array([0.3, 0.5]), 1.3
    for argnums in (0, 1):
        np.testing.assert_allclose(fg.grad(looped, argnums)(a, b),
                                   fg.grad(unrolled, argnums)(a, b), rtol=1e-12)
    check_grads(looped, (a, b), order=1)


def test_compiled_loops_whose_carries_alias_each_other_or_their_views():
    """Carries computed in place into a spare buffer must not be overwritten while another
    carry (a value passed through, a view of one) still holds the old buffer."""
    def loops(a, b):
        swap = lax.scan(lambda c, x: ((c[1] * 2.0 + x, c[0]), c[0] + c[1]), (a, b), XS)
        flip = lax.scan(lambda c, x: ((c[0][::-1], c[0] + c[1]), c[1]), (a, b), XS)
        twice = lax.scan(lambda c, x: ((fnp.sin(c[0]) + x,) * 2, fnp.sin(c[0]) + x), (a, b),
                         XS, reverse=True)
        kept = lax.scan(lambda c, x: ((c[0], c[1] + x), c[0]), (a, b), XS)
        loop = lax.while_loop(lambda c: c[2] < 4, lambda c: (c[1][::-1], c[0] + 1.0, c[2] + 1),
                              (a, b, 0))
        return [swap, flip, twice, kept, loop[:2]]

    def total(a, b):
        return sum(fnp.sum(fnp.sin(leaf)) for leaf in fg.tree.flatten(loops(a, b))[0])

    a, b = np.arange(3.0), np.ones(3)
    for got, want in zip(fg.tree.flatten(fg.jit(loops)(a, b))[0],
                         fg.tree.flatten(loops(a, b))[0]):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    for got, want in zip(fg.jit(fg.grad(total, (0, 1)))(a, b), fg.grad(total, (0, 1))(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def spiral(x, w):  # 40 steps of a vector recurrence: a tape of 16 rows doubles twice
    step = lambda c: (c[0] + 1, fnp.tanh(c[1] @ w) + 0.1 * c[1])  # noqa: E731
    return fnp.sum(lax.while_loop(lambda c: c[0] < 40, step, (0, x))[1] ** 2)


def spiral_unrolled(x, w):
    for _ in range(40):
        x = fnp.tanh(x @ w) + 0.1 * x
    return fnp.sum(x ** 2)


def test_compiled_gradient_runs_the_while_loop_once_and_grows_its_tape():
    unrolled = spiral_unrolled
    x, value_and_grad = H0, fg.jit(fg.value_and_grad(spiral, (0, 1)))
    value, grads = value_and_grad(x, W)
    assert float(value) == pytest.approx(float(unrolled(x, W)), rel=1e-12)
    for got, expected in zip(grads, fg.grad(unrolled, (0, 1))(x, W)):
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-14)
    # one forward loop, recording the tape the backward loop reads; the value comes from it
    source = value_and_grad.lower(x, W).source
    assert source.count("while True:") == 1 and "grown" in source
    assert fg.jit(fg.grad(newton_sqrt)).lower(2.0).source.count("while True:") == 1


def test_gradient_without_jit_runs_the_while_loop_once(monkeypatch):
    import funcgrad.control.loops as loops

    unrolled = spiral_unrolled
    calls = []
    evaluate = loops.evaluate
    monkeypatch.setattr(loops, "evaluate", lambda p, a: calls.append(p) or evaluate(p, a))
    for _ in range(2):  # (the first call traces, the second reuses the adjoint)
        calls.clear()
        grads = fg.grad(spiral, (0, 1))(H0, W)
        assert len(calls) == 40 + 41 + 40  # forward bodies, conditions, backward bodies
    for got, expected in zip(grads, fg.grad(unrolled, (0, 1))(H0, W)):
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-14)
    calls.clear()  # the loop's value alone does not tape, nor the tape get in the way
    value = fg.value_and_grad(spiral)(2 * H0, W)[0]
    assert float(value) == pytest.approx(float(unrolled(2 * H0, W)), rel=1e-12)


def test_a_while_records_the_tape_only_for_its_own_backward_pass():
    from funcgrad.control.loops import while_loop as raw_while
    from funcgrad.core.tracing import trace_flat
    scalar = fg.core.types.ShapedArray((), np.dtype("float64"))
    cond = trace_flat(lambda x: [x < 3.0], [scalar])[0]  # one condition, two bodies
    grow = trace_flat(lambda x: [x * 1.5 + 0.1], [scalar])[0]
    bend = trace_flat(lambda x: [x + fnp.sin(x) + 0.5], [scalar])[0]

    def f(x):
        return raw_while([], [], [x], cond=cond, body=grow)[0] * \
            raw_while([], [], [x], cond=cond, body=bend)[0]
    assert float(fg.jit(fg.grad(f))(0.5)) == pytest.approx(float(fg.grad(f)(0.5)), rel=1e-13)


def test_fori_loop_grads_static_and_traced_bounds():
    def f(x, n):
        return lax.fori_loop(0, n, lambda i, p: fnp.sin(p) * x + i, x)
    static = fg.grad(lambda x: f(x, 4))(0.7)
    assert fg.grad(f)(0.7, np.int64(4)) == pytest.approx(static, rel=1e-13)
    check_grads(lambda x: f(x, 4), (0.7,), order=2)
    assert "scan" in str(fg.make_ir(lambda x: f(x, 4))(0.7))
    assert "while" in str(fg.make_ir(f)(0.7, np.int64(4)))


def test_fori_loop_index_of_python_int_bounds_keeps_the_carry_dtype():
    """With Python int bounds the index is a Python-int-like (weak) value, as JAX's: a
    float32 or int32 carry combined with it keeps its dtype, static or traced bounds; a
    Python int bound takes the other bound's integer type."""
    x32 = np.float32(1.5)

    def f(x, n):
        return lax.fori_loop(0, n, lambda i, c: c + c * i, x)

    expected = x32 * 1 * 2 * 3  # c * (1 + i) for i = 0, 1, 2
    for got in (f(x32, 3), fg.jit(f)(x32, 3)):  # static bounds, and traced ones
        assert got.dtype == np.float32 and got == expected
    assert fg.grad(lambda x: f(x, 3))(x32) == np.float32(6.0)
    total = lax.fori_loop(0, 4, lambda i, c: c + i, np.int32(0))
    assert total.dtype == np.int32 and total == 6
    seen = []
    lax.fori_loop(np.int32(0), 3, lambda i, c: seen.append(i.dtype) or c, x32)
    fg.jit(lambda n: lax.fori_loop(n, 3, lambda i, c: seen.append(i.dtype) or c, x32))(
        np.int16(0))
    assert seen == [np.int32, np.int16]


def test_fori_loop_body_of_another_type_names_fori_loop():
    def f(n):
        return lax.fori_loop(0, n, lambda i, c: (c, c), 1.0)

    for run in (lambda: f(3), lambda: fg.jit(f)(np.int64(3))):  # a scan, a while_loop
        with pytest.raises(fg.FuncgradTypeError, match=r"fori_loop's body_fun must return "
                           r"f64\[\], .* but it returns \(f64\[\], f64\[\]\)") as err:
            run()
        assert "scan" not in str(err.value) and "test_lax.py" in str(err.value)
    with pytest.raises(fg.FuncgradTypeError, match="bounds must be integer scalars"):
        fg.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c, 1.0))(np.arange(3))


def test_loops_and_branches_closing_over_a_traced_python_float_keep_float32():
    """A Python float argument of jit (or make_ir, grad) is traced weak: a float32 carry or
    branch output multiplied by it stays float32, as outside any loop, and so do the
    derived programs (backward steps and branches, JVP loops) that read it."""
    xs = np.array([1.0, 2.0, 3.0], np.float32)

    def scan(x, s):
        return lax.scan(lambda c, xi: (c * s * xi, None), x, xs)[0]

    def loop(x, s):
        return lax.while_loop(lambda c: c < 100.0, lambda c: c * s, x)

    def branch(x, s):
        return lax.cond(x > 0, lambda c: c * s, lambda c: c, x)

    def remat(x, s):
        return fg.checkpoint(lambda c: c * s * c)(x)

    one = np.float32(1.0)
    for f, value, slope in ((scan, 48.0, 48.0), (loop, 128.0, 128.0), (branch, 2.0, 2.0),
                            (remat, 2.0, 4.0)):
        for got in (fg.jit(f)(one, 2.0), fg.jit(fg.grad(f))(one, 2.0), fg.grad(f)(one, 2.0),
                    fg.vmap(fg.grad(f), in_axes=(0, None))(np.full(2, one), 2.0),
                    fg.jit(lambda x, s: fg.jvp(lambda x: f(x, s), (x,), (one,))[1])(one, 2.0)):
            assert got.dtype == np.float32, f.__name__
        assert fg.jit(f)(one, 2.0) == value and fg.jit(fg.grad(f))(one, 2.0) == slope


def test_a_python_number_initial_carry_takes_the_dtype_the_body_gives_it():
    """JAX's rule: a carry starting as a Python number carries the dtype it promotes to with
    what the body makes of it, so summing float32 data from 0.0 (or 0) stays float32, and
    an int 0 the body adds 1.5 to carries float64; an array's dtype never changes."""
    xs = np.array([1.0, 2.0, 3.0], np.float32)
    x0 = fnp.asarray(xs)[0]  # a float32 one, which the loops below add

    for init in (0.0, 0):
        total, running = lax.scan(lambda c, x: (c + x, c), init, xs)
        assert total.dtype == running.dtype == np.float32
        assert total == 6.0 and running.tolist() == [0.0, 1.0, 3.0]
        for total in (lax.fori_loop(0, 3, lambda i, c: c + x0, init),
                      fg.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c + x0, init))(3),
                      lax.while_loop(lambda c: c < 3.0, lambda c: c + x0, init)):
            assert total.dtype == np.float32 and total == 3.0
    total = lax.fori_loop(0, 3, lambda i, c: c + 1.5, 0)
    assert total.dtype == np.float64 and total == 4.5
    slope = fg.grad(lambda x: lax.scan(lambda c, xi: (c + x * xi, None), 0.0, xs)[0])(
        np.float32(2.0))
    assert slope.dtype == np.float32 and slope == 6.0
    assert lax.scan(lambda c, x: (c + x, None), np.float64(0.0), xs)[0].dtype == np.float64
    with pytest.raises(fg.FuncgradTypeError, match=r"must return f32\[\]"):
        lax.scan(lambda c, x: (c + x.astype(np.float64), None), np.float32(0.0), xs)


def test_max_steps_bounds_the_loop_and_its_gradient():
    def f(x):
        return lax.while_loop(lambda x: x < 1e9, lambda x: x * x + 1.0, x, max_steps=3)
    assert float(f(2.0)) == ((2.0 ** 2 + 1) ** 2 + 1) ** 2 + 1
    check_grads(f, (2.0,), order=1, rtol=1e-6)


def test_checkpoint_recomputes_instead_of_saving():
    body = lambda h, x: (fnp.tanh(fnp.sin(h @ W) + x), None)  # noqa: E731

    def saved_outputs(step):
        def f(h):
            return fnp.sum(lax.scan(step, h, XS)[0])
        program = fg.make_ir(fg.grad(f))(H0).program
        scans = [e for e in program.equations if e.primitive.name == "scan"]
        return len(scans[0].outputs), fg.grad(f)(H0)

    plain, g_plain = saved_outputs(body)
    remat, g_remat = saved_outputs(fg.checkpoint(body))
    assert remat < plain
    np.testing.assert_allclose(g_remat, g_plain, rtol=1e-13)
    check_grads(fg.remat(lambda x: fnp.sin(x) * fnp.cos(x)), (np.array([0.2, 0.4]),), order=2)
    # forward mode and vmap of a checkpointed loop body; a while_loop's body checkpointed
    f = lambda h: fnp.sum(lax.scan(fg.checkpoint(body), h, XS)[0])  # noqa: E731
    check_grads(f, (H0,), order=1, modes=("fwd",))
    hs = RNG.normal(size=(2, 3))
    np.testing.assert_allclose(fg.vmap(fg.grad(f))(hs), [fg.grad(f)(h) for h in hs],
                               rtol=1e-13)
    spiral = lambda x: lax.while_loop(  # noqa: E731
        lambda c: c[0] < 6, fg.checkpoint(lambda c: (c[0] + 1, fnp.tanh(c[1] @ W))), (0, x))
    np.testing.assert_allclose(fg.jit(fg.grad(lambda x: fnp.sum(spiral(x)[1])))(H0),
                               fg.grad(lambda x: fnp.sum(f_unrolled_tanh(x)))(H0), rtol=1e-12)


def f_unrolled_tanh(x):
    for _ in range(6):
        x = fnp.tanh(x @ W)
    return x


def test_checkpoint_passes_keyword_arguments_on():
    """As JAX's: keyword arguments are arguments like the others (traced, differentiable)."""
    def f(x, scale=2.0):
        return fnp.sin(x) * scale

    remat = fg.checkpoint(f)
    assert remat(0.5, scale=3.0) == f(0.5, scale=3.0) and remat(0.5) == f(0.5)
    assert fg.grad(lambda x: remat(x, scale=x))(0.5) == pytest.approx(
        np.cos(0.5) * 0.5 + np.sin(0.5), rel=1e-14)
    assert fg.jit(fg.grad(lambda x, s: remat(x, scale=s), 1))(0.5, 3.0) == np.sin(0.5)


def test_vjp_splits_loops_into_forward_and_backward_programs():
    out, pullback = fg.vjp(rnn_scan, H0, XS, W)
    expected = fg.grad(rnn_scan, (0, 1, 2))(H0, XS, W)
    for a, e in zip(pullback(1.0), expected):
        np.testing.assert_allclose(a, e, rtol=1e-12)
    out, pullback = fg.vjp(newton_sqrt, 4.0)
    assert float(pullback(1.0)[0]) == pytest.approx(0.25)


# --- errors -------------------------------------------------------------------------------

def test_branches_of_different_types_are_an_error():
    with pytest.raises(fg.FuncgradTypeError, match=r"true_fun returns f64\[2\].*false_fun "
                                                   r"returns f64\[3\]|false_fun returns"):
        lax.cond(True, lambda x: x[:2], lambda x: x, np.ones(3))
    with pytest.raises(fg.FuncgradTypeError, match="f32"):
        lax.cond(True, lambda x: x, lambda x: x.astype(np.float32), np.ones(3))
    with pytest.raises(fg.FuncgradTypeError, match="same types"):
        lax.switch(0, [lambda x: (x, x), lambda x: x], 1.0)


def test_scan_and_while_carry_types_must_not_change():
    with pytest.raises(fg.FuncgradTypeError, match=r"new carry\) must return f64\[3\]"):
        lax.scan(lambda c, x: (c[:2], x), np.ones(3), XS)
    with pytest.raises(fg.FuncgradTypeError, match="body_fun must return"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1,), (0, 1.0))
    with pytest.raises(fg.FuncgradTypeError, match="pair"):
        lax.scan(lambda c, x: c, 0.0, XS)


def test_a_python_float_is_never_truncated_into_an_integer_carry_or_branch():
    # A Python number takes the dtype of the array it stands beside, but a float must not
    # become an int: the loops ran forever (0 + 0.4 cast back to 0) and cond gave 0 for 0.5.
    # A carry that starts as a Python int (weak) takes the float type its body gives it, as
    # in JAX; an array's integer type is kept, and a float for it refused, as JAX refuses it.
    total = fg.jit(lambda x: lax.while_loop(lambda c: c < 3, lambda c: c + 0.4, x))(0)
    assert total.dtype == np.float64 and np.isclose(total, 3.2)
    last, ys = fg.jit(lambda x: lax.scan(lambda c, _: (c + 0.4, c), x, None, length=3))(0)
    assert np.isclose(last, 1.2) and np.allclose(ys, [0.0, 0.4, 0.8])
    with pytest.raises(fg.FuncgradTypeError, match="body_fun must return"):
        lax.while_loop(lambda c: c < 3, lambda c: 5.5, np.int64(0))
    with pytest.raises(fg.FuncgradTypeError, match=r"false_fun returns i64\[\] but true_fun "
                                                   r"returns f64\[\]"):
        lax.cond(True, lambda x: 0.5, lambda x: x, np.int64(1))
    with pytest.raises(fg.FuncgradTypeError, match="same types"):
        lax.switch(0, [lambda x: x, lambda x: 0.5], np.int64(1))
    with pytest.raises(fg.FuncgradTypeError, match="same types"):  # whichever branch is first
        lax.switch(0, [lambda x: 0.5, lambda x: 1, lambda x: x], np.int64(1))
    # what fits stays allowed: a Python int in a float carry, a Python float in a float32 one
    # (a branch's Python int is no float32 branch's output: JAX refuses it, int32 vs float32)
    assert lax.cond(True, lambda x: 2.0, lambda x: x, np.float32(1)) == np.float32(2.0)
    assert lax.while_loop(lambda c: c < 3, lambda c: c + 1, 0) == 3
    assert lax.while_loop(lambda c: c < 3, lambda c: 5.0, np.float32(1)).dtype == np.float32


def test_fori_loop_body_errors_speak_of_fori_loop():
    # they named the scan or while_loop fori_loop is made of, and its carry (i, val)
    def doubling(i, x):
        return fnp.concatenate([x, x])
    match = r"^fori_loop's body_fun must return f64\[5\], .* but it returns f64\[10\]"
    with pytest.raises(fg.FuncgradTypeError, match=match):
        lax.fori_loop(0, 3, doubling, np.ones(5))  # static bounds: a scan
    with pytest.raises(fg.FuncgradTypeError, match=match):
        fg.jit(lambda n: lax.fori_loop(0, n, doubling, np.ones(5)))(3)  # traced: a while_loop
    with pytest.raises(fg.FuncgradTypeError, match=r"fori_loop's body_fun must return i64\[\]"):
        lax.fori_loop(0, 3, lambda i, c: c + 0.5, np.int64(0))


def test_misuse_errors_name_what_was_wrong():
    with pytest.raises(fg.FuncgradTypeError, match="predicate must be a scalar"):
        lax.cond(np.array([True, False]), fnp.sin, fnp.cos, 1.0)
    with pytest.raises(fg.FuncgradTypeError, match="must return a boolean scalar"):
        lax.while_loop(lambda x: x, lambda x: x, 1.0)
    with pytest.raises(fg.ShapeError, match="disagree"):
        lax.scan(lambda c, x: (c, x), 0.0, XS, length=4)
    with pytest.raises(fg.ShapeError, match="needs xs or a length"):
        lax.scan(lambda c, x: (c, x), 0.0, None)
    with pytest.raises(fg.ShapeError, match="length must be non-negative, got -2"):
        lax.scan(lambda c, x: (c + 1.0, None), 0.0, None, length=-2)
    with pytest.raises(fg.FuncgradTypeError, match="integer scalar"):
        lax.switch(0.5, [fnp.sin], 1.0)
    with pytest.raises(fg.ShapeError, match="one shape"):
        lax.select(np.array([True]), np.ones(2), np.ones(2))
    with pytest.raises(fg.FuncgradTypeError, match="bounds must be integer"):
        lax.fori_loop(0.0, 3, lambda i, x: x, 1.0)


def test_an_argument_that_is_not_a_function_is_named():
    cases = [(lambda: lax.cond(True, 1.0, fnp.sin, 1.0), "cond's true_fun"),
             (lambda: lax.switch(0, [fnp.sin, "cos"], 1.0), "switch's branch 1"),
             (lambda: lax.while_loop(True, fnp.sin, 1.0), "while_loop's cond_fun"),
             (lambda: lax.fori_loop(0, 3, None, 1.0), "fori_loop's body_fun"),
             (lambda: lax.scan(XS, 0.0, XS), "scan's f"),
             (lambda: lax.map(XS, XS), "map's f")]
    for call, name in cases:
        with pytest.raises(fg.FuncgradTypeError, match=f"{name} must be a function") as err:
            call()
        assert "test_lax.py" in str(err.value)


def test_python_control_flow_under_jit_points_to_lax():
    def f(x):
        if x > 0:
            return x
        return -x
    with pytest.raises(fg.ConcretizationError, match=r"lax\.cond"):
        fg.jit(f)(1.0)


def test_weight_cotangents_are_summed_as_one_contraction_after_the_loop():
    """The cotangent of a weight is a sum over steps of products of per-step values (an
    outer product for a vector state, a matrix product for a batch of states): computed
    after the backward loop as one contraction, it must equal the unrolled loop's."""
    w = RNG.normal(size=(5, 5)) * 0.4
    for h0, xs in ((RNG.normal(size=5), RNG.normal(size=(4, 5))),
                   (RNG.normal(size=(2, 5)), RNG.normal(size=(4, 2, 5)))):
        program = fg.make_ir(fg.grad(rnn_scan, 2))(h0, xs, w).program
        assert program.equations[-1].primitive.name == "dot_general"  # after the loops
        np.testing.assert_allclose(fg.grad(rnn_scan, 2)(h0, xs, w),
                                   fg.grad(rnn_unrolled, 2)(h0, xs, w), rtol=1e-12)
    check_grads(rnn_scan, (h0, xs, w), order=2)


def test_compiled_source_does_not_grow_with_the_trip_count():
    """Loops are compiled as loops: the generated Numba source of a gradient through scan,
    fori_loop and while_loop is the same text at 3 and at 300 steps."""
    from funcgrad.compile.codegen import generate

    def source(fun, *args):
        return generate(fg.make_ir(fun)(*args).program).source

    def fori(x, n):
        return lax.fori_loop(0, n, lambda i, y: fnp.sin(y) * x, x)

    def until(x, limit):
        return lax.while_loop(lambda y: y < limit, lambda y: y * x + 1.0, 1.0)

    for steps in (3, 300):
        assert source(fg.grad(rnn_scan), H0, RNG.normal(size=(steps, 3)), W) == \
            source(fg.grad(rnn_scan), H0, XS, W)
        assert source(fg.grad(lambda x, n=steps: fori(x, n)), 0.5) == \
            source(fg.grad(lambda x: fori(x, 6)), 0.5)
    short = fg.jit(fg.grad(until))
    assert float(short(1.5, 10.0)) == pytest.approx(
        float(fg.grad(until)(1.5, 10.0)), rel=1e-13)
    assert source(fg.grad(until), 1.5, 10.0) == source(fg.grad(until), 1.5, 1e6)


def test_jit_grad_through_every_primitive_matches_the_evaluator():
    def f(x, n):
        y = lax.cond(fnp.sum(x) > 0, lambda v: fnp.sin(v), lambda v: v * v, x)
        y = lax.fori_loop(0, n, lambda i, v: fnp.tanh(v) * 0.9 + x, y)
        y = lax.while_loop(lambda v: fnp.sum(v * v) < 50.0, lambda v: v * 1.7 + 0.1, y,
                           max_steps=20)
        c, ys = lax.scan(lambda c, r: (c * r, c + r), 1.0, y, reverse=True)
        return c + fnp.sum(ys ** 2) + fnp.sum(fg.checkpoint(fnp.cos)(y))

    for x in (np.array([0.3, -0.2, 0.5]), np.array([-0.3, -0.2, 0.1])):
        for n in (np.int64(0), np.int64(3)):
            np.testing.assert_allclose(fg.jit(fg.grad(f))(x, n), fg.grad(f)(x, n),
                                       rtol=1e-12)
            np.testing.assert_allclose(fg.jit(f)(x, n), f(x, n), rtol=1e-13)
    check_grads(lambda x: f(x, np.int64(3)), (np.array([0.3, -0.2, 0.5]),), order=1)


# --- forward mode and vmap --------------------------------------------------------------------

def test_jvp_of_loops_and_cond_against_finite_differences():
    check_grads(rnn_scan, (H0, XS[:3], W), order=1, modes=("fwd",))
    check_grads(lambda a: newton_sqrt(a), (3.0,), order=1, modes=("fwd",))
    check_grads(lambda x: lax.cond(x[0] > 0, fnp.sin, fnp.exp, x), (np.array([0.4, 0.2]),),
                order=1, modes=("fwd",))
    a = np.array([2.0, 9.0])

    def vector_sqrt(a):
        return lax.while_loop(lambda x: fnp.max(fnp.abs(x * x - a)) > 1e-12,
                              lambda x: 0.5 * (x + a / x), a)
    np.testing.assert_allclose(fg.jacfwd(vector_sqrt)(a), np.diag(0.5 / np.sqrt(a)))
    np.testing.assert_allclose(fg.jacrev(vector_sqrt)(a), np.diag(0.5 / np.sqrt(a)))


def test_vmap_of_cond_selects_when_the_predicate_is_batched():
    def f(x):
        return lax.cond(fnp.sum(x) > 0, lambda v: v * 2.0, lambda v: -v, x)
    xs = np.array([[1.0, 2.0], [-3.0, 1.0], [0.5, -0.1]])
    np.testing.assert_allclose(fg.vmap(f)(xs), np.stack([f(x) for x in xs]))
    names = [e.primitive.name for e in fg.make_ir(fg.vmap(f))(xs).equations]
    assert "cond" not in names and "select" in names
    g = fg.vmap(lambda x, p: lax.cond(p, fnp.sin, fnp.cos, x), in_axes=(0, None))
    np.testing.assert_allclose(g(xs, True), np.sin(xs))
    assert "cond" in str(fg.make_ir(g)(xs, True))


def test_vmap_of_loops_matches_a_python_loop():
    a = np.array([2.0, 9.0, 0.25, 100.0])  # each example converges after its own steps
    np.testing.assert_allclose(fg.vmap(newton_sqrt)(a), np.sqrt(a), rtol=1e-14)
    np.testing.assert_allclose(fg.jit(fg.vmap(newton_sqrt))(a), np.sqrt(a), rtol=1e-14)
    n = np.array([0, 2, 5])
    power = fg.vmap(lambda n, x: lax.fori_loop(0, n, lambda i, v: v * x, 1.0))
    np.testing.assert_allclose(power(n, np.full(3, 2.0)), 2.0 ** n)
    hs = RNG.normal(size=(4, 3))
    batched = fg.vmap(rnn_scan, in_axes=(0, None, None))(hs, XS, W)
    np.testing.assert_allclose(batched, [rnn_scan(h, XS, W) for h in hs], rtol=1e-13)
    xs_batch = RNG.normal(size=(6, 2, 3))
    batched = fg.vmap(rnn_scan, in_axes=(None, 1, None))(H0, xs_batch, W)
    np.testing.assert_allclose(batched, [rnn_scan(H0, xs_batch[:, k], W) for k in range(2)],
                               rtol=1e-13)
    per_example = fg.vmap(fg.grad(rnn_scan, 2), in_axes=(0, None, None))(hs, XS, W)
    np.testing.assert_allclose(per_example, [fg.grad(rnn_scan, 2)(h, XS, W) for h in hs],
                               rtol=1e-12)


def test_forward_mode_and_vmap_of_map_switch_select_and_reverse_scan():
    xs = RNG.normal(size=(4, 3))
    row_norms = lambda xs: lax.map(lambda r: fnp.sum(fnp.sin(r) * r), xs)  # noqa: E731
    check_grads(row_norms, (xs,), order=1, modes=("fwd", "rev"))
    batches = RNG.normal(size=(2, 4, 3))
    np.testing.assert_allclose(fg.vmap(row_norms)(batches),
                               [row_norms(b) for b in batches], rtol=1e-14)
    np.testing.assert_allclose(fg.vmap(row_norms, in_axes=2)(batches),
                               [row_norms(batches[:, :, k]) for k in range(3)], rtol=1e-14)
    # switch with an index that differs between examples (clamped, as in JAX)
    branches = [fnp.sin, fnp.cos, lambda v: v ** 3]
    pick = lambda i, x: lax.switch(i, branches, x)  # noqa: E731
    index = np.array([0, 2, 7, -1])
    expected = [pick(i, x) for i, x in zip(index, xs)]
    np.testing.assert_allclose(fg.vmap(pick)(index, xs), expected, rtol=1e-14)
    np.testing.assert_allclose(fg.jit(fg.vmap(pick))(index, xs), expected, rtol=1e-14)
    check_grads(lambda x: pick(2, x), (xs[0],), order=1, modes=("fwd", "rev"))
    # select: elementwise, differentiable in both cases, batched in any argument
    p = xs > 0
    check_grads(lambda a, b: lax.select(p, a, b), (xs, -xs * 2.0), order=1,
                modes=("fwd", "rev"))
    np.testing.assert_allclose(fg.vmap(lax.select)(p, xs, -xs), np.abs(xs))
    # a reverse scan under jvp and vmap
    rev = lambda h, xs: lax.scan(lambda c, x: (fnp.tanh(c * x), c), h, xs,  # noqa: E731
                                 reverse=True)
    check_grads(lambda h: rev(h, xs)[1], (H0,), order=1, modes=("fwd",))
    hs = RNG.normal(size=(2, 3))
    for got, want in zip(fg.vmap(rev, in_axes=(0, None))(hs, xs),
                         zip(*[rev(h, xs) for h in hs])):
        np.testing.assert_allclose(got, np.stack(want), rtol=1e-14)


def test_vmap_of_while_with_a_batched_predicate_runs_until_all_are_done():
    counts = fg.vmap(lambda n: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1,
                                                                             c[1] * 2.0),
                                              (0, 1.0)))
    steps, values = counts(np.array([0, 3, 1]))
    assert steps.tolist() == [0, 3, 1] and values.tolist() == [1.0, 8.0, 2.0]
    steps, values = fg.jit(counts)(np.array([5, 2]))
    assert steps.tolist() == [5, 2] and values.tolist() == [32.0, 4.0]
    # forward mode of the batched loop: each example's own derivative
    a = np.array([2.0, 9.0, 0.25])
    np.testing.assert_allclose(fg.vmap(lambda a: fg.jvp(newton_sqrt, (a,), (1.0,))[1])(a),
                               0.5 / np.sqrt(a), rtol=1e-10)


def test_per_example_gradients_through_a_while_loop():
    a = np.array([2.0, 9.0, 0.25])  # each example stops after its own number of steps
    np.testing.assert_allclose(fg.vmap(fg.grad(newton_sqrt))(a), 0.5 / np.sqrt(a), rtol=1e-10)
    np.testing.assert_allclose(fg.jit(fg.vmap(fg.grad(newton_sqrt)))(a), 0.5 / np.sqrt(a),
                               rtol=1e-10)


def test_per_example_jacobians_through_a_while_loop():
    """vmap of jacrev: jacrev batches the while_vjp over its cotangents first (a basis of
    three), then vmap over the examples, whose trip counts differ; before, the examples'
    axis and the basis' were taken for one, and the result had the wrong shape or values."""
    def f(x):  # stops after a number of steps that depends on x
        step = lambda c: (c[0] + fnp.sum(x ** 2) + 0.5, fnp.tanh(c[1] * x) + x[::-1])  # noqa
        return lax.while_loop(lambda c: c[0] < 3.0, step, (0.0, x))[1]
    xs = np.array([[0.3, -0.2, 0.5], [0.6, -0.4, 1.0], [-0.3, 0.2, -0.5]])
    expected = np.stack([fg.jacfwd(f)(x) for x in xs])
    np.testing.assert_allclose(fg.vmap(fg.jacrev(f))(xs), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fg.vmap(fg.jacrev(f), in_axes=1)(xs.T), expected, rtol=1e-12,
                               atol=1e-14)
    scalar = lambda x: fnp.sum(f(x) ** 2)  # noqa: E731  (a basis of one)
    assert fg.vmap(fg.jacrev(scalar))(xs).shape == (3, 3)
    np.testing.assert_allclose(fg.vmap(fg.jacrev(scalar))(xs), fg.vmap(fg.grad(scalar))(xs),
                               rtol=1e-12)


def damped_loop(x, y):
    """Five steps of a nonlinear recurrence in a while_loop, x and y as body consts and
    initial carry; and the same unrolled by hand."""
    def body(c):
        i, z = c
        return i + 1, fnp.sin(z) * x + 0.3 * z * y
    return fnp.sum(lax.while_loop(lambda c: c[0] < 5, body, (0, y))[1] ** 2)


def damped_unrolled(x, y):
    z = y
    for _ in range(5):
        z = fnp.sin(z) * x + 0.3 * z * y
    return fnp.sum(z ** 2)


X2, Y2 = np.array([0.3, -0.5, 0.7]), np.array([0.6, 0.2, -0.4])


def test_higher_derivatives_through_a_while_loop():
    # grad of grad, and third order, of the Newton square root: d^2/da^2 sqrt(a)
    assert float(fg.grad(fg.grad(newton_sqrt))(2.0)) == pytest.approx(-0.25 * 2.0 ** -1.5)
    assert float(fg.grad(fg.grad(fg.grad(newton_sqrt)))(2.0)) == \
        pytest.approx(0.375 * 2.0 ** -2.5)
    # hessians, forward over reverse and reverse over reverse, eager and compiled,
    # against the hand-unrolled loop
    for argnum in (0, 1):
        expected = fg.hessian(damped_unrolled, argnum)(X2, Y2)
        for hess in (fg.hessian(damped_loop, argnum),
                     fg.jacrev(fg.grad(damped_loop, argnum), argnum)):
            np.testing.assert_allclose(hess(X2, Y2), expected, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(fg.jit(hess)(X2, Y2), expected, rtol=1e-10, atol=1e-12)
    # mixed partials: the first gradient in y only (x is then no active input of the
    # while_vjp), the second in x; and a vmap of the pullback whose loop carries only y
    mixed = fg.jacrev(fg.grad(damped_loop, 1), 0)(X2, Y2)
    np.testing.assert_allclose(mixed, fg.jacrev(fg.grad(damped_unrolled, 1), 0)(X2, Y2),
                               rtol=1e-10, atol=1e-12)
    def carried_only(y):
        step = lambda c: (c[0] + 1, fnp.sin(c[1]) * 0.5 + 0.3 * c[1] * c[1])  # noqa: E731
        return fnp.sum(lax.while_loop(lambda c: c[0] < 5, step, (0, y))[1] ** 2)
    np.testing.assert_allclose(fg.jacrev(fg.grad(carried_only))(Y2),
                               fg.jacfwd(fg.grad(carried_only))(Y2), rtol=1e-10, atol=1e-12)


def test_hessian_through_while_loop_matches_differences_of_the_gradient():
    grad = fg.grad(damped_loop, 1)
    eps = 1e-6
    columns = [(grad(X2, Y2 + eps * e) - grad(X2, Y2 - eps * e)) / (2 * eps)
               for e in np.eye(3)]
    np.testing.assert_allclose(fg.hessian(damped_loop, 1)(X2, Y2), np.stack(columns, 1),
                               rtol=1e-6, atol=1e-8)
    check_grads(damped_loop, (X2, Y2), order=2, modes=("fwd", "rev"))


def test_second_derivatives_through_scan_fori_and_cond():
    check_grads(rnn_scan, (H0, XS[:3], W), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: lax.fori_loop(0, 4, lambda i, v: fnp.sin(v) * x, x), (X2,),
                order=2, modes=("fwd", "rev"))
    check_grads(lambda x: lax.cond(x[0] > 0, lambda v: fnp.sin(v) * v, fnp.exp, x), (X2,),
                order=2, modes=("fwd", "rev"))
    check_grads(lambda x: lax.switch(1, [fnp.sin, lambda v: v ** 3], x), (X2,), order=2,
                modes=("fwd", "rev"))


def test_differentiating_a_vmapped_while_loop_backward_pass():
    """A while_vjp batched over its cotangents (what jacrev builds) differentiates, in both
    modes, per cotangent: jacfwd(jacrev(f)) and jacrev(jacrev(f)) raised an error before."""
    per_cotangent = fg.vmap(lambda g: fg.vjp(newton_sqrt, 2.0)[1](g)[0])
    np.testing.assert_allclose(per_cotangent(np.array([1.0, 2.0])), np.array([1.0, 2.0]) *
                               0.5 / np.sqrt(2.0), rtol=1e-10)
    summed = fg.grad(lambda a: fnp.sum(fg.vmap(lambda g: fg.vjp(newton_sqrt, a)[1](g)[0])(
        np.array([1.0, 2.0]))))(2.0)
    assert float(summed) == pytest.approx(3.0 * -0.25 * 2.0 ** -1.5)
    second = -0.25 * 2.0 ** -1.5  # d^2/da^2 sqrt(a)
    assert float(fg.jacfwd(fg.jacrev(newton_sqrt))(2.0)) == pytest.approx(second)
    assert float(fg.jacrev(fg.jacrev(newton_sqrt))(2.0)) == pytest.approx(second)
    assert float(fg.jacrev(fg.jacrev(fg.jacrev(newton_sqrt)))(2.0)) == \
        pytest.approx(0.375 * 2.0 ** -2.5)
    # a vector loop, each Jacobian of Jacobians against forward over forward
    def f(x):
        step = lambda c: (c[0] + fnp.sum(x ** 2) + 0.5, fnp.tanh(c[1] * x) + x[::-1])  # noqa
        return lax.while_loop(lambda c: c[0] < 3.0, step, (0.0, x))[1]
    expected = fg.jacfwd(fg.jacfwd(f))(X2)
    for hess in (fg.jacfwd(fg.jacrev(f)), fg.jacrev(fg.jacrev(f))):
        np.testing.assert_allclose(hess(X2), expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fg.jit(hess)(X2), expected, rtol=1e-10, atol=1e-12)


def test_loops_of_zero_steps():
    xs = np.zeros((0, 3))
    assert float(rnn_scan(H0, xs, W)) == pytest.approx(float(np.sum(H0 ** 2)))
    np.testing.assert_allclose(fg.grad(rnn_scan)(H0, xs, W), 2 * H0)
    np.testing.assert_allclose(fg.jit(fg.grad(rnn_scan))(H0, xs, W), 2 * H0)
    assert fg.grad(rnn_scan, 2)(H0, xs, W).tolist() == np.zeros((3, 3)).tolist()
    assert float(fg.grad(lambda x: lax.while_loop(lambda y: y > 5.0, fnp.sin, x))(1.0)) == 1.0


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 7])
def test_map_in_batches_is_the_same_map(batch_size):
    """JAX's batch_size: each step computes f on that many elements (vmap), the remainder
    after the loop; values, pytree results and gradients as without it."""
    xs = {"a": np.arange(10.0).reshape(5, 2), "b": np.linspace(-1.0, 1.0, 5)}

    def f(x):
        return fnp.sum(x["a"] ** 2) * x["b"], fnp.sin(x["a"])

    expected = (np.sum(xs["a"] ** 2, axis=1) * xs["b"], np.sin(xs["a"]))
    got = lax.map(f, xs, batch_size=batch_size)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-14)
    check_grads(lambda xs: fnp.sum(lax.map(f, xs, batch_size=batch_size)[0]), (xs,))


def test_map_in_batches_of_no_elements_is_empty():
    """An empty xs has no whole batch and no remainder: the result is the empty stack of
    f's results, as without batch_size."""
    xs = np.zeros((0, 3))
    for batch_size in (None, 1, 2):
        ys = lax.map(lambda row: (row * 2.0, fnp.sum(row)), xs, batch_size=batch_size)
        assert [(y.shape, y.dtype) for y in ys] == [((0, 3), np.float64), ((0,), np.float64)]
        ys = fg.jit(lambda xs: lax.map(fnp.sum, xs, batch_size=batch_size))(xs)
        assert ys.shape == (0,)


def test_map_batch_size_and_scan_unroll_are_checked():
    xs = np.ones((4, 2))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(fg.FuncgradValueError, match="batch_size must be a positive integer"):
            lax.map(fnp.sum, xs, batch_size=bad)
    with pytest.raises(fg.FuncgradValueError, match="unroll must be a bool or a non-negative"):
        lax.scan(lambda c, x: (c, x), 0.0, xs, unroll=-1)
    assert lax.scan(lambda c, x: (c + x, x), 0.0, np.ones(3), unroll=0)[0] == 3.0
