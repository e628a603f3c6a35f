"""The IR: golden listings, nested sub-programs, immutability, captured constants, validation.

Golden listings name source lines of this file; they are computed from the traced functions'
own source (``line_in``), so edits elsewhere in this file do not break them.
"""

from __future__ import annotations

import inspect
import textwrap

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.core.evaluate import ClosedProgram
from funcgrad.core.ir import (Equation, Literal, Program, Source, Var,
                              dead_code_elimination, validate)
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import ShapedArray
from funcgrad.ops.elementwise import mul_p, sin_p

F64 = np.dtype("float64")


def line_in(fn, text: str) -> str:
    """'test_ir.py:N' for the line of ``fn``'s source that contains ``text`` (once)."""
    lines, start = inspect.getsourcelines(fn)
    hits = [start + i for i, line in enumerate(lines) if text in line]
    assert len(hits) == 1, (text, hits)
    return f"test_ir.py:{hits[0]}"


def golden(template: str, fn, **marks) -> str:
    """The expected listing: ``<name>`` placeholders become the lines of ``fn`` they name."""
    text = textwrap.dedent(template).strip("\n")
    for name, source_text in marks.items():
        text = text.replace(f"<{name}>", line_in(fn, source_text))
    return text


# ---------------------------------------------------------------------------------------
# Golden listings


def small(x, y):
    z = fnp.sin(x) * 2.0
    return fnp.sum(z + y, axis=0), z[::2]


def test_listing_of_a_small_function():
    closed = fg.make_ir(small)(np.ones((3, 2), np.float32), np.float32(1.0))
    assert str(closed) == golden("""
        { lambda a:f32[3,2] b:f32[] .
            c:f32[3,2] = sin a                                           # <z>
            d:f32[3,2] = mul c 2.0                                       # <z>
            e:f32[3,2] = add d b                                         # <ret>
            f:f32[2] = reduce_sum[axes=(0,)] e                           # <ret>
            g:f32[2,2] = slice[start=(0, 0) step=(2, 1) size=(2, 2)] d   # <ret>
          in (f g) }
        """, small, z="z = fnp.sin", ret="return fnp.sum")
    assert str(closed.program) == str(closed)


def loss(params, x, y):
    W1, b1, W2, b2 = params
    h = fnp.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    return -fnp.mean(fnp.sum(y * fg.nn.log_softmax(logits), axis=1))


def mlp_problem(dtype=np.float64):
    rng = np.random.default_rng(0)
    params = tuple(rng.normal(size=s).astype(dtype) for s in [(16, 32), (32,), (32, 4), (4,)])
    x = rng.normal(size=(8, 16)).astype(dtype)
    y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 8)]
    return params, x, y


def test_listing_of_the_mlp_loss():
    closed = fg.make_ir(loss)(*mlp_problem())
    assert str(closed) == golden("""
        { lambda a:f64[16,32] b:f64[32] c:f64[32,4] d:f64[4] e:f64[8,16] f:f64[8,4] .
            g:f64[8,32] = dot_general[contract=((1,), (0,)) batch=((), ())] e a   # <h>
            h:f64[8,32] = add g b                                                 # <h>
            i:f64[8,32] = tanh h                                                  # <h>
            j:f64[8,4] = dot_general[contract=((1,), (0,)) batch=((), ())] i c    # <logits>
            k:f64[8,4] = add j d                                                  # <logits>
            l:f64[8] = reduce_max[axes=(1,)] k                                    # <ret>
            m:f64[8,1] = reshape[shape=(8, 1)] l                                  # <ret>
            n:f64[8,1] = stop_gradient m                                          # <ret>
            o:f64[8,4] = sub k n                                                  # <ret>
            p:f64[8,4] = exp o                                                    # <ret>
            q:f64[8] = reduce_sum[axes=(1,)] p                                    # <ret>
            r:f64[8,1] = reshape[shape=(8, 1)] q                                  # <ret>
            s:f64[8,1] = log r                                                    # <ret>
            t:f64[8,4] = sub o s                                                  # <ret>
            u:f64[8,4] = mul f t                                                  # <ret>
            v:f64[8] = reduce_sum[axes=(1,)] u                                    # <ret>
            w:f64[] = reduce_sum[axes=(0,)] v                                     # <ret>
            x:f64[] = div w 8                                                     # <ret>
            y:f64[] = neg x                                                       # <ret>
          in (y) }
        """, loss, h="h = fnp.tanh", logits="logits = h @", ret="return -fnp.mean")


