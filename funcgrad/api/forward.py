"""Forward mode: jvp, linearize, jacfwd, and hessian (forward over reverse).

Each traces the function to a Program (once per input signature, as grad does), builds its
JVP program with transforms/forward.py, and runs it: with NumPy on arrays, or by recording it
into the enclosing trace when called inside another transform, so ``jit(jvp(...))``,
``jvp(grad(f))`` and ``grad(... jvp ...)`` each see one whole program.

Integer and boolean values have no tangent. As in JAX, their output tangents are zeros of
dtype ``float0`` (an empty structured dtype), and the tangent given for an integer primal is
not used: pass ``np.zeros(shape, float0)`` (or any array of its shape).
"""

from __future__ import annotations

import functools
from typing import NamedTuple
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad.api.autodiff import (_argnums, _cached, _check_differentiable, _function_args,
                                   _hashable_argnums, _key, _leaf_ranges, _static_key,
                                   _with_aux_check, grad, numpy_values)
from funcgrad.core.arguments import FunctionArgs, check_function, name_of
from funcgrad.core.errors import FuncgradTypeError, ShapeError
from funcgrad.core.evaluate import owned_copies, owned_results, run
from funcgrad.core.ir import Program, dead_code_elimination
from funcgrad.core.tracing import Tracer
from funcgrad.core.types import is_float
from funcgrad.transforms.batching import FRONT, batch_program
from funcgrad.dtypes import float0_zeros
from funcgrad.transforms.forward import float0, jvp_program, tangent_outputs
from funcgrad.transforms.reverse import split
from funcgrad.tree import PyTreeDef, flatten, unflatten



class _JVPEntry(NamedTuple):
    program: Program       # the JVP program: (consts, leaves, float leaves' tangents) ->
    consts: list           #   (outputs..., float outputs' tangents...)
    main_tree: PyTreeDef   # the structure of the differentiated output
    aux_tree: PyTreeDef | None
    n_main: int
    out_avals: list        # of the differentiated outputs
    has_tangent: list      # per output: a float, with a tangent output
    concrete: bool
    check: str | None = None       # see api/autodiff.py _cached
    structure: list | None = None


def _build_jvp(traced, call: FunctionArgs, has_aux, wrt=None) -> _JVPEntry:
    """``wrt``: the argument leaves with tangents (default: every float leaf)."""
    program = traced.program
    main_tree, aux_tree = traced.out_tree.children() if has_aux else (traced.out_tree, None)
    n_main = main_tree.num_leaves
    flags = [False] * len(traced.consts) + [is_float(v.aval.dtype) and (wrt is None or j in wrt)
                                            for j, v in enumerate(program.invars)]
    jvp = jvp_program(program, flags)
    has_tangent = tangent_outputs(program)
    if has_aux:  # only the differentiated outputs keep their tangents: drop the aux ones'
        n_out, n_tangents = len(program.outvars), sum(has_tangent[:n_main])
        jvp = dead_code_elimination(Program(
            jvp.constvars, jvp.invars, jvp.equations,
            jvp.outvars[:n_out + n_tangents]))
    return _JVPEntry(jvp, traced.consts, main_tree, aux_tree, n_main,
                     program.out_avals[:n_main], has_tangent[:n_main], traced.concrete)


def _tangent_leaves(fun, primal_leaves, primal_tree, tangents, what) -> list:
    """The tangents' leaves for the float primals, checked against the primals: the same
    structure, shapes and (floating-point) dtypes. Integer primals' tangents are skipped."""
    leaves, tree = flatten(tuple(tangents))
    if tree != primal_tree:
        raise FuncgradTypeError(f"{what} of {name_of(fun)}: the tangents' structure {tree} "
                                f"differs from the primals' {primal_tree}")
    out = []
    for k, (p, t) in enumerate(zip(primal_leaves, leaves)):
        p_shape, t_shape = np.shape(p), np.shape(t)
        if t_shape != p_shape:
            raise ShapeError(f"{what} of {name_of(fun)}: tangent {k} has shape {t_shape}, but "
                             f"its primal has shape {p_shape}")
        p_dtype = _dtype(p)
        if not is_float(p_dtype):
            continue  # an integer has no tangent (JAX's float0)
        t_dtype = _dtype(t)
        if type(t) in (float, int):  # a Python number takes the primal's dtype
            t = p_dtype.type(t)
        elif t_dtype != p_dtype:
            raise FuncgradTypeError(
                f"{what} of {name_of(fun)}: tangent {k} has dtype {t_dtype}, but its primal "
                f"has dtype {p_dtype}; a tangent has its primal's dtype")
        out.append(t if isinstance(t, Tracer) else np.asarray(t)[()])
    return out


