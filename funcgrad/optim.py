"""Optimizers in optax's shape: pure ``init``/``update`` functions over pytrees, chainable.

A ``GradientTransformation`` is a pair of pure functions::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = fg.optim.apply_updates(params, updates)

Nothing is mutated and every state is a pytree of arrays (the step count included), so a
whole training step (loss, gradient, update) traces into one program and ``fg.jit`` compiles
it to one Numba function. ``chain`` composes transformations left to right; the optimizers
below are chains of the ``scale_by_*`` building blocks, with the learning rate last (a
number, or a *schedule*: a function of the step count, traced like the rest).

Plain gradient descent, the lecture's theta <- theta - eta grad L, is ``sgd(eta)``.

Example:
    >>> opt = fg.optim.adam(0.1)
    >>> params = {"w": np.ones(2)}
    >>> state = opt.init(params)
    >>> updates, state = opt.update({"w": np.array([1.0, -1.0])}, state, params)
    >>> fg.optim.apply_updates(params, updates)["w"]
    array([0.9, 1.1])
"""

from __future__ import annotations

import math
from collections.abc import Callable as _Callable
from typing import NamedTuple as _NamedTuple

import numpy as np
import optree as _optree

import funcgrad.numpy as fnp
from funcgrad import nn as _nn
from funcgrad import tree
from funcgrad.core.errors import FuncgradTypeError as _FuncgradTypeError
from funcgrad.core.errors import FuncgradValueError as _FuncgradValueError
from funcgrad.core.errors import ShapeError as _ShapeError

__all__ = [
    "GradientTransformation",
    "clip",
    "huber_loss",
    "identity",
    "join_schedules",
    "l2_loss",
    "piecewise_constant_schedule",
    "polynomial_schedule",
    "scale_by_schedule",
    "scale_by_stddev",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "squared_error",
    "adagrad",
    "adam",
    "adamw",
    "add_decayed_weights",
    "apply_updates",
    "chain",
    "clip_by_global_norm",
    "constant_schedule",
    "cosine_decay_schedule",
    "exponential_decay",
    "global_norm",
    "lamb",
    "linear_schedule",
    "lion",
    "masked",
    "nadam",
    "rmsprop",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_lion",
    "scale_by_rms",
    "scale_by_trust_ratio",
    "sgd",
    "trace",
    "warmup_cosine_decay_schedule",
]


class GradientTransformation(_NamedTuple):
    """``init(params) -> state`` and ``update(updates, state, params=None) -> (updates,
    state)``, both pure.

    Example:
        >>> opt = fg.optim.sgd(0.5)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
        array([-1.])
    """
    init: _Callable
    update: _Callable


class EmptyState(_NamedTuple):
    pass


def _zeros_like(params):
    return tree.map(lambda p: fnp.zeros_like(p), params)


def _count():
    return np.zeros((), np.int64)


def _times(factor, g):
    """``factor * g`` in g's dtype, as optax casts it: a schedule's value or a bias
    correction is a float64 number, which would make float32 updates float64."""
    g = fnp.asarray(g)
    if g.dtype.kind != "f":
        return factor * g
    return fnp.astype(factor, g.dtype) * g


_STATE = "optimizer state (made by init(params))"


def _with_updates(fn, updates, other, name: str = _STATE, where: str = "update"):
    """``tree.map(fn, updates, other)``, for ``other`` the state's moments or the params,
    checking that the updates have its structure and shapes: optree's error names neither,
    and NumPy would broadcast a gradient of another shape into the state and the params
    without a word. (As cheap as tree.map: one flatten of each.)"""
    u_leaves, u_tree = tree.flatten(updates)
    o_leaves, o_tree = tree.flatten(other)
    if u_tree != o_tree:
        raise _FuncgradTypeError(f"{where}: the updates (gradients) have structure {u_tree}, "
                                 f"not that of the {name}, {o_tree}; {_NEEDS[where]}")
    for k, (u, o) in enumerate(zip(u_leaves, o_leaves)):
        if np.shape(u) != np.shape(o):
            path = _optree.tree_flatten_with_path(updates, namespace=tree.NAMESPACE)[0][k]
            raise _ShapeError(f"{where}: the updates (gradients) at "
                              f"{''.join(f'[{key!r}]' for key in path)} have shape "
                              f"{np.shape(u)}, not that of the {name}, {np.shape(o)}; "
                              f"{_NEEDS[where]}")
    return tree.unflatten(u_tree, [fn(u, o) for u, o in zip(u_leaves, o_leaves)])


