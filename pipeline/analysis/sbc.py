"""Simulation-based calibration: a study's datasets (truths drawn from the model's prior),
each method's fits of a block of them, reduced to the rank of each truth among L posterior
draws (Talts et al. 2018).

Under a calibrated method the rank of the truth among L independent posterior draws is
uniform on 0..L, for every parameter and for any function of parameters and data; the
log-likelihood log p(y | theta) is ranked too, since ranks of parameters alone miss some
errors, such as a likelihood that is too wide (Modrak et al. 2023).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from numpyro.infer import Predictive

from pipeline.inference.batching import Batching
from pipeline.inference.laplace import fit_laplace, start_point
from pipeline.inference.model import Priors, log_likelihood, model
from pipeline.inference.nuts import NutsSettings, fit_nuts
from pipeline.inference.optimize import descend
from pipeline.inference.svi import SviSettings, fit_svi
from pipeline.io.layouts import PARAMS
from pipeline.physics.forward import Line, chi2, transmission
from pipeline.physics.simulate import LineSettings, gaussian_noise

# Streams of a study's own random numbers (truths, Laplace draws, tie-breaking), so that no two
# uses share a key
PRIOR_STREAM, DRAWS_STREAM, TIES_STREAM = 1, 2, 3


def study_keys(study_seed: int, stream: int, indices: np.ndarray) -> np.ndarray:
    """One raw PRNG key per dataset index, from the study seed and the stream."""
    base = jax.random.fold_in(jax.random.PRNGKey(study_seed), stream)
    return np.asarray(jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(indices)))


def study_noise_seed(study_seed: int, index: int) -> int:
    """The RandomState seed of a study dataset's noise, derived from the study seed."""
    return int(np.random.SeedSequence([int(study_seed), int(index)]).generate_state(1)[0])


def simulate_study(
    settings: LineSettings, priors, study_seed: int, indices: np.ndarray, dtype: str
) -> dict[str, np.ndarray]:
    """Datasets of a calibration study: truths (logN, logbeta, sigmain) drawn from the model's
    prior, the noise of each from its own seed. Arrays with a leading dataset axis."""
    line = settings.line(dtype)
    params = ("logN", "logbeta", "sigmain")
    draw = Predictive(model, num_samples=1, return_sites=list(params))
    keys = study_keys(study_seed, PRIOR_STREAM, indices)
    truths = jax.jit(jax.vmap(lambda k: draw(k, line, priors)))(keys)
    truth = np.stack([np.asarray(truths[p])[:, 0] for p in params], axis=1)
    f_true = np.asarray(jax.jit(jax.vmap(lambda t: transmission(line, t[0], t[1])))(truth))
    seeds = np.array([study_noise_seed(study_seed, i) for i in indices], dtype=np.uint32)
    noise = [
        gaussian_noise(t[2], s, settings.n_points, dtype) for t, s in zip(truth, seeds, strict=True)
    ]
    return {
        "nu": np.asarray(line.nu),
        "truth": truth,
        "noise_seed": seeds,
        "f_true": f_true,
        "f_obs": f_true + np.stack(noise),
    }


QUANTITIES = (*PARAMS, "loglik")  # what is ranked: the parameters and the test quantity
METHODS = ("nuts", "svi", "laplace")
# what a block file records of each fit, NaN where the method has no such thing
PER_PARAM = ("ess_bulk", "ess_tail", "r_hat")
DIAGNOSTICS = (*PER_PARAM, "divergences", "num_steps", "final_loss", "converged", "iterations")


class BlockFit(NamedTuple):
    """One method's fits of a block: L draws per dataset, posterior mean and sd, diagnostics
    (name -> array over dataset or (dataset, param)), the seconds of the block, the thinning."""

    draws: np.ndarray  # (dataset, draw, param)
    mean: np.ndarray  # (dataset, param)
    sd: np.ndarray  # (dataset, param)
    diagnostics: dict[str, np.ndarray]
    seconds: dict[str, float]
    thin: int  # every thin-th draw was kept (1 for independent draws)


