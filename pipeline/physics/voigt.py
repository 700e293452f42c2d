"""Faddeeva function w(z) and Voigt profile in JAX: accurate to rounding level, differentiable.

Method: the modified trapezoidal / midpoint rules of M. Al Azah and S. N. Chandler-Wilde,
"Computation of the complex error function using modified trapezoidal rules",
SIAM J. Numer. Anal. 59 (2021), arXiv:2010.05659. For Im z >= 0 and h = sqrt(pi/(N+1)),

    w(z) ~ (2i h z/pi) sum_k c_k exp(-t_k^2)/(z^2 - t_k^2) + C(z),

with nodes t_k = k h (trapezoid, c_0 = 1/2, C = 2 exp(-z^2)/(1 - exp(-2 pi i z/h))) or
t_k = (k + 1/2) h (midpoint, c_k = 1, C = 2 exp(-z^2)/(1 + exp(-2 pi i z/h))), k = 0..N; the
error is ~exp(-pi (N+1)) uniformly. Per point the rule whose nodes are farther from Re z is used,
so the sum and C never cancel. Everything is real arithmetic in branch-free elementwise code, and
derivatives come from differentiating the rule itself (not from w' = -2zw + 2i/sqrt(pi), which
loses ~2|z|^2 relative accuracy in the wings).

Domain: finite inputs with |z| <= 1e8 (float32) or 1e70 (float64); voigt_profile needs sigma > 0
and gamma >= 0 (the physical Voigt profile).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["faddeeva", "voigt_profile"]

# N+1 terms per rule: error exp(-pi (N+1)) is 4e-17 for N=11 and 3e-10 for N=6, below the
# rounding error of float64 / float32 (tests/test_voigt.py measures both).
_N_TERMS = {np.dtype(np.float64): 11, np.dtype(np.float32): 6}
# |x| beyond which exp(-x^2) underflows to 0 (including subnormals) in the dtype.
_X_CAP = {np.dtype(np.float64): 27.5, np.dtype(np.float32): 10.5}
# Newton steps after the bit-trick seed (rel. error 0.05 -> 2.6e-3 -> 6.6e-6 -> 4e-11 -> 3e-16).
_RECIP = {
    np.dtype(np.float64): (np.int64, 0x7FDE623822FC16E6, 4),
    np.dtype(np.float32): (np.int32, 0x7EF311C7, 3),
}
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@functools.cache
def _constants(n: int, kappa: float) -> dict:
    """Node tables and prefactors for z = kappa (v + i eta), i.e. in units of v."""
    h = math.sqrt(math.pi / (n + 1))
    k = np.arange(n + 1, dtype=np.float64)
    t_trap, t_mid = k * h, (k + 0.5) * h
    c_trap = np.ones(n + 1)
    c_trap[0] = 0.5
    return {
        "inv_hv": kappa / h,  # v * inv_hv = x / h
        "tau_trap": (t_trap / kappa).tolist(),
        "tau_mid": (t_mid / kappa).tolist(),
        "wt_trap": (c_trap * np.exp(-(t_trap**2))).tolist(),
        "wt_mid": np.exp(-(t_mid**2)).tolist(),
        "pref": 2.0 * h / (math.pi * kappa),
        "dpref": 2.0 * h / (math.pi * kappa**2),
        "kappa2": kappa * kappa,
        "a_exp": 2.0 * math.pi * kappa / h,  # 2 pi y / h = a_exp * eta
        "two_pi_over_h": 2.0 * math.pi / h,
        "eta_max": math.pi / (h * kappa),  # y = pi/h: beyond, C < exp(-pi (N+1)) is dropped
    }


def _recip(x: jax.Array) -> jax.Array:
    """1/x for x > 0 (normal range) to ~1 ulp, using only multiplies and adds."""
    # XLA:CPU refuses to fuse a divide with several users into one kernel and spills such
    # values (and everything upstream) to memory, which made the derivative kernel 3-5x slower.
    dt = np.dtype(x.dtype)
    itype, magic, steps = _RECIP[dt]
    seed = itype(magic) - jax.lax.bitcast_convert_type(jax.lax.stop_gradient(x), itype)
    y = jax.lax.bitcast_convert_type(seed, dt)
    for _ in range(steps):
        y = y + y * (dt.type(1.0) - x * y)
    return y


@functools.cache
def _cis_coeffs(dt: np.dtype) -> tuple[list[float], list[float]]:
    """Taylor coefficients in f^2 of cos(2 pi f) and sin(2 pi f)/f, |f| <= 1/8, dtype-exact."""
    # Truncation (pi/4)^12/12! = 1e-10 (float32) and (pi/4)^20/20! = 3e-21 (float64).
    n = 6 if dt == np.float32 else 10
    two_pi = 2.0 * math.pi
    cos_c = [(-1) ** k * two_pi ** (2 * k) / math.factorial(2 * k) for k in range(n)]
    sin_c = [(-1) ** k * two_pi ** (2 * k + 1) / math.factorial(2 * k + 1) for k in range(n)]
    return cos_c[::-1], sin_c[::-1]


def _cis2pi(t: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(cos 2 pi t, sin 2 pi t) for moderate |t| (< 1e5), branch-free."""
    # XLA:CPU's sin/cos branch per element (3x slower on unsorted data); arguments here are
    # phases with exact quarter-period reduction, so short polynomials are enough.
    f = np.dtype(t.dtype).type
    m = jnp.round(f(4.0) * t)
    r = t - f(0.25) * m  # exact, |r| <= 1/8
    r2 = r * r
    cos_c, sin_c = _cis_coeffs(np.dtype(t.dtype))
    c = functools.reduce(lambda acc, a: acc * r2 + f(a), cos_c[1:], f(cos_c[0]))
    s = r * functools.reduce(lambda acc, a: acc * r2 + f(a), sin_c[1:], f(sin_c[0]))
    q = m - f(4.0) * jnp.floor(f(0.25) * m)  # quadrant 0..3
    swap = (q == f(1.0)) | (q == f(3.0))
    cq = jnp.where(swap, s, c)
    sq = jnp.where(swap, c, s)
    cq = jnp.where((q == f(1.0)) | (q == f(2.0)), -cq, cq)
    sq = jnp.where(q >= f(2.0), -sq, sq)
    return cq, sq