_NEEDS = {"update": "update(grads, state, params) needs gradients of the params given to init",
          "apply_updates": "apply_updates(params, updates) needs updates shaped like params"}


def apply_updates(params, updates):
    """``params + updates``, leaf by leaf (keeping each parameter's dtype).

    Example:
        >>> fg.optim.apply_updates({"b": np.ones(2)}, {"b": np.array([0.5, -0.5])})
        {'b': array([1.5, 0.5])}
    """
    return _with_updates(lambda u, p: fnp.astype(p + u, fnp.asarray(p).dtype), updates, params,
                         "params", "apply_updates")


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after the other; the state is the tuple of their states.

    Example:
        >>> opt = fg.optim.chain(fg.optim.clip_by_global_norm(1.0), fg.optim.sgd(1.0))
        >>> opt.update(np.array([3.0, 4.0]), opt.init(np.zeros(2)))[0]
        array([-0.6, -0.8])
    """
    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)
    return GradientTransformation(init, update)


# --- schedules ----------------------------------------------------------------------------

def _step(count):
    return fnp.astype(count, np.float64)


def constant_schedule(value) -> _Callable:
    """The same value at every step.

    Example:
        >>> fg.optim.constant_schedule(0.1)(5)
        0.1
    """
    return lambda count: value


def exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0,
                      staircase=False, end_value=None) -> _Callable:
    """init_value * decay_rate ** ((step - transition_begin) / transition_steps), clipped at
    ``end_value``; ``staircase`` decays in whole steps.

    Example:
        >>> float(fg.optim.exponential_decay(1.0, 10, 0.5)(20))
        0.25
    """
    if transition_steps <= 0:   # optax's rule (dividing by it gave nan)
        return constant_schedule(init_value)

    def schedule(count):
        t = fnp.maximum(_step(count) - transition_begin, 0.0) / transition_steps
        if staircase:
            t = fnp.floor(t)
        value = init_value * fnp.power(decay_rate, t)
        if end_value is not None:
            bound = fnp.maximum if decay_rate < 1 else fnp.minimum
            value = bound(value, end_value)
        return value
    return schedule


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0) -> _Callable:
    """From init_value down to alpha * init_value along half a cosine (raised to
    ``exponent``) over ``decay_steps``, which must be positive (as in optax).

    Example:
        >>> float(fg.optim.cosine_decay_schedule(1.0, 100)(50))
        0.5
    """
    if not decay_steps > 0:
        raise _FuncgradValueError(f"cosine_decay_schedule needs positive decay_steps, not "
                                  f"{decay_steps}")

    def schedule(count):
        t = fnp.minimum(_step(count), decay_steps) / decay_steps
        cosine = 0.5 * (1.0 + fnp.cos(math.pi * t))
        return init_value * ((1.0 - alpha) * cosine ** exponent + alpha)
    return schedule


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0) -> _Callable:
    """From init_value to end_value in a straight line over ``transition_steps``.

    Example:
        >>> float(fg.optim.linear_schedule(0.0, 1.0, 10)(5))
        0.5
    """
    if transition_steps <= 0:   # optax's rule (dividing by it gave nan)
        return constant_schedule(init_value)

    def schedule(count):
        t = fnp.clip((_step(count) - transition_begin) / transition_steps, 0.0, 1.0)
        return init_value + (end_value - init_value) * t
    return schedule


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps,
                                 end_value=0.0, exponent=1.0) -> _Callable:
    """A linear warmup from init_value to peak_value over ``warmup_steps``, then a cosine
    decay to end_value at ``decay_steps`` (counted from the start, as in optax: it must be
    after the warmup).

    Example:
        >>> s = fg.optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110)
        >>> float(s(5)), float(s(10)), float(s(110))
        (0.5, 1.0, 0.0)
    """
    warmup = linear_schedule(init_value, peak_value, warmup_steps)
    decay = cosine_decay_schedule(peak_value - end_value, decay_steps - warmup_steps,
                                  exponent=exponent)

    def schedule(count):
        after = decay(fnp.maximum(_step(count) - warmup_steps, 0.0)) + end_value
        return fnp.where(_step(count) < warmup_steps, warmup(count), after)
    return schedule


def polynomial_schedule(init_value, end_value, power, transition_steps,
                        transition_begin=0) -> _Callable:
    """From init_value to end_value along (1 - t)^power, t going 0 to 1 over
    ``transition_steps`` after ``transition_begin``.

    Example:
        >>> float(fg.optim.polynomial_schedule(1.0, 0.0, 2, 10)(5))
        0.25
    """
    if transition_steps <= 0:   # optax's rule (dividing by it gave nan)
        return constant_schedule(init_value)

    def schedule(count):
        t = fnp.clip((_step(count) - transition_begin) / transition_steps, 0.0, 1.0)
        return (init_value - end_value) * (1.0 - t) ** power + end_value
    return schedule


def piecewise_constant_schedule(init_value, boundaries_and_scales=None) -> _Callable:
    """init_value, multiplied by each ``{step: scale}`` once the step passes it.

    Example:
        >>> s = fg.optim.piecewise_constant_schedule(1.0, {10: 0.1, 20: 0.5})
        >>> float(s(5)), float(s(15)), float(s(25))
        (1.0, 0.1, 0.05)
    """
    boundaries = sorted((boundaries_and_scales or {}).items())

    def schedule(count):
        value = fnp.asarray(float(init_value))
        for boundary, factor in boundaries:
            value = fnp.where(_step(count) >= boundary, value * factor, value)
        return value
    return schedule


def join_schedules(schedules, boundaries) -> _Callable:
    """``schedules[i]`` from ``boundaries[i - 1]`` on, each counting steps from its own
    start.

    Example:
        >>> s = fg.optim.join_schedules([fg.optim.constant_schedule(1.0),
        ...                              fg.optim.linear_schedule(1.0, 0.0, 10)], [5])
        >>> float(s(2)), float(s(10))
        (1.0, 0.5)
    """
    def schedule(count):
        value = schedules[0](count)
        for boundary, later in zip(boundaries, schedules[1:]):
            value = fnp.where(_step(count) >= boundary, later(_step(count) - boundary), value)
        return value
    return schedule


# --- building blocks ----------------------------------------------------------------------

def identity() -> GradientTransformation:
    """The updates unchanged.

    Example:
        >>> fg.optim.identity().update(np.ones(2), None)[0]
        array([1., 1.])
    """
    return GradientTransformation(lambda params: EmptyState(),
                                  lambda u, state, params=None: (u, state))


def scale_by_schedule(step_size_fn) -> GradientTransformation:
    """Multiply the updates by ``step_size_fn(step)`` (no sign change: optax's).

    Example:
        >>> opt = fg.optim.scale_by_schedule(lambda step: 2.0 ** step)
        >>> u, s = opt.update(np.ones(1), opt.init(np.ones(1)))
        >>> opt.update(np.ones(1), s)[0]
        array([2.])
    """
    def update(updates, state, params=None):
        factor = step_size_fn(state.count)
        return (tree.map(lambda g: _times(factor, g), updates),
                ScaleByScheduleState(state.count + 1))
    return GradientTransformation(lambda params: ScaleByScheduleState(_count()), update)


def masked(inner, mask) -> GradientTransformation:
    """``inner`` applied to the leaves where ``mask`` is True, the others passed through
    unchanged. ``mask`` is a pytree of bools shaped like the params, or a function of them
    (of the updates, in ``update``) giving one.

    Example:
        >>> opt = fg.optim.masked(fg.optim.scale(0.0), {"w": True, "b": False})
        >>> opt.update({"w": np.ones(1), "b": np.ones(1)}, opt.init(None))[0]
        {'w': array([0.]), 'b': array([1.])}
    """
    def mask_for(tree_):
        return mask(tree_) if callable(mask) else mask

    def update(updates, state, params=None):
        new, state = inner.update(updates, state, params)
        chosen = tree.map(lambda keep, n, u: n if keep else u, mask_for(updates), new, updates)
        return chosen, state
    return GradientTransformation(inner.init, update)


def clip(max_delta) -> GradientTransformation:
    """Clip each update element to [-max_delta, max_delta].

    Example:
        >>> fg.optim.clip(1.0).update(np.array([-3.0, 0.5]), None)[0]
        array([-1. ,  0.5])
    """
    return GradientTransformation(lambda params: EmptyState(),
                                  lambda u, state, params=None:
                                  (tree.map(lambda g: fnp.clip(g, -max_delta, max_delta), u),
                                   state))


class ScaleByScheduleState(_NamedTuple):
    count: object  # type: ignore[assignment]  # optax's name; it shadows tuple.count


def scale(factor) -> GradientTransformation:
    """Multiply the updates by ``factor``.

    Example:
        >>> fg.optim.scale(-2.0).update(np.ones(2), None)[0]
        array([-2., -2.])
    """
    return GradientTransformation(lambda params: EmptyState(),
                                  lambda u, state, params=None:
                                  (tree.map(lambda g: factor * g, u), state))


def scale_by_learning_rate(learning_rate) -> GradientTransformation:
    """Multiply by -learning_rate (a number, or a schedule of the step count): descent.

    Example:
        >>> opt = fg.optim.scale_by_learning_rate(0.1)
        >>> opt.update(np.ones(1), opt.init(np.ones(1)))[0]
        array([-0.1])
    """
    if not callable(learning_rate):
        if not isinstance(learning_rate, (int, float, np.floating, np.integer)):
            raise _FuncgradTypeError(f"a learning rate is a number or a schedule (a function "
                                    f"of the step), not {type(learning_rate).__name__}")
        return scale(-float(learning_rate))

    def update(updates, state, params=None):
        rate = learning_rate(state.count)
        return (tree.map(lambda g: _times(-rate, g), updates),
                ScaleByScheduleState(state.count + 1))
    return GradientTransformation(lambda params: ScaleByScheduleState(_count()), update)


class TraceState(_NamedTuple):
    trace: object


def trace(decay, nesterov=False) -> GradientTransformation:
    """Momentum: t <- g + decay * t; the update is t (or g + decay * t with ``nesterov``).

    Example:
        >>> opt = fg.optim.trace(0.9)
        >>> u, s = opt.update(np.ones(1), opt.init(np.zeros(1)))
        >>> opt.update(np.ones(1), s)[0]
        array([1.9])
    """
    def update(updates, state, params=None):
        new = _with_updates(lambda g, t: g + decay * t, updates, state.trace)
        out = tree.map(lambda g, t: g + decay * t, updates, new) if nesterov else new
        return out, TraceState(new)
    return GradientTransformation(lambda params: TraceState(_zeros_like(params)), update)


class ScaleByAdamState(_NamedTuple):
    count: object  # type: ignore[assignment]  # optax's name; it shadows tuple.count
    mu: object
    nu: object


def _moment(updates, moments, decay, power):
    return _with_updates(lambda g, m: (1 - decay) * (g ** power) + decay * m, updates, moments)


def _debias(moment, decay, count):
    correction = 1.0 - fnp.power(decay, _step(count))
    return tree.map(lambda m: _times(1.0 / correction, m), moment)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None, *,
                  nesterov=False) -> GradientTransformation:
    """Adam's direction (Kingma and Ba 2015): m_hat / (sqrt(v_hat + eps_root) + eps), with
    bias-corrected running means of g and g**2. ``nesterov`` gives NAdam's (Dozat 2016, as
    optax): m_hat = b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t). ``mu_dtype`` is the
    dtype the first moment is kept in (by default the params').

    Example:
        >>> opt = fg.optim.scale_by_adam()
        >>> opt.update(np.array([2.0, -3.0]), opt.init(np.zeros(2)))[0].round(6)
        array([ 1., -1.])
    """
    def cast(tree_):
        return tree_ if mu_dtype is None else tree.map(lambda m: fnp.astype(m, mu_dtype), tree_)

    def init(params):
        return ScaleByAdamState(_count(), cast(_zeros_like(params)), _zeros_like(params))

    def update(updates, state, params=None):
        mu = _moment(updates, state.mu, b1, 1)
        nu = _moment(updates, state.nu, b2, 2)
        count = state.count + 1
        if nesterov:
            mu_hat = tree.map(lambda m, g: b1 * m + (1 - b1) * g, _debias(mu, b1, count + 1),
                              _debias(updates, b1, count))
        else:
            mu_hat = _debias(mu, b1, count)
        nu_hat = _debias(nu, b2, count)
        out = tree.map(lambda m, v: m / (fnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
        return out, ScaleByAdamState(count, cast(mu), nu)
    return GradientTransformation(init, update)


class ScaleByRmsState(_NamedTuple):
    nu: object


class ScaleByRmsWithCountState(_NamedTuple):
    count: object  # type: ignore[assignment]  # optax's name; it shadows tuple.count
    nu: object


class ScaleByRStdDevState(_NamedTuple):
    mu: object
    nu: object


class ScaleByRStdDevWithCountState(_NamedTuple):
    count: object  # type: ignore[assignment]  # optax's name; it shadows tuple.count
    mu: object
    nu: object


def _rescale(g, v, eps, eps_in_sqrt):
    """g / sqrt(v + eps) (optax's default), or g / (sqrt(v) + eps) (PyTorch's)."""
    return g / fnp.sqrt(v + eps) if eps_in_sqrt else g / (fnp.sqrt(v) + eps)


def scale_by_rms(decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True,
                 bias_correction=False) -> GradientTransformation:
    """RMSProp's direction, as optax's: g / sqrt(v + eps), v a running mean of g**2 (from
    ``initial_scale``); ``eps_in_sqrt=False`` gives PyTorch's g / (sqrt(v) + eps), and
    ``bias_correction`` divides v by 1 - decay^t as Adam does.

    Example:
        >>> opt = fg.optim.scale_by_rms()
        >>> opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0].round(4)
        array([3.1623])
    """
    def init(params):
        nu = tree.map(lambda p: fnp.full_like(p, initial_scale), params)
        return ScaleByRmsWithCountState(_count(), nu) if bias_correction else ScaleByRmsState(nu)

    def update(updates, state, params=None):
        nu = _moment(updates, state.nu, decay, 2)
        if not bias_correction:
            return (tree.map(lambda g, v: _rescale(g, v, eps, eps_in_sqrt), updates, nu),
                    ScaleByRmsState(nu))
        count = state.count + 1
        out = tree.map(lambda g, v: _rescale(g, v, eps, eps_in_sqrt), updates,
                       _debias(nu, decay, count))
        return out, ScaleByRmsWithCountState(count, nu)
    return GradientTransformation(init, update)


def scale_by_stddev(decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True,
                    bias_correction=False) -> GradientTransformation:
    """Centered RMSProp's direction (Graves 2013), as optax's: g / sqrt(v - m^2 + eps), m
    and v running means of g and g**2 (the variance of the gradients, not their mean
    square); ``eps_in_sqrt`` and ``bias_correction`` as in ``scale_by_rms``.

    Example:
        >>> opt = fg.optim.scale_by_stddev()
        >>> opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0].round(4)
        array([3.3333])
    """
    def init(params):
        mu, nu = _zeros_like(params), tree.map(lambda p: fnp.full_like(p, initial_scale), params)
        if bias_correction:
            return ScaleByRStdDevWithCountState(_count(), mu, nu)
        return ScaleByRStdDevState(mu, nu)

    def update(updates, state, params=None):
        mu = _moment(updates, state.mu, decay, 1)
        nu = _moment(updates, state.nu, decay, 2)
        count = state.count + 1 if bias_correction else None
        mu_hat, nu_hat = ((_debias(mu, decay, count), _debias(nu, decay, count))
                          if bias_correction else (mu, nu))
        out = tree.map(lambda g, m, v: _rescale(g, v - m * m, eps, eps_in_sqrt),
                       updates, mu_hat, nu_hat)
        if bias_correction:
            return out, ScaleByRStdDevWithCountState(count, mu, nu)
        return out, ScaleByRStdDevState(mu, nu)
    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay=0.0) -> GradientTransformation:
    """Add weight_decay * params to the updates (decoupled weight decay, as in AdamW).

    Example:
        >>> fg.optim.add_decayed_weights(0.1).update(np.zeros(1), None, np.ones(1))[0]
        array([0.1])
    """
    def update(updates, state, params=None):
        if params is None:
            raise _FuncgradTypeError("add_decayed_weights needs params: "
                                    "opt.update(grads, state, params)")
        return _with_updates(lambda g, p: g + weight_decay * p, updates, params, "params"), state
    return GradientTransformation(lambda params: EmptyState(), update)


def global_norm(updates):
    """The Euclidean norm of all the leaves together.

    Example:
        >>> float(fg.optim.global_norm({"a": np.array([3.0]), "b": np.array([4.0])}))
        5.0
    """
    return fnp.sqrt(sum(fnp.sum(g * g) for g in tree.leaves(updates)))


def clip_by_global_norm(max_norm) -> GradientTransformation:
    """Scale the updates down so that their global norm is at most ``max_norm``.

    Example:
        >>> fg.optim.clip_by_global_norm(1.0).update(np.array([3.0, 4.0]), None)[0]
        array([0.6, 0.8])
    """
    def update(updates, state, params=None):
        norm = global_norm(updates)
        factor = fnp.where(norm < max_norm, 1.0, max_norm / fnp.maximum(norm, 1e-300))
        return tree.map(lambda g: g * factor, updates), state
    return GradientTransformation(lambda params: EmptyState(), update)


class ScaleByLionState(_NamedTuple):
    mu: object


def scale_by_lion(b1=0.9, b2=0.99) -> GradientTransformation:
    """Lion's direction (Chen et al. 2023): sign(b1 m + (1 - b1) g); m <- b2 m + (1 - b2) g.

    Example:
        >>> opt = fg.optim.scale_by_lion()
        >>> opt.update(np.array([0.3, -2.0]), opt.init(np.zeros(2)))[0]
        array([ 1., -1.])
    """
    def update(updates, state, params=None):
        out = _with_updates(lambda g, m: fnp.sign((1 - b1) * g + b1 * m), updates, state.mu)
        mu = tree.map(lambda g, m: (1 - b2) * g + b2 * m, updates, state.mu)
        return out, ScaleByLionState(mu)
    return GradientTransformation(lambda params: ScaleByLionState(_zeros_like(params)), update)


class ScaleByTrustRatioState(_NamedTuple):
    pass


def scale_by_trust_ratio(eps=0.0) -> GradientTransformation:
    """LAMB's layer-wise scaling: each update times ||param|| / ||update|| (1 where either is
    zero).

    Example:
        >>> fg.optim.scale_by_trust_ratio().update(np.array([1.0]), None, np.array([4.0]))[0]
        array([4.])
    """
    def ratio(u, p):
        p_norm, u_norm = fnp.sqrt(fnp.sum(p * p)), fnp.sqrt(fnp.sum(u * u))
        safe = fnp.where((p_norm > 0) & (u_norm > 0), p_norm / fnp.maximum(u_norm + eps, 1e-300),
                         1.0)
        return u * safe

    def update(updates, state, params=None):
        return _with_updates(ratio, updates, params, "params"), state
    return GradientTransformation(lambda params: ScaleByTrustRatioState(), update)


# --- optimizers ---------------------------------------------------------------------------

def sgd(learning_rate, momentum=None, nesterov=False) -> GradientTransformation:
    """Stochastic gradient descent, theta <- theta - learning_rate * g, with optional
    (Nesterov) momentum.

    Example:
        >>> opt = fg.optim.sgd(0.1)
        >>> opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0]
        array([-0.1])
    """
    if momentum is None:
        return chain(scale_by_learning_rate(learning_rate))
    return chain(trace(momentum, nesterov), scale_by_learning_rate(learning_rate))


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None, *,
         nesterov=False) -> GradientTransformation:
    """Adam: bias-corrected first and second moments of the gradient (NAdam with
    ``nesterov``), in optax's signature.

    Example:
        >>> opt = fg.optim.adam(0.1)
        >>> opt.update(np.array([5.0]), opt.init(np.zeros(1)))[0].round(6)
        array([-0.1])
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
                 scale_by_learning_rate(learning_rate))


