"""Wall time of every stage's real command line, cold and warm JAX cache, split into its parts.

Each stage runs as a subprocess (`python -m pipeline.stages.<name>`, the CLI's default settings,
which are the config's; a fit is `python -m pipeline.stages.fit ENTRY`, one stage per entry of
the config's `methods`; --quick passes the quick overlay's sections as `--config JSON`) on the
default dataset, first with an empty compilation cache (cold),
then again with the cache that run filled (warm). The parts come from separate runs in the same
conditions: `python -c "import <stage modules>"` (interpreter + imports) and benchmarks.driver
(backend start, compile, compute, NetCDF I/O); `other` is what the parts leave of the wall time.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    PYTHON,
    QUICK_OVERLAY,
    CommandFailed,
    Run,
    Stats,
    Table,
    bench_config,
    jax_env,
    load_config,
    remove,
    run_command,
    scratch,
    verdict,
)

# Targets on 2 cores with a warm cache, in seconds.
FIXED_OVERHEAD_LIMIT = 2.0
# the parts of a stage's wall time that don't grow with the problem (warm cache)
FIXED_PARTS = ("interp_imports", "backend_start", "compile")


@dataclass(frozen=True)
class Stage:
    """One benchmarked stage command: its module, the method entry it fits (the generic fit
    stage, `python -m pipeline.stages.fit ENTRY`) and the modules it imports lazily."""

    name: str
    module: str
    extra_imports: tuple[str, ...] = ()
    entry: str | None = None  # the config's method entry, for the fit stage

    @property
    def lazy_imports(self) -> tuple[str, ...]:
        """Modules imported after the stage's own: a fit's method modules (pipeline.methods
        imports the inference code only when a method fits: its `runs`), then extra ones."""
        runs = ()
        if self.entry is not None:
            runs = tuple(f"pipeline.{m}" for m in _default_variant(self.entry).method.runs)
        return (*runs, *self.extra_imports)

    @property
    def imports(self) -> tuple[str, ...]:
        """Every module the stage imports, up front or later."""
        return (self.module, *self.lazy_imports)


FIT = "pipeline.stages.fit"
# modules a fit's method imports inside its inference code (beyond its `runs`)
FIT_EXTRA_IMPORTS = {"nested": ("jaxns.core", "tensorflow_probability")}


def _default_variant(entry: str) -> Any:
    """The entry of the default config's `methods` called `entry` (pipeline.methods.Variant)."""
    from pipeline.methods import find

    config = load_config()
    return find(config["methods"], config, entry)


def _fit_stages() -> tuple[Stage, ...]:
    """One fit stage per entry of the default config's `methods` (a start before its user)."""
    from pipeline.methods import variants

    config = load_config()
    found = []
    for v in variants(config["methods"], config):
        extra = FIT_EXTRA_IMPORTS.get(v.method.name, ())
        found.append(Stage(v.name, FIT, extra, entry=v.name))
    return tuple(found)


STAGES = (
    Stage("data", "pipeline.stages.data"),
    Stage("chi2_map", "pipeline.stages.chi2_map"),
    Stage("optimize", "pipeline.stages.optimize"),
    *_fit_stages(),
    Stage("summary", "pipeline.stages.summary"),
    Stage("compare", "pipeline.stages.compare"),
    Stage("figure_fit", "pipeline.stages.figure", ("pipeline.plots.fit",)),
    Stage("figure_posterior", "pipeline.stages.figure", ("pipeline.plots.posterior",)),
)
BY_NAME = {s.name: s for s in STAGES}


@dataclass(frozen=True)
class Target:
    """A speed target: which stage, what is measured (a key of the stage's samples), the limit."""

    stage: str
    key: str
    description: str
    limit: float


TARGETS = (
    Target("nuts", "fit", "NUTS 1000+2000 with its predictive, compiled (run_seconds)", 3.0),
    Target("svi", "fit", "SVI 10 000 steps and 2000 draws, compiled (run_seconds)", 2.0),
    Target("chi2_map", "compile+compute", "chi2 map compile+compute (driver)", 1.0),
    Target("nested", "fit", "nested sampling (jaxns), compiled (run_seconds)", 5.0),
)


