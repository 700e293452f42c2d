"""Stage: simulate a block of SBC datasets, truths drawn from the prior -> block data.nc."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.analysis.sbc import simulate_study
from pipeline.inference.model import Priors
from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.layouts import PARAMS
from pipeline.io.provenance import provenance
from pipeline.setup.runtime import configure_jax
from pipeline.stages import cli
from pipeline.stages.data import add_line_arguments, line_settings


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: simulate the datasets START..STOP-1 of a study."""
    p = cli.parser(__doc__)
    p.add_argument("--datasets", nargs=2, type=int, required=True, metavar=("START", "STOP"))
    p.add_argument("--study-seed", type=int, required=True, help="seed of the study")
    cli.add_prior_arguments(p)
    add_line_arguments(p)
    args = p.parse_args(argv)
    start, stop = args.datasets
    if not 0 <= start < stop:
        p.error(f"--datasets needs 0 <= START < STOP, got {start} {stop}")
    configure_jax(args.threads, args.dtype)
    priors = Priors(**cli.prior_settings(args))
    indices = np.arange(start, stop)
    block = simulate_study(line_settings(args), priors, args.study_seed, indices, args.dtype)
    settings = {**line_settings(args)._asdict(), "priors": priors._asdict(), "dtype": args.dtype}
    ds = new_dataset(
        "sbc_data",
        coords={"dataset": indices, "param": list(PARAMS), "nu": block["nu"]},
        data_vars={
            **{k: block[k] for k in ("truth", "noise_seed", "f_obs")},
            "gamma": args.gamma,
            "line_strength": args.line_strength,
            "nu0": args.nu0,
        },
        attrs={
            "study_seed": args.study_seed,
            "dtype": args.dtype,
            **provenance("sbc_simulate", settings | {"datasets": [start, stop]}, inputs={}),
        },
    )
    write_dataset(ds, args.out, "sbc_data")


if __name__ == "__main__":
    cli.run(main)
