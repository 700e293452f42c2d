"""The Bayesian model of (logN, logbeta, sigmain), shared by every inference method.

The tutorial's: uniform priors on logN and logbeta, an exponential prior on the noise level
sigmain, and a Gaussian likelihood around the transmission of the forward model.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpyro
import numpyro.distributions as dist
from numpyro.infer.util import log_density

from pipeline.io.layouts import PARAMS
from pipeline.physics.forward import Line, transmission


class Priors(NamedTuple):
    """Prior bounds of logN and logbeta and the rate of the exponential prior on sigmain."""

    logN: tuple[float, float]  # log10(cm^-2)
    logbeta: tuple[float, float]  # log10(cm^-1)
    sigmain_rate: float  # 1 / transmission units


def model(line: Line, priors: Priors, y: jax.Array | None = None) -> None:
    """Voigt-line transmission with Gaussian noise of unknown level; y = observed flux or None."""
    logN = numpyro.sample("logN", dist.Uniform(*priors.logN))
    logbeta = numpyro.sample("logbeta", dist.Uniform(*priors.logbeta))
    sigmain = numpyro.sample("sigmain", dist.Exponential(priors.sigmain_rate))
    numpyro.sample("y", dist.Normal(transmission(line, logN, logbeta), sigmain), obs=y)


def log_likelihood(line: Line, y: jax.Array, theta: jax.Array) -> jax.Array:
    """log p(y | theta) of the model for theta = (logN, logbeta, sigmain)."""
    mean = transmission(line, theta[0], theta[1])
    return dist.Normal(mean, theta[2]).log_prob(y).sum()


def log_joint(line: Line, priors: Priors, y: jax.Array, theta: jax.Array) -> jax.Array:
    """log p(y, theta) of the model for theta = (logN, logbeta, sigmain): what every sampler
    evaluates (numpyro's NUTS and SA in unconstrained coordinates, at the same cost)."""
    params = dict(zip(PARAMS, theta, strict=True))
    return log_density(model, (line, priors, y), {}, params)[0]
