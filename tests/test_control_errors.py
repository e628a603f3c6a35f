"""Errors from the transformations' and lax's function arguments (a non-callable, a function of
the wrong number of arguments, branches of different types, pmap's options): each is a
FuncgradError that says which function was wrong and names the user's line.

The line an error must name is marked in this file with a comment ``# <- name``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
import marked_lines



def line_of(marker: str) -> str:
    return marked_lines.line_of(__file__, marker)


@contextlib.contextmanager
def raises_at(error, marker, *fragments):
    """The block raises ``error`` (a FuncgradError), whose message has every fragment and
    ends by naming the marked line."""
    with pytest.raises(error) as info:
        yield info
    message = str(info.value)
    assert isinstance(info.value, fg.FuncgradError), repr(info.value)
    assert message.endswith(f"(in {line_of(marker)})"), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# ---------------------------------------------------------------------------------------
# Something that is not a function, refused when it is given rather than when it is called

WRAPPERS = ["grad", "value_and_grad", "jit", "vmap", "pmap", "jacrev", "jacfwd", "hessian",
            "checkpoint", "remat", "custom_vjp", "custom_jvp", "make_ir", "linearize"]


@pytest.mark.parametrize("name", WRAPPERS)
def test_a_transformation_of_a_non_function_is_refused_at_once(name):
    wrapper = getattr(fg, name)
    shown = "checkpoint" if name == "remat" else name  # (remat is checkpoint, as in JAX)
    with raises_at(fg.FuncgradTypeError, "wrap", f"{shown} needs a function, got int"):
        wrapper(3)  # <- wrap


def test_transformations_that_call_at_once_refuse_a_non_function():
    with raises_at(fg.FuncgradTypeError, "jvp", "jvp needs a function, got int 3"):
        fg.jvp(3, (1.0,), (1.0,))  # <- jvp
    with raises_at(fg.FuncgradTypeError, "vjp", "vjp needs a function, got int 3"):
        fg.vjp(3, 1.0)  # <- vjp
    with raises_at(fg.FuncgradTypeError, "eval_shape", "eval_shape needs a function"):
        fg.eval_shape(3, 1.0)  # <- eval_shape


def test_custom_rules_that_are_not_functions_are_refused_when_set():
    f = fg.custom_vjp(lambda x: x)
    with raises_at(fg.FuncgradTypeError, "defvjp", "defvjp of custom_vjp function <lambda>",
                   "its bwd must be a function, got int 3"):
        f.defvjp(lambda x: (x, None), 3)  # <- defvjp
    g = fg.custom_jvp(lambda x: x)
    with raises_at(fg.FuncgradTypeError, "defjvp", "its jvp must be a function, got str"):
        g.defjvp("rule")  # <- defjvp


# ---------------------------------------------------------------------------------------
# A function of the wrong number of arguments: which one, what it is given, what it takes

def one(a):
    return a


def two(a, b):
    return a


@pytest.mark.parametrize("marker, loop, role, given, takes", [
    ("fori", lambda: lax.fori_loop(0, 3, one, 0.0),  # <- fori
     "fori_loop's body_fun", "2 arguments (the index and the loop value)", "one (line"),
    ("cond_fun", lambda: lax.while_loop(two, one, 0.0),  # <- cond_fun
     "while_loop's cond_fun", "1 argument (the loop value)", "two (line"),
    ("body_fun", lambda: lax.while_loop(one, two, 0.0),  # <- body_fun
     "while_loop's body_fun", "1 argument", "takes (a, b)"),
    ("scan", lambda: lax.scan(one, 0.0, np.ones(3)),  # <- scan
     "scan's f", "2 arguments (the carry and a slice of xs)", "takes (a)"),
    ("map", lambda: lax.map(two, np.ones(3)),  # <- map
     "map's f", "1 argument (a slice of xs)", "takes (a, b)"),
    ("cond", lambda: lax.cond(True, one, two, 1.0),  # <- cond
     "cond's false_fun", "1 argument (the operand after the functions)", "takes (a, b)"),
    ("switch", lambda: lax.switch(0, [two, one], 1.0, 2.0),  # <- switch
     "switch's branch 1", "2 arguments (the operands after the functions)", "takes (a)"),
])
def test_a_function_of_the_wrong_arity_is_named(marker, loop, role, given, takes):
    with raises_at(fg.FuncgradTypeError, marker, role, f"is called with {given}", takes):
        loop()


def test_the_wrong_arity_under_jit_names_the_line_of_the_loop():
    def f(x):
        return lax.fori_loop(0, 3, lambda i: i, x)  # <- jit arity
    with raises_at(fg.FuncgradTypeError, "jit arity", "fori_loop's body_fun is called with 2 "
                   "arguments", "but <lambda> takes (i)"):  # (defined on the line named)
        fg.jit(f, compile="sync")(0.0)


def test_functions_taking_any_number_of_arguments_are_not_refused():
    assert lax.fori_loop(0, 3, lambda *args: args[1] + 1.0, 0.0) == 3.0
    assert lax.cond(True, lambda *a: 1.0, lambda: 2.0) == 1.0
    assert lax.scan(lambda c, x, scale=2.0: (c + scale * x, None), 0.0, np.ones(3))[0] == 6.0


def test_custom_rules_of_the_wrong_arity_are_named():
    f = fg.custom_vjp(lambda x, y: x * y)
    f.defvjp(lambda x: (x, None), lambda res, g: (g, g))
    with raises_at(fg.FuncgradTypeError, "fwd arity", "the fwd rule of custom_vjp function "
                   "<lambda> is called with 2 arguments", "takes (x)"):
        fg.grad(lambda x: f(x, 2.0))(1.0)  # <- fwd arity
    f.defvjp(lambda x, y: (x * y, y), lambda g: (g, g))
    with raises_at(fg.FuncgradTypeError, "bwd arity", "the bwd rule", "called with 2 "
                   "arguments (the residuals and the output cotangent)", "takes (g)"):
        fg.grad(lambda x: f(x, 2.0))(1.0)  # <- bwd arity
    g = fg.custom_jvp(lambda x: x)
    g.defjvp(lambda primals: primals)
    with raises_at(fg.FuncgradTypeError, "jvp arity", "the JVP rule of custom_jvp function "
                   "<lambda> is called with 2 arguments (the primals and the tangents"):
        fg.jvp(g, (1.0,), (1.0,))  # <- jvp arity


# ---------------------------------------------------------------------------------------
# The public namespace of funcgrad.lax


def test_lax_shows_only_its_api():
    public = [n for n in dir(lax) if not n.startswith("_")]
    assert sorted(public) == sorted(lax.__all__)
    namespace: dict = {}
    exec("from funcgrad.lax import *", namespace)
    assert {"cond", "scan", "psum", "dynamic_slice"} <= namespace.keys()
    assert not {"annotations", "builtins"} & namespace.keys()


# ---------------------------------------------------------------------------------------
# Branches that return different types


def test_branches_returning_an_int_and_a_float_are_refused_as_in_jax():
    with raises_at(fg.FuncgradTypeError, "int float", "the branches of a cond must return the "
                   "same types: false_fun returns f64[] but true_fun returns i64[]"):
        lax.cond(True, lambda: 1, lambda: 1.0)  # <- int float
    def branchy(p):
        return lax.cond(p, lambda: 1, lambda: 1.0)  # <- jit int float
    with raises_at(fg.FuncgradTypeError, "jit int float", "cond must return the same types"):
        fg.jit(branchy, compile="sync")(True)
    with raises_at(fg.FuncgradTypeError, "int f32", "true_fun returns i64[]", "f32[]"):
        lax.cond(False, lambda x: 2, lambda x: x, np.float32(1))  # <- int f32
    with raises_at(fg.FuncgradTypeError, "switch kinds", "the branches of a switch must return the "
                   "same types: branch 0 returns f64[] but branch 2 returns i64[]"):
        lax.switch(1, [lambda: 1.0, lambda: 2.0, lambda: 3])  # <- switch kinds
    with raises_at(fg.FuncgradTypeError, "bool", "switch", "bool[]", "i64[]"):
        lax.switch(0, [lambda x: x > 0, lambda x: 1], 1.0)  # <- bool


def test_a_python_number_still_takes_the_dtype_of_its_kind_in_another_branch():
    for run in (lambda f: f, lambda f: fg.jit(f, compile="sync")):
        out = run(lambda p: lax.cond(p, lambda: 0.5, lambda: np.float32(2.0)))(True)
        assert out == 0.5 and out.dtype == np.float32
        out = run(lambda i: lax.switch(i, [lambda: 7, lambda: np.int8(1)]))(0)
        assert out == 7 and out.dtype == np.int8


# ---------------------------------------------------------------------------------------
# pmap's errors speak of pmap (it is jit of vmap inside)


def test_pmap_errors_say_pmap():
    def add(x, y):
        return x + y
    with raises_at(fg.ShapeError, "pmap axis", "pmap of add: in_axes maps axis 2 of argument "
                   "0 (x) of add, which has shape (3,)"):
        fg.pmap(add, in_axes=2)(np.ones(3), np.ones(3))  # <- pmap axis
    with raises_at(fg.ShapeError, "pmap sizes", "pmap of add: the mapped axes have different "
                   "sizes: argument 0 (x) of add has size 3", "argument 1 (y) of add has size 2"):
        fg.pmap(add)(np.ones(3), np.ones(2))  # <- pmap sizes
    with raises_at(fg.FuncgradTypeError, "pmap spec", "pmap's in_axes must hold ints"):
        fg.pmap(add, in_axes="x")(np.ones(3), np.ones(3))  # <- pmap spec
    with raises_at(fg.ShapeError, "pmap out", "pmap of add: out_axes puts the batch axis"):
        fg.pmap(add, out_axes=3)(np.ones(3), np.ones(3))  # <- pmap out
    scaled = fg.pmap(lambda k, x: k * x, in_axes=(None, 1), static_broadcasted_argnums=0)
    with raises_at(fg.ShapeError, "pmap static", "pmap of <lambda>: in_axes maps axis 1"):
        scaled(2.0, np.ones(3))  # <- pmap static
    with raises_at(fg.ShapeError, "vmap sizes", "vmap of add: the mapped axes"):
        fg.vmap(add)(np.ones(3), np.ones(2))  # <- vmap sizes


# ---------------------------------------------------------------------------------------
# Integers to negative integer powers (docs/sharp-bits.md, "dtypes follow NumPy 2")


def test_a_constant_negative_integer_power_names_the_line_in_both_tiers():
    with pytest.raises(ValueError, match="Integers to negative integer powers"):
        np.power(np.array([2, 3]), -1)  # (NumPy's refusal)

    def reciprocal(x):
        return x ** -1  # <- power
    for tier in (fg.jit(reciprocal), fg.jit(reciprocal, compile="sync"), fg.vmap(reciprocal)):
        with raises_at(fg.FuncgradValueError, "power", "integers to negative integer powers "
                       "are not allowed (exponent -1)"):
            tier(np.array([2, 3], np.int32))
    with raises_at(fg.FuncgradValueError, "integer_pow", "negative integer powers"):
        fg.jit(lambda x: lax.integer_pow(x, -2), compile="sync")(np.int32(2))  # <- integer_pow
    with raises_at(fg.FuncgradValueError, "fnp.power", "(exponent -3)"):  # eagerly
        fnp.power(np.arange(3), np.array([1, 2, -3]))  # <- fnp.power


# ---------------------------------------------------------------------------------------
# Further errors of this area that named an internal function, or none


def test_what_a_function_returned_is_described_not_called_a_tracer():
    with raises_at(fg.FuncgradTypeError, "scan pair", "scan's f must return a pair (carry, y), "
                   "but it returned a single array (f64[])"):
        lax.scan(lambda c, x: c + x, 0.0, np.ones(3))  # <- scan pair
    f = fg.custom_vjp(lambda x: x)
    f.defvjp(lambda x: x, lambda res, g: (g,))
    with raises_at(fg.FuncgradTypeError, "fwd pair", "must return a pair (output, residuals), "
                   "but it returned a single array (f64[])"):
        fg.grad(f)(1.0)  # <- fwd pair
    f.defvjp(lambda x: (x, None), lambda res, g: g)
    with raises_at(fg.FuncgradTypeError, "bwd tuple", "must return a tuple of 1 cotangent, one "
                   "per differentiable argument, but it returned a single array (f64[])"):
        fg.grad(f)(1.0)  # <- bwd tuple
    with raises_at(fg.FuncgradTypeError, "jacrev aux", "has_aux=True needs <lambda> to return a "
                   "pair (output, aux)"):  # (it named jacrev's internal 'partial')
        fg.jacrev(lambda x: x, has_aux=True)(np.ones(2))  # <- jacrev aux


def test_nondiff_argnums_errors_say_nondiff_argnums():
    with raises_at(fg.FuncgradTypeError, "nondiff type", "custom_vjp of <lambda>: "
                   "nondiff_argnums must be non-negative ints", "got 'a'"):
        fg.custom_vjp(lambda x: x, nondiff_argnums="a")  # <- nondiff type
    with raises_at(fg.FuncgradTypeError, "nondiff negative", "got (-1,)"):
        fg.custom_jvp(lambda n, x: x, nondiff_argnums=(-1,))  # <- nondiff negative
    g = fg.custom_jvp(lambda x: x, nondiff_argnums=(2,))
    with raises_at(fg.FuncgradTypeError, "nondiff range", "custom_jvp function <lambda> has "
                   "nondiff_argnums=(2,), but was called with 1 positional argument"):
        fg.grad(g)(1.0)  # <- nondiff range


def test_scan_and_map_arguments_are_checked_in_their_own_names():
    with raises_at(fg.ShapeError, "map sizes", "map's xs disagree on the number of steps: 3 "
                   "for xs leaf 0 (f64[3]), 2 for xs leaf 1 (f64[2])"):
        lax.map(lambda x: x[0] + x[1], (np.ones(3), np.ones(2)))  # <- map sizes
    with raises_at(fg.FuncgradTypeError, "map output", "output 0 of map's f"):
        lax.map(lambda x: "label", np.ones(3))  # <- map output
    with raises_at(fg.FuncgradTypeError, "scan length", "scan's length must be an int", "2.5"):
        lax.scan(lambda c, x: (c, x), 0.0, None, length=2.5)  # <- scan length
    with raises_at(fg.FuncgradTypeError, "switch seq", "switch's branches must be a sequence "
                   "of functions, got function"):
        lax.switch(0, lambda: 1.0)  # <- switch seq
    with raises_at(fg.FuncgradTypeError, "max_steps", "while_loop's max_steps must be a "
                   "non-negative int, got -1"):
        lax.while_loop(lambda c: c < 3, lambda c: c + 1, 0, max_steps=-1)  # <- max_steps


def test_an_integer_tangent_for_a_float_output_is_refused_as_in_jax():
    """It cut the tangent's dependence on the input tangents: jvp gave 3.0 where grad gave
    0.0, and a rule returning 0 made jvp's tangent an int64."""
    f = fg.custom_jvp(lambda x: x * 3.0)
    f.defjvp(lambda p, t: (p[0] * 3.0, (t[0] * 3.0).astype(np.int64)))
    message = "returned an integer tangent (int64) for a float output (f64[])"
    with raises_at(fg.FuncgradTypeError, "int tangent grad", message):
        fg.grad(f)(1.0)  # <- int tangent grad
    with raises_at(fg.FuncgradTypeError, "int tangent jvp", message):
        fg.jvp(f, (1.0,), (1.0,))  # <- int tangent jvp
    f.defjvp(lambda p, t: (p[0] * 3.0, 0.0))  # no derivative, said in a float
    assert fg.jvp(f, (1.0,), (1.0,))[1] == 0.0 and fg.grad(f)(1.0) == 0.0


