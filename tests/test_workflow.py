"""End-to-end: the real snakemake command on a tiny config, its outputs, reruns and refusals."""

from __future__ import annotations

import copy
import json
import re
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xarray as xr
import yaml
from conftest import Workflow, tiny_config

from pipeline.io.files import LAYOUTS, read_dataset, read_inference
from pipeline.methods import variants
from pipeline.plots.registry import FIGURES

DATASET = "results/noise0.1/seed72"
# the tiny config's method entries: name -> variant (its method's layout, its model)
ENTRIES = {v.name: v for v in variants(tiny_config()["methods"], tiny_config())}


def test_every_output_is_written_and_follows_its_layout(tiny_run):
    for kind, layout in LAYOUTS.items():
        if not kind.startswith(("fixed_truth", "sbc")):  # one dataset: no study
            read_dataset(tiny_run.path / DATASET / layout.filename, kind)  # checks the layout
    # every entry of `methods` (nested_gaussian: nested sampling of the Gaussian line) has its
    # file, by its method's layout, recording its model and parameters
    for name, variant in ENTRIES.items():
        fit = read_inference(tiny_run.path / DATASET / f"{name}.nc", variant.method.layout)
        attrs = fit.posterior.attrs
        assert attrs["model"] == variant.model, name
        assert json.loads(attrs["params"]) == ["logN", "logbeta", "sigmain"], name
        assert attrs["compile_seconds"] >= 0 and attrs["run_seconds"] > 0, name
    assert ENTRIES["nested_gaussian"].model == "gaussian"
    assert not (tiny_run.path / "results" / "sweep").exists()
    for table in ("nuts_summary.csv", "svi_summary.csv", "gradient_free_summary.csv"):
        assert (tiny_run.path / DATASET / table).read_text().startswith("param,")
    for table in ("compare.csv", "cost.csv"):
        assert (tiny_run.path / DATASET / table).read_text().startswith("inference,")
    evidence = (tiny_run.path / DATASET / "evidence.csv").read_text().splitlines()
    assert evidence[0].startswith("model,")
    assert [row.split(",")[0] for row in evidence[1:]] == ["voigt", "gaussian"]
    for figure in FIGURES:
        png = tiny_run.path / DATASET / "figures" / f"{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    assert tiny_run.planned_jobs() == {}, "a finished run must be up to date"


def test_outputs_carry_units_and_provenance(tiny_run):
    data = read_dataset(tiny_run.path / DATASET / "data.nc", "data")
    assert data["nu"].attrs["units"] == "cm^-1"
    assert data["cross_section"].attrs["units"] == "cm^2"
    # the truth, every model parameter by name, the noise one the dataset's noise level
    assert list(data["param"].values) == ["logN", "logbeta", "sigmain"]
    assert data["truth"].sel(param="logN") == 21.0 and data["truth"].sel(param="sigmain") == 0.1
    assert data["truth"].attrs["units"] == "parameter units"
    assert data.attrs["sigma_noise"] == 0.1 and data.attrs["seed"] == 72
    assert '"n_points": 200' in data.attrs["settings"]
    assert '"jax"' in data.attrs["versions"]
    # a parameter's units travel with its draws
    nuts = read_inference(tiny_run.path / DATASET / "nuts.nc", ENTRIES["nuts"].method.layout)
    assert nuts.posterior["logN"].attrs["units"] == "log10(cm^-2)"
    assert DATASET + "/data.nc" in nuts.posterior.attrs["inputs"]
    chi2 = read_dataset(tiny_run.path / DATASET / "chi2_map.nc", "chi2_map")
    assert (chi2.attrs["x_param"], chi2.attrs["y_param"]) == ("logN", "logbeta")
    assert chi2.sizes == {"x": 12, "y": 10}
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


