"""Figures of the NUTS and SVI posteriors, drawn from their ArviZ NetCDF files alone."""

from __future__ import annotations

from typing import Any

import arviz as az
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from pipeline.methods import METHODS
from pipeline.methods.base import parameters
from pipeline.plots.common import NU_LABEL, axes, dataset_title

NUTS, SVI = METHODS["nuts"], METHODS["svi"]  # the tutorial's figures show these two


def truth(data: xr.Dataset) -> dict[str, float] | None:
    """The values synthetic data were simulated with, by parameter name (None: observed)."""
    if "truth" not in data:
        return None
    return {str(p): float(v) for p, v in zip(data["param"].values, data["truth"].values,
                                              strict=True)}  # fmt: skip


def nuts_predictive(data: xr.Dataset, nuts: Any, *, band_prob: float) -> Figure:
    """The data with the highest-density band of the NUTS posterior predictive."""
    band = az.hdi(nuts.posterior_predictive, hdi_prob=band_prob)["y"].values  # (nu, 2)
    fig, ax = axes(figsize=(10, 4))
    ax.plot(data["nu"], data["f_obs"], "+", color="black", label="data")
    ax.fill_between(
        data["nu"], band[:, 0], band[:, 1], alpha=0.3, color="C0", label=f"{band_prob:.0%} area"
    )
    ax.set(xlabel=NU_LABEL, ylabel="transmission")
    ax.set_title(f"NUTS posterior predictive ({dataset_title(data)})")
    ax.legend(loc="lower left")
    return fig


def _pair(idata: Any, color: str, cmap: str, ax: Any = None, reference: dict | None = None) -> Any:
    return az.plot_pair(
        idata,
        var_names=parameters(idata),
        kind="kde",
        marginals=True,
        ax=ax,
        show=False,
        reference_values=reference,
        kde_kwargs={
            "contourf_kwargs": {"cmap": cmap, "alpha": 0.5},
            "contour_kwargs": {"alpha": 0},
        },
        marginal_kwargs={"color": color},
        backend_kwargs={"figsize": (7.5, 7.5)} if ax is None else None,
    )


def _pair_figure(grid: Any) -> Figure:
    for ax in grid.flat:
        if ax is not None:  # the upper triangle is empty
            ax.xaxis.set_major_locator(MaxNLocator(3))  # long tick labels would run together
            ax.yaxis.set_major_locator(MaxNLocator(4))
            # tilted, so that the last label of one panel clears the first of the next
            ax.tick_params(axis="x", labelrotation=30)
    return grid[0, 0].figure


def nuts_pair(data: xr.Dataset, nuts: Any) -> Figure:
    """Pair plot of the NUTS posterior: KDE contours, marginals and the true values."""
    fig = _pair_figure(_pair(nuts, NUTS.color, "plasma", reference=truth(data)))
    fig.suptitle(f"NUTS posterior ({dataset_title(data)})")
    return fig


def nuts_vs_svi(data: xr.Dataset, nuts: Any, svi: Any) -> Figure:
    """NUTS and SVI posteriors overlaid in one pair plot, in the tutorial's colours."""
    grid = _pair(nuts, NUTS.color, "plasma")
    fig = _pair_figure(_pair(svi, SVI.color, "viridis", ax=grid, reference=truth(data)))
    fig.suptitle(f"NUTS vs SVI ({dataset_title(data)})")
    fig.legend(
        handles=[Patch(color=m.color, label=m.label) for m in (NUTS, SVI)],
        loc="upper right",
    )
    return fig
