"""What every stage's command line shares: common flags and a clean exit on bad input."""

from __future__ import annotations

import argparse
import atexit
import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.io.atomic import OutputError
from pipeline.io.layouts import NetCDFInputError

CONFIG = Path(__file__).resolve().parents[2] / "config" / "config.yaml"


@functools.cache
def _defaults() -> dict:
    import yaml

    return yaml.safe_load(CONFIG.read_text())


def default(key: str):
    """A setting's default, from config/config.yaml (its one place), e.g. default("nuts.seed"):
    a stage run by hand takes the workflow's defaults."""
    node = _defaults()
    for part in key.split("."):
        node = node[part]
    return node


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
    """A stage's process entry point: run main, turn a bad input file or an output that could
    not be written into a one-line error and exit status 1, and on success end the process at
    once (fast_exit)."""
    start = time.perf_counter()
    try:
        main(argv)
    except (NetCDFInputError, OutputError) as err:
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


def add_sampler_arguments(p: argparse.ArgumentParser, section: str) -> None:
    """Flags shared by NUTS and SVI: data in, seed (of config section `section`) and priors."""
    p.add_argument("--data", required=True, help="data.nc of the dataset")
    p.add_argument("--seed", type=int, default=default(f"{section}.seed"), help="PRNGKey seed")
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
    for param in ("logN", "logbeta"):
        prior = default(f"priors.{param}")
        p.add_argument(f"--{param}-prior", default=[prior["low"], prior["high"]],
                       help=f"uniform prior of {param}", **bounds)  # fmt: skip
    p.add_argument("--sigmain-rate", type=positive_float, default=default("priors.sigmain_rate"),
                   help="exponential prior rate")  # fmt: skip


def add_diagnostic_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of a posterior summary: the interval's probability and the convergence checks."""
    add_hdi_argument(p)
    p.add_argument("--min-ess", type=float, default=default("diagnostics.min_ess"),
                   help="flag ESS below this")  # fmt: skip
    p.add_argument("--max-r-hat", type=float, default=default("diagnostics.max_r_hat"),
                   help="flag r-hat above this")  # fmt: skip


def add_hdi_argument(p: argparse.ArgumentParser) -> None:
    """The probability of the intervals (config diagnostics.hdi_prob)."""
    p.add_argument("--hdi-prob", type=float, default=default("diagnostics.hdi_prob"),
                   help="probability of the intervals")  # fmt: skip


def add_adam_arguments(p: argparse.ArgumentParser, rate_flag: str) -> None:
    """Adam on chi^2 from one point (config section optimize): init, rate, steps."""
    o = default("optimize")
    p.add_argument("--init", nargs=2, type=float, default=[o["init"]["logN"], o["init"]["logbeta"]],
                   metavar=("LOGN", "LOGBETA"), help="initial point")  # fmt: skip
    p.add_argument(rate_flag, type=positive_float, default=o["adam_learning_rate"],
                   help="Adam's learning rate")  # fmt: skip
    p.add_argument("--steps", type=positive_int, default=o["steps"], help="updates")
