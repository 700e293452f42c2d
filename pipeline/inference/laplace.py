"""The Laplace approximation on a batch of datasets: damped Newton to the posterior mode, then
the inverse of the exact JAX Hessian there: what a differentiable model gives for free."""

from __future__ import annotations

import functools
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pipeline.inference.batching import ONE_DATASET, Batching, run_batched
from pipeline.models.spec import Model, Problem
from pipeline.physics.forward import Line

MAX_NEWTON_ITERATIONS = 100
STEP_TOLERANCE = 1e-3  # converged once every step is below this many posterior sds


def fit_laplace(
    problem: Problem,
    ys: np.ndarray,
    inits: np.ndarray,
    keys: np.ndarray,
    settings: Any,
    damping: tuple[float, ...],
    batching: Batching = ONE_DATASET,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Laplace approximation of each dataset's posterior: damped Newton from its row of
    `inits` to the mode, then the inverse of the exact JAX Hessian there.

    A step is taken only if the negative log posterior is finite and does not rise; otherwise
    the Hessian is damped (its diagonal scaled up by each of `damping` in turn, smallest
    first; 0 is the Newton step) until it does, so a poor start or an
    indefinite Hessian still makes progress. Converged: the Hessian is positive definite and
    the last step was below STEP_TOLERANCE posterior sds, or no damped step lowers the
    objective while the Newton step is that small (the change is below float rounding).
    Returns, with a leading dataset axis, `mode` (param), `covariance` (param, param_),
    `iterations`, `converged` (0 or 1) and `settings.num_draws` draws of the Gaussian per
    parameter (dataset, draw), from the dataset's key (rows of `keys`).
    """
    model = problem.model
    objective, derivatives = _objective(model)

    def fit_one(item, line, priors):
        start, y, key = item
        args = (line, priors, y)

        def newton(state):
            theta, iteration, _ = state
            value, grad, hessian = derivatives(theta, *args)
            scale = jnp.diag(jnp.abs(jnp.diag(hessian)) + 1e-12)
            steps = jax.vmap(lambda d: jnp.linalg.solve(hessian + d * scale, grad))(
                jnp.asarray(damping, dtype=theta.dtype)
            )
            values = jax.vmap(lambda s: objective(theta - s, *args))(steps)
            ok = jnp.isfinite(values) & (values <= value) & jnp.all(jnp.isfinite(steps), axis=1)
            first = jnp.argmax(ok)
            # at the mode to the working precision: the Newton step is small, or the decrease
            # it promises is below the rounding of the objective (steps then only chase noise)
            promised = 0.5 * grad @ steps[0]
            rounding = 8 * jnp.finfo(theta.dtype).eps * jnp.abs(value)
            at_mode = _positive_definite(hessian) & (
                _newton_small(steps[0], hessian) | (promised <= rounding)
            )
            # 0: go on, 1: converged, 2: stuck (no damped step lowers the objective). A small
            # damped step is no sign of the mode: against the prior's edge all steps are.
            stepped = ok.any()
            status = jnp.where(at_mode, 1, jnp.where(stepped, 0, 2)).astype(jnp.int32)
            theta = jnp.where(stepped, theta - steps[first], theta)
            return theta, iteration + jnp.int32(1), status

        def running(state):
            _, iteration, status = state
            return (status == 0) & (iteration < MAX_NEWTON_ITERATIONS)

        theta0 = _inside(start, model, priors)
        theta, iterations, status = jax.lax.while_loop(
            running, newton, (theta0, jnp.int32(0), jnp.int32(0))
        )
        hessian = derivatives(theta, *args)[2]
        covariance = jnp.linalg.inv(hessian)
        converged = (status == 1) & jnp.all(jnp.linalg.eigvalsh(covariance) > 0)
        draws = jax.random.multivariate_normal(key, theta, covariance, (settings.num_draws,))
        return {
            "mode": theta,
            "covariance": covariance,
            "iterations": iterations,
            "converged": converged.astype(jnp.int32),
            **model.named(draws),
        }

    return run_batched(fit_one, (inits, ys, keys), problem[1:], batching, "Laplace")


def laplace_flags(fit: dict) -> str:
    """The problems of one dataset's fit ('' when none): no mode found, or a covariance that is
    not positive definite (the approximation has no Gaussian)."""
    found = []
    if not np.all(np.linalg.eigvalsh(np.asarray(fit["covariance"], dtype=float)) > 0):
        found.append("Hessian at the end point not positive definite")
    if not fit["converged"]:
        found.append(f"Newton not converged in {int(fit['iterations'])} iterations")
    return "; ".join(found)


def central_interval(mode: np.ndarray, sd: np.ndarray, prob: float) -> tuple:
    """The central `prob` interval of the approximation, a normal distribution: mode -+ z sd."""
    z = NormalDist().inv_cdf(0.5 + prob / 2)
    return mode - z * sd, mode + z * sd


@functools.cache
def _objective(model: Model) -> tuple[Callable, Callable]:
    """The model's negative log posterior of a parameter vector, and its value, gradient and
    Hessian; jitted, so that tracing numpyro's model (slow Python) happens once per use.

    The objective is +inf outside the priors' support: numpyro's uniform density is constant
    there, which would let the search leave the prior's box."""

    @jax.jit
    def neg_log_posterior(theta: jax.Array, line: Line, priors, y: jax.Array) -> jax.Array:
        low, high = _support(model, priors, theta.dtype)
        inside = jnp.all((low < theta) & (theta < high))
        value = -model.log_joint(line, priors, y, model.named(theta))
        return jnp.where(inside, value, jnp.inf)

    @jax.jit
    def derivatives(theta: jax.Array, line: Line, priors, y: jax.Array) -> tuple:
        value, grad = jax.value_and_grad(neg_log_posterior)(theta, line, priors, y)
        return value, grad, jax.hessian(neg_log_posterior)(theta, line, priors, y)

    return neg_log_posterior, derivatives


def _support(model: Model, priors, dtype) -> tuple[jax.Array, jax.Array]:
    bounds = model.support(priors)
    low, high = (jnp.stack([jnp.asarray(bounds[n][k], dtype) for n in model.names]) for k in (0, 1))
    return low, high


def _inside(theta: jax.Array, model: Model, priors) -> jax.Array:
    """`theta` moved just inside the priors' support if it lies outside (a start from a fit of
    chi^2 can), where the objective is finite: by a thousandth of a bounded support's width,
    or 1e-6 from a single bound."""
    low, high = _support(model, priors, theta.dtype)
    margin = 1e-3
    width = high - low
    bounded = jnp.isfinite(width)
    inner_low = jnp.where(bounded, low + margin * width, low + 1e-6)
    inner_high = jnp.where(bounded, high - margin * width, high - 1e-6)
    return jnp.clip(theta, inner_low, inner_high)


def _sds(hessian: jax.Array) -> jax.Array:
    return jnp.sqrt(jnp.diag(jnp.linalg.inv(hessian)))  # NaN while not positive definite


def _positive_definite(hessian: jax.Array) -> jax.Array:
    return jnp.all(jnp.linalg.eigvalsh(hessian) > 0)


def _newton_small(step: jax.Array, hessian: jax.Array) -> jax.Array:
    return _positive_definite(hessian) & jnp.all(jnp.abs(step) < STEP_TOLERANCE * _sds(hessian))
