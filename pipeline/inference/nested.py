"""Nested sampling (jaxns 3) of the model's posterior and evidence, on a batch of datasets.

jaxns brings its own prior language (TFP distributions through `jaxns.priors.Prior`): each
parameter's prior is built from the family its model declares (pipeline.models.spec), and the
likelihood is the model's own (`log_likelihood`, at the data's float precision). jaxns's run is
a Python loop around compiled depth epochs, so the datasets of a batch are sampled one after
another.

Importing jaxns switches `jax_enable_x64` on for the whole process, configures the root logger
and opens `application.log` in the working directory; `_jaxns` confines all three, and
fit_nested switches x64 on only while it samples (jaxns accumulates its weights in float64).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pipeline.models.spec import PRIOR_FAMILIES, Model, Problem
from pipeline.physics.forward import Line
from pipeline.setup.runtime import compile_clock

# what fit_nested reports per dataset, besides the draws
EVIDENCE_FIELDS = (
    "log_Z",
    "log_Z_uncert",
    "information",
    "ess_kish",
    "num_likelihood_evaluations",
    "num_dead_points",
    "converged",
)


def fit_nested(
    problem: Problem,
    ys: np.ndarray,
    keys: np.ndarray,
    settings: Any,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Nested sampling of each dataset (rows of `ys`), with its own key (rows of `keys`).

    Returns arrays with a leading dataset axis: the equal-weight draws of each parameter
    (dataset, draw) and EVIDENCE_FIELDS (dataset,); and the seconds: `compile_seconds`
    (tracing, compiling or loading from the persistent cache, measured from JAX's own events),
    `run_seconds` (the rest), `run_seconds_per_dataset`.
    """
    model, line, priors = problem
    out: dict[str, list] = {name: [] for name in (*model.names, *EVIDENCE_FIELDS)}
    wall = 0.0
    with _jaxns() as jaxns, compile_clock() as compiled:
        jaxns_model = jaxns.Model(prior_model=_prior_model(jaxns, model, priors))
        sampler = jaxns.NestedSampler(
            model=jaxns_model,
            root_allocation_degree=settings.num_live_points,
            max_samples=settings.max_samples,
            depth_condition=jaxns.DepthCondition(dlogZ=jnp.asarray(settings.dlogZ)),
        )
        for index, (y, key) in enumerate(zip(ys, keys, strict=True)):
            start = time.perf_counter()
            fit = _one(jaxns, sampler, model, line, y, key, settings)
            wall += time.perf_counter() - start
            for name, value in fit.items():
                out[name].append(value)
            _progress(index, len(ys), fit)
    seconds = {"compile_seconds": compiled.seconds, "run_seconds": wall - compiled.seconds}
    seconds["run_seconds_per_dataset"] = seconds["run_seconds"] / len(ys)
    return {name: np.stack(values) for name, values in out.items()}, seconds


def _one(jaxns, sampler, model: Model, line: Line, y, key, settings: Any):
    """One dataset's run, its evidence and equal-weight draws."""
    run_key, draw_key = jax.random.split(jnp.asarray(key))
    depth = sampler.depth_condition

    def goal(state) -> bool:  # jaxns's default goal, plus the likelihood budget
        over_budget = (
            int(state.total_num_likelihood_evaluations) >= settings.max_likelihood_evaluations
        )
        return int(state.goal_loop_iter) > 0 and (
            over_budget or bool(jaxns.depth_condition_reached(state, depth))
        )

    args = (line.nu, jnp.asarray([line.nu0, line.gamma, line.line_strength], y.dtype), y)
    state = sampler.run_until_goal(goal, key=run_key, args=args)
    # untrimmed: the same estimates and draws as trimmed (checked), but arrays of the buffer's
    # shape, not of this run's number of dead points, so a second dataset compiles nothing new
    result = state.to_result()
    evaluations = int(result.total_num_likelihood_evaluations)
    converged = (
        int(result.termination_reason) == 0
        and bool(jaxns.depth_condition_reached(state, depth))
        and evaluations < settings.max_likelihood_evaluations
    )
    draws = result.resample(settings.num_draws, key=draw_key).X_samples
    return {
        **{p: np.asarray(draws[p], dtype=y.dtype) for p in model.names},
        "log_Z": float(result.log_Z_mean),
        "log_Z_uncert": float(result.log_Z_uncert),
        "information": float(result.H_mean),
        "ess_kish": float(result.ess),
        "num_likelihood_evaluations": evaluations,
        "num_dead_points": int(result.total_num_samples),
        "converged": int(converged),
    }


def _prior_model(jaxns, model: Model, priors):
    """The model's priors in jaxns's language (each parameter's family, from float64
    hyperparameters: TFP priors built from Python floats would be float32), returning its
    log-likelihood."""

    def prior_model(nu, line_constants, y):
        theta = {}
        for p in model.params:
            hyper = {k: jnp.float64(v) for k, v in priors[p.name].items()}
            prior = PRIOR_FAMILIES[p.prior].tfp(jaxns.tfpd, hyper)
            theta[p.name] = jaxns.Prior(prior, name=p.name).realise().astype(y.dtype)
        line = Line(nu, *line_constants)
        return model.log_likelihood(line, y, theta).astype(jnp.float64)

    return prior_model


@contextlib.contextmanager
def _jaxns() -> Iterator[SimpleNamespace]:
    """jaxns's parts, with float64 on while they run and its import's side effects undone."""
    was_x64 = bool(jax.config.jax_enable_x64)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with (
            contextlib.chdir(tempfile.mkdtemp(prefix="diffspec-jaxns-")),  # its application.log
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore", UserWarning)  # "x64 is not enabled. Setting it now"
            import tensorflow_probability.substrates.jax as tfp
            from jaxns.core import NestedSampler, _depth_condition_reached
            from jaxns.depth_condition import DepthCondition
            from jaxns.model import Model
            from jaxns.priors import Prior
    finally:
        for logger in (root, logging.getLogger("jaxns")):
            for handler in list(logger.handlers):
                if isinstance(handler, logging.FileHandler):
                    logger.removeHandler(handler)
                    handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("jaxns").setLevel(logging.WARNING)
    jax.config.update("jax_enable_x64", True)
    try:
        yield SimpleNamespace(
            NestedSampler=NestedSampler,
            Model=Model,
            Prior=Prior,
            DepthCondition=DepthCondition,
            tfpd=tfp.distributions,
            # private in jaxns 3.0.0 (pinned): the test its own default goal makes
            depth_condition_reached=_depth_condition_reached,
        )
    finally:
        jax.config.update("jax_enable_x64", was_x64)


def _progress(index: int, total: int, fit: dict) -> None:
    print(
        f"nested: {index + 1}/{total} datasets, log Z {fit['log_Z']:.3f} ± "
        f"{fit['log_Z_uncert']:.3f}, {fit['num_likelihood_evaluations']} likelihood evaluations",
        file=sys.stderr,
        flush=True,
    )
