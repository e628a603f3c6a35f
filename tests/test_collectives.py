"""Named axes in vmap and the collectives of funcgrad.lax (psum, pmean, pmax, pmin,
all_gather, psum_scatter, axis_index, axis_size), as in JAX.

Values are checked against NumPy computed on the whole batch; derivatives against central
finite differences of the batched function (the per-example function with collectives is one
piece of a function of the whole batch: vmap(grad(f)) is the gradient of the sum of the
examples' outputs); and every error, with the user's line it names."""

from __future__ import annotations

import os

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
import marked_lines

HERE = os.path.basename(__file__)
rng = np.random.default_rng(7)
XS = rng.normal(size=(5, 3))


def close(a, b, tol=1e-10):
    fg.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=tol, atol=tol), a, b)


def numeric_grad(fn, x, eps=1e-6):
    """Central differences of the scalar ``fn`` at the array ``x``."""
    x = np.asarray(x, float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (fn(up) - fn(down)) / (2 * eps)
    return grad


def line_of(marker: str) -> str:
    return marked_lines.line_of(__file__, marker)


# ---------------------------------------------------------------------------------------
# Values, against NumPy on the whole batch


def test_psum_pmean_pmax_pmin_are_batch_reductions_given_to_every_example():
    f = fg.vmap(lambda x: (lax.psum(x, "b"), lax.pmean(x, "b"), lax.pmax(x, "b"),
                           lax.pmin(x, "b")), axis_name="b")
    s, m, hi, lo = f(XS)
    for got, want in [(s, XS.sum(0)), (m, XS.mean(0)), (hi, XS.max(0)), (lo, XS.min(0))]:
        close(got, np.broadcast_to(want, XS.shape))


def test_batch_norm_written_per_example():
    def normalize(x):
        centered = x - lax.pmean(x, "batch")
        return centered / fnp.sqrt(lax.pmean(centered ** 2, "batch") + 1e-5)
    want = (XS - XS.mean(0)) / np.sqrt(XS.var(0) + 1e-5)
    close(fg.vmap(normalize, axis_name="batch")(XS), want)


def test_axis_index_axis_size_and_psum_of_a_constant():
    def f(x):
        n = lax.psum(1, "b")
        assert type(n) is int and n == 5 and lax.axis_size("b") == 5  # Python ints, as JAX's
        return lax.axis_index("b"), x * n
    index, scaled = fg.vmap(f, axis_name="b")(XS)
    assert index.dtype == np.int32
    close(index, np.arange(5))
    close(scaled, XS * 5)


def test_pytrees_dtypes_and_closed_over_constants():
    shared = np.array([1.0, 2.0, 3.0])
    ints = np.arange(10, dtype=np.int32).reshape(5, 2)
    out = fg.vmap(lambda x, i, flag: lax.psum({"x": x, "i": i, "flag": flag, "c": shared}, "b"),
                  axis_name="b")(XS, ints, XS[:, 0] > 0)
    close(out["x"], np.broadcast_to(XS.sum(0), XS.shape))
    assert out["i"].dtype == np.int32 and (out["i"] == ints.sum(0)).all()
    assert out["flag"].dtype == np.int32 and (out["flag"] == (XS[:, 0] > 0).sum()).all()
    close(out["c"], np.broadcast_to(5 * shared, (5, 3)))
    means = fg.vmap(lambda i: lax.pmean(i, "b"), axis_name="b")(ints)
    close(means, np.broadcast_to(ints.mean(0), ints.shape))  # true division: floats


def test_in_axes_out_axes_and_an_unmapped_argument():
    w = np.array([0.5, -1.0, 2.0])
    f = fg.vmap(lambda w, x: lax.psum(w * x, "b") - x, in_axes=(None, 1), out_axes=1,
                axis_name="b")
    close(f(w, XS.T), ((w * XS).sum(0) - XS).T)
    # a collective's result is the same for every example: out_axes=None may return it once
    close(fg.vmap(lambda x: lax.psum(x, "b"), out_axes=None, axis_name="b")(XS), XS.sum(0))
    close(fg.vmap(lambda: lax.axis_index("b"), axis_size=3, axis_name="b")(), np.arange(3))


def test_all_gather():
    gathered = fg.vmap(lambda x: lax.all_gather(x, "b"), axis_name="b")(XS)
    close(gathered, np.broadcast_to(XS, (5, 5, 3)))
    on_axis1 = fg.vmap(lambda x: lax.all_gather(x, "b", axis=1), axis_name="b")(XS)
    close(on_axis1, np.broadcast_to(XS.T, (5, 3, 5)))
    tiled = fg.vmap(lambda x: lax.all_gather(x, "b", tiled=True), axis_name="b")(XS)
    close(tiled, np.broadcast_to(XS.reshape(-1), (5, 15)))
    shared = fg.vmap(lambda x: lax.all_gather(2.0, "b") + 0 * x[0], axis_name="b")(XS)
    close(shared, np.full((5, 5), 2.0))


def test_psum_scatter():
    x = rng.normal(size=(5, 5, 2))  # each example: one row per example
    close(fg.vmap(lambda x: lax.psum_scatter(x, "b"), axis_name="b")(x), x.sum(0))
    t = rng.normal(size=(5, 2, 10))  # tiled: blocks of 2 along axis 1
    want = t.sum(0).reshape(2, 5, 2).transpose(1, 0, 2)
    got = fg.vmap(lambda x: lax.psum_scatter(x, "b", scatter_dimension=1, tiled=True),
                  axis_name="b")(t)
    close(got, want)


def test_nested_vmaps_reduce_over_the_named_levels():
    x = rng.normal(size=(2, 3))

    def f(v):
        return (lax.psum(v, "i"), lax.psum(v, "j"), lax.psum(v, ("i", "j")),
                lax.pmean(v, ("j", "i")), lax.axis_index(("i", "j")), lax.axis_size(("i", "j")))
    i_sum, j_sum, both, mean, index, size = fg.vmap(fg.vmap(f, axis_name="j"), axis_name="i")(x)
    close(i_sum, np.broadcast_to(x.sum(0), x.shape))
    close(j_sum, np.broadcast_to(x.sum(1, keepdims=True), x.shape))
    close(both, np.full(x.shape, x.sum()))
    close(mean, np.full(x.shape, x.mean()))
    close(index, np.arange(6).reshape(2, 3))
    assert (size == 6).all()
    gathered = fg.vmap(fg.vmap(lambda v: lax.all_gather(v, "i"), axis_name="j"),
                       axis_name="i")(x)
    close(gathered, np.broadcast_to(x.T, (2, 3, 2)))
    # an inner name shadows an outer one of the same name, as in JAX
    shadowed = fg.vmap(fg.vmap(lambda v: lax.psum(v, "i"), axis_name="i"), axis_name="i")(x)
    close(shadowed, np.broadcast_to(x.sum(1, keepdims=True), x.shape))


def test_collectives_inside_loops_conds_and_calls():
    xs = np.array([1.0, 3.0, 2.0, 5.0])
    counted = fg.vmap(lambda x: lax.fori_loop(0, 3, lambda i, c: c + lax.axis_index("b"), 0)
                      + 0 * x, axis_name="b")(xs)  # the loop's operands are all unbatched
    close(counted, 3 * np.arange(4))
    scanned = fg.vmap(lambda x: lax.scan(lambda c, _: (c + lax.psum(c, "b"), None), x, None,
                                         length=2)[0], axis_name="b")(xs)
    once = xs + xs.sum()
    close(scanned, once + once.sum())
    chosen = fg.vmap(lambda x: lax.cond(x > 2, lambda v: lax.psum(v, "b"), lambda v: v, x),
                     axis_name="b")(xs)
    close(chosen, np.where(xs > 2, xs.sum(), xs))


def test_the_same_function_at_other_batch_sizes_and_names():
    def center(x):
        return x - lax.pmean(x, "b")
    inner = fg.jit(center)
    for n in (4, 2, 4):
        xs = np.arange(float(n)) ** 2
        close(fg.vmap(center, axis_name="b")(xs), xs - xs.mean())
        close(fg.vmap(inner, axis_name="b")(xs), xs - xs.mean())  # jit's trace per size
    with pytest.raises(NameError):
        fg.vmap(center, axis_name="c")(np.ones(2))


def test_a_named_vmap_pickles_with_its_name():
    import pickle
    batched = pickle.loads(pickle.dumps(fg.vmap(_loss, axis_name="b")))
    assert batched.axis_name == "b"
    close(batched(XS), fg.vmap(_loss, axis_name="b")(XS))


# ---------------------------------------------------------------------------------------
# Compiled


def test_jit_of_vmap_and_vmap_of_jit_compile_only_ordinary_primitives():
    def f(x):
        centered = x - lax.pmean(x, "b")
        return centered * lax.pmax(fnp.abs(x), "b") + lax.axis_index("b")
    want = (XS - XS.mean(0)) * np.abs(XS).max(0) + np.arange(5)[:, None]
    close(fg.jit(fg.vmap(f, axis_name="b"))(XS), want)
    close(fg.vmap(fg.jit(f), axis_name="b")(XS), want)
    program = str(fg.make_ir(fg.vmap(fg.jit(f), axis_name="b"))(XS))
    for name in ("psum", "pmax", "axis_index"):
        assert name not in program, program


# ---------------------------------------------------------------------------------------
# Derivatives, against finite differences of the batched function


def _loss(x):  # one example's loss, coupled to the batch through its mean
    return fnp.sum((x - lax.pmean(x, "b")) ** 2 * fnp.tanh(x))


def _batch_total(xs):
    return float(np.sum(fg.vmap(_loss, axis_name="b")(xs)))


def test_grad_of_the_batched_function():
    grad = fg.grad(lambda xs: fnp.sum(fg.vmap(_loss, axis_name="b")(xs)))(XS)
    close(grad, numeric_grad(_batch_total, XS), tol=1e-6)


def test_vmap_of_grad_is_the_gradient_of_the_batch_total():
    per_example = fg.vmap(fg.grad(_loss), axis_name="b")(XS)
    close(per_example, numeric_grad(_batch_total, XS), tol=1e-6)
    close(fg.jit(fg.vmap(fg.grad(_loss), axis_name="b"))(XS), per_example)


def test_grad_with_respect_to_a_shared_parameter():
    def f(w, x):  # psum of an input every example shares a part of
        return fnp.sum(lax.psum(w * x, "b") * x)
    w = np.array([0.7, -0.2, 1.1])
    per_example = fg.vmap(fg.grad(f), in_axes=(None, 0), axis_name="b")(w, XS)
    total = numeric_grad(lambda w: float(np.sum(fg.vmap(f, (None, 0), axis_name="b")(w, XS))), w)
    close(per_example.sum(0), total, tol=1e-6)  # the examples' shares add up to the total
    close(per_example, XS * XS.sum(0))  # psum's cotangent, sum(x), times x_e


def test_clipped_per_example_gradients_then_pmean():
    w = np.array([0.3, -0.4, 0.2])

    def step(w, x):
        g = fg.grad(lambda w: fnp.tanh(fnp.dot(x, w)) ** 2)(w)
        g = g / fnp.maximum(1.0, fnp.sqrt(fnp.sum(g ** 2)) / 0.1)  # clip to norm 0.1
        return lax.pmean(g, "b")
    got = fg.vmap(step, in_axes=(None, 0), axis_name="b")(w, XS)
    grads = np.array([numeric_grad(lambda w, x=x: np.tanh(x @ w) ** 2, w) for x in XS])
    clipped = grads / np.maximum(1.0, np.linalg.norm(grads, axis=1, keepdims=True) / 0.1)
    close(got, np.broadcast_to(clipped.mean(0), XS.shape), tol=1e-6)


def test_jvp_inside_and_outside_vmap():
    ts = rng.normal(size=XS.shape)
    primal, tangent = fg.vmap(lambda x, t: fg.jvp(_loss, (x,), (t,)), axis_name="b")(XS, ts)
    eps = 1e-6
    batched = fg.vmap(_loss, axis_name="b")
    close(primal, batched(XS))
    close(tangent, (batched(XS + eps * ts) - batched(XS - eps * ts)) / (2 * eps), tol=1e-6)
    outside = fg.jvp(batched, (XS,), (ts,))
    close(outside, (primal, tangent))


def test_pmax_pmin_derivatives_follow_the_extreme_and_share_ties():
    xs = np.array([1.0, 5.0, 2.0])

    def f(x):
        return lax.pmax(x, "b") * x + lax.pmin(x, "b") ** 2

    def total(v):
        return float(np.sum(fg.vmap(f, axis_name="b")(v)))
    close(fg.vmap(fg.grad(f), axis_name="b")(xs), numeric_grad(total, xs), tol=1e-6)
    ties = np.array([1.0, 5.0, 5.0])  # pmax's derivative split between the two fives
    # d/dx_e of sum_k (pmax x_k + pmin^2): pmax + [share of pmax] * sum(x) + 3 * 2 pmin [min]
    close(fg.vmap(fg.grad(f), axis_name="b")(ties), [5.0 + 6.0, 5.0 + 5.5, 5.0 + 5.5])
    _, tangent = fg.vmap(lambda x, t: fg.jvp(lambda x: lax.pmax(x, "b"), (x,), (t,)),
                         axis_name="b")(ties, np.array([1.0, 2.0, 4.0]))
    close(tangent, [3.0, 3.0, 3.0])


def test_all_gather_and_psum_scatter_derivatives():
    weights = rng.normal(size=(5, 3))

    def f(x):
        everyone = lax.all_gather(x, "b")                      # (5, 3)
        mine = lax.psum_scatter(everyone * weights, "b")      # (3,)
        return fnp.sum(fnp.sin(everyone) * weights) + fnp.sum(mine * x)

    def total(v):
        return float(np.sum(fg.vmap(f, axis_name="b")(v)))
    close(fg.vmap(fg.grad(f), axis_name="b")(XS), numeric_grad(total, XS), tol=1e-6)
    close(fg.grad(lambda v: fnp.sum(fg.vmap(f, axis_name="b")(v)))(XS),
          numeric_grad(total, XS), tol=1e-6)


def test_nested_derivatives_over_a_tuple_of_names():
    x = rng.normal(size=(2, 3))

    def f(v):
        return fnp.sin(v) * lax.psum(v, ("i", "j")) + lax.pmean(v ** 2, "i")

    batched = fg.vmap(fg.vmap(f, axis_name="j"), axis_name="i")
    per_example = fg.vmap(fg.vmap(fg.grad(f), axis_name="j"), axis_name="i")(x)
    close(per_example, numeric_grad(lambda v: float(np.sum(batched(v))), x), tol=1e-6)


# ---------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("collective", [
    lambda x: lax.psum(x, "batch"), lambda x: lax.pmean(x, "batch"),
    lambda x: lax.pmax(x, "batch"), lambda x: lax.pmin(x, "batch"),
    lambda x: lax.all_gather(x, "batch"), lambda x: lax.psum_scatter(x, "batch"),
    lambda x: lax.axis_index("batch"), lambda x: lax.axis_size("batch")],
    ids=["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "axis_index",
         "axis_size"])
