"""SVI (numpyro, AutoMultivariateNormal guide) on a batch of datasets, then guide draws."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import numpyro
import optax
from numpyro.infer import SVI, Predictive, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal

from pipeline.inference.batching import ONE_DATASET, Batching, run_batched
from pipeline.models.spec import Problem


def fit_svi(
    problem: Problem,
    ys: np.ndarray,
    keys: np.ndarray,
    settings: Any,
    batching: Batching = ONE_DATASET,
    predictive: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """SVI (AutoMultivariateNormal guide, Adam, Trace_ELBO) on each dataset, then guide draws.

    Returns arrays with a leading dataset axis: `loss` (step), the guide's `auto_loc` and
    `auto_scale_tril` (its latent vector orders the parameters as the model's sample sites),
    the parameters' draws (draw) and, with `predictive`, `y` (draw, nu). Keys are split as in
    the tutorial: (draws, optimisation) = split(key).
    """
    model = problem.model.numpyro_model
    names = list(problem.model.names)

    def fit_one(item, line, priors):
        key, y = item
        draw_key, run_key = jax.random.split(key)
        guide = AutoMultivariateNormal(model)
        svi = SVI(model, guide, _optimizer(settings), Trace_ELBO())
        state = svi.init(run_key, line, priors, y)
        # the same updates as numpyro's svi.run, without its progress bar's host callbacks
        state, losses = jax.lax.scan(
            lambda state, _: svi.update(state, line, priors, y), state, length=settings.num_steps
        )
        params = svi.get_params(state)
        draws = Predictive(
            model, guide=guide, params=params, num_samples=settings.num_draws, return_sites=names
        )(draw_key, line, priors)
        out = {"loss": losses, **params, **draws}
        if predictive:
            out["y"] = Predictive(model, posterior_samples=draws, return_sites=["y"])(
                draw_key, line, priors
            )["y"]
        return out

    return run_batched(fit_one, (keys, ys), problem[1:], batching, "SVI")


def _optimizer(settings: Any):
    """Adam at a constant rate (numpyro's, the tutorial's) or, with a final rate fraction
    below 1, at a rate decaying exponentially to that fraction over the steps (optax's)."""
    if settings.final_learning_rate_fraction == 1:
        return numpyro.optim.Adam(settings.learning_rate)
    schedule = optax.exponential_decay(
        settings.learning_rate, settings.num_steps, settings.final_learning_rate_fraction
    )
    return numpyro.optim.optax_to_numpyro(optax.adam(schedule))
