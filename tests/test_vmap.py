"""vmap: its semantics (in_axes, out_axes, axis_size), its compositions with grad, jacrev,
hessian, jit, custom_vjp and itself, what it compiles to, and its errors.

Every value is checked against a Python loop over the examples (the definition of vmap)."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.numpy._indexing import scatter as at_update

HERE = os.path.basename(__file__)
rng = np.random.default_rng(0)


def loop(fn, *args, in_axes=0, out_axis=0):
    """fn applied to each example in turn, stacked: what vmap must compute."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    size = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    outs = [fn(*[a if ax is None else np.take(a, k, axis=ax) for a, ax in zip(args, axes)])
            for k in range(size)]
    return fg.tree.map(lambda *xs: np.stack(xs, axis=out_axis), *outs)


def close(a, b, **kw):
    fg.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12, **kw),
                a, b)


def loss(w, x, y):
    """One example's loss for a small tanh model."""
    return (fnp.tanh(fnp.dot(x, w["W"]) + w["b"]) @ w["v"] - y) ** 2


def params():
    return {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4), "v": rng.normal(size=4)}


# --- semantics ------------------------------------------------------------------------------

def test_in_axes_int_none_and_negative():
    x, y = rng.normal(size=(3, 5)), rng.normal(size=3)
    f = lambda a, b: fnp.sin(a) * b  # noqa: E731
    close(fg.vmap(f, in_axes=(1, None))(x, y), loop(f, x, y, in_axes=(1, None)))
    close(fg.vmap(f, in_axes=(-1, None))(x, y), loop(f, x, y, in_axes=(1, None)))
    close(fg.vmap(f)(x, np.ones((3, 5))), loop(f, x, np.ones((3, 5))))


def test_in_axes_pytree_prefix_and_keyword_arguments():
    w, xs, ys = params(), rng.normal(size=(6, 3)), rng.normal(size=6)
    got = fg.vmap(loss, in_axes=({"W": None, "b": None, "v": None}, 0, 0))(w, xs, ys)
    close(got, loop(loss, w, xs, ys, in_axes=(None, 0, 0)))
    # keyword arguments are mapped over axis 0, as in JAX
    got = fg.vmap(lambda w, x, y: loss(w, x, y), in_axes=(None, 0))(w, xs, y=ys)
    close(got, loop(loss, w, xs, ys, in_axes=(None, 0, 0)))


def test_out_axes_int_negative_pytree_and_none():
    x = rng.normal(size=(4, 3))
    f = lambda a: {"outer": fnp.outer(a, a), "same": fnp.ones(2)}  # noqa: E731
    got = fg.vmap(f, out_axes={"outer": -1, "same": None})(x)
    close(got["outer"], loop(lambda a: fnp.outer(a, a), x, out_axis=2))
    close(got["same"], np.ones(2))
    close(fg.vmap(fnp.sin, 1, 1)(x), np.sin(x))


def test_axis_size_when_nothing_is_mapped():
    got = fg.vmap(lambda a: a * 2.0, in_axes=None, axis_size=3)(np.arange(2.0))
    close(got, np.tile(np.arange(2.0) * 2, (3, 1)))
    close(fg.vmap(lambda: fnp.zeros(2), axis_size=4)(), np.zeros((4, 2)))


def test_nested_vmap_pairwise_kernel():
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    kernel = lambda u, v: fnp.exp(-fnp.sum((u - v) ** 2))  # noqa: E731
    got = fg.vmap(fg.vmap(kernel, (0, None)), (None, 0))(a, b)
    want = np.array([[np.exp(-np.sum((u - v) ** 2)) for u in a] for v in b])
    close(got, want)
    close(fg.jit(fg.vmap(fg.vmap(kernel, (0, None)), (None, 0)))(a, b), want)


def test_traced_twice_per_signature_then_cached():
    """As grad's: cached once two traces agree (the counter is not state f reads; a
    function that changed state it reads would run on every call, as JAX runs it)."""
    traces = itertools.count()

    def f(x):
        next(traces)
        return fnp.sin(x)
    batched = fg.vmap(f)
    for _ in range(4):
        batched(np.ones((2, 3)))
    assert next(traces) == 2
    for _ in range(3):
        batched(np.ones((4, 3)))
    assert next(traces) == 5


# --- compositions -------------------------------------------------------------------------

