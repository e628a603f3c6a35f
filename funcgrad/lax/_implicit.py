"""Implicit differentiation, as JAX's ``lax.custom_root`` and ``lax.custom_linear_solve``:
the derivative of a root or of a linear solve comes from the equation it satisfies (the
implicit function theorem), not from differentiating the iterations that found it. So a
Newton loop or a conjugate-gradient solve can stop at any tolerance, use any algorithm,
and still differentiate exactly and cheaply, to any order and in both modes.

Both are ``custom_jvp`` functions. The functions the user gives (``f``, ``matvec``,
``solve``...) are traced once into closed programs whose captured values (the parameters
``f`` or ``matvec`` closes over, such as a matrix being differentiated) become explicit
arguments: derivatives flow to them through ``f`` and ``matvec`` alone, as in JAX (what
``solve`` itself closes over is treated as constant). Re-exported by ``funcgrad.lax``.

Example:
    >>> from funcgrad import lax
    >>> def sqrt_of(a):  # the root of x**2 - a, by Newton's method
    ...     newton = lambda f, x: lax.fori_loop(0, 30, lambda i, x: x - f(x) / (2 * x), x)
    ...     return lax.custom_root(lambda x: x * x - a, 1.0, newton,
    ...                            lambda g, y: y / g(1.0))
    >>> float(sqrt_of(2.0)), float(fg.grad(sqrt_of)(2.0))  # 1 / (2 sqrt 2)
    (1.414213562373095, 0.3535533905932738)
"""

from __future__ import annotations

from collections.abc import Callable

import funcgrad.numpy as fnp
from funcgrad.control import subprogram as _sub
from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.evaluate import inline as _inline
from funcgrad.core.tracing import Tracer, current_trace
from funcgrad.core.types import is_float
from funcgrad.tree import flatten as _flatten
from funcgrad.tree import map as _tree_map
from funcgrad.tree import unflatten as _unflatten

__all__ = ["custom_root", "custom_linear_solve"]


class _Closed:
    """A function of one pytree traced once: ``call(consts, x)`` runs it with its captured
    values ``consts`` given explicitly (so they can be differentiated)."""

    def __init__(self, fun, x_tree, x_avals, what, expect=None):
        self.traced = _sub.trace_closed(fun, x_tree, x_avals, what)
        self.consts = list(self.traced.consts)
        if expect is not None:
            tree, avals = expect
            got = self.traced.out_avals
            if self.traced.out_tree != tree or [(a.shape, a.dtype) for a in got] != \
                    [(a.shape, a.dtype) for a in avals]:
                raise FuncgradTypeError(
                    f"{what} must return {_sub.describe(tree, avals)}, the structure, shapes "
                    f"and dtypes of its argument, but it returns "
                    f"{_sub.describe(self.traced.out_tree, got)}")

    def call(self, consts, x):
        outs = _inline(self.traced.program, [*consts, *_flatten(x)[0]])
        return _unflatten(self.traced.out_tree, outs)


def _avals(leaves, what):
    return [_sub.leaf_aval(x, what) for x in leaves]


def _strong(tree):
    leaves, structure = _flatten(tree)
    return _unflatten(structure, _sub.strong_leaves(leaves))


def _is_traced(*trees) -> bool:
    return current_trace() is not None or any(
        isinstance(x, Tracer) for t in trees for x in _flatten(t)[0])


def _jvp_wrt_consts(closed: _Closed, consts, tangents, x):
    """d/dc closed(c, x) . tangents at c = consts (zero for non-float consts)."""
    from funcgrad.api.forward import jvp
    floats = [i for i, c in enumerate(consts) if is_float(_sub.leaf_aval(c).dtype)]
    if not floats:
        return _tree_map(fnp.zeros_like, closed.call(consts, x))

    def of_floats(*chosen):
        full = list(consts)
        for i, c in zip(floats, chosen):
            full[i] = c
        return closed.call(full, x)
    return jvp(of_floats, [consts[i] for i in floats], [tangents[i] for i in floats])[1]


def _jvp_wrt_x(closed: _Closed, consts, x, t):
    from funcgrad.api.forward import jvp
    t = _tree_map(lambda ti, xi: fnp.asarray(ti, _sub.leaf_aval(xi).dtype), t, x)
    return jvp(lambda y: closed.call(consts, y), (x,), (t,))[1]


def _vjp_wrt_x(closed: _Closed, consts, x, ct):
    from funcgrad.api.autodiff import vjp
    return vjp(lambda y: closed.call(consts, y), x)[1](ct)[0]


