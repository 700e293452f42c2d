"""Accuracy, derivatives and robustness of pipeline.physics.voigt against SciPy and mpmath."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.special as sc

from pipeline.physics.voigt import faddeeva, voigt_profile

# Rule parameters used by the implementation (N = 11 float64, N = 6 float32): seams and nodes
# of both are put on every grid.
_H = {n: math.sqrt(math.pi / (n + 1)) for n in (11, 6)}
_SQ2 = math.sqrt(2.0)
SIGMAS = (0.7, 2.3e-3)


def _special_u() -> np.ndarray:
    """Re z at trapezoid/midpoint nodes and at the rule-selection seams d = 1/4, 3/4."""
    m = np.arange(0, 16)
    pts = [h * np.concatenate([m, m + 0.25, m + 0.5, m + 0.75]) for h in _H.values()]
    return np.concatenate(pts)


def _special_y() -> np.ndarray:
    """Im z at the seam y = pi/h where the correction term C is switched off."""
    return np.array([math.pi / h for h in _H.values()])


def _x_ratios() -> np.ndarray:
    """|x|/sigma: 0, linear core, log-spaced wings to 1e4, nodes and seams, and negatives."""
    pos = np.concatenate(
        [[0.0], np.linspace(0.01, 14.0, 281), np.geomspace(1e-4, 1e4, 161), _SQ2 * _special_u()]
    )
    return np.unique(np.concatenate([pos, -pos[::7]]))


def _gamma_ratios() -> np.ndarray:
    """gamma/sigma: 0, 1e-6 .. 1e4 and the y = pi/h seams (y = gamma/(sigma sqrt 2))."""
    return np.unique(np.concatenate([[0.0], np.geomspace(1e-6, 1e4, 41), _SQ2 * _special_y()]))


def _voigt_grid(dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat (x, sigma, gamma) in `dtype`; the reference is evaluated at these rounded values."""
    xr, gr = np.meshgrid(_x_ratios(), _gamma_ratios())
    xs, ss, gs = [], [], []
    for s in SIGMAS:
        xs.append(xr.ravel() * s)
        gs.append(gr.ravel() * s)
        ss.append(np.full(xr.size, s))
    return tuple(np.concatenate(a).astype(dtype) for a in (xs, ss, gs))


