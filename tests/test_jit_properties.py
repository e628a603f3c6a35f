"""Property: for random compositions of ops, jit(f) == f and jit(grad(f)) == grad(f).

Each example is a new program, hence a new Numba compilation (about a second): the
example counts are small on purpose, and the shapes vary inside one example instead.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp

UNARY = {
    "sin": fnp.sin, "tanh": fnp.tanh, "square": lambda a: a * a,
    "gauss": lambda a: fnp.exp(-a * a), "log1p_sq": lambda a: fnp.log1p(a * a),
    "abs": fnp.abs, "softplus": fg.nn.softplus, "sigmoid": fg.nn.sigmoid,
    "flip": lambda a: a[::-1], "transpose_back": lambda a: a.T.T * 0.5,
    "cumsum": lambda a: fnp.cumsum(a, axis=-1) * 0.1,
    "row_softmax": lambda a: fg.nn.softmax(a, axis=-1),
    "center": lambda a: a - fnp.mean(a, axis=0, keepdims=True),
}
BINARY = {
    "add": fnp.add, "sub": fnp.subtract, "mul": fnp.multiply,
    "div": lambda a, b: a / (1.0 + b * b), "max": fnp.maximum,
    "where": lambda a, b: fnp.where(a > b, a, b * 2.0),
    "matmul": lambda a, b: fnp.tanh(a @ b.T @ a) * 0.1,
    "concat_split": lambda a, b: fnp.concatenate([a, b], axis=0)[1:a.shape[0] + 1],
    "row_broadcast": lambda a, b: a * fnp.sum(b, axis=0),
}


@st.composite
def programs(draw):
    steps = []
    for _ in range(draw(st.integers(2, 7))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, 9))))
        else:
            steps.append(("b", draw(st.sampled_from(sorted(BINARY))), draw(st.integers(0, 9)),
                          draw(st.integers(0, 9))))
    return steps


def build(steps):
    def f(x, y):
        values = [x, y]
        for step in steps:
            if step[0] == "u":
                values.append(UNARY[step[1]](values[step[2] % len(values)]))
            else:
                a, b = values[step[2] % len(values)], values[step[3] % len(values)]
                values.append(BINARY[step[1]](a, b))
        return values[2:]
    return f


def scalar(f):
    return lambda x, y: sum(fnp.sum(v) for v in f(x, y))


def data(rows):
    rng = np.random.default_rng(rows)
    return rng.normal(size=(rows, 4)), rng.normal(size=(rows, 4))


def close(a, b):
    for x, y in zip(fg.tree.leaves(a), fg.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(programs())
def test_jit_equals_eager(steps):
    f = build(steps)
    compiled = fg.jit(f)
    for rows in (3, 5):  # a second shape reuses the compiled code
        x, y = data(rows)
        close(compiled(x, y), f(x, y))


@settings(max_examples=20, deadline=None)
@given(programs())
def test_jit_grad_equals_grad(steps):
    f = scalar(build(steps))
    x, y = data(3)
    expected = fg.grad(f, argnums=(0, 1))(x, y)
    close(fg.jit(fg.grad(f, argnums=(0, 1)))(x, y), expected)
