"""Stage: simulate a block of SBC datasets, truths drawn from the prior -> block data.nc."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.analysis.sbc import simulate_study, study_noise_seed
from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.methods import dataset_keys
from pipeline.models.spec import linear_grid
from pipeline.setup.runtime import configure_jax
from pipeline.stages import cli
from pipeline.stages.observation import problem

KEYS = ("model", "line", "priors", "precision", "study.seed")
TRUTH_STREAM = "truth"  # the study's truths: a PRNG stream of their own (pipeline.methods)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: simulate the datasets START..STOP-1 of a study."""
    p = cli.parser(__doc__, KEYS)
    p.add_argument("--datasets", nargs=2, type=int, required=True, metavar=("START", "STOP"))
    args = p.parse_args(argv)
    start, stop = args.datasets
    if not 0 <= start < stop:
        p.error(f"--datasets needs 0 <= START < STOP, got {start} {stop}")
    config = cli.config_of(args)
    dtype, seed = config["precision"], config["study"]["seed"]
    configure_jax(args.threads, dtype)
    prob = problem(config, config["model"], linear_grid(config["line"], dtype), dtype)
    indices = np.arange(start, stop)
    seeds = np.array([study_noise_seed(seed, i) for i in indices], dtype=np.uint32)
    block = simulate_study(prob, dataset_keys(seed, TRUTH_STREAM, indices), seeds)
    used = {"model": config["model"], "line": config["line"], "priors": prob.priors,
            "precision": dtype, "study_seed": seed, "datasets": [start, stop]}  # fmt: skip
    coords = {"dataset": indices, "param": list(prob.model.names), "nu": np.asarray(prob.line.nu)}
    ds = new_dataset(
        "sbc_data",
        coords=coords,
        data_vars={"truth": block["truth"], "noise_seed": seeds, "f_obs": block["f_obs"]},
        attrs={"study_seed": seed, "dtype": dtype, **provenance("sbc_simulate", used, inputs={})},
    )
    write_dataset(ds, args.out, "sbc_data")


if __name__ == "__main__":
    cli.run(main)
