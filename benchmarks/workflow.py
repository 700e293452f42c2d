"""The whole Snakemake workflow: the default config cold and warm, and a sweep's datasets/minute.

Every run starts in a new working directory (its own config/config.yaml, no results) and uses
the repository's Snakefile; only the JAX compilation cache is carried from run to run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import (
    QUICK_OVERLAY,
    REPO,
    Run,
    Stats,
    Table,
    bench_config,
    jax_env,
    load_config,
    merged,
    remove,
    run_command,
    scratch,
    snakemake_command,
    verdict,
    write_config,
)

WORKFLOW_LIMIT = 20.0  # seconds, whole default workflow, warm cache, --cores 2
SWEEP_CONFIG = REPO / "config" / "sweep.yaml"
# the datasets of the sweep when config/sweep.yaml doesn't exist, and the most a quick run takes
INLINE_DATASETS = {"sigma_noise": [0.1, 0.2], "seeds": [72, 73]}
QUICK_MAX = 2


def cache_files(cache: Path) -> int:
    """Number of entries in a JAX compilation cache directory."""
    return sum(1 for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0


def run_workflow(config: dict[str, Any], cores: int, cache: Path) -> tuple[Run, dict[str, Any]]:
    """One snakemake run from scratch; returns it with jobs run and cache entries it added."""
    workdir = scratch("workflow")
    try:
        write_config(workdir, config)
        before = cache_files(cache)
        run = run_command(
            snakemake_command(workdir, cores),
            env=jax_env(cache),
            cwd=workdir,
            log=workdir / "snakemake.log",
            poll_tree=True,
        )
        done = re.findall(r"(\d+) of \d+ steps \(100%\) done", run.log.read_text())
        jobs = int(done[-1]) if done else 0
        extra = {"jobs": jobs, "new_cache_entries": cache_files(cache) - before}
    finally:
        remove(workdir)
    return run, extra


def _record(samples: dict[str, list[float]], run: Run, extra: dict[str, Any]) -> None:
    """Append one run's measurements to `samples`."""
    for key, value in {
        "wall": run.wall,
        "max_rss_mb": run.max_rss_mb,
        "peak_sum_mb": run.peak_sum_mb,
        **extra,
    }.items():
        samples[key].append(value)


def _memory_and_jobs(samples: dict[str, list[float]]) -> dict[str, Any]:
    """Median peak memory, jobs and cache growth of a set of runs."""
    return {
        "max_rss_mb": Stats.of(samples["max_rss_mb"]).median,
        "peak_sum_mb": Stats.of(samples["peak_sum_mb"]).median,
        "jobs": int(Stats.of(samples["jobs"]).median),
        "new_cache_entries": int(Stats.of(samples["new_cache_entries"]).median),
    }


def workflow(repeats: int, quick: bool) -> Table:
    """`snakemake --cores 2` on the default config from a clean results dir, cold then warm."""
    config = bench_config(quick)
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for _ in range(repeats):
        cache = scratch("cache")
        try:
            for state in ("cold", "warm"):
                run, extra = run_workflow(config, 2, cache)
                _record(samples[state], run, extra)
                print(f"  workflow {state}: {run.wall:6.2f} s", flush=True)
        finally:
            remove(cache)
    warm = Stats.of(samples["warm"]["wall"]).median
    rows = []
    for state in ("cold", "warm"):
        wall = Stats.of(samples[state]["wall"])
        rows.append(
            {
                "cache": state,
                **wall.columns("wall_s"),
                "x_warm": wall.median / warm,
                **_memory_and_jobs(samples[state]),
                "limit_s": WORKFLOW_LIMIT if state == "warm" else float("nan"),
                "verdict": verdict(wall.median, WORKFLOW_LIMIT) if state == "warm" else "",
            }
        )
    notes = [
        f"median of {repeats} runs of `snakemake --cores 2`, each in a new directory",
        "max_rss_mb: largest single process (/usr/bin/time -v); peak_sum_mb: largest sum over "
        "the process tree, polled every 0.1 s (psutil)",
    ]
    if quick:
        notes.append("--quick: smaller settings than the default config (smoke run)")
    return Table("workflow", "Whole workflow (--cores 2)", rows, notes=notes)


def sweep_config(
    path: Path | None, quick: bool, seeds: int | None = None
) -> tuple[dict[str, Any], str]:
    """The sweep's config (merged over the default config, only its first `seeds` seeds if
    given) and a note on where it came from."""
    path = path or (SWEEP_CONFIG if SWEEP_CONFIG.exists() else None)
    if path is not None:
        config, source = merged(load_config(), load_config(path)), str(path.relative_to(REPO))
    else:
        config, source = load_config() | {"datasets": INLINE_DATASETS}, "inline 2 noise x 2 seeds"
    if seeds:
        config["datasets"]["seeds"] = config["datasets"]["seeds"][:seeds]
        source += f", its first {seeds} seeds"
    if quick:
        config = merged(config, QUICK_OVERLAY)
        datasets = config["datasets"]
        config["datasets"] |= {k: datasets[k][:QUICK_MAX] for k in ("sigma_noise", "seeds")}
        source += f", --quick: at most {QUICK_MAX} noise x {QUICK_MAX} seeds, quick settings"
    return config, source


def sweep(path: Path | None, repeats: int, quick: bool, seeds: int | None = None) -> Table:
    """Datasets per minute of a sweep on 1 and 2 cores (warm cache), and the speed-up."""
    config, source = sweep_config(path, quick, seeds)
    datasets = len(config["datasets"]["sigma_noise"]) * len(config["datasets"]["seeds"])
    first_seed = merged(config, {"datasets": {"seeds": config["datasets"]["seeds"][:1]}})
    samples: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    cache = scratch("cache")
    try:
        warmup, _ = run_workflow(first_seed, 2, cache)  # every program, once per noise level
        print(f"  sweep warm-up (cold cache, first seed): {warmup.wall:6.2f} s", flush=True)
        for _ in range(repeats):
            for cores in (1, 2):
                run, extra = run_workflow(config, cores, cache)
                _record(samples[cores], run, extra)
                print(f"  sweep --cores {cores}: {run.wall:6.2f} s", flush=True)
    finally:
        remove(cache)
    one_core = Stats.of(samples[1]["wall"]).median
    rows = []
    for cores in (1, 2):
        wall = Stats.of(samples[cores]["wall"])
        rows.append(
            {
                "cores": cores,
                "datasets": datasets,
                **wall.columns("wall_s"),
                "datasets_per_min": 60 * datasets / wall.median,
                "datasets_per_min_min": 60 * datasets / wall.max,
                "datasets_per_min_max": 60 * datasets / wall.min,
                "speedup_vs_1_core": one_core / wall.median,
                **_memory_and_jobs(samples[cores]),
            }
        )
    notes = [
        f"sweep config: {source}",
        f"median of {repeats} run(s) per core count (the sweep takes fewer repeats than the rest)",
        f"warm cache: a warm-up run on the first seed of each noise level took {warmup.wall:.1f} s "
        "(cold cache); new_cache_entries shows whether the measured runs still compiled",
    ]
    columns = [
        "cores", "datasets", "wall_s", "wall_s_min", "wall_s_max", "datasets_per_min",
        "speedup_vs_1_core", "max_rss_mb", "peak_sum_mb", "jobs", "new_cache_entries",
    ]  # fmt: skip
    return Table("sweep", "Sweep throughput (warm cache)", rows, columns, notes)
