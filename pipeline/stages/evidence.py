"""Stage: the models' evidences from the runs that measure one, the first model against each
other -> evidence.nc, evidence.csv."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from pipeline.analysis.evidence import log_bayes_factor, verdict
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read_inference, write_dataset
from pipeline.io.provenance import provenance
from pipeline.methods import find
from pipeline.stages import cli

KEYS = ("methods",)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: compare the evidences of several models' runs."""
    p = cli.parser(__doc__, KEYS, threads=False)
    p.add_argument("--fits", nargs="+", required=True, metavar="NAME=PATH",
                   help="the evidence runs' files, the config's model first")  # fmt: skip
    p.add_argument("--csv", required=True, help="the same table as CSV")
    args = p.parse_args(argv)
    config = cli.config_of(args)
    paths = cli.files(args.fits, "--fits")
    if len(paths) < 2:
        p.error("give at least two models' evidence runs to compare")
    evidence, models = {}, []
    for name, path in paths.items():
        variant = find(config["methods"], config, name)
        idata = read_inference(path, variant.method.layout)
        models.append(idata.posterior.attrs["model"])
        evidence[models[-1]] = idata.evidence
    first = models[0]
    value = {m: (float(evidence[m]["log_Z"]), float(evidence[m]["log_Z_uncert"])) for m in models}
    ratios = [log_bayes_factor(*value[first], *value[m]) if m != first else (0.0, 0.0)
              for m in models]  # fmt: skip
    words = [verdict(b, u, first, m) if m != first else "" for m, (b, u) in
             zip(models, ratios, strict=True)]  # fmt: skip
    unconverged = [m for m in models if not int(evidence[m]["converged"])]
    if unconverged:
        print(f"warning: evidence runs not converged: {', '.join(unconverged)}", file=sys.stderr)
    ds = new_dataset(
        "evidence",
        coords={"model": models},
        data_vars={
            "log_Z": [value[m][0] for m in models],
            "log_Z_uncert": [value[m][1] for m in models],
            "converged": [int(evidence[m]["converged"]) for m in models],
            "log_bayes_factor": np.array([b for b, _ in ratios]),
            "log_bayes_factor_uncert": np.array([u for _, u in ratios]),
        },
        attrs={"verdict": "; ".join(w for w in words if w), **provenance("evidence", {}, paths)},
    )
    table = ds.to_dataframe().assign(verdict=words)
    print(table.to_string(float_format="%.4g"))
    with replaced_atomically(args.csv) as tmp:
        table.to_csv(tmp, float_format="%.6g")
    write_dataset(ds, args.out, "evidence")


if __name__ == "__main__":
    cli.run(main)