# ---------------------------------------------------------------------------------------
# A transformed function called with arguments its function does not take


def test_a_call_with_arguments_the_function_does_not_take_names_the_line():
    def f(x):
        return x * 2.0
    for transformed in (fg.jit(f), fg.grad(f), fg.vmap(f), fg.checkpoint(f)):
        with raises_at(fg.FuncgradTypeError, "too many", "f (line", "was called with 2 "
                       "positional arguments, but it takes (x): too many positional arguments"):
            transformed(np.ones(2), np.ones(2))  # <- too many
    with raises_at(fg.FuncgradTypeError, "keyword", "keyword arguments ['y']", "takes (x)"):
        fg.jit(f)(1.0, y=2.0)  # <- keyword


def test_a_type_error_inside_the_function_is_left_as_python_raised_it():
    def f(x):
        raise TypeError("the function's own")
    for transformed in (fg.jit(f), fg.grad(f), fg.checkpoint(f)):
        with pytest.raises(TypeError) as info:
            transformed(1.0)
        assert type(info.value) is TypeError and str(info.value) == "the function's own"


def test_a_pullback_given_the_wrong_cotangent_shows_both_structures():
    _, pullback = fg.vjp(lambda x: (x, {"b": x[0]}), np.ones(2))
    with raises_at(fg.FuncgradTypeError, "ct tree", "vjp's pullback takes a cotangent with the "
                   "structure of the output, (f64[2], {b: f64[]}), but was given (f64[2],)"):
        pullback((np.ones(2),))  # <- ct tree
    with raises_at(fg.ShapeError, "ct shape", "vjp's pullback: cotangent 0 has shape (3,), but "
                   "its output has shape (2,)"):
        pullback((np.ones(3), {"b": 1.0}))  # <- ct shape
    assert np.array_equal(pullback((np.ones(2), {"b": 1.0}))[0], [2.0, 1.0])
