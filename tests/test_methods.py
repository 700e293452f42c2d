"""Nested sampling, the gradient-free baseline, the evidence and the cost table, checked
against independent references: a brute-force evidence integral, NUTS, the samplers' records."""

from __future__ import annotations

import logging
import os

import arviz as az
import jax
import numpy as np
import pytest
from scipy.integrate import simpson
from scipy.special import voigt_profile

from pipeline.analysis.evidence import log_bayes_factor, verdict
from pipeline.inference.gradient_free import fit_gradient_free
from pipeline.inference.laplace import fit_laplace
from pipeline.inference.nested import fit_nested
from pipeline.inference.nuts import fit_nuts
from pipeline.methods import METHODS, dataset_keys
from pipeline.methods.gradient_free import GradientFreeSettings, value_evaluations
from pipeline.methods.laplace import DAMPING, LaplaceSettings
from pipeline.methods.nested import NestedSettings
from pipeline.methods.nuts import NutsSettings
from pipeline.models.simulate import simulate
from pipeline.models.spec import Model, Problem, linear_grid
from pipeline.models.voigt_line import GAUSSIAN, VOIGT

PRIORS = {"logN": {"low": 20.5, "high": 21.5}, "logbeta": {"low": -1.0, "high": 1.0},
          "sigmain": {"rate": 10.0}}  # fmt: skip
# the tiny workflow's grid and nested settings (.test/config): the same compiled programs
LINE = {"nu0": 1000.0, "half_width": 20.0, "n_points": 200, "line_strength": 1e-20, "gamma": 1.0}
TRUTH = {"logN": 21.0, "logbeta": 0.0}
NESTED = NestedSettings(num_live_points=30, max_samples=5000, dlogZ=0.01,
                        max_likelihood_evaluations=2_000_000, num_draws=200)  # fmt: skip


def _problem(model: Model = VOIGT, line_settings: dict = LINE) -> Problem:
    """`model` on the grid, its known line quantities from LINE (the Gaussian's gamma is 0)."""
    line = model.line(line_settings, linear_grid(line_settings, "float32"), "float32")
    return Problem(model, line, model.own_priors(PRIORS))


def _data(model: Model, seed: int = 72) -> np.ndarray:
    return simulate(model, _problem(model).line, TRUTH, 0.1, seed)["f_obs"]


def _nested(y: np.ndarray, model: Model, settings: NestedSettings = NESTED, seed: int = 0):
    keys = dataset_keys(seed, "nested")
    fit, seconds = fit_nested(_problem(model), y[None], keys, settings)
    return {k: v[0] for k, v in fit.items()}, seconds


def _laplace_fit(y: np.ndarray, coordinates: str = "unconstrained", problem: Problem | None = None,
                 line_theta=(20.9, 0.1), num_draws: int = 10) -> dict:  # fmt: skip
    """fit_laplace of one dataset from a start made of `line_theta`, its arrays without the
    dataset axis."""
    problem = problem or _problem()
    start = np.asarray(VOIGT.start(problem.line, y, np.array(line_theta, np.float32)))
    fit, _ = fit_laplace(problem, y[None], start[None], dataset_keys(0, "laplace"),
                         LaplaceSettings(num_draws, coordinates), DAMPING)  # fmt: skip
    return {k: v[0] for k, v in fit.items()}


