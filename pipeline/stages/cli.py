"""What every stage's command line shares: common flags and a clean exit on bad input."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from pipeline.netcdf import NetCDFInputError


def parser(description: str, threads: bool = True) -> argparse.ArgumentParser:
    """An argument parser with the flags stages share (--out, and --threads for JAX stages)."""
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
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
    """Run a stage's main, turning a bad input file into a one-line error and exit status 1."""
    start = time.perf_counter()
    try:
        main(argv)
    except NetCDFInputError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"done in {time.perf_counter() - start:.2f} s", file=sys.stderr)
