"""Batched fitting: one dataset alone and inside a block of several give the same fit."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.inference.batching import Batching
from pipeline.inference.laplace import STEP_TOLERANCE, fit_laplace
from pipeline.inference.nuts import fit_nuts
from pipeline.inference.svi import fit_svi
from pipeline.methods import dataset_keys
from pipeline.methods.laplace import DAMPING, LaplaceSettings
from pipeline.methods.nuts import NutsSettings
from pipeline.methods.svi import SviSettings
from pipeline.models.simulate import simulate
from pipeline.models.spec import Problem, linear_grid
from pipeline.models.voigt_line import VOIGT

PRIORS = {"logN": {"low": 20.5, "high": 21.5}, "logbeta": {"low": -1.0, "high": 1.0},
          "sigmain": {"rate": 10.0}}  # fmt: skip
LINE = {"nu0": 1000.0, "half_width": 20.0, "n_points": 150, "line_strength": 1e-20, "gamma": 1.0}
NUTS_SETTINGS = NutsSettings(num_warmup=500, num_samples=2000, num_chains=1,
                             chain_method="vectorized", target_accept_prob=0.8,
                             dense_mass=False)  # fmt: skip
SVI_SETTINGS = SviSettings(
    num_steps=1500, learning_rate=0.01, final_learning_rate_fraction=1.0, num_draws=1000
)
# the constrained fit: its mode is the posterior's mode, which scipy finds too
LAPLACE_SETTINGS = LaplaceSettings(num_draws=10, coordinates="constrained")
# three datasets; the one fitted alone is the third, which the second call holds with a pad
TRUTHS = [(21.0, 0.0, 0.05), (20.8, 0.3, 0.1), (21.1, -0.2, 0.05)]
ALONE = 2


def problem(dtype: str = "float32") -> Problem:
    line = VOIGT.line(LINE, linear_grid(LINE, dtype), dtype)
    return Problem(VOIGT, line, VOIGT.own_priors(PRIORS))


@pytest.fixture(scope="module")
def block():
    prob = problem()
    ys = np.stack([
        simulate(VOIGT, prob.line, {"logN": n, "logbeta": b}, s, seed)["f_obs"]
        for seed, (n, b, s) in enumerate(TRUTHS)
    ])  # fmt: skip
    assert ys.dtype == np.float32
    return prob, ys, dataset_keys(7, "batched", np.arange(len(TRUTHS)))


def _mcse_agree(alone: np.ndarray, inside: np.ndarray, draws_alone: int) -> None:
    """Means within 4 Monte Carlo standard errors (of the difference), sds within 10%."""
    se = np.sqrt(alone.var() / draws_alone + inside.var() / inside.size)
    assert abs(alone.mean() - inside.mean()) < 4 * se, (alone.mean(), inside.mean(), se)
    assert inside.std() == pytest.approx(alone.std(), rel=0.1)


@pytest.mark.parametrize("vmap_width", [1, 2])
def test_nuts_fits_a_dataset_alone_as_inside_a_block(block, vmap_width):
    prob, ys, keys = block
    alone, _ = fit_nuts(prob, ys[ALONE : ALONE + 1], keys[ALONE : ALONE + 1], NUTS_SETTINGS)
    batching = Batching(per_call=2, vmap_width=vmap_width)  # two calls, the last padded
    inside, seconds = fit_nuts(prob, ys, keys, NUTS_SETTINGS, batching)
    assert inside["logN"].shape == (3, 1, 2000) and inside["diverging"].shape == (3, 1, 2000)
    assert seconds["run_seconds_per_dataset"] == pytest.approx(seconds["run_seconds"] / 3)
    for p in ("logN", "logbeta", "sigmain"):
        if vmap_width == 1:  # lax.map: the same program on the same inputs, draw for draw
            np.testing.assert_array_equal(alone[p][0], inside[p][ALONE])
        else:  # vectorised: XLA rounds differently, and the chains drift apart
            # NUTS draws are correlated: the standard error uses ESS ~ draws / 2 here
            _mcse_agree(alone[p][0].ravel(), inside[p][ALONE].ravel(), 1000)
    # every dataset adapts on its own: its own step size after warmup
    step_sizes = inside["adapt_state.step_size"][:, 0, 0]
    assert len(np.unique(step_sizes)) == 3


def test_svi_fits_a_dataset_alone_as_inside_a_block(block):
    prob, ys, keys = block
    alone, _ = fit_svi(prob, ys[ALONE : ALONE + 1], keys[ALONE : ALONE + 1], SVI_SETTINGS)
    inside, _ = fit_svi(prob, ys, keys, SVI_SETTINGS, Batching(per_call=3, vmap_width=3))
    assert inside["loss"].shape == (3, 1500)
    for p in ("logN", "logbeta", "sigmain"):
        _mcse_agree(alone[p][0], inside[p][ALONE], 1000)
    np.testing.assert_allclose(alone["auto_loc"][0], inside["auto_loc"][ALONE], rtol=1e-3)


def test_laplace_fits_a_dataset_alone_as_inside_a_block(block):
    prob, ys, keys = block
    inits = np.stack(
        [np.asarray(VOIGT.start(prob.line, y, np.array([20.95, 0.05], np.float32))) for y in ys]
    )
    one = slice(ALONE, ALONE + 1)
    alone, _ = fit_laplace(prob, ys[one], inits[one], keys[one], LAPLACE_SETTINGS, DAMPING)
    inside, _ = fit_laplace(prob, ys, inits, keys, LAPLACE_SETTINGS, DAMPING,
                            Batching(per_call=2, vmap_width=2))  # fmt: skip
    assert inside["converged"].tolist() == [1] * 3
    # and the Gaussian's draws of every parameter, per dataset
    assert all(inside[p].shape == (3, LAPLACE_SETTINGS.num_draws) for p in VOIGT.names)
    # the same mode to the search's tolerance (vectorised, XLA rounds a little differently)
    sd = np.sqrt(np.diagonal(inside["covariance"], axis1=1, axis2=2))
    assert (np.abs(alone["mode"][0] - inside["mode"][ALONE]) < 2 * STEP_TOLERANCE * sd[ALONE]).all()
    # and the same covariance, in units of sd_i sd_j (entries near 0 are rounding there)
    scale = np.outer(sd[ALONE], sd[ALONE])
    np.testing.assert_allclose(
        alone["covariance"][0] / scale, inside["covariance"][ALONE] / scale, atol=1e-3
    )
    # each mode near its own truth, within 4 of its own sds
    assert (np.abs(inside["mode"] - np.array(TRUTHS)) < 4 * sd).all()


def test_laplace_mode_matches_a_float64_brute_force_search():
    # the Laplace mode and curvature against scipy on the same log posterior, in float64
    import jax
    from scipy.optimize import minimize

    with jax.enable_x64(True):
        prob = problem("float64")
        y = simulate(VOIGT, prob.line, {"logN": 21.0, "logbeta": 0.0}, 0.05, 4)["f_obs"]
        assert y.dtype == np.float64
        init = np.asarray(VOIGT.start(prob.line, y, np.array([20.9, 0.1])))
        fit, _ = fit_laplace(prob, y[None], init[None], dataset_keys(0, "laplace"),
                             LAPLACE_SETTINGS, DAMPING)  # fmt: skip
        # the model's own log joint, straight from numpyro: -log p(y, theta)
        neg_log_posterior = jax.jit(
            lambda t: -VOIGT.log_joint(prob.line, prob.priors, y, VOIGT.named(t))
        )
        reference = minimize(
            lambda t: float(neg_log_posterior(t)), init, method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
        )  # fmt: skip
        np.testing.assert_allclose(fit["mode"][0], reference.x, atol=1e-6)
        assert fit["converged"][0] == 1


def test_a_start_outside_the_prior_is_moved_inside(block):
    prob, ys, keys = block
    outside = np.array([[20.4, 1.3, 0.05]], np.float32)  # logN and logbeta beyond the priors
    fit, _ = fit_laplace(prob, ys[:1], outside, keys[:1], LAPLACE_SETTINGS, DAMPING)
    assert fit["converged"][0] == 1
    np.testing.assert_allclose(fit["mode"][0, :2], TRUTHS[0][:2], atol=0.05)


def test_progress_is_printed_after_every_call(block, capsys):
    prob, ys, keys = block
    inits = np.repeat(np.array([[21.0, 0.0, 0.05]], np.float32), len(ys), axis=0)
    batching = Batching(per_call=1, vmap_width=1)
    fit_laplace(prob, ys, inits, keys, LAPLACE_SETTINGS, DAMPING, batching)
    err = capsys.readouterr().err
    assert "Laplace: compiled in" in err
    for done in ("1/3", "2/3", "3/3"):
        assert f"Laplace: {done} datasets" in err
    assert "s left" in err