def nadam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0,
          mu_dtype=None) -> GradientTransformation:
    """NAdam (Dozat 2016): Adam with Nesterov momentum, ``adam(..., nesterov=True)``: its
    first step looks ahead, to b1 g / (1 + b1) + g.

    Example:
        >>> opt = fg.optim.nadam(0.1)
        >>> opt.update(np.array([5.0]), opt.init(np.zeros(1)))[0].round(6)
        array([-0.147368])
    """
    return adam(learning_rate, b1, b2, eps, eps_root, mu_dtype, nesterov=True)


def adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, mu_dtype=None,
          weight_decay=1e-4, mask=None, *, nesterov=False) -> GradientTransformation:
    """Adam with decoupled weight decay (Loshchilov and Hutter 2019):
    -lr (adam_direction + weight_decay * params), in optax's signature. ``mask`` (a pytree
    of bools like the params, or a function of the params giving one) limits the decay to
    the leaves marked True, e.g. not the biases. ``mu_dtype`` and ``nesterov`` as adam's.

    Example:
        >>> opt = fg.optim.adamw(0.1, weight_decay=0.5)
        >>> opt.update(np.array([5.0]), opt.init(np.ones(1)), np.ones(1))[0].round(6)
        array([-0.15])
    """
    decay = add_decayed_weights(weight_decay)
    return chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
                 decay if mask is None else masked(decay, mask),
                 scale_by_learning_rate(learning_rate))