def test_mlp_loss_evaluates_like_numpy_in_both_dtypes():
    for dtype in (np.float32, np.float64):
        params, x, y = args = mlp_problem(dtype)
        closed = fg.make_ir(loss)(*args)
        [value] = closed(*fg.tree.leaves(args))
        assert value.dtype == dtype
        h = np.tanh(x @ params[0] + params[1])
        logits = h @ params[2] + params[3]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        expected = -np.mean(np.sum(y * log_softmax, axis=1))
        np.testing.assert_allclose(value, expected, rtol=1e-5 if dtype == np.float32 else 1e-13)
        np.testing.assert_allclose(loss(*args), expected,
                                   rtol=1e-5 if dtype == np.float32 else 1e-13)
        assert isinstance(loss(*args), (np.ndarray, np.generic))  # eager: a NumPy value


W = np.arange(6.0).reshape(3, 2)


def with_constants(x):
    scale = 1.5
    return (x @ W) * scale + np.float32(2.0) + np.arange(2)


def test_listing_of_captured_constants_and_literals():
    closed = fg.make_ir(with_constants)(np.ones(3))
    assert str(closed) == golden("""
        { lambda a:f64[3] ; consts b:f64[3,2] c:i64[2] .
            d:f64[2] = dot_general[contract=((0,), (0,)) batch=((), ())] a b   # <ret>
            e:f64[2] = mul d 1.5                                               # <ret>
            f:f64[2] = add e 2.0:f32                                           # <ret>
            g:f64[2] = add f c                                                 # <ret>
          in (g) }
        """, with_constants, ret="return (x @ W)")


# ---------------------------------------------------------------------------------------
# Sub-programs in params, as cond, while_loop and scan will carry them


class CallProgram:
    """A stand-in for the control-flow primitives to come: applies its sub-program.
    Not registered, so registry walks of other tests never see it."""

    name = "call"
    multiple_results = True

    def impl(self, *args, program, times):
        for _ in range(times):
            args = fg.evaluate(program, args)
        return args

    def abstract_eval(self, avals, params):
        return params["program"].out_avals


def aval(*shape):
    return ShapedArray(shape, F64)


def nested_program():
    c, d = Var(aval(3)), Var(aval(3))
    body = Program([], [c], [Equation(sin_p, (c,), {}, (d,), Source("/src/body.py", 3))], [d])
    a, b, e = Var(aval(3)), Var(aval(3)), Var(aval(3))
    two = Literal(2.0, ShapedArray((), F64, weak_type=True))
    return Program([], [a], [
        Equation(CallProgram(), (a,), {"program": body, "times": 2}, (b,),
                 Source("/src/main.py", 7)),
        Equation(mul_p, (b, two), {}, (e,), Source("/src/main.py", 8)),
    ], [e])


def test_sub_programs_print_nested():
    assert str(nested_program()) == textwrap.dedent("""\
        { lambda a:f64[3] .
            b:f64[3] = call[times=2] a   # main.py:7
              program =
                { lambda d:f64[3] .
                    e:f64[3] = sin d   # body.py:3
                  in (e) }
            c:f64[3] = mul b 2.0         # main.py:8
          in (c) }""")


def test_sub_programs_validate_and_evaluate():
    program = nested_program()
    validate(program)
    [out] = fg.evaluate(program, [np.array([0.1, 0.2, 0.3])])
    np.testing.assert_allclose(out, np.sin(np.sin([0.1, 0.2, 0.3])) * 2.0)


