"""Stage: draw one named figure from the stages' NetCDF files -> PNG."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline import plots
from pipeline.figures import CHI2_FIGURES, FIGURES
from pipeline.netcdf import read_dataset
from pipeline.stages import cli


def draw(figure: str, files: dict[str, str], contours: plots.Contours | None = None):
    """Read the files `figure` is drawn from (layout -> path) and return the matplotlib Figure."""
    datasets = [read_dataset(files[kind], kind) for kind in FIGURES[figure]]
    extra = (contours,) if figure in CHI2_FIGURES else ()
    return getattr(plots, figure)(*datasets, *extra)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: draw one figure."""
    p = cli.parser(__doc__, threads=False)
    p.add_argument("figure", choices=sorted(FIGURES), help="which figure")
    p.add_argument("inputs", nargs="+", metavar="LAYOUT=PATH", help="e.g. data=results/.../data.nc")
    p.add_argument("--levels", nargs="+", type=float, default=[1000, 1200, 1400, 1600, 1800, 2000])
    p.add_argument("--vmin", type=float, default=1000.0, help="chi^2 at the bottom of the colours")
    p.add_argument("--vmax", type=float, default=1800.0, help="chi^2 at the top of the colours")
    args = p.parse_args(argv)
    files = dict(item.partition("=")[::2] for item in args.inputs)
    needed = FIGURES[args.figure]
    if sorted(files) != sorted(needed):
        p.error(f"figure {args.figure} is drawn from {', '.join(needed)}; got {', '.join(files)}")
    contours = plots.Contours(args.levels, args.vmin, args.vmax)
    plots.save(draw(args.figure, files, contours), args.out)


if __name__ == "__main__":
    cli.run(main)