def _dtype(x) -> np.dtype:
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x.dtype
    if type(x) in (float, int, bool, complex):
        return np.dtype(type(x))
    return np.asarray(x).dtype


def _with_zero_tangents(entry, tangent_outs) -> list:
    """A tangent per differentiated output: float0 zeros for the integer ones."""
    it = iter(tangent_outs)
    return [next(it) if on else float0_zeros(aval.shape)
            for on, aval in zip(entry.has_tangent, entry.out_avals)]


def _check_primals(fun, primals, tangents, what):
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise FuncgradTypeError(f"{what} of {name_of(fun)}: {name} must be a tuple or a list "
                                    f"of arguments, got a {type(value).__name__}")
    if len(primals) != len(tangents):
        raise FuncgradTypeError(f"{what} of {name_of(fun)}: {len(primals)} primals but "
                                f"{len(tangents)} tangents; give one tangent per primal")


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """``fun(*primals)`` and its Jacobian-vector product with ``tangents``, in one forward
    pass: returns ``(out, out_tangent)``, or ``(out, out_tangent, aux)`` with
    ``has_aux=True``.

    ``primals`` and ``tangents`` are tuples (or lists) of arguments, each tangent shaped like
    its primal (pytrees alike, same shapes and dtypes). The output tangent has the output's
    structure. Integer primals take no tangent (pass zeros: they are not read); integer
    outputs get ``float0`` zeros, as in JAX. ``jvp(grad(f), (w,), (v,))[1]`` is a
    Hessian-vector product.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> y, y_dot = fg.jvp(fnp.sin, (0.5,), (2.0,))
        >>> float(y), float(y_dot)  # sin(0.5), and 2 cos(0.5)
        (0.479425538604203, 1.7551651237807455)
    """
    check_function(fun, "jvp")
    _check_primals(fun, primals, tangents, "jvp")
    call = FunctionArgs(_with_aux_check(fun, has_aux), tuple(primals), {})
    _check_differentiable(call, (), "jvp")
    primal_tree = flatten(tuple(primals))[1]
    t_leaves = _tangent_leaves(fun, call.leaves, primal_tree, tangents, "jvp")
    key = _key("jvp", has_aux, leaves=call.leaves, in_tree=call.in_tree)
    entry = _cached(fun, key, call, lambda traced: _build_jvp(traced, call, has_aux))
    outs = owned_results(entry.program, run(entry.program,
                                            [*entry.consts, *call.leaves, *t_leaves]))
    if not any(isinstance(x, Tracer) for x in outs):
        outs = numpy_values(outs)
    n_main = entry.n_main
    n_aux = entry.aux_tree.num_leaves if has_aux else 0
    out = unflatten(entry.main_tree, outs[:n_main])
    out_tangent = unflatten(entry.main_tree,
                            _with_zero_tangents(entry, outs[n_main + n_aux:]))
    if has_aux:
        return out, out_tangent, unflatten(entry.aux_tree, outs[n_main:n_main + n_aux])
    return out, out_tangent


class _LinearEntry(NamedTuple):
    forward: Program   # (consts, leaves) -> (outputs..., aux..., residuals...)
    linear: Program    # (residuals..., tangents...) -> float outputs' tangents
    jvp: _JVPEntry
    consts: list
    concrete: bool
    check: str | None = None
    structure: list | None = None


def _build_linearize(traced, call, has_aux, wrt=None) -> _LinearEntry:
    entry = _build_jvp(traced, call, has_aux, wrt)
    n_in = len(entry.consts) + len(call.leaves)
    n_primal_out = entry.n_main + (entry.aux_tree.num_leaves if entry.aux_tree else 0)
    forward, linear = split(entry.program, n_in, n_primal_out)
    return _LinearEntry(forward, linear, entry, entry.consts, entry.concrete)


def _linearize(fun, primals, has_aux):
    """Run the forward part of ``fun``'s JVP: (the entry, the call, the outputs and aux
    values, the residuals the linear program reads)."""
    call = FunctionArgs(_with_aux_check(fun, has_aux), primals, {})
    _check_differentiable(call, (), "linearize")
    key = _key("linearize", has_aux, leaves=call.leaves, in_tree=call.in_tree)
    entry = _cached(fun, key, call, lambda traced: _build_linearize(traced, call, has_aux))
    return (entry, call, *_run_forward(entry, call, has_aux))


