"""Transformations composed two and three deep over control flow, against finite
differences, closed forms and values worked out by hand; each composition compiled
(``jit``) against the NumPy evaluator. Bugs found by composing live here."""

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.ops.shape import pad


def test_a_reversed_read_of_interior_padding_compiles_to_the_right_elements():
    """A padding with interior gaps and no low padding, read through a reversed slice
    fused into its consumer: the reversed index (``5 + i * -1``) was pasted unbracketed
    into the padding's ``index % 2`` test and its ``index // 2``, and every element read
    as padding. The gradient of a reversed associative_scan builds exactly this."""
    x, y = np.arange(1.0, 4.0), np.zeros(6)
    f = lambda x, y: y + fnp.flip(pad(x, (0,), (1,), (1,)))  # noqa: E731
    np.testing.assert_array_equal(f(x, y), [0.0, 3.0, 0.0, 2.0, 0.0, 1.0])
    np.testing.assert_array_equal(fg.jit(f)(x, y), f(x, y))

    def suffix_sums_weighted(x):
        return fnp.sum(lax.associative_scan(fnp.add, x, reverse=True) * x)
    x = np.array([0.8, 0.6, -0.3, 0.9, 0.1, 0.5])
    # d/dx_j sum_i x_i sum_{k>=i} x_k = sum_{k>=j} x_k + sum_{i<=j} x_i
    expected = np.cumsum(x[::-1])[::-1] + np.cumsum(x)
    np.testing.assert_allclose(fg.grad(suffix_sums_weighted)(x), expected, rtol=1e-13)
    np.testing.assert_allclose(fg.jit(fg.grad(suffix_sums_weighted))(x), expected, rtol=1e-13)
