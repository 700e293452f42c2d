"""Forward model: Voigt absorption lines seen in transmission, in physical units.

The physics knows column densities and widths, not the names or scales (logarithms) in which
a model samples them: that belongs to the model specifications (pipeline.models).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from pipeline.physics.voigt import voigt_profile


class Line(NamedTuple):
    """The known part of a line model: the wavenumber grid and the fixed line parameters."""

    nu: jax.Array  # wavenumber grid, cm^-1
    nu0: float  # line centre, cm^-1
    gamma: float  # Lorentzian HWHM, cm^-1 (known; a model may replace it by a free one)
    line_strength: float  # integrated cross-section, cm^2 cm^-1


def cross_section(line: Line, beta: jax.Array) -> jax.Array:
    """Absorption cross-section sigma(nu) in cm^2 for Gaussian standard deviation beta (cm^-1)."""
    return line.line_strength * voigt_profile(line.nu - line.nu0, beta, line.gamma)


def transmission(line: Line, column_density: jax.Array, beta: jax.Array) -> jax.Array:
    """Transmitted flux exp(-N sigma(nu)) of a flat unit spectrum (dimensionless), for column
    density N (cm^-2) and Gaussian standard deviation beta (cm^-1)."""
    return jnp.exp(-cross_section(line, beta) * column_density)