def test_every_collective_called_eagerly_is_an_unbound_axis_name(collective):
    with pytest.raises(fg.UnboundAxisError) as info:
        collective(np.ones(2))
    assert isinstance(info.value, NameError)
    message = str(info.value)
    assert message.startswith("unbound axis name: batch")
    assert "no enclosing vmap names its axis" in message
    assert f"(in {HERE}:{collective.__code__.co_firstlineno})" in message  # the lambda's line


def test_unbound_under_jit_alone_under_grad_and_in_an_unnamed_vmap():
    def f(x):
        return x - lax.pmean(x, "batch")  # <- user line
    for transformed in (fg.jit(f), fg.grad(lambda x: fnp.sum(f(x))), fg.vmap(f)):
        with pytest.raises(NameError, match="unbound axis name: batch") as info:
            transformed(np.ones(2))
        assert line_of("user line") in str(info.value)


def test_a_misspelled_name_lists_the_bound_ones():
    def f(x):
        return lax.psum(x, "bacth")  # <- misspelled
    with pytest.raises(fg.UnboundAxisError) as info:
        fg.vmap(fg.vmap(f, axis_name="j"), axis_name="batch")(np.ones((2, 2)))
    message = str(info.value)
    assert "unbound axis name: bacth" in message and "'batch', 'j'" in message
    assert line_of("misspelled") in message


