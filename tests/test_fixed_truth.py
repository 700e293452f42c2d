"""Fixed-truth sweeps: each entry's rows from its file alone, the calibration across seeds, the
stage on files it is given, the figures, bad input; and a real 2 x 2 sweep of the workflow."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import Workflow, tiny_config

from pipeline.analysis.calibration import wilson
from pipeline.analysis.fixed_truth import (
    OPTIMIZER,
    Dataset,
    Fit,
    calibration,
    dataset_rows,
    fit_rows,
    job_seconds,
    summarize,
)
from pipeline.io.files import (
    annotate,
    draws_group,
    new_dataset,
    observed_group,
    read_dataset,
    write_dataset,
    write_inference,
)
from pipeline.io.layouts import NetCDFInputError
from pipeline.plots.registry import FIXED_TRUTH_FIGURES

NAMES = ("a", "b", "noise")  # parameters of the synthetic files: no model's on purpose
LINE = ("a", "b")  # the synthetic optimiser's line parameters
TRUTH = {"a": 1.0, "b": -2.0}
NU = np.linspace(-1.0, 1.0, 5)


# --- synthetic inputs -------------------------------------------------------------------------


def posterior(draws: np.ndarray, names=NAMES, diverging: np.ndarray | None = None):
    """An InferenceData of draws (chain, draw, param), optionally with divergences."""
    groups = {
        "posterior": draws_group(
            {n: draws[..., i] for i, n in enumerate(names)},
            attrs={"params": json.dumps(list(names))},
        )
    }
    if diverging is not None:
        groups["sample_stats"] = draws_group({"diverging": diverging})
    return az.InferenceData(**groups)


def normal_draws(mean, sd, chains=2, draws=4000, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (chains, draws, len(mean))
    return np.asarray(mean) + np.asarray(sd) * rng.standard_normal(shape)


def data_file(noise: float, truth=TRUTH, names=NAMES) -> xr.Dataset:
    values = {**truth, names[-1]: noise}
    return new_dataset(
        "data",
        coords={"nu": NU, "param": list(names)},
        data_vars={"f_obs": np.ones(NU.size), "truth": [values[n] for n in names]},
        attrs={"sigma_noise": noise, "dtype": "float32"},
    )


def optimize_file(end: dict, names=LINE) -> xr.Dataset:
    """An optimize.nc whose optimisers end at `end` (3 steps)."""
    last = np.array([end[n] for n in names])
    params = np.stack([np.stack([last + 0.5, last + 0.1, last])] * 2)  # (optimizer, step, param)
    return new_dataset(
        "optimize",
        coords={
            "optimizer": ["steepest_descent", OPTIMIZER],
            "step": np.arange(3),
            "param": list(names),
            "nu": NU,
        },
        data_vars={
            "params": params,
            "chi2": np.ones((2, 3)),
            "grad": np.zeros((2, 3, len(names))),
            "grad_init": np.zeros(len(names)),
            "f_best": np.ones((2, NU.size)),
        },
        attrs={"steepest_descent_eta": 1e-5, "adam_learning_rate": 0.02},
    )


def sweep_rows(noises=(0.1, 0.2), seeds=(1, 2, 3), shift=0.0, width=1.0):
    """Rows of a synthetic sweep: `ref` draws around the truth (sd 0.1 noise), `other` draws
    shifted by `shift` reference sds and `width` times as wide, the optimiser at the truth."""
    rows = []
    for noise in noises:
        for seed in seeds:
            sd = np.array([0.1, 0.2, 0.01]) * noise / 0.1
            truth = np.array([TRUTH["a"], TRUTH["b"], noise])
            fits = {
                "ref": Fit(posterior(normal_draws(truth, sd, seed=seed)), None, 10.0 * seed),
                "other": Fit(
                    posterior(normal_draws(truth + shift * sd, width * sd, seed=seed)),
                    None,
                    math.nan,
                ),
            }
            rows.append(
                dataset_rows(
                    Dataset(noise, seed), data_file(noise), optimize_file(TRUTH), fits, 1.0, 0.9
                )
            )
    return rows


# --- the analysis -----------------------------------------------------------------------------


def test_a_fit_is_summarised_from_its_draws():
    mean, sd = np.array([1.0, -2.0, 0.3]), np.array([0.5, 0.1, 0.02])
    diverging = np.zeros((2, 4000), bool)
    diverging[0, :3] = True
    rows = fit_rows(posterior(normal_draws(mean, sd), diverging=diverging), None, 0.9)
    assert list(rows.index) == list(NAMES)
    assert (np.abs(rows["estimate"] - mean) < 4 * sd / np.sqrt(8000)).all()
    np.testing.assert_allclose(rows["sd"], sd, rtol=0.05)
    half = 1.6449 * sd  # the 90% HDI of a normal: its central interval
    assert (np.abs(rows["lower"] - (mean - half)) < 0.1 * half).all()
    assert (np.abs(rows["upper"] - (mean + half)) < 0.1 * half).all()
    assert (rows["ess_bulk"] > 4000).all(), "independent draws: about as many effective ones"
    assert (rows["divergences"] == 3).all()


def test_a_point_estimate_replaces_the_mean_and_divergences_are_nan_unless_recorded():
    draws = normal_draws([0.0, 0.0, 1.0], [1.0, 1.0, 0.1])
    rows = fit_rows(posterior(draws), np.array([5.0, 6.0, 7.0]), 0.9)
    np.testing.assert_array_equal(rows["estimate"], [5.0, 6.0, 7.0])
    np.testing.assert_allclose(rows["sd"], [1.0, 1.0, 0.1], rtol=0.05)  # still the draws' sd
    assert rows["divergences"].isna().all()
    with pytest.raises(ValueError, match="point estimate of 3 parameters"):
        fit_rows(posterior(draws), np.array([5.0, 6.0]), 0.9)


def test_a_dataset_has_the_optimiser_row_then_each_entry_in_order():
    draws = normal_draws([1.0, -2.0, 0.1], [0.1, 0.1, 0.01])
    fits = {
        "second": Fit(posterior(draws), None, 3.0),
        "first": Fit(posterior(draws), np.array([1.5, -2.0, 0.1]), math.nan),
    }
    end = {"a": 1.2, "b": -2.1}
    rows = dataset_rows(Dataset(0.1, 7), data_file(0.1), optimize_file(end), fits, 2.5, 0.9)
    assert list(dict.fromkeys(rows["inference"])) == [OPTIMIZER, "second", "first"]
    assert (rows["noise"] == 0.1).all() and (rows["seed"] == 7).all()
    rows = rows.set_index(["inference", "param"])
    np.testing.assert_array_equal(rows.loc[OPTIMIZER, "estimate"], [1.2, -2.1, np.nan])
    assert rows.loc[OPTIMIZER, ["sd", "covered", "z"]].isna().all().all()
    np.testing.assert_array_equal(rows.loc[OPTIMIZER, "truth"], [1.0, -2.0, 0.1])
    assert (rows.loc[OPTIMIZER, "seconds"] == 2.5).all()
    assert (rows.loc["second", "seconds"] == 3.0).all()
    assert rows.loc["first", "seconds"].isna().all()
    first = rows.loc["first"]  # its point estimate is off, its draws' interval not
    assert first.loc["a", "estimate"] == 1.5 and first.loc["a", "covered"] == 1.0
    np.testing.assert_allclose(first.loc["a", "z"], 0.5 / first.loc["a", "sd"])
    assert (rows.loc["second", "covered"] == 1.0).all()


def test_a_summary_follows_its_layout_and_counts_coverage_across_seeds():
    ds = summarize(sweep_rows(), reference="ref")
    ds.attrs = {"hdi_prob": 0.9, "reference": "ref", "model": "none"}
    annotate(ds, "fixed_truth_summary")  # the layout's checks
    assert dict(ds.sizes) == {"noise": 2, "seed": 3, "inference": 3, "param": 3}
    assert list(ds["inference"].values) == [OPTIMIZER, "ref", "other"]
    assert list(ds["param"].values) == list(NAMES)
    np.testing.assert_array_equal(ds["truth"].sel(param="noise"), [0.1, 0.2])
    covered = ds["covered"].sel(inference=["ref", "other"])
    k, n = covered.sum("seed"), covered.count("seed")
    assert (n == 3).all()
    np.testing.assert_allclose(ds["coverage"].sel(inference=["ref", "other"]), k / n)
    low, high = wilson(k.values, n.values)
    np.testing.assert_allclose(ds["coverage_low"].sel(inference=["ref", "other"]), low)
    np.testing.assert_allclose(ds["coverage_high"].sel(inference=["ref", "other"]), high)
    assert ds["coverage"].sel(inference=OPTIMIZER).isnull().all()
    assert (ds["n_datasets"].sel(inference=OPTIMIZER) == 0).all()
    np.testing.assert_allclose(ds["rms_shift_vs_reference"].sel(inference="ref"), 0.0)
    np.testing.assert_allclose(ds["sd_ratio_vs_reference"].sel(inference="ref"), 1.0)
    np.testing.assert_allclose(ds["mean_seconds"].sel(inference="ref"), 20.0)  # seeds 1, 2, 3
    assert ds["mean_seconds"].sel(inference="other").isnull().all()
    assert ds["divergences"].isnull().all()
    error = ds["estimate"] - ds["truth"]
    np.testing.assert_allclose(ds["bias"], error.mean("seed"))
    np.testing.assert_allclose(ds["estimate_spread"], ds["estimate"].std("seed", ddof=1))
    np.testing.assert_allclose(
        ds["z_sd"].sel(inference="ref"), ds["z"].sel(inference="ref").std("seed", ddof=1)
    )


def test_the_distance_from_the_reference_is_in_its_sds():
    ds = summarize(sweep_rows(seeds=(1, 2), shift=2.0, width=1.5), reference="ref")
    np.testing.assert_allclose(ds["rms_shift_vs_reference"].sel(inference="other"), 2.0, rtol=0.05)
    np.testing.assert_allclose(ds["sd_ratio_vs_reference"].sel(inference="other"), 1.5, rtol=0.05)
    # the optimiser sits at the truth, the reference's means within a few sds / sqrt(draws)
    assert (ds["rms_shift_vs_reference"].sel(inference=OPTIMIZER, param=list(LINE)) < 0.1).all()


def test_one_seed_has_no_spread():
    ds = summarize(sweep_rows(seeds=(1,)), reference="ref")
    assert ds["estimate_spread"].isnull().all() and ds["z_sd"].isnull().all()
    assert np.isfinite(ds["mean_sd"].sel(inference="ref")).all()


def test_calibration_against_another_reference():
    ds = summarize(sweep_rows(), reference="other")
    np.testing.assert_allclose(ds["sd_ratio_vs_reference"].sel(inference="other"), 1.0)
    again = calibration(ds[["estimate", "truth", "sd", "covered", "z", "seconds"]], "other")
    xr.testing.assert_allclose(again["coverage"], ds["coverage"])


def test_a_fit_of_other_parameters_is_refused():
    other = posterior(normal_draws([0.0, 0.0], [1.0, 1.0]), names=("a", "c"))
    fits = {"m": Fit(other, None, math.nan, source="somewhere/m.nc")}
    with pytest.raises(NetCDFInputError, match=r"somewhere/m.nc \(m\) has parameters c"):
        dataset_rows(Dataset(0.1, 1), data_file(0.1), optimize_file(TRUTH), fits, 1.0, 0.9)


def test_data_without_a_truth_is_refused():
    data = data_file(0.1).drop_vars(["truth", "param"])
    with pytest.raises(NetCDFInputError, match=r"x/data\.nc has no truth"):
        dataset_rows(
            Dataset(0.1, 1), data, optimize_file(TRUTH), {}, 1.0, 0.9, sources={"data": "x/data.nc"}
        )


def test_an_entry_may_not_take_the_optimisers_name():
    fit = Fit(posterior(normal_draws([0, 0, 1], [1, 1, 1])), None, math.nan)
    with pytest.raises(ValueError, match="may not be called"):
        dataset_rows(
            Dataset(0.1, 1), data_file(0.1), optimize_file(TRUTH), {OPTIMIZER: fit}, 1.0, 0.9
        )


def test_datasets_of_one_noise_level_must_share_their_truth():
    draws = normal_draws([1.0, -2.0, 0.1], [0.1, 0.1, 0.01])
    fits = {"ref": Fit(posterior(draws), None, math.nan)}
    rows = [
        dataset_rows(
            Dataset(0.1, seed),
            data_file(0.1, truth={"a": a, "b": -2.0}),
            optimize_file(TRUTH),
            fits,
            1.0,
            0.9,
        )
        for seed, a in ((1, 1.0), (2, 1.5))
    ]
    with pytest.raises(NetCDFInputError, match="different truths of a"):
        summarize(rows, reference="ref")


def test_the_reference_must_be_an_entry():
    with pytest.raises(ValueError, match="reference 'nope'"):
        summarize(sweep_rows(seeds=(1,)), reference="nope")
    with pytest.raises(ValueError, match=f"reference '{OPTIMIZER}'"):
        summarize(sweep_rows(seeds=(1,)), reference=OPTIMIZER)


def test_job_seconds_come_from_a_benchmark_file(tmp_path):
    path = tmp_path / "nuts.tsv"
    path.write_text("s\th:m:s\tmax_rss\n12.5\t0:00:12\t100\n")
    assert job_seconds(path) == 12.5
    assert math.isnan(job_seconds(tmp_path / "absent.tsv")) and math.isnan(job_seconds(None))
    path.write_text("s\th:m:s\n")
    with pytest.raises(NetCDFInputError, match="is malformed: no rows") as err:
        job_seconds(path)
    assert str(path) in str(err.value)


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


def test_the_analysis_names_no_method_parameter_or_path():
    import pipeline.analysis.fixed_truth as module
    from pipeline.methods import METHODS
    from pipeline.models import MODELS

    source = Path(module.__file__).read_text()
    code = re.sub(r'"""(.|\n)*?"""|#.*', "", source)  # docstrings and comments aside
    names = {*METHODS, *(p.name for m in MODELS.values() for p in m.params)}
    assert not [n for n in names if re.search(rf'"{n}"|\b{n}_', code)]
    assert "pipeline.methods" not in code and "pipeline.io.paths" not in code
    assert "benchmarks/" not in code and "results/" not in code


# --- the stage on files it is given -----------------------------------------------------------


def write_sweep(root, noises=(0.05, 0.2), seeds=(1, 2)):
    """Synthetic files of a sweep with entries nuts and laplace, fitting the voigt model's
    parameters: {dataset: {role: path}}. NUTS is the reference; Laplace's mode is off its
    draws' mean so the point estimate shows."""
    from pipeline.methods import METHODS

    names = ("logN", "logbeta", "sigmain")
    line = {"logN": 21.0, "logbeta": 0.0}
    files = {}
    for noise in noises:
        for seed in seeds:
            folder = root / f"noise{noise:g}" / f"seed{seed}"
            (folder / "benchmarks").mkdir(parents=True)
            truth = np.array([21.0, 0.0, noise])
            sd = np.array([0.02, 0.03, 0.002]) * noise / 0.05
            write_dataset(data_file(noise, truth=line, names=names), folder / "data.nc", "data")
            write_dataset(optimize_file(line, names=names[:2]), folder / "optimize.nc", "optimize")
            draws = normal_draws(truth, sd, chains=1, draws=500, seed=seed).astype(np.float32)
            attrs = {
                "params": json.dumps(names),
                "model": "voigt",
                "compile_seconds": 1.0,
                "run_seconds": 1.0,
            }
            post = {n: draws[..., i] for i, n in enumerate(names)}
            y = {"y": np.ones((1, 500, NU.size), np.float32)}
            nuts = {
                "posterior": draws_group(post, attrs=attrs | {"warmup_leapfrog_steps": 10}),
                "sample_stats": draws_group(
                    {
                        "diverging": np.arange(500)[None] < seed,
                        "step_size": np.ones((1, 500)),
                        "tree_depth": np.ones((1, 500), int),
                        "n_steps": np.ones((1, 500), int),
                        "acceptance_rate": np.ones((1, 500)),
                        "energy": np.ones((1, 500)),
                    }
                ),
                "observed_data": observed_group(np.ones(NU.size), NU),
                "posterior_predictive": draws_group(y, NU),
            }
            write_inference(nuts, folder / "nuts.nc", METHODS["nuts"].layout)
            mode = truth + sd  # a mode 1 sd off the draws' mean
            laplace = {
                "posterior": draws_group(
                    post, attrs=attrs | {"converged": 1, "iterations": 3, "flags": ""}
                ),
                "observed_data": observed_group(np.ones(NU.size), NU),
                "approximation": xr.Dataset(
                    {
                        "mode": ("param", mode),
                        "sd": ("param", sd),
                        "covariance": (("param", "param_"), np.diag(sd**2)),
                        "unconstrained_mode": ("param", mode),
                        "unconstrained_covariance": (("param", "param_"), np.diag(sd**2)),
                    },
                    coords={"param": list(names), "param_": list(names)},
                ),
            }
            write_inference(laplace, folder / "laplace.nc", METHODS["laplace"].layout)
            for name, seconds in (("nuts", 4.0 * seed), ("optimize", 1.0)):
                (folder / "benchmarks" / f"{name}.tsv").write_text(f"s\th:m:s\n{seconds}\t0\n")
            files[f"{noise:g}:{seed}"] = folder
    return files


