"""End-to-end: the real snakemake command on a tiny config, its outputs, reruns and refusals."""

from __future__ import annotations

import pytest
import xarray as xr
from conftest import Workflow, tiny_config

from pipeline.io.files import read, read_dataset
from pipeline.io.layouts import INFERENCE_LAYOUTS, LAYOUTS
from pipeline.plots.registry import FIGURES

DATASET = "results/noise0.1/seed72"


def test_every_output_is_written_and_follows_its_layout(tiny_run):
    for kind, layout in (LAYOUTS | INFERENCE_LAYOUTS).items():
        if not kind.startswith(("fixed_truth", "sbc")):  # one dataset: no study
            read(tiny_run.path / DATASET / layout.filename, kind)  # checks the layout
    read(tiny_run.path / DATASET / "nested_gaussian.nc", "nested")
    assert not (tiny_run.path / "results" / "sweep").exists()
    for table in ("nuts_summary.csv", "svi_summary.csv", "gradient_free_summary.csv"):
        assert (tiny_run.path / DATASET / table).read_text().startswith("param,")
    for table in ("compare.csv", "cost.csv"):
        assert (tiny_run.path / DATASET / table).read_text().startswith("inference,")
    assert (tiny_run.path / DATASET / "evidence.csv").read_text().startswith("line_shape,")
    for figure in FIGURES:
        png = tiny_run.path / DATASET / "figures" / f"{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    assert tiny_run.planned_jobs() == {}, "a finished run must be up to date"


def test_outputs_carry_units_and_provenance(tiny_run):
    data = read_dataset(tiny_run.path / DATASET / "data.nc", "data")
    assert data["nu"].attrs["units"] == "cm^-1"
    assert data["cross_section"].attrs["units"] == "cm^2"
    assert data["logN_true"].attrs["units"] == "log10(cm^-2)"
    assert '"n_points": 200' in data.attrs["settings"]
    assert '"jax"' in data.attrs["versions"]
    optimize = read_dataset(tiny_run.path / DATASET / "optimize.nc", "optimize")
    assert optimize.sizes["step"] == 9
    assert DATASET + "/data.nc" in optimize.attrs["inputs"]


# what may differ between two runs of a stage: how long it took
TIMINGS = ("compile_seconds", "run_seconds", "run_seconds_per_dataset")


def without_timings(ds: xr.Dataset) -> xr.Dataset:
    """`ds` without the attributes that record seconds, which no two runs share."""
    kept = ds.copy()
    kept.attrs = {k: v for k, v in ds.attrs.items() if k not in TIMINGS}
    return kept


def groups(path) -> list[str]:
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        return list(nc.groups) or [None]


def _edited(workflow: Workflow, edit) -> dict[str, int]:
    config = tiny_config()
    edit(config)
    workflow.write_config(config)
    try:
        return workflow.planned_jobs()
    finally:
        workflow.write_config(tiny_config())


def test_changing_one_setting_reruns_exactly_what_depends_on_it(tiny_run):
    def steps(c):
        c["optimize"]["steps"] = 9

    def grid(c):
        c["chi2_map"]["logbeta"]["num"] = 11

    def levels(c):
        c["figures"]["chi2_levels"] = [210, 260]

    def truth(c):
        c["line"]["logN"] = 20.9

    def nuts_draws(c):
        c["nuts"]["num_samples"] = 201

    def prior(c):
        c["priors"]["sigmain_rate"] = 5.0

    def band(c):
        c["figures"]["band_prob"] = 0.8

    def ess_floor(c):
        c["diagnostics"]["min_ess"] = 300

    # trajectories and best fit / chi2 map and trajectories / the three chi2 figures
    # the Laplace approximation starts from Adam's end point, the gradient-free sampler from
    # Laplace's mode; both are compared and costed (and drawn: methods_pair, cost)
    assert _edited(tiny_run, steps) == {
        "optimize": 1, "laplace": 1, "gradient_free": 1, "gradient_free_summary": 1,
        "compare": 1, "cost": 1, "figure": 5, "all": 1,
    }  # fmt: skip
    assert _edited(tiny_run, grid) == {"chi2_map": 1, "figure": 3, "all": 1}
    assert _edited(tiny_run, levels) == {"figure": 3, "all": 1}
    # NUTS, the comparison, the cost and five figures; not the data, not SVI
    assert _edited(tiny_run, nuts_draws) == {
        "nuts": 1, "posterior_summaries": 1, "compare": 1, "cost": 1, "figure": 5, "all": 1,
    }  # fmt: skip
    assert _edited(tiny_run, prior) == {
        "nuts": 1, "svi": 1, "posterior_summaries": 1, "laplace": 1, "nested": 2,
        "gradient_free": 1, "gradient_free_summary": 1, "compare": 1, "cost": 1, "evidence": 1,
        "figure": 6, "all": 1,
    }  # fmt: skip
    assert _edited(tiny_run, band) == {"figure": 1, "all": 1}
    # a threshold of the checks reruns the NUTS summary alone, not the sampler
    assert _edited(tiny_run, ess_floor) == {
        "posterior_summaries": 1, "gradient_free_summary": 1, "all": 1,
    }  # fmt: skip
    assert _edited(tiny_run, truth) == {
        "simulate_data": 1, "chi2_map": 1, "optimize": 1, "laplace": 1, "nuts": 1, "svi": 1,
        "posterior_summaries": 1, "nested": 2, "gradient_free": 1, "gradient_free_summary": 1,
        "compare": 1, "cost": 1, "evidence": 1, "figure": len(FIGURES), "all": 1,
    }  # fmt: skip
    assert tiny_run.planned_jobs() == {}


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        # and what reads optimize.nc: the Laplace stage and three figures
        (
            "inference/optimize.py",
            {
                "optimize": 1,
                "laplace": 1,
                "gradient_free": 1,
                "gradient_free_summary": 1,
                "compare": 1,
                "cost": 1,
                "figure": 5,
            },
        ),
        # NUTS, and what reads nuts.nc: the summaries, the comparison, the cost, five figures
        (
            "inference/nuts.py",
            {"nuts": 1, "posterior_summaries": 1, "compare": 1, "cost": 1, "figure": 5},
        ),
        ("analysis/summary.py", {"posterior_summaries": 1, "gradient_free_summary": 1}),
        # its three figures, and the three of plots/methods.py, which takes its colours
        ("plots/posterior.py", {"figure": 6}),
        # and the cost stage, which counts a Laplace fit's evaluations from its settings
        (
            "inference/laplace.py",
            {
                "laplace": 1,
                "gradient_free": 1,
                "gradient_free_summary": 1,
                "compare": 1,
                "cost": 1,
                "figure": 2,
            },
        ),
        ("inference/nested.py", {"nested": 2, "compare": 1, "cost": 1, "evidence": 1, "figure": 3}),
    ],
)
def test_editing_a_code_module_reruns_the_stages_that_import_it(tiny_run, module, expected):
    # Snakemake compares checksums of small inputs: only a real edit counts, not a touch.
    path = tiny_run.sources / "pipeline" / module
    original = path.read_text()
    path.write_text(original + "\n# an edit\n")
    try:
        assert tiny_run.planned_jobs() == expected | {"all": 1}
    finally:
        path.write_text(original)
    assert tiny_run.planned_jobs() == {}


