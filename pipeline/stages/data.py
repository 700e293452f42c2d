"""Stage: simulate the observed spectrum of the config's model at its truth -> data.nc."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.models import get_model
from pipeline.models.simulate import simulate
from pipeline.models.spec import linear_grid
from pipeline.physics.simulate import noise_seed
from pipeline.setup.runtime import configure_jax
from pipeline.stages import cli

KEYS = ("model", "line", "truth", "precision", "datasets.reference_noise",
        "datasets.common_random_numbers")  # fmt: skip


def dataset(config: dict, sigma_noise: float, seed: int):
    """One synthetic dataset as the data Dataset: the observation and the truth behind it."""
    model, dtype = get_model(config["model"]), config["precision"]
    d = config["datasets"]
    drawn_with = noise_seed(seed, sigma_noise, d["reference_noise"], d["common_random_numbers"])
    line = model.line(config["line"], linear_grid(config["line"], dtype), dtype)
    arrays = simulate(model, line, config["truth"], sigma_noise, drawn_with)
    truth = {**config["truth"], model.noise_name: sigma_noise}
    used = {k: config[k] for k in ("model", "line", "truth", "precision")}
    return new_dataset(
        "data",
        coords={"nu": np.asarray(line.nu), "param": list(model.names)},
        data_vars={"truth": [truth[n] for n in model.names], **arrays},
        attrs={
            "sigma_noise": sigma_noise,
            "seed": seed,
            "noise_seed": drawn_with,
            "dtype": dtype,
            **provenance("data", used | {"sigma_noise": sigma_noise, "seed": seed}, inputs={}),
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: simulate one dataset and write it."""
    p = cli.parser(__doc__, KEYS)
    p.add_argument("--sigma-noise", type=cli.positive_float, required=True, help="noise sd")
    p.add_argument("--seed", type=int, required=True, help="noise seed (>= 0)")
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error(f"--seed must be a non-negative integer, got {args.seed}")
    config = cli.config_of(args)
    configure_jax(args.threads, config["precision"])
    write_dataset(dataset(config, args.sigma_noise, args.seed), args.out, "data")


if __name__ == "__main__":
    cli.run(main)
