"""Stage: every method's posterior beside the NUTS posterior -> compare.nc, compare.csv."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipeline.analysis.compare import METHODS, compare, method_draws
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read, write_dataset
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.stages import cli


def comparison(paths: dict[str, str], hdi_prob: float):
    """The compare Dataset of one dataset's posterior files (layout -> path, NUTS first)."""
    samples = method_draws({kind: read(path, kind) for kind, path in paths.items()})
    return new_dataset(
        "compare",
        coords={"inference": list(samples), "param": list(PARAMS)},
        data_vars=compare(samples, hdi_prob),
        attrs={
            "hdi_prob": hdi_prob,
            **provenance("compare", {"hdi_prob": hdi_prob}, paths),
        },
    )


def as_table(ds) -> pd.DataFrame:
    """compare.nc as a tidy table: one row per method and parameter."""
    table = ds.drop_vars("energy_distance").to_dataframe()
    table["energy_distance"] = (
        ds["energy_distance"].to_series().reindex(table.index.get_level_values("inference")).values
    )
    return table


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: compare one dataset's posteriors with its NUTS posterior."""
    p = cli.parser(__doc__, threads=False)
    for kind in METHODS:
        p.add_argument(f"--{kind.replace('_', '-')}", required=kind == "nuts",
                       help=f"{kind}.nc of the dataset")  # fmt: skip
    p.add_argument("--csv", required=True, help="the same table as CSV")
    cli.add_hdi_argument(p)
    args = p.parse_args(argv)
    paths = {kind: getattr(args, kind) for kind in METHODS if getattr(args, kind)}
    if len(paths) < 2:
        p.error("give NUTS and at least one other method to compare with it")
    ds = comparison(paths, args.hdi_prob)
    table = as_table(ds)
    print(table.to_string(float_format="%.4g"))
    with replaced_atomically(args.csv) as tmp:
        table.to_csv(tmp, float_format="%.6g")
    write_dataset(ds, args.out, "compare")


if __name__ == "__main__":
    cli.run(main)
