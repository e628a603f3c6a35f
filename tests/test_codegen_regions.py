"""The code generator's kinds: ``Region`` lowers primitives holding sub-programs as blocks of
the one generated function (if/else, for and while loops, scan-like stacked outputs), never
unrolled; elementwise kinds declare whether they are cheap; reductions declare their axes.
The primitives here are toys declared by the tests, as a newcomer would declare one."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.compile.codegen import generate
from funcgrad.core.errors import LoweringError
from funcgrad.core.evaluate import evaluate
from funcgrad.core.primitive import Primitive
from funcgrad.core.rules import REGISTRY, forget
from funcgrad.core.tracing import trace_flat
from funcgrad.core.types import ShapedArray
from funcgrad.rules.lowering import Elementwise, Reduction, Region, arith, call, lowerings

rng = np.random.default_rng(0)


def sub_program(fn, *avals):
    def listed(*args):
        out = fn(*args)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    program, consts = trace_flat(listed, list(avals))
    assert not consts
    return program


def aval(x):
    x = np.asarray(x)
    return ShapedArray(x.shape, x.dtype)


def generated(fn, *args):
    """The generated source of ``fn`` traced on ``args``'s avals, without its comments."""
    source = generate(sub_program(fn, *map(aval, args))).source
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def check(fn, *args):
    """jit(fn) equals the NumPy evaluation of fn's program."""
    want = evaluate(sub_program(fn, *map(aval, args)), list(args))
    got = fg.jit(fn)(*args)
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


# -- toy primitives holding sub-programs ---------------------------------------------------

def _repeat_impl(*carry, body, n):
    for _ in range(n):
        carry = evaluate(body, list(carry))
    return list(carry)


def _lower_repeat(ctx, eqn):
    """for i in range(n): carry = body(carry)."""
    carry = [ctx.fresh("carry") for _ in eqn.outputs]
    ctx.assign(carry, [ctx.array(a) for a in eqn.inputs])
    ctx.emit(f"for {ctx.fresh('i')} in range({ctx.literal(eqn.params['n'], np.int64)}):")
    with ctx.indented():
        ctx.assign(carry, ctx.lower_region(eqn.params["body"], carry))
    for var, name in zip(eqn.outputs, carry):
        ctx.bind(var, name)


repeat_p = Primitive("repeat_test", impl=_repeat_impl, multiple_results=True,
                     shape_rule=lambda *avals, body, n: body.out_avals)


def _branch_impl(pred, *args, then, otherwise):
    return evaluate(then if pred else otherwise, list(args))


def _lower_branch(ctx, eqn):
    """if pred: outs = then(args) else: outs = otherwise(args)."""
    pred, *args = [ctx.array(a) for a in eqn.inputs]
    outs = [ctx.fresh("branch") for _ in eqn.outputs]
    ctx.emit(f"if {pred}:")
    with ctx.indented():
        ctx.assign(outs, ctx.lower_region(eqn.params["then"], args))
    ctx.emit("else:")
    with ctx.indented():
        ctx.assign(outs, ctx.lower_region(eqn.params["otherwise"], args))
    for var, name in zip(eqn.outputs, outs):
        ctx.bind(var, name)


branch_p = Primitive("branch_test", impl=_branch_impl, multiple_results=True,
                     shape_rule=lambda pred, *avals, then, otherwise: then.out_avals)


def _while_impl(*carry, cond, body):
    while evaluate(cond, list(carry))[0]:
        carry = evaluate(body, list(carry))
    return list(carry)


def _lower_while(ctx, eqn):
    """while cond(carry): carry = body(carry)."""
    carry = [ctx.fresh("carry") for _ in eqn.outputs]
    ctx.assign(carry, [ctx.array(a) for a in eqn.inputs])
    ctx.emit("while True:")
    with ctx.indented():
        (go,) = ctx.lower_region(eqn.params["cond"], carry)
        ctx.emit(f"if not {go}:")
        ctx.emit("    break")
        ctx.assign(carry, ctx.lower_region(eqn.params["body"], carry))
    for var, name in zip(eqn.outputs, carry):
        ctx.bind(var, name)


while_p = Primitive("while_test", impl=_while_impl, multiple_results=True,
                    shape_rule=lambda *avals, cond, body: body.out_avals)


def _scan_impl(init, xs, *, body):
    carry, ys = init, []
    for x in xs:
        carry, y = evaluate(body, [carry, x])
        ys.append(y)
    return [carry, np.stack(ys)]


def _scan_rule(init, xs, *, body):
    carry, y = body.out_avals
    return [carry, ShapedArray((xs.shape[0], *y.shape), y.dtype)]


def _lower_scan(ctx, eqn):
    """carry, ys[i] = body(carry, xs[i]) for each i: ys preallocated, written at index i."""
    init, xs = eqn.inputs
    (carry,), ys = [ctx.fresh("carry")], ctx.new_array(eqn.outputs[1].aval, "ys")
    ctx.assign([carry], [ctx.array(init)])
    xs_name, i = ctx.array(xs), ctx.fresh("i")
    ctx.emit(f"for {i} in range({ctx.dim(xs.aval.shape[0])}):")
    with ctx.indented():
        new_carry, y = ctx.lower_region(eqn.params["body"], [carry, f"{xs_name}[{i}]"])
        ctx.emit(f"{ys}[{i}] = {y}")
        ctx.assign([carry], [new_carry])
    ctx.bind(eqn.outputs[0], carry)
    ctx.bind(eqn.outputs[1], ys)


