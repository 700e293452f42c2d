"""Faults in real processes: a killed sampling job or snakemake, a full disk (a corrupted
intermediate: tests/test_workflow.py, on its shared run)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import REPO, Workflow, tiny_config

from pipeline.io.files import LAYOUTS, read_dataset, read_inference
from pipeline.methods import variants

DATASET = "results/noise0.1/seed72"
# a dataset's files: its stages' (by layout) and every method entry's (by its method's layout)
KINDS = {layout.filename: kind for kind, layout in LAYOUTS.items()
         if not kind.startswith(("fixed_truth", "sbc"))}  # fmt: skip
ENTRIES = {f"{v.name}.nc": v for v in variants(tiny_config()["methods"], tiny_config())}


def read(path: Path) -> None:
    """Read a dataset's NetCDF file by its layout (which checks it)."""
    if path.name in ENTRIES:
        read_inference(path, ENTRIES[path.name].method.layout)
    else:
        read_dataset(path, KINDS[path.name])


def every_file_passes_its_layout(folder: Path, temporaries: bool = False) -> list[str]:
    """Read every NetCDF file of a dataset by its layout (which checks it) and return their
    names; unless `temporaries`, no temporary file of a write may be there."""
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and ".tmp-" not in p.name)
    left = [p.name for p in folder.iterdir() if ".tmp-" in p.name]
    assert temporaries or not left, left
    for name in names:
        if name.endswith(".nc"):
            read(folder / name)
    return names


def start_snakemake(workflow: Workflow, *targets: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d",
           str(workflow.path), "--cores", "1", *targets]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(cmd, env=env, cwd=workflow.path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def wait_for_stage(snakemake: subprocess.Popen, stage: str, timeout: float = 120) -> psutil.Process:
    """The process of the job running `python -m pipeline.stages.<stage>` (e.g. "fit nuts")
    under snakemake."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(snakemake.pid).children(recursive=True):
            try:
                command = " ".join(child.cmdline())
                if f"-m pipeline.stages.{stage}" in command and "set -euo" not in command:
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.02)
    raise AssertionError(f"no {stage} job started within {timeout} s")


@pytest.mark.parametrize("moment", ["while compiling", "while writing"])
def test_a_killed_sampling_job_is_rebuilt_and_nothing_else(tmp_path, moment):
    workflow = Workflow(tmp_path, tiny_config())
    workflow.snakemake("--cores", "1", f"{DATASET}/data.nc")
    data_mtime = (tmp_path / DATASET / "data.nc").stat().st_mtime_ns
    snakemake = start_snakemake(workflow, f"{DATASET}/nuts.nc")
    job = wait_for_stage(snakemake, "fit nuts")
    if moment == "while writing":  # the fit is done and the file is being written
        log = tmp_path / DATASET / "logs" / "nuts.log"
        deadline = time.monotonic() + 120
        while "1/1 datasets" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "NUTS did not finish fitting"
            time.sleep(0.005)
    else:
        time.sleep(random.Random(1).uniform(0.2, 1.0))
    job.send_signal(signal.SIGKILL)
    assert snakemake.wait(timeout=120) != 0
    # what is there is whole (a write's temporary may be left); the rerun makes only what is
    # missing, and removes the temporary
    every_file_passes_its_layout(tmp_path / DATASET, temporaries=True)
    assert workflow.planned_jobs(f"{DATASET}/nuts.nc") == {"fit": 1}
    workflow.snakemake("--cores", "1", f"{DATASET}/nuts.nc")
    assert "nuts.nc" in every_file_passes_its_layout(tmp_path / DATASET)
    assert (tmp_path / DATASET / "data.nc").stat().st_mtime_ns == data_mtime


def test_a_killed_snakemake_resumes_after_unlock(tmp_path):
    # the whole run killed at once (SIGKILL, as by a lost machine): its lock stays behind, and
    # the README's remedy, --unlock and then the same command, completes the run
    workflow = Workflow(tmp_path, tiny_config())
    snakemake = start_snakemake(workflow, f"{DATASET}/nuts.nc")
    wait_for_stage(snakemake, "fit nuts")
    os.killpg(snakemake.pid, signal.SIGKILL)  # snakemake and its job, at once
    snakemake.wait(timeout=60)
    locked = workflow.snakemake("--cores", "1", f"{DATASET}/nuts.nc", check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    workflow.snakemake("--unlock")
    # outputs appear only once whole, so there is no incomplete file to rerun by hand
    workflow.snakemake("--cores", "1", f"{DATASET}/nuts.nc")
    assert "nuts.nc" in every_file_passes_its_layout(tmp_path / DATASET)


def _can_mount() -> str:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (CI runs as root)"
    probe = Path("/tmp/diffspec-mount-probe")
    probe.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode:
        return f"this machine refuses to mount a tmpfs: {mounted.stderr.decode().strip()}"
    subprocess.run(["umount", str(probe)], check=True)
    return ""


@pytest.mark.skipif(bool(_can_mount()), reason=_can_mount() or "mount works")
def test_a_full_disk_gives_a_clear_error_no_partial_file_and_a_rerun_completes(tmp_path):
    workflow = Workflow(tmp_path, tiny_config())
    results = tmp_path / "results"
    results.mkdir()
    # room for data.nc (~15 kB) but not for nuts.nc with its predictive draws (~200 kB)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(results)], check=True)
    try:
        failed = workflow.snakemake("--cores", "1", f"{DATASET}/nuts.nc", check=False)
        assert failed.returncode != 0
        log = (results / "noise0.1/seed72/logs/nuts.log").read_text()
        assert f"could not write {DATASET}/nuts.nc" in log
        assert "no space left on its device" in log
        assert "Traceback" not in log
        every_file_passes_its_layout(results / "noise0.1/seed72")
        assert not (results / "noise0.1/seed72/nuts.nc").exists()
        kept = {p.name: p.read_bytes() for p in (results / "noise0.1/seed72").glob("*.nc")}
    finally:
        subprocess.run(["umount", str(results)], check=True)
    # space freed: the same files back on a disk with room, and the same command completes
    (results / "noise0.1/seed72").mkdir(parents=True)
    for name, content in kept.items():
        (results / "noise0.1/seed72" / name).write_bytes(content)
    workflow.snakemake("--cores", "1", f"{DATASET}/nuts.nc")
    assert "nuts.nc" in every_file_passes_its_layout(results / "noise0.1/seed72")