def stage_args(files, out, entries=("nuts", "laplace"), benchmarks=True):
    args = [
        "--datasets",
        *files,
        "--data",
        *(f"{d}={f}/data.nc" for d, f in files.items()),
        "--optimize",
        *(f"{d}={f}/optimize.nc" for d, f in files.items()),
        "--fits",
        *(f"{d}:{e}={f}/{e}.nc" for e in entries for d, f in files.items()),
    ]
    if benchmarks:
        args += [
            "--benchmarks",
            *(f"{d}:nuts={f}/benchmarks/nuts.tsv" for d, f in files.items()),
            *(f"{d}:{OPTIMIZER}={f}/benchmarks/optimize.tsv" for d, f in files.items()),
        ]
    config = {
        "methods": ["nuts", "svi", "laplace"],
        "model": "voigt",
        "diagnostics": {"hdi_prob": 0.8},
    }
    return [
        *args,
        "--config",
        json.dumps(config),
        "--out",
        str(out / "summary.nc"),
        "--csv",
        str(out / "summary.csv"),
        "--calibration-csv",
        str(out / "calibration.csv"),
    ]


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory):
    from pipeline.stages.fixed_truth import main

    root = tmp_path_factory.mktemp("stage")
    files = write_sweep(root / "results")
    main(stage_args(files, root / "out"))
    return root, files


