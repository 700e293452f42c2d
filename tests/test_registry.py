"""Models and methods declared once: a second model fitted by every method, and a method added
as one module (plus its config section and schema entry) run through a dataset's workflow
and a calibration study, without touching any other file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, Workflow, copy_sources, tiny_config

from pipeline.io.files import read_dataset
from pipeline.methods import METHODS
from pipeline.models import MODELS


def _free_gamma(config: dict) -> dict:
    """`config` with config/free_gamma.yaml merged over it, as --configfile would."""
    from pipeline.setup.config import merge

    return merge(config, yaml.safe_load((REPO / "config" / "free_gamma.yaml").read_text()))


@pytest.fixture(scope="module")
def free_gamma_run(tmp_path_factory) -> Workflow:
    """One run of config/free_gamma.yaml over the tiny config: the dataset's workflow and a
    tiny calibration study, side by side in one snakemake command."""
    config = _free_gamma(tiny_config())
    config["targets"] = ["datasets", "sbc"]
    config["figures"]["per_dataset"] = False  # the figures are the tutorial model's tests'
    config["study"] |= {"num_datasets": 4, "block_size": 4, "num_draws": 19, "rank_bins": 5,
                        "coverage_levels": [0.5, 0.9], "noise_strata": 2,
                        # a variant, and SA's chains started at draws of the Laplace blocks
                        "methods": ["svi", "laplace", {"name": "laplace_constrained",
                                    "method": "laplace", "coordinates": "constrained"},
                                    "gradient_free"]}  # fmt: skip
    workflow = Workflow(tmp_path_factory.mktemp("free_gamma"), config)
    workflow.snakemake("--cores", "2")
    return workflow


def test_the_free_gamma_model_is_fitted_by_every_method_chosen_by_config_alone(free_gamma_run):
    tmp_path = free_gamma_run.path
    folder = tmp_path / "results/noise0.1/seed72"
    names = MODELS["voigt_free_gamma"].names
    data = read_dataset(folder / "data.nc", "data")
    assert list(data["param"].values) == list(names)
    for entry in ("nuts", "svi", "laplace", "nested", "gradient_free"):
        posterior = az.from_netcdf(folder / f"{entry}.nc").posterior
        assert posterior.attrs["model"] == "voigt_free_gamma"
        assert [v for v in names if v in posterior] == list(names), entry
        # the Lorentz width is identified by the data: every method puts the truth (0) within
        # a few posterior sds (these are short runs on a coarse grid)
        loggamma = posterior["loggamma"].values.ravel()
        assert abs(loggamma.mean()) < 4 * loggamma.std() + 0.05, entry
    compare = pd.read_csv(folder / "compare.csv")
    assert set(compare["param"]) == set(names)
    evidence = pd.read_csv(folder / "evidence.csv")
    assert list(evidence["model"]) == ["voigt_free_gamma", "gaussian"]
    chi2 = read_dataset(folder / "chi2_map.nc", "chi2_map")
    assert (chi2.attrs["x_param"], chi2.attrs["y_param"]) == ("logN", "logbeta")


def test_the_free_gamma_model_runs_through_a_calibration_study(free_gamma_run):
    tmp_path = free_gamma_run.path
    ranks = read_dataset(tmp_path / "results/sbc/ranks.nc", "sbc_ranks")
    assert list(ranks["quantity"].values) == [
        *MODELS["voigt_free_gamma"].names,
        "loglik",
        "logjoint",
    ]
    truth = ranks["truth"].sel(param="loggamma").values
    assert ((truth > -1) & (truth < 1)).all()  # drawn from the prior in free_gamma.yaml
    # every entry, the variant under its own name, ranked side by side
    entries = ["svi", "laplace", "laplace_constrained", "gradient_free"]
    assert list(ranks["inference"].values) == entries
    blocks = {e: read_dataset(tmp_path / f"results/sbc/blocks/000/{e}.nc", "sbc_fit")
              for e in entries}  # fmt: skip
    settings = {e: json.loads(blocks[e].attrs["settings"])["settings"] for e in entries[1:3]}
    assert (settings["laplace"]["coordinates"], settings["laplace_constrained"]["coordinates"]) == (
        "unconstrained", "constrained")  # fmt: skip
    unconstrained = blocks["laplace"]["draws"].sel(param="loggamma").values
    assert ((unconstrained > -1) & (unconstrained < 1)).all()  # inside the support, always
    # SA's chains (2 in the tiny config) each start at their own Laplace draw: MCMC, thinned
    sa = blocks["gradient_free"]
    assert (sa["thin"] >= 1).all() and np.isfinite(sa["r_hat"]).all()


MOCK = '''\
"""A mock method for the registry test: the Laplace fit under another name, its draws
ranked as independent."""

from typing import NamedTuple

from pipeline.methods.base import Evaluations, Method, runtime
from pipeline.methods.common import Y
from pipeline.io.layouts import InferenceLayout


class MockSettings(NamedTuple):
    num_draws: int


def _fit(x, predictive):
    fit = runtime("inference.laplace", "fit_laplace")
    damping = runtime("methods.laplace", "DAMPING")
    settings = runtime("methods.laplace", "LaplaceSettings")(x.settings.num_draws, "constrained")
    return fit(x.problem, x.ys, x.starts, x.keys, settings, damping, x.batching)


METHOD = Method(
    name="mock_gaussian",
    label="mock Gaussian",
    color="C9",
    settings=MockSettings,
    layout=InferenceLayout("mock_gaussian.nc", "the mock's draws", {"posterior": {},
                           "observed_data": Y}),
    fit=_fit,
    groups=lambda fit, nu, names: {},
    diagnostics=lambda fit, draws: {"converged": fit["converged"].astype(float)},
    evaluations=lambda idata: Evaluations(gradient=1.0),
    summary_flags=lambda table, idata, thresholds: table.assign(flags=""),
    runs=("inference.laplace",),
    start="adam",
)
'''

SCHEMA_ENTRY = """
  mock_gaussian:
    description: the registry test's mock method
    type: object
    additionalProperties: false
    required: [num_draws, seed]
    properties:
      num_draws: {type: integer, minimum: 4, description: draws}
      seed: {$ref: "#/$defs/seed"}
