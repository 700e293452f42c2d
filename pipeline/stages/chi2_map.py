"""Stage: chi^2 of the model on a regular (logN, logbeta) grid -> chi2_map.nc."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.physics.forward import chi2_grid
from pipeline.physics.observation import Observation, read_observation
from pipeline.stages import cli


def chi2_map(obs: Observation, logN: tuple[float, float, int], logbeta: tuple[float, float, int]):
    """chi^2 on linspace(*logN) x linspace(*logbeta) as a chi2_map Dataset (dims logbeta, logN)."""
    dtype = obs.f_obs.dtype
    logN_values = jnp.linspace(logN[0], logN[1], logN[2], dtype=dtype)
    logbeta_values = jnp.linspace(logbeta[0], logbeta[1], logbeta[2], dtype=dtype)
    chi2 = chi2_grid(logN_values, logbeta_values, obs.line, obs.f_obs, obs.sigma_noise)
    return new_dataset(
        "chi2_map",
        coords={"logN": np.asarray(logN_values), "logbeta": np.asarray(logbeta_values)},
        data_vars={"chi2": np.asarray(chi2)},
        attrs=provenance(
            "chi2_map", {"logN": list(logN), "logbeta": list(logbeta)}, {"data": obs.path}
        ),
    )


def grid_axis(text: list[str]) -> tuple[float, float, int]:
    """Parse MIN MAX NUM from the command line into a grid axis."""
    lo, hi, num = float(text[0]), float(text[1]), int(text[2])
    if not lo < hi or num < 2:
        raise ValueError(f"a grid axis needs MIN < MAX and NUM >= 2, got {' '.join(text)}")
    return lo, hi, num


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: compute the chi^2 map of one dataset and write it."""
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    axis = {"nargs": 3, "metavar": ("MIN", "MAX", "NUM")}
    for param in ("logN", "logbeta"):
        grid = cli.default(f"chi2_map.{param}")
        p.add_argument(f"--{param}", default=[str(grid[k]) for k in ("min", "max", "num")],
                       help=f"grid of {param}", **axis)  # fmt: skip
    args = p.parse_args(argv)
    try:
        logN, logbeta = grid_axis(args.logN), grid_axis(args.logbeta)
    except ValueError as err:
        p.error(str(err))
    obs = read_observation(args.data, args.threads)
    write_dataset(chi2_map(obs, logN, logbeta), args.out, "chi2_map")


if __name__ == "__main__":
    cli.run(main)
