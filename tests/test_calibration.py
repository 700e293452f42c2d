"""The calibration verdicts: Holm's procedure, the noise statistic the strata come from, the
verdict rules, the false-alarm rate of a whole table on exact posteriors, and the power to name
too narrow, too wide, biased and off-centre posteriors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import special, stats

from pipeline.analysis.calibration import (
    CALIBRATED,
    FAMILY_ALPHA,
    OVERCONFIDENT,
    VIEWS,
    calibration_rows,
    collect,
    departures,
    fit_problems,
    holm,
    noise_statistic,
    rank_statistics,
    strata,
    uniformity_pvalue,
    verdict,
)

L = 199  # draws per truth, as in config/sbc.yaml
LEVELS = (0.5, 0.9, 0.95)
BINS = 20
STRATA = {k: f"noise {k} of 3" for k in (1, 2, 3)}
POSTERIOR_SD = np.sqrt(0.5)  # theta ~ N(0, 1), y | theta ~ N(theta, 1): theta | y ~ N(y/2, 1/2)


# ---------------------------------------------------------------------------------------------
# Holm's procedure


def holm_by_closed_testing(pvalues: np.ndarray, alpha: float) -> np.ndarray:
    """Holm's procedure by its definition: closed testing with Bonferroni tests, rejecting H_i
    when every intersection of hypotheses holding i has a p-value at most alpha / its size."""
    tested = [i for i in range(len(pvalues)) if np.isfinite(pvalues[i])]
    rejected = np.zeros(len(pvalues), bool)
    for i in tested:
        others = [j for j in tested if j != i]
        rejected[i] = all(
            min(pvalues[j] for j in (i, *subset)) <= alpha / (len(subset) + 1)
            for size in range(len(others) + 1)
            for subset in itertools.combinations(others, size)
        )
    return rejected


def test_holm_is_closed_testing_with_bonferroni():
    rng = np.random.default_rng(0)
    for m in range(1, 8):
        for _ in range(60):
            p = rng.choice([rng.uniform(0, 0.1), rng.uniform()], size=m)
            p[rng.uniform(size=m) < 0.15] = np.nan  # tests that could not be run
            if m > 2:
                p[1] = p[0]  # ties
            for alpha in (0.05, 0.2):
                np.testing.assert_array_equal(holm(p, alpha), holm_by_closed_testing(p, alpha))


def test_holm_steps_down_and_stops():
    p = np.array([0.01, 0.0001, 0.04, 0.03])
    # sorted: 0.0001 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop, though 0.04 <= 0.05/1
    np.testing.assert_array_equal(holm(p, 0.05), [True, True, False, False])
    assert not holm(np.array([np.nan, np.nan]), 0.05).any()


# ---------------------------------------------------------------------------------------------
# the statistic of the data that the strata come from


def test_noise_statistic_measures_the_noise_not_the_line():
    rng = np.random.default_rng(1)
    nu = np.linspace(-50, 50, 1000)
    line = 1 - 0.8 * np.exp(-0.5 * (nu / 3) ** 2)  # a deep line, 30 pixels wide
    sigma = np.array([0.01, 0.05, 0.2])
    f_obs = line + sigma[:, None] * rng.normal(size=(3, nu.size))
    estimate = noise_statistic(f_obs)
    assert estimate.shape == (3,)
    np.testing.assert_allclose(estimate, sigma, rtol=0.1)
    assert noise_statistic(line) < 0.01 * 0.05  # the line alone is almost no noise


def test_rank_statistics_work_along_the_last_axis_and_skip_nan():
    rng = np.random.default_rng(2)
    r = rng.integers(0, L + 1, size=(3, 400)).astype(float)
    r[1, :100] = np.nan
    location, spread = rank_statistics(r, L)
    row_location, row_spread = rank_statistics(r[1, 100:], L)
    assert location[1] == pytest.approx(row_location) and spread[1] == pytest.approx(row_spread)
    assert uniformity_pvalue(r, L, BINS)[1] == pytest.approx(uniformity_pvalue(r[1, 100:], L, BINS))
    counts = np.bincount((r[0] * BINS // (L + 1)).astype(int), minlength=BINS)
    assert uniformity_pvalue(r[0], L, BINS) == pytest.approx(stats.chisquare(counts).pvalue)


# ---------------------------------------------------------------------------------------------
# the verdict rules


@pytest.mark.parametrize(
    ("rejected", "word"),
    [
        ({}, CALIBRATED),
        ({"uniform": np.nan}, "not uniform"),
        ({"location": 4.0, "spread": 5.0}, "biased"),
        ({"spread": 5.0}, OVERCONFIDENT),
        ({"coverage_90": 0.05}, OVERCONFIDENT),
        ({"z_sd": 0.2}, OVERCONFIDENT),
        ({"gross": 1.0}, OVERCONFIDENT),
        ({"coverage_50": -0.05, "coverage_95": 0.02}, OVERCONFIDENT),  # overconfidence first
        ({"spread": -5.0, "uniform": np.nan}, "too wide"),
        ({"coverage_50": -0.08}, "too wide"),
        ({"z_sd": -0.3}, "too wide"),
    ],
)
def test_the_verdict_follows_its_rules_in_order(rejected, word):
    assert verdict(rejected) == word


# ---------------------------------------------------------------------------------------------
# the false-alarm rate of a whole table, on exact posteriors


def exact_tables(rng, replicates: int, methods: int, quantities: int, n: int):
    """Replicate calibration tables of methods whose posteriors are exact, for the conjugate
    model above: ranks and z-scores per (replicate, method x quantity, dataset), independent
    between cells, and a statistic of each dataset's data (|y| of its first quantity).

    The rank of theta among L draws of its exact posterior N(m, s^2) is binomial(L, u) with
    u = Phi((theta - m) / s); the z-score (m - theta) / s uses the exact moments. The last
    quantity has no z-scores, like log p(y | theta)."""
    theta = rng.normal(size=(replicates, methods * quantities, n))
    y = theta + rng.normal(size=theta.shape)
    z = (y / 2 - theta) / POSTERIOR_SD
    ranks = rng.binomial(L, special.ndtr(-z)).astype(float)
    z[:, quantities - 1 :: quantities] = np.nan
    return ranks, z, np.abs(y[:, 0])


def stratified(values: np.ndarray, statistic: np.ndarray) -> np.ndarray:
    """Rows of a table as calibration_rows orders them: 'all', then each stratum, the
    datasets outside a row's stratum set to NaN (not counted)."""
    groups = np.stack([strata(s, len(STRATA)) for s in statistic])[:, None, :]
    rows = [values] + [np.where(groups == k, values, np.nan) for k in STRATA]
    return np.concatenate(rows, axis=1)