def _kernel(v: jax.Array, eta: jax.Array, kappa: float, mode: str):
    """w at z = kappa (v + i eta), eta >= 0: mode 're' -> Re w, 'w' -> w, 'dw' -> w' (complex)."""
    dt = np.dtype(v.dtype)
    f = dt.type
    c = _constants(_N_TERMS[dt], kappa)

    # Rule selection from the position of x between nodes; d also gives the phase of E exactly.
    s = v * f(c["inv_hv"])
    d = s - jnp.floor(s)
    trap = (d >= f(0.25)) & (d <= f(0.75))

    v2 = v * v
    e2 = eta * eta
    b = f(2.0) * v * eta
    b2 = b * b
    r2 = v2 + e2
    acc = [f(0.0), f(0.0)]
    for tt, tm, wt, wm in zip(c["tau_trap"], c["tau_mid"], c["wt_trap"], c["wt_mid"], strict=True):
        tau = jnp.where(trap, f(tt), f(tm))
        tau2 = jnp.where(trap, f(tt * tt), f(tm * tm))
        wk = jnp.where(trap, f(wt), f(wm))
        # (v - tau)(v + tau) keeps x^2 - t^2 accurate; x is >= h/4 from every node, so dd > 0.
        a = (v - tau) * (v + tau) - e2
        dd = a * a + b2
        if mode == "re":
            # All terms positive: no cancellation, accurate far into the wings. (Each divide has
            # a single user here, so true division still fuses.)
            acc[0] = acc[0] + wk * (r2 + tau2) / dd
        elif mode == "w":
            wq = wk * _recip(dd)
            acc[0] = acc[0] + wq * (r2 + tau2)
            acc[1] = acc[1] + wq * (r2 - tau2)
        else:
            # d/dz[z q] = -(z^2 + t^2) q^2 = -(q + 2 t^2 q^2), q = 1/(z^2 - t^2) = (a - ib)/dd:
            # q ~ 1/|z|^2 and q^2 ~ 1/|z|^4 stay in range for |z| <= 1e8 even in float32.
            iq = _recip(dd)
            qr = a * iq
            qi = -b * iq
            w2k = jnp.where(trap, f(2.0 * tt * tt * wt), f(2.0 * tm * tm * wm))
            acc[0] = acc[0] + wk * qr + w2k * (qr * qr - qi * qi)
            acc[1] = acc[1] + wk * qi + w2k * (f(2.0) * qr * qi)

    # C = 2 exp(-z^2) E/(E - s), E = exp(2 pi i z/h), s = +1 trapezoid / -1 midpoint.
    # y is clamped to pi/h and |x| to where exp(-x^2) underflows, so no branch ever overflows;
    # C is masked to 0 (or underflows to 0) there anyway.
    eta_max = f(c["eta_max"])
    vcap = f(_X_CAP[dt] / kappa)
    eta_c = jnp.minimum(eta, eta_max)
    v_c = jnp.clip(v, -vcap, vcap)
    sgn = jnp.where(trap, f(1.0), f(-1.0))
    r = jnp.exp(-f(c["a_exp"]) * eta_c)
    ct, st = _cis2pi(d)
    den_re = r * ct - sgn
    den_im = r * st
    nrm = den_re * den_re + den_im * den_im  # |E - s|^2 >= 1 for the selected rule
    # exp(-z^2) E = exp(g + i phi): g = y^2 - x^2 - 2 pi y/h <= -x^2, phi = 2 pi d - 2 x y.
    k2 = f(c["kappa2"])
    g = k2 * (eta_c * eta_c) - k2 * (v_c * v_c) - f(c["a_exp"]) * eta_c
    e2g = jnp.where(eta < eta_max, f(2.0) * jnp.exp(g), f(0.0))
    cp, sp = _cis2pi(d - f(c["kappa2"] / math.pi) * v_c * eta_c)
    # exp(i phi) conj(E - s); C = e2g * u / nrm.
    u_re = cp * den_re + sp * den_im
    u_im = sp * den_re - cp * den_im

    if mode == "re":
        # One division at the root: the result is then computed once even when it feeds several
        # consumers (value and d/dsigma); a cheap root would be duplicated into each of them.
        return (f(c["pref"]) * eta * acc[0] * nrm + e2g * u_re) / nrm
    if mode == "w":
        # As complex with a division at the root, w leaves one fused kernel as one array.
        num_re = f(c["pref"]) * eta * acc[0] * nrm + e2g * u_re
        num_im = f(c["pref"]) * v * acc[1] * nrm + e2g * u_im
        return jax.lax.complex(num_re, num_im) / jax.lax.complex(nrm, jnp.zeros_like(nrm))

    # w' = S' + dC/dz with S' = -(2i h/(pi kappa^2)) acc and dC/dz = C (-2z - (2 pi i/h) s/(E - s))
    #    = [S' nrm^2 + e2g u (-2z nrm - (2 pi s/h) i conj(E - s))] / nrm^2.
    # The single complex division at the root makes w' leave the fused kernel as one array
    # (XLA:CPU duplicates cheap roots into each consumer and has no multi-output fusion).
    dpref = f(c["dpref"])
    q = f(c["two_pi_over_h"]) * sgn
    m2k = f(-2.0 * kappa) * nrm
    fr = m2k * v_c - q * den_im
    fi = m2k * eta_c - q * den_re
    n2 = nrm * nrm
    num_re = dpref * acc[1] * n2 + e2g * (u_re * fr - u_im * fi)
    num_im = -dpref * acc[0] * n2 + e2g * (u_re * fi + u_im * fr)
    return jax.lax.complex(num_re, num_im) / jax.lax.complex(n2, jnp.zeros_like(n2))


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _re_w(v: jax.Array, eta: jax.Array, kappa: float) -> jax.Array:
    """Voigt function K = Re w(kappa (v + i eta)) for eta >= 0 (dimensionless)."""
    return _kernel(v, eta, kappa, "re")


