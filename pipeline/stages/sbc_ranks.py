"""Stage: join an SBC study's blocks into ranks.nc, calibration.csv and failed.csv."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analysis.calibration import calibration_rows, collect, noise_statistic
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.stages import cli

KEYS = ("study", "diagnostics")


def stratum_names(groups: int) -> dict[int, str]:
    """The name of each noise group in calibration.csv: 'noise 1 of 3' is the lowest third."""
    return {k: f"noise {k} of {groups}" for k in range(1, groups + 1)}


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: join the block files of an SBC study and assess its calibration."""
    p = cli.parser(__doc__, KEYS, threads=False)
    p.add_argument("--data", nargs="+", required=True, help="every block's data.nc, in order")
    p.add_argument("--fits", nargs="+", required=True, metavar="NAME=PATH",
                   help="every block's file of every method entry, blocks in order")  # fmt: skip
    p.add_argument("--calibration-csv", required=True, help="calibration table to write")
    p.add_argument("--failed-csv", required=True, help="fits that failed their checks")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    study, diagnostics = config["study"], config["diagnostics"]
    blocks: dict[str, list] = {}
    for item in args.fits:
        name, _, path = item.partition("=")
        blocks.setdefault(name, []).append(read_dataset(path, "sbc_fit"))
    data = [read_dataset(path, "sbc_data") for path in args.data]
    indices = np.concatenate([d["dataset"].values for d in data])
    for name, fits in blocks.items():
        joined = np.concatenate([b["dataset"].values for b in fits])
        if not np.array_equal(joined, indices):
            raise SystemExit(f"error: the blocks of {name} hold other datasets than --data's")
    statistic = noise_statistic(np.concatenate([d["f_obs"].values for d in data]))
    include = study["include_flagged"]
    variables, failed = collect(
        blocks, diagnostics["min_ess"], diagnostics["max_r_hat"], include, study["noise_strata"],
        statistic,
    )  # fmt: skip
    first = blocks[next(iter(blocks))][0]
    used = {"study": study, "diagnostics": diagnostics}
    ds = new_dataset(
        "sbc_ranks",
        coords={
            "inference": list(blocks),
            "dataset": indices,
            "param": first["param"].values,
            "quantity": first["quantity"].values,
        },
        data_vars={**variables, "noise_seed": np.concatenate([d["noise_seed"] for d in data])},
        attrs={
            "num_draws": study["num_draws"],
            "include_flagged": int(include),
            **provenance("sbc_ranks", used, {"fits": args.fits, "data": args.data}),
        },
    )
    names = stratum_names(study["noise_strata"])
    table = calibration_rows(ds, study["coverage_levels"], study["rank_bins"], names)
    shown = ["fits", "stratum", "inference", "quantity", "n", "n_flagged", "coverage_90",
             "p_uniform", "rank_location_z", "rank_spread_z", "holm_rejected",
             "verdict"]  # fmt: skip
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