def ranks(draws: np.ndarray, truth: np.ndarray, tie_breaks: np.ndarray | None = None) -> np.ndarray:
    """The rank of each truth among its draws: how many draws lie below it, 0..L, along the
    last axis of `draws`; NaN where the truth or any draw is not finite.

    Draws equal to the truth (float32 posteriors a few ulps wide have them) count as below at
    random, by `tie_breaks` (uniform in [0, 1), one per truth), as SBC requires: counting
    them all as above would pile ranks at 0."""
    below = (draws < truth[..., None]).sum(axis=-1)
    if tie_breaks is not None:
        equal = (draws == truth[..., None]).sum(axis=-1)
        below = below + np.floor(tie_breaks * (equal + 1)).astype(int)
    finite = np.isfinite(draws).all(axis=-1) & np.isfinite(truth)
    return np.where(finite, below.astype(float), np.nan)


def thinned(draws: np.ndarray, num_draws: int) -> tuple[np.ndarray, int]:
    """`num_draws` evenly spaced draws of each row (dataset, draw, ...), and the spacing."""
    thin = draws.shape[1] // num_draws
    return draws[:, thin - 1 :: thin][:, :num_draws], thin


def stack_params(draws: dict[str, np.ndarray]) -> np.ndarray:
    """Per-parameter arrays as one array with a trailing param axis."""
    return np.stack([draws[p] for p in PARAMS], axis=-1)


def nuts_block(
    line: Line,
    priors: Priors,
    ys: np.ndarray,
    keys: np.ndarray,
    settings: NutsSettings,
    num_draws: int,
    batching: Batching,
) -> BlockFit:
    """NUTS on every dataset of a block; chains pooled, thinned to num_draws."""
    from pipeline.analysis.summary import convergence  # ArviZ, only in the jobs that summarise

    fit, seconds = fit_nuts(line, priors, ys, keys, settings, batching)
    per_chain = stack_params(fit)  # (dataset, chain, draw, param)
    pooled = per_chain.reshape(len(ys), -1, len(PARAMS))
    draws, thin = thinned(pooled, num_draws)
    diagnostics = convergence(per_chain)
    diagnostics["divergences"] = fit["diverging"].sum(axis=(1, 2)).astype(float)
    diagnostics["num_steps"] = (fit["num_steps"].sum(axis=(1, 2))
                                + fit["warmup_steps"].sum(axis=1)).astype(float)  # fmt: skip
    return BlockFit(draws, pooled.mean(1), pooled.std(1, ddof=1), diagnostics, seconds, thin)


def svi_block(
    line: Line,
    priors: Priors,
    ys: np.ndarray,
    keys: np.ndarray,
    settings: SviSettings,
    num_draws: int,
    batching: Batching,
) -> BlockFit:
    """SVI on every dataset of a block; the first num_draws of its independent guide draws."""
    fit, seconds = fit_svi(line, priors, ys, keys, settings, batching)
    every = stack_params(fit)  # (dataset, draw, param)
    diagnostics = {"final_loss": fit["loss"][:, -100:].mean(axis=1)}
    draws = every[:, :num_draws]
    return BlockFit(draws, every.mean(1), every.std(1, ddof=1), diagnostics, seconds, 1)


class AdamStart(NamedTuple):
    """Adam on chi^2 from one point (config section optimize): where the mode search starts."""

    init: tuple[float, float]  # (logN, logbeta)
    learning_rate: float
    steps: int


def adam_starts(line: Line, ys: np.ndarray, adam: AdamStart) -> np.ndarray:
    """Each dataset's start of the mode search, as the workflow's Laplace stage starts from
    optimize.nc: Adam's end point on chi^2, sigmain from its fit. chi^2 is scaled by a noise
    level of 1: Adam's steps do not depend on the scale of the gradient, and the study's
    noise level is unknown to the fits."""
    import optax

    optimizer = optax.adam(adam.learning_rate)
    init = jnp.asarray(adam.init, dtype=ys.dtype)

    def one(y):
        path = descend(chi2, init, optimizer, adam.steps, line, y, 1.0)
        return start_point(line, y, path.params[-1])

    return np.asarray(jax.jit(jax.vmap(one))(ys))