def test_the_stage_summarises_the_files_it_is_given(stage_run):
    root, _ = stage_run
    ds = read_dataset(root / "out/summary.nc", "fixed_truth_summary")
    assert dict(ds.sizes) == {"noise": 2, "seed": 2, "inference": 3, "param": 3}
    assert list(ds["inference"].values) == [OPTIMIZER, "nuts", "laplace"]
    assert list(ds["param"].values) == ["logN", "logbeta", "sigmain"]
    assert ds.attrs["reference"] == "nuts" and ds.attrs["hdi_prob"] == 0.8
    assert ds.attrs["model"] == "voigt"
    np.testing.assert_array_equal(ds["truth"].sel(param="sigmain"), [0.05, 0.2])
    # Laplace's estimate is its mode, its sd its draws' (here the same draws as NUTS's)
    laplace, nuts = ds.sel(inference="laplace"), ds.sel(inference="nuts")
    np.testing.assert_allclose(laplace["sd"], nuts["sd"])
    np.testing.assert_allclose(laplace["estimate"] - ds["truth"], nuts["sd"], rtol=0.15)
    np.testing.assert_allclose(laplace["rms_shift_vs_reference"], 1.0, rtol=0.2)
    np.testing.assert_allclose(ds["seconds"].sel(inference="nuts"), [[4.0, 8.0]] * 2)
    assert ds["seconds"].sel(inference="laplace").isnull().all(), "no benchmark given"
    assert (ds["seconds"].sel(inference=OPTIMIZER) == 1.0).all()
    np.testing.assert_array_equal(ds["divergences"].sel(inference="nuts"), [[1, 2]] * 2)
    assert ds["divergences"].sel(inference="laplace").isnull().all()
    assert (ds["ess_bulk"].sel(inference=["nuts", "laplace"]) > 100).all()
    inputs = json.loads(ds.attrs["inputs"])
    assert inputs["0.05:1:fit:laplace"].endswith("noise0.05/seed1/laplace.nc")


