"""Simulation-based calibration: rank arithmetic, the calibration verdicts on known cases, and
a tiny study through real Snakemake runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import Workflow, tiny_config
from scipy import stats

from pipeline.analysis.calibration import (
    central,
    coverage_curve,
    rank_statistics,
    strata,
    uniformity_pvalue,
)
from pipeline.analysis.sbc import block_fit, ess_draws, ranks
from pipeline.io.files import read_dataset
from pipeline.plots.registry import SBC_FIGURES

L = 199  # draws per truth in the synthetic cases, as in config/sbc.yaml


def test_ranks_count_the_draws_below_the_truth():
    draws = np.array([[1.0, 2.0, 3.0, 4.0]] * 4)
    np.testing.assert_array_equal(ranks(draws, np.array([2.5, 0.0, 5.0, 3.0])), [2, 0, 4, 2])
    with_nan = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    result = ranks(with_nan, np.array([2.0, np.nan]))
    assert np.isnan(result).all()  # a NaN draw or truth cannot be ranked


def _chains(ess_bulk: list[float], ess_tail: list[float] | None = None):
    """A block of 2 chains x 1000 draws per dataset, the draw's index as its one parameter, and
    the ESS each fit reports."""
    n = len(ess_bulk)
    per_chain = np.broadcast_to(np.arange(2000.0).reshape(1, 2, 1000, 1), (n, 2, 1000, 1))
    diagnostics = {"ess_bulk": np.array(ess_bulk)[:, None],
                   "ess_tail": np.array(ess_tail or ess_bulk)[:, None]}  # fmt: skip
    return per_chain, diagnostics


def test_widest_thinning_keeps_l_evenly_spaced_draws_of_the_pooled_chains():
    fit = block_fit(*_chains([50.0]), {}, False, 199, "widest")
    assert fit.thin[0] == 10 and fit.kept[0] == 199 and fit.draws.shape == (1, 199, 1)
    np.testing.assert_array_equal(fit.draws[0, :3, 0], [9, 19, 29])
    assert fit.draws[0, -1, 0] == 1989  # both chains: 1000 draws each, pooled


def test_ess_thinning_keeps_one_draw_per_effective_draw_at_most_l():
    # 2000 draws: ESS 1500 or 250 still give L = 199 draws (every 10th); ESS 100 gives every
    # 20th, 100 draws; the smaller of bulk and tail ESS counts (60: every ceil(2000 / 60) =
    # 34th, 58 draws); a NaN ESS (a stuck chain) ranks one
    fit = block_fit(*_chains([1500.0, 250.0, 100.0, 900.0, np.nan], [1500.0, 250.0, 100.0,
                                                                     60.0, np.nan]),
                    {}, False, 199, "ess")  # fmt: skip
    np.testing.assert_array_equal(fit.kept, [199, 199, 100, 58, 1])  # 58: every 34th
    np.testing.assert_array_equal(fit.thin, [10, 10, 20, 34, 2000])
    np.testing.assert_array_equal(fit.ess[:4], [1500, 250, 100, 60])
    for i, kept in enumerate(fit.kept):
        # the promised count of draws, evenly spaced, the rest of the L slots empty (NaN)
        assert np.isfinite(fit.draws[i, :kept]).all() and np.isnan(fit.draws[i, kept:]).all()
        np.testing.assert_array_equal(np.diff(fit.draws[i, :kept, 0]), fit.thin[i])
    # the same counts from ess_draws alone; independent draws are kept as they are
    # (ESS 200: every 10th, 200 draws, L kept; ESS 199: every 11th, 181)
    np.testing.assert_array_equal(ess_draws(2000, np.array([200.0, 199.0, 0.5]), 199),
                                  [199, 181, 1])  # fmt: skip
    independent = block_fit(*_chains([np.nan]), {}, True, 199, "ess")
    assert independent.kept[0] == 199 and independent.thin[0] == 1


def test_a_rank_among_fewer_draws_is_mapped_to_0_to_l_uniformly():
    # the truth's rank among K < L draws, uniform on 0..K when calibrated, becomes uniform on
    # 0..L through floor((r + u) (L + 1) / (K + 1)), u uniform: an exact test over all r and u
    rng = np.random.default_rng(1)
    n, kept = 200_000, 19
    draws = rng.random((n, L))
    draws[:, kept:] = np.nan
    truth = rng.random(n)  # exchangeable with the 19 draws: rank uniform on 0..19
    got = ranks(draws, truth, kept=np.full(n, kept), jitter=rng.random(n))
    counts = np.bincount(got.astype(int), minlength=L + 1)
    assert counts.size == L + 1
    expected = n / (L + 1)
    assert stats.chisquare(counts).pvalue > 1e-3, counts  # flat on 0..L
    assert abs(counts.mean() - expected) < 1e-9
    # with all L draws kept the rank is the plain count, whatever the jitter
    full = np.sort(rng.random((5, L)), axis=1)
    t = rng.random(5)
    np.testing.assert_array_equal(ranks(full, t, jitter=rng.random(5)), ranks(full, t))


def test_central_rank_sets_hold_exactly_their_level():
    every_rank = np.arange(L + 1)
    for level in (0.5, 0.9, 0.95):
        assert central(every_rank, L, level).mean() == pytest.approx(level, abs=1e-12)
    levels, covered = coverage_curve(every_rank, L)
    np.testing.assert_allclose(covered, levels, atol=1e-12)
    assert levels[0] == 0 and levels[-1] == 1


def test_a_flat_histogram_is_uniform_and_centred():
    every_rank = np.tile(np.arange(L + 1), 5)
    assert uniformity_pvalue(every_rank, L, 20) == pytest.approx(1.0)
    location, spread = rank_statistics(every_rank, L)
    assert location == pytest.approx(0, abs=1e-9) and spread == pytest.approx(0, abs=1e-9)


def gaussian_ranks(shift: float = 0.0, scale: float = 1.0, n: int = 1000, seed: int = 0):
    """Ranks from a conjugate normal model, theta ~ N(0, 1), y | theta ~ N(theta, 1), whose
    exact posterior is N(y / 2, 1 / 2); `shift` (in posterior sds) and `scale` distort it."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    y = theta + rng.normal(size=n)
    sd = np.sqrt(0.5)
    draws = y[:, None] / 2 + shift * sd + scale * sd * rng.normal(size=(n, L))
    return ranks(draws, theta)


