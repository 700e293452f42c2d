"""Is a method calibrated? Statistics of SBC ranks, coverage of central intervals, and verdicts.

A rank r of a truth among L posterior draws takes one of L + 1 values; under calibration each
is equally likely, also within any group of datasets chosen by a statistic of the data (not of
the truth). Every statistic here turns into a p-value (`departures`); the p-values of a whole
table form one family, tested with Holm's procedure at FAMILY_ALPHA (`holm`), and the tests that
survive give each row its verdict by the rules stated in `verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from pipeline.analysis.summary import unsettled

# family-wise false-alarm rate of a calibration table: the chance that a method whose
# posteriors are all exact gets any verdict but "no departure detected" anywhere in it
FAMILY_ALPHA = 0.05
# |z| of a posterior mean beyond which a fit counts as a gross miss (e.g. a wrong mode)
GROSS_Z = 5.0
# how often a calibrated method misses grossly, its z-scores taken as standard normal
GROSS_RATE = 2 * stats.norm.sf(GROSS_Z)  # 5.7e-7
CALIBRATED = "no departure detected"
OVERCONFIDENT = "overconfident (too narrow or off-centre)"


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
    truth is inside the central interval of the draws. Exact when level (L + 1) / 2 is whole.
    A NaN rank lies in no interval."""
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


def noise_statistic(f_obs: np.ndarray) -> np.ndarray:
    """Each dataset's noise sd estimated from its data alone (rows of f_obs, the spectral grid
    along the last axis): 1.4826 MAD(diff f) / sqrt(2), the robust sd of the first differences
    of the flux over sqrt(2). Independent noise of sd sigma gives differences of sd sigma sqrt(2);
    the line changes slowly from one pixel to the next, so the differences are mostly noise,
    and the median ignores the few steep pixels of its wings."""
    steps = np.diff(f_obs, axis=-1)
    spread = np.median(np.abs(steps - np.median(steps, axis=-1, keepdims=True)), axis=-1)
    return 1.4826 * spread / np.sqrt(2)


def _two_sided(below: np.ndarray, above: np.ndarray) -> np.ndarray:
    """Two-sided p-value from the two one-sided tail probabilities: twice the smaller, at most 1."""
    return np.minimum(1.0, 2 * np.minimum(below, above))


def uniformity_pvalue(ranks: np.ndarray, num_draws: int, bins: int) -> np.ndarray:
    """p-value of the chi-square test that the rank histogram (`bins` equal bins) is flat,
    along the last axis (NaN ranks not counted; NaN when none is)."""
    finite = np.isfinite(ranks)
    which = np.floor(np.where(finite, ranks, 0) * bins / (num_draws + 1)).astype(int)
    rows = finite.shape[:-1]
    row = np.arange(np.prod(rows, dtype=int)).reshape((*rows, 1))
    flat = np.bincount((row * bins + which)[finite], minlength=row.size * bins)
    counts = flat.reshape((*rows, bins))
    expected = counts.sum(axis=-1, keepdims=True) / bins
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = ((counts - expected) ** 2 / expected).sum(axis=-1)
    return stats.chi2.sf(statistic, bins - 1)


def rank_statistics(ranks: np.ndarray, num_draws: int) -> tuple[np.ndarray, np.ndarray]:
    """z-scores of the mean and of the spread of the ranks against their exact values under
    calibration, along the last axis (NaN ranks not counted). Location: u = (r + 1/2) / (L + 1)
    has mean 1/2; positive when truths sit above the posterior. Spread: the mean of
    (u - 1/2)^2; positive when truths fall in the tails too often (a posterior too narrow),
    negative when they crowd its middle (too wide)."""
    u = (ranks + 0.5) / (num_draws + 1)
    grid = (np.arange(num_draws + 1) + 0.5) / (num_draws + 1)
    n = np.isfinite(u).sum(axis=-1)
    square = (grid - 0.5) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        location = (np.nansum(u, axis=-1) / n - 0.5) / np.sqrt(grid.var() / n)
        spread_mean = np.nansum((u - 0.5) ** 2, axis=-1) / n
        spread = (spread_mean - square.mean()) / np.sqrt(square.var() / n)
    return location, spread


