"""What the package declares: the rules' conda environment and every import of pipeline/."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

import yaml
from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# import name -> distribution name where they differ
DISTRIBUTIONS = {"yaml": "pyyaml", "netCDF4": "netcdf4"}


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
