"""The Laplace approximation on a batch of datasets: damped Newton to the posterior mode, then
the inverse of the exact JAX Hessian there: what a differentiable model gives for free."""

from __future__ import annotations

from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np

from pipeline.inference.batching import ONE_DATASET, Batching, run_batched
from pipeline.inference.model import Priors, log_joint
from pipeline.physics.forward import Line, transmission

# Levenberg-Marquardt damping factors tried in turn, smallest first (0: the Newton step)
DAMPING = (0.0, *(10.0**k for k in range(-4, 9)))
MAX_NEWTON_ITERATIONS = 100
STEP_TOLERANCE = 1e-3  # converged once every step is below this many posterior sds


def start_point(line: Line, y: jax.Array, logN_logbeta: jax.Array) -> jax.Array:
    """A start for the posterior mode: (logN, logbeta) from a fit of chi^2, and for sigmain the
    rms residual of that fit."""
    residual = transmission(line, logN_logbeta[0], logN_logbeta[1]) - y
    return jnp.concatenate([logN_logbeta, jnp.sqrt(jnp.mean(residual**2))[None]])


def fit_laplace(
    line: Line,
    priors: Priors,
    ys: np.ndarray,
    inits: np.ndarray,
    batching: Batching = ONE_DATASET,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Laplace approximation of each dataset's posterior: damped Newton from its row of
    `inits` to the mode, then the inverse of the exact JAX Hessian there.

    A step is taken only if the negative log posterior is finite and does not rise; otherwise
    the Hessian is damped (its diagonal scaled up) until it does, so a poor start or an
    indefinite Hessian still makes progress. Converged: the Hessian is positive definite and
    the last step was below STEP_TOLERANCE posterior sds, or no damped step lowers the
    objective while the Newton step is that small (the change is below float rounding).
    Returns, with a leading dataset axis, `mode` (param), `covariance` (param, param_),
    `iterations` and `converged` (0 or 1).
    """

    def fit_one(item, line, priors):
        start, y = item
        objective = _neg_log_posterior
        args = (line, priors, y)

        def newton(state):
            theta, iteration, _ = state
            value, grad, hessian = _derivatives(theta, *args)
            scale = jnp.diag(jnp.abs(jnp.diag(hessian)) + 1e-12)
            steps = jax.vmap(lambda d: jnp.linalg.solve(hessian + d * scale, grad))(
                jnp.asarray(DAMPING, dtype=theta.dtype)
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

        theta0 = _inside(start, priors)
        theta, iterations, status = jax.lax.while_loop(
            running, newton, (theta0, jnp.int32(0), jnp.int32(0))
        )
        hessian = _derivatives(theta, *args)[2]
        covariance = jnp.linalg.inv(hessian)
        converged = (status == 1) & jnp.all(jnp.linalg.eigvalsh(covariance) > 0)
        return {
            "mode": theta,
            "covariance": covariance,
            "iterations": iterations,
            "converged": converged.astype(jnp.int32),
        }

    return run_batched(fit_one, (inits, ys), (line, priors), batching, "Laplace")


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


# jitted, so that tracing numpyro's model (slow Python) happens once per use, not per call site
@jax.jit
def _neg_log_posterior(theta: jax.Array, line: Line, priors: Priors, y: jax.Array) -> jax.Array:
    """-log p(theta | y) up to a constant; +inf outside the priors' support (numpyro's uniform
    density is constant there, which would let the search leave the prior's box)."""
    inside = (
        (priors.logN[0] < theta[0])
        & (theta[0] < priors.logN[1])
        & (priors.logbeta[0] < theta[1])
        & (theta[1] < priors.logbeta[1])
        & (theta[2] > 0)
    )
    value = -log_joint(line, priors, y, theta)
    return jnp.where(inside, value, jnp.inf)


@jax.jit
def _derivatives(theta: jax.Array, line: Line, priors: Priors, y: jax.Array) -> tuple:
    """Value, gradient and Hessian of the negative log posterior."""
    value, grad = jax.value_and_grad(_neg_log_posterior)(theta, line, priors, y)
    return value, grad, jax.hessian(_neg_log_posterior)(theta, line, priors, y)


def _inside(theta: jax.Array, priors: Priors) -> jax.Array:
    """`theta` moved just inside the priors' support if it lies outside (a start from a fit of
    chi^2 can), where the objective is finite."""
    (n_low, n_high), (b_low, b_high) = priors.logN, priors.logbeta
    margin = 1e-3
    low = jnp.stack([n_low + margin * (n_high - n_low), b_low + margin * (b_high - b_low), 1e-6])
    high = jnp.stack([n_high - margin * (n_high - n_low), b_high - margin * (b_high - b_low),
                      jnp.inf])  # fmt: skip
    return jnp.clip(theta, low.astype(theta.dtype), high.astype(theta.dtype))


def _sds(hessian: jax.Array) -> jax.Array:
    return jnp.sqrt(jnp.diag(jnp.linalg.inv(hessian)))  # NaN while not positive definite


def _positive_definite(hessian: jax.Array) -> jax.Array:
    return jnp.all(jnp.linalg.eigvalsh(hessian) > 0)


def _newton_small(step: jax.Array, hessian: jax.Array) -> jax.Array:
    return _positive_definite(hessian) & jnp.all(jnp.abs(step) < STEP_TOLERANCE * _sds(hessian))
