"""Stage: sample the posterior of (logN, logbeta, sigmain) with NUTS -> nuts.nc."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import jax
import numpy as np

from pipeline.inference.batching import dataset_keys
from pipeline.inference.model import Priors
from pipeline.inference.nuts import CHAIN_METHODS, NutsSettings, fit_nuts
from pipeline.io.files import draws_group, observed_group, write_inference
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.physics.observation import Observation, read_observation
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
    warmup_steps = int(draws.pop("warmup_steps").sum())
    stats = {name: draws[field] for field, name in SAMPLE_STATS.items()}
    stats["tree_depth"] = np.log2(stats["n_steps"]).astype(int) + 1  # as az.from_numpyro
    record = {**settings._asdict(), "seed": seed, "priors": priors._asdict()}
    nu = np.asarray(obs.line.nu)
    return {
        "posterior": draws_group(
            {p: draws[p] for p in PARAMS},
            attrs={
                **provenance("nuts", record, {"data": obs.path}),
                **seconds,
                "warmup_leapfrog_steps": warmup_steps,
            },
        ),
        "sample_stats": draws_group(stats),
        "posterior_predictive": draws_group({"y": draws["y"]}, nu),
        "observed_data": observed_group(obs.f_obs, nu),
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of NUTS (config section nuts, seed aside)."""

    nuts = cli.default("nuts")
    p.add_argument("--num-warmup", type=cli.positive_int, default=nuts["num_warmup"])
    p.add_argument(
        "--num-samples", type=cli.positive_int, default=nuts["num_samples"], help="draws"
    )
    p.add_argument("--num-chains", type=cli.positive_int, default=nuts["num_chains"], help="chains")
    p.add_argument(
        "--chain-method",
        choices=CHAIN_METHODS,
        default=nuts["chain_method"],
        help="parallel: one CPU device per chain (give --threads as many as chains)",
    )
    p.add_argument("--target-accept-prob", type=float, default=nuts["target_accept_prob"],
                   help="step-size adaptation")  # fmt: skip


def settings_of(args: argparse.Namespace) -> NutsSettings:
    """The NUTS flags as inference.NutsSettings."""
    names = ("num_warmup", "num_samples", "num_chains", "chain_method", "target_accept_prob")
    return NutsSettings(**{name: getattr(args, name) for name in names})


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: sample one dataset's posterior and write the draws."""
    p = cli.parser(__doc__)
    cli.add_sampler_arguments(p, "nuts")
    add_arguments(p)
    args = p.parse_args(argv)
    settings = settings_of(args)
    if settings.chain_method == "parallel":  # a device per chain, set before JAX starts
        jax.config.update("jax_num_cpu_devices", settings.num_chains)
    obs = read_observation(args.data, args.threads)
    groups = nuts(obs, Priors(**cli.prior_settings(args)), settings, args.seed)
    divergences = int(groups["sample_stats"]["diverging"].sum())
    print(f"{divergences} divergences; summary and checks: pipeline.stages.summary")
    write_inference(groups, args.out, "nuts")


if __name__ == "__main__":
    cli.run(main)
