"""The noise of synthetic data: Gaussian with a known level, drawn with numpy's legacy
generator so that the tutorial's seed gives the tutorial's draw."""

from __future__ import annotations

import numpy as np


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
