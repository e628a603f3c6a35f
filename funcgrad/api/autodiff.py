"""The differentiation API in reverse mode: grad, value_and_grad, vjp, jacrev (forward mode,
jvp, linearize, jacfwd and hessian, is api/forward.py).

Each traces the function to a Program (once per input signature, see core/cache.py), builds
its adjoint with transforms/reverse.py, and runs the adjoint: with NumPy on arrays, or by
recording it into the enclosing trace when called inside another transform (which is how
grad(grad(f)) and jit(grad(f)) see one whole program).

A function that branches on values (``if x > 0:``) cannot be traced abstractly; then the
trace is redone with concrete values, as autograd always does, and the program is not reused.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple
from collections.abc import Callable, Sequence

import numpy as np

from optree import tree_flatten

from funcgrad.api.transformed import Transformed
from funcgrad.api.trace_cache import (Guard, TraceCache, leaf_signature, program_structure,
                                      random_state, same_structure, same_values)
from funcgrad.core.errors import ConcretizationError, FuncgradTypeError, ShapeError
from funcgrad.core.evaluate import evaluate, inline, owned_copies, owned_results, run
from funcgrad.core.ir import Program, Var
from funcgrad.core.tracing import Tracer, current_trace, trace_concrete, trace_flat
from funcgrad.core.types import aval_of, is_float
from funcgrad.core.version import __version__, check_version
from funcgrad.dtypes import Float0Array, float0, float0_zeros
from funcgrad.rules import is_differentiable
from funcgrad.core.arguments import (FunctionArgs, check_function, describe_value, name_of,
                                     normalize_argnums)
from funcgrad.tree import NAMESPACE, PyTreeDef, flatten, unflatten
from funcgrad.tree import map as fg_tree_map
from funcgrad.transforms.reverse import (COTANGENT_INPUT, adjoint, backward_with_values,
                                        split)

_cache = TraceCache()
_NUMPY_SCALAR = {float: np.float64, int: np.int64, bool: np.bool_}


def numpy_values(values) -> list:
    """Results as NumPy values: a weak scalar is a Python number inside programs (so NumPy
    promotes it as weak), but what users get back is NumPy's, as jit returns it."""
    return [_NUMPY_SCALAR[type(v)](v) if type(v) in _NUMPY_SCALAR else v for v in values]


class _Traced(NamedTuple):
    program: Program
    consts: list
    out_tree: PyTreeDef
    concrete: bool  # traced with values: valid for these values only
    values: dict | None = None  # then, each variable's value (by id)


_NEEDS_VALUES = "needs values"  # cached for a key whose function branched on a value


def _trace(call: FunctionArgs, fun, key, wrt=None) -> _Traced:
    """Trace abstractly; if the function branches on a value, trace again with values (and
    remember, for this key, to skip the abstract attempt next time). ``wrt``: the leaves
    differentiated, by position (None: all), whose float values the concrete trace keeps
    from becoming Python numbers (core/tracing.py Trace.watch)."""
    avals = call.avals()
    if key is None or _cache.get(fun, key) is not _NEEDS_VALUES:
        guard = Guard(fun)
        try:
            program, consts = trace_flat(call.flat_function(), avals)
            return _Traced(program, consts, call.out_tree, False)
        except ConcretizationError as err:
            if any(isinstance(x, Tracer) and x.val is None for x in call.leaves):
                # an enclosing trace (jit, make_ir) has no values either: tell the user
                what = key[0] if key else "this transform"  # (grad, vjp, jvp, jacfwd...)
                raise (traced_number_error(err, call, range(len(call.leaves)), what)
                       or err) from None
            if key is not None:
                _cache.put(fun, key, _NEEDS_VALUES, guard)
    values = [x.val if isinstance(x, Tracer) else x for x in call.leaves]
    watched = [i for i in (range(len(avals)) if wrt is None else wrt)
               if avals[i].dtype.kind == "f"]
    program, consts, env = trace_concrete(call.flat_function(), avals, values, watched,
                                          is_differentiable)
    return _Traced(program, consts, call.out_tree, True, env)


