"""What the figures share: axes, titles, and writing a PNG atomically."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import xarray as xr
from matplotlib.figure import Figure

from pipeline.io.atomic import replaced_atomically

NU_LABEL = "wavenumber (cm$^{-1}$)"


def axes(figsize: tuple[float, float] = (6.4, 4.4)):
    """A new figure with one set of axes, laid out so labels are never clipped."""
    return plt.subplots(figsize=figsize, layout="constrained")


def dataset_title(data: xr.Dataset) -> str:
    """'noise 0.1, seed 72': which dataset a figure shows."""
    return f"noise {data.attrs['sigma_noise']:g}, seed {data.attrs['seed']}"


def save(fig: Figure, path: str | os.PathLike) -> None:
    """Write `fig` as PNG atomically, then close it."""
    try:
        with replaced_atomically(path) as tmp:
            fig.savefig(tmp, dpi=150, metadata={"Software": None})
    finally:
        plt.close(fig)
