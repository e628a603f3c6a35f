"""Checking derivatives against finite differences: ``check_grads`` and ``numerical_grad``.

The check is the one JAX's ``check_grads`` makes, with sharper numerics and messages. For a
random output cotangent ``u`` and, for each floating-point leaf of the arguments, a random
direction ``v`` in that leaf alone, the reverse-mode value ``<vjp(u), v>`` must equal the
directional derivative ``d/dh <u, f(x + h v)>`` at h = 0. The latter is estimated by central
differences with Richardson extrapolation (error O(h^4) instead of O(h^2)), so a step near
``eps ** (1/5)`` gives about 12 correct digits in float64 and 5 in float32. Checking one leaf
at a time names the argument that is wrong; on small leaves the failure also names the
worst element.

Everything is deterministic (a fixed seed), so a failing Hypothesis example replays exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from funcgrad.core.arguments import FunctionArgs, name_of
from funcgrad.tree import flatten, unflatten

# Step (times max(1, |x|) per element) and tolerances by the lowest float precision involved.
# The step is near eps ** (1/5), where the O(h^4) truncation error of the extrapolated
# difference meets its O(eps / h) rounding error; float32's is a little smaller than that
# (1e-2, not 4e-2) so that inputs a quarter away from a pole still check cleanly.
DEFAULT_EPS = {np.dtype(np.float64): 1e-3, np.dtype(np.float32): 1e-2}
DEFAULT_RTOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 2e-3}
DEFAULT_ATOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-5}
_SHOW_ELEMENTS = 100  # leaves up to this size get a per-element diagnosis on failure


class GradientCheckError(AssertionError):
    """A derivative disagrees with finite differences (an AssertionError, as pytest likes).

    Example:
        >>> from funcgrad.testing import check_grads
        >>> @fg.custom_vjp
        ... def square(x):
        ...     return x * x
        >>> square.defvjp(lambda x: (x * x, x), lambda x, g: (g * x,))  # forgot the 2
        >>> check_grads(square, (np.array([1.0, 2.0]),))
        Traceback (most recent call last):
            ...
        funcgrad.testing.check.GradientCheckError: check_grads(square): the reverse-mode ...
          with respect to:      argument 0 (x) of square, float64[2]
        ...
    """


def check_grads(f: Callable, args: Sequence, order: int = 1, modes: Sequence[str] = ("rev",),
                atol: float | None = None, rtol: float | None = None, eps: float | None = None,
                *, seed: int = 0) -> None:
    """Check ``f``'s derivatives at ``args`` against finite differences: reverse mode
    (``<vjp(u), v>``), forward mode (``<u, jvp(v)>``), or both (``modes=("fwd", "rev")``).

    ``f(*args)`` may take and return pytrees of arrays; every floating-point leaf of ``args``
    is checked (integer and boolean leaves are held fixed). ``order=2`` also checks the
    derivative of the derivative: the VJP of ``f``, as a function of ``args``, is checked the
    same way (and so on for higher orders; with both modes, every nesting of them: forward
    over reverse, reverse over forward...). ``eps`` is the finite-difference step, scaled by
    ``max(1, |x|)`` per element; ``atol`` and ``rtol`` bound the disagreement. All three default
    by dtype: the lowest precision among the float arguments and outputs decides (float32
    gets a larger step and looser tolerances than float64).

    Raises GradientCheckError (an AssertionError) naming the argument, the direction, the
    finite-difference and reverse-mode numbers and their relative error; it passes silently.

    Example:
        >>> from funcgrad.testing import check_grads
        >>> check_grads(lambda x: fnp.sum(fnp.sin(x) ** 2), (np.array([0.5, 1.0]),), order=2)
        >>> check_grads(fnp.tanh, (np.array([0.5, 1.0]),), order=2, modes=("fwd", "rev"))

    A fuller example, a user's loss property-tested with Hypothesis::

        import numpy as np
        from hypothesis import given, settings
        import funcgrad.numpy as fnp
        from funcgrad.testing import check_grads, strategies as fst

        def loss(params, x, y):
            h = fnp.tanh(x @ params["W"] + params["b"])
            return fnp.mean((h - y) ** 2)

        @settings(max_examples=25, deadline=None)
        @given(fst.arrays(np.float64, (3, 4)), fst.arrays(np.float64, 4),
               fst.arrays(np.float64, (5, 3)), fst.arrays(np.float64, (5, 4)))
        def test_loss_gradients(W, b, x, y):
            check_grads(loss, ({"W": W, "b": b}, x, y), order=2)

    (tests/test_user_loss_example.py runs this example.)
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"check_grads takes the positional arguments as a tuple: "
                        f"check_grads(f, (x,)), not check_grads(f, x); got a "
                        f"{type(args).__name__}")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {mode!r}; use modes=('fwd', 'rev')")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be a positive int, got {order!r}")
    leaves, tree = flatten(tuple(args))
    wrt = [i for i, x in enumerate(leaves) if _is_float(x)]
    if not wrt:
        raise TypeError(f"check_grads({name_of(f)}): no floating-point arguments to check")
    describe = FunctionArgs(f, tuple(args), {}).describe_leaf

    def on_float_leaves(*xs):
        full = list(leaves)
        for i, x in zip(wrt, xs):
            full[i] = x
        return f(*unflatten(tree, full))

    names = [describe(i) for i in wrt]
    _check(on_float_leaves, [leaves[i] for i in wrt], names, order, modes, atol, rtol, eps,
           np.random.default_rng(seed), name_of(f), ())