def test_the_stage_writes_its_tables_as_csv(stage_run):
    root, _ = stage_run
    rows = pd.read_csv(root / "out/summary.csv")
    assert {"noise", "seed", "inference", "param", "estimate", "covered", "z"} <= set(rows.columns)
    assert len(rows) == 2 * 2 * 3 * 3
    table = pd.read_csv(root / "out/calibration.csv")
    assert {
        "coverage",
        "coverage_low",
        "coverage_high",
        "bias",
        "rmse",
        "rms_shift_vs_reference",
        "sd_ratio_vs_reference",
    } <= set(table.columns)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a[: a.index("--fits") + 2] + a[a.index("--fits") + 3 :],
            "--fits gives no file of entry nuts for dataset 0.05:2",
        ),
        (lambda a: [x.replace(":laplace=", ":nope=") for x in a], "--fits names nope"),
        (lambda a: [x.replace(":laplace=", ":nope=") for x in a], "not entries of the config"),
        (lambda a: [x.replace(":laplace=", f":{OPTIMIZER}=") for x in a], "the optimiser's row"),
        (lambda a: [x.replace("0.05:1=", "0.05-1=") for x in a], "takes NOISE:SEED=PATH items"),
        (lambda a: [x.replace("0.05:1:nuts=", "0.1:1:nuts=") for x in a], "0.1:1, not in"),
    ],
)
def test_bad_command_lines_are_refused(stage_run, tmp_path, capsys, change, message):
    from pipeline.stages.fixed_truth import main

    _, files = stage_run
    with pytest.raises(SystemExit):
        main(change(stage_args(files, tmp_path)))
    assert message in capsys.readouterr().err
    assert not (tmp_path / "summary.nc").exists()


