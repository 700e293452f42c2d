"""The forward model against scipy and finite differences in float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import voigt_profile as scipy_voigt

from pipeline.physics.forward import Line, chi2, chi2_grid, cross_section, transmission


@pytest.fixture
def line64():
    with jax.enable_x64(True):
        yield Line(nu=jnp.linspace(980.0, 1020.0, 301), nu0=1000.0, gamma=1.0, line_strength=1e-20)


def test_cross_section_and_transmission_match_scipy(line64):
    with jax.enable_x64(True):
        nu = np.asarray(line64.nu)
        sigma = 1e-20 * scipy_voigt(nu - 1000.0, 10**0.1, 1.0)
        np.testing.assert_allclose(cross_section(line64, 10**0.1), sigma, rtol=1e-12)
        np.testing.assert_allclose(
            transmission(line64, 21.2, 0.1), np.exp(-sigma * 10**21.2), rtol=1e-12
        )


def test_chi2_gradient_matches_central_differences(line64):
    with jax.enable_x64(True):
        f_obs = transmission(line64, 21.0, 0.0) + 0.05 * jnp.sin(line64.nu)
        params = jnp.array([20.8, 0.3])
        grad = jax.grad(chi2)(params, line64, f_obs, 0.1)
        step = 1e-6
        for i in range(2):
            e = jnp.zeros(2).at[i].set(step)
            fd = (chi2(params + e, line64, f_obs, 0.1) - chi2(params - e, line64, f_obs, 0.1)) / (
                2 * step
            )
            assert grad[i] == pytest.approx(float(fd), rel=1e-7)


def test_chi2_grid_is_chi2_at_every_grid_point(line64):
    with jax.enable_x64(True):
        f_obs = transmission(line64, 21.0, 0.0)
        logN, logbeta = jnp.linspace(20.5, 21.5, 4), jnp.linspace(-1.0, 1.0, 3)
        grid = chi2_grid(logN, logbeta, line64, f_obs, 0.1)
        assert grid.shape == (3, 4)  # (logbeta, logN), as the chi2_map layout declares
        for j, b in enumerate(logbeta):
            for i, n in enumerate(logN):
                assert grid[j, i] == pytest.approx(
                    float(chi2(jnp.stack([n, b]), line64, f_obs, 0.1))
                )
        assert float(chi2(jnp.array([21.0, 0.0]), line64, f_obs, 0.1)) == 0.0
