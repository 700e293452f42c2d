"""What every stage's command line shares: common flags and a clean exit on bad input."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import time
from collections.abc import Callable, Sequence

from pipeline.netcdf import NetCDFInputError


def parser(description: str, threads: bool = True, out: bool = True) -> argparse.ArgumentParser:
    """An argument parser with the flags stages share (--out, and --threads for JAX stages)."""
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    if out:
        p.add_argument("--out", required=True, help="output file to write")
    if threads:
        p.add_argument("--threads", type=positive_int, default=1, help="CPU threads JAX may use")
    return p


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def run(main: Callable[[Sequence[str] | None], None], argv: Sequence[str] | None = None) -> None:
    """A stage's process entry point: run main, turn a bad input file into a one-line error
    and exit status 1, and on success end the process at once (fast_exit)."""
    start = time.perf_counter()
    try:
        main(argv)
    except NetCDFInputError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"done in {time.perf_counter() - start:.2f} s", file=sys.stderr)
    fast_exit()


def fast_exit() -> None:
    """Exit now with status 0: run the atexit handlers and flush, then skip the interpreter's
    teardown of JAX, numpyro and ArviZ (~0.4 s per job, measured; every output is already
    written, closed and renamed into place)."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def add_sampler_arguments(p: argparse.ArgumentParser) -> None:
    """Flags shared by NUTS and SVI: data in, seed and priors."""
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    p.add_argument("--seed", type=int, default=0, help="seed of jax.random.PRNGKey")
    add_prior_arguments(p)


def prior_settings(args: argparse.Namespace) -> dict:
    """The priors given on the command line, as keyword arguments of inference.Priors."""
    return {
        "logN": tuple(args.logN_prior),
        "logbeta": tuple(args.logbeta_prior),
        "sigmain_rate": args.sigmain_rate,
    }


def add_prior_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of the priors of the Bayesian model."""
    bounds = {"nargs": 2, "type": float, "metavar": ("LOW", "HIGH")}
    p.add_argument("--logN-prior", default=[20.5, 21.5], help="uniform prior of log10 N", **bounds)
    p.add_argument(
        "--logbeta-prior", default=[-1.0, 1.0], help="uniform prior of log10 beta", **bounds
    )
    p.add_argument(
        "--sigmain-rate", type=positive_float, default=10.0, help="exponential prior rate"
    )


def add_nuts_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of NUTS (config section nuts, seed aside)."""
    from pipeline.inference import CHAIN_METHODS  # stages without JAX don't import it

    p.add_argument("--num-warmup", type=positive_int, default=1000, help="warmup iterations")
    p.add_argument("--num-samples", type=positive_int, default=2000, help="draws per chain")
    p.add_argument("--num-chains", type=positive_int, default=1, help="chains")
    p.add_argument(
        "--chain-method",
        choices=CHAIN_METHODS,
        default="vectorized",
        help="parallel: one CPU device per chain (give --threads as many as chains)",
    )
    p.add_argument("--target-accept-prob", type=float, default=0.8, help="step-size adaptation")


def nuts_settings(args: argparse.Namespace) -> dict:
    """The NUTS flags, as keyword arguments of inference.NutsSettings."""
    names = ("num_warmup", "num_samples", "num_chains", "chain_method", "target_accept_prob")
    return {name: getattr(args, name) for name in names}


def add_svi_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of SVI (config section svi, seed aside)."""
    p.add_argument("--num-steps", type=positive_int, default=10000, help="optimisation steps")
    p.add_argument("--learning-rate", type=positive_float, default=0.01, help="Adam rate")
    p.add_argument("--num-draws", type=positive_int, default=2000, help="draws from the guide")


def svi_settings(args: argparse.Namespace) -> dict:
    """The SVI flags, as keyword arguments of inference.SviSettings."""
    return {name: getattr(args, name) for name in ("num_steps", "learning_rate", "num_draws")}


def add_diagnostic_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of a posterior summary: the interval's probability and the convergence checks."""
    p.add_argument("--hdi-prob", type=float, default=0.9, help="probability of the HDI")
    p.add_argument("--min-ess", type=float, default=400.0, help="flag ESS below this")
    p.add_argument("--max-r-hat", type=float, default=1.01, help="flag r-hat above this")
