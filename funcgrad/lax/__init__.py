"""Structured control flow, with JAX's ``jax.lax`` signatures: ``cond``, ``switch``,
``while_loop``, ``fori_loop``, ``scan``, ``map`` and ``select``.

A Python ``for`` loop in a traced function unrolls: the program holds one copy of the body
per iteration, and a Python ``if`` or ``while`` on a traced value cannot be traced at all.
These functions trace each function they are given once, into a sub-program held by one
equation; the NumPy evaluator runs the sub-program per iteration or branch, and ``jit``
compiles it into a loop or an ``if`` inside the one generated function. All of them are
differentiable in reverse mode, ``while_loop`` included (JAX's is not). See the
control-flow page of the docs.

Example:
    >>> from funcgrad import lax
    >>> float(lax.fori_loop(0, 5, lambda i, total: total + i, 0.0))
    10.0
"""

import builtins as _builtins  # (no __future__ import: its `annotations` would be public)
from collections.abc import Callable as _Callable
from collections.abc import Sequence as _Sequence

import numpy as _np

from funcgrad.control import cond as _cond
from funcgrad.control import loops as _loops
from funcgrad.control import subprogram as _sub
from funcgrad.core.arguments import check_arity as _check_arity
from funcgrad.core.arguments import describe_value as _describe_value
from funcgrad.core.errors import FuncgradTypeError as _TypeError
from funcgrad.core.errors import FuncgradValueError as _ValueError
from funcgrad.core.errors import ShapeError as _ShapeError
from funcgrad.core.ir import Program as _Program
from funcgrad.core.ir import Var as _Var
from funcgrad.core.tracing import Tracer as _Tracer
from funcgrad.core.types import ShapedArray as _ShapedArray
from funcgrad.ops.elementwise import convert_element_type as _convert
from funcgrad import numpy as _fnp
from funcgrad.tree import flatten as _flatten
from funcgrad.tree import map as _tree_map
from funcgrad.tree import unflatten as _unflatten

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "select"]

# JAX's lax array operations (dynamic_slice, dot_general, top_k, ...), for ported code
from funcgrad.lax._ops import *  # noqa: E402,F401,F403
from funcgrad.lax._ops import __all__ as _ops_all  # noqa: E402
from funcgrad.lax._more import *  # noqa: E402,F401,F403
from funcgrad.lax._more import __all__ as _more_all  # noqa: E402
from funcgrad.lax._windows import *  # noqa: E402,F401,F403
from funcgrad.lax._windows import __all__ as _windows_all  # noqa: E402
from funcgrad.lax._implicit import *  # noqa: E402,F401,F403
from funcgrad.lax._implicit import __all__ as _implicit_all  # noqa: E402
from funcgrad.lax._scatter import *  # noqa: E402,F401,F403
from funcgrad.lax._scatter import __all__ as _scatter_all  # noqa: E402

__all__ += _ops_all
__all__ += _more_all
__all__ += _windows_all
__all__ += _implicit_all
__all__ += _scatter_all

# Collectives over the examples of a named vmap (vmap(f, axis_name="batch")): psum, pmean,
# pmax, pmin, all_gather, psum_scatter, axis_index, axis_size (see ops/collectives.py)
from funcgrad.ops.collectives import *  # noqa: E402,F401,F403
from funcgrad.ops.collectives import __all__ as _collectives_all  # noqa: E402

__all__ += _collectives_all


# ---------------------------------------------------------------------------------------
# cond and switch


