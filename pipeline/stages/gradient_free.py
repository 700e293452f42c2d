"""Stage: sample the posterior without gradients (numpyro SA) from the Laplace mode
-> gradient_free.nc."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.inference.batching import dataset_keys
from pipeline.inference.gradient_free import (
    GradientFreeSettings,
    fit_gradient_free,
    value_evaluations,
)
from pipeline.inference.model import Priors
from pipeline.io.files import draws_group, observed_group, read_dataset, write_inference
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.physics.observation import Observation, read_observation
from pipeline.stages import cli


def gradient_free(
    obs: Observation,
    priors: Priors,
    settings: GradientFreeSettings,
    seed: int,
    start: np.ndarray,
    laplace_path: str,
) -> dict:
    """SA on one dataset (a batch of one), as the InferenceData groups of gradient_free.nc."""
    dtype = np.asarray(obs.f_obs).dtype
    draws, seconds = fit_gradient_free(
        obs.line, priors, np.asarray(obs.f_obs)[None], start.astype(dtype)[None],
        dataset_keys(seed), settings,
    )  # fmt: skip
    draws = {k: v[0] for k, v in draws.items()}  # the batch's one dataset: (chain, draw)
    record = {**settings._asdict(), "seed": seed, "priors": priors._asdict()}
    sources = {"data": obs.path, "laplace": laplace_path}
    return {
        "posterior": draws_group(
            {p: draws[p] for p in PARAMS},
            attrs={
                **provenance("gradient_free", record, sources),
                **seconds,
                "value_evaluations": value_evaluations(settings),
            },
        ),
        "sample_stats": draws_group({"accept_prob": draws["accept_prob"]}),
        "observed_data": observed_group(obs.f_obs, np.asarray(obs.line.nu)),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: sample one dataset's posterior with SA, started at its Laplace mode."""
    p = cli.parser(__doc__)
    cli.add_sampler_arguments(p, "gradient_free")
    p.add_argument("--laplace", required=True, help="laplace.nc of the dataset (the start)")
    defaults = cli.default("gradient_free")
    for name, help_text in (("num_warmup", "adaptation iterations per chain"),
                            ("num_samples", "iterations kept per chain, before thinning"),
                            ("num_chains", "chains, run vectorised"),
                            ("thinning", "keep every thinning-th draw")):  # fmt: skip
        p.add_argument(f"--{name.replace('_', '-')}", type=cli.positive_int,
                       default=defaults[name], help=help_text)  # fmt: skip
    args = p.parse_args(argv)
    settings = GradientFreeSettings(
        args.num_warmup, args.num_samples, args.num_chains, args.thinning
    )
    obs = read_observation(args.data, args.threads)
    start = read_dataset(args.laplace, "laplace")["mode"].sel(param=list(PARAMS)).values
    groups = gradient_free(
        obs, Priors(**cli.prior_settings(args)), settings, args.seed, start, args.laplace
    )
    accept = float(groups["sample_stats"]["accept_prob"].mean())
    print(f"mean acceptance probability {accept:.3f}; summary and checks: pipeline.stages.summary")
    write_inference(groups, args.out, "gradient_free")


if __name__ == "__main__":
    cli.run(main)
