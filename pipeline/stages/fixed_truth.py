"""Stage: gather the datasets of a fixed-truth sweep into one summary -> results/fixed_truth/.

Every file is given, per dataset NOISE:SEED (as in --datasets):
  --data      NOISE:SEED=PATH        its data.nc (synthetic: with the truth)
  --optimize  NOISE:SEED=PATH        its optimize.nc (the optimiser's end point is a row)
  --fits      NOISE:SEED:NAME=PATH   each method entry NAME's file (NAME.nc); the entries are
                                     those named here, in the order first named, the first the
                                     reference the *_vs_reference variables compare with
  --benchmarks NOISE:SEED:NAME=PATH  Snakemake benchmark files (column s: the job's wall
                                     seconds) of the entries' jobs, and of the optimiser's job
                                     as NAME=adam; optional (seconds NaN where not given)
Each entry NAME is looked up in the config's `methods` for its method (how its file is read,
its point estimate).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.analysis.fixed_truth import OPTIMIZER, Dataset, Fit, dataset_rows, job_seconds
from pipeline.analysis.fixed_truth import summarize as summarize_rows
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import annotate, read_dataset, read_inference, write_dataset
from pipeline.io.provenance import provenance
from pipeline.methods import entry_name, find
from pipeline.stages import cli

KEYS = ("methods", "model", "diagnostics.hdi_prob")


def dataset(text: str) -> Dataset:
    """Parse NOISE:SEED, e.g. 0.1:72."""
    noise, _, seed = text.partition(":")
    try:
        return Dataset(float(noise), int(seed))
    except ValueError:
        raise ValueError(f"a dataset is NOISE:SEED, e.g. 0.1:72; got {text!r}") from None


def keyed_files(items: Sequence[str], flag: str, named: bool) -> dict[tuple, str]:
    """NOISE:SEED=PATH items (named: NOISE:SEED:NAME=PATH) as {(Dataset[, NAME]): PATH}."""
    form = "NOISE:SEED:NAME=PATH" if named else "NOISE:SEED=PATH"
    found = {}
    for item in items:
        key, sep, path = item.partition("=")
        parts = key.split(":")
        if not sep or not path or len(parts) != (3 if named else 2) or not all(parts):
            raise ValueError(f"{flag} takes {form} items; got {item!r}")
        where = dataset(":".join(parts[:2]))
        key = (where, parts[2]) if named else (where,)
        if key in found:
            raise ValueError(f"{flag} gives {':'.join(parts)} twice")
        found[key] = path
    return found


class Plan:
    """The checked command line: datasets, entries (reference first) and every file."""

    def __init__(self, args, config: dict):
        self.datasets = [dataset(d) for d in args.datasets]
        if len(set(self.datasets)) != len(self.datasets):
            raise ValueError("--datasets names a dataset twice")
        self.data = keyed_files(args.data, "--data", named=False)
        self.optimize = keyed_files(args.optimize, "--optimize", named=False)
        self.fits = keyed_files(args.fits, "--fits", named=True)
        self.benchmarks = keyed_files(args.benchmarks, "--benchmarks", named=True)
        self.entries = list(dict.fromkeys(name for _, name in self.fits))
        if OPTIMIZER in self.entries:
            raise ValueError(f"--fits: {OPTIMIZER!r} is the optimiser's row, not a method entry")
        known = {entry_name(e) for e in config["methods"]}
        unknown = [name for name in self.entries if name not in known]
        if unknown:
            raise ValueError(
                f"--fits names {', '.join(unknown)}, not entries of the config's "
                f"methods ({', '.join(sorted(known))})"
            )
        self.variants = {name: find(config["methods"], config, name) for name in self.entries}
        given = set(self.datasets)
        for flag, files in (
            ("--data", self.data),
            ("--optimize", self.optimize),
            ("--fits", self.fits),
            ("--benchmarks", self.benchmarks),
        ):
            extra = sorted({key[0] for key in files} - given)
            if extra:
                raise ValueError(f"{flag} gives files of {_text(extra[0])}, not in --datasets")
        for d in self.datasets:
            needed = [("--data", self.data, (d,)), ("--optimize", self.optimize, (d,))]
            needed += [("--fits", self.fits, (d, name)) for name in self.entries]
            for flag, files, key in needed:
                if key not in files:
                    what = f" of entry {key[1]}" if len(key) > 1 else ""
                    raise ValueError(f"{flag} gives no file{what} for dataset {_text(d)}")

    def inputs(self) -> dict[str, str]:
        """Every input file, by a name of its dataset and role (for provenance)."""
        found = {}
        for role, files in (
            ("data", self.data),
            ("optimize", self.optimize),
            ("fit", self.fits),
            ("benchmark", self.benchmarks),
        ):
            for key, path in files.items():
                found[":".join([_text(key[0]), role, *key[1:]])] = path
        return found


def _text(d: Dataset) -> str:
    return f"{d.noise:g}:{d.seed}"


def rows_of(plan: Plan, d: Dataset, hdi_prob: float):
    """One dataset's rows: its files read (each entry's with its method's layout) and
    summarised; one dataset at a time, so a sweep's files need not fit in memory together."""
    fits = {}
    for name, variant in plan.variants.items():
        path = plan.fits[(d, name)]
        idata = read_inference(path, variant.method.layout)
        point = variant.method.point(idata) if variant.method.point is not None else None
        seconds = job_seconds(plan.benchmarks.get((d, name)))
        fits[name] = Fit(idata, point, seconds, source=path)
    return dataset_rows(
        d,
        read_dataset(plan.data[(d,)], "data"),
        read_dataset(plan.optimize[(d,)], "optimize"),
        fits,
        job_seconds(plan.benchmarks.get((d, OPTIMIZER))),
        hdi_prob,
        sources={"data": plan.data[(d,)], "optimize": plan.optimize[(d,)]},
    )


