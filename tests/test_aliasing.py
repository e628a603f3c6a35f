"""Results never alias the caller's data (issue 14 item 1): every array a transform returns
is fresh memory, writable and C-contiguous, eager and compiled."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

W = np.arange(6.0).reshape(2, 3)


def _assert_owned(results, *inputs):
    leaves = [x for x in fg.tree.flatten(results)[0] if isinstance(x, np.ndarray)]
    for k, r in enumerate(leaves):
        assert r.flags.writeable and r.flags.c_contiguous, r.flags
        for x in [*inputs, *leaves[:k]]:
            assert not np.shares_memory(r, x)


def _cases():
    x, w = np.arange(3.0), np.ones(3)
    m = np.arange(6.0).reshape(3, 2)
    return [
        ("grad of a product returns the other factor",
         lambda: fg.grad(lambda w, x: fnp.sum(w * x))(w, x), (w, x)),
        ("grad of a sum is a broadcast one", lambda: fg.grad(fnp.sum)(x), (x,)),
        ("value_and_grad", lambda: fg.value_and_grad(lambda w, x: fnp.sum(w * x))(w, x),
         (w, x)),
        ("grad with aux returning the input",
         lambda: fg.grad(lambda x: (fnp.sum(x), x), has_aux=True)(x), (x,)),
        ("grad of a transposed matmul", lambda: fg.grad(
            lambda m: fnp.sum(fnp.tanh(m.T) @ np.ones(3)))(m), (m,)),
        ("vjp of the identity", lambda: _vjp_all(lambda x: x, x), (x,)),
        ("vjp of a reshape", lambda: _vjp_all(lambda m: m.reshape(2, 3), m), (m,)),
        ("jacrev", lambda: fg.jacrev(lambda x: x * 2.0)(x), (x,)),
        ("hessian", lambda: fg.hessian(lambda x: fnp.sum(x ** 3))(x), (x,)),
        ("jit of a constant", lambda: fg.jit(lambda x: W)(x), (x, W)),
        ("jit of the identity", lambda: fg.jit(lambda x: x)(x), (x,)),
        ("jit of a reshape", lambda: fg.jit(lambda m: m.reshape(2, 3))(m), (m,)),
        ("jit of a transpose", lambda: fg.jit(lambda m: m.T)(m), (m,)),
        ("jit returning one value twice", lambda: fg.jit(lambda x: (x * 2, x * 2))(x), (x,)),
        ("jit of an output and its view", lambda: fg.jit(
            lambda x: (fnp.sin(x), fnp.sin(x).reshape(3, 1)))(x), (x,)),
        ("jit(grad) of a product", lambda: fg.jit(fg.grad(lambda w, x: fnp.sum(w * x)))(w, x),
         (w, x)),
        ("jit calling jit", lambda: fg.jit(lambda x: fg.jit(lambda y: y)(x))(x), (x,)),
        ("make_ir's program", lambda: fg.make_ir(lambda x: x)(x)(x), (x,)),
        ("grad of a function branching on values, with aux returning the input",
         lambda: fg.grad(lambda x: (fnp.sum(x) if fnp.sum(x) > 0 else -fnp.sum(x), x),
                         has_aux=True)(x), (x,)),
        ("vmap of the identity", lambda: fg.vmap(lambda x: x)(m), (m,)),
        ("vmap of a transpose", lambda: fg.vmap(lambda x: x.T)(m), (m,)),
        ("jvp of the identity", lambda: fg.jvp(lambda x: x, (x,), (w,)), (x, w)),
        ("linearize of a reshape", lambda: _linearize_all(lambda m: m.reshape(2, 3), m), (m,)),
        ("jacfwd of a transpose", lambda: fg.jacfwd(lambda m: m.T)(m), (m,)),
        # every other public entry point (issue 14: "every array funcgrad hands back")
        ("evaluate of the identity", lambda: fg.evaluate(fg.make_ir(lambda x: x)(x).program,
                                                         [x]), (x,)),
        ("evaluate of a constant", lambda: _evaluate_closed(lambda x: (W, W.T), x), (x, W)),
        ("jvp of a constant", lambda: fg.jvp(lambda x: W, (x,), (w,)), (x, w, W)),
        ("vmap of an unbatched constant", lambda: fg.vmap(lambda x: (x, W), out_axes=(0, None))(
            m), (m, W)),
        ("jit(vmap) of the identity", lambda: fg.jit(fg.vmap(lambda x: x))(m), (m,)),
        ("hessian of a linear function", lambda: fg.hessian(lambda x: fnp.sum(W[0] * x))(x),
         (x, W)),
        ("lax.scan carrying its input through", lambda: fg.lax.scan(lambda c, r: (c, r), x, m),
         (x, m)),
        ("lax.fori_loop of no steps", lambda: fg.lax.fori_loop(0, 0, lambda i, c: c * 2, x),
         (x,)),
        ("lax.while_loop of no steps", lambda: fg.lax.while_loop(lambda c: False,
                                                                 lambda c: c * 2, x), (x,)),
        ("lax.cond taking the identity", lambda: fg.lax.cond(True, lambda x: x,
                                                             lambda x: x * 2, x), (x,)),
        ("jit(lax.scan) carrying its input", lambda: fg.jit(
            lambda x, m: fg.lax.scan(lambda c, r: (c, r), x, m))(x, m), (x, m)),
        ("jit of a custom_vjp identity", lambda: fg.jit(_custom_identity())(x), (x,)),
        ("vmap of a custom_vjp identity", lambda: fg.vmap(_custom_identity())(m), (m,)),
        ("grad through custom_vjp", lambda: fg.grad(
            lambda x: fnp.sum(_custom_identity()(x)))(x), (x,)),
        ("checkpoint of the identity", lambda: fg.checkpoint(lambda x: x)(x), (x,)),
        ("grad through checkpoint", lambda: fg.grad(
            lambda w, x: fnp.sum(fg.checkpoint(lambda w: w * x)(w)))(w, x), (w, x)),
        ("parallel.map_shards", lambda: fg.parallel.map_shards(
            fg.jit(lambda x: x), m, threads=2, combine="concatenate"), (m,)),
    ]


def _evaluate_closed(f, x):
    closed = fg.make_ir(f)(x)
    return fg.evaluate(closed.program, [*closed.consts, x])


def _custom_identity():
    @fg.custom_vjp
    def identity(x):
        return x
    identity.defvjp(lambda x: (x, None), lambda _, g: (g,))
    return identity


def _linearize_all(f, x):
    y, f_jvp = fg.linearize(f, x)
    return y, f_jvp(x)


def _vjp_all(f, x):
    y, pullback = fg.vjp(f, x)
    return y, pullback(y)


@pytest.mark.parametrize("disable", [False, True], ids=["compiled", "numpy"])
@pytest.mark.parametrize("what,compute,inputs", _cases(), ids=[c[0] for c in _cases()])
def test_results_are_fresh_writable_arrays(what, compute, inputs, disable):
    with fg.disable_jit(disable):
        first = compute()
        _assert_owned(first, *inputs)
        for leaf in fg.tree.flatten(first)[0]:
            if isinstance(leaf, np.ndarray):
                leaf *= 0.0  # writing into a result changes neither the inputs...
        second = compute()  # ...nor the next call's results (a cached constant)
        _assert_owned(second, *inputs, *fg.tree.flatten(first)[0])
    assert np.array_equal(W, np.arange(6.0).reshape(2, 3))


def test_writing_into_a_gradient_leaves_the_input_alone():
    w, x = np.ones(3), np.arange(3.0)
    g = fg.grad(lambda w, x: fnp.sum(w * x))(w, x)
    g *= 0.5
    assert np.array_equal(x, np.arange(3.0))
