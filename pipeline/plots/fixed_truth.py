"""Figures of a fixed-truth sweep over noise levels and seeds, drawn from its summary.nc alone.

Every figure takes the summary and, as the keyword `styles`, each entry's label and colour
({name: {"label": ..., "color": ...}}, from the registry); an entry without a style (the
optimiser's row) gets its name and a colour of matplotlib's cycle. The parameters are the
summary's `param` coordinate; the entries with a posterior width are those with a finite sd;
the reference is the summary's attribute `reference`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

Styles = Mapping[str, Mapping[str, str]]

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">")
LINES = ("-", "--", ":", "-.")  # one per parameter in fixed_truth_vs_reference


def _panels(n: int, height: float = 3.6):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, height), layout="constrained", squeeze=False)
    return fig, axes[0]


def _title(summary: xr.Dataset) -> str:
    return f"fixed truth; {summary.sizes['noise']} noise levels x {summary.sizes['seed']} seeds"


def _entries(summary: xr.Dataset) -> list[str]:
    return [str(name) for name in summary["inference"].values]


def _params(summary: xr.Dataset) -> list[str]:
    return [str(p) for p in summary["param"].values]


def style(summary: xr.Dataset, styles: Styles | None, name: str) -> dict[str, str]:
    """An entry's label, colour and marker: its style if given, else its name and the colour
    of its place in matplotlib's cycle."""
    i = _entries(summary).index(name)
    default = {"label": name, "color": f"C{i % 10}"}
    found = {**default, **(styles or {}).get(name, {})}
    return {"label": found["label"], "color": found["color"], "marker": MARKERS[i % len(MARKERS)]}


def param_label(summary: xr.Dataset, param: str) -> str:
    """A parameter's label in figures: its model's (summary attribute `model`), else its name."""
    from pipeline.models import MODELS

    model = MODELS.get(str(summary.attrs.get("model", "")))
    if model is not None and param in model.names:
        return model.parameter(param).label
    return param


def posterior_entries(summary: xr.Dataset) -> list[str]:
    """The entries with a posterior width: a finite sd somewhere."""
    sd = summary["sd"]
    return [n for n in _entries(summary) if bool(np.isfinite(sd.sel(inference=n)).any())]


def reference(summary: xr.Dataset) -> str:
    """The entry the *_vs_reference variables compare with."""
    return str(summary.attrs["reference"])


def fixed_truth_posterior_sd(summary: xr.Dataset, *, styles: Styles | None = None) -> Figure:
    """Mean posterior sd against noise per entry, the spread of the reference's estimates
    across seeds, and sd ∝ noise."""
    params = _params(summary)
    fig, axes = _panels(len(params))
    noise = summary["noise"].values
    ref = reference(summary)
    ref_label = style(summary, styles, ref)["label"]
    for ax, param in zip(axes, params, strict=True):
        for name in posterior_entries(summary):
            s = style(summary, styles, name)
            sd = summary["mean_sd"].sel(inference=name, param=param)
            ax.plot(noise, sd, label=f"{s['label']} mean sd", color=s["color"], marker=s["marker"])
        spread = summary["estimate_spread"].sel(inference=ref, param=param)
        ax.plot(
            noise,
            spread,
            "x",
            color="black",
            ms=9,
            label=f"sd of {ref_label} estimates across seeds",
        )
        anchor = summary["mean_sd"].sel(inference=ref, param=param).values[0]
        ax.plot(noise, anchor * noise / noise[0], "--", color="gray", label="∝ noise")
        ax.set(xscale="log", yscale="log", xlabel="noise level", title=param_label(summary, param))
    axes[0].set_ylabel("posterior sd")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Posterior width against noise ({_title(summary)})")
    return fig


def fixed_truth_coverage(summary: xr.Dataset, *, styles: Styles | None = None) -> Figure:
    """Coverage of each entry's interval against noise, 95% Wilson bars, nominal level."""
    params = _params(summary)
    fig, axes = _panels(len(params))
    noise = summary["noise"].values
    nominal = float(summary.attrs["hdi_prob"])
    entries = posterior_entries(summary)
    for ax, param in zip(axes, params, strict=True):
        for i, name in enumerate(entries):
            s = style(summary, styles, name)
            c = summary.sel(inference=name, param=param)
            x = noise * 1.04 ** (i - (len(entries) - 1) / 2)  # side by side, not on top
            bars = [c["coverage"] - c["coverage_low"], c["coverage_high"] - c["coverage"]]
            ax.errorbar(
                x,
                c["coverage"],
                yerr=np.array(bars),
                capsize=3,
                label=s["label"],
                color=s["color"],
                marker=s["marker"],
            )
        ax.axhline(nominal, color="gray", ls="--", label=f"nominal {nominal:.0%}")
        ax.set(
            xscale="log",
            ylim=(-0.02, 1.02),
            xlabel="noise level",
            title=param_label(summary, param),
        )
    axes[0].set_ylabel("fraction of intervals holding the truth")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Coverage of the {nominal:.0%} intervals ({_title(summary)})")
    return fig