def summarize(plan: Plan, config: dict):
    """summary.nc of the sweep, annotated and checked."""
    hdi_prob = config["diagnostics"]["hdi_prob"]
    rows = [rows_of(plan, d, hdi_prob) for d in plan.datasets]
    ds = summarize_rows(rows, reference=plan.entries[0])
    settings = {
        "hdi_prob": hdi_prob,
        "model": config["model"],
        "entries": plan.entries,
        "datasets": [_text(d) for d in plan.datasets],
    }
    ds.attrs = {
        "hdi_prob": hdi_prob,
        "reference": plan.entries[0],
        "model": config["model"],
        **provenance("fixed_truth", settings, plan.inputs()),
    }
    return annotate(ds, "fixed_truth_summary")


def tables(ds):
    """The per-dataset rows and the calibration across seeds, as tables."""
    per_dataset = [v for v in ds.data_vars if "seed" in ds[v].dims]
    across_seeds = [
        v for v in ds.data_vars if "seed" not in ds[v].dims and "inference" in ds[v].dims
    ]
    return (
        ds[per_dataset].to_dataframe().dropna(how="all"),
        ds[across_seeds].to_dataframe().dropna(how="all"),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: summarise the datasets of a sweep."""
    p = cli.parser(__doc__, KEYS, threads=False)
    p.add_argument(
        "--datasets",
        nargs="+",
        required=True,
        metavar="NOISE:SEED",
        help="the sweep's datasets, e.g. 0.05:1 0.05:2 0.2:1 0.2:2",
    )
    p.add_argument(
        "--data", nargs="+", required=True, metavar="NOISE:SEED=PATH", help="each dataset's data.nc"
    )
    p.add_argument(
        "--optimize",
        nargs="+",
        required=True,
        metavar="NOISE:SEED=PATH",
        help="each dataset's optimize.nc",
    )
    p.add_argument(
        "--fits",
        nargs="+",
        required=True,
        metavar="NOISE:SEED:NAME=PATH",
        help="each dataset's file of each method entry; the first NAME is the reference",
    )
    p.add_argument(
        "--benchmarks",
        nargs="*",
        default=[],
        metavar="NOISE:SEED:NAME=PATH",
        help=f"Snakemake benchmark files of the entries' jobs (NAME={OPTIMIZER}: "
        "the optimiser's job)",
    )
    p.add_argument("--csv", required=True, help="per-dataset rows as CSV")
    p.add_argument("--calibration-csv", required=True, help="calibration per noise and entry")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    try:
        plan = Plan(args, config)
    except ValueError as err:
        p.error(str(err))
    ds = summarize(plan, config)
    per_dataset, calibration = tables(ds)
    print(
        calibration[["coverage", "bias", "mean_sd", "estimate_spread"]].to_string(
            float_format="%.4g"
        )
    )
    with replaced_atomically(args.csv) as tmp:
        per_dataset.to_csv(tmp, float_format="%.6g")
    with replaced_atomically(args.calibration_csv) as tmp:
        calibration.to_csv(tmp, float_format="%.6g")
    write_dataset(ds, args.out, "fixed_truth_summary")


if __name__ == "__main__":
    cli.run(main)
