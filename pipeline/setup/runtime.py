"""Process set-up for JAX stages: thread limit, float precision and the shared compilation cache.

Call :func:`configure_jax` at the start of a stage, before any JAX computation: XLA sizes its
CPU thread pool and reads its cache settings when the backend starts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

DTYPES = ("float32", "float64")


def default_cache_dir() -> Path:
    """Directory of JAX's persistent compilation cache (env DIFFSPEC_JAX_CACHE_DIR overrides)."""
    if "DIFFSPEC_JAX_CACHE_DIR" in os.environ:
        return Path(os.environ["DIFFSPEC_JAX_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    return Path(xdg) / "diffspec" / "jax"


def configure_jax(threads: int = 1, dtype: str = "float32") -> None:
    """Limit XLA to `threads` CPU threads, set the float precision and enable the compile cache."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    cache = default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

    # XLA sizes its thread pool from the CPUs the process may use when the backend starts and
    # ignores the Eigen thread flags in jax 0.10; narrowing the affinity only while it starts
    # gives `threads` threads without pinning the job to particular cores afterwards.
    if not hasattr(os, "sched_getaffinity"):
        jax.devices()
        return
    cpus = sorted(os.sched_getaffinity(0))
    if threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])
        try:
            jax.devices()
        finally:
            os.sched_setaffinity(0, cpus)
    else:
        jax.devices()


# JAX's events for the phases of making a program: tracing, lowering, XLA (compile or cache load)
COMPILE_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "xla",
}


def union_seconds(spans: list[tuple[float, float]]) -> float:
    """Total length of the union of (start, end) intervals (overlapping events counted once)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


@contextlib.contextmanager
def compile_clock() -> Iterator[SimpleNamespace]:
    """Seconds JAX spends making programs inside the block (tracing, lowering, compiling or
    loading from the persistent cache), for code that compiles as it runs; `.seconds` is set
    when the block ends."""
    import jax.monitoring

    spans: list[tuple[float, float]] = []

    def listen(event: str, start: float, end: float, **_) -> None:
        if event in COMPILE_EVENTS:
            spans.append((start, end))

    clock = SimpleNamespace(seconds=0.0)
    jax.monitoring.register_event_time_span_listener(listen)
    try:
        yield clock
    finally:
        jax.monitoring.unregister_event_time_span_listener(listen)
        clock.seconds = union_seconds(spans)
