"""The forward model against scipy, chi^2 against finite differences and the chi2_map stage,
in float64."""

from __future__ import annotations

import copy
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import DEFAULT_CONFIG
from scipy.special import voigt_profile as scipy_voigt

from pipeline.models.voigt_line import GAUSSIAN, VOIGT, VOIGT_FREE_GAMMA
from pipeline.physics.forward import Line, cross_section, transmission
from pipeline.setup.config import merge
from pipeline.stages.chi2_map import chi2_map
from pipeline.stages.observation import Observation

LINE = {"nu0": 1000.0, "gamma": 1.0, "line_strength": 1e-20}


@pytest.fixture
def line64():
    with jax.enable_x64(True):
        yield Line(nu=jnp.linspace(980.0, 1020.0, 301), nu0=1000.0, gamma=1.0, line_strength=1e-20)


def test_cross_section_and_transmission_match_scipy(line64):
    with jax.enable_x64(True):
        nu = np.asarray(line64.nu)
        sigma = 1e-20 * scipy_voigt(nu - 1000.0, 10**0.1, 1.0)
        np.testing.assert_allclose(cross_section(line64, 10**0.1), sigma, rtol=1e-12)
        # the physics takes linear units: column density N and Gaussian sd beta
        np.testing.assert_allclose(
            transmission(line64, 10**21.2, 10**0.1), np.exp(-sigma * 10**21.2), rtol=1e-12
        )


def test_the_models_mean_flux_converts_their_logarithms(line64):
    with jax.enable_x64(True):
        nu = np.asarray(line64.nu)
        theta = {"logN": 21.2, "logbeta": 0.1}
        expected = np.exp(-1e-20 * scipy_voigt(nu - 1000.0, 10**0.1, 1.0) * 10**21.2)
        line = VOIGT.line(LINE, nu, "float64")
        assert (line.nu0, line.gamma, line.line_strength) == (1000.0, 1.0, 1e-20)
        np.testing.assert_allclose(VOIGT.mean(line, theta), expected, rtol=1e-12)
        # the free Lorentz width at the known one is the same line
        free = VOIGT_FREE_GAMMA.line(LINE, nu, "float64")
        assert free.gamma == 0.0  # not known to this model: it fits it
        np.testing.assert_allclose(
            VOIGT_FREE_GAMMA.mean(free, {**theta, "loggamma": 0.0}), expected, rtol=1e-12
        )
        # the Gaussian line: the same parameters, gamma = 0
        gaussian = GAUSSIAN.line(LINE, nu, "float64")
        assert gaussian.gamma == 0.0
        profile = np.exp(-0.5 * ((nu - 1000.0) / 10**0.1) ** 2) / (10**0.1 * np.sqrt(2 * np.pi))
        np.testing.assert_allclose(
            GAUSSIAN.mean(gaussian, theta), np.exp(-1e-20 * profile * 10**21.2), rtol=1e-12
        )


def test_chi2_gradient_matches_central_differences(line64):
    with jax.enable_x64(True):
        f_obs = VOIGT.mean(line64, {"logN": 21.0, "logbeta": 0.0}) + 0.05 * jnp.sin(line64.nu)

        def chi2(params):
            return VOIGT.chi2(line64, f_obs, 0.1, VOIGT.named(params, VOIGT.line_names))

        params = jnp.array([20.8, 0.3])
        grad = jax.grad(chi2)(params)
        # the same gradient taken through the dict theta travels as
        by_name = jax.grad(lambda theta: VOIGT.chi2(line64, f_obs, 0.1, theta))(
            {"logN": params[0], "logbeta": params[1]}
        )
        np.testing.assert_array_equal([by_name["logN"], by_name["logbeta"]], grad)
        step = 1e-6
        for i in range(2):
            e = jnp.zeros(2).at[i].set(step)
            fd = (chi2(params + e) - chi2(params - e)) / (2 * step)
            assert grad[i] == pytest.approx(float(fd), rel=1e-7)


def test_the_chi2_map_is_chi2_at_every_grid_point(line64):
    with jax.enable_x64(True):
        nu = np.asarray(line64.nu)
        f_obs = np.asarray(VOIGT.mean(line64, {"logN": 21.0, "logbeta": 0.0}))
        obs = Observation(nu, f_obs, 0.1, "float64", "data.nc")
        axes = {"x": {"param": "logN", "min": 20.5, "max": 21.5, "num": 5},
                "y": {"param": "logbeta", "min": -1.0, "max": 1.0, "num": 3}}  # fmt: skip
        config = merge(copy.deepcopy(DEFAULT_CONFIG), {"chi2_map": axes})
        ds = chi2_map(obs, config)
        assert ds["chi2"].dims == ("y", "x") and ds["chi2"].shape == (3, 5)
        assert (ds.attrs["x_param"], ds.attrs["y_param"]) == ("logN", "logbeta")
        assert json.loads(ds.attrs["fixed"]) == {}
        logN, logbeta = np.linspace(20.5, 21.5, 5), np.linspace(-1.0, 1.0, 3)
        np.testing.assert_array_equal(ds["x"], logN)
        np.testing.assert_array_equal(ds["y"], logbeta)
        for j, b in enumerate(logbeta):
            for i, n in enumerate(logN):
                theta = {"logN": jnp.float64(n), "logbeta": jnp.float64(b)}
                assert float(ds["chi2"][j, i]) == pytest.approx(
                    float(VOIGT.chi2(line64, f_obs, 0.1, theta)), rel=1e-9
                )
        assert float(ds["chi2"].sel(x=21.0, y=0.0)) == pytest.approx(0.0, abs=1e-20)
        assert float(VOIGT.chi2(line64, f_obs, 0.1, {"logN": 21.0, "logbeta": 0.0})) == 0.0