def fixed_truth_zscores(summary: xr.Dataset, *, styles: Styles | None = None) -> Figure:
    """Histograms of (estimate - truth) / sd per entry, all datasets, against N(0, 1)."""
    params = _params(summary)
    fig, axes = _panels(len(params))
    grid = np.linspace(-4, 4, 201)
    for ax, param in zip(axes, params, strict=True):
        for name in posterior_entries(summary):
            s = style(summary, styles, name)
            z = summary["z"].sel(inference=name, param=param).values.ravel()
            z = z[np.isfinite(z)]
            ax.hist(
                z,
                bins=np.linspace(-4, 4, 17),
                density=True,
                histtype="step",
                lw=1.8,
                color=s["color"],
                label=f"{s['label']} (n={z.size})",
            )
        ax.plot(grid, np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi), color="black", label="N(0, 1)")
        ax.set(xlabel="z = (estimate - truth) / sd", title=param_label(summary, param))
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Calibration: z-scores ({_title(summary)})")
    return fig


def fixed_truth_vs_reference(summary: xr.Dataset, *, styles: Styles | None = None) -> Figure:
    """How far every other entry with a posterior sits from the reference: RMS shift of the
    estimates in units of the reference's sd, and the sd ratio, against noise."""
    fig, axes = _panels(2)
    noise = summary["noise"].values
    ref = reference(summary)
    ref_label = style(summary, styles, ref)["label"]
    others = [name for name in posterior_entries(summary) if name != ref]
    for name in others:
        s = style(summary, styles, name)
        for j, param in enumerate(_params(summary)):
            c = summary.sel(inference=name, param=param)
            ls = LINES[j % len(LINES)]
            axes[0].plot(
                noise,
                c["rms_shift_vs_reference"],
                ls=ls,
                color=s["color"],
                marker=s["marker"],
                label=f"{s['label']} {param_label(summary, param)}",
            )
            axes[1].plot(
                noise, c["sd_ratio_vs_reference"], ls=ls, color=s["color"], marker=s["marker"]
            )
    axes[0].axhline(0, color="gray")
    axes[1].axhline(1, color="gray")
    axes[0].set(
        xscale="log",
        xlabel="noise level",
        ylabel=f"RMS of (estimate - {ref_label} estimate) / {ref_label} sd",
    )
    axes[1].set(xscale="log", xlabel="noise level", ylabel=f"sd / {ref_label} sd")
    if others:
        axes[0].legend(fontsize=8)
    names = ", ".join(style(summary, styles, n)["label"] for n in others) or "no other entry"
    fig.suptitle(f"{names} against {ref_label}, over seeds ({_title(summary)})")
    return fig


def fixed_truth_cost(summary: xr.Dataset, *, styles: Styles | None = None) -> Figure:
    """Wall seconds of each entry's job per noise level: mean over seeds, min-max bars."""
    fig, axes = _panels(1, height=3.8)
    ax = axes[0]
    entries = _entries(summary)
    width = 0.8 / summary.sizes["noise"]
    for i, noise in enumerate(summary["noise"].values):
        seconds = summary["seconds"].sel(noise=noise)
        mean, low, high = seconds.mean("seed"), seconds.min("seed"), seconds.max("seed")
        x = np.arange(len(entries)) + (i - (summary.sizes["noise"] - 1) / 2) * width
        ax.bar(x, mean, width, yerr=[mean - low, high - mean], capsize=3, label=f"noise {noise:g}")
    ax.set_xticks(np.arange(len(entries)), [style(summary, styles, n)["label"] for n in entries])
    for tick, name in zip(ax.get_xticklabels(), entries, strict=True):
        tick.set_color(style(summary, styles, name)["color"])
    ax.set(ylabel="wall seconds per dataset (job)", title=f"Cost per entry ({_title(summary)})")
    ax.legend(fontsize=8)
    return fig
