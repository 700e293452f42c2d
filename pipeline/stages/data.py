"""Stage: simulate the observed spectrum of one Voigt line with Gaussian noise -> data.nc."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.io.files import new_dataset, write_dataset
from pipeline.io.provenance import provenance
from pipeline.physics.simulate import LineSettings, noise_seed, simulate
from pipeline.setup.runtime import DTYPES, configure_jax
from pipeline.stages import cli


def dataset(
    settings: LineSettings,
    *,
    logN: float,
    logbeta: float,
    sigma_noise: float,
    seed: int,
    reference_noise: float,
    common_random_numbers: bool,
    dtype: str,
):
    """One synthetic dataset as the data Dataset."""
    drawn_with = noise_seed(seed, sigma_noise, reference_noise, common_random_numbers)
    arrays = simulate(settings, logN, logbeta, sigma_noise, drawn_with, dtype)
    record = {
        **settings._asdict(), "logN": logN, "logbeta": logbeta, "sigma_noise": sigma_noise,
        "seed": seed, "reference_noise": reference_noise,
        "common_random_numbers": common_random_numbers, "dtype": dtype,
    }  # fmt: skip
    return new_dataset(
        "data",
        coords={"nu": arrays["nu"]},
        data_vars={
            "cross_section": arrays["cross_section"],
            "f_true": arrays["f_true"],
            "f_obs": arrays["f_obs"],
            "logN_true": logN,
            "logbeta_true": logbeta,
            "gamma": settings.gamma,
            "line_strength": settings.line_strength,
            "nu0": settings.nu0,
        },
        attrs={
            "sigma_noise": sigma_noise,
            "seed": seed,
            "noise_seed": drawn_with,
            "dtype": dtype,
            **provenance("data", record, inputs={}),
        },
    )


def add_line_arguments(p) -> None:
    """Flags of the line (config section `line`, the truth aside)."""
    line = cli.default("line")
    p.add_argument("--nu0", type=float, default=line["nu0"], help="line centre, cm^-1")
    p.add_argument("--half-width", type=cli.positive_float, default=line["half_width"],
                   help="grid half width, cm^-1")  # fmt: skip
    p.add_argument("--n-points", type=cli.positive_int, default=line["n_points"], help="points")
    p.add_argument("--line-strength", type=cli.positive_float, default=line["line_strength"],
                   help="cm^2 cm^-1")  # fmt: skip
    p.add_argument("--gamma", type=float, default=line["gamma"], help="Lorentzian HWHM, cm^-1")
    p.add_argument("--dtype", choices=DTYPES, default=cli.default("precision"), help="precision")


def line_settings(args) -> LineSettings:
    """The line flags as LineSettings."""
    return LineSettings(args.nu0, args.half_width, args.n_points, args.line_strength, args.gamma)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: simulate one dataset and write it."""
    p = cli.parser(__doc__)
    p.add_argument("--sigma-noise", type=cli.positive_float, required=True, help="noise sd")
    p.add_argument("--seed", type=int, required=True, help="noise seed (>= 0)")
    p.add_argument("--logN", type=float, default=cli.default("line.logN"), help="true log10 N")
    p.add_argument("--logbeta", type=float, default=cli.default("line.logbeta"),
                   help="true log10 beta")  # fmt: skip
    p.add_argument(
        "--reference-noise", type=cli.positive_float,
        default=cli.default("datasets.reference_noise"),
        help="noise level whose datasets use --seed itself as numpy's seed",
    )  # fmt: skip
    p.add_argument(
        "--common-random-numbers", action="store_true",
        help="use --seed itself at every noise level (the same pattern, scaled)",
    )  # fmt: skip
    add_line_arguments(p)
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error(f"--seed must be a non-negative integer, got {args.seed}")
    if args.gamma < 0:
        p.error(f"--gamma must be >= 0, got {args.gamma}")
    configure_jax(args.threads, args.dtype)
    ds = dataset(
        line_settings(args), logN=args.logN, logbeta=args.logbeta, sigma_noise=args.sigma_noise,
        seed=args.seed, reference_noise=args.reference_noise,
        common_random_numbers=args.common_random_numbers, dtype=args.dtype,
    )  # fmt: skip
    write_dataset(ds, args.out, "data")


if __name__ == "__main__":
    cli.run(main)
