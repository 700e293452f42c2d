"""Stage: Laplace approximation of the posterior at its mode, started from Adam -> laplace.nc."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from statistics import NormalDist

import jax.numpy as jnp
import numpy as np

from pipeline.inference import Priors, run_laplace
from pipeline.netcdf import PARAMS, new_dataset, provenance, read_dataset, write_dataset
from pipeline.observation import Observation, read_observation
from pipeline.stages import cli


def start(obs: Observation, optimize_path: str) -> jnp.ndarray:
    """Adam's end point for (logN, logbeta), and the rms residual of its fit for sigmain."""
    optimize = read_dataset(optimize_path, "optimize")
    adam = optimize.sel(optimizer="adam")
    residual = adam["f_best"].values - np.asarray(obs.f_obs)
    params = adam["params"].isel(step=-1).values
    return jnp.asarray([*params, np.sqrt(np.mean(residual**2))], dtype=obs.f_obs.dtype)


def laplace(
    obs: Observation, priors: Priors, init: jnp.ndarray, hdi_prob: float, optimize_path: str
):
    """The laplace Dataset of one dataset."""
    result = run_laplace(obs.line, priors, obs.f_obs, init)
    if not result.converged:
        print(f"warning: Newton did not converge in {result.iterations} steps", file=sys.stderr)
    mode = np.asarray(result.mode, dtype=float)
    sd = np.sqrt(np.diag(np.asarray(result.covariance, dtype=float)))
    z = NormalDist().inv_cdf(0.5 + hdi_prob / 2)
    settings = {"priors": priors._asdict(), "hdi_prob": hdi_prob}
    return new_dataset(
        "laplace",
        coords={"param": list(PARAMS), "param_": list(PARAMS)},
        data_vars={
            "mode": mode,
            "sd": sd,
            "covariance": np.asarray(result.covariance),
            "lower": mode - z * sd,
            "upper": mode + z * sd,
        },
        attrs={
            "hdi_prob": hdi_prob,
            "converged": int(result.converged),
            "iterations": result.iterations,
            **result.seconds,
            **provenance("laplace", settings, {"data": obs.path, "optimize": optimize_path}),
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: Laplace-approximate one dataset's posterior."""
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    p.add_argument("--optimize", required=True, help="optimize.nc of the dataset (the start)")
    p.add_argument("--hdi-prob", type=float, default=0.9, help="probability of the interval")
    cli.add_prior_arguments(p)
    args = p.parse_args(argv)
    obs = read_observation(args.data, args.threads)
    priors = Priors(**cli.prior_settings(args))
    ds = laplace(obs, priors, start(obs, args.optimize), args.hdi_prob, args.optimize)
    print(ds[["mode", "sd", "lower", "upper"]].to_dataframe().to_string(float_format="%.5g"))
    write_dataset(ds, args.out, "laplace")


if __name__ == "__main__":
    cli.run(main)
