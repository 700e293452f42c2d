"""A fixed-truth sweep over noise levels and seeds: every method's estimates side by side.

For each dataset and method the estimate, its sd and interval are compared with the truth the
data were simulated with; across seeds that gives coverage, bias, RMSE and z-score spread per
noise level and method, and how far SVI and Laplace sit from NUTS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.analysis.calibration import wilson
from pipeline.io.files import read_dataset, read_table
from pipeline.io.layouts import PARAMS, NetCDFInputError
from pipeline.io.paths import dataset_dir

# the inference methods compared (named "inference", not "method", which is a keyword of .sel())
METHODS = ("adam", "laplace", "nuts", "svi")
# the rule whose Snakemake benchmark file gives each method's cost
METHOD_RULE = {"adam": "optimize", "laplace": "laplace", "nuts": "nuts", "svi": "svi"}
PER_DATASET = (
    "estimate",
    "sd",
    "lower",
    "upper",
    "covered",
    "z",
    "ess_bulk",
    "divergences",
    "seconds",
)


class Dataset(NamedTuple):
    """One dataset of the fixed-truth sweep."""

    noise: float
    seed: int


def _summary_rows(path: Path) -> pd.DataFrame:
    """A nuts/svi summary CSV with its interval columns renamed to lower and upper."""
    table = read_table(path, "posterior summary", ("param", "mean", "sd", "ess_bulk"))
    hdi = [c for c in table.columns if c.startswith("hdi_")]
    if len(hdi) != 2:
        raise NetCDFInputError(f"input {path} (posterior summary) is malformed: no HDI columns")
    table = table.set_index("param")
    return table.rename(columns={hdi[0]: "lower", hdi[1]: "upper", "mean": "estimate"})


def job_seconds(folder: Path, rule: str) -> float:
    """Wall seconds of a rule's job, from its Snakemake benchmark file (NaN if none)."""
    path = folder / "benchmarks" / f"{rule}.tsv"
    if not path.is_file():
        return math.nan
    return float(read_table(path, "Snakemake benchmark file", ("s",), sep="\t")["s"].iloc[0])


def dataset_rows(root: Path, dataset: Dataset) -> pd.DataFrame:
    """Rows (method, param) of one dataset: estimate, sd, interval, coverage, z-score, cost."""
    folder = root / dataset_dir(dataset.noise, dataset.seed)
    data = read_dataset(folder / "data.nc", "data")
    truth = {
        "logN": float(data["logN_true"]),
        "logbeta": float(data["logbeta_true"]),
        "sigmain": float(data.attrs["sigma_noise"]),
    }
    adam = read_dataset(folder / "optimize.nc", "optimize")["params"].sel(optimizer="adam")
    laplace = read_dataset(folder / "laplace.nc", "laplace")
    tables = {
        "adam": pd.DataFrame(
            {"estimate": [float(adam.sel(param=p).isel(step=-1)) for p in ("logN", "logbeta")]},
            index=["logN", "logbeta"],
        ),
        "laplace": laplace[["sd", "lower", "upper"]]
        .to_dataframe()
        .assign(estimate=laplace["mode"].values),
        "nuts": _summary_rows(folder / "nuts_summary.csv"),
        "svi": _summary_rows(folder / "svi_summary.csv").drop(columns=["ess_bulk"]),
    }
    rows = []
    for method, table in tables.items():
        table = table.reindex(list(PARAMS))
        row = pd.DataFrame(
            {
                "noise": dataset.noise,
                "seed": dataset.seed,
                "inference": method,
                "param": list(PARAMS),
                "truth": [truth[p] for p in PARAMS],
            }
        )
        for column in ("estimate", "sd", "lower", "upper", "ess_bulk", "divergences"):
            row[column] = table[column].to_numpy(float) if column in table else math.nan
        row["seconds"] = job_seconds(folder, METHOD_RULE[method])
        rows.append(row)
    rows = pd.concat(rows, ignore_index=True)
    inside = (rows["lower"] <= rows["truth"]) & (rows["truth"] <= rows["upper"])
    rows["covered"] = inside.astype(float).where(rows["lower"].notna())
    rows["z"] = (rows["estimate"] - rows["truth"]) / rows["sd"]
    return rows


def summarize(root: Path, datasets: Sequence[Dataset]) -> xr.Dataset:
    """Per-dataset rows as variables over (noise, seed, inference, param), plus calibration."""
    rows = pd.concat([dataset_rows(root, d) for d in datasets], ignore_index=True)
    per_dataset = rows.set_index(["noise", "seed", "inference", "param"])[list(PER_DATASET)]
    ds = xr.Dataset.from_dataframe(per_dataset).reindex(inference=list(METHODS), param=list(PARAMS))
    ds["truth"] = xr.DataArray(
        rows.drop_duplicates(["noise", "param"]).set_index(["noise", "param"])["truth"].to_xarray()
    ).reindex(param=list(PARAMS))
    ds["divergences"] = ds["divergences"].isel(param=0, drop=True)
    ds["seconds"] = ds["seconds"].isel(param=0, drop=True)
    return ds.merge(calibration(ds))


def calibration(ds: xr.Dataset) -> xr.Dataset:
    """Across seeds, per noise level, inference method and parameter: coverage, bias, vs NUTS."""
    error = ds["estimate"] - ds["truth"]
    n = ds["covered"].count("seed")
    k = ds["covered"].sum("seed").where(n > 0)
    low, high = wilson(k.values, n.values)
    nuts = ds.sel(inference="nuts", drop=True)
    return xr.Dataset(
        {
            "n_datasets": n,
            "coverage": k / n,
            "coverage_low": (k.dims, low),
            "coverage_high": (k.dims, high),
            "bias": error.mean("seed"),
            "rmse": np.sqrt((error**2).mean("seed")),
            "mean_sd": ds["sd"].mean("seed"),
            "estimate_spread": ds["estimate"].std("seed", ddof=1),
            "z_mean": ds["z"].mean("seed"),
            "z_sd": ds["z"].std("seed", ddof=1),
            "rms_shift_vs_nuts": np.sqrt(
                (((ds["estimate"] - nuts["estimate"]) / nuts["sd"]) ** 2).mean("seed")
            ),
            "sd_ratio_vs_nuts": (ds["sd"] / nuts["sd"]).mean("seed"),
            "mean_seconds": ds["seconds"].mean("seed"),
        }
    )
