"""What the benchmarks share: timed subprocess runs, median/min/max, tables, configs, machine."""

from __future__ import annotations

import contextlib
import copy
import csv
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import yaml

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "results" / "benchmarks"
DEFAULT_CONFIG = REPO / "config" / "config.yaml"
TIME = Path("/usr/bin/time")
PYTHON = sys.executable
CACHE_ENV = "DIFFSPEC_JAX_CACHE_DIR"


class Stats(NamedTuple):
    """Median, minimum and maximum of repeated measurements."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, samples: Iterable[float]) -> Stats:
        """Stats of the samples (NaN when there are none)."""
        values = sorted(samples)
        if not values:
            return cls(float("nan"), float("nan"), float("nan"))
        n = len(values)
        mid = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
        return cls(mid, values[0], values[-1])

    def columns(self, name: str) -> dict[str, float]:
        """{name: median, name_min: min, name_max: max} for a table row."""
        return {name: self.median, f"{name}_min": self.min, f"{name}_max": self.max}


@dataclass
class Run:
    """One finished command: wall seconds, peak memory and where its output went."""

    wall: float
    max_rss_mb: float  # largest single process (the command or any descendant it waited for)
    peak_sum_mb: float  # largest summed RSS of the process tree seen by polling (NaN if not polled)
    log: Path | None


class CommandFailed(RuntimeError):
    """A benchmarked command exited with a non-zero status."""


class _TreeSampler(threading.Thread):
    """Poll the RSS of a process and its descendants; keep the largest sum seen."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_sum = pid, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for proc in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += proc.memory_info().rss
            self.peak_sum = max(self.peak_sum, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        """Stop polling and return the peak summed RSS in MB."""
        self._stop_event.set()
        self.join()
        return self.peak_sum / 2**20


def run_command(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    poll_tree: bool = False,
) -> Run:
    """Run `cmd` (output to `log`), timing its wall clock and measuring its peak memory.

    Max RSS is /usr/bin/time -v's (the largest process of the tree) when that program exists,
    else the kernel's rusage of the child; `poll_tree` also samples the tree's summed RSS (psutil).
    """
    with tempfile.NamedTemporaryFile(suffix=".time", delete=False) as fh:
        time_file = Path(fh.name)
    full = [str(TIME), "-v", "-o", str(time_file), *cmd] if TIME.exists() else list(cmd)
    try:
        with open(log or os.devnull, "w") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
            sampler = _TreeSampler(proc.pid) if poll_tree else None
            if sampler:
                sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak_sum = sampler.stop() if sampler else float("nan")
        max_rss_kb = _time_max_rss_kb(time_file) if TIME.exists() else usage.ru_maxrss
    finally:
        time_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-30:]) if log else ""
        raise CommandFailed(f"exit {proc.returncode}: {' '.join(cmd)}\n{tail}")
    return Run(wall, max_rss_kb / 1024, peak_sum, log)


def _time_max_rss_kb(path: Path) -> float:
    """'Maximum resident set size (kbytes)' from a /usr/bin/time -v report."""
    for line in path.read_text().splitlines():
        if "Maximum resident set size" in line:
            return float(line.rsplit(":", 1)[1])
    return float("nan")


def jax_env(cache_dir: Path) -> dict[str, str]:
    """A job's environment (checkout on PYTHONPATH, fixed hash seed), JAX's cache in `cache_dir`."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "0", CACHE_ENV: str(cache_dir)}


def scratch(prefix: str) -> Path:
    """A new empty temporary directory (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix=f"diffspec-bench-{prefix}-"))


def remove(path: Path) -> None:
    """Delete a scratch directory and everything in it."""
    shutil.rmtree(path, ignore_errors=True)


def load_config(path: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """A workflow config file as a dict."""
    return yaml.safe_load(path.read_text())


def merged(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated recursively with `overlay` (as Snakemake merges --configfile)."""
    result = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


# The default config shrunk for --quick smoke runs (the sizes of the tests' tiny config).
# the tests' tiny configuration, merged over the defaults: benchmarks --quick runs it too
QUICK_OVERLAY: dict[str, Any] = yaml.safe_load(
    (REPO / ".test" / "config" / "config.yaml").read_text()
)


def bench_config(quick: bool) -> dict[str, Any]:
    """The default config, shrunk by QUICK_OVERLAY when `quick`."""
    config = load_config()
    return merged(config, QUICK_OVERLAY) if quick else config


def write_config(workdir: Path, config: Mapping[str, Any]) -> None:
    """Write `config` as workdir/config/config.yaml, where the Snakefile reads it."""
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(dict(config)))


def snakemake_command(workdir: Path, cores: int) -> list[str]:
    """The repository's Snakefile run in `workdir` on `cores` cores."""
    snakefile = str(REPO / "Snakefile")
    return [PYTHON, "-m", "snakemake", "-s", snakefile, "-d", str(workdir), "--cores", str(cores)]


def verdict(value: float, limit: float) -> str:
    """'met' if value <= limit, else 'missed'."""
    return "met" if value <= limit else "missed"


def fmt(value: Any) -> str:
    """A table cell: floats to 3 significant digits, the rest as text."""
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _cells(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[list[str]]:
    return [[fmt(row.get(c, "")) for c in columns] for row in rows]


@dataclass
class Table:
    """A benchmark's result: rows (every column goes to CSV) and the columns shown in tables."""

    name: str
    title: str
    rows: list[dict[str, Any]]
    columns: list[str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def shown(self) -> list[str]:
        if self.columns:
            return self.columns
        return list(self.rows[0]) if self.rows else []

    def text(self) -> str:
        """Aligned plain-text table with its title and notes."""
        cells = _cells(self.rows, self.shown)
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(self.shown)]
        line = "  ".join(c.rjust(w) for c, w in zip(self.shown, widths, strict=True))
        body = ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
        return "\n".join([self.title, line, "-" * len(line), *body, *self.notes])

    def markdown(self) -> str:
        """Markdown table with its title and notes."""
        head = "| " + " | ".join(self.shown) + " |"
        rule = "|" + "|".join("---" for _ in self.shown) + "|"
        body = ["| " + " | ".join(r) + " |" for r in _cells(self.rows, self.shown)]
        notes = [f"- {n}" for n in self.notes]
        return "\n".join([f"### {self.title}", "", head, rule, *body, "", *notes]).rstrip() + "\n"

    def write_csv(self, out: Path = OUT) -> Path:
        """Write every column of every row to out/<name>.csv."""
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.name}.csv"
        fields = list(dict.fromkeys(k for row in self.rows for k in row))
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(self.rows)
        return path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, str]:
    """What the numbers were measured on: cores, CPU, versions, code revision, load, date."""
    versions = {}
    for package in ("jax", "jaxlib", "numpyro", "arviz", "snakemake"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    dirty = len(_git("status", "--porcelain").splitlines())
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        **versions,
        "git": f"{_git('rev-parse', '--short', 'HEAD')} ({dirty} uncommitted paths)",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", "unset"),
    }