def _significant(ref: np.ndarray, sigma: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Where the profile is above 1e-30 of its peak value (the accuracy target's domain)."""
    return ref > 1e-30 * sc.voigt_profile(0.0, sigma, gamma)


@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_voigt_value_matches_scipy(dtype, tol):
    x, s, g = _voigt_grid(dtype)
    with jax.enable_x64(True):
        got = jax.jit(voigt_profile)(x, s, g)
        assert got.dtype == dtype  # float32 stays float32 even with x64 enabled
        got = np.asarray(got, np.float64)
    x, s, g = (a.astype(np.float64) for a in (x, s, g))
    ref = sc.voigt_profile(x, s, g)
    keep = _significant(ref, s, g)
    assert keep.sum() > 0.9 * keep.size
    err = np.abs(got[keep] - ref[keep]) / ref[keep]
    print(f"voigt {np.dtype(dtype).name}: max rel err {err.max():.3g} over {err.size} points")
    assert err.max() <= tol, (err.max(), x[keep][err.argmax()], g[keep][err.argmax()])


def _faddeeva_grid() -> np.ndarray:
    xs = np.concatenate([np.linspace(0, 12, 241), np.geomspace(1e-3, 1e4, 57), _special_u()])
    xs = np.unique(np.concatenate([xs, -xs]))
    ys = np.unique(np.concatenate([[0.0], np.geomspace(1e-8, 1e4, 49), _special_y()]))
    xg, yg = np.meshgrid(xs, ys)
    return (xg + 1j * yg).ravel()


@pytest.mark.parametrize(("dtype", "tol"), [(np.complex128, 1e-12), (np.complex64, 2e-5)])
def test_faddeeva_matches_scipy(dtype, tol):
    z = _faddeeva_grid().astype(dtype)
    # Lower half-plane through the reflection formula, where |w| stays representable.
    zl = z[(np.abs(z.real) < 5) & (z.imag > 0) & (z.imag < 3)].conj()
    z = np.concatenate([z, zl])
    with jax.enable_x64(True):
        got = jax.jit(faddeeva)(z)
        assert got.dtype == dtype
        got = np.asarray(got, np.complex128)
    z = z.astype(np.complex128)
    ref = sc.wofz(z)
    upper = z.imag >= 0
    # Re w > 0 in the upper half-plane: relative to itself where the float32 range holds it.
    keep = upper & (ref.real > 1e-30)
    err_re = np.abs(got.real - ref.real)[keep] / ref.real[keep]
    assert err_re.max() <= tol, (err_re.max(), z[keep][err_re.argmax()])
    # Im w changes sign (Im w = 0 on the imaginary axis): relative to |w|; same for y < 0.
    err_im = np.abs(got.imag - ref.imag) / np.abs(ref)
    assert err_im.max() <= tol, (err_im.max(), z[err_im.argmax()])
    err_low = np.abs(got - ref)[~upper] / np.abs(ref[~upper])
    print(
        f"faddeeva {np.dtype(dtype).name}: max rel err Re {err_re.max():.3g}, "
        f"Im/|w| {err_im.max():.3g}, Im z < 0 {err_low.max():.3g}"
    )
    assert err_low.max() <= tol


def _mp_voigt_and_grad(x: float, s: float, g: float) -> list[float]:
    """V and dV/dx, dV/dsigma, dV/dgamma in 40-digit arithmetic at exactly these floats.

    The reference is mpmath, not finite differences of scipy: w' = -2 z w + 2i/sqrt(pi) is exact,
    and its cancellation (~2|z|^2 <= 1e9 here) costs 9 of the 40 digits, leaving the reference
    ~1e-30 accurate. 5/7-point differences of scipy are limited by scipy's own ~1e-14..1e-13
    value noise divided by the step (~1e-11..1e-10), too close to the 1e-9 target to be honest.
    """
    x, s, g = mpmath.mpf(x), mpmath.mpf(s), mpmath.mpf(g)
    z = (x + 1j * g) / (s * mpmath.sqrt(2))
    w = mpmath.exp(-z * z) * mpmath.erfc(-1j * z)
    dw = -2 * z * w + 2j / mpmath.sqrt(mpmath.pi)
    v = w.real / (s * mpmath.sqrt(2 * mpmath.pi))
    c = 1 / (2 * mpmath.sqrt(mpmath.pi) * s * s)
    # dz/dsigma = -z/sigma, dz/dx = 1/(sigma sqrt 2), dz/dgamma = i/(sigma sqrt 2)
    dv_ds = -v / s - (dw * z).real / (s * s * mpmath.sqrt(2 * mpmath.pi))
    return [float(v), float(dw.real * c), float(dv_ds), float(-dw.imag * c)]


def test_voigt_gradient_matches_mpmath():
    xr = np.unique(
        np.concatenate(
            [
                [0.0, -2.0],
                np.linspace(0.05, 12.0, 24),
                np.geomspace(1e-3, 1e4, 15),
                _SQ2 * _H[11] * np.array([1.0, 2.5, 3.25, 4.75, 7.0]),
            ]
        )
    )
    gr = np.array([0.0, 1e-6, 1e-3, 0.1, 0.5, 1.0, 3.0, *(_SQ2 * _special_y()), 30.0, 1e2, 1e4])
    xg, gg = np.meshgrid(xr, gr)
    x = np.concatenate([xg.ravel() * s for s in SIGMAS])
    g = np.concatenate([gg.ravel() * s for s in SIGMAS])
    s = np.concatenate([np.full(xg.size, s) for s in SIGMAS])
    with mpmath.workdps(40):
        ref = np.array([_mp_voigt_and_grad(*p) for p in zip(x, s, g, strict=True)])
    keep = _significant(ref[:, 0], s, g)
    x, s, g, ref = x[keep], s[keep], g[keep], ref[keep]

    with jax.enable_x64(True):
        loss = lambda x, s, g: voigt_profile(x, s, g).sum()  # noqa: E731
        val, grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(x, s, g)
        fwd = jax.jacfwd(lambda p: voigt_profile(p[0], p[1], p[2]))(jnp.asarray([x[5], s[5], g[5]]))
    assert abs(float(val) - ref[:, 0].sum()) <= 1e-12 * ref[:, 0].sum()
    # Every dV/dp is compared against max(|dV/dp|, V/(|x| + sigma + gamma)). V is homogeneous of
    # degree -1, so x V_x + sigma V_sigma + gamma V_gamma = -V: V/(|x| + sigma + gamma) is the
    # natural size of a gradient component, used where a component crosses zero (x = 0, the
    # sign changes of V_sigma and V_gamma); elsewhere the error is relative to |dV/dp| itself.
    floor = ref[:, 0] / (np.abs(x) + s + g)
    for i, (name, grad) in enumerate(zip(("x", "sigma", "gamma"), grads, strict=True), start=1):
        err = np.abs(np.asarray(grad) - ref[:, i]) / np.maximum(np.abs(ref[:, i]), floor)
        print(f"dV/d{name}: max rel err {err.max():.3g} over {err.size} points")
        assert err.max() <= 1e-9, (name, err.max(), x[err.argmax()], g[err.argmax()])
    np.testing.assert_allclose(np.asarray(fwd), ref[5, 1:], rtol=1e-9, atol=1e-9 * floor[5])


def test_faddeeva_derivative_matches_mpmath():
    xs = np.array([0.0, 0.3, 1.7, 4.0, 9.0, 40.0, 3e3])
    ys = np.array([0.0, 1e-5, 0.4, 2.0, _special_y()[0], 50.0])
    z = (xs[:, None] + 1j * ys[None, :]).ravel()
    z = np.concatenate([z, -z.conj(), (xs[:4] - 1.5j)])
    with mpmath.workdps(40):
        ref = []
        for zz in z:
            zm = mpmath.mpc(zz.real, zz.imag)
            w = mpmath.exp(-zm * zm) * mpmath.erfc(-1j * zm)
            ref.append(complex(-2 * zm * w + 2j / mpmath.sqrt(mpmath.pi)))
    ref = np.array(ref)
    with jax.enable_x64(True):
        _, dw = jax.jit(lambda z: jax.jvp(faddeeva, (z,), (jnp.ones_like(z),)))(z)
        dw_vmap = jax.jit(jax.vmap(jax.grad(faddeeva, holomorphic=True)))(z)
    err = np.abs(np.asarray(dw) - ref) / np.abs(ref)
    print(f"faddeeva w': max rel err {err.max():.3g}")
    assert err.max() <= 1e-11, (err.max(), z[err.argmax()])
    np.testing.assert_allclose(np.asarray(dw_vmap), np.asarray(dw), rtol=1e-15)


def _edge_points(dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x = 0, gamma = 0, exact nodes and seams, y = pi/h, and |z| up to 1e8."""
    n = 11 if dtype == np.float64 else 6
    h = _H[n]
    u = np.concatenate([[0.0], h * np.array([0.25, 0.5, 0.75, 1.0, 3.25, 3.75]), [1e3, 1e8]])
    y = np.array([0.0, 1e-7, math.pi / h, 1e3, 1e8])
    ug, yg = np.meshgrid(np.concatenate([u, -u[1:]]), y)
    sigma = 1.25
    x = ug.ravel() * _SQ2 * sigma
    g = yg.ravel() * _SQ2 * sigma
    return x.astype(dtype), np.full_like(x, sigma).astype(dtype), g.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_nan_or_inf_with_debug_nans(dtype):
    x, s, g = _edge_points(dtype)
    loss = lambda x, s, g: voigt_profile(x, s, g).sum()  # noqa: E731
    with jax.enable_x64(True), jax.debug_nans(True), jax.debug_infs(True):
        # Eagerly, so that every primitive (also of unselected branches) is checked.
        v = voigt_profile(x, s, g)
        grads = jax.grad(loss, argnums=(0, 1, 2))(x, s, g)
        vj, gj = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(x, s, g)
        z = (x + 1j * g) / (s * _SQ2)
        w, dw = jax.jvp(faddeeva, (z,), (jnp.ones_like(z),))
    for a in (v, *grads, vj, *gj, w, dw):
        assert a.dtype in (dtype, np.result_type(dtype, np.complex64))
        assert np.all(np.isfinite(np.asarray(a)))
    # gamma = 0 is the Gaussian, and x = 0 a maximum (zero slope).
    gauss = g == 0
    xg, sg = x[gauss].astype(np.float64), s[gauss].astype(np.float64)
    np.testing.assert_allclose(
        np.asarray(v)[gauss],
        np.exp(-0.5 * (xg / sg) ** 2) / (sg * math.sqrt(2 * math.pi)),
        rtol=1e-13 if dtype == np.float64 else 2e-6,
    )
    assert np.all(np.asarray(grads[0])[x == 0] == 0)


def test_jit_vmap_grad_broadcasting_and_dtypes():
    with jax.enable_x64(True):
        x = jnp.linspace(-5.0, 5.0, 11)
        sig = jnp.array([0.5, 1.0, 2.0])
        out = jax.jit(voigt_profile)(x[:, None], sig[None, :], 0.3)
        assert out.shape == (11, 3)
        ref = sc.voigt_profile(np.asarray(x)[:, None], np.asarray(sig)[None, :], 0.3)
        np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-13)

        # vmap of the per-point gradient agrees with the gradient of the sum.
        per_point = jax.vmap(jax.grad(voigt_profile, argnums=(0, 1, 2)), in_axes=(0, None, None))
        g1 = jax.jit(per_point)(x, 0.8, 0.3)
        loss = lambda x, s, g: voigt_profile(x, s, g).sum()  # noqa: E731
        g2 = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(x, 0.8, 0.3)
        np.testing.assert_allclose(np.asarray(g1[0]), np.asarray(g2[0]), rtol=1e-14)
        np.testing.assert_allclose(float(g1[1].sum()), float(g2[1]), rtol=1e-13)
        np.testing.assert_allclose(float(g1[2].sum()), float(g2[2]), rtol=1e-13)

        # float32 in, float32 out (values and gradients), even with x64 enabled.
        x32 = x.astype(jnp.float32)
        v32 = jax.jit(voigt_profile)(x32, jnp.float32(0.8), jnp.float32(0.3))
        d32 = jax.jit(jax.grad(lambda x: voigt_profile(x, jnp.float32(0.8), 0.3).sum()))(x32)
        assert v32.dtype == jnp.float32 and d32.dtype == jnp.float32
        assert jax.jit(faddeeva)(jnp.complex64(1 + 1j)).dtype == jnp.complex64
        assert jax.jit(voigt_profile)(np.float32(1.0), 1.0, 0.5).dtype == jnp.float32

        # Second derivatives run (the rule is differentiated again by autodiff).
        d2 = jax.jit(jax.grad(jax.grad(voigt_profile)))(0.7, 1.1, 0.4)
        h = 1e-4
        fd = (
            sc.voigt_profile(0.7 + h, 1.1, 0.4)
            - 2 * sc.voigt_profile(0.7, 1.1, 0.4)
            + sc.voigt_profile(0.7 - h, 1.1, 0.4)
        ) / h**2
        np.testing.assert_allclose(float(d2), fd, rtol=1e-5)

    # Default (x64 off) Python floats give float32.
    assert jax.jit(voigt_profile)(0.5, 1.0, 0.2).dtype == jnp.float32
