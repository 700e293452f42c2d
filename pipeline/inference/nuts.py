"""NUTS (numpyro) on a batch of datasets, each with its own warmup and adaptation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from numpyro.infer import MCMC, NUTS, Predictive

from pipeline.inference.batching import ONE_DATASET, Batching, run_batched
from pipeline.models.spec import Problem

# what NUTS records per draw besides the parameters (ArviZ renames them in sample_stats)
NUTS_FIELDS = ("diverging", "num_steps", "accept_prob", "adapt_state.step_size", "energy")
CHAIN_METHODS = ("vectorized", "sequential", "parallel")


def fit_nuts(
    problem: Problem,
    ys: np.ndarray,
    keys: np.ndarray,
    settings: Any,
    batching: Batching = ONE_DATASET,
    predictive: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """NUTS on each dataset (rows of `ys`), each with its own warmup and adaptation.

    Returns arrays with axes (dataset, chain, draw): the parameters, the sampler's fields
    NUTS_FIELDS and, with `predictive`, posterior-predictive draws `y` (dataset, chain, draw,
    nu); and `warmup_steps` (dataset, chain), the leapfrog steps of the warmup. A dataset's
    key is split as in the tutorial: its chain runs on split(key)[1] (several chains on the
    split of that into one key each), the predictive uses the same key.
    """
    model = problem.model.numpyro_model
    names = list(problem.model.names)

    def chain(key, y, line, priors):
        mcmc = MCMC(
            NUTS(
                model,
                target_accept_prob=settings.target_accept_prob,
                dense_mass=settings.dense_mass,
            ),
            num_warmup=settings.num_warmup,
            num_samples=settings.num_samples,
            progress_bar=False,  # the bar's host callbacks slow sampling and defeat the cache
        )
        # warmup's leapfrog steps are kept to count its gradient evaluations
        mcmc.warmup(key, line, priors, y, extra_fields=("num_steps",), collect_warmup=True)
        warmup_steps = mcmc.get_extra_fields()["num_steps"].sum()
        mcmc.run(mcmc.post_warmup_state.rng_key, line, priors, y, extra_fields=NUTS_FIELDS)
        draws = {**mcmc.get_samples(), **mcmc.get_extra_fields(), "warmup_steps": warmup_steps}
        if predictive:
            samples = {p: draws[p] for p in names}
            draws["y"] = Predictive(model, samples, return_sites=["y"])(key, line, priors)["y"]
        return draws

    def fit_one(item, line, priors):
        dataset_key, y = item
        _, key = jax.random.split(dataset_key)
        if settings.num_chains == 1:
            return jax.tree.map(lambda a: a[None], chain(key, y, line, priors))
        keys = jax.random.split(key, settings.num_chains)
        return _over_chains(lambda k: chain(k, y, line, priors), keys, settings)

    return run_batched(fit_one, (keys, ys), problem[1:], batching, "NUTS")


def _over_chains(run_chain: Callable, keys: jax.Array, settings: Any) -> Any:
    if settings.chain_method == "vectorized":
        return jax.vmap(run_chain)(keys)
    if settings.chain_method == "sequential":
        return jax.lax.map(run_chain, keys)
    # parallel: one XLA CPU device per chain (jax_num_cpu_devices set before JAX started)
    from jax.sharding import Mesh, PartitionSpec

    mesh = Mesh(jax.devices()[: settings.num_chains], ("chain",))
    return jax.shard_map(
        lambda k: jax.lax.map(run_chain, k),
        mesh=mesh,
        in_specs=PartitionSpec("chain"),
        out_specs=PartitionSpec("chain"),
        check_vma=False,  # numpyro's loops mix per-chain and replicated carries
    )(keys)