def rmsprop(learning_rate, decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True,
            centered=False, momentum=None, nesterov=False,
            bias_correction=False) -> GradientTransformation:
    """RMSProp, in optax's signature and formula: the gradient divided by
    sqrt(running mean of g^2 + eps) (``eps_in_sqrt=False``: by sqrt(...) + eps, as
    PyTorch), of the variance of g with ``centered``; then the learning rate, then the
    (Nesterov) momentum, in that order as optax's (it matters for a schedule).

    Example:
        >>> opt = fg.optim.rmsprop(0.1)
        >>> opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0].round(4)
        array([-0.3162])
    """
    direction = scale_by_stddev if centered else scale_by_rms
    parts = [direction(decay, eps, initial_scale, eps_in_sqrt, bias_correction),
             scale_by_learning_rate(learning_rate)]
    if momentum is not None:
        parts.append(trace(momentum, nesterov))
    return chain(*parts)


class ScaleByAdagradState(_NamedTuple):
    sum_of_squares: object


def _inverse_root(g, s, eps):
    """g / sqrt(s + eps), and 0 where the sum of squares s is 0 (optax's rule: with eps 0,
    a parameter whose gradients were all 0 got 0 / 0 = nan)."""
    positive = s > 0
    return fnp.where(positive, g / fnp.sqrt(fnp.where(positive, s, 1.0) + eps), 0.0)