def test_per_example_gradients_every_order():
    w, xs, ys = params(), rng.normal(size=(5, 3)), rng.normal(size=5)
    want = loop(fg.grad(loss), w, xs, ys, in_axes=(None, 0, 0))
    close(fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))(w, xs, ys), want)
    close(fg.jit(fg.vmap(fg.grad(loss), in_axes=(None, 0, 0)))(w, xs, ys), want)
    close(fg.vmap(fg.jit(fg.grad(loss)), in_axes=(None, 0, 0))(w, xs, ys), want)
    close(fg.vmap(fg.grad(fg.jit(loss)), in_axes=(None, 0, 0))(w, xs, ys), want)
    # the mini-batch gradient is the mean of the per-example ones
    mean_loss = lambda w: fnp.mean(fg.vmap(loss, (None, 0, 0))(w, xs, ys))  # noqa: E731
    close(fg.grad(mean_loss)(w), fg.tree.map(lambda g: g.mean(0), want))
    close(fg.jit(fg.grad(mean_loss))(w), fg.tree.map(lambda g: g.mean(0), want))


def test_vmap_of_grad_of_grad_and_grad_of_vmap_of_grad():
    xs = rng.normal(size=4)
    f = lambda x: fnp.sin(x) * x ** 3  # noqa: E731
    second = fg.grad(fg.grad(f))
    close(fg.vmap(second)(xs), np.array([second(x) for x in xs]))
    close(fg.grad(lambda x: fnp.sum(fg.vmap(fg.grad(f))(x)))(xs), np.array([second(x) for x in xs]))


def test_jacobians_and_hessians_with_vmap():
    xs = rng.normal(size=(3, 4))
    f = lambda x: fnp.tanh(x) * fnp.sum(x ** 2)  # noqa: E731
    want = loop(fg.jacrev(f), xs)
    close(fg.vmap(fg.jacrev(f))(xs), want)
    close(fg.jit(fg.vmap(fg.jacrev(f)))(xs), want)
    # the Jacobian of the batched function is block diagonal: the per-example Jacobians
    big = fg.jacrev(fg.vmap(f))(xs)
    close(np.stack([big[k, :, k] for k in range(3)]), want)
    g = lambda x: fnp.sum(fnp.sin(x) * x[0])  # noqa: E731
    close(fg.vmap(fg.hessian(g))(xs), loop(fg.hessian(g), xs))


def test_jacrev_program_does_not_grow_with_the_output():
    sizes = [len(fg.make_ir(fg.jacrev(fnp.tanh))(np.ones(n)).equations) for n in (3, 30)]
    assert sizes[0] == sizes[1]


@fg.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (fnp.clip(g, -1.0, 1.0),))


def test_custom_vjp_keeps_its_rule_under_vmap():
    xs = np.array([0.5, 1.0, 2.0])
    f = lambda x: 3.0 * clip_gradient(x) ** 2  # noqa: E731  (df/dclip = 6x, clipped to 1)
    want = np.array([fg.grad(f)(x) for x in xs])
    close(want, [1.0, 1.0, 1.0])
    close(fg.vmap(fg.grad(f))(xs), want)
    close(fg.grad(lambda x: fnp.sum(fg.vmap(f)(x)))(xs), want)
    close(fg.jit(fg.grad(lambda x: fnp.sum(fg.vmap(f)(x))))(xs), want)


def test_custom_vjp_with_an_unmapped_argument_sums_its_cotangent():
    @fg.custom_vjp
    def scale(x, s):
        return x * s
    scale.defvjp(lambda x, s: (x * s, (x, s)), lambda r, g: (g * r[1], fnp.sum(g * r[0])))
    xs, s = rng.normal(size=(4, 2)), np.array(1.5)
    total = lambda s: fnp.sum(fg.vmap(scale, (0, None))(xs, s))  # noqa: E731
    close(fg.grad(total)(s), np.sum(xs))


def test_make_ir_prints_the_batched_program():
    w, xs, ys = params(), rng.normal(size=(7, 3)), rng.normal(size=7)
    text = str(fg.make_ir(fg.vmap(loss, (None, 0, 0)))(w, xs, ys))
    assert "f64[7,3]" in text and "dot_general" in text and HERE in text


def test_batched_program_size_does_not_grow_with_the_batch():
    w = params()
    sizes = [len(fg.make_ir(fg.vmap(fg.grad(loss), (None, 0, 0)))(
        w, np.ones((n, 3)), np.ones(n)).equations) for n in (2, 64)]
    assert sizes[0] == sizes[1]