def table_verdicts(pvalues: np.ndarray, excess: dict, names: list[str]) -> list[str]:
    """Verdicts of one table's rows (p-values: rows x tests) after Holm across the table."""
    rejected = holm(pvalues.ravel(), FAMILY_ALPHA).reshape(pvalues.shape)
    return [
        verdict({name: excess[name][row] for name, hit in zip(names, hits, strict=True) if hit})
        for row, hits in enumerate(rejected)
    ]


def ranks_dataset(ranks, z, statistic, methods, quantities, params) -> xr.Dataset:
    """A ranks.nc-like dataset, every fit counted: ranks (method, dataset, quantity), z-scores
    (method, dataset, param)."""
    shape = ranks.shape[:2]
    return xr.Dataset(
        {
            "rank": (("inference", "dataset", "quantity"), ranks),
            "z": (("inference", "dataset", "param"), z),
            "used": (("inference", "dataset"), np.ones(shape, int)),
            "flagged": (("inference", "dataset"), np.zeros(shape, int)),
            "noise_estimate": ("dataset", statistic),
            "stratum": ("dataset", strata(statistic, len(STRATA))),
        },
        coords={"inference": methods, "quantity": quantities, "param": params},
        attrs={"num_draws": L},
    )


def test_a_table_of_exact_posteriors_rarely_has_any_departure():
    """2000 tables of 3 methods x 4 quantities x (all + 3 strata) = 48 rows and 360 tests,
    1000 datasets, every null hypothesis true. The share of tables with any verdict but 'no
    departure detected' must be consistent with at most FAMILY_ALPHA (one-sided binomial test
    at 0.001: a rate of 7.5% fails), and so must each test's share of p-values below 0.001
    over the 96 000 rows (its p-values are valid where Holm's thresholds lie)."""
    rng = np.random.default_rng(20261202)
    methods, quantities, n, replicates, chunk = 3, 4, 1000, 2000, 50
    alarms, pvalues = 0, []
    for start in range(0, replicates, chunk):
        ranks, z, statistic = exact_tables(rng, chunk, methods, quantities, n)
        _, tests = departures(
            stratified(ranks, statistic), stratified(z, statistic), L, LEVELS, BINS
        )
        names = list(tests)
        table = np.stack([tests[name][0] for name in names], axis=-1)
        for i in range(chunk):
            excess = {name: tests[name][1][i] for name in names}
            words = table_verdicts(table[i], excess, names)
            alarms += any(word != CALIBRATED for word in words)
        if start == 0:  # one table end to end, through calibration_rows
            check_one_table(ranks[0], z[0], statistic[0], methods, quantities, table[0])
        pvalues.append(table.reshape(-1, len(names)))
    assert np.isfinite(table[0]).sum() == 4 * methods * ((quantities - 1) * 8 + 6)
    found = stats.binomtest(alarms, replicates, FAMILY_ALPHA, alternative="greater")
    interval = stats.binomtest(alarms, replicates).proportion_ci(0.95)
    print(f"{alarms} of {replicates} tables with a false alarm "
          f"(95% interval {interval.low:.4f}-{interval.high:.4f})")  # fmt: skip
    assert found.pvalue > 0.001
    for name, p in zip(names, np.concatenate(pvalues).T, strict=True):
        p = p[np.isfinite(p)]
        below = int((p < 0.001).sum())
        assert stats.binomtest(below, p.size, 0.001, alternative="greater").pvalue > 0.001, name