def adagrad(learning_rate, initial_accumulator_value=0.1, eps=1e-7) -> GradientTransformation:
    """Adagrad: the gradient divided by the root of the sum of its squares so far.

    Example:
        >>> opt = fg.optim.adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
        array([-1.])
    """
    def init(params):
        return ScaleByAdagradState(
            tree.map(lambda p: fnp.full_like(p, initial_accumulator_value), params))

    def update(updates, state, params=None):
        total = _with_updates(lambda g, s: s + g * g, updates, state.sum_of_squares)
        out = tree.map(lambda g, s: _inverse_root(g, s, eps), updates, total)
        return out, ScaleByAdagradState(total)
    return chain(GradientTransformation(init, update), scale_by_learning_rate(learning_rate))


def lion(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3) -> GradientTransformation:
    """Lion: the sign of an interpolated momentum, with decoupled weight decay (use a
    learning rate 3-10x smaller than Adam's).

    Example:
        >>> opt = fg.optim.lion(0.01, weight_decay=0.0)
        >>> opt.update(np.array([0.5]), opt.init(np.zeros(1)), np.zeros(1))[0]
        array([-0.01])
    """
    return chain(scale_by_lion(b1, b2), add_decayed_weights(weight_decay),
                 scale_by_learning_rate(learning_rate))


