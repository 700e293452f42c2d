"""The files the stages exchange, declared once: every NetCDF layout (coordinates, variables,
units, meanings) and the checks a file must pass when it is written and when it is read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

# The model's parameters, and their units in every layout that stores them.
PARAMS = ("logN", "logbeta", "sigmain")
UNITS = {
    "logN": "log10(cm^-2)",
    "logbeta": "log10(cm^-1)",
    "sigmain": "1",
}
LONG_NAMES = {
    "logN": "log10 of the column density N",
    "logbeta": "log10 of the Gaussian standard deviation beta",
    "sigmain": "noise standard deviation, in transmission units",
}


class NetCDFInputError(ValueError):
    """A stage input is missing, unreadable or does not follow its declared layout."""


@dataclass(frozen=True)
class Var:
    """One coordinate or data variable: its dimensions, units and long name, and whether its
    values must all be finite (False where NaN means 'none', e.g. a method without an ESS)."""

    dims: tuple[str, ...]
    units: str
    long_name: str
    finite: bool = True


@dataclass(frozen=True)
class Layout:
    """The contents a stage's NetCDF file must have."""

    filename: str
    description: str
    coords: Mapping[str, Var]
    data_vars: Mapping[str, Var]
    attrs: Mapping[str, str] = field(default_factory=dict)


_PARAM = Var(("param",), "", "fitted parameter name")
_PER_DATASET = ("noise", "seed", "inference", "param")
_CALIBRATION = ("noise", "inference", "param")

