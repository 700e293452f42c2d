"""The Laplace approximation: Newton to the posterior mode, the exact JAX Hessian there."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pipeline.io.layouts import InferenceLayout
from pipeline.methods.base import Evaluations, Method, runtime
from pipeline.methods.common import Y

# Levenberg-Marquardt damping factors tried in turn at every Newton step, smallest first
# (0: the Newton step); pipeline.inference.laplace tries them
DAMPING = (0.0, *(10.0**k for k in range(-4, 9)))


class LaplaceSettings(NamedTuple):
    """Draws of the fitted Gaussian kept as the approximation's posterior draws, and the
    coordinates it is fitted in (pipeline.inference.laplace.TRANSFORMS)."""

    num_draws: int
    coordinates: str  # "unconstrained" (theta(z) onto each prior's support) or "constrained"


LAYOUT = InferenceLayout(
    filename="laplace.nc",
    description=(
        "Laplace approximation: the posterior mode, the inverse Hessian there and draws of "
        "that Gaussian (in laplace.coordinates, mapped back), ArviZ layout."
    ),
    groups={
        "posterior": {},
        "observed_data": Y,
        "approximation": {
            "mode": "the approximation's median theta(z mode) (constrained: the MAP), dims param",
            "covariance": (
                "J cov_z J^T, J = dtheta/dz at the mode: the delta method's covariance of theta "
                "(constrained: the inverse Hessian of -log posterior at the MAP), dims param, "
                "param_"
            ),
            "sd": "its standard deviation (the square root of covariance's diagonal), dims param",
            "unconstrained_mode": "the mode z of the posterior density of z, dims param",
            "unconstrained_covariance": (
                "cov_z, the inverse Hessian of -log posterior density of z at its mode, "
                "dims param, param_"
            ),
        },
    },
    posterior_attrs={
        "converged": "1 if Newton reached the mode (see pipeline.inference.laplace), else 0",
        "iterations": "Newton iterations taken",
        "flags": "the approximation's problems: not converged, Hessian not positive definite",
    },
)


def _fit(x, predictive):
    fit_laplace = runtime("inference.laplace", "fit_laplace")
    return fit_laplace(x.problem, x.ys, x.starts, x.keys, x.settings, DAMPING, x.batching)


def _groups(fit: dict, nu: np.ndarray, names: tuple[str, ...]) -> dict:
    import xarray as xr

    covariance = np.asarray(fit["covariance"])
    return {
        "approximation": xr.Dataset(
            {
                "mode": ("param", fit["mode"]),
                "covariance": (("param", "param_"), covariance),
                "sd": ("param", np.sqrt(np.diag(covariance))),
                "unconstrained_mode": ("param", fit["unconstrained_mode"]),
                "unconstrained_covariance": (("param", "param_"), fit["unconstrained_covariance"]),
            },
            coords={"param": list(names), "param_": list(names)},
        )
    }


def _evaluations(idata) -> Evaluations:
    iterations = int(idata.posterior.attrs["iterations"])
    # each Newton step tries every damping as a value; a Hessian per step and at the mode
    return Evaluations(
        value=len(DAMPING) * iterations, gradient=iterations + 1, hessian=iterations + 1
    )


def _flags(fit: dict) -> str:
    laplace_flags = runtime("inference.laplace", "laplace_flags")
    return laplace_flags(fit)


METHOD = Method(
    runs=("inference.laplace",),
    name="laplace",
    label="Laplace",
    color="C3",
    settings=LaplaceSettings,
    layout=LAYOUT,
    fit=_fit,
    groups=_groups,
    posterior_attrs=lambda fit, settings, names: {
        "converged": int(fit["converged"]),
        "iterations": int(fit["iterations"]),
        "flags": _flags(fit),
    },
    diagnostics=lambda fit, draws: {
        "converged": fit["converged"].astype(float),
        "iterations": fit["iterations"].astype(float),
    },
    evaluations=_evaluations,
    point=lambda idata: idata.approximation["mode"].values,
    start="adam",
)
