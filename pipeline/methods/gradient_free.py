"""A gradient-free MCMC baseline: numpyro's SA sampler, each chain started at a Laplace draw."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pipeline.io.layouts import InferenceLayout
from pipeline.methods.base import Evaluations, Method, runtime
from pipeline.methods.common import Y, bulk_ess, chain_draws, mcmc_flags


class GradientFreeSettings(NamedTuple):
    """SA's iterations per chain, chains (vectorised) and the thinning of the kept draws."""

    num_warmup: int
    num_samples: int
    num_chains: int
    thinning: int


def value_evaluations(settings: GradientFreeSettings, num_params: int) -> int:
    """Log-density evaluations of a fit, warmup included: per chain, SA's start (one) and its
    population of 2 x num_params points (one each), then one proposal per iteration."""
    per_chain = 1 + 2 * num_params + settings.num_warmup + settings.num_samples
    return settings.num_chains * per_chain


LAYOUT = InferenceLayout(
    filename="gradient_free.nc",
    description="Gradient-free MCMC (numpyro SA, dense mass) posterior, ArviZ layout.",
    groups={
        "posterior": {},
        "sample_stats": {"accept_prob": "acceptance probability of the proposal"},
        "observed_data": Y,
    },
    posterior_attrs={"value_evaluations": "log-density evaluations, warmup included"},
)


def _fit(x, predictive):
    fit_gradient_free = runtime("inference.gradient_free", "fit_gradient_free")
    return fit_gradient_free(x.problem, x.ys, x.starts, x.keys, x.settings, x.batching)


def _groups(fit: dict, nu: np.ndarray, names: tuple[str, ...]) -> dict:
    from pipeline.io.files import draws_group

    return {"sample_stats": draws_group({"accept_prob": fit["accept_prob"]})}


def _diagnostics(fit: dict, draws: np.ndarray) -> dict:
    convergence = runtime("analysis.summary", "convergence")
    return convergence(draws)


def _settings_problems(settings, where: str) -> list[str]:
    if settings["num_samples"] // settings["thinning"] < 8:
        return [f"{where}.num_samples = {settings['num_samples']}, {where}.thinning = "
                f"{settings['thinning']}: at least 8 draws per chain must be kept (the split "
                "r-hat of a chain needs them)"]  # fmt: skip
    return []


METHOD = Method(
    runs=("inference.gradient_free", "analysis.summary"),
    name="gradient_free",
    label="SA (gradient-free)",
    color="C4",
    settings=GradientFreeSettings,
    layout=LAYOUT,
    fit=_fit,
    draws=chain_draws,
    groups=_groups,
    posterior_attrs=lambda fit, settings, names: {
        "value_evaluations": value_evaluations(settings, len(names))
    },
    diagnostics=_diagnostics,
    evaluations=lambda idata: Evaluations(value=int(idata.posterior.attrs["value_evaluations"])),
    effective_draws=bulk_ess,
    summary_flags=mcmc_flags,
    independent_draws=False,
    start="laplace",
    dispersed_starts=lambda s: s.num_chains,
    settings_problems=_settings_problems,
    num_draws=lambda s: s.num_chains * (s.num_samples // s.thinning),
)
