"""Forward model: one Voigt absorption line seen in transmission, and its chi^2 against data.

Parameters follow the tutorial: logN = log10 of the column density N (cm^-2) and
logbeta = log10 of the Gaussian standard deviation beta (cm^-1); the Lorentzian HWHM gamma,
the line centre nu0 and the line strength are known.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from pipeline.physics.voigt import voigt_profile


class Line(NamedTuple):
    """The known part of the model: wavenumber grid and the fixed line parameters."""

    nu: jax.Array  # wavenumber grid, cm^-1
    nu0: float  # line centre, cm^-1
    gamma: float  # Lorentzian HWHM, cm^-1
    line_strength: float  # integrated cross-section, cm^2 cm^-1


# The line shapes a model may assume: the Voigt profile with the known Lorentzian width, or a
# pure Gaussian (Doppler) profile. One profile function serves both: Voigt at gamma = 0 is the
# Gaussian exactly.
LINE_SHAPES = ("voigt", "gaussian")


def with_line_shape(line: Line, shape: str) -> Line:
    """`line` as a model of the given shape: unchanged for 'voigt', gamma = 0 for 'gaussian'."""
    if shape not in LINE_SHAPES:
        raise ValueError(f"line shape must be one of {LINE_SHAPES}, got {shape!r}")
    return line if shape == "voigt" else line._replace(gamma=0.0)


def cross_section(line: Line, beta: jax.Array) -> jax.Array:
    """Absorption cross-section sigma(nu) in cm^2 for Gaussian standard deviation beta (cm^-1)."""
    return line.line_strength * voigt_profile(line.nu - line.nu0, beta, line.gamma)


def transmission(line: Line, logN: jax.Array, logbeta: jax.Array) -> jax.Array:
    """Transmitted flux exp(-N sigma(nu)) of a flat unit spectrum (dimensionless)."""
    return jnp.exp(-cross_section(line, 10.0**logbeta) * 10.0**logN)


def chi2(params: jax.Array, line: Line, f_obs: jax.Array, sigma_noise: float) -> jax.Array:
    """chi^2 = sum((f - f_obs)^2) / sigma_noise^2 at params = (logN, logbeta)."""
    residual = transmission(line, params[0], params[1]) - f_obs
    return jnp.sum(residual**2) / sigma_noise**2


@jax.jit
def chi2_grid(
    logN: jax.Array, logbeta: jax.Array, line: Line, f_obs: jax.Array, sigma_noise: float
) -> jax.Array:
    """chi^2 on the grid logbeta x logN (shape (len(logbeta), len(logN))), vectorised with vmap."""

    def at(n: jax.Array, b: jax.Array) -> jax.Array:
        return chi2(jnp.stack([n, b]), line, f_obs, sigma_noise)

    return jax.vmap(jax.vmap(at, in_axes=(0, None)), in_axes=(None, 0))(logN, logbeta)
