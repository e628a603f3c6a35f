"""vmap: a function of one example, applied to a whole batch at once.

``vmap(f)(xs)`` traces ``f`` once on a single example (the arguments without their mapped
axes), batches that Program with transforms/batching.py, and runs the batched program: with
NumPy, or by recording it into the enclosing trace (jit, grad, make_ir, another vmap), so
``jit(vmap(grad(loss)))`` compiles to one function with the batch axis an ordinary array
axis. The batched program is built once per input signature and cached, as grad's adjoint,
with the same rule (api/autodiff.py ``_cached``): ``f`` runs on every call until two traces
agree and show no random draws or state changes, so impure functions are seen every time.

``vmap(f, axis_name="batch")`` binds the name to the batch size while it traces ``f``
(core/axis_names.py), so that ``f``'s collectives (``lax.psum``..., ops/collectives.py) can
check it, and hands it to ``batch_program``, whose rules turn them into sums (and the like)
over the batch axis.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Callable, Hashable

import numpy as np
import optree

from funcgrad.api.autodiff import (_cache, _cached, _Traced, numpy_values,
                                   traced_number_error)
from funcgrad.api.transformed import Transformed
from funcgrad.api.trace_cache import leaf_signature
from funcgrad.core.arguments import FunctionArgs, name_of
from funcgrad.core.axis_names import binding
from funcgrad.core.errors import ConcretizationError, FuncgradTypeError, ShapeError
from funcgrad.core.evaluate import evaluate, inline, owned_results
from funcgrad.core.ir import Program
from funcgrad.core.tracing import Tracer, current_trace, trace_flat
from funcgrad.ops.collectives import check_axis_name
from funcgrad.tree import NAMESPACE, flatten, unflatten
from funcgrad.tree import map as tree_map
from funcgrad.transforms.batching import batch_program



class _Entry(NamedTuple):
    program: Program               # the batched program
    consts: list
    out_tree: Any
    concrete: bool = False
    check: str | None = None       # PROBE or IMPURE: trace the function again (see
    structure: list | None = None  # api/autodiff.py _cached, which grad, jvp and jacfwd share)


def vmap(fun: Callable, in_axes: Any = 0, out_axes: Any = 0, axis_size: int | None = None,
         axis_name: Hashable | None = None, spmd_axis_name: Any = None):
    """``fun`` of one example, vectorized over a batch: ``vmap(f)(xs)[i] == f(xs[i])``.

    ``in_axes`` says which axis of each argument runs over the examples: an int for all of
    them, None for an argument shared by every example, or a tuple with one entry per
    positional argument, each an int, None, or a pytree of those matching that argument
    (negative axes count from the end). Keyword arguments are mapped over their axis 0.
    ``out_axes`` (an int, None, or a pytree prefix of the output) says where the batch axis
    goes in each output. ``axis_size`` gives the batch size when no argument is mapped.

    ``axis_name`` (a string, say) names the batch axis, so that ``fun`` can use the whole
    batch through the collectives of ``funcgrad.lax``: ``lax.psum(x, "batch")`` is the sum
    of ``x`` over the examples, ``lax.pmean``, ``lax.pmax``, ``lax.pmin``,
    ``lax.all_gather``, ``lax.psum_scatter``, ``lax.axis_index`` (this example's index) and
    ``lax.axis_size`` likewise. In nested vmaps each collective runs over the axes it names
    (a name, or a tuple of names). ``spmd_axis_name`` is accepted for JAX compatibility and
    ignored: it places the batch axis on a device mesh, and funcgrad runs on one machine.

    vmap is a program transformation: ``f`` is traced once per input signature and each
    equation of its program is replaced by its batched form (a matrix-vector product becomes
    a matrix-matrix product, not a loop), so the result composes with ``grad``, ``jit``,
    ``make_ir`` and ``vmap`` itself, in any order.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> loss = lambda w, x, y: (fnp.dot(x, w) - y) ** 2
        >>> w, xs, ys = np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)
        >>> fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))(w, xs, ys)  # per-example gradients
        array([[2., 0.],
               [0., 4.]])
        >>> fg.vmap(fg.vmap(fnp.multiply, (0, None)), (None, 0))(np.ones(2), np.arange(3.0))
        array([[0., 0.],
               [1., 1.],
               [2., 2.]])
        >>> from funcgrad import lax
        >>> fg.vmap(lambda x: x - lax.pmean(x, "batch"), axis_name="batch")(np.arange(3.0))
        array([-1.,  0.,  1.])
    """
    return Vectorized(fun, in_axes, out_axes, axis_size, axis_name, spmd_axis_name)


class Vectorized(Transformed):
    """What ``vmap`` returns: call it like the function it batches (it pickles as the function
    and the options, see api/transformed.py)."""

    def __init__(self, fun, in_axes, out_axes, axis_size, axis_name=None, spmd_axis_name=None,
                 transform="vmap"):
        # (``transform``: the name errors give it, "pmap" for pmap's, see api/pmap.py)
        if not callable(fun):
            raise FuncgradTypeError(f"{transform} needs a function, got {type(fun).__name__}")
        _check_axes_spec(in_axes, f"{transform}'s in_axes")
        _check_axes_spec(out_axes, f"{transform}'s out_axes")
        if axis_size is not None and (not isinstance(axis_size, (int, np.integer))
                                      or isinstance(axis_size, bool) or axis_size < 0):
            raise FuncgradTypeError(f"{transform}'s axis_size must be a non-negative int, got "
                                    f"{axis_size!r}")
        if axis_name is not None:
            check_axis_name(axis_name, f"{transform}'s axis_name")
        super().__init__(fun, (in_axes, out_axes, axis_size, axis_name, spmd_axis_name,
                               transform))
        self.in_axes, self.out_axes, self.axis_size = in_axes, out_axes, axis_size
        self.axis_name, self.transform = axis_name, transform
        self._options = (transform, _hashable(in_axes), _hashable(out_axes), axis_size,
                         axis_name)
        self.__name__ = f"{transform}({name_of(fun)})"

    def __call__(self, *args, **kwargs):
        fun = self.fun
        leaves, in_tree = optree.tree_flatten((args, kwargs), namespace=NAMESPACE)
        try:
            key = (*self._options, in_tree, *map(leaf_signature, leaves))
            hash(key)
        except TypeError:
            key = None
        entry = _cache.get(fun, key) if key is not None else None
        if entry is None or entry.check is not None:  # the function runs on every call
            call = FunctionArgs(fun, args, kwargs)  # until caching it is known to be safe
            examples = _Examples(call, self.in_axes, self.axis_size, self.axis_name,
                                 self.transform)
            entry = _cached(fun, key, call, lambda traced: _build(traced, call, examples,
                                                                  self.out_axes),
                            trace=examples.trace)
            leaves = call.leaves
        inputs = [*entry.consts, *leaves]
        if current_trace() is not None or any(isinstance(x, Tracer) for x in leaves):
            outs = inline(entry.program, inputs)
        else:
            outs = numpy_values(owned_results(entry.program, evaluate(entry.program, inputs)))
        return unflatten(entry.out_tree, outs)


class _Examples:
    """One example of a call: each argument without its mapped axis."""

    def __init__(self, call: FunctionArgs, in_axes, axis_size, axis_name, transform):
        avals = call.avals()
        self.transform = transform
        self.dims = _leaf_axes(call, avals, in_axes, transform)
        self.size = _axis_size(call, avals, self.dims, axis_size, transform)
        self.avals = [a if d is None else a.update(shape=a.shape[:d] + a.shape[d + 1:])
                      for a, d in zip(avals, self.dims)]
        self.axis_name = axis_name

    def trace(self, call: FunctionArgs, fun, key) -> _Traced:
        try:  # (the collectives fun calls find the name bound to the batch size)
            with binding(self.axis_name, self.size):
                program, consts = trace_flat(call.flat_function(), self.avals)
        except ConcretizationError as err:
            unmapped = [j for j, d in enumerate(self.dims) if d is None]
            raise (traced_number_error(err, call, unmapped, self.transform) or err) from None
        return _Traced(program, consts, call.out_tree, False)


def _build(traced: _Traced, call: FunctionArgs, examples: _Examples, out_axes) -> _Entry:
    program, consts, dims, size = traced.program, traced.consts, examples.dims, examples.size
    transform = examples.transform
    out_dims = _out_axes(call, program, out_axes, transform)
    in_dims = [None] * len(consts) + dims
    batched, got = batch_program(program, in_dims, size, out_dims, examples.axis_name)
    for j, (want, d) in enumerate(zip(out_dims, got)):
        if want is None and d is not None:
            raise FuncgradTypeError(
                f"{transform} of {name_of(call.fun)}: out_axes is None for output "
                f"{_describe_output(call.out_tree, j)}, but it differs from example to example "
                "(it depends on a mapped argument); give it an axis in out_axes")
    return _Entry(batched, consts, _batched_float0(call.out_tree, size, out_axes))


def _batched_float0(out_tree, size, out_axes):
    """A float0 output (grad's of an integer input, allow_int=True) is a pytree node, not a
    traced value: it gets the batch axis here (at out_axes if that is one int, else first)."""
    from funcgrad.dtypes import Float0Array, float0_zeros
    if "Float0Array" not in str(out_tree):
        return out_tree
    axis = out_axes if isinstance(out_axes, int) else 0

    def batched(x):
        if not isinstance(x, Float0Array):
            return x
        shape = list(x.shape)
        shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, size)
        return float0_zeros(shape)

    outs = unflatten(out_tree, list(range(out_tree.num_leaves)))
    return flatten(tree_map(batched, outs, is_leaf=lambda x: isinstance(x, Float0Array)))[1]


# ---------------------------------------------------------------------------------------
# in_axes and out_axes


def _check_axes_spec(spec, what):
    leaves = optree.tree_leaves(spec, none_is_leaf=True, namespace=NAMESPACE)
    for a in leaves:
        if a is not None and (not isinstance(a, (int, np.integer)) or isinstance(a, bool)):
            raise FuncgradTypeError(f"{what} must hold ints and None (in a pytree), "
                                    f"got {a!r} in {spec!r}")


def _hashable(spec):
    leaves, tree = optree.tree_flatten(spec, none_is_leaf=True, namespace=NAMESPACE)
    return tuple(None if a is None else int(a) for a in leaves), tree


def _broadcast_prefix(spec, tree, where: str) -> list:
    """One entry of ``spec`` (an axis, None, or a pytree prefix of ``tree``) per leaf of
    ``tree``."""
    if spec is None or isinstance(spec, (int, np.integer)):
        return [spec] * len(flatten(tree)[0])
    spec_leaves, spec_tree = optree.tree_flatten(spec, none_is_leaf=True, namespace=NAMESPACE)
    try:
        subtrees = spec_tree.flatten_up_to(tree)
    except (ValueError, TypeError):
        raise FuncgradTypeError(
            f"{where} is {spec!r}, which does not match the structure of the value it "
            f"maps, {_structure(tree)}: give one axis (or None) for the whole value, or a "
            "pytree of the same structure") from None
    return [a for a, sub in zip(spec_leaves, subtrees) for _ in flatten(sub)[0]]


def _structure(tree) -> str:
    return str(optree.tree_map(lambda _: "*", tree, namespace=NAMESPACE)).replace("'*'", "*")


def _leaf_axes(call: FunctionArgs, avals, in_axes, transform: str) -> list:
    """The mapped axis of every leaf of the call (None: not mapped), checked and >= 0."""
    name, args = name_of(call.fun), call.args
    what = f"{transform} of {name}"
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if isinstance(in_axes, tuple):
        if len(in_axes) != len(args):
            raise FuncgradTypeError(
                f"{what}: in_axes {in_axes!r} has {len(in_axes)} entr"
                f"{'y' if len(in_axes) == 1 else 'ies'}, but {name} was called with "
                f"{len(args)} positional argument{'s' * (len(args) != 1)}: give one entry "
                "per argument")
        per_arg = in_axes
    elif in_axes is None or isinstance(in_axes, (int, np.integer)):
        per_arg = (in_axes,) * len(args)
    else:
        raise FuncgradTypeError(f"{what}: in_axes must be an int, None or a tuple with "
                                f"one entry per positional argument, got {in_axes!r}")
    axes = []
    for i, (spec, arg) in enumerate(zip(per_arg, args)):
        axes += _broadcast_prefix(spec, arg, f"{what}: in_axes[{i}]")
    axes += [0] * (len(call.leaves) - len(axes))  # keyword arguments: axis 0, as in JAX
    dims: list[int | None] = []
    for j, (a, aval) in enumerate(zip(axes, avals)):
        if a is None:
            dims.append(None)
            continue
        if not -aval.ndim <= a < aval.ndim:
            raise ShapeError(
                f"{what}: in_axes maps axis {a} of {call.describe_leaf(j)}, which has "
                f"shape {aval.shape} ({aval.ndim} ax{'i' if aval.ndim == 1 else 'e'}s): give "
                "an axis it has, or None to pass it to every example whole")
        dims.append(int(a) % aval.ndim)
    return dims


def _axis_size(call, avals, dims, axis_size, transform: str) -> int:
    sizes = {j: avals[j].shape[d] for j, d in enumerate(dims) if d is not None}
    if not sizes:
        if axis_size is None:
            raise FuncgradTypeError(
                f"{transform} of {name_of(call.fun)}: no argument is mapped (in_axes is None for "
                "all of them), so the batch size is unknown: pass axis_size")
        return int(axis_size)
    distinct = set(sizes.values()) | ({int(axis_size)} if axis_size is not None else set())
    if len(distinct) > 1:
        lines = "; ".join(f"{call.describe_leaf(j)} has size {n} along axis {dims[j]}"
                          for j, n in sizes.items())
        given = f"; axis_size is {axis_size}" if axis_size is not None else ""
        raise ShapeError(f"{transform} of {name_of(call.fun)}: the mapped axes have different "
                         f"sizes: "
                         f"{lines}{given}. Every mapped argument needs the same number of "
                         "examples")
    return distinct.pop()


def _out_axes(call, program: Program, out_axes, transform: str) -> list:
    """The batch axis of every output leaf (None: not batched), checked and >= 0."""
    name = f"{transform} of {name_of(call.fun)}"
    outputs = unflatten(call.out_tree, list(range(len(program.outvars))))
    axes = _broadcast_prefix(out_axes, outputs, f"{name}: out_axes")
    dims: list[int | None] = []
    for j, (a, aval) in enumerate(zip(axes, program.out_avals)):
        if a is None:
            dims.append(None)
            continue
        ndim = aval.ndim + 1
        if not -ndim <= a < ndim:
            raise ShapeError(f"{name}: out_axes puts the batch axis of output "
                             f"{_describe_output(call.out_tree, j)} ({aval} per example) at "
                             f"axis {a}, but the batched output has {ndim} axes")
        dims.append(int(a) % ndim)
    return dims


def _describe_output(out_tree, j) -> str:
    paths = optree.tree_paths(unflatten(out_tree, [0] * out_tree.num_leaves),
                              namespace=NAMESPACE)
    path = "".join(f"[{p!r}]" for p in paths[j])
    return path or "(the result)"


__all__ = ["vmap"]
