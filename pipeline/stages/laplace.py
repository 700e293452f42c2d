"""Stage: Laplace approximation of the posterior at its mode, started from Adam -> laplace.nc."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from pipeline.inference.laplace import central_interval, fit_laplace, laplace_flags, start_point
from pipeline.inference.model import Priors
from pipeline.io.files import new_dataset, read_dataset, write_dataset
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.physics.observation import Observation, read_observation
from pipeline.stages import cli


def adam_end(optimize_path: str, obs: Observation) -> jnp.ndarray:
    """The start of the mode search: Adam's end point in optimize.nc, sigmain from its fit."""
    adam = read_dataset(optimize_path, "optimize")["params"].sel(optimizer="adam")
    end = jnp.asarray(adam.isel(step=-1).values, dtype=obs.f_obs.dtype)
    return start_point(obs.line, obs.f_obs, end)


def laplace(
    obs: Observation, priors: Priors, init: jnp.ndarray, hdi_prob: float, optimize_path: str
):
    """The laplace Dataset of one dataset (a batch of one)."""
    fit, seconds = fit_laplace(
        obs.line, priors, np.asarray(obs.f_obs)[None], np.asarray(init)[None]
    )
    fit = {k: v[0] for k, v in fit.items()}
    flags = laplace_flags(fit)
    if flags:
        print(f"warning: Laplace: {flags}", file=sys.stderr)
    mode = np.asarray(fit["mode"], dtype=float)
    sd = np.sqrt(np.diag(np.asarray(fit["covariance"], dtype=float)))
    lower, upper = central_interval(mode, sd, hdi_prob)
    settings = {"priors": priors._asdict(), "hdi_prob": hdi_prob}
    return new_dataset(
        "laplace",
        coords={"param": list(PARAMS), "param_": list(PARAMS)},
        data_vars={
            "mode": mode,
            "sd": sd,
            "covariance": fit["covariance"],
            "lower": lower,
            "upper": upper,
        },
        attrs={
            "hdi_prob": hdi_prob,
            "converged": int(fit["converged"]),
            "flags": flags,
            "iterations": int(fit["iterations"]),
            **seconds,
            **provenance("laplace", settings, {"data": obs.path, "optimize": optimize_path}),
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: Laplace-approximate one dataset's posterior."""
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    p.add_argument("--optimize", required=True, help="optimize.nc of the dataset (the start)")
    cli.add_hdi_argument(p)
    cli.add_prior_arguments(p)
    args = p.parse_args(argv)
    obs = read_observation(args.data, args.threads)
    priors = Priors(**cli.prior_settings(args))
    init = adam_end(args.optimize, obs)
    ds = laplace(obs, priors, init, args.hdi_prob, args.optimize)
    print(ds[["mode", "sd", "lower", "upper"]].to_dataframe().to_string(float_format="%.5g"))
    write_dataset(ds, args.out, "laplace")


if __name__ == "__main__":
    cli.run(main)
