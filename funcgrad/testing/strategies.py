"""Hypothesis strategies for testing array functions and their gradients.

In the style of ``hypothesis.extra.numpy`` (whose strategies these build on), with defaults
chosen for differentiation tests:

* ``arrays`` draws *well-conditioned* floats by default: finite, no subnormals, magnitude at
  most 3, exactly representable in the array's dtype. Gradient checks on such inputs fail
  only when the derivative is wrong, not because finite differences overflowed.
* ``shapes`` includes 0-d arrays, and ``broadcastable_shapes`` /
  ``mutually_broadcastable_shapes`` draw shapes that broadcast (size-1 and missing axes).
* ``pytrees`` nests leaves in tuples, lists and dicts.
* ``in_domain(fn)`` and ``elements(fn)`` keep inputs inside a function's domain, away from
  its singularities: positive for log and sqrt, |x| < 1 for arcsin, x > 1 for arccosh...

Every strategy shrinks towards small shapes and simple values, so a failing example comes
out minimal.

Example:
    >>> import numpy as np, funcgrad.numpy as fnp
    >>> from hypothesis import given
    >>> from funcgrad.testing import check_grads, strategies as fst
    >>> @given(fst.in_domain(fnp.log, np.float64, fst.shapes()))
    ... def test_log(x):
    ...     check_grads(lambda x: fnp.log(x), (x,))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["arrays", "in_domain", "positive", "nonzero", "unit_interval", "elements", "floats",
           "float_dtypes", "shapes", "broadcastable_shapes", "mutually_broadcastable_shapes",
           "pytrees", "tangents", "DOMAINS", "FLOAT_DTYPES"]

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
"""The dtypes funcgrad differentiates in, as ``float_dtypes`` draws them."""

DOMAINS: dict[str, tuple[tuple[float, float], ...]] = {
    "log": ((0.25, 4.0),), "log2": ((0.25, 4.0),), "log10": ((0.25, 4.0),),
    "sqrt": ((0.25, 4.0),), "power": ((0.25, 4.0),), "logit": ((0.1, 0.9),),
    "log1p": ((-0.7, 3.0),),
    "arcsin": ((-0.8, 0.8),), "arccos": ((-0.8, 0.8),), "arctanh": ((-0.8, 0.8),),
    "arccosh": ((1.25, 4.0),),
    "tan": ((-1.2, 1.2),),
    # finite derivative only away from 0, and a sign of their own on each side
    "cbrt": ((-4.0, -0.25), (0.25, 4.0)), "reciprocal": ((-4.0, -0.25), (0.25, 4.0)),
    "divide": ((-4.0, -0.25), (0.25, 4.0)), "true_divide": ((-4.0, -0.25), (0.25, 4.0)),
    "abs": ((-3.0, -0.25), (0.25, 3.0)), "absolute": ((-3.0, -0.25), (0.25, 3.0)),
    "sign": ((-3.0, -0.25), (0.25, 3.0)),
}
"""Where a function's gradient can be checked with finite differences, by its name: (low,
high) ranges of its argument, chosen a step or more away from poles and branch points.
Functions not listed are smooth on [-3, 3]."""
_DEFAULT_RANGE = ((-3.0, 3.0),)


def float_dtypes() -> st.SearchStrategy[np.dtype]:
    """float64 or float32 (shrinks to float64).

    Example:
        >>> from hypothesis import find
        >>> find(float_dtypes(), lambda dtype: True)  # the simplest
        dtype('float64')
    """
    return st.sampled_from(FLOAT_DTYPES)


def floats(dtype=np.float64, min_value: float = -3.0, max_value: float = 3.0
           ) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value], representable in ``dtype``, no subnormals.

    Example:
        >>> from hypothesis import find
        >>> x = find(floats(np.float32, 0.1, 0.2), lambda x: True)
        >>> 0.1 <= x <= 0.2 and float(np.float32(x)) == x
        True
    """
    dtype = np.dtype(dtype)
    lo, hi = _inward(min_value, dtype, max_value), _inward(max_value, dtype, min_value)
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=dtype.itemsize * 8)


