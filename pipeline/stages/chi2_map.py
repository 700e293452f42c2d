"""Stage: chi^2 of the model on a regular grid of two of its line parameters -> chi2_map.nc."""

from __future__ import annotations

import json
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.stages import cli
from pipeline.stages.observation import Observation, problem, read_observation

KEYS = ("model", "line", "chi2_map")


def chi2_map(obs: Observation, config: dict):
    """chi^2 on the grid of the config's two axes (x and y), the other line parameters at
    their fixed values, as a chi2_map Dataset (dims y, x)."""
    model, line, _ = problem(config, config["model"], obs.nu, obs.dtype, priors=False)
    settings = config["chi2_map"]
    x_axis, y_axis = settings["x"], settings["y"]
    x_name, y_name = x_axis["param"], y_axis["param"]
    x, y = (jnp.linspace(a["min"], a["max"], a["num"], dtype=obs.dtype) for a in (x_axis, y_axis))
    fixed = {name: jnp.asarray(value, obs.dtype) for name, value in settings["fixed"].items()}

    @jax.jit
    def grid(x, y, line, f_obs, sigma_noise, fixed):
        def at(a, b):
            return model.chi2(line, f_obs, sigma_noise, {x_name: a, y_name: b, **fixed})

        return jax.vmap(jax.vmap(at, in_axes=(0, None)), in_axes=(None, 0))(x, y)

    chi2 = grid(x, y, line, jnp.asarray(obs.f_obs), obs.sigma_noise, fixed)
    return new_dataset(
        "chi2_map",
        coords={"x": np.asarray(x), "y": np.asarray(y)},
        data_vars={"chi2": np.asarray(chi2)},
        attrs={
            "x_param": x_name,
            "y_param": y_name,
            "fixed": json.dumps(settings["fixed"]),
            **provenance("chi2_map", {k: config[k] for k in KEYS}, {"data": obs.path}),
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: compute the chi^2 map of one dataset and write it."""
    p = cli.parser(__doc__, KEYS)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    # the workflow's whole-config check has this rule; a stage's check of its sections has not
    for name, axis in ((a, config["chi2_map"][a]) for a in ("x", "y")):
        if not axis["min"] < axis["max"]:
            p.error(f"config.chi2_map.{name}.min = {axis['min']}, .max = {axis['max']}: "
                    "min must be below max")  # fmt: skip
    obs = read_observation(args.data, args.threads)
    write_dataset(chi2_map(obs, config), args.out, "chi2_map")


if __name__ == "__main__":
    cli.run(main)