"""


def _with_mock(sources: Path) -> None:
    """Add the mock method to a copy of the sources: its module, schema entry, config section."""
    (sources / "pipeline/methods/mock_gaussian.py").write_text(MOCK)
    with (sources / "workflow/schemas/config.schema.yaml").open("a") as schema:
        schema.write(SCHEMA_ENTRY)
    with (sources / "config/config.yaml").open("a") as config:
        config.write("\nmock_gaussian: {num_draws: 300, seed: 5}\n")


def test_a_method_added_as_one_module_runs_through_a_dataset_and_a_study(tmp_path):
    sources = copy_sources(tmp_path / "src")
    _with_mock(sources)
    config = tiny_config() | {"mock_gaussian": {"num_draws": 300, "seed": 5}}
    config["methods"] = ["laplace", "mock_gaussian"]
    config["study"] |= {"num_datasets": 4, "block_size": 4, "num_draws": 19, "rank_bins": 5,
                        "coverage_levels": [0.5, 0.9], "noise_strata": 2,
                        "methods": ["laplace", "mock_gaussian"]}  # fmt: skip
    workflow = Workflow(tmp_path / "run", config, sources=sources)
    folder = "results/noise0.1/seed72"
    targets = [f"{folder}/{name}" for name in ("mock_gaussian_summary.csv", "cost.csv",
                                               "figures/methods_pair.png")]  # fmt: skip
    workflow.snakemake("--cores", "2", *targets, "results/sbc/ranks.nc")
    folder = tmp_path / "run" / folder
    mock = az.from_netcdf(folder / "mock_gaussian.nc")
    assert mock.posterior.sizes["draw"] == 300
    assert (folder / "mock_gaussian_summary.csv").is_file()
    compare = pd.read_csv(folder / "compare.csv")
    assert "mock_gaussian" in set(compare["inference"])
    # the mock is the Laplace fit under another name and key: the same Gaussian
    row = compare.set_index(["inference", "param"]).loc["mock_gaussian"]
    assert (row["sd_ratio"].between(0.5, 2.0)).all()
    cost = pd.read_csv(folder / "cost.csv").set_index("inference")
    assert cost.loc["mock_gaussian", "gradient_evaluations"] == 1
    assert (folder / "figures/methods_pair.png").is_file()
    ranks = read_dataset(tmp_path / "run/results/sbc/ranks.nc", "sbc_ranks")
    assert list(ranks["inference"].values) == ["laplace", "mock_gaussian"]
    assert np.isfinite(ranks["rank"].sel(inference="mock_gaussian").values).mean() > 0.7


def test_each_model_and_method_is_spelled_only_in_its_own_modules():
    """The tutorial's parameter names live in the model's module only; a method's name in its
    modules and, for NUTS and SVI, the tutorial's figures that show them (at most 4 files)."""
    files = [p for folder in ("pipeline", "workflow") for p in (REPO / folder).rglob("*")
             if p.suffix in (".py", ".smk")]  # fmt: skip

    def spelled(word: str) -> list[str]:
        pattern = re.compile(rf"\b{word}\b")
        return sorted(str(p.relative_to(REPO)) for p in files if pattern.search(p.read_text()))

    for param in MODELS["voigt"].names:
        assert spelled(param) == ["pipeline/models/voigt_line.py"], param
    for name in METHODS:
        assert len(spelled(name)) <= 4, (name, spelled(name))
        assert f"pipeline/methods/{name}.py" in spelled(name)


def test_the_readme_recipes_name_the_files_they_ask_for():
    readme = (REPO / "README.md").read_text()
    for section in ("## Adding an inference method", "## Adding a model"):
        assert section in readme
    recipe = readme.split("## Adding an inference method")[1].split("\n## ")[0]
    assert "pipeline/methods/" in recipe and "config.schema.yaml" in recipe
    recipe = readme.split("## Adding a model")[1].split("\n## ")[0]
    assert "pipeline/models/" in recipe and "priors" in recipe