def check_one_table(ranks, z, statistic, methods, quantities, pvalues):
    """calibration_rows on one replicate gives the p-values of the vectorised statistics."""
    ranks = ranks.reshape(methods, quantities, -1).transpose(0, 2, 1)
    z = z.reshape(methods, quantities, -1).transpose(0, 2, 1)[..., :-1]
    names = [f"q{q}" for q in range(quantities)]
    ds = ranks_dataset(ranks, z, statistic, [f"m{i}" for i in range(methods)], names, names[:-1])
    table = calibration_rows(ds, LEVELS, BINS, STRATA)
    # no fit is flagged here: both views are the same table
    every, passing = (table[table["fits"] == view].reset_index(drop=True) for view in VIEWS)
    pd.testing.assert_frame_equal(every.drop(columns="fits"), passing.drop(columns="fits"))
    table = every
    # calibration_rows loops stratum, method, quantity; so do the vectorised rows
    columns = ["p_coverage_50", "p_coverage_90", "p_coverage_95", "p_uniform", "p_location",
               "p_spread", "p_gross", "p_z_sd"]  # fmt: skip
    np.testing.assert_allclose(table[columns].to_numpy(float), pvalues, rtol=1e-9)
    assert (table["family_tests"] == np.isfinite(pvalues).sum()).all()
    assert (table["family_alpha"] == FAMILY_ALPHA).all()


# ---------------------------------------------------------------------------------------------
# the power to name what is wrong