def _inward(bound: float, dtype: np.dtype, other: float) -> float:
    """``bound`` rounded to ``dtype``, moved towards ``other`` if rounding moved it out."""
    rounded = dtype.type(bound)
    if (float(rounded) - bound) * (other - bound) < 0:
        rounded = np.nextafter(rounded, dtype.type(other))
    return float(rounded)


def elements(fn: Callable | str | None = None, dtype=np.float64) -> st.SearchStrategy[float]:
    """Scalars inside ``fn``'s domain (see DOMAINS), as elements for ``arrays``.

    ``fn`` is a name ("log") or a function (fnp.log, or a primitive); unknown ones get the
    default range [-3, 3].

    Example:
        >>> from hypothesis import find
        >>> x = find(arrays(np.float64, (3,), elements=elements(fnp.log)), lambda x: True)
        >>> bool(np.all(x >= 0.25))
        True
    """
    ranges = DOMAINS.get(_name(fn), _DEFAULT_RANGE) if fn is not None else _DEFAULT_RANGE
    return st.one_of(*(floats(dtype, lo, hi) for lo, hi in ranges))


def _name(fn) -> str:
    if isinstance(fn, str):
        return fn
    return str(getattr(fn, "name", None) or getattr(fn, "__name__", ""))


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
           ) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, 0-d included by default; small, since gradient checks cost per element.

    Example:
        >>> from hypothesis import find
        >>> find(shapes(min_dims=2), lambda shape: True)  # the simplest
        (1, 1)
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(shape: tuple[int, ...], *, min_dims: int = 0,
                         max_dims: int | None = None, min_side: int = 1,
                         max_side: int | None = None) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes that broadcast with ``shape`` (hypothesis.extra.numpy.broadcastable_shapes).

    Example:
        >>> from hypothesis import find
        >>> find(broadcastable_shapes((2, 3), min_dims=2), lambda shape: True)  # the simplest
        (1, 1)
    """
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims,
                                    min_side=min_side, max_side=max_side)


def mutually_broadcastable_shapes(num_shapes: int, *, base_shape: tuple[int, ...] = (),
                                  min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                                  max_side: int = 4):
    """``num_shapes`` shapes that broadcast together; ``.input_shapes`` and ``.result_shape``
    of the drawn value, as in hypothesis.extra.numpy.

    Example:
        >>> from hypothesis import find
        >>> drawn = find(mutually_broadcastable_shapes(2), lambda s: len(s.result_shape) == 2)
        >>> np.broadcast_shapes(*drawn.input_shapes) == drawn.result_shape
        True
    """
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, base_shape=base_shape,
                                             min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side)


def arrays(dtype=np.float64, shape=None, *, elements: st.SearchStrategy | None = None,
           fill: st.SearchStrategy | None = None, unique: bool = False
           ) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``dtype`` and ``shape`` (each a value or a strategy; ``shape`` defaults to
    ``shapes()``), with well-conditioned float elements unless ``elements`` is given.

    Example:
        >>> from hypothesis import find
        >>> find(arrays(np.float32, (2, 3)), lambda x: True).dtype
        dtype('float32')
    """
    shape = shapes() if shape is None else shape
    if elements is None:
        if isinstance(dtype, st.SearchStrategy):
            return dtype.flatmap(lambda d: arrays(d, shape, fill=fill, unique=unique))
        elements = _default_elements(np.dtype(dtype))
    return hnp.arrays(dtype, shape, elements=elements, fill=fill, unique=unique)