def _check(fun, xs, names, order, modes, atol, rtol, eps, rng, fname, path):
    """Check ``fun`` in each mode; for higher orders, check the derivative of ``fun`` (its VJP
    for "rev", its JVP for "fwd") the same way. ``path`` lists the modes differentiated
    through so far (for messages)."""
    from funcgrad.api.autodiff import vjp
    from funcgrad.api.forward import jvp
    out, pullback = vjp(fun, *xs)
    out_leaves, out_tree = flatten(out)
    u = [_random_like(y, rng) for y in out_leaves]
    dtype = _working_dtype(list(xs) + out_leaves)
    h = DEFAULT_EPS[dtype] if eps is None else eps
    atol = DEFAULT_ATOL[dtype] if atol is None else atol
    rtol = DEFAULT_RTOL[dtype] if rtol is None else rtol
    cts = pullback(unflatten(out_tree, u)) if "rev" in modes else None
    directions = [rng.standard_normal(np.shape(x)) * np.maximum(1.0, np.abs(
        np.asarray(x, np.float64))) for x in xs]

    def forward(k, v):  # <u, jvp(v)>, v in argument k alone
        tangents = [np.zeros(np.shape(x), np.asarray(x).dtype) for x in xs]
        tangents[k] = np.asarray(v, np.asarray(xs[k]).dtype)
        jv = flatten(jvp(fun, tuple(xs), tuple(tangents))[1])[0]
        return sum(_dot(a, b) for a, b in zip(u, jv) if _is_float(a))

    for k, v in enumerate(directions):
        numeric, noise = _directional(fun, xs, k, v, u, h, fname, names[k], path)
        for mode in modes:
            if mode == "rev":
                analytic, along = _dot(cts[k], v), (lambda e, k=k: _dot(cts[k], e))
            else:
                analytic, along = forward(k, v), (lambda e, k=k: forward(k, e))
            bound = atol + rtol * _scale(numeric, analytic, cts[k] if cts else None, v) + noise
            if not abs(numeric - analytic) <= bound:  # also catches NaN
                raise GradientCheckError(_failure(
                    fun, xs, k, v, u, along, numeric, analytic, atol, rtol, noise, h, fname,
                    names[k], (*path, mode)))
    if order > 1:
        for mode in modes:
            if mode == "rev":
                def derivative(*ys):
                    return vjp(fun, *ys)[1](unflatten(out_tree, u))
            else:
                def derivative(*ys):
                    return jvp(fun, ys, tuple(np.asarray(v, np.asarray(x).dtype)
                                              for x, v in zip(xs, directions)))[1]
            _check(derivative, xs, names, order - 1, modes, atol, rtol, eps, rng, fname,
                   (*path, mode))


def _scale(numeric, analytic, ct, v) -> float:
    """What the disagreement is relative to: the larger of the two numbers, or |vjp(u)| |v|
    when <vjp(u), v> cancels (then rounding in either number is relative to the terms)."""
    if ct is None:  # forward mode only
        return max(abs(numeric), abs(analytic))
    norm = float(np.linalg.norm(np.asarray(ct, np.float64))) * float(np.linalg.norm(v))
    return max(abs(numeric), abs(analytic), norm) if np.isfinite(norm) else abs(numeric)


