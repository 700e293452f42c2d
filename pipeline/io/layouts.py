"""How a file layout is declared (coordinates, variables, units, meanings) and the checks a file
must pass when it is written and when it is read. The layouts themselves are declared where
they belong: a dataset's files (io.dataset_layouts), a study's (io.study_layouts), and each
inference method's own file (its module in pipeline.methods)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr


class NetCDFInputError(ValueError):
    """A stage input is missing, unreadable or does not follow its declared layout."""


@dataclass(frozen=True)
class Var:
    """One coordinate or data variable: its dimensions, units and long name, and whether its
    values must all be finite (False where NaN means 'none', e.g. a method without an ESS)."""

    dims: tuple[str, ...]
    units: str
    long_name: str
    finite: bool = True


@dataclass(frozen=True)
class Layout:
    """The contents a stage's NetCDF file must have."""

    filename: str
    description: str
    coords: Mapping[str, Var]
    data_vars: Mapping[str, Var]
    attrs: Mapping[str, str] = field(default_factory=dict)
    # variables a file may lack (e.g. the truth of synthetic data), checked where present
    optional_vars: Mapping[str, Var] = field(default_factory=dict)


# the dimension coordinates several layouts share, declared once
COORDINATES = {
    "param": Var(("param",), "", "model parameter"),
    "nu": Var(("nu",), "cm^-1", "wavenumber"),
    "dataset": Var(("dataset",), "", "index of the dataset in the study"),
    "quantity": Var(("quantity",), "", "ranked quantity: a parameter, loglik or logjoint"),
    "inference": Var(("inference",), "", "inference method"),
}


def coordinates(*shared: str, **own: Var) -> dict[str, Var]:
    """A layout's coordinates: the `shared` ones of COORDINATES, then its `own`."""
    return {name: COORDINATES[name] for name in shared} | own


@dataclass(frozen=True)
class InferenceLayout:
    """The groups and variables an ArviZ InferenceData file (one NetCDF) must have."""

    filename: str
    description: str
    groups: Mapping[str, Mapping[str, str]]  # group -> {variable: meaning}
    posterior_attrs: Mapping[str, str] = field(default_factory=dict)  # {attribute: meaning}


# every inference file: the posterior holds one variable per parameter its attribute `params`
# names (the model's), the observed flux, and how the file was made
POSTERIOR_ATTRS = {
    "params": "the model's parameters (JSON list): one posterior variable each",
    "model": "the model specification fitted (pipeline.models)",
    "compile_seconds": "compiling or loading the fit's program",
    "run_seconds": "running the compiled fit",
}


FINITE_GROUPS = ("posterior", "observed_data")


def check_inference(idata: Any, groups: list[str], layout: InferenceLayout, source: str) -> None:
    """Raise NetCDFInputError naming `source` if the InferenceData groups lack anything
    `layout` requires, or a parameter the posterior's `params` names."""
    problems = []
    required = dict(layout.groups)
    if "posterior" in groups:
        attrs = idata["posterior"].attrs
        needed = {**POSTERIOR_ATTRS, **layout.posterior_attrs}
        problems += [f"missing attribute 'posterior/{a}'" for a in needed if a not in attrs]
        if "params" in attrs:
            required["posterior"] = dict.fromkeys(json.loads(attrs["params"]), "parameter")
    for group, variables in required.items():
        if group not in groups:
            problems.append(f"missing group '{group}'")
            continue
        for v in variables:
            if v not in idata[group].variables:
                problems.append(f"missing variable '{group}/{v}'")
            elif group in FINITE_GROUPS and (bad := _first_non_finite(idata[group][v])):
                problems.append(f"variable '{group}/{v}' has a non-finite value at {bad}")
    if problems:
        raise NetCDFInputError(
            f"{source} is not a valid {layout.filename} ({layout.description}): "
            + "; ".join(problems)
        )


def check_layout(ds: xr.Dataset, layout: Layout, source: str) -> None:
    """Raise NetCDFInputError naming `source` if `ds` lacks anything `layout` requires."""
    problems = []
    optional = {n: s for n, s in layout.optional_vars.items() if n in ds.variables}
    variables = {**layout.data_vars, **optional}
    for group, specs in (("coordinate", layout.coords), ("variable", variables)):
        for name, spec in specs.items():
            if name not in ds.variables:
                problems.append(f"missing {group} '{name}'")
            elif ds[name].dims != spec.dims:
                problems.append(f"{group} '{name}' has dims {ds[name].dims}, expected {spec.dims}")
            elif ds[name].size == 0:
                problems.append(f"{group} '{name}' is empty")
            elif spec.finite and (bad := _first_non_finite(ds[name])):
                problems.append(f"{group} '{name}' has a non-finite value at {bad}")
    problems += [f"missing attribute '{a}'" for a in layout.attrs if a not in ds.attrs]
    if problems:
        raise NetCDFInputError(
            f"{source} is not a valid {layout.filename} ({layout.description}): "
            + "; ".join(problems)
        )


def _first_non_finite(variable: xr.DataArray) -> str:
    """'nu=17 (nan)': where a float variable first holds NaN or inf, or '' if nowhere."""
    values = np.asarray(variable.values)
    if values.dtype.kind not in "fc":
        return ""
    bad = np.argwhere(~np.isfinite(values))
    if not len(bad):
        return ""
    where = ", ".join(f"{d}={i}" for d, i in zip(variable.dims, bad[0], strict=True)) or "scalar"
    return f"{where} ({values[tuple(bad[0])]})"