def test_a_corrupt_file_of_a_dataset_is_named(stage_run, tmp_path):
    from pipeline.stages.fixed_truth import main

    _, files = stage_run
    copy = {d: tmp_path / "in" / d.replace(":", "_") for d in files}
    for d, folder in files.items():
        shutil.copytree(folder, copy[d])
    broken = copy["0.2:2"] / "laplace.nc"
    broken.write_text("not a NetCDF file")
    with pytest.raises(NetCDFInputError, match="is not a readable NetCDF file") as err:
        main(stage_args(copy, tmp_path / "out"))
    assert str(broken) in str(err.value)
    (copy["0.2:2"] / "laplace.nc").unlink()
    shutil.copy(files["0.2:2"] / "laplace.nc", broken)
    (copy["0.05:1"] / "benchmarks/nuts.tsv").write_text("s\th:m:s\n")
    with pytest.raises(NetCDFInputError, match=r"nuts\.tsv .* is malformed: no rows"):
        main(stage_args(copy, tmp_path / "out"))


# --- the figures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "figure",
    [
        "fixed_truth_posterior_sd",
        "fixed_truth_coverage",
        "fixed_truth_zscores",
        "fixed_truth_vs_reference",
        "fixed_truth_cost",
    ],
)
def test_the_figures_draw_with_and_without_styles(stage_run, figure):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.plots import fixed_truth

    root, _ = stage_run
    summary = read_dataset(root / "out/summary.nc", "fixed_truth_summary")
    styles = {
        "nuts": {"label": "NUTS", "color": "orange"},
        "laplace": {"label": "Laplace", "color": "C3"},
    }
    for given in (styles, None):
        fig = getattr(fixed_truth, figure)(summary, styles=given)
        text = " ".join(t.get_text() for ax in fig.axes for t in ax.texts + ax.get_xticklabels())
        text += " ".join(
            t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
        )
        text += fig.get_suptitle() + " ".join(ax.get_title() for ax in fig.axes)
        if given is styles and figure != "fixed_truth_cost":
            assert "NUTS" in text or "Laplace" in text
        if figure != "fixed_truth_cost":
            assert "log N" in text, "parameters are labelled by the summary's model"
        plt.close(fig)


