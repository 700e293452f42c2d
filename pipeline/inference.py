"""Bayesian inference of (logN, logbeta, sigmain): the numpyro model, NUTS and SVI.

The model is the tutorial's: uniform priors on logN and logbeta, an exponential prior on the
noise level sigmain, and a Gaussian likelihood around the transmission of the forward model.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal
from numpyro.infer.util import log_density

from pipeline.forward import Line, transmission
from pipeline.netcdf import PARAMS
from pipeline.runtime import PhaseTimer

# what NUTS records per draw besides the parameters (ArviZ renames them in sample_stats)
NUTS_FIELDS = ("diverging", "num_steps", "accept_prob", "adapt_state.step_size", "energy")


class Priors(NamedTuple):
    """Prior bounds of logN and logbeta and the rate of the exponential prior on sigmain."""

    logN: tuple[float, float]  # log10(cm^-2)
    logbeta: tuple[float, float]  # log10(cm^-1)
    sigmain_rate: float  # 1 / transmission units


def model(line: Line, priors: Priors, y: jax.Array | None = None) -> None:
    """Voigt-line transmission with Gaussian noise of unknown level; y = observed flux or None."""
    logN = numpyro.sample("logN", dist.Uniform(*priors.logN))
    logbeta = numpyro.sample("logbeta", dist.Uniform(*priors.logbeta))
    sigmain = numpyro.sample("sigmain", dist.Exponential(priors.sigmain_rate))
    numpyro.sample("y", dist.Normal(transmission(line, logN, logbeta), sigmain), obs=y)


class NutsResult(NamedTuple):
    """The fitted MCMC object, posterior-predictive draws of y and the seconds of each phase."""

    mcmc: MCMC
    predictive: dict[str, jax.Array]
    seconds: dict[str, float]


def run_nuts(
    line: Line,
    priors: Priors,
    y: jax.Array,
    *,
    num_warmup: int,
    num_samples: int,
    num_chains: int,
    chain_method: str,
    target_accept_prob: float,
    seed: int,
) -> NutsResult:
    """NUTS with the tutorial's keys: chain and predictive both use split(PRNGKey(seed))[1]."""
    _, key = jax.random.split(jax.random.PRNGKey(seed))
    mcmc = MCMC(
        NUTS(model, target_accept_prob=target_accept_prob),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=False,  # the bar's host callbacks slow sampling and defeat the compile cache
        jit_model_args=True,  # data as arguments, not constants: one program for all datasets
    )
    timer = PhaseTimer()
    # warmup() then run() draws exactly what one run() would, and times the phases apart
    with timer.phase("warmup"):
        mcmc.warmup(key, line, priors, y, extra_fields=NUTS_FIELDS, collect_warmup=False)
        jax.block_until_ready(mcmc.post_warmup_state)
    with timer.phase("sampling"):
        mcmc.run(mcmc.post_warmup_state.rng_key, line, priors, y, extra_fields=NUTS_FIELDS)
        jax.block_until_ready(mcmc.get_samples())
    with timer.phase("predictive"):
        predictive = Predictive(model, mcmc.get_samples(), return_sites=["y"])(key, line, priors)
    return NutsResult(mcmc, predictive, timer.seconds)


class SviResult(NamedTuple):
    """The guide's parameters, the loss of every step, posterior draws and phase seconds."""

    params: dict[str, jax.Array]
    losses: jax.Array
    posterior: dict[str, jax.Array]
    predictive: dict[str, jax.Array]
    seconds: dict[str, float]