def _laplace(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fit = _laplace_fit(y)
    assert fit["converged"] == 1
    return fit["mode"].astype(float), np.sqrt(np.diag(fit["covariance"])).astype(float)


def brute_force_log_evidence(y: np.ndarray, gamma: float, centre, sd, n: int) -> float:
    """log Z by a 3-D Simpson rule over centre ± 8 sd (cut at the priors' bounds), in float64
    with SciPy's Voigt profile: an evaluation independent of the JAX model."""
    nu = np.asarray(_problem().line.nu, dtype=np.float64)  # the grid the model uses
    y = np.asarray(y, dtype=np.float64)
    n_prior, b_prior, rate = PRIORS["logN"], PRIORS["logbeta"], PRIORS["sigmain"]["rate"]
    low = np.maximum(centre - 8 * sd, [n_prior["low"], b_prior["low"], 1e-6])
    high = np.minimum(centre + 8 * sd, [n_prior["high"], b_prior["high"], np.inf])
    logN, logbeta, sigmain = (np.linspace(a, b, n) for a, b in zip(low, high, strict=True))
    log_like = np.empty((n, n, n))
    for i, log_n in enumerate(logN):
        for j, log_b in enumerate(logbeta):
            profile = voigt_profile(nu - LINE["nu0"], 10.0**log_b, gamma)
            residual2 = ((np.exp(-(10.0**log_n) * LINE["line_strength"] * profile) - y) ** 2).sum()
            log_like[i, j] = (-residual2 / (2 * sigmain**2) - len(y) * np.log(sigmain)
                              - 0.5 * len(y) * np.log(2 * np.pi))  # fmt: skip
    widths = (n_prior["high"] - n_prior["low"]) * (b_prior["high"] - b_prior["low"])
    log_prior = -np.log(widths) + np.log(rate) - rate * sigmain
    log_post = log_like + log_prior[None, None, :]
    top = log_post.max()
    integral = simpson(simpson(simpson(np.exp(log_post - top), x=sigmain), x=logbeta), x=logN)
    return float(top + np.log(integral))


def test_the_evidence_matches_a_brute_force_integral_and_the_posterior_nuts():
    y = _data(VOIGT)
    centre, sd = _laplace(y)
    reference = brute_force_log_evidence(y, LINE["gamma"], centre, sd, 61)
    # the rule has converged: a coarser grid gives the same integral to 1e-3
    assert brute_force_log_evidence(y, LINE["gamma"], centre, sd, 41) == pytest.approx(
        reference, abs=1e-3
    )
    fit, seconds = _nested(y, VOIGT)
    assert fit["converged"] == 1
    assert 0 < fit["log_Z_uncert"] < 1.5
    assert abs(fit["log_Z"] - reference) < 3 * fit["log_Z_uncert"], (fit["log_Z"], reference)
    assert seconds["compile_seconds"] > 0 and seconds["run_seconds"] > 0

    # its equal-weight draws against NUTS's: means within 4 Monte Carlo standard errors
    nuts_settings = NutsSettings(500, 2000, 1, "vectorized", 0.8, False)
    nuts, _ = fit_nuts(_problem(), y[None], dataset_keys(0, "nuts"), nuts_settings)
    for p in ("logN", "logbeta", "sigmain"):
        a, b = nuts[p][0].ravel(), fit[p]
        se = np.sqrt(a.var() / float(az.ess(a[None])) + b.var() / fit["ess_kish"])
        assert abs(a.mean() - b.mean()) < 4 * se, (p, a.mean(), b.mean(), se)


def test_the_evidence_prefers_the_model_the_data_were_made_with():
    for truth, favoured in ((VOIGT, "voigt"), (GAUSSIAN, "gaussian")):
        y = _data(truth, seed=5)
        voigt, _ = _nested(y, VOIGT)
        gaussian, _ = _nested(y, GAUSSIAN)
        log_b, uncert = log_bayes_factor(voigt["log_Z"], voigt["log_Z_uncert"],
                                         gaussian["log_Z"], gaussian["log_Z_uncert"])  # fmt: skip
        words = verdict(log_b, uncert, "voigt", "gaussian")
        assert (log_b > 3 * uncert) if favoured == "voigt" else (log_b < -3 * uncert), words
        assert f"evidence for {favoured} over" in words


def test_nested_sampling_leaves_the_process_as_it_found_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    x64 = bool(jax.config.jax_enable_x64)
    _nested(_data(VOIGT), VOIGT)
    assert os.listdir(tmp_path) == []  # no application.log
    assert root.handlers == handlers and root.level == level
    assert bool(jax.config.jax_enable_x64) == x64


def test_a_run_over_its_budget_is_flagged_unconverged():
    fit, _ = _nested(_data(VOIGT), VOIGT, NESTED._replace(max_likelihood_evaluations=1000))
    assert fit["converged"] == 0
    assert fit["num_likelihood_evaluations"] >= 1000


def test_the_gradient_free_sampler_agrees_with_nuts_and_counts_its_evaluations():
    y = _data(VOIGT)
    problem = _problem()
    centre, sd = _laplace(y)
    settings = GradientFreeSettings(num_warmup=20000, num_samples=20000, num_chains=4, thinning=10)
    # each chain from its own point, as from the Laplace fit's draws (dataset, chain, param)
    starts = centre + sd * np.random.default_rng(0).normal(size=(4, 3))
    sa, seconds = fit_gradient_free(problem, y[None], starts.astype(np.float32)[None],
                                    dataset_keys(0, "gradient_free"), settings)  # fmt: skip
    assert sa["logN"].shape == (1, 4, 2000)
    for p in ("logN", "logbeta", "sigmain"):  # the chains forgot where they began
        assert float(az.rhat(sa[p][0])) < 1.01, p
    nuts, _ = fit_nuts(problem, y[None], dataset_keys(0, "nuts"), NutsSettings(500, 2000, 1,
                       "vectorized", 0.8, False))  # fmt: skip
    for p in ("logN", "logbeta", "sigmain"):
        ess = float(az.ess(sa[p][0]))
        assert ess > 200, (p, ess)  # SA from near the Laplace mode mixes
        a, b = nuts[p][0].ravel(), sa[p][0].ravel()
        se = np.sqrt(a.var() / float(az.ess(a[None])) + b.var() / ess)
        assert abs(a.mean() - b.mean()) < 4 * se, (p, a.mean(), b.mean(), se)
    # per chain: the start, SA's population of 2 x 3 points, one proposal per iteration
    assert value_evaluations(settings, len(VOIGT.names)) == 4 * (1 + 6 + 40000)
    assert seconds["run_seconds"] > 0


def _draws(fit: dict) -> np.ndarray:
    return np.stack([fit[p] for p in VOIGT.names], axis=-1).astype(float)


def _sd(fit: dict) -> np.ndarray:
    return np.sqrt(np.diag(fit["covariance"])).astype(float)


def test_laplace_in_unconstrained_coordinates_agrees_on_the_tutorials_dataset():
    # interior and well determined (the tutorial's grid, noise 0.1, seed 72): the Jacobian's
    # pull on the mode is about sd / sqrt(2 n) for sigmain (0.02 sd), nothing for the others
    problem = _problem(line_settings={**LINE, "n_points": 1000})
    y = simulate(VOIGT, problem.line, TRUTH, 0.1, 72)["f_obs"]
    unconstrained = _laplace_fit(y, "unconstrained", problem)
    constrained = _laplace_fit(y, "constrained", problem)
    assert unconstrained["converged"] == 1 and constrained["converged"] == 1
    sd = _sd(constrained)
    np.testing.assert_array_less(np.abs(unconstrained["mode"] - constrained["mode"]), 0.05 * sd)
    np.testing.assert_allclose(_sd(unconstrained), sd, rtol=0.05)
    # constrained: one coordinate system, the mode and covariance are the fitted Gaussian's
    np.testing.assert_array_equal(constrained["unconstrained_mode"], constrained["mode"])
    np.testing.assert_array_equal(
        constrained["unconstrained_covariance"], constrained["covariance"]
    )


def test_laplace_in_unconstrained_coordinates_stays_inside_a_prior_edge():
    # logbeta's truth (-3) is far below the widths the data resolve (gamma = 1): the likelihood
    # is flat towards logbeta's lower bound -1 and the posterior piles against it. On the
    # constrained scale Newton ends at the bound, with almost no curvature there, and its
    # Gaussian's draws leak outside the prior (60% of them with this seed); in z the mode is
    # interior and every draw maps back inside.
    y = simulate(VOIGT, _problem().line, {"logN": 21.0, "logbeta": -3.0}, 0.1, 0)["f_obs"]
    low, high = np.array([20.5, -1.0, 0.0]), np.array([21.5, 1.0, np.inf])
    fits = {c: _laplace_fit(y, c, line_theta=(21.0, -0.9), num_draws=2000)
            for c in ("unconstrained", "constrained")}  # fmt: skip
    unconstrained, constrained = fits["unconstrained"], fits["constrained"]
    draws = _draws(unconstrained)
    assert unconstrained["converged"] == 1
    assert np.all((low < draws) & (draws < high))
    assert low[1] + 0.2 < unconstrained["mode"][1] < 0  # inside, off the bound
    assert np.all(np.isfinite(unconstrained["unconstrained_mode"]))
    outside = ~np.all((low < _draws(constrained)) & (_draws(constrained) < high), axis=1)
    assert outside.mean() > 0.25, outside.mean()
    assert constrained["mode"][1] == pytest.approx(low[1], abs=1e-3)  # at the bound
    assert _sd(constrained)[1] > 1.0  # wider than the prior's half width


@pytest.mark.parametrize(
    ("low", "high"), [(20.5, 21.5), (0.0, np.inf), (-np.inf, 2.0), (-np.inf, np.inf)]
)
def test_the_laplace_transforms_log_jacobian_is_its_derivative(low, high):
    # log|dtheta/dz| against central finite differences of theta(z) in float64, for a bounded,
    # a lower-bounded, an upper-bounded and an unbounded parameter
    import jax.numpy as jnp

    from pipeline.inference.laplace import TRANSFORMS

    transform = TRANSFORMS["unconstrained"]
    with jax.enable_x64(True):
        z = np.linspace(-8.0, 8.0, 33)
        bounds = (jnp.full(z.shape, low), jnp.full(z.shape, high))

        def theta(z):
            return np.asarray(transform.theta(jnp.asarray(z), *bounds))

        h = 1e-4
        derivative = (theta(z + h) - theta(z - h)) / (2 * h)
        log_jacobian = np.asarray(transform.log_jacobian(jnp.asarray(z), *bounds))
        assert theta(z).dtype == np.float64
        np.testing.assert_allclose(log_jacobian, np.log(np.abs(derivative)), atol=1e-6)
        assert np.all((low < theta(z)) & (theta(z) < high))
        np.testing.assert_allclose(np.asarray(transform.z(jnp.asarray(theta(z)), *bounds)), z,
                                   atol=1e-8)  # fmt: skip
        # finite and with finite gradients far out, where the branches not taken overflow
        far = jnp.array([-1000.0, 1000.0])
        far_bounds = (jnp.full(2, low), jnp.full(2, high))
        grad = jax.grad(lambda z: (transform.theta(z, *far_bounds)
                                   + transform.log_jacobian(z, *far_bounds)).sum())  # fmt: skip
        if np.isfinite(low) == np.isfinite(high):  # exp(1000) is no branch of theirs
            assert np.all(np.isfinite(grad(far)))


@pytest.mark.parametrize(
    ("log_b", "uncert", "expected"),
    [
        (66.0, 0.5, "very strong evidence for voigt over gaussian"),
        (-4.0, 0.5, "strong evidence for gaussian over voigt"),
        (2.0, 0.5, "positive evidence for voigt over gaussian"),
        (1.0, 0.5, "cannot tell voigt from gaussian"),
    ],
)
def test_the_verdict_grades_the_bayes_factor_and_its_uncertainty(log_b, uncert, expected):
    assert expected in verdict(log_b, uncert, "voigt", "gaussian")


def test_a_nested_file_without_its_model_is_refused_by_name(tmp_path):
    import json

    import xarray as xr

    from pipeline.inference.nested import EVIDENCE_FIELDS
    from pipeline.io.files import draws_group, observed_group, write_inference
    from pipeline.io.layouts import NetCDFInputError

    nu = np.linspace(980.0, 1020.0, 5)
    layout = METHODS["nested"].layout
    attrs = {"params": json.dumps(VOIGT.names), "model": "voigt", "compile_seconds": 1.0,
             "run_seconds": 1.0}  # fmt: skip
    groups = {
        "posterior": draws_group({p: np.ones((1, 4)) for p in VOIGT.names}, attrs=attrs),
        "observed_data": observed_group(np.ones(5), nu),
        "evidence": xr.Dataset({name: ((), 1.0) for name in EVIDENCE_FIELDS}),
    }
    write_inference(groups, tmp_path / "whole.nc", layout)  # complete: accepted
    del groups["posterior"].attrs["model"]
    with pytest.raises(NetCDFInputError, match="missing attribute 'posterior/model'"):
        write_inference(groups, tmp_path / "nested.nc", layout)
    assert not (tmp_path / "nested.nc").exists()
    # a parameter its `params` names but the posterior lacks is refused too
    groups["posterior"].attrs["model"] = "voigt"
    groups["posterior"] = groups["posterior"].drop_vars("sigmain")
    with pytest.raises(NetCDFInputError, match="missing variable 'posterior/sigmain'"):
        write_inference(groups, tmp_path / "nested.nc", layout)
    assert not (tmp_path / "nested.nc").exists()