def lamb(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0) -> GradientTransformation:
    """LAMB (You et al. 2020): Adam's direction plus weight decay, rescaled per parameter
    array by ||param|| / ||update||.

    Example:
        >>> opt = fg.optim.lamb(0.1)
        >>> opt.update(np.array([5.0]), opt.init(np.ones(1)), np.ones(1))[0].round(6)
        array([-0.1])
    """
    return chain(scale_by_adam(b1, b2, eps), add_decayed_weights(weight_decay),
                 scale_by_trust_ratio(), scale_by_learning_rate(learning_rate))


# --- losses, under optax's names (funcgrad.nn has them too) ---------------------------------

softmax_cross_entropy = _nn.softmax_cross_entropy
softmax_cross_entropy_with_integer_labels = _nn.softmax_cross_entropy_with_integer_labels
sigmoid_binary_cross_entropy = _nn.sigmoid_binary_cross_entropy


def huber_loss(predictions, targets=None, delta=1.0):
    """Elementwise Huber loss (targets default to zeros): funcgrad.nn.huber.

    Example:
        >>> fg.optim.huber_loss(np.array([0.5, 3.0]))
        array([0.125, 2.5  ])
    """
    return _nn.huber(predictions, fnp.zeros_like(predictions) if targets is None else targets,
                     delta)


def squared_error(predictions, targets=None):
    """Elementwise (predictions - targets)**2 (targets default to zeros).

    Example:
        >>> fg.optim.squared_error(np.array([1.0, -2.0]), np.array([0.0, 0.0]))
        array([1., 4.])
    """
    err = predictions if targets is None else fnp.subtract(predictions, targets)
    return fnp.square(err)


def l2_loss(predictions, targets=None):
    """Elementwise half squared error, as optax's l2_loss.

    Example:
        >>> fg.optim.l2_loss(np.array([1.0, -2.0]))
        array([0.5, 2. ])
    """
    return 0.5 * squared_error(predictions, targets)
