"""Synthetic data: the noise model, the datasets of the workflow and those of a study.

Noise is Gaussian with a known level, drawn with numpy's legacy generator so that the
tutorial's seed gives the tutorial's draw. A dataset of the workflow is (noise level, seed);
a dataset of a simulation-based calibration study is an index, with its truth drawn from the
model's own prior and its noise from a seed of its own.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from pipeline.physics.forward import Line, cross_section, transmission


class LineSettings(NamedTuple):
    """The wavenumber grid and the known line parameters (config section `line`)."""

    nu0: float  # line centre, cm^-1
    half_width: float  # the grid spans nu0 +- half_width, cm^-1
    n_points: int
    line_strength: float  # cm^2 cm^-1
    gamma: float  # Lorentzian HWHM, cm^-1

    def line(self, dtype: str) -> Line:
        """The known part of the model on this grid."""
        nu = jnp.linspace(
            self.nu0 - self.half_width, self.nu0 + self.half_width, self.n_points, dtype=dtype
        )
        return Line(nu=nu, nu0=self.nu0, gamma=self.gamma, line_strength=self.line_strength)


def gaussian_noise(sigma: float, seed: int, n: int, dtype: str) -> np.ndarray:
    """n draws of N(0, sigma^2) from numpy.random.RandomState(seed), as the tutorial draws."""
    return np.random.RandomState(seed).normal(0.0, sigma, n).astype(dtype)


def noise_seed(seed: int, sigma_noise: float, reference_noise: float, common: bool) -> int:
    """The RandomState seed of dataset (sigma_noise, seed).

    At the reference noise level (the tutorial's 0.1), and at every level with common random
    numbers, it is `seed` itself: noise 0.1, seed 72 is the tutorial's draw. At any other level
    the seed is mixed with the level's bits, so datasets of different levels are independent.
    """
    if common or sigma_noise == reference_noise:
        return int(seed)
    bits = np.frombuffer(np.float64(sigma_noise).tobytes(), dtype=np.uint32)
    return int(np.random.SeedSequence([int(seed), *map(int, bits)]).generate_state(1)[0])


def simulate(
    settings: LineSettings, logN: float, logbeta: float, sigma_noise: float, seed: int, dtype: str
) -> dict[str, np.ndarray]:
    """One dataset: the grid (cm^-1), cross-section (cm^2), true and observed transmission for
    the RandomState seed `seed` (see noise_seed)."""
    line = settings.line(dtype)
    f_true = np.asarray(transmission(line, logN, logbeta))
    return {
        "nu": np.asarray(line.nu),
        "cross_section": np.asarray(cross_section(line, 10.0**logbeta)),
        "f_true": f_true,
        "f_obs": f_true + gaussian_noise(sigma_noise, seed, settings.n_points, dtype),
    }
