"""Stage: draw one named figure from the stages' files -> PNG."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from pipeline.io.files import LAYOUTS, read_dataset, read_inference
from pipeline.methods import find, styles
from pipeline.plots.common import save
from pipeline.plots.registry import FIGURES, FITS, FIXED_TRUTH_FIGURES, SBC_FIGURES, STYLES
from pipeline.stages import cli

ALL_FIGURES = FIGURES | FIXED_TRUTH_FIGURES | SBC_FIGURES
KEYS = ("methods", "study.methods", "figures", "study.rank_bins")  # each figure: those it uses


def read(role: str, path: str, config: dict):
    """A figure's input: a layout's file, or a method entry's file."""
    if role in LAYOUTS:
        return read_dataset(path, role)
    return read_inference(path, find(config["methods"], config, role).method.layout)


def draw(figure: str, files: dict[str, str], fits: dict[str, str], config: dict):
    """Read the files `figure` is drawn from and return the matplotlib Figure."""
    spec = ALL_FIGURES[figure]
    draw_figure = getattr(importlib.import_module(f"pipeline.plots.{spec.module}"), figure)
    inputs = [{n: read(n, p, config) for n, p in fits.items()} if role == FITS
              else read(role, files[role], config) for role in spec.inputs]  # fmt: skip
    settings = {**config["figures"], "rank_bins": config["study"]["rank_bins"]}
    # a study's figures show the study's entries; the others, the datasets'
    shown = config["study"]["methods"] if "sbc_ranks" in spec.inputs else config["methods"]
    options = {n: styles(shown, config) if n == STYLES else settings[n] for n in spec.options}
    return draw_figure(*inputs, **options)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: draw one figure."""
    p = cli.parser(__doc__, KEYS, threads=False)
    p.add_argument("figure", choices=sorted(ALL_FIGURES), help="which figure")
    p.add_argument("inputs", nargs="*", metavar="ROLE=PATH", help="e.g. data=results/.../data.nc")
    p.add_argument("--fits", nargs="*", default=[], metavar="NAME=PATH",
                   help="every compared method entry's file (figures of them all)")  # fmt: skip
    args = p.parse_args(argv)
    config = cli.config_of(args)
    files = cli.files(args.inputs, "inputs")
    needed = [r for r in ALL_FIGURES[args.figure].inputs if r != FITS]
    if sorted(files) != sorted(needed):
        p.error(f"figure {args.figure} is drawn from {', '.join(needed)}; got {', '.join(files)}")
    save(draw(args.figure, files, cli.files(args.fits, "--fits"), config), args.out)


if __name__ == "__main__":
    cli.run(main)