def _closed_solver(solve_of, consts, x, what):
    """``solve_of(consts, x)`` traced once, as ``run(consts, solver_consts, x)`` and the
    solver's own captured values (held constant: no derivative flows through them)."""
    found = []

    def flat(*leaves):
        consts_in, x_in = _unflatten(_flatten((consts, x))[1], list(leaves))
        out_leaves, out_tree = _flatten(solve_of(consts_in, x_in))
        found.append(out_tree)
        return out_leaves
    c_leaves, x_leaves = _flatten(consts)[0], _flatten(x)[0]
    solver = _sub.trace_closed(lambda *leaves: flat(*leaves),
                               _flatten(tuple(range(len(c_leaves) + len(x_leaves))))[1],
                               _avals([*c_leaves, *x_leaves], f" ({what})"), what)
    out_tree = found[0]

    def run(c, sc, y):
        outs = _inline(solver.program, [*sc, *_flatten(c)[0], *_flatten(y)[0]])
        return _unflatten(out_tree, outs)
    return run, list(solver.consts)


def _split_aux(out, has_aux, what):
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise FuncgradTypeError(f"{what} must return a pair (solution, aux) with has_aux=True, "
                                f"got {type(out).__name__}")
    return out[0], out[1]


def _zero_tangents(tree):
    return _tree_map(lambda x: fnp.zeros_like(x), tree)


def custom_root(f: Callable, initial_guess, solve: Callable, tangent_solve: Callable,
                has_aux: bool = False):
    """A root of ``f`` (``f(x) = 0``, x a pytree like ``initial_guess``), found by
    ``solve(f, initial_guess)`` and differentiated implicitly, as JAX's
    ``lax.custom_root``: with x* the root and theta what ``f`` closes over, dx*/dtheta =
    -(df/dx)^-1 df/dtheta. ``tangent_solve(g, y)`` must solve the linear system ``g(x) = y``
    for x, where ``g`` is df/dx at the root as a linear function (for a scalar,
    ``lambda g, y: y / g(1.0)``; for vectors, ``fnp.linalg.solve(fg.jacfwd(g)(y), y)``).
    ``solve``'s iterations are never differentiated, and the initial guess has no
    derivative. With ``has_aux``, ``solve`` returns ``(root, aux)`` and so does this.

    Example:
        >>> def cube_root(a):  # x**3 = a by bisection: not differentiable, but its root is
        ...     def bisect(f, x):
        ...         def step(i, bounds):
        ...             lo, hi = bounds
        ...             mid = (lo + hi) / 2
        ...             return fnp.where(f(mid) < 0, mid, lo), fnp.where(f(mid) < 0, hi, mid)
        ...         return lax.fori_loop(0, 80, step, (0.0 * x, 2.0 + x))[0]
        ...     return lax.custom_root(lambda x: x ** 3 - a, 1.0, bisect,
        ...                            lambda g, y: y / g(1.0))
        >>> round(float(cube_root(8.0)), 12), round(float(fg.grad(cube_root)(8.0)), 12)
        (2.0, 0.083333333333)
    """
    for name, fn in (("f", f), ("solve", solve), ("tangent_solve", tangent_solve)):
        if not callable(fn):
            raise FuncgradTypeError(f"custom_root's {name} must be callable, got "
                                    f"{type(fn).__name__}")
    guess = _strong(initial_guess)
    if not _is_traced(guess):  # nothing is traced, so no derivative can be asked for
        out = solve(f, guess)
        _split_aux(out, has_aux, "custom_root's solve")
        return out
    leaves, tree = _flatten(guess)
    avals = _avals(leaves, " (custom_root's initial_guess)")
    fun = _Closed(f, _flatten((guess,))[1], avals, "custom_root's f", expect=(tree, avals))
    run, solver_consts = _closed_solver(
        lambda fc, g: solve(lambda x: fun.call(fc, x), g), fun.consts, guess,
        "custom_root's solve")

    from funcgrad.control.custom_jvp import custom_jvp

    def root(fc, sc, g):
        return run(fc, sc, g)
    root_fn = custom_jvp(root)

    @root_fn.defjvp
    def root_jvp(primals, tangents):
        fc, sc, g = primals
        out = root_fn(fc, sc, g)
        x, aux = _split_aux(out, has_aux, "custom_root's solve")
        rhs = _jvp_wrt_consts(fun, fc, tangents[0], x)
        dx = tangent_solve(lambda t: _jvp_wrt_x(fun, fc, x, t), rhs)
        dx = _tree_map(lambda d: -d, dx)
        return out, ((dx, _zero_tangents(aux)) if has_aux else dx)

    out = root_fn(list(fun.consts), solver_consts, _tree_map(_stop, guess))
    _split_aux(out, has_aux, "custom_root's solve")
    return out