# the verdict rules, their false-alarm rate and power: tests/test_calibration.py


def test_strata_are_quantile_groups():
    groups = strata(np.arange(300.0), 3)
    assert np.bincount(groups).tolist() == [0, 100, 100, 100]
    assert groups[0] == 1 and groups[-1] == 3


# ---------------------------------------------------------------------------------------------
# a tiny study through Snakemake: 8 datasets in 2 blocks of 4, every method, small settings


def sbc_config(num_datasets: int = 8, **study) -> dict:
    config = tiny_config()
    config["targets"] = ["sbc"]
    config["batching"]["per_call"] = 3  # a block of 4 runs as two calls, the last padded
    config["study"] |= {
        "num_datasets": num_datasets, "block_size": 4, "num_draws": 19, "rank_bins": 5,
        "coverage_levels": [0.5, 0.9], "noise_strata": 2, **study,
    }  # fmt: skip
    return config


@pytest.fixture(scope="module")
def tiny_sbc(tmp_path_factory) -> Workflow:
    workflow = Workflow(tmp_path_factory.mktemp("sbc"), sbc_config())
    workflow.snakemake("--cores", "2")
    return workflow


def test_the_study_writes_ranks_tables_and_figures(tiny_sbc):
    sbc = tiny_sbc.path / "results/sbc"
    ds = read_dataset(sbc / "ranks.nc", "sbc_ranks")
    assert ds.sizes == {"inference": 3, "dataset": 8, "param": 3, "quantity": 5}
    assert list(ds["dataset"].values) == list(range(8))
    rank = ds["rank"].values
    finite = rank[np.isfinite(rank)]
    assert finite.size >= 0.9 * rank.size  # NaNs, if any, are listed in failed.csv
    assert ((finite >= 0) & (finite <= 19) & (finite == np.round(finite))).all()
    truth = ds["truth"]
    assert ((truth.sel(param="logN") > 20.5) & (truth.sel(param="logN") < 21.5)).all()
    assert ((truth.sel(param="logbeta") > -1) & (truth.sel(param="logbeta") < 1)).all()
    assert (truth.sel(param="sigmain") > 0).all()
    assert len(set(ds["noise_seed"].values)) == 8, "every dataset has its own noise seed"
    assert set(ds["stratum"].values) == {1, 2}
    calibration = pd.read_csv(sbc / "calibration.csv")
    # (all fits, those passing their checks) x (all + 2 noise groups) x methods x quantities
    assert len(calibration) == 2 * 3 * 3 * 5
    assert set(calibration["verdict"]) <= {
        "no departure detected", "overconfident (too narrow or off-centre)", "too wide",
        "biased", "not uniform", "no fits",
    }  # fmt: skip
    counted = calibration[calibration["n"] > 0]
    for level in (50, 90):
        assert (counted[f"coverage_{level}_low"] <= counted[f"coverage_{level}"]).all()
    # a row without fits (all failed their checks) says so
    empty = calibration[calibration["n"] == 0]
    assert (empty["verdict"] == "no fits").all() and empty["coverage_50"].isna().all()
    every = calibration[calibration["fits"] == "all fits"].set_index(["stratum", "inference",
                                                                      "quantity"])  # fmt: skip
    passing = calibration[calibration["fits"] != "all fits"].set_index(every.index.names)
    assert (passing["n"] <= every["n"]).all() and (passing["n_flagged"] == every["n_flagged"]).all()
    failed = pd.read_csv(sbc / "failed.csv")
    assert list(failed.columns) == ["inference", "dataset", "problem"]
    nan = failed[failed["problem"] == "NaN in the fit"]
    assert len(nan) == int((~np.isfinite(rank)).any(axis=2).sum()), "every NaN is named"
    for figure in SBC_FIGURES:
        assert (sbc / "figures" / f"{figure}.png").read_bytes()[:4] == b"\x89PNG", figure
    block = read_dataset(sbc / "blocks/001/nuts.nc", "sbc_fit")
    assert block.sizes["draw"] == 19  # L
    # 200 draws, thinned by each fit's ESS: every 10th (L draws) down to one per effective draw
    kept, thin = block["ranked_draws"].values, block["thin"].values
    ess = np.fmin(block["ess_bulk"], block["ess_tail"]).min("param").values
    np.testing.assert_array_equal(kept, np.clip(200 // np.ceil(200 / ess), 1, 19))
    np.testing.assert_array_equal(thin, 200 // kept)
    np.testing.assert_array_equal(block["ess_min"].values, ess)
    assert list(block["dataset"].values) == [4, 5, 6, 7]
    assert tiny_sbc.planned_jobs() == {}


def test_adding_datasets_reruns_only_the_new_block_and_the_analysis(tiny_sbc):
    tiny_sbc.write_config(sbc_config(num_datasets=10))
    try:
        planned = tiny_sbc.planned_jobs()
    finally:
        tiny_sbc.write_config(sbc_config())
    assert planned == {
        "sbc_simulate": 1, "sbc_fit": 3, "sbc_ranks": 1, "sbc_figure": len(SBC_FIGURES),
        "all": 1,
    }  # fmt: skip


def test_the_thinning_reruns_only_the_mcmc_blocks(tiny_sbc):
    # the study's methods: nuts, svi, laplace (2 blocks each); only NUTS's draws are thinned
    tiny_sbc.write_config(sbc_config(thinning="widest"))
    try:
        planned = tiny_sbc.planned_jobs()
    finally:
        tiny_sbc.write_config(sbc_config())
    assert planned == {"sbc_fit": 2, "sbc_ranks": 1, "sbc_figure": len(SBC_FIGURES), "all": 1}


def test_a_threshold_reruns_only_the_analysis(tiny_sbc):
    config = sbc_config()
    config["diagnostics"]["min_ess"] = 50
    tiny_sbc.write_config(config)
    try:
        planned = tiny_sbc.planned_jobs()
    finally:
        tiny_sbc.write_config(sbc_config())
    assert planned == {"sbc_ranks": 1, "sbc_figure": len(SBC_FIGURES), "all": 1}


@pytest.mark.parametrize(
    ("study", "message"),
    [
        ({"num_datasets": 0}, "config.study.num_datasets = 0"),
        ({"block_size": 0}, "config.study.block_size = 0"),
        ({"rank_bins": 3}, "the bins must divide the L + 1 possible ranks"),
        ({"num_draws": 0}, "config.study.num_draws = 0"),
        ({"coverage_levels": [0.95]}, "level x (L + 1) / 2 must be a whole number"),
        ({"num_draws": 999}, "a method must make at least L draws"),
    ],
)
def test_bad_study_settings_stop_the_run_before_any_job(tiny_workflow, study, message):
    tiny_workflow.write_config(sbc_config(**study))
    result = tiny_workflow.snakemake("--cores", "1", check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tiny_workflow.path / "results").exists()


def test_an_unknown_batching_mode_is_refused(tiny_workflow):
    config = sbc_config()
    config["batching"]["vmap_width"] = "fast"
    tiny_workflow.write_config(config)
    result = tiny_workflow.snakemake("-n", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config.batching.vmap_width = 'fast'" in output
    assert "`auto` is 1 on CPU" in output  # the schema's description of what is allowed


def test_a_failed_block_keeps_the_others_and_a_rerun_completes_only_it(tmp_path):
    workflow = Workflow(tmp_path, sbc_config(methods=["laplace"]))
    broken = tmp_path / "results/sbc/blocks/001/data.nc"
    broken.parent.mkdir(parents=True)
    broken.write_text("not a NetCDF file")
    result = workflow.snakemake("--cores", "2", "--keep-going", check=False)
    assert result.returncode != 0
    log = (tmp_path / "results/sbc/blocks/001/logs/laplace.log").read_text()
    assert "results/sbc/blocks/001/data.nc (data.nc) is not a readable NetCDF file" in log
    assert (tmp_path / "results/sbc/blocks/000/laplace.nc").is_file()
    broken.unlink()
    assert workflow.planned_jobs() == {
        "sbc_simulate": 1, "sbc_fit": 1, "sbc_ranks": 1, "sbc_figure": len(SBC_FIGURES),
        "all": 1,
    }  # fmt: skip


def test_ties_with_the_truth_are_broken_at_random():
    # a posterior a few float32 ulps wide has draws equal to the truth: ranks must stay uniform
    draws = np.array([[1.0, 2.0, 2.0, 2.0, 3.0]])
    truth = np.array([2.0])
    got = [ranks(draws, truth, np.array([u]))[0] for u in (0.0, 0.3, 0.6, 0.99)]
    assert got == [1, 2, 3, 4]  # one below, then 0..3 of the three equal draws
    rng = np.random.default_rng(1)
    spread = ranks(np.repeat(draws, 4000, 0), np.repeat(truth, 4000), rng.random(4000))
    assert np.bincount(spread.astype(int)).tolist()[1:] == pytest.approx([1000] * 4, rel=0.1)
