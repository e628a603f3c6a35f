"""Errors a user can act on: each says what is wrong and names the user's file and line.

The line an error must name is marked in this file with a comment ``# <- name``; ``line_of``
finds it, so these tests survive edits above them.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
import marked_lines

A34, A5, A52 = np.ones((3, 4)), np.ones(5), np.ones((5, 2))


def line_of(marker: str) -> str:
    return marked_lines.line_of(__file__, marker)


@contextlib.contextmanager
def raises_at(error, marker, *fragments):
    """The block raises ``error``, whose message has every fragment and names the marked line
    (at the end, as ``(in test_errors.py:NN)``, unless the message places it itself)."""
    with pytest.raises(error) as info:
        yield info
    message = str(info.value)
    assert line_of(marker) in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert isinstance(info.value, fg.FuncgradError)
    assert "Traceback" not in message


# ---------------------------------------------------------------------------------------
# Shape mismatches, traced and eager


def test_broadcast_mismatch_traced():
    def model(x, b):
        h = x * 2.0
        return h + b  # <- broadcast
    with raises_at(fg.ShapeError, "broadcast",
                   f"cannot broadcast f64[3,4] with f64[5] (in {line_of('broadcast')})"):
        fg.make_ir(model)(A34, A5)


def test_broadcast_mismatch_eager():
    with raises_at(fg.ShapeError, "eager broadcast", "cannot broadcast f64[3,4] with f64[5]"):
        fnp.add(A34, A5)  # <- eager broadcast
    with raises_at(fg.ShapeError, "eager where", "cannot broadcast", "f64[3,4]", "f64[5]"):
        fnp.where(A34 > 0, A34, A5)  # <- eager where


def test_matmul_mismatch():
    with raises_at(fg.ShapeError, "matmul", "cannot multiply f64[3,4] by f64[5,2]"):
        fg.make_ir(lambda x, w: x @ w)(A34, A52)  # <- matmul
    with raises_at(fg.ShapeError, "eager matmul", "cannot multiply f64[3,4] by f64[5,2]"):
        fnp.matmul(A34, A52)  # <- eager matmul
    with raises_at(fg.ShapeError, "dot", "f64[3,4]", "f64[5,2]"):
        fg.make_ir(lambda x, w: x.dot(w))(A34, A52)  # <- dot
    with raises_at(fg.ShapeError, "einsum", "einsum", "'j'", "4", "5"):
        fnp.einsum("ij,jk->ik", A34, A52)  # <- einsum
    with raises_at(fg.ConcretizationError, "traced repeats", "repeat: repeats is a traced",
                   "pass total_repeat_length="):
        fg.jit(lambda r: fnp.repeat(A5, r))(np.ones(5, int))  # <- traced repeats
    with raises_at(fg.ShapeError, "tensordot", "f64[3,4]", "f64[5,2]"):
        fnp.tensordot(A34, A52, 1)  # <- tensordot


def test_reshape_mismatch():
    with raises_at(fg.ShapeError, "reshape", "cannot reshape f64[3,4] into shape (5, 2)"):
        fg.make_ir(lambda x: x.reshape(5, 2))(A34)  # <- reshape
    with raises_at(fg.ShapeError, "reshape -1", "cannot reshape f64[3,4]", "(5, -1)"):
        fg.make_ir(lambda x: fnp.reshape(x, (5, -1)))(A34)  # <- reshape -1
    with raises_at(fg.ShapeError, "eager reshape", "cannot reshape f64[3,4] into shape (7,)"):
        fnp.reshape(A34, 7)  # <- eager reshape


def test_concatenate_mismatch():
    with raises_at(fg.ShapeError, "concatenate",
                   "cannot concatenate f64[3,4] with f64[2,5] along axis 0"):
        fg.make_ir(lambda a, b: fnp.concatenate([a, b]))(A34, np.ones((2, 5)))  # <- concatenate
    with raises_at(fg.ShapeError, "eager concatenate", "f64[3,4]", "f64[5]"):
        fnp.concatenate([A34, A5])  # <- eager concatenate
    with raises_at(fg.ShapeError, "stack", "same shape", "f64[3,4]", "f64[5]"):
        fnp.stack([A34, A5])  # <- stack


def test_other_shape_errors_name_the_line():
    with raises_at(fg.ShapeError, "axis", "axis 2 is out of bounds"):
        fg.make_ir(lambda x: fnp.sum(x, axis=2))(A34)  # <- axis
    with raises_at(fg.ShapeError, "broadcast_to", "cannot broadcast f64[3,4] to shape (5,)"):
        fnp.broadcast_to(A34, (5,))  # <- broadcast_to
    with raises_at(fg.ShapeError, "empty max", "zero-size"):
        fnp.max(np.zeros((0, 2)), axis=0)  # <- empty max
    with raises_at(fg.ShapeError, "squeeze", "cannot squeeze axis 0"):
        fnp.squeeze(A34, 0)  # <- squeeze
    with raises_at(fg.ShapeError, "at set", "cannot use f64[3] to update"):
        fg.make_ir(lambda x: x.at[0].set(np.ones(3)))(A34)  # <- at set


def test_a_short_identity_permutation_is_not_a_permutation():
    # (0,) is the identity's prefix: it was taken for "nothing to do" before being checked
    with raises_at(fg.ShapeError, "short transpose", "(0,)", "f64[3,4]"):
        fnp.transpose(A34, (0,))  # <- short transpose
    with raises_at(fg.ShapeError, "lax transpose", "(0,)", "f64[3,4]"):
        lax.transpose(A34, (0,))  # <- lax transpose


def test_lax_static_bounds_are_checked_not_clipped():
    """NumPy's slicing clips what is out of range; JAX's lax refuses it, and funcgrad gave
    the clipped (or a wrong-size) result without a word."""
    with raises_at(fg.ShapeError, "slice limit", "lax.slice", "limit 9", "axis 0 of f64[5]"):
        lax.slice(A5, (0,), (9,))  # <- slice limit
    with raises_at(fg.ShapeError, "slice count", "lax.slice", "one start and one limit per "
                   "axis", "f64[3,4]"):
        lax.slice(A34, (0,), (2,))  # <- slice count
    with raises_at(fg.ShapeError, "slice start", "lax.slice", "start 4", "limit 2"):
        lax.slice(A5, (4,), (2,))  # <- slice start
    with raises_at(fg.ShapeError, "slice_in_dim", "lax.slice", "limit 7"):
        lax.slice_in_dim(A34, 0, 7, axis=1)  # <- slice_in_dim
    with raises_at(fg.ShapeError, "top_k", "top_k", "k=9", "f64[5]"):
        fg.jit(lambda x: lax.top_k(x, 9))(A5)  # <- top_k
    with raises_at(fg.ShapeError, "top_k negative", "top_k", "k=-1"):
        lax.top_k(A5, -1)  # <- top_k negative
    with raises_at(fg.ShapeError, "pad", "lax.pad", "2 (low, high, interior)", "f64[5]"):
        lax.pad(A5, 0.0, [(1, 1, 0), (1, 1, 0)])  # <- pad
    np.testing.assert_array_equal(lax.slice(np.arange(5.0), (1,), (5,), (2,)), [1.0, 3.0])
    assert lax.top_k(A5, 5)[0].shape == (5,) and lax.top_k(A5, 0)[0].shape == (0,)


def test_error_inside_a_helper_names_the_helper_line():
    def helper(x, y):
        return fnp.maximum(x, y)  # <- helper
    with raises_at(fg.ShapeError, "helper", "cannot broadcast"):
        fg.make_ir(lambda x, y: helper(x, y) * 2)(A34, A5)


# ---------------------------------------------------------------------------------------
# Python control flow on traced values


def _explains_control_flow(message):
    assert "fnp.where" in message
    assert "static_argnums" in message
    assert "lax.cond(pred, true_fun, false_fun" in message and "lax.while_loop(" in message
    assert "once, without the values of its inputs" in message


def test_if_on_a_traced_value():
    def relu(x):
        if x > 0:  # <- if
            return x
        return 0.0 * x
    with raises_at(fg.ConcretizationError, "if", "bool()", "this bool[] is traced") as info:
        fg.make_ir(relu)(1.0)
    _explains_control_flow(str(info.value))


def test_if_on_a_value_vmap_maps():
    # the reason given was "under make_ir and jit", neither of which the user called
    def relu(x):
        if x > 0:  # <- vmap if
            return x
        return 0.0 * x
    with raises_at(fg.ConcretizationError, "vmap if", "bool()", "vmap") as info:
        fg.vmap(relu)(A5)
    _explains_control_flow(str(info.value))


def test_while_on_a_traced_value():
    def grow(x):
        while fnp.sum(x) < 100:  # <- while
            x = x * 2
        return x
    with raises_at(fg.ConcretizationError, "while", "bool()") as info:
        fg.make_ir(grow)(np.ones(3))
    _explains_control_flow(str(info.value))


@pytest.mark.parametrize("convert", ["bool", "int", "float"])
def test_conversions_of_a_traced_value(convert):
    def f(x):
        return {"bool": bool, "int": int, "float": float}[convert](x)  # <- conversion
    with raises_at(fg.ConcretizationError, "conversion", f"{convert}()", "f64[]") as info:
        fg.make_ir(f)(np.float64(2.0))
    _explains_control_flow(str(info.value))


def test_and_or_not_on_traced_values():
    with raises_at(fg.ConcretizationError, "and", "bool()"):
        fg.make_ir(lambda x: (x > 0) and (x < 1))(1.0)  # <- and
    with raises_at(fg.ConcretizationError, "not", "bool()"):
        fg.make_ir(lambda x: not x)(1.0)  # <- not


def test_formatting_a_traced_value():
    def f(x):
        print(f"{x}")  # shows the tracer: fine
        return f"{x:.3f}"  # <- format
    with raises_at(fg.ConcretizationError, "format", "formatting with '.3f'"):
        fg.make_ir(f)(1.0)


def test_python_index_from_a_traced_value():
    with raises_at(fg.ConcretizationError, "python index", "Python index"):
        fg.make_ir(lambda i: [1.0, 2.0][i])(np.int64(0))  # <- python index


# ---------------------------------------------------------------------------------------
# NumPy functions on tracers


def test_numpy_function_without_a_funcgrad_equivalent():
    with raises_at(fg.FuncgradTypeError, "eig", "numpy.linalg.eig",
                   "funcgrad.numpy.linalg has no eig", "funcgrad.numpy"):
        fg.make_ir(lambda x: np.linalg.eig(x))(np.eye(3))  # <- eig
    with raises_at(fg.FuncgradTypeError, "sort_complex", "numpy.sort_complex",
                   "has no sort_complex"):
        fg.make_ir(lambda x: np.sort_complex(x))(A5)  # <- sort_complex


def test_numpy_ufunc_without_a_funcgrad_equivalent():
    with raises_at(fg.FuncgradTypeError, "isnat", "numpy.isnat",
                   "no funcgrad.numpy equivalent"):  # (datetimes: funcgrad has none)
        fg.make_ir(lambda x: np.isnat(x))(A5)  # <- isnat
    with raises_at(fg.FuncgradTypeError, "ufunc.at", "numpy.add.at"):
        fg.make_ir(lambda x: np.add.at(x, [0], 1.0))(A5)  # <- ufunc.at
    with raises_at(fg.FuncgradTypeError, "out=", "out=", "immutable"):
        fg.make_ir(lambda x: np.exp(x, out=np.empty(5)))(A5)  # <- out=


def test_numpy_options_funcgrad_lacks():
    with raises_at(fg.FuncgradTypeError, "sort order", "sort", "order="):
        fg.make_ir(lambda x: np.sort(x, order="a"))(A5)  # <- sort order
    with raises_at(fg.FuncgradTypeError, "sum out", "sum", "out="):
        fg.make_ir(lambda x: np.sum(x, out=np.zeros(())))(A5)  # <- sum out


CONVERSIONS = {
    "asarray": lambda t: np.asarray(t),  # <- to numpy asarray
    "array": lambda t: np.array(t),  # <- to numpy array
    "object array": lambda t: np.array(t, dtype=object),  # <- to numpy object array
    "list of tracers": lambda t: np.asarray([t, t]),  # <- to numpy list of tracers
    "np.float64": lambda t: np.float64(t[0]),  # <- to numpy np.float64
    "np.vectorize": lambda t: np.vectorize(abs)(t),  # <- to numpy np.vectorize
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_numpy_conversion_never_makes_an_object_array(name):
    with raises_at(fg.FuncgradTypeError, f"to numpy {name}",
                   "a traced f64", "cannot become a NumPy array", "funcgrad.numpy"):
        fg.make_ir(CONVERSIONS[name])(A5)


def test_storing_a_traced_value_into_a_numpy_array():
    """NumPy turns the error into its own ValueError; ours is its cause, naming the line."""
    def f(x):
        out = np.zeros(3)
        out[0] = x[0]  # <- numpy setitem
        return out
    with pytest.raises(ValueError) as info:
        fg.make_ir(f)(A5)
    assert isinstance(info.value.__cause__, fg.ConcretizationError)
    assert line_of("numpy setitem") in str(info.value.__cause__)


# ---------------------------------------------------------------------------------------
# Escaped tracers

leaked = []


def _leak(x):
    y = fnp.sin(x)  # <- created
    leaked.append(y)
    return x


@pytest.mark.parametrize("use", ["operator", "fnp", "numpy", "indexing", "method",
                                 "another trace", "bool"])
def test_escaped_tracer_used_later(use):
    leaked.clear()
    fg.make_ir(_leak)(A5)
    t = leaked[0]
    uses = {
        "operator": lambda: t + 1.0,  # <- use operator
        "fnp": lambda: fnp.exp(t),  # <- use fnp
        "numpy": lambda: np.exp(t),  # <- use numpy
        "indexing": lambda: t[0],  # <- use indexing
        "method": lambda: t.sum(),  # <- use method
        "another trace": lambda: fg.make_ir(lambda z: z * t)(A5),  # <- use another trace
        "bool": lambda: bool(t),  # <- use bool
    }
    with raises_at(fg.UnexpectedTracerError, f"use {use}", "f64[5]",
                   f"created at {line_of('created')}", "escaped", "Return it") as info:
        uses[use]()
    assert f"used at {line_of(f'use {use}')}" in str(info.value)


# ---------------------------------------------------------------------------------------
# Arguments that are not arrays


def loss(params, x, labels=None):
    return fnp.sum(params["w"] * x)


def test_string_argument_names_its_position_and_name():
    with raises_at(fg.FuncgradTypeError, "string arg", "argument 1 (x) of loss",
                   "str value 'abc' is not an array", "static_argnums"):
        fg.make_ir(loss)({"w": A5}, "abc")  # <- string arg


def test_object_inside_a_pytree_names_its_path():
    with raises_at(fg.FuncgradTypeError, "object leaf", "argument 0 (params) of loss",
                   "['w']", "object value", "is not an array"):
        fg.make_ir(loss)({"w": object()}, A5)  # <- object leaf


def test_keyword_argument_names_its_keyword():
    with raises_at(fg.FuncgradTypeError, "keyword arg", "keyword argument labels of loss",
                   "str value"):
        fg.make_ir(loss)({"w": A5}, A5, labels="cats")  # <- keyword arg


def test_unsupported_dtypes():
    with raises_at(fg.FuncgradTypeError, "complex", "complex"):
        fg.make_ir(loss)({"w": A5}, np.ones(5, complex))  # <- complex
    with raises_at(fg.FuncgradTypeError, "float16", "float16", "float32, float64"):
        fg.make_ir(loss)({"w": A5}, np.ones(5, np.float16))  # <- float16


def test_a_static_string_is_fine():
    closed = fg.make_ir(lambda x, mode: x * 2 if mode == "double" else x,
                        static_argnums=1)(A5, "double")
    assert len(closed.program.invars) == 1


def test_static_arguments_that_name_no_parameter():
    """A misspelt static_argnames was ignored: the argument was traced, and the `if` on it
    failed with advice to make it static, which it was meant to be (JAX refuses at jit)."""
    def scaled(x, power, mode="sum"):
        return fnp.sum(x ** power) if mode == "sum" else x ** power
    with raises_at(fg.FuncgradValueError, "misspelt", "static_argnames", "'pwr'",
                   "scaled has no parameter", "(x, power, mode)"):
        fg.jit(scaled, static_argnames=("pwr", "mode"))  # <- misspelt
    with raises_at(fg.FuncgradTypeError, "float argnums", "static_argnums", "1.0"):
        fg.jit(scaled, static_argnums=1.0)  # <- float argnums
    with raises_at(fg.FuncgradTypeError, "int argnames", "static_argnames", "names", "1"):
        fg.jit(scaled, static_argnames=1)  # <- int argnames
    # a function taking **kwargs takes any name
    assert fg.jit(lambda x, **kw: x * kw["k"], static_argnames="k")(A5, k=2.0)[0] == 2.0


def test_eager_functions_refuse_non_arrays():
    with raises_at(fg.FuncgradTypeError, "eager string", "str value 'abc'", "not an array"):
        fnp.exp("abc")  # <- eager string
    with raises_at(fg.FuncgradTypeError, "eager object", "object value", "not an array"):
        fnp.add(A5, object())  # <- eager object
    with raises_at(fg.FuncgradTypeError, "eager sum", "str value", "not an array"):
        fnp.sum("abc")  # <- eager sum


def test_fnp_ufunc_options_and_arity():
    with raises_at(fg.FuncgradTypeError, "fnp out", "funcgrad.numpy.exp has no out=",
                   "returned value"):
        fnp.exp(A5, out=A5)  # <- fnp out
    with raises_at(fg.FuncgradTypeError, "fnp where", "funcgrad.numpy.add does not support where="):
        fg.make_ir(lambda x: fnp.add(x, 1.0, where=x > 0))(A5)  # <- fnp where
    with raises_at(fg.FuncgradTypeError, "fnp arity",
                   "funcgrad.numpy.add takes 2 array arguments, got 1"):
        fnp.add(A5)  # <- fnp arity


def test_returning_a_non_array():
    with raises_at(fg.FuncgradTypeError, "return str", "returned a str"):
        fg.make_ir(lambda x: (x, "done"))(A5)  # <- return str


# ---------------------------------------------------------------------------------------
# Indexing


def test_index_errors():
    with raises_at(fg.FuncgradIndexError, "index oob",
                   "index 5 is out of bounds for an axis of size 5"):
        fg.make_ir(lambda x: x[5])(A5)  # <- index oob
    with raises_at(IndexError, "take oob", "index -6 is out of bounds"):
        fnp.take(A5, [0, -6])  # <- take oob
    with raises_at(IndexError, "traced mask", "shape depends on values", "fnp.where"):
        fg.make_ir(lambda x: x[x > 0])(A5)  # <- traced mask
    with raises_at(IndexError, "float index", "must be integers"):
        fg.make_ir(lambda x: x[np.array([0.5])])(A5)  # <- float index
    with raises_at(IndexError, "float scalar index", "valid indices, not 1.0"):
        fg.make_ir(lambda x: x[1.0])(A5)  # <- float scalar index
    with raises_at(fg.FuncgradTypeError, "at divide", ".divide is not supported", ".set"):
        fg.make_ir(lambda x: x.at[0].divide(2.0))(A5)  # <- at divide


# ---------------------------------------------------------------------------------------
# In-place updates


def test_setitem_points_to_at():
    def update(x):
        x[0] = 1.0  # <- setitem
        return x
    with raises_at(fg.InPlaceUpdateError, "setitem", "x.at[i].set(v)", "immutable"):
        fg.make_ir(update)(A5)


def test_augmented_setitem_points_to_at():
    def update(x):
        x[1:] += 1.0  # <- augmented setitem
        return x
    with raises_at(fg.InPlaceUpdateError, "augmented setitem", ".add(v)"):
        fg.make_ir(update)(A5)


# ---------------------------------------------------------------------------------------
# The format, everywhere


def test_every_error_above_ends_with_one_location():
    """Messages name a line once; those that place it themselves are the exceptions."""
    for error in (lambda: fnp.add(A34, A5), lambda: fnp.exp("abc"),
                  lambda: fg.make_ir(lambda x: np.sort_complex(x))(A5)):
        with pytest.raises(fg.FuncgradError) as info:
            error()
        assert re.search(r" \(in test_errors\.py:\d+\)$", str(info.value)), str(info.value)
        assert len(re.findall(r"test_errors\.py:\d+", str(info.value))) == 1
