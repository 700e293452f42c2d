"""Figures of every method side by side: their posteriors, their cost, and the evidence."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from scipy.ndimage import gaussian_filter

from pipeline.analysis.compare import draws
from pipeline.methods.base import parameters
from pipeline.plots.common import axes, dataset_title
from pipeline.plots.posterior import truth

# the off-diagonal contours enclose these shares of the draws (1 and 2 sigma in 2-D)
CONTOUR_MASSES = (0.393, 0.865)


def methods_pair(data: xr.Dataset, fits: dict, *, styles: dict) -> Figure:
    """Every method's posterior in one corner plot: marginal histograms on the diagonal,
    draws below it, the true values (of synthetic data) as lines."""
    samples = {name: draws(idata) for name, idata in fits.items()}
    names = parameters(next(iter(fits.values())))
    reference = truth(data)
    n = len(names)
    pooled = np.concatenate(list(samples.values()))
    spans = [np.quantile(pooled[:, k], [0.0005, 0.9995]) for k in range(n)]
    fig, grid = plt.subplots(n, n, figsize=(8.5, 8.5), layout="constrained")
    for i in range(n):
        for j in range(n):
            ax = grid[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            for kind, d in samples.items():
                color = styles[kind]["color"]
                if i == j:
                    ax.hist(d[:, i], bins=40, density=True, histtype="step",
                            color=color, label=styles[kind]["label"])  # fmt: skip
                else:
                    _contours(ax, d[:, j], d[:, i], spans[j], spans[i], color)
            ax.set_xlim(spans[j])
            if i != j:
                ax.set_ylim(spans[i])
            if reference is not None:
                ax.axvline(reference[names[j]], color="black", lw=0.8)
                if i != j:
                    ax.axhline(reference[names[i]], color="black", lw=0.8)
            ax.tick_params(axis="x", labelrotation=30, labelsize=8)
            ax.tick_params(axis="y", labelsize=8)
            if i == n - 1:
                ax.set_xlabel(names[j])
            if j == 0 and i > 0:
                ax.set_ylabel(names[i])
    handles, labels = grid[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", bbox_to_anchor=(0.97, 0.9), fontsize=10)
    fig.suptitle(f"Every method's posterior ({dataset_title(data)}); black: the truth")
    return fig


def _contours(ax, x, y, x_span, y_span, color) -> None:
    """Contours enclosing CONTOUR_MASSES of the draws (x, y), from a smoothed 2-D histogram."""
    counts, x_edges, y_edges = np.histogram2d(x, y, bins=40, range=[x_span, y_span])
    density = gaussian_filter(counts.T, 1.5)
    ordered = np.sort(density.ravel())[::-1]
    mass = np.cumsum(ordered) / ordered.sum()
    levels = sorted({float(ordered[np.searchsorted(mass, m)]) for m in CONTOUR_MASSES})
    centres = (x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2
    ax.contour(*centres, density, levels=levels, colors=[color], linewidths=1.0)


def cost(cost: xr.Dataset, *, styles: dict) -> Figure:
    """What each method spent (evaluations, in units of one value's cost) and what it bought
    (effective draws per evaluation and per second), with its distance from the reference."""
    kinds = [str(k) for k in cost["inference"].values]
    labels = [styles[k]["label"] for k in kinds]
    colors = [styles[k]["color"] for k in kinds]
    fig, panels = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained", sharey=True)
    y = np.arange(len(kinds))
    panels[0].barh(y, cost["value_equivalents"], color=colors)
    panels[0].set(xscale="log", xlabel="evaluations, in values' cost (warmup included)")
    for row, kind in enumerate(kinds):
        parts = [f"{int(cost[f'{e}_evaluations'].sel(inference=kind)):,} {e}"
                 for e in ("value", "gradient", "hessian")
                 if cost[f"{e}_evaluations"].sel(inference=kind) > 0]  # fmt: skip
        end = float(cost["value_equivalents"].sel(inference=kind))
        panels[0].text(end * 1.3, row, "\n".join(parts), va="center", fontsize=7)
    panels[0].set_xlim(right=float(cost["value_equivalents"].max()) * 300)
    panels[1].barh(y, cost["ess_per_1000_value_equivalents"], color=colors)
    panels[1].set(xscale="log", xlabel="effective draws per 1000 value-equivalents")
    panels[2].barh(y, cost["ess_per_second"], color=colors)
    panels[2].set(xscale="log", xlabel="effective draws per second of run (compiled)")
    for row, kind in enumerate(kinds):
        if not np.isfinite(cost["min_ess"].sel(inference=kind)):
            panels[1].annotate("approximation: no effective draws", (0, row),
                               xycoords=("axes fraction", "data"), xytext=(4, 0),
                               textcoords="offset points", va="center", fontsize=8)  # fmt: skip
        distance = float(cost["energy_distance"].sel(inference=kind))
        note = "reference" if row == 0 else f"energy distance {distance:.2f}"
        panels[2].annotate(note, (1, row), xycoords=("axes fraction", "data"), xytext=(4, 0),
                           textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    panels[0].set_yticks(y, labels)
    panels[0].invert_yaxis()
    ratio = float(cost["gradient_seconds"] / cost["value_seconds"])
    hessian = float(cost["hessian_seconds"] / cost["value_seconds"])
    fig.suptitle(
        f"The cost of inference: one value {float(cost['value_seconds']) * 1e6:.0f} µs, "
        f"a value with gradient {ratio:.2f} values, a Hessian {hessian:.1f} values"
    )
    return fig


def evidence(evidence: xr.Dataset) -> Figure:
    """The log evidence of each model with its standard error, and the verdicts."""
    fig, ax = axes(figsize=(6.4, 3.6))
    shapes = [str(s) for s in evidence["model"].values]
    ax.errorbar(evidence["log_Z"], np.arange(len(shapes)), xerr=evidence["log_Z_uncert"],
                fmt="o", capsize=4, color="black")  # fmt: skip
    for row, shape in enumerate(shapes):
        value, error = (float(evidence[v].sel(model=shape)) for v in ("log_Z", "log_Z_uncert"))
        ax.annotate(f"{value:.2f} ± {error:.2f}", (value, row), xytext=(0, 8),
                    textcoords="offset points", ha="center", fontsize=9)  # fmt: skip
    ax.set_yticks(np.arange(len(shapes)), shapes)
    ax.set_ylim(-0.7, len(shapes) - 0.3)
    ax.set_xlabel("log evidence ln Z")
    ax.set_title(evidence.attrs["verdict"], fontsize=9)
    ax.margins(x=0.15)
    return fig