def traced_number_error(err: ConcretizationError, call: FunctionArgs, leaves, what: str):
    """``err``, saying that ``what`` traced a Python number argument (of those ``leaves``) the
    function may have branched on, as JAX, which closes over such arguments, would not; None
    if there is none."""
    numbers = [j for j in leaves if type(call.leaves[j]) in (int, float, bool)]
    if not numbers:
        return None
    return ConcretizationError(
        f"{err} Note: {what} traces every array and number argument, also the Python number "
        f"{call.describe_leaf(numbers[0])}; to use a number in Python control flow "
        "(range(n), if n > 0), close over it: transform lambda x: f(x, n), not f itself.")


# Eager transforms run the user's function on every call, as JAX's and autograd's do, unless
# caching its trace is known to change nothing (docs/sharp-bits.md, "grad without jit"):
# an entry is cached after its function was traced twice to the same program with the same
# constants, drawing no random numbers and writing none of the state it reads. Until then
# (PROBE), and for good once it failed (IMPURE: a random draw, a counter, a log, a file
# read), each call traces the function again; the adjoint is rebuilt only when the new
# program differs from the last one by more than the values of its constants.
PROBE, IMPURE = "probe", "impure"


def _cached(fun, key, call, build, trace=None, wrt=None):
    """The entry of ``fun`` for this call: cached, or traced now (by ``trace(call, fun,
    key)``, default ``_trace`` of the leaves ``wrt`` differentiated) and built by
    ``build(traced)`` (see PROBE above)."""
    entry = _cache.get(fun, key) if key is not None else None
    if entry is not None and entry is not _NEEDS_VALUES and entry.check is None:
        return entry
    guard = Guard(fun)  # before tracing: what the function changes itself is not watched
    before = random_state()
    traced = trace(call, fun, key) if trace else _trace(call, fun, key, wrt)
    drew = random_state() != before
    known = entry is not None and entry is not _NEEDS_VALUES and not traced.concrete
    if known and same_structure(traced.program, entry.structure):
        if entry.check == PROBE and not drew and same_values(traced.consts, entry.consts):
            entry = entry._replace(check=None)  # twice the same program: cached from now on
        else:
            entry = entry._replace(check=IMPURE, consts=traced.consts)
        _cache.replace(fun, key, entry)
        return entry
    entry = build(traced)
    if key is not None and not entry.concrete \
            and not any(isinstance(c, Tracer) for c in entry.consts):
        settled = _cache.put(fun, key, entry, guard)
        check = IMPURE if drew or settled.wrote or known else PROBE
        entry = entry._replace(check=check, structure=program_structure(traced.program))
        _cache.replace(fun, key, entry)
    return entry


def _key(*options, leaves, in_tree):
    """A cache key: the kind of transform and its options, the arguments' pytree structure,
    and each leaf's type, shape and dtype."""
    return (*options, in_tree, *map(leaf_signature, leaves))


def _arg_trees(call: FunctionArgs):
    """The pytree structure of each positional argument."""
    return call.in_tree.children()[0].children()


def _leaf_ranges(call: FunctionArgs):
    start, ranges = 0, []
    for t in _arg_trees(call):
        ranges.append((start, start + t.num_leaves))
        start += t.num_leaves
    return ranges


def _check_differentiable(call: FunctionArgs, argnums, what="grad", allow_int=False):
    """Every argument must be an array (or number), and those differentiated floating-point
    (or, with ``allow_int``, integer or boolean: their gradient is float0); the errors name
    the argument (and where in its pytree) as the user wrote it."""
    ranges = _leaf_ranges(call)
    wrt = {j for i in argnums for j in range(*ranges[i])}
    for j, leaf in enumerate(call.leaves):
        dtype = _leaf_dtype(leaf)
        where = f"{what} of {name_of(call.fun)}: {call.describe_leaf(j)}"
        if dtype is not None and dtype.kind == "c":
            raise FuncgradTypeError(f"{where} is complex ({dtype.name}); funcgrad differentiates "
                                    "real floating-point arrays only")
        if dtype is None:  # only differentiated arguments get here: the others are static
            raise FuncgradTypeError(
                f"{where} is a {type(leaf).__name__}, not an array, so it cannot be "
                "differentiated: leave it out of argnums")
        if j in wrt and not is_float(dtype) and not (allow_int and dtype.kind in "iub"):
            raise FuncgradTypeError(
                f"{what} of {name_of(call.fun)} with respect to {call.describe_leaf(j)}: "
                f"it has dtype {dtype.name}, but only floating-point inputs can be "
                "differentiated. Convert it (x.astype(float)), leave it out of argnums, or "
                "pass allow_int=True (its gradient is then a float0 array, as in JAX).")


