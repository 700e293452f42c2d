"""NUTS (numpyro): the tutorial's sampler, gradient-based MCMC."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pipeline.io.layouts import InferenceLayout
from pipeline.methods.base import Evaluations, Method, runtime
from pipeline.methods.common import Y, bulk_ess, chain_draws, mcmc_flags


class NutsSettings(NamedTuple):
    """numpyro NUTS: iterations, chains and how they run, step-size adaptation target."""

    num_warmup: int
    num_samples: int
    num_chains: int
    chain_method: str  # vectorized (vmap), sequential (lax.map), parallel (a CPU device each)
    target_accept_prob: float
    dense_mass: bool  # a dense mass matrix, adapted in warmup (False: diagonal)


# numpyro's names of the sampler fields -> ArviZ's sample_stats names (as az.from_numpyro)
SAMPLE_STATS = {
    "diverging": "diverging",
    "num_steps": "n_steps",
    "accept_prob": "acceptance_rate",
    "adapt_state.step_size": "step_size",
    "energy": "energy",
}

LAYOUT = InferenceLayout(
    filename="nuts.nc",
    description="NUTS posterior (numpyro), ArviZ InferenceData layout; dims chain, draw, nu.",
    groups={
        "posterior": {},
        "sample_stats": {
            "diverging": "whether the transition diverged",
            "step_size": "leapfrog step size after adaptation",
            "tree_depth": "depth of the NUTS tree",
            "n_steps": "leapfrog steps of the transition",
            "acceptance_rate": "mean Metropolis acceptance probability of the tree",
            "energy": "Hamiltonian energy",
        },
        "observed_data": Y,
        "posterior_predictive": Y,
    },
    posterior_attrs={"warmup_leapfrog_steps": "leapfrog steps of the warmup, all chains"},
)


def _fit(x, predictive):
    fit_nuts = runtime("inference.nuts", "fit_nuts")
    return fit_nuts(x.problem, x.ys, x.keys, x.settings, x.batching, predictive)


def _groups(fit: dict, nu: np.ndarray, names: tuple[str, ...]) -> dict:
    from pipeline.io.files import draws_group

    stats = {name: fit[field] for field, name in SAMPLE_STATS.items()}
    stats["tree_depth"] = np.log2(stats["n_steps"]).astype(int) + 1  # as az.from_numpyro
    return {
        "sample_stats": draws_group(stats),
        "posterior_predictive": draws_group({"y": fit["y"]}, nu),
    }


def _diagnostics(fit: dict, draws: np.ndarray) -> dict:
    convergence = runtime("analysis.summary", "convergence")
    found = convergence(draws)
    found["divergences"] = fit["diverging"].sum(axis=(1, 2)).astype(float)
    steps = fit["num_steps"].sum(axis=(1, 2)) + fit["warmup_steps"].sum(axis=1)
    found["num_steps"] = steps.astype(float)
    return found


def _evaluations(idata) -> Evaluations:
    warmup = int(idata.posterior.attrs["warmup_leapfrog_steps"])
    return Evaluations(gradient=warmup + int(idata.sample_stats["n_steps"].sum()))


METHOD = Method(
    runs=("inference.nuts", "analysis.summary"),
    name="nuts",
    label="NUTS",
    color="orange",  # the tutorial's
    settings=NutsSettings,
    layout=LAYOUT,
    fit=_fit,
    draws=chain_draws,
    groups=_groups,
    posterior_attrs=lambda fit, settings, names: {
        "warmup_leapfrog_steps": int(fit["warmup_steps"].sum())
    },
    diagnostics=_diagnostics,
    evaluations=_evaluations,
    effective_draws=bulk_ess,
    summary_flags=mcmc_flags,
    independent_draws=False,
    # parallel chains run side by side, one core each
    threads=lambda s: s["num_chains"] if s["chain_method"] == "parallel" else 1,
    num_draws=lambda s: s.num_samples * s.num_chains,
)
