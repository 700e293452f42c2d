"""Stage: the Voigt line against a pure Gaussian line, by their evidence -> evidence.nc, .csv."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pipeline.analysis.evidence import log_bayes_factor, verdict
from pipeline.io.atomic import replaced_atomically
from pipeline.io.files import new_dataset, read_inference, write_dataset
from pipeline.io.layouts import NetCDFInputError
from pipeline.io.provenance import provenance
from pipeline.physics.forward import LINE_SHAPES
from pipeline.stages import cli

SHAPES = LINE_SHAPES  # voigt first: the Bayes factor is Voigt against Gaussian


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: compare the evidences of the two line shapes' nested runs."""
    p = cli.parser(__doc__, threads=False)
    p.add_argument("--voigt", required=True, help="nested.nc (the Voigt line's run)")
    p.add_argument("--gaussian", required=True, help="nested_gaussian.nc (the Gaussian line's)")
    p.add_argument("--csv", required=True, help="the same table as CSV")
    args = p.parse_args(argv)
    paths = {shape: getattr(args, shape) for shape in SHAPES}
    evidence = {}
    for shape, path in paths.items():
        idata = read_inference(path, "nested")
        if idata.posterior.attrs["line_shape"] != shape:
            raise NetCDFInputError(
                f"input {path} is the run of the {idata.posterior.attrs['line_shape']} line, "
                f"expected the {shape} line's"
            )
        evidence[shape] = idata.evidence
    log_b, uncert = log_bayes_factor(
        *(float(evidence[s][v]) for s in SHAPES for v in ("log_Z", "log_Z_uncert"))
    )
    words = verdict(log_b, uncert, *SHAPES)
    unconverged = [s for s in SHAPES if not int(evidence[s]["converged"])]
    if unconverged:
        print(f"warning: nested runs not converged: {', '.join(unconverged)}", file=sys.stderr)
    ds = new_dataset(
        "evidence",
        coords={"line_shape": list(SHAPES)},
        data_vars={
            **{v: [float(evidence[s][v]) for s in SHAPES] for v in ("log_Z", "log_Z_uncert")},
            "converged": [int(evidence[s]["converged"]) for s in SHAPES],
            "log_bayes_factor": log_b,
            "log_bayes_factor_uncert": uncert,
        },
        attrs={"verdict": words, **provenance("evidence", {}, paths)},
    )
    table = ds[["log_Z", "log_Z_uncert", "converged"]].to_dataframe()
    table = table.assign(log_bayes_factor_vs_gaussian=[log_b, 0.0],
                         log_bayes_factor_uncert=[uncert, 0.0], verdict=[words, ""])  # fmt: skip
    print(table.to_string(float_format="%.4g"))
    print(words)
    with replaced_atomically(args.csv) as tmp:
        table.to_csv(tmp, float_format="%.6g")
    write_dataset(ds, args.out, "evidence")


if __name__ == "__main__":
    cli.run(main)
