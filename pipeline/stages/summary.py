"""Stage: the posterior summaries of a dataset's method files, their problems flagged by each
method's own checks -> {name}_summary.csv."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pipeline.analysis.summary import Thresholds, posterior_summary, write_csv
from pipeline.io.files import read_inference
from pipeline.methods import find
from pipeline.stages import cli

KEYS = ("methods", "diagnostics")


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: summarise the files given (one job pays ArviZ's import once)."""
    p = cli.parser(__doc__, KEYS, threads=False, out=False)
    p.add_argument("--fits", nargs="+", required=True, metavar="NAME=PATH",
                   help="each method entry's file")  # fmt: skip
    p.add_argument("--csv", nargs="+", required=True, metavar="NAME=PATH",
                   help="each one's summary table to write")  # fmt: skip
    args = p.parse_args(argv)
    config = cli.config_of(args)
    fits, tables = cli.files(args.fits, "--fits"), cli.files(args.csv, "--csv")
    if list(fits) != list(tables):
        p.error("--fits and --csv must name the same entries in the same order")
    d = config["diagnostics"]
    thresholds = Thresholds(d["min_ess"], d["max_r_hat"])
    for name, path in fits.items():
        variant = find(config["methods"], config, name)
        idata = read_inference(path, variant.method.layout)
        table = variant.method.summary_flags(
            posterior_summary(idata, d["hdi_prob"]), idata, thresholds
        )
        for param, problems in table["flags"].items():
            if problems:
                print(f"warning: {name} {param}: {problems}", file=sys.stderr)
        print(f"{variant.label}\n{table.to_string(float_format='%.4g')}")
        write_csv(table, tables[name])


if __name__ == "__main__":
    cli.run(main)
