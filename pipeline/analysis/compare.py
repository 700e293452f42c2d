"""How far an approximate posterior (SVI) sits from the reference (NUTS), in units of NUTS sd."""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import wasserstein_distance

from pipeline.io.layouts import PARAMS


def draws(idata: Any) -> np.ndarray:
    """Posterior draws as an array (samples, parameters), chains pooled."""
    stacked = idata.posterior[list(PARAMS)].stack(sample=("chain", "draw"))
    return np.stack([stacked[p].values for p in PARAMS], axis=1)


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Energy distance between two samples (rows are draws): 0 when they share a distribution."""
    xy, xx, yy = cdist(x, y).mean(), cdist(x, x).mean(), cdist(y, y).mean()
    return float(np.sqrt(max(2 * xy - xx - yy, 0.0)))


def compare(reference: Any, approximation: Any, hdi_prob: float) -> dict[str, Any]:
    """Means, sds and HDIs of both posteriors and their distances, as arrays for the layout."""
    ref, approx = draws(reference), draws(approximation)
    scale = ref.std(axis=0, ddof=1)
    hdis = [
        np.array([az.hdi(d[:, i], hdi_prob=hdi_prob) for i in range(d.shape[1])])
        for d in (ref, approx)
    ]
    return {
        "mean": np.stack([ref.mean(axis=0), approx.mean(axis=0)]),
        "sd": np.stack([scale, approx.std(axis=0, ddof=1)]),
        "hdi_low": np.stack([h[:, 0] for h in hdis]),
        "hdi_high": np.stack([h[:, 1] for h in hdis]),
        "mean_shift": (approx.mean(axis=0) - ref.mean(axis=0)) / scale,
        "sd_ratio": approx.std(axis=0, ddof=1) / scale,
        "wasserstein": np.array(
            [wasserstein_distance(ref[:, i], approx[:, i]) / scale[i] for i in range(len(PARAMS))]
        ),
        "energy_distance": energy_distance(ref / scale, approx / scale),
    }