def _directional(fun, xs, k, v, u, h, fname, name, path):
    """<u, d/dh f(x + h v)> at 0 by Richardson-extrapolated central differences, and the size
    of its rounding error (from the magnitude of the values differenced)."""
    values, magnitude = {}, 0.0
    for step in (h, -h, h / 2, -h / 2):
        ys = list(xs)
        ys[k] = _moved(xs[k], v, step)
        with np.errstate(all="ignore"):  # a non-finite value is reported below, with advice
            out_leaves = flatten(fun(*ys))[0]
        terms = [np.asarray(ui, np.float64) * np.asarray(yi, np.float64)
                 for ui, yi in zip(u, out_leaves)]
        if not all(np.all(np.isfinite(t)) for t in terms):
            raise GradientCheckError(
                f"check_grads({fname}): {_what(path or ('rev',), fname)} is not finite at "
                f"x + {step:g} * v "
                f"(x = {name}), so finite differences cannot check it. Move the arguments away "
                f"from the edge of the function's domain, or pass a smaller eps.")
        values[step] = sum(float(np.sum(t)) for t in terms)
        magnitude = max(magnitude, sum(float(np.sum(np.abs(t))) for t in terms))
    wide = (values[h] - values[-h]) / (2 * h)
    narrow = (values[h / 2] - values[-h / 2]) / h
    return (4 * narrow - wide) / 3, 10 * _output_eps(out_leaves) * magnitude / h


def _moved(x, v, step):
    """x + step * v, in x's own dtype (and type, for Python floats)."""
    moved = np.asarray(x, np.float64) + step * v
    if isinstance(x, float):
        return float(moved)
    return np.asarray(moved, np.asarray(x).dtype)


def _failure(fun, xs, k, v, u, along, numeric, analytic, atol, rtol, noise, h, fname, name,
             path):
    diff = abs(numeric - analytic)
    scale = max(abs(numeric), abs(analytic))
    rel = diff / max(scale, np.finfo(np.float64).tiny)
    mode = "reverse mode:         " if path[-1] == "rev" else "forward mode:         "
    formula = "(<vjp(u), v>)" if path[-1] == "rev" else "(<u, jvp(v)>)"
    lines = [
        f"check_grads({fname}): {_what(path, fname)} disagrees with finite differences",
        f"  with respect to:      {name}, {_describe_array(xs[k])}",
        f"  argument value:       {_show(xs[k])}",
        f"  direction v:          {_show(v)}",
        *([f"  output cotangent u:   {_show_tree(u)}"] if _show_u(u) else []),
        f"  finite differences:   {numeric!r}   (d/dh <u, f(x + h v)>, step {h:g})",
        f"  {mode}{analytic!r}   {formula}",
        f"  difference:           {diff:.3e}, relative error {rel:.3e} (relative to "
        f"{scale:.3e}, the larger of the numbers and |vjp(u)| |v|); allowed {atol:g} + "
        f"{rtol:g} * that + {noise:.1e} (rounding)",
    ]
    if np.size(xs[k]) <= _SHOW_ELEMENTS and np.ndim(xs[k]) > 0:
        lines.append(_worst_element(fun, xs, k, u, along, h, fname, name, path))
    return "\n".join(lines)


def _worst_element(fun, xs, k, u, along, h, fname, name, path):
    """Which element of the argument the derivative is most wrong for (``along(e)``: the
    derivative being checked, in direction e)."""
    worst = None
    for index in np.ndindex(np.shape(xs[k])):
        e = np.zeros(np.shape(xs[k]))
        e[index] = max(1.0, abs(float(np.asarray(xs[k])[index])))
        numeric, _ = _directional(fun, xs, k, e, u, h, fname, name, path)
        analytic = along(e)
        if worst is None or abs(numeric - analytic) > worst[0]:
            worst = (abs(numeric - analytic), index, float(numeric / e[index]),
                     float(analytic / e[index]))
    _, index, numeric, analytic = worst
    mode = "reverse" if path[-1] == "rev" else "forward"
    return (f"  worst element:        {list(index)}: finite differences {numeric!r}, {mode} "
            f"mode {analytic!r} (derivatives of <u, f> with respect to that element)")


_MODE_NAMES = {"rev": "reverse", "fwd": "forward"}


