"""Bayesian inference of (logN, logbeta, sigmain): the numpyro model and its three fits.

The model is the tutorial's: uniform priors on logN and logbeta, an exponential prior on the
noise level sigmain, and a Gaussian likelihood around the transmission of the forward model.

Each fit (NUTS, SVI, Laplace) is one compiled program over a batch of datasets, the leading
axis of `ys`; a single dataset is a batch of one, so the per-dataset stages and the studies
run the same code. Every dataset keeps its own adaptation, diagnostics and convergence. The
batch runs in calls of `Batching.per_call` datasets (a progress line after each): inside a
call, `jax.lax.map` fits them one after another (on CPU nothing is gained by vectorising
samplers whose trajectories differ in length) or `vmap_width` at a time (on accelerators).
With `vmap_width` 1 a dataset's result does not depend on the batch it is fitted in.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from statistics import NormalDist
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal
from numpyro.infer.util import log_density

from pipeline.forward import Line, transmission
from pipeline.netcdf import PARAMS

# what NUTS records per draw besides the parameters (ArviZ renames them in sample_stats)
NUTS_FIELDS = ("diverging", "num_steps", "accept_prob", "adapt_state.step_size", "energy")
CHAIN_METHODS = ("vectorized", "sequential", "parallel")


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


def log_likelihood(line: Line, y: jax.Array, theta: jax.Array) -> jax.Array:
    """log p(y | theta) of the model for theta = (logN, logbeta, sigmain)."""
    mean = transmission(line, theta[0], theta[1])
    return dist.Normal(mean, theta[2]).log_prob(y).sum()


# ---------------------------------------------------------------------------------------------
# Running a batch of datasets through one compiled program


class Batching(NamedTuple):
    """How a batch of datasets is fitted: `per_call` datasets in each call of the compiled
    program (a progress line after each), `vmap_width` of them vectorised together (1: lax.map
    fits them one after another)."""

    per_call: int
    vmap_width: int


ONE_DATASET = Batching(per_call=1, vmap_width=1)


def resolve_vmap_width(setting: int | str, per_call: int) -> int:
    """`batching.vmap_width`: an integer, or "auto": 1 on CPU, the whole call on accelerators."""
    if setting != "auto":
        return int(setting)
    return 1 if jax.default_backend() == "cpu" else per_call


def run_batched(
    fit_one: Callable[..., Any],
    batch: Any,
    shared: tuple,
    batching: Batching,
    label: str,
) -> tuple[Any, dict[str, float]]:
    """`fit_one(item, *shared)` over the leading axis of the pytree `batch`, as numpy arrays.

    One program of `per_call` datasets is compiled (or loaded from the persistent cache) once,
    timed apart, then called until the batch is done; the last call is padded by repeating a
    dataset. Returns the outputs and the seconds: `compile_seconds`, `run_seconds` (the whole
    batch) and `run_seconds_per_dataset` (its amortised share).
    """
    size = jax.tree.leaves(batch)[0].shape[0]
    width = min(batching.per_call, size)
    calls = math.ceil(size / width)
    padded = jax.tree.map(lambda a: _pad(np.asarray(a), calls * width), batch)
    vmap_width = min(batching.vmap_width, width)

    def program(items, shared):
        return jax.lax.map(
            lambda item: fit_one(item, *shared),
            items,
            batch_size=vmap_width if vmap_width > 1 else None,
        )

    start = time.perf_counter()
    first = jax.tree.map(lambda a: a[:width], padded)
    compiled = jax.jit(program).lower(first, shared).compile()
    compile_seconds = time.perf_counter() - start
    _progress(f"{label}: compiled in {compile_seconds:.1f} s; fitting {size} datasets")

    start, outputs = time.perf_counter(), []
    for call in range(calls):
        items = jax.tree.map(lambda a, c=call: a[c * width : (c + 1) * width], padded)
        outputs.append(jax.device_get(compiled(items, shared)))
        done = min((call + 1) * width, size)
        elapsed = time.perf_counter() - start
        _progress(
            f"{label}: {done}/{size} datasets, {elapsed:.1f} s elapsed, "
            f"~{elapsed / done * (size - done):.0f} s left"
        )
    run_seconds = time.perf_counter() - start
    result = jax.tree.map(lambda *parts: np.concatenate(parts)[:size], *outputs)
    return result, {
        "compile_seconds": compile_seconds,
        "run_seconds": run_seconds,
        "run_seconds_per_dataset": run_seconds / size,
    }


def _pad(array: np.ndarray, length: int) -> np.ndarray:
    """`array` lengthened along its first axis to `length` by repeating its last item."""
    extra = length - array.shape[0]
    return np.concatenate([array, np.repeat(array[-1:], extra, axis=0)]) if extra else array


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def dataset_keys(seed: int, indices: np.ndarray | None = None) -> np.ndarray:
    """Raw PRNG keys, one per dataset: PRNGKey(seed) folded with each dataset's index, or
    PRNGKey(seed) itself (a batch of one) when `indices` is None, as the tutorial's fits use."""
    base = jax.random.PRNGKey(seed)
    if indices is None:
        return np.asarray(base)[None]
    return np.asarray(jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(indices)))


# ---------------------------------------------------------------------------------------------
# NUTS


class NutsSettings(NamedTuple):
    """numpyro NUTS: iterations, chains and how they run, step-size adaptation target."""

    num_warmup: int
    num_samples: int
    num_chains: int
    chain_method: str  # vectorized (vmap), sequential (lax.map), parallel (a CPU device each)
    target_accept_prob: float