# the config sections each stage reads (its KEYS), besides a fit's method section: --quick
# passes the quick overlay's values of these as the stage's --config JSON
SECTIONS = {
    "data": ("line",),
    "chi2_map": ("line", "chi2_map"),
    "optimize": ("line", "optimize"),
    "summary": ("diagnostics",),
    "compare": ("diagnostics",),
    "figure_fit": ("figures",),
    "figure_posterior": ("figures",),
}


def start_file(entry: str) -> str | None:
    """The file a fit of `entry` starts from (optimize.nc, or its start entry's), or None."""
    from pipeline.methods import variants
    from pipeline.methods.config import start_of

    config = load_config()
    entries = variants(config["methods"], config)
    variant = next(v for v in entries if v.name == entry)
    if variant.method.start is None:
        return None
    if variant.method.start == "adam":
        return "optimize.nc"
    source = start_of(variant, entries)
    return f"{source.name if source else variant.method.start}.nc"


def cli_args(name: str, workdir: Path, quick: bool) -> list[str]:
    """Arguments of stage `name` in `workdir`: default settings, or the quick config's."""
    config = bench_config(quick)
    noise, seed = config["datasets"]["sigma_noise"][0], config["datasets"]["seeds"][0]

    def path(name: str) -> str:
        return str(workdir / name)

    data, nuts, svi = path("data.nc"), path("nuts.nc"), path("svi.nc")
    stage = BY_NAME[name]
    if stage.entry is not None:
        start = start_file(stage.entry)
        args = [stage.entry, "--data", data, *(["--start", path(start)] if start else []),
                "--out", path(f"{stage.entry}.nc")]  # fmt: skip
    else:
        args = {
            "data": ["--out", data, "--sigma-noise", str(noise), "--seed", str(seed)],
            "chi2_map": ["--data", data, "--out", path("chi2_map.nc")],
            "optimize": ["--data", data, "--out", path("optimize.nc")],
            # one posterior_summary job of the workflow: one entry's table
            "summary": ["--fits", f"nuts={nuts}", "--csv", f"nuts={path('nuts_summary.csv')}"],
            "compare": [
                "--fits", f"nuts={nuts}", f"svi={svi}", "--out", path("compare.nc"),
                "--csv", path("compare.csv"),
            ],
            "figure_fit": [
                "chi2_map", f"chi2_map={path('chi2_map.nc')}", "--out", path("fit.png"),
            ],
            "figure_posterior": [
                "nuts_vs_svi", f"data={data}", f"nuts={nuts}", f"svi={svi}",
                "--out", path("posterior.png"),
            ],
        }[name]  # fmt: skip
    return args + (quick_config(name) if quick else [])


def quick_config(name: str) -> list[str]:
    """`--config JSON`: the quick overlay's sections that stage `name` reads (a fit: the line
    and its method's section), which shrink it to the quick config's settings."""
    stage = BY_NAME[name]
    if stage.entry is not None:
        sections: tuple[str, ...] = ("line", _default_variant(stage.entry).method.name)
    else:
        sections = SECTIONS.get(name, ())
    given = {k: QUICK_OVERLAY[k] for k in sections if k in QUICK_OVERLAY}
    return ["--config", json.dumps(given)] if given else []


def stage_command(stage: Stage, workdir: Path, quick: bool) -> list[str]:
    """The stage's real command line."""
    return [PYTHON, "-m", stage.module, *cli_args(stage.name, workdir, quick)]


def driver_command(stage: Stage, workdir: Path, quick: bool, json_out: Path) -> list[str]:
    """The stage's main run under benchmarks.driver, writing its phase seconds to `json_out`."""
    lazy = [arg for module in stage.lazy_imports for arg in ("--import", module)]
    return [
        *(PYTHON, "-m", "benchmarks.driver", "--json", str(json_out), *lazy, stage.module),
        *cli_args(stage.name, workdir, quick),
    ]


def import_command(stage: Stage | None) -> list[str]:
    """Interpreter start plus the stage's imports (a bare interpreter for None), then the exit
    the stages take (pipeline.stages.cli.fast_exit), without the interpreter's teardown."""
    if stage is None:
        return [PYTHON, "-c", "pass"]
    code = f"import {', '.join(stage.imports)}; from pipeline.stages.cli import fast_exit"
    return [PYTHON, "-c", code + "; fast_exit()"]


