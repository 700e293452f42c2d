"""How far each method's posterior sits from the reference (NUTS), in units of NUTS sd."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import arviz as az
import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import wasserstein_distance

from pipeline.io.layouts import PARAMS

# every method a dataset is fitted with, the reference (NUTS) first
METHODS = ("nuts", "svi", "laplace", "nested", "gradient_free")

# the energy distance compares at most this many draws per method (evenly thinned): its cost
# grows with the square of the draws
ENERGY_DRAWS = 2000
LAPLACE_SEED = 0  # seed of the draws that stand for the Laplace approximation's Gaussian


def draws(idata: Any) -> np.ndarray:
    """Posterior draws as an array (samples, parameters), chains pooled."""
    stacked = idata.posterior[list(PARAMS)].stack(sample=("chain", "draw"))
    return np.stack([stacked[p].values for p in PARAMS], axis=1)


def laplace_draws(laplace: Any, num_draws: int) -> np.ndarray:
    """Draws (samples, parameters) of the Laplace approximation N(mode, covariance), from a
    fixed seed, so that it can be compared as the samplers are."""
    mode = laplace["mode"].sel(param=list(PARAMS)).values.astype(float)
    covariance = laplace["covariance"].sel(param=list(PARAMS), param_=list(PARAMS)).values
    rng = np.random.default_rng(LAPLACE_SEED)
    return rng.multivariate_normal(mode, covariance.astype(float), size=num_draws)


def method_draws(fits: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Each method's draws (samples, parameters) from its file (layout -> file, NUTS first);
    the Laplace approximation as as many draws of its Gaussian as NUTS has."""
    count = len(draws(fits["nuts"]))
    return {
        kind: laplace_draws(fit, count) if kind == "laplace" else draws(fit)
        for kind, fit in fits.items()
    }


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
