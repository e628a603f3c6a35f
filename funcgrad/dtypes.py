"""``funcgrad.dtypes.float0``: the dtype of the gradient of an integer or boolean input, as
JAX's ``jax.dtypes.float0`` (an empty structured dtype: such an input has no tangent space,
so its gradient holds no numbers, only a shape). ``grad(f, allow_int=True)``, ``jacrev`` with
``allow_int=True`` and ``vjp``'s pullback return it for integer inputs, and ``jvp`` for
integer outputs.

The arrays grad and vjp return are pytree nodes without leaves, so that a traced function
(``jit``, ``vmap``) can return them as it gets them: they are rebuilt, not traced.

Example:
    >>> import funcgrad as fg
    >>> g = fg.grad(lambda x, n: x * n, argnums=1, allow_int=True)(2.0, 3)
    >>> g.dtype == fg.dtypes.float0, g.shape
    (True, ())
"""

from __future__ import annotations

import numpy as np

from funcgrad.tree import register

__all__ = ["float0"]

float0 = np.dtype([("float0", np.void, 0)])


class Float0Array(np.ndarray):
    """An array of dtype float0 that pytrees see as a node without leaves (see above)."""


def float0_zeros(shape) -> Float0Array:
    """The gradient of an integer or boolean input of this shape."""
    return np.zeros(tuple(shape), float0).view(Float0Array)


register(Float0Array, lambda x: ((), x.shape), lambda shape, _: float0_zeros(shape))
