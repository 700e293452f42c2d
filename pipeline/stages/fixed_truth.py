"""Stage: gather the datasets of a fixed-truth sweep into one summary -> results/fixed_truth/."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.analysis.fixed_truth import Dataset, summarize
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import annotate, write_dataset
from pipeline.io.provenance import provenance
from pipeline.stages import cli


def dataset(text: str) -> Dataset:
    """Parse NOISE:SEED, e.g. 0.1:72."""
    noise, _, seed = text.partition(":")
    try:
        return Dataset(float(noise), int(seed))
    except ValueError:
        raise ValueError(f"a dataset is NOISE:SEED, e.g. 0.1:72; got {text!r}") from None


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: summarise the datasets of a sweep."""
    p = cli.parser(__doc__, threads=False)
    p.add_argument("--datasets", nargs="+", required=True, metavar="NOISE:SEED")
    p.add_argument("--csv", required=True, help="per-dataset rows as CSV")
    p.add_argument("--calibration-csv", required=True, help="calibration per noise and method")
    cli.add_hdi_argument(p)
    p.add_argument("--root", default=".", help="the workflow directory holding results/")
    args = p.parse_args(argv)
    try:
        datasets = [dataset(d) for d in args.datasets]
    except ValueError as err:
        p.error(str(err))
    ds = summarize(Path(args.root), datasets)
    ds.attrs = {
        "hdi_prob": args.hdi_prob,
        **provenance("sweep", {"datasets": args.datasets}, {"root": args.root}),
    }
    ds = annotate(ds, "fixed_truth_summary")
    per_dataset = [v for v in ds.data_vars if "seed" in ds[v].dims]
    across_seeds = [
        v for v in ds.data_vars if "seed" not in ds[v].dims and "inference" in ds[v].dims
    ]
    calibration = ds[across_seeds].to_dataframe().dropna(how="all")
    print(
        calibration[["coverage", "bias", "mean_sd", "estimate_spread"]].to_string(
            float_format="%.4g"
        )
    )
    with replaced_atomically(args.csv) as tmp:
        ds[per_dataset].to_dataframe().dropna(how="all").to_csv(tmp, float_format="%.6g")
    with replaced_atomically(args.calibration_csv) as tmp:
        calibration.to_csv(tmp, float_format="%.6g")
    write_dataset(ds, args.out, "fixed_truth_summary")


if __name__ == "__main__":
    cli.run(main)
