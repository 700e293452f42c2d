"""Stage: every method's posterior beside the reference's (the first) -> compare.nc, .csv."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipeline.analysis.compare import compare, draws
from pipeline.analysis.summary import parameters
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read_inference, write_dataset
from pipeline.io.provenance import provenance
from pipeline.methods import find
from pipeline.stages import cli

KEYS = ("methods", "diagnostics.hdi_prob")


def comparison(fits: dict, hdi_prob: float, paths: dict[str, str]):
    """The compare Dataset of one dataset's posterior files (name -> InferenceData, the
    reference first)."""
    samples = {name: draws(idata) for name, idata in fits.items()}
    return new_dataset(
        "compare",
        coords={"inference": list(samples), "param": parameters(next(iter(fits.values())))},
        data_vars=compare(samples, hdi_prob),
        attrs={"hdi_prob": hdi_prob, **provenance("compare", {"hdi_prob": hdi_prob}, paths)},
    )


def as_table(ds) -> pd.DataFrame:
    """compare.nc as a tidy table: one row per method and parameter."""
    table = ds.drop_vars("energy_distance").to_dataframe()
    table["energy_distance"] = (
        ds["energy_distance"].to_series().reindex(table.index.get_level_values("inference")).values
    )
    return table


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: compare one dataset's posteriors with the reference's."""
    p = cli.parser(__doc__, KEYS, threads=False)
    p.add_argument("--fits", nargs="+", required=True, metavar="NAME=PATH",
                   help="the method entries' files, the reference first")  # fmt: skip
    p.add_argument("--csv", required=True, help="the same table as CSV")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    paths = cli.files(args.fits, "--fits")
    if len(paths) < 2:
        p.error("give the reference and at least one other method to compare with it")
    fits = {name: read_inference(path, find(config["methods"], config, name).method.layout)
            for name, path in paths.items()}  # fmt: skip
    ds = comparison(fits, config["diagnostics"]["hdi_prob"], paths)
    table = as_table(ds)
    print(table.to_string(float_format="%.4g"))
    with replaced_atomically(args.csv) as tmp:
        table.to_csv(tmp, float_format="%.6g")
    write_dataset(ds, args.out, "compare")


if __name__ == "__main__":
    cli.run(main)
