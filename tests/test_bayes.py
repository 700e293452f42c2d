"""NUTS, SVI, their summaries and comparison on small data, against the truth and each other."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import pytest
from conftest import DEFAULT_CONFIG
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal

from pipeline.analysis.compare import compare, draws, energy_distance
from pipeline.analysis.summary import Thresholds, flag, posterior_summary
from pipeline.inference.svi import fit_svi
from pipeline.io.files import read_inference, write_inference
from pipeline.io.layouts import NetCDFInputError
from pipeline.methods import METHODS, dataset_keys, find
from pipeline.methods.svi import SviSettings
from pipeline.models.spec import Problem
from pipeline.models.voigt_line import VOIGT
from pipeline.plots.registry import FIGURES, FITS
from pipeline.setup.config import merge
from pipeline.stages import data, figure
from pipeline.stages.fit import fit
from pipeline.stages.observation import read_observation

PRIORS = {"logN": {"low": 20.5, "high": 21.5}, "logbeta": {"low": -1.0, "high": 1.0},
          "sigmain": {"rate": 10.0}}  # fmt: skip
SMALL_NUTS = {"num_warmup": 200, "num_samples": 300, "num_chains": 2,
              "chain_method": "vectorized", "target_accept_prob": 0.8, "seed": 1}  # fmt: skip
SMALL_SVI = {"num_steps": 1500, "learning_rate": 0.01, "num_draws": 500, "seed": 1}
# the config of this file's fits: the defaults with the small settings above
CONFIG = merge(copy.deepcopy(DEFAULT_CONFIG), {"priors": PRIORS, "nuts": SMALL_NUTS,
                                              "svi": SMALL_SVI})  # fmt: skip
THRESHOLDS = Thresholds(min_ess=100, max_r_hat=1.01)


@pytest.fixture(scope="module")
def obs(tmp_path_factory):
    path = tmp_path_factory.mktemp("bayes") / "data.nc"
    data.main(["--out", str(path), "--sigma-noise", "0.05", "--seed", "11",
               "--config", json.dumps({"line": {"n_points": 150}})])  # fmt: skip
    return read_observation(str(path), 1)


def fitted(name, obs, config=CONFIG, start=None):
    """The groups of the fit stage's file of the config's method entry `name`."""
    return fit(find(config["methods"], config, name), config, obs, start)


def written(groups, kind, folder):
    """The groups a stage returns, written and read back as InferenceData, and its summary."""
    path = folder / f"{kind}.nc"
    write_inference(groups, path, METHODS[kind].layout)
    idata = read_inference(path, METHODS[kind].layout)
    table = posterior_summary(idata, 0.9)
    if kind == "nuts":
        table = flag(table, int(idata.sample_stats["diverging"].sum()), THRESHOLDS)
    return idata, table


@pytest.fixture(scope="module")
def nuts_groups(obs):
    return fitted("nuts", obs)


@pytest.fixture(scope="module")
def nuts_run(nuts_groups, tmp_path_factory):
    return written(nuts_groups, "nuts", tmp_path_factory.mktemp("nuts"))


@pytest.fixture(scope="module")
def svi_groups(obs):
    return fitted("svi", obs)


@pytest.fixture(scope="module")
def svi_run(svi_groups, tmp_path_factory):
    return written(svi_groups, "svi", tmp_path_factory.mktemp("svi"))


@pytest.mark.parametrize("stage", ["nuts_run", "svi_run"])
def test_posterior_recovers_the_truth_within_its_width(request, stage):
    _, table = request.getfixturevalue(stage)
    truth = {"logN": 21.0, "logbeta": 0.0, "sigmain": 0.05}
    for param, value in truth.items():
        assert abs(table.loc[param, "mean"] - value) < 4 * table.loc[param, "sd"], (param, table)
    assert table.loc["logN", "sd"] < 0.05  # informative, not the prior's 0.29


def test_nuts_file_has_the_arviz_groups_and_sampler_statistics(nuts_groups, nuts_run, tmp_path):
    _, table = nuts_run
    write_inference(nuts_groups, tmp_path / "nuts.nc", METHODS["nuts"].layout)
    back = az.from_netcdf(tmp_path / "nuts.nc")  # ArviZ itself reads what the stage wrote
    assert back.posterior.sizes == {"chain": 2, "draw": 300}
    np.testing.assert_array_equal(back.posterior["logN"], nuts_groups["posterior"]["logN"])
    for stat in ("diverging", "step_size", "tree_depth", "acceptance_rate"):
        assert stat in back.sample_stats
    assert back.posterior_predictive["y"].shape == (2, 300, 150)
    assert back.posterior["logN"].attrs["units"] == "log10(cm^-2)"
    assert back.posterior.attrs["run_seconds"] > 0 and back.posterior.attrs["compile_seconds"] > 0
    assert json.loads(back.posterior.attrs["params"]) == ["logN", "logbeta", "sigmain"]
    assert back.posterior.attrs["model"] == "voigt"
    assert table.loc["logN", "r_hat"] < 1.05 and table["divergences"].iloc[0] == 0


def test_nuts_draws_are_the_same_for_the_same_seed(obs, nuts_groups):
    again = fitted("nuts", obs)
    np.testing.assert_array_equal(
        again["posterior"]["logbeta"], nuts_groups["posterior"]["logbeta"]
    )


def test_parallel_chains_run_on_one_device_each(obs, tmp_path):
    # XLA's CPU device count is fixed when JAX starts: only a fresh process shows it working
    out = tmp_path / "nuts.nc"
    settings = {"num_warmup": 100, "num_samples": 100, "num_chains": 2,
                "chain_method": "parallel"}  # fmt: skip
    cmd = [sys.executable, "-m", "pipeline.stages.fit", "nuts", "--data", obs.path,
           "--out", str(out), "--threads", "2",
           "--config", json.dumps({"nuts": settings})]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "parallel" not in result.stderr.lower()  # numpyro warns when it falls back
    posterior = read_inference(out, METHODS["nuts"].layout).posterior
    assert posterior.sizes == {"chain": 2, "draw": 100}
    chains = posterior["logN"].values
    assert not np.array_equal(chains[0], chains[1])


def test_svi_file_has_the_loss_trace_and_guide(svi_run):
    back, _ = svi_run
    loss = back.optimization["loss"].values
    assert loss.shape == (1500,) and loss[-100:].mean() < loss[0]
    assert back.guide["auto_scale_tril"].shape == (3, 3)
    assert back.posterior.sizes == {"chain": 1, "draw": 500}


def test_a_decaying_learning_rate_lets_the_svi_guide_settle(obs):
    # The tutorial's constant rate keeps the guide's centre wandering from step to step by a
    # fraction of a posterior sd, so where a fit stops depends on its seed; decaying the rate
    # to 1% over the tutorial's 10 000 steps settles it. Eight fits of one dataset, seeds
    # apart: the spread of the fitted centres, in units of the guide's sd, shrinks.
    line = VOIGT.line(CONFIG["line"], obs.nu, obs.dtype)
    problem = Problem(VOIGT, line, VOIGT.own_priors(PRIORS))
    ys = np.repeat(np.asarray(obs.f_obs)[None], 8, axis=0)
    keys = dataset_keys(0, "svi", np.arange(8))
    spread = {}
    for fraction in (1.0, 0.01):
        settings = SviSettings(num_steps=10_000, learning_rate=0.01,
                               final_learning_rate_fraction=fraction, num_draws=10)  # fmt: skip
        fit_, _ = fit_svi(problem, ys, keys, settings)
        loc, tril = fit_["auto_loc"], fit_["auto_scale_tril"]
        sd = np.sqrt(np.einsum("dij,dij->di", tril, tril)).mean(axis=0)
        spread[fraction] = (loc.std(axis=0, ddof=1) / sd).max()
    # measured: 0.30-0.34 sd at the constant rate, 0.03-0.05 sd decaying
    assert spread[1.0] > 0.15 and spread[0.01] < 0.3 * spread[1.0], spread


def test_batched_svi_takes_the_same_steps_as_numpyros_svi_run(obs):
    settings = SviSettings(
        num_steps=250, learning_rate=0.01, final_learning_rate_fraction=1.0, num_draws=10
    )
    line = VOIGT.line(CONFIG["line"], obs.nu, obs.dtype)
    problem = Problem(VOIGT, line, VOIGT.own_priors(PRIORS))
    keys = dataset_keys(3, "svi")  # a single dataset: PRNGKey(3) itself, as the tutorial's
    np.testing.assert_array_equal(keys[0], jax.random.PRNGKey(3))
    mine, _ = fit_svi(problem, np.asarray(obs.f_obs)[None], keys, settings)
    model = VOIGT.numpyro_model
    reference = SVI(model, AutoMultivariateNormal(model), numpyro.optim.Adam(0.01), Trace_ELBO())
    _, key = jax.random.split(jax.random.PRNGKey(3))
    result = reference.run(key, 250, line, problem.priors, obs.f_obs, progress_bar=False)
    # svi.run compiles the data in as constants, fit_svi takes them as arguments: XLA rounds a
    # little differently (float32), so a near-zero location agrees to ~1e-7 absolute, not 1e-5
    # relative. One step more or less moves it by 5e-5 to 3e-3, another key by 0.03 to 0.1.
    np.testing.assert_allclose(mine["loss"][0], result.losses, rtol=1e-5)
    np.testing.assert_allclose(mine["auto_loc"][0], result.params["auto_loc"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["nuts_predictive", "nuts_pair", "nuts_vs_svi", "methods_pair"])
def test_posterior_figures_are_drawn_from_the_files(obs, nuts_groups, svi_groups, tmp_path, name):
    write_inference(nuts_groups, tmp_path / "nuts.nc", METHODS["nuts"].layout)
    write_inference(svi_groups, tmp_path / "svi.nc", METHODS["svi"].layout)
    files = {"data": obs.path, "nuts": tmp_path / "nuts.nc", "svi": tmp_path / "svi.nc"}
    inputs = [f"{kind}={files[kind]}" for kind in FIGURES[name].inputs if kind != FITS]
    # a figure of every method's fit gets them all (here NUTS's and SVI's), the reference first
    fits = ["--fits", f"nuts={files['nuts']}", f"svi={files['svi']}"]
    fits = fits if FITS in FIGURES[name].inputs else []
    figure.main([name, *inputs, *fits, "--out", str(tmp_path / f"{name}.png")])
    assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_reading_a_file_without_a_required_group_names_it(svi_groups, tmp_path):
    write_inference(svi_groups, tmp_path / "svi.nc", METHODS["svi"].layout)
    with pytest.raises(NetCDFInputError, match="missing group 'sample_stats'"):
        read_inference(tmp_path / "svi.nc", METHODS["nuts"].layout)


def _idata(chains: np.ndarray):
    names = ("logN", "logbeta", "sigmain")
    idata = az.from_dict(posterior={p: chains + i for i, p in enumerate(names)})
    idata.posterior.attrs["params"] = json.dumps(names)  # what every inference file declares
    return idata


def test_summary_flags_a_sampler_that_has_not_converged():
    rng = np.random.default_rng(0)
    stuck = np.stack([rng.normal(0, 1, 500), rng.normal(3, 1, 500)])  # two chains apart
    table = flag(posterior_summary(_idata(stuck), 0.9), divergences=2, thresholds=THRESHOLDS)
    assert (table["r_hat"] > 1.5).all()
    assert table["flags"].str.contains("2 divergences").all()
    assert table["flags"].str.contains("r_hat").all()
    walk = np.cumsum(rng.normal(size=(1, 1000)), axis=1)  # one autocorrelated chain
    table = flag(posterior_summary(_idata(walk), 0.9), 0, THRESHOLDS)
    assert table["flags"].str.contains("ess_bulk").all()
    assert (table["r_hat"] > 1.01).all(), "split R-hat of one drifting chain must show it"


def test_summary_of_good_draws_is_clean_and_has_the_tutorials_columns():
    good = np.random.default_rng(1).normal(size=(1, 2000))
    table = flag(posterior_summary(_idata(good), 0.9), 0, THRESHOLDS)
    assert list(table.columns[:5]) == ["mean", "sd", "q5%", "q50%", "q95%"]
    assert {"hdi_5%", "hdi_95%", "ess_bulk", "ess_tail", "r_hat"} <= set(table.columns)
    assert (table["flags"] == "").all() and np.isfinite(table["r_hat"]).all()
    assert table.loc["logN", "q50%"] == pytest.approx(np.median(good), abs=1e-9)


def test_compare_is_zero_for_one_posterior_and_measures_a_shift():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(1, 3000))
    ref = draws(_idata(a))
    shifted = draws(_idata(a + 0.5 * a.std(ddof=1)))  # NUTS sd has ddof=1
    out = compare({"nuts": ref, "same": ref.copy(), "shifted": shifted}, 0.9)
    # the reference's row and an identical posterior: no shift, sd ratio 1, distance 0
    for row in (0, 1):
        np.testing.assert_allclose(out["mean_shift"][row], 0.0, atol=1e-12)
        np.testing.assert_allclose(out["sd_ratio"][row], 1.0)
        assert out["energy_distance"][row] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(out["mean_shift"][2], 0.5, rtol=1e-6)
    np.testing.assert_allclose(out["wasserstein"][2], 0.5, rtol=1e-6)
    assert out["energy_distance"][2] > 0.2
    assert out["mean"].shape == (3, 3)


def test_the_laplace_files_draws_are_its_gaussian(obs, tmp_path):
    # laplace.nc's posterior holds fit_laplace's draws theta(z) of z ~ N(unconstrained mode,
    # covariance) (JAX keys; laplace.coordinates: unconstrained): the compare stage reads them
    # as any method's draws. z is undone here by hand: logit for the uniform priors' bounded
    # parameters, log for sigmain's (0, inf).
    config = merge(copy.deepcopy(CONFIG), {"laplace": {"num_draws": 20000, "seed": 5}})
    assert config["laplace"]["coordinates"] == "unconstrained"
    problem = Problem(VOIGT, VOIGT.line(config["line"], obs.nu, obs.dtype),
                      VOIGT.own_priors(PRIORS))  # fmt: skip
    start = np.asarray(VOIGT.start(problem.line, obs.f_obs, np.array([20.9, 0.1], obs.dtype)))
    groups = fitted("laplace", obs, config, start[None])
    idata, _ = written(groups, "laplace", tmp_path)
    assert idata.posterior.attrs["converged"] == 1 and idata.posterior.attrs["flags"] == ""
    approximation = idata.approximation
    assert list(approximation["param"].values) == ["logN", "logbeta", "sigmain"]
    mode, covariance, z_mode, z_covariance = (
        approximation[v].values.astype(float)
        for v in ("mode", "covariance", "unconstrained_mode", "unconstrained_covariance")
    )
    np.testing.assert_allclose(approximation["sd"], np.sqrt(np.diag(covariance)), rtol=1e-6)
    low = np.array([PRIORS["logN"]["low"], PRIORS["logbeta"]["low"]])
    width = np.array([PRIORS["logN"]["high"], PRIORS["logbeta"]["high"]]) - low

    def to_z(theta):
        u = (theta[..., :2] - low) / width
        return np.concatenate([np.log(u / (1 - u)), np.log(theta[..., 2:])], axis=-1)

    # the mode is theta(z mode), the covariance J cov_z J^T with J = dtheta/dz there
    np.testing.assert_allclose(to_z(mode), z_mode, rtol=1e-4, atol=1e-4)
    u = (mode[:2] - low) / width
    jacobian = np.concatenate([width * u * (1 - u), mode[2:]])
    np.testing.assert_allclose(covariance, z_covariance * np.outer(jacobian, jacobian), rtol=1e-4)
    d = draws(idata).astype(float)
    assert d.shape == (20000, 3) and idata.posterior.sizes == {"chain": 1, "draw": 20000}
    z = to_z(d)
    z_sd = np.sqrt(np.diag(z_covariance))
    assert np.all(np.abs(z.mean(axis=0) - z_mode) < 4 * z_sd / np.sqrt(len(z)))
    # the whole covariance of z, in units of sd_i sd_j
    scale = np.outer(z_sd, z_sd)
    np.testing.assert_allclose(np.cov(z.T) / scale, z_covariance / scale, atol=0.05)
    # on the constrained scale: the mode is the draws' median, the sd the delta method's
    sd = np.sqrt(np.diag(covariance))
    assert np.all(np.abs(np.median(d, axis=0) - mode) < 5 * sd / np.sqrt(len(d)))
    np.testing.assert_allclose(d.std(axis=0), sd, rtol=0.03)
    # the mode recovers the truth behind the data
    assert np.all(np.abs(mode - [21.0, 0.0, 0.05]) < 4 * sd), (mode, sd)
    # the draws come from the method's seed: the same again, others from another seed
    again = fitted("laplace", obs, config, start[None])
    np.testing.assert_array_equal(again["posterior"]["logN"], groups["posterior"]["logN"])
    other = merge(copy.deepcopy(config), {"laplace": {"seed": 6}})
    assert not np.array_equal(
        fitted("laplace", obs, other, start[None])["posterior"]["logN"], groups["posterior"]["logN"]
    )


def test_energy_distance_separates_distributions():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(800, 2)), rng.normal(size=(800, 2))
    assert energy_distance(x, y) < 0.15 < energy_distance(x, y + jnp.array([1.0, 0.0]))


def test_svi_is_flagged_while_its_loss_still_falls():
    from pipeline.analysis.summary import flag_svi

    rng = np.random.default_rng(4)
    table = posterior_summary(_idata(rng.normal(size=(1, 500))), 0.9)
    flat = -840 + rng.normal(0, 0.75, 10_000)  # the tutorial's last steps: noise, no trend
    assert (flag_svi(table, flat)["flags"] == "").all()
    falling = flat + np.linspace(20, 0, 10_000)  # still 2 nats a tenth
    flagged = flag_svi(table, falling)
    assert flagged["flags"].str.startswith("loss not settled").all()
    assert flagged["loss_drop"].iloc[0] == pytest.approx(2.0, abs=0.1)


def test_a_nan_statistic_is_flagged_not_passed():
    stuck = np.zeros((1, 8))  # a constant chain: ESS and R-hat cannot be computed
    table = flag(posterior_summary(_idata(stuck), 0.9), 0, THRESHOLDS)
    assert table["flags"].str.contains("r_hat").all()
