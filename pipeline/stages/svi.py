"""Stage: approximate the posterior with SVI (multivariate normal guide) -> svi.nc."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import xarray as xr

from pipeline.inference.batching import dataset_keys
from pipeline.inference.model import Priors
from pipeline.inference.svi import SviSettings, fit_svi
from pipeline.io.files import draws_group, observed_group, write_inference
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.physics.observation import Observation, read_observation
from pipeline.stages import cli


def svi(obs: Observation, priors: Priors, settings: SviSettings, seed: int) -> dict:
    """SVI on one dataset (a batch of one), as the InferenceData groups of svi.nc: draws from
    the guide, the loss of every step and the guide's parameters."""
    fit, seconds = fit_svi(
        obs.line, priors, np.asarray(obs.f_obs)[None], dataset_keys(seed), settings,
        predictive=True,
    )  # fmt: skip
    fit = {k: v[0] for k, v in fit.items()}  # the batch's one dataset
    record = {**settings._asdict(), "seed": seed, "priors": priors._asdict()}
    nu = np.asarray(obs.line.nu)
    latent = list(PARAMS)  # AutoMultivariateNormal orders the latent vector by sample site
    return {
        "posterior": draws_group(
            {p: fit[p][None] for p in PARAMS},
            attrs={**provenance("svi", record, {"data": obs.path}), **seconds},
        ),
        "posterior_predictive": draws_group({"y": fit["y"][None]}, nu),
        "observed_data": observed_group(obs.f_obs, nu),
        "optimization": xr.Dataset(
            {"loss": ("step", fit["loss"])}, coords={"step": np.arange(len(fit["loss"]))}
        ),
        "guide": xr.Dataset(
            {
                "auto_loc": ("latent", fit["auto_loc"]),
                "auto_scale_tril": (("latent", "latent_"), fit["auto_scale_tril"]),
            },
            coords={"latent": latent, "latent_": latent},
        ),
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of SVI (config section svi, seed aside)."""
    svi = cli.default("svi")
    p.add_argument("--num-steps", type=cli.positive_int, default=svi["num_steps"], help="SVI steps")
    p.add_argument("--learning-rate", type=cli.positive_float, default=svi["learning_rate"],
                   help="numpyro.optim.Adam's rate")  # fmt: skip
    p.add_argument(
        "--num-draws", type=cli.positive_int, default=svi["num_draws"], help="guide draws"
    )


def settings_of(args: argparse.Namespace) -> SviSettings:
    """The SVI flags as inference.SviSettings."""
    return SviSettings(**{n: getattr(args, n) for n in ("num_steps", "learning_rate", "num_draws")})


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: fit the guide to one dataset and write its draws."""
    p = cli.parser(__doc__)
    cli.add_sampler_arguments(p, "svi")
    add_arguments(p)
    args = p.parse_args(argv)
    obs = read_observation(args.data, args.threads)
    settings = settings_of(args)
    groups = svi(obs, Priors(**cli.prior_settings(args)), settings, args.seed)
    losses = groups["optimization"]["loss"].values
    print(f"initial loss {losses[0]:.4f}, mean of the last 500 steps {losses[-500:].mean():.4f}")
    write_inference(groups, args.out, "svi")


if __name__ == "__main__":
    cli.run(main)
