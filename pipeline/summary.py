"""Posterior summaries: the tutorial's table (and more), with convergence problems flagged."""

from __future__ import annotations

from typing import Any, NamedTuple

import arviz as az
import numpy as np
import pandas as pd

from pipeline.netcdf import PARAMS, replaced_atomically

# ArviZ 0.23 logs through its own logger object: drop its one-chain R-hat shape warning, since
# posterior_summary computes split R-hat for a single chain instead.
az._log.addFilter(lambda record: "Shape validation failed" not in record.getMessage())


class Thresholds(NamedTuple):
    """When output is flagged: any divergence, r-hat above max_r_hat, ESS below min_ess."""

    min_ess: float
    max_r_hat: float


def posterior_summary(idata: Any, hdi_prob: float) -> pd.DataFrame:
    """Per parameter: mean, sd, 5/50/95% quantiles, HDI, MCSE, bulk and tail ESS, r-hat.

    With a single chain, r_hat is the rank-normalised split R-hat of the chain's two halves
    (ArviZ leaves it undefined), so a chain that has not converged is still caught.
    """
    posterior = idata.posterior[list(PARAMS)]
    table = az.summary(idata, var_names=list(PARAMS), hdi_prob=hdi_prob, round_to="none")
    if posterior.sizes["chain"] == 1:
        half = posterior.sizes["draw"] // 2
        halves = posterior.isel(draw=slice(0, 2 * half)).stack(sample=("chain", "draw"))
        halves = halves.drop_vars(["sample", "chain", "draw"]).assign_coords(
            sample=np.arange(2 * half)
        )
        split = halves.coarsen(sample=half).construct(sample=("chain", "draw"))
        r_hat = az.rhat(split.transpose("chain", "draw"))
        table["r_hat"] = [float(r_hat[p]) for p in PARAMS]
    quantiles = {"q5%": 0.05, "q50%": 0.5, "q95%": 0.95}
    draws = idata.posterior[list(PARAMS)]
    for label, q in quantiles.items():
        values = draws.quantile(q, dim=("chain", "draw"))
        table[label] = [float(values[p]) for p in PARAMS]
    first = ["mean", "sd", *quantiles]
    table = table[first + [c for c in table.columns if c not in first]]
    table.index.name = "param"
    return table


def flag(table: pd.DataFrame, divergences: int, thresholds: Thresholds) -> pd.DataFrame:
    """Add the columns `divergences` and `flags` (problems found, '' when none) to a summary."""
    flags = []
    for _, row in table.iterrows():
        found = []
        if divergences > 0:
            found.append(f"{divergences} divergences")
        if row["r_hat"] > thresholds.max_r_hat:
            found.append(f"r_hat {row['r_hat']:.3f} > {thresholds.max_r_hat}")
        for ess in ("ess_bulk", "ess_tail"):
            if row[ess] < thresholds.min_ess:
                found.append(f"{ess} {row[ess]:.0f} < {thresholds.min_ess:g}")
        flags.append("; ".join(found))
    return table.assign(divergences=divergences, flags=flags)


def write_csv(table: pd.DataFrame, path: str) -> None:
    """Write a summary table as CSV atomically."""
    with replaced_atomically(path) as tmp:
        table.to_csv(tmp, float_format="%.6g")
