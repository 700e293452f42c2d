"""Figures of a simulation-based calibration study, drawn from results/sbc/ranks.nc alone.

Three views of the ranks, each for all datasets (`sbc_*`) and per group of the noise estimated
from the data (`*_by_noise`):
ECDF differences with simultaneous 95% bands (Säilynoja, Bürkner & Vehtari 2022, drawn by
ArviZ), rank histograms with the binomial band (Talts et al. 2018), and coverage of central
intervals at every level.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr
from arviz.stats.ecdf_utils import ecdf_confidence_band
from matplotlib.figure import Figure
from scipy import stats

from pipeline.analysis.calibration import coverage_curve, pit

# the test quantities' labels; a parameter is labelled by its name
LABELS = {"loglik": "log p(y | θ)", "logjoint": "log p(y, θ)"}
BAND_PROB = 0.95


def _grid(rows: int, columns: int, height: float = 2.6):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        rows, columns, figsize=(3.4 * columns, height * rows), layout="constrained",
        sharex=True, squeeze=False,
    )  # fmt: skip
    return fig, axes


def _used_ranks(ranks: xr.Dataset, method: str, quantity: str, members=None) -> np.ndarray:
    fits = ranks.sel(inference=method, quantity=quantity)
    keep = fits["used"].values.astype(bool) & np.isfinite(fits["rank"].values)
    if members is not None:
        keep &= members
    return fits["rank"].values[keep]


def _titles(fig: Figure, title: str, ranks: xr.Dataset) -> None:
    """The figure's title, and below the panels what the ranks are of."""
    flagged = "counted" if ranks.attrs["include_flagged"] else "left out"
    fig.suptitle(title)
    fig.supxlabel(
        f"{ranks.sizes['dataset']} datasets with truths drawn from the prior, "
        f"L = {ranks.attrs['num_draws']} draws each; fits that failed their checks {flagged}",
        fontsize=8,
    )


def _ecdf(ax, r: np.ndarray, num_draws: int, color: str, band: bool) -> None:
    """ArviZ's ECDF-difference plot of the ranks with its simultaneous band."""
    # at K rank boundaries j / K, K the largest divisor of L + 1 up to 100: independent of
    # the values, as simultaneous bands need
    slots = num_draws + 1
    points = max(k for k in range(1, min(slots, 100) + 1) if slots % k == 0)
    eval_points = np.arange(1, points + 1) / points
    az.plot_ecdf(
        pit(r, num_draws), cdf=stats.uniform(0, 1).cdf, eval_points=eval_points,
        difference=True, confidence_bands="optimized" if band else False, ci_prob=BAND_PROB,
        plot_kwargs={"color": color}, fill_kwargs={"color": "gray", "alpha": 0.2}, ax=ax,
    )  # fmt: skip


def _by_method(ranks: xr.Dataset, draw, ylabel: str, xlabel: str, styles: dict) -> Figure:
    """One row per method, one column per quantity: draw(ax, ranks, colour) in each panel."""
    methods, quantities = list(ranks["inference"].values), list(ranks["quantity"].values)
    fig, axes = _grid(len(methods), len(quantities))
    for row, method in zip(axes, methods, strict=True):
        for ax, quantity in zip(row, quantities, strict=True):
            r = _used_ranks(ranks, method, quantity)
            draw(ax, r, styles[method]["color"])
            ax.set_title(f"{method}: {LABELS.get(quantity, quantity)} (n={r.size})", fontsize=9)
        row[0].set_ylabel(ylabel)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    return fig


def sbc_ecdf(ranks: xr.Dataset, *, styles: dict) -> Figure:
    """ECDF of the ranks minus the uniform CDF, per method (rows) and quantity (columns)."""
    num_draws = int(ranks.attrs["num_draws"])
    fig = _by_method(
        ranks, lambda ax, r, color: _ecdf(ax, r, num_draws, color, band=True),
        "ECDF - uniform", "normalised rank", styles,
    )  # fmt: skip
    _titles(fig, f"SBC: rank ECDF differences, simultaneous {BAND_PROB:.0%} bands", ranks)
    return fig


def _histogram(ax, r: np.ndarray, num_draws: int, bins: int, color: str, band: bool) -> None:
    edges = np.linspace(0, num_draws + 1, bins + 1)
    if band:  # 99% of the counts a calibrated method puts in one bin (pointwise, Talts et al.)
        low, high = stats.binom.ppf([0.005, 0.995], r.size, 1 / bins)
        ax.axhspan(low, high, color="gray", alpha=0.25, lw=0)
        ax.axhline(r.size / bins, color="gray", lw=0.8)
    ax.hist(r, bins=edges, histtype="step", color=color, lw=1.5)


