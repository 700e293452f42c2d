"""This checkout against an earlier revision, side by side: a sweep's next dataset's fitting jobs,
or (--sbc N) an SBC study's cost per dataset.

python -m benchmarks.baseline REVISION [--repeats N] [--quick] [--sbc N]

A sweep pays, for every dataset after the first, whatever its jobs cannot take from the JAX
cache. For each revision in turn (alternating, so that both see the same machine load), with
an empty cache: snakemake fits dataset A (noise 0.1, seed 1), then dataset B (noise 0.2,
seed 2), each revision through its own Snakefile, config and job environment. B's job times
come from Snakemake's benchmark files. Writes results/benchmarks/baseline.csv and baseline.md.

Only what every revision exposes the same way is driven: snakemake targets (the files
{dataset}/optimize.nc, laplace.nc, nuts.nc, svi.nc) and the benchmark files of their jobs
(benchmarks/{name}.tsv: the old per-method rules' and the generic fit rule's, one per entry,
have the same names), never a stage's command line, whose flags differ between revisions
(e.g. before and after the generic `fit` stage and `--config JSON`). Each revision runs its
own config/config.yaml; --quick shrinks both with the settings of the quick overlay
(benchmarks.common.QUICK_OVERLAY) that both configs spell the same way.

With --sbc N each revision runs, in a new directory with an empty JAX cache, alternating, the
SBC study of its own default config (NUTS, SVI, Laplace with the tutorial's settings) on its
first N datasets: the wall seconds of each method's block jobs (Snakemake's benchmark files
blocks/*/benchmarks/{method}.tsv, a job's whole process: start, fit, ranks, write) per dataset,
and of the whole run. Writes results/benchmarks/baseline_sbc.csv and .md.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import subprocess
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from benchmarks.common import (
    OUT,
    PYTHON,
    QUICK_OVERLAY,
    REPO,
    Stats,
    Table,
    load_config,
    machine,
    merged,
    remove,
    run_command,
    scratch,
    write_config,
)

# the jobs timed: rules of every revision, or entries of the generic fit rule (their files and
# benchmark files are named alike in every revision)
RULES = ("optimize", "laplace", "nuts", "svi")
FIRST, NEXT = "results/noise0.1/seed1", "results/noise0.2/seed2"


def checkout(revision: str) -> Path:
    """A detached worktree of `revision` in a scratch directory (the caller removes it)."""
    path = scratch("baseline") / "tree"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(path), revision], cwd=REPO,
                   check=True)  # fmt: skip
    return path


def job_seconds(folder: Path, name: str) -> float:
    """Wall seconds of a dataset's job `name`, from its Snakemake benchmark file (column `s`;
    NaN if there is none): benchmarks/{rule or entry}.tsv in every revision."""
    path = folder / "benchmarks" / f"{name}.tsv"
    if not path.is_file():
        return math.nan
    with path.open() as fh:
        return float(next(csv.DictReader(fh, delimiter="\t"))["s"])


def common_overlay(overlay: Mapping[str, Any], *configs: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of `overlay` that every config in `configs` has, spelled the same way
    (the same keys, a section where each has a section): what shrinks them all alike."""
    found: dict[str, Any] = {}
    for key, value in overlay.items():
        if not all(isinstance(c, Mapping) and key in c for c in configs):
            continue
        if isinstance(value, Mapping):
            if all(isinstance(c[key], Mapping) for c in configs):
                inner = common_overlay(value, *(c[key] for c in configs))
                if inner:
                    found[key] = inner
        elif not any(isinstance(c[key], Mapping) for c in configs):
            found[key] = value
    return found


def next_dataset_seconds(tree: Path, overlay: Mapping[str, Any]) -> dict[str, float]:
    """Wall seconds of each fitting job of dataset B after dataset A, empty cache at the start."""
    workdir, cache = scratch("baseline-run"), scratch("cache")
    try:
        config = merged(load_config(tree / "config" / "config.yaml"), overlay)
        config["datasets"] |= {"sigma_noise": [0.1, 0.2], "seeds": [1, 2]}
        write_config(workdir, config)
        env = job_environment(cache)
        for dataset in (FIRST, NEXT):
            cmd = [PYTHON, "-m", "snakemake", "-s", str(tree / "Snakefile"), "-d", str(workdir),
                   "--cores", "1", *(f"{dataset}/{rule}.nc" for rule in RULES)]  # fmt: skip
            run_command(cmd, env=env, cwd=workdir, log=workdir / "snakemake.log")
        return {rule: job_seconds(workdir / NEXT, rule) for rule in RULES}
    finally:
        remove(workdir)
        remove(cache)


def side_by_side(
    revision: str,
    repeats: int,
    measure: Callable[[Path], dict[str, float]],
    prepare: Callable[[dict[str, Path]], None] = lambda trees: None,
) -> dict[str, dict[str, list[float]]]:
    """`measure` run on a worktree of `revision` and on this checkout, alternating, `repeats`
    times each (`prepare` sees both trees first): name -> job -> seconds of every repeat."""
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    trees = {revision: checkout(revision), "checkout": REPO}
    try:
        prepare(trees)
        for repeat in range(repeats):
            for name, tree in trees.items():
                for job, seconds in measure(tree).items():
                    samples[name][job].append(seconds)
                print(f"  {repeat} {name}: {dict(samples[name])}", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(trees[revision])], cwd=REPO)
        remove(trees[revision].parent)
    return {name: samples[name] for name in trees}


