"""A gradient-free MCMC baseline: numpyro's SA (sample adaptive) sampler on a batch of datasets.

SA proposes from a Gaussian fitted to its own population of recent points (dense: with all
correlations), so it needs only values of the log density, never its gradient. From numpyro's
default start it fails on this posterior; each chain starts at its own draw of the dataset's
Laplace approximation instead: dispersed, so that r-hat can see a chain stuck where it began.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from numpyro.infer import MCMC, SA, init_to_value

from pipeline.inference.batching import ONE_DATASET, Batching, run_batched
from pipeline.models.spec import Problem


def fit_gradient_free(
    problem: Problem,
    ys: np.ndarray,
    starts: np.ndarray,
    keys: np.ndarray,
    settings: Any,
    batching: Batching = ONE_DATASET,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """SA on each dataset (rows of `ys`), each chain started at its own point of the dataset's
    `starts` (dataset, chain, param; the model's parameters in order). Returns arrays with axes
    (dataset, chain, draw): the parameters and `accept_prob`; chains run on
    split(split(key)[1], num_chains), as NUTS's."""
    model = problem.model

    def chain(key, y, start, line, priors):
        kernel = SA(
            model.numpyro_model,
            dense_mass=True,
            init_strategy=init_to_value(values=model.named(start)),
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
        dataset_key, y, chain_starts = item
        keys = jax.random.split(jax.random.split(dataset_key)[1], settings.num_chains)
        # numpyro's own vectorised chains reject an init_to_value start; vmap one chain instead
        return jax.vmap(lambda k, s: chain(k, y, s, line, priors))(keys, chain_starts)

    return run_batched(fit_one, (keys, ys, starts), problem[1:], batching, "SA")
