"""What each method cost on one dataset: model evaluations, seconds and effective draws.

Evaluations are counted from each method's own record, warmup included (its module in
pipeline.methods says how). They are put on one scale, the cost of one value evaluation, by
the measured cost of a gradient and of a Hessian relative to a value on the same data
(`evaluation_seconds`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pipeline.models.spec import Problem

EVALUATIONS = ("value", "gradient", "hessian")  # what one evaluation computes


def evaluation_seconds(
    problem: Problem, y: jax.Array, theta: np.ndarray, repeats: int = 11, points: int = 500
) -> dict[str, float]:
    """Seconds of one evaluation of the log density near `theta` (the model's parameters in
    order), as inside a sampler's compiled loop: the value alone, the value with its
    gradient, and the Hessian. Each is timed over `points` nearby points in one compiled
    `lax.map` (so that the per-call dispatch, ~10 us, which no sampler pays per evaluation,
    does not count); median of `repeats`."""
    model, line, priors = problem

    def value(t):
        return model.log_joint(line, priors, y, model.named(t))

    functions = {
        "value": value,
        "gradient": jax.value_and_grad(value),
        "hessian": jax.hessian(value),
    }
    offsets = np.random.default_rng(0).normal(0.0, 1e-4, (points, len(model.names)))
    thetas = jnp.asarray(np.asarray(theta) + offsets * np.abs(np.asarray(theta)), dtype=y.dtype)
    seconds = {}
    for name, f in functions.items():
        program = jax.jit(lambda ts, f=f: jax.lax.map(f, ts))
        jax.block_until_ready(program(thetas))  # compile
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            jax.block_until_ready(program(thetas))
            timings.append((time.perf_counter() - start) / points)
        seconds[name] = float(np.median(timings))
    return seconds


def cost_rows(
    records: Mapping[str, Mapping[str, Any]], compare: Any, seconds: dict[str, float]
) -> dict[str, np.ndarray]:
    """The cost layout's variables (dims inference) from each method's record (its
    `{value,gradient,hessian}_evaluations`, `compile_seconds`, `run_seconds`, `min_ess`,
    `ess_kind`): value-equivalents, effective draws per second and per 1000 value-equivalents,
    and its distance from the reference (from compare.nc)."""
    ratio = {name: seconds[name] / seconds["value"] for name in EVALUATIONS}
    columns: dict[str, list] = {}
    for kind, record in records.items():
        row = dict(record)
        row["value_equivalents"] = sum(
            row[f"{name}_evaluations"] * ratio[name] for name in EVALUATIONS
        )
        row["ess_per_second"] = row["min_ess"] / row["run_seconds"]
        row["ess_per_1000_value_equivalents"] = 1000 * row["min_ess"] / row["value_equivalents"]
        row["energy_distance"] = float(compare["energy_distance"].sel(inference=kind))
        row["max_wasserstein"] = float(compare["wasserstein"].sel(inference=kind).max())
        for name, value in row.items():
            columns.setdefault(name, []).append(value)
    return {name: np.asarray(values) for name, values in columns.items()}