def run_svi(
    line: Line,
    priors: Priors,
    y: jax.Array,
    *,
    num_steps: int,
    learning_rate: float,
    num_draws: int,
    seed: int,
    report_every: int = 1000,
) -> SviResult:
    """SVI with an AutoMultivariateNormal guide, Adam and Trace_ELBO, then draws from the guide.

    Steps run in compiled chunks of `report_every` (one lax.scan each, the same updates as
    numpyro's svi.run), printing the loss after each chunk. Keys follow the tutorial.
    """
    draw_key, run_key = jax.random.split(jax.random.PRNGKey(seed))
    guide = AutoMultivariateNormal(model)
    svi = SVI(model, guide, numpyro.optim.Adam(learning_rate), Trace_ELBO())
    timer = PhaseTimer()

    # the data are arguments of the compiled loop, not constants in it: one program for
    # every dataset of a shape, loaded from the persistent cache after the first
    @partial(jax.jit, static_argnames="length")
    def chunk(state, line, priors, y, length):
        def step(state, _):
            return svi.update(state, line, priors, y)

        return jax.lax.scan(step, state, length=length)

    with timer.phase("optimization"):
        state = svi.init(run_key, line, priors, y)
        losses, done = [], 0
        while done < num_steps:
            length = min(report_every, num_steps - done)
            state, chunk_losses = chunk(state, line, priors, y, length)
            losses.append(chunk_losses)
            done += length
            print(f"SVI step {done}/{num_steps}: loss {float(chunk_losses[-1]):.2f}", flush=True)
        losses = jnp.concatenate(losses)
    params = svi.get_params(state)
    with timer.phase("draws"):
        posterior = Predictive(
            model, guide=guide, params=params, num_samples=num_draws, return_sites=list(PARAMS)
        )(draw_key, line, priors)
        predictive = Predictive(model, posterior_samples=posterior, return_sites=["y"])(
            draw_key, line, priors
        )
    return SviResult(params, losses, posterior, predictive, timer.seconds)


class LaplaceResult(NamedTuple):
    """Posterior mode of (logN, logbeta, sigmain), the covariance there, and how it was found."""

    mode: jax.Array  # (3,)
    covariance: jax.Array  # (3, 3): inverse Hessian of the negative log posterior at the mode
    iterations: int
    converged: bool
    seconds: dict[str, float]


def run_laplace(
    line: Line, priors: Priors, y: jax.Array, init: jax.Array, max_iterations: int = 100
) -> LaplaceResult:
    """Laplace approximation: damped Newton to the posterior mode, exact Hessian from JAX.

    A step is taken only if the negative log posterior is finite and does not rise; otherwise
    the Hessian is damped (Levenberg-Marquardt: its diagonal scaled up) until it does, so a poor
    start or an indefinite Hessian far from the mode still makes progress. The search has
    converged once the Hessian is positive definite and every step is below 1e-3 posterior sds.
    """

    data = {"line": line, "priors": priors, "y": y}
    derivatives = partial(_derivatives, **data)
    objective = partial(_neg_log_posterior, **data)
    timer = PhaseTimer()
    with timer.phase("newton"):
        theta, converged, iterations = jnp.asarray(init), False, 0
        while iterations < max_iterations:
            iterations += 1
            value, grad, hessian = derivatives(theta)
            sd = jnp.sqrt(jnp.diag(jnp.linalg.inv(hessian)))  # NaN while not positive definite
            step = _damped_step(objective, theta, value, grad, hessian)
            if step is None:  # no damping lowers the objective: theta is the mode to precision
                break
            theta = theta - step
            if bool(jnp.all(jnp.isfinite(sd)) & jnp.all(jnp.abs(step) < 1e-3 * sd)):
                converged = True
                break
        covariance = jnp.linalg.inv(derivatives(theta)[2])
    converged = converged and bool(jnp.all(jnp.linalg.eigvalsh(covariance) > 0))
    return LaplaceResult(theta, covariance, iterations, converged, timer.seconds)


# the data are arguments of these compiled functions, not constants in them (see run_svi)
@jax.jit
def _neg_log_posterior(theta: jax.Array, line: Line, priors: Priors, y: jax.Array) -> jax.Array:
    params = dict(zip(PARAMS, theta, strict=True))
    return -log_density(model, (line, priors, y), {}, params)[0]


@jax.jit
def _derivatives(theta: jax.Array, line: Line, priors: Priors, y: jax.Array):
    """Value, gradient and Hessian of the negative log posterior."""
    value, grad = jax.value_and_grad(_neg_log_posterior)(theta, line, priors, y)
    return value, grad, jax.hessian(_neg_log_posterior)(theta, line, priors, y)


def _damped_step(objective, theta, value, grad, hessian) -> jax.Array | None:
    """The Newton step, damped until it lowers the (finite) objective; None if none does."""
    scale = jnp.diag(jnp.abs(jnp.diag(hessian)) + 1e-12)
    for damping in (0.0, *(10.0**k for k in range(-4, 9))):
        step = jnp.linalg.solve(hessian + damping * scale, grad)
        new = objective(theta - step)
        if bool(jnp.isfinite(new) & (new <= value) & jnp.all(jnp.isfinite(step))):
            return step
    return None
