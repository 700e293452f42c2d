"""Simulation-based calibration: a study's datasets (truths drawn from the model's prior),
any method's fits of a block of them, reduced to the rank of each truth among L posterior
draws (Talts et al. 2018).

Under a calibrated method the rank of the truth among L independent posterior draws is
uniform on 0..L, for every parameter and for any function of parameters and data; the
log-likelihood log p(y | theta) is ranked too, since ranks of parameters alone miss some
errors, such as a likelihood that is too wide (Modrak et al. 2023), and so is the joint
log density log p(y, theta), a test of the whole posterior rather than of its margins.

MCMC draws are thinned by each fit's own ESS (Talts et al. 2018, section 5.1), so that the
ranked draws are close to independent (correlated draws pile ranks at the extremes). A fit
with an ESS below L ranks its truth among fewer draws, the rank then mapped to 0..L at random
(uniform stays uniform).
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

# the ranked test quantities besides the parameters: log p(y | theta) and log p(y, theta)
LOGLIK, LOGJOINT = "loglik", "logjoint"
TEST_QUANTITIES = (LOGLIK, LOGJOINT)
# what a block file records of each fit, NaN where the method has no such thing
PER_PARAM = ("ess_bulk", "ess_tail", "r_hat")
DIAGNOSTICS = (*PER_PARAM, "divergences", "num_steps", "final_loss", "loss_drop",
               "loss_drop_se", "converged", "iterations")  # fmt: skip


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
    """One method's fits of a block: the ranked draws of each dataset, posterior mean and sd,
    diagnostics (name -> array over dataset or (dataset, param)), the seconds of the block,
    each fit's thinning, how many draws it ranks and the ESS that chose them."""

    draws: np.ndarray  # (dataset, L, param): a fit ranking fewer than L draws is NaN after them
    mean: np.ndarray  # (dataset, param)
    sd: np.ndarray  # (dataset, param)
    diagnostics: dict[str, np.ndarray]
    seconds: dict[str, float]
    thin: np.ndarray  # (dataset,) every thin-th draw was kept (1 for independent draws)
    kept: np.ndarray  # (dataset,) draws ranked, at most L
    ess: np.ndarray  # (dataset,) smallest bulk or tail ESS over the parameters (NaN: none)


def block_fit(
    per_chain: np.ndarray,
    diagnostics: dict[str, np.ndarray],
    seconds: dict[str, float],
    independent: bool,
    num_draws: int,
    thinning: str,
) -> BlockFit:
    """A block's fits from every draw (dataset, chain, draw, param), chains pooled: the first
    L of independent draws; of MCMC chains, draws evenly spaced over all of them, L of them
    with `thinning` "widest", or with "ess" one per effective draw (each fit's smallest bulk
    or tail ESS over the parameters), at most L."""
    size, total = per_chain.shape[0], per_chain.shape[1] * per_chain.shape[2]
    pooled = per_chain.reshape(size, total, per_chain.shape[-1])
    mean, sd = pooled.mean(1), pooled.std(1, ddof=1)
    if independent:
        ones, kept = np.ones(size, int), np.full(size, num_draws)
        return BlockFit(pooled[:, :num_draws], mean, sd, diagnostics, seconds, ones, kept,
                        np.full(size, np.nan))  # fmt: skip
    ess = np.fmin(diagnostics["ess_bulk"], diagnostics["ess_tail"]).min(axis=1)
    kept = ess_draws(total, ess, num_draws) if thinning == "ess" else np.full(size, num_draws)
    thin = total // kept
    draws = np.full((size, num_draws, pooled.shape[-1]), np.nan, pooled.dtype)
    for i in range(size):
        draws[i, : kept[i]] = pooled[i, thin[i] - 1 :: thin[i]][: kept[i]]
    return BlockFit(draws, mean, sd, diagnostics, seconds, thin, kept, ess)


