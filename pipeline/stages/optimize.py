"""Stage: steepest descent and Adam on chi^2 from one initial point -> optimize.nc."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
import optax

from pipeline.inference.optimize import descend, steepest_descent
from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.physics.forward import chi2, transmission
from pipeline.physics.observation import Observation, read_observation
from pipeline.stages import cli

OPTIMIZERS = ("steepest_descent", "adam")


def optimize(
    obs: Observation,
    init: tuple[float, float],
    eta: float,
    learning_rate: float,
    steps: int,
):
    """Trajectories of both methods from init = (logN, logbeta) as an optimize Dataset."""
    start = jnp.asarray(init, dtype=obs.f_obs.dtype)

    optimizers = {"steepest_descent": steepest_descent(eta), "adam": optax.adam(learning_rate)}
    data = (obs.line, obs.f_obs, obs.sigma_noise)
    runs = [descend(chi2, start, optimizers[m], steps, *data) for m in OPTIMIZERS]
    params = np.stack([np.asarray(r.params) for r in runs])
    settings = {"init": list(init), "eta": eta, "learning_rate": learning_rate, "steps": steps}
    return new_dataset(
        "optimize",
        coords={
            "optimizer": list(OPTIMIZERS),
            "step": np.arange(steps + 1),
            "param": ["logN", "logbeta"],
            "nu": np.asarray(obs.line.nu),
        },
        data_vars={
            "params": params,
            "chi2": np.stack([np.asarray(r.loss) for r in runs]),
            "grad": np.stack([np.asarray(r.grad) for r in runs]),
            "grad_init": np.asarray(runs[0].grad[0]),
            "f_best": np.stack([np.asarray(transmission(obs.line, *p[-1])) for p in params]),
        },
        attrs={
            "steepest_descent_eta": eta,
            "adam_learning_rate": learning_rate,
            **provenance("optimize", settings, {"data": obs.path}),
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run both optimisers on one dataset and write their trajectories."""
    p = cli.parser(__doc__)
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    eta = cli.default("optimize.steepest_descent_eta")
    p.add_argument("--eta", type=cli.positive_float, default=eta, help="steepest-descent step")
    cli.add_adam_arguments(p, "--learning-rate")
    args = p.parse_args(argv)
    obs = read_observation(args.data, args.threads)
    ds = optimize(obs, tuple(args.init), args.eta, args.learning_rate, args.steps)
    write_dataset(ds, args.out, "optimize")


if __name__ == "__main__":
    cli.run(main)