DISTORTIONS = {  # name: (shift, scale, jitter) in posterior sds, and the expected verdict
    "exact": (0.0, 1.0, 0.0, CALIBRATED),
    "narrow": (0.0, 0.7, 0.0, OVERCONFIDENT),
    "wide": (0.0, 1.5, 0.0, "too wide"),
    "shifted": (0.5, 1.0, 0.0, "biased"),
    "off_centre": (0.0, 1.0, 0.5, OVERCONFIDENT),
}


def distorted_table(seed: int, n: int = 1000):
    """calibration_rows for the conjugate model fitted by five methods: exact draws; too narrow
    (sd x 0.7); too wide (sd x 1.5); shifted by 0.5 sd; an off-centre guide of the right width
    whose centre wanders by N(0, 0.5 sd) from dataset to dataset, as SVI's optimiser can.
    Ranks among L draws, z-scores from the draws' mean and sd, strata by |y|."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    y = theta + rng.normal(size=n)
    ranks, z = [], []
    for shift, scale, jitter, _ in DISTORTIONS.values():
        centre = y / 2 + (shift + jitter * rng.normal(size=n)) * POSTERIOR_SD
        draws = centre[:, None] + scale * POSTERIOR_SD * rng.normal(size=(n, L))
        ranks.append((draws < theta[:, None]).sum(axis=1).astype(float))
        z.append((draws.mean(axis=1) - theta) / draws.std(axis=1, ddof=1))
    ranks, z = np.array(ranks)[..., None], np.array(z)[..., None]
    ds = ranks_dataset(ranks, z, np.abs(y), list(DISTORTIONS), ["theta"], ["theta"])
    table = calibration_rows(ds, LEVELS, BINS, STRATA)
    return table[table["fits"] == VIEWS[0]].reset_index(drop=True)


def test_each_distortion_gets_its_word():
    table = distorted_table(seed=0)
    words = table[table["stratum"] == "all"].set_index("inference")["verdict"]
    assert words.to_dict() == {name: d[-1] for name, d in DISTORTIONS.items()}
    exact = table[table["inference"] == "exact"]
    assert (exact["verdict"] == CALIBRATED).all() and (exact["holm_rejected"] == "").all()
    columns = {"noise_estimate_low", "noise_estimate_high", "holm_rejected", "family_alpha",
               "family_tests", "p_location", "p_spread", "p_coverage_90", "p_gross",
               "p_z_sd"}  # fmt: skip
    assert columns <= set(table.columns) and "sigmain_low" not in table.columns
    assert (table["family_tests"] == 4 * 5 * 8).all()
    off = table[(table["stratum"] == "all") & (table["inference"] == "off_centre")].iloc[0]
    assert "z_sd" in off["holm_rejected"].split(";") and off["z_sd"] > 1.05


def test_each_distortion_gets_its_word_for_most_seeds():
    right = dict.fromkeys(DISTORTIONS, 0)
    for seed in range(1, 11):
        table = distorted_table(seed)
        words = table[table["stratum"] == "all"].set_index("inference")["verdict"]
        for name, distortion in DISTORTIONS.items():
            right[name] += words[name] == distortion[-1]
    assert all(count >= 8 for count in right.values()), right


def test_gross_misses_are_overconfident():
    table = distorted_table(seed=0)
    assert (table["n_gross"] == 0).all()
    rng = np.random.default_rng(3)
    n = 1000
    z = rng.normal(size=(1, n))
    z[0, :2] = 8.0, -np.inf  # a fit far from its truth, and one with sd 0 beside it
    ranks = rng.integers(0, L + 1, size=(1, n)).astype(float)
    ds = ranks_dataset(ranks[..., None], z[..., None], rng.uniform(size=n), ["one_miss"],
                       ["theta"], ["theta"])  # fmt: skip
    row = calibration_rows(ds, LEVELS, BINS, {}).iloc[0]
    assert row["n_gross"] == 2 and row["p_gross"] < 1e-6
    assert row["holm_rejected"] == "gross" and row["verdict"] == OVERCONFIDENT
    # the two misses flagged by their method's own checks: the second view leaves them out
    ds["flagged"][0, :2] = 1
    every, passing = calibration_rows(ds, LEVELS, BINS, {}).itertuples()
    assert (every.fits, every.n, every.n_flagged, every.n_gross) == (VIEWS[0], n, 2, 2)
    assert (passing.fits, passing.n, passing.n_flagged, passing.n_gross) == (VIEWS[1], n - 2, 2, 0)
    assert passing.verdict == CALIBRATED


# ---------------------------------------------------------------------------------------------
# collect: strata from the statistic of the data


def fit_block(indices: np.ndarray, rng) -> xr.Dataset:
    """One method's block of fits with every variable collect reads, all checks passed."""
    n = len(indices)
    params = ["a", "b"]
    truth = rng.normal(size=(n, 2))
    return xr.Dataset(
        {
            "truth": (("dataset", "param"), truth),
            "rank": (("dataset", "quantity"), rng.integers(0, L + 1, size=(n, 4)).astype(float)),
            "mean": (("dataset", "param"), truth + 0.1),
            "sd": (("dataset", "param"), np.ones((n, 2))),
            "ess_bulk": (("dataset", "param"), np.full((n, 2), 1000.0)),
            "ess_tail": (("dataset", "param"), np.full((n, 2), 1000.0)),
            "r_hat": (("dataset", "param"), np.ones((n, 2))),
            "divergences": ("dataset", np.zeros(n)),
            "converged": ("dataset", np.ones(n)),
            "iterations": ("dataset", np.full(n, 5)),
            "loss_drop": ("dataset", np.full(n, np.nan)),
            "loss_drop_se": ("dataset", np.full(n, np.nan)),
            "thin": ("dataset", np.ones(n, int)),
            "ranked_draws": ("dataset", np.full(n, L)),
            "ess_min": ("dataset", np.full(n, 1000.0)),
        },
        coords={"dataset": indices, "param": params, "quantity": [*params, "loglik", "logjoint"]},
        attrs={"run_seconds": 1.0, "compile_seconds": 0.5},
    )


