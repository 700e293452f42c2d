"""Stage: draw one named figure from the stages' files -> PNG."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from pipeline.io.files import read
from pipeline.plots.common import save
from pipeline.plots.registry import FIGURES, FIXED_TRUTH_FIGURES, SBC_FIGURES
from pipeline.stages import cli

ALL_FIGURES = FIGURES | FIXED_TRUTH_FIGURES | SBC_FIGURES


def draw(figure: str, files: dict[str, str], options: dict[str, Any]):
    """Read the files `figure` is drawn from (layout -> path) and return the matplotlib Figure."""
    spec = ALL_FIGURES[figure]
    draw_figure = getattr(importlib.import_module(f"pipeline.plots.{spec.module}"), figure)
    inputs = [read(files[kind], kind) for kind in spec.inputs]
    return draw_figure(*inputs, **{name: options[name] for name in spec.options})


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: draw one figure."""
    p = cli.parser(__doc__, threads=False)
    p.add_argument("figure", choices=sorted(ALL_FIGURES), help="which figure")
    p.add_argument("inputs", nargs="+", metavar="LAYOUT=PATH", help="e.g. data=results/.../data.nc")
    figures = cli.default("figures")
    p.add_argument("--chi2-levels", nargs="+", type=float, default=figures["chi2_levels"])
    for name in ("chi2_vmin", "chi2_vmax", "band_prob"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=figures[name])
    p.add_argument("--rank-bins", type=int, default=cli.default("study.rank_bins"),
                   help="bins of the SBC rank histograms")  # fmt: skip
    args = p.parse_args(argv)
    files = dict(item.partition("=")[::2] for item in args.inputs)
    needed = ALL_FIGURES[args.figure].inputs
    if sorted(files) != sorted(needed):
        p.error(f"figure {args.figure} is drawn from {', '.join(needed)}; got {', '.join(files)}")
    save(draw(args.figure, files, vars(args)), args.out)


if __name__ == "__main__":
    cli.run(main)