def ess_draws(total: int, ess: np.ndarray, num_draws: int) -> np.ndarray:
    """How many of a fit's `total` correlated draws to rank so that they are close to
    independent: one per effective draw, total // ceil(total / ESS), at most L, at least 1 (a
    stuck chain, whose ESS is NaN, ranks one draw)."""
    spacing = np.ceil(total / np.where(np.isfinite(ess), np.maximum(ess, 1.0), 1.0))
    return np.clip(total // spacing, 1, num_draws).astype(int)


def ranks(
    draws: np.ndarray,
    truth: np.ndarray,
    tie_breaks: np.ndarray | None = None,
    kept: np.ndarray | None = None,
    jitter: np.ndarray | None = None,
) -> np.ndarray:
    """The rank of each truth among its draws: how many draws lie below it, 0..L, along the
    last axis of `draws`; NaN where the truth or any draw is not finite.

    Draws equal to the truth (float32 posteriors a few ulps wide have them) count as below at
    random, by `tie_breaks` (uniform in [0, 1), one per truth), as SBC requires: counting
    them all as above would pile ranks at 0. Where `kept` (broadcast against `truth`) is below
    L, only the first `kept` draws count, and the rank r among them becomes
    floor((r + u) (L + 1) / (kept + 1)) with u = `jitter`, uniform in [0, 1): uniform on 0..kept
    then gives uniform on 0..L."""
    num_draws = draws.shape[-1]
    kept = np.broadcast_to(num_draws if kept is None else kept, np.shape(truth))
    counted = np.arange(num_draws) < kept[..., None]
    below = ((draws < truth[..., None]) & counted).sum(axis=-1)
    if tie_breaks is not None:
        equal = ((draws == truth[..., None]) & counted).sum(axis=-1)
        below = below + np.floor(tie_breaks * (equal + 1)).astype(int)
    if jitter is not None:
        scaled = np.floor((below + jitter) * (num_draws + 1) / (kept + 1)).astype(int)
        below = np.where(kept < num_draws, scaled, below)
    finite = (np.isfinite(draws) | ~counted).all(axis=-1) & np.isfinite(truth)
    return np.where(finite, below.astype(float), np.nan)


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


def density_ranks(
    problem: Problem, ys: np.ndarray, truth: np.ndarray, fit: BlockFit, tie_breaks, jitter
) -> np.ndarray:
    """The ranks (dataset, 2) of log p(y | truth) among log p(y | draw) over the draws, and of
    log p(y, truth) among log p(y, draw): TEST_QUANTITIES."""
    model, line, priors = problem

    def densities(y, theta):
        named = model.named(theta)
        return jnp.stack(
            [model.log_likelihood(line, y, named), model.log_joint(line, priors, y, named)]
        )

    per_draw = jax.vmap(jax.vmap(densities, (None, 0)), (0, 0))  # (dataset, draw, quantity)
    dtype = ys.dtype
    at_draws = np.asarray(jax.jit(per_draw)(ys, fit.draws.astype(dtype)))
    at_truth = np.asarray(jax.jit(jax.vmap(densities))(ys, truth.astype(dtype)))
    kept = fit.kept[:, None]
    return ranks(np.moveaxis(at_draws, 1, 2), at_truth, tie_breaks, kept, jitter)


def block_ranks(problem: Problem, block: xr.Dataset, fit: BlockFit, tie_stream: int) -> np.ndarray:
    """Ranks (dataset, quantity) of the truths of a block among one method's draws, ties
    broken (and ranks among fewer than L draws mapped to 0..L) at random by numbers drawn from
    the study seed, the stream and the dataset."""
    truth, ys = block["truth"].values, block["f_obs"].values
    num_params = truth.shape[1]
    quantities = num_params + len(TEST_QUANTITIES)
    # per dataset: tie breaks, then (drawn after them, so that they stay as they were) jitters
    uniforms = np.stack([
        np.random.default_rng([block.attrs["study_seed"], tie_stream, i]).random(2 * quantities)
        for i in block["dataset"].values
    ])  # fmt: skip
    ties, jitter = uniforms[:, :quantities], uniforms[:, quantities:]
    p = slice(0, num_params)
    d = slice(num_params, None)
    draws = np.moveaxis(fit.draws, 2, 1)
    by_param = ranks(draws, truth, ties[:, p], fit.kept[:, None], jitter[:, p])
    by_density = density_ranks(problem, ys, truth, fit, ties[:, d], jitter[:, d])
    return np.concatenate([by_param, by_density], axis=1)


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
        "thin": fit.thin,
        "ranked_draws": fit.kept,
        "ess_min": fit.ess,
        **missing,
        **fit.diagnostics,
    }