def test_jit_of_vmap_is_one_compiled_function_with_blas_products():
    w, xs, ys = params(), rng.normal(size=(6, 3)), rng.normal(size=6)
    lowered = fg.jit(fg.vmap(fg.grad(loss), (None, 0, 0))).lower(w, xs, ys)
    assert lowered.source.count("def program") == 1
    assert "np.dot" in lowered.source
    assert all(eqn.primitive.name != "call" for eqn in lowered.program.equations)


def test_batched_matrix_products_use_dot_general_batch_dimensions():
    a, b = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 3, 4))
    program = fg.make_ir(fg.vmap(fnp.matmul))(a, b).program
    (dot,) = [e for e in program.equations if e.primitive.name == "dot_general"]
    assert dot.params["batch"] == ((0,), (0,))
    close(fg.jit(fg.vmap(fnp.matmul))(a, b), a @ b)


def test_indexing_and_updates_with_batched_indices():
    x, idx = rng.normal(size=(4, 5)), np.array([[0, 4], [1, 1], [3, 2], [2, 0]])
    close(fg.vmap(lambda r, i: r[i])(x, idx), np.take_along_axis(x, idx, 1))
    close(fg.jit(fg.vmap(lambda r, i: r[i]))(x, idx), np.take_along_axis(x, idx, 1))
    upd = lambda r, i: r.at[i].add(1.0)  # noqa: E731
    close(fg.vmap(upd)(x, idx), loop(lambda r, i: np.add.at(r.copy(), i, 1.0) or
                                     _added(r, i), x, idx))
    close(fg.jit(fg.vmap(upd))(x, idx), fg.vmap(upd)(x, idx))


def _added(r, i):
    r = r.copy()
    np.add.at(r, i, 1.0)
    return r


# --- errors -------------------------------------------------------------------------------

def test_mismatched_axis_sizes_name_the_arguments_and_sizes():
    def f(x, y):
        return x + y
    with pytest.raises(fg.ShapeError) as err:
        fg.vmap(f)(np.ones((3, 2)), np.ones((4, 2)))
    message = str(err.value)
    assert "argument 0 (x)" in message and "argument 1 (y)" in message
    assert "size 3" in message and "size 4" in message and HERE in message


def test_in_axes_that_does_not_match_the_arguments():
    with pytest.raises(fg.FuncgradTypeError, match=r"2 entries.*3 positional") as err:
        fg.vmap(lambda a, b, c: a, in_axes=(0, 0))(np.ones(2), np.ones(2), np.ones(2))
    assert HERE in str(err.value)
    with pytest.raises(fg.FuncgradTypeError, match=r"in_axes\[0\].*does not match") as err:
        fg.vmap(lambda p: p["a"], in_axes=({"b": 0},))({"a": np.ones(2)})
    assert HERE in str(err.value)
    with pytest.raises(fg.FuncgradTypeError, match="ints and None"):
        fg.vmap(fnp.sin, in_axes="0")


def test_out_of_range_axes():
    with pytest.raises(fg.ShapeError, match=r"axis 2 of argument 0 \(x\).*\(3, 4\)") as err:
        fg.vmap(lambda x: x, in_axes=2)(np.ones((3, 4)))
    assert HERE in str(err.value)
    with pytest.raises(fg.ShapeError, match=r"axis -3"):
        fg.vmap(lambda x: x, in_axes=-3)(np.ones((3, 4)))
    with pytest.raises(fg.ShapeError, match=r"out_axes.*axis 3.*2 axes") as err:
        fg.vmap(lambda x: x, out_axes=3)(np.ones((3, 4)))
    assert HERE in str(err.value)


def test_out_axes_none_for_a_batched_output_and_no_batch_size():
    with pytest.raises(fg.FuncgradTypeError, match="out_axes is None"):
        fg.vmap(fnp.sin, out_axes=None)(np.ones(3))
    with pytest.raises(fg.FuncgradTypeError, match="pass axis_size") as err:
        fg.vmap(fnp.sin, in_axes=None)(np.ones(3))
    assert HERE in str(err.value)