LAYOUTS: dict[str, Layout] = {
    "data": Layout(
        filename="data.nc",
        description="Synthetic spectrum of one Voigt absorption line with Gaussian noise.",
        coords={"nu": Var(("nu",), "cm^-1", "wavenumber")},
        data_vars={
            "cross_section": Var(("nu",), "cm^2", "absorption cross-section sigma(nu)"),
            "f_true": Var(("nu",), "1", "noise-free transmission exp(-N sigma)"),
            "f_obs": Var(("nu",), "1", "observed transmission (f_true plus noise)"),
            "logN_true": Var((), UNITS["logN"], "true log10 column density"),
            "logbeta_true": Var((), UNITS["logbeta"], "true log10 Gaussian standard deviation"),
            "gamma": Var((), "cm^-1", "Lorentzian half width at half maximum (known)"),
            "line_strength": Var((), "cm^2 cm^-1", "line strength (integrated cross-section)"),
            "nu0": Var((), "cm^-1", "line centre"),
        },
        attrs={
            "sigma_noise": "standard deviation of the Gaussian noise, transmission units",
            "seed": "seed of numpy.random.RandomState that drew the noise",
            "dtype": "floating-point precision of the JAX computation",
        },
    ),
    "chi2_map": Layout(
        filename="chi2_map.nc",
        description="chi^2 of the model against the data on a regular (logN, logbeta) grid.",
        coords={
            "logN": Var(("logN",), UNITS["logN"], LONG_NAMES["logN"]),
            "logbeta": Var(("logbeta",), UNITS["logbeta"], LONG_NAMES["logbeta"]),
        },
        data_vars={
            "chi2": Var(("logbeta", "logN"), "1", "chi^2 = sum((f - f_obs)^2) / sigma_noise^2")
        },
    ),
    "optimize": Layout(
        filename="optimize.nc",
        description="Gradient-descent trajectories (steepest descent, Adam) from one point.",
        coords={
            "optimizer": Var(("optimizer",), "", "optimisation method"),
            "step": Var(("step",), "1", "update number (0 is the initial point)"),
            "param": _PARAM,
            "nu": Var(("nu",), "cm^-1", "wavenumber"),
        },
        data_vars={
            "params": Var(
                ("optimizer", "step", "param"), "", "parameters (logN, logbeta) at each step"
            ),
            "chi2": Var(("optimizer", "step"), "1", "chi^2 at each step"),
            "grad": Var(("optimizer", "step", "param"), "1 / parameter unit", "gradient of chi^2"),
            "grad_init": Var(
                ("param",), "1 / parameter unit", "gradient of chi^2 at the initial point"
            ),
            "f_best": Var(
                ("optimizer", "nu"), "1", "model transmission at each method's final step"
            ),
        },
        attrs={
            "steepest_descent_eta": "step size of steepest descent",
            "adam_learning_rate": "Adam (optax) learning rate",
        },
    ),
    "laplace": Layout(
        filename="laplace.nc",
        description="Laplace approximation: posterior mode and inverse Hessian there (JAX).",
        coords={
            "param": Var(("param",), "", "model parameter"),
            "param_": Var(("param_",), "", "model parameter (second axis of the covariance)"),
        },
        data_vars={
            "mode": Var(("param",), "parameter units", "posterior mode (MAP)"),
            "sd": Var(
                ("param",),
                "parameter units",
                "standard deviation of the approximation",
                finite=False,
            ),
            "covariance": Var(
                ("param", "param_"),
                "parameter units^2",
                "inverse Hessian at the mode",
                finite=False,
            ),
            "lower": Var(
                ("param",), "parameter units", "mode - z sd, z for hdi_prob", finite=False
            ),
            "upper": Var(("param",), "parameter units", "mode + z sd", finite=False),
        },
        attrs={
            "hdi_prob": "probability of the interval [lower, upper]",
            "converged": "1 if Newton reached the mode (see pipeline.inference.laplace), else 0",
            "flags": "the approximation's problems: not converged, Hessian not positive definite",
            "iterations": "Newton iterations taken",
        },
    ),
    "compare": Layout(
        filename="compare.nc",
        description="Every method's posterior beside NUTS's, with its distance from it.",
        coords={
            # not "method": that name clashes with the keyword of xarray's .sel()
            "inference": Var(("inference",), "", "inference method (nuts first: the reference)"),
            "param": Var(("param",), "", "model parameter"),
        },
        data_vars={
            "mean": Var(("inference", "param"), "parameter units", "posterior mean"),
            "sd": Var(("inference", "param"), "parameter units", "posterior standard deviation"),
            "hdi_low": Var(("inference", "param"), "parameter units", "lower end of the HDI"),
            "hdi_high": Var(("inference", "param"), "parameter units", "upper end of the HDI"),
            "mean_shift": Var(("inference", "param"), "NUTS sd", "(mean - NUTS mean) / NUTS sd"),
            "sd_ratio": Var(("inference", "param"), "1", "sd / NUTS sd"),
            "wasserstein": Var(
                ("inference", "param"), "NUTS sd", "1-D Wasserstein distance from NUTS's marginal"
            ),
            "energy_distance": Var(
                ("inference",), "NUTS sd", "energy distance of the joint draws from NUTS's"
            ),
        },
        attrs={"hdi_prob": "probability of the highest-density intervals"},
    ),
    "cost": Layout(
        filename="cost.nc",
        description="What each method cost on one dataset: evaluations, seconds, effective draws.",
        coords={"inference": Var(("inference",), "", "inference method")},
        data_vars={
            "value_evaluations": Var(("inference",), "1", "log-density values alone"),
            "gradient_evaluations": Var(("inference",), "1", "log-density values with gradient"),
            "hessian_evaluations": Var(("inference",), "1", "log-density Hessians"),
            "value_equivalents": Var(
                ("inference",), "1", "all evaluations in units of one value's measured cost"
            ),
            "compile_seconds": Var(("inference",), "s", "compiling or loading the programs"),
            "run_seconds": Var(("inference",), "s", "running the compiled fit"),
            "min_ess": Var(("inference",), "1", "effective draws, minimum over parameters"),
            "ess_kind": Var(("inference",), "", "what min_ess counts, per method"),
            "ess_per_second": Var(("inference",), "1/s", "min_ess / run_seconds"),
            "ess_per_1000_value_equivalents": Var(
                ("inference",), "1", "min_ess per 1000 value-equivalent evaluations"
            ),
            "energy_distance": Var(("inference",), "NUTS sd", "energy distance from NUTS's draws"),
            "max_wasserstein": Var(
                ("inference",), "NUTS sd", "largest 1-D Wasserstein distance from NUTS's marginals"
            ),
            "value_seconds": Var((), "s", "one compiled log-density value"),
            "gradient_seconds": Var((), "s", "one compiled value and gradient"),
            "hessian_seconds": Var((), "s", "one compiled Hessian"),
        },
    ),
    "evidence": Layout(
        filename="evidence.nc",
        description="The evidence of each line shape's model (nested sampling) and their ratio.",
        coords={"line_shape": Var(("line_shape",), "", "the model's line shape")},
        data_vars={
            "log_Z": Var(("line_shape",), "1", "log evidence, natural log"),
            "log_Z_uncert": Var(("line_shape",), "1", "standard error of log_Z"),
            "converged": Var(("line_shape",), "1", "1 if the nested run converged"),
            "log_bayes_factor": Var((), "1", "log Z(voigt) - log Z(gaussian)"),
            "log_bayes_factor_uncert": Var((), "1", "standard error of the log Bayes factor"),
        },
        attrs={"verdict": "the evidence's verdict on the Kass-Raftery scale"},
    ),
    "fixed_truth_summary": Layout(
        filename="summary.nc",
        description=("A fixed-truth sweep: per dataset and method, then coverage across seeds."),
        coords={
            "noise": Var(("noise",), "1", "noise level sigma_noise, transmission units"),
            "seed": Var(("seed",), "", "seed of the noise draw"),
            "inference": Var(("inference",), "", "inference method (adam, laplace, nuts, svi)"),
            "param": Var(("param",), "", "model parameter"),
        },
        data_vars={
            "truth": Var(("noise", "param"), "parameter units", "value the data were made with"),
            "estimate": Var(
                _PER_DATASET, "parameter units", "Adam end point, mode or mean", finite=False
            ),
            "sd": Var(_PER_DATASET, "parameter units", "posterior sd (NaN for Adam)", finite=False),
            "lower": Var(
                _PER_DATASET, "parameter units", "lower end of the interval", finite=False
            ),
            "upper": Var(
                _PER_DATASET, "parameter units", "upper end of the interval", finite=False
            ),
            "covered": Var(
                _PER_DATASET, "1", "1 if the interval holds the truth, else 0", finite=False
            ),
            "z": Var(_PER_DATASET, "1", "(estimate - truth) / sd", finite=False),
            "ess_bulk": Var(_PER_DATASET, "1", "bulk effective sample size (NUTS)", finite=False),
            "divergences": Var(
                ("noise", "seed", "inference"), "1", "divergent transitions (NUTS)", finite=False
            ),
            "seconds": Var(
                ("noise", "seed", "inference"), "s", "wall time of the method's job", finite=False
            ),
            "n_datasets": Var(_CALIBRATION, "1", "datasets with an interval", finite=False),
            "coverage": Var(
                _CALIBRATION, "1", "fraction of intervals holding the truth", finite=False
            ),
            "coverage_low": Var(
                _CALIBRATION, "1", "95% Wilson interval of the coverage, low", finite=False
            ),
            "coverage_high": Var(
                _CALIBRATION, "1", "95% Wilson interval of the coverage, high", finite=False
            ),
            "bias": Var(_CALIBRATION, "parameter units", "mean of estimate - truth", finite=False),
            "rmse": Var(
                _CALIBRATION,
                "parameter units",
                "root mean square of estimate - truth",
                finite=False,
            ),
            "mean_sd": Var(_CALIBRATION, "parameter units", "mean posterior sd", finite=False),
            "estimate_spread": Var(
                _CALIBRATION, "parameter units", "sd of estimates across seeds", finite=False
            ),
            "z_mean": Var(_CALIBRATION, "1", "mean z-score (0 if calibrated)", finite=False),
            "z_sd": Var(_CALIBRATION, "1", "sd of the z-scores (1 if calibrated)", finite=False),
            "rms_shift_vs_nuts": Var(
                _CALIBRATION,
                "NUTS sd",
                "root mean square of (estimate - NUTS mean) / NUTS sd",
                finite=False,
            ),
            "sd_ratio_vs_nuts": Var(_CALIBRATION, "1", "mean of sd / NUTS sd", finite=False),
            "mean_seconds": Var(
                ("noise", "inference"), "s", "mean wall time of the method's job", finite=False
            ),
        },
        attrs={"hdi_prob": "probability of the intervals"},
    ),
    "sbc_data": Layout(
        filename="data.nc",
        description="A block of SBC datasets: truths drawn from the prior, noisy spectra.",
        coords={
            "dataset": Var(("dataset",), "", "index of the dataset in the study"),
            "param": Var(("param",), "", "model parameter"),
            "nu": Var(("nu",), "cm^-1", "wavenumber"),
        },
        data_vars={
            "truth": Var(("dataset", "param"), "parameter units", "value drawn from the prior"),
            "noise_seed": Var(("dataset",), "", "numpy.random.RandomState seed of the noise"),
            "f_obs": Var(("dataset", "nu"), "1", "observed transmission"),
            "gamma": Var((), "cm^-1", "Lorentzian half width at half maximum (known)"),
            "line_strength": Var((), "cm^2 cm^-1", "line strength (integrated cross-section)"),
            "nu0": Var((), "cm^-1", "line centre"),
        },
        attrs={
            "study_seed": "seed of the study (truths, noise seeds, Laplace draws)",
            "dtype": "floating-point precision of the JAX computation",
        },
    ),
    "sbc_fit": Layout(
        filename="{method}.nc",
        description="One method's fits of a block of SBC datasets, reduced to ranks.",
        coords={
            "dataset": Var(("dataset",), "", "index of the dataset in the study"),
            "param": Var(("param",), "", "model parameter"),
            "quantity": Var(("quantity",), "", "ranked quantity: a parameter or loglik"),
            "draw": Var(("draw",), "", "posterior draw kept for ranking"),
        },
        data_vars={
            "truth": Var(("dataset", "param"), "parameter units", "value drawn from the prior"),
            "draws": Var(
                ("dataset", "draw", "param"), "parameter units", "the L ranked draws", finite=False
            ),
            "rank": Var(
                ("dataset", "quantity"),
                "1",
                "draws below the truth, 0..L (NaN: a NaN)",
                finite=False,
            ),
            "mean": Var(
                ("dataset", "param"),
                "parameter units",
                "posterior mean (mode: Laplace)",
                finite=False,
            ),
            "sd": Var(
                ("dataset", "param"),
                "parameter units",
                "posterior standard deviation",
                finite=False,
            ),
            "ess_bulk": Var(
                ("dataset", "param"), "1", "bulk ESS of all draws (NUTS; else NaN)", finite=False
            ),
            "ess_tail": Var(
                ("dataset", "param"), "1", "tail ESS of all draws (NUTS; else NaN)", finite=False
            ),
            "r_hat": Var(
                ("dataset", "param"), "1", "rank-normalised split R-hat (NUTS)", finite=False
            ),
            "divergences": Var(("dataset",), "1", "divergent transitions (NUTS)", finite=False),
            "num_steps": Var(
                ("dataset",),
                "1",
                "leapfrog steps, warmup too = gradient evaluations (NUTS)",
                finite=False,
            ),
            "final_loss": Var(
                ("dataset",), "1", "mean ELBO loss of the last 100 steps (SVI)", finite=False
            ),
            "converged": Var(
                ("dataset",), "1", "1 if Newton converged, else 0 (Laplace)", finite=False
            ),
            "iterations": Var(("dataset",), "1", "Newton iterations (Laplace)", finite=False),
        },
        attrs={
            "inference": "the inference method",
            "thin": "every thin-th draw was kept (chains pooled)",
            "compile_seconds": "compiling (or loading from the cache) the block's program",
            "run_seconds": "fitting the whole block",
            "run_seconds_per_dataset": "run_seconds / datasets: the amortised cost of a fit",
        },
    ),
    "sbc_ranks": Layout(
        filename="ranks.nc",
        description="An SBC study: every dataset's truth, ranks and checks, for every method.",
        coords={
            "inference": Var(("inference",), "", "inference method"),
            "dataset": Var(("dataset",), "", "index of the dataset in the study"),
            "param": Var(("param",), "", "model parameter"),
            "quantity": Var(("quantity",), "", "ranked quantity: a parameter or loglik"),
        },
        data_vars={
            "truth": Var(("dataset", "param"), "parameter units", "value drawn from the prior"),
            "noise_seed": Var(("dataset",), "", "numpy.random.RandomState seed of the noise"),
            "stratum": Var(("dataset",), "", "quantile group of the drawn sigmain, 1 = lowest"),
            "rank": Var(
                ("inference", "dataset", "quantity"),
                "1",
                "draws below the truth, 0..L",
                finite=False,
            ),
            "mean": Var(
                ("inference", "dataset", "param"), "parameter units", "posterior mean", finite=False
            ),
            "sd": Var(
                ("inference", "dataset", "param"), "parameter units", "posterior sd", finite=False
            ),
            "z": Var(("inference", "dataset", "param"), "1", "(mean - truth) / sd", finite=False),
            "ess_bulk": Var(
                ("inference", "dataset", "param"), "1", "bulk ESS (NUTS)", finite=False
            ),
            "r_hat": Var(
                ("inference", "dataset", "param"), "1", "split R-hat (NUTS)", finite=False
            ),
            "divergences": Var(
                ("inference", "dataset"), "1", "divergent transitions (NUTS)", finite=False
            ),
            "converged": Var(
                ("inference", "dataset"), "1", "Newton converged (Laplace)", finite=False
            ),
            "flagged": Var(("inference", "dataset"), "1", "1 if the fit failed its own checks"),
            "used": Var(("inference", "dataset"), "1", "1 if the calibration counts the fit"),
            "thin": Var(("inference",), "1", "every thin-th draw was ranked"),
            "seconds_per_dataset": Var(("inference",), "s", "amortised fitting time per dataset"),
            "compile_seconds": Var(("inference",), "s", "compile or cache-load time, all blocks"),
        },
        attrs={
            "num_draws": "L, the draws each truth is ranked among",
            "include_flagged": "1 if fits that failed their checks are counted, else 0",
        },
    ),
}