@_re_w.defjvp
def _re_w_jvp(kappa: float, primals: tuple, tangents: tuple) -> tuple:
    v, eta = primals
    dv, deta = tangents
    dw = _kernel(v, eta, kappa, "dw")
    # dK = Re(w' dz), dz = kappa (dv + i deta); dK/dv = kappa Re w', dK/deta = -kappa Im w'.
    tangent = np.dtype(v.dtype).type(kappa) * jnp.real(dw * jax.lax.complex(dv, deta))
    return _kernel(v, eta, kappa, "re"), tangent


def _real_work_dtype(dt: np.dtype) -> np.dtype:
    return np.dtype(np.float64) if dt == np.float64 else np.dtype(np.float32)


def _reflection(x: jax.Array, y: jax.Array, neg: jax.Array) -> tuple:
    """2 exp(-z^2) where y < 0 (else 0 from zeroed inputs, so it never overflows there)."""
    xn = jnp.where(neg, x, 0)
    yn = jnp.where(neg, y, 0)
    e = 2 * jnp.exp(yn * yn - xn * xn)
    ph = 2 * xn * yn
    return xn, yn, e * jnp.cos(ph), -e * jnp.sin(ph)


@jax.custom_jvp
def _faddeeva(z: jax.Array) -> jax.Array:
    x, y = jnp.real(z), jnp.imag(z)
    neg = y < 0
    # w(z) = 2 exp(-z^2) - w(-z) for Im z < 0.
    w = _kernel(jnp.where(neg, -x, x), jnp.abs(y), 1.0, "w")
    w_re, w_im = jnp.real(w), jnp.imag(w)
    _, _, er, ei = _reflection(x, y, neg)
    return jax.lax.complex(jnp.where(neg, er - w_re, w_re), jnp.where(neg, ei - w_im, w_im))


