"""Simulation-based calibration: a study's datasets (truths drawn from the model's prior),
any method's fits of a block of them, reduced to the rank of each truth among L posterior
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
import optax
import xarray as xr

from pipeline.inference.optimize import descend
from pipeline.models.simulate import prior_draws, simulate_from_truths
from pipeline.models.spec import Problem

LOGLIK = "loglik"  # the ranked test quantity besides the parameters: log p(y | theta)
# what a block file records of each fit, NaN where the method has no such thing
PER_PARAM = ("ess_bulk", "ess_tail", "r_hat")
DIAGNOSTICS = (*PER_PARAM, "divergences", "num_steps", "final_loss", "converged", "iterations")


def study_noise_seed(study_seed: int, index: int) -> int:
    """The RandomState seed of a study dataset's noise, derived from the study seed."""
    return int(np.random.SeedSequence([int(study_seed), int(index)]).generate_state(1)[0])


def simulate_study(problem: Problem, truth_keys: np.ndarray, seeds: np.ndarray) -> dict:
    """Datasets of a calibration study: truths (dataset, param) drawn from the model's prior,
    one per key, and the observed flux (dataset, nu), the noise of each from its seed."""
    model, line, priors = problem
    truth = prior_draws(model, line, priors, truth_keys)
    return {"truth": truth, "f_obs": simulate_from_truths(model, line, truth, seeds)}


class BlockFit(NamedTuple):
    """One method's fits of a block: L draws per dataset, posterior mean and sd, diagnostics
    (name -> array over dataset or (dataset, param)), the seconds of the block, the thinning."""

    draws: np.ndarray  # (dataset, draw, param)
    mean: np.ndarray  # (dataset, param)
    sd: np.ndarray  # (dataset, param)
    diagnostics: dict[str, np.ndarray]
    seconds: dict[str, float]
    thin: int  # every thin-th draw was kept (1 for independent draws)


def block_fit(
    per_chain: np.ndarray,
    diagnostics: dict[str, np.ndarray],
    seconds: dict[str, float],
    independent: bool,
    num_draws: int,
) -> BlockFit:
    """A block's fits from every draw (dataset, chain, draw, param): chains pooled; the first
    L draws of independent draws, evenly spaced draws of MCMC chains."""
    pooled = per_chain.reshape(per_chain.shape[0], -1, per_chain.shape[-1])
    draws, thin = (pooled[:, :num_draws], 1) if independent else thinned(pooled, num_draws)
    return BlockFit(draws, pooled.mean(1), pooled.std(1, ddof=1), diagnostics, seconds, thin)


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


class AdamStart(NamedTuple):
    """Adam on chi^2 from one point (config section optimize): where a mode search starts."""

    init: dict[str, float]  # the model's line parameters
    learning_rate: float
    steps: int


def adam_starts(problem: Problem, ys: np.ndarray, adam: AdamStart) -> np.ndarray:
    """Each dataset's start of a mode search (the model's parameters in order), as the
    workflow's starts come from optimize.nc: Adam's end point on chi^2, the noise level from
    its fit. chi^2 is scaled by a noise level of 1: Adam's steps do not depend on the scale
    of the gradient, and the study's noise level is unknown to the fits."""
    model, line, _ = problem
    names = model.line_names
    init = jnp.asarray([adam.init[n] for n in names], dtype=ys.dtype)

    def loss(vector, line, y):
        return model.chi2(line, y, 1.0, model.named(vector, names))

    def one(y):
        path = descend(loss, init, optax.adam(adam.learning_rate), adam.steps, line, y)
        return model.start(line, y, path.params[-1])

    return np.asarray(jax.jit(jax.vmap(one))(ys))


def loglik_ranks(
    problem: Problem, ys: np.ndarray, truth: np.ndarray, draws: np.ndarray, tie_breaks
) -> np.ndarray:
    """The rank of log p(y | truth) among log p(y | draw) over the draws, per dataset."""
    model, line, _ = problem

    def loglik(y, theta):
        return model.log_likelihood(line, y, model.named(theta))

    per_draw = jax.vmap(jax.vmap(loglik, (None, 0)), (0, 0))
    dtype = ys.dtype
    at_draws = np.asarray(jax.jit(per_draw)(ys, draws.astype(dtype)))
    at_truth = np.asarray(jax.jit(jax.vmap(loglik))(ys, truth.astype(dtype)))
    return ranks(at_draws, at_truth, tie_breaks)


def block_ranks(problem: Problem, block: xr.Dataset, fit: BlockFit, tie_stream: int) -> np.ndarray:
    """Ranks (dataset, quantity) of the truths of a block among one method's draws, ties
    broken at random by numbers drawn from the study seed, the stream and the dataset."""
    truth, ys = block["truth"].values, block["f_obs"].values
    quantities = truth.shape[1] + 1
    tie_breaks = np.stack([
        np.random.default_rng([block.attrs["study_seed"], tie_stream, i]).random(quantities)
        for i in block["dataset"].values
    ])  # fmt: skip
    by_param = ranks(np.moveaxis(fit.draws, 2, 1), truth, tie_breaks[:, :-1])  # (dataset, param)
    loglik = loglik_ranks(problem, ys, truth, fit.draws, tie_breaks[:, -1])
    return np.concatenate([by_param, loglik[:, None]], axis=1)


def block_variables(block: xr.Dataset, fit: BlockFit, ranks: np.ndarray) -> dict:
    """The data variables of a block's sbc_fit file: every diagnostic, NaN where the method
    has none."""
    size, num_params = block["truth"].shape
    missing = {name: np.full((size, num_params) if name in PER_PARAM else size, np.nan)
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