def _run_forward(entry, call, has_aux):
    """The outputs (and aux values) and the residuals, from the forward program."""
    n_primal = entry.jvp.n_main + (entry.jvp.aux_tree.num_leaves if has_aux else 0)
    outs = owned_results(entry.forward, run(entry.forward, [*entry.consts, *call.leaves]),
                         count=n_primal)
    primal_outs = outs[:n_primal]
    if not any(isinstance(x, Tracer) for x in primal_outs):
        primal_outs = numpy_values(primal_outs)
    return primal_outs, outs[n_primal:]


def linearize(fun: Callable, *primals, has_aux: bool = False):
    """``fun(*primals)`` and its linearisation: a function ``f_jvp(*tangents)`` computing the
    Jacobian-vector product at ``primals`` (``jvp(fun, primals, tangents)[1]``).

    The forward pass runs once, now; each ``f_jvp`` call runs only the saved linear program
    (the tangent equations, on the values the forward pass kept). With ``has_aux=True``
    returns ``(out, f_jvp, aux)``.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> y, f_jvp = fg.linearize(lambda x: x ** 3, 2.0)
        >>> float(y), float(f_jvp(1.0)), float(f_jvp(0.5))
        (8.0, 12.0, 6.0)
    """
    check_function(fun, "linearize")
    entry, call, primal_outs, residuals = _linearize(fun, primals, has_aux)
    jvp_entry, n_main = entry.jvp, entry.jvp.n_main
    primal_tree, primal_leaves = flatten(tuple(primals))[1], call.leaves

    def f_jvp(*tangents):
        _check_primals(fun, primals, tangents, "linearize")
        t_leaves = _tangent_leaves(fun, primal_leaves, primal_tree, tangents, "linearize")
        out_tangents = owned_results(entry.linear, run(entry.linear, [*residuals, *t_leaves]))
        if not any(isinstance(x, Tracer) for x in out_tangents):
            out_tangents = numpy_values(out_tangents)
        return unflatten(jvp_entry.main_tree, _with_zero_tangents(jvp_entry, out_tangents))

    out = unflatten(jvp_entry.main_tree, primal_outs[:n_main])
    if has_aux:
        return out, f_jvp, unflatten(jvp_entry.aux_tree, primal_outs[n_main:])
    return out, f_jvp


def jacfwd(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False):
    """The Jacobian of ``fun`` by forward mode: ``jac[i, j] = d out[i] / d arg[j]``, with shape
    ``out.shape + arg.shape`` (pytrees: an output-shaped tree of argument-shaped trees).

    One forward pass, then the linearised program (the tangent equations alone), batched
    with ``vmap`` over the whole identity basis of the inputs: one program, whatever the
    number of inputs. Cheaper than ``jacrev`` when there are fewer inputs than outputs (tall
    Jacobians). The result is cached per input signature, as ``grad``'s is. With
    ``has_aux=True`` returns ``(jac, aux)``.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> fg.jacfwd(lambda x: fnp.stack([x[0] * x[1], fnp.sin(x[0]), x[1]]))(
        ...     np.array([0.0, 2.0]))
        array([[2., 0.],
               [1., 0.],
               [0., 1.]])
    """
    check_function(fun, "jacfwd")
    traced_fun = _with_aux_check(fun, has_aux)
    options = ("jacfwd", _hashable_argnums(argnums), has_aux)

    @functools.wraps(fun, updated=())
    def jacobian(*args, **kwargs):
        nums = _argnums(argnums, args, kwargs, fun)
        call = _function_args(traced_fun, args, kwargs, nums)
        dynamic = [call.dynamic_index[i] for i in nums]
        _check_differentiable(call, dynamic, "jacfwd")
        ranges = _leaf_ranges(call)
        wrt = [j for i in sorted(set(dynamic)) for j in range(*ranges[i])]  # leaf order
        key = _static_key(call, options)
        entry = _cached(fun, key, call,
                        lambda traced: _build_linearize(traced, call, has_aux, set(wrt)),
                        wrt=wrt)
        primal_outs, residuals = _run_forward(entry, call, has_aux)
        n_main = entry.jvp.n_main
        out = unflatten(entry.jvp.main_tree, primal_outs[:n_main])
        in_leaves, in_tree = flatten(tuple(args[i] for i in nums))  # in argnums order
        columns = _push_basis(entry, residuals, [call.leaves[j] for j in wrt])
        if sorted(set(dynamic)) != dynamic:  # the basis ran in leaf order: to argnums order
            columns = _reorder_columns(columns, call, dynamic, ranges)
        jac = _assemble(out, columns, in_leaves, in_tree, single=isinstance(argnums, int))
        jac_leaves, jac_tree = flatten(jac)  # blocks of the basis' images: C order, writable
        jac = unflatten(jac_tree, owned_copies(jac_leaves, []))
        if has_aux:
            return jac, unflatten(entry.jvp.aux_tree, primal_outs[n_main:])
        return jac

    jacobian.__name__ = f"jacfwd({name_of(fun)})"
    return jacobian


