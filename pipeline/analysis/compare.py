"""How far each method's posterior sits from a reference method's, in units of its sd."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import arviz as az
import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import wasserstein_distance

from pipeline.analysis.summary import parameters

# the energy distance compares at most this many draws per method (evenly thinned): its cost
# grows with the square of the draws
ENERGY_DRAWS = 2000


def draws(idata: Any) -> np.ndarray:
    """Posterior draws as an array (samples, parameters), chains pooled."""
    names = parameters(idata)
    stacked = idata.posterior[names].stack(sample=("chain", "draw"))
    return np.stack([stacked[p].values for p in names], axis=1)


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Energy distance between two samples (rows are draws): 0 when they share a distribution."""
    x, y = _at_most(x, ENERGY_DRAWS), _at_most(y, ENERGY_DRAWS)
    xy, xx, yy = cdist(x, y).mean(), cdist(x, x).mean(), cdist(y, y).mean()
    return float(np.sqrt(max(2 * xy - xx - yy, 0.0)))


def _at_most(x: np.ndarray, n: int) -> np.ndarray:
    return x[np.linspace(0, len(x) - 1, n).round().astype(int)] if len(x) > n else x


def compare(samples: Mapping[str, np.ndarray], hdi_prob: float) -> dict[str, Any]:
    """Means, sds and HDIs of every method's draws (samples, parameters), and their distances
    from the first method's (the reference), as arrays (method, ...) for the compare layout;
    the reference's own row holds 0 shift, sd ratio 1 and distance 0."""
    ref = next(iter(samples.values()))
    scale = ref.std(axis=0, ddof=1)
    rows = []
    for d in samples.values():
        hdi = np.array([az.hdi(d[:, i], hdi_prob=hdi_prob) for i in range(d.shape[1])])
        rows.append({
            "mean": d.mean(axis=0),
            "sd": d.std(axis=0, ddof=1),
            "hdi_low": hdi[:, 0],
            "hdi_high": hdi[:, 1],
            "mean_shift": (d.mean(axis=0) - ref.mean(axis=0)) / scale,
            "sd_ratio": d.std(axis=0, ddof=1) / scale,
            "wasserstein": np.array(
                [wasserstein_distance(ref[:, i], d[:, i]) / scale[i] for i in range(d.shape[1])]
            ),
            "energy_distance": energy_distance(ref / scale, d / scale),
        })  # fmt: skip
    return {name: np.stack([np.asarray(row[name]) for row in rows]) for name in rows[0]}