def test_the_figures_plot_only_entries_with_a_width(stage_run):
    from pipeline.plots.fixed_truth import posterior_entries, style

    root, _ = stage_run
    summary = read_dataset(root / "out/summary.nc", "fixed_truth_summary")
    assert posterior_entries(summary) == ["nuts", "laplace"]
    assert style(summary, {}, OPTIMIZER)["label"] == OPTIMIZER
    assert style(summary, {"nuts": {"label": "N", "color": "k"}}, "nuts")["color"] == "k"


# --- a real sweep of the workflow ----------------------------------------------------------

# The sweep's summary and figures, without every dataset's own figures (they have their tests).
TARGETS = (
    "results/fixed_truth/summary.nc",
    *(f"results/fixed_truth/figures/{f}.png" for f in FIXED_TRUTH_FIGURES),
)
SWEEP_METHODS = ["nuts", "svi", "laplace"]


def sweep_config(noise: list[float], seeds: list[int]) -> dict:
    config = tiny_config()
    config["datasets"] |= {"sigma_noise": noise, "seeds": seeds}
    config["methods"] = list(SWEEP_METHODS)
    return config


def planned_outputs(workflow: Workflow, *targets: str) -> list[str]:
    """The files a dry run would make now (each planned job's outputs)."""
    out = workflow.snakemake("-n", "--cores", "1", *targets).stdout
    found = []
    for line in out.splitlines():
        key, _, paths = line.strip().partition(": ")
        if key == "output":
            found += [p.strip() for p in paths.split(",")]
    return found


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Workflow:
    workflow = Workflow(tmp_path_factory.mktemp("sweep"), sweep_config([0.05, 0.2], [1, 2]))
    workflow.snakemake("--cores", "2", *TARGETS)
    return workflow


