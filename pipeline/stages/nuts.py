"""Stage: sample the posterior of (logN, logbeta, sigmain) with NUTS -> nuts.nc + summary CSV."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import arviz as az
import jax
import numpy as np

from pipeline.inference import Priors, run_nuts
from pipeline.netcdf import annotate_posterior, write_inference
from pipeline.observation import Observation, read_observation
from pipeline.stages import cli
from pipeline.summary import Thresholds, flag, posterior_summary, write_csv


def nuts(obs: Observation, priors: Priors, settings: dict, hdi_prob: float, thresholds: Thresholds):
    """Run NUTS on one dataset; return (InferenceData, flagged summary table)."""
    result = run_nuts(obs.line, priors, obs.f_obs, **settings)
    idata = az.from_numpyro(
        result.mcmc,
        posterior_predictive=result.predictive,
        log_likelihood=False,
        coords={"nu": np.asarray(obs.line.nu)},
        dims={"y": ["nu"]},
    )
    record = {**settings, "priors": priors._asdict(), "hdi_prob": hdi_prob}
    annotate_posterior(idata, "nuts", record, {"data": obs.path}, result.seconds)
    divergences = int(idata.sample_stats["diverging"].sum())
    table = flag(posterior_summary(idata, hdi_prob), divergences, thresholds)
    return idata, table


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: sample one dataset's posterior and write it with its summary."""
    p = cli.parser(__doc__)
    cli.add_sampler_arguments(p)
    p.add_argument("--num-warmup", type=cli.positive_int, default=1000, help="warmup iterations")
    p.add_argument("--num-samples", type=cli.positive_int, default=2000, help="draws per chain")
    p.add_argument("--num-chains", type=cli.positive_int, default=1, help="chains")
    p.add_argument(
        "--chain-method",
        choices=("sequential", "vectorized", "parallel"),
        default="vectorized",
        help="parallel: one CPU device per chain (give --threads as many as chains)",
    )
    p.add_argument("--target-accept-prob", type=float, default=0.8, help="step-size adaptation")
    args = p.parse_args(argv)
    if args.chain_method == "parallel":  # pmap needs a device per chain, set before JAX starts
        jax.config.update("jax_num_cpu_devices", args.num_chains)
    obs = read_observation(args.data, args.threads)
    priors = Priors(**cli.prior_settings(args))
    settings = {
        "num_warmup": args.num_warmup, "num_samples": args.num_samples,
        "num_chains": args.num_chains, "chain_method": args.chain_method,
        "target_accept_prob": args.target_accept_prob, "seed": args.seed,
    }  # fmt: skip
    idata, table = nuts(
        obs, priors, settings, args.hdi_prob, Thresholds(args.min_ess, args.max_r_hat)
    )
    print(table.to_string(float_format="%.4g"))
    for param, problems in table["flags"].items():
        if problems:
            print(f"warning: NUTS {param}: {problems}", file=sys.stderr)
    write_csv(table, args.summary)
    write_inference(idata, args.out, "nuts")


if __name__ == "__main__":
    cli.run(main)