@_faddeeva.defjvp
def _faddeeva_jvp(primals: tuple, tangents: tuple) -> tuple:
    (z,), (dz,) = primals, tangents
    x, y = jnp.real(z), jnp.imag(z)
    neg = y < 0
    dw = _kernel(jnp.where(neg, -x, x), jnp.abs(y), 1.0, "dw")
    # d/dz[2 exp(-z^2) - w(-z)] = -2z (2 exp(-z^2)) + w'(-z).
    xn, yn, er, ei = _reflection(x, y, neg)
    dr = -2 * (xn * er - yn * ei)
    di = -2 * (xn * ei + yn * er)
    dw = jax.lax.complex(jnp.real(dw) + dr, jnp.imag(dw) + di)
    return _faddeeva(z), dw * dz


def faddeeva(z: jax.Array) -> jax.Array:
    """Faddeeva function w(z) = exp(-z^2) erfc(-iz), complex and dimensionless, any Im z."""
    cdt = np.dtype(jnp.result_type(z, 1j))
    rdt = _real_work_dtype(np.dtype(jnp.finfo(cdt).dtype))
    work = np.result_type(rdt, np.complex64)
    return _faddeeva(jnp.asarray(z).astype(work)).astype(cdt)


def voigt_profile(x: jax.Array, sigma: jax.Array, gamma: jax.Array) -> jax.Array:
    """Voigt profile in 1/[x] at offset x; Gaussian std sigma > 0, Lorentzian HWHM gamma >= 0."""
    dt = np.dtype(jnp.result_type(x, sigma, gamma, 1.0))
    work = _real_work_dtype(dt)
    x, sigma, gamma = (jnp.asarray(a).astype(work) for a in (x, sigma, gamma))
    # Units v = x/sigma, eta = gamma/sigma with z = (v + i eta)/sqrt(2): then x^2 = v^2/2 is
    # exact and the Gaussian exponent carries few roundings (it is multiplied by up to ~70).
    k = _re_w(x / sigma, gamma / sigma, _INV_SQRT2)
    return (k * work.type(_INV_SQRT_2PI) / sigma).astype(dt)