scan_p = Primitive("scan_test", impl=_scan_impl, multiple_results=True, shape_rule=_scan_rule)


# The toys are declared only while this module's tests run: left in the registry, they would
# be primitives without rules to tests/test_registry.py, which pytest -n may run in the same
# process before these (every worker collects, that is imports, every test module).
TOYS = {repeat_p: Region(_lower_repeat), branch_p: Region(_lower_branch),
        while_p: Region(_lower_while), scan_p: Region(_lower_scan)}
for _toy in TOYS:
    forget(_toy)


@pytest.fixture(scope="module", autouse=True)
def declared_toys():
    for toy, lowering in TOYS.items():
        REGISTRY[toy.name] = toy
        lowerings[toy] = lowering
    yield
    for toy in TOYS:
        forget(toy)


VEC = ShapedArray((4,), np.dtype("float64"))
SCALAR = ShapedArray((), np.dtype("float64"))


def _step(x):  # a fused loop, a reduction, views and a function call
    return [fnp.tanh(x[::-1] * 0.5 + fnp.sum(x) * 0.01)]


STEP = sub_program(_step, VEC)


# -- loops ---------------------------------------------------------------------------------

def test_a_for_loop_runs_a_sub_program_n_times():
    x = rng.standard_normal(4)
    check(lambda x: repeat_p.bind(x, body=STEP, n=5)[0], x)


def test_a_loop_is_not_unrolled_its_trip_count_is_read_at_run_time():
    def repeated(n):
        return lambda x: repeat_p.bind(x, body=STEP, n=n)[0]

    x = rng.standard_normal(4)
    three, fifty = generated(repeated(3), x), generated(repeated(50), x)
    assert three == fifty and three.count("tanh(") == 1
    assert three.count("def ") == 1  # one function: the body is a block inside it
    check(repeated(50), x)


def test_carried_values_swap_at_once_scalars_and_arrays():
    fib = sub_program(lambda a, b, v: [b, a + b, v * 2.0], SCALAR, SCALAR, VEC)
    check(lambda v: repeat_p.bind(0.0, 1.0, v, body=fib, n=10), rng.standard_normal(4))
    assert fg.jit(lambda v: repeat_p.bind(0.0, 1.0, v, body=fib, n=10)[0])(np.ones(4)) == 55


def test_a_while_loop_with_a_condition_sub_program():
    cond = sub_program(lambda x, k: [fnp.logical_and(fnp.sum(x * x) < 100.0, k < 50)],
                       VEC, ShapedArray((), np.dtype("int64")))
    body = sub_program(lambda x, k: [x * 1.5 + 0.1, k + 1],
                       VEC, ShapedArray((), np.dtype("int64")))
    check(lambda x: while_p.bind(x, np.int64(0), cond=cond, body=body),
          rng.standard_normal(4))


def test_scan_writes_stacked_outputs_at_index_i():
    body = sub_program(lambda c, x: [c + fnp.sum(x), fnp.exp(x) * c], SCALAR,
                       ShapedArray((3,), np.dtype("float64")))
    xs = rng.standard_normal((6, 3))
    check(lambda xs: scan_p.bind(0.5, xs, body=body), xs)
    source = generated(lambda xs: scan_p.bind(0.5, xs, body=body), xs)
    assert source.count("exp(") == 1
    # shape-generic: a longer sequence generates the same source
    assert source == generated(lambda xs: scan_p.bind(0.5, xs, body=body), np.ones((60, 3)))


def test_loops_compute_rows_and_carries_in_place_without_slice_assignment():
    """In the RNN's gradient, nothing is allocated per iteration but what BLAS returns: the
    fused loops write each step's saved values into their stack rows and the new hidden
    state into a second buffer that swaps with the carry."""
    w = rng.standard_normal((4, 4)) * 0.5

    def loss(w, h):
        h, _ = fg.lax.scan(lambda h, _: (fnp.tanh(h @ w), None), h, None, length=7)
        return fnp.sum(h * h)

    h = rng.standard_normal(4)
    jitted = fg.jit(fg.grad(loss))
    np.testing.assert_allclose(jitted(w, h), fg.grad(loss)(w, h), rtol=1e-13)
    source = jitted.lower(w, h).source.split("def program")[1]
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    in_loops = [line for line in lines if line.startswith(" " * 8)]
    assert not [line for line in in_loops if "empty(" in line or "np.copy" in line]
    assert any(line.strip().startswith("carry_") and ", spare_" in line for line in lines)
    assert any(" = ys_" in line for line in in_loops)  # a row, written by a fused loop


# -- branches ------------------------------------------------------------------------------