def _leaf_dtype(x):
    """The dtype an argument leaf would be traced with; None if it is not an array."""
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x.dtype
    if type(x) in (float, int, bool, complex):
        return np.dtype(type(x))
    return None


def _hashable_argnums(argnums):
    if isinstance(argnums, int):
        return argnums
    if isinstance(argnums, (tuple, list)):
        return tuple(argnums)
    raise FuncgradTypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")


def _argnums(argnums, args, kwargs, fun):
    try:
        return normalize_argnums(argnums, len(args), fun)
    except FuncgradTypeError as err:
        if not kwargs:
            raise
        raise FuncgradTypeError(f"{err}; keyword arguments ({', '.join(kwargs)}) are never "
                                "differentiated: pass that argument positionally") from None


# ---------------------------------------------------------------------------------------
# grad and value_and_grad


class _GradEntry(NamedTuple):
    program: Program | None  # the adjoint, its outputs in the order of the result's leaves
    consts: list
    out_tree: PyTreeDef  # the structure of what the caller gets back
    concrete: bool
    inline: bool        # built for tracers: always recorded into the enclosing trace
    results: list | None = None  # computed already (a function that branched on values)
    check: str | None = None     # PROBE or IMPURE: trace the function again (see _cached)
    structure: list | None = None  # of the traced program, to tell if a new trace differs


def _with_aux_check(fun, has_aux):
    if not has_aux:
        return fun

    @functools.wraps(fun, updated=())
    def split_aux(*args, **kwargs):
        out = fun(*args, **kwargs)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise FuncgradTypeError(f"has_aux=True needs {name_of(fun)} to return a pair "
                                    f"(output, aux), but it returned {describe_value(out)}")
        return out[0], out[1]
    return split_aux


def _scalar_output_error(fun, traced: _Traced, what):
    if not traced.out_tree.is_leaf():  # as JAX: [loss] or (loss,) is not a scalar either
        return FuncgradTypeError(
            f"{what} needs {name_of(fun)} to return one scalar (gradient only defined for "
            f"scalar-output functions), but it returned {_container(traced.out_tree)}; use "
            "has_aux=True to return extra values, or vjp/jacrev for many outputs")
    n = len(traced.program.outvars)
    if n != 1:
        return FuncgradTypeError(
            f"{what} needs {name_of(fun)} to return one scalar, but it returned a pytree of {n} "
            "arrays; use has_aux=True to return extra values, or vjp/jacrev for many outputs")
    aval = traced.program.outvars[0].aval
    if aval.shape != ():
        return ShapeError(f"{what} needs {name_of(fun)} to return a scalar, but it returned "
                          f"{aval}; reduce it (e.g. fnp.sum) or use vjp/jacrev")
    if not is_float(aval.dtype):
        return FuncgradTypeError(f"{what} needs a floating-point output, but {name_of(fun)} "
                                 f"returned {aval}")
    return None


def _container(tree) -> str:
    """What a pytree output is, in words: 'a list of 1 array', 'a dict of 2 arrays'."""
    kind = type(unflatten(tree, [0] * tree.num_leaves)).__name__
    n = tree.num_leaves
    return f"a {kind} of {n} array{'s' if n != 1 else ''}"


