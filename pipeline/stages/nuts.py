"""Stage: sample the posterior of (logN, logbeta, sigmain) with NUTS -> nuts.nc."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from pipeline.inference import NutsSettings, Priors, dataset_keys, fit_nuts
from pipeline.netcdf import PARAMS, draws_group, observed_group, provenance, write_inference
from pipeline.observation import Observation, read_observation
from pipeline.stages import cli

# numpyro's names of the sampler fields -> ArviZ's sample_stats names (as az.from_numpyro)
SAMPLE_STATS = {
    "diverging": "diverging",
    "num_steps": "n_steps",
    "accept_prob": "acceptance_rate",
    "adapt_state.step_size": "step_size",
    "energy": "energy",
}


def nuts(obs: Observation, priors: Priors, settings: NutsSettings, seed: int) -> dict:
    """NUTS on one dataset (a batch of one), as the InferenceData groups of nuts.nc."""
    draws, seconds = fit_nuts(
        obs.line, priors, np.asarray(obs.f_obs)[None], dataset_keys(seed), settings,
        predictive=True,
    )  # fmt: skip
    draws = {k: v[0] for k, v in draws.items()}  # the batch's one dataset: (chain, draw)
    stats = {name: draws[field] for field, name in SAMPLE_STATS.items()}
    stats["tree_depth"] = np.log2(stats["n_steps"]).astype(int) + 1  # as az.from_numpyro
    record = {**settings._asdict(), "seed": seed, "priors": priors._asdict()}
    nu = np.asarray(obs.line.nu)
    return {
        "posterior": draws_group(
            {p: draws[p] for p in PARAMS},
            attrs={**provenance("nuts", record, {"data": obs.path}), **seconds},
        ),
        "sample_stats": draws_group(stats),
        "posterior_predictive": draws_group({"y": draws["y"]}, nu),
        "observed_data": observed_group(obs.f_obs, nu),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: sample one dataset's posterior and write the draws."""
    p = cli.parser(__doc__)
    cli.add_sampler_arguments(p)
    cli.add_nuts_arguments(p)
    args = p.parse_args(argv)
    settings = NutsSettings(**cli.nuts_settings(args))
    if settings.chain_method == "parallel":  # a device per chain, set before JAX starts
        jax.config.update("jax_num_cpu_devices", settings.num_chains)
    obs = read_observation(args.data, args.threads)
    groups = nuts(obs, Priors(**cli.prior_settings(args)), settings, args.seed)
    divergences = int(groups["sample_stats"]["diverging"].sum())
    print(f"{divergences} divergences; summary and checks: pipeline.stages.summary")
    write_inference(groups, args.out, "nuts")


if __name__ == "__main__":
    cli.run(main)
