"""What every stage's command line shares: common flags and a clean exit on bad input."""

from __future__ import annotations

import argparse
import atexit
import functools
import json
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
    """A setting's default, from config/config.yaml (its one place), e.g. default("study.seed")."""
    node = _defaults()
    for part in key.split("."):
        node = node[part]
    return node


def parser(
    description: str, keys: Sequence[str] = (), threads: bool = True, out: bool = True
) -> argparse.ArgumentParser:
    """An argument parser with the flags stages share: --out, --threads for JAX stages, and
    --config for a stage that reads the config keys `keys` (its help lists them, with their
    meaning from the schema)."""
    p = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_keys_help(keys) if keys else None,
    )
    if out:
        p.add_argument("--out", required=True, help="output file to write")
    if threads:
        p.add_argument("--threads", type=positive_int, default=1, help="CPU threads JAX may use")
    if keys:
        p.add_argument(
            "--config",
            default="{}",
            help="the settings, as JSON of the config's keys below (the workflow passes the "
            "ones this stage uses); keys left out take config/config.yaml's values",
        )
    return p


def _keys_help(keys: Sequence[str]) -> str:
    from pipeline.setup.config import describe

    lines = ["config keys this stage reads (config/README.md has them all):"]
    # a placeholder such as "<the method's own section>" names no key of the schema
    lines += [f"  {key}: {'' if key.startswith('<') else describe(key)}" for key in keys]
    return "\n".join(lines)


def config_of(args: argparse.Namespace) -> dict:
    """The stage's settings: --config's JSON merged over config/config.yaml, then checked as
    the workflow checks a config (a bad value exits naming the key, the value and what is
    allowed)."""
    import copy

    from pipeline.methods.config import validate
    from pipeline.setup.config import ConfigError, merge

    try:
        given = json.loads(args.config)
    except json.JSONDecodeError as err:
        raise SystemExit(f"error: --config is not JSON: {err}") from None
    config = merge(copy.deepcopy(_defaults()), given)
    try:
        validate(config, given=list(given))
    except ConfigError as err:
        raise SystemExit(f"error: {err}") from None
    return config


def files(items: Sequence[str], what: str) -> dict[str, str]:
    """NAME=PATH arguments as a dict, in order."""
    found = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"error: {what} are given as NAME=PATH, got {item!r}")
        found[name] = path
    return found


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
