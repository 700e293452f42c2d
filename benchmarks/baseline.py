"""This checkout against an earlier revision, side by side: a sweep's next dataset's fitting jobs.

python -m benchmarks.baseline REVISION [--repeats N]

A sweep pays, for every dataset after the first, whatever its jobs cannot take from the JAX
cache. For each revision in turn (alternating, so that both see the same machine load), with
an empty cache: snakemake fits dataset A (noise 0.1, seed 1), then dataset B (noise 0.2,
seed 2), each revision through its own Snakefile and job environment. B's job times come
from Snakemake's benchmark files. Writes results/benchmarks/baseline.csv and baseline.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections import defaultdict
from pathlib import Path

from benchmarks.common import (
    OUT,
    PYTHON,
    REPO,
    Stats,
    Table,
    load_config,
    machine,
    remove,
    run_command,
    scratch,
    write_config,
)
from pipeline.analysis.fixed_truth import job_seconds

RULES = ("optimize", "laplace", "nuts", "svi")
FIRST, NEXT = "results/noise0.1/seed1", "results/noise0.2/seed2"


def checkout(revision: str) -> Path:
    """A detached worktree of `revision` in a scratch directory (the caller removes it)."""
    path = scratch("baseline") / "tree"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(path), revision], cwd=REPO,
                   check=True)  # fmt: skip
    return path


def next_dataset_seconds(tree: Path) -> dict[str, float]:
    """Wall seconds of each fitting job of dataset B after dataset A, empty cache at the start."""
    workdir, cache = scratch("baseline-run"), scratch("cache")
    try:
        config = load_config(tree / "config" / "config.yaml")
        config["datasets"] |= {"sigma_noise": [0.1, 0.2], "seeds": [1, 2]}
        write_config(workdir, config)
        # each revision's jobs get their environment from its own Snakefile, not from here
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "PYTHONPATH")}
        env["DIFFSPEC_JAX_CACHE_DIR"] = str(cache)
        for dataset in (FIRST, NEXT):
            cmd = [PYTHON, "-m", "snakemake", "-s", str(tree / "Snakefile"), "-d", str(workdir),
                   "--cores", "1", *(f"{dataset}/{rule}.nc" for rule in RULES)]  # fmt: skip
            run_command(cmd, env=env, cwd=workdir, log=workdir / "snakemake.log")
        return {rule: job_seconds(workdir / NEXT, rule) for rule in RULES}
    finally:
        remove(workdir)
        remove(cache)


def compare(revision: str, repeats: int) -> Table:
    """Median seconds of each job of the next dataset, the revision's and this checkout's."""
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    trees = {revision: checkout(revision), "checkout": REPO}
    try:
        for repeat in range(repeats):
            for name, tree in trees.items():
                for rule, seconds in next_dataset_seconds(tree).items():
                    samples[name][rule].append(seconds)
                print(f"  {repeat} {name}: {dict(samples[name])}", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(trees[revision])], cwd=REPO)
        remove(trees[revision].parent)
    rows = []
    for rule in (*RULES, "total"):
        if rule == "total":
            base, new = (sum(Stats.of(samples[n][r]).median for r in RULES) for n in trees)
            row = {"job": rule, "baseline_s": base, "checkout_s": new}
        else:
            base, new = (Stats.of(samples[n][rule]) for n in trees)
            row = {"job": rule, **base.columns("baseline_s"), **new.columns("checkout_s")}
        rows.append(row | {"ratio": row["checkout_s"] / row["baseline_s"]})
    notes = [
        f"baseline: {revision}; checkout: {machine()['git']}; median of {repeats} runs each, "
        "alternating; job wall seconds of the second dataset (noise 0.2, seed 2) after the first "
        "(noise 0.1, seed 1) filled an empty JAX cache; default settings, --cores 1",
    ]
    return Table("baseline", f"Next dataset's fitting jobs: {revision} against this checkout",
                 rows, notes=notes)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Command line: compare a revision with this checkout and write the table."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.baseline", description=__doc__)
    p.add_argument("revision", help="a git revision of this repository, e.g. HEAD~3")
    p.add_argument("--repeats", type=int, default=3, help="runs per revision (default 3)")
    args = p.parse_args(argv)
    table = compare(args.revision, args.repeats)
    print(table.text())
    table.write_csv()
    (OUT / "baseline.md").write_text(table.markdown())


if __name__ == "__main__":
    main()