def phase_timer_seconds(path: Path) -> dict[str, float]:
    """The timing attributes (`*_seconds`) of an ArviZ file's posterior group."""
    import netCDF4

    with netCDF4.Dataset(path) as ds:
        group = ds["posterior"]
        return {k: float(group.getncattr(k)) for k in group.ncattrs() if k.endswith("_seconds")}


def stage_samples(run: Run, stage: Stage, workdir: Path) -> dict[str, float]:
    """What one CLI run measured: wall, max RSS and the PhaseTimer phases it recorded."""
    sample = {"wall": run.wall, "max_rss_mb": run.max_rss_mb}
    if stage.entry is not None:  # every fit's file records its compile and run seconds
        seconds = phase_timer_seconds(workdir / f"{stage.entry}.nc")
        sample["fit"] = seconds["run_seconds"]
        sample["fit_compile"] = seconds["compile_seconds"]
    return sample


def driver_samples(path: Path) -> dict[str, float]:
    """The driver's phases, with I/O (read + write) and compile+compute summed."""
    phases = json.loads(path.read_text())
    return {
        **phases,
        "io": phases["read"] + phases["write"],
        "compile+compute": phases["compile"] + phases["compute"],
    }


Samples = dict[tuple[str, str], dict[str, list[float]]]  # (stage, cold|warm) -> key -> values


def _cold_then_warm(
    stage: Stage, kind: str, quick: bool, workdir: Path, samples: Samples, repeat: int
) -> None:
    """Run the stage's CLI or driver with an empty JAX cache, then again with that cache."""
    cache = scratch("cache")
    try:
        for state in ("cold", "warm"):
            json_out = workdir / f"{stage.name}.json"
            if kind == "cli":
                cmd = stage_command(stage, workdir, quick)
            else:
                cmd = driver_command(stage, workdir, quick, json_out)
            log = workdir / "logs" / f"{stage.name}_{kind}_{state}_{repeat}.log"
            run = run_command(cmd, env=jax_env(cache), cwd=workdir, log=log)
            if kind == "cli":
                values = stage_samples(run, stage, workdir)
            else:
                values = driver_samples(json_out)
            for key, value in values.items():
                samples[stage.name, state][key].append(value)
            print(f"  {stage.name:16s} {kind:6s} {state}: {run.wall:6.2f} s", flush=True)
    finally:
        remove(cache)


def measure(
    stages: list[Stage], repeats: int, quick: bool, workdir: Path
) -> tuple[Samples, dict[str, str]]:
    """Run every stage `repeats` times, cold then warm, as CLI, under the driver, and imports.

    Returns the samples and, for stages that failed (e.g. being edited), the first error line.
    """
    samples: Samples = defaultdict(lambda: defaultdict(list))
    failed: dict[str, str] = {}
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    for repeat in range(repeats):
        for stage in [s for s in stages if s.name not in failed]:
            try:
                for kind in ("cli", "driver"):
                    _cold_then_warm(stage, kind, quick, workdir, samples, repeat)
                wall = run_command(import_command(stage), env=jax_env(workdir), cwd=workdir).wall
            except CommandFailed as err:
                print(f"  {stage.name} failed: {err}", flush=True)
                failed[stage.name] = str(err).splitlines()[0]
                continue
            for state in ("cold", "warm"):
                samples[stage.name, state]["interp_imports"].append(wall)
        wall = run_command(import_command(None), cwd=workdir).wall
        samples["interpreter", "warm"]["interp_imports"].append(wall)
    return samples, failed


