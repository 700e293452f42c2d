"""Stage: join an SBC study's blocks into ranks.nc, calibration.csv and failed.csv."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analysis import sbc
from pipeline.analysis.calibration import calibration_rows, collect
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read_dataset, write_dataset
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.stages import cli


def stratum_names(groups: int) -> dict[int, str]:
    """The name of each noise group in calibration.csv: 'noise 1 of 3' is the lowest third."""
    return {k: f"noise {k} of {groups}" for k in range(1, groups + 1)}


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: join the block files of an SBC study and assess its calibration."""
    p = cli.parser(__doc__, threads=False)
    p.add_argument("--data", nargs="+", required=True, help="every block's data.nc, in order")
    p.add_argument("--fits", nargs="+", required=True, metavar="METHOD=PATH",
                   help="every block's file of every method, blocks in order")  # fmt: skip
    p.add_argument("--calibration-csv", required=True, help="calibration table to write")
    p.add_argument("--failed-csv", required=True, help="fits that failed their checks")
    p.add_argument("--num-ranked", type=cli.positive_int, required=True, help="L")
    p.add_argument("--rank-bins", type=cli.positive_int, required=True)
    p.add_argument("--coverage-levels", nargs="+", type=float, required=True)
    p.add_argument("--noise-strata", type=cli.positive_int, required=True)
    p.add_argument("--include-flagged", action="store_true", help="count fits that failed checks")
    p.add_argument("--min-ess", type=float, required=True, help="flag NUTS ESS below this")
    p.add_argument("--max-r-hat", type=float, required=True, help="flag R-hat above this")
    args = p.parse_args(argv)
    blocks: dict[str, list] = {}
    for item in args.fits:
        method, _, path = item.partition("=")
        blocks.setdefault(method, []).append(read_dataset(path, "sbc_fit"))
    data = [read_dataset(path, "sbc_data") for path in args.data]
    include = args.include_flagged
    variables, failed = collect(blocks, args.min_ess, args.max_r_hat, include, args.noise_strata)
    indices = np.concatenate([d["dataset"].values for d in data])
    ds = new_dataset(
        "sbc_ranks",
        coords={
            "inference": list(blocks),
            "dataset": indices,
            "param": list(PARAMS),
            "quantity": list(sbc.QUANTITIES),
        },
        data_vars={**variables, "noise_seed": np.concatenate([d["noise_seed"] for d in data])},
        attrs={
            "num_draws": args.num_ranked,
            "include_flagged": int(include),
            **provenance("sbc_ranks", vars(args), {"fits": args.fits, "data": args.data}),
        },
    )
    names = stratum_names(args.noise_strata)
    table = calibration_rows(ds, args.coverage_levels, args.rank_bins, names)
    shown = ["stratum", "inference", "quantity", "n", "n_flagged", "coverage_90", "p_uniform",
             "rank_location_z", "rank_spread_z", "verdict"]  # fmt: skip
    print(table[shown].to_string(index=False, float_format="%.3g"))
    print(f"{len(failed)} fits failed their checks or gave NaN (see {args.failed_csv})")
    with replaced_atomically(args.calibration_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    with replaced_atomically(args.failed_csv) as tmp:
        pd.DataFrame(failed, columns=["inference", "dataset", "problem"]).to_csv(tmp, index=False)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_dataset(ds, args.out, "sbc_ranks")


if __name__ == "__main__":
    cli.run(main)
