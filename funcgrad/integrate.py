"""Integrating ordinary differential equations: ``odeint``, with JAX's signature
(``jax.experimental.ode.odeint``).

An adaptive Dormand-Prince 5(4) Runge-Kutta method, written with ``lax.scan`` over the output
times and ``lax.while_loop`` over the steps between them: it traces once, compiles into loops,
and differentiates in every mode. Reverse mode goes through the ``while_loop`` (which JAX's
cannot): the gradient is that of the computed solution, with the step sizes the forward pass
chose held fixed (they are chosen from error estimates, which are not differentiated), so it
agrees with the exact sensitivity to about the integration tolerance.

Example:
    >>> import numpy as np, funcgrad as fg
    >>> from funcgrad.integrate import odeint
    >>> ys = odeint(lambda y, t, k: -k * y, np.array([1.0]), np.array([0.0, 1.0]), 2.0)
    >>> bool(np.allclose(ys[-1], np.exp(-2.0)))
    True
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import lax, tree
from funcgrad.core.errors import FuncgradValueError as _ValueError
from funcgrad.core.tracing import Tracer as _Tracer
from funcgrad.flatten_util import ravel_pytree as _ravel_pytree

__all__ = ["odeint"]

# Dormand and Prince's coefficients: nodes c, stages a, the 5th-order weights b and the
# difference between them and the embedded 4th-order ones (the error estimate)
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = ((),
      (1 / 5,),
      (3 / 40, 9 / 40),
      (44 / 45, -56 / 15, 32 / 9),
      (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
      (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
      (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84))
_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_B_ERROR = (35 / 384 - 5179 / 57600, 0.0, 500 / 1113 - 7571 / 16695, 125 / 192 - 393 / 640,
            -2187 / 6784 + 92097 / 339200, 11 / 84 - 187 / 2100, -1 / 40)


def odeint(func, y0, t, *args, rtol: float = 1.4e-8, atol: float = 1.4e-8,
           mxstep: int = 10_000, hmax: float = np.inf):
    """The solution of dy/dt = func(y, t, *args) with y(t[0]) = y0, at each time of the
    array ``t``: an array (or pytree) with a leading axis of len(t). ``y0`` may be an array
    or a pytree of arrays; ``args`` are passed to ``func`` and may be differentiated.
    Steps adapt to keep the local error below ``atol + rtol * |y|``, and are at most
    ``hmax`` long (as JAX's, to resolve features a large step would step over).

    Times may increase or, as in SciPy's odeint, decrease (integrating backwards; JAX's
    needs them increasing). Where no solution was computed the result is NaN, never the
    state at another time: from the first time reached only after more than ``mxstep``
    steps (JAX's stops there and returns that state), or once the state or the rate is NaN;
    and from where traced times turn back (times known when odeint is called that turn back
    are an error).

    Example:
        >>> from funcgrad.integrate import odeint
        >>> def pendulum(state, t):
        ...     angle, speed = state[0], state[1]
        ...     return fnp.stack([speed, -fnp.sin(angle)])
        >>> ys = odeint(pendulum, np.array([1.0, 0.0]), np.linspace(0.0, 1.0, 3))
        >>> ys.shape
        (3, 2)
        >>> def angle_at_1(a):
        ...     return odeint(pendulum, fnp.stack([a, 0.0]), np.array([0.0, 1.0]))[-1, 0]
        >>> round(float(fg.grad(angle_at_1)(1.0)), 6)   # d angle(1) / d angle(0)
        0.717946
    """
    if not hmax > 0:   # (a step of 0 would never reach the next time)
        raise _ValueError(f"odeint: hmax, the longest step, must be positive, not {hmax}")
    flat0, unravel = _ravel_pytree(y0)
    dtype = np.result_type(flat0.dtype, np.float32)
    t = fnp.astype(fnp.asarray(t), dtype)
    if fnp.ndim(t) != 1 or fnp.shape(t)[0] < 1:
        raise _ValueError(f"odeint: t must be a 1-D array of output times, got shape "
                                 f"{fnp.shape(t)}")
    # decreasing times: integrate dy/ds = -func(y, -s) over the increasing s = -t
    direction = _direction(t)
    s = direction * t

    def rate(y, time):
        flat, _ = _ravel_pytree(func(unravel(y), direction * time, *args))
        return direction * fnp.astype(flat, dtype)

    y_start = fnp.astype(flat0, dtype)
    h_start = _initial_step(rate, y_start, s, rtol, atol)

    def to_next_time(carry, target):
        y, time, h = carry

        def going(state):  # (a NaN state or step size is never accepted: stop at once)
            y, now, h, steps = state
            return (now < target) & (steps < mxstep) & fnp.isfinite(h) \
                & fnp.all(fnp.isfinite(y))

        def step(state):
            y, now, h, steps = state
            h_used = fnp.minimum(fnp.minimum(h, hmax), target - now)
            y_new, error = _dormand_prince(rate, y, now, h_used)
            scale = atol + rtol * fnp.maximum(fnp.abs(y), fnp.abs(y_new))
            ratio = lax.stop_gradient(fnp.sqrt(fnp.mean((error / scale) ** 2)))
            accept = ratio <= 1.0
            factor = fnp.clip(0.9 * fnp.where(ratio == 0, 1e-10, ratio) ** -0.2, 0.2, 10.0)
            return (fnp.where(accept, y_new, y), fnp.where(accept, now + h_used, now),
                    lax.stop_gradient(h_used * factor), steps + 1)

        y, now, h, _ = lax.while_loop(going, step, (y, time, h, 0))
        # not reached (too many steps, a NaN), or the times turned back: no solution there
        y = fnp.where((now >= target) & (target >= time), y, np.nan)
        return (y, now, h), y

    _, ys = lax.scan(to_next_time, (y_start, s[0], h_start), s[1:])
    rows = fnp.concatenate([y_start[None], ys]) if fnp.shape(t)[0] > 1 else y_start[None]
    return _unstack(y0, rows)


def _direction(t):
    """1 for increasing times, -1 for decreasing ones (a number when ``t`` is known; else
    chosen when the program runs, by the first and last times)."""
    if isinstance(t, _Tracer):
        return fnp.where(t[-1] < t[0], -1.0, 1.0).astype(t.dtype)
    steps = np.diff(t)
    if (steps >= 0).all():
        return 1.0
    if (steps <= 0).all():
        return -1.0
    first = np.sign(steps[steps != 0][0])
    turn = int(np.flatnonzero(np.sign(steps) == -first)[0]) + 1
    raise _ValueError(f"odeint: the times t must be increasing or decreasing, but they turn "
                      f"back at t[{turn}] = {t[turn]} (after t[{turn - 1}] = {t[turn - 1]})")


def _unstack(y0, rows):
    """The pytree shaped like ``y0`` whose leaves have a leading axis of the rows: row k of
    ``rows`` is y0's leaves raveled and concatenated, at time k."""
    leaves, treedef = tree.flatten(y0)
    parts, start = [], 0
    for leaf in leaves:
        shape, size = np.shape(leaf), int(np.size(leaf))
        part = fnp.reshape(rows[:, start:start + size], (fnp.shape(rows)[0], *shape))
        parts.append(fnp.astype(part, np.result_type(fnp.asarray(leaf).dtype, np.float32)))
        start += size
    return tree.unflatten(treedef, parts)


def _dormand_prince(rate, y, time, h):
    """One Dormand-Prince step: the 5th-order solution and its error estimate."""
    stages = []
    for c, row in zip(_C, _A):
        increment = sum((a * k for a, k in zip(row, stages) if a), start=fnp.zeros_like(y))
        stages.append(rate(y + h * increment, time + c * h))
    y_new = y + h * sum(b * k for b, k in zip(_B, stages) if b)
    error = h * sum(e * k for e, k in zip(_B_ERROR, stages) if e)
    return y_new, error


def _initial_step(rate, y, t, rtol, atol):
    """A first step from the size of the rate (Hairer, Norsett and Wanner's rule), held fixed
    to differentiation."""
    if fnp.shape(t)[0] < 2:
        return fnp.asarray(1.0, y.dtype)
    scale = atol + rtol * fnp.abs(y)
    d0 = fnp.sqrt(fnp.mean((y / scale) ** 2))
    d1 = fnp.sqrt(fnp.mean((rate(y, t[0]) / scale) ** 2))
    small = fnp.logical_or(d0 < 1e-5, d1 < 1e-5)   # (then d1 may be 0: 0 / 0 warned)
    guess = fnp.where(small, 1e-6, 0.01 * d0 / fnp.where(small, 1.0, d1))
    return lax.stop_gradient(fnp.minimum(guess, t[-1] - t[0]))