def _build_grad(fun, traced, call, argnums, single, has_aux, what, with_value) -> _GradEntry:
    program = traced.program
    if has_aux:
        main_tree, aux_tree = traced.out_tree.children()
        n_main = main_tree.num_leaves
        check = _Traced(Program((), (), (), program.outvars[:n_main]), [], main_tree, False)
    else:
        aux_tree, n_main, check = None, len(program.outvars), traced
    error = _scalar_output_error(fun, check, what)
    if error is not None:
        raise error
    ranges = _leaf_ranges(call)
    wrt = [False] * len(traced.consts) + [False] * len(call.leaves)
    for i in argnums:
        for j in range(*ranges[i]):  # an integer leaf (allow_int) gets float0, not a cotangent
            wrt[len(traced.consts) + j] = is_float(_leaf_dtype(call.leaves[j]))
    seeds = [1.0] + [None] * (len(program.outvars) - 1)
    keep = [with_value] + [True] * (len(program.outvars) - 1)  # grad alone needs no loss value
    out_tree, order = _result_structure(call, argnums, with_value, aux_tree, single)
    inline = any(isinstance(x, Tracer) for x in call.leaves)
    if traced.values is not None and not inline and current_trace() is None:
        # a program for these values only: backpropagate the values, record no adjoint
        cts = backward_with_values(program, traced.values, wrt, seeds)
        if cts is not None:
            outs = [traced.values[id(v)] if isinstance(v, Var) else v.value
                    for v, k in zip(program.outvars, keep) if k] + cts
            return _GradEntry(None, traced.consts, out_tree, True, False,
                              [outs[i] for i in order])
    adj = adjoint(program, wrt, seeds, keep)
    adj = Program(adj.constvars, adj.invars, adj.equations, [adj.outvars[i] for i in order])
    return _GradEntry(adj, traced.consts, out_tree, traced.concrete, inline)


def _result_structure(call, argnums, with_value, aux_tree, single):
    """The structure of grad's result, and which adjoint output each of its leaves is.

    The adjoint returns [value] + aux leaves + the cotangents of the differentiated
    arguments' leaves, in argument order; the result is g, (g, aux), (value, g) or
    ((value, aux), g), where g is one argument's tree or a tuple of them in argnums order."""
    index = iter(range(10**9))
    value = next(index) if with_value else None
    aux = unflatten(aux_tree, [next(index) for _ in range(aux_tree.num_leaves)]) \
        if aux_tree is not None else None
    arg_trees, grads, ranges = _arg_trees(call), {}, _leaf_ranges(call)
    for i in sorted(set(argnums)):
        leaves = [call.leaves[j] for j in range(*ranges[i])]
        grads[i] = unflatten(arg_trees[i], [next(index) if is_float(_leaf_dtype(x))
                                            else float0_zeros(np.shape(x)) for x in leaves])
    g = grads[argnums[0]] if single else tuple(grads[i] for i in argnums)
    if with_value:
        result = ((value, aux) if aux_tree is not None else value, g)
    else:
        result = (g, aux) if aux_tree is not None else g
    order, tree = flatten(result)
    return tree, order


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   allow_int: bool = False):
    """``fun``'s value and its gradient with respect to the ``argnums`` arguments.

    Returns ``(value, grad)``, or ``((value, aux), grad)`` with ``has_aux=True``. The gradient
    has the pytree structure of the argument (a tuple of those for a tuple of argnums).
    ``allow_int`` as for ``grad``.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> value, g = fg.value_and_grad(lambda x: fnp.sum(x ** 2))(np.array([1.0, 2.0]))
        >>> float(value), g
        (5.0, array([2., 4.]))
    """
    return Differentiated(fun, argnums, has_aux, True, allow_int)


def grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
         allow_int: bool = False):
    """The gradient of a scalar function, as a function: ``grad(f)(x)`` is df/dx at x.

    ``grad`` traces ``f`` to a Program and builds the adjoint Program (backpropagation as a
    program transformation); ``grad(grad(f))`` differentiates that program again. Print it
    with ``make_ir(grad(f))(x)``.

    The gradient has the structure of the argument (pytrees: dicts, lists, tuples,
    namedtuples, dataclasses), a tuple of those for a tuple of ``argnums``; with
    ``has_aux=True``, ``f`` returns ``(loss, aux)`` and ``grad`` returns ``(g, aux)``.
    Arguments outside ``argnums`` that are not arrays (functions, strings, configs) are
    passed through as they are. An integer or boolean argument in ``argnums`` is an error,
    unless ``allow_int=True``: its gradient is then zeros of dtype ``funcgrad.dtypes.float0``
    (as in JAX), which ``jit`` and ``vmap`` pass through.

    Like JAX's ``grad``, it runs ``f`` on every call (a loss drawing random noise draws anew;
    a counter counts every call), except where caching the trace is checked to be safe: a
    function traced twice to the same program and constants, drawing no random numbers and
    changing none of the state it reads, is traced no more for that input signature (pytree
    structure, shapes, dtypes), and later calls cost one NumPy call per equation, until state
    it reads is rebound (a global, a closure variable, a default, an item of a dict or list,
    an attribute chain of the user's objects and modules; also in the functions it calls).
    Arrays mutated in place are not noticed: pass those as arguments (docs/sharp-bits.md).
    Python control flow on values
    (``if x > 0:``, a ``while`` on a value) works: such a function is traced with the
    values of each call instead.

    At points where a derivative is undefined, JAX's conventions hold: maximum/minimum
    (and clip at a bound) split the gradient equally at ties, sqrt' = inf at 0, and floor,
    round, sign, comparisons and argmax have zero gradient; but |x|' = 0 at 0 (JAX's is 1:
    docs/sharp-bits.md says why).

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> fg.grad(fnp.sin)(0.0)
        np.float64(1.0)
    """
    return Differentiated(fun, argnums, has_aux, False, allow_int)


class Differentiated(Transformed):
    """What ``grad`` and ``value_and_grad`` return: call it like the function it
    differentiates (it pickles as the function and the options, see api/transformed.py)."""

    def __init__(self, fun, argnums, has_aux, with_value, allow_int=False):
        check_function(fun, "value_and_grad" if with_value else "grad")
        super().__init__(fun, (argnums, has_aux, with_value, allow_int))
        self.argnums, self.has_aux, self.with_value = argnums, has_aux, with_value
        self.allow_int = bool(allow_int)
        self._what = "value_and_grad" if with_value else "grad"
        self._traced_fun = _with_aux_check(fun, has_aux)
        self._options = (self._what, _hashable_argnums(argnums), has_aux, self.allow_int)
        self.__name__ = f"{self._what}({name_of(fun)})"

    def __call__(self, *args, **kwargs):
        # the hot path: one flatten, one cache lookup, one call of the compiled adjoint, one
        # unflatten; everything else happens once per input signature, in _build_grad
        fun = self.fun
        leaves, in_tree = tree_flatten((args, kwargs), namespace=NAMESPACE)
        key = _key(*self._options, leaves=leaves, in_tree=in_tree)
        entry = _cache.get(fun, key)
        if entry is None or entry is _NEEDS_VALUES or entry.check is not None:
            entry, leaves = _new_grad_entry(self, args, kwargs)
        consts = entry.consts
        if entry.results is not None:
            outs = numpy_values(owned_copies(entry.results, [*consts, *leaves]))
        elif entry.inline or current_trace() is not None:
            outs = inline(entry.program, [*consts, *leaves])
        else:
            outs = evaluate(entry.program, [*consts, *leaves] if consts else leaves)
            outs = numpy_values(owned_results(entry.program, outs))
        return unflatten(entry.out_tree, outs)


def _new_grad_entry(d: Differentiated, args, kwargs):
    """The slow path: a first call, a call with non-array arguments, or a stale entry."""
    fun, argnums, has_aux, what, with_value = (d.fun, d.argnums, d.has_aux, d._what,
                                               d.with_value)
    nums = _argnums(argnums, args, kwargs, fun)
    call = _function_args(d._traced_fun, args, kwargs, nums)
    key = _static_key(call, d._options)
    nums = tuple(call.dynamic_index[i] for i in nums)
    single = isinstance(argnums, int)
    _check_differentiable(call, nums, what, d.allow_int)
    ranges = _leaf_ranges(call)
    wrt = [j for i in nums for j in range(*ranges[i])]
    entry = _cached(fun, key, call, lambda traced: _build_grad(fun, traced, call, nums, single,
                                                               has_aux, what, with_value),
                    wrt=wrt)
    return entry, call.leaves


