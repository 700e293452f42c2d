"""Where the time of the nuts, svi and figure stages goes, warm cache: phases, imports, cProfile.

The nuts and svi stages are the generic fit stage (`python -m pipeline.stages.fit ENTRY`) of
those entries. For each stage, three runs after the cache is warm: benchmarks.driver (phases,
unprofiled), `python -X importtime` of its modules (slowest packages) and the real CLI under
cProfile (top cumulative entries; the .prof file is kept for snakeviz). Writes
profile_<stage>.txt.
"""

from __future__ import annotations

import json
import pstats
import re
from pathlib import Path
from typing import Any

from benchmarks.common import (
    OUT,
    PYTHON,
    CommandFailed,
    Table,
    jax_env,
    remove,
    run_command,
    scratch,
)
from benchmarks.stages import (
    BY_NAME,
    Stage,
    cli_args,
    driver_command,
    import_command,
    phase_timer_seconds,
    prepare,
)

PROFILED = ("nuts", "svi", "figure_fit", "figure_posterior")
TOP = 10
# cProfile entries that only carry the run: module execution and the import machinery's inner
# steps (its outermost, _find_and_load, stays: it is the time spent importing)
PLUMBING = re.compile(
    "|".join(
        (
            r"runpy",
            r"builtins\.exec",
            r"^<string>:",
            r"<frozen importlib\._bootstrap(_external)?>:\d+\((?!_find_and_load\))",
        )
    )
)


def slowest_imports(stderr: str, top: int = 8) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import seconds, from `python -X importtime` output."""
    found = {}
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and "." not in match.group(3):
            found.setdefault(match.group(3), int(match.group(1)) / 1e6)
    return sorted(found.items(), key=lambda item: -item[1])[:top]


def _where(key: tuple[str, int, str]) -> str:
    """'package/module.py:line(function)' with site-packages and checkout prefixes removed."""
    path, line, func = key
    path = re.sub(r".*/(site-packages|work/main)/", "", path)
    return f"{path}:{line}({func})" if line else func


def top_entries(stats: pstats.Stats, column: int, top: int = TOP) -> list[str]:
    """The `top` entries of a profile by cumulative (column 3) or own (2) time, less plumbing."""
    entries = sorted(stats.stats.items(), key=lambda item: -item[1][column])
    lines = [f"{'cumulative s':>12s} {'own s':>8s} {'calls':>8s}  function"]
    for key, (_, calls, own, cumulative, _) in entries:
        where = _where(key)
        if not PLUMBING.search(where):
            lines.append(f"{cumulative:12.3f} {own:8.3f} {calls:8d}  {where}")
        if len(lines) > top:
            break
    return lines


def where_time_goes(wall: float, phases: dict[str, Any], extra: dict[str, float]) -> list[str]:
    """The driver's phases as a breakdown of the stage's wall time."""
    rows = [
        ("process wall (driver run)", wall),
        ("interpreter start and exit", wall - phases["in_process"]),
        ("imports", phases["imports"]),
        ("JAX backend start (configure_jax)", phases["backend_start"]),
        ("NetCDF/CSV read", phases["read"]),
        ("NetCDF/CSV write", phases["write"]),
        ("JAX tracing", phases["trace"]),
        ("JAX lowering to MLIR", phases["lower"]),
        ("XLA compile or persistent-cache load", phases["xla"]),
        ("compute (rest of main)", phases["compute"]),
        ("  of which figure render+PNG write", phases["save_png"]),
    ]
    lines = [f"  {name:40s} {seconds:7.3f} s" for name, seconds in rows]
    lines.append(
        f"  {phases['n_compiles']} XLA programs: {phases['cache_hits']} persistent-cache hits, "
        f"{phases['cache_misses']} misses (overlaps of nested spans counted once)"
    )
    lines += [f"  PhaseTimer {name}: {seconds:.3f} s" for name, seconds in extra.items()]
    return lines


def profile_stage(stage: Stage, workdir: Path, quick: bool, cache: Path) -> dict[str, Any]:
    """Profile one stage (warm cache); write profile_<stage>.txt and .prof; return its phases."""
    env = jax_env(cache)
    log = workdir / f"profile_{stage.name}.log"
    json_out = workdir / f"{stage.name}.json"
    driver = run_command(driver_command(stage, workdir, quick, json_out), env=env, log=log)
    phases = json.loads(json_out.read_text())
    extra = {}
    if stage.entry is not None:  # a fit: its file's compile and run seconds
        extra = phase_timer_seconds(workdir / f"{stage.entry}.nc")

    importtime = [PYTHON, "-X", "importtime", *import_command(stage)[1:]]
    run_command(importtime, env=env, log=log)
    imports = slowest_imports(log.read_text())

    prof = OUT / f"profile_{stage.name}.prof"
    cmd = [PYTHON, "-m", "cProfile", "-o", str(prof), "-m", stage.module]
    profiled = run_command([*cmd, *cli_args(stage.name, workdir, quick)], env=env, log=log)
    stats = pstats.Stats(str(prof))

    text = [
        f"Profile of stage {stage.name} (warm JAX cache{', --quick settings' if quick else ''})",
        f"command: python -m {stage.module} {' '.join(cli_args(stage.name, workdir, quick))}",
        "",
        "Where the wall time goes (benchmarks.driver, not profiled):",
        *where_time_goes(driver.wall, phases, extra),
        "",
        "Slowest imports (python -X importtime; cumulative, so a package includes what it "
        "imports first):",
        *(f"  {name:20s} {seconds:7.3f} s" for name, seconds in imports),
        "",
        f"Top {TOP} cumulative entries (cProfile; {profiled.wall:.2f} s wall profiled vs "
        f"{driver.wall:.2f} s unprofiled; {prof.name} for snakeviz):",
        *top_entries(stats, 3),
        "",
        f"Top {TOP} by own time (cProfile):",
        *top_entries(stats, 2),
    ]
    path = OUT / f"profile_{stage.name}.txt"
    path.write_text("\n".join(text) + "\n")
    print(f"  wrote {path}", flush=True)
    return {"stage": stage.name, "wall_s": driver.wall, **phases, **extra}


def run(quick: bool, only: list[str] | None = None) -> Table:
    """Profile the PROFILED stages (or those of them in `only`) and tabulate their phases."""
    names = [n for n in PROFILED if not only or n in only]
    workdir, cache = scratch("profile"), scratch("cache")
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        prepare(workdir, quick, cache)  # inputs, and a warm cache for nuts and svi
        rows, failed = [], []
        for name in names:
            try:
                rows.append(profile_stage(BY_NAME[name], workdir, quick, cache))
            except CommandFailed as err:  # e.g. a stage being edited: profile the others
                print(f"  {name} failed: {err}", flush=True)
                failed.append(f"FAILED {name}: {str(err).splitlines()[0]}")
    finally:
        remove(workdir)
        remove(cache)
    columns = [
        "stage", "wall_s", "imports", "backend_start", "read", "write", "trace", "lower", "xla",
        "compute", "save_png", "n_compiles", "cache_hits",
    ]  # fmt: skip
    notes = ["one warm-cache run each (seconds); details in profile_<stage>.txt", *failed]
    return Table("profile", "Profiles: where the time goes (warm cache)", rows, columns, notes)