@dataclass(frozen=True)
class InferenceLayout:
    """The groups and variables an ArviZ InferenceData file (one NetCDF) must have."""

    filename: str
    description: str
    groups: Mapping[str, Mapping[str, str]]  # group -> {variable: meaning}
    posterior_attrs: Mapping[str, str] = field(default_factory=dict)  # {attribute: meaning}


_POSTERIOR = {p: f"{LONG_NAMES[p]}, {UNITS[p]}" for p in PARAMS}
_Y = {"y": "flux, transmission units (observed_data: the data; posterior_predictive: draws)"}

INFERENCE_LAYOUTS: dict[str, InferenceLayout] = {
    "nuts": InferenceLayout(
        filename="nuts.nc",
        description="NUTS posterior (numpyro), ArviZ InferenceData layout; dims chain, draw, nu.",
        groups={
            "posterior": _POSTERIOR,
            "sample_stats": {
                "diverging": "whether the transition diverged",
                "step_size": "leapfrog step size after adaptation",
                "tree_depth": "depth of the NUTS tree",
                "n_steps": "leapfrog steps of the transition",
                "acceptance_rate": "mean Metropolis acceptance probability of the tree",
                "energy": "Hamiltonian energy",
            },
            "observed_data": _Y,
            "posterior_predictive": _Y,
        },
        posterior_attrs={"warmup_leapfrog_steps": "leapfrog steps of the warmup, all chains"},
    ),
    "svi": InferenceLayout(
        filename="svi.nc",
        description="SVI (AutoMultivariateNormal guide) draws, ArviZ layout, with the loss trace.",
        groups={
            "posterior": _POSTERIOR,
            "observed_data": _Y,
            "posterior_predictive": _Y,
            "optimization": {"loss": "ELBO loss (negative ELBO) of every step, dims step"},
            "guide": {
                "auto_loc": "guide mean in the unconstrained space, dims latent",
                "auto_scale_tril": "Cholesky factor of the guide covariance, dims latent, latent_",
            },
        },
    ),
    "nested": InferenceLayout(
        filename="nested.nc",
        description=(
            "Nested sampling (jaxns) of one line shape's model: equal-weight posterior draws "
            "and the evidence, ArviZ layout; the Gaussian line's run is nested_gaussian.nc."
        ),
        groups={
            "posterior": _POSTERIOR,
            "observed_data": _Y,
            "evidence": {
                "log_Z": "log evidence log p(y | line shape), natural log",
                "log_Z_uncert": "standard error of log_Z, jaxns's estimate",
                "information": "information H (KL divergence of posterior from prior), nats",
                "ess_kish": "Kish effective sample size of the weighted dead points",
                "num_likelihood_evaluations": "likelihood evaluations of the run (value only)",
                "num_dead_points": "dead points the run kept",
                "converged": "1 if the run met dlogZ within max_samples and its budget, else 0",
            },
        },
        posterior_attrs={"line_shape": "the model's line shape: voigt or gaussian"},
    ),
    "gradient_free": InferenceLayout(
        filename="gradient_free.nc",
        description="Gradient-free MCMC (numpyro SA, dense mass) posterior, ArviZ layout.",
        groups={
            "posterior": _POSTERIOR,
            "sample_stats": {"accept_prob": "acceptance probability of the proposal"},
            "observed_data": _Y,
        },
        posterior_attrs={"value_evaluations": "log-density evaluations, warmup included"},
    ),
}


