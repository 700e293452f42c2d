"""Fixed-truth sweeps: a real 2 x 2 sweep, its summary and report, adding a seed, a failure."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import Workflow, tiny_config

from pipeline.analysis.calibration import wilson
from pipeline.analysis.fixed_truth import METHODS
from pipeline.io.files import read_dataset
from pipeline.plots.registry import FIXED_TRUTH_FIGURES

# The sweep's summary and figures, without every dataset's own figures (they have their tests).
TARGETS = (
    "results/fixed_truth/summary.nc",
    *(f"results/fixed_truth/figures/{f}.png" for f in FIXED_TRUTH_FIGURES),
)
# what one more dataset costs: its stages that the summary reads, then the summary again
ONE_DATASET = {"simulate_data": 1, "optimize": 1, "laplace": 1, "nuts": 1, "svi": 1,
               "posterior_summaries": 1}  # fmt: skip


def sweep_config(noise: list[float], seeds: list[int]) -> dict:
    config = tiny_config()
    config["datasets"] |= {"sigma_noise": noise, "seeds": seeds}
    return config


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Workflow:
    workflow = Workflow(tmp_path_factory.mktemp("sweep"), sweep_config([0.05, 0.2], [1, 2]))
    workflow.snakemake("--cores", "2", *TARGETS)
    return workflow


def test_summary_has_every_dataset_method_and_parameter(sweep):
    ds = read_dataset(sweep.path / "results/fixed_truth/summary.nc", "fixed_truth_summary")
    assert ds.sizes == {"noise": 2, "seed": 2, "inference": 4, "param": 3}
    assert list(ds["inference"].values) == list(METHODS)
    np.testing.assert_array_equal(ds["truth"].sel(param="sigmain"), [0.05, 0.2])
    np.testing.assert_array_equal(ds["truth"].sel(param="logN"), [21.0, 21.0])
    point = ds.sel(param=["logN", "logbeta"])
    assert np.isfinite(point["estimate"]).all(), "every method estimates logN and logbeta"
    posterior = ds.sel(inference=["laplace", "nuts", "svi"])
    assert np.isfinite(posterior["sd"]).all() and (posterior["sd"] > 0).all()
    assert np.isnan(ds["sd"].sel(inference="adam")).all()  # a point estimate has no width
    covered = posterior["covered"].values
    assert set(np.unique(covered)) <= {0.0, 1.0}
    coverage = posterior["coverage"].values
    assert ((coverage >= 0) & (coverage <= 1)).all()
    assert (posterior["coverage_low"] <= posterior["coverage"]).all()
    assert (ds["seconds"] > 0).all(), "each method's job time comes from its benchmark file"
    np.testing.assert_allclose(ds["rms_shift_vs_nuts"].sel(inference="nuts"), 0.0)


def test_summary_tables_are_written_as_csv(sweep):
    rows = pd.read_csv(sweep.path / "results/fixed_truth/summary.csv")
    assert {"noise", "seed", "inference", "param", "estimate", "covered", "z"} <= set(rows.columns)
    assert len(rows) == 2 * 2 * 4 * 3
    calibration = pd.read_csv(sweep.path / "results/fixed_truth/calibration.csv")
    assert {"coverage", "coverage_low", "coverage_high", "bias", "rmse"} <= set(calibration.columns)


def test_adding_a_seed_runs_only_that_seeds_jobs_and_the_aggregation(sweep):
    sweep.write_config(sweep_config([0.05, 0.2], [1, 2, 3]))
    try:
        planned = sweep.planned_jobs(*TARGETS)
    finally:
        sweep.write_config(sweep_config([0.05, 0.2], [1, 2]))
    expected = {rule: 2 * n for rule, n in ONE_DATASET.items()}  # seed 3 at both noise levels
    assert planned == expected | {
        "fixed_truth_summary": 1,
        "fixed_truth_figure": len(FIXED_TRUTH_FIGURES),
    }


def test_report_builds_with_the_fixed_truth_figures(sweep):
    sweep.snakemake("--report", "report.html", *TARGETS)
    html = (sweep.path / "report.html").read_text()
    for figure in FIXED_TRUTH_FIGURES:
        assert f"{figure}.png" in html
    assert "Coverage" in html or "coverage" in html


def test_a_failed_dataset_keeps_the_others_and_a_rerun_completes_only_it(tmp_path):
    workflow = Workflow(tmp_path, sweep_config([0.1], [1, 2]))
    broken = tmp_path / "results/noise0.1/seed2/data.nc"
    broken.parent.mkdir(parents=True)
    broken.write_text("not a NetCDF file")  # as if a disk had garbled it
    result = workflow.snakemake("--cores", "2", "--keep-going", *TARGETS, check=False)
    assert result.returncode != 0
    assert "results/noise0.1/seed2/data.nc (data.nc) is not a readable NetCDF file" in (
        (tmp_path / "results/noise0.1/seed2/logs/optimize.log").read_text()
    )
    for name in ("laplace.nc", "nuts_summary.csv", "svi_summary.csv"):
        assert (tmp_path / "results/noise0.1/seed1" / name).is_file(), name
    broken.unlink()
    assert workflow.planned_jobs(*TARGETS) == ONE_DATASET | {
        "fixed_truth_summary": 1, "fixed_truth_figure": len(FIXED_TRUTH_FIGURES),
    }  # fmt: skip
    workflow.snakemake("--cores", "2", *TARGETS)
    assert workflow.planned_jobs(*TARGETS) == {}


def test_wilson_interval_matches_known_values():
    low, high = wilson(np.array([9.0]), np.array([10.0]))
    assert low[0] == pytest.approx(0.5958, abs=1e-4) and high[0] == pytest.approx(0.9821, abs=1e-4)
    low, high = wilson(np.array([0.0]), np.array([5.0]))
    assert low[0] == pytest.approx(0.0, abs=1e-12) and high[0] == pytest.approx(0.4345, abs=1e-4)


def test_wilson_interval_holds_the_fraction_exactly_at_0_and_1():
    # error bars of coverage figures must not be negative (10 of 10 once gave high < 1.0)
    n = np.arange(1.0, 200.0)
    for k in (0 * n, n):
        low, high = wilson(k, n)
        assert (low <= k / n).all() and (k / n <= high).all()
    assert wilson(np.array([10.0]), np.array([10.0]))[0][0] == pytest.approx(0.7225, abs=1e-4)


def test_the_lists_can_be_given_on_the_command_line(tiny_workflow):
    # Snakemake passes nested --config values as text; the config check turns them into numbers.
    lists = 'datasets={"sigma_noise": [0.05, 0.10], "seeds": [1, 2]}'
    planned = tiny_workflow.planned_jobs("--config", lists)
    assert planned["simulate_data"] == 4 and planned["fixed_truth_summary"] == 1
    result = tiny_workflow.snakemake(
        "-n", "--config", 'datasets={"sigma_noise": [-1], "seeds": [1]}', check=False
    )
    assert result.returncode != 0
    assert "config.datasets.sigma_noise[0] = -1.0" in result.stdout + result.stderr


def test_the_datasets_own_figures_can_be_left_out(tiny_workflow):
    config = sweep_config([0.05, 0.2], [1, 2])
    config["figures"]["per_dataset"] = False
    tiny_workflow.write_config(config)
    planned = tiny_workflow.planned_jobs()
    assert "figure" not in planned and planned["fixed_truth_figure"] == len(FIXED_TRUTH_FIGURES)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nuts_summary.csv", "param,mean,sd\nlogN,2", "is malformed: no column 'ess_bulk'"),
        ("nuts_summary.csv", "", "is not a readable table"),
        ("benchmarks/nuts.tsv", "s\th:m:s\n", "is malformed: no rows"),
    ],
)
def test_a_corrupt_table_of_a_dataset_is_named(sweep, tmp_path, name, content, message):
    from pipeline.analysis.fixed_truth import Dataset, dataset_rows
    from pipeline.io.layouts import NetCDFInputError

    root = tmp_path / "root"
    shutil.copytree(sweep.path / "results", root / "results")
    path = root / "results/noise0.05/seed1" / name
    path.write_text(content)
    with pytest.raises(NetCDFInputError, match=message) as err:
        dataset_rows(root, Dataset(0.05, 1))
    assert str(path) in str(err.value)


def test_the_summary_is_the_same_from_another_process(sweep, tmp_path):
    import subprocess
    import sys

    import xarray as xr

    datasets = [f"{noise}:{seed}" for noise in (0.05, 0.2) for seed in (1, 2)]
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        cmd = [
            sys.executable,
            "-m",
            "pipeline.stages.fixed_truth",
            "--datasets",
            *datasets,
            "--root",
            str(sweep.path),
            "--out",
            str(out / "summary.nc"),
            "--csv",
            str(out / "summary.csv"),
            "--calibration-csv",
            str(out / "cal.csv"),
        ]
        subprocess.run(cmd, check=True, capture_output=True)  # fmt: skip
        outs.append(out)
    with xr.open_dataset(outs[0] / "summary.nc") as a, xr.open_dataset(outs[1] / "summary.nc") as b:
        xr.testing.assert_identical(a.load(), b.load())
    assert (outs[0] / "cal.csv").read_text() == (outs[1] / "cal.csv").read_text()
