"""Shared fixtures: a tiny configuration and real Snakemake runs of it in temporary directories."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note skipped tests, so that CI can refuse them."""
    if report.skipped:
        SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test fails the run: every test must run there."""
    if os.environ.get("CI") == "true" and SKIPPED:
        print(f"\nCI runs every test, but these were skipped: {', '.join(SKIPPED)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


TINY_OVERLAY = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())


def tiny_config() -> dict:
    """The default config shrunk so a whole workflow run takes seconds (.test/config)."""
    from pipeline.setup.config import merge

    return merge(copy.deepcopy(DEFAULT_CONFIG), TINY_OVERLAY)


def copy_sources(dest: Path) -> Path:
    """A private copy of the code (Snakefile, workflow/, pipeline/, config/) a test may edit."""
    ignore = shutil.ignore_patterns("__pycache__")
    dest.mkdir(parents=True)
    shutil.copy2(REPO / "Snakefile", dest / "Snakefile")
    for folder in ("workflow", "pipeline", "config"):
        shutil.copytree(REPO / folder, dest / folder, ignore=ignore)
    return dest


class Workflow:
    """A workflow directory with its own config/config.yaml, driven by a Snakefile (the repo's)."""

    def __init__(
        self, path: Path, config: dict, sources: Path = REPO, env: dict[str, str] | None = None
    ):
        self.path = path
        self.sources = sources
        self.env = env or {}  # variables every snakemake command here gets
        self.write_config(config)

    def write_config(self, config: dict) -> None:
        (self.path / "config").mkdir(parents=True, exist_ok=True)
        (self.path / "config" / "config.yaml").write_text(yaml.safe_dump(config))

    def snakemake(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """Run the real snakemake command here (`env`: extra variables); fail the test with its
        output if it fails."""
        snakefile = str(self.sources / "Snakefile")
        cmd = [sys.executable, "-m", "snakemake", "-s", snakefile, "-d", str(self.path)]
        env = {**os.environ, "PYTHONPATH": str(self.sources), **self.env, **(env or {})}
        result = subprocess.run(
            [*cmd, *args], capture_output=True, text=True, env=env, cwd=self.path
        )
        if check and result.returncode != 0:
            pytest.fail(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def planned_jobs(self, *targets: str) -> dict[str, int]:
        """Rule name -> number of jobs a dry run would execute now (empty when up to date)."""
        out = self.snakemake("-n", "--cores", "1", *targets).stdout
        table = re.search(r"Job stats:\njob\s+count\n-+\s+-+\n(.*?)\ntotal", out, re.S)
        if table is None:
            return {}
        return {rule: int(n) for rule, n in (line.split() for line in table.group(1).splitlines())}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Workflow:
    """One complete run of the workflow on the tiny config, shared by the tests that read it.

    It runs from its own copy of the sources, so a test may edit code there to see what reruns,
    and with its own JAX cache, empty at the start, so a test can see what a run compiles.
    """
    root = tmp_path_factory.mktemp("tiny")
    env = {"DIFFSPEC_JAX_CACHE_DIR": str(root / "jax_cache")}
    workflow = Workflow(root / "run", tiny_config(), sources=copy_sources(root / "src"), env=env)
    workflow.snakemake("--cores", "2")
    return workflow


@pytest.fixture
def tiny_workflow(tmp_path) -> Workflow:
    """A fresh, not yet run, workflow directory on the tiny config."""
    return Workflow(tmp_path, tiny_config())
