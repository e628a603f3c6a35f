"""What code written for JAX reaches for beyond numpy: jax.tree_util's names, eval_shape and
ShapeDtypeStruct, and a small JAX program whose imports alone are changed."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.core.errors import FuncgradError


def test_tree_util_spellings_are_the_same_functions():
    params = {"w": np.ones((2, 2)), "b": [np.zeros(2), 3.0]}
    assert tree.tree_leaves(params) == tree.leaves(params)
    leaves, treedef = tree.tree_flatten(params)
    assert tree.tree_structure(params) == treedef
    doubled = tree.tree_unflatten(treedef, [2 * x for x in leaves])
    np.testing.assert_array_equal(tree.tree_map(lambda x: 2 * x, params)["w"], doubled["w"])


def test_eval_shape_traces_without_computing():
    calls = []

    def f(x, y):
        calls.append(1)
        return {"prod": x @ y, "total": fnp.sum(x)}
    x = fg.ShapeDtypeStruct((4, 3), np.float32)
    out = fg.eval_shape(f, x, np.ones((3, 5), np.float32))
    assert out == {"prod": fg.ShapeDtypeStruct((4, 5), np.float32),
                   "total": fg.ShapeDtypeStruct((), np.float32)}
    assert len(calls) == 1
    with pytest.raises(FuncgradError):
        fg.eval_shape(f, fg.ShapeDtypeStruct((4, 3), np.float64), np.ones((2, 5)))


JAX_PROGRAM = textwrap.dedent("""
    import numpy as np
    import jax
    import jax.numpy as jnp
    from jax import lax
    from jax.tree_util import tree_map
    from jax.flatten_util import ravel_pytree

    def rnn(params, xs):
        def step(h, x):
            h = jnp.tanh(params["W"] @ h + params["U"] @ x + params["b"])
            return h, lax.dynamic_slice(h, (0,), (2,))
        h, outs = lax.scan(step, jnp.zeros(3), xs)
        return jnp.sum(outs ** 2) + jnp.float32(0.5) * jnp.sum(lax.top_k(h, 2)[0])

    rng = np.random.default_rng(0)
    params = {"W": 0.3 * rng.standard_normal((3, 3)), "U": rng.standard_normal((3, 2)),
              "b": np.zeros(3)}
    xs = rng.standard_normal((6, 2))
    grads = jax.jit(jax.grad(rnn))(params, xs)
    params = tree_map(lambda p, g: p - 0.1 * g, params, grads)
    flat, unravel = ravel_pytree(params)
    result = float(rnn(unravel(flat), xs))
""")


def test_a_jax_program_runs_with_its_imports_changed():
    ported = (JAX_PROGRAM.replace("import jax.numpy as jnp", "import funcgrad.numpy as jnp")
              .replace("import jax\n", "import funcgrad as jax\n")
              .replace("from jax import lax", "from funcgrad import lax")
              .replace("from jax.tree_util import", "from funcgrad.tree import")
              .replace("from jax.flatten_util import", "from funcgrad.flatten_util import"))
    assert "jax." in ported and "import jax\n" not in ported
    namespace = {}
    exec(compile(ported, "ported_from_jax.py", "exec"), namespace)
    eager = dict(namespace)
    with fg.disable_jit():
        exec(compile(ported, "ported_from_jax.py", "exec"), eager)
    assert np.isfinite(namespace["result"])
    np.testing.assert_allclose(namespace["result"], eager["result"], rtol=1e-12)
