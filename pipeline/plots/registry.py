"""Every figure: the stage files it is drawn from, its plotting module and its config settings.

Read by the Snakefile (to wire the figure rule) and by the figure stage; kept free of heavy
imports so the workflow can read it while parsing its rules.
"""

from __future__ import annotations

from typing import NamedTuple


class FigureSpec(NamedTuple):
    """How one figure is made: pipeline.plots.<module>.<figure name>(*inputs, **options)."""

    # the files it is drawn from, in argument order: a dataset's or study's layout name, a
    # method entry's name (its file), or FITS: every method entry fitting the config's model
    # (a dict name -> file, the reference first)
    inputs: tuple[str, ...]
    module: str  # the pipeline.plots module that draws it
    # settings it takes as keyword arguments: config["figures"]'s, config["study"]'s, or
    # STYLES, each method entry's label and colour
    options: tuple[str, ...] = ()


FITS = "fits"
STYLES = "styles"


FIGURES: dict[str, FigureSpec] = {
    "cross_section": FigureSpec(("data",), "fit"),
    "transmission": FigureSpec(("data",), "fit"),
    "data": FigureSpec(("data",), "fit"),
    "chi2_map": FigureSpec(("chi2_map",), "fit", ("chi2_levels", "chi2_vmin", "chi2_vmax")),
    "steepest_descent": FigureSpec(("chi2_map", "optimize"), "fit", ("chi2_levels",)),
    "adam": FigureSpec(("chi2_map", "optimize"), "fit", ("chi2_levels",)),
    "best_fit": FigureSpec(("data", "optimize"), "fit"),
    "nuts_predictive": FigureSpec(("data", "nuts"), "posterior", ("band_prob",)),
    "nuts_pair": FigureSpec(("data", "nuts"), "posterior"),
    "nuts_vs_svi": FigureSpec(("data", "nuts", "svi"), "posterior"),
    # diffspec's additions: every method side by side
    "methods_pair": FigureSpec(("data", FITS), "methods", (STYLES,)),
    "cost": FigureSpec(("cost",), "methods", (STYLES,)),
    "evidence": FigureSpec(("evidence",), "methods"),
}

# the tutorial's ten figures (the others are diffspec's)
TUTORIAL_FIGURES = tuple(FIGURES)[:10]

# figures of a fixed-truth sweep across datasets, drawn from results/fixed_truth/summary.nc
FIXED_TRUTH_FIGURES: dict[str, FigureSpec] = {
    name: FigureSpec(("fixed_truth_summary",), "fixed_truth", (STYLES,))
    for name in (
        "fixed_truth_posterior_sd",
        "fixed_truth_coverage",
        "fixed_truth_zscores",
        "fixed_truth_vs_reference",
        "fixed_truth_cost",
    )
}

# figures of a simulation-based calibration study, drawn from results/sbc/ranks.nc
SBC_FIGURES: dict[str, FigureSpec] = {
    "sbc_ecdf": FigureSpec(("sbc_ranks",), "sbc", (STYLES,)),
    "sbc_ranks": FigureSpec(("sbc_ranks",), "sbc", ("rank_bins", STYLES)),
    "sbc_coverage": FigureSpec(("sbc_ranks",), "sbc", (STYLES,)),
    "sbc_ecdf_by_noise": FigureSpec(("sbc_ranks",), "sbc", (STYLES,)),
    "sbc_ranks_by_noise": FigureSpec(("sbc_ranks",), "sbc", ("rank_bins", STYLES)),
    "sbc_coverage_by_noise": FigureSpec(("sbc_ranks",), "sbc", (STYLES,)),
}
