"""Posterior summaries: the tutorial's table (and more), with convergence problems flagged."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from pipeline.io.atomic import replaced_atomically

# ArviZ 0.23 logs through its own logger object: drop its one-chain R-hat shape warning, since
# posterior_summary computes split R-hat for a single chain instead.
az._log.addFilter(lambda record: "Shape validation failed" not in record.getMessage())


class Thresholds(NamedTuple):
    """When output is flagged: any divergence, r-hat above max_r_hat, ESS below min_ess."""

    min_ess: float
    max_r_hat: float


def _chains_for_r_hat(posterior: xr.Dataset) -> xr.Dataset:
    """The draws as ArviZ computes R-hat from them: as they are with several chains, and a
    single chain cut in two halves (ArviZ leaves one chain's R-hat undefined), so a chain that
    drifts is still caught by the rank-normalised split R-hat of its halves."""
    if posterior.sizes["chain"] > 1:
        return posterior
    half = posterior.sizes["draw"] // 2
    first, second = (posterior.isel(chain=0, draw=slice(k * half, (k + 1) * half)) for k in (0, 1))
    second = second.assign_coords(draw=first["draw"])
    return xr.concat([first, second], dim="chain")


def convergence(draws: np.ndarray) -> dict[str, np.ndarray]:
    """Bulk and tail ESS and R-hat of draws with axes (dataset, chain, draw, param), each as
    an array (dataset, param): the per-dataset statistics of a batch of fits."""
    names = [f"p{i}" for i in range(draws.shape[-1])]
    posterior = xr.Dataset(
        {p: (("dataset", "chain", "draw"), draws[..., i]) for i, p in enumerate(names)}
    )
    stats = {
        "ess_bulk": az.ess(posterior, method="bulk"),
        "ess_tail": az.ess(posterior, method="tail"),
        "r_hat": az.rhat(_chains_for_r_hat(posterior)),
    }
    return {name: np.stack([v[p].values for p in names], axis=-1) for name, v in stats.items()}


def parameters(idata: Any) -> list[str]:
    """The model's parameters of an inference file, in the model's order."""
    return json.loads(idata.posterior.attrs["params"])


def posterior_summary(idata: Any, hdi_prob: float) -> pd.DataFrame:
    """Per parameter: mean, sd, 5/50/95% quantiles, HDI, MCSE, bulk and tail ESS, r-hat.

    With a single chain, r_hat is the rank-normalised split R-hat of the chain's two halves
    (see _chains_for_r_hat).
    """
    names = parameters(idata)
    posterior = idata.posterior[names]
    table = az.summary(idata, var_names=names, hdi_prob=hdi_prob, round_to="none")
    r_hat = az.rhat(_chains_for_r_hat(posterior))
    table["r_hat"] = [float(r_hat[p]) for p in names]
    quantiles = {"q5%": 0.05, "q50%": 0.5, "q95%": 0.95}
    for label, q in quantiles.items():
        values = posterior.quantile(q, dim=("chain", "draw"))
        table[label] = [float(values[p]) for p in names]
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
        # a statistic that cannot be computed (NaN) is a problem too, never a pass
        if not row["r_hat"] <= thresholds.max_r_hat:
            found.append(f"r_hat {row['r_hat']:.3f} > {thresholds.max_r_hat}")
        for ess in ("ess_bulk", "ess_tail"):
            if not row[ess] >= thresholds.min_ess:
                found.append(f"{ess} {row[ess]:.0f} < {thresholds.min_ess:g}")
        flags.append("; ".join(found))
    return table.assign(divergences=divergences, flags=flags)


# SVI's loss has settled when the mean of its last tenth of steps lies less than this many nats
# below the tenth before (and than 4 standard errors of that difference: the ELBO is noisy)
SETTLED_NATS = 0.5


def loss_drop(losses: np.ndarray) -> tuple[float, float]:
    """How much the mean loss of the last tenth of the steps lies below the tenth before, in
    nats, and the standard error of that difference (the steps' losses are independent draws)."""
    n = max(len(losses) // 10, 1)
    last, before = losses[-n:], losses[-2 * n : -n]
    se = np.sqrt(last.var(ddof=1) / n + before.var(ddof=1) / n) if n > 1 else np.nan
    return float(before.mean() - last.mean()), float(se)


def unsettled(drop: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Whether a loss still falls (`loss_drop`'s drop and its se): by more than SETTLED_NATS
    and 4 standard errors over its last tenth."""
    return drop > np.fmax(SETTLED_NATS, 4 * se)


def flag_svi(table: pd.DataFrame, losses: np.ndarray) -> pd.DataFrame:
    """Add `loss_drop` (nats) and `flags` to an SVI summary: 'loss not settled' when the loss
    still falls (`unsettled`)."""
    drop, se = loss_drop(np.asarray(losses, dtype=float))
    flags = (
        f"loss not settled: fell {drop:.2f} nats over the last tenth of steps"
        if unsettled(drop, se)
        else ""
    )
    return table.assign(loss_drop=drop, flags=flags)


def write_csv(table: pd.DataFrame, path: str) -> None:
    """Write a summary table as CSV atomically."""
    with replaced_atomically(path) as tmp:
        table.to_csv(tmp, float_format="%.6g")
