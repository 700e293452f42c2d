"""Stage: the posterior summaries of a dataset's sampler files, with their problems flagged."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pipeline.analysis.summary import Thresholds, flag, flag_svi, posterior_summary, write_csv
from pipeline.io.files import read_inference
from pipeline.stages import cli

# the files a summary is made of: flag prefix, layout, name in messages
KINDS = (("nuts", "nuts", "NUTS"), ("svi", "svi", "SVI"),
         ("gradient-free", "gradient_free", "gradient-free MCMC"))  # fmt: skip


def summarise(kind: str, idata, hdi_prob: float, thresholds: Thresholds):
    """The summary table of one posterior file, flagged by the checks that suit its method."""
    table = posterior_summary(idata, hdi_prob)
    if kind == "svi":
        return flag_svi(table, idata.optimization["loss"].values)
    divergences = int(idata.sample_stats["diverging"].sum()) if kind == "nuts" else 0
    return flag(table, divergences, thresholds)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: summarise the posterior files given (one job pays ArviZ's import once)."""
    p = cli.parser(__doc__, threads=False, out=False)
    for flag_name, kind, name in KINDS:
        p.add_argument(f"--{flag_name}", help=f"{kind}.nc of the dataset ({name})")
        p.add_argument(f"--{flag_name}-csv", help=f"{name} summary table to write")
    cli.add_diagnostic_arguments(p)
    args = p.parse_args(argv)
    given = []
    for flag_name, kind, name in KINDS:
        path, csv = (getattr(args, f"{flag_name.replace('-', '_')}{s}") for s in ("", "_csv"))
        if (path is None) != (csv is None):
            p.error(f"--{flag_name} and --{flag_name}-csv go together")
        if path is not None:
            given.append((kind, name, path, csv))
    if not given:
        p.error("give at least one posterior file, e.g. --nuts nuts.nc --nuts-csv out.csv")
    thresholds = Thresholds(args.min_ess, args.max_r_hat)
    tables = [
        (name, csv, summarise(kind, read_inference(path, kind), args.hdi_prob, thresholds))
        for kind, name, path, csv in given
    ]
    for name, _, table in tables:
        for param, problems in table["flags"].items():
            if problems:
                print(f"warning: {name} {param}: {problems}", file=sys.stderr)
    for name, csv, table in tables:
        print(f"{name}\n{table.to_string(float_format='%.4g')}")
        write_csv(table, csv)


if __name__ == "__main__":
    cli.run(main)