def stage_table(stages: list[Stage], samples: Samples, quick: bool) -> Table:
    """One row per stage and cache state: wall (median, min, max) and its parts (medians)."""
    rows = []
    for stage in stages:
        warm_wall = Stats.of(samples[stage.name, "warm"]["wall"]).median
        for state in ("cold", "warm"):
            s = {k: Stats.of(v) for k, v in samples[stage.name, state].items()}
            parts = ("interp_imports", "backend_start", "compile", "compute", "io")
            row: dict[str, Any] = {"stage": stage.name, "cache": state}
            row |= s["wall"].columns("wall_s")
            row["x_warm"] = s["wall"].median / warm_wall
            for part in parts:
                row |= s[part].columns(f"{part}_s")
            row["other_s"] = s["wall"].median - sum(s[p].median for p in parts)
            row["fixed_s"] = sum(s[p].median for p in FIXED_PARTS)
            for key in ("trace", "lower", "xla", "save_png", "fit", "fit_compile"):
                if key in s:
                    row |= s[key].columns(f"{key}_s")
            for key in ("n_compiles", "cache_hits", "max_rss_mb"):
                row[key] = s[key].median
            rows.append(row)
    interpreter = Stats.of(samples["interpreter", "warm"]["interp_imports"])
    notes = [
        f"median of {len(samples['interpreter', 'warm']['interp_imports'])} runs; "
        "wall [min, max] here, those of every part in the CSV",
        "parts are medians of separate runs in the same conditions: interp_imports from "
        '`python -c "import <stage modules>"`, the rest from benchmarks.driver; '
        "other = wall - parts; fixed = interp_imports + backend_start + compile",
        f"bare interpreter start+exit: {interpreter.median:.3f} s",
    ]
    if quick:
        notes.append("--quick: smaller settings than the default config (smoke run)")
    columns = [
        "stage", "cache", "wall_s", "wall_s_min", "wall_s_max", "x_warm", "interp_imports_s",
        "backend_start_s", "compile_s", "compute_s", "io_s", "other_s", "fixed_s", "n_compiles",
        "max_rss_mb",
    ]  # fmt: skip
    return Table("stages", "Stages: CLI wall seconds and their parts", rows, columns, notes)


def target_table(stages: list[Stage], samples: Samples, quick: bool) -> Table:
    """Each target with the measured median [min, max] (warm cache) and met/missed."""
    names = {s.name for s in stages}
    checks = [(t.stage, t.key, t.description, t.limit) for t in TARGETS if t.stage in names]
    checks += [
        (s.name, "fixed", f"{s.name} fixed overhead (interpreter, imports, backend, compile)",
         FIXED_OVERHEAD_LIMIT)
        for s in stages
    ]  # fmt: skip
    rows = []
    for stage, key, description, limit in checks:
        warm = samples[stage, "warm"]
        if key == "fixed":
            parts = [Stats.of(warm[p]) for p in FIXED_PARTS]
            stats = Stats(*(sum(part[i] for part in parts) for i in range(3)))
        else:
            stats = Stats.of(warm[key])
        rows.append(
            {
                "target": description,
                **stats.columns("seconds"),
                "limit_s": limit,
                "ratio": stats.median / limit,
                "verdict": verdict(stats.median, limit),
            }
        )
    notes = ["warm cache, default thread count of the CLIs (1); fixed min/max sums part minima"]
    if quick:
        notes.append("--quick: smaller settings, so only the fixed-overhead rows are comparable")
    return Table("stage_targets", "Stage targets (warm cache)", rows, notes=notes)


def prepare(workdir: Path, quick: bool, cache: Path) -> None:
    """Write the inputs of every stage in `workdir`, compiling into `cache`."""
    for name in ("data", "chi2_map", "optimize", "laplace", "nuts", "svi"):
        cmd = stage_command(BY_NAME[name], workdir, quick)
        run_command(cmd, env=jax_env(cache), cwd=workdir, log=workdir / f"prepare_{name}.log")


def run(repeats: int, quick: bool, only: list[str] | None = None) -> list[Table]:
    """Measure the stages (all, or those named in `only`) and return the stage and target tables."""
    stages = [BY_NAME[n] for n in only] if only else list(STAGES)
    workdir = scratch("stages")
    try:
        if only:  # the inputs any stage may need; a full run makes them in stage order
            prepare(workdir, quick, cache=workdir / "prepare_cache")
        samples, failed = measure(stages, repeats, quick, workdir)
    finally:
        remove(workdir)
    measured = [s for s in stages if s.name not in failed]
    tables = [stage_table(measured, samples, quick), target_table(measured, samples, quick)]
    tables[0].notes += [f"FAILED {name}: {error}" for name, error in failed.items()]
    return tables
