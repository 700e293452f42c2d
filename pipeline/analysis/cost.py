"""What each method cost on one dataset: model evaluations, seconds and effective draws.

Evaluations are counted from each method's own record (warmup included): NUTS's leapfrog steps
(one value and gradient each), SVI's steps (one ELBO particle: one value and gradient), the
Laplace fit's Newton iterations (a value, gradient and Hessian each, plus the damped trial
steps as values), nested sampling's likelihood evaluations and SA's proposals (values). They
are put on one scale, the cost of one value evaluation, by the measured cost of a gradient and
of a Hessian relative to a value on the same data (`evaluation_seconds`).
"""

from __future__ import annotations

import time
from typing import Any

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np

from pipeline.inference.laplace import DAMPING
from pipeline.inference.model import Priors, log_joint
from pipeline.io.layouts import PARAMS
from pipeline.physics.forward import Line

EVALUATIONS = ("value", "gradient", "hessian")  # what one evaluation computes


def evaluation_seconds(
    line: Line, priors: Priors, y: jax.Array, theta: jax.Array, repeats: int = 11, points: int = 500
) -> dict[str, float]:
    """Seconds of one evaluation of the log density near `theta`, as inside a sampler's
    compiled loop: the value alone, the value with its gradient, and the Hessian. Each is
    timed over `points` nearby points in one compiled `lax.map` (so that the per-call dispatch,
    ~10 us, which no sampler pays per evaluation, does not count); median of `repeats`."""

    def value(t):
        return log_joint(line, priors, y, t)

    functions = {
        "value": value,
        "gradient": jax.value_and_grad(value),
        "hessian": jax.hessian(value),
    }
    offsets = np.random.default_rng(0).normal(0.0, 1e-4, (points, len(PARAMS)))
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


def evaluations(kind: str, fit: Any, compare_draws: int) -> dict[str, float]:
    """A method's model evaluations by kind, its compile and run seconds and its effective
    draws: multi-chain bulk ESS (minimum over parameters) for MCMC, Kish's ESS for nested
    sampling, the number of independent draws for SVI and Laplace."""
    count = dict.fromkeys(EVALUATIONS, 0.0)
    attrs = fit.attrs if kind == "laplace" else fit.posterior.attrs
    if kind == "laplace":
        iterations = int(attrs["iterations"])
        count["value"] = len(DAMPING) * iterations  # the damped trial steps
        count["gradient"] = count["hessian"] = iterations + 1  # each step, and at the mode
        ess, ess_kind = compare_draws, "independent draws"
    elif kind == "svi":
        count["gradient"] = fit.optimization["loss"].size
        ess, ess_kind = fit.posterior["logN"].size, "independent draws"
    elif kind == "nested":
        count["value"] = int(fit.evidence["num_likelihood_evaluations"])
        ess, ess_kind = float(fit.evidence["ess_kish"]), "Kish ESS"
    else:  # the MCMC samplers
        if kind == "nuts":
            steps = int(attrs["warmup_leapfrog_steps"]) + int(fit.sample_stats["n_steps"].sum())
            count["gradient"] = steps
        else:
            count["value"] = int(attrs["value_evaluations"])
        ess_bulk = az.ess(fit.posterior[list(PARAMS)], method="bulk")
        ess, ess_kind = min(float(ess_bulk[p]) for p in PARAMS), "bulk ESS, all chains"
    return {
        **{f"{name}_evaluations": n for name, n in count.items()},
        "compile_seconds": float(attrs["compile_seconds"]),
        "run_seconds": float(attrs["run_seconds"]),
        "min_ess": float(ess),
        "ess_kind": ess_kind,
    }


def cost_rows(
    fits: dict[str, Any], compare: Any, seconds: dict[str, float]
) -> dict[str, np.ndarray]:
    """The cost layout's variables (dims inference): every method's counts, seconds, ESS per
    second and per 1000 value-equivalents, and its distance from NUTS (from compare.nc)."""
    compare_draws = int(fits["nuts"].posterior["logN"].size)
    rows = {kind: evaluations(kind, fits[kind], compare_draws) for kind in fits}
    ratio = {name: seconds[name] / seconds["value"] for name in EVALUATIONS}
    columns: dict[str, list] = {}
    for kind, row in rows.items():
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
