"""What a model specification declares, once: its parameters (name, unit, labels, prior family,
domain, role), the known line quantities it reads from the config, and its mean flux. The
Bayesian model, the priors of every method (numpyro's, jaxns's), supports, chi^2, simulation
and the metadata of files and figures are all derived from it here.

theta travels by name: a dict {parameter name: value}. Where an algorithm needs a vector
(an optimiser, Newton's method), `vector` and `named` convert in the model's parameter order.

JAX and numpyro are imported where a model is evaluated, not here: the workflow reads the
specifications while it plans its jobs, and that must stay quick.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import jax
    import numpyro.distributions as dist

    from pipeline.physics.forward import Line

Theta = Mapping[str, "jax.Array"]


def _dist():
    import numpyro.distributions

    return numpyro.distributions


class PriorFamily(NamedTuple):
    """A family of prior distributions: its hyperparameters (the config keys under
    `priors.<parameter>`), the support they give and the distribution in numpyro and TFP."""

    keys: tuple[str, ...]
    support: Callable[[Mapping[str, float]], tuple[float, float]]
    numpyro: Callable[[Mapping[str, Any]], dist.Distribution]
    tfp: Callable[[Any, Mapping[str, Any]], Any]  # (tfp.distributions, hyperparameters)
    describe: str


PRIOR_FAMILIES: dict[str, PriorFamily] = {
    "uniform": PriorFamily(
        ("low", "high"),
        lambda h: (h["low"], h["high"]),
        lambda h: _dist().Uniform(h["low"], h["high"]),
        lambda tfpd, h: tfpd.Uniform(h["low"], h["high"]),
        "uniform on (low, high)",
    ),
    "exponential": PriorFamily(
        ("rate",),
        lambda h: (0.0, math.inf),
        lambda h: _dist().Exponential(h["rate"]),
        lambda tfpd, h: tfpd.Exponential(h["rate"]),
        "exponential with rate `rate` (mean 1 / rate)",
    ),
}


@dataclass(frozen=True)
class Parameter:
    """One fitted parameter: its name (in configs, files and code), unit, long name, short
    plot label, prior family, the domain where it is defined at all (a prior must lie inside
    it), and whether it is the noise level of the likelihood rather than a parameter of the
    mean flux."""

    name: str
    unit: str
    long_name: str
    label: str
    prior: str
    domain: tuple[float, float] = (-math.inf, math.inf)
    noise: bool = False


@dataclass(frozen=True)
class Model:
    """A model of a spectrum: flux ~ Normal(mean(line, theta), noise level), the parameters
    with their priors, and the known line quantities (fields of physics.forward.Line besides
    the grid) it takes from the config section `line`."""

    name: str
    description: str
    params: tuple[Parameter, ...]
    mean: Callable[[Line, Theta], jax.Array]
    known: tuple[str, ...]
    # the model's absorption cross-section at a truth, for the data's figure (None: none)
    cross_section: Callable[[Line, Theta], jax.Array] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every parameter's name, in the model's order (its numpyro sites' order)."""
        return tuple(p.name for p in self.params)

    @property
    def line_names(self) -> tuple[str, ...]:
        """The parameters of the mean flux (what chi^2 and the optimisers see)."""
        return tuple(p.name for p in self.params if not p.noise)

    @property
    def noise_name(self) -> str:
        """The parameter that is the noise level (the likelihood's standard deviation)."""
        return next(p.name for p in self.params if p.noise)

    def parameter(self, name: str) -> Parameter:
        """The parameter called `name`."""
        return next(p for p in self.params if p.name == name)

    @functools.cached_property
    def numpyro_model(self) -> Callable[..., None]:
        """The Bayesian model as a numpyro function of (line, priors, y=None): the parameters
        drawn from their priors in order, then the flux around the mean with the noise level.
        One function object per model, so numpyro and JAX see the same program every time."""

        import numpyro

        dist = _dist()

        def model(line: Line, priors: Mapping, y: jax.Array | None = None) -> None:
            theta = {
                p.name: numpyro.sample(p.name, PRIOR_FAMILIES[p.prior].numpyro(priors[p.name]))
                for p in self.params
            }
            numpyro.sample("y", dist.Normal(self.mean(line, theta), theta[self.noise_name]), obs=y)

        model.__name__ = f"{self.name}_model"
        return model

    def log_likelihood(self, line: Line, y: jax.Array, theta: Theta) -> jax.Array:
        """log p(y | theta)."""
        return _dist().Normal(self.mean(line, theta), theta[self.noise_name]).log_prob(y).sum()

    def log_joint(self, line: Line, priors: Mapping, y: jax.Array, theta: Theta) -> jax.Array:
        """log p(y, theta): what every sampler evaluates (numpyro's in unconstrained
        coordinates, at the same cost)."""
        from numpyro.infer.util import log_density

        return log_density(self.numpyro_model, (line, priors, y), {}, dict(theta))[0]

    def chi2(self, line: Line, y: jax.Array, sigma_noise: float, theta: Theta) -> jax.Array:
        """chi^2 = sum((mean - y)^2) / sigma_noise^2 of the mean flux at theta (line params)."""
        residual = self.mean(line, theta) - y
        return (residual**2).sum() / sigma_noise**2

    def start(self, line: Line, y: jax.Array, line_theta: jax.Array) -> jax.Array:
        """A start for a posterior mode search, in the model's parameter order: the line
        parameters from a fit of chi^2 (`line_theta`, in the order of line_names), and for the
        noise level the rms residual of that fit."""
        import jax.numpy as jnp

        theta = self.named(line_theta, self.line_names)
        residual = self.mean(line, theta) - y
        return self.vector({**theta, self.noise_name: jnp.sqrt(jnp.mean(residual**2))})

    def support(self, priors: Mapping) -> dict[str, tuple[float, float]]:
        """Each parameter's prior support (low, high), open at both ends."""
        return {p.name: PRIOR_FAMILIES[p.prior].support(priors[p.name]) for p in self.params}

    def vector(self, theta: Theta, names: tuple[str, ...] | None = None) -> jax.Array:
        """theta as a vector in the order of `names` (default: every parameter)."""
        import jax.numpy as jnp

        return jnp.stack([jnp.asarray(theta[n]) for n in names or self.names])

    def named(self, vector: jax.Array, names: tuple[str, ...] | None = None) -> dict:
        """A vector (last axis: parameters in the order of `names`) as a dict by name."""
        return {n: vector[..., i] for i, n in enumerate(names or self.names)}

    def own_priors(self, priors: Mapping) -> dict:
        """The priors of this model's parameters, as floats (a pytree JAX can trace)."""
        return {n: {k: float(v) for k, v in priors[n].items()} for n in self.names}

    def line(self, line_settings: Mapping, nu: Any, dtype: str) -> Line:
        """The known part of the model on the grid `nu`: the config's values of the line
        quantities it knows, zero for those it fits."""
        import jax.numpy as jnp

        from pipeline.physics.forward import Line

        known = {k: float(line_settings[k]) if k in self.known else 0.0
                 for k in ("nu0", "gamma", "line_strength")}  # fmt: skip
        return Line(nu=jnp.asarray(nu, dtype=dtype), **known)


def linear_grid(line_settings: Mapping, dtype: str) -> jax.Array:
    """The synthetic data's wavenumber grid: n_points across nu0 +- half_width (cm^-1)."""
    import jax.numpy as jnp

    centre, half = line_settings["nu0"], line_settings["half_width"]
    return jnp.linspace(centre - half, centre + half, line_settings["n_points"], dtype=dtype)


class Problem(NamedTuple):
    """What every fit needs besides the data: the model, its known line on the data's grid,
    and the priors of its parameters (a pytree of floats: traced, not baked into programs)."""

    model: Model
    line: Line
    priors: Mapping