def leaf_keys(node: dict, prefix: str = "") -> list[str]:
    """Every setting of a config, as dotted keys: its values and lists (a list is one setting),
    and the sections that hold none (chi2_map.fixed: {})."""
    keys = []
    for name, value in node.items():
        if isinstance(value, dict) and value:
            keys += leaf_keys(value, f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


def with_setting(config: dict, key: str, value) -> dict:
    """A copy of `config` with the dotted `key` set to `value`."""
    config = copy.deepcopy(config)
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = value
    return config


# A new value for every setting of the tiny config (test_every_setting_has_a_change keeps this
# complete), each one the config's checks accept: a prior still holding the truth and the
# start, the study's draws still a multiple of its bins and within what its methods make.
CHANGES = {
    "targets": ["datasets", "sbc"],
    "model": "gaussian",  # the other model with the tutorial's parameters
    "datasets.sigma_noise": [0.1, 0.2],
    "datasets.seeds": [72, 3],
    "datasets.reference_noise": 0.2,
    "datasets.common_random_numbers": True,
    "line.nu0": 1001.0,
    "line.half_width": 19.0,
    "line.n_points": 201,
    "line.line_strength": 1.1e-20,
    "line.gamma": 0.9,
    "truth.logN": 20.9,
    "truth.logbeta": 0.1,
    "precision": "float64",
    "chi2_map.x.param": "logbeta",  # refused alone: both axes would be logbeta
    "chi2_map.x.min": 20.4,
    "chi2_map.x.max": 21.6,
    "chi2_map.x.num": 13,
    "chi2_map.y.param": "logN",  # refused alone, likewise
    "chi2_map.y.min": -0.9,
    "chi2_map.y.max": 0.9,
    "chi2_map.y.num": 11,
    "chi2_map.fixed": {"loggamma": 0.0},  # refused: the model has no other line parameter
    "optimize.init.logN": 20.8,
    "optimize.init.logbeta": 0.4,
    "optimize.steps": 9,
    "optimize.steepest_descent_eta": 2.0e-5,
    "optimize.adam_learning_rate": 0.03,
    "priors.logN.low": 20.4,
    "priors.logN.high": 21.6,
    "priors.logbeta.low": -1.1,
    "priors.logbeta.high": 1.1,
    "priors.sigmain.rate": 5.0,
    "methods": ["nuts", "svi", "laplace", "nested", "gradient_free",
                {"name": "nested_gaussian", "method": "nested", "model": "gaussian", "seed": 1}],
    "nuts.num_warmup": 151,
    "nuts.num_samples": 201,
    "nuts.num_chains": 2,
    "nuts.chain_method": "sequential",
    "nuts.target_accept_prob": 0.85,
    "nuts.dense_mass": True,
    "nuts.seed": 1,
    "svi.num_steps": 601,
    "svi.learning_rate": 0.02,
    "svi.final_learning_rate_fraction": 0.5,
    "svi.num_draws": 201,
    "svi.seed": 1,
    "laplace.num_draws": 201,
    "laplace.coordinates": "constrained",
    "laplace.seed": 1,
    "nested.num_live_points": 31,
    "nested.dlogZ": 0.02,
    "nested.max_samples": 5001,
    "nested.max_likelihood_evaluations": 2000001,
    "nested.num_draws": 201,
    "nested.seed": 1,
    "gradient_free.num_warmup": 2001,
    "gradient_free.num_samples": 2100,
    "gradient_free.num_chains": 3,
    "gradient_free.thinning": 5,
    "gradient_free.seed": 1,
    "batching.per_call": 5,
    "batching.vmap_width": 1,
    "study.num_datasets": 500,
    "study.block_size": 50,
    "study.seed": 1,
    "study.methods": ["nuts", "svi"],
    "study.num_draws": 39,
    "study.thinning": "widest",
    "study.rank_bins": 10,
    "study.coverage_levels": [0.5, 0.9],
    "study.noise_strata": 2,
    "study.include_flagged": False,
    "diagnostics.hdi_prob": 0.8,
    "diagnostics.min_ess": 300,
    "diagnostics.max_r_hat": 1.05,
    "figures.per_dataset": False,
    "figures.chi2_levels": [210, 260],
    "figures.chi2_vmin": 210,
    "figures.chi2_vmax": 350,
    "figures.band_prob": 0.8,
}  # fmt: skip

# Which jobs read each setting (the rules' used_config calls, workflow/rules/*.smk), so that
# changing it alone reruns them, for "Params have changed" (what depends on their outputs then
# reruns too, as "Input files updated by another job"). A fit job is fit[entry], a figure's
# figure[name].
FITS = {f"fit[{name}]" for name in ENTRIES}
VOIGT_FITS = {f"fit[{name}]" for name, v in ENTRIES.items() if v.model == "voigt"}
NESTED_FITS = {"fit[nested]", "fit[nested_gaussian]"}
# the entries whose method has a summary table (NUTS, SVI, the gradient-free sampler)
SUMMARIES = {f"posterior_summary[{name}]" for name, v in ENTRIES.items() if v.method.summary_flags}
# a line quantity every model knows: the data, the line's own stages, every fit, the cost
KNOWN = {"simulate_data", "chi2_map", "optimize", *FITS, "cost"}
PRIOR = {*FITS, "cost"}  # a prior: every fit (the Gaussian line has the same parameters), the cost
DATA_ONLY = {"simulate_data"}
CHI2_FIGURES = {"figure[chi2_map]", "figure[steepest_descent]", "figure[adam]"}
NOTHING: set[str] = set()
EXPECTED = {
    "targets": NOTHING,  # the study's jobs are new
    # every stage of the model; compare (the Gaussian line's fit is now compared too) and the
    # two figures drawn with every compared entry's style
    "model": {"simulate_data", "chi2_map", "optimize", *FITS, "compare", "cost",
              "figure[methods_pair]", "figure[cost]"},
    "datasets.sigma_noise": NOTHING,  # new datasets, and the fixed-truth sweep over them
    "datasets.seeds": NOTHING,
    "datasets.reference_noise": DATA_ONLY,
    "datasets.common_random_numbers": DATA_ONLY,
    "line.nu0": KNOWN,
    "line.half_width": DATA_ONLY,  # the grid: the others take it from data.nc
    "line.n_points": DATA_ONLY,
    "line.line_strength": KNOWN,
    # the Gaussian line has no Lorentz width: not its fit
    "line.gamma": {"simulate_data", "chi2_map", "optimize", *VOIGT_FITS, "cost"},
    "truth.logN": DATA_ONLY,
    "truth.logbeta": DATA_ONLY,
    "precision": DATA_ONLY,  # the others take it from data.nc
    **{f"chi2_map.{a}.{k}": {"chi2_map"} for a in ("x", "y") for k in ("min", "max", "num")},
    "chi2_map.x.param": None,  # refused
    "chi2_map.y.param": None,  # refused
    "chi2_map.fixed": None,  # refused
    **{f"optimize.{k}": {"optimize"} for k in ("init.logN", "init.logbeta", "steps",
                                               "steepest_descent_eta", "adam_learning_rate")},
    **{f"priors.{k}": PRIOR for k in ("logN.low", "logN.high", "logbeta.low", "logbeta.high",
                                      "sigmain.rate")},
    "methods": {"fit[nested_gaussian]", "evidence"},  # the changed entry and its reader
    **{k: {"fit[nuts]"} for k in CHANGES if k.startswith("nuts.")},
    **{k: {"fit[svi]"} for k in CHANGES if k.startswith("svi.")},
    **{k: {"fit[laplace]"} for k in CHANGES if k.startswith("laplace.")},
    **{k: NESTED_FITS for k in CHANGES if k.startswith("nested.")},
    **{k: {"fit[gradient_free]"} for k in CHANGES if k.startswith("gradient_free.")},
    **{k: NOTHING for k in CHANGES if k.startswith(("batching.", "study."))},  # no study here
    "diagnostics.hdi_prob": {*SUMMARIES, "compare"},
    "diagnostics.min_ess": SUMMARIES,  # a threshold of the checks: not a fit
    "diagnostics.max_r_hat": SUMMARIES,
    "figures.per_dataset": NOTHING,  # the figures are no longer wanted
    "figures.chi2_levels": CHI2_FIGURES,
    "figures.chi2_vmin": {"figure[chi2_map]"},
    "figures.chi2_vmax": {"figure[chi2_map]"},
    "figures.band_prob": {"figure[nuts_predictive]"},
}  # fmt: skip
# Settings that change the workflow's shape, changed each in a dry run of its own: the jobs
# they add (new datasets, the study's) or remove (figures), or which entries are compared.
# Every other setting is changed in one dry run with the others expected to rerun the same jobs:
# each job's --config names what it was given, so the keys that changed in it tell which of
# the group's settings it reads.
ALONE = {"targets", "model", "datasets.sigma_noise", "datasets.seeds", "figures.per_dataset",
         "chi2_map.fixed", "chi2_map.x.param", "chi2_map.y.param"}  # fmt: skip
ADDS_JOBS = {"targets", "datasets.sigma_noise", "datasets.seeds"}


def dry_run_groups() -> list[list[str]]:
    """The settings changed together in one dry run (see ALONE)."""
    groups: dict[object, list[str]] = {}
    for key in CHANGES:
        label = key if key in ALONE else frozenset(EXPECTED[key])
        groups.setdefault(label, []).append(key)
    return list(groups.values())


JOB = re.compile(r"^(?:local)?rule (\w+):\n(.*?)^Shell command: (.*?)$", re.M | re.S)


def shell_commands(output: str) -> dict[str, tuple[str, str]]:
    """Job -> (its reason, its shell command), from a dry run's output with -p. A job is its
    rule, or rule[entry] / rule[figure]; a job of another dataset or a study's block names its
    wildcards after an @."""
    jobs = {}
    for rule, body, command in JOB.findall(output):
        wildcards = re.search(r"^\s+wildcards: (.*)$", body, re.M)
        named = dict(re.findall(r"(\w+)=([^,\s]+)", wildcards.group(1) if wildcards else ""))
        which = named.get("entry") or named.get("figure")
        job = f"{rule}[{which}]" if which else rule
        other = {k: v for k, v in named.items() if k not in ("entry", "figure")}
        if other not in ({}, {"noise": "0.1", "seed": "72"}):
            job += "@" + ",".join(f"{k}={v}" for k, v in other.items())
        reason = re.search(r"^\s+reason: (.*)$", body, re.M)
        jobs[job] = (reason.group(1) if reason else "", command)
    return jobs


def flat(node, prefix: str = "") -> dict[str, object]:
    """A config as dotted key -> value (a list is one value)."""
    if not isinstance(node, dict) or not node:
        return {prefix[:-1]: node}
    found = {}
    for name, value in node.items():
        found |= flat(value, f"{prefix}{name}.")
    return found


def what_changed(before: str, after: str) -> set[str]:
    """The config keys whose value differs between two shell commands of a job (the JSON
    after --config), and "<command>" if anything else in them differs."""

    def split(command: str) -> tuple[list[str], dict]:
        words = shlex.split(command)
        if "--config" not in words:
            return words, {}
        at = words.index("--config")
        return words[:at] + words[at + 2 :], flat(json.loads(words[at + 1]))

    (rest_before, config_before), (rest_after, config_after) = split(before), split(after)
    keys = {k for k in config_before.keys() | config_after.keys()
            if config_before.get(k, "missing") != config_after.get(k, "missing")}  # fmt: skip
    return keys | ({"<command>"} if rest_before != rest_after else set())


def test_every_setting_has_a_change_and_an_expectation():
    assert sorted(CHANGES) == sorted(leaf_keys(tiny_config()))
    assert sorted(EXPECTED) == sorted(CHANGES)
    for key, value in CHANGES.items():
        node = tiny_config()
        for part in key.split("."):
            node = node[part]
        assert node != value, key  # a change


def test_changing_one_setting_reruns_exactly_what_reads_it(tiny_run, tmp_path):
    # Each setting changed (alone, or with settings that rerun the same jobs: see ALONE) in a
    # dry run with a --configfile over the run's config. The jobs whose own command changed,
    # the setting among what they are given, are exactly those that read it; every other job
    # planned reruns because a file it reads will be rewritten (or it is new). (Snakemake's
    # reasons show "Params have changed" only for the first job of a chain: a job downstream
    # of a rerun is not checked for its own; hence the commands, which hold the params.)
    def dry_run(keys: list[str]):
        config = tiny_config()
        for key in keys:
            config = with_setting(config, key, CHANGES[key])
        edited = tmp_path / f"{keys[0]}.yaml"
        edited.write_text(yaml.safe_dump(config))
        args = ("-n", "-p", "--cores", "1", "--configfile", str(edited))
        return keys, tiny_run.snakemake(*args, check=False)

    baseline = shell_commands(tiny_run.snakemake("-n", "-p", "-F", "--cores", "1").stdout)
    assert len(baseline) == 29  # every job, forced: 28 and all
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(dry_run, dry_run_groups()))
    wrong = []
    for keys, result in results:
        if EXPECTED[keys[0]] is None:  # a change the config's checks refuse, before any job
            said = result.stdout + result.stderr
            if result.returncode == 0 or f"config.{keys[0]}" not in said:
                wrong.append(f"{keys[0]}: not refused:\n{result.stdout[-2000:]}{result.stderr}")
            continue
        if result.returncode != 0:
            wrong.append(f"{keys}: dry run failed:\n{result.stdout[-3000:]}{result.stderr}")
            continue
        jobs = shell_commands(result.stdout)
        changed = {job: what_changed(baseline[job][1], command)
                   for job, (_, command) in jobs.items() if job in baseline}  # fmt: skip
        for key in keys:
            readers = {job for job, what in changed.items()
                       if what and (key in ALONE or key in what)}  # fmt: skip
            if readers != EXPECTED[key]:
                wrong.append(f"{key}: read by {sorted(readers)}, expected "
                             f"{sorted(EXPECTED[key])}")  # fmt: skip
        for job, (why, _) in jobs.items():
            unexplained = changed.get(job, set()) - set(keys) if keys[0] not in ALONE else set()
            if unexplained:
                wrong.append(f"{keys}: {job} changed in {sorted(unexplained)} too")
            ok = ((changed.get(job) and "Params have changed" in why)
                  or why.startswith("Input files updated by another job")
                  or (job not in baseline and "Missing output files" in why))  # fmt: skip
            if not ok or (job not in baseline and keys[0] not in ADDS_JOBS):
                wrong.append(f"{keys}: {job} reruns for another reason: {why}")
        if not any(EXPECTED[k] for k in keys) and keys[0] not in ADDS_JOBS and jobs:
            wrong.append(f"{keys}: reruns {sorted(jobs)}, expected nothing")
    assert wrong == []
    assert tiny_run.planned_jobs() == {}


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        # and what reads optimize.nc: the Laplace fit (it starts from Adam's end point), the
        # gradient-free fit (from Laplace's mode), their summary, comparison and cost, and the
        # figures of the trajectories, the best fit and every method (methods_pair, cost)
        ("inference/optimize.py",
         {"optimize": 1, "fit": 2, "posterior_summary": 1, "compare": 1, "cost": 1,
          "figure": 5}),
        # the NUTS fit (the only method that runs it), and what reads nuts.nc: the summaries,
        # the comparison, the cost, five figures
        ("inference/nuts.py",
         {"fit": 1, "posterior_summary": 1, "compare": 1, "cost": 1, "figure": 5}),
        # the summary and compare stages import it, the fits of NUTS, SVI and the
        # gradient-free sampler run its checks, and plots/methods.py imports it (through
        # analysis/compare.py): five figures of those fits, and the evidence's
        ("analysis/summary.py",
         {"fit": 3, "posterior_summary": 3, "compare": 1, "cost": 1, "figure": 6}),
        # its three figures, and the three of plots/methods.py, which takes its colours
        ("plots/posterior.py", {"figure": 6}),
        # the Laplace fit, and the gradient-free one that starts from it (and its summary)
        ("inference/laplace.py",
         {"fit": 2, "posterior_summary": 1, "compare": 1, "cost": 1, "figure": 2}),
        # both nested-sampling entries (the Voigt line's and the Gaussian line's)
        ("inference/nested.py",
         {"fit": 2, "compare": 1, "cost": 1, "evidence": 1, "figure": 3}),
    ],
)  # fmt: skip
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


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"model": "nope"}, "config.model = 'nope': unknown model (the models are: voigt"),
        ({"methods": ["nuts", {"name": "svi4", "method": "svi", "num_chains": 4}]},
         "config.methods[1].num_chains: unknown setting of method 'svi' (allowed: "),
        ({"priors": {"logN": {"low": 20.5, "high": 21.5}, "logbeta": {"low": -1.0, "high": 1.0},
                     "sigmain": {"rate": -1.0}}},
         "config.priors.sigmain.rate = -1.0: must be positive"),
    ],
)  # fmt: skip
def test_a_setting_the_model_or_methods_refuse_stops_the_run_before_any_job(
    tiny_workflow, edit, expected
):
    tiny_workflow.write_config(tiny_config() | edit)
    result = tiny_workflow.snakemake("--cores", "1", check=False)
    assert result.returncode != 0
    assert expected in result.stderr
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
    # process (loading the programs tiny_run compiled, from its cache), gives every NetCDF
    # file of tiny_run value for value, attribute for attribute (but the seconds), group by
    # group, and the same tables.
    # Compile once: the fitting stages take the data as arguments of their compiled programs,
    # not as constants in them, and jobs trace in a fixed order (PYTHONHASHSEED), so a dataset
    # with other noise draws and another noise level finds all its programs in the cache.
    config = tiny_config()
    config["datasets"] |= {"sigma_noise": [0.1, 0.2], "seeds": [2, 72]}
    workflow = Workflow(tmp_path / "run", config, env=tiny_run.env)
    cache = Path(tiny_run.env["DIFFSPEC_JAX_CACHE_DIR"])
    files = ("data.nc", "chi2_map.nc", "optimize.nc", "laplace.nc", "nuts.nc", "svi.nc",
             "nested.nc", "gradient_free.nc", "compare.nc", "nuts_summary.csv",
             "svi_summary.csv", "gradient_free_summary.csv", "compare.csv")  # fmt: skip

    def fit(dataset: str) -> set[str]:
        workflow.snakemake("--cores", "2", *(f"{dataset}/{name}" for name in files))
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


