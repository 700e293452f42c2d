"""What the package declares: the rules' conda environment and every import of pipeline/."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from conftest import REPO

from pipeline.setup.imports import modules

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# import name -> distribution name where they differ
DISTRIBUTIONS = {"yaml": "pyyaml", "netCDF4": "netcdf4", "tensorflow_probability": "tfp-nightly"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0].lower()


def test_the_rules_environment_lists_the_packages_dependencies():
    env = yaml.safe_load((REPO / "workflow" / "envs" / "diffspec.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip) == sorted(PYPROJECT["project"]["dependencies"])


def test_every_import_of_the_package_is_a_declared_dependency():
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    imported = set()
    for path in (REPO / "pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"pipeline"}
    missing = {DISTRIBUTIONS.get(m, m).lower() for m in third_party} - declared
    assert not missing, f"imported by pipeline/ but not in pyproject's dependencies: {missing}"


STAGES = sorted(p.stem for p in (REPO / "pipeline" / "stages").glob("*.py") if p.stem != "__init__")


# the stages a rule runs (`python -m pipeline.stages.X`): one generic fit stage for every method
# entry, the analyses, the figures and the SBC study's; the per-method stages are gone
RULE_STAGES = {"data", "chi2_map", "optimize", "fit", "summary", "compare", "cost", "evidence",
               "figure", "fixed_truth", "sbc_simulate", "sbc_fit", "sbc_ranks"}  # fmt: skip
# imported by stages (cli, observation), or run by hand (the READMEs' tables: docs, config_docs)
HELPERS = {"cli", "docs", "config_docs", "observation"}


def _rules() -> dict[str, str]:
    """Every rule of workflow/rules/*.smk and the Snakefile: name -> its text."""
    text = "".join(p.read_text() for p in sorted((REPO / "workflow" / "rules").glob("*.smk")))
    text += (REPO / "Snakefile").read_text()
    return dict(re.findall(r"^rule (\w+):[^\n]*\n(.*?)(?=^\S|\Z)", text, re.M | re.S))


def test_the_stages_are_the_rules_stages():
    assert set(STAGES) == RULE_STAGES | HELPERS
    for method in ("nuts", "svi", "laplace", "nested", "gradient_free"):
        assert not (REPO / "pipeline" / "stages" / f"{method}.py").exists(), method
    run = {m for body in _rules().values() for m in re.findall(r"pipeline\.stages\.(\w+)", body)}
    assert run == RULE_STAGES


def test_every_rule_lists_the_stage_it_runs_as_code_input():
    for rule, body in _rules().items():
        ran = set(re.findall(r"python -m pipeline\.stages\.(\w+)", body))
        if not ran:
            continue  # a target rule (all, tutorial, sbc)
        assert len(ran) == 1, rule
        assert f'code("stages.{ran.pop()}"' in body, rule


@pytest.mark.parametrize("stage", STAGES)
def test_a_rules_code_inputs_hold_every_module_its_stage_imports(stage):
    # what importing the stage loads, seen in a fresh interpreter, against what the rules list
    # as its code inputs (pipeline.setup.imports reads them from the source, lazy imports included)
    code = f"import sys, pipeline.stages.{stage}; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, check=True).stdout.split()  # fmt: skip
    ours = {m[len("pipeline.") :].replace(".", "/") for m in loaded if m.startswith("pipeline.")}
    ours = {m if (REPO / "pipeline" / f"{m}.py").is_file() else f"{m}/__init__" for m in ours}
    assert ours - set(modules(f"stages.{stage}")) == set()


def test_the_figure_rules_list_the_plotting_module_the_stage_imports_by_name():
    # pipeline.stages.figure imports pipeline.plots.<module> by name: the rules add it
    from pipeline.plots.registry import FIGURES

    assert {spec.module for spec in FIGURES.values()} == {"fit", "posterior", "methods"}
    # the rules of the studies' figures (in whichever rules file holds them) name theirs
    rules = "".join(p.read_text() for p in sorted((REPO / "workflow" / "rules").glob("*.smk")))
    for name in ("fixed_truth", "sbc"):
        assert f'code("stages.figure", "plots.{name}")' in rules, name
    # and a dataset's figure rule adds the figure's own
    assert 'code("stages.figure", f"plots.{FIGURES[wildcards.figure].module}")' in rules


# the package's layers, bottom first: a module imports only from its own layer or below
LAYERS = {"setup": 0, "io": 0, "physics": 1, "models": 2, "inference": 3, "analysis": 4,
          "methods": 5, "plots": 6, "stages": 7}  # fmt: skip


def test_imports_point_down_the_layers():
    upward = []
    for path in (REPO / "pipeline").rglob("*.py"):
        parts = path.relative_to(REPO / "pipeline").parts
        if len(parts) == 1:
            continue  # pipeline/__init__.py
        own = LAYERS[parts[0]]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipeline."):
                layer = node.module.split(".")[1]
                if LAYERS[layer] > own:
                    upward.append(f"{'/'.join(parts)} imports {node.module}")
    assert upward == []


def test_a_methods_runs_lists_every_module_it_imports_by_name():
    # a method imports its fit's modules when it fits (pipeline.methods.base.runtime), unseen
    # by the imports' reading: the fit rules add the method's `runs` to their code inputs
    from pipeline.methods import METHODS

    def by_name_in(tree) -> set[str]:
        return {node.args[0].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "runtime"
                and isinstance(node.args[0], ast.Constant)}  # fmt: skip

    def by_name(path) -> set[str]:
        return by_name_in(ast.parse(path.read_text()))

    common = REPO / "pipeline" / "methods" / "common.py"
    # common.py's functions that import by name, and what they import
    shared = {node.name: by_name_in(node) for node in ast.parse(common.read_text()).body
              if isinstance(node, ast.FunctionDef) and by_name_in(node)}  # fmt: skip
    for name, method in METHODS.items():
        path = REPO / "pipeline" / "methods" / f"{name}.py"
        needed = by_name(path) | {m for f, ms in shared.items() if f in path.read_text()
                                  for m in ms}  # fmt: skip
        assert needed and needed <= set(method.runs), name
    methods_rules = (REPO / "workflow" / "rules" / "methods.smk").read_text()
    assert "*ENTRIES[wildcards.entry].method.runs" in methods_rules
    sbc_rules = (REPO / "workflow" / "rules" / "sbc.smk").read_text()
    assert "*STUDY_ENTRIES[wildcards.study_entry].method.runs" in sbc_rules
