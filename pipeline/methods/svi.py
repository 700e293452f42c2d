"""SVI (numpyro): a multivariate normal guide fitted by Adam, the tutorial's approximation."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pipeline.io.layouts import InferenceLayout
from pipeline.methods.base import Evaluations, Method, runtime
from pipeline.methods.common import Y


class SviSettings(NamedTuple):
    """numpyro SVI with an AutoMultivariateNormal guide: steps, Adam's rate and its decay,
    guide draws."""

    num_steps: int
    learning_rate: float
    final_learning_rate_fraction: float  # 1: constant (the tutorial's)
    num_draws: int


LAYOUT = InferenceLayout(
    filename="svi.nc",
    description="SVI (AutoMultivariateNormal guide) draws, ArviZ layout, with the loss trace.",
    groups={
        "posterior": {},
        "observed_data": Y,
        "posterior_predictive": Y,
        "optimization": {"loss": "ELBO loss (negative ELBO) of every step, dims step"},
        "guide": {
            "auto_loc": "guide mean in the unconstrained space, dims latent",
            "auto_scale_tril": "Cholesky factor of the guide covariance, dims latent, latent_",
        },
    },
)


def _fit(x, predictive):
    fit_svi = runtime("inference.svi", "fit_svi")
    return fit_svi(x.problem, x.ys, x.keys, x.settings, x.batching, predictive)


def _groups(fit: dict, nu: np.ndarray, names: tuple[str, ...]) -> dict:
    import xarray as xr

    from pipeline.io.files import draws_group

    latent = list(names)  # the guide orders its latent vector by sample site
    return {
        "posterior_predictive": draws_group({"y": fit["y"][None]}, nu),
        "optimization": xr.Dataset(
            {"loss": ("step", fit["loss"])}, coords={"step": np.arange(len(fit["loss"]))}
        ),
        "guide": xr.Dataset(
            {
                "auto_loc": ("latent", fit["auto_loc"]),
                "auto_scale_tril": (("latent", "latent_"), fit["auto_scale_tril"]),
            },
            coords={"latent": latent, "latent_": latent},
        ),
    }


def _diagnostics(fit: dict, draws: np.ndarray) -> dict:
    loss_drop = runtime("analysis.summary", "loss_drop")
    drops = np.array([loss_drop(np.asarray(losses, float)) for losses in fit["loss"]])
    return {
        "final_loss": fit["loss"][:, -100:].mean(axis=1),
        "loss_drop": drops[:, 0],
        "loss_drop_se": drops[:, 1],
    }


def _flags(table, idata, thresholds):
    flag_svi = runtime("analysis.summary", "flag_svi")
    return flag_svi(table, idata.optimization["loss"].values)


METHOD = Method(
    runs=("inference.svi", "analysis.summary"),
    name="svi",
    label="SVI",
    color="green",  # the tutorial's
    settings=SviSettings,
    layout=LAYOUT,
    fit=_fit,
    groups=_groups,
    diagnostics=_diagnostics,
    evaluations=lambda idata: Evaluations(gradient=idata.optimization["loss"].size),
    summary_flags=_flags,
)