def test_a_branch_picks_one_of_two_sub_programs():
    double = sub_program(lambda x: [x * 2.0], VEC)
    for sign in (1.0, -1.0):
        x = sign * np.abs(rng.standard_normal(4))
        check(lambda x: branch_p.bind(fnp.sum(x) > 0, x, then=STEP, otherwise=double)[0], x)


def test_the_same_sub_program_twice_gets_fresh_names_and_regions_nest():
    loop = sub_program(lambda x: repeat_p.bind(x, body=STEP, n=3), VEC)
    def f(x):
        y = branch_p.bind(fnp.sum(x) > 0, x, then=loop, otherwise=STEP)[0]
        return branch_p.bind(fnp.sum(y) > 0, y, then=STEP, otherwise=STEP)[0]
    for sign in (1.0, -1.0):
        check(f, sign * np.abs(rng.standard_normal(4)))
    assert generated(f, np.ones(4)).count("tanh(") == 4  # each emission once; none unrolled


def test_a_region_holding_a_jit_call_inlines_it():
    inner = fg.jit(lambda x: fnp.sin(x) + 1.0)
    body = sub_program(lambda x: [inner(x) * 0.5], VEC)
    check(lambda x: repeat_p.bind(x, body=body, n=4)[0], rng.standard_normal(4))


def test_a_region_without_lowering_names_the_primitive():
    nothing = Primitive("no_lowering_test", impl=np.negative, shape_rule=lambda x: x)
    try:
        body = sub_program(lambda x: [nothing.bind(x)], VEC)
        with pytest.raises(LoweringError, match="no_lowering_test"):
            generated(lambda x: repeat_p.bind(x, body=body, n=2)[0], np.ones(4))
    finally:
        forget(nothing)


def test_numba_failing_inside_a_region_names_the_line_of_the_body():
    broken = Primitive("broken_in_region_test", impl=np.negative, shape_rule=lambda x: x,
                       elementwise=True)
    lowerings[broken] = call("{0}.no_such_attribute")  # Numba says where it failed
    try:
        body = sub_program(lambda x: [fnp.sin(broken.bind(x))], VEC)  # the line named
        line = body.equations[0].source.line
        with pytest.raises(LoweringError, match=rf"from .*test_codegen_regions.py:{line}:"):
            fg.jit(lambda x: repeat_p.bind(x, body=body, n=2)[0])(np.ones(4))
    finally:
        forget(broken)


# -- declared kinds ------------------------------------------------------------------------

def test_elementwise_kinds_declare_whether_they_are_recomputed():
    assert arith("{0} + {1}").is_cheap({}) and not call("np.exp({0})").is_cheap({})
    assert Elementwise("{0}", cheap=lambda *, n: n < 3).is_cheap({"n": 2})
    twice_cheap = Primitive("twice_cheap_test", impl=lambda x: 2 * x, shape_rule=lambda x: x,
                            elementwise=True)
    twice_stored = Primitive("twice_stored_test", impl=lambda x: 2 * x,
                             shape_rule=lambda x: x, elementwise=True)
    lowerings[twice_cheap] = arith("2 * {0}")
    lowerings[twice_stored] = call("2 * {0}")
    try:
        x = rng.standard_normal(5)
        for p in (twice_cheap, twice_stored):
            f = lambda x, p=p: p.bind(x)[::-1] + fnp.sum(p.bind(x))  # noqa: E731
            check(f, x)
        # read twice at different indices: a cheap value is recomputed, no array stored
        for p, arrays in ((twice_cheap, 1), (twice_stored, 2)):  # the output's, and p's?
            source = generated(lambda x, p=p: p.bind(x)[::-1] + fnp.sum(p.bind(x)), x)
            assert source.count("empty(") == arrays
    finally:
        forget(twice_cheap)
        forget(twice_stored)


def test_a_reduction_declares_its_axes_whatever_its_params_are_called():
    def rule(x, *, dims):
        return ShapedArray(tuple(d for k, d in enumerate(x.shape) if k not in dims), x.dtype)

    total = Primitive("total_test", impl=lambda x, *, dims: np.add.reduce(x, axis=dims),
                      shape_rule=rule)
    lowerings[total] = Reduction(lambda dtype: "0", "{acc} + {x}",
                                 axes=lambda *, dims: dims)
    try:
        x = rng.standard_normal((3, 4, 2))
        for dims in ((0,), (1, 2), (0, 2)):
            check(lambda x, dims=dims: total.bind(fnp.exp(x), dims=dims), x)
    finally:
        forget(total)


def test_funcgrads_own_primitives_declare_a_kind_not_a_bare_expression():
    """A bare string or callable would lower, but say nothing about its cost."""
    import importlib
    import pkgutil

    import funcgrad
    from funcgrad.rules.lowering import Inline, Standalone, View
    kinds = (Elementwise, Reduction, View, Standalone, Region, Inline)
    bare = []
    for info in pkgutil.walk_packages(funcgrad.__path__, "funcgrad."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, Primitive) and obj in lowerings:
                if not isinstance(lowerings[obj], kinds):
                    bare.append(obj.name)
    assert not bare, f"declare arith(...)/call(...) or another kind for {sorted(set(bare))}"
