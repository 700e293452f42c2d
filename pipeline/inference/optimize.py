"""Gradient-based optimisation of a differentiable loss: every step recorded, one compiled loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class Trajectory(NamedTuple):
    """Parameters, loss and gradient at the initial point and after each of the `steps` updates."""

    params: jax.Array  # (steps + 1, n_params)
    loss: jax.Array  # (steps + 1,)
    grad: jax.Array  # (steps + 1, n_params)


def steepest_descent(eta: float) -> optax.GradientTransformation:
    """Steepest descent p <- p - eta * grad (optax.sgd without momentum)."""
    return optax.sgd(learning_rate=eta)


def descend(
    loss: Callable[..., jax.Array],
    init: jax.Array,
    optimizer: optax.GradientTransformation,
    steps: int,
    *data: Any,
) -> Trajectory:
    """Run `steps` updates of `optimizer` on `loss(params, *data)` from `init` in one lax.scan.

    The data are arguments of the compiled loop, not constants in it, so one program serves
    every dataset of a shape (and is loaded from the persistent cache after the first).
    """
    value_and_grad = jax.value_and_grad(loss)

    @jax.jit
    def run(init: jax.Array, data: tuple) -> Trajectory:
        def update(carry, _):
            params, state = carry
            value, grad = value_and_grad(params, *data)
            updates, state = optimizer.update(grad, state, params)
            return (optax.apply_updates(params, updates), state), (params, value, grad)

        (final, _), (params, values, grads) = jax.lax.scan(
            update, (init, optimizer.init(init)), length=steps
        )
        final_value, final_grad = value_and_grad(final, *data)
        return Trajectory(
            params=jnp.concatenate([params, final[None]]),
            loss=jnp.concatenate([values, final_value[None]]),
            grad=jnp.concatenate([grads, final_grad[None]]),
        )

    return run(init, data)
