"""Stage: fit one dataset with one entry of the config's `methods` -> {name}.nc.

Any method of the registry (pipeline.methods), under its own name or a variant's: the fit is
the method's batched program on a batch of one, written as ArviZ InferenceData.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import numpy as np

from pipeline.inference.batching import ONE_DATASET
from pipeline.io.files import (
    draws_group,
    observed_group,
    read_dataset,
    read_inference,
    write_inference,
)
from pipeline.io.provenance import provenance
from pipeline.methods import METHODS, Variant, dataset_keys, entry_name, find
from pipeline.methods.base import FitInput, parameters
from pipeline.stages import cli
from pipeline.stages.observation import Observation, problem, read_observation

KEYS = ("model", "line", "priors", "methods", "<the method's own section>")


def fit(variant: Variant, config: dict, obs: Observation, start: np.ndarray | None) -> dict:
    """The InferenceData groups of one dataset's fit by `variant`."""
    method, settings = variant.method, variant.typed_settings()
    prob = problem(config, variant.model, obs.nu, obs.dtype)
    keys = dataset_keys(variant.settings["seed"], variant.name) if method.seeded else None
    given = FitInput(prob, obs.f_obs[None], keys, start, settings, ONE_DATASET)
    arrays, seconds = method.fit(given, True)
    names = prob.model.names
    draws = method.draws(arrays, names)[0]  # (chain, draw, param) of the batch's one dataset
    one = {name: values[0] for name, values in arrays.items()}
    meta = {p.name: {"units": p.unit, "long_name": p.long_name} for p in prob.model.params}
    record = {"model": variant.model, "method": method.name, "settings": variant.settings,
              "priors": prob.priors}  # fmt: skip
    attrs = {
        **provenance(variant.name, record, {"data": obs.path}),
        **seconds,
        "params": json.dumps(list(names)),
        "model": variant.model,
        **method.posterior_attrs(one, settings, names),
    }
    posterior = draws_group({n: draws[..., i] for i, n in enumerate(names)}, attrs=attrs,
                            meta=meta)  # fmt: skip
    return {
        "posterior": posterior,
        **method.groups(one, obs.nu, names),
        "observed_data": observed_group(obs.f_obs, obs.nu),
    }


def start_point(variant: Variant, config: dict, obs: Observation, path: str) -> np.ndarray:
    """A dataset's start of the fit, in the model's parameter order (a batch of one): Adam's
    end point in optimize.nc, or the point estimate of the start method's file, or (dispersed
    starts, (1, start, param)) its first draws."""
    prob = problem(config, variant.model, obs.nu, obs.dtype)
    if variant.method.start == "adam":
        adam = read_dataset(path, "optimize")["params"].sel(optimizer="adam").isel(step=-1)
        end = adam.sel(param=list(prob.model.line_names)).values.astype(obs.dtype)
        return np.asarray(prob.model.start(prob.line, obs.f_obs, end))[None]
    source = METHODS[variant.method.start]
    idata = read_inference(path, source.layout)
    if variant.method.dispersed_starts is not None:
        count = variant.method.dispersed_starts(variant.typed_settings())
        draws = np.stack([idata.posterior[n].values.ravel() for n in parameters(idata)], -1)
        return draws[:count].astype(obs.dtype)[None]
    if source.point is not None:
        point = source.point(idata)
    else:
        point = np.array([float(idata.posterior[n].mean()) for n in parameters(idata)])
    return point.astype(obs.dtype)[None]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: fit one dataset with the config's method entry NAME and write it."""
    p = cli.parser(__doc__, KEYS)
    p.add_argument("name", help="the entry of the config's methods (a method or variant name)")
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    p.add_argument("--start", help="the file the method starts from (optimize.nc, or the "
                   "start method's file), for methods that start from one")  # fmt: skip
    args = p.parse_args(argv)
    config = cli.config_of(args)
    names = [entry_name(e) for e in config["methods"]]
    if args.name not in names:
        p.error(f"{args.name!r} is not an entry of the config's methods ({', '.join(names)})")
    variant = find(config["methods"], config, args.name)
    if (variant.method.start is None) != (args.start is None):
        needs = variant.method.start or "nothing"
        p.error(f"{args.name} starts from {needs}: give --start exactly when it does")
    if variant.method.threads(variant.settings) > 1:  # a CPU device per chain, before JAX starts
        import jax

        jax.config.update("jax_num_cpu_devices", variant.method.threads(variant.settings))
    obs = read_observation(args.data, args.threads)
    start = start_point(variant, config, obs, args.start) if args.start else None
    groups = fit(variant, config, obs, start)
    flags = groups["posterior"].attrs.get("flags")
    if flags:
        print(f"warning: {args.name}: {flags}", file=sys.stderr)
    write_inference(groups, args.out, variant.method.layout)


if __name__ == "__main__":
    cli.run(main)