def _what(path, fname):
    """What is checked, from the modes nested (innermost first): 'the reverse-mode derivative
    of f', or 'the derivative of order 2 of f (forward mode over reverse mode)'."""
    if len(path) <= 1:
        return f"the {_MODE_NAMES[path[0] if path else 'rev']}-mode derivative of {fname}"
    if set(path) == {"rev"}:
        return f"the derivative of order {len(path)} of {fname} (reverse mode over its VJP)"
    modes = " over ".join(f"{_MODE_NAMES[m]} mode" for m in reversed(path))
    return f"the derivative of order {len(path)} of {fname} ({modes})"


def numerical_grad(f: Callable, args: Sequence, eps: float | None = None):
    """The gradient of a scalar function by finite differences, one element at a time.

    Returns a tuple with one entry per argument, each shaped like that argument (pytrees
    included); leaves that are not floating-point get None. Uses the same
    Richardson-extrapolated central differences as ``check_grads``, so expect about 10
    correct digits in float64. Costs four evaluations of ``f`` per element: for small inputs.

    Example:
        >>> import numpy as np, funcgrad.numpy as fnp
        >>> from funcgrad.testing import numerical_grad
        >>> (g,) = numerical_grad(lambda x: fnp.sum(x ** 3), (np.array([1.0, 2.0]),))
        >>> np.round(g, 6)
        array([ 3., 12.])
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError("numerical_grad takes the positional arguments as a tuple: "
                        "numerical_grad(f, (x,))")
    leaves, tree = flatten(tuple(args))
    out = f(*args)
    if np.ndim(out) != 0 or not _is_float(out):
        raise TypeError(f"numerical_grad({name_of(f)}) needs a float scalar output, got "
                        f"{type(out).__name__} of shape {np.shape(out)}")
    dtype = _working_dtype([x for x in leaves if _is_float(x)] + [out])
    h = DEFAULT_EPS[dtype] if eps is None else eps

    def value(i, index, step):
        full = list(leaves)
        x = np.array(leaves[i], np.float64)
        x[index] += step
        full[i] = (float(x) if isinstance(leaves[i], float)
                   else x.astype(np.asarray(leaves[i]).dtype))
        return float(f(*unflatten(tree, full)))

    grads: list = []
    for i, x in enumerate(leaves):
        if not _is_float(x):
            grads.append(None)
            continue
        g = np.zeros(np.shape(x))
        for index in np.ndindex(np.shape(x)):
            s = h * max(1.0, abs(float(np.asarray(x)[index])))
            wide = (value(i, index, s) - value(i, index, -s)) / (2 * s)
            narrow = (value(i, index, s / 2) - value(i, index, -s / 2)) / s
            g[index] = (4 * narrow - wide) / 3
        grads.append(float(g) if isinstance(x, float) else g.astype(np.asarray(x).dtype))
    return tuple(unflatten(tree, grads))


# ---------------------------------------------------------------------------------------


def _is_float(x) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype.kind == "f" if dtype is not None else isinstance(x, float)


def _output_eps(out_leaves) -> float:
    return max([float(np.finfo(np.asarray(y).dtype).eps) for y in out_leaves if _is_float(y)],
               default=float(np.finfo(np.float64).eps))


def _working_dtype(values) -> np.dtype:
    """float32 if any float value is float32 (or lower), else float64."""
    for x in values:
        if _is_float(x) and np.asarray(x).dtype.itemsize < 8:
            return np.dtype(np.float32)
    return np.dtype(np.float64)


def _random_like(y, rng):
    if not _is_float(y):
        return np.zeros(np.shape(y), np.asarray(y).dtype)
    return np.asarray(rng.standard_normal(np.shape(y)), np.asarray(y).dtype)


def _dot(a, b) -> float:
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


def _describe_array(x) -> str:
    a = np.asarray(x)
    return f"{a.dtype.name}{list(a.shape)}"


def _show_u(u) -> bool:
    """Whether u is worth showing: it is, unless the output is a single scalar."""
    return len(u) != 1 or np.ndim(u[0]) != 0


def _show_tree(u) -> str:
    return "; ".join(_show(x) for x in u)


def _show(x) -> str:
    text = np.array2string(np.asarray(x), precision=6, threshold=20, edgeitems=3,
                           max_line_width=70)
    return text.replace("\n", "\n" + " " * 24)