def test_a_bad_setting_stops_the_run_before_any_job(tiny_workflow):
    config = tiny_config()
    config["datasets"]["sigma_noise"] = [0.1, -0.5]
    config["precision"] = "float16"
    tiny_workflow.write_config(config)
    result = tiny_workflow.snakemake("--cores", "1", check=False)
    assert result.returncode != 0
    assert "config.datasets.sigma_noise[1] = -0.5" in result.stderr
    assert "config.precision = 'float16'" in result.stderr
    assert "float32" in result.stderr  # says what is allowed
    assert not (tiny_workflow.path / "results").exists()


def test_a_non_canonical_noise_level_in_a_path_is_refused(tiny_workflow):
    result = tiny_workflow.snakemake(
        "--cores", "1", "results/noise0.10/seed72/data.nc", check=False
    )
    assert result.returncode != 0
    assert "must be written as '0.1'" in result.stdout + result.stderr


def test_noise_levels_are_canonical_in_paths(tiny_workflow):
    config = tiny_config()
    config["datasets"] |= {"sigma_noise": [0.10, 2.5e-2], "seeds": [3]}
    tiny_workflow.write_config(config)
    result = tiny_workflow.snakemake("-n", "--cores", "1")
    assert "results/noise0.1/seed3/data.nc" in result.stdout
    assert "results/noise0.025/seed3/data.nc" in result.stdout


FITTING_PROGRAMS = {"jit_program", "jit_chi2_grid", "jit_scan", "jit_run", "jit__run_depth",
                    "jit__to_result", "jit__resample"}  # fmt: skip


def test_every_stage_writes_the_same_files_again_and_a_second_dataset_compiles_nothing(
    tiny_run, tmp_path
):
    # Determinism: the tutorial's dataset made again in another directory, every job a new
    # process with an empty JAX cache, gives every NetCDF file of tiny_run value for value,
    # attribute for attribute (but the seconds), group by group, and the same tables.
    # Compile once: the fitting stages take the data as arguments of their compiled programs,
    # not as constants in them, and jobs trace in a fixed order (PYTHONHASHSEED), so a dataset
    # with other noise draws and another noise level finds all its programs in the cache.
    config = tiny_config()
    config["datasets"] |= {"sigma_noise": [0.1, 0.2], "seeds": [2, 72]}
    workflow = Workflow(tmp_path / "run", config)
    cache = tmp_path / "jax_cache"
    files = ("data.nc", "chi2_map.nc", "optimize.nc", "laplace.nc", "nuts.nc", "svi.nc",
             "nested.nc", "gradient_free.nc", "compare.nc", "nuts_summary.csv",
             "svi_summary.csv", "gradient_free_summary.csv", "compare.csv")  # fmt: skip

    def fit(dataset: str) -> set[str]:
        targets = [f"{dataset}/{name}" for name in files]
        workflow.snakemake("--cores", "2", *targets, env={"DIFFSPEC_JAX_CACHE_DIR": str(cache)})
        return {p.name for p in cache.iterdir()}

    first = fit(DATASET)
    for name in files:
        mine, theirs = workflow.path / DATASET / name, tiny_run.path / DATASET / name
        if name.endswith(".csv"):
            assert mine.read_text() == theirs.read_text(), name
            continue
        for group in groups(mine):
            with xr.open_dataset(mine, group=group) as a, xr.open_dataset(theirs, group=group) as b:
                xr.testing.assert_identical(without_timings(a.load()), without_timings(b.load()))
    assert len(first) > 20  # every stage's programs, one or a few each, and small eager ones
    # every fitting program is served from the cache: run_batched's `program` (NUTS, SVI,
    # Laplace, SA, Adam), the chi^2 grid, and jaxns's depth epochs (`_run_depth`, its sampler)
    # and results; jaxns's Python loop between epochs compiles some small bookkeeping programs
    # per dataset, for array sizes that depend on the data (how many dead points it needs)
    new = sorted({name.split("-")[0] for name in fit("results/noise0.2/seed2") - first})
    assert not set(new) & FITTING_PROGRAMS, new
