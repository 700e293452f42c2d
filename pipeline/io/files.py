"""Reading and writing the stages' files: every write checks the layout and replaces the output
atomically; every read names the file and the missing or malformed item."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.io.atomic import replaced_atomically
from pipeline.io.dataset_layouts import DATASET_LAYOUTS
from pipeline.io.layouts import (
    InferenceLayout,
    Layout,
    NetCDFInputError,
    Var,
    check_inference,
    check_layout,
)
from pipeline.io.study_layouts import STUDY_LAYOUTS

# every layout of a plain NetCDF file, by name (an inference method's file is read with the
# method's own InferenceLayout)
LAYOUTS: dict[str, Layout] = DATASET_LAYOUTS | STUDY_LAYOUTS


def new_dataset(
    kind: str,
    coords: Mapping[str, Any],
    data_vars: Mapping[str, Any],
    attrs: Mapping[str, Any],
) -> xr.Dataset:
    """Build a dataset of layout `kind` from plain arrays, attaching units and long names."""
    layout = LAYOUTS[kind]
    specs = {**layout.data_vars, **layout.optional_vars}

    def variable(name: str, spec: Var, values: Any) -> xr.Variable:
        meta = {"long_name": spec.long_name}
        if spec.units:
            meta["units"] = spec.units
        return xr.Variable(spec.dims, np.asarray(values), attrs=meta)

    ds = xr.Dataset(
        data_vars={n: variable(n, specs[n], v) for n, v in data_vars.items()},
        coords={n: variable(n, {**layout.coords, **specs}[n], v) for n, v in coords.items()},
        attrs=dict(attrs),
    )
    check_layout(ds, layout, source=f"new {layout.filename}")
    return ds


def annotate(ds: xr.Dataset, kind: str) -> xr.Dataset:
    """Attach the units and long names of layout `kind` to an existing dataset, and check it."""
    layout = LAYOUTS[kind]
    for name, spec in {**layout.coords, **layout.data_vars}.items():
        if name in ds.variables:
            ds[name].attrs.update(
                {"long_name": spec.long_name} | ({"units": spec.units} if spec.units else {})
            )
    check_layout(ds, layout, source=f"new {layout.filename}")
    return ds


def write_dataset(ds: xr.Dataset, path: str | os.PathLike, kind: str) -> None:
    """Check `ds` against layout `kind` and write it to `path` atomically."""
    check_layout(ds, LAYOUTS[kind], source=f"output {path}")
    with replaced_atomically(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")


def read_dataset(path: str | os.PathLike, kind: str) -> xr.Dataset:
    """Open the NetCDF file at `path`, load it into memory and check it follows layout `kind`."""
    path = Path(path)
    expected = LAYOUTS[kind].filename
    if not path.is_file():
        raise NetCDFInputError(f"input {path} ({expected}) does not exist")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            loaded = ds.load()
    except (OSError, ValueError, RuntimeError) as err:
        raise NetCDFInputError(
            f"input {path} ({expected}) is not a readable NetCDF file: {err}"
        ) from err
    check_layout(loaded, LAYOUTS[kind], source=f"input {path}")
    return loaded


def draws_group(
    draws: Mapping[str, np.ndarray],
    nu: np.ndarray | None = None,
    attrs: Mapping | None = None,
    meta: Mapping[str, Mapping[str, str]] | None = None,
) -> xr.Dataset:
    """Arrays with leading (chain, draw) axes (then nu, for y) as one ArviZ InferenceData
    group; `meta` gives variables their attributes (a parameter's units and long name)."""
    meta = meta or {}
    first = next(iter(draws.values()))
    coords = {"chain": np.arange(first.shape[0]), "draw": np.arange(first.shape[1])}
    variables = {}
    for name, values in draws.items():
        dims = ("chain", "draw", *(["nu"] if values.ndim == 3 else []))
        variables[name] = xr.Variable(dims, np.asarray(values), attrs=dict(meta.get(name, {})))
    if nu is not None:
        coords["nu"] = nu
    return xr.Dataset(variables, coords=coords, attrs=dict(attrs or {}))


def observed_group(y: np.ndarray, nu: np.ndarray) -> xr.Dataset:
    """The observed flux as ArviZ's observed_data group."""
    return xr.Dataset({"y": ("nu", np.asarray(y))}, coords={"nu": np.asarray(nu)})


def write_inference(
    groups: Mapping[str, xr.Dataset], path: str | os.PathLike, layout: InferenceLayout
) -> None:
    """Check the InferenceData groups against `layout` and write them to `path`, one
    NetCDF group each as ArviZ does (az.from_netcdf reads the file), atomically. Writing
    needs no ArviZ, so the sampling stages don't import it."""
    check_inference(groups, list(groups), layout, source=f"output {path}")
    with replaced_atomically(path) as tmp:
        for i, (name, group) in enumerate(groups.items()):
            group.to_netcdf(tmp, mode="a" if i else "w", group=name, engine="netcdf4")


def read_inference(path: str | os.PathLike, layout: InferenceLayout) -> Any:
    """Open an ArviZ NetCDF file into memory and check it follows `layout`."""
    import arviz as az  # only stages that read posteriors pay for importing ArviZ

    path = Path(path)
    expected = layout.filename
    if not path.is_file():
        raise NetCDFInputError(f"input {path} ({expected}) does not exist")
    try:
        idata = az.from_netcdf(path, engine="netcdf4")
        idata.load()
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise NetCDFInputError(
            f"input {path} ({expected}) is not a readable NetCDF file: {err}"
        ) from err
    check_inference(idata, idata.groups(), layout, source=f"input {path}")
    return idata


def read_table(
    path: str | os.PathLike, what: str, columns: tuple[str, ...], sep: str = ","
) -> pd.DataFrame:
    """A CSV (or TSV) input with at least `columns` and one row; a missing, unreadable,
    truncated or malformed file is a NetCDFInputError naming it, not a traceback."""
    path = Path(path)
    if not path.is_file():
        raise NetCDFInputError(f"input {path} ({what}) does not exist")
    try:
        table = pd.read_csv(path, sep=sep)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise NetCDFInputError(f"input {path} ({what}) is not a readable table: {err}") from err
    missing = [c for c in columns if c not in table.columns]
    if missing or table.empty:
        found = "no rows" if not missing else f"no column {', '.join(map(repr, missing))}"
        raise NetCDFInputError(f"input {path} ({what}) is malformed: {found}")
    return table