def test_collect_takes_its_strata_from_the_statistic_of_the_data():
    rng = np.random.default_rng(4)
    blocks = {
        m: [fit_block(np.arange(0, 3), rng), fit_block(np.arange(3, 6), rng)]
        for m in ("nuts", "svi")
    }
    statistic = np.array([0.3, 0.1, 0.6, 0.2, 0.5, 0.4])
    variables, failed = collect(blocks, 400, 1.01, True, 3, statistic)
    assert failed == []
    np.testing.assert_array_equal(variables["noise_estimate"], statistic)
    np.testing.assert_array_equal(variables["stratum"], [2, 1, 3, 1, 3, 2])
    with pytest.raises(ValueError, match="one value per dataset"):
        collect(blocks, 400, 1.01, True, 3, statistic[:5])


def test_an_svi_fit_whose_loss_still_falls_is_flagged_in_the_study():
    # SVI's own check (its loss settled) counts in the study as the samplers' checks do
    rng = np.random.default_rng(5)
    block = fit_block(np.arange(3), rng)
    block["divergences"][:] = np.nan  # not MCMC: no ESS or r-hat checks
    block["loss_drop"][:] = [0.1, 2.0, 2.0]
    block["loss_drop_se"][:] = [0.05, 0.1, 1.0]  # settled; falling; falling within its noise
    problems = fit_problems(block, 400, 1.01)
    assert problems[0] == "" and problems[2] == ""
    assert problems[1] == "loss not settled: fell 2.00 nats"
    variables, failed = collect({"svi": [block]}, 400, 1.01, False, 1, np.arange(3.0))
    np.testing.assert_array_equal(variables["flagged"][0], [0, 1, 0])
    np.testing.assert_array_equal(variables["used"][0], [1, 0, 1])  # include_flagged False
    assert [f["dataset"] for f in failed] == [1]
