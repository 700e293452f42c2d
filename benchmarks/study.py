"""Benchmarks of the studies: batched fitting against its floor, the SBC study's wall time, and
the workflow's tutorial target against the tutorial run as one plain script."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from benchmarks.common import (
    PYTHON,
    QUICK_OVERLAY,
    REPO,
    Stats,
    Table,
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

AMORTISED_LIMIT = 1.3  # block / alone, per method
TUTORIAL_LIMIT = 0.35  # workflow's tutorial target / tutorial script, warm cache
SBC_LIMIT = 12 * 60.0  # seconds, the shipped 1000-dataset study on 2 cores


def batching(repeats: int, quick: bool) -> Table:
    """benchmarks.batching in a fresh process: seconds per dataset alone, in a block, vmapped."""
    workdir = scratch("batching")
    try:
        out = workdir / "batching.json"
        cmd = [PYTHON, "-m", "benchmarks.batching", "--json", str(out), "--repeats", str(repeats)]
        run_command(cmd + (["--quick"] if quick else []), env=jax_env(workdir / "cache"),
                    cwd=REPO, log=workdir / "log")  # fmt: skip
        result = json.loads(out.read_text())
    finally:
        remove(workdir)
    rows = []
    for method, ways in result["seconds"].items():
        alone = Stats.of(ways["alone"])
        row: dict[str, Any] = {"method": method, **alone.columns("alone_s")}
        for way in ("block", "vmap"):
            row |= Stats.of(ways[way]).columns(f"{way}_s")
            ratios = [b / a for b, a in zip(ways[way], ways["alone"], strict=True)]
            row |= Stats.of(ratios).columns(f"{way}_x_alone")
        row["limit"] = AMORTISED_LIMIT
        row["verdict"] = verdict(row["block_x_alone"], AMORTISED_LIMIT)
        rows.append(row)
    notes = [
        f"{result['datasets']} datasets from the prior (as the SBC study draws them), one process, "
        f"1 thread; seconds per dataset, compile excluded; median of {repeats} [min, max]",
        "alone: one call per dataset of a compiled batch-of-one program (the in-process floor); "
        f"block: calls of {result['per_call']} datasets through jax.lax.map (the CPU default); "
        "vmap: the same calls vectorised (vmap_width = per_call, the accelerator default)",
    ]
    columns = ["method", "alone_s", "block_s", "block_x_alone", "vmap_s", "vmap_x_alone",
               "limit", "verdict"]  # fmt: skip
    return Table("batching", "Batched fitting against the floor (seconds per dataset)", rows,
                 columns, notes)  # fmt: skip


def tutorial(repeats: int, quick: bool) -> Table:
    """`snakemake --cores 2 tutorial` against benchmarks.tutorial_script, alternated, warm cache."""
    cache = scratch("cache")
    config = load_config() if not quick else merged(load_config(), QUICK_OVERLAY)
    samples: dict[str, list[float]] = defaultdict(list)
    try:
        for repeat in range(repeats + 1):  # the first round fills the cache, and is not counted
            for name in ("script", "workflow"):
                workdir = scratch(name)
                try:
                    if name == "script":
                        cmd = [PYTHON, "-m", "benchmarks.tutorial_script", str(workdir / "out")]
                        run = run_command(cmd, env=jax_env(cache), cwd=REPO, log=workdir / "log")
                    else:
                        write_config(workdir, config)
                        cmd = [*snakemake_command(workdir, 2), "tutorial"]
                        run = run_command(cmd, env=jax_env(cache), cwd=workdir,
                                          log=workdir / "log")  # fmt: skip
                finally:
                    remove(workdir)
                if repeat:
                    samples[name].append(run.wall)
                print(f"  tutorial {name}: {run.wall:6.2f} s", flush=True)
    finally:
        remove(cache)
    script, workflow = Stats.of(samples["script"]), Stats.of(samples["workflow"])
    ratios = Stats.of(w / s for w, s in zip(samples["workflow"], samples["script"], strict=True))
    row = {
        **script.columns("script_s"), **workflow.columns("workflow_s"),
        **ratios.columns("workflow_x_script"), "limit": TUTORIAL_LIMIT,
        "verdict": verdict(ratios.median, TUTORIAL_LIMIT),
    }  # fmt: skip
    notes = [
        f"median of {repeats} alternated pairs after a round that filled the JAX cache; each in "
        "a new directory. script: the tutorial's steps as one Python script "
        "(benchmarks/tutorial_script.py, 1 process); workflow: `snakemake --cores 2 tutorial` "
        "(data, chi^2 map, optimisation, NUTS, SVI, their posterior summaries, the ten figures)",
    ]
    if quick:
        notes.append("--quick: the workflow runs the quick config, the script the tutorial's own")
    columns = ["script_s", "workflow_s", "workflow_x_script", "workflow_x_script_min",
               "workflow_x_script_max", "limit", "verdict"]  # fmt: skip
    return Table("tutorial", "Tutorial target against the tutorial script", [row], columns, notes)


def sbc(quick: bool) -> Table:
    """The shipped SBC study (config/sbc.yaml) from scratch, empty JAX cache, on 2 cores."""
    config = merged(load_config(), load_config(REPO / "config" / "sbc.yaml"))
    if quick:
        config = merged(config, QUICK_OVERLAY)
        config["study"] |= {"num_datasets": 40, "block_size": 20}
    workdir, cache = scratch("sbc"), scratch("cache")
    try:
        write_config(workdir, config)
        run = run_command(snakemake_command(workdir, 2), env=jax_env(cache), cwd=workdir,
                          log=workdir / "snakemake.log", poll_tree=True)  # fmt: skip
        fits = list((workdir / "results/sbc/blocks").glob("*/benchmarks/*.tsv"))
        per_method: dict[str, float] = defaultdict(float)
        for path in fits:
            lines = path.read_text().splitlines()
            per_method[path.stem] += float(lines[1].split("\t")[0])
    finally:
        remove(workdir)
        remove(cache)
    n = config["study"]["num_datasets"]
    row = {
        "datasets": n, "block_size": config["study"]["block_size"], "wall_s": run.wall,
        "datasets_per_min": 60 * n / run.wall, "max_rss_mb": run.max_rss_mb,
        **{f"{m}_job_s_per_dataset": s / n for m, s in sorted(per_method.items())},
        "limit_s": SBC_LIMIT if not quick else float("nan"),
        "verdict": verdict(run.wall, SBC_LIMIT) if not quick else "",
    }  # fmt: skip
    notes = [
        "`snakemake --cores 2 --configfile config/sbc.yaml` in a new directory, empty JAX cache; "
        "<method>_job_s_per_dataset: the wall seconds of the method's block jobs (Snakemake "
        "benchmark files, 2 jobs side by side) over the datasets"
    ]
    if quick:
        notes.append("--quick: 40 datasets in blocks of 20, quick sampler settings")
    return Table("sbc", "SBC study wall time", [row], notes=notes)
