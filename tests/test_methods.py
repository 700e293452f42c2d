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
from pipeline.inference.batching import dataset_keys
from pipeline.inference.gradient_free import (
    GradientFreeSettings,
    fit_gradient_free,
    value_evaluations,
)
from pipeline.inference.laplace import fit_laplace, start_point
from pipeline.inference.model import Priors
from pipeline.inference.nested import NestedSettings, fit_nested
from pipeline.inference.nuts import NutsSettings, fit_nuts
from pipeline.physics.forward import with_line_shape
from pipeline.physics.simulate import LineSettings, simulate

PRIORS = Priors((20.5, 21.5), (-1.0, 1.0), 10.0)
# the tiny workflow's grid and nested settings (tests/conftest.py): the same compiled programs
VOIGT = LineSettings(nu0=1000.0, half_width=20.0, n_points=200, line_strength=1e-20, gamma=1.0)
GAUSSIAN = VOIGT._replace(gamma=0.0)
NESTED = NestedSettings(num_live_points=30, max_samples=5000, dlogZ=0.01,
                        max_likelihood_evaluations=2_000_000, num_draws=200)  # fmt: skip


def _data(settings: LineSettings, seed: int = 72) -> np.ndarray:
    return simulate(settings, 21.0, 0.0, 0.1, seed, "float32")["f_obs"]


def _nested(y: np.ndarray, shape: str, settings: NestedSettings = NESTED, seed: int = 0):
    line = with_line_shape(VOIGT.line("float32"), shape)
    fit, seconds = fit_nested(line, PRIORS, y[None], dataset_keys(seed), settings)
    return {k: v[0] for k, v in fit.items()}, seconds


