"""The workflow on a real SLURM cluster, through profiles/slurm and snakemake-executor-plugin-slurm.

Needs the plugin (`pip install -e ".[slurm]"`) and, for the end-to-end run, a reachable cluster
whose default partition matches the profile: `bash .ci/slurm/up.sh` starts a one-node one on
this machine. Without them these tests skip, unless DIFFSPEC_REQUIRE_SLURM=1 (as in CI), where
they fail instead.

Mind: with the plugin installed, every snakemake command (even `-n`) first runs `scontrol show
config`; with scontrol present but no controller answering, that stalls each command ~9 s.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess

import pytest
from conftest import REPO, Workflow, tiny_config

PROFILE = REPO / "profiles" / "slurm"
ENABLE = 'pip install -e ".[slurm]" && bash .ci/slurm/up.sh'
DATASET = "results/noise0.1/seed72"
# data -> optimize is a dependency chain; the two figures need only data.nc, so they are ready
# together and go to SLURM as one array job of two tasks.
TARGETS = (
    f"{DATASET}/optimize.nc",
    f"{DATASET}/figures/data.png",
    f"{DATASET}/figures/transmission.png",
)
PLANNED = {"simulate_data": 1, "optimize": 1, "figure": 2}


def unavailable(reason: str) -> None:
    """Skip, or fail when the environment promises SLURM (DIFFSPEC_REQUIRE_SLURM=1)."""
    if os.environ.get("DIFFSPEC_REQUIRE_SLURM") == "1":
        pytest.fail(f"DIFFSPEC_REQUIRE_SLURM=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason}; to run the SLURM tests: {ENABLE}")


@pytest.fixture(scope="module")
def slurm_plugin() -> None:
    """The executor plugin is installed (the profile can't even be parsed without it)."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        unavailable("snakemake-executor-plugin-slurm is not installed")


@pytest.fixture(scope="module")
def slurm_cluster(slurm_plugin) -> None:
    """A SLURM controller answers and the profile's partition is up."""
    try:
        # sinfo retries for MessageTimeout (10 s) when no controller answers
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%R %a"], capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError:
        unavailable("SLURM's sinfo is not installed")
    except subprocess.TimeoutExpired:
        unavailable("sinfo did not answer within 30 s")
    if result.returncode != 0:
        unavailable(f"no SLURM cluster is reachable (sinfo: {result.stderr.strip()})")
    if "debug up" not in result.stdout.splitlines():
        unavailable(f"SLURM has no partition 'debug' that is up (sinfo: {result.stdout!r})")


def job_stats(output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table snakemake prints."""
    table = re.search(r"Job stats:\njob\s+count\n-+\s+-+\n(.*?)\ntotal", output, re.S)
    assert table, output
    return {rule: int(n) for rule, n in (line.split() for line in table.group(1).splitlines())}


def test_profile_plans_the_jobs(slurm_plugin, tmp_path):
    """The profile parses, selects the plugin and gives every job its default resources.

    Needs the plugin, not a running cluster (but then ~9 s slower, see the module docstring).
    """
    run = Workflow(tmp_path, tiny_config()).snakemake("-n", "--profile", str(PROFILE), *TARGETS)
    out = run.stdout + run.stderr
    assert f"Using profiles {PROFILE}" in out
    stats = job_stats(out)
    assert stats.items() >= PLANNED.items(), stats
    resources = re.findall(r"^\s+resources: (.*)$", out, re.M)
    assert len(resources) == sum(stats.values())
    for line in resources:
        assert "slurm_partition=debug" in line
        assert re.search(r"\bmem_mb=\d+", line), line
        assert re.search(r"\bruntime=\d+", line), line


def test_workflow_runs_as_slurm_jobs(slurm_cluster, tmp_path):
    """Jobs, one of them an array job, run on SLURM and write the workflow's outputs."""
    workflow = Workflow(tmp_path, tiny_config())
    run = workflow.snakemake("--profile", str(PROFILE), "--slurm-keep-successful-logs", *TARGETS)
    out = run.stdout + run.stderr
    for target in TARGETS:
        assert (tmp_path / target).stat().st_size > 0, target
    stats = job_stats(out)
    assert stats.items() >= PLANNED.items(), stats

    # what the plugin reports: single jobs, and one array job with the two figures
    run_id = re.search(r"SLURM run ID: (\S+)", out).group(1)
    single = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    array = re.findall(
        r"Submitted array job with Snakemake IDs ([\d,]+) and SLURM job ID (\d+)", out
    )
    assert len(single) == sum(stats.values()) - 2, out
    assert len(array) == 1, out
    snakemake_ids, array_id = array[0]
    assert len(snakemake_ids.split(",")) == 2
    tasks = [f"{array_id}_1", f"{array_id}_2"]

    # what SLURM reports: those jobs, under this run's job name, completed in the partition
    # (up.sh keeps finished jobs in squeue for MinJobAge = 10 min; no sacct without slurmdbd)
    queue = subprocess.run(
        ["squeue", "--states=all", "-h", "-o", "%i %j %T %P", "-j", ",".join([*single, array_id])],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    jobs = {job: rest for job, *rest in (line.split() for line in queue.splitlines())}
    for job in [*single, *tasks]:
        assert jobs.get(job) == [run_id, "COMPLETED", "debug"], queue

    # their SLURM logs, kept in the working directory
    logs = tmp_path / ".snakemake" / "slurm_logs"
    found = sorted(p.name for p in logs.rglob("*.log"))
    assert found == sorted(f"{job}.log" for job in [*single, *tasks]), found
