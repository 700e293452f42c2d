"""Run diffspec's benchmarks: results/benchmarks/<table>.csv and a markdown summary.md.

python -m benchmarks [--quick] [--only NAME ...] [--stage STAGE ...] [--repeats N]
                     [--sweep-config PATH] [--sweep-repeats N] [--sweep-seeds N]

Benchmarks: voigt (Voigt profile speed and accuracy), stages (each stage's CLI, cold and warm
JAX cache, wall time split into its parts, against the targets), workflow (the whole default
workflow on 2 cores, wall time and peak memory), tutorial (the `tutorial` target against the
tutorial as one plain script, side by side), batching (seconds per dataset of a fit inside a
block against the same fit alone), sbc (the shipped SBC study's wall time), sweep (datasets
per minute on 1 and 2 cores) and profile (where the nuts, svi and figure stages spend their
time). Each writes its tables as CSV and a markdown section; summary.md joins the sections of
every benchmark run so far.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import profiling, stages, study, workflow
from benchmarks.common import OUT, PYTHON, REPO, Table, machine

BENCHMARKS = ("voigt", "stages", "workflow", "tutorial", "batching", "sbc", "sweep", "profile")
VOIGT_COLUMNS = [
    "dtype", "n", "mode", "impl", "ns_per_point", "ns_min", "ns_max", "speedup_vs_scipy",
    "speedup_vs_jax_wofz", "max_rel_err_vs_scipy",
]  # fmt: skip


def _number(text: str) -> Any:
    """A CSV cell as int or float when it is one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def voigt(args: argparse.Namespace) -> list[Table]:
    """benchmarks/voigt.py as it is (it prints its table and writes voigt.csv itself)."""
    subprocess.run([PYTHON, "-m", "benchmarks.voigt", *(["--quick"] if args.quick else [])],
                   cwd=REPO, check=True)  # fmt: skip
    with (OUT / "voigt.csv").open() as fh:
        rows = [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(fh)]
    notes = ["benchmarks/voigt.py: per-call times of jitted functions (ns per point), its own "
             "repeats (9, or 3 with --quick), median [min, max]"]  # fmt: skip
    return [Table("voigt", "Voigt profile speed and accuracy", rows, VOIGT_COLUMNS, notes)]


RUNNERS: dict[str, Callable[[argparse.Namespace], list[Table]]] = {
    "voigt": voigt,
    "stages": lambda a: stages.run(a.repeats, a.quick, a.stage),
    "workflow": lambda a: [workflow.workflow(a.repeats, a.quick)],
    "tutorial": lambda a: [study.tutorial(a.repeats, a.quick)],
    "batching": lambda a: [study.batching(a.repeats, a.quick)],
    "sbc": lambda a: [study.sbc(a.quick)],
    "sweep": lambda a: [workflow.sweep(a.sweep_config, a.sweep_repeats, a.quick, a.sweep_seeds)],
    "profile": lambda a: [profiling.run(a.quick, a.stage)],
}


def write_summary() -> Path:
    """summary.md: the machine, then the section of every benchmark that has one, in order."""
    info = "\n".join(f"- {key}: {value}" for key, value in machine().items())
    sections = [OUT / f"{name}.md" for name in BENCHMARKS]
    body = "\n".join(p.read_text() for p in sections if p.exists())
    path = OUT / "summary.md"
    head = f"# diffspec benchmarks\n\nMachine, when this summary was written:\n\n{info}\n\n"
    path.write_text(head + body)
    return path


def run_one(name: str, args: argparse.Namespace, command: str) -> bool:
    """Run benchmark `name`, print and save its tables and markdown section; False if it failed."""
    print(f"== {name}", flush=True)
    start, load = time.perf_counter(), os.getloadavg()[0]
    try:
        tables = RUNNERS[name](args)
    except Exception:  # one failing benchmark (e.g. a stage being edited) must not stop the rest
        traceback.print_exc()
        return False
    minutes = (time.perf_counter() - start) / 60
    for table in tables:
        if name != "voigt":  # voigt.py wrote its own CSV
            table.write_csv()
        print(table.text(), flush=True)
    header = (
        f"## {name}\n\n`{command}`, {machine()['date']}, {minutes:.1f} min, "
        f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end\n\n"
    )
    (OUT / f"{name}.md").write_text(header + "\n".join(t.markdown() for t in tables) + "\n")
    return True


def main(argv: list[str] | None = None) -> None:
    """Command line: run the chosen benchmarks and write the summary."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--quick", action="store_true", help="smoke run: small settings, 1 repeat")
    p.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this (repeatable)")
    p.add_argument(
        "--stage",
        action="append",
        choices=[s.name for s in stages.STAGES],
        help="restrict the stages and profile benchmarks to this stage (repeatable)",
    )
    p.add_argument("--repeats", type=int, help="runs per measurement (default 5, --quick 1)")
    p.add_argument("--sweep-config", type=Path, help="sweep config (default config/sweep.yaml)")
    p.add_argument(
        "--sweep-repeats", type=int, default=1, help="runs per core count of the sweep (default 1)"
    )
    p.add_argument("--sweep-seeds", type=int, help="only the first N seeds of the sweep config")
    args = p.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 5)
    command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])

    OUT.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    failed = [name for name in args.only or BENCHMARKS if not run_one(name, args, command)]
    print(f"wrote {write_summary()} ({(time.perf_counter() - start) / 60:.1f} min)")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
