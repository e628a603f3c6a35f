"""Collectives: operations across the examples of a named ``vmap``, as JAX's ``lax`` has them.

``vmap(f, axis_name="batch")`` lets ``f``, written for one example, use the whole batch:
``psum(x, "batch")`` is the sum of ``x`` over the examples (the same value for each),
``pmean``, ``pmax`` and ``pmin`` likewise; ``all_gather`` stacks every example's ``x``;
``psum_scatter`` sums them and gives each example its slice; ``axis_index`` is this example's
index and ``axis_size`` the number of examples. An axis name may be a tuple of names bound by
nested vmaps, ``("i", "j")``: the collective then runs over all of those axes.

Each collective is a primitive with an ``axis_name`` parameter (one name: a tuple of names
records one equation per name), recorded in the per-example program like any other
operation. Its meaning is its batching rule: when vmap batches the level that binds its
name (``rules.batching.batch_level()``), the rule replaces it by ordinary primitives over
the batch axis (psum: a reduce_sum over it; axis_index: an iota); a vmap nested inside,
binding another name, re-emits it still batched for the outer vmap to resolve. So the
batched program holds no collective, and jit compiles it like any other. The names in scope
while ``f`` is traced (core/axis_names.py) are checked when a collective is called: an
unbound name raises UnboundAxisError (a NameError) at the user's line.

Derivatives treat the per-example program as what it is, one piece of a function of the
whole batch, as JAX does. psum is linear and its transpose is psum: an example's output
cotangent reaches every example's input. So ``vmap(grad(f), axis_name=n)(xs)`` is the
gradient of the sum of all the examples' outputs, ``grad(lambda xs:
sum(vmap(f, axis_name=n)(xs)))(xs)``. all_gather and psum_scatter are linear and each
other's transposes. pmax and pmin pass the tangent of the example holding the extreme (ties
share it equally, as reduce_max's rule does; JAX does not differentiate pmax).
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np

from funcgrad.core.axis_names import axis_size as _bound_size
from funcgrad.core.axis_names import unbound_axis
from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import ShapedArray
from funcgrad.ops.elementwise import convert_element_type, where
from funcgrad.ops.reductions import reduce_max, reduce_min, reduce_sum
from funcgrad.ops.shape import (broadcast_to, iota, linear_jvp, moveaxis, reshape, shape_of,
                                to_front)
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules, zero_derivative
from funcgrad.rules.batching import BatchLevel, batch_level, collectives
from funcgrad.rules.lowering import lowerings
from funcgrad.tree import flatten, unflatten

_INT32 = np.dtype("int32")


def _unbound_impl(what):
    """A collective evaluated outside any vmap binding its name (its batching rule would have
    replaced it): the user's error, as at trace time."""
    def impl(*args, axis_name, **params):
        raise unbound_axis(axis_name, what)
    return impl


def _here(axis_name) -> BatchLevel | None:
    """The batch being built, if it is the one that binds ``axis_name``."""
    level = batch_level()
    return level if level is not None and level.name == axis_name else None


def _collective(name, shape_rule) -> Primitive:
    prim = Primitive(name, impl=_unbound_impl(name), shape_rule=shape_rule)
    collectives.add(prim)
    lowerings.exempt(prim, "vmap's batching replaces every collective by ordinary primitives "
                           "before a program is compiled (one left has an unbound axis name)")
    return prim


def _dtype_of(x):
    return x.dtype if hasattr(x, "dtype") else np.result_type(x)


def _same_dtype(total, x):
    """A sum over the batch axis in ``x``'s dtype (reduce_sum widens small integers)."""
    return convert_element_type(total, x.dtype) if total.dtype != x.dtype else total


# --- psum, pmax, pmin: one value for every example -------------------------------------

def _same_aval(x, *, axis_name):
    return x


psum_p = _collective("psum", _same_aval)
pmax_p = _collective("pmax", _same_aval)
pmin_p = _collective("pmin", _same_aval)