def _laplace(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    line = VOIGT.line("float32")
    start = np.asarray(start_point(line, y, np.array([20.9, 0.1], np.float32)))
    fit, _ = fit_laplace(line, PRIORS, y[None], start[None])
    return fit["mode"][0].astype(float), np.sqrt(np.diag(fit["covariance"][0])).astype(float)


def brute_force_log_evidence(y: np.ndarray, gamma: float, centre, sd, n: int) -> float:
    """log Z by a 3-D Simpson rule over centre ± 8 sd (cut at the priors' bounds), in float64
    with SciPy's Voigt profile: an evaluation independent of the JAX model."""
    nu = np.asarray(VOIGT.line("float32").nu, dtype=np.float64)  # the grid the model uses
    y = np.asarray(y, dtype=np.float64)
    low = np.maximum(centre - 8 * sd, [PRIORS.logN[0], PRIORS.logbeta[0], 1e-6])
    high = np.minimum(centre + 8 * sd, [PRIORS.logN[1], PRIORS.logbeta[1], np.inf])
    logN, logbeta, sigmain = (np.linspace(a, b, n) for a, b in zip(low, high, strict=True))
    log_like = np.empty((n, n, n))
    for i, log_n in enumerate(logN):
        for j, log_b in enumerate(logbeta):
            profile = voigt_profile(nu - VOIGT.nu0, 10.0**log_b, gamma)
            residual2 = ((np.exp(-(10.0**log_n) * VOIGT.line_strength * profile) - y) ** 2).sum()
            log_like[i, j] = (-residual2 / (2 * sigmain**2) - len(y) * np.log(sigmain)
                              - 0.5 * len(y) * np.log(2 * np.pi))  # fmt: skip
    (n_low, n_high), (b_low, b_high), rate = PRIORS
    log_prior = -np.log(n_high - n_low) - np.log(b_high - b_low) + np.log(rate) - rate * sigmain
    log_post = log_like + log_prior[None, None, :]
    top = log_post.max()
    integral = simpson(simpson(simpson(np.exp(log_post - top), x=sigmain), x=logbeta), x=logN)
    return float(top + np.log(integral))


def test_the_evidence_matches_a_brute_force_integral_and_the_posterior_nuts():
    y = _data(VOIGT)
    centre, sd = _laplace(y)
    reference = brute_force_log_evidence(y, VOIGT.gamma, centre, sd, 61)
    # the rule has converged: a coarser grid gives the same integral to 1e-3
    assert brute_force_log_evidence(y, VOIGT.gamma, centre, sd, 41) == pytest.approx(
        reference, abs=1e-3
    )
    fit, seconds = _nested(y, "voigt")
    assert fit["converged"] == 1
    assert 0 < fit["log_Z_uncert"] < 1.5
    assert abs(fit["log_Z"] - reference) < 3 * fit["log_Z_uncert"], (fit["log_Z"], reference)
    assert seconds["compile_seconds"] > 0 and seconds["run_seconds"] > 0

    # its equal-weight draws against NUTS's: means within 4 Monte Carlo standard errors
    nuts_settings = NutsSettings(500, 2000, 1, "vectorized", 0.8)
    nuts, _ = fit_nuts(VOIGT.line("float32"), PRIORS, y[None], dataset_keys(0), nuts_settings)
    for p in ("logN", "logbeta", "sigmain"):
        a, b = nuts[p][0].ravel(), fit[p]
        se = np.sqrt(a.var() / float(az.ess(a[None])) + b.var() / fit["ess_kish"])
        assert abs(a.mean() - b.mean()) < 4 * se, (p, a.mean(), b.mean(), se)


def test_the_evidence_prefers_the_line_shape_the_data_were_made_with():
    for truth, favoured in ((VOIGT, "voigt"), (GAUSSIAN, "gaussian")):
        y = _data(truth, seed=5)
        voigt, _ = _nested(y, "voigt")
        gaussian, _ = _nested(y, "gaussian")
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
    _nested(_data(VOIGT), "voigt")
    assert os.listdir(tmp_path) == []  # no application.log
    assert root.handlers == handlers and root.level == level
    assert bool(jax.config.jax_enable_x64) == x64


def test_a_run_over_its_budget_is_flagged_unconverged():
    fit, _ = _nested(_data(VOIGT), "voigt", NESTED._replace(max_likelihood_evaluations=1000))
    assert fit["converged"] == 0
    assert fit["num_likelihood_evaluations"] >= 1000


def test_the_gradient_free_sampler_agrees_with_nuts_and_counts_its_evaluations():
    y = _data(VOIGT)
    line = VOIGT.line("float32")
    centre, _ = _laplace(y)
    settings = GradientFreeSettings(num_warmup=20000, num_samples=20000, num_chains=4, thinning=10)
    sa, seconds = fit_gradient_free(line, PRIORS, y[None], centre.astype(np.float32)[None],
                                    dataset_keys(0), settings)  # fmt: skip
    assert sa["logN"].shape == (1, 4, 2000)
    nuts, _ = fit_nuts(line, PRIORS, y[None], dataset_keys(0), NutsSettings(500, 2000, 1,
                       "vectorized", 0.8))  # fmt: skip
    for p in ("logN", "logbeta", "sigmain"):
        ess = float(az.ess(sa[p][0]))
        assert ess > 200, (p, ess)  # SA from the Laplace mode mixes
        a, b = nuts[p][0].ravel(), sa[p][0].ravel()
        se = np.sqrt(a.var() / float(az.ess(a[None])) + b.var() / ess)
        assert abs(a.mean() - b.mean()) < 4 * se, (p, a.mean(), b.mean(), se)
    # per chain: the start, SA's population of 2 x 3 points, one proposal per iteration
    assert value_evaluations(settings) == 4 * (1 + 6 + 40000)
    assert seconds["run_seconds"] > 0


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


def test_a_nested_file_without_its_line_shape_is_refused_by_name(tmp_path):
    import xarray as xr

    from pipeline.inference.nested import EVIDENCE_FIELDS
    from pipeline.io.files import draws_group, observed_group, write_inference
    from pipeline.io.layouts import NetCDFInputError

    nu = np.linspace(980.0, 1020.0, 5)
    groups = {
        "posterior": draws_group({p: np.ones((1, 4)) for p in ("logN", "logbeta", "sigmain")}),
        "observed_data": observed_group(np.ones(5), nu),
        "evidence": xr.Dataset({name: ((), 1.0) for name in EVIDENCE_FIELDS}),
    }
    with pytest.raises(NetCDFInputError, match="missing attribute 'posterior/line_shape'"):
        write_inference(groups, tmp_path / "nested.nc", "nested")
    assert not (tmp_path / "nested.nc").exists()
