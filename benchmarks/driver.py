"""Run one stage's real main() with timers around its imports, I/O and JAX compilations.

python -m benchmarks.driver --json OUT [--import MODULE ...] pipeline.stages.NAME [ARGS ...]

The stage runs as its command line does (the same main, the same arguments): the driver only
wraps the I/O functions of pipeline.io.files and pipeline.analysis.summary, configure_jax and
pipeline.plots.save in timers and listens to JAX's compile events, so the stage code stays
untouched. It writes the seconds of each phase as JSON:

imports (the stage module and --import modules), backend_start (configure_jax: XLA client and
cache set-up), read / write (NetCDF and CSV), compile (tracing, lowering and XLA compilation or
persistent-cache loads: the union of JAX's /jax/core/compile/ event spans, split into trace,
lower and xla), compute (the rest of main, including save_png for figures), n_compiles,
cache_hits, cache_misses, in_process (driver start to end).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.setup.runtime import COMPILE_EVENTS, union_seconds

# phase -> functions (module, name) timed as that phase, wherever a pipeline module imported them
WRAPPED: dict[str, list[tuple[str, str]]] = {
    "backend_start": [("pipeline.setup.runtime", "configure_jax")],
    "read": [("pipeline.io.files", "read_dataset"), ("pipeline.io.files", "read_inference")],
    "write": [
        ("pipeline.io.files", "write_dataset"),
        ("pipeline.io.files", "write_inference"),
        ("pipeline.analysis.summary", "write_csv"),
    ],
    "save_png": [("pipeline.plots.common", "save")],
}


class Recorder:
    """Seconds per phase, JAX compile spans and cache events of one stage run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.events: Counter[str] = Counter()
        self._depth = 0

    def timed(self, fn: Callable[..., Any], phase: str) -> Callable[..., Any]:
        """`fn` adding its wall time to `phase` (only the outermost of nested timed calls)."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            start = time.time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[phase] += time.time() - start
                self._depth -= 1

        return wrapper

    def install(self) -> None:
        """Wrap each WRAPPED function wherever a loaded pipeline module holds a reference to it."""
        modules = [m for n, m in sys.modules.items() if n.split(".")[0] == "pipeline"]
        for phase, targets in WRAPPED.items():
            for module_name, name in targets:
                if module_name not in sys.modules:
                    continue  # the stage doesn't use it
                original = getattr(sys.modules[module_name], name)
                wrapper = self.timed(original, phase)
                for module in modules:
                    if getattr(module, name, None) is original:
                        setattr(module, name, wrapper)

    def listen(self) -> None:
        """Record JAX compile spans and persistent-cache events (if the stage imported JAX)."""
        if "jax" not in sys.modules:
            return
        import jax.monitoring

        jax.monitoring.register_event_time_span_listener(self._on_span)
        jax.monitoring.register_event_listener(self._on_event)

    def _on_span(self, event: str, start: float, end: float, **_: Any) -> None:
        if event in COMPILE_EVENTS:
            self.spans[COMPILE_EVENTS[event]].append((start, end))

    def _on_event(self, event: str, **_: Any) -> None:
        self.events[event.rsplit("/", 1)[-1]] += 1

    def report(self, main_seconds: float) -> dict[str, float]:
        """The phase table: compute is what main spent outside I/O, backend start and compiling."""
        compile_seconds = union_seconds([s for spans in self.spans.values() for s in spans])
        outside = sum(self.seconds[p] for p in ("backend_start", "read", "write"))
        return {
            **{p: self.seconds[p] for p in WRAPPED},
            "main": main_seconds,
            "compile": compile_seconds,
            **{kind: union_seconds(self.spans[kind]) for kind in COMPILE_EVENTS.values()},
            "compute": max(0.0, main_seconds - outside - compile_seconds),
            "n_compiles": len(self.spans["xla"]),
            "cache_hits": self.events["cache_hits"],
            "cache_misses": self.events["cache_misses"],
        }


def main(argv: list[str] | None = None) -> None:
    """Command line: run one stage's main under the recorder and write the phases as JSON."""
    started = time.time()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", type=Path, required=True, help="where to write the phase seconds")
    p.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        help="module the stage imports lazily, imported (and timed) up front",
    )
    p.add_argument("module", help="the stage module, e.g. pipeline.stages.nuts")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the stage's arguments")
    args = p.parse_args(argv)

    recorder = Recorder()
    start = time.time()
    stage = importlib.import_module(args.module)
    for name in args.imports:
        importlib.import_module(name)
    recorder.seconds["imports"] = time.time() - start
    recorder.install()
    recorder.listen()

    start = time.time()
    stage.main(args.args)
    report = {"imports": recorder.seconds["imports"], **recorder.report(time.time() - start)}
    report["in_process"] = time.time() - started
    args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
