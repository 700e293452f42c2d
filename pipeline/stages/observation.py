"""What the fitting stages share: a dataset's observation read, JAX set up for its precision,
and the model's problem built on its grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from pipeline.io.files import read_dataset
from pipeline.models import get_model
from pipeline.models.spec import Problem
from pipeline.setup.runtime import configure_jax


class Observation(NamedTuple):
    """A dataset's observed flux, its grid, its noise level for chi^2, dtype and file."""

    nu: np.ndarray
    f_obs: np.ndarray
    sigma_noise: float
    dtype: str
    path: str


def read_observation(path: str, threads: int) -> Observation:
    """Read and check data.nc (the observation only), then set JAX up for its precision
    (before any JAX computation)."""
    ds = read_dataset(path, "data")
    dtype = ds.attrs["dtype"]
    configure_jax(threads, dtype)
    return Observation(
        ds["nu"].values, ds["f_obs"].values.astype(dtype), float(ds.attrs["sigma_noise"]),
        dtype, str(path),
    )  # fmt: skip


def problem(
    config: Mapping[str, Any], model_name: str, nu: np.ndarray, dtype: str, priors: bool = True
) -> Problem:
    """The model called `model_name` on the grid `nu`, with the config's known line quantities
    and its parameters' priors (none without `priors`: chi^2 needs no prior)."""
    model = get_model(model_name)
    own = model.own_priors(config["priors"]) if priors else {}
    return Problem(model, model.line(config["line"], nu, dtype), own)
