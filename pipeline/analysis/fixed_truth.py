"""A fixed-truth sweep over noise levels and seeds: every method entry's estimates side by side.

For each dataset and method entry the estimate, its sd and interval are compared with the
truth the data were simulated with; across seeds that gives coverage, bias, RMSE and z-score
spread per noise level and entry, and how far each entry sits from the reference (the first
entry).

Nothing here knows a method, a parameter or where a file lives: the stage reads each
dataset's files and hands over what they hold (`Fit`: an entry's InferenceData, its point
estimate, its job's benchmark file). The parameters are those of the data's truth. Besides
the method entries, the optimiser's end point (optimize.nc, `OPTIMIZER`) is a row too: an
estimate of the line parameters without a width.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.analysis.calibration import wilson
from pipeline.io.files import read_table
from pipeline.io.layouts import NetCDFInputError

# the optimiser of optimize.nc whose end point is a row of the sweep, under this name (a
# coordinate value of optimize.nc, not a method of the registry)
OPTIMIZER = "adam"
# per dataset, entry and parameter
PER_PARAM = ("estimate", "sd", "lower", "upper", "covered", "z", "ess_bulk")
# per dataset and entry
PER_FIT = ("divergences", "seconds")


class Dataset(NamedTuple):
    """One dataset of the fixed-truth sweep."""

    noise: float
    seed: int


class Fit(NamedTuple):
    """One method entry's fit of a dataset, as the stage read it: the InferenceData (a
    posterior group with one variable per parameter and the attribute `params`), the point
    estimate in the order of `params` (None: the posterior mean), the wall seconds of its job
    (NaN if unknown) and where it was read from (for messages)."""

    idata: Any
    point: np.ndarray | None
    seconds: float
    source: str = ""


def job_seconds(path: str | os.PathLike | None) -> float:
    """Wall seconds of a job, from its Snakemake benchmark file (column `s`; NaN if none)."""
    if path is None or not Path(path).is_file():
        return math.nan
    return float(read_table(path, "Snakemake benchmark file", ("s",), sep="\t")["s"].iloc[0])


def truth_of(data: xr.Dataset, source: str = "data.nc") -> pd.Series:
    """The truth behind synthetic data, by parameter (the data's `param` coordinate)."""
    if "truth" not in data or "param" not in data.coords:
        raise NetCDFInputError(
            f"input {source} has no truth: a fixed-truth sweep needs synthetic data"
        )
    return pd.Series(
        data["truth"].values.astype(float), index=[str(p) for p in data["param"].values]
    )


def fit_rows(idata: Any, point: np.ndarray | None, hdi_prob: float) -> pd.DataFrame:
    """Per parameter of one fit (rows, the file's order): the estimate (`point`, or the
    posterior mean), the sd of the draws, their HDI at `hdi_prob` (chains pooled), their bulk
    ESS and the fit's divergent transitions (sample_stats/diverging; NaN if not recorded)."""
    import arviz as az

    names = json.loads(idata.posterior.attrs["params"])
    posterior = idata.posterior[names]
    draws = np.stack([posterior[p].values.reshape(-1) for p in names], axis=1)
    ess = az.ess(posterior, method="bulk")
    hdi = np.array([az.hdi(draws[:, i], hdi_prob=hdi_prob) for i in range(len(names))])
    estimate = draws.mean(axis=0) if point is None else np.asarray(point, float)
    if estimate.shape != (len(names),):
        raise ValueError(f"a point estimate of {len(names)} parameters has shape {estimate.shape}")
    stats = getattr(idata, "sample_stats", None)
    has_divergences = stats is not None and "diverging" in stats
    return pd.DataFrame(
        {
            "estimate": estimate,
            "sd": draws.std(axis=0, ddof=1) if len(draws) > 1 else np.nan,
            "lower": hdi[:, 0],
            "upper": hdi[:, 1],
            "ess_bulk": [float(ess[p]) for p in names],
            "divergences": float(stats["diverging"].sum()) if has_divergences else math.nan,
        },
        index=pd.Index(names, name="param"),
    )


def optimizer_rows(optimize: xr.Dataset) -> pd.DataFrame:
    """The optimiser's end point (its last step in optimize.nc) per line parameter."""
    end = optimize["params"].sel(optimizer=OPTIMIZER).isel(step=-1)
    names = [str(p) for p in optimize["param"].values]
    return pd.DataFrame({"estimate": end.values.astype(float)}, index=pd.Index(names, name="param"))


def dataset_rows(
    dataset: Dataset,
    data: xr.Dataset,
    optimize: xr.Dataset,
    fits: Mapping[str, Fit],
    optimizer_seconds: float,
    hdi_prob: float,
    sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rows (entry, parameter) of one dataset, the optimiser's first, then `fits` in order:
    truth, estimate, sd, interval, whether it holds the truth, z-score, bulk ESS, divergences
    and the job's wall seconds. `sources` names data.nc and optimize.nc in messages."""
    sources = {"data": "data.nc", "optimize": "optimize.nc", **(sources or {})}
    if OPTIMIZER in fits:
        raise ValueError(
            f"a method entry may not be called {OPTIMIZER!r}: that row is the "
            "optimiser's end point (optimize.nc)"
        )
    truth = truth_of(data, sources["data"])
    tables = {OPTIMIZER: (optimizer_rows(optimize), optimizer_seconds, sources["optimize"])}
    for name, fit in fits.items():
        tables[name] = (fit_rows(fit.idata, fit.point, hdi_prob), fit.seconds, fit.source or name)
    rows = []
    for name, (table, seconds, source) in tables.items():
        foreign = [p for p in table.index if p not in truth.index]
        if foreign:
            raise NetCDFInputError(
                f"input {source} ({name}) has parameters {', '.join(foreign)} that the data's "
                f"truth ({', '.join(truth.index)}) lacks: not a fit of the data's model"
            )
        table = table.reindex(truth.index)
        row = pd.DataFrame(
            {
                "noise": dataset.noise,
                "seed": dataset.seed,
                "inference": name,
                "param": truth.index,
                "truth": truth.values,
            }
        )
        for column in ("estimate", "sd", "lower", "upper", "ess_bulk", "divergences"):
            row[column] = table[column].to_numpy(float) if column in table else math.nan
        row["seconds"] = seconds
        rows.append(row)
    rows = pd.concat(rows, ignore_index=True)
    inside = (rows["lower"] <= rows["truth"]) & (rows["truth"] <= rows["upper"])
    rows["covered"] = inside.astype(float).where(rows["lower"].notna())
    rows["z"] = (rows["estimate"] - rows["truth"]) / rows["sd"]
    return rows


def summarize(rows: Sequence[pd.DataFrame], reference: str) -> xr.Dataset:
    """Every dataset's rows (`dataset_rows`) as variables over (noise, seed, inference, param),
    the truth per noise level, and the calibration across seeds against `reference`. The
    entries keep their order (the optimiser first), the parameters the first dataset's."""
    rows = pd.concat(rows, ignore_index=True)
    entries = list(dict.fromkeys(rows["inference"]))
    params = list(dict.fromkeys(rows["param"]))
    if reference not in entries or reference == OPTIMIZER:
        raise ValueError(f"the reference {reference!r} is not one of the method entries")
    if rows.duplicated(["noise", "seed", "inference", "param"]).any():
        raise ValueError("a dataset, entry and parameter appear twice")
    truths = rows.drop_duplicates(["noise", "seed", "param"])
    spread = truths.groupby(["noise", "param"])["truth"].agg(["min", "max"])
    varies = spread[~np.isclose(spread["min"], spread["max"], rtol=1e-6, atol=0.0)]
    if len(varies):
        noise, param = varies.index[0]
        raise NetCDFInputError(
            f"the datasets at noise {noise:g} were simulated with different truths of {param} "
            f"({varies['min'].iloc[0]:g} to {varies['max'].iloc[0]:g}): not one fixed truth"
        )
    per_param = rows.set_index(["noise", "seed", "inference", "param"])[list(PER_PARAM)]
    ds = xr.Dataset.from_dataframe(per_param).reindex(inference=entries, param=params)
    per_fit = rows.drop_duplicates(["noise", "seed", "inference"])
    per_fit = per_fit.set_index(["noise", "seed", "inference"])[list(PER_FIT)]
    ds = ds.merge(xr.Dataset.from_dataframe(per_fit).reindex(inference=entries))
    truth = truths.drop_duplicates(["noise", "param"]).set_index(["noise", "param"])["truth"]
    ds["truth"] = truth.to_xarray().reindex(param=params)
    ds = ds.merge(calibration(ds, reference))
    ds["seed"] = ds["seed"].astype(np.int64)
    return ds.transpose("noise", "seed", "inference", "param")


def calibration(ds: xr.Dataset, reference: str) -> xr.Dataset:
    """Across seeds, per noise level, entry and parameter: coverage with its 95% Wilson
    interval, bias, RMSE, mean sd, spread of the estimates, z-scores' mean and sd, and the
    distance from the reference's estimates in units of its sd; mean wall seconds per entry."""
    error = ds["estimate"] - ds["truth"]
    n = ds["covered"].count("seed")
    k = ds["covered"].sum("seed").where(n > 0)
    low, high = wilson(k.values, n.values)
    ref = ds.sel(inference=reference, drop=True)
    return xr.Dataset(
        {
            "n_datasets": n,
            "coverage": k / n,
            "coverage_low": (k.dims, low),
            "coverage_high": (k.dims, high),
            "bias": error.mean("seed"),
            "rmse": np.sqrt((error**2).mean("seed")),
            "mean_sd": ds["sd"].mean("seed"),
            "estimate_spread": _std(ds["estimate"]),
            "z_mean": ds["z"].mean("seed"),
            "z_sd": _std(ds["z"]),
            "rms_shift_vs_reference": np.sqrt(
                (((ds["estimate"] - ref["estimate"]) / ref["sd"]) ** 2).mean("seed")
            ),
            "sd_ratio_vs_reference": (ds["sd"] / ref["sd"]).mean("seed"),
            "mean_seconds": ds["seconds"].mean("seed"),
        }
    )


def _std(values: xr.DataArray) -> xr.DataArray:
    """The sample sd across seeds (NaN where fewer than two are finite), without warnings."""
    count = values.count("seed")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = values.sum("seed") / count
        square = ((values - mean) ** 2).sum("seed")
        return np.sqrt(square / (count - 1)).where(count > 1)
