"""Stage: what each method cost on one dataset, side by side -> cost.nc, cost.csv."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.analysis.cost import cost_rows, evaluation_seconds
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read_dataset, read_inference, write_dataset
from pipeline.io.provenance import provenance
from pipeline.methods import find
from pipeline.stages import cli
from pipeline.stages.observation import problem, read_observation

KEYS = ("model", "line", "priors", "methods")


def record(method, idata) -> dict:
    """A method's evaluations, seconds and effective draws, from its file."""
    counts = method.evaluations(idata)
    if method.effective_draws is None:
        ess, kind = np.nan, "none: an approximation's draws are not posterior samples"
    else:
        ess, kind = method.effective_draws(idata)
    attrs = idata.posterior.attrs
    return {
        **{f"{name}_evaluations": float(n) for name, n in counts._asdict().items()},
        "compile_seconds": float(attrs["compile_seconds"]),
        "run_seconds": float(attrs["run_seconds"]),
        "min_ess": float(ess),
        "ess_kind": kind,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: tabulate the cost of every method's fit of one dataset."""
    p = cli.parser(__doc__, KEYS)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    p.add_argument("--fits", nargs="+", required=True, metavar="NAME=PATH",
                   help="the method entries' files, the reference first")  # fmt: skip
    p.add_argument("--compare", required=True, help="compare.nc of the dataset")
    p.add_argument("--csv", required=True, help="the same table as CSV")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    obs = read_observation(args.data, args.threads)
    paths = cli.files(args.fits, "--fits")
    methods = {name: find(config["methods"], config, name).method for name in paths}
    fits = {name: read_inference(path, methods[name].layout) for name, path in paths.items()}
    compare = read_dataset(args.compare, "compare")
    reference = next(iter(fits.values()))
    prob = problem(config, config["model"], obs.nu, obs.dtype)
    at = np.array([float(reference.posterior[n].mean()) for n in prob.model.names])
    seconds = evaluation_seconds(prob, np.asarray(obs.f_obs), at)
    rows = {name: record(methods[name], fit) for name, fit in fits.items()}
    ds = new_dataset(
        "cost",
        coords={"inference": list(paths)},
        data_vars={
            **cost_rows(rows, compare, seconds),
            **{f"{name}_seconds": value for name, value in seconds.items()},
        },
        attrs=provenance("cost", {}, {"data": args.data, "compare": args.compare, **paths}),
    )
    table = ds[[v for v in ds.data_vars if "inference" in ds[v].dims]].to_dataframe()
    ratios = {name: seconds[name] / seconds["value"] for name in ("gradient", "hessian")}
    print(table.to_string(float_format="%.4g"))
    print(f"one value {seconds['value'] * 1e6:.1f} us; a gradient costs {ratios['gradient']:.2f} "
          f"values, a Hessian {ratios['hessian']:.2f}")  # fmt: skip
    with replaced_atomically(args.csv) as tmp:
        table.assign(**{f"{k}_cost_ratio": v for k, v in ratios.items()}).to_csv(
            tmp, float_format="%.6g"
        )
    write_dataset(ds, args.out, "cost")


if __name__ == "__main__":
    cli.run(main)