def _psum_batch(args, dims, *, axis_name):
    (x,), (d,) = args, dims
    level = _here(axis_name)
    if level is None:  # an outer vmap's axis: summed there, for each of our examples
        return [psum_p.bind(x, axis_name=axis_name)], [d]
    if d is None:  # the same value in every example
        return [x * level.size], [None]
    return [_same_dtype(reduce_sum(x, (d,)), x)], [None]


def _chooser_batch(prim, reduce):
    def rule(args, dims, *, axis_name):
        (x,), (d,) = args, dims
        if _here(axis_name) is None:
            return [prim.bind(x, axis_name=axis_name)], [d]
        return [x if d is None else reduce(x, (d,))], [None]
    return rule


def _psum_vjp(cts, inputs, outputs, active, *, axis_name):
    return [psum_p.bind(cts[0], axis_name=axis_name)]


def _chosen(x, ans):
    """1 where this example holds the extreme ``ans``, else 0 (in x's dtype)."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    return where(x == ans, one, zero)


def _chooser_jvp(prim):
    """The mean of the tangents of the examples holding the extreme (ties share it)."""
    def jvp(primals, tangents, *, axis_name):
        (x,), (t,) = primals, tangents
        ans = prim.bind(x, axis_name=axis_name)
        chosen = _chosen(x, ans)
        count = psum_p.bind(chosen, axis_name=axis_name)
        return [ans], [psum_p.bind(chosen * t, axis_name=axis_name) / count]
    return jvp


def _chooser_vjp(cts, inputs, outputs, active, *, axis_name):
    """The transpose of the JVP: every example's cotangent, shared among the examples
    holding the extreme."""
    chosen = _chosen(inputs[0], outputs[0])
    count = psum_p.bind(chosen, axis_name=axis_name)
    return [chosen * (psum_p.bind(cts[0], axis_name=axis_name) / count)]


batch_rules[psum_p] = _psum_batch
vjp_rules[psum_p] = _psum_vjp
jvp_rules[psum_p] = linear_jvp(psum_p)
batch_rules[pmax_p] = _chooser_batch(pmax_p, reduce_max)
batch_rules[pmin_p] = _chooser_batch(pmin_p, reduce_min)
for _p in (pmax_p, pmin_p):
    jvp_rules[_p] = _chooser_jvp(_p)
    vjp_rules[_p] = _chooser_vjp


# --- all_gather and psum_scatter: each other's transposes ------------------------------

def _all_gather_rule(x, *, axis_name, axis_size, axis, tiled):
    shape = list(x.shape)
    if tiled:
        shape[axis] *= axis_size
    else:
        shape.insert(axis, axis_size)
    return ShapedArray(tuple(shape), x.dtype)


def _psum_scatter_rule(x, *, axis_name, axis_size, scatter_dimension, tiled):
    shape, sd = list(x.shape), scatter_dimension
    if tiled:
        if shape[sd] % axis_size:
            raise ShapeError(f"psum_scatter(tiled=True) over axis {axis_name!r} of "
                             f"{axis_size} examples: axis {sd} of {x} has size {shape[sd]}, "
                             f"not a multiple of {axis_size}")
        shape[sd] //= axis_size
    else:
        if shape[sd] != axis_size:
            raise ShapeError(f"psum_scatter over axis {axis_name!r} of {axis_size} examples: "
                             f"axis {sd} of {x} has size {shape[sd]}, but it must have one "
                             "entry per example (or pass tiled=True)")
        del shape[sd]
    return ShapedArray(tuple(shape), x.dtype)


all_gather_p = _collective("all_gather", _all_gather_rule)
psum_scatter_p = _collective("psum_scatter", _psum_scatter_rule)


def _all_gather_batch(args, dims, *, axis_name, axis_size, axis, tiled):
    (x,), (d,) = args, dims
    params = dict(axis_name=axis_name, axis_size=axis_size, tiled=tiled)
    if _here(axis_name) is None:
        if d is None:
            return [all_gather_p.bind(x, axis=axis, **params)], [None]
        return [all_gather_p.bind(to_front(x, d), axis=axis + 1, **params)], [0]
    if d is None:  # the same value in every example
        x, d = broadcast_to(x, (axis_size, *shape_of(x))), 0
    x = moveaxis(x, d, axis)  # the examples' values side by side: the same for every example
    if tiled:
        shape = shape_of(x)
        x = reshape(x, (*shape[:axis], shape[axis] * shape[axis + 1], *shape[axis + 2:]))
    return [x], [None]


def _psum_scatter_batch(args, dims, *, axis_name, axis_size, scatter_dimension, tiled):
    (x,), (d,) = args, dims
    sd = scatter_dimension
    params = dict(axis_name=axis_name, axis_size=axis_size, tiled=tiled)
    if _here(axis_name) is None:
        if d is None:
            return [psum_scatter_p.bind(x, scatter_dimension=sd, **params)], [None]
        return [psum_scatter_p.bind(to_front(x, d), scatter_dimension=sd + 1, **params)], [0]
    total = x * axis_size if d is None else _same_dtype(reduce_sum(x, (d,)), x)
    # example e's result is the e-th entry (block, if tiled) of the total along sd: that axis
    # is the batch axis
    if tiled:
        shape = shape_of(total)
        total = reshape(total, (*shape[:sd], axis_size, shape[sd] // axis_size,
                                *shape[sd + 1:]))
    return [total], [sd]


def _all_gather_vjp(cts, inputs, outputs, active, *, axis_name, axis_size, axis, tiled):
    return [psum_scatter_p.bind(cts[0], axis_name=axis_name, axis_size=axis_size,
                                scatter_dimension=axis, tiled=tiled)]


def _psum_scatter_vjp(cts, inputs, outputs, active, *, axis_name, axis_size,
                      scatter_dimension, tiled):
    return [all_gather_p.bind(cts[0], axis_name=axis_name, axis_size=axis_size,
                              axis=scatter_dimension, tiled=tiled)]


batch_rules[all_gather_p] = _all_gather_batch
vjp_rules[all_gather_p] = _all_gather_vjp
jvp_rules[all_gather_p] = linear_jvp(all_gather_p)
batch_rules[psum_scatter_p] = _psum_scatter_batch
vjp_rules[psum_scatter_p] = _psum_scatter_vjp
jvp_rules[psum_scatter_p] = linear_jvp(psum_scatter_p)


# --- axis_index ------------------------------------------------------------------------

axis_index_p = _collective("axis_index", lambda *, axis_name: ShapedArray((), _INT32))
zero_derivative(axis_index_p)


def _axis_index_batch(args, dims, *, axis_name):
    level = _here(axis_name)
    if level is None:  # (not reached: with no operand it is batched at its own level only)
        return [axis_index_p.bind(axis_name=axis_name)], [None]
    return [iota(_INT32, (level.size,))], [0]


batch_rules[axis_index_p] = _axis_index_batch


# --- the functions, with JAX's lax signatures ------------------------------------------

def _names(axis_name, what: str) -> tuple:
    """The axis names a collective runs over (a tuple of names, or one name), checked."""
    names = tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)
    for name in names:
        check_axis_name(name, f"{what}'s axis_name")
    return names


def check_axis_name(name, what: str) -> None:
    """Axis names are hashable and not ints (JAX's collectives read an int as a positional
    axis of the array, which funcgrad does not support) and not None."""
    if name is None or isinstance(name, (bool, int, np.integer)) or isinstance(name, tuple):
        raise FuncgradTypeError(
            f"{what} must be a hashable name such as 'batch', got {name!r}"
            + (": ints name positional axes in JAX's collectives, which funcgrad does not "
               "support (reduce over an array axis with fnp.sum)"
               if isinstance(name, (int, np.integer)) and not isinstance(name, bool) else ""))
    try:
        hash(name)
    except TypeError:
        raise FuncgradTypeError(f"{what} must be hashable, got {name!r}") from None


def _check_groups(axis_index_groups, what):
    if axis_index_groups is not None:
        raise FuncgradValueError(f"{what}: axis_index_groups is not supported (only None, the "
                                 "whole axis)")


def _sizes(names, what) -> list[int]:
    return [_bound_size(n, what) for n in names]


def _one_name(axis_name, what) -> Hashable:
    names = _names(axis_name, what)
    if len(names) != 1:
        raise FuncgradValueError(
            f"{what} over {len(names)} axis names {names!r} at once is not supported (JAX's "
            f"vmap does not support it either): {what} over one name at a time")
    return names[0]


def _leaves(x):
    return flatten(x)


def psum(x, axis_name, *, axis_index_groups=None):
    """The sum of ``x`` (a pytree) over every example of the vmap(s) binding ``axis_name``
    (a name or a tuple of names): the same value for every example. Booleans are summed as
    int32; a value that is not traced (a Python number, a constant) is the same in every
    example, so its psum is it times the number of examples: ``psum(1, name)`` is the size of
    the axis, a Python int.

    Example:
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: x / lax.psum(x, "batch"), axis_name="batch")(np.array([1., 3.]))
        array([0.25, 0.75])
    """
    _check_groups(axis_index_groups, "psum")
    names = _names(axis_name, "psum")
    size = math.prod(_sizes(names, "psum"))
    leaves, tree = _leaves(x)
    out = []
    for leaf in leaves:
        if _dtype_of(leaf) == np.bool_:
            leaf = _as_int32(leaf)
        if not isinstance(leaf, Tracer):
            out.append(leaf * size)
            continue
        for name in names:
            leaf = psum_p.bind(leaf, axis_name=name)
        out.append(leaf)
    return unflatten(tree, out)


def _as_int32(leaf):
    if isinstance(leaf, Tracer):
        return convert_element_type(leaf, _INT32)
    return np.asarray(leaf, _INT32)


def pmean(x, axis_name, *, axis_index_groups=None):
    """The mean of ``x`` (a pytree) over the examples of the vmap(s) binding ``axis_name``:
    ``psum(x, axis_name) / psum(1, axis_name)``, the same value for every example.

    Example:
        >>> from funcgrad import lax
        >>> center = fg.vmap(lambda x: x - lax.pmean(x, "batch"), axis_name="batch")
        >>> center(np.array([1.0, 2.0, 6.0]))
        array([-2., -1.,  3.])
    """
    _check_groups(axis_index_groups, "pmean")
    names = _names(axis_name, "pmean")
    size = math.prod(_sizes(names, "pmean"))
    leaves, tree = _leaves(psum(x, names))
    return unflatten(tree, [leaf / size for leaf in leaves])


def _extreme(prim, what, x, axis_name, axis_index_groups):
    _check_groups(axis_index_groups, what)
    names = _names(axis_name, what)
    _sizes(names, what)
    leaves, tree = _leaves(x)
    out = []
    for leaf in leaves:
        if isinstance(leaf, Tracer):  # (a constant is the same in every example)
            for name in names:
                leaf = prim.bind(leaf, axis_name=name)
        out.append(leaf)
    return unflatten(tree, out)


def pmax(x, axis_name, *, axis_index_groups=None):
    """The maximum of ``x`` (a pytree) over the examples of the vmap(s) binding
    ``axis_name``: the same value for every example. Its derivative is the tangent of the
    example holding the maximum (ties share it equally).

    Example:
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: x / lax.pmax(x, "batch"), axis_name="batch")(np.array([1., 4.]))
        array([0.25, 1.  ])
    """
    return _extreme(pmax_p, "pmax", x, axis_name, axis_index_groups)


def pmin(x, axis_name, *, axis_index_groups=None):
    """The minimum of ``x`` (a pytree) over the examples of the vmap(s) binding
    ``axis_name``: the same value for every example (see ``pmax``).

    Example:
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: x - lax.pmin(x, "batch"), axis_name="batch")(np.array([3., 1.]))
        array([2., 0.])
    """
    return _extreme(pmin_p, "pmin", x, axis_name, axis_index_groups)


def _normalized_axis(axis, ndim, what, name):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -ndim <= axis < ndim:
        raise FuncgradValueError(f"{what}'s {name} must be an int in [{-ndim}, {ndim}), got "
                                 f"{axis!r}")
    return int(axis) % ndim


def all_gather(x, axis_name, *, axis_index_groups=None, axis: int = 0, tiled: bool = False):
    """Every example's ``x`` (a pytree of arrays), stacked along a new axis ``axis`` (or,
    with ``tiled=True``, concatenated along its axis ``axis``) over the examples of the vmap
    binding ``axis_name``: the same value for every example.

    Example:
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: lax.all_gather(x, "batch") - x, axis_name="batch")(np.arange(3.))
        array([[ 0.,  1.,  2.],
               [-1.,  0.,  1.],
               [-2., -1.,  0.]])
    """
    _check_groups(axis_index_groups, "all_gather")
    name = _one_name(axis_name, "all_gather")
    size = _bound_size(name, "all_gather")
    leaves, tree = _leaves(x)
    out = []
    for leaf in leaves:
        ndim = len(np.shape(leaf)) if not isinstance(leaf, Tracer) else leaf.ndim
        if tiled and ndim == 0:
            raise ShapeError("all_gather(tiled=True) concatenates along an axis of x, but x is "
                             "a scalar")
        a = _normalized_axis(axis, ndim if tiled else ndim + 1, "all_gather", "axis")
        out.append(all_gather_p.bind(leaf, axis_name=name, axis_size=size, axis=a,
                                     tiled=bool(tiled)))
    return unflatten(tree, out)


def psum_scatter(x, axis_name, *, scatter_dimension: int = 0, axis_index_groups=None,
                 tiled: bool = False):
    """The sum of ``x`` over the examples of the vmap binding ``axis_name``, scattered: with
    ``x``'s axis ``scatter_dimension`` of one entry per example, example ``i`` gets entry
    ``i`` of the sum (with ``tiled=True``, that axis has ``n * k`` entries and it gets block
    ``i`` of ``k``). The transpose of ``all_gather``.

    Example:
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: lax.psum_scatter(x, "b"), axis_name="b")(np.arange(4.).reshape(2, 2))
        array([2., 4.])
    """
    _check_groups(axis_index_groups, "psum_scatter")
    name = _one_name(axis_name, "psum_scatter")
    size = _bound_size(name, "psum_scatter")
    leaves, tree = _leaves(x)
    out = []
    for leaf in leaves:
        ndim = len(np.shape(leaf)) if not isinstance(leaf, Tracer) else leaf.ndim
        if ndim == 0:
            raise ShapeError("psum_scatter needs an axis to scatter, but x is a scalar")
        sd = _normalized_axis(scatter_dimension, ndim, "psum_scatter", "scatter_dimension")
        out.append(psum_scatter_p.bind(leaf, axis_name=name, axis_size=size,
                                       scatter_dimension=sd, tiled=bool(tiled)))
    return unflatten(tree, out)


def axis_index(axis_name):
    """This example's index along the vmap binding ``axis_name`` (int32). With a tuple of
    names, the index in the examples of all those axes in row-major order
    (``i * size_j + j`` for ``("i", "j")``).

    Example:
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: x * lax.axis_index("batch"), axis_name="batch")(np.ones(3))
        array([0., 1., 2.])
    """
    names = _names(axis_name, "axis_index")
    sizes = _sizes(names, "axis_index")
    index = None
    for name, size in zip(names, sizes):
        here = axis_index_p.bind(axis_name=name)
        index = here if index is None else index * np.int32(size) + here
    return np.int32(0) if index is None else index


def axis_size(axis_name) -> int:
    """The number of examples of the vmap binding ``axis_name`` (the product of their sizes
    for a tuple of names), a Python int: ``psum(1, axis_name)``.

    Example:
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: x * lax.axis_size("batch"), axis_name="batch")(np.ones(2))
        array([2., 2.])
    """
    return math.prod(_sizes(_names(axis_name, "axis_size"), "axis_size"))


__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "axis_index",
           "axis_size"]
