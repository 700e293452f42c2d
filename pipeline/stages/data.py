"""Stage: simulate the observed spectrum of one Voigt line with Gaussian noise -> data.nc."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from pipeline.forward import Line, cross_section, transmission
from pipeline.netcdf import new_dataset, provenance, write_dataset
from pipeline.runtime import DTYPES, configure_jax
from pipeline.stages import cli


def simulate(
    *,
    nu0: float,
    half_width: float,
    n_points: int,
    line_strength: float,
    gamma: float,
    logN: float,
    logbeta: float,
    sigma_noise: float,
    seed: int,
    dtype: str,
):
    """Synthetic data as a Dataset: grid (cm^-1), cross-section (cm^2), true and noisy flux."""
    nu = jnp.linspace(nu0 - half_width, nu0 + half_width, n_points, dtype=dtype)
    line = Line(nu=nu, nu0=nu0, gamma=gamma, line_strength=line_strength)
    f_true = np.asarray(transmission(line, logN, logbeta))
    # numpy's legacy generator, so the default seed reproduces the tutorial's noise draw exactly.
    noise = np.random.RandomState(seed).normal(0.0, sigma_noise, n_points)
    settings = {
        "nu0": nu0, "half_width": half_width, "n_points": n_points,
        "line_strength": line_strength, "gamma": gamma, "logN": logN, "logbeta": logbeta,
        "sigma_noise": sigma_noise, "seed": seed, "dtype": dtype,
    }  # fmt: skip
    return new_dataset(
        "data",
        coords={"nu": np.asarray(nu)},
        data_vars={
            "cross_section": np.asarray(cross_section(line, 10.0**logbeta)),
            "f_true": f_true,
            "f_obs": f_true + noise.astype(dtype),
            "logN_true": logN,
            "logbeta_true": logbeta,
            "gamma": gamma,
            "line_strength": line_strength,
            "nu0": nu0,
        },
        attrs={
            "sigma_noise": sigma_noise,
            "seed": seed,
            "dtype": dtype,
            **provenance("data", settings, inputs={}),
        },
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: simulate one dataset and write it."""
    p = cli.parser(__doc__)
    p.add_argument("--sigma-noise", type=cli.positive_float, required=True, help="noise sd")
    p.add_argument("--seed", type=int, required=True, help="noise seed (>= 0)")
    p.add_argument("--nu0", type=float, default=1000.0, help="line centre, cm^-1")
    p.add_argument("--half-width", type=cli.positive_float, default=20.0, help="grid half width")
    p.add_argument("--n-points", type=cli.positive_int, default=1000, help="grid points")
    p.add_argument("--line-strength", type=cli.positive_float, default=1e-20, help="cm^2 cm^-1")
    p.add_argument("--gamma", type=float, default=1.0, help="Lorentzian HWHM, cm^-1")
    p.add_argument("--logN", type=float, default=21.0, help="true log10 N, cm^-2")
    p.add_argument("--logbeta", type=float, default=0.0, help="true log10 beta, cm^-1")
    p.add_argument("--dtype", choices=DTYPES, default="float32", help="JAX float precision")
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error(f"--seed must be a non-negative integer, got {args.seed}")
    if args.gamma < 0:
        p.error(f"--gamma must be >= 0, got {args.gamma}")
    configure_jax(args.threads, args.dtype)
    ds = simulate(
        nu0=args.nu0, half_width=args.half_width, n_points=args.n_points,
        line_strength=args.line_strength, gamma=args.gamma, logN=args.logN,
        logbeta=args.logbeta, sigma_noise=args.sigma_noise, seed=args.seed, dtype=args.dtype,
    )  # fmt: skip
    write_dataset(ds, args.out, "data")


if __name__ == "__main__":
    cli.run(main)
