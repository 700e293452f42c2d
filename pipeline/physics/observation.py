"""The bridge from data.nc to the model: the known line, the observed flux and its noise level."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import xarray as xr

from pipeline.io.files import read_dataset
from pipeline.physics.forward import Line
from pipeline.setup.runtime import configure_jax


class Observation(NamedTuple):
    """What a fitting stage needs from data.nc: the known line, the data and their noise level."""

    line: Line
    f_obs: jax.Array
    sigma_noise: float
    dataset: xr.Dataset
    path: str


def read_observation(path: str, threads: int) -> Observation:
    """Read and check data.nc, then set JAX up for its precision (before any JAX computation)."""
    ds = read_dataset(path, "data")
    configure_jax(threads, ds.attrs["dtype"])
    dtype = ds.attrs["dtype"]
    line = Line(
        nu=jnp.asarray(ds["nu"].values, dtype=dtype),
        nu0=float(ds["nu0"]),
        gamma=float(ds["gamma"]),
        line_strength=float(ds["line_strength"]),
    )
    return Observation(
        line,
        jnp.asarray(ds["f_obs"].values, dtype=dtype),
        float(ds.attrs["sigma_noise"]),
        ds,
        str(path),
    )