def _push_basis(entry, residuals, in_leaves) -> list:
    """The image of every vector of the inputs' identity basis under the linearised
    function: per output leaf, an array with one leading axis of length n (the inputs' total
    size); None for an integer output. One batched program pushes the whole basis, so its
    size does not grow with n: the linear program, batched (vmap) over its tangent inputs."""
    sizes = [int(np.prod(np.shape(x), dtype=np.int64)) for x in in_leaves]
    n = sum(sizes)
    identity = np.eye(n)
    basis, start = [], 0  # per float input leaf: (n, *leaf shape), its block of the identity
    for x, size in zip(in_leaves, sizes):
        if is_float(_dtype(x)):
            block = identity[:, start:start + size].astype(_dtype(x))
            basis.append(block.reshape((n, *np.shape(x))))
        start += size
    if n == 0:
        return []
    in_dims = [None] * len(residuals) + [0] * len(basis)
    batched, _ = batch_program(entry.linear, in_dims, n, [FRONT] * len(entry.linear.outvars))
    images = iter(run(batched, [*residuals, *basis]))
    return [next(images) if on else None for on in entry.jvp.has_tangent]


def _reorder_columns(columns, call, dynamic, ranges):
    """The basis axis of ``columns`` ran over the arguments' leaves in argument order; put
    it in argnums order (argnums=(1, 0)), repeating blocks for a repeated argument."""
    sizes = [int(np.prod(np.shape(x), dtype=np.int64)) for x in call.leaves]
    starts, offset = {}, 0
    for i in sorted(set(dynamic)):
        for j in range(*ranges[i]):
            starts[j] = offset
            offset += sizes[j]
    index = np.concatenate([np.arange(starts[j], starts[j] + sizes[j]) for i in dynamic
                            for j in range(*ranges[i])]).astype(np.int64)
    import funcgrad.numpy as fnp
    return [c if c is None else fnp.take(c, index, axis=0) for c in columns]


def _assemble(out, columns, in_leaves, in_tree, single):
    """The Jacobian's pytree: for each output leaf, the argument's tree (a tuple of them for
    a tuple of argnums) of blocks shaped out.shape + in.shape."""
    import funcgrad.numpy as fnp
    out_leaves, out_tree = flatten(out)
    arg_trees = in_tree.children()
    n = sum(int(np.prod(np.shape(x), dtype=np.int64)) for x in in_leaves)
    per_out = []
    for k, y in enumerate(out_leaves):
        y_shape = np.shape(y)
        column = columns[k] if columns else None
        blocks, start = [], 0
        for x in in_leaves:
            x_shape = np.shape(x)
            size = int(np.prod(x_shape, dtype=np.int64))
            if column is None:  # an integer output, or no inputs to differentiate
                block = (np.zeros(y_shape + x_shape, _dtype(y)) if is_float(_dtype(y))
                         else float0_zeros(y_shape + x_shape))
            else:
                part = column[start:start + size] if size != n else column
                moved = fnp.moveaxis(part, 0, -1) if y_shape else part
                block = fnp.reshape(moved, y_shape + x_shape)
            blocks.append(block)
            start += size
        it = iter(blocks)
        trees = [unflatten(t, [next(it) for _ in range(t.num_leaves)]) for t in arg_trees]
        per_out.append(trees[0] if single else tuple(trees))
    return unflatten(out_tree, per_out)


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False):
    """The Hessian of a scalar function: ``jacfwd(grad(fun))``, forward over reverse (one
    backward pass, its tangent pushed forward), as JAX computes it.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> fg.hessian(lambda x: fnp.sum(x ** 3))(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    check_function(fun, "hessian")
    inner = grad(fun, argnums, has_aux=has_aux)
    hess = jacfwd(inner, argnums, has_aux=has_aux)
    hess.__name__ = f"hessian({name_of(fun)})"
    return hess


__all__ = ["jvp", "linearize", "jacfwd", "hessian", "float0"]