def sbc_ranks(ranks: xr.Dataset, *, rank_bins: int, styles: dict) -> Figure:
    """Histograms of the ranks, per method (rows) and quantity (columns), with the 99%
    binomial band of a bin's count under calibration."""
    num_draws = int(ranks.attrs["num_draws"])
    fig = _by_method(
        ranks, lambda ax, r, color: _histogram(ax, r, num_draws, rank_bins, color, band=True),
        "datasets", f"rank of the truth (0..{num_draws})", styles,
    )  # fmt: skip
    _titles(fig, f"SBC: rank histograms, {rank_bins} bins, 99% binomial band", ranks)
    return fig


def _coverage(ax, r: np.ndarray, num_draws: int, color: str, label: str, band: bool) -> None:
    levels, covered = coverage_curve(r, num_draws)
    if band:  # coverage is the ECDF of 2|u - 1/2|, uniform under calibration: the same band
        inner = levels[1:-1]
        low, high = ecdf_confidence_band(r.size, inner, inner, prob=BAND_PROB, method="optimized")
        ax.fill_between(inner, low - inner, high - inner, color="gray", alpha=0.2, lw=0)
    ax.plot(levels, covered - levels, color=color, label=label)
    ax.axhline(0, color="gray", lw=0.8)


def sbc_coverage(ranks: xr.Dataset, *, styles: dict) -> Figure:
    """Coverage of central intervals minus their nominal level, at every level, per quantity,
    methods overlaid, with the simultaneous 95% band of one method."""
    methods, quantities = list(ranks["inference"].values), list(ranks["quantity"].values)
    num_draws = int(ranks.attrs["num_draws"])
    fig, axes = _grid(1, len(quantities), height=3.2)
    for ax, quantity in zip(axes[0], quantities, strict=True):
        for i, method in enumerate(methods):
            r = _used_ranks(ranks, method, quantity)
            color = styles[method]["color"]
            _coverage(ax, r, num_draws, color, f"{method} (n={r.size})", band=i == 0)
        ax.set(title=LABELS.get(quantity, quantity), xlabel="nominal level of the central interval")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("empirical - nominal coverage")
    _titles(fig, f"SBC: coverage of central intervals, {BAND_PROB:.0%} band", ranks)
    return fig


def _by_noise(ranks: xr.Dataset, draw, ylabel: str, what: str, styles: dict) -> Figure:
    """One row per group of the noise estimated from the data, one column per quantity,
    methods overlaid."""
    methods, quantities = list(ranks["inference"].values), list(ranks["quantity"].values)
    groups = sorted(np.unique(ranks["stratum"].values))
    noise = ranks["noise_estimate"].values
    fig, axes = _grid(len(groups), len(quantities))
    for row, group in zip(axes, groups, strict=True):
        members = ranks["stratum"].values == group
        low, high = noise[members].min(), noise[members].max()
        for ax, quantity in zip(row, quantities, strict=True):
            for i, method in enumerate(methods):
                r = _used_ranks(ranks, method, quantity, members)
                draw(ax, r, styles[method]["color"], method, i == 0)
            title = f"{LABELS.get(quantity, quantity)}, noise est. {low:.3g}-{high:.3g}"
            ax.set_title(title, fontsize=9)
        row[0].set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=7)
    _titles(fig, f"SBC by the noise estimated from the data: {what}", ranks)
    return fig


def sbc_ecdf_by_noise(ranks: xr.Dataset, *, styles: dict) -> Figure:
    """The ECDF differences again, per quantile group of the noise estimated from the data."""
    num_draws = int(ranks.attrs["num_draws"])

    def draw(ax, r, color, method, band):
        _ecdf(ax, r, num_draws, color, band)
        ax.lines[-1].set_label(method)

    what = f"ECDF differences, {BAND_PROB:.0%} bands"
    return _by_noise(ranks, draw, "ECDF - uniform", what, styles)


def sbc_ranks_by_noise(ranks: xr.Dataset, *, rank_bins: int, styles: dict) -> Figure:
    """The rank histograms again, per quantile group of the noise estimated from the data."""
    num_draws = int(ranks.attrs["num_draws"])

    def draw(ax, r, color, method, band):
        _histogram(ax, r, num_draws, rank_bins, color, band)
        ax.patches[-1].set_label(method)

    return _by_noise(ranks, draw, "datasets", f"rank histograms, {rank_bins} bins", styles)


def sbc_coverage_by_noise(ranks: xr.Dataset, *, styles: dict) -> Figure:
    """The coverage curves again, per quantile group of the noise estimated from the data."""
    num_draws = int(ranks.attrs["num_draws"])

    def draw(ax, r, color, method, band):
        _coverage(ax, r, num_draws, color, method, band)

    return _by_noise(ranks, draw, "empirical - nominal", "coverage of central intervals", styles)
