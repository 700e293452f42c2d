"""The tutorial "Why Differentiable Spectral Modeling?" run as one plain script: the baseline the
workflow's `tutorial` target is compared with (python -m benchmarks --only tutorial).

The same steps in the same order as the tutorial's notebook cells: the cross-section and
transmission, the noisy data (np.random.seed(72)), the chi^2 map over 100 x 100 points,
steepest descent and Adam (30 steps each, as Python loops of jitted gradients, as there),
NUTS 1000 + 2000 with the posterior predictive, SVI 10 000 steps with svi.run and its progress
bar, 2000 guide draws, and the ten figures, written as PNG files to the directory given (the
notebook shows them). One difference: the Voigt profile is diffspec's, as ExoJAX is not a
dependency; the tutorial's exojax.spec.voigt is the same function (scipy's voigt_profile).

python -m benchmarks.tutorial_script OUTDIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import arviz
import jax.numpy as jnp
import matplotlib
import numpy as np
import numpyro
import numpyro.distributions as dist
import numpyro.optim as optim
import optax
from jax import grad, random, vmap
from numpyro.diagnostics import hpdi
from numpyro.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal

from pipeline.physics.voigt import voigt_profile as voigt

matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)


def show(name: str) -> None:
    plt.savefig(out / f"{name}.png")
    plt.close("all")


beta, gamma, line_strength, nu0 = 1.0, 1.0, 1.0e-20, 1000.0
nu_grid = jnp.linspace(nu0 - 20, nu0 + 20, 1000)
sigma = line_strength * voigt(nu_grid - nu0, beta, gamma)
plt.plot(nu_grid, sigma)
show("cross_section")

f0 = jnp.ones_like(nu_grid)
N = 1.0e17 * 1.0e4
f = f0 * jnp.exp(-sigma * N)
plt.plot(nu_grid, f)
show("transmission")

sigma_noise = 0.1
np.random.seed(72)  # noqa: NPY002 (the tutorial's own call)
fobs = f + np.random.normal(0.0, sigma_noise, len(f))  # noqa: NPY002
plt.plot(nu_grid, fobs, ".", alpha=0.3)
show("data")


def fmodel(N, beta):
    return f0 * jnp.exp(-line_strength * voigt(nu_grid - nu0, beta, 1.0) * N)


def chi2_fmodel(params):
    logN, logbeta = params
    return jnp.sum((fmodel(10**logN, 10**logbeta) - fobs) ** 2 / sigma_noise**2)


Narray, betaarray = jnp.linspace(20.5, 21.5, 100), jnp.linspace(-1, 1, 100)
vmapchi2 = vmap(vmap(lambda n, b: chi2_fmodel(jnp.array([n, b])), (0, None), 0), (None, 0), 0)
chi2arr = vmapchi2(Narray, betaarray)
extent = (Narray[0], Narray[-1], betaarray[0], betaarray[-1])
a = plt.imshow(chi2arr[::-1, :], extent=extent, aspect="auto", cmap="cividis", vmin=1000, vmax=1800)
plt.colorbar(a)
levels = [1000, 1200, 1400, 1600, 1800, 2000]
plt.contour(Narray, betaarray, chi2arr, levels=levels, colors="white")
show("chi2_map")

dchi2 = grad(chi2_fmodel)
params_init = jnp.array([20.75, 0.5])
print("dchi2(params_init)", dchi2(params_init))


def plot_trajectory(trajectory, name):
    plt.contour(Narray, betaarray, chi2arr, levels=levels, colors="gray")
    plt.plot(trajectory[:, 0], trajectory[:, 1], ".", color="C1")
    show(name)


params, trajectory = jnp.copy(params_init), []
for _ in range(30):
    trajectory.append(params)
    params = params - 1.0e-5 * dchi2(params)
plot_trajectory(jnp.array(trajectory), "steepest_descent")

solver = optax.adam(learning_rate=0.02)
opt_state = solver.init(params_init)
params, trajectory = jnp.copy(params_init), []
for _ in range(30):
    trajectory.append(params)
    updates, opt_state = solver.update(dchi2(params), opt_state, params)
    params = optax.apply_updates(params, updates)
plot_trajectory(jnp.array(trajectory), "adam")
plt.plot(nu_grid, fobs, ".", alpha=0.3)
plt.plot(nu_grid, fmodel(10 ** params[0], 10 ** params[1]), color="C0")
show("best_fit")


def model(y):
    logN = numpyro.sample("logN", dist.Uniform(20.5, 21.5))
    logbeta = numpyro.sample("logbeta", dist.Uniform(-1, 1))
    sigmain = numpyro.sample("sigmain", dist.Exponential(10.0))
    numpyro.sample("y", dist.Normal(fmodel(10**logN, 10**logbeta), sigmain), obs=y)


rng_key, rng_key_ = random.split(random.PRNGKey(0))
mcmc = MCMC(NUTS(model), num_warmup=1000, num_samples=2000)
mcmc.run(rng_key_, y=fobs)
mcmc.print_summary()
predictions = Predictive(model, mcmc.get_samples(), return_sites=["y"])(rng_key_, y=None)
band = hpdi(predictions["y"], 0.9)
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(nu_grid, fobs, "+", color="black")
ax.fill_between(nu_grid, band[0], band[1], alpha=0.3, color="C0")
show("nuts_predictive")
pararr = ["logN", "logbeta", "sigmain"]
truth = {"logN": 21.0, "logbeta": 0.0, "sigmain": 0.1}
arviz.plot_pair(arviz.from_numpyro(mcmc), kind="kde", marginals=True, reference_values=truth)
show("nuts_pair")

guide = AutoMultivariateNormal(model)
svi = SVI(model, guide, optim.Adam(0.01), loss=Trace_ELBO())
rng_key, rng_key_run = random.split(random.PRNGKey(0))
svi_result = svi.run(rng_key_run, 10000, y=fobs)
posterior_sample = Predictive(
    model, guide=guide, params=svi_result.params, num_samples=2000, return_sites=pararr
)(rng_key, y=None)
axes = arviz.plot_pair(arviz.from_numpyro(mcmc), var_names=pararr, kind="kde", marginals=True,
                       show=False)  # fmt: skip
arviz.plot_pair(arviz.from_dict(posterior=posterior_sample), ax=axes, var_names=pararr,
                kind="kde", marginals=True, show=False, reference_values=truth)  # fmt: skip
show("nuts_vs_svi")