def fit_nuts(
    line: Line,
    priors: Priors,
    ys: np.ndarray,
    keys: np.ndarray,
    settings: NutsSettings,
    batching: Batching = ONE_DATASET,
    predictive: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """NUTS on each dataset (rows of `ys`), each with its own warmup and adaptation.

    Returns arrays with axes (dataset, chain, draw): the parameters, the sampler's fields
    NUTS_FIELDS and, with `predictive`, posterior-predictive draws `y` (dataset, chain, draw,
    nu). A dataset's key is split as in the tutorial: its chain runs on split(key)[1] (several
    chains on the split of that into one key each), the predictive uses the same key.
    """

    def chain(key, y, line, priors):
        mcmc = MCMC(
            NUTS(model, target_accept_prob=settings.target_accept_prob),
            num_warmup=settings.num_warmup,
            num_samples=settings.num_samples,
            progress_bar=False,  # the bar's host callbacks slow sampling and defeat the cache
        )
        mcmc.warmup(key, line, priors, y, extra_fields=NUTS_FIELDS, collect_warmup=False)
        mcmc.run(mcmc.post_warmup_state.rng_key, line, priors, y, extra_fields=NUTS_FIELDS)
        draws = {**mcmc.get_samples(), **mcmc.get_extra_fields()}
        if predictive:
            samples = {p: draws[p] for p in PARAMS}
            draws["y"] = Predictive(model, samples, return_sites=["y"])(key, line, priors)["y"]
        return draws

    def fit_one(item, line, priors):
        dataset_key, y = item
        _, key = jax.random.split(dataset_key)
        if settings.num_chains == 1:
            return jax.tree.map(lambda a: a[None], chain(key, y, line, priors))
        keys = jax.random.split(key, settings.num_chains)
        return _over_chains(lambda k: chain(k, y, line, priors), keys, settings)

    return run_batched(fit_one, (keys, ys), (line, priors), batching, "NUTS")


def _over_chains(run_chain: Callable, keys: jax.Array, settings: NutsSettings) -> Any:
    if settings.chain_method == "vectorized":
        return jax.vmap(run_chain)(keys)
    if settings.chain_method == "sequential":
        return jax.lax.map(run_chain, keys)
    # parallel: one XLA CPU device per chain (jax_num_cpu_devices set before JAX started)
    from jax.sharding import Mesh, PartitionSpec

    mesh = Mesh(jax.devices()[: settings.num_chains], ("chain",))
    return jax.shard_map(
        lambda k: jax.lax.map(run_chain, k),
        mesh=mesh,
        in_specs=PartitionSpec("chain"),
        out_specs=PartitionSpec("chain"),
        check_vma=False,  # numpyro's loops mix per-chain and replicated carries
    )(keys)


# ---------------------------------------------------------------------------------------------
# SVI


class SviSettings(NamedTuple):
    """numpyro SVI with an AutoMultivariateNormal guide: steps, Adam's rate, guide draws."""

    num_steps: int
    learning_rate: float
    num_draws: int


def fit_svi(
    line: Line,
    priors: Priors,
    ys: np.ndarray,
    keys: np.ndarray,
    settings: SviSettings,
    batching: Batching = ONE_DATASET,
    predictive: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """SVI (AutoMultivariateNormal guide, Adam, Trace_ELBO) on each dataset, then guide draws.

    Returns arrays with a leading dataset axis: `loss` (step), the guide's `auto_loc` and
    `auto_scale_tril`, the parameters' draws (draw) and, with `predictive`, `y` (draw, nu).
    Keys are split as in the tutorial: (draws, optimisation) = split(key).
    """

    def fit_one(item, line, priors):
        key, y = item
        draw_key, run_key = jax.random.split(key)
        guide = AutoMultivariateNormal(model)
        svi = SVI(model, guide, numpyro.optim.Adam(settings.learning_rate), Trace_ELBO())
        state = svi.init(run_key, line, priors, y)
        # the same updates as numpyro's svi.run, without its progress bar's host callbacks
        state, losses = jax.lax.scan(
            lambda state, _: svi.update(state, line, priors, y), state, length=settings.num_steps
        )
        params = svi.get_params(state)
        draws = Predictive(
            model, guide=guide, params=params, num_samples=settings.num_draws,
            return_sites=list(PARAMS),
        )(draw_key, line, priors)  # fmt: skip
        out = {"loss": losses, **params, **draws}
        if predictive:
            out["y"] = Predictive(model, posterior_samples=draws, return_sites=["y"])(
                draw_key, line, priors
            )["y"]
        return out

    return run_batched(fit_one, (keys, ys), (line, priors), batching, "SVI")


# ---------------------------------------------------------------------------------------------
# Laplace approximation

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


def central_interval(mode: np.ndarray, sd: np.ndarray, prob: float) -> tuple:
    """The central `prob` interval of the approximation, a normal distribution: mode -+ z sd."""
    z = NormalDist().inv_cdf(0.5 + prob / 2)
    return mode - z * sd, mode + z * sd


# jitted, so that tracing numpyro's model (slow Python) happens once per use, not per call site
@jax.jit
def _neg_log_posterior(theta: jax.Array, line: Line, priors: Priors, y: jax.Array) -> jax.Array:
    """-log p(theta | y) up to a constant; +inf outside the priors' support (numpyro's uniform
    density is constant there, which would let the search leave the prior's box)."""
    params = dict(zip(PARAMS, theta, strict=True))
    inside = (
        (priors.logN[0] < theta[0])
        & (theta[0] < priors.logN[1])
        & (priors.logbeta[0] < theta[1])
        & (theta[1] < priors.logbeta[1])
        & (theta[2] > 0)
    )
    value = -log_density(model, (line, priors, y), {}, params)[0]
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
