"""Stage: steepest descent and Adam on chi^2 from one initial point -> optimize.nc."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
import optax

from pipeline.inference.optimize import descend, steepest_descent
from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.stages import cli
from pipeline.stages.observation import Observation, problem, read_observation

KEYS = ("model", "line", "optimize")
OPTIMIZERS = ("steepest_descent", "adam")


def optimize(obs: Observation, config: dict):
    """Trajectories of both optimisers on chi^2 of the model's line parameters, from the
    config's initial point, as an optimize Dataset."""
    model, line, _ = problem(config, config["model"], obs.nu, obs.dtype, priors=False)
    settings = config["optimize"]
    names = model.line_names
    start = jnp.asarray([settings["init"][n] for n in names], dtype=obs.dtype)

    def chi2(vector, line, f_obs, sigma_noise):
        return model.chi2(line, f_obs, sigma_noise, model.named(vector, names))

    optimizers = {
        "steepest_descent": steepest_descent(settings["steepest_descent_eta"]),
        "adam": optax.adam(settings["adam_learning_rate"]),
    }
    data = (line, jnp.asarray(obs.f_obs), obs.sigma_noise)
    runs = [descend(chi2, start, optimizers[m], settings["steps"], *data) for m in OPTIMIZERS]
    params = np.stack([np.asarray(r.params) for r in runs])
    f_best = [np.asarray(model.mean(line, model.named(p[-1], names))) for p in params]
    return new_dataset(
        "optimize",
        coords={
            "optimizer": list(OPTIMIZERS),
            "step": np.arange(settings["steps"] + 1),
            "param": list(names),
            "nu": np.asarray(line.nu),
        },
        data_vars={
            "params": params,
            "chi2": np.stack([np.asarray(r.loss) for r in runs]),
            "grad": np.stack([np.asarray(r.grad) for r in runs]),
            "grad_init": np.asarray(runs[0].grad[0]),
            "f_best": np.stack(f_best),
        },
        attrs={
            "steepest_descent_eta": settings["steepest_descent_eta"],
            "adam_learning_rate": settings["adam_learning_rate"],
            **provenance("optimize", {k: config[k] for k in KEYS}, {"data": obs.path}),
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run both optimisers on one dataset and write their trajectories."""
    p = cli.parser(__doc__, KEYS)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    obs = read_observation(args.data, args.threads)
    write_dataset(optimize(obs, config), args.out, "optimize")


if __name__ == "__main__":
    cli.run(main)