def _function_args(fun, args, kwargs, nums) -> FunctionArgs:
    """The call, with the arguments that are not differentiated and hold other things than
    arrays (functions, strings, configs) static, as JAX's grad passes them through."""
    flatten((args, kwargs))  # registers dataclasses seen for the first time
    static = tuple(i for i, a in enumerate(args) if i not in nums and _holds_non_arrays(a))
    static_names = tuple(k for k, v in kwargs.items() if _holds_non_arrays(v))
    call = FunctionArgs(fun, args, kwargs, static, static_names)
    dynamic = [i for i in range(len(args)) if i not in static]
    call.dynamic_index = {pos: k for k, pos in enumerate(dynamic)}
    return call


def _holds_non_arrays(tree) -> bool:
    return any(leaf_signature(x) is None for x in flatten(tree)[0])


def _static_key(call, options):
    """The cache key of a call; with static arguments, their values too (None if one cannot
    be hashed: such calls are traced every time)."""
    if not call.static_argnums and not call.static_argnames:
        return _key(*options, leaves=call.leaves, in_tree=call.in_tree)
    try:
        static = call.static_key()
    except FuncgradTypeError:
        return None
    return _key(*options, ("static", static), leaves=call.leaves, in_tree=call.in_tree)


# ---------------------------------------------------------------------------------------
# vjp


class _VJPEntry(NamedTuple):
    forward: Program
    backward: Program
    consts: list
    main_tree: Any
    aux_tree: Any
    n_main: int
    concrete: bool
    check: str | None = None
    structure: list | None = None


def _build_vjp(traced, call, has_aux) -> _VJPEntry:
    program = traced.program
    if has_aux:
        main_tree, aux_tree = traced.out_tree.children()
    else:
        main_tree, aux_tree = traced.out_tree, None
    n_main = main_tree.num_leaves
    n_in = len(traced.consts) + len(call.leaves)
    seeds = [COTANGENT_INPUT] * n_main + [None] * (len(program.outvars) - n_main)
    wrt = [False] * len(traced.consts) + [True] * len(call.leaves)
    fwd, bwd = split(adjoint(program, wrt, seeds), n_in, len(program.outvars))
    return _VJPEntry(fwd, bwd, traced.consts, main_tree, aux_tree, n_main, traced.concrete)


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """The value of ``fun(*primals)`` and its pullback: a function from a cotangent of the
    output to the cotangents of the primals (a tuple, one per primal).

    The forward pass runs once, now; the pullback runs only the backward pass, on the
    values the forward pass saved. As in JAX, the cotangent of an integer or boolean primal
    is zeros of dtype ``funcgrad.dtypes.float0``, and an integer output's cotangent may be
    float0 (it is not used).

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> y, pullback = fg.vjp(fnp.sin, 0.0)
        >>> [float(g) for g in pullback(2.0)]
        [2.0]
    """
    check_function(fun, "vjp")
    call = FunctionArgs(_with_aux_check(fun, has_aux), primals, {})
    key = _key("vjp", has_aux, leaves=call.leaves, in_tree=call.in_tree)
    entry = _cached(fun, key, call, lambda traced: _build_vjp(traced, call, has_aux))
    n_out = entry.main_tree.num_leaves + (entry.aux_tree.num_leaves if has_aux else 0)
    outs = owned_results(entry.forward, run(entry.forward, [*entry.consts, *call.leaves]),
                         count=n_out)
    primal_out, residuals = numpy_values(outs[:n_out]), outs[n_out:]
    main = unflatten(entry.main_tree, primal_out[:entry.n_main])
    arg_trees = _arg_trees(call)

    pullback = Pullback(entry.backward, entry.forward.outvars[:entry.n_main], residuals,
                        entry.main_tree, arg_trees,
                        [None if is_float(_leaf_dtype(x)) else np.shape(x) for x in call.leaves])
    if has_aux:
        return main, pullback, unflatten(entry.aux_tree, primal_out[entry.n_main:])
    return main, pullback