def test_validate_checks_sub_programs_too():
    program = nested_program()
    body = program.equations[0].params["program"]
    broken = Program([], body.invars, [], [Var(aval(3))])  # an output nothing defines
    eqn = program.equations[0]
    bad = Program([], program.invars, [Equation(eqn.primitive, eqn.inputs,
                                                {"program": broken, "times": 1},
                                                eqn.outputs, eqn.source),
                                       *program.equations[1:]], program.outvars)
    with pytest.raises(ValueError, match="undefined"):
        validate(bad)


# ---------------------------------------------------------------------------------------
# Programs are plain immutable data


def walk_values(program):
    """Every object a Program holds: its vars, atoms, params, sub-programs."""
    yield from program.inputs
    yield from program.outvars
    for eqn in program.equations:
        yield eqn.primitive
        yield from eqn.inputs
        yield from eqn.outputs
        for value in eqn.params.values():
            yield value
            if isinstance(value, Program):
                yield from walk_values(value)


def test_programs_are_tuples_of_plain_data():
    closed = fg.make_ir(loss)(*mlp_problem())
    program = closed.program
    for field in (program.constvars, program.invars, program.equations, program.outvars):
        assert type(field) is tuple
    for eqn in program.equations:
        assert type(eqn.inputs) is tuple and type(eqn.outputs) is tuple
        assert isinstance(eqn.source, Source) and eqn.source.file == __file__
    for value in walk_values(program):
        assert not isinstance(value, Tracer)
    with pytest.raises(AttributeError, match="immutable"):
        program.equations = ()
    with pytest.raises(AttributeError):
        program.equations.append(None)  # a tuple


def test_a_program_is_reusable_and_unchanged_by_evaluation():
    closed = fg.make_ir(loss)(*mlp_problem())
    before = str(closed)
    leaves = fg.tree.leaves(mlp_problem())
    first = closed(*leaves)
    assert closed(*leaves) == first
    assert str(closed) == before


@pytest.mark.parametrize("run", ["interpreted", "compiled"])
def test_the_evaluator_frees_values_once_nothing_reads_them(run):
    """The first evaluation is interpreted, later ones run generated Python: both drop each
    intermediate array after its last use, so a chain of 30 operations on an 8 MB array
    peaks at a few live arrays, not 30."""
    import tracemalloc

    def chain(x):
        for k in range(30):
            x = fnp.sin(x) * (1.0 + k)
        return fnp.sum(x)

    x = np.linspace(0.0, 1.0, 1_000_000)
    program = fg.make_ir(chain)(x).program
    if run == "compiled":
        fg.evaluate(program, [x])  # (the first run is the interpreted one)
    tracemalloc.start()
    try:
        value, = fg.evaluate(program, [x])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * x.nbytes
    expected = x
    for k in range(30):
        expected = np.sin(expected) * (1.0 + k)
    assert value == pytest.approx(expected.sum(), rel=1e-12)


def test_values_a_program_returns_or_reads_later_are_kept():
    def f(x):
        y = fnp.exp(x)
        z = y * 2.0
        return z + y, y, x

    x = np.array([0.5, 1.5])
    program = fg.make_ir(f)(x).program
    for _ in range(2):  # interpreted, then compiled
        a, b, c = fg.evaluate(program, [x])
        np.testing.assert_allclose(a, 3 * np.exp(x))
        np.testing.assert_allclose(b, np.exp(x))
        np.testing.assert_array_equal(c, x)


def test_closures_become_constvars_and_literals():
    bias = np.array([1.0, -1.0])
    offset = 3  # a Python number: written into the program as a literal

    def f(x):
        return x * bias + offset + W[0]
    closed = fg.make_ir(f)(np.zeros(2))
    program = closed.program
    assert len(program.constvars) == len(closed.consts) == 2
    assert all(type(c) is np.ndarray for c in closed.consts)
    assert any(c is bias for c in closed.consts)  # the captured array itself, no copy
    literals = [a for e in program.equations for a in e.inputs if isinstance(a, Literal)]
    assert [lit.value for lit in literals] == [3]
    assert all(v.aval == ShapedArray(c.shape, c.dtype) for v, c in
               zip(program.constvars, closed.consts))
    [out] = closed(np.ones(2))
    np.testing.assert_array_equal(out, 1.0 * bias + offset + W[0])
    assert "consts" in str(closed)


