"""odeint: solutions against closed forms and SciPy, derivatives in every mode against
finite differences of SciPy's solution, pytrees, vmap and jit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.integrate import odeint

TIMES = np.linspace(0.0, 3.0, 5)


def pendulum(state, t):
    return fnp.stack([state[1], -fnp.sin(state[0])])


def scipy_pendulum(angle0):
    return scipy.integrate.odeint(lambda s, t: [s[1], -np.sin(s[0])], [angle0, 0.0], TIMES,
                                  rtol=1e-12, atol=1e-12)


def test_exponential_decay_and_its_rate_derivative_match_the_closed_form():
    ys = odeint(lambda y, t, k: -k * y, np.array([1.0, 2.0]), TIMES, 0.7)
    np.testing.assert_allclose(ys, np.exp(-0.7 * TIMES)[:, None] * [1.0, 2.0], rtol=1e-7)
    d_rate = fg.jacrev(lambda k: odeint(lambda y, t, k: -k * y, np.array([1.0]), TIMES, k))(0.7)
    np.testing.assert_allclose(d_rate[:, 0], -TIMES * np.exp(-0.7 * TIMES), atol=1e-7)


def test_pendulum_matches_scipy_and_its_gradients_match_finite_differences():
    np.testing.assert_allclose(odeint(pendulum, np.array([1.0, 0.0]), TIMES), scipy_pendulum(1.0),
                               atol=1e-6)

    def final_angle(a):
        return odeint(pendulum, fnp.stack([a, 0.0]), TIMES)[-1, 0]
    h = 1e-5
    numeric = (scipy_pendulum(1.0 + h)[-1, 0] - scipy_pendulum(1.0 - h)[-1, 0]) / (2 * h)
    reverse = fg.grad(final_angle)(1.0)
    forward = fg.jvp(final_angle, (1.0,), (1.0,))[1]
    np.testing.assert_allclose(reverse, numeric, atol=1e-6)
    np.testing.assert_allclose(forward, reverse, rtol=1e-10)


def test_pytree_states_vmap_and_a_single_time():
    oscillator = odeint(lambda s, t: {"x": s["v"], "v": -s["x"]},
                        {"x": np.array(1.0), "v": np.array(0.0)}, TIMES)
    np.testing.assert_allclose(oscillator["x"], np.cos(TIMES), atol=1e-7)
    np.testing.assert_allclose(oscillator["v"], -np.sin(TIMES), atol=1e-7)
    starts = np.array([0.3, 1.0, 2.0])
    batched = fg.vmap(lambda a: odeint(pendulum, fnp.stack([a, 0.0]), TIMES)[-1, 0])(starts)
    np.testing.assert_allclose(batched, [scipy_pendulum(a)[-1, 0] for a in starts], atol=1e-6)
    np.testing.assert_array_equal(odeint(pendulum, np.array([1.0, 0.0]), np.array([0.5])),
                                  [[1.0, 0.0]])


def test_compiled_solution_equals_the_uncompiled_one():
    y0 = np.array([1.0, 0.0])
    np.testing.assert_allclose(fg.jit(lambda y: odeint(pendulum, y, TIMES))(y0),
                               odeint(pendulum, y0, TIMES), rtol=1e-12)


def test_times_must_be_a_vector():
    with pytest.raises(fg.FuncgradValueError, match="t must be a 1-D array"):
        odeint(pendulum, np.array([1.0, 0.0]), np.zeros((2, 2)))


def forced(state, t):
    return fnp.stack([state[1], -fnp.sin(state[0]) + 0.1 * t])


def solve_forced(y0, t):
    return odeint(forced, y0, t, rtol=1e-10, atol=1e-10)


solve_forced_jit = fg.jit(solve_forced)  # (one compile for the tests below: t is traced)


def test_decreasing_times_integrate_backwards_as_scipy_does():
    """SciPy's odeint integrates backwards over decreasing times (JAX's needs increasing
    ones); given as an argument of a jitted function, the direction is found at run time."""
    backwards = TIMES[::-1]
    expected = scipy.integrate.odeint(lambda s, t: [s[1], -np.sin(s[0]) + 0.1 * t],
                                      [1.0, 0.5], backwards, rtol=1e-12, atol=1e-12)
    y0 = np.array([1.0, 0.5])
    np.testing.assert_allclose(solve_forced(y0, backwards), expected, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(solve_forced_jit(y0, backwards), expected, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(solve_forced_jit(y0, np.ascontiguousarray(TIMES)),
                               solve_forced(y0, TIMES), rtol=1e-12)
    # the gradient of y(0) with respect to y(3): the inverse of the forward flow's Jacobian
    k = 0.7
    decay = fg.grad(lambda y: odeint(lambda y, t: -k * y, y, backwards)[-1, 0])(np.array([1.0]))
    np.testing.assert_allclose(decay, [np.exp(k * 3.0)], rtol=1e-6)


def test_times_that_turn_back_are_an_error_or_nan_when_traced():
    """Not silently y(t) at another time: an error that says so for a known t; NaN from the
    turn on when t is traced (its values are known only when the program runs)."""
    turning, y0 = np.array([0.0, 1.0, 1.0, 0.5, 2.0]), np.array([1.0, 0.5])
    with pytest.raises(fg.FuncgradValueError, match=r"turn back at t\[3\] = 0.5"):
        odeint(forced, y0, turning)
    ys = solve_forced_jit(y0, turning)
    np.testing.assert_allclose(ys[:3], solve_forced(y0, turning[:3]), rtol=1e-12)
    assert np.isnan(ys[3:]).all()


def test_too_many_steps_give_nan_from_that_time_on_not_a_wrong_value():
    """Past mxstep steps between two times the solution there is unknown: NaN (JAX returns
    the state where it stopped, as if it were the solution at the output time)."""
    ys = odeint(lambda y, t: -50.0 * y, np.array([1.0]), np.array([0.0, 0.01, 10.0]), mxstep=20)
    np.testing.assert_allclose(ys[1], np.exp(-0.5), rtol=1e-6)
    assert np.isnan(ys[2]).all()


def test_a_nan_state_stops_the_steps_at_once():
    """A NaN in the state (or the rate) makes every later output NaN without running the
    mxstep steps that could never be accepted."""
    ys = odeint(lambda y, t: -y, np.array([np.nan]), np.linspace(0.0, 1.0, 4), mxstep=10**5)
    assert np.isnan(ys[1:]).all()
    ys = odeint(lambda y, t: fnp.where(t > 0.5, np.nan, -y), np.array([1.0]),
                np.array([0.0, 0.25, 1.0]), mxstep=10**5)
    np.testing.assert_allclose(ys[1], np.exp(-0.25), rtol=1e-6)
    assert np.isnan(ys[2]).all()


def test_gradients_in_the_times_match_finite_differences_and_the_rate():
    # JAX's odeint differentiates in t: d y(t_k) / d t_k = f(y(t_k), t_k) for the last time,
    # and moving t_0 moves where y0 is given (d y(t_1) / d t_0 = -Phi f(y0, t_0))
    def rate(y, t, k):
        return -k * y * (1 + 0.1 * fnp.sin(t))

    def final(t):
        return fnp.sum(odeint(rate, np.array([1.0, 2.0]), t, 0.7)[-1])
    times = np.array([0.0, 0.5, 1.3])
    grad_t = fg.grad(final)(times)
    h = 1e-6
    numeric = [(final(times + h * e) - final(times - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad_t, numeric, atol=1e-7)
    ys = odeint(rate, np.array([1.0, 2.0]), times, 0.7)
    np.testing.assert_allclose(grad_t[-1], np.sum(rate(ys[-1], 1.3, 0.7)), rtol=1e-7)
    assert abs(grad_t[1]) < 1e-7       # an intermediate output time does not move the last


def test_hmax_bounds_the_steps_as_jax_s():
    # a narrow pulse in the rate, at t = 5, that adaptive steps from a zero rate stride over
    def pulse(y, t):
        return 100.0 * fnp.exp(-((t - 5.0) / 0.01) ** 2) * fnp.ones_like(y)
    times = np.array([0.0, 10.0])
    area = np.sqrt(np.pi)   # the pulse's integral
    np.testing.assert_allclose(odeint(pulse, np.zeros(1), times, hmax=0.005)[-1], [area],
                               rtol=1e-8)
    compiled = fg.jit(lambda y: odeint(pulse, y, times, hmax=0.005, mxstep=np.inf),
                      compile="sync")
    np.testing.assert_allclose(compiled(np.zeros(1))[-1], [area], rtol=1e-8)
    with pytest.raises(fg.FuncgradValueError, match="hmax, the longest step, must be positive"):
        odeint(pulse, np.zeros(1), times, hmax=0.0)
