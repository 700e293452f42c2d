"""A gradient-free MCMC baseline: numpyro's SA (sample adaptive) sampler on a batch of datasets.

SA proposes from a Gaussian fitted to its own population of recent points (dense: with all
correlations), so it needs only values of the log density, never its gradient. From numpyro's
default start it fails on this posterior; it starts at each dataset's Laplace mode instead.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np
from numpyro.infer import MCMC, SA, init_to_value

from pipeline.inference.batching import ONE_DATASET, Batching, run_batched
from pipeline.inference.model import Priors, model
from pipeline.io.layouts import PARAMS
from pipeline.physics.forward import Line


class GradientFreeSettings(NamedTuple):
    """SA's iterations per chain, chains (vectorised) and the thinning of the kept draws."""

    num_warmup: int
    num_samples: int
    num_chains: int
    thinning: int


def fit_gradient_free(
    line: Line,
    priors: Priors,
    ys: np.ndarray,
    starts: np.ndarray,
    keys: np.ndarray,
    settings: GradientFreeSettings,
    batching: Batching = ONE_DATASET,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """SA on each dataset (rows of `ys`), every chain started at the dataset's row of `starts`
    (logN, logbeta, sigmain). Returns arrays with axes (dataset, chain, draw): the parameters
    and `accept_prob`; chains run on split(split(key)[1], num_chains), as NUTS's."""

    def chain(key, y, start, line, priors):
        kernel = SA(
            model,
            dense_mass=True,
            init_strategy=init_to_value(values=dict(zip(PARAMS, start, strict=True))),
        )
        mcmc = MCMC(
            kernel,
            num_warmup=settings.num_warmup,
            num_samples=settings.num_samples,
            thinning=settings.thinning,
            progress_bar=False,
        )
        mcmc.run(key, line, priors, y, extra_fields=("accept_prob",))
        return {**mcmc.get_samples(), **mcmc.get_extra_fields()}

    def fit_one(item, line, priors):
        dataset_key, y, start = item
        keys = jax.random.split(jax.random.split(dataset_key)[1], settings.num_chains)
        # numpyro's own vectorised chains reject an init_to_value start; vmap one chain instead
        return jax.vmap(lambda k: chain(k, y, start, line, priors))(keys)

    return run_batched(fit_one, (keys, ys, starts), (line, priors), batching, "SA")


def value_evaluations(settings: GradientFreeSettings, num_params: int = len(PARAMS)) -> int:
    """Log-density evaluations of a fit, warmup included: per chain, SA's start (one) and its
    population of 2 x num_params points (one each), then one proposal per iteration."""
    per_chain = 1 + 2 * num_params + settings.num_warmup + settings.num_samples
    return settings.num_chains * per_chain
