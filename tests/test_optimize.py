"""The compiled optimisation loop against the tutorial's plain Python loops."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pipeline.inference.optimize import descend, steepest_descent


def loss(p):
    return (p[0] - 1.0) ** 2 + 10.0 * (p[1] + 2.0) ** 2 + jnp.sin(p[0] * p[1])


def test_steepest_descent_is_the_tutorials_update():
    init = jnp.array([0.3, 0.4])
    run = descend(loss, init, steepest_descent(0.01), steps=20)
    p = init
    for i in range(20):
        np.testing.assert_allclose(run.params[i], p, rtol=1e-6)
        np.testing.assert_allclose(run.grad[i], jax.grad(loss)(p), rtol=1e-5)
        p = p - 0.01 * jax.grad(loss)(p)
    np.testing.assert_allclose(run.params[-1], p, rtol=1e-6)
    assert run.params.shape == (21, 2) and run.loss.shape == (21,)


def test_adam_matches_the_tutorials_optax_loop():
    init = jnp.array([0.3, 0.4])
    solver = optax.adam(learning_rate=0.02)
    run = descend(loss, init, solver, steps=15)
    state, p = solver.init(init), init
    for i in range(15):
        np.testing.assert_allclose(run.loss[i], loss(p), rtol=1e-6)
        updates, state = solver.update(jax.grad(loss)(p), state, p)
        p = optax.apply_updates(p, updates)
    np.testing.assert_allclose(run.params[-1], p, rtol=1e-6)
