"""Which stage outputs each figure is drawn from; read by the Snakefile and the figure stage.

Kept free of heavy imports so the workflow can read it while parsing its rules.
"""

from __future__ import annotations

# figure name -> the dataset files (NetCDF layouts) it is drawn from, in argument order
FIGURES: dict[str, tuple[str, ...]] = {
    "cross_section": ("data",),
    "transmission": ("data",),
    "data": ("data",),
    "chi2_map": ("chi2_map",),
    "steepest_descent": ("chi2_map", "optimize"),
    "adam": ("chi2_map", "optimize"),
    "best_fit": ("data", "optimize"),
}

# figures drawn over the chi^2 contours, which take the contour settings of the config
CHI2_FIGURES = ("chi2_map", "steepest_descent", "adam")