def _structure(tree, leaves) -> str:
    """'(f64[2], {'b': f64[]})': a pytree of arrays, for an error message."""
    return str(unflatten(tree, [str(x) for x in leaves])).replace("'", "")


def _leaf_type(x) -> str:
    try:
        return str(x.aval if isinstance(x, Tracer) else aval_of(x))
    except FuncgradTypeError:  # (not an array)
        return type(x).__name__


class Pullback:
    """The pullback ``vjp`` returns: cotangent of the output -> cotangents of the primals (a
    tuple, one per primal). It holds the backward program and the residuals the forward pass
    saved, so it pickles (to be applied in another process)."""

    def __init__(self, backward: Program, outvars, residuals, out_tree, arg_trees,
                 int_shapes=None):
        self.backward, self.residuals = backward, residuals
        self.out_avals = [v.aval for v in outvars]
        self.out_tree, self.arg_trees = out_tree, arg_trees
        self.int_shapes = int_shapes  # per primal leaf: its shape if integer (float0), or None

    def __call__(self, cotangent):
        leaves, tree = flatten(cotangent)
        if tree != self.out_tree:
            raise FuncgradTypeError(
                f"vjp's pullback takes a cotangent with the structure of the output, "
                f"{_structure(self.out_tree, self.out_avals)}, but was given "
                f"{_structure(tree, [_leaf_type(x) for x in leaves])}")
        for k, (ct, aval) in enumerate(zip(leaves, self.out_avals)):
            if np.shape(ct) != aval.shape:
                raise ShapeError(f"vjp's pullback: cotangent {k} has shape {np.shape(ct)}, but "
                                 f"its output has shape {aval.shape}")
            if isinstance(ct, Tracer):
                continue
            if getattr(ct, "dtype", None) == float0 and not is_float(aval.dtype):
                ct = 0  # an integer output's cotangent, as JAX spells it: not used
            # A cotangent has its output's dtype, as jvp's tangents have their primal's (and
            # as in JAX): a cast would drop a complex cotangent's imaginary part. A Python
            # number takes the output's dtype; an integer output's cotangent is not used.
            dtype = np.result_type(ct) if type(ct) not in (float, int) else aval.dtype
            if dtype != aval.dtype and is_float(aval.dtype):
                raise FuncgradTypeError(f"vjp's pullback: cotangent {k} has dtype {dtype}, but "
                                        f"its output has dtype {aval.dtype}; a cotangent has "
                                        "its output's dtype")
            leaves[k] = np.asarray(ct, aval.dtype)[()]  # (the backward program's input dtype)
        cts = numpy_values(owned_results(self.backward, run(self.backward,
                                                             [*self.residuals, *leaves])))
        if self.int_shapes:
            cts = [ct if shape is None else float0_zeros(shape)
                   for ct, shape in zip(cts, self.int_shapes)]
        out, it = [], iter(cts)
        for t in self.arg_trees:
            out.append(unflatten(t, [next(it) for _ in range(t.num_leaves)]))
        return tuple(out)

    def __reduce__(self):
        if any(isinstance(r, Tracer) for r in self.residuals):
            raise FuncgradTypeError("a pullback made inside a traced function cannot be "
                                    "pickled: its residuals are traced values")
        return _rebuild_pullback, (__version__, self.__dict__)


def _rebuild_pullback(version, state):
    check_version(version, "vjp pullback")
    pullback = Pullback.__new__(Pullback)
    pullback.__dict__.update(state)
    return pullback


# ---------------------------------------------------------------------------------------
# stop_gradient


