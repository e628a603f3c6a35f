"""funcgrad.optim: each optimizer's updates against the reference formulas written here with
NumPy, schedules against their definitions, and a whole training step under jit equal to the
same step run eagerly, compiled as one program."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

O = fg.optim
RNG = np.random.default_rng(0)
PARAMS = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
GRADS = [{"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)} for _ in range(4)]


def run(opt, params=PARAMS, grads=GRADS):
    state = opt.init(params)
    for g in grads:
        updates, state = opt.update(g, state, params)
        params = O.apply_updates(params, updates)
    return params


def reference(step_fn, state_fn, params=PARAMS, grads=GRADS):
    """Apply a NumPy update rule leaf by leaf: step_fn(p, g, state, t) -> (p, state)."""
    out = {}
    for name, p in params.items():
        state = state_fn(p)
        for t, g in enumerate(grads, start=1):
            p, state = step_fn(p, g[name], state, t)
        out[name] = p
    return out


def assert_trees_close(a, b):
    for x, y in zip(fg.tree.leaves(a), fg.tree.leaves(b)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def test_sgd_is_theta_minus_eta_grad():
    lr = 0.1
    assert_trees_close(run(O.sgd(lr)),
                       reference(lambda p, g, s, t: (p - lr * g, s), lambda p: None))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    lr, mu = 0.1, 0.9

    def step(p, g, v, t):
        v = g + mu * v
        return p - lr * (g + mu * v if nesterov else v), v
    assert_trees_close(run(O.sgd(lr, momentum=mu, nesterov=nesterov)),
                       reference(step, np.zeros_like))


def _adam_step(lr, b1, b2, eps, wd=0.0):
    def step(p, g, s, t):
        m, v = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        return p - lr * (m_hat / (np.sqrt(v_hat) + eps) + wd * p), (m, v)
    return step


def test_adam_and_adamw():
    zeros2 = lambda p: (np.zeros_like(p), np.zeros_like(p))
    assert_trees_close(run(O.adam(0.01, b1=0.8, b2=0.99)),
                       reference(_adam_step(0.01, 0.8, 0.99, 1e-8), zeros2))
    assert_trees_close(run(O.adamw(0.01, weight_decay=0.1)),
                       reference(_adam_step(0.01, 0.9, 0.999, 1e-8, wd=0.1), zeros2))


def test_adamw_mask_and_optax_argument_order():
    """optax's adamw(learning_rate, b1, b2, eps, eps_root, mu_dtype, weight_decay, mask):
    a mask (a tree, or a function of the params) keeps the decay off the unmasked leaves."""
    zeros2 = lambda p: (np.zeros_like(p), np.zeros_like(p))
    decayed = reference(_adam_step(0.01, 0.9, 0.999, 1e-8, wd=0.1), zeros2)
    plain = reference(_adam_step(0.01, 0.9, 0.999, 1e-8), zeros2)
    for mask in ({"w": True, "b": False}, lambda params: {"w": True, "b": False}):
        out = run(O.adamw(0.01, 0.9, 0.999, 1e-8, 0.0, None, 0.1, mask))
        assert_trees_close(out, {"w": decayed["w"], "b": plain["b"]})
    step = fg.jit(lambda g, s, p: O.adamw(0.01, weight_decay=0.1, mask=lambda p: {
        "w": True, "b": False}).update(g, s, p))
    opt = O.adamw(0.01, weight_decay=0.1, mask={"w": True, "b": False})
    eager = opt.update(GRADS[0], opt.init(PARAMS), PARAMS)[0]
    assert_trees_close(step(GRADS[0], opt.init(PARAMS), PARAMS)[0], eager)


def test_rmsprop_adagrad_lion_lamb():
    def rms(p, g, v, t):   # optax's: eps inside the square root
        v = 0.9 * v + 0.1 * g ** 2
        return p - 0.01 * g / np.sqrt(v + 1e-8), v
    assert_trees_close(run(O.rmsprop(0.01)), reference(rms, np.zeros_like))

    def ada(p, g, s, t):
        s = s + g ** 2
        return p - 0.1 * g / np.sqrt(s + 1e-7), s
    assert_trees_close(run(O.adagrad(0.1)), reference(ada, lambda p: np.full_like(p, 0.1)))

    def lion(p, g, m, t):
        u = np.sign(0.1 * g + 0.9 * m)
        return p - 0.001 * (u + 0.01 * p), 0.01 * g + 0.99 * m
    assert_trees_close(run(O.lion(0.001, weight_decay=0.01)), reference(lion, np.zeros_like))

    adam_dir = _adam_step(1.0, 0.9, 0.999, 1e-6)

    def lamb(p, g, s, t):
        moved, s = adam_dir(p, g, s, t)
        u = (p - moved) + 0.01 * p
        return p - 0.05 * u * np.linalg.norm(p) / np.linalg.norm(u), s
    assert_trees_close(run(O.lamb(0.05, weight_decay=0.01)),
                       reference(lamb, lambda p: (np.zeros_like(p), np.zeros_like(p))))


def test_clip_by_global_norm():
    g = {"a": np.array([3.0, 0.0]), "b": np.array([4.0])}
    clipped, _ = O.clip_by_global_norm(1.0).update(g, O.EmptyState())
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [0.8])
    same, _ = O.clip_by_global_norm(10.0).update(g, O.EmptyState())
    np.testing.assert_allclose(same["b"], [4.0])


def test_schedules():
    steps = np.arange(0, 30)
    np.testing.assert_allclose([O.exponential_decay(2.0, 10, 0.5)(s) for s in steps],
                               2.0 * 0.5 ** (steps / 10))
    np.testing.assert_allclose(
        [O.exponential_decay(2.0, 10, 0.5, staircase=True, end_value=0.6)(s) for s in steps],
        np.maximum(2.0 * 0.5 ** (steps // 10), 0.6))
    np.testing.assert_allclose([O.cosine_decay_schedule(1.0, 20, alpha=0.1)(s) for s in steps],
                               0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps, 20) / 20)))
    warm = O.warmup_cosine_decay_schedule(0.0, 1.0, 5, 25, end_value=0.1)
    expected = np.where(steps < 5, steps / 5,
                        0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps - 5, 20) / 20)))
    np.testing.assert_allclose([warm(s) for s in steps], expected, atol=1e-15)
    assert O.constant_schedule(0.3)(7) == 0.3


def test_a_schedule_drives_the_learning_rate():
    schedule = O.exponential_decay(0.1, 1, 0.5)
    out = run(O.sgd(schedule))
    expected = reference(lambda p, g, s, t: (p - 0.1 * 0.5 ** (t - 1) * g, s), lambda p: None)
    assert_trees_close(out, expected)


def test_bad_learning_rate_is_named():
    with pytest.raises(fg.FuncgradTypeError, match="a learning rate is a number or a schedule"):
        O.sgd("0.1")
    with pytest.raises(fg.FuncgradTypeError, match="needs params"):
        opt = O.adamw(0.1)
        opt.update(GRADS[0], opt.init(PARAMS))


@pytest.mark.parametrize("make", [O.sgd, lambda lr: O.sgd(lr, momentum=0.9), O.adam, O.adamw,
                                  O.rmsprop, O.adagrad, O.lion, O.lamb])
def test_gradients_not_shaped_like_the_params_are_refused(make):
    """optree's "dictionary key mismatch" named neither grads nor params, and a gradient of
    a broadcastable shape silently changed the shape of the state and of the params."""
    opt = make(0.1)
    state = opt.init(PARAMS)

    def step(grads):  # (plain sgd meets the params only in apply_updates)
        return O.apply_updates(PARAMS, opt.update(grads, state, PARAMS)[0])
    with pytest.raises(fg.FuncgradTypeError, match=r"the updates \(gradients\) have structure "
                                                   r".*'w'.*not that of the .*'b'.*'w'"):
        step({"w": GRADS[0]["w"]})
    wide = {"w": GRADS[0]["w"][None], "b": GRADS[0]["b"]}
    with pytest.raises(fg.ShapeError, match=r"at \['w'\] have shape \(1, 3, 2\), not that of "
                                            r"the .*, \(3, 2\)"):
        step(wide)


def test_apply_updates_refuses_updates_not_shaped_like_the_params():
    with pytest.raises(fg.FuncgradTypeError, match="apply_updates.*structure"):
        O.apply_updates(PARAMS, {"w": PARAMS["w"]})
    with pytest.raises(fg.ShapeError, match=r"apply_updates.*\['b'\] have shape \(3, 2\)"):
        O.apply_updates(PARAMS, {"w": PARAMS["w"], "b": np.ones((3, 2))})


def _loss(params, x, y):
    h = fnp.tanh(x @ params["w"] + params["b"])
    return fnp.mean((h - y) ** 2)


def test_a_whole_training_step_compiles_to_one_program():
    opt = O.chain(O.clip_by_global_norm(1.0),
                  O.adam(O.warmup_cosine_decay_schedule(0.0, 0.1, 2, 10)))
    x, y = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))

    def step(params, state, x, y):
        loss, grads = fg.value_and_grad(_loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return O.apply_updates(params, updates), state, loss

    jitted = fg.jit(step)
    p_eager = p_jit = PARAMS
    s_eager = s_jit = opt.init(PARAMS)
    for _ in range(4):
        p_eager, s_eager, loss_eager = step(p_eager, s_eager, x, y)
        p_jit, s_jit, loss_jit = jitted(p_jit, s_jit, x, y)
        np.testing.assert_allclose(loss_jit, loss_eager, rtol=1e-12)
    assert_trees_close(p_jit, p_eager)
    assert_trees_close(s_jit, s_eager)
    source = jitted.lower(PARAMS, opt.init(PARAMS), x, y).source
    assert source.count("def program(") == 1 and source.count("@njit") == 1


# --- a JAX program, run with only its imports changed -----------------------------------------

# A small JAX training script as a JAX user writes it: jax.random keys split per epoch, a
# permutation for minibatches, an optax chain (clipping, AdamW with a warmup-cosine schedule)
# and one jitted step. It is kept here as JAX source, verbatim; the test swaps its three
# import lines for funcgrad's and runs it.
JAX_PROGRAM = """\
import jax
import jax.numpy as jnp
import optax


