"""Fitting a batch of datasets with one compiled program: a single dataset is a batch of one.

Each method's module of pipeline.inference writes `fit_one(item, *shared)` for one
dataset; run_batched maps it over the leading axis of the batch, in calls of `per_call`
datasets (a progress line after each): inside a call `jax.lax.map` fits them one after another
(on CPU nothing is gained by vectorising samplers whose trajectories differ in length) or
`vmap_width` at a time (on accelerators). With `vmap_width` 1 a dataset's result does not
depend on the batch it is fitted in.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Batching(NamedTuple):
    """How a batch of datasets is fitted: `per_call` datasets in each call of the compiled
    program (a progress line after each), `vmap_width` of them vectorised together (1: lax.map
    fits them one after another)."""

    per_call: int
    vmap_width: int


ONE_DATASET = Batching(per_call=1, vmap_width=1)


def resolve_vmap_width(setting: int | str, per_call: int) -> int:
    """`batching.vmap_width`: an integer, or "auto": 1 on CPU, the whole call on accelerators."""
    if setting != "auto":
        return int(setting)
    return 1 if jax.default_backend() == "cpu" else per_call


def run_batched(
    fit_one: Callable[..., Any],
    batch: Any,
    shared: tuple,
    batching: Batching,
    label: str,
) -> tuple[Any, dict[str, float]]:
    """`fit_one(item, *shared)` over the leading axis of the pytree `batch`, as numpy arrays.

    One program of `per_call` datasets is compiled (or loaded from the persistent cache) once,
    timed apart, then called until the batch is done; the last call is padded by repeating a
    dataset. Returns the outputs and the seconds: `compile_seconds`, `run_seconds` (the whole
    batch) and `run_seconds_per_dataset` (its amortised share).
    """
    size = jax.tree.leaves(batch)[0].shape[0]
    width = min(batching.per_call, size)
    calls = math.ceil(size / width)
    padded = jax.tree.map(lambda a: _pad(np.asarray(a), calls * width), batch)
    vmap_width = min(batching.vmap_width, width)

    def program(items, shared):
        return jax.lax.map(
            lambda item: fit_one(item, *shared),
            items,
            batch_size=vmap_width if vmap_width > 1 else None,
        )

    start = time.perf_counter()
    first = jax.tree.map(lambda a: a[:width], padded)
    compiled = jax.jit(program).lower(first, shared).compile()
    compile_seconds = time.perf_counter() - start
    _progress(f"{label}: compiled in {compile_seconds:.1f} s; fitting {size} datasets")

    start, outputs = time.perf_counter(), []
    for call in range(calls):
        items = jax.tree.map(lambda a, c=call: a[c * width : (c + 1) * width], padded)
        outputs.append(jax.device_get(compiled(items, shared)))
        done = min((call + 1) * width, size)
        elapsed = time.perf_counter() - start
        _progress(
            f"{label}: {done}/{size} datasets, {elapsed:.1f} s elapsed, "
            f"~{elapsed / done * (size - done):.0f} s left"
        )
    run_seconds = time.perf_counter() - start
    result = jax.tree.map(lambda *parts: np.concatenate(parts)[:size], *outputs)
    return result, {
        "compile_seconds": compile_seconds,
        "run_seconds": run_seconds,
        "run_seconds_per_dataset": run_seconds / size,
    }


def _pad(array: np.ndarray, length: int) -> np.ndarray:
    """`array` lengthened along its first axis to `length` by repeating its last item."""
    extra = length - array.shape[0]
    return np.concatenate([array, np.repeat(array[-1:], extra, axis=0)]) if extra else array


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def dataset_keys(seed: int, indices: np.ndarray | None = None) -> np.ndarray:
    """Raw PRNG keys, one per dataset: PRNGKey(seed) folded with each dataset's index, or
    PRNGKey(seed) itself (a batch of one) when `indices` is None, as the tutorial's fits use."""
    base = jax.random.PRNGKey(seed)
    if indices is None:
        return np.asarray(base)[None]
    return np.asarray(jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(indices)))
