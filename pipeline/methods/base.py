"""What an inference method declares, once, in its module of this package (the registry is
pipeline.methods): the SBC R package's backends are the model. Everything else (the rules,
the fitting stages, summaries, compare, cost, SBC blocks, figures) iterates over the registry
and asks a method through these fields, never by its name.

A method fits a batch of datasets with one compiled program (a single dataset is a batch of
one) and returns arrays with a leading dataset axis; `fit` hides the method's own signature.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from pipeline.io.layouts import InferenceLayout

if TYPE_CHECKING:
    import xarray as xr

    from pipeline.inference.batching import Batching
    from pipeline.models.spec import Problem

Arrays = dict[str, np.ndarray]


class FitInput(NamedTuple):
    """What a method's fit gets for a batch: the problem, the flux (dataset, nu), one PRNG key
    per dataset (from the method's seed), each dataset's start in the model's parameter order
    (None for a method without one), the method's settings and the batching."""

    problem: Problem
    ys: np.ndarray
    keys: np.ndarray
    starts: np.ndarray | None
    settings: Any
    batching: Batching


class Evaluations(NamedTuple):
    """Model evaluations a fit made, warmup included, by what each computed."""

    value: float = 0.0
    gradient: float = 0.0
    hessian: float = 0.0


def single_chain(arrays: Arrays, names: tuple[str, ...]) -> np.ndarray:
    """Independent draws (dataset, draw) per parameter as (dataset, 1, draw, param)."""
    return np.stack([arrays[n] for n in names], axis=-1)[:, None]


def parameters(idata: Any) -> list[str]:
    """The model's parameters of an inference file, in the model's order."""
    return json.loads(idata.posterior.attrs["params"])


@dataclass(frozen=True, kw_only=True)
class Method:
    """An inference method: how it is named and drawn, its config section (the fields of
    `settings`, plus `seed` where `seeded`), what it starts from, its batched fit and how its
    result becomes files, draws, diagnostics and costs. The defaults describe an approximation
    (independent draws of a fitted distribution); a sampler declares its `effective_draws`, and
    an MCMC method its chains (`draws`, `independent_draws`)."""

    name: str  # the config's name, the file {name}.nc of a dataset, the SBC block file's
    label: str  # its name in figures and tables
    color: str  # its colour in every figure
    settings: type  # a NamedTuple: the config section's keys (seed aside)
    layout: InferenceLayout  # its dataset file
    fit: Callable[[FitInput, bool], tuple[Arrays, dict[str, float]]]  # (input, predictive)
    # the InferenceData groups of one dataset's file, besides posterior and observed_data:
    # (the dataset's arrays, nu, parameter names) -> {group: Dataset}
    groups: Callable[[Arrays, np.ndarray, tuple[str, ...]], dict[str, xr.Dataset]]
    # per-dataset diagnostics of a batch for a study's block files (names of sbc.DIAGNOSTICS)
    diagnostics: Callable[[Arrays, np.ndarray], Arrays]  # (arrays, draws) -> {name: values}
    evaluations: Callable[[Any], Evaluations]  # from its file (InferenceData)
    # problems its file shows for the posterior summary: (summary table, file, thresholds)
    summary_flags: Callable[[Any, Any, Any], Any] | None = None  # None: no summary table
    # its point estimate from its file, the model's parameters in order (None: posterior mean)
    point: Callable[[Any], np.ndarray] | None = None
    # the modules its fit runs (below pipeline/), imported by name when it fits: a rule that
    # fits lists them as code, while planning the workflow and checking a config need none
    runs: tuple[str, ...] = ()
    seeded: bool = True
    # where each dataset's start comes from: "adam" (the optimiser's end point, optimize.nc),
    # the name of another method (its posterior mode or mean), or None
    start: str | None = None
    # how many dispersed starts per dataset it takes from its start method, one per chain: that
    # method's first draws, so that r-hat can see a chain stuck where it began (None: one
    # start, the point estimate)
    dispersed_starts: Callable[[Any], int] | None = None
    independent_draws: bool = True  # its draws are ranked as they are (False: thinned)
    in_studies: bool = True  # fits blocks of a calibration study
    evidence: bool = False  # its file holds an evidence (group "evidence", log_Z)
    # settings that set how many threads its job needs (e.g. parallel chains)
    threads: Callable[[Mapping[str, Any]], int] = field(default=lambda settings: 1)
    # rules across its settings a schema cannot state: (settings, config key) -> problems
    settings_problems: Callable[[Mapping[str, Any], str], list[str]] = field(
        default=lambda settings, where: []
    )
    # each dataset's draws (dataset, chain, draw, param) from the batch's arrays
    draws: Callable[[Arrays, tuple[str, ...]], np.ndarray] = field(default=single_chain)
    # effective draws and what they count, from its file: (value, description); None: an
    # approximation, whose draws come from a fitted distribution, not from the posterior, so
    # that they are no effective draws of it (its accuracy is its distance from the reference)
    effective_draws: Callable[[Any], tuple[float, str]] | None = None
    # attributes of its posterior group: (the dataset's arrays, settings, parameter names)
    posterior_attrs: Callable[[Arrays, Any, tuple[str, ...]], dict[str, Any]] = field(
        default=lambda fit, settings, names: {}
    )
    # how many posterior draws it makes, from its settings (a study needs at least L)
    num_draws: Callable[[Any], int] = field(default=lambda settings: settings.num_draws)


def runtime(module: str, name: str) -> Any:
    """`name` from the package module `module` (e.g. "inference.batching"), imported when called:
    the module a method's `runs` lists."""
    return getattr(importlib.import_module(f"pipeline.{module}"), name)
