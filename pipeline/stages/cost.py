"""Stage: what each method cost on one dataset, side by side -> cost.nc, cost.csv."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.analysis.compare import METHODS
from pipeline.analysis.cost import cost_rows, evaluation_seconds
from pipeline.inference.model import Priors
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read, write_dataset
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.physics.observation import read_observation
from pipeline.stages import cli


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: tabulate the cost of every method's fit of one dataset."""
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    for kind in METHODS:
        p.add_argument(f"--{kind.replace('_', '-')}", required=True, help=f"{kind}.nc")
    p.add_argument("--compare", required=True, help="compare.nc of the dataset")
    p.add_argument("--csv", required=True, help="the same table as CSV")
    cli.add_prior_arguments(p)
    args = p.parse_args(argv)
    obs = read_observation(args.data, args.threads)
    paths = {kind: getattr(args, kind) for kind in METHODS}
    fits = {kind: read(path, kind) for kind, path in paths.items()}
    compare = read(args.compare, "compare")
    at = np.array([float(fits["nuts"].posterior[q].mean()) for q in PARAMS])
    seconds = evaluation_seconds(obs.line, Priors(**cli.prior_settings(args)), obs.f_obs, at)
    ds = new_dataset(
        "cost",
        coords={"inference": list(METHODS)},
        data_vars={
            **cost_rows(fits, compare, seconds),
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