FINITE_GROUPS = ("posterior", "observed_data")


def _check_inference(idata: Any, groups: list[str], kind: str, source: str) -> None:
    layout = INFERENCE_LAYOUTS[kind]
    problems = []
    for group, variables in layout.groups.items():
        if group not in groups:
            problems.append(f"missing group '{group}'")
            continue
        for v in variables:
            if v not in idata[group].variables:
                problems.append(f"missing variable '{group}/{v}'")
            elif group in FINITE_GROUPS and (bad := _first_non_finite(idata[group][v])):
                problems.append(f"variable '{group}/{v}' has a non-finite value at {bad}")
    if "posterior" in groups:
        attrs = idata["posterior"].attrs
        problems += [f"missing attribute 'posterior/{a}'" for a in layout.posterior_attrs
                     if a not in attrs]  # fmt: skip
    if problems:
        raise NetCDFInputError(
            f"{source} is not a valid {layout.filename} ({layout.description}): "
            + "; ".join(problems)
        )


def check_layout(ds: xr.Dataset, kind: str, source: str) -> None:
    """Raise NetCDFInputError naming `source` if `ds` lacks anything layout `kind` requires."""
    layout = LAYOUTS[kind]
    problems = []
    for group, specs in (("coordinate", layout.coords), ("variable", layout.data_vars)):
        for name, spec in specs.items():
            if name not in ds.variables:
                problems.append(f"missing {group} '{name}'")
            elif ds[name].dims != spec.dims:
                problems.append(f"{group} '{name}' has dims {ds[name].dims}, expected {spec.dims}")
            elif ds[name].size == 0:
                problems.append(f"{group} '{name}' is empty")
            elif spec.finite and (bad := _first_non_finite(ds[name])):
                problems.append(f"{group} '{name}' has a non-finite value at {bad}")
    problems += [f"missing attribute '{a}'" for a in layout.attrs if a not in ds.attrs]
    if problems:
        raise NetCDFInputError(
            f"{source} is not a valid {layout.filename} ({layout.description}): "
            + "; ".join(problems)
        )


def _first_non_finite(variable: xr.DataArray) -> str:
    """'nu=17 (nan)': where a float variable first holds NaN or inf, or '' if nowhere."""
    values = np.asarray(variable.values)
    if values.dtype.kind not in "fc":
        return ""
    bad = np.argwhere(~np.isfinite(values))
    if not len(bad):
        return ""
    where = ", ".join(f"{d}={i}" for d, i in zip(variable.dims, bad[0], strict=True)) or "scalar"
    return f"{where} ({values[tuple(bad[0])]})"