def _stop(x):
    from funcgrad.ops.elementwise import stop_gradient
    return stop_gradient(x)


def custom_linear_solve(matvec: Callable, b, solve: Callable,
                        transpose_solve: Callable | None = None, symmetric: bool = False,
                        has_aux: bool = False):
    """The solution x of ``matvec(x) = b``, found by ``solve(matvec, b)`` and differentiated
    implicitly, as JAX's ``lax.custom_linear_solve``: dx = solve(matvec, db - dmatvec(x)),
    so ``solve``'s iterations are never differentiated, and derivatives flow to ``b`` and to
    what ``matvec`` closes over (a matrix, say). Reverse mode transposes the solve with
    ``transpose_solve(vecmat, ct)`` (``vecmat``: the transpose of ``matvec``), or with
    ``solve`` itself if ``symmetric``; without either it differentiates ``solve``'s own
    operations (JAX requires one of them). ``b`` may be a pytree. With ``has_aux``, the
    solvers return ``(x, aux)`` and so does this.

    Example:
        >>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
        >>> def solve_with(a, b):
        ...     return lax.custom_linear_solve(lambda x: a @ x, b,
        ...                                    lambda mv, r: fnp.linalg.solve(a, r),
        ...                                    symmetric=True)
        >>> solve_with(a, np.array([1.0, 2.0]))
        array([0.09090909, 0.63636364])
        >>> fg.grad(lambda a: fnp.sum(solve_with(a, np.array([1.0, 2.0]))))(a)
        array([[-0.01652893, -0.11570248],
               [-0.02479339, -0.17355372]])
    """
    for name, fn in (("matvec", matvec), ("solve", solve)):
        if not callable(fn):
            raise FuncgradTypeError(f"custom_linear_solve's {name} must be callable, got "
                                    f"{type(fn).__name__}")
    if transpose_solve is not None and not callable(transpose_solve):
        raise FuncgradTypeError(f"custom_linear_solve's transpose_solve must be callable or "
                                f"None, got {type(transpose_solve).__name__}")
    if symmetric:
        transpose_solve = solve
    b = _strong(b)
    leaves, tree = _flatten(b)
    avals = _avals(leaves, " (custom_linear_solve's b)")
    args_tree = _flatten((b,))[1]
    mv = _Closed(matvec, args_tree, avals, "custom_linear_solve's matvec", expect=(tree, avals))
    if not _is_traced(b, mv.consts):
        out = solve(matvec, b)
        _split_aux(out, has_aux, "custom_linear_solve's solve")
        return out
    run, solver_consts = _closed_solver(
        lambda mc, rhs: solve(lambda x: mv.call(mc, x), rhs), mv.consts, b,
        "custom_linear_solve's solve")

    from funcgrad.control.custom_jvp import custom_jvp
    from funcgrad.control.custom_vjp import custom_vjp

    def linear(mc, sc, tc, rhs):  # x = A^-1 rhs, whose transpose is transpose_solve's
        return _split_aux(run(mc, sc, rhs), has_aux, "custom_linear_solve's solve")[0]

    if transpose_solve is not None:
        def transposed(mc, ct):
            return transpose_solve(lambda y: _vjp_wrt_x(mv, mc, b, y), ct)
        run_t, t_consts = _closed_solver(transposed, mv.consts, b,
                                         "custom_linear_solve's transpose_solve")
        linear_fn = custom_vjp(linear)

        def linear_fwd(mc, sc, tc, rhs):
            return linear(mc, sc, tc, rhs), (mc, tc)

        def linear_bwd(res, ct):
            mc, tc = res
            out = _split_aux(run_t(mc, tc, ct), has_aux,
                             "custom_linear_solve's transpose_solve")[0]
            return None, None, None, out
        linear_fn.defvjp(linear_fwd, linear_bwd)
        apply_inverse: Callable = linear_fn
    else:
        t_consts, apply_inverse = [], linear

    def solution(mc, sc, tc, rhs):
        return run(mc, sc, rhs)
    solution_fn = custom_jvp(solution)

    @solution_fn.defjvp
    def solution_jvp(primals, tangents):
        mc, sc, tc, rhs = primals
        dmc, drhs = tangents[0], tangents[3]
        out = solution_fn(mc, sc, tc, rhs)
        x, aux = _split_aux(out, has_aux, "custom_linear_solve's solve")
        d_ax = _jvp_wrt_consts(mv, mc, dmc, x)
        dx = apply_inverse(mc, sc, tc, _tree_map(lambda a, c: a - c, drhs, d_ax))
        return out, ((dx, _zero_tangents(aux)) if has_aux else dx)

    return solution_fn(list(mv.consts), solver_consts, t_consts, b)