def init_params(key, sizes):
    keys = jax.random.split(key, len(sizes) - 1)
    init = jax.nn.initializers.glorot_normal()
    return [{"w": init(k, (m, n)), "b": jnp.zeros(n)}
            for k, m, n in zip(keys, sizes[:-1], sizes[1:])]


def predict(params, x):
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params, x, y):
    logits = predict(params, x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def make_data(key, n):
    kx, kn = jax.random.split(key)
    x = jax.random.normal(kx, (n, 2))
    flip = jax.random.bernoulli(kn, 0.05, (n,))
    y = jnp.where(flip, 1 - (x[:, 0] * x[:, 1] > 0), x[:, 0] * x[:, 1] > 0)
    return x, y.astype(jnp.int32)


schedule = optax.warmup_cosine_decay_schedule(
    init_value=0.0, peak_value=2e-2, warmup_steps=20, decay_steps=400, end_value=1e-3)
optimizer = optax.chain(
    optax.clip_by_global_norm(1.0),
    optax.adamw(learning_rate=schedule, weight_decay=1e-4),
)


@jax.jit
def train_step(params, opt_state, x, y):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    return params, opt_state, loss, optax.global_norm(grads)


def accuracy(params, x, y):
    return jnp.mean(jnp.argmax(predict(params, x), axis=-1) == y)


def main(epochs=4, batch_size=64):
    key = jax.random.PRNGKey(0)
    key, data_key, init_key = jax.random.split(key, 3)
    x, y = make_data(data_key, 1024)
    params = init_params(init_key, [2, 32, 32, 2])
    opt_state = optimizer.init(params)
    first = float(loss_fn(params, x, y))
    for epoch in range(epochs):
        key, perm_key = jax.random.split(key)
        perm = jax.random.permutation(perm_key, x.shape[0])
        for i in range(0, x.shape[0] - batch_size + 1, batch_size):
            idx = perm[i:i + batch_size]
            params, opt_state, loss, norm = train_step(params, opt_state, x[idx], y[idx])
    n_params = sum(p.size for p in jax.tree.leaves(params))
    return first, float(loss_fn(params, x, y)), float(accuracy(params, x, y)), n_params
"""

FUNCGRAD_IMPORTS = {"import jax": "import funcgrad as jax",
                    "import jax.numpy as jnp": "import funcgrad.numpy as jnp",
                    "import optax": "from funcgrad import optim as optax"}


def test_a_jax_program_runs_with_only_its_imports_changed():
    lines = JAX_PROGRAM.splitlines()
    ported = "\n".join(FUNCGRAD_IMPORTS.get(line, line) for line in lines)
    changed = [a for a, b in zip(lines, ported.splitlines()) if a != b]
    assert changed == list(FUNCGRAD_IMPORTS)
    namespace: dict = {}
    exec(compile(ported, "ported_jax_example", "exec"), namespace)
    first, last, accuracy, n_params = namespace["main"]()
    assert n_params == 2 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2
    assert last < 0.6 * first and accuracy > 0.85, (first, last, accuracy)


def test_optax_names_and_schedules():
    np.testing.assert_allclose(O.polynomial_schedule(2.0, 1.0, 3, 10)(np.arange(12)),
                               1.0 + (1 - np.minimum(np.arange(12) / 10, 1)) ** 3)
    s = O.piecewise_constant_schedule(1.0, {3: 0.5, 6: 0.1})
    np.testing.assert_allclose([s(t) for t in (0, 3, 5, 6, 9)], [1, 0.5, 0.5, 0.05, 0.05])
    joined = O.join_schedules([O.constant_schedule(2.0), O.exponential_decay(1.0, 1, 0.5)],
                              [4])
    np.testing.assert_allclose([joined(t) for t in (0, 3, 4, 6)], [2, 2, 1, 0.25])
    # a schedule as the learning rate of sgd, traced with the step count under jit
    opt = O.sgd(learning_rate=O.exponential_decay(1.0, 1, 0.5), momentum=0.0)
    step = fg.jit(lambda g, s: opt.update(g, s))
    state, seen = opt.init(np.zeros(1)), []
    for _ in range(3):
        u, state = step(np.ones(1), state)
        seen.append(float(u[0]))
    assert seen == [-1.0, -0.5, -0.25]
    opt = O.chain(O.clip(0.5), O.scale_by_schedule(lambda t: t + 1.0), O.identity())
    state = opt.init(np.zeros(2))
    u, state = opt.update(np.array([2.0, -0.1]), state)
    u, state = opt.update(np.array([2.0, -0.1]), state)
    np.testing.assert_allclose(u, [1.0, -0.2])
    x, t = np.array([0.5, -3.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(O.l2_loss(x, t), 0.5 * (x - t) ** 2)
    np.testing.assert_allclose(O.squared_error(x), x ** 2)
    np.testing.assert_allclose(O.huber_loss(x, t), [0.125, 3.5])
    logits = np.array([[1.0, 2.0, 0.5]])
    np.testing.assert_allclose(O.softmax_cross_entropy(logits, np.array([[0.0, 1.0, 0.0]])),
                               O.softmax_cross_entropy_with_integer_labels(logits, np.array([1])))


# --- optax's formulas at the edges -----------------------------------------------------------

TINY = [fg.tree.map(lambda g: 1e-5 * g, g) for g in GRADS]   # where eps's place matters


def _zero_pair(p):
    return np.zeros_like(p), np.zeros_like(p)


def test_rmsprop_is_optax_s_eps_in_sqrt_centered_and_bias_corrected():
    def rms(eps_in_sqrt, centered, bias_correction):
        def step(p, g, s, t):
            m, v = s
            m, v = 0.9 * m + 0.1 * g, 0.9 * v + 0.1 * g ** 2
            mh, vh = ((m / (1 - 0.9 ** t), v / (1 - 0.9 ** t)) if bias_correction else (m, v))
            var = vh - mh ** 2 if centered else vh
            d = g / np.sqrt(var + 1e-8) if eps_in_sqrt else g / (np.sqrt(var) + 1e-8)
            return p - 0.01 * d, (m, v)
        return step
    for flags in [(True, False, False), (False, False, False), (True, True, False),
                  (False, True, False), (True, True, True), (False, False, True)]:
        got = run(O.rmsprop(0.01, eps_in_sqrt=flags[0], centered=flags[1],
                            bias_correction=flags[2]), grads=TINY)
        assert_trees_close(got, reference(rms(*flags), _zero_pair, grads=TINY))


def test_rmsprop_momentum_follows_the_learning_rate_as_optax_s():
    # optax: the schedule scales the direction, the momentum accumulates the scaled steps
    def step(p, g, s, t):
        v, tr = s
        v = 0.9 * v + 0.1 * g ** 2
        tr = -0.1 * 0.5 ** (t - 1) * g / np.sqrt(v + 1e-8) + 0.8 * tr
        return p + tr, (v, tr)
    got = run(O.rmsprop(O.exponential_decay(0.1, 1, 0.5), momentum=0.8))
    assert_trees_close(got, reference(step, _zero_pair))


def test_nadam_is_optax_s_nesterov_adam():
    def step(p, g, s, t):
        m, v = s
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g ** 2
        m_hat = 0.9 * m / (1 - 0.9 ** (t + 1)) + 0.1 * g / (1 - 0.9 ** t)
        return p - 0.01 * m_hat / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8), (m, v)
    assert_trees_close(run(O.nadam(0.01)), reference(step, _zero_pair))
    assert_trees_close(run(O.adam(0.01, nesterov=True)), reference(step, _zero_pair))


def test_float32_params_stay_float32_eager_and_compiled():
    # a bias correction or a schedule's value is a float64 number: optax casts it to the
    # leaf's dtype, else the updates (and, through apply_updates' cast, the step) were f64
    params = fg.tree.map(lambda p: p.astype(np.float32), PARAMS)
    grads = fg.tree.map(lambda g: g.astype(np.float32), GRADS[0])
    sched = O.warmup_cosine_decay_schedule(0.0, 0.1, 2, 10)
    for opt in (O.adam(0.1), O.adamw(sched), O.lamb(0.1), O.nadam(0.1), O.sgd(sched, 0.9),
                O.rmsprop(sched, bias_correction=True)):
        state = opt.init(params)
        updates, state = opt.update(grads, state, params)
        assert {u.dtype for u in fg.tree.leaves(updates)} == {np.dtype(np.float32)}
    step = fg.jit(lambda g, s, p: O.adamw(sched).update(g, s, p), compile="sync")
    updates, state = step(grads, O.adamw(sched).init(params), params)
    assert {u.dtype for u in fg.tree.leaves(updates)} == {np.dtype(np.float32)}
    assert {m.dtype for m in fg.tree.leaves(state[0].mu)} == {np.dtype(np.float32)}
    opt = O.adam(0.1, mu_dtype=np.float32)      # float64 params, a float32 first moment
    mu = opt.update(GRADS[0], opt.init(PARAMS))[1][0].mu
    assert {m.dtype for m in fg.tree.leaves(mu)} == {np.dtype(np.float32)}


def test_adagrad_gives_zero_where_every_gradient_was_zero():
    opt = O.adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
    updates, _ = opt.update(np.array([0.0, 2.0]), opt.init(np.zeros(2)))
    np.testing.assert_array_equal(updates, [0.0, -1.0])     # not nan, as optax


def test_schedules_with_no_steps_are_optax_s():
    for schedule in (O.linear_schedule(0.3, 0.0, 0), O.polynomial_schedule(0.3, 0.0, 2, 0),
                     O.exponential_decay(0.3, 0, 0.5)):
        assert [float(schedule(s)) for s in (0, 5)] == [0.3, 0.3]    # not nan
    with pytest.raises(fg.FuncgradValueError, match="positive decay_steps, not 0"):
        O.cosine_decay_schedule(1.0, 0)
    with pytest.raises(fg.FuncgradValueError, match="positive decay_steps, not -2"):
        O.warmup_cosine_decay_schedule(0.0, 1.0, 10, 8)
    steps = np.arange(12)
    np.testing.assert_allclose([O.cosine_decay_schedule(2.0, 10, 0.1, exponent=2.0)(s)
                                for s in steps],
                               2.0 * (0.9 * (0.5 * (1 + np.cos(np.pi * np.minimum(steps, 10)
                                                               / 10))) ** 2 + 0.1))