def test_summary_has_every_dataset_entry_and_parameter(sweep):
    ds = read_dataset(sweep.path / "results/fixed_truth/summary.nc", "fixed_truth_summary")
    assert ds.sizes == {"noise": 2, "seed": 2, "inference": 4, "param": 3}
    assert list(ds["inference"].values) == [OPTIMIZER, *SWEEP_METHODS]
    assert ds.attrs["reference"] == SWEEP_METHODS[0]
    np.testing.assert_array_equal(ds["truth"].sel(param="sigmain"), [0.05, 0.2])
    np.testing.assert_array_equal(ds["truth"].sel(param="logN"), [21.0, 21.0])
    point = ds.sel(param=["logN", "logbeta"])
    assert np.isfinite(point["estimate"]).all(), "every entry estimates the line parameters"
    posterior = ds.sel(inference=SWEEP_METHODS)
    assert np.isfinite(posterior["sd"]).all() and (posterior["sd"] > 0).all()
    assert np.isnan(ds["sd"].sel(inference=OPTIMIZER)).all()  # a point estimate has no width
    assert set(np.unique(posterior["covered"].values)) <= {0.0, 1.0}
    coverage = posterior["coverage"].values
    assert ((coverage >= 0) & (coverage <= 1)).all()
    assert (posterior["coverage_low"] <= posterior["coverage"]).all()
    assert (ds["seconds"] > 0).all(), "each entry's job time comes from its benchmark file"
    np.testing.assert_allclose(ds["rms_shift_vs_reference"].sel(inference=SWEEP_METHODS[0]), 0.0)


