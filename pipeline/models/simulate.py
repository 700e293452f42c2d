"""Synthetic data from a model: the mean flux at a truth plus Gaussian noise, for the
workflow's datasets (a fixed truth) and a calibration study's (truths from the prior)."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import numpy as np
from numpyro.infer import Predictive

from pipeline.models.spec import Model
from pipeline.physics.forward import Line
from pipeline.physics.simulate import gaussian_noise


def simulate(
    model: Model, line: Line, truth: Mapping[str, float], sigma_noise: float, seed: int
) -> dict[str, np.ndarray]:
    """One dataset at `truth` (the line parameters): the true and observed flux (noise drawn
    from RandomState(seed)) and, where the model has one, the cross-section (cm^2)."""
    dtype = np.asarray(line.nu).dtype
    theta = {n: float(truth[n]) for n in model.line_names}
    f_true = np.asarray(model.mean(line, theta))
    arrays = {
        "f_true": f_true,
        "f_obs": f_true + gaussian_noise(sigma_noise, seed, len(f_true), str(dtype)),
    }
    if model.cross_section is not None:
        arrays["cross_section"] = np.asarray(model.cross_section(line, theta))
    return arrays


def prior_draws(model: Model, line: Line, priors: Mapping, keys: np.ndarray) -> np.ndarray:
    """One draw of every parameter from the model's prior per key: (dataset, param)."""
    draw = Predictive(model.numpyro_model, num_samples=1, return_sites=list(model.names))
    draws = jax.jit(jax.vmap(lambda k: draw(k, line, priors)))(keys)
    return np.stack([np.asarray(draws[n])[:, 0] for n in model.names], axis=1)


def simulate_from_truths(
    model: Model, line: Line, truths: np.ndarray, seeds: np.ndarray
) -> np.ndarray:
    """Observed flux (dataset, nu) at each row of `truths` (dataset, param), the noise level
    being the truth's noise parameter, each drawn from RandomState of its seed."""
    dtype = str(np.asarray(line.nu).dtype)
    f_true = np.asarray(jax.jit(jax.vmap(lambda t: model.mean(line, model.named(t))))(truths))
    noise_sd = truths[:, model.names.index(model.noise_name)]
    noise = [
        gaussian_noise(sd, seed, f_true.shape[1], dtype)
        for sd, seed in zip(noise_sd, seeds, strict=True)
    ]
    return f_true + np.stack(noise)