def test_custom_vjp_call_batches_like_a_loop():
    """custom_vjp_call has no conformance case (it carries sub-programs): checked here."""
    @fg.custom_vjp
    def scaled_sin(x, y):
        return fnp.sin(x) * y
    scaled_sin.defvjp(lambda x, y: (scaled_sin(x, y), (fnp.cos(x), fnp.sin(x), y)),
                      lambda res, g: (res[0] * g * res[2], res[1] * g))
    xs, ys = rng.normal(size=(4, 3)), rng.normal(size=3)
    close(fg.vmap(scaled_sin, (0, None))(xs, ys), loop(scaled_sin, xs, ys, in_axes=(0, None)))
    close(fg.vmap(scaled_sin, (1, 0), 1)(xs, ys[None].repeat(4, 0).T),
          loop(scaled_sin, xs, ys[None].repeat(4, 0).T, in_axes=(1, 0), out_axis=1))
    total = lambda x, y: fnp.sum(fg.vmap(scaled_sin, (0, None))(x, y))  # noqa: E731
    close(fg.grad(total, (0, 1))(xs, ys),
          (np.cos(xs) * ys, np.sum(np.sin(xs), axis=0)))


def test_a_vmapped_function_pickles():
    import pickle
    batched = pickle.loads(pickle.dumps(fg.vmap(np_sin_sum, in_axes=(0, None))))
    close(batched(np.ones((2, 3)), 2.0), np.sin(np.ones((2, 3))).sum(1) * 2.0)


def np_sin_sum(x, s):
    return fnp.sum(fnp.sin(x)) * s


# --- gather and scatter with batched index arrays (the conformance cases' indices are fixed) --

KINDS = [k for k in itertools.product([False, True], repeat=3) if any(k)]


@pytest.mark.parametrize("op", ["gather", "scatter"])
@pytest.mark.parametrize("kinds", KINDS, ids=lambda k: "".join("i" if a else ":" for a in k))
@pytest.mark.parametrize("x_axis, index_axis", [(0, 0), (-1, 0), (None, 0), (0, None),
                                                (1, None)])
def test_gather_and_scatter_with_batched_indices(op, kinds, x_axis, index_axis):
    """x[index] and x.at[index].add(u) for every mix of full slices and index arrays (adjacent
    or not) on an example of shape (2, 3, 4), with the data, the index arrays or both
    batched: against a loop. The sides all differ, so a misplaced axis cannot go unseen."""
    shape, size = (2, 3, 4), 3
    xs = np.arange(size * 24.0).reshape(size, *shape)
    idx = [np.stack([(np.arange(5) * (k + 1) + j) % d for k in range(size)])
           for j, (d, on) in enumerate(zip(shape, kinds)) if on]

    def index(arrays):
        it = iter(arrays)
        return tuple(next(it) if on else slice(None) for on in kinds)

    xb = xs[0] if x_axis is None else np.moveaxis(xs, 0, x_axis)
    x_examples = [xs[0]] * size if x_axis is None else list(xs)
    ib = [i[0] for i in idx] if index_axis is None else idx
    i_examples = [[i[0] for i in idx]] * size if index_axis is None else [
        [i[k] for i in idx] for k in range(size)]
    in_axes = (None if x_axis is None else x_axis % 4,) + (index_axis,) * len(idx)
    if op == "gather":
        fn = lambda x, *i: x[index(i)]  # noqa: E731
        want = np.stack([x[index(i)] for x, i in zip(x_examples, i_examples)])
        close(fg.vmap(fn, in_axes)(xb, *ib), want)
        return
    u = np.arange(float(np.size(xs[0][index(i_examples[0])])))
    u = u.reshape(np.shape(xs[0][index(i_examples[0])])) + 0.5
    fn = lambda x, u, *i: at_update(x, index(i), u, "add")  # noqa: E731
    want = np.stack([_add_at(x, index(i), u) for x, i in zip(x_examples, i_examples)])
    close(fg.vmap(fn, (in_axes[0], None, *in_axes[1:]))(xb, u, *ib), want)


def _add_at(x, index, u):
    x = x.copy()
    np.add.at(x, index, u)
    return x


def test_a_python_number_used_for_control_flow_is_named_in_the_error():
    # vmap (and grad inside jit) trace an unmapped Python int too, where JAX closes over it;
    # the error said only "under make_ir and jit", which vmap alone is not
    def first(x, n):
        return sum(x[i] for i in range(n))
    xs = np.arange(6.0).reshape(2, 3)
    with pytest.raises(fg.ConcretizationError, match=r"vmap traces .* argument 1 \(n\)"):
        fg.vmap(first, in_axes=(0, None))(xs, 2)
    with pytest.raises(fg.ConcretizationError, match=r"grad traces .* close over it"):
        fg.make_ir(lambda x: fg.grad(first)(x, 2))(xs[0])
    np.testing.assert_array_equal(fg.vmap(lambda x: first(x, 2))(xs), [1.0, 7.0])
