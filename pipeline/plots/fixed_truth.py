"""Figures of a fixed-truth sweep over noise levels and seeds, drawn from its summary.nc alone."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from pipeline.io.layouts import PARAMS

POSTERIORS = ("laplace", "nuts", "svi")  # the methods with a posterior width
STYLE = {
    "adam": {"color": "C3", "marker": "D"},
    "laplace": {"color": "C0", "marker": "s"},
    "nuts": {"color": "orange", "marker": "o"},
    "svi": {"color": "green", "marker": "^"},
}
LABELS = {"logN": "log N", "logbeta": "log beta", "sigmain": "sigmain"}


def _panels(n: int, height: float = 3.6):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, height), layout="constrained", squeeze=False)
    return fig, axes[0]


def _title(summary: xr.Dataset) -> str:
    return f"fixed truth; {summary.sizes['noise']} noise levels x {summary.sizes['seed']} seeds"


def fixed_truth_posterior_sd(summary: xr.Dataset) -> Figure:
    """Mean posterior sd against noise per method, the spread of NUTS means, and sd ∝ noise."""
    fig, axes = _panels(len(PARAMS))
    noise = summary["noise"].values
    for ax, param in zip(axes, PARAMS, strict=True):
        for method in POSTERIORS:
            sd = summary["mean_sd"].sel(inference=method, param=param)
            ax.plot(noise, sd, label=f"{method} mean sd", **STYLE[method])
        spread = summary["estimate_spread"].sel(inference="nuts", param=param)
        ax.plot(noise, spread, "x", color="black", ms=9, label="sd of NUTS means across seeds")
        anchor = summary["mean_sd"].sel(inference="nuts", param=param).values[0]
        ax.plot(noise, anchor * noise / noise[0], "--", color="gray", label="∝ noise")
        ax.set(xscale="log", yscale="log", xlabel="noise level", title=LABELS[param])
    axes[0].set_ylabel("posterior sd")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Posterior width against noise ({_title(summary)})")
    return fig


def fixed_truth_coverage(summary: xr.Dataset) -> Figure:
    """Coverage of each method's interval against noise, 95% Wilson bars, nominal level."""
    fig, axes = _panels(len(PARAMS))
    noise = summary["noise"].values
    nominal = float(summary.attrs["hdi_prob"])
    for ax, param in zip(axes, PARAMS, strict=True):
        for i, method in enumerate(POSTERIORS):
            c = summary.sel(inference=method, param=param)
            x = noise * 1.04 ** (i - 1)  # side by side, not on top of each other
            bars = [c["coverage"] - c["coverage_low"], c["coverage_high"] - c["coverage"]]
            ax.errorbar(
                x, c["coverage"], yerr=np.array(bars), capsize=3, label=method, **STYLE[method]
            )
        ax.axhline(nominal, color="gray", ls="--", label=f"nominal {nominal:.0%}")
        ax.set(xscale="log", ylim=(-0.02, 1.02), xlabel="noise level", title=LABELS[param])
    axes[0].set_ylabel("fraction of intervals holding the truth")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Coverage of the {nominal:.0%} intervals ({_title(summary)})")
    return fig


def fixed_truth_zscores(summary: xr.Dataset) -> Figure:
    """Histograms of (estimate - truth)/sd per method, all datasets, against N(0, 1)."""
    fig, axes = _panels(len(PARAMS))
    grid = np.linspace(-4, 4, 201)
    for ax, param in zip(axes, PARAMS, strict=True):
        for method in POSTERIORS:
            z = summary["z"].sel(inference=method, param=param).values.ravel()
            z = z[np.isfinite(z)]
            ax.hist(z, bins=np.linspace(-4, 4, 17), density=True, histtype="step", lw=1.8,
                    color=STYLE[method]["color"], label=f"{method} (n={z.size})")  # fmt: skip
        ax.plot(grid, np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi), color="black", label="N(0, 1)")
        ax.set(xlabel="z = (estimate - truth) / sd", title=LABELS[param])
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Calibration: z-scores ({_title(summary)})")
    return fig


def fixed_truth_vs_nuts(summary: xr.Dataset) -> Figure:
    """How far SVI and Laplace sit from NUTS: RMS shift of the means and sd ratio, against noise."""
    fig, axes = _panels(2)
    noise = summary["noise"].values
    lines = {"logN": "-", "logbeta": "--", "sigmain": ":"}
    for method in ("svi", "laplace"):
        for param in PARAMS:
            c = summary.sel(inference=method, param=param)
            label = f"{method} {LABELS[param]}"
            axes[0].plot(
                noise, c["rms_shift_vs_nuts"], ls=lines[param], label=label, **STYLE[method]
            )
            axes[1].plot(noise, c["sd_ratio_vs_nuts"], ls=lines[param], **STYLE[method])
    axes[0].axhline(0, color="gray")
    axes[1].axhline(1, color="gray")
    axes[0].set(xscale="log", xlabel="noise level", ylabel="RMS of (mean - NUTS mean) / NUTS sd")
    axes[1].set(xscale="log", xlabel="noise level", ylabel="sd / NUTS sd")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"SVI and Laplace against NUTS, over seeds ({_title(summary)})")
    return fig


def fixed_truth_cost(summary: xr.Dataset) -> Figure:
    """Wall seconds of each method's job per noise level: mean over seeds, min-max bars."""
    fig, axes = _panels(1, height=3.8)
    ax = axes[0]
    methods = list(summary["inference"].values)
    width = 0.8 / summary.sizes["noise"]
    for i, noise in enumerate(summary["noise"].values):
        seconds = summary["seconds"].sel(noise=noise)
        mean, low, high = seconds.mean("seed"), seconds.min("seed"), seconds.max("seed")
        x = np.arange(len(methods)) + (i - (summary.sizes["noise"] - 1) / 2) * width
        ax.bar(x, mean, width, yerr=[mean - low, high - mean], capsize=3, label=f"noise {noise:g}")
    ax.set_xticks(np.arange(len(methods)), methods)
    ax.set(ylabel="wall seconds per dataset (job)", title=f"Cost per method ({_title(summary)})")
    ax.legend(fontsize=8)
    return fig
