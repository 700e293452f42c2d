"""Nested sampling (jaxns 3): the posterior and the evidence, without gradients."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pipeline.io.layouts import InferenceLayout
from pipeline.methods.base import Evaluations, Method, runtime
from pipeline.methods.common import Y


class NestedSettings(NamedTuple):
    """jaxns's run: live points (root chains), its storage and stopping rules, draws kept."""

    num_live_points: int  # jaxns's root_allocation_degree
    max_samples: int  # hard maximum of dead points kept; reaching it ends the run unconverged
    dlogZ: float  # stop when the remaining evidence fraction L X / Z falls below this
    max_likelihood_evaluations: int  # budget: stop (unconverged) once a run has used it
    num_draws: int  # equal-weight posterior draws resampled from the weighted dead points


LAYOUT = InferenceLayout(
    filename="nested.nc",
    description=(
        "Nested sampling (jaxns) of one model: equal-weight posterior draws and the evidence, "
        "ArviZ layout."
    ),
    groups={
        "posterior": {},
        "observed_data": Y,
        "evidence": {
            "log_Z": "log evidence log p(y | model), natural log",
            "log_Z_uncert": "standard error of log_Z, jaxns's estimate",
            "information": "information H (KL divergence of posterior from prior), nats",
            "ess_kish": "Kish effective sample size of the weighted dead points",
            "num_likelihood_evaluations": "likelihood evaluations of the run (value only)",
            "num_dead_points": "dead points the run kept",
            "converged": "1 if the run met dlogZ within max_samples and its budget, else 0",
        },
    },
)


def _fit(x, predictive):
    fit_nested = runtime("inference.nested", "fit_nested")
    # jaxns's run is a Python loop around compiled epochs: datasets one after another
    return fit_nested(x.problem, x.ys, x.keys, x.settings)


def _groups(fit: dict, nu: np.ndarray, names: tuple[str, ...]) -> dict:
    import xarray as xr

    evidence_fields = runtime("inference.nested", "EVIDENCE_FIELDS")
    return {"evidence": xr.Dataset({name: ((), fit[name]) for name in evidence_fields})}


def _settings_problems(settings, where: str) -> list[str]:
    if settings["max_samples"] < 2 * settings["num_live_points"]:
        return [f"{where}.max_samples = {settings['max_samples']}, {where}.num_live_points = "
                f"{settings['num_live_points']}: the dead points kept must be at least twice "
                "the live points"]  # fmt: skip
    return []


METHOD = Method(
    runs=("inference.nested",),
    name="nested",
    label="nested sampling",
    color="C0",
    settings=NestedSettings,
    layout=LAYOUT,
    fit=_fit,
    groups=_groups,
    diagnostics=lambda fit, draws: {"converged": fit["converged"].astype(float)},
    evaluations=lambda idata: Evaluations(value=int(idata.evidence["num_likelihood_evaluations"])),
    effective_draws=lambda idata: (float(idata.evidence["ess_kish"]), "Kish ESS"),
    evidence=True,
    settings_problems=_settings_problems,
)
