"""Stage: the posterior summary of a NUTS or SVI file, with its problems flagged -> CSV."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pipeline.netcdf import read_inference
from pipeline.stages import cli
from pipeline.summary import Thresholds, flag, posterior_summary, write_csv


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: summarise one posterior file."""
    p = cli.parser(__doc__, threads=False)
    p.add_argument("kind", choices=("nuts", "svi"), help="which sampler wrote the file")
    p.add_argument("--posterior", required=True, help="nuts.nc or svi.nc")
    cli.add_diagnostic_arguments(p)
    args = p.parse_args(argv)
    idata = read_inference(args.posterior, args.kind)
    table = posterior_summary(idata, args.hdi_prob)
    if args.kind == "nuts":
        divergences = int(idata.sample_stats["diverging"].sum())
        table = flag(table, divergences, Thresholds(args.min_ess, args.max_r_hat))
        for param, problems in table["flags"].items():
            if problems:
                print(f"warning: NUTS {param}: {problems}", file=sys.stderr)
    print(table.to_string(float_format="%.4g"))
    write_csv(table, args.out)


if __name__ == "__main__":
    cli.run(main)