def stop_gradient(x):
    """``x`` (any pytree of arrays), as a constant for differentiation: its gradient is zero.

    Example:
        >>> import funcgrad as fg
        >>> fg.grad(lambda x: x * fg.stop_gradient(x))(3.0)
        np.float64(3.0)
    """
    from funcgrad.numpy._util import scalar_or_array
    from funcgrad.ops.elementwise import stop_gradient as stop
    from funcgrad.tree import map as tree_map
    return tree_map(lambda leaf: stop(scalar_or_array(leaf)), x)


# ---------------------------------------------------------------------------------------
# Jacobians and Hessians (reverse mode: one pullback per output element)


def jacrev(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           allow_int: bool = False):
    """The Jacobian of ``fun`` by reverse mode: ``jac[i, j] = d out[i] / d arg[j]``, with shape
    ``out.shape + arg.shape`` (pytrees: an output-shaped tree of argument-shaped trees).

    One forward pass, then the pullback of every row of the identity at once: ``vmap`` of the
    pullback over the basis of the output space, so the program does not grow with the
    output's size (a batched matrix product where a loop would run one pullback per row).
    ``allow_int=True``: an integer or boolean argument's Jacobian is float0 zeros of shape
    ``out.shape + arg.shape`` (without it, such an argument is an error, as in ``grad``).

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> fg.jacrev(lambda x: x * 2.0)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 2.]])
    """
    check_function(fun, "jacrev")
    from funcgrad.api.batching import vmap

    @functools.wraps(fun, updated=())
    def jacobian(*args, **kwargs):
        nums = _argnums(argnums, args, kwargs, fun)
        call = _function_args(fun, args, kwargs, nums)
        _check_differentiable(call, [call.dynamic_index[i] for i in nums], "jacrev",
                              allow_int)

        # an argument named twice in argnums is differentiated once, its rows given twice
        # (as grad does): two primals standing for it would each see only part of it
        unique = tuple(dict.fromkeys(nums))

        def partial(*wrt):
            full = list(args)
            for i, x in zip(unique, wrt):
                full[i] = x
            return fun(*full, **kwargs)

        partial.__name__ = name_of(fun)  # (what vjp's errors call it)
        result = vjp(partial, *(args[i] for i in unique), has_aux=has_aux)
        out, pullback = result[0], result[1]
        out_leaves, out_tree = flatten(out)
        shapes = [tuple(np.shape(leaf)) for leaf in out_leaves]
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        offsets = np.cumsum([0] + sizes)
        basis = np.eye(offsets[-1])
        cts = [basis[:, a:b].reshape(offsets[-1], *s).astype(_leaf_dtype(leaf) or np.float64)
               for a, b, s, leaf in zip(offsets, offsets[1:], shapes, out_leaves)]
        if offsets[-1]:
            rows = vmap(pullback)(unflatten(out_tree, cts))  # per argument: (n_out, *arg)
        else:  # no output elements: no rows
            rows = tuple(fg_tree_map(lambda x: np.zeros((0, *np.shape(x))), args[i])
                         for i in unique)
        row_leaves = [flatten(rows[unique.index(i)], is_float0)[0] for i in nums]
        arg_trees = [flatten(args[i])[1] for i in nums]
        per_out = []
        for a, b, shape in zip(offsets, offsets[1:], shapes):
            per_arg = [unflatten(tree, [_rows(leaf, a, b, shape) for leaf in leaves])
                       for tree, leaves in zip(arg_trees, row_leaves)]
            per_out.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
        jac = unflatten(out_tree, per_out)
        return (jac, result[2]) if has_aux else jac

    jacobian.__name__ = f"jacrev({name_of(fun)})"
    return jacobian


def is_float0(x) -> bool:
    return isinstance(x, Float0Array)


def _rows(leaf, a, b, shape):
    """Rows a:b of a Jacobian leaf (n_out, *arg), as an array of shape ``shape + arg``."""
    if is_float0(leaf):  # an integer argument's (allow_int)
        return float0_zeros(shape + tuple(leaf.shape[1:]))
    import funcgrad.numpy as fnp
    return fnp.reshape(leaf[a:b], shape + tuple(leaf.shape[1:]))