def _default_elements(dtype: np.dtype) -> st.SearchStrategy:
    if dtype.kind == "f":
        return floats(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(max(info.min, -100), min(info.max, 100))
    return hnp.from_dtype(dtype)


def in_domain(fn: Callable | str | None, dtype=np.float64, shape=None
              ) -> st.SearchStrategy[np.ndarray]:
    """Arrays whose every element lies in ``fn``'s domain, a step away from its edges.

    Example:
        >>> from hypothesis import find
        >>> x = find(in_domain("arcsin", np.float64, (3,)), lambda x: True)
        >>> bool(np.all(np.abs(x) < 1))
        True
    """
    if isinstance(dtype, st.SearchStrategy):
        return dtype.flatmap(lambda d: in_domain(fn, d, shape))
    return arrays(dtype, shape, elements=elements(fn, dtype))


def positive(dtype=np.float64, shape=None) -> st.SearchStrategy[np.ndarray]:
    """Arrays with elements in [0.25, 4]: for log, sqrt, power's base.

    Example:
        >>> from hypothesis import given
        >>> @given(positive(shape=(3,)))
        ... def test_sqrt_squares_back(x):
        ...     np.testing.assert_allclose(fnp.sqrt(x) ** 2, x)
        >>> test_sqrt_squares_back()
    """
    return in_domain("log", dtype, shape)


def nonzero(dtype=np.float64, shape=None) -> st.SearchStrategy[np.ndarray]:
    """Arrays with 0.25 <= |x| <= 4: for divisors and reciprocals.

    Example:
        >>> from hypothesis import given
        >>> @given(nonzero(shape=(3,)))
        ... def test_reciprocal_of_reciprocal(x):
        ...     np.testing.assert_allclose(fnp.reciprocal(fnp.reciprocal(x)), x)
        >>> test_reciprocal_of_reciprocal()
    """
    return in_domain("divide", dtype, shape)


def unit_interval(dtype=np.float64, shape=None) -> st.SearchStrategy[np.ndarray]:
    """Arrays with |x| <= 0.8 < 1: for arcsin, arccos, arctanh.

    Example:
        >>> from hypothesis import given
        >>> @given(unit_interval(shape=(3,)))
        ... def test_sin_of_arcsin(x):
        ...     np.testing.assert_allclose(fnp.sin(fnp.arcsin(x)), x)
        >>> test_sin_of_arcsin()
    """
    return in_domain("arcsin", dtype, shape)


def pytrees(leaves: st.SearchStrategy, *, max_leaves: int = 6) -> st.SearchStrategy:
    """Nested tuples, lists and dicts (string keys) of values drawn from ``leaves``.

    Example:
        >>> from hypothesis import find
        >>> from funcgrad import tree
        >>> drawn = find(pytrees(arrays(np.float64, (2,))), lambda t: isinstance(t, dict))
        >>> all(leaf.shape == (2,) for leaf in tree.leaves(drawn))
        True
    """
    keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)

    def extend(children):
        return st.one_of(st.tuples(children), st.tuples(children, children),
                         st.lists(children, min_size=1, max_size=3),
                         st.dictionaries(keys, children, min_size=1, max_size=3))
    return st.recursive(leaves, extend, max_leaves=max_leaves)


def tangents(primals) -> st.SearchStrategy:
    """Tangents for ``primals`` (a tuple of arguments, pytrees alike), as ``jvp`` takes them:
    the same structure, each float leaf an array of its shape and dtype, each integer or
    boolean leaf ``float0`` zeros. For properties of forward mode, such as the transpose
    identity <vjp(u), v> == <u, jvp(v)>.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> from hypothesis import given
        >>> x = np.array([0.5, 1.0])
        >>> @given(tangents((x,)))
        ... def test_jvp_is_the_gradient_along_v(v):
        ...     y_dot = fg.jvp(lambda x: fnp.sum(fnp.sin(x)), (x,), v)[1]
        ...     assert np.isclose(y_dot, np.cos(x) @ v[0])
        >>> test_jvp_is_the_gradient_along_v()
    """
    from funcgrad.transforms.forward import float0
    from funcgrad.tree import flatten, unflatten

    leaves, tree = flatten(tuple(primals))

    def tangent(x):
        dtype = np.asarray(x).dtype
        if dtype.kind != "f":
            return st.just(np.zeros(np.shape(x), float0))
        if isinstance(x, float):
            return floats(np.float64)
        return arrays(dtype, np.shape(x))
    return st.tuples(*map(tangent, leaves)).map(lambda ts: unflatten(tree, list(ts)))
