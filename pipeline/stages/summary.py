"""Stage: the posterior summaries of a dataset's NUTS and SVI files, with their problems flagged."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pipeline.analysis.summary import Thresholds, flag, flag_svi, posterior_summary, write_csv
from pipeline.io.files import read_inference
from pipeline.stages import cli


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: summarise the two posterior files (one job pays ArviZ's import once)."""
    p = cli.parser(__doc__, threads=False, out=False)
    p.add_argument("--nuts", required=True, help="nuts.nc of the dataset")
    p.add_argument("--svi", required=True, help="svi.nc of the dataset")
    p.add_argument("--nuts-csv", required=True, help="NUTS summary table to write")
    p.add_argument("--svi-csv", required=True, help="SVI summary table to write")
    cli.add_diagnostic_arguments(p)
    args = p.parse_args(argv)
    nuts, svi = read_inference(args.nuts, "nuts"), read_inference(args.svi, "svi")
    divergences = int(nuts.sample_stats["diverging"].sum())
    thresholds = Thresholds(args.min_ess, args.max_r_hat)
    tables = {
        "NUTS": flag(posterior_summary(nuts, args.hdi_prob), divergences, thresholds),
        "SVI": flag_svi(posterior_summary(svi, args.hdi_prob), svi.optimization["loss"].values),
    }
    for name, table in tables.items():
        for param, problems in table["flags"].items():
            if problems:
                print(f"warning: {name} {param}: {problems}", file=sys.stderr)
    for name, table in tables.items():
        print(f"{name}\n{table.to_string(float_format='%.4g')}")
    write_csv(tables["NUTS"], args.nuts_csv)
    write_csv(tables["SVI"], args.svi_csv)


if __name__ == "__main__":
    cli.run(main)
