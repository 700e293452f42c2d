"""Is a method calibrated? Statistics of SBC ranks, coverage of central intervals, and verdicts.

A rank r of a truth among L posterior draws takes one of L + 1 values; under calibration each
is equally likely. Everything here is computed from ranks (and z-scores) alone, with the
rules that turn them into a verdict stated in `verdict`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from pipeline.io.layouts import PARAMS

# |z| beyond which a statistic of the ranks counts as a departure from uniformity
Z_LIMIT = 3.0
# p-value of the chi-square test of the rank histogram below which its shape is not uniform
P_LIMIT = 0.001
# |z| of a posterior mean beyond which a fit counts as a gross miss (e.g. a wrong mode)
GROSS_Z = 5.0


def wilson(k: np.ndarray, n: np.ndarray, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of a binomial proportion k/n."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # the interval holds p; at p = 0 or 1 rounding alone would put p a hair outside
    return np.minimum(centre - half, p), np.maximum(centre + half, p)


def central(ranks: np.ndarray, num_draws: int, level: float) -> np.ndarray:
    """Whether each rank lies in the central `level` share of the L + 1 possible ranks: the
    truth is inside the central interval of the draws. Exact when level (L + 1) / 2 is whole."""
    slots = num_draws + 1
    # rounded, so that 0.05 x 200 / 2 is 5, not 5.000000000000004
    low, high = np.round((1 - level) * slots / 2, 9), np.round((1 + level) * slots / 2, 9)
    return (low <= ranks) & (ranks < high)


def coverage_curve(ranks: np.ndarray, num_draws: int) -> tuple[np.ndarray, np.ndarray]:
    """Coverage of central intervals at every level the ranks resolve: levels 2k / (L + 1)
    and the share of ranks inside the central 2k ranks."""
    slots = num_draws + 1
    levels = 2 * np.arange(slots // 2 + 1) / slots
    return levels, np.array([central(ranks, num_draws, a).mean() for a in levels])


def pit(ranks: np.ndarray, num_draws: int) -> np.ndarray:
    """Ranks as values in (0, 1]: (r + 1) / (L + 1), whose ECDF at j / K (K dividing L + 1)
    is the share of ranks below j (L + 1) / K, j / K under calibration."""
    return (ranks + 1) / (num_draws + 1)


def uniformity_pvalue(ranks: np.ndarray, num_draws: int, bins: int) -> float:
    """p-value of the chi-square test that the rank histogram (`bins` equal bins) is flat."""
    counts = np.bincount((ranks * bins // (num_draws + 1)).astype(int), minlength=bins)
    return float(stats.chisquare(counts).pvalue)


def rank_statistics(ranks: np.ndarray, num_draws: int) -> tuple[float, float]:
    """z-scores of the mean and of the spread of the ranks against their exact values under
    calibration. Location: u = (r + 1/2) / (L + 1) has mean 1/2; positive when truths sit
    above the posterior. Spread: the mean of (u - 1/2)^2; positive when truths fall in the
    tails too often (a posterior too narrow), negative when they crowd its middle (too wide)."""
    u = (ranks + 0.5) / (num_draws + 1)
    grid = (np.arange(num_draws + 1) + 0.5) / (num_draws + 1)
    n = len(u)
    location = (u.mean() - 0.5) / np.sqrt(grid.var() / n)
    square = (grid - 0.5) ** 2
    spread = (((u - 0.5) ** 2).mean() - square.mean()) / np.sqrt(square.var() / n)
    return float(location), float(spread)


def verdict(location: float, spread: float, pvalue: float) -> str:
    """The word for a set of ranks, by these rules in order: 'biased' if |location| > 3,
    'too narrow' if spread > 3, 'too wide' if spread < -3, 'not uniform' if the histogram's
    p-value is below 0.001, else 'calibrated' (no departure this many datasets can show)."""
    if abs(location) > Z_LIMIT:
        return "biased"
    if spread > Z_LIMIT:
        return "too narrow"
    if spread < -Z_LIMIT:
        return "too wide"
    if pvalue < P_LIMIT:
        return "not uniform"
    return "calibrated"


def strata(values: np.ndarray, groups: int) -> np.ndarray:
    """Quantile groups 1..groups of `values` (1 = lowest), e.g. terciles of the drawn noise."""
    edges = np.quantile(values, np.linspace(0, 1, groups + 1)[1:-1])
    return np.searchsorted(edges, values, side="right") + 1


def calibration_rows(
    ranks: xr.Dataset, levels: Sequence[float], bins: int, strata_names: dict[int, str]
) -> pd.DataFrame:
    """calibration.csv: per stratum ('all' and each noise group), method and quantity: the
    datasets counted and set aside, coverage at each level with its Wilson interval, the
    uniformity p-value, the rank statistics, the z-scores (mean, sd, and how many exceed
    GROSS_Z: fits far from the truth, which a few enough do not move the ranks), the verdict."""
    num_draws = int(ranks.attrs["num_draws"])
    groups = {"all": np.ones(ranks.sizes["dataset"], bool)}
    groups |= {name: ranks["stratum"].values == k for k, name in strata_names.items()}
    rows = []
    for stratum, members in groups.items():
        for method in ranks["inference"].values:
            fits = ranks.sel(inference=method).isel(dataset=np.flatnonzero(members))
            used = fits["used"].values.astype(bool)
            for quantity in ranks["quantity"].values:
                r = fits["rank"].sel(quantity=quantity).values
                counted = used & np.isfinite(r)
                found = _statistics(r[counted], fits, quantity, counted, num_draws, levels, bins)
                rows.append(
                    {
                        "stratum": stratum,
                        "inference": method,
                        "quantity": quantity,
                        "sigmain_low": float(fits["truth"].sel(param="sigmain").min()),
                        "sigmain_high": float(fits["truth"].sel(param="sigmain").max()),
                        "n": int(counted.sum()),
                        "n_flagged": int(fits["flagged"].values.sum()),
                        "n_nan": int((~np.isfinite(r)).sum()),
                        **found,
                    }
                )
    return pd.DataFrame(rows)


def _statistics(r, fits, quantity, counted, num_draws, levels, bins) -> dict:
    out = {}
    for level in levels:
        k = central(r, num_draws, level).sum()
        low, high = wilson(np.array([k]), np.array([len(r)]))
        name = f"coverage_{round(level * 100):d}"
        out |= {name: k / len(r) if len(r) else np.nan, f"{name}_low": low[0],
                f"{name}_high": high[0]}  # fmt: skip
    if len(r) == 0:
        nothing = ("p_uniform", "rank_location_z", "rank_spread_z", "z_mean", "z_sd")
        return out | dict.fromkeys(nothing, np.nan) | {"n_gross": 0, "verdict": "no fits"}
    pvalue = uniformity_pvalue(r, num_draws, bins)
    location, spread = rank_statistics(r, num_draws)
    z = fits["z"].sel(param=quantity).values[counted] if quantity in fits["param"] else []
    return out | {
        "p_uniform": pvalue,
        "rank_location_z": location,
        "rank_spread_z": spread,
        "z_mean": float(np.mean(z)) if len(z) else np.nan,
        "z_sd": float(np.std(z, ddof=1)) if len(z) > 1 else np.nan,
        "n_gross": int((np.abs(z) > GROSS_Z).sum()) if len(z) else 0,
        "verdict": verdict(location, spread, pvalue),
    }


def fit_problems(fits: xr.Dataset, min_ess: float, max_r_hat: float) -> list[str]:
    """Per dataset of one method's fits, the checks it failed ('' when none): divergences, ESS
    below min_ess or R-hat above max_r_hat (NUTS), Newton not converged (Laplace)."""
    problems = [[] for _ in range(fits.sizes["dataset"])]
    for i in range(fits.sizes["dataset"]):
        fit = fits.isel(dataset=i)
        if fit["divergences"] > 0:
            problems[i].append(f"{int(fit['divergences'])} divergences")
        # NaN statistics (a NUTS fit with too few draws) fail; NaN where the method has none
        nuts = bool(np.isfinite(fit["divergences"]))
        for ess in ("ess_bulk", "ess_tail"):
            if nuts and not (fit[ess] >= min_ess).all():
                problems[i].append(f"{ess} {float(fit[ess].min()):.0f} < {min_ess:g}")
        if nuts and not (fit["r_hat"] <= max_r_hat).all():
            problems[i].append(f"r_hat {float(fit['r_hat'].max()):.3f} > {max_r_hat}")
        if fit["converged"] == 0:
            problems[i].append(f"Newton not converged in {int(fit['iterations'])} iterations")
    return ["; ".join(p) for p in problems]


def collect(
    blocks: dict[str, list[xr.Dataset]],
    min_ess: float,
    max_r_hat: float,
    include_flagged: bool,
    noise_strata: int,
) -> tuple[dict, list[dict]]:
    """Every method's block files joined along the dataset axis, as the variables of ranks.nc,
    and a row per fit that failed its checks or gave NaN (method, dataset, problem)."""
    methods = list(blocks)
    joined = {m: xr.concat(blocks[m], dim="dataset") for m in methods}
    first = joined[methods[0]]
    failed, flagged, used = [], [], []
    for method in methods:
        fits = joined[method]
        problems = fit_problems(fits, min_ess, max_r_hat)
        nan = ~np.isfinite(fits["rank"].values).all(axis=1)
        for index, problem, is_nan in zip(fits["dataset"].values, problems, nan, strict=True):
            if problem or is_nan:
                failed.append({"inference": method, "dataset": int(index),
                               "problem": "NaN in the fit" if is_nan else problem})  # fmt: skip
        flags = np.array([bool(p) for p in problems])
        flagged.append(flags)
        used.append(~nan & (include_flagged | ~flags))
    stack = {name: np.stack([joined[m][name].values for m in methods]) for name in
             ("rank", "mean", "sd", "ess_bulk", "r_hat", "divergences", "converged")}  # fmt: skip
    truth = first["truth"].values
    seconds = {
        m: sum(b.attrs["run_seconds"] for b in blocks[m]) / joined[m].sizes["dataset"]
        for m in methods
    }
    variables = {
        "truth": truth,
        "stratum": strata(truth[:, PARAMS.index("sigmain")], noise_strata),
        **stack,
        "z": (stack["mean"] - truth) / stack["sd"],
        "flagged": np.stack(flagged).astype(int),
        "used": np.stack(used).astype(int),
        "thin": np.array([blocks[m][0].attrs["thin"] for m in methods]),
        "seconds_per_dataset": np.array([seconds[m] for m in methods]),
        "compile_seconds": np.array(
            [sum(b.attrs["compile_seconds"] for b in blocks[m]) for m in methods]
        ),
    }
    return variables, failed
