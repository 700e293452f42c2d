"""The Laplace approximation on a batch of datasets: damped Newton to the posterior mode, then
the inverse of the exact JAX Hessian there: what a differentiable model gives for free.

It is fitted in unconstrained coordinates z (as numpyro's AutoLaplaceApproximation), each
parameter mapped onto its prior's support by theta(z), or on the constrained scale theta itself
(`laplace.coordinates`). In z the mode is interior whenever the posterior is proper and every
draw maps back inside the support; on the constrained scale a mode at a prior's edge has
little curvature and the Gaussian's draws leak outside."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pipeline.inference.batching import ONE_DATASET, Batching, run_batched
from pipeline.models.spec import Model, Problem
from pipeline.physics.forward import Line

MAX_NEWTON_ITERATIONS = 100
STEP_TOLERANCE = 1e-3  # converged once every step is below this many posterior sds


class Transform(NamedTuple):
    """theta(z) per parameter from the support's bounds (low, high), its inverse and
    log|dtheta/dz|; `guarded`: the objective is +inf where theta leaves the support."""

    theta: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    z: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    log_jacobian: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    guarded: bool


def _bounds(low: jax.Array, high: jax.Array) -> tuple:
    """Which bounds are finite, and the bounds and bounded width with the missing ones
    replaced by harmless numbers (a bound's finiteness is traced: the priors are arguments)."""
    has_low, has_high = jnp.isfinite(low), jnp.isfinite(high)
    bounded = has_low & has_high
    low, high = jnp.where(has_low, low, 0), jnp.where(has_high, high, 0)
    return has_low, has_high, bounded, low, high, jnp.where(bounded, high - low, 1)


def _to_theta(z: jax.Array, low: jax.Array, high: jax.Array) -> jax.Array:
    has_low, has_high, bounded, low, high, width = _bounds(low, high)
    # exp only where a single bound uses it: an overflow elsewhere would make the gradient NaN
    e = jnp.exp(jnp.where(has_low ^ has_high, z, 0))
    one_sided = jnp.where(has_low, low + e, jnp.where(has_high, high - e, z))
    return jnp.where(bounded, low + width * jax.nn.sigmoid(z), one_sided)


def _to_z(theta: jax.Array, low: jax.Array, high: jax.Array) -> jax.Array:
    has_low, has_high, bounded, low, high, width = _bounds(low, high)
    u = (theta - low) / width
    one_sided = jnp.where(
        has_low, jnp.log(theta - low), jnp.where(has_high, jnp.log(high - theta), theta)
    )
    return jnp.where(bounded, jnp.log(u) - jnp.log1p(-u), one_sided)


def _log_jacobian(z: jax.Array, low: jax.Array, high: jax.Array) -> jax.Array:
    has_low, has_high, bounded, _, _, width = _bounds(low, high)
    # log(width sigmoid(z) sigmoid(-z)) in log_sigmoid's stable form, finite for every z
    logistic = jnp.log(width) + jax.nn.log_sigmoid(z) + jax.nn.log_sigmoid(-z)
    return jnp.where(bounded, logistic, jnp.where(has_low | has_high, z, 0))


TRANSFORMS = {
    "unconstrained": Transform(_to_theta, _to_z, _log_jacobian, guarded=False),
    # numpyro's uniform density is constant outside its support, which would let the search
    # leave the prior's box: hence the guard
    "constrained": Transform(
        lambda z, low, high: z,
        lambda theta, low, high: theta,
        lambda z, low, high: jnp.zeros_like(z),
        True,
    ),
}


def fit_laplace(
    problem: Problem,
    ys: np.ndarray,
    inits: np.ndarray,
    keys: np.ndarray,
    settings: Any,
    damping: tuple[float, ...],
    batching: Batching = ONE_DATASET,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Laplace approximation of each dataset's posterior in the coordinates
    `settings.coordinates` (TRANSFORMS): damped Newton in z from its row of `inits` (moved
    inside the support) to the mode, then the inverse of the exact JAX Hessian there.

    A step is taken only if the negative log posterior is finite and does not rise; otherwise
    the Hessian is damped (its diagonal scaled up by each of `damping` in turn, smallest
    first; 0 is the Newton step) until it does, so a poor start or an
    indefinite Hessian still makes progress. Converged: the Hessian is positive definite and
    the last step was below STEP_TOLERANCE posterior sds, or no damped step lowers the
    objective while the Newton step is that small (the change is below float rounding).
    Returns, with a leading dataset axis, `mode` (param: theta(z mode), the approximation's
    median), `covariance` (param, param_: J cov_z J^T, J = dtheta/dz at the mode, the
    delta method's), `unconstrained_mode` and `unconstrained_covariance` (the Gaussian in z;
    for "constrained" the same as mode and covariance), `iterations`, `converged` (0 or 1)
    and `settings.num_draws` draws theta(z) of the Gaussian per parameter (dataset, draw),
    from the dataset's key (rows of `keys`).
    """
    model = problem.model
    transform = TRANSFORMS[settings.coordinates]
    objective, derivatives = _objective(model, settings.coordinates)

    def fit_one(item, line, priors):
        start, y, key = item
        args = (line, priors, y)
        low, high = _support(model, priors, start.dtype)

        def newton(state):
            z, iteration, _ = state
            value, grad, hessian = derivatives(z, *args)
            scale = jnp.diag(jnp.abs(jnp.diag(hessian)) + 1e-12)
            steps = jax.vmap(lambda d: jnp.linalg.solve(hessian + d * scale, grad))(
                jnp.asarray(damping, dtype=z.dtype)
            )
            values = jax.vmap(lambda s: objective(z - s, *args))(steps)
            ok = jnp.isfinite(values) & (values <= value) & jnp.all(jnp.isfinite(steps), axis=1)
            first = jnp.argmax(ok)
            # at the mode to the working precision: the Newton step is small, or the decrease
            # it promises is below the rounding of the objective (steps then only chase noise)
            promised = 0.5 * grad @ steps[0]
            rounding = 8 * jnp.finfo(z.dtype).eps * jnp.abs(value)
            at_mode = _positive_definite(hessian) & (
                _newton_small(steps[0], hessian) | (promised <= rounding)
            )
            # 0: go on, 1: converged, 2: stuck (no damped step lowers the objective). A small
            # damped step is no sign of the mode: against the prior's edge all steps are.
            stepped = ok.any()
            status = jnp.where(at_mode, 1, jnp.where(stepped, 0, 2)).astype(jnp.int32)
            z = jnp.where(stepped, z - steps[first], z)
            return z, iteration + jnp.int32(1), status

        def running(state):
            _, iteration, status = state
            return (status == 0) & (iteration < MAX_NEWTON_ITERATIONS)

        z0 = transform.z(_inside(start, model, priors), low, high)
        z, iterations, status = jax.lax.while_loop(
            running, newton, (z0, jnp.int32(0), jnp.int32(0))
        )
        hessian = derivatives(z, *args)[2]
        covariance = jnp.linalg.inv(hessian)
        converged = (status == 1) & jnp.all(jnp.linalg.eigvalsh(covariance) > 0)
        draws = jax.random.multivariate_normal(key, z, covariance, (settings.num_draws,))
        jacobian = jnp.exp(transform.log_jacobian(z, low, high))  # dtheta/dz, 1 for identity
        return {
            "mode": transform.theta(z, low, high),
            "covariance": covariance * jnp.outer(jacobian, jacobian),
            "unconstrained_mode": z,
            "unconstrained_covariance": covariance,
            "iterations": iterations,
            "converged": converged.astype(jnp.int32),
            **model.named(transform.theta(draws, low, high)),
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


@functools.cache
def _objective(model: Model, coordinates: str) -> tuple[Callable, Callable]:
    """The model's negative log posterior density of z in `coordinates` (TRANSFORMS), and
    its value, gradient and Hessian; jitted, so that tracing numpyro's model (slow Python)
    happens once per model and coordinates."""
    transform = TRANSFORMS[coordinates]

    @jax.jit
    def neg_log_posterior(z: jax.Array, line: Line, priors, y: jax.Array) -> jax.Array:
        low, high = _support(model, priors, z.dtype)
        theta = transform.theta(z, low, high)
        value = -model.log_joint(line, priors, y, model.named(theta))
        value = value - transform.log_jacobian(z, low, high).sum()
        if not transform.guarded:
            return value
        inside = jnp.all((low < theta) & (theta < high))
        return jnp.where(inside, value, jnp.inf)

    @jax.jit
    def derivatives(z: jax.Array, line: Line, priors, y: jax.Array) -> tuple:
        value, grad = jax.value_and_grad(neg_log_posterior)(z, line, priors, y)
        return value, grad, jax.hessian(neg_log_posterior)(z, line, priors, y)

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
