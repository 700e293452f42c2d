"""What several methods' modules share: the observed-data group's meaning, and for MCMC chains
their draws as one array, their ESS and the flags of a summary from their checks.

The methods' modules are read by the workflow while it plans its jobs, so they import JAX,
numpyro and ArviZ only inside the functions that fit or read (see pipeline.models.spec)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.methods.base import parameters, runtime

# the flux in the observed_data group (and a posterior-predictive group)
Y = {"y": "flux, transmission units (observed_data: the data; posterior_predictive: draws)"}


def chain_draws(arrays: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    """Per-parameter arrays (dataset, chain, draw) as one array (dataset, chain, draw, param)."""
    return np.stack([arrays[n] for n in names], axis=-1)


def bulk_ess(idata: Any) -> tuple[float, str]:
    """The smallest bulk ESS over the parameters, all chains: an MCMC file's effective draws."""
    import arviz as az

    names = parameters(idata)
    ess = az.ess(idata.posterior[names], method="bulk")
    return min(float(ess[p]) for p in names), "bulk ESS, all chains"


def mcmc_flags(table: Any, idata: Any, thresholds: Any) -> Any:
    """A summary flagged by the MCMC checks: r-hat and ESS (and divergences, if recorded)."""
    flag = runtime("analysis.summary", "flag")
    stats = getattr(idata, "sample_stats", None)
    divergences = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    return flag(table, divergences, thresholds)
