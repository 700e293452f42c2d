"""Figures of the data, the chi^2 map and the optimisers, drawn from their NetCDF files alone."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr
from matplotlib.figure import Figure

from pipeline.plots.common import NU_LABEL, axes, dataset_title

NUMBERED_STEPS = 5  # the tutorial labels the first five steps of each trajectory


def cross_section(data: xr.Dataset) -> Figure:
    """Cross-section sigma(nu) of the line (cm^2) against wavenumber."""
    fig, ax = axes()
    ax.plot(data["nu"], data["cross_section"])
    ax.set(xlabel=NU_LABEL, ylabel="cross section (cm$^2$)", title="Cross-section at the truth")
    return fig


def transmission(data: xr.Dataset) -> Figure:
    """Noise-free transmission exp(-N sigma) against wavenumber."""
    fig, ax = axes()
    ax.plot(data["nu"], data["f_true"])
    ax.set(xlabel=NU_LABEL, ylabel="transmission", title="Noise-free transmission")
    return fig


def data(data: xr.Dataset) -> Figure:
    """The observed (noisy) spectrum."""
    fig, ax = axes()
    ax.plot(data["nu"], data["f_obs"], ".", alpha=0.3)
    ax.set(
        xlabel=NU_LABEL, ylabel="transmission", title=f"Observed spectrum ({dataset_title(data)})"
    )
    return fig


def _chi2_contours(ax, chi2_map: xr.Dataset, levels: Sequence[float], colors: str) -> None:
    ax.contour(chi2_map["x"], chi2_map["y"], chi2_map["chi2"], levels=levels, colors=colors)
    ax.set(xlabel=chi2_map.attrs["x_param"], ylabel=chi2_map.attrs["y_param"])


def chi2_map(
    chi2_map: xr.Dataset, *, chi2_levels: Sequence[float], chi2_vmin: float, chi2_vmax: float
) -> Figure:
    """chi^2 over the grid of two parameters: image with contours, as in the tutorial."""
    fig, ax = axes()
    x, y = chi2_map["x"].values, chi2_map["y"].values
    image = ax.imshow(
        chi2_map["chi2"].values[::-1, :],
        extent=(x[0], x[-1], y[0], y[-1]),
        aspect="auto",
        cmap="cividis",
        vmin=chi2_vmin,
        vmax=chi2_vmax,
    )
    fig.colorbar(image, ax=ax, label="$\\chi^2$")
    _chi2_contours(ax, chi2_map, chi2_levels, colors="white")
    ax.set_title("$\\chi^2$ map")
    return fig


def _trajectory(
    chi2_map: xr.Dataset, optimize: xr.Dataset, optimizer: str, levels: Sequence[float], title: str
) -> Figure:
    fig, ax = axes()
    _chi2_contours(ax, chi2_map, levels, colors="gray")
    path = optimize["params"].sel(optimizer=optimizer)
    x, y = (path.sel(param=chi2_map.attrs[f"{a}_param"]).values for a in "xy")
    ax.plot(x, y, ".", color="C1")
    ax.plot(x, y, color="C1", alpha=0.3)
    for i in range(min(NUMBERED_STEPS, len(x))):
        ax.text(x[i], y[i], str(i), fontsize=8, color="green")
    ax.set_title(f"{title}: {len(x) - 1} steps")
    return fig


def steepest_descent(
    chi2_map: xr.Dataset, optimize: xr.Dataset, *, chi2_levels: Sequence[float]
) -> Figure:
    """Steepest-descent trajectory on the chi^2 contours, first steps numbered."""
    eta = optimize.attrs["steepest_descent_eta"]
    return _trajectory(
        chi2_map, optimize, "steepest_descent", chi2_levels, f"Steepest descent (eta={eta:g})"
    )


def adam(chi2_map: xr.Dataset, optimize: xr.Dataset, *, chi2_levels: Sequence[float]) -> Figure:
    """Adam trajectory on the chi^2 contours, first steps numbered."""
    rate = optimize.attrs["adam_learning_rate"]
    return _trajectory(chi2_map, optimize, "adam", chi2_levels, f"Adam (learning rate {rate:g})")


def best_fit(data: xr.Dataset, optimize: xr.Dataset) -> Figure:
    """The data with the model at Adam's final parameters."""
    fig, ax = axes()
    final = optimize["params"].sel(optimizer="adam").isel(step=-1)
    values = ", ".join(f"{p} = {float(v):.3f}" for p, v in zip(final["param"].values, final.values,
                                                                 strict=True))  # fmt: skip
    ax.plot(data["nu"], data["f_obs"], ".", alpha=0.3, label="data")
    ax.plot(
        optimize["nu"],
        optimize["f_best"].sel(optimizer="adam"),
        color="C0",
        label=f"Adam: {values}",
    )
    ax.set(xlabel=NU_LABEL, ylabel="transmission", title="Best fit (Adam)")
    ax.legend(loc="lower left")
    return fig