def departures(
    ranks: np.ndarray, z: np.ndarray, num_draws: int, levels: Sequence[float], bins: int
) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The statistics of one or many sets of ranks (along the last axis, NaN where a dataset is
    not counted) with the z-scores (mean - truth) / sd of the same fits (NaN where none), and
    every test of calibration as (p-value, excess): excess > 0 when truths fall outside the
    posterior more often than calibration allows, < 0 when less often. The tests:

    - uniform: chi-square test that the histogram of `bins` equal bins is flat, bins - 1
      degrees of freedom (`uniformity_pvalue`);
    - location, spread: the rank z-scores (`rank_statistics`), two-sided normal p;
    - coverage_XX, each level: the count of ranks in the central interval against its exact
      share of the L + 1 ranks, two-sided exact binomial test (twice the smaller tail);
      excess = share - coverage;
    - gross: the count of |z| > GROSS_Z against GROSS_RATE = P(|z| > GROSS_Z) for standard
      normal z-scores (what a calibrated method with near-Gaussian posteriors gives), one-sided
      binomial tail P(X >= count): even one gross miss in 1000 fits is significant (an
      infinite z, a zero sd away from the truth, is one; the other tests use finite z);
    - z_sd: the variance s^2 of the z-scores against 1 (a calibrated method's (mean - truth) / sd
      has mean 0 and variance 1), two-sided chi-square test, d s^2 ~ chi2(d), d = n - 1 for
      normal z-scores, scaled by 2 / (kurtosis - 1) where the sample's kurtosis exceeds 3 (Box
      1953), so heavy-tailed z-scores are not taken for a wrong variance; excess = s - 1.

    A test without data (no ranks; no z-scores for 'gross' and 'z_sd', fewer than 2 for
    'z_sd') has a NaN p-value."""
    slots = num_draws + 1
    n = np.isfinite(ranks).sum(axis=-1)
    counted = n > 0
    columns, tests = {}, {}
    for level in levels:
        k = central(ranks, num_draws, level).sum(axis=-1)
        share = central(np.arange(slots), num_draws, level).mean()
        low, high = wilson(k, n)
        name = f"coverage_{round(level * 100):d}"
        with np.errstate(invalid="ignore", divide="ignore"):
            columns |= {name: k / n, f"{name}_low": low, f"{name}_high": high}
        below, above = stats.binom.cdf(k, n, share), stats.binom.sf(k - 1, n, share)
        p = np.where(counted, _two_sided(below, above), np.nan)
        columns[f"p_{name}"] = p
        tests[name] = (p, share - columns[name])
    p_uniform = np.where(counted, uniformity_pvalue(ranks, num_draws, bins), np.nan)
    location, spread = rank_statistics(ranks, num_draws)
    p_location = _two_sided(stats.norm.cdf(location), stats.norm.sf(location))
    p_spread = _two_sided(stats.norm.cdf(spread), stats.norm.sf(spread))
    columns |= {
        "p_uniform": p_uniform,
        "rank_location_z": location,
        "p_location": p_location,
        "rank_spread_z": spread,
        "p_spread": p_spread,
    }
    tests |= {
        "uniform": (p_uniform, np.full(np.shape(n), np.nan)),
        "location": (p_location, location),
        "spread": (p_spread, spread),
    }
    z_columns, z_tests = _z_departures(z)
    return columns | z_columns, tests | z_tests


def _z_departures(z: np.ndarray):
    """The z-score columns and tests of `departures`."""
    finite = np.isfinite(z)
    n = finite.sum(axis=-1)
    missed = np.isinf(z).sum(axis=-1)  # a zero sd away from the truth: a gross miss
    z = np.where(finite, z, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = z.sum(axis=-1) / n
        square = np.where(finite, z - mean[..., None], 0.0) ** 2
        variance = square.sum(axis=-1) / (n - 1)
        kurtosis = (square**2).sum(axis=-1) / n / (variance * (n - 1) / n) ** 2
        df = (n - 1) * 2 / (np.fmax(kurtosis, 3) - 1)
        below, above = stats.chi2.cdf(df * variance, df), stats.chi2.sf(df * variance, df)
    p_z_sd = np.where(n > 1, _two_sided(below, above), np.nan)
    gross = (np.abs(z) > GROSS_Z).sum(axis=-1) + missed
    p_gross = np.where(n + missed > 0, stats.binom.sf(gross - 1, n + missed, GROSS_RATE), np.nan)
    sd = np.where(n > 1, np.sqrt(variance), np.nan)
    columns = {"z_mean": mean, "z_sd": sd, "p_z_sd": p_z_sd, "n_gross": gross, "p_gross": p_gross}
    return columns, {"gross": (p_gross, np.ones(np.shape(n))), "z_sd": (p_z_sd, sd - 1)}


def holm(pvalues: np.ndarray, alpha: float) -> np.ndarray:
    """Which hypotheses Holm's step-down procedure rejects with family-wise error rate alpha,
    under any dependence between the tests: with the m p-values sorted, p(1) <= ... <= p(m),
    reject while p(j) <= alpha / (m - j + 1) and stop at the first that is not. NaN p-values
    (tests that could not be run) are not part of the family and never rejected."""
    tested = np.flatnonzero(np.isfinite(pvalues))
    order = tested[np.argsort(pvalues[tested], kind="stable")]
    m = len(order)
    passed = np.cumprod(pvalues[order] <= alpha / (m - np.arange(m))).astype(bool)
    rejected = np.zeros(np.shape(pvalues), bool)
    rejected[order[passed]] = True
    return rejected


def verdict(rejected: Mapping[str, float]) -> str:
    """The word for one row from its tests that survive Holm (`departures`' names, each with
    its excess: > 0 when truths fall outside the posterior too often), by these rules in order:

    1. 'biased' if the location test rejects;
    2. 'overconfident (too narrow or off-centre)' if any test rejects with excess > 0: spread
       z > 0, coverage below its level, z-score sd above 1 (posterior means scattered around
       the truths more than their sds allow: an off-centre guide), or gross misses;
    3. 'too wide' if any test rejects with excess < 0: spread z < 0, coverage above its level,
       z-score sd below 1;
    4. 'not uniform' if only the histogram test rejects;
    5. else 'no departure detected' (none these many datasets can show)."""
    if "location" in rejected:
        return "biased"
    excess = [value for name, value in rejected.items() if name != "uniform"]
    if any(value > 0 for value in excess):
        return OVERCONFIDENT
    if any(value < 0 for value in excess):
        return "too wide"
    if "uniform" in rejected:
        return "not uniform"
    return CALIBRATED


def strata(values: np.ndarray, groups: int) -> np.ndarray:
    """Quantile groups 1..groups of `values` (1 = lowest), e.g. terciles of the noise estimated
    from the data."""
    edges = np.quantile(values, np.linspace(0, 1, groups + 1)[1:-1])
    return np.searchsorted(edges, values, side="right") + 1


# the two views of calibration.csv: every fit that gave ranks, and only those that passed
# their method's own checks (what a user who trusts the checks would keep)
VIEWS = ("all fits", "fits passing their checks")


def calibration_rows(
    ranks: xr.Dataset, levels: Sequence[float], bins: int, strata_names: dict[int, str]
) -> pd.DataFrame:
    """calibration.csv: per view (VIEWS: every fit, or only those passing their checks),
    stratum ('all' and each group of the noise estimated from the data, with its range),
    method and quantity: the datasets counted and set aside, coverage at each level with its
    Wilson interval, the statistics and p-values of `departures` (z-scores: their mean, sd,
    and how many exceed GROSS_Z), the tests Holm rejects across the view's whole table (every
    row's every test is one family, at FAMILY_ALPHA: `family_alpha`, `family_tests`), and the
    verdict those give (`verdict`; 'no fits' where no dataset is counted)."""
    return pd.concat([_view_rows(ranks, view, levels, bins, strata_names) for view in VIEWS],
                     ignore_index=True)  # fmt: skip


def _view_rows(
    ranks: xr.Dataset, view: str, levels: Sequence[float], bins: int, strata_names: dict
) -> pd.DataFrame:
    num_draws = int(ranks.attrs["num_draws"])
    noise = ranks["noise_estimate"].values
    groups = {"all": np.ones(ranks.sizes["dataset"], bool)}
    groups |= {name: ranks["stratum"].values == k for k, name in strata_names.items()}
    rows, tests = [], []
    for stratum, members in groups.items():
        for method in ranks["inference"].values:
            fits = ranks.sel(inference=method).isel(dataset=np.flatnonzero(members))
            flagged = fits["flagged"].values.astype(bool)
            used = ~flagged if view == VIEWS[1] else np.ones_like(flagged)
            for quantity in ranks["quantity"].values:
                r = fits["rank"].sel(quantity=quantity).values
                counted = used & np.isfinite(r)
                has_z = quantity in fits["param"]
                z = fits["z"].sel(param=quantity).values if has_z else np.full(r.shape, np.nan)
                columns, found = departures(
                    np.where(counted, r, np.nan), np.where(counted, z, np.nan),
                    num_draws, levels, bins,
                )  # fmt: skip
                rows.append(
                    {
                        "fits": view,
                        "stratum": stratum,
                        "inference": method,
                        "quantity": quantity,
                        "noise_estimate_low": float(noise[members].min()),
                        "noise_estimate_high": float(noise[members].max()),
                        "n": int(counted.sum()),
                        "n_flagged": int(flagged.sum()),
                        "n_nan": int((~np.isfinite(r)).sum()),
                        **{name: value.item() for name, value in columns.items()},
                    }
                )
                tests.append(found)
    names = list(tests[0])
    pvalues = np.array([[found[name][0] for name in names] for found in tests], float)
    rejected = holm(pvalues.ravel(), FAMILY_ALPHA).reshape(pvalues.shape)
    for row, found, hits in zip(rows, tests, rejected, strict=True):
        failed = {name: float(found[name][1]) for name, hit in zip(names, hits, strict=True) if hit}
        row |= {
            "holm_rejected": ";".join(failed),
            "family_alpha": FAMILY_ALPHA,
            "family_tests": int(np.isfinite(pvalues).sum()),
            "verdict": verdict(failed) if row["n"] else "no fits",
        }
    return pd.DataFrame(rows)


def fit_problems(fits: xr.Dataset, min_ess: float, max_r_hat: float) -> list[str]:
    """Per dataset of one method's fits, the checks it failed ('' when none): divergences, ESS
    below min_ess or R-hat above max_r_hat (MCMC), Newton not converged (Laplace), a loss still
    falling (SVI)."""
    problems = [[] for _ in range(fits.sizes["dataset"])]
    for i in range(fits.sizes["dataset"]):
        fit = fits.isel(dataset=i)
        if fit["divergences"] > 0:
            problems[i].append(f"{int(fit['divergences'])} divergences")
        # NaN statistics (a NUTS fit with too few draws) fail; NaN where the method has none
        mcmc = bool(np.isfinite(fit["divergences"]))
        for ess in ("ess_bulk", "ess_tail"):
            if mcmc and not (fit[ess] >= min_ess).all():
                problems[i].append(f"{ess} {float(fit[ess].min()):.0f} < {min_ess:g}")
        if mcmc and not (fit["r_hat"] <= max_r_hat).all():
            problems[i].append(f"r_hat {float(fit['r_hat'].max()):.3f} > {max_r_hat}")
        if fit["converged"] == 0:
            problems[i].append(f"Newton not converged in {int(fit['iterations'])} iterations")
        if unsettled(float(fit["loss_drop"]), float(fit["loss_drop_se"])):
            problems[i].append(f"loss not settled: fell {float(fit['loss_drop']):.2f} nats")
    return ["; ".join(p) for p in problems]


def collect(
    blocks: dict[str, list[xr.Dataset]],
    min_ess: float,
    max_r_hat: float,
    include_flagged: bool,
    noise_strata: int,
    statistic: np.ndarray,
) -> tuple[dict, list[dict]]:
    """Every method's block files joined along the dataset axis, as the variables of ranks.nc,
    and a row per fit that failed its checks or gave NaN (method, dataset, problem). The
    datasets are grouped into `noise_strata` quantile groups (`stratum`) of `statistic`, one
    value per joined dataset computed from its data alone (`noise_statistic`, kept as
    `noise_estimate`): ranks are uniform given any function of the data, not of the truth."""
    methods = list(blocks)
    joined = {m: xr.concat(blocks[m], dim="dataset") for m in methods}
    first = joined[methods[0]]
    if np.shape(statistic) != (first.sizes["dataset"],):
        raise ValueError(
            f"statistic has shape {np.shape(statistic)}, not one value per dataset "
            f"({first.sizes['dataset']})"
        )
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
             ("rank", "mean", "sd", "ess_bulk", "r_hat", "divergences", "converged", "thin",
              "ranked_draws", "ess_min")}  # fmt: skip
    truth = first["truth"].values
    seconds = {
        m: sum(b.attrs["run_seconds"] for b in blocks[m]) / joined[m].sizes["dataset"]
        for m in methods
    }
    variables = {
        "truth": truth,
        "noise_estimate": np.asarray(statistic),
        "stratum": strata(statistic, noise_strata),
        **stack,
        "z": (stack["mean"] - truth) / stack["sd"],
        "flagged": np.stack(flagged).astype(int),
        "used": np.stack(used).astype(int),
        "seconds_per_dataset": np.array([seconds[m] for m in methods]),
        "compile_seconds": np.array(
            [sum(b.attrs["compile_seconds"] for b in blocks[m]) for m in methods]
        ),
    }
    return variables, failed