def test_summary_tables_are_written_as_csv(sweep):
    rows = pd.read_csv(sweep.path / "results/fixed_truth/summary.csv")
    assert {"noise", "seed", "inference", "param", "estimate", "covered", "z"} <= set(rows.columns)
    assert len(rows) == 2 * 2 * 4 * 3
    table = pd.read_csv(sweep.path / "results/fixed_truth/calibration.csv")
    assert {"coverage", "coverage_low", "coverage_high", "bias", "rmse"} <= set(table.columns)


def test_adding_a_seed_runs_only_that_seeds_jobs_and_the_aggregation(sweep):
    sweep.write_config(sweep_config([0.05, 0.2], [1, 2, 3]))
    try:
        planned = planned_outputs(sweep, *TARGETS)
    finally:
        sweep.write_config(sweep_config([0.05, 0.2], [1, 2]))
    new = [p for p in planned if not p.startswith("results/fixed_truth/")]
    assert new and all(re.match(r"results/noise0\.(05|2)/seed3/", p) for p in new), new
    assert {
        f"results/fixed_truth/{name}" for name in ("summary.nc", "summary.csv", "calibration.csv")
    } <= set(planned)


def test_the_sweep_reads_each_entrys_file_and_benchmark(sweep):
    summary = read_dataset(sweep.path / "results/fixed_truth/summary.nc", "fixed_truth_summary")
    inputs = json.loads(summary.attrs["inputs"])
    for name in SWEEP_METHODS:
        assert inputs[f"0.2:2:fit:{name}"] == f"results/noise0.2/seed2/{name}.nc"
        assert inputs[f"0.2:2:benchmark:{name}"] == f"results/noise0.2/seed2/benchmarks/{name}.tsv"
    assert inputs[f"0.2:2:benchmark:{OPTIMIZER}"].endswith("benchmarks/optimize.tsv")


def test_report_builds_with_the_fixed_truth_figures(sweep):
    sweep.snakemake("--report", "report.html", *TARGETS)
    html = (sweep.path / "report.html").read_text()
    for figure in FIXED_TRUTH_FIGURES:
        assert f"{figure}.png" in html


def test_a_failed_dataset_keeps_the_others_and_a_rerun_completes_only_it(tmp_path):
    workflow = Workflow(tmp_path, sweep_config([0.1], [1, 2]))
    broken = tmp_path / "results/noise0.1/seed2/data.nc"
    broken.parent.mkdir(parents=True)
    broken.write_text("not a NetCDF file")  # as if a disk had garbled it
    result = workflow.snakemake("--cores", "2", "--keep-going", *TARGETS, check=False)
    assert result.returncode != 0
    logs = " ".join(p.read_text() for p in (broken.parent / "logs").glob("*.log"))
    assert "results/noise0.1/seed2/data.nc (data.nc) is not a readable NetCDF file" in logs
    for name in SWEEP_METHODS:
        assert (tmp_path / f"results/noise0.1/seed1/{name}.nc").is_file(), name
    broken.unlink()
    planned = planned_outputs(workflow, *TARGETS)
    assert all(p.startswith(("results/noise0.1/seed2/", "results/fixed_truth/")) for p in planned)
    workflow.snakemake("--cores", "2", *TARGETS)
    assert workflow.planned_jobs(*TARGETS) == {}


def test_the_lists_can_be_given_on_the_command_line(tiny_workflow):
    # Snakemake passes nested --config values as text; the config check turns them into numbers.
    lists = 'datasets={"sigma_noise": [0.05, 0.10], "seeds": [1, 2]}'
    planned = tiny_workflow.planned_jobs("--config", lists)
    assert planned["fixed_truth_summary"] == 1
    result = tiny_workflow.snakemake(
        "-n", "--config", 'datasets={"sigma_noise": [-1], "seeds": [1]}', check=False
    )
    assert result.returncode != 0
    assert "config.datasets.sigma_noise[0] = -1.0" in result.stdout + result.stderr