def test_a_truncated_intermediate_is_named_and_forcerun_rebuilds_it(tiny_run):
    # a fault test, here because it needs a whole run: the one this file's tests share
    nuts = tiny_run.path / DATASET / "nuts.nc"
    whole = nuts.read_bytes()
    nuts.write_bytes(whole[: len(whole) // 2])  # as a disk or an interrupted copy leaves it
    result = tiny_run.snakemake("--cores", "2", f"{DATASET}/compare.nc", "--forcerun",
                                "compare", check=False)  # fmt: skip
    assert result.returncode != 0
    log = (tiny_run.path / DATASET / "logs" / "compare.log").read_text()
    assert f"input {DATASET}/nuts.nc (nuts.nc) is not a readable NetCDF file" in log
    # the remedy: rebuild the file (--forcerun takes it by name: its rule, fit, writes every
    # method entry's file) and what depends on it
    assert tiny_run.planned_jobs("--forcerun", f"{DATASET}/nuts.nc") == {
        "fit": 1, "posterior_summary": 1, "compare": 1, "cost": 1, "figure": 5, "all": 1,
    }  # fmt: skip
    tiny_run.snakemake("--cores", "2", "--forcerun", f"{DATASET}/nuts.nc")
    read_inference(nuts, ENTRIES["nuts"].method.layout)
    assert tiny_run.planned_jobs() == {}
