"""One flat vector for a whole pytree of arrays, and the function that undoes it (JAX's
``jax.flatten_util.ravel_pytree``): what optimizers written for vectors, HMC samplers and
``scipy.optimize.minimize`` want from a model's parameters.

Example:
    >>> import numpy as np
    >>> from funcgrad.flatten_util import ravel_pytree
    >>> flat, unravel = ravel_pytree({"b": np.zeros(2), "w": np.ones((2, 2))})
    >>> flat
    array([0., 0., 1., 1., 1., 1.])
    >>> unravel(flat)["w"]
    array([[1., 1.],
           [1., 1.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.core.errors import ShapeError as _ShapeError  # a ValueError naming the line

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree) -> tuple[Any, Callable]:
    """The leaves of ``pytree`` raveled and concatenated in tree order (promoted to one
    dtype, as ``concatenate`` does), and ``unravel``, which splits such a vector back into a
    pytree of the same structure, shapes and dtypes. Both trace: they work under ``grad``,
    ``jit`` and ``vmap``, and ``unravel`` differentiates as the slicing it is.

    Example:
        >>> import numpy as np, funcgrad as fg
        >>> from funcgrad.flatten_util import ravel_pytree
        >>> params = (np.array([1.0, 2.0]), np.array(3.0))
        >>> flat, unravel = ravel_pytree(params)
        >>> fg.grad(lambda v: fnp.sum(unravel(v)[0] ** 2) + unravel(v)[1])(flat)
        array([2., 4., 1.])
    """
    leaves, treedef = tree.flatten(pytree)
    leaves = [fnp.asarray(x) for x in leaves]
    shapes = [tuple(np.shape(x)) for x in leaves]
    dtypes = [x.dtype for x in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    flat = fnp.concatenate([fnp.ravel(x) for x in leaves]) if leaves else np.zeros(0)
    ends = np.cumsum(sizes)

    def unravel(vector):
        vector = fnp.asarray(vector)
        if tuple(np.shape(vector)) != (int(ends[-1]) if sizes else 0,):
            raise _ShapeError(f"unravel: expected a vector of {int(ends[-1]) if sizes else 0} "
                             f"elements, got shape {tuple(np.shape(vector))}")
        parts = [fnp.reshape(vector[end - size:end], shape).astype(dtype)
                 for end, size, shape, dtype in zip(ends, sizes, shapes, dtypes)]
        return tree.unflatten(treedef, parts)

    return flat, unravel