def job_environment(cache: Path) -> dict[str, str]:
    """A revision's snakemake environment: its jobs get theirs from its own Snakefile, not from
    here; the JAX cache in `cache`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "PYTHONPATH")}
    return env | {"DIFFSPEC_JAX_CACHE_DIR": str(cache)}


def compare(revision: str, repeats: int, quick: bool = False) -> Table:
    """Median seconds of each job of the next dataset, the revision's and this checkout's."""
    overlay: dict[str, Any] = {}

    def measure(tree: Path) -> dict[str, float]:
        return next_dataset_seconds(tree, overlay)

    def prepare(trees: dict[str, Path]) -> None:
        if quick:
            configs = [load_config(tree / "config" / "config.yaml") for tree in trees.values()]
            overlay.update(common_overlay(QUICK_OVERLAY, *configs))

    samples = side_by_side(revision, repeats, measure, prepare)
    rows = []
    for rule in (*RULES, "total"):
        if rule == "total":
            base, new = (sum(Stats.of(samples[n][r]).median for r in RULES) for n in samples)
            row = {"job": rule, "baseline_s": base, "checkout_s": new}
        else:
            base, new = (Stats.of(samples[n][rule]) for n in samples)
            row = {"job": rule, **base.columns("baseline_s"), **new.columns("checkout_s")}
        rows.append(row | {"ratio": row["checkout_s"] / row["baseline_s"]})
    notes = [
        f"baseline: {revision}; checkout: {machine()['git']}; median of {repeats} runs each, "
        "alternating; job wall seconds of the second dataset (noise 0.2, seed 2) after the first "
        "(noise 0.1, seed 1) filled an empty JAX cache; each revision's own default config, "
        "--cores 1",
    ]
    if quick:
        notes.append(f"--quick: both configs shrunk by {overlay} (the quick overlay's settings "
                     "both revisions spell the same way)")  # fmt: skip
    return Table("baseline", f"Next dataset's fitting jobs: {revision} against this checkout",
                 rows, notes=notes)  # fmt: skip


STUDY_METHODS = ("nuts", "svi", "laplace")  # the study's methods in every revision's default


def study_seconds(tree: Path, num_datasets: int) -> dict[str, float]:
    """Wall seconds per dataset of each method's block jobs, and of the whole run, of the SBC
    study on a revision's default config, its first `num_datasets` datasets, empty cache."""
    workdir, cache = scratch("baseline-sbc"), scratch("cache")
    try:
        config = load_config(tree / "config" / "config.yaml")
        config["targets"] = ["sbc"]
        config["study"]["num_datasets"] = num_datasets
        write_config(workdir, config)
        env = job_environment(cache)
        cmd = [PYTHON, "-m", "snakemake", "-s", str(tree / "Snakefile"), "-d", str(workdir),
               "--cores", "2"]  # fmt: skip
        run = run_command(cmd, env=env, cwd=workdir, log=workdir / "snakemake.log")
        blocks = workdir / "results" / "sbc" / "blocks"
        seconds = {m: sum(job_seconds(b, m) for b in sorted(blocks.iterdir())) / num_datasets
                   for m in STUDY_METHODS}  # fmt: skip
        return seconds | {"whole run": run.wall / num_datasets}
    finally:
        remove(workdir)
        remove(cache)


def compare_study(revision: str, repeats: int, num_datasets: int) -> Table:
    """Median seconds per dataset of the SBC study's block jobs, the revision's and this
    checkout's, and their ratio."""
    samples = side_by_side(revision, repeats, lambda tree: study_seconds(tree, num_datasets))
    rows = []
    for job in (*STUDY_METHODS, "whole run"):
        base, new = (Stats.of(samples[n][job]) for n in samples)
        row = {"job": job, **base.columns("baseline_s"), **new.columns("checkout_s")}
        rows.append(row | {"ratio": row["checkout_s"] / row["baseline_s"]})
    notes = [f"baseline: {revision}; checkout: {machine()['git']}; median of {repeats} runs "
             f"each, alternating; wall seconds per dataset of each method's block jobs and of the "
             f"whole run, SBC study of each revision's default config on {num_datasets} "
             "datasets, --cores 2, empty JAX cache"]  # fmt: skip
    return Table("baseline_sbc", f"SBC study per dataset: {revision} against this checkout",
                 rows, notes=notes)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Command line: compare a revision with this checkout and write the table."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.baseline", description=__doc__)
    p.add_argument("revision", help="a git revision of this repository, e.g. HEAD~3")
    p.add_argument("--repeats", type=int, help="runs per revision (default 3, --quick 1)")
    p.add_argument("--quick", action="store_true", help="smoke run: quick settings, 1 repeat")
    p.add_argument("--sbc", type=int, metavar="N", help="the SBC study on N datasets instead")
    args = p.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    if args.sbc:
        table = compare_study(args.revision, repeats, args.sbc)
    else:
        table = compare(args.revision, repeats, args.quick)
    print(table.text())
    table.write_csv()
    (OUT / f"{table.name}.md").write_text(table.markdown())


if __name__ == "__main__":
    main()
