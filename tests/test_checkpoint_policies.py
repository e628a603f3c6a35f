"""checkpoint's policies (funcgrad.checkpoint_policies, as jax.checkpoint_policies): they
change which values the backward pass recomputes, seen in the gradient's Program, and never
the values; static_argnums and checkpoint_name."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import checkpoint_policies as cp
from funcgrad import lax

W = np.arange(6.0).reshape(2, 3) / 5
V = np.arange(9.0).reshape(3, 3) / 7
X = np.linspace(-1.0, 1.0, 8).reshape(4, 2)


def layers(x):
    h = fg.checkpoint_name(fnp.sin(x @ W), "h")
    return fnp.sum(fnp.tanh(h @ V))


def recomputed(policy):
    """How many dot_general, sin and tanh equations the backward checkpoint runs."""
    program = fg.make_ir(fg.grad(fg.checkpoint(layers, policy=policy)))(X).program
    backward = max((e for e in program.equations if e.primitive.name == "checkpoint"),
                   key=lambda e: len(e.inputs))
    names = [e.primitive.name for e in backward.params["program"].equations]
    return tuple(names.count(n) for n in ("dot_general", "sin", "tanh"))


# the backward pass itself has 2 dot_generals (the cotangents of h and x); the forward
# pass has 2 (x @ W, h @ V), a sin and a tanh, recomputed unless saved
@pytest.mark.parametrize("policy, counts", [
    (None, (4, 1, 1)),
    (cp.nothing_saveable, (4, 1, 1)),
    (cp.everything_saveable, (2, 0, 0)),
    (cp.dots_saveable, (2, 0, 1)),  # tanh(h @ V) from the saved product; sin not needed
    (cp.checkpoint_dots, (2, 0, 1)),
    (cp.dots_with_no_batch_dims_saveable, (2, 0, 1)),
    (cp.save_only_these_names("h"), (4, 0, 1)),  # h saved: x @ W only for sin's derivative
    (cp.save_any_names_but_these("h"), (4, 1, 1)),
    (cp.save_anything_except_these_names("h"), (2, 0, 0)),
])
def test_policies_change_what_is_recomputed_not_the_values(policy, counts):
    assert recomputed(policy) == counts
    expected = fg.grad(layers)(X)
    np.testing.assert_allclose(fg.grad(fg.checkpoint(layers, policy=policy))(X), expected,
                               rtol=1e-14)


def test_dots_with_batch_dims_are_not_saved_by_the_no_batch_dims_policy():
    def batched(x):
        return fnp.sum(fnp.sin(fnp.einsum("bij,bjk->bik", x, x)))

    x = np.linspace(-1, 1, 8).reshape(2, 2, 2)

    def forward_dots(policy):
        program = fg.make_ir(fg.grad(fg.checkpoint(batched, policy=policy)))(x).program
        backward = max((e for e in program.equations if e.primitive.name == "checkpoint"),
                       key=lambda e: len(e.inputs))
        return [e.primitive.name for e in backward.params["program"].equations].count(
            "dot_general")
    assert forward_dots(cp.dots_saveable) + 1 == forward_dots(
        cp.dots_with_no_batch_dims_saveable)


def _saved_per_step(body):
    f = lambda h: fnp.sum(lax.scan(body, h, np.ones((4, 3)))[0])  # noqa: E731
    program = fg.make_ir(fg.grad(f))(np.ones(3)).program
    forward_scan = next(e for e in program.equations if e.primitive.name == "scan")
    return len(forward_scan.outputs) - 1


def test_a_policy_on_a_scan_body_saves_its_values_per_step_and_works_compiled():
    def step(h, x):
        return fnp.tanh(fnp.sin(h @ V) + x), None

    saved = [_saved_per_step(b) for b in (
        step, fg.checkpoint(step), fg.checkpoint(step, policy=cp.dots_saveable))]
    assert saved == [2, 1, 2]  # everything / the carry / the carry and h @ V

    def loss(policy):
        body = fg.checkpoint(step, policy=policy)
        return lambda h: fnp.sum(lax.scan(body, h, np.linspace(0, 1, 12).reshape(4, 3))[0])

    h0 = np.array([0.1, -0.2, 0.3])
    expected = fg.grad(loss(None))(h0)
    for policy in (cp.dots_saveable, cp.everything_saveable):
        g = fg.grad(loss(policy))
        np.testing.assert_allclose(fg.jit(g, compile="sync")(h0), expected, rtol=1e-12)
        np.testing.assert_allclose(fg.vmap(g)(np.stack([h0, h0])), [expected] * 2, rtol=1e-12)
        fg.testing.check_grads(loss(policy), (h0,), order=2, modes=("rev", "fwd"))


def test_static_argnums_and_bad_options():
    f = fg.checkpoint(lambda x, how: fnp.sin(x) if how == "sin" else fnp.cos(x),
                      static_argnums=1)
    assert float(fg.grad(f)(1.0, "sin")) == float(np.cos(1.0))
    assert float(fg.grad(f)(1.0, "cos")) == float(-np.sin(1.0))
    with pytest.raises(fg.FuncgradTypeError, match="policy must be a function") as err:
        fg.checkpoint(fnp.sin, policy="dots")
    assert "test_checkpoint_policies.py" in str(err.value)
    with pytest.raises(fg.FuncgradTypeError, match=r"static_argnums \(3,\) out of range"):
        fg.checkpoint(fnp.sin, static_argnums=3)(1.0)
    with pytest.raises(fg.FuncgradTypeError, match="static_argnums must be ints"):
        fg.checkpoint(fnp.sin, static_argnums="x")
    with pytest.raises(fg.FuncgradTypeError, match="name must be a string"):
        fg.checkpoint_name(1.0, 3)
    with pytest.raises(fg.FuncgradTypeError, match="takes names"):
        cp.save_only_these_names(1)