def cond(pred, true_fun: _Callable, false_fun: _Callable, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``, where ``pred`` is a
    scalar that may be traced: both functions are traced, only the one chosen runs. They
    must return the same structure of arrays with the same shapes and dtypes.

    Example:
        >>> from funcgrad import lax
        >>> f = fg.jit(lambda x: lax.cond(x > 0, fnp.sin, fnp.cos, x))
        >>> bool(f(0.5) == np.sin(0.5)), bool(f(-0.5) == np.cos(-0.5))
        (True, True)
        >>> float(fg.grad(lambda x: lax.cond(x > 0, fnp.sin, fnp.cos, x))(-0.5))  # -sin(-0.5)
        0.479425538604203
    """
    _check_functions("cond", _operands(operands), true_fun=true_fun, false_fun=false_fun)
    aval = _sub.leaf_aval(pred, " (cond's predicate)")
    if aval.shape != ():
        raise _TypeError(f"cond's predicate must be a scalar, got {aval}: to choose "
                                "elementwise, use lax.select or fnp.where")
    index = _fnp.asarray(pred if aval.dtype.kind == "b" else _fnp.not_equal(pred, 0), _np.int32)
    return _branch("cond", index, (false_fun, true_fun), operands, ("false_fun", "true_fun"))


def switch(index, branches: _Sequence[_Callable], *operands):
    """``branches[index](*operands)``, where ``index`` is an integer scalar that may be traced
    (clamped into ``[0, len(branches) - 1]``, as in JAX). Every branch is traced; all must
    return the same types.

    Example:
        >>> from funcgrad import lax
        >>> f = fg.jit(lambda i, x: lax.switch(i, [fnp.sin, fnp.cos, fnp.negative], x))
        >>> [float(f(i, 0.0)) for i in (0, 1, 2, 7)]
        [0.0, 1.0, -0.0, -0.0]
    """
    if not isinstance(branches, _Sequence):
        raise _TypeError(f"switch's branches must be a sequence of functions, got "
                         f"{type(branches).__name__} {branches!r:.60}")
    branches = list(branches)
    if not branches:
        raise _TypeError("switch needs at least one branch")
    _check_functions("switch", _operands(operands),
                     **{f"branch {i}": f for i, f in enumerate(branches)})
    aval = _sub.leaf_aval(index, " (switch's index)")
    if aval.shape != () or aval.dtype.kind not in "iub":
        raise _TypeError(f"switch's index must be an integer scalar, got {aval}")
    index = _fnp.clip(_fnp.asarray(index, _np.int32), 0, len(branches) - 1)
    return _branch("switch", index, branches, operands,
                   [f"branch {i}" for i in range(len(branches))])


def _check_functions(primitive: str, arguments: tuple[int, str], **functions) -> None:
    """A clear error, naming the argument, for one that is not a function, or not one of
    as many arguments as it will be given (``arguments``: how many, and what they are): it
    would fail deep inside the tracing, as ``'float' object is not callable``."""
    for name, f in functions.items():
        if not callable(f):
            raise _TypeError(f"{primitive}'s {name} must be a function, got "
                             f"{type(f).__name__} {f!r:.60}")
        _check_arity(f, *arguments, f"{primitive}'s {name}")


def _operands(operands) -> tuple[int, str]:
    return len(operands), f"the operand{'s' * (len(operands) != 1)} after the functions"


def _branch(primitive, index, funs, operands, names):
    leaves, in_tree = _flatten(operands)
    avals = [_sub.leaf_aval(x) for x in leaves]
    traced = [_sub.trace_closed(f, in_tree, avals, name) for f, name in zip(funs, names)]
    target, tree = _joined_outputs(primitive, traced, names)
    traced = [t if _exact(t.out_avals, target) else
              _sub.trace_closed(f, in_tree, avals, name, target, tree)
              for t, f, name in zip(traced, funs, names)]
    consts = [c for t in traced for c in t.consts]
    const_avals = [v.aval for t in traced for v in t.program.invars[:len(t.consts)]]
    programs, start = [], 0
    for t in traced:
        n = len(t.consts)
        programs.append(_widen(t.program, n, const_avals[:start], const_avals[start + n:]))
        start += n
    outs = _cond.cond(index, [*consts, *leaves], tuple(programs))
    return _unflatten(tree, outs)


def _exact(avals, target) -> bool:
    return [(a.shape, a.dtype) for a in avals] == [(a.shape, a.dtype) for a in target]


def _joined_outputs(primitive, traced, names):
    """The output types all branches must have: a Python number in one branch takes the
    dtype of the array in another of its kind (a Python float a float32's); any other
    difference is an error, an int against a float included, as in JAX."""
    first = traced[0]
    for t, name in zip(traced[1:], names[1:]):
        if t.out_tree != first.out_tree:
            raise _branches_differ(primitive, first, names[0], t, name)
    target = [next((t.out_avals[k] for t in traced if not t.out_avals[k].weak_type), aval)
              for k, aval in enumerate(first.out_avals)]
    for t, name in zip(traced, names):
        if not all(a.shape == b.shape and a.dtype.kind == b.dtype.kind
                   and _sub.takes_dtype(a, b.dtype) for a, b in zip(t.out_avals, target)):
            other = 1 if t is first else 0  # (the first branch may be the odd one out)
            raise _branches_differ(primitive, traced[other], names[other], t, name)
    return target, first.out_tree


def _branches_differ(primitive, a, a_name, b, b_name):
    return _TypeError(f"the branches of a {primitive} must return the same types: {a_name} "
                      f"returns {_sub.describe(a.out_tree, a.out_avals)} but {b_name} returns "
                      f"{_sub.describe(b.out_tree, b.out_avals)}")


def _widen(program: _Program, n_own: int, before, after) -> _Program:
    """``program`` taking every branch's consts: fresh, unused inputs for the others'."""
    own, args = program.invars[:n_own], program.invars[n_own:]
    return _Program((), [*[_Var(a) for a in before], *own, *[_Var(a) for a in after], *args],
                   program.equations, program.outvars)


# ---------------------------------------------------------------------------------------
# Loops


def while_loop(cond_fun: _Callable, body_fun: _Callable, init_val, *, max_steps=None):
    """``val = init_val; while cond_fun(val): val = body_fun(val); return val``, with a
    condition that may depend on traced values. ``body_fun`` must return the structure,
    shapes and dtypes of ``init_val``.

    Unlike JAX's, it is reverse-differentiable, to any order: the forward loop tapes what
    each iteration's backward step needs (memory proportional to the trip count), and the
    backward loop reads the tape in reverse. ``max_steps`` (funcgrad only) stops the loop
    after that many iterations, which bounds that memory.

    Example:
        >>> from funcgrad import lax
        >>> def sqrt_newton(a):  # Newton's method for x**2 = a
        ...     step = lambda x: 0.5 * (x + a / x)
        ...     return lax.while_loop(lambda x: fnp.abs(x * x - a) > 1e-12, step, a)
        >>> float(sqrt_newton(2.0))
        1.414213562373095
        >>> float(fg.grad(sqrt_newton)(2.0))  # 1 / (2 sqrt(2))
        0.35355339059327373
    """
    _check_functions("while_loop", (1, "the loop value"), cond_fun=cond_fun, body_fun=body_fun)
    if max_steps is not None and (not isinstance(max_steps, (int, _np.integer))
                                  or max_steps < 0):
        raise _TypeError(f"while_loop's max_steps must be a non-negative int, got "
                         f"{max_steps!r}")
    leaves, tree = _flatten(init_val)
    args_tree = _flatten((init_val,))[1]

    def new_carry(avals):
        traced = _sub.trace_closed(body_fun, args_tree, avals, "while_loop's body_fun")
        return traced.out_avals if traced.out_tree == tree else None

    leaves = _sub.carry_leaves(leaves, new_carry, " (while_loop's init_val)")
    avals = [_sub.leaf_aval(x) for x in leaves]
    test = _sub.trace_closed(cond_fun, args_tree, avals, "while_loop's cond_fun")
    out = test.out_avals
    if not (len(out) == 1 and out[0].shape == () and out[0].dtype.kind == "b"):
        raise _TypeError(f"while_loop's cond_fun must return a boolean scalar, got "
                                f"{_sub.describe(test.out_tree, out)}")
    body = _sub.trace_closed(body_fun, args_tree, avals, "while_loop's body_fun", avals, tree)
    outs = _loops.while_loop(test.consts, body.consts, leaves, cond=test.program,
                             body=body.program,
                             max_steps=None if max_steps is None else int(max_steps))
    return _unflatten(tree, outs)


def fori_loop(lower, upper, body_fun: _Callable, init_val, *, unroll=None):
    """``val = init_val; for i in range(lower, upper): val = body_fun(i, val)``.

    With Python ints as bounds it is a ``scan`` (differentiable like one, saving what each
    step's backward needs); with traced bounds, a ``while_loop``. ``unroll`` is accepted for
    JAX compatibility and ignored (the loop is compiled as a loop).

    Example:
        >>> from funcgrad import lax
        >>> def power(x, n):  # x ** n, by n multiplications
        ...     return lax.fori_loop(0, n, lambda i, p: p * x, 1.0)
        >>> float(power(3.0, 4)), float(fg.grad(power)(3.0, 4))
        (81.0, 108.0)
    """
    _check_functions("fori_loop", (2, "the index and the loop value"), body_fun=body_fun)
    index = _fori_index(lower, upper)
    leaves, tree = _flatten(init_val)

    def new_carry(avals):
        traced = _sub.trace_closed(body_fun, _flatten((0, init_val))[1], [index, *avals],
                                   "fori_loop's body_fun")
        return traced.out_avals if traced.out_tree == tree else None

    leaves = _sub.carry_leaves(leaves, new_carry, " (fori_loop's init_val)")
    init_val, avals = _unflatten(tree, leaves), [_sub.leaf_aval(x) for x in leaves]

    def step(i, val):  # body_fun, on the index as JAX's, its result checked here
        i = _convert(i, index.dtype, weak_type=True) if index.weak_type else i
        out_leaves, out_tree = _flatten(body_fun(i, val))
        return _unflatten(tree, _sub.coerce(out_leaves, out_tree, avals, tree,
                                            "fori_loop's body_fun"))

    if not isinstance(lower, _Tracer) and not isinstance(upper, _Tracer):
        start = _np.asarray(lower, index.dtype)
        (_, val), _ = scan(lambda c, _: ((c[0] + 1, step(*c)), None), (start, init_val),
                           None, length=_builtins.max(int(upper) - int(lower), 0))
        return val
    _, val = while_loop(lambda c: c[0] < upper, lambda c: (c[0] + 1, step(*c)),
                        (_fnp.asarray(lower, index.dtype), init_val))
    return val


def _fori_index(lower, upper) -> _ShapedArray:
    """The type of fori_loop's index, as JAX's for traced bounds: the bounds' integer type,
    the other bound's where one is a Python int, and weak (a Python int's: a float32 or int32
    carry combined with it keeps its dtype) where both are."""
    avals = [_sub.leaf_aval(x, " (fori_loop's bound)") for x in (lower, upper)]
    if any(a.shape or a.dtype.kind not in "iu" for a in avals):
        raise _TypeError(f"fori_loop's bounds must be integer scalars, got {lower!r} and "
                         f"{upper!r}")
    strong = [a.dtype for a in avals if not a.weak_type]
    return _ShapedArray((), _np.result_type(*strong) if strong else avals[0].dtype,
                        weak_type=not strong)


def scan(f: _Callable, init, xs=None, length: int | None = None, reverse: bool = False,
         unroll: int | bool = 1, _split_transpose: bool = False):
    """Loop ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``, returning the
    final carry and the ``y``s stacked: ``(carry, stack(ys))``. ``xs`` and the results may
    be pytrees; with ``xs=None``, ``length`` says how many steps. ``reverse=True`` walks
    ``xs`` from the end (``ys[i]`` still belongs to ``xs[i]``). ``unroll`` (a bool or a
    non-negative int, as JAX's) is accepted for JAX compatibility and ignored: the loop is
    compiled as a loop.

    Example:
        >>> from funcgrad import lax
        >>> total, running = lax.scan(lambda c, x: (c + x, c + x), 0.0, np.arange(4.0))
        >>> float(total), running
        (6.0, array([0., 1., 3., 6.]))
    """
    _check_functions("scan", (2, "the carry and a slice of xs"), f=f)
    if not isinstance(unroll, (bool, int, _np.integer)) or unroll < 0:
        raise _ValueError(f"scan's unroll must be a bool or a non-negative integer (as JAX's), "
                          f"got {unroll!r}")
    return _scan(f, init, xs, length, reverse, "scan")


def _scan(f, init, xs, length, reverse, name: str):
    """scan, its errors naming ``name`` (map is a scan too)."""
    init_leaves, carry_tree = _flatten(init)
    xs_leaves = _flatten(xs)[0]
    xs_leaves = _sub.strong_leaves(xs_leaves)
    length = _scan_length(xs_leaves, length, name)
    x_avals = [_ShapedArray(a.shape[1:], a.dtype) for a in _builtins.map(_sub.leaf_aval, xs_leaves)]
    in_tree = _flatten((init, xs))[1]

    def pair(carry, x):
        out = f(carry, x)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise _TypeError(f"{name}'s f must return a pair (carry, y), but it returned "
                             f"{_describe_value(out)}")
        return out

    def new_carry(avals):
        traced = _sub.trace_closed(lambda c, x: pair(c, x)[0], in_tree, [*avals, *x_avals],
                                   f"{name}'s f")
        return traced.out_avals if traced.out_tree == carry_tree else None

    init_leaves = _sub.carry_leaves(init_leaves, new_carry, f" ({name}'s init)")
    carry_avals = [_sub.leaf_aval(x) for x in init_leaves]
    found = []

    def step(carry, x):
        out = pair(carry, x)
        new_leaves, new_tree = _flatten(out[0])
        new_leaves = _sub.coerce(new_leaves, new_tree, carry_avals, carry_tree,
                            f"{name}'s f (its new carry)")
        y_leaves, y_tree = _flatten(out[1])
        found.append(y_tree)
        return [*new_leaves, *y_leaves]

    body = _sub.trace_closed(step, in_tree, [*carry_avals, *x_avals], f"{name}'s f")
    outs = _loops.scan(body.consts, init_leaves, xs_leaves, body=body.program, length=length,
                       reverse=reverse)
    n = len(init_leaves)
    return _unflatten(carry_tree, outs[:n]), _unflatten(found[0], outs[n:])


def _scan_length(xs_leaves, length, name: str) -> int:
    lengths: dict[int, str] = {}  # steps -> what has that many
    for i, x in enumerate(xs_leaves):
        aval = _sub.leaf_aval(x, f" ({name}'s xs)")
        if not aval.shape:
            raise _ShapeError(f"{name}'s xs must have a leading axis to scan over, got {aval}")
        lengths.setdefault(aval.shape[0], f"xs leaf {i} ({aval})")
    if length is not None:
        if not isinstance(length, (int, _np.integer)) or isinstance(length, bool):
            raise _TypeError(f"{name}'s length must be an int (a number of steps, known when "
                             f"tracing), got {length!r}")
        if length < 0:  # (without ys it would run no step, silently)
            raise _ShapeError(f"{name}'s length must be non-negative, got {length!r}")
        lengths.setdefault(int(length), f"length={length}")
    if len(lengths) != 1:
        raise _ShapeError(f"{name} needs xs or a length" if not lengths else
                          f"{name}'s xs{' and length' * (length is not None)} disagree on "
                          "the number of steps: "
                          + ", ".join(f"{n} for {what}" for n, what in lengths.items()))
    return next(iter(lengths))


def map(f: _Callable, xs, *, batch_size: int | None = None):  # noqa: A001  (jax.lax.map)
    """``stack([f(x) for x in xs])`` over the leading axis of ``xs`` (a pytree), as a loop
    traced once. With ``batch_size``, as JAX's: each step of the loop computes ``f`` on that
    many elements at once (``vmap``), and the remainder, if any, after the loop; the
    results are the same.

    Example:
        >>> from funcgrad import lax
        >>> lax.map(lambda row: fnp.sum(row ** 2), np.arange(6.0).reshape(3, 2))
        array([ 1., 13., 41.])
        >>> lax.map(lambda row: fnp.sum(row ** 2), np.arange(6.0).reshape(3, 2), batch_size=2)
        array([ 1., 13., 41.])
    """
    _check_functions("map", (1, "a slice of xs"), f=f)
    if batch_size is None:
        return _scan(lambda carry, x: (carry, f(x)), (), xs, None, False, "map")[1]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, _np.integer)) \
            or batch_size < 1:
        raise _ValueError(f"map's batch_size must be a positive integer, got {batch_size!r}")
    from funcgrad.api.batching import vmap  # (the API layer, above this one)
    leaves, tree = _flatten(xs)
    n = _scan_length(leaves, None, "map")
    whole = n - n % batch_size
    parts = []
    if whole or not n:  # the loop over batches: map of the vmapped f over (steps,
        # batch_size, ...); with no elements, a loop of no steps still gives f's empty stack
        batches = [_fnp.reshape(x[:whole], (whole // batch_size, batch_size, *x.shape[1:]))
                   for x in leaves]
        ys = map(vmap(f), _unflatten(tree, batches))
        parts.append(_tree_map(lambda y: _fnp.reshape(y, (whole, *y.shape[2:])), ys))
    if whole < n:  # the remainder
        parts.append(vmap(f)(_unflatten(tree, [x[whole:] for x in leaves])))
    return parts[0] if len(parts) == 1 else \
        _tree_map(lambda a, b: _fnp.concatenate([a, b]), *parts)


def select(pred, on_true, on_false):
    """Elementwise choice, ``on_true`` where ``pred`` else ``on_false``: the cases of one
    shape and dtype, ``pred`` boolean, of their shape or a scalar choosing a whole case (JAX's
    ``lax.select``; ``fnp.where`` also broadcasts).

    Example:
        >>> from funcgrad import lax
        >>> lax.select(np.array([True, False]), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        array([1., 4.])
    """
    p, t, f = (_sub.leaf_aval(x) for x in (pred, on_true, on_false))
    if p.dtype.kind != "b":
        raise _TypeError(f"select's pred must be boolean, got {p}")
    if p.shape not in ((), t.shape) or t.shape != f.shape or t.dtype != f.dtype:
        raise _ShapeError(f"select needs on_true and on_false of one shape and dtype, and pred "
                         f"of their shape or a scalar; got {p}, {t} and {f}")
    return _fnp.where(pred, on_true, on_false)