@pytest.mark.parametrize("name", [0, None, ("i", "j"), ["b"]])
def test_vmap_refuses_axis_names_collectives_cannot_name(name):
    if name is None:  # None: no name, the default
        fg.vmap(lambda x: x, axis_name=name)
        return
    with pytest.raises(fg.FuncgradTypeError, match="vmap's axis_name"):
        fg.vmap(lambda x: x, axis_name=name)


def test_collectives_refuse_positional_axes_and_index_groups():
    vm = fg.vmap  # (spmd_axis_name is accepted and ignored)
    with pytest.raises(fg.FuncgradTypeError, match="ints name positional axes"):
        vm(lambda x: lax.psum(x, 0), axis_name="b", spmd_axis_name="d")(XS)
    with pytest.raises(fg.FuncgradValueError, match="axis_index_groups"):
        vm(lambda x: lax.psum(x, "b", axis_index_groups=[[0, 1]]), axis_name="b")(XS)
    with pytest.raises(fg.FuncgradValueError, match="one name at a time"):
        vm(vm(lambda x: lax.all_gather(x, ("i", "j")), axis_name="j"), axis_name="i")(XS)


def test_all_gather_and_psum_scatter_shape_errors():
    vm = fg.vmap
    with pytest.raises(fg.FuncgradValueError, match="axis must be an int in"):
        vm(lambda x: lax.all_gather(x, "b", axis=2), axis_name="b")(XS)
    with pytest.raises(fg.ShapeError, match="x is a scalar"):
        vm(lambda x: lax.all_gather(x[0], "b", tiled=True), axis_name="b")(XS)
    with pytest.raises(fg.ShapeError, match="one entry per example") as info:
        vm(lambda x: lax.psum_scatter(x, "b"), axis_name="b")(XS)  # <- scatter 3 over 5
    assert line_of("scatter 3 over 5") in str(info.value)
    with pytest.raises(fg.ShapeError, match="not a multiple of 5"):
        vm(lambda x: lax.psum_scatter(x, "b", tiled=True), axis_name="b")(XS)
    with pytest.raises(fg.ShapeError, match="x is a scalar"):
        vm(lambda x: lax.psum_scatter(x[0], "b"), axis_name="b")(XS)


def test_a_program_with_a_collective_evaluated_outside_its_vmap():
    """The primitive itself refuses to run eagerly (the API catches this earlier)."""
    from funcgrad.ops.collectives import psum_p
    with pytest.raises(fg.UnboundAxisError, match="unbound axis name: b"):
        psum_p.bind(np.ones(2), axis_name="b")