def test_one_constvar_per_captured_array():
    def f(x):
        return x * W + W - W
    assert len(fg.make_ir(f)(np.ones((3, 2))).program.constvars) == 1


def test_closed_program_carries_the_trees():
    closed = fg.make_ir(lambda d: {"out": d["a"] * 2, "n": (d["b"],)})(
        {"a": np.ones(2), "b": 1.0})
    assert isinstance(closed, ClosedProgram)
    out = fg.tree.unflatten(closed.out_tree, closed(np.full(2, 3.0), 4.0))
    np.testing.assert_array_equal(out["out"], [6.0, 6.0])
    assert out["n"] == (4.0,)


def test_closed_program_refuses_arguments_it_was_not_traced_for():
    closed = fg.make_ir(lambda x, y: fnp.sum(x) + y)(np.ones(3), 1.0)
    assert closed(np.ones(3), 2.0) == [5.0]
    with pytest.raises(fg.FuncgradTypeError, match=r"takes 2 array arguments .*, got 1"):
        closed(np.ones(3))
    with pytest.raises(fg.FuncgradTypeError, match=r"argument 0 is f64\[4\].*traced for f64\[3\]"):
        closed(np.ones(4), 2.0)
    with pytest.raises(fg.FuncgradTypeError, match=r"argument 0 is f32\[3\]"):
        closed(np.ones(3, np.float32), 2.0)


def test_a_program_without_inputs_prints():
    assert str(fg.make_ir(lambda: 1.5)()) == "{ lambda .\n  in (1.5) }"


def test_every_variable_has_a_type():
    program = fg.make_ir(loss)(*mlp_problem(np.float32)).program
    for v in walk_values(program):
        if isinstance(v, (Var, Literal)):
            assert isinstance(v.aval, ShapedArray) and isinstance(v.aval.shape, tuple)
            assert v.aval.dtype in (np.float32, np.float64, np.int64, np.bool_)


# ---------------------------------------------------------------------------------------
# validate


@pytest.mark.parametrize("fn, args", [
    (loss, mlp_problem()),
    (small, (np.ones((3, 2)), 1.0)),
    (with_constants, (np.ones(3),)),
    (lambda x: (x[None, ::-1, np.array([0, 0])], x.at[0].add(1.0)), (np.ones((2, 3)),)),
    (lambda x: fnp.einsum("ij,jk->ik", x, x.T) + fnp.eye(2), (np.ones((2, 3)),)),
    (lambda x: fg.nn.one_hot(fnp.argmax(x, axis=1), 3) * fnp.cumsum(x, 0), (np.ones((2, 3)),)),
], ids=["mlp", "small", "constants", "indexing", "einsum", "one_hot"])
def test_traced_programs_validate(fn, args):
    validate(fg.make_ir(fn)(*args).program)


def test_validate_rejects_broken_programs():
    a, b = Var(aval(3)), Var(aval(3))
    use_before_def = Program([], [a], [Equation(sin_p, (b,), {}, (Var(aval(3)),), None)], [a])
    with pytest.raises(ValueError, match="undefined"):
        validate(use_before_def)
    wrong_type = Program([], [a], [Equation(sin_p, (a,), {}, (Var(aval(4)),), None)], [a])
    with pytest.raises(ValueError, match="shape rule"):
        validate(wrong_type)
    twice = Program([], [a], [Equation(sin_p, (a,), {}, (a,), None)], [a])
    with pytest.raises(ValueError, match="twice"):
        validate(twice)


def test_dead_code_elimination_keeps_what_outputs_need():
    def f(x):
        fnp.exp(x) * 3.0  # recorded, but nothing uses it
        return fnp.sin(x)
    program = fg.make_ir(f)(np.ones(2)).program
    pruned = dead_code_elimination(program)
    assert [e.primitive.name for e in pruned.equations] == ["sin"]
    validate(pruned)