def laplace_block(
    line: Line,
    priors: Priors,
    ys: np.ndarray,
    keys: np.ndarray,
    adam: AdamStart,
    num_draws: int,
    batching: Batching,
) -> BlockFit:
    """The Laplace approximation of every dataset of a block, and num_draws draws from it."""
    fit, seconds = fit_laplace(line, priors, ys, adam_starts(line, ys, adam), batching)
    draw = jax.vmap(lambda k, m, c: jax.random.multivariate_normal(k, m, c, (num_draws,)))
    draws = np.asarray(draw(jnp.asarray(keys), fit["mode"], fit["covariance"]))
    sd = np.sqrt(np.diagonal(fit["covariance"], axis1=1, axis2=2))
    diagnostics = {
        "converged": fit["converged"].astype(float),
        "iterations": fit["iterations"].astype(float),
    }
    return BlockFit(draws, fit["mode"], sd, diagnostics, seconds, 1)


def loglik_ranks(
    line: Line, ys: np.ndarray, truth: np.ndarray, draws: np.ndarray, tie_breaks: np.ndarray
) -> np.ndarray:
    """The rank of log p(y | truth) among log p(y | draw) over the draws, per dataset."""
    per_draw = jax.vmap(jax.vmap(log_likelihood, (None, None, 0)), (None, 0, 0))
    at_truth = jax.vmap(log_likelihood, (None, 0, 0))
    dtype = ys.dtype
    loglik = np.asarray(jax.jit(per_draw)(line, ys, draws.astype(dtype)))
    loglik_truth = np.asarray(jax.jit(at_truth)(line, ys, truth.astype(dtype)))
    return ranks(loglik, loglik_truth, tie_breaks)


def block_ranks(line: Line, block: xr.Dataset, fit: BlockFit) -> np.ndarray:
    """Ranks (dataset, quantity) of the truths of a block among one method's draws, ties
    broken at random by numbers drawn from the study seed and each dataset's index."""
    truth, ys = block["truth"].values, block["f_obs"].values
    tie_breaks = np.stack([
        np.random.default_rng([block.attrs["study_seed"], TIES_STREAM, i]).random(len(QUANTITIES))
        for i in block["dataset"].values
    ])  # fmt: skip
    by_param = ranks(np.moveaxis(fit.draws, 2, 1), truth, tie_breaks[:, :-1])  # (dataset, param)
    loglik = loglik_ranks(line, ys, truth, fit.draws, tie_breaks[:, -1])
    return np.concatenate([by_param, loglik[:, None]], axis=1)


def laplace_keys(study_seed: int, indices: np.ndarray) -> np.ndarray:
    """The keys of the Laplace draws, a stream of the study seed of their own."""
    return study_keys(study_seed, DRAWS_STREAM, indices)


def block_variables(block: xr.Dataset, fit: BlockFit, ranks: np.ndarray) -> dict:
    """The data variables of a block's sbc_fit file: every diagnostic, NaN where the method
    has none."""
    size = len(ranks)
    missing = {name: np.full((size, len(PARAMS)) if name in PER_PARAM else size, np.nan)
               for name in DIAGNOSTICS}  # fmt: skip
    return {
        "truth": block["truth"].values,
        "draws": fit.draws,
        "rank": ranks,
        "mean": fit.mean,
        "sd": fit.sd,
        **missing,
        **fit.diagnostics,
    }


def block_line(block: xr.Dataset) -> Line:
    """The known line of a block of study datasets."""
    dtype = block.attrs["dtype"]
    return Line(
        nu=jnp.asarray(block["nu"].values, dtype=dtype),
        nu0=float(block["nu0"]),
        gamma=float(block["gamma"]),
        line_strength=float(block["line_strength"]),
    )
