"""Stage: approximate the posterior with SVI (multivariate normal guide) -> svi.nc + summary."""

from __future__ import annotations

from collections.abc import Sequence

import arviz as az
import numpy as np
import xarray as xr

from pipeline.inference import Priors, run_svi
from pipeline.netcdf import PARAMS, annotate_posterior, write_inference
from pipeline.observation import Observation, read_observation
from pipeline.stages import cli
from pipeline.summary import posterior_summary, write_csv


def svi(obs: Observation, priors: Priors, settings: dict, hdi_prob: float):
    """Run SVI on one dataset; return (InferenceData with loss trace and guide, summary table)."""
    result = run_svi(obs.line, priors, obs.f_obs, **settings)
    nu = np.asarray(obs.line.nu)
    idata = az.from_dict(
        posterior={p: np.asarray(result.posterior[p])[None] for p in PARAMS},
        posterior_predictive={"y": np.asarray(result.predictive["y"])[None]},
        observed_data={"y": np.asarray(obs.f_obs)},
        coords={"nu": nu},
        dims={"y": ["nu"]},
    )
    latent = list(PARAMS)  # AutoMultivariateNormal orders the latent vector by sample site
    loss = xr.Dataset(
        {"loss": ("step", np.asarray(result.losses))},
        coords={"step": np.arange(len(result.losses))},
    )
    guide = xr.Dataset(
        {
            "auto_loc": ("latent", np.asarray(result.params["auto_loc"])),
            "auto_scale_tril": (
                ("latent", "latent_"),
                np.asarray(result.params["auto_scale_tril"]),
            ),
        },
        coords={"latent": latent, "latent_": latent},
    )
    idata.add_groups(optimization=loss, guide=guide, warn_on_custom_groups=False)
    record = {**settings, "priors": priors._asdict(), "hdi_prob": hdi_prob}
    annotate_posterior(idata, "svi", record, {"data": obs.path}, result.seconds)
    return idata, posterior_summary(idata, hdi_prob)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: fit the guide to one dataset and write its draws and summary."""
    p = cli.parser(__doc__)
    cli.add_sampler_arguments(p)
    p.add_argument("--num-steps", type=cli.positive_int, default=10000, help="optimisation steps")
    p.add_argument("--learning-rate", type=cli.positive_float, default=0.01, help="Adam rate")
    p.add_argument("--num-draws", type=cli.positive_int, default=2000, help="draws from the guide")
    args = p.parse_args(argv)
    obs = read_observation(args.data, args.threads)
    priors = Priors(**cli.prior_settings(args))
    settings = {
        "num_steps": args.num_steps, "learning_rate": args.learning_rate,
        "num_draws": args.num_draws, "seed": args.seed,
    }  # fmt: skip
    idata, table = svi(obs, priors, settings, args.hdi_prob)
    losses = idata.optimization["loss"].values
    print(f"initial loss {losses[0]:.4f}, mean of the last 500 steps {losses[-500:].mean():.4f}")
    print(table.to_string(float_format="%.4g"))
    write_csv(table, args.summary)
    write_inference(idata, args.out, "svi")


if __name__ == "__main__":
    cli.run(main)
